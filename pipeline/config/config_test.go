package config_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/bad")

// secretValue is what CLIENT_SECRET holds in the bad-config tests. No error
// message may ever contain it.
const secretValue = "hunter2-s3cret"

// env is a fixed environment, so that the golden files do not depend on the
// machine running the tests.
func env(vars map[string]string) spec.LookupEnv {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

var badEnv = env(map[string]string{
	"CLIENT_SECRET": secretValue,
	"SECRET_FILTER": "amount > > hunter2",
	"SECRET_NAME":   "hunter2 is not a name",
})

// TestBadConfigs loads every file in testdata/bad and compares the full error
// text with the file's .golden twin. Run with -update to rewrite the golden
// files, then review the diff by eye.
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("want at least 20 bad configs, found %d", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			cfg, err := config.Load(path, config.Options{LookupEnv: badEnv})
			if err == nil {
				t.Fatalf("loaded without error: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("got a config together with the error")
			}
			var es spec.Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want spec.Errors: %v", err, err)
			}
			for _, e := range es {
				if e.Pos.File != path {
					t.Errorf("error %q names file %q, want %q", e, e.Pos.File, path)
				}
				if e.Pos.Line <= 0 || e.Pos.Col <= 0 {
					t.Errorf("error %q has no line and column", e)
				}
			}
			got := err.Error() + "\n"
			if strings.Contains(got, secretValue) || strings.Contains(got, "hunter2") {
				t.Errorf("error text leaks the value of CLIENT_SECRET:\n%s", got)
			}
			checkGolden(t, path, "TestBadConfigs", got)
		})
	}
}

// Every golden file must have its config, so a renamed or deleted case does
// not leave a stale expectation behind.
func TestGoldenFilesHaveConfigs(t *testing.T) {
	goldens, err := filepath.Glob("testdata/bad/*.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		if _, err := os.Stat(strings.TrimSuffix(g, ".golden") + ".yaml"); err != nil {
			t.Errorf("%s has no config: %v", g, err)
		}
	}
}

// The multi-error file must report every problem at once, in file order.
func TestMultipleErrorsTogether(t *testing.T) {
	_, err := config.Load("testdata/bad/multiple_errors.yaml", config.Options{LookupEnv: badEnv})
	var es spec.Errors
	if !errors.As(err, &es) {
		t.Fatalf("want spec.Errors, got %T: %v", err, err)
	}
	want := []struct {
		line int
		msg  string
	}{
		{3, "expected a string, got a list"},
		{6, `expected one of "oldest", "newest", got "latest"`},
		{8, `invalid expression "amount >"`},
		{9, `unknown transform "mapp"`},
		{10, `pipeline "first" writes to its own input topic "orders"`},
		{11, `missing required key "input"`},
		{12, `unknown key "inputs"`},
		{14, `expected a duration such as 100ms or 5s, got "soon"`},
	}
	if len(es) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(es), len(want), err)
	}
	for i, w := range want {
		if es[i].Pos.Line != w.line || !strings.Contains(es[i].Msg, w.msg) {
			t.Errorf("error %d = %q, want line %d and a message containing %q", i, es[i], w.line, w.msg)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load("testdata/does-not-exist.yaml", config.Options{})
	want := "testdata/does-not-exist.yaml: cannot read config: no such file or directory (pass the file with -c/--config)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	var es spec.Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("want one spec.Error, got %T", err)
	}
}

func TestLoadRootExample(t *testing.T) {
	cfg, err := config.Load("../../pipelines.yaml", config.Options{LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.File != "../../pipelines.yaml" {
		t.Errorf("File = %q", cfg.File)
	}
	k := cfg.Kafka
	if !k.IsEmbedded() || k.Brokers != nil {
		t.Errorf("brokers = %q, want the embedded broker", k.Brokers)
	}
	if got := k.Addrs(); !reflect.DeepEqual(got, []string{config.DefaultEmbeddedListen}) {
		t.Errorf("Addrs() = %q", got)
	}
	if k.ClientID != "millrace-quickstart" {
		t.Errorf("ClientID = %q", k.ClientID)
	}
	wantKafka := config.Kafka{
		ClientID: "millrace-quickstart",
		Adapter:  config.AdapterMillrace,
		Embedded: config.Embedded{Listen: "127.0.0.1:9092", DataDir: ".millrace"},
		Topics:   config.Topics{Create: true, Partitions: 3, ReplicationFactor: -1},

		ProducerLinger: time.Millisecond, MaxMessageBytes: config.DefaultMaxMessageBytes, FetchMaxBytes: config.DefaultFetchMaxBytes, FetchMaxPartitionBytes: config.DefaultFetchMaxPartitionBytes,
	}
	if !reflect.DeepEqual(k, wantKafka) {
		t.Errorf("Kafka = %+v, want %+v", k, wantKafka)
	}
	if cfg.Runner.ShutdownTimeout != 30*time.Second {
		t.Errorf("ShutdownTimeout = %v", cfg.Runner.ShutdownTimeout)
	}
	if len(cfg.Pipelines) != 1 {
		t.Fatalf("got %d pipelines", len(cfg.Pipelines))
	}
	p := cfg.Pipelines[0]
	if want := (spec.Pos{File: "../../pipelines.yaml", Line: lineOf(t, "../../pipelines.yaml", "- name: enrich-orders"), Col: 11}); p.Name != "enrich-orders" || p.Pos != want {
		t.Errorf("name %q at %v, want at %v", p.Name, p.Pos, want)
	}
	if want := (config.Input{Topic: "orders", Group: "enrich-orders", Start: "oldest", Ordering: "key", MaxInFlight: config.DefaultMaxInFlight, CommitInterval: 100 * time.Millisecond, MaxCrashes: config.DefaultMaxCrashes, InvalidUTF8: "reject"}); p.Input != want {
		t.Errorf("Input = %+v, want %+v", p.Input, want)
	}
	wantRetry := config.Retry{MaxRetries: 3, InitialInterval: 100 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 2}
	if p.Errors.Retry != wantRetry || p.Errors.DeadLetterTopic != "orders-dlq" {
		t.Errorf("Errors = %+v", p.Errors)
	}
	if p.Timeout != 30*time.Second {
		t.Errorf("Timeout = %v", p.Timeout)
	}
	var names []string
	for i, s := range p.Steps {
		names = append(names, s.Name)
		if s.Index != i || s.Value.Get(s.Name) == nil || s.Value.Get("when") != nil || s.Pos.Line == 0 {
			t.Errorf("step %d: %+v", i, s)
		}
	}
	if want := []string{"filter", "set", "rename", "drop"}; !reflect.DeepEqual(names, want) {
		t.Errorf("steps = %q, want %q", names, want)
	}
	if p.Output.Topic != "orders-enriched" || len(p.Output.Routes) != 1 {
		t.Fatalf("Output = %+v", p.Output)
	}
	if got := p.Output.Topics(); !reflect.DeepEqual(got, []string{"orders-enriched", "orders-de"}) {
		t.Errorf("Topics() = %q", got)
	}
	if route := p.Output.Routes[0]; route.When.Text != `customer.country == "DE"` || route.When.Pos.Line == 0 {
		t.Errorf("route when = %+v", route.When)
	}
	parts := build(t, cfg, p)
	for country, want := range map[string]string{"DE": "orders-de", "FR": "orders-enriched"} {
		r := &transforms.Record{Value: map[string]any{"customer": map[string]any{"country": country}}}
		if got, err := parts.Destination(r); err != nil || got != want {
			t.Errorf("destination for %s = %v, %v; want %v", country, got, err, want)
		}
	}
}

// build makes the parts of p, closed when the test ends.
func build(t *testing.T, cfg *config.Config, p *config.Pipeline) *config.Parts {
	t.Helper()
	parts, err := cfg.Build(p, config.BuildOptions{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() {
		if err := parts.Close(); err != nil {
			t.Error(err)
		}
	})
	return parts
}

// The root config takes its broker and embedded settings from the
// environment when they are set.
func TestLoadRootExampleFromEnv(t *testing.T) {
	cfg, err := config.Load("../../pipelines.yaml", config.Options{LookupEnv: env(map[string]string{
		"MILLRACE_BROKERS":         "k1:9092, k2:9092",
		"MILLRACE_EMBEDDED_LISTEN": "127.0.0.1:19092",
		"MILLRACE_DATA_DIR":        "",
	})})
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.Kafka
	if k.IsEmbedded() || !reflect.DeepEqual(k.Brokers, []string{"k1:9092", "k2:9092"}) || !reflect.DeepEqual(k.Addrs(), k.Brokers) {
		t.Errorf("Brokers = %q", k.Brokers)
	}
	// An empty variable falls back to the default.
	if k.Embedded != (config.Embedded{Listen: "127.0.0.1:19092", DataDir: ".millrace"}) {
		t.Errorf("Embedded = %+v", k.Embedded)
	}
}

// The root config run end to end through its chain, so that the example in the
// README is known to do what it says.
func TestRootExampleChain(t *testing.T) {
	cfg, err := config.Load("../../pipelines.yaml", config.Options{LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	chain := build(t, cfg, cfg.Pipelines[0]).Chain
	in, err := codec.Decode([]byte(`{"amount":12.5,"status":"new","user":"u1","debug":true,"customer":{"email":"A@B.de","country":"DE"}}`))
	if err != nil {
		t.Fatal(err)
	}
	outs, err := chain.Run(t.Context(), &transforms.Record{Value: in})
	if err != nil || len(outs) != 1 {
		t.Fatalf("Run = %v, %v", outs, err)
	}
	got, _ := codec.Encode(outs[0].Value)
	want := `{"amount":12.5,"customer":{"country":"DE","email_hash":"363a175f65786e7799e43a17e3f9f7baa20553a6408901bc04db39da72261fe3"},"status":"new","total_cents":1250,"user_id":"u1"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	test, _ := codec.Decode([]byte(`{"amount":1,"status":"test"}`))
	if outs, err := chain.Run(t.Context(), &transforms.Record{Value: test}); err != nil || len(outs) != 0 {
		t.Errorf("test traffic: got %v, %v; want it dropped", outs, err)
	}
}

// lineOf returns the line number of the first line of file containing s.
func lineOf(t *testing.T, file, s string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, s)
	return 0
}

func parse(t *testing.T, yaml string, vars map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml), config.Options{LookupEnv: env(vars)})
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return cfg
}

func parseErr(t *testing.T, yaml string, vars map[string]string) string {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml), config.Options{LookupEnv: env(vars)})
	if err == nil {
		t.Fatalf("Parse succeeded: %+v", cfg)
	}
	return err.Error()
}

const minimal = `
version: 1
pipelines:
  - name: p
    input: {topic: in}
    output: {topic: out}
`

func TestDefaults(t *testing.T) {
	cfg := parse(t, minimal, nil)
	if !cfg.Kafka.IsEmbedded() || cfg.Kafka.ClientID != "millrace" {
		t.Errorf("Kafka = %+v", cfg.Kafka)
	}
	p := cfg.Pipelines[0]
	want := config.Pipeline{
		Name:    "p",
		Pos:     spec.Pos{File: "test.yaml", Line: 4, Col: 11},
		Input:   config.Input{Topic: "in", Group: "p", Start: "oldest", Ordering: "key", MaxInFlight: config.DefaultMaxInFlight, CommitInterval: 100 * time.Millisecond, MaxCrashes: config.DefaultMaxCrashes, InvalidUTF8: "reject"},
		Output:  config.Output{Topic: "out"},
		Errors:  config.Errors{Retry: config.Retry{MaxRetries: 3, InitialInterval: 100 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 2}},
		Timeout: 30 * time.Second,
	}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("got  %+v\nwant %+v", *p, want)
	}
}

func TestExplicitValues(t *testing.T) {
	cfg := parse(t, `
version: 1
kafka:
  brokers: [k1:9092, k2:9092]
  client_id: me
  embedded: {listen: "127.0.0.1:19092", data_dir: /tmp/mr}
  topics: {create: false, partitions: 6, replication_factor: 3}
runner: {shutdown_timeout: 1m}
pipelines:
  - name: p.v2_x-y
    input: {topic: in, group: g, start: newest}
    output: {topic: out}
    errors:
      retry: {max_retries: 0, initial_interval: 1s, max_interval: 1m, multiplier: 1.5}
    timeout: 250ms
`, nil)
	want := config.Kafka{
		Brokers:  []string{"k1:9092", "k2:9092"},
		ClientID: "me",
		Adapter:  config.AdapterMillrace,
		Embedded: config.Embedded{Listen: "127.0.0.1:19092", DataDir: "/tmp/mr"},
		Topics:   config.Topics{Create: false, Partitions: 6, ReplicationFactor: 3},

		ProducerLinger: time.Millisecond, MaxMessageBytes: config.DefaultMaxMessageBytes, FetchMaxBytes: config.DefaultFetchMaxBytes, FetchMaxPartitionBytes: config.DefaultFetchMaxPartitionBytes,
	}
	if !reflect.DeepEqual(cfg.Kafka, want) {
		t.Errorf("Kafka = %+v", cfg.Kafka)
	}
	if cfg.Runner.ShutdownTimeout != time.Minute {
		t.Errorf("ShutdownTimeout = %v", cfg.Runner.ShutdownTimeout)
	}
	p := cfg.Pipelines[0]
	if p.Name != "p.v2_x-y" || p.Input != (config.Input{Topic: "in", Group: "g", Start: "newest", Ordering: "key", MaxInFlight: config.DefaultMaxInFlight, CommitInterval: 100 * time.Millisecond, MaxCrashes: config.DefaultMaxCrashes, InvalidUTF8: "reject"}) {
		t.Errorf("pipeline %q input %+v", p.Name, p.Input)
	}
	if want := (config.Retry{MaxRetries: 0, InitialInterval: time.Second, MaxInterval: time.Minute, Multiplier: 1.5}); p.Errors.Retry != want {
		t.Errorf("Retry = %+v", p.Errors.Retry)
	}
	if p.Timeout != 250*time.Millisecond {
		t.Errorf("Timeout = %v", p.Timeout)
	}
}

func TestBrokerForms(t *testing.T) {
	for _, tc := range []struct {
		brokers string
		want    []string
	}{
		{`embedded`, nil},
		{`[embedded]`, nil},
		{`"a:1,b:2"`, []string{"a:1", "b:2"}},
		{`" a:1 , ,b:2 "`, []string{"a:1", "b:2"}},
		{`[a:1, b:2]`, []string{"a:1", "b:2"}},
		{`localhost:9092`, []string{"localhost:9092"}},
		{`${BROKERS}`, []string{"x:1", "y:2"}},
		{`${UNSET:-embedded}`, nil},
	} {
		t.Run(tc.brokers, func(t *testing.T) {
			cfg := parse(t, "version: 1\nkafka:\n  brokers: "+tc.brokers+minimal[len("\nversion: 1"):], map[string]string{"BROKERS": "x:1,y:2"})
			if !reflect.DeepEqual(cfg.Kafka.Brokers, tc.want) {
				t.Errorf("Brokers = %q, want %q", cfg.Kafka.Brokers, tc.want)
			}
			if cfg.Kafka.IsEmbedded() != (tc.want == nil) {
				t.Errorf("IsEmbedded = %v", cfg.Kafka.IsEmbedded())
			}
		})
	}
}

func TestSplitAndNormalizeBrokers(t *testing.T) {
	if got := config.SplitBrokers(""); got != nil {
		t.Errorf("SplitBrokers(\"\") = %q", got)
	}
	if got := config.SplitBrokers("a:1, b:2,"); !reflect.DeepEqual(got, []string{"a:1", "b:2"}) {
		t.Errorf("SplitBrokers = %q", got)
	}
	if got := config.NormalizeBrokers([]string{"embedded"}); got != nil {
		t.Errorf("NormalizeBrokers([embedded]) = %q", got)
	}
	if got := config.NormalizeBrokers([]string{"embedded", "a:1"}); len(got) != 2 {
		t.Errorf("NormalizeBrokers keeps a real list: %q", got)
	}
}

func TestInterpolation(t *testing.T) {
	vars := map[string]string{
		"IN":      "orders",
		"N":       "5",
		"MULT":    "1.5",
		"CREATE":  "false",
		"EMPTY":   "",
		"TIMEOUT": "2s",
	}
	cfg := parse(t, `
version: 1
kafka:
  client_id: app-${IN}-${UNSET:-x}
  topics:
    create: ${CREATE}
pipelines:
  - name: p
    input: {topic: "${IN}", group: "${EMPTY:-fallback}"}
    output: {topic: '${IN}-out'}
    errors:
      retry:
        max_retries: ${N}
        multiplier: ${MULT}
        initial_interval: ${UNSET_TOO:-250ms}
      dead_letter_topic: $${IN}-dlq
    timeout: ${TIMEOUT}
`, vars)
	if cfg.Kafka.ClientID != "app-orders-x" {
		t.Errorf("ClientID = %q", cfg.Kafka.ClientID)
	}
	if cfg.Kafka.Topics.Create {
		t.Errorf("topics.create from env \"false\" should be false")
	}
	p := cfg.Pipelines[0]
	if p.Input.Topic != "orders" || p.Input.Group != "fallback" {
		t.Errorf("Input = %+v", p.Input)
	}
	if p.Output.Topic != "orders-out" {
		t.Errorf("Output.Topic = %q", p.Output.Topic)
	}
	if r := p.Errors.Retry; r.MaxRetries != 5 || r.Multiplier != 1.5 || r.InitialInterval != 250*time.Millisecond {
		t.Errorf("Retry = %+v", r)
	}
	if p.Errors.DeadLetterTopic != "${IN}-dlq" {
		t.Errorf("$${ escape: DeadLetterTopic = %q", p.Errors.DeadLetterTopic)
	}
	if p.Timeout != 2*time.Second {
		t.Errorf("Timeout = %v", p.Timeout)
	}
}

// A set but empty variable is used as is when there is no default.
func TestInterpolationEmptyValue(t *testing.T) {
	cfg := parse(t, `
version: 1
kafka: {client_id: "id${EMPTY}"}
pipelines:
  - {name: p, input: {topic: in}, output: {topic: out}}
`, map[string]string{"EMPTY": ""})
	if cfg.Kafka.ClientID != "id" {
		t.Errorf("ClientID = %q", cfg.Kafka.ClientID)
	}
}

// A quoted ${N} stays a string, so it cannot be used where a number is
// expected, and the message must not show the value.
func TestInterpolatedValueNotPrinted(t *testing.T) {
	const secret = "Sup3r-S3cret-Value"
	got := parseErr(t, `
version: 1
pipelines:
  - name: p
    input:
      topic: in
      start: ${TOKEN}
    output: {topic: out}
    errors:
      retry:
        max_retries: ${TOKEN}
        initial_interval: "${TOKEN}"
`, map[string]string{"TOKEN": secret})
	want := `test.yaml:7:14: expected one of "oldest", "newest"
test.yaml:11:22: expected an integer, got a string
test.yaml:12:27: expected a duration such as 100ms or 5s (use a number with a unit: ms, s, m or h)`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, secret) {
		t.Errorf("secret leaked: %s", got)
	}
}

// A secret that breaks an expression must not appear either.
func TestSecretInExpressionNotPrinted(t *testing.T) {
	const secret = "amount >>> 0 // hunter2"
	got := parseErr(t, `
version: 1
pipelines:
  - name: p
    input: {topic: in}
    transforms:
      - filter: ${COND}
    output: {topic: out}
`, map[string]string{"COND": secret})
	if strings.Contains(got, "hunter2") || !strings.HasPrefix(got, "test.yaml:7:17: invalid expression") {
		t.Errorf("got %s", got)
	}
}

func TestCustomRegistry(t *testing.T) {
	reg := transforms.NewRegistry()
	reg.Register(transforms.Spec{
		Name:    "tag",
		Summary: "Adds a tag.",
		Config:  spec.String("The tag."),
	}, func(b *transforms.Build) (transforms.Transform, error) {
		tag := b.Config.Text
		return transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
			r.Headers.Set("tag", tag)
			return []*transforms.Record{r}, nil
		}), nil
	})
	yaml := `
version: 1
pipelines:
  - name: p
    input: {topic: in}
    transforms:
      - tag: blue
    output: {topic: out}
`
	cfg, err := config.Parse("test.yaml", []byte(yaml), config.Options{Registry: reg, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	r := &transforms.Record{Value: map[string]any{}}
	if _, err := build(t, cfg, cfg.Pipelines[0]).Chain.Run(t.Context(), r); err != nil || r.Headers.Map()["tag"] != "blue" {
		t.Errorf("Run: %v, headers %v", err, r.Headers)
	}
	// The default registry does not know the custom transform.
	_, err = config.Parse("test.yaml", []byte(yaml), config.Options{LookupEnv: env(nil)})
	if err == nil || !strings.Contains(err.Error(), `test.yaml:7:9: unknown transform "tag"`) {
		t.Errorf("default registry: %v", err)
	}
}

// The commit interval and the producer's linger are read from the config;
// absent, they are the documented defaults.
func TestCommitIntervalAndLinger(t *testing.T) {
	cfg := parse(t, `
version: 1
kafka: {producer: {linger: 5ms}}
pipelines:
  - name: p
    input: {topic: in, commit_interval: 250ms}
    output: {topic: out}
`, nil)
	if cfg.Kafka.ProducerLinger != 5*time.Millisecond || cfg.Pipelines[0].Input.CommitInterval != 250*time.Millisecond {
		t.Errorf("linger %v, commit interval %v", cfg.Kafka.ProducerLinger, cfg.Pipelines[0].Input.CommitInterval)
	}
	def := parse(t, minimal, nil)
	if def.Kafka.ProducerLinger != time.Millisecond || def.Pipelines[0].Input.CommitInterval != 100*time.Millisecond {
		t.Errorf("defaults: linger %v, commit interval %v", def.Kafka.ProducerLinger, def.Pipelines[0].Input.CommitInterval)
	}
}

// TestFlowConfigs loads every config in testdata/flow, all valid and
// written in YAML's flow style ({...}, [...]), and compares what was read
// with the file's .golden twin. Run with -update to rewrite the golden
// files.
func TestFlowConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/flow/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no flow configs: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			cfg, err := config.Load(path, config.Options{LookupEnv: env(nil)})
			if err != nil {
				t.Fatal(err)
			}
			got := summary(cfg)
			checkGolden(t, path, "TestFlowConfigs", got)
		})
	}
}

// checkGolden compares got with the .golden twin of the config at path,
// or rewrites it with -update.
func checkGolden(t *testing.T, path, test, got string) {
	t.Helper()
	golden := strings.TrimSuffix(path, ".yaml") + ".golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, test)
	}
	if got != string(want) {
		t.Errorf("differs from %s\n--- got:\n%s--- want:\n%s", golden, got, want)
	}
}

// summary is what a loaded config says, one line a setting, with the
// position of each pipeline and step.
func summary(cfg *config.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "brokers: %q\nclient_id: %s\ntopics: %+v\nshutdown_timeout: %v\n", cfg.Kafka.Brokers, cfg.Kafka.ClientID, cfg.Kafka.Topics, cfg.Runner.ShutdownTimeout)
	for _, p := range cfg.Pipelines {
		fmt.Fprintf(&b, "pipeline %s at %d:%d: input %+v\n", p.Name, p.Pos.Line, p.Pos.Col, p.Input)
		for _, s := range p.Steps {
			fmt.Fprintf(&b, "  step %d %s at %d:%d: %v\n", s.Index, s.Name, s.Pos.Line, s.Pos.Col, s.Value.Plain())
		}
		fmt.Fprintf(&b, "  output %s", p.Output.Topic)
		for _, r := range p.Output.Routes {
			fmt.Fprintf(&b, ", %s when %q at %d:%d", r.Topic, r.When.Text, r.When.Pos.Line, r.When.Pos.Col)
		}
		fmt.Fprintf(&b, "\n  errors %+v\n", p.Errors)
	}
	return b.String()
}

func TestMaxCrashes(t *testing.T) {
	cfg := parse(t, `
version: 1
pipelines:
  - name: p
    input: {topic: in, max_crashes: 0}
    output: {topic: out}
`, nil)
	if got := cfg.Pipelines[0].Input.MaxCrashes; got != 0 {
		t.Errorf("max_crashes 0 read as %d", got)
	}
	if got := parse(t, minimal, nil).Pipelines[0].Input.MaxCrashes; got != 3 {
		t.Errorf("default max_crashes %d, want 3", got)
	}
}
