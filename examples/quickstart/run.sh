#!/usr/bin/env bash
# Quickstart: build pipeline-runner, run ./pipelines.yaml on the embedded
# broker, feed the sample events and print what came out. Needs only Go.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

bin="$root/.cache/bin/pipeline-runner"
echo "==> building pipeline-runner"
go build -o "$bin" ./cmd/pipeline-runner

listen="${MILLRACE_EMBEDDED_LISTEN:-127.0.0.1:9092}"
export MILLRACE_EMBEDDED_LISTEN="$listen"
export MILLRACE_DATA_DIR="${MILLRACE_DATA_DIR:-$(mktemp -d)}"
log="$(mktemp)"

echo "==> starting the runner with the embedded broker on $listen"
"$bin" run -c pipelines.yaml >"$log" 2>&1 &
runner=$!
cleanup() {
  kill -TERM "$runner" 2>/dev/null || true
  wait "$runner" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  if grep -q '"runner starting"\|runner starting' "$log"; then break; fi
  if ! kill -0 "$runner" 2>/dev/null; then cat "$log"; echo "the runner exited early" >&2; exit 1; fi
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
echo "==> stopping the runner (SIGTERM)"
cleanup
trap - EXIT
echo "runner log: $log"
