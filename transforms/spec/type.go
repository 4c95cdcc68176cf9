package spec

import (
	"errors"
	"fmt"
)

// TypeKind says what a Type accepts.
type TypeKind int

const (
	TString   TypeKind = iota // any scalar, read as text
	TExpr                     // an expression (a string), compiled at load
	TInt                      // an integer
	TFloat                    // a number
	TBool                     // true or false
	TDuration                 // a Go duration such as 100ms or 5s
	TList                     // a list of Elem
	TMap                      // a mapping from free-form keys to Elem
	TObject                   // a mapping with the declared Fields only
	TOneOf                    // the first of Alts whose YAML kind fits
	TAny                      // anything
)

// Type describes the shape of a config value.
type Type struct {
	Kind   TypeKind
	Elem   *Type    // TList, TMap
	Fields []*Field // TObject
	Alts   []*Type  // TOneOf
	Enum   []string // TString: the allowed values, when set
	// MinItems is the least number of list items or map entries.
	MinItems int
	// KeyDoc describes the keys of a TMap, for docs ("field path").
	KeyDoc string
	Doc    string
}

// Field is one named entry of a TObject.
type Field struct {
	Name     string
	Type     *Type
	Required bool
	// Default is the value of the field when it is not given: spec.Decode
	// sets it, and the docs and the JSON Schema show it. A string, a
	// boolean, an int, a float64, or a list of those, fitting Type.
	Default  any
	Doc      string
	Examples []any
}

// Constructors that read well in specs.

func String(doc string) *Type   { return &Type{Kind: TString, Doc: doc} }
func Expr(doc string) *Type     { return &Type{Kind: TExpr, Doc: doc} }
func Int(doc string) *Type      { return &Type{Kind: TInt, Doc: doc} }
func Float(doc string) *Type    { return &Type{Kind: TFloat, Doc: doc} }
func Bool(doc string) *Type     { return &Type{Kind: TBool, Doc: doc} }
func Duration(doc string) *Type { return &Type{Kind: TDuration, Doc: doc} }
func Any(doc string) *Type      { return &Type{Kind: TAny, Doc: doc} }

// Enum is a string restricted to the given values.
func Enum(doc string, values ...string) *Type {
	return &Type{Kind: TString, Enum: values, Doc: doc}
}

// List is a list of elem; min is the least number of items.
func List(elem *Type, min int, doc string) *Type {
	return &Type{Kind: TList, Elem: elem, MinItems: min, Doc: doc}
}

// Map is a mapping from free-form keys (described by keyDoc) to elem.
func Map(keyDoc string, elem *Type, min int, doc string) *Type {
	return &Type{Kind: TMap, Elem: elem, KeyDoc: keyDoc, MinItems: min, Doc: doc}
}

// Object is a mapping with exactly the given fields.
func Object(doc string, fields ...*Field) *Type {
	return &Type{Kind: TObject, Fields: fields, Doc: doc}
}

// OneOf accepts the first alternative whose YAML kind fits the value.
func OneOf(doc string, alts ...*Type) *Type {
	return &Type{Kind: TOneOf, Alts: alts, Doc: doc}
}

// Describe names the type in words, for error messages and docs.
func (t *Type) Describe() string {
	switch t.Kind {
	case TString:
		if len(t.Enum) > 0 {
			return "one of " + quoteList(t.Enum)
		}
		return "a string"
	case TExpr:
		return "an expression (string)"
	case TInt:
		return "an integer"
	case TFloat:
		return "a number"
	case TBool:
		return "a boolean"
	case TDuration:
		return "a duration such as 100ms or 5s"
	case TList:
		return "a list of " + t.Elem.plural()
	case TMap:
		return "a mapping of " + t.KeyDoc + " to " + t.Elem.plural()
	case TObject:
		return "a mapping"
	case TOneOf:
		s := ""
		for i, a := range t.Alts {
			if i > 0 {
				if i == len(t.Alts)-1 {
					s += " or "
				} else {
					s += ", "
				}
			}
			s += a.Describe()
		}
		return s
	}
	return "any value"
}

func (t *Type) plural() string {
	switch t.Kind {
	case TString:
		if len(t.Enum) > 0 {
			return "values among " + quoteList(t.Enum)
		}
		return "strings"
	case TExpr:
		return "expressions"
	case TInt:
		return "integers"
	case TFloat:
		return "numbers"
	case TBool:
		return "booleans"
	case TDuration:
		return "durations"
	case TObject, TMap:
		return "mappings"
	case TList:
		return "lists"
	}
	return "values"
}

// CheckDefaults reports every declared Default that does not fit its
// field's type or that Decode cannot apply: a programming error, which
// Registry.Register turns into a panic.
func (t *Type) CheckDefaults() error {
	var errs []error
	t.checkDefaults("", &errs)
	return errors.Join(errs...)
}

func (t *Type) checkDefaults(path string, errs *[]error) {
	if t == nil {
		return
	}
	for _, f := range t.Fields {
		at := f.Name
		if path != "" {
			at = path + "." + f.Name
		}
		if f.Default != nil {
			if dv := defaultValue(f.Default, Pos{}); dv == nil {
				*errs = append(*errs, fmt.Errorf("default of %s: a %T cannot be a default", at, f.Default))
			} else if verrs := Validate(dv, f.Type); len(verrs) > 0 {
				*errs = append(*errs, fmt.Errorf("default of %s: %s", at, verrs[0].Msg))
			}
		}
		f.Type.checkDefaults(at, errs)
	}
	t.Elem.checkDefaults(path, errs)
	for _, a := range t.Alts {
		a.checkDefaults(path, errs)
	}
}

// shapeOf is the type a value of t is decoded with: for a TOneOf the
// alternative v fits, as Validate chooses it.
func (t *Type) shapeOf(v *Value) *Type {
	if t == nil || t.Kind != TOneOf {
		return t
	}
	for _, a := range t.Alts {
		if fits(v, a) {
			return a.shapeOf(v)
		}
	}
	return nil
}

// elem is the type of a list's items or a map's values.
func (t *Type) elem() *Type {
	if t == nil || (t.Kind != TList && t.Kind != TMap) {
		return nil
	}
	return t.Elem
}

// fieldType is the type of an object's field, or nil.
func (t *Type) fieldType(name string) *Type {
	if f := t.field(name); f != nil {
		return f.Type
	}
	return nil
}

// FieldNames lists the names of an object's fields.
func (t *Type) FieldNames() []string {
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = f.Name
	}
	return names
}

func quoteList(vs []string) string {
	s := ""
	for i, v := range vs {
		if i > 0 {
			s += ", "
		}
		s += "\"" + v + "\""
	}
	return s
}
