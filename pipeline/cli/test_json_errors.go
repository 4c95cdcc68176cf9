package cli

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/millrace-dev/millrace/transforms/spec"
)

// configErrorJSON is one config error in `test --json`.
type configErrorJSON struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	Text    string `json:"text"` // as printed: file:line:col: message (hint)
}

// jsonConfigErrors prints err's config errors as JSON on w when asJSON,
// so that a CI reading `test --json` gets them in the same stream as
// results; err is returned either way (exit code 2, the errors also on
// stderr).
func jsonConfigErrors(w io.Writer, asJSON bool, err error) error {
	var ce spec.Errors
	if !asJSON || !errors.As(err, &ce) {
		return err
	}
	out := make([]configErrorJSON, len(ce))
	for i, e := range ce {
		out[i] = configErrorJSON{File: e.Pos.File, Line: e.Pos.Line, Col: e.Pos.Col, Message: e.Msg, Hint: e.Hint, Text: e.Error()}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if werr := enc.Encode(map[string]any{"passed": 0, "failed": 0, "config_errors": out}); werr != nil {
		return werr
	}
	return err
}
