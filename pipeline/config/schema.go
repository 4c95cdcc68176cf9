package config

import "github.com/millrace-dev/millrace/transforms/spec"

// Defaults, shown in the docs and the JSON Schema.
const (
	DefaultEmbeddedListen  = "127.0.0.1:9092"
	DefaultDataDir         = ".millrace"
	DefaultClientID        = "millrace"
	DefaultPartitions      = 3
	DefaultMaxRetries      = 3
	DefaultShutdownTimeout = "30s"
	DefaultTimeout         = "30s"
	DefaultInitialInterval = "100ms"
	DefaultMaxInterval     = "5s"
	DefaultMultiplier      = 2.0
	EmbeddedBroker         = "embedded"
	DefaultMaxInFlight     = 256
	AdapterMillrace        = "millrace"
	AdapterWatermillKafka  = "watermill-kafka"
)

// Schema is the shape of pipelines.yaml. Transform steps are checked against
// their own specs when the chain is built.
var Schema = spec.Object("A Millrace configuration file.",
	&spec.Field{Name: "version", Type: spec.Int("Config format version; must be 1."), Required: true, Examples: []any{1}},
	&spec.Field{Name: "kafka", Type: kafkaSchema, Doc: "Where the brokers are and how to talk to them."},
	&spec.Field{Name: "runner", Type: runnerSchema, Doc: "Process-wide settings."},
	&spec.Field{Name: "admin", Type: adminSchema, Doc: "The admin HTTP server: metrics, health checks and the status page."},
	&spec.Field{Name: "pipelines", Type: spec.List(pipelineSchema, 1, "The pipelines to run."), Required: true, Doc: "The pipelines to run."},
	&spec.Field{Name: "tests", Type: TestsSchema, Doc: "Config unit tests, run by `pipeline-runner test`."},
)

var kafkaSchema = spec.Object("Kafka connection settings.",
	&spec.Field{Name: "brokers", Doc: "Bootstrap brokers as host:port. Omitted, or [embedded], runs the in-process development broker.",
		Type:     spec.OneOf("", spec.List(spec.String("host:port"), 1, ""), spec.String("Comma-separated host:port list.")),
		Examples: []any{[]any{"127.0.0.1:9092"}}},
	&spec.Field{Name: "client_id", Type: spec.String("Client id sent to the brokers."), Default: DefaultClientID},
	&spec.Field{Name: "embedded", Doc: "The in-process broker used when no brokers are configured.", Type: spec.Object("",
		&spec.Field{Name: "listen", Type: spec.String("Address the embedded broker listens on."), Default: DefaultEmbeddedListen},
		&spec.Field{Name: "data_dir", Type: spec.String("Directory the embedded broker persists to."), Default: DefaultDataDir},
	)},
	&spec.Field{Name: "adapter", Doc: "The Kafka client under the pipelines. millrace: concurrent key-ordered consumer and batching producer (franz-go). watermill-kafka: Watermill's Sarama adapter, one record per partition at a time.",
		Type: spec.Enum("", AdapterMillrace, AdapterWatermillKafka), Default: AdapterMillrace},
	&spec.Field{Name: "topics", Doc: "How missing topics are created at start.", Type: spec.Object("",
		&spec.Field{Name: "create", Type: spec.Bool("Create missing input, output and dead-letter topics at start."), Default: true},
		&spec.Field{Name: "partitions", Type: spec.Int("Partitions of a created topic."), Default: DefaultPartitions},
		&spec.Field{Name: "replication_factor", Type: spec.Int("Replication factor of a created topic; -1 uses the broker default."), Default: -1},
	)},
)

var runnerSchema = spec.Object("Process-wide settings.",
	&spec.Field{Name: "shutdown_timeout", Type: spec.Duration("How long SIGINT/SIGTERM waits for in-flight records before exiting."), Default: DefaultShutdownTimeout},
	&spec.Field{Name: "log_payloads", Type: spec.Bool("Add the record value to the log line of a failed record. For debugging only: values may hold personal data. Off, payloads are never logged."), Default: false},
)

// Admin server defaults.
const (
	DefaultAdminAddress = "127.0.0.1:9469"
	DefaultPollInterval = "5s"
	// AdminOff as admin.address (or --admin-addr) disables the admin server.
	AdminOff = "off"
)

var adminSchema = spec.Object("The admin HTTP server.",
	&spec.Field{Name: "address", Type: spec.String("host:port the server listens on; `off` disables it. Without `admin.auth`, keep it on a loopback or private address (a non-loopback address without auth is logged as a warning)."),
		Default: DefaultAdminAddress, Examples: []any{"0.0.0.0:9469", AdminOff}},
	&spec.Field{Name: "tls", Doc: "Serve HTTPS with this certificate.", Type: spec.Object("",
		&spec.Field{Name: "cert_file", Type: spec.String("PEM certificate (chain) of the server."), Required: true},
		&spec.Field{Name: "key_file", Type: spec.String("PEM private key of the certificate."), Required: true},
	)},
	&spec.Field{Name: "auth", Doc: "Credentials every path but /healthz and /readyz requires: a bearer token (for Prometheus and scripts), basic auth (for the status page in a browser), or both. Compared in constant time; never logged or shown.", Type: spec.Object("",
		&spec.Field{Name: "bearer_token", Type: spec.String("`Authorization: Bearer TOKEN`; use ${VAR}."), Examples: []any{"${ADMIN_TOKEN}"}},
		&spec.Field{Name: "basic", Doc: "`Authorization: Basic`, which browsers ask for.", Type: spec.Object("",
			&spec.Field{Name: "username", Type: spec.String("User name."), Required: true},
			&spec.Field{Name: "password", Type: spec.String("Password; use ${VAR}."), Required: true},
		)},
	)},
	&spec.Field{Name: "allowed_hosts", Type: spec.List(spec.String(""), 1, "Host names (or IP addresses) requests may name in their Host header, besides the address the server listens on and, on a loopback address, localhost: a page on another site cannot read the server through DNS rebinding. `*` allows any."),
		Examples: []any{[]any{"runner-1.internal"}}},
	&spec.Field{Name: "pprof", Type: spec.Bool("Serve Go's profiler under /debug/pprof/."), Default: false},
	&spec.Field{Name: "poll_interval", Type: spec.Duration("How often consumer lag and consumer group state are read from the brokers."), Default: DefaultPollInterval},
)

var pipelineSchema = spec.Object("One consume → transform → produce pipeline.",
	&spec.Field{Name: "name", Type: spec.String("Unique name: letters, digits, '.', '_' and '-'."), Required: true, Examples: []any{"enrich-orders"}},
	&spec.Field{Name: "input", Required: true, Doc: "The topic to consume.", Type: spec.Object("",
		&spec.Field{Name: "topic", Type: spec.String("Topic to consume."), Required: true},
		&spec.Field{Name: "group", Type: spec.String("Consumer group; defaults to the pipeline name.")},
		&spec.Field{Name: "start", Type: spec.Enum("Where a new consumer group begins.", "oldest", "newest"), Default: "oldest"},
		&spec.Field{Name: "ordering", Type: spec.Enum("Which records of a partition may be processed at once: key (same key one at a time, in order), partition (one at a time), none.", "key", "partition", "none"), Default: "key"},
		&spec.Field{Name: "max_in_flight", Type: spec.Int("Records of one partition processed at once, at most."), Default: DefaultMaxInFlight},
	)},
	&spec.Field{Name: "transforms", Type: spec.List(spec.Any("A step: one transform key, such as `filter: 'amount > 0'`, and an optional `when`."), 0, ""), Doc: "The chain of transform steps, applied in order."},
	&spec.Field{Name: "output", Required: true, Doc: "Where results go.", Type: spec.Object("",
		&spec.Field{Name: "topic", Type: spec.String("Default output topic."), Required: true},
		&spec.Field{Name: "routes", Doc: "Conditional topics; the first route whose `when` is true wins, else `topic`.",
			Type: spec.List(spec.Object("",
				&spec.Field{Name: "when", Type: spec.Expr("Condition over the output record."), Required: true},
				&spec.Field{Name: "topic", Type: spec.String("Topic for records that match."), Required: true},
			), 1, "")},
	)},
	&spec.Field{Name: "errors", Doc: "Retries and the dead-letter topic.", Type: spec.Object("",
		&spec.Field{Name: "retry", Doc: "Retries with exponential backoff of a produce that failed (the producer gave up on it): its outputs or dead letter are sent again, the chain does not run again; the same in `run` (both adapters), replays and config tests. Data errors are not retried: they go to the dead-letter topic at once. When the retries are spent the record is handed out again later; it is never skipped.", Type: spec.Object("",
			&spec.Field{Name: "max_retries", Type: spec.Int("Retries after the first attempt."), Default: DefaultMaxRetries},
			&spec.Field{Name: "initial_interval", Type: spec.Duration("First backoff."), Default: DefaultInitialInterval},
			&spec.Field{Name: "max_interval", Type: spec.Duration("Longest backoff."), Default: DefaultMaxInterval},
			&spec.Field{Name: "multiplier", Type: spec.Float("Backoff growth factor."), Default: DefaultMultiplier},
		)},
		&spec.Field{Name: "dead_letter_topic", Type: spec.String("Topic for records that cannot be processed. Without it, such a record stops the pipeline.")},
	)},
	&spec.Field{Name: "timeout", Type: spec.Duration("Longest time one record may take through the chain (the context its transforms get ends then); the produce that follows has its own bound."), Default: DefaultTimeout},
)
