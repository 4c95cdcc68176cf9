package builtin_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
)

// The fields each built-in declares (transforms.TopLevel), and how a
// chain merges them; a step that does not declare its fields, or a keep
// under when, makes the chain take the full path.
func TestTopLevelFields(t *testing.T) {
	type want struct {
		reads, writes, deletes []string
		only                   bool
	}
	for _, c := range []struct {
		steps string
		want  *want // nil: the chain does not qualify
	}{
		{`[{filter: 'amount > 0'}]`, &want{reads: []string{"amount"}}},
		{`[{filter: 'amount > 0'}, {set: {total_cents: 'int(amount * 100)'}}, {rename: {user: user_id}}, {drop: [debug]}]`,
			&want{writes: []string{"amount", "total_cents", "user", "user_id"}, deletes: []string{"debug"}}},
		{`[{set: {meta.source: kafka.topic, b: 'a + c.d'}}]`, &want{writes: []string{"a", "b", "c", "meta"}}},
		{`[{filter: 'amount > 0'}, {key: user}]`, &want{reads: []string{"amount", "user"}}},
		{`[{rename: {country: address.country}}]`, &want{writes: []string{"address", "country"}}},
		{`[{drop: [card.number, debug]}]`, &want{writes: []string{"card"}, deletes: []string{"debug"}}},
		{`[{drop: [debug]}, {filter: 'debug == nil'}]`, &want{writes: []string{"debug"}}},
		{`[{drop: [debug], when: 'x > 1'}]`, &want{reads: []string{"x"}, writes: []string{"debug"}}},
		{`[{keep: [id, customer.country]}]`, &want{reads: []string{"id"}, writes: []string{"customer"}, only: true}},
		{`[{mask: [password, auth.token]}]`, &want{writes: []string{"auth", "password"}}},
		{`[{mask: {card.number: {keep_last: 4}}}]`, &want{writes: []string{"card"}}},
		{`[{key: order.id}]`, &want{reads: []string{"order"}}},
		{`[{key: {expr: 'country + ":" + user_id'}}]`, &want{reads: []string{"country", "user_id"}}},
		{`[{route: [{when: 'amount >= 1000', topic: big}, {when: 'kind == "x"', topic: x}]}]`, &want{reads: []string{"amount", "kind"}}},
		{`[{route: {topic: '"orders-" + lower(country)', default: other}}]`, &want{reads: []string{"country"}}},
		{`[{filter: '$env.amount > 0'}]`, nil},
		{`[{set: {n: 'len($env)'}}]`, nil},
		{`[{keep: [id], when: 'x > 1'}]`, nil},
		{`[{filter: 'true', when: '$env != nil'}]`, nil},
		{`[{split: items}]`, nil},
		{`[{jq: '.'}]`, nil},
		{`[{cast: {a: int}}]`, nil},
	} {
		chain := buildChain(t, c.steps)
		f, ok := chain.TopLevelFields()
		if c.want == nil {
			if ok {
				t.Errorf("%s: qualifies with %+v, want the full path", c.steps, f)
			}
			continue
		}
		sorted := func(s []string) []string { return slices.Sorted(slices.Values(s)) }
		got := want{sorted(f.Reads), sorted(f.Writes), sorted(f.Deletes), f.Only}
		if !ok || !reflect.DeepEqual(got, *c.want) {
			t.Errorf("%s: %+v, %v; want %+v", c.steps, got, ok, *c.want)
		}
	}
	// A Go transform that does not implement TopLevel: the full path.
	chain := buildChain(t, `[{filter: 'amount > 0'}]`)
	chain.Steps = append(chain.Steps, &transforms.Step{Name: "custom", Transform: transforms.Func(
		func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
			return []*transforms.Record{r}, nil
		})})
	if f, ok := chain.TopLevelFields(); ok {
		t.Errorf("with a custom step: %+v, want the full path", f)
	}
}
