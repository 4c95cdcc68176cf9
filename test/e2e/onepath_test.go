package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/configtest"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/millrace-dev/millrace/pipeline/replay"
)

// One record path (docs/architecture.md): `run`, `replay` and
// `pipeline-runner test` all take a record through engine.Engine.Process.
// TestOnePath feeds the same inputs to the three and requires the same
// records out of each, so that a change of the record path in one of them
// fails it. kcat writes the inputs and reads every result.

// onePathConfig is the pipeline under test. Its chain uses what the engine
// does around the transforms: decode once, a filter, a set with
// expressions (one of which fails on a record), headers set from fields and
// expressions (one removed, one copied into a field), a split fan-out, an
// output route to a second topic, encode once, dead letters.
func onePathConfig(b broker, in, out, bulk, dlq string) string {
	return fmt.Sprintf(`version: 1
kafka:
  brokers: [%s]
  client_id: e2e
runner:
  shutdown_timeout: 20s
pipelines:
  - name: enrich
    input: {topic: %s, group: %s-group, start: oldest}
    transforms:
      - filter: 'status != "test"'
      - set: {total_cents: 'int(amount * 100)', seen_key: 'kafka.key', seen_dup: 'kafka.headers["dup"]'}
      - headers: {to_fields: {tenant: tenant}, remove: [drop-me], from_fields: {x-order: id}, set: {x-total: total_cents}}
      - split: {field: items, to: item, index: line}
      - headers: {from_fields: {x-sku: item.sku}}
    output:
      topic: %s
      routes:
        - {when: 'item.qty >= 10', topic: %s}
    errors:
      retry: {max_retries: 2, initial_interval: 10ms, max_interval: 50ms}
      dead_letter_topic: %s
`, b.Addr, in, in, out, bulk, dlq)
}

// onePathInput is one input record and what onePathConfig's chain makes of
// it.
type onePathInput struct {
	id         string // the value's id, which its outputs keep; "" for the value that is not JSON
	key, value string
	hs         []hdr
	out, bulk  int    // outputs to the output topic and to the routed one
	dead       string // the step it fails in, "" if it does not
	bigInt     bool   // it holds an integer beyond 64 bits
}

// onePathInputs: every input carries a valid traceparent (some not first),
// so that no path generates one and the outputs can be compared whole.
// Keys repeat, to compare per-key order; "dup" is a repeated header.
func onePathInputs() []onePathInput {
	tp := func(i int) hdr {
		return hdr{observe.TraceparentHeader, fmt.Sprintf("00-%032x-%016x-01", 0x4bf92f35+i, 0x00f067aa+i)}
	}
	return []onePathInput{
		{id: "o1", key: "ada", hs: []hdr{tp(1), {"dup", "1"}, {"tenant", "acme"}, {"dup", "2"}, {"drop-me", "x"}},
			value: `{"id":"o1","status":"paid","amount":12.5,"country":"FR","note":"a<b & c>d é","items":[{"sku":"a","qty":1},{"sku":"b","qty":12}]}`,
			out:   1, bulk: 1},
		{id: "o2", key: "bob", hs: []hdr{tp(2), {"tenant", "acme"}},
			value: `{"id":"o2","status":"test","amount":5,"items":[{"sku":"z","qty":1}]}`}, // filtered
		{key: "bob", hs: []hdr{tp(3), {"dup", "x"}, {"dup", "y"}},
			value: `not json {"id":"o3"`, dead: "decode"},
		{id: "o4", key: "ada", hs: []hdr{tp(4), {"dup", "1"}, {"dup", "2"}, {"tenant", "beta"}},
			value: `{"id":"o4","status":"paid","amount":"ten","items":[{"sku":"c","qty":1}]}`, dead: "set"},
		{id: "o5", key: "cy", hs: []hdr{tp(5), {"tenant", "acme"}},
			value: `{"id":"o5","status":"paid","amount":3,"country":"DE","items":[{"sku":"d","qty":2}]}`, out: 1},
		{id: "o6", key: "ada", hs: []hdr{{"dup", "1"}, tp(6), {"tenant", "acme"}, {"dup", "2"}},
			value: `{"id":"o6","status":"paid","amount":0.5,"items":[{"sku":"e","qty":20},{"sku":"f","qty":3},{"sku":"g","qty":30}]}`,
			out:   1, bulk: 2},
		{id: "o7", key: "bob", hs: []hdr{tp(7), {"tenant", "acme"}},
			value: `{"id":"o7","status":"paid","amount":1,"items":[]}`}, // an empty split: dropped
		{id: "o8", key: "cy", hs: []hdr{tp(8), {"tenant", "acme"}, {"dup", "p"}, {"dup", "q"}},
			value: `{"id":"o8","status":"paid","amount":7,"items":[{"sku":"h","qty":10}]}`, bulk: 1},
		{id: "o9", key: "bob", hs: []hdr{tp(9), {"tenant", "acme"}},
			value: `{"id":"o9","status":"paid","amount":2,"items":[{"sku":"i","qty":4}]}`, out: 1},
		{id: "o10", key: "big", hs: []hdr{tp(10), {"tenant", "acme"}},
			value: `{"id":"o10","status":"paid","amount":1,"serial":123456789012345678901234567890,"items":[{"sku":"j","qty":1}]}`,
			out:   1, bigInt: true},
	}
}

func TestOnePath(t *testing.T) {
	needKcat(t)
	eachBroker(t, func(t *testing.T, b broker) {
		in, out, bulk, dlq, other := topicName(t, "in"), topicName(t, "out"), topicName(t, "bulk"), topicName(t, "dlq"), topicName(t, "other")
		createTopics(t, b, 3, in, out, bulk, dlq, other)
		cfg := writeConfig(t, onePathConfig(b, in, out, bulk, dlq))
		inputs := onePathInputs()
		var nOut, nBulk, nDead, nFiltered int
		for _, x := range inputs {
			nOut, nBulk = nOut+x.out, nBulk+x.bulk
			switch {
			case x.dead != "":
				nDead++
			case x.out+x.bulk == 0:
				nFiltered++
			}
		}

		// The inputs, one kcat run each so that they are written in order;
		// read back as written.
		for _, x := range inputs {
			kcatProduce(t, b, in, x.key, x.hs, x.value)
		}
		byValue := map[string]int{}
		for i, x := range inputs {
			byValue[x.value] = i
		}
		for _, r := range kcatConsume(t, b, in, len(inputs)) {
			i, ok := byValue[deref(r.Payload)]
			if !ok || deref(r.Key) != inputs[i].key {
				t.Fatalf("setup: input %s/%d@%d: key %s value %s is none of the inputs", r.Topic, r.Partition, r.Offset, quoted(r.Key), quoted(r.Payload))
			}
			if d := headersDiff(inputs[i].hs, r.headerList(), true); d != "" {
				t.Fatalf("setup: input %s as read back by kcat: %s", inputs[i].value, d)
			}
		}

		// run, until every output and dead letter arrived and the input is
		// committed.
		r := startRunner(t, "-c", cfg)
		runOut := kcatConsume(t, b, out, nOut)
		runBulk := kcatConsume(t, b, bulk, nBulk)
		runDead := kcatConsume(t, b, dlq, nDead)
		waitGroupAtEnd(t, b, in+"-group", in)
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("run: exit code %d", code)
		}
		for topic, n := range map[string]int{out: nOut, bulk: nBulk, dlq: nDead} {
			if got := sumOffsets(endOffsets(t, b, topic)); got != int64(n) {
				t.Fatalf("run wrote %d record(s) to %s, want %d", got, topic, n)
			}
		}
		runDeadEnd := endOffsets(t, b, dlq)

		// Which input each of run's records comes from: outputs keep the
		// value's id, dead letters are the input's value.
		byID := map[string]int{}
		for i, x := range inputs {
			if x.id != "" {
				byID[x.id] = i
			}
		}
		outsOf := make([]map[string][]kcatRecord, len(inputs)) // per input, per topic, in offset order
		for i := range outsOf {
			outsOf[i] = map[string][]kcatRecord{}
		}
		for _, o := range slices.Concat(runOut, runBulk) {
			var v struct{ ID string }
			_ = json.Unmarshal([]byte(deref(o.Payload)), &v)
			i, ok := byID[v.ID]
			if !ok {
				t.Fatalf("run: output %s/%d@%d %s is of none of the inputs", o.Topic, o.Partition, o.Offset, quoted(o.Payload))
			}
			outsOf[i][o.Topic] = append(outsOf[i][o.Topic], o)
		}
		deadOf := make([]*kcatRecord, len(inputs))
		for _, d := range runDead {
			i, ok := byValue[deref(d.Payload)]
			if !ok {
				t.Fatalf("run: dead letter %s/%d@%d %s is none of the inputs", d.Topic, d.Partition, d.Offset, quoted(d.Payload))
			}
			deadOf[i] = &d
		}

		// What run wrote is what the chain makes of the inputs (this is not
		// about the paths agreeing; it makes sure the chain ran at all).
		for i := range outsOf {
			for _, rs := range outsOf[i] {
				slices.SortFunc(rs, byOffset)
			}
		}
		for i, x := range inputs {
			if got := len(outsOf[i][out]); got != x.out {
				t.Errorf("run: input %s gave %d output(s) on %s, want %d", x.value, got, out, x.out)
			}
			if got := len(outsOf[i][bulk]); got != x.bulk {
				t.Errorf("run: input %s gave %d output(s) on %s, want %d", x.value, got, bulk, x.bulk)
			}
			for _, o := range slices.Concat(outsOf[i][out], outsOf[i][bulk]) {
				// The input's headers, drop-me removed, in order with
				// repeats, then those the headers steps set.
				kept := slices.DeleteFunc(slices.Clone(x.hs), func(h hdr) bool { return h.Key == "drop-me" })
				got := o.headerList()
				if d := headersDiff(kept, got, false); d != "" {
					t.Errorf("run: output %s/%d@%d: %s", o.Topic, o.Partition, o.Offset, d)
				} else if added := got[len(kept):]; len(added) != 3 || added[0].Key != "x-order" || added[1].Key != "x-total" || added[2].Key != "x-sku" {
					t.Errorf("run: output %s/%d@%d: after the input's headers %v, want x-order, x-total, x-sku", o.Topic, o.Partition, o.Offset, added)
				}
			}
			if (deadOf[i] != nil) != (x.dead != "") {
				t.Errorf("run: input %s: dead-lettered %v, want %v", x.value, deadOf[i] != nil, x.dead != "")
			} else if x.dead != "" {
				checkDeadLetter(t, *deadOf[i], x.key, x.value, x.hs, in, x.dead)
			}
		}
		if t.Failed() {
			t.FailNow()
		}

		t.Run("replay --to-topic writes what run wrote", func(t *testing.T) {
			stdout, stderr, code := cliIn(t, t.TempDir(), "replay", "enrich", "-c", cfg, "--from", "oldest", "--to-topic", other, "--json")
			if code != 0 {
				t.Fatalf("replay: exit %d\n%s\n%s", code, stdout, stderr)
			}
			summary := decodeSummary(t, stdout)
			requireReplaySummary(t, summary, len(inputs), map[string]int{other: nOut + nBulk}, nFiltered, nDead)
			got := kcatConsume(t, b, other, nOut+nBulk)
			// --to-topic takes the outputs of both of run's topics: per key,
			// they are those of each in its order, interleaved.
			sameInterleaved(t, "replay --to-topic", out, runOut, bulk, runBulk, got)
			// Its dead letters go to the pipeline's dead-letter topic, after
			// run's.
			var replayDead []kcatRecord
			for _, d := range kcatConsume(t, b, dlq, 2*nDead) {
				if d.Offset >= runDeadEnd[d.Partition] {
					replayDead = append(replayDead, d)
				}
			}
			sameDeadLetters(t, "replay --to-topic", runDead, replayDeadLetters(t, "replay --to-topic", summary.ID, replayDead))
			for topic, n := range map[string]int{other: nOut + nBulk, dlq: 2 * nDead, out: nOut, bulk: nBulk} {
				if got := sumOffsets(endOffsets(t, b, topic)); got != int64(n) {
					t.Errorf("after the replay, %s holds %d record(s), want %d", topic, got, n)
				}
			}
		})

		// The same pipeline writing to a fresh set of topics.
		out2, bulk2, dlq2 := topicName(t, "out2"), topicName(t, "bulk2"), topicName(t, "dlq2")
		t.Run("replay into its own outputs writes what run wrote", func(t *testing.T) {
			createTopics(t, b, 3, out2, bulk2, dlq2)
			cfg2 := writeConfig(t, onePathConfig(b, in, out2, bulk2, dlq2))
			stdout, stderr, code := cliIn(t, t.TempDir(), "replay", "enrich", "-c", cfg2, "--from", "oldest", "--json")
			if code != 0 {
				t.Fatalf("replay: exit %d\n%s\n%s", code, stdout, stderr)
			}
			summary := decodeSummary(t, stdout)
			requireReplaySummary(t, summary, len(inputs), map[string]int{out2: nOut, bulk2: nBulk}, nFiltered, nDead)
			samePerKey(t, "replay to "+out2+" (run: "+out+")", runOut, kcatConsume(t, b, out2, nOut), nil)
			samePerKey(t, "replay to "+bulk2+" (run: "+bulk+")", runBulk, kcatConsume(t, b, bulk2, nBulk), nil)
			what := "replay to " + dlq2 + " (run: " + dlq + ")"
			sameDeadLetters(t, what, runDead, replayDeadLetters(t, what, summary.ID, kcatConsume(t, b, dlq2, nDead)))
			for topic, n := range map[string]int{out2: nOut, bulk2: nBulk, dlq2: nDead} {
				if got := sumOffsets(endOffsets(t, b, topic)); got != int64(n) {
					t.Errorf("replay wrote %d record(s) to %s, want %d", got, topic, n)
				}
			}
		})

		// pipeline-runner test, with the inputs as test inputs (raw: the
		// value byte for byte) and what run wrote as the expectations:
		// json_equals, key and headers of each output in order per topic,
		// key, step, error_contains and headers of each dead letter. What a
		// tests file cannot say, the test command cannot be held to: a
		// header repeated in an input or an output (headers are a mapping
		// there, see collapse), the value's bytes (json_equals compares the
		// decoded JSON), the timestamp. The records holding an integer
		// beyond 64 bits are a case of their own (see below).
		var plain, big []int
		for i, x := range inputs {
			if x.bigInt {
				big = append(big, i)
			} else {
				plain = append(plain, i)
			}
		}
		tf := onePathTests{inputs: inputs, outs: outsOf, dead: deadOf, topics: []string{out, bulk}}
		testsFile := config.TestFile(cfg)
		configTest := func(t *testing.T, cases ...onePathCase) (testResults, int) {
			t.Helper()
			text := tf.yaml(cases...)
			if err := os.WriteFile(testsFile, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("%s:\n%s", testsFile, text)
				}
			})
			stdout, stderr, code := cli(t, "", "test", "-c", cfg, "--json")
			var res testResults
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("pipeline-runner test --json: exit %d, output is not JSON (%v):\n%s\n%s\ntests file:\n%s", code, err, stdout, stderr, text)
			}
			return res, code
		}

		t.Run("pipeline-runner test passes on what run wrote", func(t *testing.T) {
			res, code := configTest(t, onePathCase{name: "the inputs give what run wrote", inputs: plain})
			if code != 0 || res.Passed != 1 || res.Failed != 0 {
				t.Errorf("exit %d, %d passed, %d failed, want 0, 1, 0: %s", code, res.Passed, res.Failed, res.failures())
			}
		})

		t.Run("pipeline-runner test fails a wrong expectation", func(t *testing.T) {
			res, code := configTest(t,
				onePathCase{name: "the inputs give what run wrote", inputs: plain},
				onePathCase{name: "a wrong expectation", inputs: plain, wrong: true})
			if code != 1 || res.Passed != 1 || res.Failed != 1 || len(res.Tests) != 2 {
				t.Fatalf("exit %d, %d passed, %d failed, want 1, 1, 1: %s", code, res.Passed, res.Failed, res.failures())
			}
			want := tf.wrongFailure(plain)
			if w := res.Tests[1]; w.Name != "a wrong expectation" || w.Passed || len(w.Failures) != 1 || w.Failures[0] != want {
				t.Errorf("the wrong case: %+v\nwant it failed with exactly %q", w, want)
			}
		})

		// KNOWN BUG, left failing: a tests file reads a YAML integer beyond
		// 64 bits as a string (the YAML parser gives a string node for it,
		// transforms/spec keeps it a KindString, Value.Plain returns the
		// text), in json_equals and json_contains and also in a value:
		// input. So a json_equals taken from what run wrote cannot match,
		// although the engine gives the test command the very value run
		// wrote (README, "JSON": integers keep every digit, also beyond 64
		// bits); the same record given as value: would reach the chain with
		// a string where Kafka's has a number.
		t.Run("pipeline-runner test json_equals of an integer beyond 64 bits", func(t *testing.T) {
			res, code := configTest(t, onePathCase{name: "an integer beyond 64 bits", inputs: big})
			if code != 0 || res.Passed != 1 {
				t.Errorf("exit %d, %d passed, %d failed, want 0, 1, 0: %s", code, res.Passed, res.Failed, res.failures())
			}
		})
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func byOffset(a, b kcatRecord) int { return cmp.Compare(a.Offset, b.Offset) }

// requireReplaySummary checks a replay's counts against the run's.
func requireReplaySummary(t *testing.T, s replay.Summary, read int, written map[string]int, filtered, dead int) {
	t.Helper()
	total := 0
	for topic, n := range written {
		total += n
		if s.WrittenByTopic[topic] != int64(n) {
			t.Errorf("replay summary: %d written to %s, want %d: %+v", s.WrittenByTopic[topic], topic, n, s)
		}
	}
	if !s.Complete || s.Read != int64(read) || s.Written != int64(total) || s.Filtered != int64(filtered) || s.DeadLettered != int64(dead) {
		t.Errorf("replay summary: complete %v, read %d, written %d, filtered %d, dead-lettered %d; want true, %d, %d, %d, %d",
			s.Complete, s.Read, s.Written, s.Filtered, s.DeadLettered, read, total, filtered, dead)
	}
}

// record is what a record is apart from where it was written: its key, its
// value byte for byte, its headers as an ordered list with repeats, its
// timestamp.
type record struct {
	Key, Value string
	Headers    []hdr
	TS         int64
}

// asRecord is r, with the values of the headers in differs replaced.
func asRecord(r kcatRecord, differs map[string]string) record {
	hs := r.headerList()
	for i, h := range hs {
		if why, ok := differs[h.Key]; ok {
			hs[i].Value = "(" + why + ")"
		}
	}
	return record{Key: quoted(r.Key), Value: quoted(r.Payload), Headers: hs, TS: r.TS}
}

func (r record) equal(o record) bool {
	return r.Key == o.Key && r.Value == o.Value && r.TS == o.TS && slices.Equal(r.Headers, o.Headers)
}

func (r record) String() string {
	return fmt.Sprintf("key %s, value %s, timestamp %d, headers %s", r.Key, r.Value, r.TS, fmtHeaders(r.Headers))
}

// recordDiff says how got differs from want.
func recordDiff(want, got record) string {
	var s []string
	if got.Key != want.Key {
		s = append(s, fmt.Sprintf("key %s, want %s", got.Key, want.Key))
	}
	if got.Value != want.Value {
		s = append(s, fmt.Sprintf("value\n      got  %s\n      want %s", got.Value, want.Value))
	}
	if got.TS != want.TS {
		s = append(s, fmt.Sprintf("timestamp %d, want %d", got.TS, want.TS))
	}
	if d := headersDiff(want.Headers, got.Headers, true); d != "" {
		s = append(s, "headers: "+d)
	}
	return strings.Join(s, "; ")
}

// keyed groups records by key, each key's in offset order. Per-key order
// holds within a partition: a key in two partitions of one topic fails the
// test.
func keyed(t *testing.T, recs []kcatRecord) map[string][]kcatRecord {
	t.Helper()
	out := map[string][]kcatRecord{}
	part := map[string]int32{}
	for _, r := range recs {
		k := quoted(r.Key)
		if p, ok := part[k]; ok && p != r.Partition {
			t.Fatalf("%s: key %s is in partitions %d and %d", r.Topic, k, p, r.Partition)
		}
		part[k] = r.Partition
		out[k] = append(out[k], r)
	}
	for _, rs := range out {
		slices.SortFunc(rs, byOffset)
	}
	return out
}

func allKeys(ms ...map[string][]kcatRecord) []string {
	var ks []string
	for _, m := range ms {
		for k := range m {
			if !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
	}
	slices.Sort(ks)
	return ks
}

// samePerKey requires that got holds, per key and in order, exactly the
// records of want (headers in differs aside).
func samePerKey(t *testing.T, what string, want, got []kcatRecord, differs map[string]string) {
	t.Helper()
	w, g := keyed(t, want), keyed(t, got)
	for _, k := range allKeys(w, g) {
		for i := range max(len(w[k]), len(g[k])) {
			switch {
			case i >= len(g[k]):
				t.Errorf("%s, key %s: record %d missing; run wrote %s", what, k, i, asRecord(w[k][i], differs))
			case i >= len(w[k]):
				t.Errorf("%s, key %s: record %d (%s/%d@%d) more than run wrote: %s", what, k, i, g[k][i].Topic, g[k][i].Partition, g[k][i].Offset, asRecord(g[k][i], differs))
			default:
				wr, gr := asRecord(w[k][i], differs), asRecord(g[k][i], differs)
				if !gr.equal(wr) {
					t.Errorf("%s, key %s: record %d (%s/%d@%d; run's at %s/%d@%d) differs from run's: %s", what, k, i,
						g[k][i].Topic, g[k][i].Partition, g[k][i].Offset, w[k][i].Topic, w[k][i].Partition, w[k][i].Offset, recordDiff(wr, gr))
				}
			}
		}
	}
}

// sameInterleaved requires that got holds, per key, exactly the records of
// a and of b, each in its order.
func sameInterleaved(t *testing.T, what, aTopic string, a []kcatRecord, bTopic string, b, got []kcatRecord) {
	t.Helper()
	ka, kb, kg := keyed(t, a), keyed(t, b), keyed(t, got)
keys:
	for _, k := range allKeys(ka, kb, kg) {
		i, j := 0, 0
		for n, r := range kg[k] {
			gr := asRecord(r, nil)
			switch {
			case i < len(ka[k]) && gr.equal(asRecord(ka[k][i], nil)):
				i++
			case j < len(kb[k]) && gr.equal(asRecord(kb[k][j], nil)):
				j++
			default:
				next := func(rs []kcatRecord, at int) string {
					if at >= len(rs) {
						return "none left"
					}
					return asRecord(rs[at], nil).String()
				}
				t.Errorf("%s, key %s: record %d (%s/%d@%d) is not the next of key %s that run wrote to %s or to %s:\n  got   %s\n  %s: %s\n  %s: %s",
					what, k, n, r.Topic, r.Partition, r.Offset, k, aTopic, bTopic, gr, aTopic, next(ka[k], i), bTopic, next(kb[k], j))
				continue keys
			}
		}
		for ; i < len(ka[k]); i++ {
			t.Errorf("%s, key %s: missing what run wrote to %s: %s", what, k, aTopic, asRecord(ka[k][i], nil))
		}
		for ; j < len(kb[k]); j++ {
			t.Errorf("%s, key %s: missing what run wrote to %s: %s", what, k, bTopic, asRecord(kb[k][j], nil))
		}
	}
}

// deadLetterDiffers are the dead-letter headers whose values may differ
// between two paths that dead-letter the same input:
//   - millrace.failed_at is the wall-clock time of the failure;
//   - millrace.attempts counts the times this process handed the record to
//     the chain: 1, unless its outputs' produce failed past the retries and
//     the record was handed out again; a replay counts afresh (a redrive
//     counts on from the dead letter's);
//   - Watermill's subscriber_poisoned names the source that read the
//     record: kafka.ConcurrentSubscriber for run and replay (its group and
//     bounded-range modes), configtest for pipeline-runner test.
//
// Everything else — the key, the value, the input's headers, millrace.error,
// .error.step, .error.step_index, .pipeline, .source.topic,
// .source.partition, .source.offset, Watermill's reason, topic and handler —
// must be the same, in the same order.
var deadLetterDiffers = map[string]string{
	engine.HeaderFailedAt:            "time of the failure",
	engine.HeaderAttempts:            "attempts of this process",
	middleware.PoisonedSubscriberKey: "the source",
}

// sameDeadLetters compares two paths' dead letters of the same inputs.
func sameDeadLetters(t *testing.T, what string, want, got []kcatRecord) {
	t.Helper()
	for _, d := range slices.Concat(want, got) {
		h := d.headerMap()
		if n, err := strconv.Atoi(h[engine.HeaderAttempts]); err != nil || n < 1 {
			t.Errorf("%s: dead letter %s/%d@%d: %s=%q, want a count", what, d.Topic, d.Partition, d.Offset, engine.HeaderAttempts, h[engine.HeaderAttempts])
		}
		if _, err := time.Parse(time.RFC3339Nano, h[engine.HeaderFailedAt]); err != nil {
			t.Errorf("%s: dead letter %s/%d@%d: %s: %v", what, d.Topic, d.Partition, d.Offset, engine.HeaderFailedAt, err)
		}
	}
	samePerKey(t, what+" dead letters", want, got, deadLetterDiffers)
}

// replayDeadLetters checks that every dead letter a replay wrote ends with
// the replay's millrace.replay.id, and returns them without it: the rest
// is what run's dead letters hold.
func replayDeadLetters(t *testing.T, what, id string, got []kcatRecord) []kcatRecord {
	t.Helper()
	out := make([]kcatRecord, len(got))
	for i, d := range got {
		n := len(d.Headers)
		if n < 2 || d.Headers[n-2] != replay.HeaderReplayID || d.Headers[n-1] != id {
			t.Errorf("%s: dead letter %s/%d@%d does not end with %s=%s: %v", what, d.Topic, d.Partition, d.Offset, replay.HeaderReplayID, id, d.Headers)
		} else {
			d.Headers = d.Headers[: n-2 : n-2]
		}
		out[i] = d
	}
	return out
}

// testResults is what `pipeline-runner test --json` prints.
type testResults struct {
	Passed int                 `json:"passed"`
	Failed int                 `json:"failed"`
	Tests  []configtest.Result `json:"tests"`
}

func (r testResults) failures() string {
	var s strings.Builder
	for _, c := range r.Tests {
		for _, f := range c.Failures {
			fmt.Fprintf(&s, "\n  %s: %s", c.Name, f)
		}
	}
	return s.String()
}

// onePathTests writes config tests whose inputs are onePathInputs and
// whose expectations are what run wrote.
type onePathTests struct {
	inputs []onePathInput
	outs   []map[string][]kcatRecord // run's outputs per input and topic, in order
	dead   []*kcatRecord             // run's dead letter per input
	topics []string
}

// onePathCase is a test of some of the inputs; wrong breaks the first
// expectation of the first output topic: its x-total header.
type onePathCase struct {
	name   string
	inputs []int
	wrong  bool
}

const wrongTotal = "-1"

// wrongFailure is the failure pipeline-runner test reports for the wrong
// case of inputs.
func (o onePathTests) wrongFailure(inputs []int) string {
	for _, i := range inputs {
		if rs := o.outs[i][o.topics[0]]; len(rs) > 0 {
			return fmt.Sprintf("%s[0]: header x-total: want %q, got %q", o.topics[0], wrongTotal, rs[0].headerMap()["x-total"])
		}
	}
	return "(no output to break)"
}

// yq quotes s for YAML: a JSON string is a YAML double-quoted scalar.
func yq(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// collapse is a header list as the mapping a tests file holds: one value
// per name, the last (as pipeline-runner test compares them), in the order
// of first appearance. A tests file cannot give a record a repeated header.
func collapse(hs []hdr, skip map[string]bool) string {
	var order []string
	last := map[string]string{}
	for _, h := range hs {
		if skip[h.Key] {
			continue
		}
		if _, ok := last[h.Key]; !ok {
			order = append(order, h.Key)
		}
		last[h.Key] = h.Value
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = yq(k) + ": " + yq(last[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// deadLetterUntestable are the dead-letter headers a config test cannot
// expect from run's: those that may differ between paths
// (deadLetterDiffers), and the position, since a config test feeds its
// inputs as offsets 0, 1, ... of partition 0.
var deadLetterUntestable = map[string]bool{engine.HeaderFailedAt: true, engine.HeaderAttempts: true,
	middleware.PoisonedSubscriberKey: true, engine.HeaderSourcePartition: true, engine.HeaderSourceOffset: true}

func (o onePathTests) yaml(cases ...onePathCase) string {
	var s strings.Builder
	s.WriteString("tests:\n")
	for _, c := range cases {
		fmt.Fprintf(&s, "  - name: %s\n    input:\n", yq(c.name))
		for _, i := range c.inputs {
			x := o.inputs[i]
			// raw: the value byte for byte, as kcat wrote it.
			fmt.Fprintf(&s, "      - key: %s\n        headers: %s\n        raw: %s\n", yq(x.key), collapse(x.hs, nil), yq(x.value))
		}
		s.WriteString("    expect:\n")
		broken := !c.wrong
		for _, topic := range o.topics {
			var rs []kcatRecord
			for _, i := range c.inputs {
				rs = append(rs, o.outs[i][topic]...)
			}
			if len(rs) == 0 {
				continue // a topic not listed must receive nothing
			}
			fmt.Fprintf(&s, "      %s:\n", yq(topic))
			for _, r := range rs {
				hs := r.headerList()
				if !broken {
					for j := range hs {
						if hs[j].Key == "x-total" {
							hs[j].Value = wrongTotal
						}
					}
					broken = true
				}
				// json_equals: run's value as it is; JSON is YAML.
				fmt.Fprintf(&s, "        - key: %s\n          headers: %s\n          json_equals: %s\n", yq(deref(r.Key)), collapse(hs, nil), deref(r.Payload))
			}
		}
		var dead []*kcatRecord
		for _, i := range c.inputs {
			if o.dead[i] != nil {
				dead = append(dead, o.dead[i])
			}
		}
		if len(dead) > 0 {
			s.WriteString("    dead_letter:\n")
		}
		for _, d := range dead {
			h := d.headerMap()
			fmt.Fprintf(&s, "      - key: %s\n        step: %s\n        error_contains: %s\n        headers: %s\n",
				yq(deref(d.Key)), yq(h[engine.HeaderStep]), yq(h[engine.HeaderError]), collapse(d.headerList(), deadLetterUntestable))
		}
	}
	return s.String()
}
