package spec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, src string, lookup LookupEnv) *Value {
	t.Helper()
	v, errs := ParseYAML("t.yaml", []byte(src), lookup)
	if err := errs.Err(); err != nil {
		t.Fatalf("ParseYAML:\n%v", err)
	}
	return v
}

// at returns the value at a path of map keys and list indexes.
func at(t *testing.T, v *Value, path ...any) *Value {
	t.Helper()
	for _, p := range path {
		switch p := p.(type) {
		case string:
			next := v.Get(p)
			if next == nil {
				t.Fatalf("no key %q in %v", p, v.Pos)
			}
			v = next
		case int:
			if v.Kind != KindList || p >= len(v.Items) {
				t.Fatalf("no item %d in %v", p, v.Pos)
			}
			v = v.Items[p]
		}
	}
	return v
}

func key(t *testing.T, m *Value, name string) *Value {
	t.Helper()
	for _, e := range m.Entries {
		if e.Key.Text == name {
			return e.Key
		}
	}
	t.Fatalf("no key %q", name)
	return nil
}

func TestParseYAMLBlockPositions(t *testing.T) {
	src := `version: 1
kafka:
  brokers:
    - a:1
    - "b:2"
  client_id: 'me'
ratio: 1.5
on: true
nothing:
tilde: ~
`
	root := mustParse(t, src, nil)
	for _, tc := range []struct {
		v          *Value
		line, col  int
		kind       Kind
		text       string
		quoted     bool
		inlineText bool
	}{
		{root, 1, 1, KindMap, "", false, false},
		{key(t, root, "version"), 1, 1, KindString, "version", false, true},
		{at(t, root, "version"), 1, 10, KindInt, "1", false, true},
		{key(t, root, "kafka"), 2, 1, KindString, "kafka", false, true},
		{at(t, root, "kafka"), 3, 3, KindMap, "", false, false},
		{at(t, root, "kafka", "brokers"), 4, 5, KindList, "", false, false},
		{at(t, root, "kafka", "brokers", 0), 4, 7, KindString, "a:1", false, true},
		{at(t, root, "kafka", "brokers", 1), 5, 7, KindString, "b:2", true, true},
		{key(t, at(t, root, "kafka"), "client_id"), 6, 3, KindString, "client_id", false, true},
		{at(t, root, "kafka", "client_id"), 6, 14, KindString, "me", true, true},
		{at(t, root, "ratio"), 7, 8, KindFloat, "1.5", false, true},
		{at(t, root, "on"), 8, 5, KindBool, "true", false, true},
		// An empty value sits just after its key's colon.
		{at(t, root, "nothing"), 9, 9, KindNull, "", false, false},
		{at(t, root, "tilde"), 10, 8, KindNull, "", false, false},
	} {
		v := tc.v
		if v.Pos != (Pos{File: "t.yaml", Line: tc.line, Col: tc.col}) || v.Kind != tc.kind || v.Text != tc.text || v.Quoted != tc.quoted || v.Inline != tc.inlineText {
			t.Errorf("got %v %s %q quoted=%v inline=%v; want %d:%d %s %q quoted=%v inline=%v",
				v.Pos, v.Kind.Name(), v.Text, v.Quoted, v.Inline, tc.line, tc.col, tc.kind.Name(), tc.text, tc.quoted, tc.inlineText)
		}
	}
	var keys []string
	for _, e := range root.Entries {
		keys = append(keys, e.Key.Text)
	}
	if want := []string{"version", "kafka", "ratio", "on", "nothing", "tilde"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys in file order = %q, want %q", keys, want)
	}
}

func TestParseYAMLFlowPositions(t *testing.T) {
	src := `steps: [{filter: 'a > 1'}, {rename: {x: y}}]
drop: [a, "b", 'c']
`
	root := mustParse(t, src, nil)
	for _, tc := range []struct {
		v         *Value
		line, col int
		kind      Kind
		text      string
	}{
		{at(t, root, "steps"), 1, 8, KindList, ""},
		{at(t, root, "steps", 0), 1, 9, KindMap, ""},
		{key(t, at(t, root, "steps", 0), "filter"), 1, 10, KindString, "filter"},
		{at(t, root, "steps", 0, "filter"), 1, 18, KindString, "a > 1"},
		{at(t, root, "steps", 1), 1, 28, KindMap, ""},
		{key(t, at(t, root, "steps", 1), "rename"), 1, 29, KindString, "rename"},
		{at(t, root, "steps", 1, "rename"), 1, 37, KindMap, ""},
		{key(t, at(t, root, "steps", 1, "rename"), "x"), 1, 38, KindString, "x"},
		{at(t, root, "steps", 1, "rename", "x"), 1, 41, KindString, "y"},
		{at(t, root, "drop", 0), 2, 8, KindString, "a"},
		{at(t, root, "drop", 1), 2, 11, KindString, "b"},
		{at(t, root, "drop", 2), 2, 16, KindString, "c"},
	} {
		if tc.v.Pos != (Pos{File: "t.yaml", Line: tc.line, Col: tc.col}) || tc.v.Kind != tc.kind || tc.v.Text != tc.text {
			t.Errorf("got %v %s %q; want %d:%d %s %q", tc.v.Pos, tc.v.Kind.Name(), tc.v.Text, tc.line, tc.col, tc.kind.Name(), tc.text)
		}
	}
}

// Inline says whether a column inside the text is a column of the file.
func TestParseYAMLInline(t *testing.T) {
	src := `plain: a > 1
single: 'a > 1'
double: "a > 1"
escaped: "a \"b\""
doubled: 'it''s'
literal: |
  a > 1
folded: >-
  a >
  1
multi: a >
  1
comment: a > 1   # note
`
	root := mustParse(t, src, nil)
	for name, want := range map[string]bool{
		"plain": true, "single": true, "double": true, "comment": true,
		"escaped": false, "doubled": false, "literal": false, "folded": false, "multi": false,
	} {
		if got := at(t, root, name).Inline; got != want {
			t.Errorf("%s: Inline = %v, want %v", name, got, want)
		}
	}
	// PosAt maps byte 2 of the text (">") onto its column in the file.
	for name, col := range map[string]int{"plain": 10, "single": 12, "double": 12, "literal": 10} {
		p, ok := at(t, root, name).PosAt(2)
		if ok != (name != "literal") || p.Col != col {
			t.Errorf("%s: PosAt(2) = %v, %v; want column %d", name, p, ok, col)
		}
	}
	if got := at(t, root, "literal").Text; got != "a > 1\n" {
		t.Errorf("literal text = %q", got)
	}
	if got := at(t, root, "folded").Text; got != "a > 1" {
		t.Errorf("folded text = %q", got)
	}
	if got := at(t, root, "comment").Text; got != "a > 1" {
		t.Errorf("comment text = %q", got)
	}
}

func TestParseYAMLDuplicateKeys(t *testing.T) {
	src := `a: 1
b: {x: 1, y: 2, x: 3}
a: 2
c:
  - k: 1
    k: 2
`
	root, errs := ParseYAML("t.yaml", []byte(src), nil)
	want := `t.yaml:2:17: duplicate key "x", first defined at t.yaml:2:5 (remove one of them)
t.yaml:3:1: duplicate key "a", first defined at t.yaml:1:1 (remove one of them)
t.yaml:6:5: duplicate key "k", first defined at t.yaml:5:5 (remove one of them)`
	if err := errs.Err(); err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	// The first value is kept; the rest of the file is still converted.
	if root == nil || at(t, root, "a").Text != "1" || at(t, root, "b", "x").Text != "1" || len(at(t, root, "b").Entries) != 2 {
		t.Errorf("first values not kept")
	}
	if at(t, root, "c", 0, "k").Text != "1" {
		t.Errorf("nested first value not kept")
	}
}

func TestParseYAMLEmpty(t *testing.T) {
	for _, src := range []string{"", "\n\n", "# only a comment\n", "---\n"} {
		v, errs := ParseYAML("t.yaml", []byte(src), nil)
		if len(errs) != 0 {
			t.Errorf("%q: %v", src, errs)
		}
		if v == nil || v.Kind != KindNull || v.Pos != (Pos{File: "t.yaml", Line: 1, Col: 1}) {
			t.Errorf("%q: got %+v, want null at 1:1", src, v)
		}
	}
}

func TestParseYAMLProblems(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		nilRoot         bool
	}{
		{"syntax", "a: [1, 2\nb: 3\n", "t.yaml:2:2: YAML syntax: did not find expected ',' or ']', while parsing a flow sequence that starts at t.yaml:1:4", true},
		{"syntax with variable in flow", "a: {b: ${X}}\n", `t.yaml:1:9: YAML syntax: did not find expected ',' or '}', while parsing a flow mapping that starts at t.yaml:1:4 (inside {...} or [...], quote a value that uses ${...}: "${NAME}")`, true},
		{"tab indent", "a:\n\tb: 1\n", "t.yaml:2:1: YAML syntax: found character that cannot start any token (indent with spaces: YAML does not allow tabs there)", true},
		{"complex key", "[a]: 1\n", "t.yaml:1:1: a mapping key must be a string", false},
		{"alias", "a: &x {b: 1}\nc: *x\n", "t.yaml:2:4: YAML aliases are not supported (repeat the value)", false},
		{"two documents", "a: 1\n---\nb: 2\n", "t.yaml:2:1: expected one YAML document, found 2 (remove the --- separator and what follows, or put the pipelines in one list)", false},
		{"null key", "~: 1\n", "t.yaml:1:1: a mapping key must be a string", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, errs := ParseYAML("t.yaml", []byte(tc.src), nil)
			if err := errs.Err(); err == nil || err.Error() != tc.want {
				t.Errorf("got:\n%v\nwant:\n%s", err, tc.want)
			}
			if (v == nil) != tc.nilRoot {
				t.Errorf("root = %v, want nil: %v", v, tc.nilRoot)
			}
		})
	}
}

func TestParseYAMLAliasIsFailed(t *testing.T) {
	v, _ := ParseYAML("t.yaml", []byte("a: &x {b: 1}\nc: *x\n"), nil)
	c := at(t, v, "c")
	if !c.Failed || c.Kind != KindNull {
		t.Fatalf("alias value = %+v, want a failed null", c)
	}
	// Validation does not report the already reported value again.
	if errs := Validate(c, Object("", &Field{Name: "b", Type: Int(""), Required: true})); len(errs) != 0 {
		t.Errorf("Validate reported a failed value: %v", errs)
	}
	// Anchors themselves are fine.
	if at(t, v, "a", "b").Text != "1" {
		t.Error("anchored value lost")
	}
}

func TestParseYAMLInterpolation(t *testing.T) {
	lookup := lookupFrom(map[string]string{"N": "5", "F": "2.5", "B": "true", "S": "hello", "E": "", "TOPIC": "orders"})
	src := `n: ${N}
nq: "${N}"
f: ${F}
b: ${B}
s: ${S}
e: ${E}
mixed: ${N}0
def: ${UNSET:-7}
lit: $${N}
topic: ${TOPIC}
`
	root := mustParse(t, src, lookup)
	for _, tc := range []struct {
		key    string
		kind   Kind
		text   string
		secret bool
	}{
		{"n", KindInt, "5", true},
		{"nq", KindString, "5", true}, // quoted stays a string
		{"f", KindFloat, "2.5", true},
		{"b", KindBool, "true", true},
		{"s", KindString, "hello", true},
		{"e", KindNull, "", true},
		{"mixed", KindInt, "50", true},
		// A default is written in the file: not secret, and it keeps the kind
		// of the text as written (a plain ${...} is a string).
		{"def", KindString, "7", false},
		{"lit", KindString, "${N}", false},
		{"topic", KindString, "orders", true},
	} {
		v := at(t, root, tc.key)
		if v.Kind != tc.kind || v.Text != tc.text || v.Secret != tc.secret {
			t.Errorf("%s: got %s %q secret=%v; want %s %q secret=%v", tc.key, v.Kind.Name(), v.Text, v.Secret, tc.kind.Name(), tc.text, tc.secret)
		}
		if v.Inline {
			t.Errorf("%s: an expanded value cannot be Inline", tc.key)
		}
	}
	// Keys are never expanded, so they cannot leak a value into a message.
	keyed := mustParse(t, "${S}: 1\n", lookup)
	if k := keyed.Entries[0].Key; k.Text != "${S}" || k.Secret {
		t.Errorf("key expanded to %q", k.Text)
	}
	// Without a lookup nothing is expanded.
	raw := mustParse(t, src, nil)
	if got := at(t, raw, "n").Text; got != "${N}" {
		t.Errorf("nil lookup expanded ${N} to %q", got)
	}
}

func TestParseYAMLInterpolationErrors(t *testing.T) {
	src := `a: ${UNSET}
b: "x-${UNSET}"
c: ${BAD-NAME}
`
	root, errs := ParseYAML("t.yaml", []byte(src), lookupFrom(nil))
	want := `t.yaml:1:4: environment variable UNSET is not set (set the variable, or give a default with ${UNSET:-default})
t.yaml:2:4: environment variable UNSET is not set (set the variable, or give a default with ${UNSET:-default})
t.yaml:3:4: invalid variable name "BAD-NAME" in ${...} (use letters, digits and _, not starting with a digit; write $${ for a literal ${)`
	if err := errs.Err(); err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
	for _, k := range []string{"a", "b", "c"} {
		v := at(t, root, k)
		if !v.Failed || v.Secret {
			t.Errorf("%s: Failed=%v Secret=%v, want a failed, non-secret value", k, v.Failed, v.Secret)
		}
	}
	if a := at(t, root, "a"); a.Text != "${UNSET}" {
		t.Errorf("a failed value keeps its text, got %q", a.Text)
	}
}

func TestValueHelpers(t *testing.T) {
	root := mustParse(t, `i: 42
f: 0.25
b: false
d: 1m30s
l: [x, y, 3]
m: {k: [1, {z: null}], s: "t"}
`, nil)
	if got := at(t, root, "i").Int(); got != 42 {
		t.Errorf("Int = %d", got)
	}
	if got := at(t, root, "f").Float(); got != 0.25 {
		t.Errorf("Float = %v", got)
	}
	if got := at(t, root, "b").Bool(); got {
		t.Errorf("Bool = %v", got)
	}
	if got := at(t, root, "d").Duration(); got != 90*time.Second {
		t.Errorf("Duration = %v", got)
	}
	if got := at(t, root, "l").Strings(); !reflect.DeepEqual(got, []string{"x", "y", "3"}) {
		t.Errorf("Strings = %q", got)
	}
	want := map[string]any{
		"i": int64(42), "f": 0.25, "b": false, "d": "1m30s",
		"l": []any{"x", "y", int64(3)},
		"m": map[string]any{"k": []any{int64(1), map[string]any{"z": nil}}, "s": "t"},
	}
	if got := root.Plain(); !reflect.DeepEqual(got, want) {
		t.Errorf("Plain = %#v", got)
	}
	var nilValue *Value
	if nilValue.Get("x") != nil || root.Get("missing") != nil || at(t, root, "i").Get("x") != nil {
		t.Error("Get must return nil for a nil value, a missing key or a scalar")
	}
	if !at(t, root, "i").IsScalar() || at(t, root, "l").IsScalar() || at(t, root, "m").IsScalar() {
		t.Error("IsScalar")
	}
	if !at(t, root, "m", "k", 1, "z").IsScalar() {
		t.Error("null is a scalar")
	}
	if got := (Pos{File: "x"}).String(); got != "x" {
		t.Errorf("Pos without line = %q", got)
	}
	if e := at(t, root, "d").Errorf("bad %d", 1); e.Error() != "t.yaml:4:4: bad 1" {
		t.Errorf("Errorf = %q", e)
	}
	for k, name := range map[Kind]string{KindNull: "null", KindString: "a string", KindInt: "an integer", KindFloat: "a number", KindBool: "a boolean", KindList: "a list", KindMap: "a mapping", Kind(99): "unknown"} {
		if k.Name() != name {
			t.Errorf("Kind(%d).Name() = %q", k, k.Name())
		}
	}
	if !strings.Contains(at(t, root, "m").Pos.String(), "t.yaml:6:") {
		t.Errorf("map pos %v", at(t, root, "m").Pos)
	}
}

// An integer beyond 64 bits, unquoted, is an integer that keeps every
// digit (the YAML parser hands it over as a string); quoted, it is a
// string.
func TestBigInteger(t *testing.T) {
	v, errs := ParseYAML("t.yaml", []byte("a: 123456789012345678901234567890\nb: \"123456789012345678901234567890\"\nc: -12\n"), nil)
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	if a := v.Get("a"); a.Kind != KindInt || a.Plain() != json.Number("123456789012345678901234567890") {
		t.Errorf("a: %v %#v", a.Kind, a.Plain())
	}
	if b := v.Get("b"); b.Kind != KindString || b.Plain() != "123456789012345678901234567890" {
		t.Errorf("b: %v %#v", b.Kind, b.Plain())
	}
	if c := v.Get("c"); c.Plain() != int64(-12) {
		t.Errorf("c: %#v", c.Plain())
	}
}

// A plain scalar with a colon inside a flow sequence inside a flow mapping
// is a string, as YAML 1.2 says (the parser used before read it as a
// key/value pair).
func TestParseYAMLFlowColons(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"kafka: {brokers: [localhost:9092]}\n", `{"kafka":{"brokers":["localhost:9092"]}}`},
		{"kafka: {brokers: [a:1, b:2]}\n", `{"kafka":{"brokers":["a:1","b:2"]}}`},
		{"a: {b: {c: [h:1, {d: e:2}]}}\n", `{"a":{"b":{"c":["h:1",{"d":"e:2"}]}}}`},
		{"a: [x: 1, y]\n", `{"a":[{"x":1},"y"]}`}, // "x: 1", with a space, is a pair
		{"a: {url: http://h:80/p}\n", `{"a":{"url":"http://h:80/p"}}`},
	} {
		v := mustParse(t, tc.src, nil)
		got, err := json.Marshal(v.Plain())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%q: got %s, want %s", tc.src, got, tc.want)
		}
	}
	v := mustParse(t, "kafka: {brokers: [localhost:9092, 'b:2']}\n", nil)
	for i, col := range []int{19, 35} {
		if p := at(t, v, "kafka", "brokers", i).Pos; p.Line != 1 || p.Col != col {
			t.Errorf("broker %d at %v, want column %d", i, p, col)
		}
	}
	if !at(t, v, "kafka", "brokers", 0).Inline || !at(t, v, "kafka", "brokers", 1).Inline {
		t.Error("brokers are shown verbatim")
	}
}

// YAML 1.2: yes, no, on and off are strings; true and false (any case
// YAML allows) are booleans.
func TestParseYAMLBooleans(t *testing.T) {
	v := mustParse(t, "a: [yes, no, on, off, y, n, true, False, TRUE]\n", nil)
	for i, it := range at(t, v, "a").Items {
		want := KindString
		if i >= 6 {
			want = KindBool
		}
		if it.Kind != want {
			t.Errorf("%q: %s, want %s", it.Text, it.Kind.Name(), want.Name())
		}
	}
	if at(t, v, "a", 7).Bool() || !at(t, v, "a", 8).Bool() {
		t.Error("False/TRUE not read")
	}
}

func TestParseYAMLTagsAndNumbers(t *testing.T) {
	v := mustParse(t, "s: !!str 1\ni: !!int 2\nh: 0x1F\no: 0o17\nf: 1.5e3\n", nil)
	for _, tc := range []struct {
		key  string
		kind Kind
		text string
	}{
		{"s", KindString, "1"}, {"i", KindInt, "2"}, {"h", KindInt, "31"}, {"o", KindInt, "15"}, {"f", KindFloat, "1.5e3"},
	} {
		if got := at(t, v, tc.key); got.Kind != tc.kind || got.Text != tc.text {
			t.Errorf("%s: %s %q, want %s %q", tc.key, got.Kind.Name(), got.Text, tc.kind.Name(), tc.text)
		}
	}
	_, errs := ParseYAML("t.yaml", []byte("a: !env HOME\nb: 1\n"), nil)
	if want := "t.yaml:1:4: unsupported YAML tag !env (remove the tag)"; errs.Err() == nil || errs.Err().Error() != want {
		t.Errorf("got %v, want %s", errs.Err(), want)
	}
}

func TestParseYAMLMergeKey(t *testing.T) {
	_, errs := ParseYAML("t.yaml", []byte("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n"), nil)
	want := "t.yaml:3:3: YAML merge keys (<<) are not supported (repeat the keys)"
	if err := errs.Err(); err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

// A "billion laughs" file is refused at its aliases: nothing is expanded,
// so memory stays that of the file.
func TestParseYAMLAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString(`a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(name + ": &" + name + " [" + strings.Repeat("*"+prev+",", 8) + "*" + prev + "]\n")
		prev = name
	}
	src := []byte(b.String())
	var v *Value
	var errs Errors
	allocs := testing.AllocsPerRun(3, func() { v, errs = ParseYAML("t.yaml", src, nil) })
	if len(errs) != 8*9 || !strings.Contains(errs[0].Msg, "aliases are not supported") {
		t.Fatalf("got %d errors, want one per alias: %v", len(errs), errs.Err())
	}
	if n := len(at(t, v, "i").Items); n != 9 {
		t.Errorf("i has %d items, want its 9 (failed) aliases", n)
	}
	if allocs > 5000 {
		t.Errorf("%v allocations for a %d-byte file", allocs, len(src))
	}
}

// Nesting deeper than MaxDepth is refused with a positioned error, quickly
// and in little memory: the parser stops at the first level too many. (The
// parser used before took 2.5 GB for an 80 KB file nested 40,000 deep.)
func TestParseYAMLDeepNesting(t *testing.T) {
	const n = 40000
	for _, tc := range []struct {
		name string
		src  string
		want string
	}{
		{"flow sequence", "a: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n", "t.yaml:1:104: YAML nests deeper than 100 levels (flatten the structure)"},
		{"flow mapping", "a: " + strings.Repeat("{a: ", n) + strings.Repeat("}", n) + "\n", "t.yaml:1:404: YAML nests deeper than 100 levels (flatten the structure)"},
		{"block sequence", "a:\n" + strings.Repeat("- ", n) + "x\n", "t.yaml:2:201: YAML nests deeper than 100 levels (flatten the structure)"},
		// 60 block levels holding 60 flow levels: each below the parser's
		// bound, together above it.
		{"block and flow", blockThenFlow(60, 60), "t.yaml:61:103: YAML nests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, errs := ParseYAML("t.yaml", []byte(tc.src), nil)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			err := errs.Err()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !strings.Contains(err.Error(), "deeper than 100 levels") || len(errs) != 1 {
				t.Fatalf("got:\n%v\nwant %s", err, tc.want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("allocated %d MB for a %d KB file", alloc>>20, len(tc.src)>>10)
			}
			if took > 2*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
	// MaxDepth itself is fine.
	mustParse(t, strings.Repeat("[", MaxDepth)+strings.Repeat("]", MaxDepth)+"\n", nil)
}

func blockThenFlow(block, flow int) string {
	var b strings.Builder
	for i := 0; i < block; i++ {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	b.WriteString(strings.Repeat(" ", block) + "b: " + strings.Repeat("[", flow) + strings.Repeat("]", flow) + "\n")
	return b.String()
}

// Duplicate keys in a large mapping are found without comparing every pair.
func TestParseYAMLLargeMapping(t *testing.T) {
	var b strings.Builder
	const n = 100000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "k%d: %d\n", i, i)
	}
	b.WriteString("k7: again\n")
	start := time.Now()
	v, errs := ParseYAML("t.yaml", []byte(b.String()), nil)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
	want := fmt.Sprintf(`t.yaml:%d:1: duplicate key "k7", first defined at t.yaml:8:1 (remove one of them)`, n+1)
	if err := errs.Err(); err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if len(v.Entries) != n {
		t.Errorf("%d entries", len(v.Entries))
	}
}

// Only the first document is read; the others are an error at their ---.
func TestParseYAMLDocuments(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"a: 1\n---\nb: 2\n---\nc: 3\n", "t.yaml:2:1: expected one YAML document, found 3"},
		{"---\na: 1\n...\n", ""},
		{"a: 1\n---\nb: [\n", "t.yaml:4:1: YAML syntax:"},
	} {
		_, errs := ParseYAML("t.yaml", []byte(tc.src), nil)
		got := ""
		if err := errs.Err(); err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("%q: got %q, want %q...", tc.src, got, tc.want)
		}
	}
}
