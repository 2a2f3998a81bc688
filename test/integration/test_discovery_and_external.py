"""Discovery documents, external metrics and value expiry."""
import time
import unittest

from adapter_process import Adapter

CUSTOM_GROUP = {
    "name": "custom.metrics.k8s.io",
    "versions": [
        {"groupVersion": "custom.metrics.k8s.io/v1beta2", "version": "v1beta2"},
        {"groupVersion": "custom.metrics.k8s.io/v1beta1", "version": "v1beta1"},
    ],
    "preferredVersion": {"groupVersion": "custom.metrics.k8s.io/v1beta2", "version": "v1beta2"},
}
EXTERNAL_GROUP = {
    "name": "external.metrics.k8s.io",
    "versions": [{"groupVersion": "external.metrics.k8s.io/v1beta1", "version": "v1beta1"}],
    "preferredVersion": {"groupVersion": "external.metrics.k8s.io/v1beta1", "version": "v1beta1"},
}


def resource(name, kind, namespaced=True):
    return {"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": ["get"]}


class DiscoveryTest(unittest.TestCase):
    def test_group_documents(self):
        with Adapter() as a:
            self.assertEqual(a.get("/apis").json(), {"kind": "APIGroupList", "apiVersion": "v1",
                                                     "groups": [CUSTOM_GROUP, EXTERNAL_GROUP]})
            self.assertEqual(a.get("/apis/custom.metrics.k8s.io").json(),
                             {"kind": "APIGroup", "apiVersion": "v1", **CUSTOM_GROUP})
            self.assertEqual(a.get("/apis/external.metrics.k8s.io/").json(),
                             {"kind": "APIGroup", "apiVersion": "v1", **EXTERNAL_GROUP})

    def test_resource_lists_are_never_empty_and_list_written_metrics(self):
        with Adapter() as a:
            for version in ("v1beta1", "v1beta2"):
                r = a.get(f"/apis/custom.metrics.k8s.io/{version}")
                self.assertEqual(r.status, 200)
                self.assertEqual(r.json(), {"kind": "APIResourceList", "apiVersion": "v1",
                                            "groupVersion": f"custom.metrics.k8s.io/{version}",
                                            "resources": [resource("*/*", "MetricValueList")]})
            self.assertEqual(a.get("/apis/external.metrics.k8s.io/v1beta1").json()["resources"],
                             [resource("*", "ExternalMetricValueList")])

            a.push("/write-metrics/namespaces/default/pods/p1/http_requests", "1")
            a.push("/write-metrics/namespaces/default/deployments.apps/web/queue_depth", "1")
            a.push("/write-metrics/nodes/n1/load", "1")
            a.push("/write-external-metrics/namespaces/default/queue_messages", "1")
            got = a.get("/apis/custom.metrics.k8s.io/v1beta2").json()["resources"]
            self.assertEqual(sorted(got, key=lambda x: x["name"]), [
                resource("deployments.apps/queue_depth", "MetricValueList"),
                resource("nodes/load", "MetricValueList", namespaced=False),
                resource("pods/http_requests", "MetricValueList"),
            ])
            self.assertEqual(a.get("/apis/external.metrics.k8s.io/v1beta1").json()["resources"],
                             [resource("queue_messages", "ExternalMetricValueList")])


class ExternalMetricsTest(unittest.TestCase):
    def test_external_values_are_selected_by_metric_labels(self):
        with Adapter() as a:
            a.push("/write-external-metrics/namespaces/default/queue_messages",
                   {"value": "30", "metricLabels": {"queue": "orders"}})
            a.push("/write-external-metrics/namespaces/default/queue_messages",
                   {"value": "0.25", "metricLabels": {"queue": "emails"}})
            a.push("/write-external-metrics/namespaces/other/queue_messages",
                   {"value": "99", "metricLabels": {"queue": "orders"}})
            r = a.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_messages"
                      "?labelSelector=queue%3Dorders")
            self.assertEqual(r.status, 200, r.body)
            body = r.json()
            self.assertEqual(body["kind"], "ExternalMetricValueList")
            self.assertEqual(body["apiVersion"], "external.metrics.k8s.io/v1beta1")
            self.assertEqual(len(body["items"]), 1)
            item = body["items"][0]
            self.assertEqual(list(item.keys()), ["metricName", "metricLabels", "timestamp", "value"])
            self.assertEqual(item["metricName"], "queue_messages")
            self.assertEqual(item["metricLabels"], {"queue": "orders"})
            self.assertEqual(item["value"], "30")

            all_items = a.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_messages").json()
            self.assertEqual(sorted(i["value"] for i in all_items["items"]), ["250m", "30"])

    def test_unknown_external_metric_answers_an_empty_list(self):
        with Adapter() as a:
            r = a.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/nothing_here")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["items"], [])


class ExpiryTest(unittest.TestCase):
    def test_values_expire_after_push_ttl(self):
        with Adapter("--push-ttl", "700ms") as a:
            path = "/namespaces/default/services/s/m"
            a.push("/write-metrics" + path, "5")
            self.assertEqual(a.get("/apis/custom.metrics.k8s.io/v1beta1" + path).status, 200)
            time.sleep(1.0)
            self.assertEqual(a.get("/apis/custom.metrics.k8s.io/v1beta1" + path).status, 404)
            resources = a.get("/apis/custom.metrics.k8s.io/v1beta1").json()["resources"]
            self.assertEqual([x["name"] for x in resources], ["*/*"])

    def test_push_ttl_zero_keeps_values(self):
        with Adapter("--push-ttl=0") as a:
            a.push("/write-metrics/namespaces/default/services/s/m", "5")
            time.sleep(0.3)
            self.assertEqual(a.get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/services/s/m").status, 200)

    def test_a_new_write_replaces_the_value(self):
        with Adapter() as a:
            a.push("/write-metrics/namespaces/default/services/s/m", "5")
            a.push("/write-metrics/namespaces/default/services/s/m", 6)
            item = a.get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/services/s/m").json()["items"][0]
            self.assertEqual(item["value"], "6")


if __name__ == "__main__":
    unittest.main()
