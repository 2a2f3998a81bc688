"""monitoring:prometheus: the dashboard and the alert rules against a real Prometheus (Debian's package) scraping the
real daemon's plain metrics port (--metrics-bind-address), after traffic through the Sysdig and Kubernetes API doubles
that includes backend errors, answers cut short, stale answers, coalesced calls, a refused backend slot, a failing
pod listing and the serving certificate Secret.

- Every panel query (Grafana's variables substituted as Grafana does for namespace=custom-metrics and pod=All) is
  accepted by Prometheus' HTTP API, and every panel whose traffic happened returns a finite value.
- The variable queries find the namespace, pod and job.
- Prometheus loads deploy/monitoring/alert-rules.yaml and evaluates every rule without an error.
- Every metric name a panel, a variable or an alert reads is in the daemon's /metrics (or is one of the few that
  Prometheus or the kube-apiserver export): renaming a metric breaks this test.
"""
import http.client
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

import monitoring_files as mf

sys.path.insert(0, os.path.join(mf.REPO, "test", "integration"))
from adapter_process import Adapter  # noqa: E402
from double_processes import KubeApiDouble, SysdigDouble  # noqa: E402

NAMESPACE = "custom-metrics"          # the namespace label Prometheus Operator would add
POD = "sysdig-metrics-adapter-7c9f8d5b6d-2kq8x"
JOB = "sysdig-metrics-adapter"
QUERY_PATH = "/prometheus/api/v1/query"
V2 = "/apis/custom.metrics.k8s.io/v1beta2"
EXT = "/apis/external.metrics.k8s.io/v1beta1"
SERVICE = V2 + "/namespaces/default/services/kuard/net.http.request.count"
DEPLOYMENT = V2 + "/namespaces/default/deployments.apps/kuard/net.http.request.count"
STATEFULSET = V2 + "/namespaces/default/statefulsets.apps/redis/net.http.request.count"
POD_CPU = V2 + "/namespaces/default/pods/kuard-7d4f-1/cpu.cores.used"
PODS = V2 + "/namespaces/default/pods/*/net.http.request.count?labelSelector=app%3Dkuard"
PODS_UNLISTABLE = V2 + "/namespaces/payments/pods/*/net.http.request.count?labelSelector=app%3Dkuard"
EXTERNAL = EXT + "/namespaces/default/queue.depth?labelSelector=queue%3Dorders"
MISSING = V2 + "/namespaces/default/services/kuard/no.such.metric"
APISERVICES = ("v1beta1.custom.metrics.k8s.io", "v1beta2.custom.metrics.k8s.io", "v1beta1.external.metrics.k8s.io")
ROUNDS = 3
RATE_INTERVAL = "1m"                  # $__rate_interval: longer than the whole test, so every event counts

# Panels that may stay without a finite value here, and why. Allowed, not required: they pass once they have data.
MAY_BE_EMPTY = {
    "APIServices unavailable (kube-apiserver)": "a kube-apiserver metric; no kube-apiserver is scraped here",
    "Age of served values p50 / p99": "sysdig_metrics_adapter_served_value_age_seconds is exported but nothing "
                                      "observes it yet, so its quantiles are NaN",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def grafana_expr(expr):
    """The query Grafana sends for namespace=custom-metrics, pod=All, job=All."""
    return (expr.replace("$__rate_interval", RATE_INTERVAL).replace("$namespace", NAMESPACE)
            .replace("$pod", ".*").replace("$job", ".*"))


def apiservice(name):
    version, _, group = name.partition(".")
    return {"metadata": {"name": name},
            "spec": {"group": group, "version": version, "groupPriorityMinimum": 100, "versionPriority": 100,
                     "service": {"namespace": NAMESPACE, "name": "sysdig-metrics-adapter", "port": 443}}}


@unittest.skipUnless(shutil.which("prometheus"), "Debian's prometheus is installed by scripts/install-deps.sh")
class DashboardAndRulesAgainstPrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.stack = []
        try:
            cls.start()
            cls.drive_traffic()
        except BaseException:
            cls.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stop()

    @classmethod
    def stop(cls):
        errors = []
        for stop in reversed(cls.stack):
            try:
                stop()
            except Exception as e:  # stop the rest, then report
                errors.append(e)
        cls.stack = []
        cls.tmp.cleanup()
        if errors:
            raise errors[0]

    # -- the processes -----------------------------------------------------------------------------------------
    @classmethod
    def start(cls):
        cls.sysdig = SysdigDouble()
        cls.stack.append(cls.sysdig.stop)
        cls.kube = KubeApiDouble()
        cls.stack.append(cls.kube.stop)
        cls.kube.control("POST", "objects", {"secrets": [], "apiServices": [apiservice(n) for n in APISERVICES]})
        kubeconfig = cls.kube.write_kubeconfig(os.path.join(cls.tmp.name, "kubeconfig"))
        cls.adapter = Adapter(
            "--kubeconfig", kubeconfig, "--metrics-bind-address", "127.0.0.1:0",
            f"--serving-cert-secret={NAMESPACE}/sysdig-metrics-adapter-serving-cert",
            "--serving-cert-service=sysdig-metrics-adapter", "--serving-cert-check-interval=1s",
            "--cache-ttl", "1s", "--max-staleness", "30s", "--max-backend-concurrency", "1",
            "--request-timeout", "1s", "--backend-timeout", "3s", "--discovery-interval", "1s",
            env={"SDC_ENDPOINT": cls.sysdig.url, "SDC_TOKEN": SysdigDouble.TOKEN, "CLUSTER_NAME": "prod"})
        cls.stack.append(cls.adapter.stop)
        listening = next(json.loads(line) for line in cls.adapter.log_lines
                         if line.startswith("{") and json.loads(line).get("msg") == "listening")
        cls.metrics_port = int(listening["metrics_port"])

        cls.prom_port = free_port()
        cls.prom_url = f"http://127.0.0.1:{cls.prom_port}"
        config = os.path.join(cls.tmp.name, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {mf.RULES}
scrape_configs:
  - job_name: {JOB}
    static_configs:
      - targets: ['127.0.0.1:{cls.metrics_port}']
        labels: {{namespace: {NAMESPACE}, pod: {POD}}}
""")
        with open(os.path.join(cls.tmp.name, "prometheus.log"), "w") as log:
            cls.prometheus = subprocess.Popen(
                ["prometheus", "--config.file", config, "--storage.tsdb.path", os.path.join(cls.tmp.name, "data"),
                 "--web.listen-address", f"127.0.0.1:{cls.prom_port}"],
                stdout=subprocess.DEVNULL, stderr=log)

        def stop_prometheus():
            cls.prometheus.terminate()
            try:
                cls.prometheus.wait(timeout=20)
            except subprocess.TimeoutExpired:
                cls.prometheus.kill()
                cls.prometheus.wait()
        cls.stack.append(stop_prometheus)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if cls.instant(f'up{{job="{JOB}"}}')[0]["value"][1] == "1":
                    return
            except (OSError, IndexError, KeyError, ValueError):
                pass
            time.sleep(0.3)
        with open(os.path.join(cls.tmp.name, "prometheus.log")) as f:
            raise RuntimeError("Prometheus did not scrape the adapter in time:\n" + f.read()[-3000:])

    @classmethod
    def api(cls, path, **params):
        url = f"{cls.prom_url}/api/v1/{path}?{urllib.parse.urlencode(params, doseq=True)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read())

    @classmethod
    def instant(cls, query):
        answer = cls.api("query", query=query)
        if answer["status"] != "success":
            raise AssertionError(f"{query}: {answer}")
        return answer["data"]["result"]

    # -- the traffic ---------------------------------------------------------------------------------------------
    @classmethod
    def get(cls, path):
        return cls.adapter.get(path).status

    @classmethod
    def concurrently(cls, *paths):
        statuses = [None] * len(paths)

        def one(i):
            statuses[i] = cls.get(paths[i])
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(paths))]
        for t in threads:
            t.start()
            time.sleep(0.02)
        for t in threads:
            t.join(15)
        return statuses

    @classmethod
    def drive_traffic(cls):
        """ROUNDS rounds, each past the 1 s cache TTL and the 1 s scrape interval, so every counter moves between
        scrapes. Each round: reads of every kind, a backend error served stale, an answer cut short (outcome
        "unavailable"), identical reads coalesced on one slow call, a pods/* read whose pod listing fails; once, a
        read refused for want of a backend slot."""
        seen = set()
        for round_ in range(ROUNDS):
            # The backend fails the first query: the service's value from the last round is served stale (round 0:
            # nothing to serve, 503), and the backend call counts as an error.
            cls.sysdig.inject(status=503, count=1, path_prefix=QUERY_PATH)
            seen.add(("stale or 503", cls.get(SERVICE)))
            cls.sysdig.inject(mode="truncate", count=1, path_prefix=QUERY_PATH)
            seen.add(("truncated", cls.get(EXTERNAL)))
            for path in (SERVICE, SERVICE, PODS, PODS, EXTERNAL, EXTERNAL, V2, EXT, MISSING):
                seen.add((path, cls.get(path)))
            # Four identical reads while the one backend call for them takes 300 ms: one miss, three coalesced.
            cls.sysdig.inject(latency_ms=300, count=1, path_prefix=QUERY_PATH)
            seen.update(("coalesced", s) for s in cls.concurrently(DEPLOYMENT, DEPLOYMENT, DEPLOYMENT, DEPLOYMENT))
            if round_ == 1:
                # One backend slot, held for 1.8 s by a discovery call (no request deadline, only
                # --backend-timeout): a read waits for it until its 1 s deadline and is refused (503).
                cls.sysdig.clear_faults()
                cls.sysdig.inject(latency_ms=1800, count=1, path_prefix="/prometheus/api/v1/label")
                deadline = time.monotonic() + 5
                while cls.sysdig.control("GET", "faults")["faults"] and time.monotonic() < deadline:
                    time.sleep(0.02)   # the double takes the fault when the slow call arrives: the slot is held
                seen.add(("slot", cls.get(POD_CPU)))
            # The first list of namespace payments fails: pods/* there is answered 503 (or 504 at the deadline).
            cls.kube.inject(status=500, path_prefix="/api/v1/namespaces/payments/pods")
            seen.add(("unlistable", cls.get(PODS_UNLISTABLE)))
            cls.kube.clear_faults()
            cls.sysdig.clear_faults()
            # The pod watches are cut while the API server refuses them: each reopening fails and is retried
            # (pod_watch_problems_total), then the watches come back once the faults clear.
            cls.kube.inject(status=500, path_prefix="/api/v1/namespaces/default/pods")
            cls.kube.inject(status=500, path_prefix="/api/v1/pods")
            cls.kube.control("POST", "break-watches", {})
            time.sleep(1.2)
            cls.kube.clear_faults()
        time.sleep(2.5)  # the last scrapes
        cls.seen = seen
        cls.metrics_text = cls.scrape()

    @classmethod
    def scrape(cls):
        conn = http.client.HTTPConnection("127.0.0.1", cls.metrics_port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            return conn.getresponse().read().decode()
        finally:
            conn.close()

    # -- the checks ------------------------------------------------------------------------------------------------
    def test_cut_pod_watches_are_counted_as_problems(self):
        value = sum(float(line.rsplit(" ", 1)[1]) for line in self.metrics_text.splitlines()
                    if line.startswith("sysdig_metrics_adapter_pod_watch_problems_total"))
        self.assertGreater(value, 0)

    def test_traffic_reached_every_path(self):
        self.assertIn(200, {status for _, status in self.seen})
        self.assertIn(("slot", 503), self.seen)
        self.assertTrue({("unlistable", 503), ("unlistable", 504)} & self.seen, self.seen)
        for line in ('sysdig_metrics_adapter_cache_events_total{event="stale"}',
                     'sysdig_metrics_adapter_cache_events_total{event="coalesced"}',
                     'sysdig_metrics_adapter_backend_slot_timeouts_total',
                     'sysdig_metrics_adapter_pod_cache{value="namespaces"}',
                     'outcome="error"', 'outcome="unavailable"', 'kind="selector",version="v1beta2"'):
            with self.subTest(series=line):
                sample = [x for x in self.metrics_text.splitlines() if line in x and not x.startswith("#")]
                self.assertTrue(sample, f"no {line} in /metrics")
                self.assertTrue(any(float(x.rsplit(" ", 1)[1]) > 0 for x in sample), sample)

    def test_every_panel_query_parses_and_returns_data(self):
        dashboard = mf.load_dashboard()
        for panel in mf.panels(dashboard):
            for target in panel["targets"]:
                query = grafana_expr(target["expr"])
                with self.subTest(panel=panel["title"], refId=target["refId"]):
                    answer = self.api("query", query=query)
                    self.assertEqual(answer["status"], "success", f"{query}\n{answer}")
                    if panel["title"] in MAY_BE_EMPTY:
                        continue
                    result = answer["data"]["result"]
                    values = [float(r["value"][1]) for r in result] if isinstance(result, list) else []
                    self.assertTrue(any(math.isfinite(v) for v in values),
                                    f"no finite value for {query}: {result}")

    def test_variable_queries_find_namespace_pod_and_job(self):
        wanted = {"namespace": NAMESPACE, "pod": POD, "job": JOB}
        for name, selector, label in mf.variable_queries(mf.load_dashboard()):
            with self.subTest(variable=name):
                answer = self.api(f"label/{label}/values", **{"match[]": grafana_expr(selector)})
                self.assertEqual(answer["status"], "success", answer)
                self.assertIn(wanted[name], answer["data"])

    def test_prometheus_evaluates_every_rule_without_error(self):
        alerts = {a["alert"] for a in mf.alerts(mf.load_rules())}
        deadline = time.time() + 20
        while True:
            rules = [r for g in self.api("rules")["data"]["groups"] for r in g["rules"]]
            evaluated = [r for r in rules if r.get("lastEvaluation", "").startswith("0001") is False]
            if len(evaluated) == len(rules) or time.time() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual({r["name"] for r in rules if r["type"] == "alerting"}, alerts)
        for rule in rules:
            with self.subTest(rule=rule["name"]):
                self.assertEqual(rule["health"], "ok", rule.get("lastError"))

    def test_every_metric_name_used_is_exported(self):
        exported = mf.exposed_names(self.metrics_text)
        used = {}
        for panel in mf.panels(mf.load_dashboard()):
            for target in panel["targets"]:
                for name in mf.metric_names(target["expr"]):
                    used.setdefault(name, []).append(f"panel {panel['title']!r}")
        for name, selector, label in mf.variable_queries(mf.load_dashboard()):
            for metric in mf.metric_names(selector):
                used.setdefault(metric, []).append(f"variable {name}")
        for alert in mf.alerts(mf.load_rules()):
            for name in mf.metric_names(alert["expr"]):
                used.setdefault(name, []).append(f"alert {alert['alert']}")
        self.assertIn("sysdig_metrics_adapter_requests_total", used)
        for name, users in sorted(used.items()):
            with self.subTest(metric=name):
                if name in mf.NOT_FROM_THE_ADAPTER:
                    continue
                self.assertIn(name, exported, f"used by {', '.join(users)} but not in the daemon's /metrics")
        # up is Prometheus' own, and here it says the adapter is scraped.
        self.assertEqual(self.instant(f'up{{job="{JOB}"}}')[0]["value"][1], "1")


if __name__ == "__main__":
    unittest.main()
