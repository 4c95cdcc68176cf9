package transforms_test

import (
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// buildChain builds a chain from a YAML list of steps with reg.
func buildChain(t testing.TB, reg *transforms.Registry, steps string) *transforms.Chain {
	t.Helper()
	chain, err := tryBuild(reg, steps)
	if err != nil {
		t.Fatalf("BuildChain:\n%v", err)
	}
	return chain
}

// tryBuild builds a chain and returns its errors as one error.
func tryBuild(reg *transforms.Registry, steps string) (*transforms.Chain, error) {
	v, errs := spec.ParseYAML("steps.yaml", []byte(steps), nil)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	chain, errs := transforms.BuildChain(reg, v, "test")
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return chain, nil
}

func record(t testing.TB, js string) *transforms.Record {
	t.Helper()
	v, err := codec.Decode([]byte(js))
	if err != nil {
		t.Fatalf("Decode(%s): %v", js, err)
	}
	return &transforms.Record{Value: v}
}

// runJSON runs the chain over a JSON value and returns the outputs as JSON.
func runJSON(t testing.TB, chain *transforms.Chain, js string) ([]string, error) {
	t.Helper()
	outs, err := chain.Run(t.Context(), record(t, js))
	if err != nil {
		return nil, err
	}
	res := []string{}
	for _, o := range outs {
		b, err := codec.Encode(o.Value)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		res = append(res, string(b))
	}
	return res, nil
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
