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
	if err := Decode(v, &got); err != nil {
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
	err := Decode(v, &out)
	if err == nil || !strings.HasPrefix(err.Error(), "t.yaml:2:5: expected an integer") {
		t.Fatalf("got %v", err)
	}
	if err := Decode(v, out); err == nil {
		t.Error("a non-pointer must be refused")
	}
}
