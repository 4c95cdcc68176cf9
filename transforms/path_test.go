package transforms_test

import (
	"errors"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
)

func TestPathHelpers(t *testing.T) {
	obj := map[string]any{"a": map[string]any{"b": 1}, "s": "x"}
	if v, ok := transforms.Get(obj, "a.b"); !ok || v != 1 {
		t.Errorf("Get(a.b) = %v, %v", v, ok)
	}
	if v, ok := transforms.Get(obj, "s.x"); ok || v != nil {
		t.Errorf("Get through a string = %v, %v", v, ok)
	}
	if _, ok := transforms.Get(obj, "a.c"); ok {
		t.Error("Get(a.c) found a missing field")
	}
	err := transforms.Set(obj, "s.x", 1)
	var pe *transforms.PathError
	if !errors.As(err, &pe) || pe.Path != "s" || err.Error() != "field s is not an object" {
		t.Errorf("Set through a string: %v", err)
	}
	if v, ok := transforms.Delete(obj, "a.b"); !ok || v != 1 {
		t.Errorf("Delete(a.b) = %v, %v", v, ok)
	}
	if _, ok := transforms.Delete(obj, "a.b"); ok {
		t.Error("second Delete found the field")
	}
	if _, ok := transforms.Delete(obj, "s.x"); ok {
		t.Error("Delete through a string found a field")
	}
}
