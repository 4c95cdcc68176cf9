package engine_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/millrace-dev/millrace/pipeline/engine"
)

// A value with invalid UTF-8 inside a string is a data error by default:
// it reaches the dead-letter topic byte for byte, where decoding it would
// have written U+FFFD in its place. ReplaceInvalidUTF8 (input.invalid_utf8:
// replace) keeps the replacement.
func TestInvalidUTF8(t *testing.T) {
	value := []byte("{\"s\":\"\xc3\x28\",\"amount\":1}")
	for _, steps := range []string{"[{set: {x: '1'}}]", "[{jq: '.'}]"} { // the spliced path and the full one
		reject := newEngine(t, pipelineYAML(steps), &producer{}, nil)
		res := process(reject, &engine.Record{Topic: "in", Value: bytes.Clone(value)})
		if !res.Done || !res.Dead || !bytes.Equal(res.Outputs[0].Value, value) {
			t.Fatalf("%s: %+v, want the input dead-lettered unchanged", steps, res)
		}
		if h, _ := res.Outputs[0].Headers.Get(engine.HeaderError); !strings.Contains(string(h), "invalid UTF-8 at byte 6") {
			t.Errorf("%s: error %q", steps, h)
		}
		replace := newEngine(t, pipelineYAML(steps), &producer{}, func(c *engine.Config) { c.ReplaceInvalidUTF8 = true })
		res = process(replace, &engine.Record{Topic: "in", Value: bytes.Clone(value)})
		if !res.Done || res.Dead || len(res.Outputs) != 1 || !strings.Contains(string(res.Outputs[0].Value), "\ufffd(") {
			t.Errorf("%s with replace: %+v %s", steps, res, res.Outputs[0].Headers)
		}
	}
}
