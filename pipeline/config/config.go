// Package config loads and validates pipelines.yaml. Every error names its
// file, line and column; all errors of a file are reported in one go.
//
// A loaded Config is plain data: what the file says, with positions, and
// never changed afterwards. Config.Build makes the running parts of a
// pipeline from it (transform instances, compiled expressions), new ones
// for each run, replay or config test case.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/millrace-dev/millrace/internal/readfile"
	"github.com/millrace-dev/millrace/transforms"
	// The built-in transforms register in transforms.Default: every program
	// that loads a config has them.
	_ "github.com/millrace-dev/millrace/transforms/builtin"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// Config is a loaded, valid configuration.
type Config struct {
	File      string
	Kafka     Kafka
	Runner    Runner
	Admin     Admin
	Pipelines []*Pipeline

	root       *spec.Value          // the whole file, for the fingerprints
	testsValue *spec.Value          // the `tests:` section, read by LoadTests
	reg        *transforms.Registry // what the steps' names were checked against, for Build
}

// Kafka says where the brokers are.
type Kafka struct {
	// Brokers are the bootstrap addresses; empty means the embedded broker.
	Brokers  []string
	ClientID string
	// Adapter is AdapterMillrace or AdapterWatermillKafka.
	Adapter  string
	Embedded Embedded
	Topics   Topics
	// ProducerLinger is kafka.producer.linger.
	ProducerLinger time.Duration
	// MaxMessageBytes is kafka.producer.max_message_bytes.
	MaxMessageBytes int
	// FetchMaxBytes and FetchMaxPartitionBytes are kafka.consumer's.
	FetchMaxBytes          int
	FetchMaxPartitionBytes int
	// TLS and SASL secure every client; zero values mean plaintext
	// without authentication.
	TLS  TLS
	SASL SASL
}

// IsEmbedded reports whether the in-process broker is to be used.
func (k Kafka) IsEmbedded() bool { return len(k.Brokers) == 0 }

// Addrs returns the addresses clients dial: the brokers, or the embedded
// broker's listen address.
func (k Kafka) Addrs() []string {
	if k.IsEmbedded() {
		return []string{k.Embedded.Listen}
	}
	return k.Brokers
}

// Embedded configures the in-process broker.
type Embedded struct {
	Listen  string
	DataDir string
}

// Topics says how missing topics are created.
type Topics struct {
	Create            bool
	Partitions        int
	ReplicationFactor int
}

// Runner holds process-wide settings.
type Runner struct {
	ShutdownTimeout time.Duration
	// LogPayloads adds record values to the log lines of failed records.
	LogPayloads bool
}

// Admin configures the admin HTTP server.
type Admin struct {
	// Address is host:port, or AdminOff.
	Address string
	// AddressSet reports that Address was configured, not the default: a
	// configured address that cannot be bound is an error, the default one
	// only a warning.
	AddressSet   bool
	Pprof        bool
	PollInterval time.Duration
	// CertFile and KeyFile, when set, make the server speak HTTPS.
	CertFile, KeyFile string
	// BearerToken and the basic-auth User and Password, when set, are the
	// credentials every path but /healthz and /readyz requires.
	BearerToken    string
	User, Password string
	// AllowedHosts are Host header names accepted besides the listen
	// address (and localhost on a loopback address); "*" accepts any.
	AllowedHosts []string
}

// Enabled reports whether the admin server is to run.
func (a Admin) Enabled() bool { return a.Address != AdminOff && a.Address != "" }

// Pipeline is one consume → transform → produce pipeline.
type Pipeline struct {
	Name  string
	Pos   spec.Pos
	Input Input
	// Steps are the transform steps as written, in order; Config.Build
	// makes a chain of them.
	Steps   []Step
	Output  Output
	Errors  Errors
	Timeout time.Duration
	// FromEnv holds the config paths, relative to the pipeline, of the
	// names that came from the environment (${VAR}): "name", "input.topic",
	// "input.group", "output.topic", "output.routes[N].topic" and
	// "errors.dead_letter_topic". The admin server and metric labels do not
	// show these values.
	FromEnv map[string]bool
}

// Input is the consumed topic.
type Input struct {
	Topic string
	Group string
	Start string // "oldest" or "newest"
	// Ordering is "key", "partition" or "none".
	Ordering    string
	MaxInFlight int
	// CommitInterval is the least time between two commits.
	CommitInterval time.Duration
	// MaxCrashes is how many times in a row the runner may die with the
	// record at the committed offset in flight before that record is
	// dead-lettered unprocessed; 0 is off.
	MaxCrashes int
	// InvalidUTF8 is "reject" or "replace".
	InvalidUTF8 string
	// RateLimit is input.rate_limit in records per second; 0 is off.
	// RateBurst is input.rate_burst, defaulted (RateLimit/20, at least 1).
	RateLimit float64
	RateBurst int
}

// Step is one transform step of a pipeline, as written.
type Step struct {
	Name  string   // the transform, such as "filter"
	Index int      // position in the chain, from 0
	Pos   spec.Pos // of the transform's key
	// Value is the whole step: the transform's key with its config, and
	// `when`.
	Value *spec.Value
}

// Output is where records go.
type Output struct {
	Topic  string
	Routes []Route
	// AllowedTopics are the names or patterns (path.Match: *, ?, [a-z])
	// a topic computed from a record may be; nil allows the topics the
	// config names (Parts.Allows).
	AllowedTopics []string
}

// Route sends records matching When to Topic.
type Route struct {
	// When is the condition as written: an expression and its position.
	When  *spec.Value
	Topic string
}

// Topics lists every topic the output may write, default first.
func (o Output) Topics() []string {
	ts := []string{o.Topic}
	for _, r := range o.Routes {
		ts = append(ts, r.Topic)
	}
	return ts
}

// Errors configures retries and the dead-letter topic.
type Errors struct {
	Retry           Retry
	DeadLetterTopic string
	// Budget is errors.budget; nil without one.
	Budget *Budget
}

// Budget is an error budget: the pipeline pauses when more than MaxRatio
// of the records finished within Window were dead-lettered, once at least
// MinRecords finished in it.
type Budget struct {
	MaxRatio   float64
	Window     time.Duration
	MinRecords int
}

// Retry configures exponential backoff.
type Retry struct {
	MaxRetries      int
	InitialInterval time.Duration
	MaxInterval     time.Duration
	Multiplier      float64
}

// Options tune loading.
type Options struct {
	// Registry resolves transform names; nil means transforms.Default.
	Registry *transforms.Registry
	// LookupEnv resolves ${VAR}; nil means os.LookupEnv.
	LookupEnv spec.LookupEnv
}

// MaxConfigSize bounds a config file and its *_test.yaml file. A config of
// 1000 pipelines (MaxPipelines) written out in full takes about 200 KiB;
// 4 MiB leaves room for long expressions, inline schemas and tests, while
// parsing it stays near a second and 300 MB of allocations. Without a
// bound a large or endless input (-c /dev/zero) was read until memory ran
// out.
const MaxConfigSize = 4 << 20

// MaxPipelines bounds the pipelines of one config. Each runs its own
// consumer group, producer and goroutines; a thousand is more than one
// process should run, and a config of more is a mistake or an attack (a
// 50 MB file of 423,000 pipelines took 4 GB to load).
const MaxPipelines = 1000

// Load reads and validates a config file. The error, if any, is spec.Errors.
func Load(path string, opts Options) (*Config, error) {
	data, err := readfile.Read(path, MaxConfigSize)
	if err != nil {
		return nil, spec.Errors{{Pos: spec.Pos{File: path}, Msg: "cannot read config: " + err.Error(),
			Hint: "pass the file with -c/--config"}}
	}
	return Parse(path, data, opts)
}

// Parse validates config text; file names it in errors.
func Parse(file string, data []byte, opts Options) (*Config, error) {
	if opts.Registry == nil {
		opts.Registry = transforms.Default
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if len(data) > MaxConfigSize {
		return nil, spec.Errors{{Pos: spec.Pos{File: file}, Msg: "the config is larger than " + readfile.Size(MaxConfigSize), Hint: "split it: one runner per file"}}
	}
	root, errs := spec.ParseYAML(file, data, opts.LookupEnv)
	if root == nil {
		return nil, errs.Err()
	}
	if ps := root.Get("pipelines"); ps != nil && len(ps.Items) > MaxPipelines {
		// Checking them all would take long for nothing.
		e := ps.Items[MaxPipelines].Errorf("more than %d pipelines (%d)", MaxPipelines, len(ps.Items)).WithHint("split the config: one runner per file")
		return nil, append(errs, e).Err()
	}
	hideSecrets(root)
	if root.Kind == spec.KindNull {
		return nil, append(errs, root.Errorf("the config is empty").WithHint("start with `version: 1` and a `pipelines:` list")).Err()
	}
	errs = append(errs, spec.Validate(root, Schema)...)
	if root.Kind != spec.KindMap {
		return nil, errs.Err()
	}
	b := builder{cfg: &Config{File: file, reg: opts.Registry}, errs: errs}
	cfg := b.build(root)
	if err := b.errs.Err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

type builder struct {
	cfg  *Config // what is read so far
	errs spec.Errors
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func (b *builder) build(root *spec.Value) *Config {
	cfg := b.cfg
	cfg.root = root
	cfg.testsValue = root.Get("tests")
	if v := root.Get("version"); v != nil && v.Kind == spec.KindInt && v.Int() != 1 {
		shown := v.Text
		if v.Secret {
			shown = "(value from the environment)"
		}
		b.errs = append(b.errs, v.Errorf("unsupported config version %s", shown).WithHint("this runner reads version 1"))
	}
	cfg.Kafka = b.kafka(root.Get("kafka"))
	cfg.Runner.ShutdownTimeout = durationOr(root.Get("runner").Get("shutdown_timeout"), DefaultShutdownTimeout)
	cfg.Runner.LogPayloads = boolOr(root.Get("runner").Get("log_payloads"), false)
	cfg.Admin = b.admin(root.Get("admin"))
	seen := map[string]*spec.Value{}
	if list := root.Get("pipelines"); list != nil && list.Kind == spec.KindList {
		for _, pv := range list.Items {
			if pv.Kind != spec.KindMap {
				continue
			}
			p := b.pipeline(pv)
			if p == nil {
				continue
			}
			if first, dup := seen[p.Name]; dup {
				b.errs = append(b.errs, pv.Get("name").Errorf("duplicate pipeline name %s, first defined at %s", show(p.Name, first, pv.Get("name")), first.Pos).WithHint("give each pipeline a unique name"))
			}
			seen[p.Name] = pv.Get("name")
			cfg.Pipelines = append(cfg.Pipelines, p)
		}
	}
	return cfg
}

func (b *builder) admin(v *spec.Value) Admin {
	a := Admin{
		Address:      stringOr(v.Get("address"), DefaultAdminAddress),
		Pprof:        boolOr(v.Get("pprof"), false),
		PollInterval: durationOr(v.Get("poll_interval"), DefaultPollInterval),
	}
	if av := v.Get("address"); av != nil && av.IsScalar() {
		a.AddressSet = true
		if err := CheckAdminAddress(a.Address); err != nil && !av.Failed {
			e := av.Errorf("admin.address %s: %v", show(a.Address, av), err)
			b.errs = append(b.errs, e.WithHint("use host:port such as 127.0.0.1:9469, or off"))
		}
	}
	if pv := v.Get("poll_interval"); pv != nil && a.PollInterval < 100*time.Millisecond {
		b.errs = append(b.errs, pv.Errorf("poll_interval must be at least 100ms"))
	}
	if tv := v.Get("tls"); tv != nil {
		a.CertFile, a.KeyFile = b.regularFile(tv.Get("cert_file")), b.regularFile(tv.Get("key_file"))
	}
	if av := v.Get("auth"); av != nil {
		a.BearerToken = stringOr(av.Get("bearer_token"), "")
		a.User = stringOr(av.Get("basic").Get("username"), "")
		a.Password = stringOr(av.Get("basic").Get("password"), "")
		if tv := av.Get("bearer_token"); tv != nil && tv.IsScalar() && !tv.Failed && a.BearerToken == "" {
			b.errs = append(b.errs, tv.Errorf("admin.auth.bearer_token is empty").WithHint("set the token, or leave the key out"))
		}
		if pv := av.Get("basic").Get("password"); pv != nil && pv.IsScalar() && !pv.Failed && a.Password == "" {
			b.errs = append(b.errs, pv.Errorf("admin.auth.basic.password is empty").WithHint("set the password, or leave basic out"))
		}
		if av.Kind == spec.KindMap && len(av.Entries) == 0 {
			b.errs = append(b.errs, av.Errorf("admin.auth gives no credentials").WithHint("set bearer_token or basic"))
		}
	}
	if hv := v.Get("allowed_hosts"); hv != nil {
		a.AllowedHosts = hv.Strings()
	}
	return a
}

// regularFile is the path in v, checked to name a regular file that can be
// read; "" when v is absent or failed.
func (b *builder) regularFile(v *spec.Value) string {
	if v == nil || !v.IsScalar() || v.Failed {
		return ""
	}
	path := v.Text
	if !filepath.IsAbs(path) && b.cfg.File != "" {
		path = filepath.Join(filepath.Dir(b.cfg.File), path)
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		b.errs = append(b.errs, v.Errorf("cannot read %s: %v", show(v.Text, v), errors.Unwrap(err)).WithHint("give the path of a PEM file, relative to the config file or absolute"))
	case !st.Mode().IsRegular():
		b.errs = append(b.errs, v.Errorf("%s is not a regular file", show(v.Text, v)))
	}
	return path
}

// CheckAdminAddress checks an admin server address: host:port, or off.
func CheckAdminAddress(addr string) error {
	if addr == AdminOff {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("is not host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("has no valid port")
	}
	return nil
}

func (b *builder) kafka(v *spec.Value) Kafka {
	k := Kafka{
		ClientID: stringOr(v.Get("client_id"), DefaultClientID),
		Adapter:  stringOr(v.Get("adapter"), AdapterMillrace),
		Embedded: Embedded{
			Listen:  stringOr(v.Get("embedded").Get("listen"), DefaultEmbeddedListen),
			DataDir: stringOr(v.Get("embedded").Get("data_dir"), DefaultDataDir),
		},
		ProducerLinger:         durationOr(v.Get("producer").Get("linger"), DefaultProducerLinger),
		MaxMessageBytes:        intOr(v.Get("producer").Get("max_message_bytes"), DefaultMaxMessageBytes),
		FetchMaxBytes:          intOr(v.Get("consumer").Get("fetch_max_bytes"), DefaultFetchMaxBytes),
		FetchMaxPartitionBytes: intOr(v.Get("consumer").Get("fetch_max_partition_bytes"), DefaultFetchMaxPartitionBytes),
		Topics: Topics{
			Create:            boolOr(v.Get("topics").Get("create"), true),
			Partitions:        intOr(v.Get("topics").Get("partitions"), DefaultPartitions),
			ReplicationFactor: intOr(v.Get("topics").Get("replication_factor"), -1),
		},
	}
	if bv := v.Get("brokers"); bv != nil {
		var brokers []string
		switch bv.Kind {
		case spec.KindList:
			brokers = bv.Strings()
		case spec.KindString:
			brokers = SplitBrokers(bv.Text)
		}
		k.Brokers = NormalizeBrokers(brokers)
	}
	if k.Topics.Partitions < 1 {
		b.errs = append(b.errs, v.Get("topics").Get("partitions").Errorf("partitions must be at least 1"))
	}
	// Below a kilobyte a record's headers alone (a dead letter's) may not
	// fit; franz-go's requests take at most 2 GiB.
	for _, f := range []struct {
		v   *spec.Value
		n   int
		min int
	}{
		{v.Get("producer").Get("max_message_bytes"), k.MaxMessageBytes, 1024},
		{v.Get("consumer").Get("fetch_max_bytes"), k.FetchMaxBytes, 1024},
		{v.Get("consumer").Get("fetch_max_partition_bytes"), k.FetchMaxPartitionBytes, 1024},
	} {
		if f.v != nil && (f.n < f.min || f.n > 1<<30) {
			b.errs = append(b.errs, f.v.Errorf("must be between %d and %d bytes", f.min, 1<<30))
		}
	}
	b.security(v, &k)
	return k
}

// SplitBrokers splits a comma-separated broker list.
func SplitBrokers(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// NormalizeBrokers maps [embedded] (or nothing) to the empty list that means
// the in-process broker.
func NormalizeBrokers(bs []string) []string {
	if len(bs) == 1 && bs[0] == EmbeddedBroker {
		return nil
	}
	return bs
}

func (b *builder) pipeline(v *spec.Value) *Pipeline {
	nameV := v.Get("name")
	if nameV == nil || !nameV.IsScalar() {
		return nil
	}
	p := &Pipeline{Name: nameV.Text, Pos: nameV.Pos}
	if !nameV.Failed && !namePattern.MatchString(p.Name) {
		b.errs = append(b.errs, nameV.Errorf("invalid pipeline name %s", show(p.Name, nameV)).WithHint("use letters, digits, '.', '_' and '-'"))
	}
	in := v.Get("input")
	p.Input = Input{
		Topic:          stringOr(in.Get("topic"), ""),
		Group:          stringOr(in.Get("group"), p.Name),
		Start:          stringOr(in.Get("start"), "oldest"),
		Ordering:       stringOr(in.Get("ordering"), "key"),
		MaxInFlight:    intOr(in.Get("max_in_flight"), DefaultMaxInFlight),
		CommitInterval: durationOr(in.Get("commit_interval"), DefaultCommitInterval),
		MaxCrashes:     intOr(in.Get("max_crashes"), DefaultMaxCrashes),
		InvalidUTF8:    stringOr(in.Get("invalid_utf8"), "reject"),
	}
	if mv := in.Get("max_crashes"); mv != nil && p.Input.MaxCrashes < 0 {
		b.errs = append(b.errs, mv.Errorf("max_crashes must be 0 (off) or more"))
	}
	if mv := in.Get("max_in_flight"); mv != nil && p.Input.MaxInFlight < 1 {
		b.errs = append(b.errs, mv.Errorf("max_in_flight must be at least 1"))
	}
	b.rateLimit(p, in)
	out := v.Get("output")
	p.Output.Topic = stringOr(out.Get("topic"), "")
	if routes := out.Get("routes"); routes != nil && routes.Kind == spec.KindList {
		for _, rv := range routes.Items {
			w, t := rv.Get("when"), rv.Get("topic")
			if w == nil || t == nil || !w.IsScalar() {
				continue
			}
			p.Output.Routes = append(p.Output.Routes, Route{When: w, Topic: t.Text})
		}
	}
	if av := out.Get("allowed_topics"); av != nil && av.Kind == spec.KindList {
		p.Output.AllowedTopics = []string{}
		for _, it := range av.Items {
			if _, err := path.Match(it.Text, ""); err != nil {
				b.errs = append(b.errs, it.Errorf("invalid topic pattern %s: %v", show(it.Text, it), err).WithHint("* matches any characters, ? one, [a-z] a range"))
				continue
			}
			p.Output.AllowedTopics = append(p.Output.AllowedTopics, it.Text)
		}
		b.checkAllowed(p, out)
	}
	b.checkParts(p, v.Get("transforms"))
	ev := v.Get("errors")
	rv := ev.Get("retry")
	p.Errors = Errors{
		DeadLetterTopic: stringOr(ev.Get("dead_letter_topic"), ""),
		Retry: Retry{
			MaxRetries:      intOr(rv.Get("max_retries"), DefaultMaxRetries),
			InitialInterval: durationOr(rv.Get("initial_interval"), DefaultInitialInterval),
			MaxInterval:     durationOr(rv.Get("max_interval"), DefaultMaxInterval),
			Multiplier:      floatOr(rv.Get("multiplier"), DefaultMultiplier),
		},
	}
	if n := rv.Get("max_retries"); n != nil && p.Errors.Retry.MaxRetries < 0 {
		b.errs = append(b.errs, n.Errorf("max_retries must not be negative"))
	}
	p.Errors.Budget = b.budget(ev.Get("budget"), ev.Get("dead_letter_topic"))
	p.Timeout = durationOr(v.Get("timeout"), DefaultTimeout)
	p.FromEnv = fromEnv(v)
	b.checkLoops(p, v)
	return p
}

// checkAllowed wants the output topics a config names to be allowed when
// output.allowed_topics is given.
func (b *builder) checkAllowed(p *Pipeline, out *spec.Value) {
	check := func(t *spec.Value) {
		if t != nil && t.IsScalar() && !t.Failed && !allowedBy(p.Output.AllowedTopics, t.Text) {
			b.errs = append(b.errs, t.Errorf("topic %s is not in output.allowed_topics", show(t.Text, t)).WithHint("add it to output.allowed_topics"))
		}
	}
	check(out.Get("topic"))
	if routes := out.Get("routes"); routes != nil && routes.Kind == spec.KindList {
		for _, rv := range routes.Items {
			check(rv.Get("topic"))
		}
	}
}

// allowedBy reports whether topic matches one of the patterns.
func allowedBy(patterns []string, topic string) bool {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, topic); ok {
			return true
		}
	}
	return false
}

// checkParts builds the pipeline's parts once, as Build will, to report
// what does not build, and takes the descriptions of the steps from the
// chain; then it closes what it built.
func (b *builder) checkParts(p *Pipeline, steps *spec.Value) {
	parts, errs := b.cfg.build(p, steps, BuildOptions{})
	b.errs = append(b.errs, errs...)
	if parts.Chain != nil {
		for _, s := range parts.Chain.Steps {
			p.Steps = append(p.Steps, Step{Name: s.Name, Index: s.Index, Pos: s.Pos, Value: steps.Items[s.Index]})
		}
	}
	parts.Close() // nothing of it runs: an error closing it is no config error
}

// fromEnv lists the names of pipeline v that came from the environment.
func fromEnv(v *spec.Value) map[string]bool {
	var secret map[string]bool
	mark := func(path string, sv *spec.Value) {
		if sv != nil && sv.Secret {
			if secret == nil {
				secret = map[string]bool{}
			}
			secret[path] = true
		}
	}
	mark("name", v.Get("name"))
	mark("input.topic", v.Get("input").Get("topic"))
	if g := v.Get("input").Get("group"); g != nil {
		mark("input.group", g)
	} else if secret["name"] {
		secret["input.group"] = true // the group defaults to the name
	}
	mark("output.topic", v.Get("output").Get("topic"))
	if routes := v.Get("output").Get("routes"); routes != nil && routes.Kind == spec.KindList {
		for i, rv := range routes.Items {
			mark(fmt.Sprintf("output.routes[%d].topic", i), rv.Get("topic"))
		}
	}
	mark("errors.dead_letter_topic", v.Get("errors").Get("dead_letter_topic"))
	return secret
}

// checkLoops rejects a pipeline that would feed itself.
func (b *builder) checkLoops(p *Pipeline, v *spec.Value) {
	if p.Input.Topic == "" {
		return
	}
	out := v.Get("output")
	name, in := show(p.Name, v.Get("name")), v.Get("input").Get("topic")
	if t := out.Get("topic"); p.Output.Topic == p.Input.Topic {
		b.errs = append(b.errs, t.Errorf("pipeline %s writes to its own input topic %s", name, show(p.Input.Topic, in, t)).WithHint("choose another output topic"))
	}
	if routes := out.Get("routes"); routes != nil {
		for _, rv := range routes.Items {
			if t := rv.Get("topic"); t != nil && t.Text == p.Input.Topic {
				b.errs = append(b.errs, t.Errorf("pipeline %s routes to its own input topic %s", name, show(p.Input.Topic, in, t)).WithHint("choose another topic"))
			}
		}
	}
	if p.Errors.DeadLetterTopic == p.Input.Topic {
		dv := v.Get("errors").Get("dead_letter_topic")
		hint := "use a separate topic such as " + p.Input.Topic + "-dlq"
		if in.Secret || dv.Secret {
			hint = "use a separate topic"
		}
		b.errs = append(b.errs, dv.Errorf("pipeline %s uses its input topic %s as dead-letter topic", name, show(p.Input.Topic, in, dv)).WithHint(hint))
	}
}

// show quotes text for a message, unless one of the values it stands for
// came from the environment: a secret must not show, not even as the equal
// value written elsewhere in the file.
func show(text string, from ...*spec.Value) string {
	for _, v := range from {
		if v != nil && v.Secret {
			return "(value from the environment)"
		}
	}
	return strconv.Quote(text)
}

func stringOr(v *spec.Value, def string) string {
	if v == nil || !v.IsScalar() || v.Kind == spec.KindNull {
		return def
	}
	return v.Text
}

func intOr(v *spec.Value, def int) int {
	if v == nil || v.Kind != spec.KindInt {
		return def
	}
	return v.Int()
}

func floatOr(v *spec.Value, def float64) float64 {
	if v == nil || (v.Kind != spec.KindInt && v.Kind != spec.KindFloat) {
		return def
	}
	return v.Float()
}

func boolOr(v *spec.Value, def bool) bool {
	if v == nil || v.Kind != spec.KindBool {
		return def
	}
	return v.Bool()
}

func durationOr(v *spec.Value, def string) time.Duration {
	if v != nil && v.IsScalar() {
		if d, err := time.ParseDuration(v.Text); err == nil {
			return d
		}
	}
	d, err := time.ParseDuration(def)
	if err != nil {
		panic(fmt.Sprintf("config: bad default duration %q", def))
	}
	return d
}
