#!/usr/bin/env bash
# The test command: starts a real Apache Kafka broker (test/kafka/kafka.sh)
# and the embedded broker, runs every unit and integration test against both
# with the race detector, and stops the brokers even when tests fail.
#
#   ./test/run.sh               all tests, both brokers, and the fault matrix
#                               (test/faults) at small sizes
#   ./test/run.sh --full        also Watermill's full pub/sub suite (slow)
#   ./test/run.sh --faults-long the fault matrix at its full sizes
#   ./test/run.sh --no-faults   without the fault matrix
#   ./test/run.sh -- ARGS       extra arguments for go test, e.g. -- -run Dead
#
# The fault matrix kills and bounces a Kafka broker, so it starts one of its
# own (ports 19192-19194, its own state directory) and never touches the
# shared one the other packages use; its figures go to
# $MILLRACE_FAULTS_REPORT when set.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

extra=()
faults=short
while [ $# -gt 0 ]; do
  case "$1" in
    --full) export MILLRACE_TEST_FULL=1 ;;
    --faults-long) faults=long ;;
    --no-faults) faults="" ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done

embedded_addr="${MILLRACE_TEST_EMBEDDED:-127.0.0.1:29092}"
state="$(mktemp -d)"
embedded_pid=""
cleanup() {
  status=$?
  if [ -n "$embedded_pid" ]; then
    kill -TERM "$embedded_pid" 2>/dev/null || true
    wait "$embedded_pid" 2>/dev/null || true
  fi
  test/kafka/kafka.sh stop >&2 || true
  rm -rf "$state"
  exit "$status"
}
trap cleanup EXIT INT TERM

started=$(date +%s)
echo "==> starting Apache Kafka (test/kafka/kafka.sh)" >&2
kafka_addr="$(test/kafka/kafka.sh start)"

echo "==> starting the embedded broker on $embedded_addr" >&2
go build -o "$state/pipeline-runner" ./cmd/pipeline-runner
"$state/pipeline-runner" broker --listen "$embedded_addr" --data-dir "$state/embedded" \
  >"$state/embedded.log" 2>&1 &
embedded_pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/${embedded_addr%:*}/${embedded_addr##*:}") 2>/dev/null; then break; fi
  if ! kill -0 "$embedded_pid" 2>/dev/null; then cat "$state/embedded.log" >&2; exit 1; fi
  sleep 0.1
done

export MILLRACE_TEST_BROKERS="embedded=$embedded_addr,kafka=$kafka_addr"
export MILLRACE_KAFKA_RESTART="$root/test/kafka/kafka.sh restart"
# The secured listeners of the same Kafka broker (SASL_SSL, SSL with client
# certificates): addresses, certificate files and users, as
# MILLRACE_TEST_KAFKA_* variables (see test/kafka/README.md).
secure_env="$(test/kafka/kafka.sh secure-env)"
set -a
eval "$secure_env"
set +a
echo "==> brokers: $MILLRACE_TEST_BROKERS (secured: SASL_SSL $MILLRACE_TEST_KAFKA_SASL_SSL, SSL $MILLRACE_TEST_KAFKA_SSL)" >&2

echo "==> go vet" >&2
go vet ./...
go -C test/bench vet ./...
go -C deploy/kubernetes vet ./...
echo "==> go test -race ./..." >&2
go build -o "$state/summary" ./test/summary
# -p 1: the reconnect test restarts Kafka, which must not happen under other
# packages' tests. The summary shows failing tests' output, the number of
# tests run against each broker and a closing "N passed, N failed" line.
# test/bench and deploy/kubernetes are modules of their own (plotting
# libraries and the Kubernetes API stay out of Millrace's go.mod); their
# tests run in the same stream.
# The fault matrix runs after the other packages, without the race
# detector (it measures memory and recovery times, and drives a
# pipeline-runner built without it), against its own broker.
{
  MILLRACE_FAULTS="" go test -json -race -count=1 -p 1 -timeout 25m "${extra[@]}" ./...
  go -C test/bench test -json -race -count=1 -timeout 10m "${extra[@]}" ./...
  go -C deploy/kubernetes test -json -count=1 -timeout 5m "${extra[@]}" ./...
  if [ -n "$faults" ]; then
    MILLRACE_FAULTS="$faults" go test -json -count=1 -timeout 40m "${extra[@]}" ./test/faults/
  fi
} | "$state/summary"
# Allocation budgets hold for plain builds (the race detector allocates
# more, so they skip under -race).
echo "==> allocation budgets" >&2
go test -count=1 -run 'Allocat' ./pipeline/engine/ ./pipeline/kafka/ ./transforms/
echo "==> all tests passed in $(( $(date +%s) - started ))s" >&2
