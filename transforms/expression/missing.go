package expression

import (
	"errors"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
)

// runError is the error of a program that failed on record m. When the
// failure is about a nil (expr-lang says `interface conversion: interface
// {} is nil, not string` or `invalid operation: <nil> > int`) and a field
// the program reads is missing or null in the record, the error says so,
// at that field's column: the usual cause is a record without the field,
// and Go's words name none.
func (p *Program) runError(m map[string]any, err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return &Error{Source: p.src, Err: errors.New(valueFree(err.Error(), m, p.memberNames()))}
	}
	if aboutNil(fe.Message) {
		if path, loc, ok := p.missingField(m); ok {
			err = (&file.Error{Location: loc, Message: "field " + path + " is missing or null"}).Bind(p.prog.Source())
			return &Error{Source: p.src, Err: err}
		}
	}
	msg := goConversion.ReplaceAllStringFunc(fe.Message, func(s string) string {
		sub := goConversion.FindStringSubmatch(s)
		return "expected " + jsonKind(sub[2]) + ", got " + jsonKind(sub[1])
	})
	msg = valueFree(nilWords.Replace(msg), m, p.memberNames())
	err = (&file.Error{Location: fe.Location, Message: msg}).Bind(p.prog.Source())
	return &Error{Source: p.src, Err: err}
}

// goConversion is Go's failed type assertion, as expr-lang reports a
// function given the wrong type.
var goConversion = regexp.MustCompile(`interface conversion: interface \{\} is (.+?), not (\S+)`)

// aboutNil reports whether an expr-lang run error is about a nil value.
func aboutNil(msg string) bool {
	return strings.Contains(msg, "nil") || strings.Contains(msg, "zero Value")
}

// nilWords says Go's nil as JSON's null.
var nilWords = strings.NewReplacer("expected string, got nil", "expected string, got null", "<nil>", "null")

// missingField returns the first field, in the order of the source, that
// the program reads and m lacks or holds null, with where it is read.
func (p *Program) missingField(m map[string]any) (string, file.Location, bool) {
	var r fieldReads
	node := p.prog.Node()
	ast.Walk(&node, &r)
	var best []string
	var at file.Location
	for _, f := range r.fields {
		missing := missingPrefix(m, f.path)
		if missing == nil {
			continue
		}
		if best == nil || f.loc.From < at.From {
			best, at = missing, f.loc
		}
	}
	if best == nil {
		return "", file.Location{}, false
	}
	return strings.Join(best, "."), at, true
}

// missingPrefix returns the shortest prefix of path that m lacks or holds
// null, or nil when the whole path is there. A path through a value that
// is not an object is not missing: that is a type error of its own.
func missingPrefix(m map[string]any, path []string) []string {
	cur := any(m)
	for i, k := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		v, ok := obj[k]
		if !ok || v == nil {
			return path[:i+1]
		}
		cur = v
	}
	return nil
}

// memberNames are the names of the fields and members the program reads
// by name.
func (p *Program) memberNames() []string {
	var r fieldReads
	node := p.prog.Node()
	ast.Walk(&node, &r)
	var names []string
	for _, f := range r.fields {
		names = append(names, f.path...)
	}
	return names
}

type fieldRead struct {
	path []string
	loc  file.Location
}

// fieldReads collects the record fields a program reads: identifiers that
// are not functions, variables or Millrace's kafka metadata, and member
// accesses on them with constant names (a.b.c).
type fieldReads struct {
	fields  []fieldRead
	callees map[ast.Node]bool
	vars    map[string]bool
}

func (r *fieldReads) Visit(n *ast.Node) {
	if r.callees == nil {
		r.callees, r.vars = map[ast.Node]bool{}, map[string]bool{}
	}
	switch n := (*n).(type) {
	case *ast.CallNode:
		r.callees[n.Callee] = true
	case *ast.VariableDeclaratorNode:
		r.vars[n.Name] = true
	case *ast.IdentifierNode:
		if !r.callees[n] && !r.vars[n.Value] && n.Value != MetaVar && !strings.HasPrefix(n.Value, "$") {
			r.fields = append(r.fields, fieldRead{path: []string{n.Value}, loc: n.Location()})
		}
	case *ast.MemberNode:
		if path, ok := memberPath(n); ok && path[0] != MetaVar && !r.vars[path[0]] && !strings.HasPrefix(path[0], "$") {
			r.fields = append(r.fields, fieldRead{path: path, loc: n.Location()})
		}
	}
}

// memberPath is a.b.c of a member access on an identifier with constant
// property names.
func memberPath(n *ast.MemberNode) ([]string, bool) {
	prop, ok := n.Property.(*ast.StringNode)
	if !ok {
		return nil, false
	}
	var head []string
	switch inner := n.Node.(type) {
	case *ast.IdentifierNode:
		head = []string{inner.Value}
	case *ast.MemberNode:
		if head, ok = memberPath(inner); !ok {
			return nil, false
		}
	default:
		return nil, false
	}
	return append(head, prop.Value), true
}
