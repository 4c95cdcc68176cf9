package currency_test

import (
	"context"
	"strings"
	"testing"

	"github.com/millrace-dev/millrace/examples/custom-transform/currency"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/transformstest"
)

// registry holds convert_currency alone: its tests need no other transform.
func registry() *transforms.Registry {
	reg := transforms.NewRegistry()
	reg.Register(currency.Spec, currency.New)
	return reg
}

// The spec's examples are the transform's documentation; they must hold.
func TestSpecExamples(t *testing.T) {
	transformstest.Env{Registry: registry()}.Examples(t, currency.Name)
}

func chain(t *testing.T, yaml string) *transforms.Chain {
	t.Helper()
	return transformstest.Env{Registry: registry()}.MustChain(t, yaml)
}

func TestConvertsNestedFieldsAndRounds(t *testing.T) {
	c := chain(t, "- convert_currency: {amount: price.value, currency: price.ccy, to: usd, rates: {EUR: 1.0869}, decimals: 1}\n")
	r := &transforms.Record{Value: map[string]any{"price": map[string]any{"value": 9.99, "ccy": "EUR"}}}
	out, err := c.Run(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := codec.Encode(out[0].Value)
	if string(got) != `{"price":{"ccy":"USD","value":10.9}}` {
		t.Errorf("got %s", got)
	}
}

func TestRecordErrors(t *testing.T) {
	c := chain(t, "- convert_currency: {to: EUR, rates: {USD: 0.9}}\n")
	for name, value := range map[string]map[string]any{
		"missing amount":  {"currency": "USD"},
		"amount a string": {"amount": "ten", "currency": "USD"},
		"no currency":     {"amount": 1},
	} {
		if _, err := c.Run(context.Background(), &transforms.Record{Value: value}); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestConfigErrorsArePositioned(t *testing.T) {
	cases := map[string]string{
		"- convert_currency: {rates: {USD: 1}}\n":                      `steps.yaml:1:21: missing required key "to"`,
		"- convert_currency: {to: EUR, rates: {USD: -2}}\n":            `steps.yaml:1:44: rate for USD must be positive`,
		"- convert_currency: {to: EUR, rates: {USD: 1}, decimal: 2}\n": `steps.yaml:1:48: unknown key "decimal" (did you mean "decimals"?)`,
	}
	for yaml, want := range cases {
		_, err := transformstest.Env{Registry: registry()}.Chain(yaml)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: got %v, want prefix %q", yaml, err, want)
		}
	}
}
