package spec

import (
	"errors"
	"fmt"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"filter", "filter", 0},
		{"filtr", "filter", 1},
		{"fliter", "filter", 2}, // a transposition is two edits
		{"kitten", "sitting", 3},
		{"drop", "mapp", 3},
		{"abc", "xyz", 3},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (not symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	transforms := []string{"drop", "filter", "rename", "set"}
	keys := []string{"version", "kafka", "runner", "pipelines"}
	for _, tc := range []struct {
		name       string
		candidates []string
		want       string
	}{
		{"filtr", transforms, "filter"},
		{"FILTER", transforms, "filter"}, // case does not count
		{"renam", transforms, "rename"},
		{"sett", transforms, "set"},
		{"mapp", transforms, ""}, // three edits in four letters is not a typo
		{"enrich", transforms, ""},
		{"pipeline", keys, "pipelines"},
		{"verison", keys, "version"},
		{"runer", keys, "runner"},
		{"kafak", keys, "kafka"},
		{"x", keys, ""},
		{"", keys, ""},
		{"anything", nil, ""},
		{"gruop", []string{"topic", "group", "start"}, "group"},
		{"yesterday", []string{"oldest", "newest"}, ""},
		// Kafka's words suggest Millrace's, though far in edits.
		{"latest", []string{"oldest", "newest"}, "newest"},
		{"Earliest", []string{"oldest", "newest"}, "oldest"},
		{"lowercase", []string{"lower", "upper"}, "lower"},
		// Only when Millrace's word is a candidate.
		{"latest", []string{"a", "b"}, ""},
		{"olddest", []string{"oldest", "newest"}, "oldest"},
		// A tie goes to the candidate that sorts first, whatever the order.
		{"bat", []string{"cat", "bar"}, "bar"},
		{"bat", []string{"bar", "cat"}, "bar"},
		// At most 3 edits, however long the name.
		{"shutdown_timeout_in_seconds", []string{"shutdown_timeout"}, ""},
		{"shutdowntimeout", []string{"shutdown_timeout"}, "shutdown_timeout"},
	} {
		if got := Suggest(tc.name, tc.candidates); got != tc.want {
			t.Errorf("Suggest(%q, %q) = %q, want %q", tc.name, tc.candidates, got, tc.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Pos: Pos{File: "p.yaml", Line: 3, Col: 7}, Msg: "bad"}
	if got := e.Error(); got != "p.yaml:3:7: bad" {
		t.Errorf("got %q", got)
	}
	if got := e.WithHint("fix it").Error(); got != "p.yaml:3:7: bad (fix it)" {
		t.Errorf("got %q", got)
	}
	noLine := &Error{Pos: Pos{File: "p.yaml"}, Msg: "cannot read"}
	if got := noLine.Error(); got != "p.yaml: cannot read" {
		t.Errorf("got %q", got)
	}
}

func TestErrorsErrSortsByPlace(t *testing.T) {
	var es Errors
	if es.Err() != nil {
		t.Fatal("no errors must give a nil error")
	}
	at := func(file string, line, col int, msg string) *Error {
		return &Error{Pos: Pos{File: file, Line: line, Col: col}, Msg: msg}
	}
	es = Errors{
		at("b.yaml", 1, 1, "b"),
		at("a.yaml", 9, 1, "a9"),
		at("a.yaml", 2, 5, "a2-5 first"),
		at("a.yaml", 2, 3, "a2-3"),
		at("a.yaml", 2, 5, "a2-5 second"),
	}
	err := es.Err()
	want := "a.yaml:2:3: a2-3\na.yaml:2:5: a2-5 first\na.yaml:2:5: a2-5 second\na.yaml:9:1: a9\nb.yaml:1:1: b"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	var back Errors
	if !errors.As(err, &back) || len(back) != 5 {
		t.Errorf("Err must return the Errors themselves, got %T", err)
	}
}

func TestErrorsAdd(t *testing.T) {
	pos := Pos{File: "f", Line: 4, Col: 2}
	var es Errors
	es.Add(pos, nil)
	es.Add(pos, ErrReported)
	es.Add(pos, fmt.Errorf("wrapped: %w", ErrReported))
	if len(es) != 0 {
		t.Fatalf("nil and ErrReported must add nothing, got %v", es)
	}
	es.Add(pos, errors.New("plain"))
	one := &Error{Pos: Pos{File: "f", Line: 1, Col: 1}, Msg: "one"}
	es.Add(pos, fmt.Errorf("wrapped: %w", one))
	es.Add(pos, Errors{{Pos: pos, Msg: "x"}, {Pos: pos, Msg: "y"}})
	want := []string{"f:4:2: plain", "f:1:1: one", "f:4:2: x", "f:4:2: y"}
	if len(es) != len(want) {
		t.Fatalf("got %d errors: %v", len(es), es)
	}
	for i, w := range want {
		if es[i].Error() != w {
			t.Errorf("error %d = %q, want %q", i, es[i], w)
		}
	}
	if es[1] != one {
		t.Error("a wrapped *Error must be added as is")
	}
}
