"""Every read path shape of custom.metrics.k8s.io, both versions, against pushed values."""
import datetime
import json
import re
import time
import unittest

from adapter_process import Adapter

V1 = "/apis/custom.metrics.k8s.io/v1beta1"
V2 = "/apis/custom.metrics.k8s.io/v1beta2"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def ordered(body):
    """Parses JSON keeping key order, so the order Kubernetes writes can be asserted."""
    return json.loads(body, object_pairs_hook=lambda pairs: pairs)


def keys(pairs):
    return [k for k, _ in pairs]


class CustomMetricsApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.adapter = Adapter()
        a = cls.adapter
        a.push("/write-metrics/namespaces/default/services/kuard/net.http.request.count", "105.763")
        a.push("/write-metrics/namespaces/default/deployments.apps/kuard/queue_depth", 12000)
        a.push("/write-metrics/namespaces/default/metrics/namespace_requests", "1500")
        a.push("/write-metrics/nodes/node-1/node_load", 0.5)
        for pod, app, value in [("kuard-1", "kuard", "1"), ("kuard-2", "kuard", "2.5"), ("other-1", "other", "7")]:
            a.push(f"/write-metrics/namespaces/default/pods/{pod}/http_requests",
                   {"value": value, "labels": {"app": app}})
        # Same pod name in another namespace: must never leak into "default".
        a.push("/write-metrics/namespaces/staging/pods/kuard-9/http_requests",
               {"value": "9", "labels": {"app": "kuard"}})
        # Two series of one object, told apart by metric labels.
        a.push("/write-metrics/namespaces/default/services/api/requests", {"value": "3", "metricLabels": {"verb": "GET"}})
        a.push("/write-metrics/namespaces/default/services/api/requests", {"value": "4", "metricLabels": {"verb": "POST"}})

    @classmethod
    def tearDownClass(cls):
        cls.adapter.stop()

    def get_ok(self, path):
        r = self.adapter.get(path)
        self.assertEqual(r.status, 200, f"{path}: {r.body}")
        self.assertEqual(r.headers.get("Content-Type"), "application/json")
        return r

    def assert_fresh_timestamp(self, text):
        self.assertRegex(text, RFC3339)
        t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        self.assertLess(abs(t.timestamp() - time.time()), 120)

    def test_object_metric_v1beta1_has_kubernetes_field_order_and_canonical_value(self):
        r = self.get_ok(V1 + "/namespaces/default/services/kuard/net.http.request.count")
        doc = ordered(r.body)
        self.assertEqual(keys(doc), ["kind", "apiVersion", "metadata", "items"])
        body = r.json()
        self.assertEqual(body["kind"], "MetricValueList")
        self.assertEqual(body["apiVersion"], "custom.metrics.k8s.io/v1beta1")
        self.assertEqual(body["metadata"], {})
        self.assertEqual(len(body["items"]), 1)
        item_pairs = dict(doc)["items"][0]
        self.assertEqual(keys(item_pairs), ["describedObject", "metricName", "timestamp", "value", "selector"])
        item = body["items"][0]
        self.assertEqual(item["describedObject"],
                         {"kind": "Service", "namespace": "default", "name": "kuard", "apiVersion": "/v1"})
        self.assertEqual(keys(dict(item_pairs)["describedObject"]), ["kind", "namespace", "name", "apiVersion"])
        self.assertEqual(item["metricName"], "net.http.request.count")
        self.assertEqual(item["value"], "105763m")
        self.assertIsNone(item["selector"])
        self.assertNotIn("window", item)  # pushed values carry no window
        self.assert_fresh_timestamp(item["timestamp"])

    def test_object_metric_v1beta2_uses_metric_identifier(self):
        r = self.get_ok(V2 + "/namespaces/default/services/kuard/net.http.request.count")
        body = r.json()
        self.assertEqual(body["apiVersion"], "custom.metrics.k8s.io/v1beta2")
        item_pairs = dict(ordered(r.body))["items"][0]
        self.assertEqual(keys(item_pairs), ["describedObject", "metric", "timestamp", "value"])
        item = body["items"][0]
        self.assertEqual(item["metric"], {"name": "net.http.request.count", "selector": None})
        self.assertEqual(item["value"], "105763m")

    def test_group_qualified_resource_reports_its_api_version(self):
        item = self.get_ok(V2 + "/namespaces/default/deployments.apps/kuard/queue_depth").json()["items"][0]
        self.assertEqual(item["describedObject"],
                         {"kind": "Deployment", "namespace": "default", "name": "kuard", "apiVersion": "apps/v1"})
        self.assertEqual(item["value"], "12k")

    def test_namespace_metric_describes_the_namespace_object(self):
        item = self.get_ok(V1 + "/namespaces/default/metrics/namespace_requests").json()["items"][0]
        self.assertEqual(item["describedObject"], {"kind": "Namespace", "name": "default", "apiVersion": "/v1"})
        self.assertEqual(item["value"], "1500")

    def test_root_scoped_object(self):
        item = self.get_ok(V1 + "/nodes/node-1/node_load").json()["items"][0]
        self.assertEqual(item["describedObject"], {"kind": "Node", "name": "node-1", "apiVersion": "/v1"})
        self.assertEqual(item["value"], "500m")

    def test_pods_selector_returns_only_matching_pods(self):
        for star in ("*", "%2A", "%2a"):
            body = self.get_ok(V2 + f"/namespaces/default/pods/{star}/http_requests?labelSelector=app%3Dkuard").json()
            got = {i["describedObject"]["name"]: i["value"] for i in body["items"]}
            self.assertEqual(got, {"kuard-1": "1", "kuard-2": "2500m"}, star)
            for i in body["items"]:
                self.assertEqual(i["describedObject"]["namespace"], "default")

    def test_selector_grammar_reaches_the_answer(self):
        cases = {
            "app!=kuard": {"other-1"},
            "app in (kuard,other)": {"kuard-1", "kuard-2", "other-1"},
            "app notin (kuard)": {"other-1"},
            "app": {"kuard-1", "kuard-2", "other-1"},
            "!app": set(),
            "app==kuard": {"kuard-1", "kuard-2"},
        }
        import urllib.parse
        for selector, expected in cases.items():
            path = V1 + "/namespaces/default/pods/*/http_requests?labelSelector=" + urllib.parse.quote(selector)
            names = {i["describedObject"]["name"] for i in self.get_ok(path).json()["items"]}
            self.assertEqual(names, expected, selector)

    def test_pods_without_selector_lists_every_pod_of_the_namespace(self):
        names = {i["describedObject"]["name"]
                 for i in self.get_ok(V1 + "/namespaces/default/pods/*/http_requests").json()["items"]}
        self.assertEqual(names, {"kuard-1", "kuard-2", "other-1"})

    def test_metric_label_selector_picks_series_and_is_echoed(self):
        r = self.get_ok(V1 + "/namespaces/default/services/api/requests?metricLabelSelector=verb%3DGET")
        item = r.json()["items"][0]
        self.assertEqual(item["value"], "3")
        self.assertEqual(item["selector"], {"matchLabels": {"verb": "GET"}})
        r = self.get_ok(V2 + "/namespaces/default/services/api/requests?metricLabelSelector=verb%20in%20(GET,POST)")
        item = r.json()["items"][0]
        self.assertEqual(item["value"], "7")  # both series, summed
        self.assertEqual(item["metric"]["selector"],
                         {"matchExpressions": [{"key": "verb", "operator": "In", "values": ["GET", "POST"]}]})

    def test_missing_metric_is_not_found_with_status(self):
        r = self.adapter.get(V1 + "/namespaces/default/services/kuard/no_such_metric")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json(), {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server could not find the metric no_such_metric for services kuard",
            "reason": "NotFound", "code": 404})

    def test_other_namespace_value_is_not_served(self):
        r = self.adapter.get(V1 + "/namespaces/default/pods/kuard-9/http_requests")
        self.assertEqual(r.status, 404)

    def test_answers_are_json_whatever_accept_says(self):
        r = self.adapter.get(V1 + "/namespaces/default/services/kuard/net.http.request.count",
                             headers={"Accept": "application/vnd.kubernetes.protobuf"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["kind"], "MetricValueList")


if __name__ == "__main__":
    unittest.main()
