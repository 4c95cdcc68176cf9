package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

// kcat is an independent Kafka client (librdkafka): what it writes the
// runner must read, and what the runner writes it must read back, byte for
// byte.

func needKcat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err == nil {
		return path
	}
	if os.Getenv("MILLRACE_TEST_BROKERS") != "" {
		t.Fatal("kcat is required by the test command (apt-get install kcat)")
	}
	t.Skip("kcat is not installed; ./test/run.sh installs and requires it")
	return ""
}

// kcatRecord is a line of `kcat -C -J`.
type kcatRecord struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	TS        int64    `json:"ts"` // the record timestamp, ms
	Headers   []string `json:"headers"`
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"`
}

func (r kcatRecord) headerMap() map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(r.Headers); i += 2 {
		m[r.Headers[i]] = r.Headers[i+1]
	}
	return m
}

func kcatRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, needKcat(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("kcat %v: %v\n%s", args, err, stderr)
	}
	return string(out)
}

// kcatConsume reads n records of topic with kcat.
func kcatConsume(t *testing.T, b broker, topic string, n int) []kcatRecord {
	t.Helper()
	out := kcatRun(t, "", "-b", b.Addr, "-C", "-t", topic, "-o", "beginning", "-c", fmt.Sprint(n), "-J", "-q")
	var recs []kcatRecord
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r kcatRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("kcat output %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	if len(recs) != n {
		t.Fatalf("kcat read %d record(s), want %d", len(recs), n)
	}
	return recs
}

// kcat writes keyed records with headers, the runner transforms them, kcat
// reads the outputs: keys, headers and values are exactly what the chain
// must produce.
func TestKcatThroughPipeline(t *testing.T) {
	needKcat(t)
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		type in struct {
			key    string
			amount float64
			cc     string
		}
		inputs := []in{{"ada", 12.5, "FR"}, {"bob", -1, "FR"}, {"cy", 3, "DE"}, {"dee", 0.5, "US"}, {"eve", 7, "FR"}}
		var lines []string
		wantOut := map[string]string{} // key -> value on the default output
		wantDE := map[string]string{}
		for i, r := range inputs {
			v, _ := json.Marshal(map[string]any{"id": fmt.Sprint(i), "user": r.key, "amount": r.amount, "country": r.cc, "debug": "x"})
			lines = append(lines, r.key+"|"+string(v))
			if r.amount <= 0 {
				continue
			}
			out, _ := json.Marshal(map[string]any{"id": fmt.Sprint(i), "user_id": r.key, "amount": r.amount, "country": r.cc,
				"total_cents": int(r.amount * 100), "seen_key": r.key})
			if r.cc == "DE" {
				wantDE[r.key] = string(out)
			} else {
				wantOut[r.key] = string(out)
			}
		}
		kcatRun(t, strings.Join(lines, "\n")+"\n", "-b", b.Addr, "-P", "-t", tp.in, "-K", "|",
			"-H", "trace=abc-123", "-H", "tenant=acme")
		r := startRunner(t, "-c", writeConfig(t, enrichConfig(b, tp, true)))
		outs := kcatConsume(t, b, tp.out, len(wantOut))
		des := kcatConsume(t, b, tp.de, len(wantDE))
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("runner exit code %d", code)
		}
		check := func(got []kcatRecord, want map[string]string) {
			for _, rec := range got {
				if rec.Key == nil || rec.Payload == nil {
					t.Fatalf("record without key or value: %+v", rec)
				}
				if w, ok := want[*rec.Key]; !ok || *rec.Payload != w {
					t.Errorf("key %q: value\n got %s\nwant %s", *rec.Key, *rec.Payload, w)
				}
				h := rec.headerMap()
				if len(rec.Headers) != 6 || h["trace"] != "abc-123" || h["tenant"] != "acme" || h["traceparent"] == "" {
					t.Errorf("key %q: headers %v, want exactly trace=abc-123 tenant=acme and a traceparent", *rec.Key, rec.Headers)
				}
				delete(want, *rec.Key)
			}
			if len(want) > 0 {
				t.Errorf("missing outputs for keys %v", keys(want))
			}
		}
		check(outs, wantOut)
		check(des, wantDE)
	})
}

// pipeline-runner produce writes, kcat reads.
func TestProduceThenKcatReads(t *testing.T) {
	needKcat(t)
	eachBroker(t, func(t *testing.T, b broker) {
		topic := topicName(t, "cli")
		createTopics(t, b, 1, topic)
		values := []string{`{"n":1}`, `{"n":2,"s":"a<b&c"}`, `plain text`}
		_, stderr, code := cli(t, "", append([]string{"produce", "--brokers", b.Addr, "--topic", topic, "--key", "k-1", "--header", "a=1", "--header", "b=x=y"}, values...)...)
		if code != 0 {
			t.Fatalf("produce exit %d: %s", code, stderr)
		}
		if !strings.Contains(stderr, "produced 3 record(s)") {
			t.Errorf("summary: %s", stderr)
		}
		recs := kcatConsume(t, b, topic, 3)
		for i, r := range recs {
			if *r.Payload != values[i] || *r.Key != "k-1" {
				t.Errorf("record %d: key %v value %v", i, *r.Key, *r.Payload)
			}
			if h := r.headerMap(); h["a"] != "1" || h["b"] != "x=y" || len(h) != 2 {
				t.Errorf("record %d headers: %v", i, r.Headers)
			}
		}
	})
}

// kcat writes, pipeline-runner consume --json reads.
func TestKcatThenConsumeReads(t *testing.T) {
	needKcat(t)
	eachBroker(t, func(t *testing.T, b broker) {
		topic := topicName(t, "cli")
		createTopics(t, b, 1, topic)
		kcatRun(t, "k1;{\"x\":1}\nk2;{\"x\":\"é\"}\n", "-b", b.Addr, "-P", "-t", topic, "-K", ";", "-H", "h=v")
		stdout, stderr, code := cli(t, "", "consume", "--brokers", b.Addr, "--topic", topic, "--max", "2", "--json", "--timeout", "30s")
		if code != 0 {
			t.Fatalf("consume exit %d: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != 2 {
			t.Fatalf("want 2 lines, got %q", stdout)
		}
		want := []struct{ key, value string }{{"k1", `{"x":1}`}, {"k2", `{"x":"é"}`}}
		for i, line := range lines {
			var got struct {
				Topic     string            `json:"topic"`
				Partition int32             `json:"partition"`
				Offset    int64             `json:"offset"`
				Timestamp string            `json:"timestamp"`
				Key       string            `json:"key"`
				Headers   map[string]string `json:"headers"`
				Value     string            `json:"value"`
			}
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatal(err)
			}
			if got.Topic != topic || got.Offset != int64(i) || got.Key != want[i].key || got.Value != want[i].value || got.Headers["h"] != "v" {
				t.Errorf("line %d: %+v", i, got)
			}
			if _, err := time.Parse(time.RFC3339Nano, got.Timestamp); err != nil {
				t.Errorf("timestamp %q: %v", got.Timestamp, err)
			}
		}
	})
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
