package builtin_test

import "testing"

func TestFilter(t *testing.T) {
	runCases(t, []runCase{
		{name: "true keeps", steps: `- filter: 'amount > 0'`, in: `{"amount":1}`, want: []string{`{"amount":1}`}},
		{name: "false drops", steps: `- filter: 'amount > 0'`, in: `{"amount":0}`},
		{name: "null drops", steps: `- filter: 'flag'`, in: `{"flag":null}`},
		{name: "missing field drops", steps: `- filter: 'flag'`, in: `{}`},
		{name: "nested path", steps: `- filter: 'customer.address.country == "DE"'`, in: `{"customer":{"address":{"country":"DE"}}}`,
			want: []string{`{"customer":{"address":{"country":"DE"}}}`}},
		{name: "nested path false", steps: `- filter: 'customer.address.country == "DE"'`, in: `{"customer":{"address":{"country":"FR"}}}`},
		{name: "functions", steps: `- filter: 'len(items) >= 2 && lower(name) startsWith "a"'`, in: `{"items":[1,2],"name":"Ada"}`,
			want: []string{`{"items":[1,2],"name":"Ada"}`}},
		{name: "in operator", steps: `- filter: 'status in ["new", "paid"]'`, in: `{"status":"paid"}`, want: []string{`{"status":"paid"}`}},
		{name: "non-boolean result fails", steps: `- filter: 'flag'`, in: `{"flag":"yes"}`,
			err: `step 0 (filter): expression "flag": invalid operation: bool(string) (column 1)`},
		{name: "missing operand fails", steps: `- filter: 'amount > 0'`, in: `{"total":1}`,
			err: `step 0 (filter): expression "amount > 0": field amount is missing or null (column 1)`},
		{name: "not an object", steps: `- filter: 'true'`, in: `[1,2]`,
			err: `step 0 (filter): record value is not a JSON object`},
	})
}
