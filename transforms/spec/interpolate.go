package spec

import (
	"fmt"
	"strings"
)

// interpolate expands ${NAME} and ${NAME:-default} in s; "$${" stands for a
// literal "${". It reports whether anything came from the environment, so
// the caller can keep the value out of messages. Hand-written rather than a
// library because errors must name the variable and its line but never its
// value, and the result must be marked secret. An error carries a hint that
// fits it; the caller sets its position.
func interpolate(s string, lookup LookupEnv) (string, bool, *Error) {
	var b strings.Builder
	secret := false
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), secret, nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", false, &Error{Msg: "unterminated ${ in value", Hint: "close it with }, or write $${ for a literal ${"}
		}
		ref := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validVarName(name) {
			return "", false, &Error{Msg: fmt.Sprintf("invalid variable name %q in ${...}", name),
				Hint: "use letters, digits and _, not starting with a digit; write $${ for a literal ${"}
		}
		val, ok := lookup(name)
		switch {
		case ok && (val != "" || !hasDef):
			b.WriteString(val)
			secret = true
		case hasDef:
			b.WriteString(def)
		default:
			return "", false, &Error{Msg: fmt.Sprintf("environment variable %s is not set", name),
				Hint: "set the variable, or give a default with ${" + name + ":-default}"}
		}
	}
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}
