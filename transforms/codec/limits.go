package codec

// MaxDepth is the deepest nesting of objects and arrays Decode accepts
// (encoding/json's limit). A transform that builds a value must not make
// it deeper: the record would be written, and then refused by the next
// pipeline that reads it.
const MaxDepth = maxDepth

// Depth is the nesting of v as Decode counts it: 0 for a scalar, 1 for an
// object or array of scalars. It stops counting past MaxDepth.
func Depth(v any) int {
	return depth(v, 0)
}

func depth(v any, at int) int {
	if at > MaxDepth {
		return at
	}
	deepest := at
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			deepest = max(deepest, depth(x, at+1))
		}
		return max(deepest, at+1)
	case []any:
		for _, x := range v {
			deepest = max(deepest, depth(x, at+1))
		}
		return max(deepest, at+1)
	}
	return deepest
}
