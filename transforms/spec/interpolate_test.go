package spec

import "testing"

func lookupFrom(vars map[string]string) LookupEnv {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestInterpolate(t *testing.T) {
	lookup := lookupFrom(map[string]string{
		"HOST":  "kafka",
		"PORT":  "9092",
		"EMPTY": "",
		"_x1":   "under",
	})
	for _, tc := range []struct {
		in, want string
		secret   bool
	}{
		{"plain", "plain", false},
		{"", "", false},
		{"$", "$", false},
		{"cost $5", "cost $5", false},
		{"{HOST}", "{HOST}", false},
		{"${HOST}", "kafka", true},
		{"${HOST}:${PORT}", "kafka:9092", true},
		{"x-${_x1}-y", "x-under-y", true},
		{"${MISSING:-fallback}", "fallback", false},
		{"${MISSING:-}", "", false},
		{"${MISSING:-a:b-c}", "a:b-c", false},
		{"${MISSING:-$HOST}", "$HOST", false}, // defaults are not expanded again
		{"${HOST:-fallback}", "kafka", true},
		// A set but empty variable takes the default when there is one, and
		// stays empty when there is none.
		{"${EMPTY:-fallback}", "fallback", false},
		{"[${EMPTY}]", "[]", true},
		// $${ is a literal ${.
		{"$${HOST}", "${HOST}", false},
		{"a$${b", "a${b", false},
		{"${HOST}$${PORT}", "kafka${PORT}", true},
		{"$${HOST}${PORT}", "${HOST}9092", true},
		{"$$", "$$", false},
	} {
		got, secret, err := interpolate(tc.in, lookup)
		if err != nil {
			t.Errorf("interpolate(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want || secret != tc.secret {
			t.Errorf("interpolate(%q) = %q, secret %v; want %q, secret %v", tc.in, got, secret, tc.want, tc.secret)
		}
	}
}

func TestInterpolateErrors(t *testing.T) {
	lookup := lookupFrom(map[string]string{"SET": "s3cret"})
	for _, tc := range []struct {
		in, msg, hint string
	}{
		{"${", "unterminated ${ in value", "close it with }, or write $${ for a literal ${"},
		{"abc ${NAME", "unterminated ${ in value", "close it with }, or write $${ for a literal ${"},
		{"${SET} ${", "unterminated ${ in value", "close it with }, or write $${ for a literal ${"},
		{"${}", `invalid variable name "" in ${...}`, "use letters, digits and _, not starting with a digit; write $${ for a literal ${"},
		{"${1ABC}", `invalid variable name "1ABC" in ${...}`, "use letters, digits and _, not starting with a digit; write $${ for a literal ${"},
		{"${A-B}", `invalid variable name "A-B" in ${...}`, "use letters, digits and _, not starting with a digit; write $${ for a literal ${"},
		{"${ A }", `invalid variable name " A " in ${...}`, "use letters, digits and _, not starting with a digit; write $${ for a literal ${"},
		{"${:-x}", `invalid variable name "" in ${...}`, "use letters, digits and _, not starting with a digit; write $${ for a literal ${"},
		{"${UNSET}", "environment variable UNSET is not set", "set the variable, or give a default with ${UNSET:-default}"},
		// The value of a set variable never appears in the error.
		{"${SET}-${UNSET2}", "environment variable UNSET2 is not set", "set the variable, or give a default with ${UNSET2:-default}"},
	} {
		got, secret, err := interpolate(tc.in, lookup)
		if err == nil {
			t.Errorf("interpolate(%q) = %q, want an error", tc.in, got)
			continue
		}
		if err.Msg != tc.msg || err.Hint != tc.hint {
			t.Errorf("interpolate(%q): got %q (%q), want %q (%q)", tc.in, err.Msg, err.Hint, tc.msg, tc.hint)
		}
		if got != "" || secret {
			t.Errorf("interpolate(%q) returned %q, %v with the error", tc.in, got, secret)
		}
	}
}

func TestValidVarName(t *testing.T) {
	for name, want := range map[string]bool{
		"A": true, "_": true, "a_b": true, "A1": true, "_1": true,
		"": false, "1A": false, "A-B": false, "A.B": false, "Ä": false, "A B": false,
	} {
		if got := validVarName(name); got != want {
			t.Errorf("validVarName(%q) = %v", name, got)
		}
	}
}
