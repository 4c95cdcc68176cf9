package spec

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeIntoStruct(t *testing.T) {
	type rule struct {
		Field string
		Limit int `yaml:"max"`
	}
	type cfg struct {
		Name     string
		Rates    map[string]float64
		Every    time.Duration
		Enabled  bool
		Rules    []rule
		MaxItems uint
		Raw      *Value
		Extra    any
		Missing  string
	}
	v, errs := ParseYAML("t.yaml", []byte("name: conv\nrates: {USD: 0.5, EUR: 1}\nevery: 250ms\nenabled: true\nrules: [{field: a, max: 3}]\nmax_items: 7\nraw: 'amount > 1'\nextra: {k: [1, x]}\n"), nil)
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	var got cfg
	if err := Decode(v, nil, &got); err != nil {
		t.Fatal(err)
	}
	want := cfg{Name: "conv", Rates: map[string]float64{"USD": 0.5, "EUR": 1}, Every: 250 * time.Millisecond, Enabled: true,
		Rules: []rule{{Field: "a", Limit: 3}}, MaxItems: 7, Raw: v.Get("raw"), Extra: map[string]any{"k": []any{int64(1), "x"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got.Raw.Pos.Line != 7 {
		t.Errorf("raw value keeps its position, got %v", got.Raw.Pos)
	}
}

func TestDecodeReportsMismatchAtItsPlace(t *testing.T) {
	v, _ := ParseYAML("t.yaml", []byte("a: 1\nb: [x]\n"), nil)
	var out struct {
		A int
		B []int
	}
	err := Decode(v, nil, &out)
	if err == nil || !strings.HasPrefix(err.Error(), "t.yaml:2:5: expected an integer") {
		t.Fatalf("got %v", err)
	}
	if err := Decode(v, nil, out); err == nil {
		t.Error("a non-pointer must be refused")
	}
}

// A default is declared once, in the spec, and the decoder applies it to a
// field the config does not give: nested, in list items, and in the
// alternative of a OneOf that the value takes.
func TestDecodeAppliesDefaults(t *testing.T) {
	rule := Object("",
		&Field{Name: "field", Type: String(""), Required: true},
		&Field{Name: "max", Type: Int(""), Default: 10},
	)
	shape := OneOf("",
		String("The name alone."),
		Object("",
			&Field{Name: "name", Type: String(""), Required: true},
			&Field{Name: "every", Type: Duration(""), Default: "250ms"},
			&Field{Name: "enabled", Type: Bool(""), Default: true},
			&Field{Name: "ratio", Type: Float(""), Default: 0.5},
			&Field{Name: "tags", Type: List(String(""), 0, ""), Default: []any{"a", "b"}},
			&Field{Name: "raw", Type: Expr(""), Default: "x > 1"},
			&Field{Name: "rules", Type: List(rule, 0, "")},
			&Field{Name: "nested", Type: Object("", &Field{Name: "depth", Type: Int(""), Default: 3})},
			&Field{Name: "note", Type: String("")},
		),
	)
	type cfg struct {
		Name    string
		Every   time.Duration
		Enabled bool
		Ratio   float64
		Tags    []string
		Raw     *Value
		Rules   []struct {
			Field string
			Max   int
		}
		Nested struct{ Depth int }
		Note   string
	}
	if err := shape.CheckDefaults(); err != nil {
		t.Fatal(err)
	}
	v, errs := ParseYAML("t.yaml", []byte("name: n\nenabled: false\nrules: [{field: a}, {field: b, max: 2}]\n"), nil)
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	if errs := Validate(v, shape); len(errs) > 0 {
		t.Fatal(errs)
	}
	var got cfg
	if err := Decode(v, shape, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "n" || got.Every != 250*time.Millisecond || got.Enabled || got.Ratio != 0.5 ||
		!reflect.DeepEqual(got.Tags, []string{"a", "b"}) || got.Nested.Depth != 3 || got.Note != "" ||
		len(got.Rules) != 2 || got.Rules[0].Max != 10 || got.Rules[1].Max != 2 {
		t.Errorf("got %+v", got)
	}
	// A default that is a *Value stands at the place of its object.
	if got.Raw == nil || got.Raw.Text != "x > 1" || got.Raw.Pos != v.Pos {
		t.Errorf("raw = %+v", got.Raw)
	}
	// Without the shape there are no defaults.
	var plain cfg
	if err := Decode(v, nil, &plain); err != nil || plain.Every != 0 || plain.Ratio != 0 {
		t.Errorf("no shape: %+v, %v", plain, err)
	}
	// An empty mapping takes every default.
	var d cfg
	if err := Decode(&Value{Kind: KindMap}, shape, &d); err != nil || d.Every != 250*time.Millisecond || !d.Enabled || d.Nested.Depth != 3 {
		t.Errorf("defaults alone = %+v, %v", d, err)
	}
}

func TestCheckDefaults(t *testing.T) {
	bad := Object("",
		&Field{Name: "n", Type: Int(""), Default: "ten"},
		&Field{Name: "o", Type: Object("", &Field{Name: "d", Type: Duration(""), Default: "soon"})},
		&Field{Name: "m", Type: Map("k", String(""), 0, ""), Default: map[string]any{}},
		&Field{Name: "ok", Type: Enum("", "a", "b"), Default: "a"},
	)
	want := "default of n: expected an integer, got a string\n" +
		`default of o.d: expected a duration such as 100ms or 5s, got "soon"` + "\n" +
		"default of m: a map[string]interface {} cannot be a default"
	if err := bad.CheckDefaults(); err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
