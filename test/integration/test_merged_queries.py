"""Merged queries through the real daemon and the Sysdig double: once two objects ask for the same metric, one query
grouped by namespace and object, refreshed every --refresh-interval, answers all of them with exactly the values
their own queries give, scoped to this cluster; backend calls stop growing with requests; a failed refresh keeps
the last answer; an object the merged answer lacks still gets its own query (and its 404)."""
import time
import unittest

from adapter_stack import AdapterStack

V2 = "/apis/custom.metrics.k8s.io/v1beta2"
OBJECTS = ["/namespaces/default/services/kuard", "/namespaces/default/services/redis",
           "/namespaces/payments/services/kuard", "/namespaces/default/deployments.apps/kuard"]
METRIC = "/net.http.request.count"
PODS = ["/namespaces/default/pods/*/net.http.request.count?labelSelector=app%3Dkuard",
        "/namespaces/payments/pods/*/net.http.request.count?labelSelector=app%3Dkuard"]


def values(adapter, paths):
    out = {}
    for path in paths:
        r = adapter.get(V2 + path)
        assert r.status == 200, (path, r.status, r.body)
        out[path] = sorted((i["describedObject"]["name"], i["value"]) for i in r.json()["items"])
    return out


class MergedQueriesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The values each object's own query gives: the reference.
        single = AdapterStack("--merge-queries=false", "--cache-ttl", "0")
        try:
            cls.expected = values(single.adapter, [o + METRIC for o in OBJECTS] + PODS)
        finally:
            single.stop()

    def setUp(self):
        stack = AdapterStack("--refresh-interval", "1s", "--cache-ttl", "0")
        self.addCleanup(stack.stop)
        self.sysdig, self.adapter = stack.sysdig, stack.adapter

    def queries(self):
        return [r["form"]["query"][0] for r in self.sysdig.query_requests()]

    def test_objects_share_one_refreshed_query_with_the_same_values(self):
        self.assertEqual(values(self.adapter, [OBJECTS[0] + METRIC]), {OBJECTS[0] + METRIC: self.expected[OBJECTS[0] + METRIC]})
        self.sysdig.clear_requests()
        # The second object makes the family: from now on one query answers every service.
        paths = [o + METRIC for o in OBJECTS[:3]]
        for _ in range(10):
            self.assertEqual(values(self.adapter, paths), {p: self.expected[p] for p in paths})
            time.sleep(0.2)
        merged = [q for q in self.queries() if "by (kube_namespace_name,kube_service_name)" in q]
        self.assertTrue(merged, self.queries())
        self.assertIn('kube_cluster_name="prod"', merged[0])
        self.assertNotIn("kube_namespace_name=", merged[0])   # every namespace: one query for all
        # 30 requests over ~2 s: the family's first query and its refreshes (every 1 s), nothing per request.
        self.assertLessEqual(len(self.queries()), 5, self.queries())
        # The values are no older than the refresh interval plus the query offset (20 s).
        item = self.adapter.get(V2 + OBJECTS[2] + METRIC).json()["items"][0]
        stamp = time.mktime(time.strptime(item["timestamp"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        self.assertLessEqual(time.time() - stamp, 20 + 1 + 3)
        # Deployments are a family of their own, and staging's series never reach prod's answers.
        self.assertEqual(values(self.adapter, [OBJECTS[3] + METRIC]), {OBJECTS[3] + METRIC: self.expected[OBJECTS[3] + METRIC]})

    def test_pods_of_several_namespaces_share_one_query(self):
        self.assertEqual(values(self.adapter, PODS), {p: self.expected[p] for p in PODS})
        self.sysdig.clear_requests()
        for _ in range(10):
            self.assertEqual(values(self.adapter, PODS), {p: self.expected[p] for p in PODS})
            time.sleep(0.2)
        self.assertTrue(any("by (kube_namespace_name,kube_pod_name)" in q for q in self.queries()), self.queries())
        self.assertLessEqual(len(self.queries()), 5, self.queries())

    def test_a_failed_refresh_keeps_the_last_answer_and_a_missing_object_asks_on_its_own(self):
        paths = [o + METRIC for o in OBJECTS[:3]]
        values(self.adapter, paths)
        values(self.adapter, paths)
        self.sysdig.inject(mode="status", status=503)
        time.sleep(2.5)   # two refreshes fail
        self.assertEqual(values(self.adapter, paths), {p: self.expected[p] for p in paths})
        self.assertTrue(any("refreshing the merged query" in line for line in self.adapter.log_lines))
        self.sysdig.clear_faults()
        r = self.adapter.get(V2 + "/namespaces/default/services/nosuch" + METRIC)
        self.assertEqual(r.status, 404, r.body)
        self.assertIn('kube_service_name="nosuch"', r.json()["message"])


if __name__ == "__main__":
    unittest.main()
