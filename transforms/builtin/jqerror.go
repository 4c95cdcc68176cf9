package builtin

import (
	"errors"
	"strings"

	"github.com/itchyny/gojq"
)

// jqError is a jq runtime error without the record's values in it. gojq's
// messages show the values they failed on (`expected an object but got:
// string ("ada@example.org")`); Millrace's error texts reach logs,
// dead-letter headers and the status page, so the preview of a value is
// cut to its type (`string`) and any other quoted text to "...". The text
// of the program's own error("...") and halt_error is kept: the program
// chose it (a program that passes a record's string to error puts it in
// the text); an error raised with an object or a list is named by its
// kind, as its JSON would be made of the record.
type jqError struct{ err error }

func (e *jqError) Error() string {
	var ve gojq.ValueError
	if errors.As(e.err, &ve) {
		if _, ok := ve.Value().(string); !ok && ve.Value() != nil {
			// error(.) or error({...}): JSON made of the record.
			return "jq: error(...) raised with " + kindOf(ve.Value()) + ", not shown"
		}
		return "jq: " + e.err.Error()
	}
	return "jq: " + scrubPreviews(e.err.Error())
}

func (e *jqError) Unwrap() error { return e.err }

// jqTypes are the type names gojq puts before a value's preview.
var jqTypes = []string{"null", "boolean", "number", "string", "array", "object"}

// scrubPreviews replaces every `TYPE (PREVIEW)` of msg with TYPE, and
// every JSON string left (a bare preview) with "...". A preview is JSON
// text, cut short inside its quotes or brackets, so its end is the first
// ')' outside strings and brackets.
func scrubPreviews(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		if end, typ, ok := previewAt(msg, i); ok {
			b.WriteString(typ)
			i = end
			continue
		}
		if msg[i] == '"' {
			b.WriteString(`"..."`)
			i = skipString(msg, i)
			continue
		}
		b.WriteByte(msg[i])
		i++
	}
	return b.String()
}

// previewAt reports whether a `TYPE (PREVIEW)` starts at i of msg, after a
// word boundary, and where it ends.
func previewAt(msg string, i int) (end int, typ string, ok bool) {
	if i > 0 && isWordByte(msg[i-1]) {
		return 0, "", false
	}
	for _, t := range jqTypes {
		if !strings.HasPrefix(msg[i:], t+" (") {
			continue
		}
		depth := 0
		for j := i + len(t) + 2; j < len(msg); {
			switch msg[j] {
			case '"':
				j = skipString(msg, j)
				continue
			case '[', '{':
				depth++
			case ']', '}':
				depth--
			case ')':
				if depth <= 0 {
					return j + 1, t, true
				}
			}
			j++
		}
	}
	return 0, "", false
}

// skipString returns the index after the JSON string starting at i (or
// the end of s for one cut short).
func skipString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
