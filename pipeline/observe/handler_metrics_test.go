package observe

import (
	"errors"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// HandlerMetrics observes Watermill's handler metric by the pipeline's
// shown label and the outcome, one observation per message.
func TestHandlerMetrics(t *testing.T) {
	o := New(Options{})
	cp := testPipeline("secret-name")
	cp.FromEnv = map[string]bool{"name": true}
	o.AddPipeline(cp, 0)
	mw := o.HandlerMetrics("secret-name")
	fail := false
	h := mw(func(*message.Message) ([]*message.Message, error) {
		if fail {
			return nil, errors.New("boom")
		}
		return nil, nil
	})
	for i := range 5 {
		fail = i == 4
		h(message.NewMessage("1", nil))
	}
	vec := o.handlerTimes()
	if n := testutil.CollectAndCount(vec); n != 2 {
		t.Fatalf("%d series, want one per outcome", n)
	}
	for _, c := range []struct {
		success string
		want    uint64
	}{{"true", 4}, {"false", 1}} {
		got := histogramCount(t, vec.WithLabelValues("pipelines[0]", c.success))
		if got != c.want {
			t.Errorf("success=%s: %d observations, want %d", c.success, got, c.want)
		}
	}
}

// Watermill's router middleware and HandlerMetrics observe into one
// collector, whichever registers first: a process may run both adapters,
// and a change of Watermill's metric would make the second registration
// fail.
func TestHandlerMetricsBesideWatermills(t *testing.T) {
	handle := func(*message.Message) ([]*message.Message, error) { return nil, nil }
	for _, routerFirst := range []bool{false, true} {
		o := New(Options{})
		o.AddPipeline(testPipeline("p"), 0)
		var ours, theirs message.HandlerMiddleware
		if routerFirst {
			theirs = o.watermillMetrics().NewRouterMiddleware().Middleware // as InstrumentRouter
			ours = o.HandlerMetrics("p")
		} else {
			ours = o.HandlerMetrics("p")
			theirs = o.watermillMetrics().NewRouterMiddleware().Middleware
		}
		ours(handle)(message.NewMessage("1", nil))
		theirs(handle)(message.NewMessage("2", nil)) // no router: "<no handler>"
		vec := o.handlerTimes()
		for _, name := range []string{"p", "<no handler>"} {
			if n := histogramCount(t, vec.WithLabelValues(name, "true")); n != 1 {
				t.Errorf("router first %v: %d observations of %s in the shared collector, want 1", routerFirst, n, name)
			}
		}
	}
}

// histogramCount is the number of observations of one histogram.
func histogramCount(t *testing.T, o prometheus.Observer) uint64 {
	t.Helper()
	var m dto.Metric
	if err := o.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}
