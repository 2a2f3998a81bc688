"""The value cache in front of the Sysdig backend, through the real daemon and the Sysdig double's
request log: coalescing of identical concurrent queries, sharing across API paths, TTL, stale-on-error
bounded by --max-staleness, and the counters on /metrics."""
import os
import re
import tempfile
import threading
import time
import unittest

from adapter_process import Adapter
from double_processes import SysdigDouble

V1 = "/apis/custom.metrics.k8s.io/v1beta1"
V2 = "/apis/custom.metrics.k8s.io/v1beta2"
OBJECT = "/namespaces/default/services/kuard/net.http.request.count"


def metric_value(text, name, **labels):
    """The value of one sample in Prometheus text format, or 0 when absent."""
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        match = re.match(r'^(\w+)(\{([^}]*)\})? (\S+)$', line)
        if not match or match.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', match.group(3) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(match.group(4))
    return 0.0


def value_queries(sysdig):
    """The PromQL queries for values, without a 404's follow-up check of the whole cluster (count(...))."""
    return [r for r in sysdig.query_requests() if not r.get("form", {}).get("query", [""])[0].startswith("count(")]


class ValueCacheTest(unittest.TestCase):
    def start(self, *flags):
        self.sysdig = SysdigDouble()
        self.addCleanup(self.sysdig.stop)
        self.adapter = Adapter(*flags, env={"SDC_ENDPOINT": self.sysdig.url, "SDC_TOKEN": SysdigDouble.TOKEN,
                                            "CLUSTER_NAME": "prod"})
        self.addCleanup(self.adapter.stop)
        self.sysdig.clear_requests()

    def test_identical_concurrent_requests_make_one_backend_call(self):
        self.start()
        self.sysdig.inject(latency_ms=400)
        results = []

        def ask():
            results.append(self.adapter.get(V1 + OBJECT))

        threads = [threading.Thread(target=ask) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([r.status for r in results], [200] * 20)
        self.assertEqual({r.json()["items"][0]["value"] for r in results}, {"60750m"})
        self.assertEqual(len(self.sysdig.query_requests()), 1)
        metrics = self.adapter.get("/metrics").body
        self.assertGreaterEqual(metric_value(metrics, "sysdig_metrics_adapter_cache_events_total", event="coalesced"), 1)

    def test_different_api_paths_share_one_backend_answer_until_the_ttl(self):
        self.start("--cache-ttl", "1s")
        self.assertEqual(self.adapter.get(V1 + OBJECT).status, 200)
        self.assertEqual(self.adapter.get(V2 + OBJECT).status, 200)  # same backend query
        self.assertEqual(len(self.sysdig.query_requests()), 1)
        time.sleep(1.2)
        self.assertEqual(self.adapter.get(V1 + OBJECT).status, 200)
        self.assertEqual(len(self.sysdig.query_requests()), 2)

    def test_cache_ttl_zero_turns_the_cache_off(self):
        self.start("--cache-ttl", "0")
        for _ in range(3):
            self.assertEqual(self.adapter.get(V1 + OBJECT).status, 200)
        self.assertEqual(len(self.sysdig.query_requests()), 3)

    def test_a_rule_cache_ttl_replaces_the_flag_for_its_metric(self):
        with tempfile.TemporaryDirectory() as d:
            rules = os.path.join(d, "rules.yaml")
            with open(rules, "w") as f:
                f.write("rules:\n"
                        "  - metric: net.http.request.count\n"
                        "    cacheTTL: 0s\n"
                        "  - metricRegex: \".*\"\n")
            self.start("--config", rules, "--cache-ttl", "10s")
            for _ in range(3):
                self.assertEqual(self.adapter.get(V1 + OBJECT).status, 200)
            self.assertEqual(len(self.sysdig.query_requests()), 3)   # the rule: never reused
            self.sysdig.clear_requests()
            other = "/namespaces/default/services/kuard/net.request.time"
            statuses = [self.adapter.get(V1 + other).status for _ in range(3)]
            self.assertEqual(len(set(statuses)), 1, statuses)
            # --cache-ttl: one call for three (a 404 also asks, once, whether the cluster has the metric at all)
            self.assertEqual(len(value_queries(self.sysdig)), 1)
            self.assertLessEqual(len(self.sysdig.query_requests()) - 1, 1)

    def test_cache_hits_are_answered_on_the_io_thread_without_a_worker(self):
        self.start("--cache-ttl", "10s")

        def handed_off():
            return metric_value(self.adapter.get("/metrics").body,
                                "sysdig_metrics_adapter_requests_handed_off_total")

        before = handed_off()
        self.assertEqual(self.adapter.get(V1 + OBJECT).status, 200)   # a miss: the backend call waits on a worker
        after_miss = handed_off()
        self.assertEqual(after_miss - before, 1)
        for _ in range(5):
            self.assertEqual(self.adapter.get(V1 + OBJECT).json()["items"][0]["value"], "60750m")
        self.assertEqual(handed_off(), after_miss, "cache hits went to a worker")

    def test_stale_value_is_served_on_backend_failure_within_max_staleness(self):
        self.start("--cache-ttl", "500ms", "--max-staleness", "60s")
        self.assertEqual(self.adapter.get(V1 + OBJECT).json()["items"][0]["value"], "60750m")
        time.sleep(0.7)
        self.sysdig.inject(mode="status", status=503)
        r = self.adapter.get(V1 + OBJECT)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["items"][0]["value"], "60750m")
        metrics = self.adapter.get("/metrics").body
        self.assertEqual(metric_value(metrics, "sysdig_metrics_adapter_cache_events_total", event="stale"), 1)
        self.assertTrue(any("serving the last answer" in l for l in self.adapter.log_lines))

    def test_past_max_staleness_the_failure_stands(self):
        self.start("--cache-ttl", "500ms", "--max-staleness", "1s")
        self.assertEqual(self.adapter.get(V1 + OBJECT).status, 200)
        time.sleep(1.3)
        self.sysdig.inject(mode="status", status=503)
        r = self.adapter.get(V1 + OBJECT)
        self.assertEqual(r.status, 503, r.body)
        self.assertNotIn("items", r.body)

    def test_counters_move_as_requests_are_made(self):
        self.start()
        # Let the start-up discovery refresh finish first, so only this test's calls fall in the window.
        deadline = time.time() + 10
        while time.time() < deadline and "discovery_last_refresh_timestamp_seconds{" not in self.adapter.get("/metrics").body:
            time.sleep(0.05)
        self.sysdig.clear_requests()
        before = self.adapter.get("/metrics").body
        self.adapter.get(V1 + OBJECT)
        self.adapter.get(V1 + OBJECT)
        self.adapter.get(V1 + "/namespaces/default/services/kuard/no.such.metric")
        after = self.adapter.get("/metrics").body
        name = "sysdig_metrics_adapter_requests_total"
        self.assertEqual(metric_value(after, name, kind="object", version="v1beta1", code="200")
                         - metric_value(before, name, kind="object", version="v1beta1", code="200"), 2)
        self.assertEqual(metric_value(after, name, kind="object", version="v1beta1", code="404"), 1)
        self.assertGreaterEqual(metric_value(after, "sysdig_metrics_adapter_cache_events_total", event="hit"), 1)
        self.assertEqual(metric_value(after, "sysdig_metrics_adapter_backend_requests_total",
                                      backend="sysdig", outcome="success")
                         - metric_value(before, "sysdig_metrics_adapter_backend_requests_total",
                                        backend="sysdig", outcome="success"), len(self.sysdig.requests()))
        self.assertEqual(len(value_queries(self.sysdig)), 2)  # the repeat was a cache hit
        self.assertIn("sysdig_metrics_adapter_request_duration_seconds_bucket", after)
        self.assertEqual(metric_value(after, "sysdig_metrics_adapter_build_info"), 1)


if __name__ == "__main__":
    unittest.main()
