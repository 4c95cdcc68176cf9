package configtest

import "testing"

// A failing json_equals shows JSON lines: what was wanted with "-", what
// came with "+", the lines around them, no Go map syntax.
func TestJSONDiff(t *testing.T) {
	want := map[string]any{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "ip": "10.1.2.x", "z": map[string]any{"k": true}}
	got := map[string]any{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "ip": "10.1.2.0", "z": map[string]any{"k": true}, "zz": nil}
	const wantDiff = `  ...
    "d": 4
    "e": 5
-   "ip": "10.1.2.x"
+   "ip": "10.1.2.0"
    "z": {
      "k": true
    }
+   "zz": null
  }`
	if d := jsonDiff(want, got); d != wantDiff {
		t.Errorf("diff:\n%s\nwant:\n%s", d, wantDiff)
	}
	if d := jsonDiff(map[string]any{"a": int64(1)}, map[string]any{"a": 1.0}); d != `- map[string]interface {}{"a":1}`+"\n"+`+ map[string]interface {}{"a":1}` {
		t.Errorf("the same JSON of other types: %q", d)
	}
}
