package expression

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// Bounds of one evaluation. expr-lang has a memory budget of its own
// (conf.DefaultMemoryBudget, a million units a run): a range counts its
// length, an array or map literal its size, map/filter/sort results their
// length, repeat its bytes, and a run past it fails with "memory budget
// exceeded". It does not count strings built by `+` (`reduce(1..40, #acc +
// #acc, "a")` doubles a string forty times, a terabyte), and repeat, replace
// and join build their result before anything is counted. So a program is
// patched when it compiles: the result of every `+` that may be a string is
// checked against MaxString, and the arguments of repeat, replace and join
// are checked before the call for the size of what it would build.

// MaxString is the longest string an expression may build, in bytes. A
// `+` builds at most twice this (two strings within the bound) before the
// check fails it.
const MaxString = 16 << 20

// The functions the patch calls; a program cannot name them by mistake
// (unknownCall lets them through), and calling them does no harm.
const (
	boundAny     = "__millrace_bound"
	boundString  = "__millrace_bound_string"
	checkRepeat  = "__millrace_check_repeat"
	checkReplace = "__millrace_check_replace"
	checkJoin    = "__millrace_check_join"
)

var boundNames = []string{boundAny, boundString, checkRepeat, checkReplace, checkJoin}

func errTooLong(n int) error {
	return fmt.Errorf("memory budget exceeded: a string of %d bytes, more than %d (16 MiB)", n, MaxString)
}

var boundOptions = []expr.Option{
	expr.Patch(boundPatch{}),
	expr.Function(boundAny, func(args ...any) (any, error) {
		if s, ok := args[0].(string); ok && len(s) > MaxString {
			return nil, errTooLong(len(s))
		}
		return args[0], nil
	}, new(func(any) any)),
	expr.Function(boundString, func(args ...any) (any, error) {
		if s, ok := args[0].(string); ok && len(s) > MaxString {
			return nil, errTooLong(len(s))
		}
		return args[0], nil
	}, new(func(string) string)),
	// check_repeat(s, n) is s, when repeat(s, n) is within the bound.
	expr.Function(checkRepeat, func(args ...any) (any, error) {
		s, ok := args[0].(string)
		n, isInt := toInt(args[1])
		if ok && isInt && n > 0 && len(s) > 0 && len(s) > MaxString/n {
			return nil, errTooLong(len(s) * min(n, MaxString))
		}
		return args[0], nil
	}, new(func(string, int) string)),
	// check_replace(s, old, new[, n]) is s, when replace would stay within
	// the bound.
	expr.Function(checkReplace, func(args ...any) (any, error) {
		s, ok1 := args[0].(string)
		old, ok2 := args[1].(string)
		repl, ok3 := args[2].(string)
		if !ok1 || !ok2 || !ok3 || len(repl) <= len(old) {
			return args[0], nil
		}
		n := strings.Count(s, old)
		if len(args) == 4 {
			if m, ok := args[3].(int); ok && m >= 0 {
				n = min(n, m)
			}
		}
		if grow := len(repl) - len(old); n > 0 && n > (MaxString-len(s))/grow {
			return nil, errTooLong(len(s) + min(n, MaxString)*grow)
		}
		return args[0], nil
	}, new(func(string, string, string, int) string), new(func(string, string, string) string)),
	// check_join(list[, glue]) is list, when join(list, glue) is within the
	// bound.
	expr.Function(checkJoin, func(args ...any) (any, error) {
		glue := ""
		if len(args) == 2 {
			glue, _ = args[1].(string)
		}
		n := 0
		add := func(s string) error {
			n += len(s) + len(glue)
			if n > MaxString+len(glue) {
				return errTooLong(n)
			}
			return nil
		}
		switch l := args[0].(type) {
		case []string:
			for _, s := range l {
				if err := add(s); err != nil {
					return nil, err
				}
			}
		case []any:
			for _, e := range l {
				if s, ok := e.(string); ok {
					if err := add(s); err != nil {
						return nil, err
					}
				}
			}
		}
		return args[0], nil
	}, new(func([]any, string) []any), new(func([]any) []any), new(func([]string, string) []string), new(func([]string) []string)),
}

// boundPatch wraps what may build a long string in a check: `a + b`
// becomes bound(a + b), repeat(s, n) repeat(check_repeat(s, n), n), and
// so on. The arguments after the first are evaluated twice; they are
// plain values in practice (a count, a glue).
type boundPatch struct{}

func (boundPatch) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator != "+" {
			return
		}
		name := boundAny
		if t := n.Type(); t != nil && t.Kind() == reflect.String {
			name = boundString
		} else if t != nil && t.Kind() != reflect.Interface {
			return // numbers, arrays (array + array is counted as an array)
		}
		ast.Patch(node, call(name, n))
	case *ast.BuiltinNode:
		var name string
		switch n.Name {
		case "repeat":
			name = checkRepeat
		case "replace":
			name = checkReplace
		case "join":
			name = checkJoin
		default:
			return
		}
		if len(n.Arguments) == 0 {
			return
		}
		n.Arguments[0] = call(name, slices.Clone(n.Arguments)...)
	}
}

func call(name string, args ...ast.Node) *ast.CallNode {
	c := &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: args}
	if len(args) > 0 {
		c.SetLocation(args[0].Location())
		c.Callee.SetLocation(args[0].Location())
	}
	return c
}

// toInt is a count as expr-lang's runtime.ToInt reads it, for the kinds
// of numbers records and literals hold.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		if n >= 1<<62 {
			return 1 << 62, true
		}
		return int(n), true
	}
	return 0, false
}
