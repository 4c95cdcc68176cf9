package replay

import (
	"bytes"
	"strings"
	"testing"
)

// A dry run says each failure once: on the step that failed, without the
// step again in front; the dead-letter line points to it. A failure
// outside the chain (a value that is not JSON) is said on the dead-letter
// line.
func TestPreviewSaysEachFailureOnce(t *testing.T) {
	const msg = `expression "amount > 0": invalid operation: string > int (column 8)`
	var w bytes.Buffer
	WritePreviews(&w, []Preview{
		{Partition: 0, Offset: 3, Value: `{"amount":"ten"}`, DeadLetter: "step 0 (filter): " + msg,
			Steps: []PreviewStep{{Index: 0, Name: "filter", Error: "step 0 (filter): " + msg}}},
		{Partition: 0, Offset: 4, Value: `not json`, DeadLetter: "decode: invalid JSON"},
	})
	out := w.String()
	if n := strings.Count(out, msg); n != 1 {
		t.Errorf("the failure is said %d times:\n%s", n, out)
	}
	for _, want := range []string{"  step 0 filter: fails: " + msg + "\n  → dead-letter topic\n", "  → dead-letter topic: decode: invalid JSON\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
