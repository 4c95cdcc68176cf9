// Package expression is the expression language of pipeline configs:
// expr-lang/expr, compiled and type-checked when a config loads, evaluated
// against a record's JSON object, whose fields are its variables, with the
// Kafka metadata under MetaVar. Compiler is the transforms.ExprCompiler that
// pipeline/config builds chains with; the transform SDK does not import this
// package, so a custom transform does not pull expr-lang in.
package expression

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/google/uuid"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// MetaVar is the expression variable that holds the Kafka metadata of the
// record. A JSON field with the same name is hidden while expressions run.
const MetaVar = "kafka"

// Meta is what expressions see under MetaVar: kafka.key, kafka.headers["h"],
// kafka.topic, kafka.partition, kafka.offset, kafka.timestamp.
type Meta struct {
	Key       string            `expr:"key"`
	Headers   map[string]string `expr:"headers"`
	Topic     string            `expr:"topic"`
	Partition int               `expr:"partition"`
	Offset    int               `expr:"offset"`
	Timestamp time.Time         `expr:"timestamp"`
}

// maxExprNodes bounds the size of a program, so a config cannot build an
// expression that takes the runner down.
const maxExprNodes = 5000

// Program is a compiled expression. Fields of the record's JSON object are its
// variables (nested with dots), and MetaVar holds the Kafka metadata.
type Program struct {
	src  string
	prog *vm.Program
	// meta: the program reads MetaVar, so Eval builds it (headers as a
	// map included); most programs read fields only.
	meta bool
	// fields are the top-level fields the program reads; whole: it
	// reads the whole record ($env), so fields do not say all.
	fields []string
	whole  bool
}

var (
	_ transforms.Program      = (*Program)(nil)
	_ transforms.ExprCompiler = Compiler{}
	_ transforms.TopLevel     = (*Program)(nil)
)

var exprOptions = append([]expr.Option{
	expr.Env(map[string]any{MetaVar: Meta{}}),
	expr.AllowUndefinedVariables(),
	expr.MaxNodes(maxExprNodes),
	expr.Function("uuid", func(...any) (any, error) { return uuid.NewString(), nil }, new(func() string)),
	expr.Function("sha256", hashFn(func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }), new(func(string) string)),
	expr.Function("sha1", hashFn(func(b []byte) []byte { s := sha1.Sum(b); return s[:] }), new(func(string) string)),
	expr.Function("md5", hashFn(func(b []byte) []byte { s := md5.Sum(b); return s[:] }), new(func(string) string)),
}, boundOptions...)

func hashFn(sum func([]byte) []byte) func(...any) (any, error) {
	return func(args ...any) (any, error) {
		return hex.EncodeToString(sum([]byte(args[0].(string)))), nil
	}
}

// Functions names the functions Millrace adds to expr-lang's built-ins.
var Functions = []string{"uuid()", "sha256(s)", "sha1(s)", "md5(s)"}

// funcNames are the names of Functions.
var funcNames = []string{"uuid", "sha256", "sha1", "md5"}

// Compile compiles and type-checks an expression.
func Compile(src string) (*Program, error) {
	p, err := expr.Compile(src, exprOptions...)
	if err == nil {
		err = unknownCall(p)
	}
	if err != nil {
		return nil, err
	}
	return newProgram(src, p), nil
}

// CompileBool compiles an expression that must yield a boolean.
func CompileBool(src string) (*Program, error) {
	p, err := expr.Compile(src, append(exprOptions[:len(exprOptions):len(exprOptions)], expr.AsBool())...)
	if err == nil {
		err = unknownCall(p)
	}
	if err != nil {
		return nil, err
	}
	return newProgram(src, p), nil
}

func newProgram(src string, p *vm.Program) *Program {
	var f fieldFinder
	node := p.Node()
	ast.Walk(&node, &f)
	prog := &Program{src: src, prog: p}
	for _, id := range f.idents {
		switch {
		case slices.Contains(f.callees, id):
		case id.Value == MetaVar:
			prog.meta = true
		case id.Value == "$env":
			prog.whole = true
		case !slices.Contains(prog.fields, id.Value):
			prog.fields = append(prog.fields, id.Value)
		}
	}
	return prog
}

// fieldFinder collects the identifiers of a program and the ones that name
// a called function. Every other identifier is a variable: a top-level
// field of the record (a member access such as customer.email starts with
// one, its root), MetaVar, or $env, the whole record. A variable declared
// with let counts as a field too, which only makes the set larger.
type fieldFinder struct {
	idents, callees []*ast.IdentifierNode
}

func (f *fieldFinder) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok {
			f.callees = append(f.callees, id)
		}
	case *ast.IdentifierNode:
		f.idents = append(f.idents, x)
	}
}

// TopLevelFields returns the fields the program reads; ok is false when it
// reads the whole record ($env).
func (p *Program) TopLevelFields() (transforms.Fields, bool) {
	if p.whole {
		return transforms.Fields{}, false
	}
	return transforms.Fields{Reads: slices.Clone(p.fields)}, true
}

// unknownCall rejects a call of a name that is no function. Undefined
// variables are allowed (they are record fields), so expr-lang compiles
// `sha265(email)` and fails it on every record; a JSON field is never a
// function, so such a call can only be a typo. Built-ins compile to their
// own node; calls that stay CallNode on a bare name are Millrace's functions.
func unknownCall(p *vm.Program) error {
	var f callFinder
	node := p.Node()
	ast.Walk(&node, &f)
	if f.bad == nil {
		return nil
	}
	msg := "unknown function " + f.bad.Value
	if s := spec.Suggest(f.bad.Value, slices.Concat(builtin.Names, funcNames)); s != "" {
		msg += ", did you mean " + s + "?"
	}
	return (&file.Error{Location: f.bad.Location(), Message: msg}).Bind(p.Source())
}

type callFinder struct{ bad *ast.IdentifierNode }

func (f *callFinder) Visit(n *ast.Node) {
	if c, ok := (*n).(*ast.CallNode); ok && f.bad == nil {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && !slices.Contains(funcNames, id.Value) && !slices.Contains(boundNames, id.Value) {
			f.bad = id
		}
	}
}

// Source is the expression's text.
func (p *Program) Source() string { return p.src }

// Eval runs the program against the record.
func (p *Program) Eval(r *transforms.Record) (any, error) {
	m, err := r.Object()
	if err != nil {
		return nil, err
	}
	if !p.meta {
		out, err := run(p.prog, m)
		if err != nil {
			return nil, p.runError(m, err)
		}
		return out, nil
	}
	saved, had := m[MetaVar]
	m[MetaVar] = metaOf(r)
	out, err := run(p.prog, m)
	if had {
		m[MetaVar] = saved
	} else {
		delete(m, MetaVar)
	}
	if err != nil {
		return nil, p.runError(m, err)
	}
	return out, nil
}

// EvalBool runs a program that yields a boolean; nil counts as false.
func (p *Program) EvalBool(r *transforms.Record) (bool, error) {
	out, err := p.Eval(r)
	if err != nil {
		return false, err
	}
	switch b := out.(type) {
	case bool:
		return b, nil
	case nil:
		return false, nil
	}
	return false, &Error{Source: p.src, Err: errors.New("expected a boolean, got " + articled(jsonKind(fmt.Sprintf("%T", out))))}
}

func metaOf(r *transforms.Record) Meta {
	return Meta{
		Key:       string(r.Key),
		Headers:   r.Headers.Map(),
		Topic:     r.Source.Topic,
		Partition: int(r.Source.Partition),
		Offset:    int(r.Source.Offset),
		Timestamp: r.Timestamp,
	}
}
