package builtin_test

import (
	"os"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	_ "github.com/millrace-dev/millrace/transforms/builtin"
	"github.com/millrace-dev/millrace/transforms/expression"
	"github.com/millrace-dev/millrace/transforms/transformstest"
)

// env builds the built-ins' steps with the expression language; importing
// package builtin registered them in transforms.Default.
var env = transformstest.Env{Exprs: expression.Compiler{}}

// buildChain builds YAML steps that must build.
func buildChain(t testing.TB, steps string) *transforms.Chain {
	t.Helper()
	return env.MustChain(t, steps)
}

// tryBuild builds YAML steps and returns their config errors as one error.
func tryBuild(steps string) (*transforms.Chain, error) { return env.Chain(steps) }

// tryBuildWithEnv is tryBuild with ${VAR} expanded from the environment.
func tryBuildWithEnv(steps string) (*transforms.Chain, error) {
	e := env
	e.LookupEnv = os.LookupEnv
	return e.Chain(steps)
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
			chain := buildChain(t, tc.steps)
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

type configCase struct {
	steps string
	want  string // the full error text
}

// configErrors builds each case's steps and checks the error text, which
// carries the position of each mistake.
func configErrors(t *testing.T, cases []configCase) {
	t.Helper()
	for _, tc := range cases {
		_, err := tryBuild(tc.steps)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.steps, err, tc.want)
		}
	}
}

// runOne builds steps and runs one record through them.
func runOne(t *testing.T, steps string, r *transforms.Record) []*transforms.Record {
	t.Helper()
	outs, err := buildChain(t, steps).Run(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return outs
}
