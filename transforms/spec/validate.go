package spec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Validate checks v against t and returns every mismatch it finds, each at
// the position of the offending value. Unknown keys get a "did you mean" hint.
func Validate(v *Value, t *Type) Errors {
	var errs Errors
	validate(v, t, &errs)
	return errs
}

func validate(v *Value, t *Type, errs *Errors) {
	if v == nil || t == nil || v.Failed {
		return
	}
	mismatch := func() {
		*errs = append(*errs, v.Errorf("expected %s, got %s", t.Describe(), v.Kind.Name()))
	}
	switch t.Kind {
	case TAny:
	case TString:
		if !v.IsScalar() || v.Kind == KindNull {
			mismatch()
			return
		}
		if len(t.Enum) > 0 && !contains(t.Enum, v.Text) {
			e := &Error{Pos: v.Pos, Msg: fmt.Sprintf("expected %s", t.Describe())}
			if !v.Secret {
				e.Msg += fmt.Sprintf(", got %q", v.Text)
				// A number one digit off (a version) is no typo of another.
				if s := Suggest(v.Text, t.Enum); s != "" && !isNumber(v.Text) {
					e.Hint = fmt.Sprintf("did you mean %q?", s)
				}
			}
			*errs = append(*errs, e)
		}
	case TExpr:
		if !v.IsScalar() || v.Kind == KindNull {
			mismatch()
			return
		}
		if strings.TrimSpace(v.Text) == "" {
			*errs = append(*errs, v.Errorf("empty expression"))
		}
	case TInt:
		if v.Kind == KindInt && !v.Secret {
			if _, err := strconv.Atoi(v.Text); err != nil {
				*errs = append(*errs, v.Errorf("integer %s is out of range", v.Text))
			}
		} else if _, err := strconv.Atoi(v.Text); err != nil || !v.IsScalar() || v.Kind == KindNull {
			mismatch()
		}
	case TFloat:
		if _, err := strconv.ParseFloat(v.Text, 64); err != nil || !v.IsScalar() || v.Kind == KindNull {
			mismatch()
		}
	case TBool:
		if v.Kind != KindBool {
			mismatch()
			if isYAML11Bool(v) {
				(*errs)[len(*errs)-1].Hint = "YAML 1.2 reads " + v.Text + " as a string: write true or false"
			}
		}
	case TDuration:
		if !v.IsScalar() || v.Kind == KindNull {
			mismatch()
			return
		}
		if _, err := time.ParseDuration(v.Text); err != nil {
			e := v.Errorf("expected %s", t.Describe())
			if !v.Secret {
				e.Msg += fmt.Sprintf(", got %q", v.Text)
			}
			*errs = append(*errs, e.WithHint("use a number with a unit: ms, s, m or h"))
		}
	case TList:
		if v.Kind != KindList {
			mismatch()
			return
		}
		if len(v.Items) < t.MinItems {
			*errs = append(*errs, v.Errorf("expected at least %d item%s, got %d", t.MinItems, plural(t.MinItems, "", "s"), len(v.Items)))
		}
		for _, it := range v.Items {
			validate(it, t.Elem, errs)
		}
	case TMap:
		if v.Kind != KindMap {
			mismatch()
			return
		}
		if len(v.Entries) < t.MinItems {
			*errs = append(*errs, v.Errorf("expected at least %d entr%s, got %d", t.MinItems, plural(t.MinItems, "y", "ies"), len(v.Entries)))
		}
		for _, e := range v.Entries {
			validate(e.Value, t.Elem, errs)
		}
	case TObject:
		if v.Kind != KindMap {
			mismatch()
			return
		}
		validateObject(v, t, errs)
	case TOneOf:
		for _, alt := range t.Alts {
			if fits(v, alt) {
				validate(v, alt, errs)
				return
			}
		}
		mismatch()
	}
}

func validateObject(v *Value, t *Type, errs *Errors) {
	names := t.FieldNames()
	for _, e := range v.Entries {
		f := t.field(e.Key.Text)
		if f == nil {
			err := e.Key.Errorf("unknown key %q", e.Key.Text)
			if s := Suggest(e.Key.Text, names); s != "" {
				err.Hint = fmt.Sprintf("did you mean %q?", s)
			} else {
				err.Hint = "allowed keys: " + strings.Join(names, ", ")
			}
			*errs = append(*errs, err)
			continue
		}
		validate(e.Value, f.Type, errs)
	}
	for _, f := range t.Fields {
		if f.Required && v.Get(f.Name) == nil {
			*errs = append(*errs, v.Errorf("missing required key %q", f.Name).WithHint(requiredHint(f)))
		}
	}
}

// requiredHint shows an example of a missing field when the spec has a plain
// one, else describes the field. ("add topic: Topic to consume." would read as
// YAML to copy.)
func requiredHint(f *Field) string {
	for _, ex := range f.Examples {
		switch ex.(type) {
		case string, int, int64, float64, bool:
			return fmt.Sprintf("add %s: %v", f.Name, ex)
		}
	}
	if f.Doc != "" {
		return f.Doc
	}
	return f.Type.Doc
}

func (t *Type) field(name string) *Field {
	if t == nil {
		return nil
	}
	for _, f := range t.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// fits reports whether the YAML kind of v suits t, without looking deeper.
func fits(v *Value, t *Type) bool {
	switch t.Kind {
	case TList:
		return v.Kind == KindList
	case TMap, TObject:
		return v.Kind == KindMap
	case TOneOf:
		for _, a := range t.Alts {
			if fits(v, a) {
				return true
			}
		}
		return false
	case TAny:
		return true
	}
	return v.IsScalar() && v.Kind != KindNull
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// isYAML11Bool reports an unquoted yes, no, on, off, y or n: booleans in
// YAML 1.1, strings in the YAML 1.2 the config is read as.
func isYAML11Bool(v *Value) bool {
	if v.Kind != KindString || v.Quoted || v.Secret {
		return false
	}
	switch strings.ToLower(v.Text) {
	case "yes", "no", "on", "off", "y", "n":
		return true
	}
	return false
}
