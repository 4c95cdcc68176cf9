package currency_test

import (
	"os/exec"
	"strings"
	"testing"
)

// A custom transform that imports only the SDK, and the helpers its tests
// use, build without the expression language, jq or a JSON Schema
// validator: those come with the built-ins, which a program gets from
// pipeline/config.
func TestSDKPullsNoEvaluators(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go tool is not installed")
	}
	out, err := exec.Command("go", "list", "-deps", ".", "github.com/millrace-dev/millrace/transforms/transformstest").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed nothing")
	}
	for _, dep := range deps {
		for _, banned := range []string{
			"github.com/itchyny/gojq",
			"github.com/expr-lang/expr",
			"github.com/santhosh-tekuri/jsonschema",
			"github.com/millrace-dev/millrace/transforms/builtin",
			"github.com/millrace-dev/millrace/transforms/expression",
		} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("the currency transform depends on %s", dep)
			}
		}
	}
}
