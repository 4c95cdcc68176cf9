package main

import (
	"fmt"
	"slices"
	"strings"
)

// A run of several rounds (--rounds) drains the same input with every
// scenario once per round, the rounds one after the other, so that each
// scenario meets the machine's slow and fast spells about as often as the
// others. On a noisy machine one drain per scenario moved by half (130k
// to 240k records/s for the same M-key), more than most changes measured;
// the median of alternated rounds, and the median of each round's ratio
// (both sides measured minutes apart at most), are what the report and
// the targets use.

// medianResults is one Result per scenario: each figure the median of its
// rounds' (see medianOf). One round is returned as it is.
func medianResults(rounds [][]Result) []Result {
	if len(rounds) == 1 {
		return rounds[0]
	}
	var out []Result
	for _, first := range rounds[0] {
		var runs []Result
		for _, rs := range rounds {
			if r := find(rs, first.Name); r != nil {
				runs = append(runs, *r)
			}
		}
		out = append(out, medianOf(runs))
	}
	return out
}

// medianFields are the figures medianOf takes the median of.
var medianFields = []func(*Result) *float64{
	func(r *Result) *float64 { return &r.MsgsPerSec },
	func(r *Result) *float64 { return &r.MBPerSec },
	func(r *Result) *float64 { return &r.CPUSecPerMillion },
	func(r *Result) *float64 { return &r.P50Ms },
	func(r *Result) *float64 { return &r.P99Ms },
	func(r *Result) *float64 { return &r.DrainSec },
	func(r *Result) *float64 { return &r.StartupSec },
	func(r *Result) *float64 { return &r.SteadyMsgsPerSec },
	func(r *Result) *float64 { return &r.CPUSec },
	func(r *Result) *float64 { return &r.SteadyCPUSecPerMillion },
	func(r *Result) *float64 { return &r.HarnessCPUSecPerMillion },
	func(r *Result) *float64 { return &r.BrokerCPUSecPerMillion },
	func(r *Result) *float64 { return &r.BrokerJITSecPerMillion },
	func(r *Result) *float64 { return &r.ProduceRequestsPerMillion },
	func(r *Result) *float64 { return &r.BatchesPerMillion },
	func(r *Result) *float64 { return &r.RecordsPerBatch },
	func(r *Result) *float64 { return &r.FetchRequestsPerMillion },
	func(r *Result) *float64 { return &r.CommitRequestsPerMillion },
	func(r *Result) *float64 { return &r.AchievedRate },
	func(r *Result) *float64 { return &r.LatencyDelivered },
	func(r *Result) *float64 { return &r.P90Ms },
	func(r *Result) *float64 { return &r.MaxMs },
	func(r *Result) *float64 { return &r.LowP50Ms },
	func(r *Result) *float64 { return &r.LowP99Ms },
	func(r *Result) *float64 { return &r.ThroughputVsL2 },
	func(r *Result) *float64 { return &r.ThroughputVsW0 },
	func(r *Result) *float64 { return &r.P99VsL2 },
}

// medianOf is one scenario's rounds as one Result: the first round's
// description, notes and counts, the median of every figure in
// medianFields (the ratios to L2 and W0 included: the medians of each
// round's ratio), and, for what is a bound, the worst round: peak RSS is
// the highest, and the drain was capped, or a latency phase overloaded,
// if it was in any round.
func medianOf(runs []Result) Result {
	m := runs[0]
	for _, field := range medianFields {
		vs := make([]float64, len(runs))
		for i := range runs {
			vs[i] = *field(&runs[i])
		}
		*field(&m) = median(vs)
	}
	for _, r := range runs {
		m.PeakRSSBytes = max(m.PeakRSSBytes, r.PeakRSSBytes)
		m.Capped = m.Capped || r.Capped
		m.Overloaded = m.Overloaded || r.Overloaded
		m.LowOverloaded = m.LowOverloaded || r.LowOverloaded
	}
	m.Rounds = len(runs)
	return m
}

// median is the middle value of vs (the mean of the two middle ones for
// an even count); 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// perRound is f of each round's results where f has a value (ok), and
// their median.
func perRound(rounds [][]Result, f func(rs []Result) (float64, bool)) (vs []float64, med float64, ok bool) {
	for _, rs := range rounds {
		if v, ok := f(rs); ok {
			vs = append(vs, v)
		}
	}
	return vs, median(vs), len(vs) > 0
}

// ratioOf is, for perRound, a's figure over b's in one round, where both
// ran and b's is not zero.
func ratioOf(a, b string, figure func(*Result) float64) func([]Result) (float64, bool) {
	return func(rs []Result) (float64, bool) {
		ra, rb := find(rs, a), find(rs, b)
		if ra == nil || rb == nil || figure(rb) == 0 || figure(ra) == 0 {
			return 0, false
		}
		return figure(ra) / figure(rb), true
	}
}

// figureOf is, for perRound, one scenario's figure in one round.
func figureOf(name string, figure func(*Result) float64) func([]Result) (float64, bool) {
	return func(rs []Result) (float64, bool) {
		r := find(rs, name)
		if r == nil || figure(r) == 0 {
			return 0, false
		}
		return figure(r), true
	}
}

func msgsPerSec(r *Result) float64 { return r.MsgsPerSec }
func cpuPerM(r *Result) float64    { return r.CPUSecPerMillion }
func brokerPerM(r *Result) float64 { return r.BrokerCPUSecPerMillion }

// brokerWorkPerM is the broker's CPU per 1M records without its JIT
// compilations; 0 (no figure) when those were not measured.
func brokerWorkPerM(r *Result) float64 {
	if !r.BrokerJITMeasured {
		return 0
	}
	return r.BrokerCPUSecPerMillion - r.BrokerJITSecPerMillion
}

// roundsNote lists the per-round values behind a median, for a target's
// line; nothing for a run of one round.
func roundsNote(vs []float64, format string) string {
	if len(vs) < 2 {
		return ""
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf(format, v)
	}
	return " (median of rounds: " + strings.Join(parts, ", ") + ")"
}

// writeRounds lists each scenario's figures round by round, under the
// table of medians.
func writeRounds(b *strings.Builder, rounds [][]Result) {
	if len(rounds) < 2 {
		return
	}
	fmt.Fprintf(b, "\nRound by round (%d rounds, in run order; the table above gives each figure's median): msgs/s · CPU s/1M · broker CPU s/1M.\n", len(rounds))
	for _, first := range rounds[0] {
		var thr, cpu, broker []string
		for _, rs := range rounds {
			r := find(rs, first.Name)
			if r == nil {
				continue
			}
			thr = append(thr, fmt.Sprintf("%.0f", r.MsgsPerSec))
			cpu = append(cpu, fmt.Sprintf("%.2f", r.CPUSecPerMillion))
			broker = append(broker, fmt.Sprintf("%.2f", r.BrokerCPUSecPerMillion))
		}
		fmt.Fprintf(b, "  %-12s %s · %s · %s\n", first.Name, strings.Join(thr, " "), strings.Join(cpu, " "), strings.Join(broker, " "))
	}
}
