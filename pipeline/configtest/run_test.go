package configtest_test

import (
	"testing"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/configtest"
)

// Each case runs on parts built for it alone. When the cases shared the
// config's transform instances, a dedupe step remembered the keys of the
// cases before: the second case passed alone and failed after the first
// ("unique[1]: expected a record, got none").
const dedupeConfig = `version: 1
pipelines:
  - name: events
    input: {topic: events}
    transforms:
      - dedupe: {key: id}
    output: {topic: unique}
tests:
  - name: a key passes once
    input:
      - value: {id: a}
      - value: {id: a}
    expect:
      unique:
        - json_equals: {id: a}
  - name: the same key in another case
    input:
      - value: {id: b}
      - value: {id: a}
    expect:
      unique:
        - json_equals: {id: b}
        - json_equals: {id: a}
`

func TestCasesDoNotShareState(t *testing.T) {
	cfg, err := config.Parse("dedupe.yaml", []byte(dedupeConfig), config.Options{})
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
