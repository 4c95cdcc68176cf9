package observe

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
)

func testPipeline(name string) *config.Pipeline {
	return &config.Pipeline{
		Name:    name,
		Input:   config.Input{Topic: "orders", Group: name + "-group"},
		Output:  config.Output{Topic: "out", Routes: []config.Route{{Topic: "out-de"}}},
		Errors:  config.Errors{DeadLetterTopic: "dlq", Retry: config.Retry{MaxRetries: 3, MaxInterval: 5 * time.Second}},
		Timeout: 30 * time.Second,
		Steps:   []config.Step{{Name: "filter", Index: 0}, {Name: "set", Index: 1}},
	}
}

func TestCountersAndStatusAgree(t *testing.T) {
	o := New(Options{ClientID: "me", Version: "v1.2.3"})
	p := o.AddPipeline(testPipeline("enrich"), 0)
	obs := p.StepObserver()
	for range 5 {
		p.Begin()
		obs(&transforms.Step{Name: "filter", Index: 0}, time.Millisecond, 1, nil)
		obs(&transforms.Step{Name: "set", Index: 1}, 2*time.Millisecond, 1, nil)
		p.Out("out")
		p.Delivered(time.Now().Add(-time.Second))
		p.End(true)
	}
	p.Begin()
	obs(&transforms.Step{Name: "filter", Index: 0}, -1, 0, nil) // not timed (StepTimeOneIn)
	p.Filtered()
	p.End(true)
	p.Begin()
	obs(&transforms.Step{Name: "filter", Index: 0}, time.Millisecond, 0, errors.New("boom"))
	p.Failed("filter", 0, []byte("k1"), 2, 17, errors.New("boom"))
	p.DeadLettered()
	p.End(true)
	p.Begin()
	p.Failed(StepPublish, -1, nil, 1, 3, errors.New("broker down"))
	p.End(false) // nacked: not finished, not counted in

	m := o.m
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"in", testutil.ToFloat64(m.in.WithLabelValues("enrich")), 7},
		{"out", testutil.ToFloat64(m.out.WithLabelValues("enrich", "out")), 5},
		{"out-de", testutil.ToFloat64(m.out.WithLabelValues("enrich", "out-de")), 0},
		{"filtered", testutil.ToFloat64(m.filtered.WithLabelValues("enrich")), 1},
		{"dead", testutil.ToFloat64(m.dead.WithLabelValues("enrich")), 1},
		{"failures filter", testutil.ToFloat64(m.failures.WithLabelValues("enrich", "filter", "0")), 1},
		{"failures publish", testutil.ToFloat64(m.failures.WithLabelValues("enrich", "publish", "-1")), 1},
		{"in flight", testutil.ToFloat64(inFlightCollector{o}), 0},
		{"step outputs filter", testutil.ToFloat64(m.stepOutputs.WithLabelValues("enrich", "filter", "0")), 5},
		{"step inputs filter", testutil.ToFloat64(m.stepInputs.WithLabelValues("enrich", "filter", "0")), 7},
		{"info", testutil.ToFloat64(m.info.WithLabelValues("v1.2.3", strings.TrimSpace(goVersion()))), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
	st, err := o.Status(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ps := st.Pipelines[0]
	want := Records{In: 7, Out: 5, Filtered: 1, DeadLettered: 1, FailedAttempts: 2}
	if ps.Records != want {
		t.Errorf("status records %+v, want %+v", ps.Records, want)
	}
	if len(ps.Steps) != 2 || ps.Steps[0].In != 7 || ps.Steps[0].Out != 5 || ps.Steps[0].FailedAttempts != 1 || ps.Steps[1].In != 5 {
		t.Errorf("steps %+v", ps.Steps)
	}
	if ps.Latency.Count != 5 || ps.Latency.MeanSeconds < 1 || ps.Latency.P50Seconds <= 0 {
		t.Errorf("latency %+v", ps.Latency)
	}
	if len(ps.Errors) != 2 || ps.Errors[0].Step != StepPublish || ps.Errors[1].Partition != "2" || ps.Errors[1].Offset != "17" ||
		ps.Errors[1].Key != `"k1"` || ps.Errors[0].Key != "" {
		t.Errorf("recent errors, newest first: %+v", ps.Errors)
	}
	if ps.Lag != nil {
		t.Errorf("lag before any poll: %+v", ps.Lag)
	}
	if got := len(ps.OutByTopic); got != 2 {
		t.Errorf("out by topic %+v: both configured outputs are exported from the start", ps.OutByTopic)
	}
}

func goVersion() string {
	st, _ := New(Options{}).Status(time.Now())
	return st.GoVersion
}

func TestRecentErrorsAreBounded(t *testing.T) {
	o := New(Options{})
	p := o.AddPipeline(testPipeline("p"), 0)
	for i := range 3 * maxErrors {
		p.Failed("decode", -1, nil, 0, 1, errors.New(strings.Repeat("x", i)))
	}
	p.Failed("decode", -1, nil, 0, 1, errors.New(strings.Repeat("y", 2*maxErrorText)))
	errs := p.recentErrors()
	if len(errs) != maxErrors {
		t.Fatalf("kept %d errors, want %d", len(errs), maxErrors)
	}
	if len(errs[0].Error) > maxErrorText+len("…") || !strings.HasPrefix(errs[0].Error, "yyy") {
		t.Errorf("newest error first and shortened: %d chars", len(errs[0].Error))
	}
}

func TestNamesFromTheEnvironmentAreNotShown(t *testing.T) {
	cp := testPipeline("secret-name")
	cp.FromEnv = map[string]bool{"name": true, "input.group": true, "input.topic": true, "output.routes[0].topic": true, "errors.dead_letter_topic": true}
	o := New(Options{})
	p := o.AddPipeline(cp, 4)
	p.Out("out-de")
	st, err := o.Status(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ps := st.Pipelines[0]
	text := strings.Join([]string{ps.Name, ps.Input.Topic, ps.Input.Group, strings.Join(ps.Outputs, ","), ps.DeadLetterTopic}, " ")
	for _, secret := range []string{"secret-name", "orders", "out-de", "dlq"} {
		if strings.Contains(text, secret) {
			t.Errorf("status shows %q: %s", secret, text)
		}
	}
	if ps.Name != "pipelines[4]" || ps.Input.Topic != Redacted || ps.Outputs[0] != "out" {
		t.Errorf("status %+v", ps)
	}
	if v := testutil.ToFloat64(o.m.out.WithLabelValues("pipelines[4]", "pipelines[4].output.routes[0].topic")); v != 1 {
		t.Errorf("the route's records are counted under its placeholder: %g", v)
	}

	// Texts the runner did not write itself may name them too: a stall's
	// cause, a failed record's error, the error the pipeline stopped on.
	p.Stalled(3, 7, errors.New("its dead letter to dlq was refused"))
	p.Failed("publish", -1, nil, 3, 7, errors.New("writing out-de for secret-name-group: an output was refused (input orders)"))
	shown := p.readiness(time.Now()).Reason
	p.Stopped(errors.New("secret-name: reading orders failed"))
	st, err = o.Status(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	shown += " " + p.readiness(time.Now()).Reason + " " + string(js)
	for _, secret := range []string{"secret-name", "orders", "out-de", "dlq"} {
		if strings.Contains(shown, secret) {
			t.Errorf("%q is shown: %s", secret, shown)
		}
	}
	for _, want := range []string{"its dead letter to pipelines[4].errors.dead_letter_topic was refused", "(input (from environment))", "pipelines[4]: reading (from environment) failed"} {
		if !strings.Contains(shown, want) {
			t.Errorf("want %q in %s", want, shown)
		}
	}
}

// A hidden name is replaced where it stands as a name, not inside a longer
// one: a topic "in" leaves "input" and "in-2" alone.
func TestHiddenNamesWholeOnly(t *testing.T) {
	var h hiddenNames
	h.add("in", Redacted)
	h.add("in.dlq", "p.errors.dead_letter_topic")
	got := h.hide("input topic in failed; in-2, inin and in.dlq, to in")
	if want := "input topic (from environment) failed; in-2, inin and p.errors.dead_letter_topic, to (from environment)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestReadiness(t *testing.T) {
	now := time.Now()
	member := kadm.DescribedGroupMember{MemberID: "m-1", ClientID: "me"}
	other := kadm.DescribedGroupMember{MemberID: "m-2", ClientID: "someone-else"}
	for _, c := range []struct {
		name    string
		setup   func(o *Observer, p *Pipeline)
		state   string
		ready   bool
		because string
	}{
		{"not consuming", func(o *Observer, p *Pipeline) {}, StateStarting, false, "not consuming"},
		{"not polled", func(o *Observer, p *Pipeline) { p.handlerStarted.Store(true) }, StateJoining, false, "first check"},
		{"stable with this runner", func(o *Observer, p *Pipeline) {
			p.handlerStarted.Store(true)
			p.poll = pollState{polled: true, okAt: now, groupState: "Stable", joined: true}
		}, StateRunning, true, ""},
		{"broker down", func(o *Observer, p *Pipeline) {
			p.handlerStarted.Store(true)
			p.poll = pollState{polled: true, okAt: now.Add(-time.Minute), brokerErr: errors.New("dial tcp: connection refused")}
		}, StateBrokerUnreachable, false, "connection refused"},
		{"stale answer", func(o *Observer, p *Pipeline) {
			p.handlerStarted.Store(true)
			p.poll = pollState{polled: true, okAt: now.Add(-time.Hour), groupState: "Stable", joined: true}
		}, StateBrokerUnreachable, false, "no answer since"},
		{"rebalancing", func(o *Observer, p *Pipeline) {
			p.handlerStarted.Store(true)
			p.poll = pollState{polled: true, okAt: now, groupState: "PreparingRebalance", joined: true}
		}, StateRebalancing, false, "PreparingRebalance"},
		{"other members only", func(o *Observer, p *Pipeline) {
			p.handlerStarted.Store(true)
			p.poll = pollState{polled: true, okAt: now, groupState: "Stable", members: 1}
		}, StateJoining, false, "not a member"},
		{"dead-letter topic missing", func(o *Observer, p *Pipeline) {
			p.handlerStarted.Store(true)
			p.poll = pollState{polled: true, okAt: now, groupState: "Stable", joined: true, deadErr: errors.New("UNKNOWN_TOPIC_OR_PARTITION")}
		}, StateDeadLetterMissing, false, "dead-letter topic dlq"},
		{"stopped", func(o *Observer, p *Pipeline) {
			p.handlerStarted.Store(true)
			p.poll = pollState{polled: true, okAt: now, groupState: "Stable", joined: true}
			p.Stopped(errors.New("invalid JSON"))
		}, StateStopped, false, "stopped on an error: invalid JSON"},
		{"shutting down", func(o *Observer, p *Pipeline) {
			p.handlerStarted.Store(true)
			p.poll = pollState{polled: true, okAt: now, groupState: "Stable", joined: true}
			o.ShuttingDown()
		}, StateStopping, false, "shutting down"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := New(Options{ClientID: "me", PollInterval: time.Second})
			p := o.AddPipeline(testPipeline("p"), 0)
			c.setup(o, p)
			r := p.readiness(now)
			if r.State != c.state || r.Ready != c.ready || !strings.Contains(r.Reason, c.because) {
				t.Errorf("readiness %+v, want state %q ready %v reason containing %q", r, c.state, c.ready, c.because)
			}
			ready, all := o.Ready(now)
			if ready != c.ready || all["p"] != r {
				t.Errorf("Ready() = %v %+v", ready, all)
			}
		})
	}
	t.Run("members", func(t *testing.T) {
		o := New(Options{ClientID: "me"})
		p := o.AddPipeline(testPipeline("p"), 0)
		if found, _ := p.findMember([]kadm.DescribedGroupMember{other}); found {
			t.Error("another client's member taken for this runner")
		}
		if found, _ := p.findMember([]kadm.DescribedGroupMember{other, member}); !found {
			t.Error("member with the runner's client id not found")
		}
		p.Watch(make(chan struct{}), memberSub{"m-2"})
		if found, _ := p.findMember([]kadm.DescribedGroupMember{member}); found {
			t.Error("a subscriber that knows its member id must match it exactly")
		}
		if found, _ := p.findMember([]kadm.DescribedGroupMember{member, other}); !found {
			t.Error("member id not matched")
		}
		o.Close()
	})
}

type memberSub struct{ id string }

func (m memberSub) GroupMemberID() string { return m.id }

func TestHealth(t *testing.T) {
	o := New(Options{})
	p := o.AddPipeline(testPipeline("p"), 0)
	now := time.Now()
	if ok, why := o.Health(now); !ok {
		t.Fatalf("a fresh observer is healthy: %s", why)
	}
	if ok, why := o.Health(now.Add(time.Minute)); !ok {
		t.Errorf("before Start the heartbeat is not checked: %q", why)
	}
	o.ticking.Store(true)
	if ok, why := o.Health(now.Add(time.Minute)); ok || !strings.Contains(why, "heartbeat") {
		t.Errorf("stalled heartbeat: %v %q", ok, why)
	}
	p.Begin()
	o.heartbeat.Store(now.Add(time.Hour).UnixNano())
	if ok, why := o.Health(now.Add(time.Hour)); ok || !strings.Contains(why, "in flight") {
		t.Errorf("a record stuck for an hour: %v %q", ok, why)
	}
	p.Begin()
	p.End(true) // one of two finished: the other is not stuck for now
	if ok, why := o.Health(now.Add(time.Hour)); !ok {
		t.Errorf("a record finished since the last check: %q", why)
	}
	o.heartbeat.Store(now.Add(2 * time.Hour).UnixNano())
	if ok, why := o.Health(now.Add(2 * time.Hour)); ok || !strings.Contains(why, "in flight for 1h0m0s") {
		t.Errorf("an hour after the last record finished: %v %q", ok, why)
	}
	p.End(true)
	if ok, why := o.Health(now.Add(2 * time.Hour)); !ok {
		t.Errorf("nothing in flight: %q", why)
	}
}

func TestTraceparent(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tp := NewTraceparent()
		if !ValidTraceparent(tp) || len(tp) != 55 || !strings.HasPrefix(tp, "00-") || !strings.HasSuffix(tp, "-01") {
			t.Fatalf("NewTraceparent() = %q", tp)
		}
		if seen[tp] {
			t.Fatalf("repeated traceparent %q", tp)
		}
		seen[tp] = true
	}
	for tp, want := range map[string]bool{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":       true,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00":       true,
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra": true, // a later version may add fields
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra": false,
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":       false,
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01":       false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01":       false,
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01":       false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7":          false,
		"":            false,
		"not a trace": false,
		"00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01":        false,
		"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01":        false,
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01xextra0": false,
	} {
		if got := ValidTraceparent(tp); got != want {
			t.Errorf("ValidTraceparent(%q) = %v, want %v", tp, got, want)
		}
	}
}

func TestQuantile(t *testing.T) {
	// 10 observations: 4 at most 1, 10 at most 2.
	cum := map[float64]uint64{1: 4, 2: 10, math.Inf(1): 10}
	if q := quantile(0.5, cum, 10); math.Abs(q-(1+1.0/6)) > 1e-9 {
		t.Errorf("p50 = %g", q)
	}
	if q := quantile(0.2, cum, 10); math.Abs(q-0.5) > 1e-9 {
		t.Errorf("p20 = %g", q)
	}
	// Beyond the last finite bucket: its upper bound.
	if q := quantile(0.99, map[float64]uint64{1: 1, math.Inf(1): 10}, 10); q != 1 {
		t.Errorf("p99 in +Inf = %g", q)
	}
}

// Nil handles are no-ops, so that a runner without observer pays nothing.
func TestNilPipelineHooks(t *testing.T) {
	var p *Pipeline
	p.Begin()
	p.End(true)
	p.Filtered()
	p.Out("t")
	p.Delivered(time.Now())
	p.DeadLettered()
	p.Failed("x", 0, nil, 0, 0, errors.New("e"))
	p.Stopped(errors.New("e"))
	p.Watch(nil, nil)
	if p.StepObserver() != nil {
		t.Error("nil pipeline returns a step observer")
	}
	var o *Observer
	if o.Pipeline("p") != nil {
		t.Error("nil observer returns a pipeline")
	}
	o.ShuttingDown()
	o.Close()
}

// A pipeline routing to many topics (output.allowed_topics patterns) names
// at most maxTopicLabels of them in its metrics; the rest are counted
// under OtherTopics, so that data cannot grow the series without bound.
func TestOutputTopicLabelsBounded(t *testing.T) {
	o := New(Options{})
	p := o.AddPipeline(testPipeline("fan"), 0)
	for i := range 300 {
		p.Out(fmt.Sprintf("r-%d", i))
	}
	p.Out("r-0")
	// out and out-de, the configured outputs, are always named.
	if got := testutil.CollectAndCount(o.m.out); got != 2+maxTopicLabels+1 {
		t.Errorf("%d output series, want %d", got, 2+maxTopicLabels+1)
	}
	if got := testutil.ToFloat64(o.m.out.WithLabelValues("fan", OtherTopics)); got != 200 {
		t.Errorf("(other) counted %v, want 200", got)
	}
	if got := testutil.ToFloat64(o.m.out.WithLabelValues("fan", "r-0")); got != 2 {
		t.Errorf("r-0 counted %v, want 2", got)
	}
}
