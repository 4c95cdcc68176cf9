package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/observe"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The admin server of a runner: metrics, health, readiness and the status
// data, checked against a known mix of records.

// obsConfig is a pipeline with a filter, a set, a route and a dead-letter
// topic; the admin server listens on a free port and polls every second.
func obsConfig(b broker, tp topics, name string) string {
	return fmt.Sprintf(`version: 1
kafka:
  brokers: [%s]
  client_id: e2e-observe
runner:
  shutdown_timeout: 20s
admin:
  address: 127.0.0.1:0
  poll_interval: 1s
pipelines:
  - name: %s
    input: {topic: %s, group: %s-group, start: oldest}
    transforms:
      - filter: 'amount > 0'
      - set: {total_cents: 'int(amount * 100)'}
    output:
      topic: %s
      routes:
        - {when: 'country == "DE"', topic: %s}
    errors:
      retry: {max_retries: 2, initial_interval: 10ms, max_interval: 50ms}
      dead_letter_topic: %s
`, b.Addr, name, tp.in, tp.in, tp.out, tp.de, tp.dlq)
}

// mix is a known set of input records and what the pipeline makes of them.
type mix struct {
	records                             []*kgo.Record
	passed, routed, filtered, bad, bad2 int // bad: not JSON; bad2: the filter fails
}

// knownMix builds passed (to out), routed (to de), filtered and
// dead-lettered records; the first passed record carries a traceparent.
func knownMix(tp topics) mix {
	m := mix{passed: 6, routed: 3, filtered: 4, bad: 2, bad2: 1}
	ts := time.Now().Add(-2 * time.Second)
	add := func(key string, value []byte, hs ...kgo.RecordHeader) {
		m.records = append(m.records, &kgo.Record{Topic: tp.in, Key: []byte(key), Value: value, Timestamp: ts, Headers: hs})
	}
	for i := range m.passed {
		var hs []kgo.RecordHeader
		if i == 0 {
			hs = append(hs, kgo.RecordHeader{Key: "traceparent", Value: []byte(inboundTrace)})
		}
		add(fmt.Sprintf("p%d", i), order(fmt.Sprintf("p%d", i), i+1, "FR"), hs...)
	}
	for i := range m.routed {
		add(fmt.Sprintf("r%d", i), order(fmt.Sprintf("r%d", i), 5, "DE"))
	}
	for i := range m.filtered {
		add(fmt.Sprintf("f%d", i), order(fmt.Sprintf("f%d", i), -i, "FR"))
	}
	for i := range m.bad {
		add(fmt.Sprintf("b%d", i), []byte(`{"id": "bad", amount: oops`), kgo.RecordHeader{Key: "h", Value: []byte("v")})
	}
	for i := range m.bad2 {
		add(fmt.Sprintf("e%d", i), []byte(`{"id":"str","amount":"ten","country":"FR"}`))
	}
	return m
}

func (m mix) total() int        { return len(m.records) }
func (m mix) deadLettered() int { return m.bad + m.bad2 }

const inboundTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

var traceparentRE = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

// startObserved starts a runner and returns it with the base URL of its
// admin server, read from its log.
func startObserved(t *testing.T, cfg string, args ...string) (*runner, string) {
	t.Helper()
	r := startRunner(t, append([]string{"-c", cfg}, args...)...)
	return r, adminURL(t, r)
}

var adminLogRE = regexp.MustCompile(`"msg":"admin server listening","addr":"(http://[^"]+)"`)

func adminURL(t *testing.T, r *runner) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := adminLogRE.FindStringSubmatch(r.out.String()); m != nil {
			return m[1]
		}
		select {
		case <-r.done:
			t.Fatalf("runner exited before its admin server started:\n%s", r.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no admin server in the runner log:\n%s", r.out.String())
	return ""
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// get fetches url and returns the status code and body.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, body
}

// getJSON fetches url into v and returns the status code.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	code, body := get(t, url)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %v\n%s", url, code, err, body)
	}
	return code
}

// metrics scrapes /metrics and parses it.
type metrics map[string]*dto.MetricFamily

func scrape(t *testing.T, base string) metrics {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// samples returns the metrics of a family whose labels include kv.
func (m metrics) samples(name string, kv ...string) []*dto.Metric {
	var out []*dto.Metric
	f := m[name]
	if f == nil {
		return nil
	}
next:
	for _, s := range f.GetMetric() {
		for i := 0; i+1 < len(kv); i += 2 {
			found := false
			for _, l := range s.GetLabel() {
				if l.GetName() == kv[i] && l.GetValue() == kv[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// value sums the matching counters or gauges; histograms give their count.
func (m metrics) value(name string, kv ...string) float64 {
	var v float64
	for _, s := range m.samples(name, kv...) {
		switch {
		case s.Counter != nil:
			v += s.Counter.GetValue()
		case s.Gauge != nil:
			v += s.Gauge.GetValue()
		case s.Histogram != nil:
			v += float64(s.Histogram.GetSampleCount())
		}
	}
	return v
}

// waitMetric polls /metrics until cond holds.
func waitMetric(t *testing.T, base string, timeout time.Duration, what string, cond func(metrics) bool) metrics {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := scrape(t, base)
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("within %s: %s; /metrics has:\n%s", timeout, what, millraceLines(m))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// millraceLines renders the millrace_* samples for a failure message.
func millraceLines(m metrics) string {
	var b strings.Builder
	for name, f := range m {
		if !strings.HasPrefix(name, "millrace_") {
			continue
		}
		for _, s := range f.GetMetric() {
			var ls []string
			for _, l := range s.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			v := s.GetCounter().GetValue() + s.GetGauge().GetValue() + float64(s.GetHistogram().GetSampleCount())
			fmt.Fprintf(&b, "  %s{%s} %g\n", name, strings.Join(ls, ","), v)
		}
	}
	return b.String()
}

// lagSettled reports whether the pipeline's lag is known for every
// partition and zero.
func lagSettled(m metrics, pipe string, partitions int) bool {
	s := m.samples(observe.MetricConsumerLag, "pipeline", pipe)
	return len(s) == partitions && m.value(observe.MetricConsumerLag, "pipeline", pipe) == 0
}

// A known mix of records through a pipeline: every counter has the known
// number, lag returns to zero, the latency histograms have observations,
// the status data agrees with the metrics, and a traceparent reaches every
// output and dead letter.
func TestObserveCounters(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		mx := knownMix(tp)
		produce(t, b, mx.records...)
		const name = "obs"
		r, base := startObserved(t, writeConfig(t, obsConfig(b, tp, name)))

		outs := readTopic(t, b, tp.out, mx.passed, 60*time.Second)
		des := readTopic(t, b, tp.de, mx.routed, 30*time.Second)
		dead := readTopic(t, b, tp.dlq, mx.deadLettered(), 30*time.Second)

		m := waitMetric(t, base, 60*time.Second, "all records counted and lag zero", func(m metrics) bool {
			return m.value(observe.MetricRecordsIn, "pipeline", name) == float64(mx.total()) && lagSettled(m, name, 3)
		})
		for _, c := range []struct {
			metric string
			labels []string
			want   int
		}{
			{observe.MetricRecordsIn, nil, mx.total()},
			{observe.MetricRecordsOut, []string{"topic", tp.out}, mx.passed},
			{observe.MetricRecordsOut, []string{"topic", tp.de}, mx.routed},
			{observe.MetricFiltered, nil, mx.filtered},
			{observe.MetricDeadLettered, nil, mx.deadLettered()},
			{observe.MetricFailures, []string{"step", "decode", "index", "-1"}, mx.bad},
			{observe.MetricFailures, []string{"step", "filter", "index", "0"}, mx.bad2},
			{observe.MetricFailures, []string{"step", "set", "index", "1"}, 0},
			{observe.MetricFailures, []string{"step", "publish"}, 0},
			// The filter sees every record that decodes; set sees those that pass it.
			{observe.MetricStepInputs, []string{"step", "filter", "index", "0"}, mx.total() - mx.bad},
			{observe.MetricStepInputs, []string{"step", "set", "index", "1"}, mx.passed + mx.routed},
			{observe.MetricStepOutputs, []string{"step", "filter", "index", "0"}, mx.passed + mx.routed},
			{observe.MetricStepOutputs, []string{"step", "set", "index", "1"}, mx.passed + mx.routed},
			{observe.MetricLatency, nil, mx.passed + mx.routed},
			{observe.MetricInFlight, nil, 0},
			{observe.MetricConsumerLag, nil, 0},
			{observe.MetricPipelineReady, nil, 1},
		} {
			labels := append([]string{"pipeline", name}, c.labels...)
			if got := m.value(c.metric, labels...); got != float64(c.want) {
				t.Errorf("%s%v = %g, want %d", c.metric, c.labels, got, c.want)
			}
		}
		if sum := histogramSum(m, observe.MetricLatency, "pipeline", name); sum <= 0 {
			t.Errorf("end-to-end latency sum %g: the histogram has no real observations", sum)
		}
		if sum := histogramSum(m, observe.MetricStepDuration, "pipeline", name, "step", "filter"); sum <= 0 {
			t.Errorf("step duration sum %g", sum)
		}
		// Step times are a sample (observe.StepTimeOneIn): the filter's
		// of the first record that decodes at least, at most one for every
		// record a step saw.
		for _, c := range []struct {
			step, index string
			least, saw  int
		}{{"filter", "0", 1, mx.total() - mx.bad}, {"set", "1", 0, mx.passed + mx.routed}} {
			if n := m.value(observe.MetricStepDuration, "pipeline", name, "step", c.step, "index", c.index); n < float64(c.least) || n > float64(c.saw) {
				t.Errorf("%s step times %g, want from %d to %d", c.step, n, c.least, c.saw)
			}
		}
		// Watermill's own metrics, for the handler and the publisher.
		if v := m.value("watermill_handler_execution_time_seconds", "handler_name", name); v < float64(mx.total()) {
			t.Errorf("watermill handler executions %g, want at least %d", v, mx.total())
		}
		// The default adapter runs handlers without a router: Watermill's
		// subscriber metric is not there; records in are counted above.
		if v := m.value("watermill_subscriber_messages_received_total", "handler_name", name, "acked", "acked"); v != 0 {
			t.Errorf("watermill subscriber metric %g without a Watermill subscriber", v)
		}
		// Nor its publisher metric: outputs and dead letters are produced
		// asynchronously (their time is in the end-to-end latency).
		if v := m.value("watermill_publish_time_seconds", "handler_name", name, "success", "true"); v != 0 {
			t.Errorf("watermill publish time has %g observations without a Watermill publisher", v)
		}
		if info := m.samples(observe.MetricRunnerInfo); len(info) != 1 || info[0].GetGauge().GetValue() != 1 {
			t.Errorf("runner info: %v", info)
		}
		if v := m.value("go_goroutines"); v <= 0 {
			t.Errorf("Go runtime metrics missing")
		}

		// The status data is read from the same counters.
		var st observe.Status
		if code := getJSON(t, base+"/api/status", &st); code != http.StatusOK || len(st.Pipelines) != 1 {
			t.Fatalf("/api/status: %d %+v", code, st)
		}
		ps := st.Pipelines[0]
		want := observe.Records{In: float64(mx.total()), Out: float64(mx.passed + mx.routed), Filtered: float64(mx.filtered),
			DeadLettered: float64(mx.deadLettered()), FailedAttempts: float64(mx.bad + mx.bad2)}
		if ps.Name != name || ps.Records != want || !ps.Ready || ps.State != observe.StateRunning {
			t.Errorf("status: %+v, want records %+v and running", ps, want)
		}
		if ps.Input.Topic != tp.in || ps.Input.Group != tp.in+"-group" || ps.Lag == nil || ps.Lag.Total != 0 || len(ps.Steps) != 2 {
			t.Errorf("status input %+v lag %+v steps %+v", ps.Input, ps.Lag, ps.Steps)
		}
		if len(ps.Errors) != mx.deadLettered() {
			t.Errorf("status keeps %d recent errors, want %d: %+v", len(ps.Errors), mx.deadLettered(), ps.Errors)
		}
		for _, e := range ps.Errors {
			if e.Time.IsZero() || e.Error == "" || e.Partition == "" || e.Offset == "" {
				t.Errorf("recent error lacks time, message or coordinates: %+v", e)
			}
		}

		// Health while running.
		var h map[string]string
		if code := getJSON(t, base+"/healthz", &h); code != http.StatusOK || h["status"] != "ok" {
			t.Errorf("/healthz: %d %v", code, h)
		}

		// Trace context: kept when present, added when absent, on outputs
		// and dead letters alike.
		for _, o := range append(outs, des...) {
			tpv, _ := header(o, "traceparent")
			if decodeValue(t, o)["id"] == "p0" {
				if tpv != inboundTrace {
					t.Errorf("output of the traced record: traceparent %q, want %q", tpv, inboundTrace)
				}
			} else if !traceparentRE.MatchString(tpv) || tpv == inboundTrace {
				t.Errorf("output %s: traceparent %q is not a new valid one", o.Value, tpv)
			}
		}
		for _, d := range dead {
			tpv, _ := header(d, "traceparent")
			if !traceparentRE.MatchString(tpv) {
				t.Errorf("dead letter %s: traceparent %q", d.Value, tpv)
			}
			if strings.Contains(string(d.Value), "oops") {
				if v, _ := header(d, "h"); v != "v" {
					t.Errorf("dead letter lost its header: %v", d.Headers)
				}
			}
			if v, _ := header(d, engine.HeaderPipeline); v != name {
				t.Errorf("dead letter pipeline header %q", v)
			}
		}
		// Payloads are not logged by default.
		if out := r.out.String(); strings.Contains(out, "oops") {
			t.Errorf("a record value reached the log:\n%s", out)
		}
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("runner exit code %d", code)
		}
	})
}

func histogramSum(m metrics, name string, kv ...string) float64 {
	var s float64
	for _, x := range m.samples(name, kv...) {
		s += x.GetHistogram().GetSampleSum()
	}
	return s
}

// readiness is the body of /readyz.
type readiness struct {
	Ready     bool                         `json:"ready"`
	Pipelines map[string]observe.Readiness `json:"pipelines"`
}

// waitReady polls /readyz until it answers want, and returns the last body.
func waitReady(t *testing.T, base string, want int, timeout time.Duration) readiness {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var rd readiness
		code := getJSON(t, base+"/readyz", &rd)
		if code == want {
			return rd
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer %d within %s; last %d %+v", want, timeout, code, rd)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// brokerControl returns commands that stop and start broker b, derived from
// MILLRACE_KAFKA_RESTART ("... kafka.sh restart"): only the broker named
// kafka has them.
func brokerControl(b broker) (stop, start []string, ok bool) {
	restart := strings.Fields(os.Getenv("MILLRACE_KAFKA_RESTART"))
	if b.Name != "kafka" || len(restart) < 2 || restart[len(restart)-1] != "restart" {
		return nil, nil, false
	}
	with := func(verb string) []string {
		c := append([]string(nil), restart...)
		c[len(c)-1] = verb
		return c
	}
	return with("stop"), with("start"), true
}

func runCommand(t *testing.T, argv []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

// /readyz is 503 before the consumer group is joined and 200 after; on the
// real broker (the one MILLRACE_KAFKA_RESTART restarts) it is 503 while the
// broker is stopped and 200 again once it is back, while /healthz stays 200.
func TestReadyzFollowsGroupAndBroker(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		// A member that holds the group's rebalance keeps the runner from
		// joining for as long as the test needs: a group joins within
		// milliseconds on the embedded broker, before any first poll.
		holder := holdGroup(t, b, tp.in+"-group", tp.in)
		r, base := startObserved(t, writeConfig(t, obsConfig(b, tp, "ready")))
		var first readiness
		for i := 0; i < 5; i++ {
			if code := getJSON(t, base+"/readyz", &first); code != http.StatusServiceUnavailable {
				t.Fatalf("/readyz %d: %d %+v, want 503 before the group is joined", i, code, first)
			}
			if p := first.Pipelines["ready"]; p.Ready || p.Reason == "" {
				t.Errorf("not ready without a reason: %+v", first)
			}
			time.Sleep(300 * time.Millisecond)
		}
		t.Logf("before joining: %+v", first.Pipelines["ready"])
		holder.AllowRebalance()
		holder.Close()
		waitReady(t, base, http.StatusOK, 90*time.Second)

		stop, start, ok := brokerControl(b)
		if !ok {
			t.Logf("broker %s is not stopped here (only the broker named kafka, with MILLRACE_KAFKA_RESTART); see TestReadyzEmbeddedBrokerDown", b.Name)
			if code := r.stop(30 * time.Second); code != 0 {
				t.Fatalf("exit code %d", code)
			}
			return
		}
		restarted := false
		t.Cleanup(func() {
			if !restarted {
				runCommand(t, start)
			}
		})
		runCommand(t, stop)
		down := waitReady(t, base, http.StatusServiceUnavailable, 60*time.Second)
		if p := down.Pipelines["ready"]; !strings.Contains(p.Reason, "broker unreachable") {
			// The first failing poll may see the group first; wait for the broker check.
			down = waitReadyReason(t, base, "broker unreachable", 60*time.Second)
		}
		t.Logf("broker stopped: %+v", down.Pipelines["ready"])
		var h map[string]string
		if code := getJSON(t, base+"/healthz", &h); code != http.StatusOK {
			t.Errorf("/healthz while the broker is down: %d %v (the process is alive)", code, h)
		}
		runCommand(t, start)
		restarted = true
		waitReady(t, base, http.StatusOK, 120*time.Second)
		// It consumes again after the broker came back.
		produce(t, b, &kgo.Record{Topic: tp.in, Value: order("after", 1, "FR")})
		readTopic(t, b, tp.out, 1, 60*time.Second)
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
	})
}

// holdGroup joins group as its only member and then blocks every
// rebalance until AllowRebalance: a member that joins later waits.
func holdGroup(t *testing.T, b broker, group, topic string) *kgo.Client {
	t.Helper()
	assigned := make(chan struct{}, 1)
	cl := client(t, b, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.BlockRebalanceOnPoll(), kgo.RebalanceTimeout(2*time.Minute),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			select {
			case assigned <- struct{}{}:
			default:
			}
		}))
	select {
	case <-assigned:
	case <-time.After(60 * time.Second):
		t.Fatalf("the holding member did not join group %s", group)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	cl.PollFetches(done) // registers a poller: rebalances wait for AllowRebalance
	return cl
}

func waitReadyReason(t *testing.T, base, reason string, timeout time.Duration) readiness {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var rd readiness
		code := getJSON(t, base+"/readyz", &rd)
		for _, p := range rd.Pipelines {
			if code == http.StatusServiceUnavailable && strings.Contains(p.Reason, reason) {
				return rd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never said %q within %s; last %d %+v", reason, timeout, code, rd)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// The same cycle on an embedded broker of the test's own, which it can
// stop and start again on the same port and data: 503 before joining, 200,
// 503 "broker unreachable" while it is down, 200 again.
func TestReadyzEmbeddedBrokerDown(t *testing.T) {
	own := startOwnBroker(t)
	b := own.broker
	tp := newTopics(t, b)
	r, base := startObserved(t, writeConfig(t, obsConfig(b, tp, "ready")))
	if code := getJSON(t, base+"/readyz", new(readiness)); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz right after start: %d, want 503", code)
	}
	waitReady(t, base, http.StatusOK, 60*time.Second)

	own.stop()
	down := waitReadyReason(t, base, "broker unreachable", 60*time.Second)
	t.Logf("broker stopped: %+v", down.Pipelines["ready"])
	if code := getJSON(t, base+"/healthz", new(map[string]string)); code != http.StatusOK {
		t.Errorf("/healthz while the broker is down: %d", code)
	}
	own.start(t)
	waitReady(t, base, http.StatusOK, 90*time.Second)
	if code := r.stop(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A pipeline that stopped on a record it cannot dead-letter is not ready,
// and /readyz says why, while the other pipeline of the runner goes on.
func TestReadyzStoppedPipeline(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		in2, out2 := topicName(t, "in2"), topicName(t, "out2")
		createTopics(t, b, 3, in2, out2)
		cfg := fmt.Sprintf(`version: 1
kafka:
  brokers: ["%s"]
  client_id: e2e-observe
admin:
  address: 127.0.0.1:0
  poll_interval: 1s
pipelines:
  - name: fragile
    input: {topic: %s}
    output: {topic: %s}
  - name: steady
    input: {topic: %s}
    output: {topic: %s}
`, b.Addr, tp.in, tp.out, in2, out2)
		r, base := startObserved(t, writeConfig(t, cfg), "--shutdown-timeout", "5s")
		waitReady(t, base, http.StatusOK, 90*time.Second)
		produce(t, b, &kgo.Record{Topic: tp.in, Value: []byte("not json")})
		rd := waitReadyReason(t, base, "stopped on an error", 60*time.Second)
		if p := rd.Pipelines["fragile"]; p.State != observe.StateStopped || !strings.Contains(p.Reason, "invalid JSON") {
			t.Errorf("stopped pipeline: %+v", p)
		}
		if p := rd.Pipelines["steady"]; !p.Ready {
			t.Errorf("the other pipeline: %+v", p)
		}
		var st observe.Status
		getJSON(t, base+"/api/status", &st)
		for _, p := range st.Pipelines {
			if p.Name == "fragile" && (len(p.Errors) == 0 || !strings.Contains(p.Errors[0].Error, "pipeline stopped")) {
				t.Errorf("the status page does not show why fragile stopped: %+v", p.Errors)
			}
		}
		// A pipeline stopped on an error makes the runner exit 1.
		if code := r.stop(60 * time.Second); code != 1 {
			t.Errorf("exit code %d, want 1", code)
		}
	})
}

// The admin server binds where asked; off disables it; a bad address is a
// usage error.
func TestObserveAdminAddress(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		cfg := writeConfig(t, obsConfig(b, tp, "flags"))
		r := startRunner(t, "-c", cfg, "--admin-addr", "off")
		readyLog := regexp.MustCompile(`"msg":"runner starting"`)
		deadline := time.Now().Add(60 * time.Second)
		for !readyLog.MatchString(r.out.String()) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if strings.Contains(r.out.String(), "admin server listening") {
			t.Errorf("--admin-addr off still started the admin server:\n%s", r.out.String())
		}
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
		_, stderr, code := cli(t, "", "run", "-c", cfg, "--admin-addr", "nonsense")
		if code != 2 || !strings.Contains(stderr, "--admin-addr") {
			t.Errorf("bad --admin-addr: exit %d, %s", code, stderr)
		}
		// pprof is off unless configured.
		r2, base := startObserved(t, cfg)
		waitReady(t, base, http.StatusOK, 90*time.Second)
		if code, _ := get(t, base+"/debug/pprof/"); code != http.StatusNotFound {
			t.Errorf("/debug/pprof/ without admin.pprof: %d, want 404", code)
		}
		if code := r2.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
	})
}
