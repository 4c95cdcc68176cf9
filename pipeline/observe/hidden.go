package observe

import (
	"slices"
	"strings"
)

// hiddenNames are the names of a pipeline that came from the environment
// (${VAR}), each with what the admin server shows instead. The texts it
// shows that the runner did not write itself (a failed record's error, a
// stall's cause, the error a pipeline stopped on, a broker's answer) may
// name them; hide rewrites them there.
type hiddenNames []hiddenName

type hiddenName struct{ name, shown string }

func (h *hiddenNames) add(name, shown string) {
	if name == "" || name == shown || slices.ContainsFunc(*h, func(n hiddenName) bool { return n.name == name }) {
		return
	}
	*h = append(*h, hiddenName{name, shown})
	// Longest first: a name that holds a shorter one is replaced whole.
	slices.SortStableFunc(*h, func(a, b hiddenName) int { return len(b.name) - len(a.name) })
}

// hide replaces every occurrence of a hidden name in text that stands as a
// name of its own: not inside a longer word of the characters Kafka names
// are made of, so that a topic "in" leaves "input" alone.
func (h hiddenNames) hide(text string) string {
	for _, n := range h {
		var b strings.Builder
		from := 0 // text[:from] is written to b
		for at := 0; ; {
			i := strings.Index(text[at:], n.name)
			if i < 0 {
				break
			}
			start, end := at+i, at+i+len(n.name)
			if (start == 0 || !nameByte(text[start-1])) && (end == len(text) || !nameByte(text[end])) {
				b.WriteString(text[from:start])
				b.WriteString(n.shown)
				from = end
			}
			at = end
		}
		if from > 0 {
			b.WriteString(text[from:])
			text = b.String()
		}
	}
	return text
}

// nameByte reports whether c may be part of a Kafka topic or group name.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}
