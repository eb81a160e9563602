#!/usr/bin/env bash
# The demos. `run.sh mock` (make run): the gateway on its embedded default configuration, run from ./run, with the
# example API (mock source) and a subscription that pushes to the demo receiver.
# `run.sh kafka` (make run-kafka): the same against a local tansu broker on 127.0.0.1:9092, fed by kafka-produce.
# `run.sh cluster` (make run-cluster): tansu, and three nodes sharing a Kafka store (docs/cluster.md), with management
# APIs on 127.0.0.1:18082-18084; the demo API is deployed through node 1 and runs on one node.
set -euo pipefail
mode=${1:-mock}
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}/debug
run=${DEMO_RUN_DIR:-$root/run/$mode}
# The gateway's own settings (GATEWAY_MANAGEMENT_LISTEN, GATEWAY_MANAGEMENT_TOKEN, GATEWAY_CONFIG) are honoured.
management=${GATEWAY_MANAGEMENT_LISTEN:-127.0.0.1:18082}
case "$mode" in
  mock|cluster) example=$root/examples/demo; api=demo ;;
  kafka) example=$root/examples/demo-kafka; api=demo-kafka ;;
  *) echo "usage: run.sh [mock|kafka|cluster]"; exit 2 ;;
esac

command -v curl >/dev/null || { echo "the demo needs curl (apt-get install -y curl)"; exit 1; }
# One gateway runs in $run; the cluster's nodes each in $run/node<N>.
homes=("$run")
[ "$mode" = cluster ] && homes=("$run/node1" "$run/node2" "$run/node3")
for home in "${homes[@]}"; do
  mkdir -p "$home/plugins" "$home/definitions" "$home/data"
  for plugin in webhook webhook_advanced mock kafka; do cp "$target/lib$plugin.so" "$home/plugins/"; done
done
# The definitions go to one gateway (node 1 of a cluster stores them for every node).
cp "$example/definitions/"*.json "${homes[0]}/definitions/"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ "$mode" != mock ]; then
  tansu=${TANSU:-${CARGO_HOME:-$HOME/.cargo}/bin/tansu}
  mkdir -p "$run/broker"
  (cd "$run/broker" && exec "$tansu" broker --listener-url tcp://127.0.0.1:9092 \
    --advertised-listener-url tcp://127.0.0.1:9092 --storage-engine sqlite://tansu.db >tansu.log 2>&1) & pids+=($!)
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null && break; sleep 0.1; done
  [ "$mode" = kafka ] && "$target/kafka-produce" --create-topic --count 0 >/dev/null
fi

"$target/demo-receiver" 127.0.0.1:8090 & pids+=($!)
# The demo receiver listens on loopback, which the egress guard denies by default (docs/security.md): the demo
# allows it explicitly.
export GATEWAY_EGRESS_ALLOW_NETWORKS=${GATEWAY_EGRESS_ALLOW_NETWORKS:-127.0.0.0/8}
if [ "$mode" = cluster ]; then
  # Every node shares the store's key and, for the demo, one management token: both kept in $run.
  [ -s "$run/store.key" ] || head -c 32 /dev/urandom | base64 >"$run/store.key"
  [ -s "$run/management.token" ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$run/management.token"
  chmod 600 "$run/store.key" "$run/management.token"
  export GATEWAY_STORE_KIND=kafka GATEWAY_STORE_BOOTSTRAP_SERVERS=127.0.0.1:9092
  export GATEWAY_STORE_TOPIC_PREFIX=demo-cluster GATEWAY_STORE_ENCRYPTION_KEY="$(cat "$run/store.key")"
  export GATEWAY_MANAGEMENT_TOKEN="${GATEWAY_MANAGEMENT_TOKEN:-$(cat "$run/management.token")}"
  for node in 1 2 3; do
    (cd "$run/node$node" && GATEWAY_MANAGEMENT_LISTEN=127.0.0.1:$((18081 + node)) exec "$target/gateway-host" \
      >gateway.log 2>&1) & pids+=($!)
    echo "node $node: pid $!, management API http://127.0.0.1:$((18081 + node)), log run/cluster/node$node/gateway.log"
  done
  management=127.0.0.1:18082
else
  (cd "$run" && exec "$target/gateway-host") & pids+=($!)
fi

for _ in $(seq 1 300); do
  curl -fs "http://$management/_node/health" >/dev/null 2>&1 && break
  sleep 0.1
done
# The token in force: the environment's, else the configuration file's, else the one the gateway generated.
token=${GATEWAY_MANAGEMENT_TOKEN:-}
token_source="GATEWAY_MANAGEMENT_TOKEN"
if [ -z "$token" ] && [ -n "${GATEWAY_CONFIG:-}" ]; then
  token=$(sed -n '/^\[management\]/,/^\[/s/^[[:space:]]*token[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' "$GATEWAY_CONFIG" | head -n 1)
  token_source="$GATEWAY_CONFIG"
fi
if [ -z "$token" ]; then
  for _ in $(seq 1 50); do [ -s "$run/data/management.token" ] && break; sleep 0.1; done
  token=$(cat "$run/data/management.token" 2>/dev/null || true)
  token_source="run/$mode/data/management.token"
fi
[ -n "$token" ] || { echo "no management token: set GATEWAY_MANAGEMENT_TOKEN"; exit 1; }
for subscription in "$example"/subscription*.json; do
  name=$(basename "$subscription" .json)
  answer=$(curl -s -w '\n%{http_code}' -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' --data @"$subscription" \
    "http://$management/management/v2/apis/$api/subscriptions")
  case "$answer" in
    *$'\n'201) echo "demo $name created" ;;
    *"already exists"*) echo "demo $name already exists (kept in the store of run/$mode)" ;;
    *) echo "could not create the demo $name: ${answer%$'\n'*}"; exit 1 ;;
  esac
done
cat <<MSG

  Gateway management API: http://$management   (token from $token_source: $token)
  Try: curl -H "Authorization: Bearer $token" http://$management/management/v2/apis/$api/subscriptions
MSG
if [ "$mode" = kafka ]; then
  "$target/kafka-produce" --count 5 >/dev/null
  echo "  Five records were produced. Produce more: $target/kafka-produce --count 10"
elif [ "$mode" = cluster ]; then
  echo "  Nodes on 18082, 18083, 18084 share the store (docs/cluster.md); each answers for the whole cluster."
  echo "  A webhook arrives every second from the node that holds the demo's share (gateway_subscriptions_running"
  echo "  is 1 on it); kill that node's pid and another takes the demo over about 10 s later."
else
  echo "  A webhook arrives at the demo receiver every second. The second subscription's callback answers 400,"
  echo "  so each of its messages goes to the dead letter queue (a mock endpoint that logs what it gets)."
fi
echo "  Ctrl-C stops everything."
echo
wait
