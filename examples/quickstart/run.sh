#!/usr/bin/env bash
# Quickstart: build pipeline-runner, run ./pipelines.yaml on the embedded
# broker, feed the sample events and print what came out. Needs only Go.
#
#   ./examples/quickstart/run.sh                 run, show the outputs, stop
#   ./examples/quickstart/run.sh --keep-running  leave the runner running (Ctrl-C stops it),
#                                                to look at its status page
#
# Addresses: MILLRACE_EMBEDDED_LISTEN (the embedded broker, default
# 127.0.0.1:9092) and MILLRACE_ADMIN_ADDR (the status page and metrics,
# default 127.0.0.1:9469). MILLRACE_BIN runs that pipeline-runner instead of
# building one.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

keep=""
for arg in "$@"; do
  case "$arg" in
    --keep-running) keep=1 ;;
    *) echo "unknown option $arg (see the header of $0)" >&2; exit 2 ;;
  esac
done

listen="${MILLRACE_EMBEDDED_LISTEN:-127.0.0.1:9092}"
admin="${MILLRACE_ADMIN_ADDR:-127.0.0.1:9469}"

# taken reports whether something already listens on host:port.
taken() {
  (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null
}
# free prints a free host:port near host:port.
free() {
  local host="${1%:*}" port="${1##*:}"
  for p in $(seq $((port + 10000)) $((port + 10100))); do
    if ! taken "$host:$p"; then echo "$host:$p"; return; fi
  done
  echo "$host:PORT"
}
port_hint() {
  echo "Choose free addresses with the variables, for example:" >&2
  echo "  MILLRACE_EMBEDDED_LISTEN=$(free "$listen") MILLRACE_ADMIN_ADDR=$(free "$admin") $0 $*" >&2
}
if taken "$listen"; then
  echo "error: $listen (the embedded broker's address) is already in use; set MILLRACE_EMBEDDED_LISTEN to a free host:port." >&2
  port_hint "$@"
  exit 1
fi
if taken "$admin"; then
  echo "error: $admin (the status page's address) is already in use; set MILLRACE_ADMIN_ADDR to a free host:port." >&2
  port_hint "$@"
  exit 1
fi

bin="${MILLRACE_BIN:-}"
if [ -z "$bin" ]; then
  bin="$root/.cache/bin/pipeline-runner"
  echo "==> building pipeline-runner"
  go build -o "$bin" ./cmd/pipeline-runner
fi

export MILLRACE_EMBEDDED_LISTEN="$listen"
export MILLRACE_DATA_DIR="${MILLRACE_DATA_DIR:-$(mktemp -d)}"
log="$(mktemp)"

echo "==> starting the runner with the embedded broker on $listen"
"$bin" run -c pipelines.yaml --admin-addr "$admin" >"$log" 2>&1 &
runner=$!
cleanup() {
  kill -TERM "$runner" 2>/dev/null || true
  wait "$runner" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  if grep -q 'runner starting' "$log"; then break; fi
  if ! kill -0 "$runner" 2>/dev/null; then
    cat "$log" >&2
    echo "the runner exited early" >&2
    if grep -q 'address already in use' "$log"; then port_hint "$@"; fi
    exit 1
  fi
  sleep 0.1
done

echo "==> producing examples/quickstart/events.ndjson to topic orders"
"$bin" produce -c pipelines.yaml --topic orders --key-field user --header source=quickstart \
  <examples/quickstart/events.ndjson

show() {
  echo
  echo "==> $1 ($2 record(s) expected)"
  "$bin" consume -c pipelines.yaml --topic "$1" --max "$2" --timeout 30s ${3:-}
}
show orders-enriched 2
show orders-de 1
show orders-dlq 2 --json

echo
echo "==> status page: http://$admin/ (metrics: http://$admin/metrics)"
if [ -n "$keep" ]; then
  echo "==> the runner keeps running; produce more with:"
  echo "      MILLRACE_EMBEDDED_LISTEN=$listen $bin produce -c pipelines.yaml --topic orders '{\"user\":\"ann\",\"amount\":5,\"status\":\"paid\"}'"
  echo "    Ctrl-C stops it. Runner log: $log"
  trap 'echo; echo "==> stopping the runner (SIGTERM)"; cleanup; exit 0' INT TERM
  wait "$runner" || true
  trap - EXIT
  exit 0
fi
echo "    (./examples/quickstart/run.sh --keep-running leaves the runner running to look at it)"
echo
echo "==> stopping the runner (SIGTERM)"
cleanup
trap - EXIT
echo "runner log: $log"
