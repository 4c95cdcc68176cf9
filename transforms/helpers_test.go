package transforms_test

import (
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	// The chain tests use built-ins as ordinary steps.
	_ "github.com/millrace-dev/millrace/transforms/builtin"
	"github.com/millrace-dev/millrace/transforms/expression"
	"github.com/millrace-dev/millrace/transforms/transformstest"
)

// buildChain builds YAML steps with reg; they must build.
func buildChain(t testing.TB, reg *transforms.Registry, steps string) *transforms.Chain {
	t.Helper()
	return transformstest.Env{Registry: reg, Exprs: expression.Compiler{}}.MustChain(t, steps)
}

// tryBuild builds YAML steps with reg and returns their errors as one error.
func tryBuild(reg *transforms.Registry, steps string) (*transforms.Chain, error) {
	return transformstest.Env{Registry: reg, Exprs: expression.Compiler{}}.Chain(steps)
}

var record = transformstest.Record

// runJSON runs the chain over a JSON value and returns the outputs as JSON.
func runJSON(t testing.TB, chain *transforms.Chain, js string) ([]string, error) {
	t.Helper()
	return transformstest.Run(t, chain, record(t, js))
}
