package transforms

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/file"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// exprConfigError turns an expr compile error into a config error at the
// place of the failing token: the scalar's position plus the column inside
// the expression (quoted scalars start one column later). The column is only
// added for a scalar written verbatim on one line; a block scalar or one with
// escapes is reported at its start. An expression that came from the
// environment is not shown, nor is the message, which may quote its tokens.
func exprConfigError(v *spec.Value, err error) error {
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
