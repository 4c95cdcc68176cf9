package expression

import (
	"regexp"
	"slices"
	"strings"
)

// Error texts name fields, types and columns, never a record's value: they
// reach logs, dead-letter headers and the status page, and a value may be
// personal data (the dead letter keeps the record itself). expr-lang's run
// errors, those of its built-ins (fromPairs, sort, repeat, the bit shifts)
// and of the functions they call (time.Parse, ParseDuration, LoadLocation,
// regexp.Compile, encoding/json) quote the operand they failed on, even
// one a program computed from the record (upper(email)); valueFree
// rewrites each such form into what failed and the kind it failed on,
// says Go's names of objects and arrays as JSON's, and then hides any
// string of the record that is still in the text (a form not known here).

// valueForms are the run errors that quote an operand, each with its
// value-free text. The operand is the record's, or made from it.
var valueForms = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?s)^invalid operation: (int|float)\(.*\)$`), "invalid operation: $1() of a string that is not a number"},
	{regexp.MustCompile(`(?s)^(invalid pair|cannot transform .* from pairs).*$`), "fromPairs() takes a list of [key, value] pairs"},
	{regexp.MustCompile(`(?s)^invalid order .*, expected asc or desc$`), "invalid order: expected asc or desc"},
	{regexp.MustCompile(`(?s)^invalid argument for repeat \(expected positive integer, got .*\)$`), "invalid argument for repeat (expected a positive integer)"},
	{regexp.MustCompile(`(?s)^invalid operation: negative shift count .*$`), "invalid operation: negative shift count"},
	{regexp.MustCompile(`(?s)^invalid character .*$`), "fromJSON() of a string that is not valid JSON"},
	{regexp.MustCompile(`(?s)^index out of range: .* \(array length is (\d+)\)$`), "index out of range (array length is $1)"},
	{regexp.MustCompile(`(?s)^cannot slice .*$`), "cannot slice this value"},
	{regexp.MustCompile(`(?s)^invalid date .*$`), "invalid date: date() takes a string in a layout it knows, or a layout"},
	{regexp.MustCompile(`(?s)^parsing time .*$`), "cannot read the string as a time in that layout"},
	{regexp.MustCompile(`(?s)^time: .*duration.*$`), "cannot read the string as a duration (such as 1h30m or 250ms)"},
	{regexp.MustCompile(`(?s)^unknown time zone .*$`), "unknown time zone (an IANA name such as Europe/Berlin is expected)"},
	{regexp.MustCompile("(?s)^error parsing regexp: ([^:`]+).*$"), "invalid regular expression: $1"},
}

// toNumber is expr-lang's conversion of an index or operand to a number,
// which names the operand's Go type, not its value (unlike int() of a
// string, which quotes it).
var toNumber = regexp.MustCompile(`^invalid operation: (?:int|float)\((string|bool|<nil>|map\[.*\].*|\[\].*)\)$`)

// goTypes are the Go names of decoded JSON's containers, as JSON names them.
var goTypes = strings.NewReplacer("map[string]interface {}", "object", "[]interface {}", "array")

// fetchForm is expr-lang's failed index or member access: the key it
// could not fetch and the type it fetched it from.
var fetchForm = regexp.MustCompile(`(?s)^cannot fetch (.*) from (.+)$`)

// valueFree returns msg without the values of record m (see above). names
// are the member names the program itself writes (a.b.c): a key that is
// one of them is the program's, not the record's, and is named.
func valueFree(msg string, m map[string]any, names []string) string {
	if sub := toNumber.FindStringSubmatch(msg); sub != nil {
		return "invalid operation: expected a number, got " + articled(jsonKind(sub[1]))
	}
	for _, f := range valueForms {
		if f.re.MatchString(msg) {
			return f.re.ReplaceAllString(msg, f.with)
		}
	}
	if sub := fetchForm.FindStringSubmatch(msg); sub != nil {
		key := "this key or index"
		if slices.Contains(names, sub[1]) {
			key = sub[1]
		}
		return "cannot fetch " + key + " from " + articled(jsonKind(sub[2]))
	}
	return hideStrings(goTypes.Replace(msg), m)
}

// hideStrings replaces the strings of m (at any depth, the first 1000)
// that msg holds, longest first, with "(a string of the record)".
func hideStrings(msg string, m map[string]any) string {
	var strs []string
	collectStrings(m, &strs, 1000)
	slices.SortStableFunc(strs, func(a, b string) int { return len(b) - len(a) })
	for _, s := range strs {
		if len(s) >= 3 && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "(a string of the record)")
		}
	}
	return msg
}

func collectStrings(v any, out *[]string, max int) {
	if len(*out) >= max {
		return
	}
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case map[string]any:
		for _, x := range v {
			collectStrings(x, out, max)
		}
	case []any:
		for _, x := range v {
			collectStrings(x, out, max)
		}
	}
}

// jsonKind says a Go type name of a decoded record value as JSON's kind.
func jsonKind(goType string) string {
	switch t := strings.TrimSpace(goType); {
	case strings.HasPrefix(t, "map["):
		return "object"
	case strings.HasPrefix(t, "[]"):
		return "array"
	case t == "string":
		return "string"
	case t == "bool":
		return "boolean"
	case t == "nil", t == "<nil>":
		return "null"
	case t == "int", t == "float64", t == "json.Number", strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "number"
	}
	return goType
}

func articled(kind string) string {
	switch kind {
	case "object", "array":
		return "an " + kind
	case "null":
		return kind
	}
	return "a " + kind
}
