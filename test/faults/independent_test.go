package faults

import (
	"os/exec"
	"strings"
	"testing"
)

// The verifier and the scenarios must not share code with what they
// check: neither imports a Millrace package (the verifier is built on
// franz-go and the standard library alone).
func TestIndependentVerifier(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-deps", "-f", "{{.ImportPath}}", ".", "./verify").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/millrace-dev/millrace") && !strings.HasPrefix(p, "github.com/millrace-dev/millrace/test/faults") {
			t.Errorf("the fault matrix depends on %s", p)
		}
	}
}
