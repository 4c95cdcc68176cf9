#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, broker+controller in one JVM) for the test
# suite. The broker jars come from Maven Central via test/kafka/pom.xml and are
# cached under .cache/; no Kafka distribution or container is needed.
#
# Besides PLAINTEXT the broker has two secured client listeners: SASL_SSL
# (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and SSL with client certificates
# required. Their certificates come from test/kafka/certs (go run), the SASL
# passwords are generated; both are kept in the state dir, and `start` writes
# the addresses, file paths and users to $STATE_DIR/secure.env.
#
# Usage: test/kafka/kafka.sh {fetch|start|stop|restart|status|reset|logs [-f]|bootstrap|secure-env}
#
# See test/kafka/README.md for the environment variables.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
POM="$SCRIPT_DIR/pom.xml"

# The Kafka version is pinned in pom.xml only; the cache folder is keyed on it.
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\([^<]*\)</kafka.version>.*:\1:p' "$POM" | head -n 1)

CACHE_ROOT=${MILLRACE_CACHE:-$REPO_ROOT/.cache}
KAFKA_HOME="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
FETCH_MARKER="$KAFKA_HOME/.fetched"
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
STATE_DIR=${MILLRACE_KAFKA_DIR:-$CACHE_ROOT/kafka-run}

KAFKA_HOST=127.0.0.1
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
KAFKA_SASL_SSL_PORT=${KAFKA_SASL_SSL_PORT:-19094}
KAFKA_SSL_PORT=${KAFKA_SSL_PORT:-19095}
KAFKA_SECURE=${KAFKA_SECURE:-1}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
KAFKA_HEAP=${KAFKA_HEAP:--Xmx384m -Xms128m}
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}
KAFKA_PROBE=${KAFKA_PROBE:-auto}
# One more PLAINTEXT listener, NAME://host:port, advertised as bound (the
# fault matrix's, on a network namespace's veth address).
KAFKA_EXTRA_LISTENER=${KAFKA_EXTRA_LISTENER:-}
BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

PID_FILE="$STATE_DIR/kafka.pid"
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/logs"
SERVER_LOG="$LOG_DIR/server.log"
CONSOLE_LOG="$LOG_DIR/console.log"
SERVER_PROPS="$STATE_DIR/server.properties"
LOG4J_CONF="$STATE_DIR/log4j2.properties"
TOOLS_LOG4J_CONF="$STATE_DIR/log4j2-tools.properties"
PROBE_CONF="$STATE_DIR/probe.properties"
STATE_MARKER="$STATE_DIR/.millrace-kafka-state"

# Secured listeners: TLS material (written by test/kafka/certs), SASL users,
# and the file that tells tests where everything is.
TLS_DIR="$STATE_DIR/tls"
TLS_HOSTS="$KAFKA_HOST,localhost"
SASL_DIR="$STATE_DIR/sasl"
SECURE_ENV="$STATE_DIR/secure.env"
# Digest of the SCRAM credentials the data dir was formatted with.
SCRAM_MARKER="$STATE_DIR/scram.formatted"
SASL_MECHANISMS=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
# Valid for all three mechanisms.
SASL_USER=millrace
# Exists only as a SCRAM-SHA-512 credential: with PLAIN or SCRAM-SHA-256 it
# fails, which shows that a client really uses the mechanism it was given.
SCRAM512_USER=millrace-scram512

JAVA=java
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
fi

log() { printf 'kafka: %s\n' "$*" >&2; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
  cat <<EOF
usage: $0 <command>

commands:
  fetch      download the Kafka $KAFKA_VERSION jars into $LIBS (once)
  start      fetch if needed, format storage if needed, start the broker, wait until ready
  stop       stop the broker (SIGTERM, then SIGKILL after \$KAFKA_STOP_TIMEOUT s)
  restart    stop, then start again with the same data
  status     exit 0 if the broker is running and answering metadata requests
  reset      stop the broker and delete its data ($STATE_DIR); the jars are kept
  logs [-f]  show the end of the broker log (-f: follow)
  bootstrap  print the bootstrap address ($BOOTSTRAP)
  secure-env print $SECURE_ENV: the secured listeners, certificates and users
EOF
}

# ---------------------------------------------------------------- prerequisites

require_java() {
  command -v "$JAVA" >/dev/null 2>&1 \
    || die "java not found on PATH (or \$JAVA_HOME); Kafka $KAFKA_VERSION needs Java 17 or newer"
  local version major
  version=$("$JAVA" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)
  [[ -n "$version" ]] || die "could not determine the Java version from '$JAVA -version'"
  case "$version" in
    1.*) major=${version#1.}; major=${major%%.*} ;;
    *) major=${version%%[.+-]*} ;;
  esac
  [[ "$major" =~ ^[0-9]+$ ]] || die "could not parse the Java version '$version'"
  if (( major < 17 )); then
    die "java $version is too old; Kafka $KAFKA_VERSION needs Java 17 or newer"
  fi
}

# Serialise commands that change the broker state, so that test packages
# running in parallel do not start two brokers on the same state dir.
# fd 9 is the state lock, fd 8 the fetch lock; both are closed for the broker
# process so that it does not keep them held.
lock_state() {
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p "$(dirname "$STATE_DIR")"
  exec 9>"$STATE_DIR.lock"
  flock -w 300 9 || die "timed out waiting for the lock $STATE_DIR.lock"
}

# ------------------------------------------------------------------------ fetch

pom_digest() { sha256sum "$POM" | cut -d' ' -f1; }

is_fetched() {
  [[ -f "$FETCH_MARKER" && "$(cat "$FETCH_MARKER")" == "$(pom_digest)" ]] \
    && compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null
}

cmd_fetch() {
  [[ -n "$KAFKA_VERSION" ]] || die "could not read <kafka.version> from $POM"
  if is_fetched; then
    log "Kafka $KAFKA_VERSION jars already in $LIBS"
    return 0
  fi
  mkdir -p "$KAFKA_HOME"
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$KAFKA_HOME.lock"
    flock -w 900 8 || die "timed out waiting for the lock $KAFKA_HOME.lock"
    if is_fetched; then
      exec 8>&-
      log "Kafka $KAFKA_VERSION jars already in $LIBS"
      return 0
    fi
  fi
  require_java
  command -v mvn >/dev/null 2>&1 \
    || die "mvn (Apache Maven) not found on PATH; it is needed once to download the Kafka jars (Debian: apt-get install maven)"

  local started tmp fetch_log
  started=$(now)
  tmp="$KAFKA_HOME/libs.tmp"
  fetch_log="$KAFKA_HOME/fetch.log"
  rm -rf "$tmp"
  log "downloading Kafka $KAFKA_VERSION jars from Maven Central into $LIBS ..."
  # The plugin is named in full (not as "dependency:") so that Maven does not
  # need to resolve a plugin prefix first; that keeps its error messages about
  # unreachable repositories specific.
  if ! mvn -q -B -f "$POM" "$DEPENDENCY_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$fetch_log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$fetch_log" | grep -v '^\[ERROR\] *$' | tail -n 12 >&2 || true
    if grep -qE 'Could not find artifact|was not found in' "$fetch_log"; then
      die "Maven Central does not have an artifact listed in $POM (see $fetch_log)"
    fi
    if grep -qiE 'Could not transfer|Could not resolve|UnknownHost|Unknown host|Connect(ion)? (refused|timed out)|Network is unreachable|No route to host|Remote host terminated' "$fetch_log"; then
      die "could not reach Maven Central to download org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies (see $fetch_log)"
    fi
    die "mvn failed to download org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies (see $fetch_log)"
  fi
  compgen -G "$tmp/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null \
    || die "mvn succeeded but $tmp has no kafka_2.13-$KAFKA_VERSION.jar (see $fetch_log)"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  pom_digest >"$FETCH_MARKER"
  if command -v flock >/dev/null 2>&1; then exec 8>&-; fi
  log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $(elapsed "$started")s"
}

# --------------------------------------------------------------- state checks

# True while the process exists and is not a zombie.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
  [[ "$state" != Z ]]
}

broker_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  # Guard against a recycled pid: it must be our broker.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  printf '%s\n' "$pid"
}

port_open() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$KAFKA_HOST/$1" 2>/dev/null
}

# A metadata round trip: the broker is registered and unfenced only once it
# shows up in a metadata response.
probe_metadata() {
  local mode=$KAFKA_PROBE
  if [[ "$mode" == auto ]]; then
    if command -v kcat >/dev/null 2>&1; then mode=kcat; else mode=java; fi
  fi
  case "$mode" in
    kcat)
      # -L without -t: asking for a specific unknown topic could auto-create it.
      timeout 15 kcat -b "$BOOTSTRAP" -L -m 5 2>/dev/null | grep -q '^ *1 brokers:'
      ;;
    java)
      timeout 30 "$JAVA" -Xmx96m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
        -Dlog4j2.configurationFile="$TOOLS_LOG4J_CONF" -cp "$LIBS/*" \
        org.apache.kafka.tools.BrokerApiVersionsCommand \
        --bootstrap-server "$BOOTSTRAP" --command-config "$PROBE_CONF" 2>/dev/null \
        | grep -q "^$KAFKA_HOST:$KAFKA_PORT (id: 1 .*isFenced: false"
      ;;
    *) die "KAFKA_PROBE must be auto, kcat or java (got '$KAFKA_PROBE')" ;;
  esac
}

secure_enabled() {
  case "$KAFKA_SECURE" in
    1) return 0 ;;
    0) return 1 ;;
    *) die "KAFKA_SECURE must be 1 or 0 (got '$KAFKA_SECURE')" ;;
  esac
}

# The ports of the listeners clients use, PLAINTEXT first.
client_ports() {
  printf '%s\n' "$KAFKA_PORT"
  if secure_enabled; then
    printf '%s\n' "$KAFKA_SASL_SSL_PORT" "$KAFKA_SSL_PORT"
  fi
}

# The secured listeners open together with PLAINTEXT, so after a successful
# metadata probe a connect to each is all the readiness check needs.
secure_ports_open() {
  secure_enabled || return 0
  port_open "$KAFKA_SASL_SSL_PORT" && port_open "$KAFKA_SSL_PORT"
}

plain_ready() { port_open "$KAFKA_PORT" && probe_metadata; }
is_ready() { plain_ready && secure_ports_open; }

listeners_summary() {
  if secure_enabled; then
    printf '%s (SASL_SSL %s:%s, SSL %s:%s)' "$BOOTSTRAP" "$KAFKA_HOST" "$KAFKA_SASL_SSL_PORT" "$KAFKA_HOST" "$KAFKA_SSL_PORT"
  else
    printf '%s' "$BOOTSTRAP"
  fi
}

file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# Byte offsets of the log files when the broker was launched, so that a failed
# start shows only what this start wrote.
SERVER_LOG_OFFSET=0
CONSOLE_LOG_OFFSET=0

show_logs_tail() {
  local f offset
  for f in "$SERVER_LOG" "$CONSOLE_LOG"; do
    [[ -s "$f" ]] || continue
    offset=$SERVER_LOG_OFFSET
    [[ "$f" == "$CONSOLE_LOG" ]] && offset=$CONSOLE_LOG_OFFSET
    # A rotated log is smaller than the recorded offset: show its end.
    (( $(file_size "$f") >= offset )) || offset=0
    (( $(file_size "$f") > offset )) || continue
    printf -- '----- last 40 lines of %s -----\n' "$f" >&2
    tail -c +"$((offset + 1))" "$f" | tail -n 40 >&2
  done
}

# ------------------------------------------------------- secured listeners

# Writes the CA, broker and client certificates into $TLS_DIR unless a valid
# set is there already (the program checks; it is fast once built).
ensure_certs() {
  command -v go >/dev/null 2>&1 \
    || die "go not found on PATH; it generates the TLS certificates of the secured listeners (or set KAFKA_SECURE=0)"
  # stdout carries only the bootstrap address.
  go -C "$REPO_ROOT" run ./test/kafka/certs -dir "$TLS_DIR" -hosts "$TLS_HOSTS" >&2 \
    || die "generating the TLS certificates into $TLS_DIR failed"
}

random_password() {
  od -An -N12 -tx1 /dev/urandom | tr -d ' \n'
}

# Prints the password of a SASL user, generating it on first use. The file
# holds the password alone, without a newline (a password_file for clients).
user_password() {
  local file="$SASL_DIR/$1.password"
  if [[ ! -s "$file" ]]; then
    mkdir -p "$SASL_DIR"
    chmod 700 "$SASL_DIR"
    (umask 077 && random_password >"$file.tmp") && mv "$file.tmp" "$file"
  fi
  cat "$file"
}

# A PEM file as a single-line properties value: the line breaks become \n
# escapes, which the properties reader turns back into line breaks.
pem_value() {
  awk 'BEGIN { ORS = "" } { sub(/\r$/, ""); print $0 "\\n" }' "$1"
}

# The --add-scram arguments of the storage formatter, one a line.
scram_credentials() {
  local password scram512_password
  password=$(user_password "$SASL_USER")
  scram512_password=$(user_password "$SCRAM512_USER")
  printf '%s\n' \
    "SCRAM-SHA-256=[name=$SASL_USER,password=$password]" \
    "SCRAM-SHA-512=[name=$SASL_USER,password=$password]" \
    "SCRAM-SHA-512=[name=$SCRAM512_USER,password=$scram512_password]"
}

scram_digest() { scram_credentials | sha256sum | cut -d' ' -f1; }

write_secure_config() {
  local password
  password=$(user_password "$SASL_USER")
  cat <<EOF

# Secured client listeners. TLS material is PEM, inline (test/kafka/certs
# writes it to $TLS_DIR). SASL_SSL authenticates with SASL only; SSL
# requires a client certificate signed by the CA.
ssl.keystore.type=PEM
ssl.keystore.certificate.chain=$(pem_value "$TLS_DIR/broker.pem")
ssl.keystore.key=$(pem_value "$TLS_DIR/broker-key.pem")
ssl.truststore.type=PEM
ssl.truststore.certificates=$(pem_value "$TLS_DIR/ca.pem")
ssl.client.auth=none
listener.name.ssl.ssl.client.auth=required

# SCRAM credentials are in the metadata log (storage format --add-scram);
# PLAIN users are the user_<name> entries of the listener's JAAS config.
sasl.enabled.mechanisms=$SASL_MECHANISMS
listener.name.sasl_ssl.sasl.enabled.mechanisms=$SASL_MECHANISMS
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# OAUTHBEARER with Kafka's own unsecured JWT validator (no callback
# handler configured): it accepts an unsigned token ("alg":"none") whose
# sub and exp claims are valid. Tests serve such tokens from a token
# endpoint of their own.
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
EOF
}

# One NAME=value line; the value is single-quoted only if the shell needs it.
env_line() {
  local value=$2 q="'"
  if [[ ! "$value" =~ ^[A-Za-z0-9_./:,=@%+-]*$ ]]; then
    value="$q${value//$q/$q\\$q$q}$q"
  fi
  printf '%s=%s\n' "$1" "$value"
}

# $SECURE_ENV: NAME=value lines in shell syntax (values quoted where needed),
# read by test/run.sh through `kafka.sh secure-env`.
write_secure_env() {
  if ! secure_enabled; then
    rm -f "$SECURE_ENV"
    return 0
  fi
  local tmp="$SECURE_ENV.tmp"
  {
    printf '# Written by test/kafka/kafka.sh start; see test/kafka/README.md.\n'
    env_line MILLRACE_TEST_KAFKA_SASL_SSL "$KAFKA_HOST:$KAFKA_SASL_SSL_PORT"
    env_line MILLRACE_TEST_KAFKA_SSL "$KAFKA_HOST:$KAFKA_SSL_PORT"
    env_line MILLRACE_TEST_KAFKA_TLS_DIR "$TLS_DIR"
    env_line MILLRACE_TEST_KAFKA_TLS_SERVER_NAME localhost
    env_line MILLRACE_TEST_KAFKA_CA_FILE "$TLS_DIR/ca.pem"
    env_line MILLRACE_TEST_KAFKA_CERT_FILE "$TLS_DIR/client.pem"
    env_line MILLRACE_TEST_KAFKA_KEY_FILE "$TLS_DIR/client-key.pem"
    env_line MILLRACE_TEST_KAFKA_EXPIRED_CERT_FILE "$TLS_DIR/expired-client.pem"
    env_line MILLRACE_TEST_KAFKA_EXPIRED_KEY_FILE "$TLS_DIR/expired-client-key.pem"
    env_line MILLRACE_TEST_KAFKA_UNTRUSTED_CA_FILE "$TLS_DIR/untrusted-ca.pem"
    env_line MILLRACE_TEST_KAFKA_UNTRUSTED_CERT_FILE "$TLS_DIR/untrusted-client.pem"
    env_line MILLRACE_TEST_KAFKA_UNTRUSTED_KEY_FILE "$TLS_DIR/untrusted-client-key.pem"
    env_line MILLRACE_TEST_KAFKA_SASL_MECHANISMS "$SASL_MECHANISMS"
    env_line MILLRACE_TEST_KAFKA_SASL_USERNAME "$SASL_USER"
    env_line MILLRACE_TEST_KAFKA_SASL_PASSWORD "$(user_password "$SASL_USER")"
    env_line MILLRACE_TEST_KAFKA_SASL_PASSWORD_FILE "$SASL_DIR/$SASL_USER.password"
    env_line MILLRACE_TEST_KAFKA_SCRAM512_USERNAME "$SCRAM512_USER"
    env_line MILLRACE_TEST_KAFKA_SCRAM512_PASSWORD "$(user_password "$SCRAM512_USER")"
  } >"$tmp"
  mv "$tmp" "$SECURE_ENV"
}

cmd_secure_env() {
  if [[ ! -f "$SECURE_ENV" ]]; then
    if secure_enabled; then
      die "no $SECURE_ENV yet: run '$0 start' first"
    fi
    die "the secured listeners are off (KAFKA_SECURE=0), so there is no $SECURE_ENV"
  fi
  cat "$SECURE_ENV"
}

# ------------------------------------------------------------------ config

write_config() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  : >"$STATE_MARKER"
  local listeners advertised protocols
  listeners="PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT"
  protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if secure_enabled; then
    listeners+=",SASL_SSL://$KAFKA_HOST:$KAFKA_SASL_SSL_PORT,SSL://$KAFKA_HOST:$KAFKA_SSL_PORT"
    protocols+=",SASL_SSL:SASL_SSL,SSL:SSL"
  fi
  if [[ -n "$KAFKA_EXTRA_LISTENER" ]]; then
    [[ "$KAFKA_EXTRA_LISTENER" =~ ^([A-Z_]+)://[^:]+:[0-9]+$ ]] \
      || die "KAFKA_EXTRA_LISTENER must be NAME://host:port (got '$KAFKA_EXTRA_LISTENER')"
    listeners+=",$KAFKA_EXTRA_LISTENER"
    protocols+=",${BASH_REMATCH[1]}:PLAINTEXT"
  fi
  advertised=$listeners
  listeners+=",CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT"
  # It holds the broker's private key and the PLAIN password.
  install -m 600 /dev/null "$SERVER_PROPS"
  cat >"$SERVER_PROPS" <<EOF
# Generated by test/kafka/kafka.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=$listeners
advertised.listeners=$advertised
# Broker-to-controller and inter-broker traffic stays on PLAINTEXT.
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols

log.dirs=$DATA_DIR

# Single replica everywhere; few partitions for the internal topics.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0

# Small footprint for a 2-core test machine.
num.network.threads=2
num.io.threads=2
background.threads=2
num.replica.fetchers=1
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
# Kafka requires more than 1 MiB per cleaner thread.
log.cleaner.dedupe.buffer.size=2097152
EOF
  if secure_enabled; then
    write_secure_config >>"$SERVER_PROPS"
  fi

  cat >"$LOG4J_CONF" <<EOF
# Generated by test/kafka/kafka.sh.
status = warn
name = millrace-kafka
# The file appender flushes every line, so no shutdown hook is needed; with the
# hook, loggers created while the JVM exits print warnings to the console.
shutdownHook = disable

appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $SERVER_LOG
appender.file.filePattern = $SERVER_LOG.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3

rootLogger.level = info
rootLogger.appenderRef.file.ref = file

logger.request.name = kafka.request.logger
logger.request.level = warn
logger.network.name = org.apache.kafka.clients.NetworkClient
logger.network.level = warn
EOF

  cat >"$TOOLS_LOG4J_CONF" <<EOF
# Generated by test/kafka/kafka.sh; used by the storage formatter and the probe.
status = warn
name = millrace-kafka-tools
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
EOF

  cat >"$PROBE_CONF" <<EOF
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF
}

# SCRAM credentials can only be added when the storage is formatted (or later
# through the admin API), so data formatted without the current ones (by an
# older kafka.sh, or before the passwords changed) is formatted again: the
# topics of a test broker are disposable.
format_storage() {
  local want=""
  if secure_enabled; then
    want=$(scram_digest)
  fi
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    if [[ -z "$want" || "$(cat "$SCRAM_MARKER" 2>/dev/null)" == "$want" ]]; then
      return 0
    fi
    log "$DATA_DIR was formatted without the current SCRAM users; formatting it again (its topics are lost)"
    rm -rf "$DATA_DIR"
    mkdir -p "$DATA_DIR"
  fi
  rm -f "$SCRAM_MARKER"
  local cluster_id line
  local scram=()
  if secure_enabled; then
    while IFS= read -r line; do
      scram+=(--add-scram "$line")
    done < <(scram_credentials)
  fi
  cluster_id=$("$JAVA" -Xmx96m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J_CONF" -cp "$LIBS/*" \
    kafka.tools.StorageTool random-uuid) || die "kafka.tools.StorageTool random-uuid failed"
  log "formatting $DATA_DIR (cluster id $cluster_id)"
  "$JAVA" -Xmx96m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J_CONF" -cp "$LIBS/*" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$SERVER_PROPS" --ignore-formatted "${scram[@]}" >/dev/null \
    || die "kafka.tools.StorageTool format failed for $DATA_DIR"
  if [[ -n "$want" ]]; then
    printf '%s\n' "$want" >"$SCRAM_MARKER"
  fi
}

# ------------------------------------------------------------ start / stop

stop_broker() {
  local pid
  if ! pid=$(broker_pid); then
    rm -f "$PID_FILE"
    return 0
  fi
  log "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while alive "$pid" && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if alive "$pid"; then
    log "broker did not stop within ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
      die "broker (pid $pid) is still running after SIGKILL"
    fi
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

# Wait until the broker with the given pid answers, at most KAFKA_START_TIMEOUT
# seconds from the given start time. On failure print the logs, stop it, exit 1.
wait_ready() {
  local pid=$1 started=$2
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while :; do
    if ! alive "$pid"; then
      show_logs_tail
      rm -f "$PID_FILE"
      die "broker process exited during startup (logs: $LOG_DIR)"
    fi
    if is_ready; then
      break
    fi
    if ((SECONDS >= deadline)); then
      show_logs_tail
      stop_broker
      die "broker not ready at $(listeners_summary) after ${KAFKA_START_TIMEOUT}s (logs: $LOG_DIR); it has been stopped"
    fi
    sleep 0.5
  done
  log "ready at $(listeners_summary) (pid $pid) in $(elapsed "$started")s"
  printf '%s\n' "$BOOTSTRAP"
}

start_broker() {
  local pid started
  if pid=$(broker_pid); then
    if plain_ready; then
      if ! secure_ports_open; then
        die "broker (pid $pid) answers at $BOOTSTRAP but not on its secured listeners ($KAFKA_HOST:$KAFKA_SASL_SSL_PORT, $KAFKA_HOST:$KAFKA_SSL_PORT): it was started with other settings; run '$0 restart'"
      fi
      log "already running at $(listeners_summary) (pid $pid)"
      printf '%s\n' "$BOOTSTRAP"
      return 0
    fi
    log "broker process $pid is running but not answering yet; waiting for it"
    wait_ready "$pid" "$(now)"
    return 0
  fi
  rm -f "$PID_FILE"

  require_java
  cmd_fetch
  local port
  for port in $(client_ports) "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$port"; then
      die "port $KAFKA_HOST:$port is already in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_SASL_SSL_PORT / KAFKA_SSL_PORT, or stop it)"
    fi
  done

  if secure_enabled; then
    ensure_certs
  fi
  write_config
  format_storage
  write_secure_env

  SERVER_LOG_OFFSET=$(file_size "$SERVER_LOG")
  CONSOLE_LOG_OFFSET=$(file_size "$CONSOLE_LOG")
  started=$(now)
  # shellcheck disable=SC2086 # KAFKA_HEAP and KAFKA_JVM_OPTS are option lists
  nohup "$JAVA" $KAFKA_HEAP $KAFKA_JVM_OPTS \
    -Dkafka.logs.dir="$LOG_DIR" \
    -Dlog4j2.configurationFile="$LOG4J_CONF" \
    -cp "$LIBS/*" kafka.Kafka "$SERVER_PROPS" \
    </dev/null >>"$CONSOLE_LOG" 2>&1 8>&- 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  log "launched broker (pid $pid), waiting up to ${KAFKA_START_TIMEOUT}s for $(listeners_summary)"
  wait_ready "$pid" "$started"
}

# ------------------------------------------------------------------ commands

cmd_start() { lock_state; start_broker; }
cmd_stop() { lock_state; stop_broker; }
cmd_restart() { lock_state; stop_broker; start_broker; }

cmd_status() {
  local pid
  if pid=$(broker_pid) && is_ready; then
    log "running at $(listeners_summary) (pid $pid)"
    return 0
  fi
  if pid=$(broker_pid); then
    log "process $pid is running but $(listeners_summary) is not answering"
  else
    log "not running"
  fi
  return 1
}

cmd_reset() {
  lock_state
  stop_broker
  if [[ ! -e "$STATE_DIR" ]]; then
    log "nothing to reset ($STATE_DIR does not exist)"
    return 0
  fi
  local dir
  dir=$(cd "$STATE_DIR" && pwd -P)
  case "$dir" in
    / | "$HOME" | "$(cd "$REPO_ROOT" && pwd -P)" | "$(cd "$CACHE_ROOT" 2>/dev/null && pwd -P)")
      die "refusing to delete $dir" ;;
  esac
  [[ -f "$STATE_MARKER" ]] \
    || die "refusing to delete $STATE_DIR: it was not created by this script (no $(basename "$STATE_MARKER"))"
  rm -rf "$dir"
  log "deleted $STATE_DIR"
}

cmd_logs() {
  [[ -f "$SERVER_LOG" ]] || die "no broker log at $SERVER_LOG"
  if [[ "${1:-}" == "-f" ]]; then
    exec tail -n 100 -F "$SERVER_LOG"
  fi
  tail -n "${KAFKA_LOG_LINES:-100}" "$SERVER_LOG"
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  # Checked once here: secure_enabled also runs in subshells, where its die
  # would not end the script.
  secure_enabled || true
  case "$cmd" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_restart ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    logs) cmd_logs "$@" ;;
    bootstrap) printf '%s\n' "$BOOTSTRAP" ;;
    secure-env) cmd_secure_env ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
