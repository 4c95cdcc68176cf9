package spec

import (
	"errors"
	"sort"
	"strings"
)

// Error is a config error at a place in a file, with an optional hint that
// suggests a fix.
type Error struct {
	Pos  Pos
	Msg  string
	Hint string
}

func (e *Error) Error() string {
	s := e.Pos.String() + ": " + e.Msg
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// WithHint sets the hint and returns e.
func (e *Error) WithHint(h string) *Error {
	e.Hint = h
	return e
}

// Errors is every error found in a file. Loading reports all of them at once.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// ErrReported is returned for a value whose error was already reported (see
// Value.Failed); Errors.Add ignores it.
var ErrReported = errors.New("error already reported")

// Add appends err, flattening Errors and positioning plain errors at pos.
func (es *Errors) Add(pos Pos, err error) {
	if err == nil || errors.Is(err, ErrReported) {
		return
	}
	var many Errors
	if errors.As(err, &many) {
		*es = append(*es, many...)
		return
	}
	var one *Error
	if errors.As(err, &one) {
		*es = append(*es, one)
		return
	}
	*es = append(*es, &Error{Pos: pos, Msg: err.Error()})
}

// Err returns nil when there are no errors, else the errors sorted by place.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return es
}

// Suggest returns the candidate closest to name, or "" when none is close
// enough to be a likely typo: at most one edit in three characters (and at
// most 3), so that "mapp" does not suggest "drop". A word from Kafka's
// vocabulary suggests Millrace's ("earliest": "oldest").
func Suggest(name string, candidates []string) string {
	if s := synonym(name, candidates); s != "" {
		return s
	}
	limit := min(max(1, (len(name)+2)/3), 3)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		d := Distance(strings.ToLower(name), strings.ToLower(c))
		if d < bestDist || (d == bestDist && best != "" && c < best) {
			best, bestDist = c, d
		}
	}
	return best
}

// Distance is the Levenshtein edit distance between a and b.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
