package spec

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
	Default  any // shown in docs and the JSON Schema
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
