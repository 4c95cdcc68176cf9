package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// Preview is what a dry run shows of one record: the record after each
// transform step, as a diff against the step before, and where the outputs
// would go.
type Preview struct {
	Partition int32         `json:"partition"`
	Offset    int64         `json:"offset"`
	Key       *string       `json:"key"`
	Value     string        `json:"value"`
	Steps     []PreviewStep `json:"steps"`
	Outputs   []PreviewOut  `json:"outputs"`
	// DeadLetter is why the record would go to the dead-letter topic.
	DeadLetter string `json:"dead_letter,omitempty"`
}

// PreviewStep is one transform step applied to the records it received.
type PreviewStep struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	// Records is how many records left the step.
	Records int `json:"records"`
	// Changes are diff lines: "+ path: value" added, "- path: value"
	// removed, "~ path: old → new" changed; with a split, each output's
	// lines follow a "record N:" line.
	Changes []string `json:"changes"`
	Error   string   `json:"error,omitempty"`
}

// PreviewOut is one output record of a previewed input.
type PreviewOut struct {
	Topic string  `json:"topic"`
	Key   *string `json:"key"`
	Value string  `json:"value"`
}

// previewer runs the first records of a dry run through the chain one step
// at a time. It uses parts of its own, so that transforms with state, such
// as dedupe, do not see records twice.
type previewer struct {
	p       *config.Pipeline
	parts   *config.Parts
	toTopic string
	max     int

	mu   sync.Mutex
	seen int
	out  []Preview
}

// take previews in if fewer than max records were previewed.
func (v *previewer) take(in *engine.Record) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen >= v.max {
		return
	}
	v.seen++
	v.out = append(v.out, v.preview(in))
}

func (v *previewer) previews() []Preview {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.out)
}

func (v *previewer) preview(in *engine.Record) Preview {
	pv := Preview{Value: string(in.Value), Steps: []PreviewStep{}, Outputs: []PreviewOut{}, Partition: in.Partition, Offset: in.Offset}
	if in.Key != nil {
		k := string(in.Key)
		pv.Key = &k
	}
	rec, err := engine.Input(in)
	if err != nil {
		pv.DeadLetter = "decode: " + err.Error()
		return pv
	}
	ctx, cancel := context.WithTimeout(context.Background(), v.p.Timeout)
	defer cancel()
	recs := []*transforms.Record{rec}
	for _, s := range v.parts.Chain.Steps {
		step := PreviewStep{Index: s.Index, Name: s.Name, Changes: []string{}}
		one := &transforms.Chain{Steps: []*transforms.Step{s}}
		var next []*transforms.Record
		for _, in := range recs {
			before := in.Clone()
			outs, err := one.Run(ctx, in)
			if err != nil {
				step.Error = err.Error()
				pv.Steps = append(pv.Steps, step)
				pv.DeadLetter = err.Error()
				return pv
			}
			switch {
			case len(outs) == 0:
				step.Changes = append(step.Changes, "dropped")
			case len(outs) == 1:
				step.Changes = append(step.Changes, diff(before, outs[0])...)
			default:
				step.Changes = append(step.Changes, fmt.Sprintf("split into %d records", len(outs)))
				for i, o := range outs {
					step.Changes = append(step.Changes, fmt.Sprintf("record %d:", i))
					for _, l := range diff(before, o) {
						step.Changes = append(step.Changes, "  "+l)
					}
				}
			}
			next = append(next, outs...)
		}
		step.Records = len(next)
		pv.Steps = append(pv.Steps, step)
		recs = next
		if len(recs) == 0 {
			return pv
		}
	}
	for _, r := range recs {
		topic, err := v.parts.Destination(r)
		if err != nil {
			pv.DeadLetter = "output route: " + err.Error()
			pv.Outputs = pv.Outputs[:0]
			return pv
		}
		if v.toTopic != "" {
			topic = v.toTopic
		}
		val, err := codec.Encode(r.Value)
		if err != nil {
			pv.DeadLetter = "encode: " + err.Error()
			pv.Outputs = pv.Outputs[:0]
			return pv
		}
		o := PreviewOut{Topic: topic, Value: string(val)}
		if r.Key != nil {
			k := string(r.Key)
			o.Key = &k
		}
		pv.Outputs = append(pv.Outputs, o)
	}
	return pv
}

// diff lists what changed from a to b: value fields by path, then key,
// headers, timestamp and topic.
func diff(a, b *transforms.Record) []string {
	var out []string
	fa, fb := map[string]string{}, map[string]string{}
	flatten("", a.Value, fa)
	flatten("", b.Value, fb)
	for _, k := range slices.Sorted(maps.Keys(union(fa, fb))) {
		va, ina := fa[k]
		vb, inb := fb[k]
		switch {
		case ina && !inb:
			out = append(out, fmt.Sprintf("- %s: %s", k, va))
		case !ina && inb:
			out = append(out, fmt.Sprintf("+ %s: %s", k, vb))
		case va != vb:
			out = append(out, fmt.Sprintf("~ %s: %s → %s", k, va, vb))
		}
	}
	if (a.Key == nil) != (b.Key == nil) || string(a.Key) != string(b.Key) {
		out = append(out, fmt.Sprintf("~ key: %s → %s", showKey(a.Key), showKey(b.Key)))
	}
	ha, hb := a.Headers.Map(), b.Headers.Map()
	for _, k := range slices.Sorted(maps.Keys(union(ha, hb))) {
		va, ina := ha[k]
		vb, inb := hb[k]
		switch {
		case ina && !inb:
			out = append(out, fmt.Sprintf("- header %s: %q", k, va))
		case !ina && inb:
			out = append(out, fmt.Sprintf("+ header %s: %q", k, vb))
		case va != vb:
			out = append(out, fmt.Sprintf("~ header %s: %q → %q", k, va, vb))
		}
	}
	if !a.Timestamp.Equal(b.Timestamp) {
		out = append(out, fmt.Sprintf("~ timestamp: %s → %s", showTime(a.Timestamp), showTime(b.Timestamp)))
	}
	if a.Topic != b.Topic {
		out = append(out, fmt.Sprintf("~ topic: %q → %q", a.Topic, b.Topic))
	}
	if len(out) == 0 {
		out = append(out, "unchanged")
	}
	return out
}

// flatten maps each leaf of a JSON value to its JSON text, by path
// (a.b, a[0]). Empty objects and arrays are leaves.
func flatten(path string, v any, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 && path != "" {
			out[path] = "{}"
		}
		for k, x := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flatten(p, x, out)
		}
	case []any:
		if len(v) == 0 {
			out[path] = "[]"
		}
		for i, x := range v {
			flatten(fmt.Sprintf("%s[%d]", path, i), x, out)
		}
	default:
		b, err := codec.Encode(v)
		if err != nil {
			b, _ = json.Marshal(fmt.Sprint(v))
		}
		if path == "" {
			path = "(value)"
		}
		out[path] = string(b)
	}
}

func union[V any](a, b map[string]V) map[string]bool {
	u := make(map[string]bool, len(a)+len(b))
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

func showKey(k []byte) string {
	if k == nil {
		return "(none)"
	}
	return strconv.Quote(string(k))
}

func showTime(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// WritePreviews prints previews as text.
func WritePreviews(w io.Writer, ps []Preview) {
	for _, p := range ps {
		key := "(none)"
		if p.Key != nil {
			key = strconv.Quote(*p.Key)
		}
		fmt.Fprintf(w, "record partition %d offset %d, key %s\n", p.Partition, p.Offset, key)
		fmt.Fprintf(w, "  input   %s\n", p.Value)
		failedStep := false
		for _, s := range p.Steps {
			fmt.Fprintf(w, "  step %d %s:", s.Index, s.Name)
			if s.Error != "" {
				// Each failure once: the step says it, without the step
				// again in front, and the dead-letter line points to it.
				failedStep = true
				fmt.Fprintf(w, " fails: %s\n", strings.TrimPrefix(s.Error, fmt.Sprintf("step %d (%s): ", s.Index, s.Name)))
				continue
			}
			if len(s.Changes) == 1 && !strings.HasPrefix(s.Changes[0], "split") {
				fmt.Fprintf(w, " %s\n", s.Changes[0])
				continue
			}
			fmt.Fprintln(w)
			for _, c := range s.Changes {
				fmt.Fprintf(w, "      %s\n", c)
			}
		}
		switch {
		case p.DeadLetter != "" && failedStep:
			fmt.Fprintln(w, "  → dead-letter topic")
		case p.DeadLetter != "":
			fmt.Fprintf(w, "  → dead-letter topic: %s\n", p.DeadLetter)
		case len(p.Outputs) == 0:
			fmt.Fprintln(w, "  → filtered: no output")
		}
		for _, o := range p.Outputs {
			k := ""
			if o.Key != nil {
				k = " key " + strconv.Quote(*o.Key)
			}
			fmt.Fprintf(w, "  → %s%s %s\n", o.Topic, k, o.Value)
		}
		fmt.Fprintln(w)
	}
}
