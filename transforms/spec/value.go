// Package spec describes configuration shapes and the positioned values
// decoded from YAML. One description drives validation, documentation and the
// JSON Schema, so the three never disagree.
package spec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Pos is a place in a config file. Line and Col start at 1.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Kind is the YAML kind of a Value.
type Kind int

const (
	KindNull Kind = iota
	KindString
	KindInt
	KindFloat
	KindBool
	KindList
	KindMap
)

// Name is the kind in words, for error messages.
func (k Kind) Name() string {
	switch k {
	case KindNull:
		return "null"
	case KindString:
		return "a string"
	case KindInt:
		return "an integer"
	case KindFloat:
		return "a number"
	case KindBool:
		return "a boolean"
	case KindList:
		return "a list"
	case KindMap:
		return "a mapping"
	}
	return "unknown"
}

// Value is a YAML value with its position. Scalars keep their text; maps keep
// their key order.
type Value struct {
	Pos     Pos
	Kind    Kind
	Text    string   // scalar text (after ${VAR} interpolation)
	Items   []*Value // list items
	Entries []Entry  // map entries, in file order
	// Secret marks a scalar that came from an environment variable, whose text
	// must never appear in errors or logs.
	Secret bool
	// Quoted is true for a scalar written in single or double quotes.
	Quoted bool
	// Inline is true for a scalar written on one line whose text is exactly
	// what the file shows between its quotes (no escapes, folding or ${...}),
	// so that a column inside Text maps onto a column of the file.
	Inline bool
	// Failed marks a value an error was already reported for (an alias, an
	// unset variable); checks skip it, so one mistake gives one message.
	Failed bool
}

// Entry is one key and value of a map.
type Entry struct {
	Key   *Value
	Value *Value
}

// IsScalar reports whether v is a string, number, boolean or null.
func (v *Value) IsScalar() bool { return v.Kind != KindList && v.Kind != KindMap }

// Get returns the value under key in a map, or nil.
func (v *Value) Get(key string) *Value {
	if e, ok := v.Entry(key); ok {
		return e.Value
	}
	return nil
}

// Entry returns the entry of key in a map, with its key's position.
func (v *Value) Entry(key string) (Entry, bool) {
	if v == nil {
		return Entry{}, false
	}
	for _, e := range v.Entries {
		if e.Key.Text == key {
			return e, true
		}
	}
	return Entry{}, false
}

// PosAt is the place in the file of byte i of a scalar's Text, for an error
// inside it (the bad token of an expression). It is exact only for a scalar
// written inline (see Inline); otherwise ok is false and the place is v's.
func (v *Value) PosAt(i int) (p Pos, ok bool) {
	if !v.Inline || v.Pos.Line == 0 {
		return v.Pos, false
	}
	p = v.Pos
	if v.Quoted {
		p.Col++ // the opening quote
	}
	p.Col += i
	return p, true
}

// Errorf returns an error positioned at v.
func (v *Value) Errorf(format string, args ...any) *Error {
	return &Error{Pos: v.Pos, Msg: fmt.Sprintf(format, args...)}
}

// Int returns the scalar as an integer; Validate has checked it.
func (v *Value) Int() int {
	n, _ := strconv.Atoi(v.Text)
	return n
}

// Float returns the scalar as a float; Validate has checked it.
func (v *Value) Float() float64 {
	f, _ := strconv.ParseFloat(v.Text, 64)
	return f
}

// Bool returns the scalar as a boolean; Validate has checked it.
func (v *Value) Bool() bool {
	b, _ := strconv.ParseBool(v.Text)
	return b
}

// Duration returns the scalar as a duration; Validate has checked it.
func (v *Value) Duration() time.Duration {
	d, _ := time.ParseDuration(v.Text)
	return d
}

// Strings returns the text of every item of a list of scalars.
func (v *Value) Strings() []string {
	out := make([]string, 0, len(v.Items))
	for _, it := range v.Items {
		out = append(out, it.Text)
	}
	return out
}

// Plain converts v to plain Go values (map[string]any, []any, string, int64,
// float64, bool, nil), for examples and generic decoding.
func (v *Value) Plain() any {
	switch v.Kind {
	case KindNull:
		return nil
	case KindInt:
		if n, err := strconv.ParseInt(v.Text, 10, 64); err == nil {
			return n
		}
		return json.Number(strings.TrimPrefix(v.Text, "+")) // every digit kept, as the codec keeps them
	case KindFloat:
		return v.Float()
	case KindBool:
		return v.Bool()
	case KindList:
		out := make([]any, len(v.Items))
		for i, it := range v.Items {
			out[i] = it.Plain()
		}
		return out
	case KindMap:
		out := make(map[string]any, len(v.Entries))
		for _, e := range v.Entries {
			out[e.Key.Text] = e.Value.Plain()
		}
		return out
	}
	return v.Text
}
