package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/twmb/franz-go/pkg/kgo"
)

// reloadPipeline is one pipeline of a reload test's config: from in to
// out, setting v.
func reloadPipeline(name, in, out string, v int) string {
	return fmt.Sprintf(`  - name: %s
    input: {topic: %s, group: %s-group, start: oldest, max_in_flight: 16}
    transforms:
      - set: {v: '%d'}
    output: {topic: %s}
`, name, in, in, v, out)
}

func reloadConfig(b broker, pipelines ...string) string {
	return fmt.Sprintf(`version: 1
kafka:
  brokers: [%s]
  client_id: e2e-reload
runner:
  shutdown_timeout: 20s
admin:
  address: 127.0.0.1:0
  poll_interval: 1s
pipelines:
%s`, b.Addr, strings.Join(pipelines, ""))
}

// memberIDs are the member ids of a consumer group: a consumer that was
// restarted joins with a new one.
func memberIDs(t *testing.T, b broker, group string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	gs, err := admin(t, b).DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range gs[group].Members {
		ids = append(ids, m.MemberID)
	}
	return ids
}

// waitLog waits until the runner's log holds want n times.
func waitLog(t *testing.T, r *runner, want string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(r.out.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q not %d time(s) in the log within %s:\n%s", want, n, timeout, r.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func values(t *testing.T, recs []*kgo.Record, field string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range recs {
		out[fmt.Sprint(decodeValue(t, r)[field])]++
	}
	return out
}

// run --watch reloads the config when its file changes: a file that is
// not valid changes nothing (the log names the error's position, the
// metric counts it, /readyz stays ready), nor does one that changes the
// kafka settings, which need a restart; then a pipeline whose config did
// not change runs on untouched (the same group member, though the file's
// lines moved), a changed one restarts with its new chain, a removed one
// stops consuming, an added one starts.
func TestReloadAppliesPipelineByPipeline(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := map[string]string{}
		for _, n := range []string{"in1", "out1", "in2", "out2", "in3", "out3", "in4", "out4"} {
			tp[n] = topicName(t, n)
		}
		createTopics(t, b, 3, tp["in1"], tp["out1"], tp["in2"], tp["out2"], tp["in3"], tp["out3"], tp["in4"], tp["out4"])
		keep := reloadPipeline("keep", tp["in1"], tp["out1"], 1)
		path := writeConfig(t, reloadConfig(b, keep, reloadPipeline("change", tp["in2"], tp["out2"], 1), reloadPipeline("gone", tp["in3"], tp["out3"], 1)))
		r, base := startObserved(t, path, "--watch")
		for _, in := range []string{"in1", "in2", "in3"} {
			produce(t, b, numbered(tp[in], 10, func(int) bool { return false })...)
		}
		for _, out := range []string{"out1", "out2", "out3"} {
			readTopic(t, b, tp[out], 10, 60*time.Second)
		}
		waitReady(t, base, 200, 60*time.Second)
		members := memberIDs(t, b, tp["in1"]+"-group")

		// A file that does not load changes nothing.
		if err := os.WriteFile(path, []byte(reloadConfig(b, keep)+"  - name: broken\n    input: {topic: [\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		waitLog(t, r, `"msg":"config reload failed: nothing changed"`, 1, 30*time.Second)
		if !strings.Contains(r.out.String(), "pipelines.yaml:") {
			t.Errorf("the failed reload does not name the file and position:\n%s", r.out.String())
		}
		if rd := waitReady(t, base, 200, 10*time.Second); len(rd.Pipelines) != 3 {
			t.Errorf("after a bad file /readyz shows %d pipelines, want the 3 running", len(rd.Pipelines))
		}
		// Nor does one that changes settings outside the pipelines.
		if err := os.WriteFile(path, []byte(strings.Replace(reloadConfig(b, keep), "client_id: e2e-reload", "client_id: other", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		waitLog(t, r, `"msg":"config reload failed: nothing changed"`, 2, 30*time.Second)
		if !strings.Contains(r.out.String(), "restart the runner for those") {
			t.Errorf("the refused reload does not say why:\n%s", r.out.String())
		}
		if v := scrape(t, base).value(observe.MetricConfigReloads, "result", "failed"); v != 2 {
			t.Errorf("%s{result=failed} = %v, want 2", observe.MetricConfigReloads, v)
		}

		// A comment moves every line: keep's config is the same.
		next := "# reloaded\n" + reloadConfig(b, keep, reloadPipeline("change", tp["in2"], tp["out2"], 2), reloadPipeline("new", tp["in4"], tp["out4"], 1))
		if err := os.WriteFile(path, []byte(next), 0o644); err != nil {
			t.Fatal(err)
		}
		waitLog(t, r, `"msg":"config reloaded","unchanged":"keep","restarted":"change","stopped":"gone","started":"new","failed":""`, 1, 60*time.Second)
		for _, in := range []string{"in1", "in2", "in3", "in4"} {
			produce(t, b, numbered(tp[in], 20, func(int) bool { return false })[10:]...)
		}
		exactlyOnce(t, readTopic(t, b, tp["out1"], 20, 60*time.Second), 20)
		if got := values(t, readTopic(t, b, tp["out2"], 20, 60*time.Second), "v"); got["1"] != 10 || got["2"] != 10 {
			t.Errorf("change wrote v %v, want 10 of v 1 before the reload and 10 of v 2 after", got)
		}
		if got := values(t, readTopic(t, b, tp["out4"], 10, 60*time.Second), "v"); got["1"] != 10 {
			t.Errorf("the added pipeline wrote v %v, want 10 of v 1", got)
		}
		time.Sleep(2 * time.Second)
		if n := len(readUpTo(t, b, tp["out3"], 20, 2*time.Second)); n != 10 {
			t.Errorf("the removed pipeline wrote %d records, want the 10 from before the reload", n)
		}
		if got := sumOffsets(committed(t, b, tp["in3"]+"-group", tp["in3"])); got != 10 {
			t.Errorf("the removed pipeline's group committed %d, want 10", got)
		}
		if now := memberIDs(t, b, tp["in1"]+"-group"); strings.Join(now, ",") != strings.Join(members, ",") {
			t.Errorf("keep's group members %v, before the reloads %v: it was restarted", now, members)
		}
		rd := waitReady(t, base, 200, 60*time.Second)
		if _, ok := rd.Pipelines["gone"]; ok || len(rd.Pipelines) != 3 {
			t.Errorf("/readyz after the reload: %+v, want keep, change and new", rd.Pipelines)
		}
		if v := scrape(t, base).value(observe.MetricConfigReloads, "result", "ok"); v != 1 {
			t.Errorf("%s{result=ok} = %v, want 1", observe.MetricConfigReloads, v)
		}
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
	})
}

// A SIGHUP that changes a pipeline while records flow into it: the
// pipeline drains, commits and restarts with the new chain; every record
// arrives, and duplicates stay within the restarted pipeline's in-flight
// window (max_in_flight per partition).
func TestReloadWhileRecordsFlow(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		in, out := topicName(t, "in"), topicName(t, "out")
		createTopics(t, b, 3, in, out)
		path := writeConfig(t, reloadConfig(b, reloadPipeline("flow", in, out, 1)))
		r := startRunner(t, "-c", path)
		const n, batches = 3000, 30
		recs := numbered(in, n, func(int) bool { return false })
		// Half the records go in before the reload, half once the pipeline
		// restarted: both chains see some, however fast the machine.
		produced, reloaded := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(produced)
			cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
			if err != nil {
				t.Error(err)
				return
			}
			defer cl.Close()
			for i := range batches {
				if i == batches/2 {
					select {
					case <-reloaded:
					case <-time.After(2 * time.Minute):
						t.Error("no restart of the pipeline within 2 minutes")
						return
					}
				}
				if err := cl.ProduceSync(context.Background(), recs[i*n/batches:(i+1)*n/batches]...).FirstErr(); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		readTopic(t, b, out, n/10, 60*time.Second)
		if err := os.WriteFile(path, []byte(reloadConfig(b, reloadPipeline("flow", in, out, 2))), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitLog(t, r, `"restarted":"flow"`, 1, 60*time.Second)
		close(reloaded)
		<-produced
		var outs []*kgo.Record
		for deadline := time.Now().Add(90 * time.Second); ; {
			outs = readUpTo(t, b, out, 2*n, 5*time.Second)
			seen := map[string]bool{}
			for _, o := range outs {
				seen[string(o.Key)] = true
			}
			if len(seen) == n || time.Now().After(deadline) {
				break
			}
		}
		requireKeys(t, outs, n)
		const window = 16 * 3
		if dups := len(outs) - n; dups > window {
			t.Errorf("%d duplicates, more than the in-flight window (%d)", dups, window)
		} else {
			t.Logf("%d records, %d duplicates", n, dups)
		}
		if got := values(t, outs, "v"); got["2"] == 0 || got["1"]+got["2"] != len(outs) {
			t.Errorf("v %v: want records of both chains", got)
		}
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
	})
}

// requireKeys fails unless every key 0..n-1 is among the records.
func requireKeys(t *testing.T, recs []*kgo.Record, n int) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range recs {
		seen[string(r.Key)] = true
	}
	for i := range n {
		if !seen[fmt.Sprint(i)] {
			t.Fatalf("record %d lost (%d records read)", i, len(recs))
		}
	}
}
