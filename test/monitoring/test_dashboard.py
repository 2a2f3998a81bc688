"""monitoring:dashboard: deploy/monitoring/grafana-dashboard.json is an importable Grafana dashboard document: schema
version, unique ids, a Prometheus data-source variable that every panel and query uses, namespace and pod variables,
one-line descriptions, a layout without overlaps, and a panel for each part of the adapter the issue names."""
import re
import unittest

import monitoring_files as mf

PANEL_TYPES = {"timeseries", "stat", "table", "row"}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


class DashboardDocumentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dashboard = mf.load_dashboard()
        cls.panels = mf.panels(cls.dashboard)
        cls.variables = {v["name"]: v for v in cls.dashboard["templating"]["list"]}

    def test_top_level_fields(self):
        d = self.dashboard
        # Grafana 9.x writes 36-37, 10.x 38-39, 11.x 39-41; a newer Grafana migrates older documents on import.
        self.assertIsInstance(d["schemaVersion"], int)
        self.assertGreaterEqual(d["schemaVersion"], 36)
        self.assertIsNone(d.get("id"), "an exported id would clash with the importing Grafana's own ids")
        self.assertTrue(re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", d["uid"]), d["uid"])
        self.assertTrue(d["title"])
        self.assertIsInstance(d["panels"], list)
        self.assertIn("from", d["time"])
        self.assertIsInstance(d["version"], int)

    def test_panel_ids_unique(self):
        ids = [p["id"] for p in self.dashboard["panels"]] + [
            c["id"] for p in self.dashboard["panels"] if p.get("type") == "row" for c in p.get("panels", [])]
        self.assertTrue(all(isinstance(i, int) and i > 0 for i in ids), ids)
        self.assertEqual(len(ids), len(set(ids)), "duplicate panel ids")

    def test_datasource_variable_used_by_every_panel_and_query(self):
        ds = self.variables.get("datasource")
        self.assertIsNotNone(ds, "no datasource variable")
        self.assertEqual((ds["type"], ds["query"]), ("datasource", "prometheus"))
        for panel in self.panels:
            with self.subTest(panel=panel["title"]):
                self.assertEqual(panel["datasource"], DATASOURCE)
                self.assertTrue(panel["targets"])
                for target in panel["targets"]:
                    self.assertEqual(target["datasource"], DATASOURCE)
        for name, var in self.variables.items():
            if var["type"] == "query":
                self.assertEqual(var["datasource"], DATASOURCE, name)

    def test_namespace_and_pod_variables(self):
        for name in ("namespace", "pod"):
            self.assertEqual(self.variables[name]["type"], "query", name)
        pod = self.variables["pod"]
        self.assertTrue(pod["multi"] and pod["includeAll"], "pick one replica or all of them")
        self.assertEqual(pod["allValue"], ".*")
        self.assertIn("$namespace", pod["query"]["query"])
        for name, selector, label in mf.variable_queries(self.dashboard):
            self.assertTrue(mf.metric_names(selector) <= {"sysdig_metrics_adapter_build_info"}, name)

    def test_every_query_filters_by_namespace_and_pod(self):
        for panel in self.panels:
            for target in panel["targets"]:
                names = mf.metric_names(target["expr"])
                if not any(n.startswith("sysdig_metrics_adapter_") or n == "up" for n in names):
                    continue  # the kube-apiserver's aggregator_unavailable_apiservice
                # Every selector of an adapter metric carries the variables.
                for selector in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*\{[^}]*\}", target["expr"]):
                    with self.subTest(panel=panel["title"], selector=selector):
                        self.assertIn('namespace=~"$namespace"', selector)
                        self.assertIn('pod=~"$pod"', selector)

    def test_variables_used_are_defined(self):
        for panel in self.panels:
            for target in panel["targets"]:
                for used in re.findall(r"\$\{?([a-zA-Z_][a-zA-Z0-9_]*)", target["expr"]):
                    with self.subTest(panel=panel["title"], variable=used):
                        self.assertTrue(used in self.variables or used in mf.GRAFANA_BUILTINS)

    def test_panels_are_described_in_one_line(self):
        for panel in self.panels:
            with self.subTest(panel=panel.get("title")):
                self.assertIn(panel["type"], PANEL_TYPES)
                self.assertTrue(panel["title"])
                self.assertTrue(panel.get("description"), "each panel says what a bad value means")
                self.assertNotIn("\n", panel["description"])
                self.assertLessEqual(len(panel["description"]), 320)
                ref_ids = [t["refId"] for t in panel["targets"]]
                self.assertEqual(len(ref_ids), len(set(ref_ids)))
                self.assertTrue(all(t["expr"].strip() for t in panel["targets"]))

    def test_layout_fits_and_does_not_overlap(self):
        cells = set()
        for panel in self.dashboard["panels"]:
            g = panel["gridPos"]
            with self.subTest(panel=panel["title"]):
                self.assertGreaterEqual(g["x"], 0)
                self.assertLessEqual(g["x"] + g["w"], 24)
                for x in range(g["x"], g["x"] + g["w"]):
                    for y in range(g["y"], g["y"] + g["h"]):
                        self.assertNotIn((x, y), cells, "panels overlap")
                        cells.add((x, y))

    def test_covers_what_operators_need(self):
        """One panel at least reads each of these: the issue's list."""
        text = "\n".join(t["expr"] for p in self.panels for t in p["targets"])
        wanted = {
            "request rate and error ratio by kind and code": r"sum by \(kind, code\) \(rate\(sysdig_metrics_adapter_requests_total",
            "latency p50/p99": r"histogram_quantile\(0\.99, sum by \(kind, le\) \(rate\(sysdig_metrics_adapter_request_duration_seconds_bucket",
            "backend calls and failures": r"sum by \(backend, outcome\) \(rate\(sysdig_metrics_adapter_backend_requests_total",
            "backend latency": r"sysdig_metrics_adapter_backend_request_duration_seconds_bucket",
            "cache hit ratio": r'event="hit"',
            "coalesced calls": r'event="coalesced"',
            "stale answers": r'event="stale"',
            "age of served values": r"sysdig_metrics_adapter_served_value_age_seconds_bucket",
            "slot waits": r"sysdig_metrics_adapter_backend_calls_waiting_for_slot",
            "slot timeouts": r"sysdig_metrics_adapter_backend_slot_timeouts_total",
            "discovery refresh age": r"time\(\) - max by \(pod, backend\) \(sysdig_metrics_adapter_discovery_last_refresh_timestamp_seconds",
            "pod-watch health": r'kind="selector", code=~"5\.\."',
            "pod watch failures": r"sysdig_metrics_adapter_pod_watch_problems_total",
            "pod cache": r"sysdig_metrics_adapter_pod_cache\{",
            "certificate expiry": r"sysdig_metrics_adapter_serving_certificate_expiry_timestamp_seconds",
            "CA expiry": r"sysdig_metrics_adapter_serving_certificate_authority_expiry_timestamp_seconds",
            "CA injection": r"sysdig_metrics_adapter_apiservice_ca_injection",
            "Secret operations": r"sysdig_metrics_adapter_serving_secret_operations_total",
            "build info": r"sysdig_metrics_adapter_build_info",
            "replicas up": r"up\{",
        }
        for what, pattern in wanted.items():
            with self.subTest(what=what):
                self.assertRegex(text, pattern)


class MetricNameReadingTest(unittest.TestCase):
    """The reader the name checks rely on (test_against_prometheus, test_alert_rules)."""

    def test_names_and_not_functions_labels_or_keywords(self):
        expr = ('sum by (kind, le) (rate(a_bucket{x=~"$pod", y="b{c}"}[$__rate_interval])) / on (kind) group_left '
                'sum by (kind) (rate(b_total[5m])) or vector(0) unless on (namespace) up == 1 and time() - c > 14 * 86400')
        self.assertEqual(mf.metric_names(expr), {"a_bucket", "b_total", "up", "c"})


if __name__ == "__main__":
    unittest.main()
