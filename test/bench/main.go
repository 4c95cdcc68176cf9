// Command bench measures Millrace against a hand-written franz-go loop and a
// plain Watermill router, on one broker and one preloaded input topic.
//
//	go -C test/bench run . --broker embedded|HOST:PORT --records N --out DIR
//
// See README.md in this folder for the scenarios and how to read the
// results.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/millrace-dev/millrace/pipeline/kafka"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	Broker          string
	Records         int64
	Rounds          int
	Out             string
	LatencyDuration time.Duration
	Scenarios       string
	CPUProfileDir   string
	Isolate         bool
	W0MaxRecords    int64
	MaxDrainTime    time.Duration
	KeepTopics      bool
	Rate            float64
	LowRate         float64
	Replot          bool
	BrokerPID       string
	KStreamsDir     string
	KSJVMOpts       string
	KSCommitMs      int
	Tuning          millraceTuning

	// child mode (internal)
	Scenario string
	JobFile  string
	Result   string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Broker, "broker", "embedded", "`embedded` (an in-process broker) or HOST:PORT of a Kafka broker")
	fs.Int64Var(&o.Records, "records", 1_000_000, "records to preload and drain")
	fs.IntVar(&o.Rounds, "rounds", 1, "drain the input with every scenario this many times, round after round; the table gives each figure's median, the targets the median of the rounds' ratios, and rounds.json every round")
	fs.StringVar(&o.Out, "out", "../artifacts/bench", "`DIR` for results.json, rounds.json, results.png, results.txt and run.json")
	fs.DurationVar(&o.LatencyDuration, "latency-duration", 10*time.Second, "length of each latency phase; 0 skips them")
	fs.StringVar(&o.Scenarios, "scenarios", "", "comma-separated subset of L1,L2,W0,KS,M-key,M-partition,M-none,M-router (default all; KS is left out, with a warning, when it cannot be built)")
	fs.StringVar(&o.CPUProfileDir, "cpuprofile", "", "`DIR`: write a CPU profile of each scenario's drain to DIR/cpu-NAME.pprof, and its allocations to DIR/allocs-NAME.pprof")
	fs.BoolVar(&o.Isolate, "isolate", true, "run each scenario in its own child process (own peak RSS and CPU time)")
	fs.Int64Var(&o.W0MaxRecords, "w0-max-records", 100_000, "W0 drains at most this many records")
	fs.DurationVar(&o.MaxDrainTime, "max-drain-time", 3*time.Minute, "stop a drain not done by then and compute its throughput from the records it committed; 0: no limit")
	fs.BoolVar(&o.KeepTopics, "keep-topics", false, "keep the benchmark's topics and groups on the broker")
	fs.Float64Var(&o.Rate, "rate", 0, "offered rate of the latency phases in records/s (default: half of L2's drain throughput)")
	fs.Float64Var(&o.LowRate, "low-rate", 1000, "offered rate of a second latency phase per scenario, in records/s; 0 skips it")
	fs.StringVar(&o.BrokerPID, "broker-pid", "auto", "`PID` of the broker given by --broker HOST:PORT, for its CPU time; auto: the local process listening on that address; off: none")
	fs.StringVar(&o.KStreamsDir, "kstreams-dir", "", "`DIR` of the KS scenario's build.sh (default: kstreams/ next to the working directory or this source)")
	fs.StringVar(&o.KSJVMOpts, "ks-jvm-opts", defaultKSJVMOpts, "JVM options of the KS scenario's java process")
	fs.IntVar(&o.KSCommitMs, "ks-commit-interval-ms", 100, "commit.interval.ms of the KS scenario (Kafka Streams' at_least_once default is 30000)")
	fs.DurationVar(&o.Tuning.CommitInterval, "commit-interval", 0, "input.commit_interval of the Millrace scenarios (default: the config's default)")
	fs.IntVar(&o.Tuning.MaxInFlight, "max-in-flight", 0, "input.max_in_flight of the Millrace scenarios (default: the config's default)")
	fs.IntVar(&o.Tuning.FetchMaxPartitionBytes, "fetch-max-partition-bytes", 0, "kafka.consumer.fetch_max_partition_bytes of the Millrace scenarios (default: the config's default)")
	fs.DurationVar(&o.Tuning.Linger, "linger", 0, "kafka.producer.linger of the Millrace scenarios (default: the config's default)")
	fs.Float64Var(&o.Tuning.RateLimit, "rate-limit", 0, "input.rate_limit of the Millrace scenarios in records/s: their drain throughput then shows the limit held (default: none)")
	fs.BoolVar(&o.Replot, "replot", false, "only redraw DIR/results.png and DIR/results.txt from DIR/results.json and DIR/run.json")
	fs.StringVar(&o.Scenario, "scenario", "", "internal: run one scenario (child process)")
	fs.StringVar(&o.JobFile, "job", "", "internal: the child's job file")
	fs.StringVar(&o.Result, "result", "", "internal: where the child writes its result")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.Records <= 0 {
		return o, errors.New("--records must be positive")
	}
	if o.Rounds <= 0 {
		return o, errors.New("--rounds must be positive")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch {
	case o.Scenario != "":
		err = runChild(ctx, o, stderr)
	case o.Replot:
		err = replot(o.Out, stdout)
	default:
		err = runParent(ctx, o, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

// runChild runs one scenario and writes its result as JSON.
func runChild(ctx context.Context, o options, log io.Writer) error {
	data, err := os.ReadFile(o.JobFile)
	if err != nil {
		return err
	}
	var j job
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	res, err := runScenario(ctx, j, log)
	if err != nil {
		return err
	}
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(o.Result, out, 0o644)
}

// runMeta describes a run, written to DIR/run.json.
type runMeta struct {
	Date            string        `json:"date"`
	Broker          string        `json:"broker"`
	Embedded        bool          `json:"embedded"`
	Records         int64         `json:"records"`
	Preload         preloadStats  `json:"preload"`
	OfferedRate     float64       `json:"offered_rate"`
	RateGiven       bool          `json:"rate_given"` // --rate set it, not L2
	LowRate         float64       `json:"low_rate"`
	LatencyDuration string        `json:"latency_duration"`
	Isolated        bool          `json:"isolated"`
	GoVersion       string        `json:"go_version"`
	CPUs            int           `json:"cpus"`
	CPUModel        string        `json:"cpu_model"`
	Args            []string      `json:"args"`
	Order           []string      `json:"order"`
	Rounds          int           `json:"rounds"`
	Elapsed         time.Duration `json:"elapsed_ns"`
	// Skipped lists the scenarios left out of a run of all and why.
	Skipped []string `json:"skipped,omitempty"`
	// BrokerPID is the external broker's process, whose CPU time is
	// reported; BrokerCPU says how broker CPU was measured, or why not.
	BrokerPID int    `json:"broker_pid,omitempty"`
	BrokerCPU string `json:"broker_cpu"`
	// BrokerIdleCores is the external broker's CPU use while no scenario
	// ran (2 s after the preload), in cores.
	BrokerIdleCores float64  `json:"broker_idle_cores,omitempty"`
	KS              ksConfig `json:"ks"`
}

func runParent(ctx context.Context, o options, stdout, stderr io.Writer) error {
	begin := time.Now()
	order, err := scenarioOrder(o.Scenarios)
	if err != nil {
		return err
	}
	meta := runMeta{Date: begin.UTC().Format(time.RFC3339), Broker: o.Broker, Records: o.Records,
		LatencyDuration: o.LatencyDuration.String(), Isolated: o.Isolate, GoVersion: runtime.Version(),
		CPUs: runtime.NumCPU(), CPUModel: cpuModel(), Args: os.Args[1:], Order: order, Rounds: o.Rounds}
	if slices.Contains(order, "KS") {
		meta.KS = ksConfig{Java: javaBinary(), JVMOpts: o.KSJVMOpts, CommitIntervalMs: o.KSCommitMs, Threads: 2}
		fmt.Fprintln(stderr, "bench: building the KS scenario (test/bench/kstreams/build.sh build)")
		cp, err := buildKStreams(ctx, o.KStreamsDir, stderr)
		switch {
		case err == nil:
			meta.KS.Classpath = cp
		case o.Scenarios == "":
			fmt.Fprintf(stderr, "bench: WARNING: KS left out: %v\n", err)
			meta.Skipped = append(meta.Skipped, "KS: "+err.Error())
			order = slices.DeleteFunc(order, func(n string) bool { return n == "KS" })
			meta.Order = order
		default:
			return fmt.Errorf("KS: %w", err)
		}
	}
	brokers := []string{o.Broker}
	var sampleBroker func() time.Duration // the broker's CPU time so far
	var sampleJIT func() time.Duration    // its JIT compiler threads' (a JVM's)
	if o.Broker == "embedded" {
		emb, err := kafka.StartEmbedded("127.0.0.1:0", "", partitions)
		if err != nil {
			return err
		}
		defer emb.Close()
		brokers = []string{emb.Addr()}
		meta.Embedded = true
		fmt.Fprintf(stderr, "bench: embedded broker on %s (in this process, sharing its CPUs)\n", emb.Addr())
		if o.Isolate {
			sampleBroker = cpuTime
			meta.BrokerCPU = "the parent process's CPU time (the embedded broker) over each drain"
		} else {
			meta.BrokerCPU = "not measured apart: the embedded broker runs in the scenarios' process (--isolate=false)"
		}
	} else {
		pid, why := brokerPID(o.BrokerPID, o.Broker)
		if pid > 0 {
			meta.BrokerPID = pid
			sampleBroker = func() time.Duration { return procCPU(pid) }
			sampleJIT = newJITThreads(pid).cpu
			meta.BrokerCPU = fmt.Sprintf("CPU time of the broker's process (pid %d, /proc/%d/stat) over each drain", pid, pid)
			fmt.Fprintf(stderr, "bench: broker CPU from pid %d (%s)\n", pid, procName(pid))
		} else {
			meta.BrokerCPU = "not measured: " + why
			fmt.Fprintf(stderr, "bench: broker CPU not measured: %s\n", why)
		}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	adm, err := newAdmin(brokers)
	if err != nil {
		return err
	}
	defer adm.Close()

	runID := newRunID()
	input := "bench-" + runID + "-in"
	if err := adm.createTopics(ctx, input); err != nil {
		return err
	}
	if !o.KeepTopics {
		defer func() { _ = adm.deleteTopics(context.Background(), input) }()
	}
	fmt.Fprintf(stderr, "bench: preloading %d records into %s (%d partitions)\n", o.Records, input, partitions)
	pre, err := preload(ctx, brokers, input, o.Records)
	if err != nil {
		return err
	}
	meta.Preload = pre
	if err := adm.warmGroups(ctx, input+"-warmup", input); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: preloaded %d records (%.0f bytes each, %d pass the filter) in %.1f s: %.0f records/s\n",
		pre.Records, float64(pre.Bytes)/float64(pre.Records), pre.Expected, pre.Seconds, float64(pre.Records)/pre.Seconds)
	if sampleBroker != nil && !meta.Embedded {
		// An external broker uses CPU when idle too (timers, log flushes,
		// other clients): its rate before the first scenario, for reading
		// broker CPU s/1M of long drains.
		c0, t0 := sampleBroker(), time.Now()
		time.Sleep(2 * time.Second)
		meta.BrokerIdleCores = (sampleBroker() - c0).Seconds() / time.Since(t0).Seconds()
		fmt.Fprintf(stderr, "bench: the broker used %.3f cores while idle (2 s before the first scenario)\n", meta.BrokerIdleCores)
	}

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "millrace-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	rate := o.Rate
	var rounds [][]Result
	for round := 1; round <= o.Rounds; round++ {
		id := runID // a round's topics and groups are its own
		if o.Rounds > 1 {
			id = fmt.Sprintf("%s-r%d", runID, round)
			fmt.Fprintf(stderr, "bench: === round %d of %d ===\n", round, o.Rounds)
		}
		results, err := runRound(ctx, o, runRoundArgs{exe: exe, tmp: tmp, runID: id, input: input, brokers: brokers,
			pre: pre, meta: &meta, sampleBroker: sampleBroker, sampleJIT: sampleJIT, adm: adm, order: order, rate: &rate}, stderr)
		if err != nil {
			return err
		}
		results = sortResults(results)
		addRatios(results)
		rounds = append(rounds, results)
	}
	meta.OfferedRate, meta.RateGiven = rate, o.Rate > 0
	if o.LatencyDuration > 0 {
		meta.LowRate = o.LowRate
	}
	meta.Elapsed = time.Since(begin)
	results := medianResults(rounds)

	table := formatTable(results, rounds, meta)
	fmt.Fprint(stdout, table)
	if err := writeJSON(filepath.Join(o.Out, "results.json"), results); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(o.Out, "rounds.json"), rounds); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(o.Out, "run.json"), meta); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.Out, "results.txt"), []byte(table), 0o644); err != nil {
		return err
	}
	if err := drawChart(filepath.Join(o.Out, "results.png"), results, meta); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	fmt.Fprintf(stderr, "bench: wrote %s/results.json, rounds.json, results.png, results.txt, run.json (%.0f s in all)\n",
		o.Out, meta.Elapsed.Seconds())
	return nil
}

// runRoundArgs is what runRound needs of runParent's set-up.
type runRoundArgs struct {
	exe, tmp, runID, input string
	brokers                []string
	pre                    preloadStats
	meta                   *runMeta
	sampleBroker           func() time.Duration
	sampleJIT              func() time.Duration
	adm                    *admin
	order                  []string
	rate                   *float64 // the latency phases' offered rate: L2's first drain sets it when no --rate does
}

// runRound drains the preloaded input with every scenario of the order,
// one after the other, each with topics and groups of its own.
func runRound(ctx context.Context, o options, a runRoundArgs, stderr io.Writer) ([]Result, error) {
	var results []Result
	for _, name := range a.order {
		rate := *a.rate
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := namesFor(a.runID, name)
		if err := a.adm.createTopics(ctx, n.Out, n.DLQ); err != nil {
			return nil, err
		}
		j := job{Scenario: name, Brokers: a.brokers, RunID: a.runID, Input: a.input, Records: a.pre.Records,
			Expected: a.pre.Expected, InputBytes: a.pre.Bytes, Rate: rate, LowRate: o.LowRate, KeepTopics: o.KeepTopics, LatencyDuration: o.LatencyDuration,
			CPUProfileDir: o.CPUProfileDir, W0MaxRecords: o.W0MaxRecords, MaxDrainTime: o.MaxDrainTime,
			Isolated: o.Isolate, KS: a.meta.KS, Tuning: o.Tuning}
		fmt.Fprintf(stderr, "bench: --- %s ---\n", name)
		var res Result
		var err error
		var sampler, jit *cpuSampler
		if a.sampleBroker != nil {
			sampler = startCPUSampler(a.sampleBroker)
		}
		if a.sampleJIT != nil {
			jit = startCPUSampler(a.sampleJIT)
		}
		if o.Isolate {
			res, err = runIsolated(ctx, a.exe, a.tmp, j, stderr)
		} else {
			res, err = runScenario(ctx, j, stderr)
		}
		if sampler != nil {
			sampler.stop()
			if err == nil {
				brokerCPU := sampler.between(res.DrainStartNs, res.DrainEndNs)
				res.BrokerCPUSecPerMillion = brokerCPU.Seconds() / float64(res.Records) * 1e6
			}
		}
		if jit != nil {
			jit.stop()
			if err == nil {
				res.BrokerJITSecPerMillion = jit.between(res.DrainStartNs, res.DrainEndNs).Seconds() / float64(res.Records) * 1e6
				res.BrokerJITMeasured = true
			}
		}
		if !o.KeepTopics {
			low := namesFor(a.runID, name+"-low")
			_ = a.adm.deleteTopics(context.Background(), append(n.topics(), low.topics()...)...)
			a.adm.deleteGroups(context.Background(), n.Group, n.LatGrp, low.LatGrp)
		}
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", name, err)
		}
		if !o.Isolate && a.meta.Embedded {
			res.Notes = append(res.Notes, "in-process: CPU time includes the embedded broker; peak RSS is the process's")
		}
		if rate <= 0 && name == "L2" {
			*a.rate = res.OfferedRate
		}
		results = append(results, res)
	}
	return results, nil
}

// scenarioOrder is the run order: L2 first, since its throughput sets the
// offered rate of every latency phase.
func scenarioOrder(only string) ([]string, error) {
	var names []string
	for _, sc := range scenarios {
		names = append(names, sc.Name)
	}
	if only != "" {
		var picked []string
		for _, n := range strings.Split(only, ",") {
			n = strings.TrimSpace(n)
			if _, ok := findScenario(n); !ok {
				return nil, fmt.Errorf("unknown scenario %q; known: %s", n, strings.Join(names, ", "))
			}
			if !slices.Contains(picked, n) {
				picked = append(picked, n)
			}
		}
		names = picked
	}
	if i := slices.Index(names, "L2"); i > 0 {
		names = append([]string{"L2"}, slices.Delete(names, i, i+1)...)
	}
	return names, nil
}

// sortResults puts results in the table's order.
func sortResults(rs []Result) []Result {
	var out []Result
	for _, sc := range scenarios {
		for _, r := range rs {
			if r.Name == sc.Name {
				out = append(out, r)
			}
		}
	}
	return out
}

// runIsolated runs one scenario in a child process of this binary.
func runIsolated(ctx context.Context, exe, tmp string, j job, stderr io.Writer) (Result, error) {
	jobFile := filepath.Join(tmp, "job-"+j.Scenario+".json")
	resFile := filepath.Join(tmp, "result-"+j.Scenario+".json")
	data, err := json.Marshal(j)
	if err != nil {
		return Result{}, err
	}
	if err := os.WriteFile(jobFile, data, 0o644); err != nil {
		return Result{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "--scenario", j.Scenario, "--job", jobFile, "--result", resFile)
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Run(); err != nil {
		return Result{}, fmt.Errorf("child process: %w", err)
	}
	out, err := os.ReadFile(resFile)
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = json.Unmarshal(out, &res)
	return res, err
}

// cpuSampler records the broker's CPU time every 20 ms (this process's,
// where the embedded broker runs, or an external broker's), so that its
// share of a child's drain can be read afterwards.
type cpuSampler struct {
	read    func() time.Duration
	mu      sync.Mutex
	at      []int64
	cpu     []time.Duration
	quit    chan struct{}
	stopped chan struct{}
}

func startCPUSampler(read func() time.Duration) *cpuSampler {
	s := &cpuSampler{read: read, quit: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(s.stopped)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			s.mu.Lock()
			s.at = append(s.at, time.Now().UnixNano())
			s.cpu = append(s.cpu, s.read())
			s.mu.Unlock()
			select {
			case <-t.C:
			case <-s.quit:
				return
			}
		}
	}()
	return s
}

func (s *cpuSampler) stop() {
	close(s.quit)
	<-s.stopped
}

// between returns the CPU time used between two instants, interpolated.
func (s *cpuSampler) between(from, to int64) time.Duration {
	return s.cpuAt(to) - s.cpuAt(from)
}

func (s *cpuSampler) cpuAt(t int64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := slices.BinarySearch(s.at, t)
	switch {
	case len(s.at) == 0:
		return 0
	case i == 0:
		return s.cpu[0]
	case i >= len(s.at):
		return s.cpu[len(s.cpu)-1]
	}
	a, b := s.at[i-1], s.at[i]
	f := float64(t-a) / float64(b-a)
	return s.cpu[i-1] + time.Duration(f*float64(s.cpu[i]-s.cpu[i-1]))
}

// procName is the command line of pid: the program and its last two
// arguments.
func procName(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "?"
	}
	args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	if len(args) > 3 {
		// java -X… -cp … kafka.Kafka server.properties: the end says more.
		args = []string{args[0], "…", args[len(args)-2], args[len(args)-1]}
	}
	return strings.Join(args, " ")
}

func newRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().Format("0102-1504") + "-" + hex.EncodeToString(b[:])
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// replot redraws the report of a finished run.
func replot(dir string, stdout io.Writer) error {
	var results []Result
	var meta runMeta
	for name, v := range map[string]any{"results.json": &results, "run.json": &meta} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	rounds := [][]Result{results}
	if data, err := os.ReadFile(filepath.Join(dir, "rounds.json")); err == nil {
		if err := json.Unmarshal(data, &rounds); err != nil {
			return fmt.Errorf("rounds.json: %w", err)
		}
	}
	table := formatTable(results, rounds, meta)
	fmt.Fprint(stdout, table)
	if err := os.WriteFile(filepath.Join(dir, "results.txt"), []byte(table), 0o644); err != nil {
		return err
	}
	return drawChart(filepath.Join(dir, "results.png"), results, meta)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
