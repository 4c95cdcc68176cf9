package transforms

import (
	"slices"
	"strings"
)

// Fields is what a step, or an expression, does to the top-level fields of
// a record's JSON object. A chain all of whose steps declare it lets the
// engine decode only these fields and splice the changes into the record's
// bytes instead of decoding and encoding the whole value (see TopLevel).
type Fields struct {
	// Reads are the fields whose values are looked at and left as they
	// are.
	Reads []string
	// Writes are the fields that are set, changed or deleted (a change
	// inside a nested object is a write of its top-level field).
	Writes []string
	// Deletes are the fields that are removed without being looked at
	// (drop): they need not be decoded.
	Deletes []string
	// Only: afterwards the object holds no field but those named in Reads
	// and Writes; every other field is removed (keep).
	Only bool
}

// TopLevel is implemented by a Transform (or a Program) that touches
// nothing of a record's value but the top-level fields TopLevelFields
// names, when ok is true. The engine then gives it an object that holds
// only the fields every step of the chain names (those of the input that
// are present), and writes the output from the input's bytes: the fields no
// step names are copied as they were read. A transform that declares it
// promises that Apply
//
//   - looks at no other field, and does not depend on which others exist;
//   - changes the fields in Reads not at all, and none but those in Reads
//     and Writes (or, with Only, removes all others);
//   - returns no record or one, whose Value is an object (the one it got,
//     changed in place, or a new one); it may change the key, topic,
//     headers and timestamp.
//
// A Transform that does not implement it, or returns ok false, makes its
// chain take the full path: the whole value decoded, the output encoded
// from it. Fields are top-level names: for a nested path such as
// "customer.email" name its first part, "customer".
type TopLevel interface {
	TopLevelFields() (f Fields, ok bool)
}

// FieldMoves is implemented by a Transform whose whole effect on a
// record, when ok is true, is to rename top-level fields of its object
// (each value moved as it is, the renames in order, a missing field left
// alone) and to remove top-level fields (a missing one ignored), looking
// at no value: rename and drop of top-level names. It must implement
// TopLevel too. The engine's spliced path may then apply the step to the
// record's bytes, moving and leaving out members, instead of calling
// Apply: when it and the other such steps at the end of the chain name
// every field once, and no step before them, no `when` and no route names
// any of those fields. The step is still observed as applied to the
// record (Chain.Observe, untimed).
type FieldMoves interface {
	FieldMoves() (renames [][2]string, deletes []string, ok bool)
}

// IsTopLevelName reports whether path names a top-level field: it has no
// dot.
func IsTopLevelName(path string) bool { return !strings.Contains(path, ".") }

// FieldsOf returns the fields x declares through TopLevel; ok is false when
// x does not implement it or declines. A nil x touches nothing.
func FieldsOf(x any) (Fields, bool) {
	if x == nil {
		return Fields{}, true
	}
	t, ok := x.(TopLevel)
	if !ok {
		return Fields{}, false
	}
	return t.TopLevelFields()
}

// Root is the top-level field of a path: "customer" for "customer.email".
func Root(path string) string {
	root, _, _ := strings.Cut(path, ".")
	return root
}

// Roots returns the top-level fields of paths, without repeats.
func Roots(paths ...string) []string {
	var out []string
	for _, p := range paths {
		if r := Root(p); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// Merge adds the fields of g to f. A field written by one and read or
// deleted by the other is a write, and so is one deleted by one and read
// by the other: its value is needed.
func (f Fields) Merge(g Fields) Fields {
	all := func(a, b []string) []string {
		var out []string
		for _, x := range slices.Concat(a, b) {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
		return out
	}
	reads, writes, deletes := all(f.Reads, g.Reads), all(f.Writes, g.Writes), all(f.Deletes, g.Deletes)
	out := Fields{Only: f.Only || g.Only, Writes: writes}
	for _, d := range deletes {
		if slices.Contains(reads, d) {
			if !slices.Contains(out.Writes, d) {
				out.Writes = append(out.Writes, d)
			}
		} else if !slices.Contains(writes, d) {
			out.Deletes = append(out.Deletes, d)
		}
	}
	for _, r := range reads {
		if !slices.Contains(out.Writes, r) {
			out.Reads = append(out.Reads, r)
		}
	}
	return out
}

// TopLevelFields returns the fields the whole chain touches: ok when every
// step and every step's `when` declares its fields (TopLevel). An empty
// chain touches none.
func (c *Chain) TopLevelFields() (Fields, bool) {
	var all Fields
	for _, s := range c.Steps {
		if s.When != nil {
			w, ok := FieldsOf(s.When)
			if !ok {
				return Fields{}, false
			}
			all = all.Merge(Fields{Reads: w.Reads, Writes: w.Writes, Only: w.Only})
		}
		f, ok := FieldsOf(s.Transform)
		if !ok || s.Transform == nil {
			return Fields{}, false
		}
		if s.When != nil {
			// Where the step does not apply the fields stay: the values
			// of those it deletes are needed, and Only cannot be said.
			if f.Only {
				return Fields{}, false
			}
			f.Writes, f.Deletes = slices.Concat(f.Writes, f.Deletes), nil
		}
		all = all.Merge(f)
	}
	return all, true
}
