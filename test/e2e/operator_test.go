package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/twmb/franz-go/pkg/kgo"
)

// operatorConfig is one pipeline, "ops", with an admin server on a free
// port; extra goes under the pipeline (input and errors settings).
func operatorConfig(b broker, tp topics, input, errs, admin string) string {
	return fmt.Sprintf(`version: 1
kafka:
  brokers: [%s]
  client_id: e2e-ops
runner:
  shutdown_timeout: 20s
admin:
  address: 127.0.0.1:0
  poll_interval: 1s
%spipelines:
  - name: ops
    input: {topic: %s, group: %s-group, start: oldest, max_in_flight: 8%s}
    transforms:
      - set: {total_cents: 'int(amount * 100)'}
    output: {topic: %s}
    errors:
      retry: {max_retries: 2, initial_interval: 10ms, max_interval: 50ms}
      dead_letter_topic: %s
%s`, b.Addr, admin, tp.in, tp.in, input, tp.out, tp.dlq, errs)
}

var generationRE = regexp.MustCompile(`"msg":"pipeline (?:paused|resumed)[^\n]*"group_generation":(-?\d+)`)

// generations are the consumer group generations the runner logged when
// it paused and resumed: a rebalance in between shows as two.
// requireNoRebalance checks that pauses and resumes left the group as it
// was: one generation in the runner's log lines, the same single member.
func requireNoRebalance(t *testing.T, r *runner, b broker, group string, members []string) {
	t.Helper()
	if gens := generations(t, r); len(gens) != 1 || gens[0] == "-1" {
		t.Errorf("group generations logged at the pauses and resumes: %v; want one: no rebalance", gens)
	}
	if now := memberIDs(t, b, group); len(now) != 1 || !slices.Equal(now, members) {
		t.Errorf("group members %v after the pauses and resumes, %v before: the consumer left or rejoined", now, members)
	}
}

func generations(t *testing.T, r *runner) []string {
	t.Helper()
	var gens []string
	for _, m := range generationRE.FindAllStringSubmatch(r.out.String(), -1) {
		if !slices.Contains(gens, m[1]) {
			gens = append(gens, m[1])
		}
	}
	return gens
}

// waitState polls /readyz until pipeline ops is in state, and returns it.
func waitState(t *testing.T, base, state string, timeout time.Duration) observe.Readiness {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var rd readiness
		getJSON(t, base+"/readyz", &rd)
		if p := rd.Pipelines["ops"]; p.State == state {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipeline ops not %s within %s: %+v", state, timeout, rd)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settledWhilePaused waits until the paused pipeline's committed offsets
// stop moving (what was in flight is done and committed) and returns them.
func settledWhilePaused(t *testing.T, b broker, group, topic string) map[int32]int64 {
	t.Helper()
	prev := committed(t, b, group, topic)
	for range 60 {
		time.Sleep(time.Second)
		cur := committed(t, b, group, topic)
		if equalOffsets(prev, cur) {
			return cur
		}
		prev = cur
	}
	t.Fatalf("the committed offsets of %s kept moving while paused: %v", group, prev)
	return nil
}

// exactlyOnce fails unless the records' ids are 0..n-1, each once.
func exactlyOnce(t *testing.T, recs []*kgo.Record, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r.Key)]++
	}
	for i := range n {
		if c := seen[strconv.Itoa(i)]; c != 1 {
			t.Fatalf("record %d written %d time(s)", i, c)
		}
	}
	if len(recs) != n {
		t.Fatalf("%d records written for %d inputs", len(recs), n)
	}
}

// numbered returns n records for topic keyed by their index; every index
// bad says is not JSON.
func numbered(topic string, n int, bad func(int) bool) []*kgo.Record {
	recs := make([]*kgo.Record, n)
	for i := range n {
		v := []byte(fmt.Sprintf(`{"amount": %d}`, i+1))
		if bad(i) {
			v = []byte("not json")
		}
		recs[i] = &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: v}
	}
	return recs
}

// A stream with 10% bad records spends the error budget: the pipeline
// pauses well before min_records plus the window's worth of dead letters,
// says so in the log, /readyz and the metric, keeps its partitions (the
// group's generation does not change) and commits what it finished.
// `pipeline-runner resume` continues where it stopped, as often as the
// budget pauses it again, until everything is through: nothing lost,
// nothing written twice.
func TestErrorBudgetPausesAndResumeDrains(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		const n, badUpTo = 1500, 400
		produce(t, b, numbered(tp.in, n, func(i int) bool { return i < badUpTo && i%10 == 5 })...)
		r, base := startObserved(t, writeConfig(t, operatorConfig(b, tp, "",
			"      budget: {max_ratio: 0.05, window: 1m, min_records: 100}\n", "")))
		paused := waitState(t, base, observe.StatePaused, 90*time.Second)
		if !strings.Contains(paused.Reason, "error budget spent") {
			t.Fatalf("paused for %q", paused.Reason)
		}
		group := tp.in + "-group"
		members := memberIDs(t, b, group)
		done := settledWhilePaused(t, b, group, tp.in)
		dead := readUpTo(t, b, tp.dlq, n, 3*time.Second)
		t.Logf("paused after %d records, %d dead letters: %s", sumOffsets(done), len(dead), paused.Reason)
		// The budget is spent at 6 dead letters of at most 119 records;
		// what was in flight (8 per partition) and already handed out
		// finishes after that.
		if len(dead) >= 100 || sumOffsets(done) >= badUpTo {
			t.Fatalf("%d dead letters and %d records done before the pause", len(dead), sumOffsets(done))
		}
		if m := scrape(t, base); m.value(observe.MetricPipelinePaused, "pipeline", "ops") != 1 {
			t.Errorf("%s is not 1 while paused", observe.MetricPipelinePaused)
		}
		if !strings.Contains(r.out.String(), `"msg":"pipeline paused`) {
			t.Errorf("no pause in the log:\n%s", r.out.String())
		}
		addr := strings.TrimPrefix(base, "http://")
		resumes := 0
		for deadline := time.Now().Add(3 * time.Minute); sumOffsets(committed(t, b, group, tp.in)) < int64(n); {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d records committed after %d resumes", sumOffsets(committed(t, b, group, tp.in)), n, resumes)
			}
			var rd readiness
			if getJSON(t, base+"/readyz", &rd); rd.Pipelines["ops"].State == observe.StatePaused {
				if stdout, stderr, code := cli(t, "", "resume", "ops", "--admin-addr", addr); code != 0 || !strings.Contains(stdout, "pipeline ops running") {
					t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
				}
				resumes++
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("drained after %d resume(s)", resumes)
		outs := readTopic(t, b, tp.out, n-badUpTo/10, 30*time.Second)
		exactlyOnce(t, append(outs, readTopic(t, b, tp.dlq, badUpTo/10, 30*time.Second)...), n)
		// A last pause logs the generation after the drain.
		if stdout, stderr, code := cli(t, "", "pause", "ops", "--admin-addr", addr); code != 0 {
			t.Fatalf("pause: exit %d\n%s%s", code, stdout, stderr)
		}
		requireNoRebalance(t, r, b, group, members)
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
	})
}

// post sends an empty POST with an optional bearer token and returns the
// status code.
func post(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A pipeline paused by hand, on an admin server with auth, stops taking
// new records while staying in its group, and resume takes them all, each
// once. Without the credentials, or for an unknown pipeline, the admin
// server refuses, and so does the CLI.
func TestPauseResumeByHand(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		const first, second = 300, 300
		produce(t, b, numbered(tp.in, first, func(int) bool { return false })...)
		cfg := writeConfig(t, operatorConfig(b, tp, "", "", "  auth: {bearer_token: s3cret}\n"))
		r, base := startObserved(t, cfg)
		readTopic(t, b, tp.out, first, 60*time.Second)
		group := tp.in + "-group"
		if code := post(t, base+"/api/pipelines/ops/pause", ""); code != http.StatusUnauthorized {
			t.Fatalf("pause without the token: %d, want 401", code)
		}
		if code := post(t, base+"/api/pipelines/nope/pause", "s3cret"); code != http.StatusNotFound {
			t.Fatalf("pause of an unknown pipeline: %d, want 404", code)
		}
		addr := strings.TrimPrefix(base, "http://")
		if _, stderr, code := cli(t, "", "pause", "nope", "--admin-addr", addr, "-c", cfg); code != 1 || !strings.Contains(stderr, "404") {
			t.Fatalf("CLI pause of an unknown pipeline: exit %d\n%s", code, stderr)
		}
		if stdout, stderr, code := cli(t, "", "pause", "ops", "--admin-addr", addr, "-c", cfg); code != 0 || !strings.Contains(stdout, "pipeline ops paused") {
			t.Fatalf("CLI pause: exit %d\n%s%s", code, stdout, stderr)
		}
		members := memberIDs(t, b, group)
		p := waitState(t, base, observe.StatePaused, 10*time.Second)
		if !strings.Contains(p.Reason, "paused by hand") {
			t.Errorf("reason %q", p.Reason)
		}
		// The status page's data shows it paused, and since when.
		req, _ := http.NewRequest(http.MethodGet, base+"/api/status", nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var st observe.Status
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil || len(st.Pipelines) != 1 || st.Pipelines[0].State != observe.StatePaused || !strings.Contains(st.Pipelines[0].Reason, "paused since ") {
			t.Errorf("/api/status while paused: %v %+v", err, st.Pipelines)
		}
		before := settledWhilePaused(t, b, group, tp.in)
		produce(t, b, numbered(tp.in, first+second, func(int) bool { return false })[first:]...)
		time.Sleep(3 * time.Second)
		if after := committed(t, b, group, tp.in); !equalOffsets(before, after) || sumOffsets(after) != first {
			t.Fatalf("a paused pipeline committed %v, then %v (want %d records in all)", before, after, first)
		}
		if n := len(readUpTo(t, b, tp.out, first+second, 2*time.Second)); n != first {
			t.Fatalf("%d outputs while paused, want %d", n, first)
		}
		if stdout, stderr, code := cli(t, "", "resume", "ops", "--admin-addr", addr, "-c", cfg); code != 0 {
			t.Fatalf("CLI resume: exit %d\n%s%s", code, stdout, stderr)
		}
		waitState(t, base, observe.StateRunning, 30*time.Second)
		exactlyOnce(t, readTopic(t, b, tp.out, first+second, 60*time.Second), first+second)
		requireNoRebalance(t, r, b, group, members)
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
	})
}

// input.rate_limit paces the pipeline: 800 records at 100 records/s with a
// burst of 10 take at least (800-10)/100 s, however fast the machine
// (unpaced, they take the runner's start-up and a second or two).
// (Whether the rate is reached, within 5%, is the benchmark's to show:
// go -C test/bench run . --scenarios L2,M-key --rate-limit N.)
func TestRateLimitPaces(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		for _, adapter := range []string{"millrace", "watermill-kafka"} {
			t.Run(adapter, func(t *testing.T) {
				tp := newTopics(t, b)
				const n, limit, burst = 800, 100, 10
				produce(t, b, numbered(tp.in, n, func(int) bool { return false })...)
				cfg := operatorConfig(b, tp, fmt.Sprintf(", rate_limit: %d, rate_burst: %d", limit, burst), "", "")
				cfg = strings.Replace(cfg, "client_id: e2e-ops", "client_id: e2e-ops\n  adapter: "+adapter, 1)
				start := time.Now()
				r := startRunner(t, "-c", writeConfig(t, cfg))
				outs := readTopic(t, b, tp.out, n, 90*time.Second)
				if took, least := time.Since(start), time.Duration(float64(n-burst)/limit*float64(time.Second)); took < least {
					t.Fatalf("%d records in %s at rate_limit %d: faster than the limit allows (%s)", n, took, limit, least)
				}
				requireKeys(t, outs, n)
				if code := r.stop(30 * time.Second); code != 0 {
					t.Fatalf("exit code %d", code)
				}
			})
		}
	})
}

// The fix after a spent budget can be a reload: the changed pipeline
// (here, a budget that allows the bad records) drains, commits and starts
// again, unpaused, and takes the rest, each record once.
func TestErrorBudgetFixedByReload(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		const n = 1000
		produce(t, b, numbered(tp.in, n, func(i int) bool { return i%10 == 5 })...)
		path := writeConfig(t, operatorConfig(b, tp, "", "      budget: {max_ratio: 0.05, window: 1m, min_records: 100}\n", ""))
		r, base := startObserved(t, path)
		waitState(t, base, observe.StatePaused, 90*time.Second)
		group := tp.in + "-group"
		if done := sumOffsets(settledWhilePaused(t, b, group, tp.in)); done >= n/2 {
			t.Fatalf("%d of %d records done before the pause", done, n)
		}
		if err := os.WriteFile(path, []byte(operatorConfig(b, tp, "", "      budget: {max_ratio: 0.5, window: 1m, min_records: 100}\n", "")), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitLog(t, r, `"restarted":"ops"`, 1, 60*time.Second)
		outs := readTopic(t, b, tp.out, n-n/10, 60*time.Second)
		exactlyOnce(t, append(outs, readTopic(t, b, tp.dlq, n/10, 30*time.Second)...), n)
		waitState(t, base, observe.StateRunning, 30*time.Second)
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
	})
}
