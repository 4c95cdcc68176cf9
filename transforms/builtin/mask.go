package builtin

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// defaultMask replaces a value when no other replacement is given.
const defaultMask = "****"

var maskOptions = spec.Object("How to mask the field; give one of with, keep_first/keep_last or pattern.",
	&spec.Field{Name: "with", Type: spec.String(""), Default: defaultMask,
		Doc: "Replace the whole value, whatever its type, by this text."},
	&spec.Field{Name: "keep_first", Type: spec.Int(""),
		Doc: "Show this many characters at the start and mask the others one for one."},
	&spec.Field{Name: "keep_last", Type: spec.Int(""),
		Doc: "Show this many characters at the end and mask the others one for one."},
	&spec.Field{Name: "char", Type: spec.String(""), Default: "*",
		Doc: "The character that hides each masked character (with keep_first/keep_last)."},
	&spec.Field{Name: "pattern", Type: spec.String(""),
		Doc: "Go regular expression (RE2 syntax); every match is replaced."},
	&spec.Field{Name: "replacement", Type: spec.String(""), Default: defaultMask,
		Doc: "What a match of pattern becomes; `$1` or `$name` insert a capture group."},
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "mask",
		Summary: "Hide field values: fixed text, all but the first/last characters, or regex replace.",
		Description: "The config maps each field path to how its value is masked; a list of field " +
			"paths replaces each value by `" + defaultMask + "`. A mapping value is either the " +
			"replacement text (`password: \"[hidden]\"`) or an options object with one of these " +
			"modes:\n\n" +
			"| mode | options | result |\n| --- | --- | --- |\n" +
			"| fixed | `with: TEXT` | the whole value, of any type, becomes TEXT |\n" +
			"| partial | `keep_first: N`, `keep_last: N`, `char: \"*\"` | every other character becomes `char`; the length is kept |\n" +
			"| regex | `pattern: RE`, `replacement: TEXT` | each match of RE is replaced; `$1` inserts a group |\n\n" +
			"An empty options object (`{}`) is the fixed mode with `" + defaultMask + "`.\n\n" +
			"The partial and regex modes work on strings; numbers are masked as their decimal " +
			"text and become strings. A boolean, object or list in those modes fails the record. " +
			"In the partial mode, a value that has no more characters than are to be shown is " +
			"masked whole, so a short value is never revealed. Missing fields and `null` are left " +
			"alone. Patterns are compiled when the config is loaded. Write a literal `$` in a " +
			"replacement as `$$`, and a group in braces as `$${1}` (a plain `${...}` is an " +
			"environment variable in the config). This covers Kafka Connect's `MaskField`.",
		Config: spec.OneOf("Field paths, or field path to replacement text or options.",
			spec.List(spec.String("Field path."), 1, ""),
			spec.Map("field path", spec.OneOf("", spec.String("Replacement text."), maskOptions), 1, ""),
		),
		Examples: []transforms.Example{
			{Title: "Hide passwords", Config: `[password, auth.token]`, Input: `{"user":"ada","password":"s3cret","auth":{"token":"abc"}}`,
				Output: []string{`{"auth":{"token":"****"},"password":"****","user":"ada"}`}},
			{Title: "Last four digits of a card", Config: `{card.number: {keep_last: 4}}`, Input: `{"card":{"number":"4111111111111111"}}`,
				Output: []string{`{"card":{"number":"************1111"}}`}},
			{Title: "Fixed text and a regex", Config: `{ssn: "[redacted]", email: {pattern: '^[^@]+', replacement: '***'}}`,
				Input:  `{"ssn":"078-05-1120","email":"ada@example.com"}`,
				Output: []string{`{"email":"***@example.com","ssn":"[redacted]"}`}},
			{Title: "A short value is masked whole", Config: `{pin: {keep_last: 4, char: "#"}}`, Input: `{"pin":"123"}`,
				Output: []string{`{"pin":"###"}`}},
			{Title: "Partial masks need text", Config: `{card: {keep_last: 4}}`, Input: `{"card":{"number":"4111"}}`,
				Error: "field card is an object"},
		},
	}, newMask)
}

// masker turns one value into its masked form.
type masker struct {
	with      string
	partial   bool
	first     int
	last      int
	char      string
	re        *regexp.Regexp
	replace   string
	modeName  string
	textModes bool
}

type maskField struct {
	path string
	m    *masker
}

type mask []maskField

func newMask(b *transforms.Build) (transforms.Transform, error) {
	var t mask
	if b.Config.Kind == spec.KindList {
		// Each field as with empty options: the fixed mode's default.
		m, err := newMasker(&spec.Value{Pos: b.Config.Pos, Kind: spec.KindMap})
		if err != nil {
			return nil, err
		}
		for _, p := range b.Config.Strings() {
			t = append(t, maskField{p, m})
		}
		return t, nil
	}
	var errs spec.Errors
	for _, e := range b.Config.Entries {
		m, err := newMasker(e.Value)
		if err != nil {
			errs.Add(e.Value.Pos, err)
			continue
		}
		t = append(t, maskField{e.Key.Text, m})
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// maskConfig is the options of one field; maskOptions declares the
// defaults.
type maskConfig struct {
	With        string
	KeepFirst   int
	KeepLast    int
	Char        string
	Pattern     string
	Replacement string
}

func newMasker(v *spec.Value) (*masker, error) {
	if v.IsScalar() {
		return &masker{with: v.Text}, nil
	}
	var c maskConfig
	if err := spec.Decode(v, maskOptions, &c); err != nil {
		return nil, err
	}
	// Which options are given decides the mode; the values, defaults
	// included, come from c.
	with, first, last := v.Get("with"), v.Get("keep_first"), v.Get("keep_last")
	char, pattern, repl := v.Get("char"), v.Get("pattern"), v.Get("replacement")
	modes := 0
	for _, set := range []bool{with != nil, first != nil || last != nil, pattern != nil} {
		if set {
			modes++
		}
	}
	if modes > 1 {
		return nil, v.Errorf("mask options mix modes").WithHint("give one of with, keep_first/keep_last or pattern")
	}
	var errs spec.Errors
	m := &masker{with: c.With, first: c.KeepFirst, last: c.KeepLast, char: c.Char, replace: c.Replacement}
	for _, n := range []*spec.Value{first, last} {
		if n != nil && n.Int() < 0 {
			errs = append(errs, n.Errorf("must not be negative"))
		}
	}
	if first != nil || last != nil {
		m.partial, m.textModes = true, true
		m.modeName = "keep_first/keep_last"
	}
	if char != nil {
		if !m.partial {
			errs = append(errs, char.Errorf("char applies to keep_first and keep_last"))
		} else if utf8.RuneCountInString(c.Char) != 1 {
			errs = append(errs, char.Errorf("char must be one character"))
		}
	}
	if repl != nil && pattern == nil {
		errs = append(errs, repl.Errorf("replacement applies to pattern").WithHint("add pattern: <regular expression>"))
	}
	if pattern != nil {
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			e := pattern.Errorf("invalid pattern %q: %v", pattern.Text, err)
			if pattern.Secret {
				e.Msg = "invalid pattern from the environment; its text is not shown"
			}
			errs = append(errs, e.WithHint("patterns use Go's RE2 syntax"))
		}
		m.re, m.textModes, m.modeName = re, true, "pattern"
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

func (t mask) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	for _, f := range t {
		v, ok := transforms.Get(obj, f.path)
		if !ok || v == nil {
			continue
		}
		masked, err := f.m.mask(f.path, v)
		if err != nil {
			return nil, err
		}
		if err := transforms.Set(obj, f.path, masked); err != nil {
			return nil, err
		}
	}
	return r.One(), nil
}

func (m *masker) mask(path string, v any) (any, error) {
	if !m.textModes {
		return m.with, nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int, float64, json.Number:
		s, _ = textOf(x)
	default:
		return nil, fieldError(path, "is %s; %s masks apply to strings and numbers", kindOf(v), m.modeName)
	}
	if m.re != nil {
		return m.re.ReplaceAllString(s, m.replace), nil
	}
	return m.partialMask(s), nil
}

// partialMask shows the first and last characters and hides the others,
// or hides every character when the shown ones would be all of them.
func (m *masker) partialMask(s string) string {
	n := utf8.RuneCountInString(s)
	if m.first+m.last >= n {
		return strings.Repeat(m.char, n)
	}
	start := 0
	for range m.first {
		_, size := utf8.DecodeRuneInString(s[start:])
		start += size
	}
	end := len(s)
	for range m.last {
		_, size := utf8.DecodeLastRuneInString(s[:end])
		end -= size
	}
	var b strings.Builder
	b.Grow(start + (n-m.first-m.last)*len(m.char) + len(s) - end)
	b.WriteString(s[:start])
	for range n - m.first - m.last {
		b.WriteString(m.char)
	}
	b.WriteString(s[end:])
	return b.String()
}

func (t mask) TopLevelFields() (transforms.Fields, bool) {
	var f transforms.Fields
	for _, m := range t {
		f = f.Merge(transforms.Fields{Writes: []string{transforms.Root(m.path)}})
	}
	return f, true
}
