package configtest_test

import (
	"testing"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/configtest"
)

// Each case runs on parts built for it alone. When the cases shared the
// config's transform instances, the dedupe step of testdata/dedupe.yaml
// remembered the keys of the cases before: its second case passed alone
// and failed after the first ("unique[1]: expected a record, got none").
func TestCasesDoNotShareState(t *testing.T) {
	cfg, err := config.Load("testdata/dedupe.yaml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := config.LoadTests(cfg, nil)
	if err != nil || len(cases) != 2 {
		t.Fatalf("LoadTests: %d cases, %v", len(cases), err)
	}
	for _, order := range [][]*config.TestCase{cases, {cases[1], cases[0]}, {cases[0]}, {cases[1]}} {
		for i, res := range configtest.Run(cfg, order) {
			if !res.Passed {
				t.Errorf("%q, case %d of %d: %v", res.Name, i+1, len(order), res.Failures)
			}
		}
	}
}
