package observe

import (
	"context"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/transforms"
)

// BenchmarkRecordHooks is what watching costs one record of a four-step
// chain whose steps do nothing: the pipeline's hooks and the chain's step
// timing, from parallel workers as in `run`.
func BenchmarkRecordHooks(b *testing.B) {
	cp := testPipeline("bench")
	chain := &transforms.Chain{}
	pass := transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) { return r.One(), nil })
	for i, name := range []string{"a", "b", "c", "d"} {
		cp.Steps = append(cp.Steps[:i], config.Step{Name: name, Index: i})
		chain.Steps = append(chain.Steps, &transforms.Step{Name: name, Index: i, Transform: pass})
	}
	p := New(Options{}).AddPipeline(cp, 0)
	chain.Observe, chain.TimeOneIn = p.StepObserver(), StepTimeOneIn // as the engine sets them
	ts := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rec := &transforms.Record{Value: map[string]any{}}
		for pb.Next() {
			p.Begin()
			if _, err := chain.Run(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
			p.Out("out")
			p.Delivered(ts)
			p.End(true)
		}
	})
}
