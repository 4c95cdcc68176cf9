package builtin_test

import (
	"testing"

	"github.com/millrace-dev/millrace/transforms/codec"
)

func TestSplit(t *testing.T) {
	runCases(t, []runCase{
		{name: "replace the list", steps: `- split: l`, in: `{"id":1,"l":[1,"a",null,{"b":2}]}`,
			want: []string{`{"id":1,"l":1}`, `{"id":1,"l":"a"}`, `{"id":1,"l":null}`, `{"id":1,"l":{"b":2}}`}},
		{name: "one element", steps: `- split: l`, in: `{"l":[1]}`, want: []string{`{"l":1}`}},
		{name: "nested list to a top field", steps: `- split: {field: o.items, to: item, index: i}`, in: `{"o":{"items":["x","y"],"n":1}}`,
			want: []string{`{"i":0,"item":"x","o":{"n":1}}`, `{"i":1,"item":"y","o":{"n":1}}`}},
		{name: "into a nested path", steps: `- split: {field: l, to: e.v}`, in: `{"l":[1,2]}`, want: []string{`{"e":{"v":1}}`, `{"e":{"v":2}}`}},
		{name: "then each element as the value", steps: "- split: l\n- extract: l", in: `{"l":[{"a":1},{"a":2}]}`,
			want: []string{`{"a":1}`, `{"a":2}`}},
		{name: "nested lists stay", steps: `- split: l`, in: `{"l":[[1,2],[3]]}`, want: []string{`{"l":[1,2]}`, `{"l":[3]}`}},
		{name: "later steps run on each", steps: "- split: l\n- filter: 'l > 1'\n- set: {d: 'l * 2'}", in: `{"l":[1,2,3]}`,
			want: []string{`{"d":4,"l":2}`, `{"d":6,"l":3}`}},
		{name: "empty list", steps: `- split: l`, in: `{"l":[]}`},
		{name: "missing", steps: `- split: l`, in: `{}`, err: `step 0 (split): field l is missing`},
		{name: "null", steps: `- split: l`, in: `{"l":null}`, err: `step 0 (split): field l is null, not a list`},
		{name: "object", steps: `- split: l`, in: `{"l":{"a":1}}`, err: `step 0 (split): field l is an object, not a list`},
		{name: "target through a scalar", steps: `- split: {field: l, to: id.x}`, in: `{"id":1,"l":[1]}`, err: `step 0 (split): field id is not an object`},
		{name: "not an object", steps: `- split: l`, in: `[1]`, err: `step 0 (split): record value is not a JSON object`},
	})
}

// Outputs are independent records: changing one changes no other, and each
// keeps the key, headers and timestamp.
func TestSplitCopies(t *testing.T) {
	r := record(t, `{"id":{"n":1},"l":[{"a":1},{"a":2},{"a":3}]}`)
	r.Key = []byte("k")
	r.Headers.Set("h", "v")
	outs := runOne(t, "- split: l", r)
	if len(outs) != 3 {
		t.Fatalf("got %d outputs", len(outs))
	}
	outs[0].Value.(map[string]any)["id"].(map[string]any)["n"] = 9
	outs[0].Key[0] = 'x'
	outs[0].Headers.Set("h", "changed")
	for _, o := range outs[1:] {
		b, _ := codec.Encode(o.Value.(map[string]any)["id"])
		if string(b) != `{"n":1}` || string(o.Key) != "k" || o.Headers.Map()["h"] != "v" {
			t.Errorf("output shares state: %s %q %v", b, o.Key, o.Headers)
		}
	}
}

func TestSplitConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- split: {to: x}`, "steps.yaml:1:10: missing required key \"field\" (add field: items)"},
		{`- split: [l]`, "steps.yaml:1:10: expected a string or a mapping, got a list"},
		{`- split: {field: l, as: x}`, `steps.yaml:1:21: unknown key "as" (allowed keys: field, to, index)`},
	})
}
