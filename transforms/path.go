package transforms

import "strings"

// Paths address fields of nested objects with dots: "customer.address.city".

// Get returns the value at path and whether it exists.
func Get(obj map[string]any, path string) (any, bool) {
	cur := obj
	for {
		head, rest, nested := strings.Cut(path, ".")
		v, ok := cur[head]
		if !ok || !nested {
			return v, ok
		}
		if cur, ok = v.(map[string]any); !ok {
			return nil, false
		}
		path = rest
	}
}

// Set stores v at path, creating intermediate objects. It fails when a part
// of the path exists and is not an object.
func Set(obj map[string]any, path string, v any) error {
	cur := obj
	walked := ""
	for {
		head, rest, nested := strings.Cut(path, ".")
		if !nested {
			cur[head] = v
			return nil
		}
		walked += head
		next, ok := cur[head]
		if !ok || next == nil {
			m := map[string]any{}
			cur[head] = m
			cur = m
		} else if cur, ok = next.(map[string]any); !ok {
			return &PathError{Path: walked, Msg: "is not an object"}
		}
		walked += "."
		path = rest
	}
}

// Delete removes the value at path and returns it.
func Delete(obj map[string]any, path string) (any, bool) {
	parent, leaf := obj, path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		p, ok := Get(obj, path[:i])
		if parent, ok = p.(map[string]any); !ok {
			return nil, false
		}
		leaf = path[i+1:]
	}
	v, ok := parent[leaf]
	delete(parent, leaf)
	return v, ok
}

// PathError is a path that cannot be walked in a record.
type PathError struct {
	Path string
	Msg  string
}

func (e *PathError) Error() string { return "field " + e.Path + " " + e.Msg }
