package spec

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var (
	durationType = reflect.TypeOf(time.Duration(0))
	valueType    = reflect.TypeOf(&Value{})
)

// Decode copies a validated value into out, a pointer to a struct, map,
// slice or scalar. t is the shape v was validated against (nil: none):
// where an object of t declares a Default for a field that v does not
// give, Decode sets the field to the default, as if it had been written,
// so that a default is declared once, in the spec. An absent object field
// without a default leaves the Go field as it is, but a struct is filled
// with the defaults of its own fields.
//
// Struct fields are matched by their `yaml` tag, else by their name in
// snake_case. time.Duration reads "100ms"; a *Value field receives the raw
// value (for expressions that need their position; a default comes as a
// Value at the place of its object); an `any` field receives plain Go
// values. A value whose error was reported already (Value.Failed) counts
// as absent, except for a *Value field, which receives it. Validate the value against its spec first: Decode reports
// mismatches but does not suggest fixes.
func Decode(v *Value, t *Type, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("spec.Decode: out must be a non-nil pointer, got %T", out)
	}
	return decode(v, t, rv.Elem())
}

func decode(v *Value, t *Type, dst reflect.Value) error {
	if v == nil {
		return nil
	}
	t = t.shapeOf(v)
	if dst.Type() == valueType {
		dst.Set(reflect.ValueOf(v))
		return nil
	}
	if v.Failed {
		return nil // reported already: one mistake, one message
	}
	if dst.Type() == durationType {
		d, err := time.ParseDuration(v.Text)
		if err != nil {
			return v.Errorf("expected a duration such as 100ms or 5s")
		}
		dst.SetInt(int64(d))
		return nil
	}
	switch dst.Kind() {
	case reflect.Interface:
		dst.Set(reflect.ValueOf(v.Plain()))
	case reflect.Pointer:
		p := reflect.New(dst.Type().Elem())
		if err := decode(v, t, p.Elem()); err != nil {
			return err
		}
		dst.Set(p)
	case reflect.String:
		if !v.IsScalar() {
			return v.Errorf("expected a string, got %s", v.Kind.Name())
		}
		dst.SetString(v.Text)
	case reflect.Bool:
		if v.Kind != KindBool {
			return v.Errorf("expected a boolean, got %s", v.Kind.Name())
		}
		dst.SetBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(v.Text, 10, dst.Type().Bits())
		if err != nil || !v.IsScalar() {
			return v.Errorf("expected an integer, got %s", v.Kind.Name())
		}
		dst.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(v.Text, 10, dst.Type().Bits())
		if err != nil || !v.IsScalar() {
			return v.Errorf("expected a non-negative integer, got %s", v.Kind.Name())
		}
		dst.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(v.Text, dst.Type().Bits())
		if err != nil || !v.IsScalar() {
			return v.Errorf("expected a number, got %s", v.Kind.Name())
		}
		dst.SetFloat(f)
	case reflect.Slice:
		if v.Kind != KindList {
			return v.Errorf("expected a list, got %s", v.Kind.Name())
		}
		s := reflect.MakeSlice(dst.Type(), len(v.Items), len(v.Items))
		for i, it := range v.Items {
			if err := decode(it, t.elem(), s.Index(i)); err != nil {
				return err
			}
		}
		dst.Set(s)
	case reflect.Map:
		if v.Kind != KindMap {
			return v.Errorf("expected a mapping, got %s", v.Kind.Name())
		}
		if dst.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("spec.Decode: map keys must be strings, got %s", dst.Type())
		}
		m := reflect.MakeMapWithSize(dst.Type(), len(v.Entries))
		for _, e := range v.Entries {
			ev := reflect.New(dst.Type().Elem()).Elem()
			if err := decode(e.Value, t.elem(), ev); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(e.Key.Text).Convert(dst.Type().Key()), ev)
		}
		dst.Set(m)
	case reflect.Struct:
		if v.Kind != KindMap {
			return v.Errorf("expected a mapping, got %s", v.Kind.Name())
		}
		for i := range dst.NumField() {
			f := dst.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name := fieldName(f)
			fv, ft := v.Get(name), t.fieldType(name)
			if fv == nil || (fv.Failed && f.Type != valueType) {
				fv = absent(v, t.field(name), dst.Field(i))
			}
			if err := decode(fv, ft, dst.Field(i)); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("spec.Decode: unsupported type %s", dst.Type())
	}
	return nil
}

// absent is what Decode reads for a field f of object v that v does not
// give: its default, an empty mapping for a struct (whose fields may have
// defaults of their own), else nothing.
func absent(v *Value, f *Field, dst reflect.Value) *Value {
	if f == nil {
		return nil
	}
	if f.Default != nil {
		return defaultValue(f.Default, v.Pos)
	}
	if f.Type.Kind == TObject && dst.Kind() == reflect.Struct {
		return &Value{Pos: v.Pos, Kind: KindMap}
	}
	return nil
}

// defaultValue is a declared default as a value written at pos: a string,
// a boolean, an integer, a float, or a list of those. Anything else is
// nil, and Type.CheckDefaults rejects it.
func defaultValue(d any, pos Pos) *Value {
	switch d := d.(type) {
	case string:
		return &Value{Pos: pos, Kind: KindString, Text: d}
	case bool:
		return &Value{Pos: pos, Kind: KindBool, Text: strconv.FormatBool(d)}
	case int:
		return &Value{Pos: pos, Kind: KindInt, Text: strconv.Itoa(d)}
	case int64:
		return &Value{Pos: pos, Kind: KindInt, Text: strconv.FormatInt(d, 10)}
	case float64:
		return &Value{Pos: pos, Kind: KindFloat, Text: strconv.FormatFloat(d, 'g', -1, 64)}
	case []string:
		l := &Value{Pos: pos, Kind: KindList}
		for _, x := range d {
			l.Items = append(l.Items, defaultValue(x, pos))
		}
		return l
	case []any:
		l := &Value{Pos: pos, Kind: KindList}
		for _, x := range d {
			it := defaultValue(x, pos)
			if it == nil {
				return nil
			}
			l.Items = append(l.Items, it)
		}
		return l
	}
	return nil
}

// fieldName is the config key of a struct field: its yaml tag, or its name
// in snake_case.
func fieldName(f reflect.StructField) string {
	if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag != "" {
		return tag
	}
	var b strings.Builder
	for i, r := range f.Name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
