#!/usr/bin/env bash
# End-to-end demo with no Sysdig account: installs what is missing, builds, then
#  1. starts the daemon with the built-in push backend, writes a few values and reads them back
#     through the URLs the HPA uses;
#  2. starts the Sysdig test double (test/doubles, which speaks Sysdig's wire formats) and the daemon
#     against it, and reads object, pods and external metrics as the HPA would.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
if [ ! -x build/sysdig-metrics-adapter ] || [ -n "${DEMO_REBUILD:-}" ]; then scripts/build.sh plain >/dev/null; else cmake --build build >/dev/null; fi

port="${DEMO_PORT:-6443}"
log="$(mktemp)"
build/sysdig-metrics-adapter --insecure-allow-anonymous --bind-address 127.0.0.1 --secure-port "$port" 2>"$log" &
pid=$!
cleanup() {
  for p in ${pids:-}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -f "$log"
}
pids="$pid"
trap cleanup EXIT
wait_ready() {
  for _ in $(seq 100); do
    curl -sk "https://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the daemon did not become ready; its log:" >&2
  cat "$log" >&2
  exit 1
}
wait_ready "$port"

base="https://127.0.0.1:$port"
post() { curl -sk --fail-with-body -X POST --data "$2" "$base$1"; }
show() {
  echo
  echo "GET $1"
  curl -sk "$base$1" | python3 -m json.tool
}

echo "Writing sample values (push backend)..."
post /write-metrics/namespaces/default/services/kuard/net.http.request.count '"105.763"'
post /write-metrics/namespaces/default/pods/kuard-7d4f-abcde/net.http.request.count '{"value":"52.5","labels":{"app":"kuard"}}'
post /write-metrics/namespaces/default/pods/kuard-7d4f-fghij/net.http.request.count '{"value":53.263,"labels":{"app":"kuard"}}'
post /write-metrics/namespaces/default/pods/redis-0/net.http.request.count '{"value":"7","labels":{"app":"redis"}}'
post /write-external-metrics/namespaces/default/queue_depth '{"value":"1500","metricLabels":{"queue":"orders"}}'

show "/apis/custom.metrics.k8s.io/v1beta2"
show "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/services/kuard/net.http.request.count"
show "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/net.http.request.count?labelSelector=app%3Dkuard"
show "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth?labelSelector=queue%3Dorders"
show "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/services/kuard/no.such.metric"

echo
echo "What would the HPA controller do with manifests/examples/hpa-pods.yaml at 2 replicas? (simulate, values"
echo "read through the metrics API paths of the running daemon, as the kube-apiserver forwards them)"
kubeconfig="$(mktemp)"
cat >"$kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: adapter, cluster: {server: "$base", insecure-skip-tls-verify: true}}]
users: [{name: demo, user: {token: anonymous-demo}}]
contexts: [{name: adapter, context: {cluster: adapter, user: demo}}]
current-context: adapter
EOF
build/sysdig-metrics-adapter simulate -f manifests/examples/hpa-pods.yaml --replicas 2 --selector app=kuard \
  --metrics-kubeconfig "$kubeconfig"
rm -f "$kubeconfig"

echo
echo "=== Sysdig backend (against the Sysdig test double; cluster prod) ==="
kill "$pid"; wait "$pid" 2>/dev/null || true
token="demo-token-$$"
double_out="$(mktemp)"
python3 test/doubles/sysdig_double.py --port 0 --token "$token" >"$double_out" 2>/dev/null &
pids="$pids $!"
for _ in $(seq 100); do [ -s "$double_out" ] && break; sleep 0.1; done
double_port="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$double_out")"
rm -f "$double_out"
SDC_ENDPOINT="http://127.0.0.1:$double_port" SDC_TOKEN="$token" CLUSTER_NAME=prod \
  build/sysdig-metrics-adapter --insecure-allow-anonymous --bind-address 127.0.0.1 --secure-port "$port" \
  --config test/integration/fixtures/sysdig_promql_rules.yaml 2>"$log" &
pid=$!
pids="$pids $pid"
wait_ready "$port"

echo
echo "The HPA's Object metric on Service kuard becomes this Sysdig request (explain):"
SDC_ENDPOINT="http://127.0.0.1:$double_port" SDC_TOKEN="$token" CLUSTER_NAME=prod \
  build/sysdig-metrics-adapter explain \
  "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/services/kuard/net.http.request.count"
show "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/services/kuard/net.http.request.count"
show "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/deployments.apps/kuard/cpu.cores.used"
show "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue.depth?labelSelector=queue%3Dorders"

echo
echo "And with manifests/examples/hpa-object.yaml at 4 replicas, values from this adapter's own providers (simulate):"
SDC_ENDPOINT="http://127.0.0.1:$double_port" SDC_TOKEN="$token" CLUSTER_NAME=prod \
  build/sysdig-metrics-adapter simulate -f manifests/examples/hpa-object.yaml --replicas 4 \
  --config test/integration/fixtures/sysdig_promql_rules.yaml
