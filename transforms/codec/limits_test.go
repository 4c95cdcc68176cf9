package codec

import (
	"strings"
	"testing"
)

// Depth counts nesting as the decoder's limit does: a document Decode
// accepts has Depth ≤ MaxDepth, and one level more is refused.
func TestDepth(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want int
	}{{`1`, 0}, {`{}`, 1}, {`[]`, 1}, {`{"a":[1,{"b":{}}],"c":2}`, 4}, {`[[],[[[]]],{}]`, 4}} {
		v, err := Decode([]byte(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := Depth(v); got != c.want {
			t.Errorf("Depth(%s) = %d, want %d", c.doc, got, c.want)
		}
	}
	deepest := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	v, err := Decode([]byte(deepest))
	if err != nil {
		t.Fatalf("MaxDepth levels: %v", err)
	}
	if got := Depth(v); got != MaxDepth {
		t.Errorf("Depth = %d, want %d", got, MaxDepth)
	}
	if _, err := Decode([]byte("[" + deepest + "]")); err == nil {
		t.Errorf("MaxDepth+1 levels decoded")
	}
	if got := Depth([]any{v}); got != MaxDepth+1 {
		t.Errorf("Depth one level deeper = %d", got)
	}
}
