package engine_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/millrace-dev/millrace/pipeline/engine"
)

// A value with invalid UTF-8 inside a string is a data error by default:
// it reaches the dead-letter topic byte for byte, where decoding it would
// have written U+FFFD in its place. ReplaceInvalidUTF8 (input.invalid_utf8:
// replace) keeps the replacement.
func TestInvalidUTF8(t *testing.T) {
	for _, v := range []string{"{\"s\":\"\xc3\x28\",\"amount\":1}", "{\"n\":{\"s\":\"\xc3\x28\"}}", "{\"l\":[\"\xc3\x28\"]}", "{\"\xc3\x28\":1}"} {
		testInvalidUTF8(t, []byte(v))
	}
}

// testInvalidUTF8 checks one value with one invalid sequence, \xc3(.
func testInvalidUTF8(t *testing.T, value []byte) {
	t.Helper()
	at := fmt.Sprintf("invalid UTF-8 at byte %d", bytes.IndexByte(value, 0xc3))
	for _, steps := range []string{"[{set: {x: '1'}}]", "[{jq: '.'}]"} { // the spliced path and the full one
		reject := newEngine(t, pipelineYAML(steps), &producer{}, nil)
		res := process(reject, &engine.Record{Topic: "in", Value: bytes.Clone(value)})
		if !res.Done || !res.Dead || !bytes.Equal(res.Outputs[0].Value, value) {
			t.Fatalf("%q %s: %+v, want the input dead-lettered unchanged", value, steps, res)
		}
		if h, _ := res.Outputs[0].Headers.Get(engine.HeaderError); !strings.Contains(string(h), at) {
			t.Errorf("%q %s: error %q", value, steps, h)
		}
		replace := newEngine(t, pipelineYAML(steps), &producer{}, func(c *engine.Config) { c.ReplaceInvalidUTF8 = true })
		res = process(replace, &engine.Record{Topic: "in", Value: bytes.Clone(value)})
		if !res.Done || res.Dead || len(res.Outputs) != 1 || !strings.Contains(string(res.Outputs[0].Value), "\ufffd(") {
			t.Errorf("%q %s with replace: %+v", value, steps, res)
		}
	}
}
