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
	DefaultCommitInterval  = "100ms"
	DefaultMaxCrashes      = 3
	// DefaultBudgetWindow and DefaultBudgetMinRecords are errors.budget's.
	DefaultBudgetWindow     = "1m"
	DefaultBudgetMinRecords = 100
	// DefaultProducerLinger: on Apache Kafka 4.1 (test/bench, KS and
	// M-key alternated) 1ms gave 5-10% more throughput and 13% less broker
	// CPU per record than 0; 5ms cut broker CPU further but throughput by
	// 40%.
	DefaultProducerLinger = "1ms"
	// DefaultMaxMessageBytes is franz-go's largest record batch, under
	// Kafka's default message.max.bytes (1,048,588).
	DefaultMaxMessageBytes = 1_000_012
	// DefaultFetchMaxBytes is 8 MiB, where Kafka's fetch.max.bytes is 50:
	// fetched data waits in the client until it is processed, and 50 MiB
	// made the peak RSS of a 1M-record drain 280 MiB against 180 at the
	// same throughput (test/bench).
	DefaultFetchMaxBytes = 8 << 20
	// DefaultFetchMaxPartitionBytes is 128 KiB, where Kafka's
	// max.partition.fetch.bytes is 1 MiB. Records reach the consumer's
	// loop partition by partition, and it holds twice max_in_flight per
	// partition: with 1 MiB (about 11,000 compressed records of test/bench)
	// a backlog keeps one or two partitions' windows busy at a time. On
	// Apache Kafka 4.1 (test/bench, 300k records, alternated rounds) 128
	// KiB gave M-key 20% more throughput at 12 partitions and 14% at 3,
	// less CPU per record, and 45% less peak RSS; 32 and 64 KiB did no
	// better, 256 KiB worse.
	DefaultFetchMaxPartitionBytes = 128 << 10
	AdapterMillrace               = "millrace"
	AdapterWatermillKafka         = "watermill-kafka"
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
		&spec.Field{Name: "data_dir", Type: spec.String("Directory the embedded broker persists to. It holds record data, so it is made the owner's only (0700, files 0600)."), Default: DefaultDataDir},
	)},
	&spec.Field{Name: "adapter", Doc: "The Kafka client under the pipelines. millrace: concurrent key-ordered consumer and batching producer (franz-go). watermill-kafka: Watermill's Sarama adapter, one record per partition at a time.",
		Type: spec.Enum("", AdapterMillrace, AdapterWatermillKafka), Default: AdapterMillrace},
	&spec.Field{Name: "topics", Doc: "How missing topics are created at start.", Type: spec.Object("",
		&spec.Field{Name: "create", Type: spec.Bool("Create missing input, output and dead-letter topics at start."), Default: true},
		&spec.Field{Name: "partitions", Type: spec.Int("Partitions of a created topic."), Default: DefaultPartitions},
		&spec.Field{Name: "replication_factor", Type: spec.Int("Replication factor of a created topic; -1 uses the broker default."), Default: -1},
	)},
	&spec.Field{Name: "producer", Doc: "The batching producer of the default adapter, shared by a runner's pipelines.", Type: spec.Object("",
		&spec.Field{Name: "linger", Type: spec.Duration("How long a partition's records wait for more before a produce request is built; 0 sends what accumulated while the previous request was in flight. Longer means fuller batches, so less work for the brokers per record; a record is settled when its outputs are acknowledged, so the linger adds to every record's latency and holds its place in input.max_in_flight meanwhile."), Default: DefaultProducerLinger},
		&spec.Field{Name: "max_message_bytes", Type: spec.Int("Largest record batch the producer sends, and so the largest record it writes; at most the brokers' message.max.bytes. The batches of an output topic that takes less (its max.message.bytes, read at start) are bounded by that. A record larger than this, or one the brokers refuse as too large, is not retried: its input goes to the dead-letter topic with the cause, and when the dead letter is refused too its input partition stalls at the record, uncommitted, and the other partitions go on."), Default: DefaultMaxMessageBytes},
	)},
	&spec.Field{Name: "consumer", Doc: "Fetching of the default adapter's consumers.", Type: spec.Object("",
		&spec.Field{Name: "fetch_max_bytes", Type: spec.Int("Most bytes one fetch returns, over all partitions (a single larger record still arrives)."), Default: DefaultFetchMaxBytes},
		&spec.Field{Name: "fetch_max_partition_bytes", Type: spec.Int("Most bytes one fetch returns of one partition (a single larger record still arrives). Smaller than Kafka's 1 MiB default so that a backlog is worked on many partitions at once; raise it for records of tens of KB on few partitions, which a fetch then brings one or two at a time."), Default: DefaultFetchMaxPartitionBytes},
	)},
	&spec.Field{Name: "tls", Type: tlsSchema, Doc: "TLS to the brokers, for every client of the runner and the CLI. Present, it is on (see docs/security.md)."},
	&spec.Field{Name: "sasl", Type: saslSchema, Doc: "SASL authentication to the brokers, for every client of the runner and the CLI."},
)

// TLS and SASL settings (kafka.tls, kafka.sasl).
const (
	DefaultTLSMinVersion = "1.2"
	MechanismPlain       = "PLAIN"
	MechanismScram256    = "SCRAM-SHA-256"
	MechanismScram512    = "SCRAM-SHA-512"
	MechanismOAuth       = "OAUTHBEARER"
	MechanismAWSMSKIAM   = "AWS_MSK_IAM"
)

// Mechanisms are the SASL mechanisms kafka.sasl.mechanism accepts.
var Mechanisms = []string{MechanismPlain, MechanismScram256, MechanismScram512, MechanismOAuth, MechanismAWSMSKIAM}

var tlsSchema = spec.Object("TLS settings.",
	&spec.Field{Name: "enabled", Type: spec.Bool("Use TLS. Implied by the presence of kafka.tls; `false` with other tls keys is an error."), Default: true},
	&spec.Field{Name: "ca_file", Type: spec.String("PEM file of the certificate authorities that sign the brokers' certificates; without it, the system roots. A relative path is relative to the config file's directory.")},
	&spec.Field{Name: "cert_file", Type: spec.String("PEM client certificate, for brokers that require one (mutual TLS); needs key_file.")},
	&spec.Field{Name: "key_file", Type: spec.String("PEM private key of cert_file. Its contents are never shown.")},
	&spec.Field{Name: "server_name", Type: spec.String("Name the brokers' certificates are checked against; default: the host of each broker address.")},
	&spec.Field{Name: "min_version", Type: spec.Enum("Lowest TLS version accepted.", "1.0", "1.1", "1.2", "1.3"), Default: DefaultTLSMinVersion},
	&spec.Field{Name: "insecure_skip_verify", Type: spec.Bool("Accept any broker certificate, unchecked. For tests only: anyone between the runner and the brokers can read and change the traffic. A warning is logged at start."), Default: false},
)

var saslSchema = spec.Object("SASL settings.",
	&spec.Field{Name: "mechanism", Required: true, Type: spec.Enum("How the clients authenticate.", Mechanisms...), Examples: []any{MechanismScram512}},
	&spec.Field{Name: "username", Type: spec.String("PLAIN and SCRAM: the user.")},
	&spec.Field{Name: "password", Type: spec.String("PLAIN and SCRAM: the password, usually `${KAFKA_PASSWORD}`. Never shown, whether written here or taken from the environment.")},
	&spec.Field{Name: "password_file", Type: spec.String("PLAIN and SCRAM: a file holding the password (a trailing newline is dropped), instead of password.")},
	&spec.Field{Name: "token_endpoint", Type: spec.String("OAUTHBEARER: the OAuth 2.0 token URL; tokens are fetched with the client-credentials grant and reused until shortly before they expire. https, or http on a loopback address.")},
	&spec.Field{Name: "client_id", Type: spec.String("OAUTHBEARER: the OAuth client id.")},
	&spec.Field{Name: "client_secret", Type: spec.String("OAUTHBEARER: the OAuth client secret. Never shown.")},
	&spec.Field{Name: "client_secret_file", Type: spec.String("OAUTHBEARER: a file holding the client secret, instead of client_secret.")},
	&spec.Field{Name: "scope", Type: spec.OneOf("", spec.List(spec.String(""), 0, ""), spec.String("Space-separated scopes.")), Doc: "OAUTHBEARER: scopes asked for with the token."},
	&spec.Field{Name: "region", Type: spec.String("AWS_MSK_IAM: the AWS region of the credential chain; default: AWS_REGION. Credentials come from the standard AWS chain (environment, shared files, web identity, container and instance roles).")},
	&spec.Field{Name: "allow_plaintext", Type: spec.Bool("Allow PLAIN or OAUTHBEARER without kafka.tls, which sends the password or token readable on the network. For a trusted network only."), Default: false},
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
		&spec.Field{Name: "ordering", Type: spec.Enum("Which records of a partition may be processed at once: key (the records of one key in order), partition (the records of a partition in order), none (no order). With key and partition (on Millrace's Kafka adapter) a record's turn ends once its outputs are handed to the producer, so several produces of a key or partition are in flight at once, written in input order; a produce that fails rewinds the key or partition: that record and the later ones of its key or partition already processed are processed and written again, in order (duplicates after an earlier record), one at a time until it has caught up; a record produced between the refusal and the rewind can still land before it (docs/architecture.md).", "key", "partition", "none"), Default: "key"},
		&spec.Field{Name: "max_in_flight", Type: spec.Int("Records of one partition processed at once, at most."), Default: DefaultMaxInFlight},
		&spec.Field{Name: "commit_interval", Type: spec.Duration("Least time between two offset commits of the group (one is in flight at a time). Longer means fewer commit requests for the broker; after a crash the records settled in the last interval, besides those in flight, are processed again (at-least-once: duplicates, never losses). A clean stop commits everything."), Default: DefaultCommitInterval},
		&spec.Field{Name: "invalid_utf8", Type: spec.Enum("A value that is not valid UTF-8 (JSON text must be): reject makes it a data error, so its bytes reach the dead-letter topic unchanged (step decode); replace reads each invalid byte as U+FFFD, as encoding/json does, and the output carries U+FFFD instead.", "reject", "replace"), Default: "reject"},
		&spec.Field{Name: "rate_limit", Type: spec.Float("Most records per second this pipeline hands to its chain, in each runner (so a group of N runners takes up to N times this), for a downstream that cannot take more; a record waits for its turn before it runs, while fetching stops once the consumer's buffer is full. Off when absent. Replays are paced by their own --rate instead."), Examples: []any{500}},
		&spec.Field{Name: "rate_burst", Type: spec.Int("Records that may run at once above input.rate_limit after a quiet spell; default: a twentieth of a second's worth (at least 1). Needs rate_limit.")},
		&spec.Field{Name: "max_crashes", Type: spec.Int("Poison-pill detection (`run` on Millrace's Kafka adapter; 0 turns it off): how many times in a row the runner may die (a fatal error such as out of memory, a kill) with the record at a partition's committed offset (for a group without one, the offset it starts at, which is then committed) in flight before that record is sent to the dead-letter topic unprocessed, byte for byte, with `millrace.error.step: crash`, and the partition goes on after it; without a dead-letter topic the pipeline stops with it uncommitted. The count lives in the consumer group's commit metadata of the partition (no local state: any runner of the group reads it), is raised each time a runner starts on that record and is reset by the commit that moves past it; a clean stop that finishes what was in flight writes it back. At the limit the record is processed alone (nothing else of its partition in flight) and committed before the others run, so it is dead-lettered only if the runner also died while it ran alone (docs/delivery.md)."), Default: DefaultMaxCrashes},
	)},
	&spec.Field{Name: "transforms", Type: spec.List(spec.Any("A step: one transform key, such as `filter: 'amount > 0'`, and an optional `when`."), 0, ""), Doc: "The chain of transform steps, applied in order."},
	&spec.Field{Name: "output", Required: true, Doc: "Where results go.", Type: spec.Object("",
		&spec.Field{Name: "topic", Type: spec.String("Default output topic."), Required: true},
		&spec.Field{Name: "routes", Doc: "Conditional topics; the first route whose `when` is true wins, else `topic`.",
			Type: spec.List(spec.Object("",
				&spec.Field{Name: "when", Type: spec.Expr("Condition over the output record."), Required: true},
				&spec.Field{Name: "topic", Type: spec.String("Topic for records that match."), Required: true},
			), 1, "")},
		&spec.Field{Name: "allowed_topics", Doc: "Names or patterns (`*` any characters, `?` one, `[a-z]` a range) that a topic computed from a record (the `route` transform's expression) may be; a record routed elsewhere goes to the dead-letter topic, so that data cannot create topics. Default: the topics this pipeline's config names (`topic`, `routes`, the names in `route` cases). A pipeline never writes to its own input topic, whatever this allows.",
			Type: spec.List(spec.String("Topic name or pattern."), 1, "")},
	)},
	&spec.Field{Name: "errors", Doc: "Retries and the dead-letter topic.", Type: spec.Object("",
		&spec.Field{Name: "retry", Doc: "Retries with exponential backoff of a produce that failed (the producer gave up on it): its outputs or dead letter are sent again, the chain does not run again; the same in `run` (both adapters), replays and config tests, except that `run` and replays on Millrace's Kafka adapter with ordering key or partition rewind instead (see input.ordering): a retry of one record's outputs alone would write them after later ones. Data errors are not retried: they go to the dead-letter topic at once. When the retries are spent the record is handed out again later; it is never skipped.", Type: spec.Object("",
			&spec.Field{Name: "max_retries", Type: spec.Int("Retries after the first attempt."), Default: DefaultMaxRetries},
			&spec.Field{Name: "initial_interval", Type: spec.Duration("First backoff."), Default: DefaultInitialInterval},
			&spec.Field{Name: "max_interval", Type: spec.Duration("Longest backoff."), Default: DefaultMaxInterval},
			&spec.Field{Name: "multiplier", Type: spec.Float("Backoff growth factor."), Default: DefaultMultiplier},
		)},
		&spec.Field{Name: "dead_letter_topic", Type: spec.String("Topic for records that cannot be processed. Without it, such a record stops the pipeline.")},
		&spec.Field{Name: "budget", Doc: "The error budget: when the share of records dead-lettered within the window crosses max_ratio (once at least min_records finished in it), the pipeline pauses, as `pipeline-runner pause` does: it stops fetching but keeps its consumer group membership and partitions (no rebalance), finishes and commits what is in flight, and says why in the log, /readyz (state `paused`), the status page and millrace_pipeline_paused. `pipeline-runner resume NAME` (or a reload that changes the pipeline) starts it again where it stopped; a bad deploy of a producer then costs a few hundred dead letters, not millions. Needs dead_letter_topic.", Type: spec.Object("",
			&spec.Field{Name: "max_ratio", Type: spec.Float("Share of the window's finished records that may be dead-lettered, from 0 (exclusive) to 1."), Required: true, Examples: []any{0.05}},
			&spec.Field{Name: "window", Type: spec.Duration("The sliding window the share is taken over."), Default: DefaultBudgetWindow},
			&spec.Field{Name: "min_records", Type: spec.Int("Records that must have finished within the window before the share counts, so that a few early failures do not pause a quiet pipeline."), Default: DefaultBudgetMinRecords},
		)},
	)},
	&spec.Field{Name: "timeout", Type: spec.Duration("Longest time one record may take through the chain (the context its transforms get ends then); the produce that follows has its own bound."), Default: DefaultTimeout},
)
