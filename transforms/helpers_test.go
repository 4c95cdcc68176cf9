package transforms_test

import (
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	// The chain tests use built-ins as ordinary steps.
	_ "github.com/millrace-dev/millrace/transforms/builtin"
	"github.com/millrace-dev/millrace/transforms/transformstest"
)

// buildChain builds YAML steps with reg; they must build.
func buildChain(t testing.TB, reg *transforms.Registry, steps string) *transforms.Chain {
	t.Helper()
	return transformstest.Env{Registry: reg}.MustChain(t, steps)
}

// tryBuild builds YAML steps with reg and returns their errors as one error.
func tryBuild(reg *transforms.Registry, steps string) (*transforms.Chain, error) {
	return transformstest.Env{Registry: reg}.Chain(steps)
}

var record = transformstest.Record

// runJSON runs the chain over a JSON value and returns the outputs as JSON.
func runJSON(t testing.TB, chain *transforms.Chain, js string) ([]string, error) {
	t.Helper()
	return transformstest.Run(t, chain, record(t, js))
}

type runCase struct {
	name  string
	steps string
	in    string
	want  []string // JSON outputs; empty: dropped
	err   string   // the full error text, when the run must fail
}

func runCases(t *testing.T, cases []runCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chain := buildChain(t, transforms.Default, tc.steps)
			got, err := runJSON(t, chain, tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got %q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("output %d = %s, want %s", i, got[i], tc.want[i])
				}
			}
		})
	}
}
