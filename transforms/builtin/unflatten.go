package builtin

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "unflatten",
		Summary: "Turn top-level keys with dots into nested objects.",
		Description: "`{\"a.b\":1}` becomes `{\"a\":{\"b\":1}}`. Only top-level keys are split: keys " +
			"of nested objects, and objects inside lists, are left as they are. Keys are handled " +
			"in sorted order, and objects that meet at one place are merged " +
			"(`{\"a\":{\"x\":1},\"a.b\":2}` gives `{\"a\":{\"b\":2,\"x\":1}}`). A key that would " +
			"replace a value (`{\"a\":1,\"a.b\":2}`) fails the record, and so does one that would nest the " +
			"record deeper than the 10,000 levels a reader accepts. It is the inverse of " +
			"`flatten`.",
		Config: spec.Object("", separatorField),
		Examples: []transforms.Example{
			{Title: "Nest dotted keys", Config: `{}`, Input: `{"id":1,"customer.address.city":"Oslo","customer.name":"Ada"}`,
				Output: []string{`{"customer":{"address":{"city":"Oslo"},"name":"Ada"},"id":1}`}},
			{Title: "Another separator", Config: `{separator: "__"}`, Input: `{"a__b":1,"a__c":[1,2],"d_e":3}`,
				Output: []string{`{"a":{"b":1,"c":[1,2]},"d_e":3}`}},
			{Title: "A key that would replace a value fails", Config: `{}`, Input: `{"a":1,"a.b":2}`,
				Error: `unflatten: key "a.b" conflicts with field a`},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		sep, err := separator(b)
		if err != nil {
			return nil, err
		}
		return unflatten{sep}, nil
	})
}

type unflatten struct{ sep string }

func (u unflatten) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	var keys []string
	for k := range obj {
		if strings.Contains(k, u.sep) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return r.One(), nil
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if !strings.Contains(k, u.sep) {
			out[k] = v
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := u.put(out, k, obj[k]); err != nil {
			return nil, err
		}
	}
	r.Value = out
	return r.One(), nil
}

// put stores v under the parts of key, merging objects that meet.
func (u unflatten) put(out map[string]any, key string, v any) error {
	if n := strings.Count(key, u.sep) + 1; n+codec.Depth(v) > codec.MaxDepth {
		// The value would sit inside n objects: deeper than any reader of
		// the output (Millrace's own decoder, encoding/json) accepts.
		return fmt.Errorf("unflatten: key %s splits into %d levels, and the record would nest deeper than %d", shortKey(key), n, codec.MaxDepth)
	}
	parts := strings.Split(key, u.sep)
	m := out
	for i, p := range parts[:len(parts)-1] {
		next, ok := m[p]
		if !ok {
			nm := map[string]any{}
			m[p] = nm
			m = nm
			continue
		}
		if m, ok = next.(map[string]any); !ok {
			return fmt.Errorf("unflatten: key %q conflicts with field %s", key, strings.Join(parts[:i+1], "."))
		}
	}
	return merge(m, parts[len(parts)-1], v, func(at string) error {
		return fmt.Errorf("unflatten: key %q conflicts with field %s", key, strings.Join(append(parts[:len(parts)-1:len(parts)-1], at), "."))
	})
}

// merge stores v under leaf in m; an object that meets an object is merged
// into it, anything else that meets a value is a conflict.
func merge(m map[string]any, leaf string, v any, conflict func(at string) error) error {
	old, ok := m[leaf]
	if !ok {
		m[leaf] = v
		return nil
	}
	om, ok1 := old.(map[string]any)
	vm, ok2 := v.(map[string]any)
	if !ok1 || !ok2 {
		return conflict(leaf)
	}
	for _, k := range slices.Sorted(maps.Keys(vm)) {
		if err := merge(om, k, vm[k], func(at string) error { return conflict(leaf + "." + at) }); err != nil {
			return err
		}
	}
	return nil
}

// shortKey quotes a key for an error, cut to its first 40 bytes: a key
// may be as long as the record.
func shortKey(k string) string {
	if len(k) <= 40 {
		return fmt.Sprintf("%q", k)
	}
	return fmt.Sprintf("%q... (%d bytes)", k[:40], len(k))
}
