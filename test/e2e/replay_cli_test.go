package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/replay"
	"github.com/twmb/franz-go/pkg/kgo"
)

// An interrupted replay prints a resume command that works when pasted:
// it names the config, the checkpoint folder and the replay, and the
// resumed replay keeps the --rate it was started with.
func TestReplayResumeHintAndRate(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		in, out := topicName(t, "in"), topicName(t, "out")
		createTopics(t, b, 1, in, out)
		var recs []*kgo.Record
		for i := range 600 {
			recs = append(recs, &kgo.Record{Topic: in, Value: fmt.Appendf(nil, `{"i":%d}`, i)})
		}
		produceTo(t, b, recs...)
		// The config is not ./pipelines.yaml: the command must name it.
		cfg := writeConfig(t, fmt.Sprintf("version: 1\nkafka: {brokers: [%s], client_id: e2e}\npipelines:\n  - name: copy\n    input: {topic: %s}\n    output: {topic: %s}\n", b.Addr, in, out))
		dir := t.TempDir()
		r := startIn(t, dir, "replay", "copy", "-c", cfg, "--rate", "100", "--checkpoint-dir", "cps")
		waitWritten(t, b, out, 50, r)
		_ = r.cmd.Process.Signal(syscall.SIGINT)
		if code := r.wait(60 * time.Second); code != 1 {
			t.Fatalf("interrupted replay: exit %d, want 1", code)
		}
		m := regexp.MustCompile(`resume it with: (pipeline-runner replay .*)`).FindStringSubmatch(r.out.String())
		if m == nil {
			t.Fatalf("no resume command:\n%s", r.out.String())
		}
		hint := m[1]
		for _, want := range []string{"-c " + cfg, "--checkpoint-dir cps", "--resume "} {
			if !strings.Contains(hint, want) {
				t.Errorf("resume command %q lacks %q", hint, want)
			}
		}
		// Pasted into a shell in the same folder (the program by its path).
		before := sumOffsets(endOffsets(t, b, out))
		sh := exec.Command("sh", "-c", binary+strings.TrimPrefix(hint, "pipeline-runner")+" --json")
		sh.Dir = dir
		started := time.Now()
		stdout, err := sh.Output()
		took := time.Since(started)
		if err != nil {
			t.Fatalf("%s: %v\n%s", hint, err, stdout)
		}
		s := decodeSummary(t, string(stdout))
		if !s.Resumed || !s.Complete || s.Rate != 100 {
			t.Errorf("resumed replay: resumed %v, complete %v, rate %v; want a complete resume at rate 100", s.Resumed, s.Complete, s.Rate)
		}
		if n := sumOffsets(endOffsets(t, b, out)); n < 600 {
			t.Errorf("%d output(s) after the resume, want all 600", n)
		}
		// Paced, not only reported: the rest at 100/s takes seconds (a
		// lower bound only, half of it; at full speed it takes a fraction
		// of one).
		if rest := 600 - before; rest > 200 && took < time.Duration(rest)*time.Second/200 {
			t.Errorf("the resumed replay wrote the last %d records in %v: not at 100/s", rest, took)
		}
	})
}

// A replay's dead letters go to --dlq-topic when given, and every dead
// letter a replay writes carries millrace.replay.id. A redrive skips the
// dead letters an earlier redrive redrove (each fixed record is written
// once however often the redrive runs) unless --force.
func TestReplayDeadLettersAndRedriveOnce(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		side := topicName(t, "replay-dlq")
		produceTo(t, b,
			&kgo.Record{Topic: tp.in, Partition: 0, Key: []byte("a"), Value: []byte(`{"id":"ok","amount":2}`)},
			&kgo.Record{Topic: tp.in, Partition: 0, Key: []byte("b"), Value: []byte(`{"id":"fixable","amount":"12"}`)},
			&kgo.Record{Topic: tp.in, Partition: 0, Key: []byte("c"), Value: []byte(`{"id":"hopeless","amount":"ten"}`)},
		)
		v1 := writeConfig(t, redriveConfig(b, tp, false))
		v2 := writeConfig(t, redriveConfig(b, tp, true))
		dir := t.TempDir()
		run := func(args ...string) replay.Summary {
			t.Helper()
			stdout, stderr, code := cliIn(t, dir, append([]string{"replay", "enrich", "--json"}, args...)...)
			if code != 0 {
				t.Fatalf("replay %v: exit %d\n%s\n%s", args, code, stdout, stderr)
			}
			return decodeSummary(t, stdout)
		}
		marked := func(topic, id string, n int) {
			t.Helper()
			recs := readAll(t, b, topic)
			got := 0
			for _, r := range recs {
				if v, _ := header(r, replay.HeaderReplayID); v == id {
					got++
				}
			}
			if got != n {
				t.Errorf("%s: %d dead letter(s) marked %s, want %d (of %d)", topic, got, id, n, len(recs))
			}
		}

		s := run("-c", v1, "--dlq-topic", side)
		if s.DeadLettered != 2 || s.DLQTopic != side {
			t.Errorf("replay --dlq-topic: %+v", s)
		}
		marked(side, s.ID, 2)
		if n := sumOffsets(endOffsets(t, b, tp.dlq)); n != 0 {
			t.Errorf("the pipeline's dead-letter topic got %d record(s) from a replay with --dlq-topic", n)
		}
		// In text, the failures are one line at the end, not a log line each.
		stdout, stderr, code := cliIn(t, dir, "replay", "enrich", "-c", v1)
		if code != 0 {
			t.Fatalf("replay: exit %d\n%s", code, stderr)
		}
		id := regexp.MustCompile(`replay (\S+) of pipeline enrich`).FindStringSubmatch(stdout)
		if id == nil {
			t.Fatalf("no replay id in:\n%s", stdout)
		}
		if want := fmt.Sprintf("2 record(s) failed and went to the dead-letter topic %s, marked millrace.replay.id=%s; --verbose logs each failure", tp.dlq, id[1]); !strings.Contains(stderr, want) || strings.Contains(stderr, "record failed") {
			t.Errorf("stderr should sum up the failures in %q, without a line per record:\n%s", want, stderr)
		}
		marked(tp.dlq, id[1], 2)

		fixed := func() int {
			n := 0
			for _, r := range readAll(t, b, tp.out) {
				if decodeValue(t, r)["id"] == "fixable" {
					n++
				}
			}
			return n
		}
		s = run("-c", v2, "--from-dlq")
		if s.Redriven != 1 || s.FailedAgain != 1 || s.AlreadyRedriven != 0 || fixed() != 1 {
			t.Errorf("first redrive: %+v, fixed record written %d time(s)", s, fixed())
		}
		marked(tp.dlq, s.ID, 1) // the hopeless one, failed again

		stdout, stderr, code = cliIn(t, dir, "replay", "enrich", "-c", v2, "--from-dlq")
		if code != 0 {
			t.Fatalf("second redrive: exit %d\n%s", code, stderr)
		}
		// The two dead letters redriven before are skipped; the copy that
		// failed again is new, and fails again.
		if want := "redriven 0, failed again 1, skipped by the filters 0, already redriven 2"; !strings.Contains(stdout, want) || !strings.Contains(stdout, "--force") {
			t.Errorf("second redrive summary lacks %q and --force:\n%s", want, stdout)
		}
		if fixed() != 1 {
			t.Errorf("the second redrive wrote the fixed record again (%d times)", fixed())
		}
		s = run("-c", v2, "--from-dlq", "--force")
		if s.AlreadyRedriven != 0 || s.Redriven != 1 || fixed() != 2 {
			t.Errorf("--force: %+v, fixed record written %d time(s)", s, fixed())
		}
	})
}
