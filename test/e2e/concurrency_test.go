package e2e

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

func concurrentSub(t *testing.T, b broker, group string, ordering kafka.Ordering, window int) *kafka.ConcurrentSubscriber {
	t.Helper()
	sub, err := kafka.NewConcurrentSubscriber(kafka.ConcurrentSubscriberConfig{
		Brokers: []string{b.Addr}, ClientID: "e2e", Group: group, Start: "oldest",
		Ordering: ordering, MaxInFlight: window, ShutdownTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// handOutModes are the two ways a ConcurrentSubscriber hands out records:
// Subscribe (a Watermill channel, what routers use) and Consume (workers
// and a settle callback, what `run` uses).
var handOutModes = []string{"subscribe", "consume"}

// handOut returns the records of topic as messages on a channel, by
// Subscribe or by Consume; with Consume, acking or nacking a message
// settles its record.
func handOut(t *testing.T, mode string, sub *kafka.ConcurrentSubscriber, ctx context.Context, topic string) <-chan *message.Message {
	t.Helper()
	if mode == "subscribe" {
		msgs, err := sub.Subscribe(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	msgs := make(chan *message.Message)
	_, err := sub.Consume(ctx, topic, 4, func(rec *engine.Record, settle func(engine.Result)) {
		m := engine.InputMessage(ctx, kafka.MessageID(rec), rec)
		go func() {
			select {
			case <-m.Acked():
				settle(engine.Result{Done: true})
			case <-m.Nacked():
				settle(engine.Result{})
			}
		}()
		select {
		case msgs <- m:
		case <-ctx.Done():
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// eachMode runs f for each hand-out mode on each broker.
func eachMode(t *testing.T, f func(t *testing.T, b broker, mode string)) {
	eachBroker(t, func(t *testing.T, b broker) {
		for _, mode := range handOutModes {
			t.Run(mode, func(t *testing.T) { f(t, b, mode) })
		}
	})
}

// With ordering: key, records of one key are never processed at the same
// time and finish in input order, with keys spread over partitions and
// random processing delays; a nack redelivers without breaking the order.
func TestKeyOrderUnderConcurrency(t *testing.T) {
	eachMode(t, func(t *testing.T, b broker, mode string) {
		topic := topicName(t, "in")
		createTopics(t, b, 6, topic)
		const keys, perKey = 40, 25
		var recs []*kgo.Record
		for i := range perKey {
			for k := range keys {
				recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(k)), Value: []byte(strconv.Itoa(i))})
			}
		}
		produce(t, b, recs...)
		sub := concurrentSub(t, b, topic+"-g", kafka.OrderKey, 16)
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		msgs := handOut(t, mode, sub, ctx, topic)
		var mu sync.Mutex
		busy := map[string]bool{}
		next := map[string]int{}
		maxConcurrent, running := 0, 0
		nacked := map[string]bool{}
		var wg sync.WaitGroup
		done := 0
		allDone := make(chan struct{})
	loop:
		for {
			var m *message.Message
			select {
			case m = <-msgs:
			case <-allDone:
				break loop
			case <-ctx.Done():
				mu.Lock()
				t.Fatalf("only %d of %d records processed", done, keys*perKey)
			}
			key := m.Metadata.Get(engine.MetaKey)
			mu.Lock()
			if busy[key] {
				t.Errorf("key %s handed out while one of its records is in flight", key)
			}
			busy[key] = true
			running++
			maxConcurrent = max(maxConcurrent, running)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				mu.Lock()
				defer mu.Unlock()
				busy[key] = false
				running--
				n, _ := strconv.Atoi(string(m.Payload))
				// Nack the 5th record of some keys once: it must come back
				// before the 6th.
				if n == 5 && !nacked[key] && len(key)%2 == 0 {
					nacked[key] = true
					m.Nack()
					return
				}
				if n != next[key] {
					t.Errorf("key %s: record %d finished, expected %d", key, n, next[key])
				}
				next[key] = n + 1
				done++
				m.Ack()
				if done == keys*perKey {
					close(allDone)
				}
			}()
		}
		wg.Wait()
		if maxConcurrent < 4 {
			t.Errorf("at most %d records ran at once: no concurrency", maxConcurrent)
		}
		cancel()
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("up to %d records in flight", maxConcurrent)
	})
}

// The committed offset never passes a record that is not acked: hold one
// record of partition 0, ack everything else, and watch the group's
// committed offsets while it is held.
func TestCommitNeverPassesUnacked(t *testing.T) {
	eachMode(t, func(t *testing.T, b broker, mode string) {
		topic := topicName(t, "in")
		createTopics(t, b, 1, topic)
		var recs []*kgo.Record
		for i := range 50 {
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))})
		}
		produce(t, b, recs...)
		group := topic + "-g"
		sub := concurrentSub(t, b, group, kafka.OrderNone, 64)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		msgs := handOut(t, mode, sub, ctx, topic)
		var held *message.Message
		for range 50 {
			m := <-msgs
			if m.Metadata.Get(engine.MetaOffset) == "10" {
				held = m
				continue
			}
			m.Ack()
		}
		// Acks after the held record keep coming; the commit stays at 10.
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			if c := committed(t, b, group, topic); c[0] > 10 {
				t.Fatalf("committed %d while offset 10 is unacked", c[0])
			}
			time.Sleep(100 * time.Millisecond)
		}
		if c := committed(t, b, group, topic); c[0] != 10 {
			t.Errorf("committed %v, want 10: the acked prefix", c)
		}
		held.Ack()
		waitCommitted(t, b, group, topic, 10*time.Second)
		cancel()
		_ = sub.Close()
	})
}

// SIGKILL of the runner under load loses nothing: after a restart every
// input is in the output; duplicates stay within what a crash may repeat:
// the in-flight window plus the records settled since the last commit (at
// most input.commit_interval and the commit's round trip ago).
func TestKillUnderLoadLosesNothing(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		const n = 30000
		produce(t, b, orders(tp.in, n, 101)...)
		cfg := writeConfig(t, enrichConfig(b, tp, true))
		r := startRunner(t, "-c", cfg)
		readTopic(t, b, tp.out, 3000, 60*time.Second)
		// The output rate just before the kill, seen by this test's own
		// client, bounds what the runner settled in one commit interval.
		o1, t1 := sumOffsets(endOffsets(t, b, tp.out)), time.Now()
		time.Sleep(200 * time.Millisecond)
		o2 := sumOffsets(endOffsets(t, b, tp.out))
		rate := float64(o2-o1) / time.Since(t1).Seconds()
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		r.wait(10 * time.Second)
		before := sumOffsets(endOffsets(t, b, tp.out))
		if before >= n {
			t.Fatalf("all %d records done before the kill; the test needs more input", n)
		}
		committedAtKill := sumOffsets(committed(t, b, tp.in+"-group", tp.in))
		r2 := startRunner(t, "-c", cfg)
		waitCommitted(t, b, tp.in+"-group", tp.in, 120*time.Second)
		if code := r2.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit %d", code)
		}
		all := readTopic(t, b, tp.out, int(sumOffsets(endOffsets(t, b, tp.out))), 60*time.Second)
		requireAllIDs(t, all, n)
		dups := len(all) - n
		// What can be written twice is what was written but not committed
		// at the kill: per partition, the records between the committed
		// offset and the highest record handed out — the in-flight window
		// (max_in_flight 256 per partition, 3 partitions), plus records done
		// behind a key still in flight — and what was settled since the
		// last commit: one commit interval (the default) and the commit's
		// round trip (250 ms allowed) at the rate measured.
		window := 256 * 3
		commitInterval, err := time.ParseDuration(config.DefaultCommitInterval)
		if err != nil {
			t.Fatal(err)
		}
		interval := (commitInterval + 250*time.Millisecond).Seconds()
		bound := window + int(rate*interval)
		t.Logf("killed after %d of %d outputs (%d committed) at %.0f outputs/s; %d duplicates; bound %d (window %d)",
			before, n, committedAtKill, rate, dups, bound, window)
		if dups > int(before-committedAtKill) {
			t.Errorf("%d duplicates, more than the %d records written but not committed at the kill", dups, before-committedAtKill)
		}
		if dups > bound {
			t.Errorf("%d duplicates, more than the in-flight window (%d) and one commit interval's outputs (%d)", dups, window, bound-window)
		}
	})
}
