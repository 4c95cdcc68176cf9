package transforms_test

import (
	"fmt"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
)

func show(h transforms.Headers) string {
	s := ""
	for _, x := range h {
		s += fmt.Sprintf("%s=%s ", x.Key, x.Value)
	}
	return s
}

func TestHeadersKeepOrderAndRepeats(t *testing.T) {
	h := transforms.HeadersOf("dup", "1", "a", "x", "dup", "2")
	if v, _ := h.Get("dup"); v != "2" {
		t.Errorf("Get returns the last value: got %q", v)
	}
	if got := show(h.Clone()); got != "dup=1 a=x dup=2 " {
		t.Errorf("Clone = %s", got)
	}
	h.Set("dup", "3")
	if got := show(h); got != "dup=3 a=x " {
		t.Errorf("Set keeps the first place and drops the repeats: %s", got)
	}
	h.Set("new", "n")
	h.Add("a", "y")
	if got := show(h); got != "dup=3 a=x new=n a=y " {
		t.Errorf("Set appends a new key, Add keeps repeats: %s", got)
	}
	h.Del("a")
	if got := show(h); got != "dup=3 new=n " || h.Has("a") {
		t.Errorf("Del removes every header with the key: %s", got)
	}
}

func TestHeadersCloneIsIndependent(t *testing.T) {
	h := transforms.HeadersOf("k", "v", "k", "w")
	c := h.Clone()
	c.Set("k", "changed")
	if got := show(h); got != "k=v k=w " {
		t.Errorf("changing a clone changed the original: %s", got)
	}
}
