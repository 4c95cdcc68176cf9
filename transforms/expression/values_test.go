package expression_test

import (
	"strings"
	"testing"

	"github.com/millrace-dev/millrace/transforms/expression"
)

// A program that fails on a record's value says what failed, where, and
// on what kind of value, never the value: the error reaches logs, the
// dead-letter header and the status page.
func TestRunErrorsNeverQuoteValues(t *testing.T) {
	in := `{"email":"John.Secret@Example.org","n":{"secretkey":"SecretVal"},"l":[1,2],"i":7,"code":"Secret-42","ss":["Secret-a","Secret-b"],"neg":-98765}`
	for _, tc := range []struct{ expr, want string }{
		{`int(email)`, `invalid operation: int() of a string that is not a number (column 1)`},
		{`float(email)`, `invalid operation: float() of a string that is not a number (column 1)`},
		{`int(toJSON(n))`, `invalid operation: int() of a string that is not a number`},
		{`duration(email)`, `cannot read the string as a duration`},
		{`date(email)`, `invalid date`},
		{`date(email, "2006-01-02")`, `cannot read the string as a time in that layout`},
		{`date("2024-01-01", "2006-01-02", email)`, `unknown time zone`},
		{`timezone(email)`, `unknown time zone`},
		{`email matches "(" + email`, `invalid regular expression: missing closing )`},
		{`lower(n)`, `expected string, got object`},
		{`i[code]`, `cannot fetch this key or index from a number`},
		{`l[i]`, `index out of range (array length is 2)`},
		{`email + 1`, `invalid operation: string + int`},
		{`int(upper(email))`, `invalid operation: int() of a string that is not a number (column 1)`},
		{`duration(upper(email))`, `cannot read the string as a duration (such as 1h30m or 250ms) (column 1)`},
		{`email.x`, `invalid operation: expected a number, got a string (column 7)`},
		{`l[n]`, `invalid operation: expected a number, got an object (column 2)`},
		{`fromPairs(email)`, `fromPairs() takes a list of [key, value] pairs (column 1)`},
		{`fromPairs([upper(email)])`, `fromPairs() takes a list of [key, value] pairs (column 1)`},
		{`fromPairs([[upper(email)]])`, `fromPairs() takes a list of [key, value] pairs (column 1)`},
		{`sort(ss, upper(email))`, `invalid order: expected asc or desc (column 1)`},
		{`repeat("x", neg)`, `invalid argument for repeat (expected a positive integer) (column 1)`},
		{`bitshl(1, neg)`, `invalid operation: negative shift count (column 1)`},
		{`fromJSON(email)`, `fromJSON() of a string that is not valid JSON (column 1)`},
		{`n > 1`, `invalid operation: object > int (column 3)`},
		{`ss + 1`, `invalid operation: array + int (column 4)`},
	} {
		p, err := expression.Compile(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		_, err = p.Eval(record(t, in))
		if err == nil {
			t.Errorf("%s: no error", tc.expr)
			continue
		}
		msg := err.Error()
		if strings.Contains(strings.ToLower(msg), "secret") || strings.Contains(msg, "98765") {
			t.Errorf("%s: the error quotes the record: %s", tc.expr, msg)
		}
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s:\ngot  %s\nwant it to say %s", tc.expr, msg, tc.want)
		}
	}
}
