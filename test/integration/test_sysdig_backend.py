"""The Sysdig backend end to end: the real daemon against the Sysdig double (both wire protocols)
and the Kubernetes API double. Proves scoping, aggregation, one backend call per request, input
validation before anything is sent, and outages answered with 503, never a number."""
import os
import time
import unittest

from adapter_process import Adapter
from adapter_stack import AdapterStack
from double_processes import SysdigDouble

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
V1 = "/apis/custom.metrics.k8s.io/v1beta1"
V2 = "/apis/custom.metrics.k8s.io/v1beta2"
EXT = "/apis/external.metrics.k8s.io/v1beta1"


class SysdigBackendCase:
    """Shared by both API modes; subclasses set MODE and RULES."""
    MODE = None
    RULES = None
    # A cold cache for every request: these tests count backend calls and prove outages are 503. They
    # are about each request's own query, so merging across objects (test_merged_queries) is off.
    EXTRA_FLAGS = ("--cache-ttl", "0", "--merge-queries=false")

    @classmethod
    def setUpClass(cls):
        cls.stack = AdapterStack("--sysdig-api", cls.MODE, "--config", os.path.join(FIXTURES, cls.RULES),
                                 "--backend-timeout", "2s", *cls.EXTRA_FLAGS, sysdig_path="/api/")
        cls.sysdig, cls.kube, cls.adapter = cls.stack.sysdig, cls.stack.kube, cls.stack.adapter

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def setUp(self):
        self.sysdig.clear_faults()
        self.sysdig.clear_requests()

    def get_ok(self, path):
        r = self.adapter.get(path)
        self.assertEqual(r.status, 200, f"{path}: {r.body}")
        return r.json()

    def only_item(self, path):
        items = self.get_ok(path)["items"]
        self.assertEqual(len(items), 1, items)
        return items[0]

    # --- values, scoped to exactly one object of one namespace of one cluster ---

    def test_service_object_metric_sums_its_pods_in_this_cluster_only(self):
        item = self.only_item(V1 + "/namespaces/default/services/kuard/net.http.request.count")
        self.assertEqual(item["value"], "60750m")  # 10.5 + 20.25 + 30; staging and payments excluded
        self.assertEqual(item["describedObject"],
                         {"kind": "Service", "namespace": "default", "name": "kuard", "apiVersion": "/v1"})
        self.assertEqual(item["window"], 60)
        self.assertEqual(len(self.sysdig.query_requests()), 1)

    def test_deployment_and_statefulset_objects(self):
        item = self.only_item(V2 + "/namespaces/default/deployments.apps/kuard/net.http.request.count")
        self.assertEqual(item["value"], "60750m")
        self.assertEqual(item["describedObject"]["apiVersion"], "apps/v1")
        self.assertEqual(item["windowSeconds"], 60)
        item = self.only_item(V2 + "/namespaces/default/statefulsets.apps/redis/net.http.request.count")
        self.assertEqual(item["value"], "12500m")

    def test_other_namespace_gets_its_own_values(self):
        item = self.only_item(V1 + "/namespaces/payments/services/kuard/net.http.request.count")
        self.assertEqual(item["value"], "600")

    def test_namespace_metric(self):
        item = self.only_item(V1 + "/namespaces/default/metrics/kubernetes.namespace.pod.running.count")
        self.assertEqual(item["value"], "5")
        self.assertEqual(item["describedObject"], {"kind": "Namespace", "name": "default", "apiVersion": "/v1"})

    def test_node_metric(self):
        item = self.only_item(V1 + "/nodes/node-a/cpu.used.percent")
        self.assertEqual(item["value"], "42500m")
        self.assertNotIn("namespace", item["describedObject"])

    def test_pod_values_keep_their_precision(self):
        self.assertEqual(self.only_item(V1 + "/namespaces/default/pods/kuard-7d4f-1/cpu.cores.used")["value"], "580m")
        self.assertEqual(self.only_item(V1 + "/namespaces/default/pods/kuard-7d4f-3/memory.used.bytes")["value"],
                         "6442450944")

    def test_pods_selector_returns_matching_pods_from_one_backend_request(self):
        body = self.get_ok(V2 + "/namespaces/default/pods/*/net.http.request.count?labelSelector=app%3Dkuard")
        got = {i["describedObject"]["name"]: i["value"] for i in body["items"]}
        self.assertEqual(got, {"kuard-7d4f-1": "10500m", "kuard-7d4f-2": "20250m", "kuard-7d4f-3": "30"})
        self.assertEqual(len(self.sysdig.query_requests()), 1)
        listed = [r for r in self.kube.requests() if "/pods" in r["path"]]
        self.assertGreaterEqual(len(listed), 1)

    def test_pods_selector_matching_nothing_asks_no_backend(self):
        body = self.get_ok(V1 + "/namespaces/default/pods/*/net.http.request.count?labelSelector=app%3Dnobody")
        self.assertEqual(body["items"], [])
        self.assertEqual(self.sysdig.query_requests(), [])

    def test_external_metric(self):
        body = self.get_ok(EXT + "/namespaces/default/queue.depth?labelSelector=queue%3Dorders")
        self.assertEqual([i["value"] for i in body["items"]], ["42"])
        self.assertEqual(body["items"][0]["metricName"], "queue.depth")

    def test_missing_series_is_not_found_never_zero(self):
        r = self.adapter.get(V1 + "/namespaces/default/services/kuard/no.such.metric")
        self.assertEqual(r.status, 404, r.body)
        self.assertEqual(r.json()["reason"], "NotFound")
        self.assertIn("no.such.metric", r.json()["message"])

    def test_not_found_names_the_scope_it_searched(self):
        r = self.adapter.get(V1 + "/namespaces/default/services/no-such-service/net.http.request.count")
        self.assertEqual(r.status, 404, r.body)
        message = r.json()["message"]
        for part in ('"prod"', '"default"', '"no-such-service"'):
            self.assertIn(part, message)
        self.assertNotIn("at all", message, "the cluster has the metric: the hint about CLUSTER_NAME would mislead")

    def test_a_cluster_without_the_metric_points_at_cluster_name(self):
        # A mistyped CLUSTER_NAME: the object exists in Sysdig, but under the real cluster's name.
        with Adapter("--sysdig-api", self.MODE, "--config", os.path.join(FIXTURES, self.RULES), "--cache-ttl", "0",
                     env={"SDC_ENDPOINT": self.sysdig.url + "/api/", "SDC_TOKEN": SysdigDouble.TOKEN,
                          "CLUSTER_NAME": "prod-typo"}) as a:
            r = a.get(V1 + "/namespaces/default/services/kuard/net.http.request.count")
            self.assertEqual(r.status, 404, r.body)
            message = r.json()["message"]
            self.assertIn('cluster "prod-typo" has no', message)
            self.assertIn("at all", message)
            self.assertIn("CLUSTER_NAME", message)
            self.assertIn('"kuard"', message)

    def test_discovery_never_waits_on_the_backend(self):
        self.sysdig.inject(mode="hang")
        started = time.time()
        r = self.adapter.get(V1)
        self.assertEqual(r.status, 200)
        self.assertLess(time.time() - started, 1.5)
        self.assertTrue(r.json()["resources"])
        self.assertEqual(self.adapter.get("/readyz").status, 200)

    # --- hostile input never reaches the backend ---

    INJECTIONS = [
        V1 + "/namespaces/default/services/kuard%22%7D/net.http.request.count",
        V1 + "/namespaces/default%22/services/kuard/net.http.request.count",
        V1 + "/namespaces/default/services/kuard/m%22%7Bx",
        V1 + "/namespaces/default/services/kuard/m%20or%20vector(1)",
        V1 + "/namespaces/default/services/ku%5Card/m",
        V1 + "/namespaces/default/services/kuard%0A/m",
        V1 + "/namespaces/default/services/kuard%00/m",
        V1 + "/namespaces/default/services/" + "a" * 300 + "/m",
        V1 + "/namespaces/default/services/kuard/" + "m" * 300,
        V1 + "/namespaces/default/deployments.apps/deployment;kuard/m",
        V1 + "/namespaces/default/pods/*/m?labelSelector=app%3Dkuard%22",
        V1 + "/namespaces/default/pods/*/m?labelSelector=app%3Dkuard%0Aor%0Aapp",
        V1 + "/namespaces/default/pods/*/m?labelSelector=app%3D~kuard",
        V1 + "/namespaces/default/pods/*/m?labelSelector=app%3Dkuard%7D%20or%20x",
        V1 + "/namespaces/default/services/kuard/m?metricLabelSelector=kube_namespace_name%3Dpayments",
        V1 + "/namespaces/default/services/kuard/m?metricLabelSelector=kube_cluster_name%3Dstaging",
        V1 + "/namespaces/default/services/kuard/m?metricLabelSelector=kube_pod_name%20in%20(a,b)",
        V1 + "/namespaces/default/services/kuard/m?metricLabelSelector=kubernetes.namespace.name%3Dpayments",
        V1 + "/namespaces/default/services/kuard/m?metricLabelSelector=verb%3D%5C",
        V1 + "/namespaces/default/services/*/m?labelSelector=app%3Dkuard",
        EXT + "/namespaces/default/queue.depth?labelSelector=kube_namespace_name%3Dpayments",
        EXT + "/namespaces/default/queue.depth?labelSelector=kubernetes.cluster.name%3Dstaging",
        EXT + "/namespaces/default/queue.depth?labelSelector=queue%3Dorders%22",
        EXT + "/namespaces/default%2Fpayments/queue.depth",
    ]

    def test_injection_attempts_are_refused_before_reaching_the_backend(self):
        for path in self.INJECTIONS:
            with self.subTest(path=path):
                r = self.adapter.get(path)
                self.assertEqual(r.status, 400, r.body)
                self.assertEqual(r.json()["reason"], "BadRequest")
        self.assertEqual(self.sysdig.query_requests(), [])

    # --- outages: 503 (or 500 for unreadable answers), never a number ---

    def assert_failure(self, code, fragment=None):
        path = V1 + "/namespaces/default/services/kuard/net.http.request.count"
        started = time.time()
        r = self.adapter.get(path)
        self.assertLess(time.time() - started, 5)
        self.assertEqual(r.status, code, r.body)
        status = r.json()
        self.assertEqual(status["kind"], "Status")
        self.assertNotIn("items", status)
        if fragment:
            self.assertIn(fragment, status["message"])
        self.assertNotIn(SysdigDouble.TOKEN, r.body)

    def test_backend_errors_are_503(self):
        for status in (500, 502, 503, 429):
            with self.subTest(status=status):
                self.sysdig.clear_faults()
                self.sysdig.inject(mode="status", status=status)
                self.assert_failure(503, f"HTTP {status}")

    def test_rejected_token_is_503_saying_so(self):
        self.sysdig.inject(mode="status", status=401)
        self.assert_failure(503, "rejected the API token")

    def test_dropped_and_hanging_connections_are_503(self):
        self.sysdig.inject(mode="drop")
        self.assert_failure(503)
        self.sysdig.clear_faults()
        self.sysdig.inject(mode="hang")
        self.assert_failure(503)

    def test_truncated_answer_is_never_a_number(self):
        self.sysdig.inject(mode="truncate")
        path = V1 + "/namespaces/default/services/kuard/net.http.request.count"
        r = self.adapter.get(path)
        self.assertIn(r.status, (500, 503), r.body)  # cut mid-body: unreadable or a broken connection
        self.assertEqual(r.json()["kind"], "Status")

    def test_oversized_answer_is_refused_without_buffering_it(self):
        self.sysdig.inject(mode="oversize", bytes=24 * 1024 * 1024)
        self.assert_failure(500, "answer refused")

    def test_garbage_answer_is_500(self):
        self.sysdig.inject(mode="garbage")
        self.assert_failure(500, "not")

    def test_recovers_when_the_backend_returns(self):
        self.sysdig.inject(mode="status", status=503)
        self.assert_failure(503)
        self.sysdig.clear_faults()
        self.assertEqual(self.only_item(V1 + "/namespaces/default/services/kuard/net.http.request.count")["value"],
                         "60750m")

    def test_token_never_appears_in_logs(self):
        self.sysdig.inject(mode="status", status=401)
        self.adapter.get(V1 + "/namespaces/default/services/kuard/net.http.request.count")
        self.assertFalse([l for l in self.adapter.log_lines if SysdigDouble.TOKEN in l])


class SysdigPromqlTest(SysdigBackendCase, unittest.TestCase):
    MODE = "promql"
    RULES = "sysdig_promql_rules.yaml"

    def test_queries_are_scoped_by_cluster_namespace_and_object(self):
        self.get_ok(V1 + "/namespaces/default/services/kuard/net.http.request.count")
        (request,) = self.sysdig.query_requests()
        query = request["form"]["query"][0]
        self.assertEqual(query, 'sum by (kube_service_name) (avg_over_time(sysdig_container_net_http_request_count'
                                '{kube_cluster_name="prod",kube_namespace_name="default",kube_service_name="kuard"}[1m]))')
        self.assertEqual(request["headers"]["authorization"], "Bearer " + SysdigDouble.TOKEN)
        # Evaluated --query-offset (20s) in the past, to cover ingestion delay.
        self.assertAlmostEqual(float(request["form"]["time"][0]), time.time() - 20, delta=5)

    def test_metric_label_selector_becomes_matchers(self):
        r = self.adapter.get(V1 + "/namespaces/default/services/kuard/net.http.request.count"
                             "?metricLabelSelector=app%20in%20(kuard,redis)")
        self.assertEqual(r.status, 200, r.body)
        (request,) = self.sysdig.query_requests()
        self.assertIn('app=~"kuard|redis"', request["form"]["query"][0])
        self.assertEqual(r.json()["items"][0]["selector"],
                         {"matchExpressions": [{"key": "app", "operator": "In", "values": ["kuard", "redis"]}]})

    def test_custom_resource_kind_comes_from_kubernetes_discovery(self):
        self.kube.control("POST", "discovery", {"example.com": {"version": "v1alpha1", "resources": [
            {"name": "widgets", "kind": "Widget", "namespaced": True}]}})
        item = self.only_item(V1 + "/namespaces/default/widgets.example.com/kuard/net.http.request.count")
        self.assertEqual(item["describedObject"], {"kind": "Widget", "namespace": "default", "name": "kuard",
                                                   "apiVersion": "example.com/v1alpha1"})
        self.assertEqual(item["value"], "60750m")

    def test_prometheus_label_keys_that_cannot_be_matchers_are_refused(self):
        r = self.adapter.get(V1 + "/namespaces/default/services/kuard/m?metricLabelSelector=app.kubernetes.io%2Fname%3Dx")
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(self.sysdig.query_requests(), [])

    def test_discovery_lists_backend_metric_names(self):
        deadline = time.time() + 10  # the first refresh runs in the background after start-up
        names = set()
        while time.time() < deadline and "pods/sysdig_container_net_http_request_count" not in names:
            names = {x["name"] for x in self.get_ok(V1)["resources"]}
            time.sleep(0.1)
        self.assertIn("pods/sysdig_container_net_http_request_count", names)
        self.assertIn("deployments.apps/sysdig_container_net_http_request_count", names)
        self.assertIn("namespaces/kubernetes.namespace.pod.running.count", names)
        external = {x["name"] for x in self.get_ok(EXT)["resources"]}
        self.assertEqual(external, {"queue.depth"})


class SysdigDataApiTest(SysdigBackendCase, unittest.TestCase):
    MODE = "data"
    RULES = "sysdig_data_rules.yaml"

    def test_pods_query_segments_by_pod_with_paging_for_every_pod(self):
        self.get_ok(V1 + "/namespaces/default/pods/*/net.http.request.count?labelSelector=app%3Dkuard")
        (request,) = self.sysdig.query_requests()
        body = request["json"]
        self.assertEqual(body["metrics"][0], {"id": "kubernetes.pod.name"})
        self.assertEqual(body["metrics"][1]["id"], "net.http.request.count")
        self.assertEqual(body["paging"], {"from": 0, "to": 2})
        self.assertIn("kubernetes.cluster.name = 'prod'", body["filter"])
        self.assertIn("kubernetes.namespace.name = 'default'", body["filter"])

    def test_object_query_body(self):
        self.get_ok(V1 + "/namespaces/default/services/kuard/net.http.request.count")
        (request,) = self.sysdig.query_requests()
        self.assertEqual(request["json"], {
            "metrics": [{"id": "net.http.request.count", "aggregations": {"time": "timeAvg", "group": "sum"}}],
            "dataSourceType": "container",
            "filter": "kubernetes.cluster.name = 'prod' and kubernetes.namespace.name = 'default' and "
                      "kubernetes.service.name = 'kuard'",
            "last": 60, "sampling": 60})


class LegacyWorkloadNamesTest(unittest.TestCase):
    def test_type_semicolon_name_reads_workload_type_and_name(self):
        with SysdigDouble() as sysdig, Adapter("--legacy-workload-names", env={
                "SDC_ENDPOINT": sysdig.url, "SDC_TOKEN": SysdigDouble.TOKEN, "CLUSTER_NAME": "prod"}) as a:
            r = a.get(V1 + "/namespaces/default/deployments.apps/deployment;kuard/net.http.request.count")
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["items"][0]["value"], "60750m")
            (request,) = sysdig.query_requests()
            self.assertIn('kube_workload_type="deployment",kube_workload_name="kuard"', request["form"]["query"][0])

    def test_without_the_flag_the_message_points_to_it(self):
        with SysdigDouble() as sysdig, Adapter(env={
                "SDC_ENDPOINT": sysdig.url, "SDC_TOKEN": SysdigDouble.TOKEN, "CLUSTER_NAME": "prod"}) as a:
            r = a.get(V1 + "/namespaces/default/deployments.apps/deployment;kuard/net.http.request.count")
            self.assertEqual(r.status, 400)
            self.assertIn("--legacy-workload-names", r.json()["message"])


class StartupTest(unittest.TestCase):
    def test_sysdig_backend_without_cluster_name_does_not_start(self):
        from adapter_process import run_binary
        code, _, err = run_binary("--insecure-allow-anonymous", "--secure-port", "0",
                                  env={"SDC_TOKEN": "x", "SDC_ENDPOINT": "http://127.0.0.1:1"})
        self.assertEqual(code, 1)
        self.assertIn("CLUSTER_NAME", err)

    def test_refused_connection_is_503(self):
        with Adapter(env={"SDC_ENDPOINT": "http://127.0.0.1:9", "SDC_TOKEN": "x", "CLUSTER_NAME": "prod"}) as a:
            r = a.get(V1 + "/namespaces/default/services/kuard/net.http.request.count")
            self.assertEqual(r.status, 503, r.body)
            self.assertEqual(r.json()["reason"], "ServiceUnavailable")


if __name__ == "__main__":
    unittest.main()
