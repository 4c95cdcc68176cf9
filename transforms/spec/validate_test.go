package spec

import (
	"strings"
	"testing"
)

// check parses `v: <yaml>` (so values sit at line 1, column 4) and validates
// the value against typ.
func check(t *testing.T, yaml string, typ *Type, lookup LookupEnv) string {
	t.Helper()
	root := mustParse(t, "v: "+yaml+"\n", lookup)
	return Validate(root.Get("v"), typ).Error()
}

func TestValidate(t *testing.T) {
	fields := Object("",
		&Field{Name: "name", Type: String("The name."), Required: true, Examples: []any{"orders"}},
		&Field{Name: "topic", Type: String("Topic to read."), Required: true},
		&Field{Name: "count", Type: Int("How many.")},
		&Field{Name: "when", Type: Expr("Condition."), Required: true, Doc: "When it applies."},
	)
	brokers := OneOf("", List(String(""), 1, ""), String(""))
	start := Enum("Where to start.", "oldest", "newest")
	for _, tc := range []struct {
		name, yaml string
		typ        *Type
		want       string // "" means valid
	}{
		// TAny takes anything.
		{"any/map", "{a: [1]}", Any(""), ""},
		{"any/null", "", Any(""), ""},

		// TString takes every scalar but null.
		{"string/plain", "abc", String(""), ""},
		{"string/int", "12", String(""), ""},
		{"string/bool", "true", String(""), ""},
		{"string/null", "~", String(""), "t.yaml:1:4: expected a string, got null"},
		{"string/list", "[a]", String(""), "t.yaml:1:4: expected a string, got a list"},
		{"string/map", "{a: b}", String(""), "t.yaml:1:4: expected a string, got a mapping"},

		// Enum
		{"enum/ok", "newest", start, ""},
		{"enum/typo", "newst", start, `t.yaml:1:4: expected one of "oldest", "newest", got "newst" (did you mean "newest"?)`},
		{"enum/far", "yesterday", start, `t.yaml:1:4: expected one of "oldest", "newest", got "yesterday"`},
		{"enum/kafka-word", "latest", start, `t.yaml:1:4: expected one of "oldest", "newest", got "latest" (did you mean "newest"?)`},
		{"enum/case", "OLDEST", start, `t.yaml:1:4: expected one of "oldest", "newest", got "OLDEST" (did you mean "oldest"?)`},
		{"enum/list", "[oldest]", start, `t.yaml:1:4: expected one of "oldest", "newest", got a list`},

		// TExpr
		{"expr/ok", "'a > 1'", Expr(""), ""},
		{"expr/number", "1", Expr(""), ""},
		{"expr/empty", "''", Expr(""), "t.yaml:1:4: empty expression"},
		{"expr/blank", "'   '", Expr(""), "t.yaml:1:4: empty expression"},
		{"expr/null", "", Expr(""), "t.yaml:1:3: expected an expression (string), got null"},
		{"expr/list", "[a]", Expr(""), "t.yaml:1:4: expected an expression (string), got a list"},

		// TInt
		{"int/ok", "-3", Int(""), ""},
		{"int/quoted", `"3"`, Int(""), ""},
		{"int/string", "three", Int(""), "t.yaml:1:4: expected an integer, got a string"},
		{"int/float", "1.5", Int(""), "t.yaml:1:4: expected an integer, got a number"},
		{"int/null", "~", Int(""), "t.yaml:1:4: expected an integer, got null"},
		{"int/list", "[1]", Int(""), "t.yaml:1:4: expected an integer, got a list"},
		// The YAML parser reads an integer beyond 64 bits as a string.
		{"int/huge", "99999999999999999999", Int(""), "t.yaml:1:4: integer 99999999999999999999 is out of range"},

		// TFloat
		{"float/ok", "1.5", Float(""), ""},
		{"float/int", "2", Float(""), ""},
		{"float/string", "fast", Float(""), "t.yaml:1:4: expected a number, got a string"},
		{"float/map", "{a: 1}", Float(""), "t.yaml:1:4: expected a number, got a mapping"},

		// TBool only takes YAML booleans.
		{"bool/true", "true", Bool(""), ""},
		{"bool/False", "False", Bool(""), ""},
		{"bool/quoted", `"true"`, Bool(""), "t.yaml:1:4: expected a boolean, got a string"},
		{"bool/yes", "yes", Bool(""), "t.yaml:1:4: expected a boolean, got a string (YAML 1.2 reads yes as a string: write true or false)"},
		{"bool/quoted yes", `"yes"`, Bool(""), "t.yaml:1:4: expected a boolean, got a string"},
		{"bool/int", "1", Bool(""), "t.yaml:1:4: expected a boolean, got an integer"},

		// TDuration
		{"duration/ok", "1m30s", Duration(""), ""},
		{"duration/zero", "0", Duration(""), ""},
		{"duration/no unit", "10", Duration(""), `t.yaml:1:4: expected a duration such as 100ms or 5s, got "10" (use a number with a unit: ms, s, m or h)`},
		{"duration/words", "5 seconds", Duration(""), `t.yaml:1:4: expected a duration such as 100ms or 5s, got "5 seconds" (use a number with a unit: ms, s, m or h)`},
		{"duration/list", "[1s]", Duration(""), "t.yaml:1:4: expected a duration such as 100ms or 5s, got a list"},

		// TList checks the count and every item.
		{"list/ok", "[a, b]", List(String(""), 1, ""), ""},
		{"list/empty ok", "[]", List(String(""), 0, ""), ""},
		{"list/too short", "[]", List(String(""), 1, ""), "t.yaml:1:4: expected at least 1 item, got 0"},
		{"list/too short plural", "[a]", List(String(""), 2, ""), "t.yaml:1:4: expected at least 2 items, got 1"},
		{"list/bad items", "[1, [x], ~]", List(Int(""), 0, ""), "t.yaml:1:8: expected an integer, got a list\nt.yaml:1:13: expected an integer, got null"},
		{"list/scalar", "a", List(String(""), 0, ""), "t.yaml:1:4: expected a list of strings, got a string"},

		// TMap checks the count and every value; keys are free.
		{"map/ok", "{a: '1', b: '2'}", Map("field", Expr(""), 1, ""), ""},
		{"map/empty", "{}", Map("field", Expr(""), 1, ""), "t.yaml:1:4: expected at least 1 entry, got 0"},
		{"map/two", "{a: x}", Map("field", Expr(""), 2, ""), "t.yaml:1:4: expected at least 2 entries, got 1"},
		{"map/bad value", "{a: '', b: [x]}", Map("field", Expr(""), 1, ""), "t.yaml:1:8: empty expression\nt.yaml:1:15: expected an expression (string), got a list"},
		{"map/list", "[a]", Map("field path", Expr(""), 1, ""), "t.yaml:1:4: expected a mapping of field path to expressions, got a list"},

		// TObject: unknown keys, wrong values, missing required keys.
		{"object/ok", "{name: a, topic: b, when: 'x'}", fields, ""},
		{"object/scalar", "x", fields, "t.yaml:1:4: expected a mapping, got a string"},
		{"object/unknown with suggestion", "{name: a, topic: b, when: x, cuont: 1}", fields, `t.yaml:1:33: unknown key "cuont" (did you mean "count"?)`},
		{"object/unknown without suggestion", "{name: a, topic: b, when: x, zzz: 1}", fields, `t.yaml:1:33: unknown key "zzz" (allowed keys: name, topic, count, when)`},
		{"object/wrong value", "{name: a, topic: b, when: x, count: many}", fields, `t.yaml:1:40: expected an integer, got a string`},
		// A missing key's hint shows the example when there is one, else the
		// field's doc, else the type's doc.
		{"object/missing", "{count: 1}", fields, "t.yaml:1:4: missing required key \"name\" (add name: orders)\n" +
			"t.yaml:1:4: missing required key \"topic\" (Topic to read.)\n" +
			"t.yaml:1:4: missing required key \"when\" (When it applies.)"},
		{"object/empty", "{}", Object("", &Field{Name: "a", Type: Int(""), Required: true}), `t.yaml:1:4: missing required key "a"`},

		// TOneOf picks the alternative by YAML kind.
		{"oneof/list", "[a:1, b:2]", brokers, ""},
		{"oneof/string", "a:1,b:2", brokers, ""},
		{"oneof/list checked", "[]", brokers, "t.yaml:1:4: expected at least 1 item, got 0"},
		{"oneof/no fit", "{a: 1}", brokers, "t.yaml:1:4: expected a list of strings or a string, got a mapping"},
		{"oneof/null", "~", brokers, "t.yaml:1:4: expected a list of strings or a string, got null"},
		{"oneof/three", "{a: 1}", OneOf("", Int(""), Bool(""), List(Int(""), 0, "")), "t.yaml:1:4: expected an integer, a boolean or a list of integers, got a mapping"},
		{"oneof/nested", "[1]", OneOf("", OneOf("", List(Int(""), 0, "")), String("")), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := check(t, tc.yaml, tc.typ, nil); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestValidateNil(t *testing.T) {
	if errs := Validate(nil, Int("")); len(errs) != 0 {
		t.Errorf("nil value: %v", errs)
	}
	v := &Value{Kind: KindInt, Text: "1"}
	if errs := Validate(v, nil); len(errs) != 0 {
		t.Errorf("nil type: %v", errs)
	}
}

// Values from the environment are checked, but their text stays out of the
// message, and so does a hint that would echo it.
func TestValidateSecret(t *testing.T) {
	lookup := lookupFrom(map[string]string{"S": "neweset-hunter2", "D": "10 hunter2", "N": "hunter2"})
	for _, tc := range []struct {
		yaml string
		typ  *Type
		want string
	}{
		{"${S}", Enum("", "oldest", "newest"), `t.yaml:1:4: expected one of "oldest", "newest"`},
		{"${D}", Duration(""), "t.yaml:1:4: expected a duration such as 100ms or 5s (use a number with a unit: ms, s, m or h)"},
		{"${N}", Int(""), "t.yaml:1:4: expected an integer, got a string"},
	} {
		got := check(t, tc.yaml, tc.typ, lookup)
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.yaml, got, tc.want)
		}
		if strings.Contains(got, "hunter2") {
			t.Errorf("%s: secret in %q", tc.yaml, got)
		}
	}
}

// A value whose variable is unset was already reported: no second error.
func TestValidateSkipsFailed(t *testing.T) {
	root, errs := ParseYAML("t.yaml", []byte("a: ${UNSET}\nb: ${UNSET2}\n"), lookupFrom(nil))
	if len(errs) != 2 {
		t.Fatalf("want 2 interpolation errors, got %v", errs)
	}
	typ := Object("", &Field{Name: "a", Type: Int("")}, &Field{Name: "b", Type: Enum("", "x")})
	if verrs := Validate(root, typ); len(verrs) != 0 {
		t.Errorf("failed values validated again: %v", verrs)
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		typ  *Type
		want string
	}{
		{String(""), "a string"},
		{Enum("", "a", "b"), `one of "a", "b"`},
		{Expr(""), "an expression (string)"},
		{Int(""), "an integer"},
		{Float(""), "a number"},
		{Bool(""), "a boolean"},
		{Duration(""), "a duration such as 100ms or 5s"},
		{Any(""), "any value"},
		{Object(""), "a mapping"},
		{List(Enum("", "x"), 0, ""), `a list of values among "x"`},
		{List(Expr(""), 0, ""), "a list of expressions"},
		{List(Int(""), 0, ""), "a list of integers"},
		{List(Float(""), 0, ""), "a list of numbers"},
		{List(Bool(""), 0, ""), "a list of booleans"},
		{List(Duration(""), 0, ""), "a list of durations"},
		{List(Object(""), 0, ""), "a list of mappings"},
		{List(List(Int(""), 0, ""), 0, ""), "a list of lists"},
		{List(Any(""), 0, ""), "a list of values"},
		{Map("field path", String(""), 0, ""), "a mapping of field path to strings"},
		{OneOf("", Int(""), String("")), "an integer or a string"},
	} {
		if got := tc.typ.Describe(); got != tc.want {
			t.Errorf("Describe() = %q, want %q", got, tc.want)
		}
	}
	obj := Object("", &Field{Name: "b"}, &Field{Name: "a"})
	if got := strings.Join(obj.FieldNames(), ","); got != "b,a" {
		t.Errorf("FieldNames keeps declaration order, got %q", got)
	}
}
