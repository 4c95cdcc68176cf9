// Package currency is an example of a custom Millrace transform:
// convert_currency converts an amount to a target currency with a rates table
// from its config.
package currency

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// Name is the transform's key in pipelines.yaml.
const Name = "convert_currency"

// Config is the transform's config, decoded from YAML by Build.Decode; a
// field the YAML leaves out takes the default the spec declares.
type Config struct {
	Amount   string             // field holding the amount
	Currency string             // field holding the ISO currency code
	To       string             // target currency
	Rates    map[string]float64 // units of To per unit of each currency
	Target   string             // field to write; empty overwrites Amount and Currency
	Decimals int                // rounding of the result
}

// Spec declares the config shape, the docs and the examples; the examples
// are run as tests.
var Spec = transforms.Spec{
	Name:    Name,
	Summary: "Convert an amount to another currency with a rates table.",
	Description: "Reads the amount and its currency code from the record, multiplies by the rate of " +
		"that currency and writes the result, rounded, to `target` (or over the amount, setting the " +
		"currency field to `to`). An unknown currency fails the record, which goes to the dead-letter topic.",
	Config: spec.Object("",
		&spec.Field{Name: "amount", Type: spec.String("Field path of the amount."), Default: "amount"},
		&spec.Field{Name: "currency", Type: spec.String("Field path of the ISO currency code."), Default: "currency"},
		&spec.Field{Name: "to", Type: spec.String("Target currency code."), Required: true, Examples: []any{"EUR"}},
		&spec.Field{Name: "rates", Type: spec.Map("currency code", spec.Float(""), 1, "Units of `to` per unit of each currency."), Required: true},
		&spec.Field{Name: "target", Type: spec.String("Field to write the converted amount to; empty overwrites the amount.")},
		&spec.Field{Name: "decimals", Type: spec.Int("Decimal places of the result."), Default: 2},
	),
	Examples: []transforms.Example{
		{Title: "Add a EUR amount", Config: `{to: EUR, rates: {USD: 0.9, EUR: 1}, target: amount_eur}`,
			Input: `{"amount":10,"currency":"USD"}`, Output: []string{`{"amount":10,"amount_eur":9,"currency":"USD"}`}},
		{Title: "Convert in place", Config: `{to: EUR, rates: {GBP: 1.1713}}`,
			Input: `{"amount":3.5,"currency":"gbp"}`, Output: []string{`{"amount":4.1,"currency":"EUR"}`}},
		{Title: "An unknown currency fails the record", Config: `{to: EUR, rates: {USD: 0.9}}`,
			Input: `{"amount":1,"currency":"JPY"}`, Error: `no rate for currency "JPY"`},
	},
}

// New builds the transform when the config loads and for each run.
func New(b *transforms.Build) (transforms.Transform, error) {
	var c Config
	if err := b.Decode(&c); err != nil {
		return nil, err
	}
	rates := make(map[string]float64, len(c.Rates))
	for code, r := range c.Rates {
		if r <= 0 {
			return nil, b.Config.Get("rates").Get(code).Errorf("rate for %s must be positive", code)
		}
		rates[strings.ToUpper(code)] = r
	}
	c.Rates = rates
	c.To = strings.ToUpper(c.To)
	return &convert{cfg: c, scale: math.Pow(10, float64(c.Decimals))}, nil
}

type convert struct {
	cfg   Config
	scale float64
}

func (t *convert) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	raw, ok := transforms.Get(obj, t.cfg.Amount)
	if !ok {
		return nil, fmt.Errorf("field %s is missing", t.cfg.Amount)
	}
	var amount float64
	switch v := raw.(type) {
	case int:
		amount = float64(v)
	case float64:
		amount = v
	default:
		return nil, fmt.Errorf("field %s is %T, not a number", t.cfg.Amount, raw)
	}
	codeV, _ := transforms.Get(obj, t.cfg.Currency)
	code, _ := codeV.(string)
	rate, ok := t.cfg.Rates[strings.ToUpper(code)]
	if !ok {
		return nil, fmt.Errorf("no rate for currency %q", code)
	}
	converted := math.Round(amount*rate*t.scale) / t.scale
	if t.cfg.Target != "" {
		return r.One(), transforms.Set(obj, t.cfg.Target, converted)
	}
	if err := transforms.Set(obj, t.cfg.Amount, converted); err != nil {
		return nil, err
	}
	return r.One(), transforms.Set(obj, t.cfg.Currency, t.cfg.To)
}
