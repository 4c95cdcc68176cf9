package configtest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// compare checks what was written against the test's expectations and
// returns one readable message per mismatch. Every topic the pipeline wrote
// is checked: one the test does not list must have received nothing.
func compare(tc *config.TestCase, got outputs, deadLetterTopic string) []string {
	var fails []string
	for _, t := range sortedKeys(got) {
		if _, listed := tc.Outputs[t]; !listed && t != deadLetterTopic {
			fails = append(fails, compareTopic(t, nil, got[t], false)...)
		}
	}
	for _, t := range tc.OutputOrder {
		fails = append(fails, compareTopic(t, tc.Outputs[t], got[t], false)...)
	}
	if deadLetterTopic != "" {
		fails = append(fails, compareTopic("dead_letter", tc.DeadLetters, got[deadLetterTopic], true)...)
	}
	return fails
}

func compareTopic(topic string, want []config.Expectation, got []record, dead bool) []string {
	var fails []string
	for i := range max(len(want), len(got)) {
		where := fmt.Sprintf("%s[%d]", topic, i)
		switch {
		case i >= len(got):
			fails = append(fails, fmt.Sprintf("%s: expected a record (%s), got none", where, want[i].Pos))
			continue
		case i >= len(want):
			fails = append(fails, fmt.Sprintf("%s: unexpected record %s", where, describe(got[i], dead)))
			continue
		}
		fails = append(fails, check(where, want[i], got[i], dead)...)
	}
	return fails
}

func check(where string, e config.Expectation, r record, dead bool) []string {
	var fails []string
	fail := func(format string, args ...any) {
		fails = append(fails, where+": "+fmt.Sprintf(format, args...))
	}
	if e.JSONEquals != nil || e.JSONContains != nil {
		got, err := codec.Decode(r.Value)
		if err != nil {
			fail("value is not JSON (%v): %s", err, r.Value)
		} else {
			if e.JSONEquals != nil {
				want := normalize(e.JSONEquals)
				if !reflect.DeepEqual(want, got) {
					fail("json_equals mismatch (- want, + got):\n%s", indent(jsonDiff(want, got)))
				}
			}
			if e.JSONContains != nil {
				want := normalize(e.JSONContains)
				if !containsJSON(got, want) {
					fail("json_contains: %s does not contain %s", r.Value, mustJSON(want))
				}
			}
		}
	}
	if e.Key != nil && (r.Key == nil || string(r.Key) != *e.Key) {
		fail("key: want %q, got %s", *e.Key, quoteKey(r.Key))
	}
	for k, v := range e.Headers {
		if got, ok := r.Headers[k]; !ok || got != v {
			fail("header %s: want %q, got %q", k, v, got)
		}
	}
	if dead {
		if e.ErrorContains != "" && !strings.Contains(r.Headers[engine.HeaderError], e.ErrorContains) {
			fail("error_contains %q: error is %q", e.ErrorContains, r.Headers[engine.HeaderError])
		}
		if e.Step != "" && r.Headers[engine.HeaderStep] != e.Step {
			fail("step: want %q, got %q", e.Step, r.Headers[engine.HeaderStep])
		}
	}
	return fails
}

// normalize gives expected YAML values the shapes Decode produces.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	out, err := codec.Decode(b)
	if err != nil {
		return v
	}
	return out
}

// containsJSON reports whether got holds want: objects may have more keys,
// everything else must be equal.
func containsJSON(got, want any) bool {
	wm, ok := want.(map[string]any)
	if !ok {
		return reflect.DeepEqual(got, want)
	}
	gm, ok := got.(map[string]any)
	if !ok {
		return false
	}
	for k, wv := range wm {
		gv, ok := gm[k]
		if !ok || !containsJSON(gv, wv) {
			return false
		}
	}
	return true
}

func describe(r record, dead bool) string {
	if dead {
		return fmt.Sprintf("%s (error: %s)", r.Value, r.Headers[engine.HeaderError])
	}
	return fmt.Sprintf("%s (key %s)", r.Value, quoteKey(r.Key))
}

func quoteKey(k []byte) string {
	if k == nil {
		return "none"
	}
	return fmt.Sprintf("%q", k)
}

func mustJSON(v any) string {
	b, _ := codec.Encode(v)
	return string(b)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
