package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/replay"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// cliIn runs pipeline-runner in dir (where replays keep their checkpoints).
func cliIn(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	r := startIn(t, dir, args...)
	code := r.wait(5 * time.Minute)
	return r.stdout.String(), r.out.String(), code
}

// proc is a pipeline-runner process with its stdout kept apart.
type proc struct {
	*runner
	stdout *syncBuffer
}

// startIn starts pipeline-runner with args in dir; it is killed at the end
// of the test if still running.
func startIn(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{runner: &runner{t: t, out: &syncBuffer{}, done: make(chan struct{})}, stdout: &syncBuffer{}}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.out
	p.cmd.Dir = dir
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%v:\nstdout:\n%s\nstderr:\n%s", args, p.stdout.String(), p.out.String())
		}
	})
	return p
}

func decodeSummary(t *testing.T, stdout string) replay.Summary {
	t.Helper()
	var s replay.Summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout)
	}
	return s
}

// produceTo writes records to the partitions they name.
func produceTo(t *testing.T, b broker, recs ...*kgo.Record) {
	t.Helper()
	cl := client(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(1<<20))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// readAll reads every record of topic up to its current end offsets.
func readAll(t *testing.T, b broker, topic string) []*kgo.Record {
	t.Helper()
	return readTopic(t, b, topic, int(sumOffsets(endOffsets(t, b, topic))), 2*time.Minute)
}

// since keeps the records at or after the given offsets per partition.
func since(recs []*kgo.Record, from map[int32]int64) []*kgo.Record {
	var out []*kgo.Record
	for _, r := range recs {
		if r.Offset >= from[r.Partition] {
			out = append(out, r)
		}
	}
	return out
}

// enriched is what enrichConfig's chain makes of order(id, amount, country)
// with key k.
func enriched(id string, amount int, country, key string) string {
	b, _ := json.Marshal(map[string]any{"id": id, "user_id": "u-" + id, "amount": amount, "country": country, "total_cents": amount * 100, "seen_key": key})
	return string(b)
}

// A replay of an offset range, after the live pipeline processed
// everything, writes exactly the transformed records of that range and
// nothing else, and leaves the live group's committed offsets alone.
func TestReplayOffsetRange(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		type in struct {
			id, country, key string
			amount           int
		}
		inputs := map[string]in{} // by partition/offset
		var recs []*kgo.Record
		for p := range int32(3) {
			for i := range 20 {
				id := fmt.Sprintf("%d-%d", p, i)
				x := in{id: id, amount: i%4 - 1, country: []string{"FR", "DE", "US"}[i%3], key: "k" + strconv.Itoa(i%6)}
				inputs[fmt.Sprintf("%d/%d", p, i)] = x
				recs = append(recs, &kgo.Record{Topic: tp.in, Partition: p, Key: []byte(x.key), Value: order(id, x.amount, x.country),
					Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t-" + id)}}})
			}
		}
		produceTo(t, b, recs...)
		cfg := writeConfig(t, enrichConfig(b, tp, true))
		live := startRunner(t, "-c", cfg)
		waitGroupAtEnd(t, b, tp.in+"-group", tp.in)
		if code := live.stop(30 * time.Second); code != 0 {
			t.Fatalf("live runner exit %d", code)
		}
		group := tp.in + "-group"
		before := committed(t, b, group, tp.in)
		outEnd, deEnd := endOffsets(t, b, tp.out), endOffsets(t, b, tp.de)

		dir := t.TempDir()
		stdout, stderr, code := cliIn(t, dir, "replay", "enrich", "-c", cfg, "--from", "0:5,1:0", "--to", "0:15,1:8", "--json")
		if code != 0 {
			t.Fatalf("replay exit %d\n%s\n%s", code, stdout, stderr)
		}
		sum := decodeSummary(t, stdout)
		want := map[string]in{}
		for k, x := range inputs {
			var p, o int
			fmt.Sscanf(k, "%d/%d", &p, &o)
			if (p == 0 && o >= 5 && o < 15) || (p == 1 && o < 8) {
				want[x.id] = x
			}
		}
		if !sum.Complete || sum.Read != int64(len(want)) {
			t.Errorf("summary: complete %v, read %d, want %d", sum.Complete, sum.Read, len(want))
		}
		got := append(since(readAll(t, b, tp.out), outEnd), since(readAll(t, b, tp.de), deEnd)...)
		seen := map[string]bool{}
		for _, r := range got {
			v := decodeValue(t, r)
			id, _ := v["id"].(string)
			x, ok := want[id]
			if !ok {
				t.Errorf("record %s is outside the range", id)
				continue
			}
			if seen[id] {
				t.Errorf("record %s written twice", id)
			}
			seen[id] = true
			if w := enriched(x.id, x.amount, x.country, x.key); string(r.Value) != w {
				t.Errorf("record %s:\n got %s\nwant %s", id, r.Value, w)
			}
			if string(r.Key) != x.key {
				t.Errorf("record %s: key %q, want %q", id, r.Key, x.key)
			}
			if h, _ := header(r, "trace"); h != "t-"+id || hasDeadLetterHeaders(r) {
				t.Errorf("record %s: headers %v", id, r.Headers)
			}
			wantTopic := tp.out
			if x.country == "DE" {
				wantTopic = tp.de
			}
			if r.Topic != wantTopic {
				t.Errorf("record %s went to %s, want %s", id, r.Topic, wantTopic)
			}
		}
		filtered := 0
		for id, x := range want {
			if x.amount <= 0 {
				filtered++
				continue
			}
			if !seen[id] {
				t.Errorf("record %s of the range is missing", id)
			}
		}
		if sum.Filtered != int64(filtered) || sum.Written != int64(len(want)-filtered) {
			t.Errorf("summary: written %d filtered %d, want %d and %d", sum.Written, sum.Filtered, len(want)-filtered, filtered)
		}
		if after := committed(t, b, group, tp.in); !maps.Equal(before, after) {
			t.Errorf("the live group's offsets moved: %v → %v", before, after)
		}
		ds, err := admin(t, b).DescribeGroups(t.Context(), group)
		if err == nil && len(ds[group].Members) > 0 {
			t.Errorf("the replay joined the live group: %+v", ds[group].Members)
		}
		// The checkpoint says the range is done.
		cps, _ := filepath.Glob(filepath.Join(dir, ".millrace", "replays", "enrich-*.json"))
		if len(cps) != 1 {
			t.Fatalf("checkpoints: %v", cps)
		}
		var cp replay.Checkpoint
		data, _ := os.ReadFile(cps[0])
		if err := json.Unmarshal(data, &cp); err != nil || !cp.Complete || cp.ID != sum.ID {
			t.Errorf("checkpoint %s: %v %s", cps[0], err, data)
		}
	})
}

// A replay by time selects records by timestamp: the range starts at the
// first record at or after --from and ends before the first at or after
// --to, and a record inside it whose timestamp is outside is left out. A
// time before the first record starts at the first record, with a warning.
// --to-topic takes every output.
func TestReplayTimeRange(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		scratch := topicName(t, "scratch")
		createTopics(t, b, 1, scratch)
		base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		var recs []*kgo.Record
		for i := range 30 {
			ts := base.Add(time.Duration(i) * time.Minute)
			if i == 16 {
				ts = base.Add(-time.Hour) // late arrival: inside the offset range, outside the time range
			}
			recs = append(recs, &kgo.Record{Topic: tp.in, Partition: int32(i % 3), Key: []byte("k"), Value: order(strconv.Itoa(i), 1, []string{"FR", "DE"}[i%2]), Timestamp: ts})
		}
		produceTo(t, b, recs...)
		cfg := writeConfig(t, enrichConfig(b, tp, true))
		from, to := base.Add(10*time.Minute), base.Add(20*time.Minute)
		stdout, stderr, code := cliIn(t, t.TempDir(), "replay", "enrich", "-c", cfg, "--json",
			"--from", "time:"+from.Format(time.RFC3339), "--to", "time:"+to.Format(time.RFC3339), "--to-topic", scratch)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		sum := decodeSummary(t, stdout)
		got := readAll(t, b, scratch)
		var ids []int
		for _, r := range got {
			id, _ := strconv.Atoi(decodeValue(t, r)["id"].(string))
			ids = append(ids, id)
			if ts := r.Timestamp; ts.Before(from) || !ts.Before(to) {
				t.Errorf("record %d at %s is outside [%s, %s)", id, ts, from, to)
			}
		}
		slices.Sort(ids)
		want := []int{10, 11, 12, 13, 14, 15, 17, 18, 19}
		if !slices.Equal(ids, want) {
			t.Errorf("ids %v, want %v", ids, want)
		}
		if sum.Skipped != 1 || sum.Written != int64(len(want)) || sum.WrittenByTopic[scratch] != int64(len(want)) {
			t.Errorf("summary: %+v", sum)
		}
		if n := sumOffsets(endOffsets(t, b, tp.out)) + sumOffsets(endOffsets(t, b, tp.de)); n != 0 {
			t.Errorf("%d record(s) reached the pipeline's outputs despite --to-topic", n)
		}
		// Before the first record: a warning, and the replay starts there.
		_, stderr, code = cliIn(t, t.TempDir(), "replay", "enrich", "-c", cfg, "--dry-run", "--json", "--show", "0",
			"--from", "time:2020-01-01T00:00:00Z", "--to", "time:"+base.Add(3*time.Minute).Format(time.RFC3339))
		if code != 0 || !strings.Contains(stderr, "is before the first record of partition 0") {
			t.Errorf("time before the first record: exit %d\n%s", code, stderr)
		}
	})
}

// SIGKILL in the middle of a replay of 100k records, then --resume; then
// SIGINT of the resumed replay, then --resume again: every record of the
// range is in the output, none from outside it (neither before the range
// nor produced after the replay started).
func TestReplayKillAndResume(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		in, out := topicName(t, "in"), topicName(t, "out")
		createTopics(t, b, 3, in, out)
		// Records per partition before and in the range: enough that the
		// replay is still running at the SIGKILL and at the SIGINT.
		const before, per = 1000, 66_667
		start := time.Now()
		var recs []*kgo.Record
		for p := range int32(3) {
			for i := range before + per {
				recs = append(recs, &kgo.Record{Topic: in, Partition: p, Key: []byte(strconv.Itoa(i % 251)), Value: fmt.Appendf(nil, `{"p":%d,"i":%d}`, p, i)})
			}
		}
		produceTo(t, b, recs...)
		t.Logf("%s: produced %d records in %s", b.Name, len(recs), time.Since(start).Round(time.Millisecond))
		cfg := writeConfig(t, fmt.Sprintf(`version: 1
kafka:
  brokers: [%s]
  client_id: e2e
runner:
  shutdown_timeout: 20s
pipelines:
  - name: copy
    input: {topic: %s}
    transforms:
      - set: {copied: 'true'}
    output: {topic: %s}
`, b.Addr, in, out))
		dir := t.TempDir()
		start = time.Now()
		r := startIn(t, dir, "replay", "copy", "-c", cfg, "--from", "offset:"+strconv.Itoa(before), "--progress-interval", "1s")
		waitWritten(t, b, out, 15_000, r)
		// New traffic after the start is outside the range.
		var late []*kgo.Record
		for p := range int32(3) {
			late = append(late, &kgo.Record{Topic: in, Partition: p, Value: fmt.Appendf(nil, `{"p":%d,"i":-1}`, p)})
		}
		produceTo(t, b, late...)
		time.Sleep(1500 * time.Millisecond) // past a checkpoint
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		r.wait(30 * time.Second)
		killedAt := sumOffsets(endOffsets(t, b, out))
		if killedAt >= 3*per {
			t.Fatalf("the replay finished (%d written) before SIGKILL; the test needs more records", killedAt)
		}
		t.Logf("%s: SIGKILL after %d outputs, %s", b.Name, killedAt, time.Since(start).Round(time.Millisecond))

		r2 := startIn(t, dir, "replay", "copy", "-c", cfg, "--resume")
		waitWritten(t, b, out, killedAt+15_000, r2)
		_ = r2.cmd.Process.Signal(syscall.SIGINT)
		if code := r2.wait(60 * time.Second); code != 1 {
			if code == 0 {
				t.Fatalf("the resumed replay finished before SIGINT; the test needs more records")
			}
			t.Fatalf("interrupted replay: exit %d, want 1", code)
		}
		if e := r2.out.String(); !strings.Contains(e, "interrupted") || !strings.Contains(e, "--resume") {
			t.Errorf("an interrupted replay should say how to resume:\n%s", e)
		}
		t.Logf("%s: SIGINT after %d outputs, %s", b.Name, sumOffsets(endOffsets(t, b, out)), time.Since(start).Round(time.Millisecond))

		stdout, stderr, code := cliIn(t, dir, "replay", "copy", "-c", cfg, "--resume", "--json")
		if code != 0 {
			t.Fatalf("resume: exit %d\n%s\n%s", code, stdout, stderr)
		}
		sum := decodeSummary(t, stdout)
		if !sum.Complete || !sum.Resumed {
			t.Errorf("summary: %+v", sum)
		}
		t.Logf("%s: resumed replay done, %s in all", b.Name, time.Since(start).Round(time.Millisecond))

		got := readAll(t, b, out)
		seen := make([][]bool, 3)
		for p := range seen {
			seen[p] = make([]bool, before+per)
		}
		for _, rec := range got {
			var v struct{ P, I int }
			if err := json.Unmarshal(rec.Value, &v); err != nil {
				t.Fatalf("output %s: %v", rec.Value, err)
			}
			if v.I < before || v.I >= before+per {
				t.Fatalf("record %d/%d is outside the range [%d, %d)", v.P, v.I, before, before+per)
			}
			seen[v.P][v.I] = true
		}
		for p := range seen {
			for i := before; i < before+per; i++ {
				if !seen[p][i] {
					t.Fatalf("record %d/%d of the range is missing from the output", p, i)
				}
			}
		}
		t.Logf("%s: %d outputs for %d records in the range (%d written again)", b.Name, len(got), 3*per, len(got)-3*per)
		// Nothing is left: resuming again says so.
		_, stderr, code = cliIn(t, dir, "replay", "copy", "-c", cfg, "--resume")
		if code != 0 || !strings.Contains(stderr, "already complete") {
			t.Errorf("resume of a complete replay: exit %d\n%s", code, stderr)
		}
	})
}

// waitGroupAtEnd waits until group committed the end of topic; a group
// that does not exist yet is waited for.
func waitGroupAtEnd(t *testing.T, b broker, group, topic string) {
	t.Helper()
	adm := admin(t, b)
	ends := endOffsets(t, b, topic)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c := map[int32]int64{}
		if res, err := adm.FetchOffsets(t.Context(), group); err == nil {
			res.Each(func(o kadm.OffsetResponse) {
				if o.Topic == topic {
					c[o.Partition] = o.At
				}
			})
		}
		if equalOffsets(c, ends) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s committed %v, end offsets %v", group, c, ends)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hasDeadLetterHeaders reports whether r carries headers of the dead-letter
// path.
func hasDeadLetterHeaders(r *kgo.Record) bool {
	for _, h := range r.Headers {
		if strings.HasPrefix(h.Key, "millrace.") || strings.HasSuffix(h.Key, "_poisoned") {
			return true
		}
	}
	return false
}

// waitWritten waits until topic holds n records, failing if r exits first.
func waitWritten(t *testing.T, b broker, topic string, n int64, r *proc) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for sumOffsets(endOffsets(t, b, topic)) < n {
		select {
		case <-r.done:
			t.Fatalf("the replay exited before writing %d records:\n%s", n, r.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d records written to %s", n, topic)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// --dry-run writes nothing and shows each step; its counts equal those of
// the real run that follows.
func TestReplayDryRun(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		var recs []*kgo.Record
		for i := range 40 {
			v := order(strconv.Itoa(i), i%5-1, []string{"FR", "DE"}[i%2])
			if i%9 == 4 {
				v = []byte(`{"id":"x","amount":"ten"}`)
			}
			recs = append(recs, &kgo.Record{Topic: tp.in, Partition: int32(i % 3), Key: []byte("k" + strconv.Itoa(i%4)), Value: v})
		}
		produceTo(t, b, recs...)
		cfg := writeConfig(t, enrichConfig(b, tp, true))
		ends := func() map[string]int64 {
			return map[string]int64{tp.out: sumOffsets(endOffsets(t, b, tp.out)), tp.de: sumOffsets(endOffsets(t, b, tp.de)), tp.dlq: sumOffsets(endOffsets(t, b, tp.dlq))}
		}
		stdout, stderr, code := cliIn(t, t.TempDir(), "replay", "enrich", "-c", cfg, "--dry-run", "--show", "3", "--partitions", "0")
		if code != 0 {
			t.Fatalf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
		}
		for _, want := range []string{"step 0 filter", "step 1 set:", "+ total_cents: ", "step 2 rename:", "- user: ", "+ user_id: ", "step 3 drop:", "- debug: true", "nothing was written"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("dry-run output lacks %q:\n%s", want, stdout)
			}
		}
		dir := t.TempDir()
		stdout, stderr, code = cliIn(t, dir, "replay", "enrich", "-c", cfg, "--dry-run", "--json")
		if code != 0 {
			t.Fatalf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
		}
		dry := decodeSummary(t, stdout)
		if got := ends(); got[tp.out]+got[tp.de]+got[tp.dlq] != 0 {
			t.Fatalf("the dry run wrote: %v", got)
		}
		if len(dry.Preview) != 5 || len(dry.Preview[0].Steps) == 0 {
			t.Errorf("preview: %+v", dry.Preview)
		}
		if cps, _ := filepath.Glob(filepath.Join(dir, ".millrace", "replays", "*")); len(cps) != 0 {
			t.Errorf("a dry run saved checkpoints: %v", cps)
		}
		stdout, stderr, code = cliIn(t, t.TempDir(), "replay", "enrich", "-c", cfg, "--json", "--rate", "50")
		if code != 0 {
			t.Fatalf("real run: exit %d\n%s\n%s", code, stdout, stderr)
		}
		real := decodeSummary(t, stdout)
		if real.ElapsedSeconds < 0.5 {
			t.Errorf("--rate 50: 40 records in %.2fs", real.ElapsedSeconds)
		}
		if dry.Read != 40 || dry.Read != real.Read || dry.Written != real.Written || dry.Filtered != real.Filtered ||
			dry.DeadLettered != real.DeadLettered || !maps.Equal(dry.WrittenByTopic, real.WrittenByTopic) {
			t.Errorf("dry run and real run differ:\n dry  %+v\n real %+v", dry, real)
		}
		got := ends()
		if got[tp.out] != real.WrittenByTopic[tp.out] || got[tp.de] != real.WrittenByTopic[tp.de] || got[tp.dlq] != real.DeadLettered || real.DeadLettered == 0 {
			t.Errorf("written %v, summary %+v", got, real)
		}
	})
}

// Bad input: errors that say what is wrong and what exists (exit 2), a
// range that selects nothing (exit 0).
func TestReplayBadInput(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		var recs []*kgo.Record
		for i := range 10 {
			recs = append(recs, &kgo.Record{Topic: tp.in, Partition: 0, Value: order(strconv.Itoa(i), 1, "FR")})
		}
		produceTo(t, b, recs...)
		res, err := admin(t, b).DeleteRecords(t.Context(), kadm.Offsets{tp.in: {0: {Topic: tp.in, Partition: 0, At: 4, LeaderEpoch: -1}}})
		if err != nil || res.Error() != nil {
			t.Fatalf("delete records: %v %v", err, res.Error())
		}
		cfg := writeConfig(t, enrichConfig(b, tp, true))
		missingTopic := topicName(t, "missing")
		cfgMissing := writeConfig(t, strings.Replace(enrichConfig(b, tp, true), "input: {topic: "+tp.in, "input: {topic: "+missingTopic, 1))
		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--from", "0:2"}, 2, "offset 2 of " + tp.in + " partition 0 is below its log start 4"},
			{[]string{"--from", "offset:11", "--partitions", "0"}, 2, "is beyond its end offset 10"},
			{[]string{"--to", "0:12"}, 2, "is beyond its end offset 10"},
			{[]string{"--partitions", "7"}, 2, "has no partition 7; its partitions are 0,1,2"},
			{[]string{"--from", "yesterday"}, 2, `--from "yesterday"; use oldest, newest, offset:N`},
			{[]string{"--from", "time:May 1st"}, 2, "not an RFC 3339 time"},
			{[]string{"--from", "group:" + tp.in + "-nogroup"}, 2, "has no committed offset"},
			{[]string{"--resume"}, 2, "no replay checkpoint of pipeline \"enrich\""},
			{[]string{"--resume", "--from", "oldest"}, 2, "does not take --from"},
			{[]string{"--since", "time:2024-01-01T00:00:00Z"}, 2, "use it with --from-dlq"},
			{[]string{"--to-topic", tp.in}, 2, "is the topic the replay reads"},
			{[]string{"--from", "0:8", "--to", "0:6", "--partitions", "0"}, 0, "nothing to replay"},
			{[]string{"--from", "newest"}, 0, "nothing to replay"},
		} {
			stdout, stderr, code := cliIn(t, t.TempDir(), append([]string{"replay", "enrich", "-c", cfg}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("%v: exit %d (want %d), stderr lacks %q:\n%s%s", c.args, code, c.code, c.want, stdout, stderr)
			}
		}
		_, stderr, code := cliIn(t, t.TempDir(), "replay", "nope", "-c", cfg)
		if code != 2 || !strings.Contains(stderr, `unknown pipeline "nope"; the config has: enrich`) {
			t.Errorf("unknown pipeline: exit %d %s", code, stderr)
		}
		_, stderr, code = cliIn(t, t.TempDir(), "replay", "enrich", "-c", cfgMissing)
		if code != 2 || !strings.Contains(stderr, "topic \""+missingTopic+"\" does not exist; the cluster has: ") || !strings.Contains(stderr, tp.in) {
			t.Errorf("unknown topic: exit %d %s", code, stderr)
		}
		if n := sumOffsets(endOffsets(t, b, tp.out)); n != 0 {
			t.Errorf("bad input wrote %d record(s)", n)
		}
		for _, cmd := range []string{"replay", "offsets"} {
			stdout, _, code := cliIn(t, t.TempDir(), cmd, "--help")
			if code != 0 || !strings.Contains(stdout, "Examples:") {
				t.Errorf("%s --help: exit %d\n%s", cmd, code, stdout)
			}
		}
	})
}

// --from group:NAME starts at the committed offsets of another group,
// which the replay reads and leaves alone.
func TestReplayFromGroup(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		scratch := topicName(t, "scratch")
		createTopics(t, b, 1, scratch)
		var recs []*kgo.Record
		for i := range 10 {
			recs = append(recs, &kgo.Record{Topic: tp.in, Partition: 0, Value: order(strconv.Itoa(i), 1, "FR")})
		}
		produceTo(t, b, recs...)
		backup := tp.in + "-backup"
		commitOffsets(t, b, backup, tp.in, map[int32]int64{0: 6, 1: 0, 2: 0})
		cfg := writeConfig(t, enrichConfig(b, tp, true))
		stdout, stderr, code := cliIn(t, t.TempDir(), "replay", "enrich", "-c", cfg, "--json", "--from", "group:"+backup, "--to-topic", scratch)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		var ids []string
		for _, r := range readAll(t, b, scratch) {
			ids = append(ids, decodeValue(t, r)["id"].(string))
		}
		slices.Sort(ids) // keyless records carry no order
		if !slices.Equal(ids, []string{"6", "7", "8", "9"}) {
			t.Errorf("ids %v, want 6..9", ids)
		}
		if c := committed(t, b, backup, tp.in); c[0] != 6 {
			t.Errorf("the group's offsets moved: %v", c)
		}
	})
}

// redriveConfig is enrichConfig before (v1) and after (v2) a fix: v2 reads
// amounts given as numeric strings.
func redriveConfig(b broker, tp topics, fixed bool) string {
	amount := "amount"
	if fixed {
		amount = "float(amount)"
	}
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
      - filter: '%s > 0'
      - set: {total_cents: 'int(%s * 100)'}
    output:
      topic: %s
    errors:
      retry: {max_retries: 2, initial_interval: 10ms, max_interval: 50ms}
      dead_letter_topic: %s
`, b.Addr, tp.in, tp.in, amount, amount, tp.out, tp.dlq)
}

// Dead-letter redrive: poison records fixed by a config change are written
// to the output with their original key and headers and no dead-letter
// headers; those still failing go back to the dead-letter topic with the
// attempt count raised; the filters skip what they do not select.
func TestReplayFromDLQ(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		hdr := func(v string) []kgo.RecordHeader { return []kgo.RecordHeader{{Key: "trace", Value: []byte(v)}} }
		produceTo(t, b,
			&kgo.Record{Topic: tp.in, Partition: 0, Key: []byte("a"), Value: []byte(`{"id":"ok","amount":2}`)},
			&kgo.Record{Topic: tp.in, Partition: 0, Key: []byte("b"), Value: []byte(`{"id":"fixable","amount":"12"}`), Headers: hdr("t-fix")},
			&kgo.Record{Topic: tp.in, Partition: 0, Key: []byte("c"), Value: []byte(`{"id":"hopeless","amount":"ten"}`), Headers: hdr("t-bad")},
			&kgo.Record{Topic: tp.in, Partition: 0, Key: []byte("d"), Value: []byte(`not json`)},
		)
		v1 := writeConfig(t, redriveConfig(b, tp, false))
		live := startRunner(t, "-c", v1)
		readTopic(t, b, tp.dlq, 3, time.Minute)
		waitGroupAtEnd(t, b, tp.in+"-group", tp.in)
		if code := live.stop(30 * time.Second); code != 0 {
			t.Fatalf("live runner: exit %d", code)
		}
		groupBefore := committed(t, b, tp.in+"-group", tp.in)
		outBefore := sumOffsets(endOffsets(t, b, tp.out))
		v2 := writeConfig(t, redriveConfig(b, tp, true))

		// Filters: a time after every failure selects nothing.
		stdout, stderr, code := cliIn(t, t.TempDir(), "replay", "enrich", "-c", v2, "--from-dlq", "--json", "--since", "time:2999-01-01T00:00:00Z")
		if code != 0 {
			t.Fatalf("redrive: exit %d\n%s\n%s", code, stdout, stderr)
		}
		if s := decodeSummary(t, stdout); s.Skipped != 3 || s.Redriven != 0 || s.Mode != replay.ModeRedrive {
			t.Errorf("--since in the future: %+v", s)
		}

		stdout, stderr, code = cliIn(t, t.TempDir(), "replay", "enrich", "-c", v2, "--from-dlq", "--json", "--error-contains", "invalid operation")
		if code != 0 {
			t.Fatalf("redrive: exit %d\n%s\n%s", code, stdout, stderr)
		}
		s := decodeSummary(t, stdout)
		if s.Redriven != 1 || s.FailedAgain != 1 || s.Skipped != 1 || s.Written != 1 {
			t.Errorf("redrive summary: %+v", s)
		}
		outs := readAll(t, b, tp.out)
		if int64(len(outs)) != outBefore+1 {
			t.Fatalf("%d output(s) before the redrive, %d after; want one more", outBefore, len(outs))
		}
		var o *kgo.Record
		for _, r := range outs {
			if decodeValue(t, r)["id"] == "fixable" {
				o = r
			}
		}
		if o == nil {
			t.Fatalf("the fixed record is not in the output")
		}
		if v := decodeValue(t, o); v["total_cents"] != float64(1200) {
			t.Errorf("redriven value %s", o.Value)
		}
		if h, _ := header(o, "trace"); string(o.Key) != "b" || h != "t-fix" || hasDeadLetterHeaders(o) {
			t.Errorf("redriven record: key %q headers %v (want the original key and headers, no dead-letter headers)", o.Key, o.Headers)
		}
		dead := readAll(t, b, tp.dlq)
		if len(dead) != 4 {
			t.Fatalf("dead-letter topic holds %d records, want 3 + 1 failed again", len(dead))
		}
		attempts := map[string]bool{}
		for _, d := range dead {
			if string(d.Value) != `{"id":"hopeless","amount":"ten"}` {
				continue
			}
			n, _ := header(d, engine.HeaderAttempts)
			attempts[n] = true
			if n != "2" {
				continue
			}
			for h, want := range map[string]string{engine.HeaderSourceTopic: tp.in, engine.HeaderSourcePartition: "0", engine.HeaderSourceOffset: "2",
				engine.HeaderPipeline: "enrich", engine.HeaderStep: "filter", "trace": "t-bad"} {
				if got, _ := header(d, h); got != want {
					t.Errorf("failed again: header %s = %q, want %q (%v)", h, got, want, d.Headers)
				}
			}
			if string(d.Key) != "c" {
				t.Errorf("failed again: key %q", d.Key)
			}
		}
		if !attempts["1"] || !attempts["2"] {
			t.Errorf("the hopeless record should be dead-lettered with attempts 1, then 2: %v", attempts)
		}
		if after := committed(t, b, tp.in+"-group", tp.in); !maps.Equal(groupBefore, after) {
			t.Errorf("the live group's offsets moved: %v → %v", groupBefore, after)
		}
	})
}
