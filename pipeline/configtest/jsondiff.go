package configtest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kylelemons/godebug/diff"
)

// contextLines is how many unchanged lines a JSON diff shows around a
// change.
const contextLines = 2

// jsonDiff shows want and got as indented JSON, line by line: "- " marks
// a line only in want, "+ " one only in got, "  " one in both. Trailing
// commas are left out, so that a key added at the end changes one line;
// unchanged runs beyond contextLines of a change are cut to "  ...".
func jsonDiff(want, got any) string {
	chunks := diff.DiffChunks(jsonLines(want), jsonLines(got))
	changed := false
	for _, c := range chunks {
		changed = changed || len(c.Added)+len(c.Deleted) > 0
	}
	if !changed {
		// The same JSON text: values of other Go types (an integer and a
		// float of the same value).
		return fmt.Sprintf("- %#v\n+ %#v", want, got)
	}
	var b strings.Builder
	for i, c := range chunks {
		for _, l := range c.Deleted {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		for _, l := range c.Added {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
		eq := c.Equal
		first, last := i == 0 && len(c.Added)+len(c.Deleted) == 0, i == len(chunks)-1
		switch {
		case first && len(eq) > contextLines:
			b.WriteString("  ...\n")
			eq = eq[len(eq)-contextLines:]
		case last && len(eq) > contextLines:
			eq = append(eq[:contextLines:contextLines], "...")
		case !first && !last && len(eq) > 2*contextLines+1:
			eq = append(append(eq[:contextLines:contextLines], "..."), eq[len(eq)-contextLines:]...)
		}
		for _, l := range eq {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func jsonLines(v any) []string {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []string{fmt.Sprint(v)}
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, ",")
	}
	return lines
}
