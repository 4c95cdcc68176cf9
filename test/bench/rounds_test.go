package main

import (
	"strings"
	"testing"
)

// Several rounds: each figure is the median of its rounds, peak RSS the
// highest and an overload if any round had one, and a target on a ratio
// is judged on the median of the rounds' ratios, which can differ from
// the ratio of the medians.
func TestRounds(t *testing.T) {
	round := func(ks, key, keyBroker, ksBroker, keyCPU float64, rss int64, overloaded bool) []Result {
		return []Result{
			{Name: "KS", MsgsPerSec: ks, BrokerCPUSecPerMillion: ksBroker},
			{Name: "M-key", MsgsPerSec: key, BrokerCPUSecPerMillion: keyBroker, CPUSecPerMillion: keyCPU, PeakRSSBytes: rss, Overloaded: overloaded, Isolated: true},
		}
	}
	rounds := [][]Result{
		round(100, 250, 1.2, 1.3, 7, 100<<20, false), // 2.5 ×
		round(150, 240, 1.4, 1.2, 6, 120<<20, true),  // 1.6 ×
		round(90, 189, 1.1, 1.2, 5, 110<<20, false),  // 2.1 ×
	}
	med := medianResults(rounds)
	key := find(med, "M-key")
	if key.MsgsPerSec != 240 || key.CPUSecPerMillion != 6 || key.PeakRSSBytes != 120<<20 || !key.Overloaded || key.Rounds != 3 {
		t.Errorf("medians of M-key: %+v", *key)
	}
	// The median of the rounds' ratios (2.1), not the ratio of the
	// medians (240 / 100), with every round's listed.
	lines := strings.Join(checkTargets(med, rounds, runMeta{Records: targetRSSRecord}), "\n")
	for _, want := range []string{
		"M-key throughput ≥ 2 × KS: 2.10 × PASS (median of rounds: 2.50, 1.60, 2.10)",
		"M-key broker CPU per 1M ≤ KS's: 1.20 vs 1.20 s, 0.92 × PASS (median of rounds: 0.92, 1.17, 0.92)",
		"M-key CPU ≤ 3 s per 1M records: 6.00 s FAIL (median of rounds: 7.00, 6.00, 5.00)",
		"M-key peak RSS ≤ 256 MiB: 120 MiB PASS",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("targets lack %q:\n%s", want, lines)
		}
	}

	// Two rounds out of three under 2 ×: the median ratio fails although
	// the medians' ratio (210 / 100) would pass.
	rounds[2] = round(90, 170, 1.1, 1.2, 5, 110<<20, false) // 1.89 ×
	med = medianResults(rounds)
	if got := find(med, "M-key").MsgsPerSec / find(med, "KS").MsgsPerSec; got < 2 {
		t.Fatalf("the test wants medians whose ratio passes, got %.2f", got)
	}
	lines = strings.Join(checkTargets(med, rounds, runMeta{Records: targetRSSRecord}), "\n")
	if want := "M-key throughput ≥ 2 × KS: 1.89 × FAIL"; !strings.Contains(lines, want) {
		t.Errorf("targets lack %q:\n%s", want, lines)
	}

	// One round: the figures as measured, no list of rounds.
	one := [][]Result{round(100, 210, 1.2, 1.3, 6, 100<<20, false)}
	if got := medianResults(one); got[1].Rounds != 0 || got[1].MsgsPerSec != 210 {
		t.Errorf("one round: %+v", got[1])
	}
	lines = strings.Join(checkTargets(one[0], one, runMeta{Records: targetRSSRecord}), "\n")
	if strings.Contains(lines, "median of rounds") || !strings.Contains(lines, "M-key throughput ≥ 2 × KS: 2.10 × PASS\n") {
		t.Errorf("one round's targets:\n%s", lines)
	}
}

// The broker's CPU without its JIT threads is given, for information,
// only when they were measured, and judged like the whole figure: on the
// median of the rounds' ratios. The target stays on the whole figure.
func TestBrokerWithoutJIT(t *testing.T) {
	round := func(keyBroker, keyJIT, ksBroker, ksJIT float64) []Result {
		return []Result{
			{Name: "KS", MsgsPerSec: 100, BrokerCPUSecPerMillion: ksBroker, BrokerJITSecPerMillion: ksJIT, BrokerJITMeasured: true},
			{Name: "M-key", MsgsPerSec: 200, BrokerCPUSecPerMillion: keyBroker, BrokerJITSecPerMillion: keyJIT, BrokerJITMeasured: true},
		}
	}
	rounds := [][]Result{
		round(3.0, 1.0, 2.0, 1.0), // 2.0 vs 1.0: 2.00 ×, whole 1.50 ×
		round(2.5, 0.0, 2.0, 0.0), // 1.25 ×, whole 1.25 ×
		round(4.0, 1.0, 3.0, 1.5), // 3.0 vs 1.5: 2.00 ×, whole 1.33 ×
	}
	lines := strings.Join(checkTargets(medianResults(rounds), rounds, runMeta{Records: targetRSSRecord}), "\n")
	for _, want := range []string{
		"M-key broker CPU per 1M ≤ KS's: 3.00 vs 2.00 s, 1.33 × FAIL (median of rounds: 1.50, 1.25, 1.33)",
		"(information) without the broker's JIT compiler threads: 2.00 vs 1.00 s, 2.00 × (median of rounds: 2.00, 1.25, 2.00)",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("targets lack %q:\n%s", want, lines)
		}
	}
	for i := range rounds {
		for j := range rounds[i] {
			rounds[i][j].BrokerJITMeasured = false
		}
	}
	lines = strings.Join(checkTargets(medianResults(rounds), rounds, runMeta{Records: targetRSSRecord}), "\n")
	if strings.Contains(lines, "without the broker's JIT") {
		t.Errorf("a line without the JIT although it was not measured:\n%s", lines)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
