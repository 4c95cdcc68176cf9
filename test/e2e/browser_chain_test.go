package e2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/twmb/franz-go/pkg/kgo"
)

// pageReader reads a pipeline's card on the status page.
type pageReader struct {
	t    *testing.T
	eval func(expr string) any
	card string
}

// evaluator evaluates JavaScript in the page of ctx, failing the test on
// an error.
func evaluator(t *testing.T, ctx context.Context) func(expr string) any {
	return func(expr string) any {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
}

// fieldTexts returns the texts of a card's data-field elements, joined by
// commas.
func (p pageReader) fieldTexts(field string) string {
	p.t.Helper()
	v := p.eval(fmt.Sprintf(`[...document.querySelectorAll(%q)].map(e => e.textContent.replace(/,/g, "")).join(",")`, p.card+` [data-field="`+field+`"]`))
	s, _ := v.(string)
	return s
}

// The status page explains its chain: decoding is a step, so the records
// that are not JSON account for the first transform seeing fewer; recent
// errors name the record's partition and offset; a stopped pipeline's
// counts add up with its steps' and it says what to do next.
func TestBrowserStatusPageExplains(t *testing.T) {
	needChromium(t)
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		fragileIn, fragileOut := topicName(t, "fin"), topicName(t, "fout")
		createTopics(t, b, 1, fragileIn, fragileOut)
		mx := knownMix(tp)
		produce(t, b, mx.records...)
		produce(t, b,
			&kgo.Record{Topic: fragileIn, Value: []byte(`{"amount":2}`)},
			&kgo.Record{Topic: fragileIn, Value: []byte(`{"amount":"ten"}`)})
		cfg := obsConfig(b, tp, "steady") + fmt.Sprintf(`  - name: fragile
    input: {topic: %s}
    transforms:
      - filter: 'amount > 0'
    output: {topic: %s}
`, fragileIn, fragileOut)
		cfgPath := writeConfig(t, cfg)
		r, base := startObserved(t, cfgPath)
		readTopic(t, b, tp.out, mx.passed, 60*time.Second)
		waitReadyReason(t, base, "stopped on an error", 60*time.Second)
		waitMetric(t, base, 60*time.Second, "all records of steady counted", func(m metrics) bool {
			return m.value(observe.MetricRecordsIn, "pipeline", "steady") == float64(mx.total())
		})

		ctx := browser(t, 1280, 1000)
		eval := evaluator(t, ctx)
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
			t.Fatalf("open the status page: %v", err)
		}
		steady := pageReader{t: t, eval: eval, card: `section.pipeline[data-pipeline="steady"]`}
		fragile := pageReader{t: t, eval: eval, card: `section.pipeline[data-pipeline="fragile"]`}
		// Wait for the page to show the final count (it refreshes every 2 s).
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(
			`(() => { const e = document.querySelector(%q); return !!e && e.textContent.replace(/,/g, "") === %q; })()`,
			steady.card+` [data-field="decode-in"]`, fmt.Sprint(mx.total())), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("the page never showed %d records decoded: %v", mx.total(), err)
		}

		// Decoding is a step: what is not JSON fails there.
		decode := steady.fieldTexts("decode-in") + " " + steady.fieldTexts("decode-failed") + " " + steady.fieldTexts("decode-out")
		if want := fmt.Sprintf("%d %d %d", mx.total(), mx.bad, mx.total()-mx.bad); decode != want {
			t.Errorf("decode step in/failed/out %q, want %q", decode, want)
		}
		if first := strings.Split(steady.fieldTexts("step-in"), ",")[0]; first != fmt.Sprint(mx.total()-mx.bad) {
			t.Errorf("the first transform saw %s, the decode step let %d through", first, mx.total()-mx.bad)
		}
		// Every recent error names its record's key, partition and offset,
		// partition 0 included.
		for _, rec := range strings.Split(steady.fieldTexts("error-record"), ",") {
			if !strings.HasPrefix(rec, "partition ") || !strings.Contains(rec, " offset ") {
				t.Errorf("a recent error names its record as %q", rec)
			}
		}
		keys := map[string]bool{}
		for _, k := range strings.Split(steady.fieldTexts("error-key"), ",") {
			keys[k] = true
		}
		if want := []string{`key "b0"`, `key "b1"`, `key "e0"`}; len(keys) != len(want) || !keys[want[0]] || !keys[want[1]] || !keys[want[2]] {
			t.Errorf("recent errors show the keys %v, want %v", keys, want)
		}

		// The stopped pipeline: 1 record in + 1 unfinished = 2 decoded = 2
		// into the filter, and what to do next.
		if got := fragile.fieldTexts("state"); got != observe.StateStopped {
			t.Errorf("fragile: state %q", got)
		}
		counts := strings.Join([]string{fragile.fieldTexts("chain-in"), fragile.fieldTexts("unfinished"), fragile.fieldTexts("decode-in"), fragile.fieldTexts("decode-out"), fragile.fieldTexts("step-in")}, " | ")
		if want := "1 in | 1 | 2 | 2 | 2"; counts != want {
			t.Errorf("stopped pipeline: records in | unfinished | decode in | decode out | filter in = %q, want %q", counts, want)
		}
		next := fragile.fieldTexts("next")
		for _, want := range []string{"What to do:", "errors.dead_letter_topic", "restart the runner", "partition 0 offset 1", "step filter"} {
			if !strings.Contains(next, want) {
				t.Errorf("the stopped pipeline's next step lacks %q: %q", want, next)
			}
		}

		// A replay running next to the runner (in its folder) is listed
		// under its pipeline; --rate 1 keeps it running while we look.
		rp := startIn(t, r.cmd.Dir, "replay", "steady", "-c", cfgPath, "--rate", "1", "--to-topic", topicName(t, "scratch"))
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`!!document.querySelector(%q)`, steady.card+` [data-field="replay"]`),
			chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			t.Fatalf("the running replay is not listed: %v\nreplay stderr:\n%s", err, rp.out.String())
		}
		listed := steady.fieldTexts("replay")
		for _, want := range []string{"replay of " + tp.in, fmt.Sprintf("of %d record(s)", mx.total()), "scratch"} {
			if !strings.Contains(listed, want) {
				t.Errorf("the listed replay %q lacks %q", listed, want)
			}
		}
		if id := regexp.MustCompile(`replay (\S+) of pipeline steady`).FindStringSubmatch(rp.out.String()); id == nil || !strings.HasPrefix(listed, id[1]) {
			t.Errorf("the listed replay %q is not the one started (%s)", listed, rp.out.String())
		}
		if fragile.fieldTexts("replay") != "" {
			t.Errorf("the replay of steady is listed under fragile")
		}
		_ = rp.cmd.Process.Signal(syscall.SIGINT)
		rp.wait(60 * time.Second)

		if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz %d with a stopped pipeline", code)
		}
		if code := r.stop(60 * time.Second); code != 1 {
			t.Errorf("exit code %d, want 1 (a pipeline stopped)", code)
		}
	})
}
