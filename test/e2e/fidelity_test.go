package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/observe"
)

// Record fidelity through the runner, seen by kcat: a record's headers are
// an ordered list in which a key may repeat, and the runner must hand them on
// as such — to the outputs unchanged, to a dead letter unchanged and ahead of
// the millrace.* headers that say why it failed. kcat writes the inputs and
// reads the results, so no part of the check rests on the runner's own
// client.

// hdr is one record header, as kcat -J lists it.
type hdr struct{ Key, Value string }

func (h hdr) String() string { return h.Key + "=" + h.Value }

// headerList returns a kcat record's headers in their order on the wire.
func (r kcatRecord) headerList() []hdr {
	hs := make([]hdr, 0, len(r.Headers)/2)
	for i := 0; i+1 < len(r.Headers); i += 2 {
		hs = append(hs, hdr{r.Headers[i], r.Headers[i+1]})
	}
	return hs
}

// kcatProduce writes one record per value with kcat, each with key and the
// headers hs in that order.
func kcatProduce(t *testing.T, b broker, topic, key string, hs []hdr, values ...string) {
	t.Helper()
	const delim = "|"
	args := []string{"-b", b.Addr, "-P", "-t", topic, "-K", delim}
	for _, h := range hs {
		if h.Key == "" || strings.Contains(h.Key, "=") {
			t.Fatalf("header key %q: kcat -H splits at the first '='", h.Key)
		}
		args = append(args, "-H", h.Key+"="+h.Value)
	}
	var in strings.Builder
	for _, v := range values {
		if strings.ContainsAny(key+v, delim+"\n") {
			t.Fatalf("record %q|%q: kcat -P splits lines at newlines and keys at %q", key, v, delim)
		}
		in.WriteString(key + delim + v + "\n")
	}
	kcatRun(t, in.String(), args...)
}

// requireInputAsWritten reads topic back with kcat and fails the test unless
// its n records carry exactly the headers hs: the broker and kcat keep order
// and repeats, so a difference after the runner is the runner's.
func requireInputAsWritten(t *testing.T, b broker, topic string, n int, hs []hdr) {
	t.Helper()
	for _, r := range kcatConsume(t, b, topic, n) {
		if d := headersDiff(hs, r.headerList(), true); d != "" {
			t.Fatalf("setup: input record at %s/%d@%d as read back by kcat: %s", topic, r.Partition, r.Offset, d)
		}
	}
}

// headersDiff compares the first len(want) headers of got with want, and
// with exact also requires that got has no more. It returns "" when they
// agree, else where they first differ and both lists.
func headersDiff(want, got []hdr, exact bool) string {
	first := -1
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			first = i
			break
		}
	}
	if first < 0 && (!exact || len(got) == len(want)) {
		return ""
	}
	var s strings.Builder
	switch {
	case first < 0:
		fmt.Fprintf(&s, "%d header(s) beyond the %d expected, from position %d: %v", len(got)-len(want), len(want), len(want), got[len(want):])
	case first >= len(got):
		fmt.Fprintf(&s, "only %d header(s), want at least %d; first missing at position %d: %v", len(got), len(want), first, want[first])
	default:
		fmt.Fprintf(&s, "first difference at position %d: got %v, want %v", first, got[first], want[first])
	}
	if lost := lostRepeats(want, got); lost != "" {
		fmt.Fprintf(&s, "; fewer than sent: %s", lost)
	}
	then := ""
	if !exact {
		then = ", then the runner's"
	}
	fmt.Fprintf(&s, "\n  want (%d%s): %s\n  got  (%d): %s", len(want), then, fmtHeaders(want), len(got), fmtHeaders(got))
	return s.String()
}

// lostRepeats lists the keys that got holds fewer times than want, with
// both counts, in want's order.
func lostRepeats(want, got []hdr) string {
	wn, gn := map[string]int{}, map[string]int{}
	var ks []string
	for _, h := range want {
		if wn[h.Key] == 0 {
			ks = append(ks, h.Key)
		}
		wn[h.Key]++
	}
	for _, h := range got {
		gn[h.Key]++
	}
	var out []string
	for _, k := range ks {
		if gn[k] < wn[k] {
			out = append(out, fmt.Sprintf("%s (%d of %d)", k, gn[k], wn[k]))
		}
	}
	return strings.Join(out, ", ")
}

// fmtHeaders prints a header list in order, shortened around the middle when
// it is long.
func fmtHeaders(hs []hdr) string {
	const head, tail = 40, 20
	if len(hs) <= head+tail {
		return fmt.Sprint(hs)
	}
	return fmt.Sprintf("%v ... (%d more) ... %v", hs[:head], len(hs)-head-tail, hs[len(hs)-tail:])
}

// deadLetterHeaders are the headers README.md ("Dead letters") promises on
// every dead letter.
var deadLetterHeaders = []string{engine.HeaderError, engine.HeaderStep, engine.HeaderStepIndex, engine.HeaderPipeline,
	engine.HeaderSourceTopic, engine.HeaderSourcePartition, engine.HeaderSourceOffset, engine.HeaderAttempts,
	engine.HeaderFailedAt}

// checkDeadLetter checks a dead letter read by kcat against its input: the
// key and value byte for byte, the input's headers first and in their order,
// repeats kept, then the runner's own, among them each millrace.* header
// once, naming the pipeline, the input topic and the failing step.
func checkDeadLetter(t *testing.T, d kcatRecord, key, value string, orig []hdr, inTopic, step string) {
	t.Helper()
	if d.Key == nil || *d.Key != key {
		t.Errorf("dead letter %s/%d@%d: key %s, want %q", d.Topic, d.Partition, d.Offset, quoted(d.Key), key)
	}
	if d.Payload == nil || *d.Payload != value {
		t.Errorf("dead letter %s/%d@%d: value %s, want %q", d.Topic, d.Partition, d.Offset, quoted(d.Payload), value)
	}
	got := d.headerList()
	if diff := headersDiff(orig, got, false); diff != "" {
		t.Errorf("dead letter of %q: the input's headers must come first, in their order, repeats kept: %s", value, diff)
	} else {
		origKeys := map[string]bool{}
		for _, h := range orig {
			origKeys[h.Key] = true
		}
		for i, h := range got[len(orig):] {
			if origKeys[h.Key] {
				t.Errorf("dead letter of %q: input header %v again at position %d, after the input's headers", value, h, len(orig)+i)
			}
		}
	}
	// Each millrace.* header once, anywhere: this part holds whatever the
	// order.
	all := map[string]int{}
	last := map[string]string{}
	for _, h := range got {
		all[h.Key]++
		last[h.Key] = h.Value
	}
	for _, k := range deadLetterHeaders {
		if all[k] != 1 {
			t.Errorf("dead letter of %q: header %s %d time(s), want once: %s", value, k, all[k], fmtHeaders(got))
		}
	}
	for k, want := range map[string]string{engine.HeaderPipeline: "enrich", engine.HeaderSourceTopic: inTopic,
		engine.HeaderStep: step, engine.HeaderAttempts: "1"} {
		if all[k] == 1 && last[k] != want {
			t.Errorf("dead letter of %q: %s=%q, want %q", value, k, last[k], want)
		}
	}
}

func quoted(s *string) string {
	if s == nil {
		return "null"
	}
	return fmt.Sprintf("%q", *s)
}

// A value that is not JSON and one on which the filter fails, both with the
// header dup twice: each dead letter carries the key and value byte for byte
// and dup=1, dup=2, tenant=acme first and in that order, then the millrace.*
// headers.
func TestFidelityDeadLetterRepeatedHeaders(t *testing.T) {
	needKcat(t)
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		hs := []hdr{{"dup", "1"}, {"dup", "2"}, {"tenant", "acme"}}
		badJSON := "  {\"id\": \"bad\", amount: oops é\t"
		badType := `{"id":"str","amount":"ten","country":"FR"}`
		kcatProduce(t, b, tp.in, "k1", hs, badJSON, badType)
		requireInputAsWritten(t, b, tp.in, 2, hs)
		r := startRunner(t, "-c", writeConfig(t, enrichConfig(b, tp, true)))
		dead := kcatConsume(t, b, tp.dlq, 2)
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("runner exit code %d", code)
		}
		steps := map[string]string{badJSON: "decode", badType: "filter"}
		for _, d := range dead {
			v := ""
			if d.Payload != nil {
				v = *d.Payload
			}
			step, ok := steps[v]
			if !ok {
				t.Errorf("dead letter %s/%d@%d with value %s is neither input byte for byte (want %q or %q)",
					d.Topic, d.Partition, d.Offset, quoted(d.Payload), badJSON, badType)
				continue
			}
			delete(steps, v)
			checkDeadLetter(t, d, "k1", v, hs, tp.in, step)
		}
		if len(steps) > 0 {
			t.Errorf("no dead letter for %v", steps)
		}
	})
}

// A failing record with 1000 headers h0000..h0999: the dead letter carries
// all of them, in the same order, ahead of the millrace.* headers.
func TestFidelityDeadLetterThousandHeaders(t *testing.T) {
	needKcat(t)
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		hs := make([]hdr, 1000)
		for i := range hs {
			hs[i] = hdr{fmt.Sprintf("h%04d", i), fmt.Sprintf("v%04d", 999-i)}
		}
		const bad = "not json"
		kcatProduce(t, b, tp.in, "k1", hs, bad)
		requireInputAsWritten(t, b, tp.in, 1, hs)
		r := startRunner(t, "-c", writeConfig(t, enrichConfig(b, tp, true)))
		dead := kcatConsume(t, b, tp.dlq, 1)
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("runner exit code %d", code)
		}
		checkDeadLetter(t, dead[0], "k1", bad, hs, tp.in, "decode")
	})
}

// Records that pass the chain keep their headers: dup=1, dup=2, x=y come out
// in that order with the repeat kept, plus the traceparent the runner gives
// a record without one; a record that has a valid traceparent among its
// headers comes out with exactly its headers, traceparent in its place.
func TestFidelityOutputHeaders(t *testing.T) {
	needKcat(t)
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		plain := []hdr{{"dup", "1"}, {"dup", "2"}, {"x", "y"}}
		const trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		traced := []hdr{{"dup", "1"}, {observe.TraceparentHeader, trace}, {"dup", "2"}, {"x", "y"}}
		kcatProduce(t, b, tp.in, "k1", plain, string(order("1", 12.5, "FR")))
		kcatProduce(t, b, tp.in, "k2", traced, string(order("2", 3, "FR")))
		r := startRunner(t, "-c", writeConfig(t, enrichConfig(b, tp, true)))
		outs := kcatConsume(t, b, tp.out, 2)
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("runner exit code %d", code)
		}
		want := map[string]string{
			"k1": `{"amount":12.5,"country":"FR","id":"1","seen_key":"k1","total_cents":1250,"user_id":"u-1"}`,
			"k2": `{"amount":3,"country":"FR","id":"2","seen_key":"k2","total_cents":300,"user_id":"u-2"}`,
		}
		for _, o := range outs {
			if o.Key == nil || want[*o.Key] == "" {
				t.Errorf("output %s/%d@%d: key %s, want k1 or k2", o.Topic, o.Partition, o.Offset, quoted(o.Key))
				continue
			}
			k := *o.Key
			if o.Payload == nil || *o.Payload != want[k] {
				t.Errorf("output %s: value\n got %s\nwant %s", k, quoted(o.Payload), want[k])
			}
			delete(want, k)
			got := o.headerList()
			if k == "k2" {
				if d := headersDiff(traced, got, true); d != "" {
					t.Errorf("output k2: want exactly the input's headers in their order: %s", d)
				}
				continue
			}
			// The runner adds one traceparent; apart from it the headers are
			// the input's, in their order.
			var rest []hdr
			n := 0
			for _, h := range got {
				if h.Key == observe.TraceparentHeader {
					n++
					if !observe.ValidTraceparent(h.Value) {
						t.Errorf("output k1: invalid traceparent %q", h.Value)
					}
					continue
				}
				rest = append(rest, h)
			}
			if n != 1 {
				t.Errorf("output k1: %d traceparent header(s), want 1: %s", n, fmtHeaders(got))
			}
			if d := headersDiff(plain, rest, true); d != "" {
				t.Errorf("output k1: apart from the traceparent, want exactly the input's headers in their order: %s", d)
			}
		}
		if len(want) > 0 {
			t.Errorf("missing outputs for keys %v", keys(want))
		}
	})
}
