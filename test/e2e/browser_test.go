package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/millrace-dev/millrace/pipeline/observe"
)

// The status page in a real browser (headless Chromium, driven with
// chromedp): the figures it shows are those of /metrics, and it fits a
// laptop and a phone screen. Screenshots go to test/artifacts/.

// needChromium returns the Chromium binary. The test command requires it;
// a plain `go test` without it skips.
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("MILLRACE_TEST_BROKERS") != "" {
		t.Fatal("chromium is required by the test command (apt-get install chromium)")
	}
	t.Skip("chromium is not installed; ./test/run.sh requires it (apt-get install chromium)")
	return ""
}

// browser starts headless Chromium with a fresh profile.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(needChromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// artifact returns a path under test/artifacts/ (git-ignored).
func artifact(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("..", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// shownNumber parses a figure as the page formats it ("1,234").
func shownNumber(t *testing.T, field, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), 64)
	if err != nil {
		t.Fatalf("the page shows %s as %q, not a number", field, s)
	}
	return v
}

func TestBrowserStatusPage(t *testing.T) {
	needChromium(t)
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		mx := knownMix(tp)
		produce(t, b, mx.records...)
		const name = "orders-enrich"
		r, base := startObserved(t, writeConfig(t, obsConfig(b, tp, name)))
		readTopic(t, b, tp.out, mx.passed, 60*time.Second)
		m := waitMetric(t, base, 60*time.Second, "all records counted and lag zero", func(m metrics) bool {
			return m.value(observe.MetricRecordsIn, "pipeline", name) == float64(mx.total()) && lagSettled(m, name, 3) &&
				m.value(observe.MetricPipelineReady, "pipeline", name) == 1
		})

		ctx := browser(t, 1280, 1000)
		card := fmt.Sprintf(`section.pipeline[data-pipeline=%q]`, name)
		field := func(f string) chromedp.CSS { return chromedp.CSS(card + ` [data-field="` + f + `"]`) }
		// Wait until the page shows the final count (it refreshes every 2 s).
		want := strconv.Itoa(mx.total())
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
			t.Fatalf("open the status page: %v", err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(
			`(() => { const e = document.querySelector(%q); return !!e && e.textContent.replace(/,/g, "") === %q; })()`,
			string(field("records-in")), want), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("the page never showed %s records in: %v", want, err)
		}
		text := func(sel chromedp.CSS) string {
			t.Helper()
			s, err := chromedp.Run(ctx, chromedp.Text(sel))
			if err != nil {
				t.Fatalf("read %s: %v", sel, err)
			}
			return s
		}
		eval := evaluator(t, ctx)
		// The figures the page shows, and the same figures from /metrics.
		fields := []string{"records-in", "records-out", "filtered", "dead-lettered", "failed", "lag", "in-flight"}
		shown := map[string]string{}
		for _, f := range fields {
			shown[f] = text(field(f))
		}
		m = scrape(t, base)
		fromMetrics := map[string]float64{
			"records-in":    m.value(observe.MetricRecordsIn, "pipeline", name),
			"records-out":   m.value(observe.MetricRecordsOut, "pipeline", name),
			"filtered":      m.value(observe.MetricFiltered, "pipeline", name),
			"dead-lettered": m.value(observe.MetricDeadLettered, "pipeline", name),
			"failed":        m.value(observe.MetricFailures, "pipeline", name),
			"lag":           m.value(observe.MetricConsumerLag, "pipeline", name),
			"in-flight":     m.value(observe.MetricInFlight, "pipeline", name),
		}
		for _, f := range fields {
			if got := shownNumber(t, f, shown[f]); got != fromMetrics[f] {
				t.Errorf("the page shows %s = %s, /metrics has %g", f, shown[f], fromMetrics[f])
			}
		}
		if fromMetrics["records-in"] != float64(mx.total()) || fromMetrics["dead-lettered"] != float64(mx.deadLettered()) {
			t.Errorf("metrics: %v", fromMetrics)
		}
		title, err := chromedp.Run(ctx, chromedp.Title())
		if err != nil {
			t.Fatal(err)
		}
		state, input, group := text(field("state")), text(field("input-topic")), text(field("group"))
		steps := eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, card+" li.node[data-step]"))
		if state != observe.StateRunning || input != tp.in || group != tp.in+"-group" || steps != 2.0 || title != "Millrace status" {
			t.Errorf("page: state %q input %q group %q steps %v title %q", state, input, group, steps, title)
		}
		stepIn := eval(fmt.Sprintf(`[...document.querySelectorAll(%q)].map(e => e.textContent).join(",")`, card+` [data-field="step-in"]`))
		if want := fmt.Sprintf("%d,%d", mx.total()-mx.bad, mx.passed+mx.routed); stepIn != want {
			t.Errorf("per-step counts on the page: %v, want %v", stepIn, want)
		}
		if rows := eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, card+" table.errors tbody tr")); rows != float64(mx.deadLettered()) {
			t.Errorf("the page lists %v recent errors, want %d", rows, mx.deadLettered())
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		laptop := artifact(t, "status-page-"+b.Name+".png")
		if err := os.WriteFile(laptop, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", laptop)

		// A phone: 390 CSS pixels wide, nothing wider than the screen.
		phone := browser(t, 800, 900)
		if err := chromedp.Do(phone,
			chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)),
			chromedp.Navigate(base+"/"), chromedp.WaitVisible(field("records-in"))); err != nil {
			t.Fatal(err)
		}
		overflow, err := chromedp.Run(phone, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Errorf("the page is wider than a phone screen")
		}
		if shot, err = chromedp.Run(phone, chromedp.FullScreenshot(100)); err != nil {
			t.Fatal(err)
		}
		phonePath := artifact(t, "status-page-"+b.Name+"-phone.png")
		if err := os.WriteFile(phonePath, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", phonePath)

		// The page's assets come from the binary, with a restrictive policy.
		for _, path := range []string{"/assets/app.js", "/assets/style.css", "/assets/favicon.svg"} {
			if code, _ := get(t, base+path); code != http.StatusOK {
				t.Errorf("%s: %d", path, code)
			}
		}
		resp, err := httpClient.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("Content-Security-Policy: %q", csp)
		}
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("runner exit code %d", code)
		}
	})
}
