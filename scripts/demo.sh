#!/usr/bin/env bash
# End-to-end demo with no Sysdig account: installs what is missing, builds, starts the daemon with the
# built-in push backend, writes a few values and reads them back through the URLs the HPA uses.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
if [ ! -x build/sysdig-metrics-adapter ] || [ -n "${DEMO_REBUILD:-}" ]; then scripts/build.sh plain >/dev/null; else cmake --build build >/dev/null; fi

port="${DEMO_PORT:-6443}"
log="$(mktemp)"
build/sysdig-metrics-adapter --insecure-allow-anonymous --bind-address 127.0.0.1 --secure-port "$port" 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
  curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

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
