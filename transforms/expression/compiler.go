package expression

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/file"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// Compiler compiles the expressions of a config for transforms.BuildChain
// (transforms.ChainOptions.Exprs). Errors are spec.Errors at the place of
// the failing token.
type Compiler struct{}

// Compile compiles the expression in v.
func (Compiler) Compile(v *spec.Value) (transforms.Program, error) {
	p, err := Compile(v.Text)
	if err != nil {
		return nil, configError(v, err)
	}
	return p, nil
}

// CompileBool compiles an expression in v that must yield a boolean.
func (Compiler) CompileBool(v *spec.Value) (transforms.Program, error) {
	p, err := CompileBool(v.Text)
	if err != nil {
		return nil, configError(v, err)
	}
	return p, nil
}

// configError turns an expr compile error into a config error at the
// place of the failing token: the scalar's position plus the column inside
// the expression (quoted scalars start one column later). The column is only
// added for a scalar written verbatim on one line; a block scalar or one with
// escapes is reported at its start. An expression that came from the
// environment is not shown, nor is the message, which may quote its tokens.
func configError(v *spec.Value, err error) error {
	e := &spec.Error{Pos: v.Pos, Msg: fmt.Sprintf("invalid expression %q: %v", v.Text, err)}
	var fe *file.Error
	if errors.As(err, &fe) {
		e.Msg = fmt.Sprintf("invalid expression %q: %s", v.Text, strings.TrimSpace(fe.Message))
		if p, ok := v.PosAt(fe.Column); ok && fe.Line <= 1 && fe.Column >= 0 && !v.Secret {
			e.Pos = p
		}
	}
	if v.Secret {
		e.Msg = "invalid expression from the environment; its text is not shown"
	}
	e.Hint = "see docs/expressions.md for the syntax, fields and functions"
	return e
}

// Error is an expression that failed on a record.
type Error struct {
	Source string
	Err    error
}

func (e *Error) Error() string {
	var fe *file.Error
	if errors.As(e.Err, &fe) {
		return fmt.Sprintf("expression %q: %s (column %d)", e.Source, strings.TrimSpace(fe.Message), fe.Column+1)
	}
	return fmt.Sprintf("expression %q: %v", e.Source, e.Err)
}
func (e *Error) Unwrap() error { return e.Err }
