package transforms

import "github.com/millrace-dev/millrace/transforms/spec"

// Program is a compiled expression, run against one record at a time: a
// step's `when`, or an expression a factory compiled with Build.Expr or
// Build.Bool. It is safe for concurrent use.
type Program interface {
	// Eval returns the expression's value for r.
	Eval(r *Record) (any, error)
	// EvalBool returns the value of a condition; null counts as false,
	// any other value that is not a boolean is an error.
	EvalBool(r *Record) (bool, error)
	// Source is the expression's text, for error messages.
	Source() string
}

// ExprCompiler compiles the expressions of a config. Whoever builds a
// chain supplies one in ChainOptions (pipeline/config gives package
// transforms/expression's), so that this package, and a custom transform
// that imports only it, do not depend on an expression language.
type ExprCompiler interface {
	// Compile compiles the expression in v. An error should be a
	// *spec.Error at the place of the fault.
	Compile(v *spec.Value) (Program, error)
	// CompileBool compiles an expression that must yield a boolean.
	CompileBool(v *spec.Value) (Program, error)
}
