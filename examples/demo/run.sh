#!/usr/bin/env bash
# The out-of-the-box demo (`make run`): the gateway on its embedded default configuration, run from ./run, with the
# example API (mock source) deployed from ./run/definitions and a subscription that pushes to the demo receiver.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}/debug
run=$root/run
management=127.0.0.1:18082

command -v curl >/dev/null || { echo "make run needs curl (apt-get install -y curl)"; exit 1; }
mkdir -p "$run/plugins" "$run/definitions" "$run/data"
cp "$target/libwebhook.so" "$target/libmock.so" "$run/plugins/"
cp "$root/examples/demo/definitions/"*.json "$run/definitions/"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$target/demo-receiver" 127.0.0.1:8090 & pids+=($!)
(cd "$run" && exec "$target/gateway-host") & pids+=($!)

for _ in $(seq 1 100); do
  curl -fs "http://$management/_node/health" >/dev/null 2>&1 && break
  sleep 0.1
done
token=$(cat "$run/data/management.token")
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data @"$root/examples/demo/subscription.json" \
  "http://$management/management/v2/apis/demo/subscriptions")
case "$status" in
  201) echo "demo subscription created" ;;
  400) echo "demo subscription already exists (kept in run/data/gateway.db)" ;;
  *) echo "could not create the demo subscription (HTTP $status)"; exit 1 ;;
esac
cat <<MSG

  Gateway management API: http://$management   (token in run/data/management.token: $token)
  Try: curl -H "Authorization: Bearer $token" http://$management/management/v2/apis/demo/subscriptions
  A webhook arrives at the demo receiver every second. Ctrl-C stops everything.

MSG
wait
