package builtin_test

import (
	"reflect"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// Importing the package registers every built-in in transforms.Default.
func TestRegistered(t *testing.T) {
	want := []string{"cast", "dedupe", "drop", "extract", "filter", "flatten", "hash", "headers", "hoist", "jq",
		"keep", "key", "mask", "rename", "route", "set", "split", "timestamp", "unflatten", "validate"}
	if got := transforms.Default.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default.Names() = %q", got)
	}
	reg, ok := transforms.Default.Lookup("filter")
	if !ok || reg.Spec.Name != "filter" || reg.New == nil || reg.Spec.Config.Kind != spec.TExpr {
		t.Errorf("Lookup(filter) = %+v, %v", reg, ok)
	}
}

// Every example in every spec is executed: the docs cannot show an example
// that does not work.
func TestSpecExamples(t *testing.T) {
	for _, name := range transforms.Default.Names() {
		t.Run(name, func(t *testing.T) { env.Examples(t, name) })
	}
}
