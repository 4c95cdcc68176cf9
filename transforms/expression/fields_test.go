package expression_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/expression"
)

// A program reads the top-level fields it names: the roots of member
// accesses, not the metadata, not the functions it calls. $env, the whole
// record, says nothing about which fields.
func TestProgramFields(t *testing.T) {
	for _, c := range []struct {
		src   string
		reads []string // sorted; nil with ok false
		ok    bool
	}{
		{"amount > 0", []string{"amount"}, true},
		{"int(amount * 100)", []string{"amount"}, true},
		{"1 + 2", nil, true},
		{`customer.address.city == "Berlin" && customer["id"] > 0`, []string{"customer"}, true},
		{`items[0].sku + tags[i]`, []string{"i", "items", "tags"}, true},
		{`kafka.key + kafka.headers["h"] + kafka.topic`, nil, true},
		{`sha256(email) + uuid() + lower(country)`, []string{"country", "email"}, true},
		{`all(items, .qty > 0) && any(items, # .qty > limit)`, []string{"items", "limit"}, true},
		{`let x = amount; x * 2`, []string{"amount", "x"}, true}, // x counted too: only larger
		{`a ?? b`, []string{"a", "b"}, true},
		{`a ? b : c`, []string{"a", "b", "c"}, true},
		{`status in ["a", "b"]`, []string{"status"}, true},
		{`{"k": v}.k`, []string{"v"}, true},
		{`$env.amount > 0`, nil, false},
		{`len($env)`, nil, false},
		{`$env["amount"]`, nil, false},
	} {
		p, err := expression.Compile(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		f, ok := p.TopLevelFields()
		got := slices.Sorted(slices.Values(f.Reads))
		if ok != c.ok || (ok && !reflect.DeepEqual(got, c.reads) && !(len(got) == 0 && len(c.reads) == 0)) ||
			len(f.Writes) > 0 || len(f.Deletes) > 0 || f.Only {
			t.Errorf("%s: fields %+v, %v; want reads %q, %v", c.src, f, ok, c.reads, c.ok)
		}
		var _ transforms.TopLevel = p
	}
}
