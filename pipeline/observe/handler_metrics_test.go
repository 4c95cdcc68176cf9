package observe

import (
	"errors"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
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

// Watermill's router middleware and HandlerMetrics share one collector,
// whichever registers first: a process may run both adapters, and a
// change of Watermill's metric would make the second registration fail.
func TestHandlerMetricsBesideWatermills(t *testing.T) {
	for _, routerFirst := range []bool{false, true} {
		o := New(Options{})
		o.AddPipeline(testPipeline("p"), 0)
		r, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		if routerFirst {
			o.InstrumentRouter(r)
			o.HandlerMetrics("p")
		} else {
			o.HandlerMetrics("p")
			o.InstrumentRouter(r)
		}
		fams, err := o.std.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range fams {
			if f.GetName() == "watermill_handler_execution_time_seconds" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("router first %v: %d handler time families, want 1", routerFirst, n)
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
