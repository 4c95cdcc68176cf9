package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// job is what the parent hands a scenario run (as JSON to a child process).
type job struct {
	Scenario   string   `json:"scenario"`
	Brokers    []string `json:"brokers"`
	RunID      string   `json:"run_id"`
	Input      string   `json:"input"`
	Records    int64    `json:"records"`
	Expected   int64    `json:"expected"`
	InputBytes int64    `json:"input_bytes"`
	// Rate is the offered rate of the latency phase in records/s; 0 means
	// half of this scenario's own drain throughput (used for L2).
	Rate            float64       `json:"rate"`
	LatencyDuration time.Duration `json:"latency_duration"`
	// LowRate, if positive, adds a second latency phase at this rate.
	LowRate       float64 `json:"low_rate"`
	KeepTopics    bool    `json:"keep_topics"`
	CPUProfileDir string  `json:"cpu_profile_dir"`
	W0MaxRecords  int64   `json:"w0_max_records"`
	// MaxDrainTime stops a drain that is not done by then; its throughput
	// is then computed from the records it committed.
	MaxDrainTime time.Duration `json:"max_drain_time"`
	Isolated     bool          `json:"isolated"`
	// KS is how the KS scenario starts its Java process.
	KS ksConfig `json:"ks"`
	// Tuning overrides settings of the Millrace scenarios.
	Tuning millraceTuning `json:"tuning"`
}

// newStage is one run of the scenario from in to out as group.
func (j job) newStage(in, out, dlq, group string) *stage {
	return &stage{Brokers: j.Brokers, In: in, Out: out, DLQ: dlq, Group: group, KS: j.KS, Tuning: j.Tuning, Requests: &clientRequests{}}
}

// topicNames are the topics and groups of one scenario.
type topicNames struct {
	Out, DLQ, Group               string
	LatIn, LatOut, LatDLQ, LatGrp string
}

func namesFor(runID, scenario string) topicNames {
	p := "bench-" + runID + "-" + strings.ToLower(scenario)
	return topicNames{
		Out: p + "-out", DLQ: p + "-dlq", Group: p,
		LatIn: p + "-lat-in", LatOut: p + "-lat-out", LatDLQ: p + "-lat-dlq", LatGrp: p + "-lat",
	}
}

func (n topicNames) topics() []string {
	return []string{n.Out, n.DLQ, n.LatIn, n.LatOut, n.LatDLQ}
}

// Result is one scenario's figures, an element of results.json.
type Result struct {
	Name             string  `json:"name"`
	MsgsPerSec       float64 `json:"msgs_per_sec"`
	MBPerSec         float64 `json:"mb_per_sec"`
	CPUSecPerMillion float64 `json:"cpu_sec_per_million"`
	PeakRSSBytes     int64   `json:"peak_rss_bytes"`
	P50Ms            float64 `json:"p50_ms"`
	P99Ms            float64 `json:"p99_ms"`

	Description string `json:"description"`
	// Records is the number of input records the drain measured: all of
	// them, or for W0 those handled before its cap.
	Records    int64   `json:"records"`
	Outputs    int64   `json:"outputs"`
	DeadLetter int64   `json:"dead_letters"`
	Capped     bool    `json:"capped,omitempty"`
	DrainSec   float64 `json:"drain_sec"`   // start of the scenario to the end of the drain
	StartupSec float64 `json:"startup_sec"` // start of the scenario to its first record (W0, L1, L2) or first output seen (M, KS; 20 ms resolution)
	// SteadyMsgsPerSec leaves the start-up (group join, first fetch) out.
	SteadyMsgsPerSec float64 `json:"steady_msgs_per_sec"`
	CPUSec           float64 `json:"cpu_sec"` // the scenario's process, start to the end of the drain
	// SteadyCPUSecPerMillion is the CPU time from the first output seen to
	// the end of the drain, per 1M records (all of them): it leaves the
	// start-up out (for KS: the JVM's start and most of its JIT compiling).
	SteadyCPUSecPerMillion float64 `json:"steady_cpu_sec_per_million"`
	// HarnessCPUSecPerMillion, for a scenario in a process of its own
	// (KS), is the CPU time of the child process that watched its drain
	// (the offset monitor), which the other scenarios' figure includes.
	HarnessCPUSecPerMillion float64 `json:"harness_cpu_sec_per_million,omitempty"`
	// BrokerCPUSecPerMillion is the broker's CPU over the same span: the
	// embedded broker's when it runs in another process than the
	// scenario, an external broker's when its pid is known.
	BrokerCPUSecPerMillion float64 `json:"broker_cpu_sec_per_million,omitempty"`
	// BrokerJITSecPerMillion is the part of it that a JVM broker's JIT
	// compiler threads used (jitThreads): compilations, not requests.
	BrokerJITSecPerMillion float64 `json:"broker_jit_sec_per_million,omitempty"`
	BrokerJITMeasured      bool    `json:"broker_jit_measured,omitempty"`
	// The requests of the scenario's franz-go clients over the drain, per
	// million input records, and the records per produced batch
	// (clientRequests; not for W0 and KS).
	ProduceRequestsPerMillion float64 `json:"produce_requests_per_million,omitempty"`
	BatchesPerMillion         float64 `json:"batches_per_million,omitempty"`
	RecordsPerBatch           float64 `json:"records_per_batch,omitempty"`
	FetchRequestsPerMillion   float64 `json:"fetch_requests_per_million,omitempty"`
	CommitRequestsPerMillion  float64 `json:"commit_requests_per_million,omitempty"`
	RSSEndBytes               int64   `json:"rss_end_bytes"`
	RSSDeltaBytes             int64   `json:"rss_delta_bytes"` // growth of the peak during this scenario
	Isolated                  bool    `json:"isolated"`        // ran in its own process

	OfferedRate      float64 `json:"offered_rate"`
	AchievedRate     float64 `json:"achieved_rate"`
	LatencySamples   int     `json:"latency_samples"`
	LatencyDelivered float64 `json:"latency_delivered_fraction"`
	Overloaded       bool    `json:"latency_overloaded,omitempty"`
	P90Ms            float64 `json:"p90_ms"`
	MaxMs            float64 `json:"max_ms"`
	// The same at a low offered rate that every scenario keeps up with:
	// the latency of the path itself, without queueing.
	LowRate       float64 `json:"low_rate,omitempty"`
	LowP50Ms      float64 `json:"low_rate_p50_ms,omitempty"`
	LowP99Ms      float64 `json:"low_rate_p99_ms,omitempty"`
	LowOverloaded bool    `json:"low_rate_overloaded,omitempty"`

	ThroughputVsL2 float64  `json:"throughput_vs_l2,omitempty"`
	ThroughputVsW0 float64  `json:"throughput_vs_w0,omitempty"`
	P99VsL2        float64  `json:"p99_vs_l2,omitempty"`
	Notes          []string `json:"notes,omitempty"`
	// Rounds is how many drains (--rounds) the figures are the medians
	// of; 0 for a single drain.
	Rounds int `json:"rounds,omitempty"`

	// Wall-clock bounds of the drain (Unix ns), for the parent's broker CPU
	// accounting.
	DrainStartNs int64 `json:"drain_start_ns"`
	DrainEndNs   int64 `json:"drain_end_ns"`
}

// runScenario drains the input with one scenario, then runs its latency
// phase.
func runScenario(ctx context.Context, j job, log io.Writer) (Result, error) {
	sc, ok := findScenario(j.Scenario)
	if !ok {
		return Result{}, fmt.Errorf("unknown scenario %q", j.Scenario)
	}
	res := Result{Name: sc.Name, Description: sc.Desc, Isolated: j.Isolated}
	if err := drain(ctx, j, sc, &res, log); err != nil {
		return res, err
	}
	rate := j.Rate
	if rate <= 0 {
		rate = res.MsgsPerSec / 2
	}
	if j.LatencyDuration > 0 && rate > 0 {
		ls, err := latency(ctx, j, sc, "", rate, log)
		if err != nil {
			return res, fmt.Errorf("latency phase: %w", err)
		}
		res.OfferedRate, res.AchievedRate = ls.Offered, ls.Achieved
		res.LatencySamples, res.LatencyDelivered, res.Overloaded = ls.Samples, ls.Delivered, ls.Overloaded
		res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs = ls.P50, ls.P90, ls.P99, ls.Max
		for _, n := range ls.Notes {
			res.Notes = append(res.Notes, "latency: "+n)
		}
	}
	if j.LatencyDuration > 0 && j.LowRate > 0 {
		ls, err := latency(ctx, j, sc, "-low", j.LowRate, log)
		if err != nil {
			return res, fmt.Errorf("low-rate latency phase: %w", err)
		}
		res.LowRate = ls.Offered
		res.LowP50Ms, res.LowP99Ms, res.LowOverloaded = ls.P50, ls.P99, ls.Overloaded
		for _, n := range ls.Notes {
			res.Notes = append(res.Notes, fmt.Sprintf("latency at %.0f/s: %s", j.LowRate, n))
		}
	}
	return res, nil
}

// drain runs the scenario on the preloaded input until every record went
// through (or, for W0, until its cap) and fills in throughput, CPU and RSS.
func drain(ctx context.Context, j job, sc scenario, res *Result, log io.Writer) error {
	adm, err := newAdmin(j.Brokers)
	if err != nil {
		return err
	}
	defer adm.Close()
	n := namesFor(j.RunID, sc.Name)
	ends, err := adm.endOffsets(ctx, j.Input)
	if err != nil {
		return fmt.Errorf("input end offsets: %w", err)
	}
	var inputEnd int64
	for _, o := range ends {
		inputEnd += o
	}
	st := j.newStage(j.Input, n.Out, n.DLQ, n.Group)

	limit := j.Records
	if sc.InProcessCount && j.W0MaxRecords > 0 {
		limit = min(limit, j.W0MaxRecords)
	}
	var stopProfile func()
	if j.CPUProfileDir != "" && !sc.External {
		if stopProfile, err = startProfile(filepath.Join(j.CPUProfileDir, "cpu-"+sc.Name+".pprof")); err != nil {
			return err
		}
		defer stopProfile()
	}
	peak0 := peakRSS()
	cpu0 := cpuTime()
	// cpuNow is the CPU time of the scenario's process: this one, or for
	// an external scenario the process it started (0 until it has).
	cpuNow := func() time.Duration { return cpuTime() - cpu0 }
	if sc.External {
		cpuNow = func() time.Duration {
			if pid := int(st.pid.Load()); pid > 0 {
				return procCPU(pid)
			}
			return 0
		}
	}
	var cpuFirst time.Duration
	t0 := time.Now()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- sc.Run(runCtx, st) }()

	expected := j.Expected
	if sc.NoFilter {
		expected = j.Records
	}
	var first time.Time
	handled := int64(0) // input records done, as far as the monitor knows
	stopped := ""       // why the drain stopped before the end, if it did
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	lastLog := t0
	for done := false; !done; {
		select {
		case err := <-errc:
			return fmt.Errorf("%s stopped during the drain: %v", sc.Name, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		now := time.Now()
		if sc.InProcessCount {
			handled = st.handled.Load()
			if first.IsZero() && handled > 0 {
				first = time.Unix(0, st.firstNanos.Load())
			}
			if handled >= limit {
				done = true
				if handled < j.Records {
					stopped = fmt.Sprintf("capped at %d records", limit)
				}
			}
		} else {
			out, err := adm.sumEnd(ctx, n.Out)
			if err != nil {
				continue
			}
			c, err := adm.committed(ctx, n.Group, j.Input, ends)
			if err != nil {
				continue
			}
			handled = c // outputs may run ahead of commits: count the committed
			if first.IsZero() && out > 0 {
				first = now
				if f := st.firstNanos.Load(); f > 0 {
					first = time.Unix(0, f) // the scenario knows better
				}
			}
			done = out >= expected && c >= inputEnd
		}
		if !first.IsZero() && cpuFirst == 0 {
			cpuFirst = cpuNow()
		}
		if !done && j.MaxDrainTime > 0 && now.Sub(t0) >= j.MaxDrainTime {
			done = true
			stopped = fmt.Sprintf("stopped by the %s time limit", j.MaxDrainTime)
		}
		if now.Sub(lastLog) >= 5*time.Second {
			lastLog = now
			fmt.Fprintf(log, "bench: %s: %d records done after %.0f s\n", sc.Name, handled, now.Sub(t0).Seconds())
		}
	}
	end := time.Now()
	cpu := cpuNow()
	requests := st.Requests.snapshot()
	var harnessCPU time.Duration
	extPID := 0
	if sc.External {
		pid := int(st.pid.Load())
		if pid <= 0 {
			return fmt.Errorf("%s: its process did not start", sc.Name)
		}
		res.PeakRSSBytes = procPeakRSS(pid)
		res.RSSDeltaBytes = res.PeakRSSBytes
		res.RSSEndBytes = procRSS(pid)
		harnessCPU = cpuTime() - cpu0
		extPID = pid
	} else {
		res.PeakRSSBytes = peakRSS()
		res.RSSDeltaBytes = res.PeakRSSBytes - peak0
		res.RSSEndBytes = currentRSS()
	}
	if stopProfile != nil {
		stopProfile()
	}
	records := j.Records
	if stopped != "" {
		records = handled
		res.Capped = true
		how := "committed offsets"
		if sc.InProcessCount {
			how = "its handler's count"
		}
		res.Notes = append(res.Notes, fmt.Sprintf("%s: throughput from %d of %d records (%s)", stopped, handled, j.Records, how))
	}
	if records <= 0 {
		return fmt.Errorf("%s: no record done in %s", sc.Name, end.Sub(t0))
	}
	if first.IsZero() {
		first = end
	}
	res.Records = records
	requests.fill(res, records)
	res.DrainSec = end.Sub(t0).Seconds()
	res.StartupSec = first.Sub(t0).Seconds()
	res.MsgsPerSec = float64(records) / res.DrainSec
	if d := end.Sub(first).Seconds(); d > 0 {
		res.SteadyMsgsPerSec = float64(records) / d
	}
	bytesPerRecord := float64(j.InputBytes) / float64(j.Records)
	res.MBPerSec = res.MsgsPerSec * bytesPerRecord / 1e6
	res.CPUSec = cpu.Seconds()
	res.CPUSecPerMillion = cpu.Seconds() / float64(records) * 1e6
	if cpuFirst > 0 {
		res.SteadyCPUSecPerMillion = (cpu - cpuFirst).Seconds() / float64(records) * 1e6
	}
	if sc.External {
		res.HarnessCPUSecPerMillion = harnessCPU.Seconds() / float64(records) * 1e6
		res.Notes = append(res.Notes, fmt.Sprintf("CPU and peak RSS are the java process's (pid %d, from /proc); the offset monitor in the Go child used %.2f CPU s/1M, which is not in them (it is in the other scenarios' figures)",
			extPID, res.HarnessCPUSecPerMillion))
	}
	res.DrainStartNs, res.DrainEndNs = t0.UnixNano(), end.UnixNano()

	cancel()
	if err := waitStopped(errc, 60*time.Second); err != nil {
		res.Notes = append(res.Notes, "stop after the drain: "+err.Error())
	}
	res.Outputs, _ = adm.sumEnd(ctx, n.Out)
	res.DeadLetter, _ = adm.sumEnd(ctx, n.DLQ)
	if !sc.InProcessCount && !res.Capped && res.Outputs != expected {
		res.Notes = append(res.Notes, fmt.Sprintf("wrote %d outputs, expected %d", res.Outputs, expected))
	}
	if res.DeadLetter > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d dead letters", res.DeadLetter))
	}
	fmt.Fprintf(log, "bench: %s: drained %d records in %.2f s: %.0f msgs/s (%.0f after a %.2f s start-up), %.2f CPU s per 1M, peak RSS %.0f MiB\n",
		sc.Name, records, res.DrainSec, res.MsgsPerSec, res.SteadyMsgsPerSec, res.StartupSec, res.CPUSecPerMillion, float64(res.PeakRSSBytes)/(1<<20))
	return nil
}

func waitStopped(errc <-chan error, timeout time.Duration) error {
	select {
	case err := <-errc:
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("still running after %s", timeout)
	}
}

func startProfile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
			// The allocations of the child's life, beside it: what the
			// garbage collector's share of the CPU profile comes from.
			if a, err := os.Create(strings.Replace(path, "cpu-", "allocs-", 1)); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(a, 0)
				a.Close()
			}
		})
	}, nil
}

// Headers of the latency phase's records.
const (
	headerSeq   = "bench-seq"
	headerSent  = "bench-sent-ns"
	headerProbe = "bench-probe"
)

type sample struct {
	seq int64
	lat time.Duration
}

// latencyStats are the figures of one latency phase.
type latencyStats struct {
	Offered, Achieved  float64
	Samples            int
	Delivered          float64 // fraction of the measured records that arrived
	Overloaded         bool    // ≥ 1% did not arrive: p99 is a lower bound
	P50, P90, P99, Max float64 // ms
	ProduceErrors      int64
	Notes              []string
}

// latency offers fresh records at rate to a new run of the scenario on empty
// topics and measures, for each record that passes the filter, the time
// from its produce call to its arrival in a reader of the output topic.
// After a readiness probe and a warm-up, records due during j.LatencyDuration
// are measured; those not arrived 5 s after the phase are counted at that
// time. Since they are the slowest, p99 stays exact while fewer than 1% are
// missing; past that the phase is marked overloaded and p99 is a lower bound.
func latency(ctx context.Context, j job, sc scenario, phase string, rate float64, log io.Writer) (latencyStats, error) {
	var ls latencyStats
	n := namesFor(j.RunID, sc.Name+phase)
	adm, err := newAdmin(j.Brokers)
	if err != nil {
		return ls, err
	}
	defer adm.Close()
	if err := adm.createTopics(ctx, n.LatIn, n.LatOut, n.LatDLQ); err != nil {
		return ls, err
	}
	if !j.KeepTopics {
		defer func() {
			_ = adm.deleteTopics(context.Background(), n.LatIn, n.LatOut, n.LatDLQ)
			adm.deleteGroups(context.Background(), n.LatGrp)
		}()
	}
	st := j.newStage(n.LatIn, n.LatOut, n.LatDLQ, n.LatGrp)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- sc.Run(runCtx, st) }()
	defer func() {
		cancel()
		_ = waitStopped(errc, 60*time.Second)
	}()

	// The reader: every record of the output topic, from the start.
	rd, err := kgo.NewClient(kgo.SeedBrokers(j.Brokers...), kgo.ClientID("millrace-bench-reader"),
		kgo.ConsumeTopics(n.LatOut), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return ls, err
	}
	defer rd.Close()
	var (
		mu      sync.Mutex
		samples []sample
		ready   = make(chan struct{})
		once    sync.Once
	)
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			fs := rd.PollFetches(readCtx)
			if readCtx.Err() != nil || fs.IsClientClosed() {
				return
			}
			now := time.Now().UnixNano()
			mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				var seq, sent int64 = -1, 0
				for _, h := range r.Headers {
					switch h.Key {
					case headerProbe:
						once.Do(func() { close(ready) })
					case headerSeq:
						seq, _ = strconv.ParseInt(string(h.Value), 10, 64)
					case headerSent:
						sent, _ = strconv.ParseInt(string(h.Value), 10, 64)
					}
				}
				if seq >= 0 && sent > 0 {
					samples = append(samples, sample{seq, time.Duration(now - sent)})
				}
			})
			mu.Unlock()
		}
	}()

	pr, err := kgo.NewClient(kgo.SeedBrokers(j.Brokers...), kgo.ClientID("millrace-bench-offer"),
		kgo.DefaultProduceTopic(n.LatIn), kgo.ProducerLinger(0))
	if err != nil {
		return ls, err
	}
	defer pr.Close()
	var produceErrs atomic.Int64
	onProduced := func(_ *kgo.Record, err error) {
		if err != nil {
			produceErrs.Add(1)
		}
	}

	// Readiness: probes until one comes out, so that the group join and
	// the first fetches are not measured.
	g := newGen(2)
	probeTick := time.NewTicker(100 * time.Millisecond)
	readyBy := time.After(2 * time.Minute)
probing:
	for {
		select {
		case <-ready:
			break probing
		case err := <-errc:
			return ls, fmt.Errorf("%s stopped: %v", sc.Name, err)
		case <-readyBy:
			return ls, errors.New("no output within 2m of the first probe")
		case <-probeTick.C:
			key, value := probeEvent(g)
			pr.Produce(ctx, &kgo.Record{Key: key, Value: value, Headers: []kgo.RecordHeader{{Key: headerProbe, Value: []byte("1")}}}, onProduced)
		}
	}
	probeTick.Stop()

	// The schedule: record seq is due at start + seq/rate. Records due in
	// the warm-up are not measured; those due in the next LatencyDuration
	// are. A producer that falls behind sends as fast as it can, and gives
	// up at twice the phase's length.
	warmup := min(time.Second, j.LatencyDuration/5)
	seqStart := int64(math.Ceil(rate * warmup.Seconds()))
	seqStop := int64(math.Ceil(rate * (warmup + j.LatencyDuration).Seconds()))
	pass := make([]bool, 0, seqStop)
	var buf []byte
	start := time.Now()
	giveUp := start.Add(2 * (warmup + j.LatencyDuration))
	tick := time.NewTicker(time.Millisecond)
	for seq := int64(0); seq < seqStop; {
		now := <-tick.C
		if now.After(giveUp) {
			ls.Notes = append(ls.Notes, fmt.Sprintf("the producer fell behind its schedule and stopped after %d of %d records", seq, seqStop))
			seqStop = max(seqStart, seq)
			break
		}
		due := min(seqStop, int64(rate*now.Sub(start).Seconds())+1)
		for ; seq < due; seq++ {
			buf = buf[:0]
			key, value, ok := g.event(buf, seq, time.Now().UnixMilli())
			value = slices.Clone(value)
			pass = append(pass, ok)
			sent := time.Now().UnixNano()
			pr.Produce(ctx, &kgo.Record{Key: key, Value: value, Headers: []kgo.RecordHeader{
				{Key: "source", Value: []byte("bench")},
				{Key: headerSeq, Value: strconv.AppendInt(nil, seq, 10)},
				{Key: headerSent, Value: strconv.AppendInt(nil, sent, 10)},
			}}, onProduced)
		}
	}
	tick.Stop()
	produced := seqStop - seqStart
	ls.Offered = rate
	ls.Achieved = float64(produced) / (time.Since(start) - warmup).Seconds()

	// Wait for the measured records, at most 5 s past the end.
	want := 0
	for s := seqStart; s < seqStop; s++ {
		if pass[s] {
			want++
		}
	}
	cutoff := time.Now().Add(5 * time.Second)
	lat := make(map[int64]time.Duration, want)
	collect := func() {
		mu.Lock()
		for _, s := range samples {
			// Only the measured records that pass the filter: L1 writes
			// the others too.
			if s.seq >= seqStart && s.seq < seqStop && pass[s.seq] {
				if _, dup := lat[s.seq]; !dup {
					lat[s.seq] = s.lat
				}
			}
		}
		samples = samples[:0]
		mu.Unlock()
	}
	for {
		collect()
		if len(lat) >= want || time.Now().After(cutoff) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cutoffNs := time.Now().UnixNano()
	stopRead()
	<-readDone
	collect()

	vals := make([]float64, 0, want)
	missing := 0
	for s := seqStart; s < seqStop; s++ {
		if !pass[s] {
			continue
		}
		if d, ok := lat[s]; ok {
			vals = append(vals, float64(d)/1e6)
			continue
		}
		missing++
		if missing <= 3 {
			fmt.Fprintf(log, "bench: %s: record %d (due %.3f s into the phase) did not arrive\n", sc.Name, s, float64(s)/rate)
		}
		// Not arrived: count it as arriving at the cutoff, from when it was
		// due (its send time is not known here).
		dueAt := start.Add(time.Duration(float64(s) / rate * 1e9)).UnixNano()
		vals = append(vals, float64(cutoffNs-dueAt)/1e6)
	}
	slices.Sort(vals)
	ls.Samples = len(vals)
	if want > 0 {
		ls.Delivered = float64(want-missing) / float64(want)
	}
	ls.Overloaded = want > 0 && float64(missing) >= 0.01*float64(want)
	ls.P50 = percentile(vals, 0.50)
	ls.P90 = percentile(vals, 0.90)
	ls.P99 = percentile(vals, 0.99)
	if len(vals) > 0 {
		ls.Max = vals[len(vals)-1]
	}
	ls.ProduceErrors = produceErrs.Load()
	if missing > 0 {
		ls.Notes = append(ls.Notes, fmt.Sprintf("%d of %d records not delivered 5 s after the phase, counted at that time", missing, want))
	}
	if ls.ProduceErrors > 0 {
		ls.Notes = append(ls.Notes, fmt.Sprintf("%d records could not be produced to the input", ls.ProduceErrors))
	}
	fmt.Fprintf(log, "bench: %s: latency at %.0f msgs/s offered (%.0f achieved): p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d samples, %.3f%% delivered\n",
		sc.Name, rate, ls.Achieved, ls.P50, ls.P99, ls.Max, len(vals), 100*ls.Delivered)
	return ls, nil
}

// probeEvent is a record that passes the filter.
func probeEvent(g *gen) (key, value []byte) {
	for {
		k, v, ok := g.event(nil, -1, time.Now().UnixMilli())
		if ok {
			return k, v
		}
	}
}

// percentile of sorted values, nearest rank.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
