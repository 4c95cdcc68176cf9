package builtin

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// recordViolations writes a record's schema violations without its values:
// the validator's own messages quote them (`'ada@example.org' is not valid
// email`), and error texts reach logs, dead-letter headers and the status
// page. Each violation names the path, the keyword and what the schema
// wants; kinds whose messages hold only types, names, counts or
// positions keep them.
//
// They come sorted by path, then keyword: the validator walks a schema's
// properties in map order.
func recordViolations(leaves []*jsonschema.ValidationError) string {
	leaves = slices.Clone(leaves)
	slices.SortStableFunc(leaves, func(a, b *jsonschema.ValidationError) int {
		return cmp.Or(cmp.Compare(pointer(a.InstanceLocation), pointer(b.InstanceLocation)),
			cmp.Compare(strings.Join(a.ErrorKind.KeywordPath(), "/"), strings.Join(b.ErrorKind.KeywordPath(), "/")))
	})
	return joinViolations(leaves, func(l *jsonschema.ValidationError) string {
		return fmt.Sprintf("at '%s': %s", pointer(l.InstanceLocation), violation(l))
	})
}

// violation says what a leaf violation is about, without the value.
func violation(l *jsonschema.ValidationError) string {
	switch k := l.ErrorKind.(type) {
	case *kind.Type, *kind.Required, *kind.AdditionalProperties, *kind.AdditionalItems,
		*kind.MinProperties, *kind.MaxProperties, *kind.MinItems, *kind.MaxItems,
		*kind.MinLength, *kind.MaxLength, *kind.UniqueItems, *kind.MinContains, *kind.MaxContains,
		*kind.FalseSchema, *kind.DependentRequired, *kind.Dependency:
		// Types, property names, counts and positions: no values.
		return strings.TrimPrefix(strings.TrimPrefix(l.Error(), "at '"+pointer(l.InstanceLocation)+"': "), "jsonschema validation failed with ")
	case *kind.Format:
		return "is not valid " + k.Want
	case *kind.Pattern:
		return fmt.Sprintf("does not match pattern %q", k.Want)
	case *kind.Enum:
		return "is not one of the values the schema allows"
	case *kind.Const:
		return "is not the value the schema requires"
	case *kind.Minimum:
		return "is less than the minimum " + ratText(k.Want)
	case *kind.Maximum:
		return "is more than the maximum " + ratText(k.Want)
	case *kind.ExclusiveMinimum:
		return "is not more than the exclusive minimum " + ratText(k.Want)
	case *kind.ExclusiveMaximum:
		return "is not less than the exclusive maximum " + ratText(k.Want)
	case *kind.MultipleOf:
		return "is not a multiple of " + ratText(k.Want)
	}
	return "does not satisfy " + strings.Join(l.ErrorKind.KeywordPath(), "/")
}

// ratText writes a schema's bound: 10, 0.5, 0.333333.
func ratText(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	return strings.TrimRight(r.FloatString(6), "0")
}

// pointer is a JSON pointer to a value in the record.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}
