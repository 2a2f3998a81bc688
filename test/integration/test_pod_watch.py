"""pods/* answers read a per-namespace pod cache that a Kubernetes watch keeps current: the real daemon
against the Kubernetes API double (list, then watch) and the Sysdig double. One list per namespace, changes
seen without listing again, and an API outage longer than --max-staleness answered with 503, never a guess."""
import copy
import json
import os
import time
import unittest

from adapter_stack import AdapterStack
from double_processes import DOUBLES, KubeApiDouble

V2 = "/apis/custom.metrics.k8s.io/v1beta2"
KUARD_PODS = V2 + "/namespaces/default/pods/*/net.http.request.count?labelSelector=app%3Dkuard"
REDIS_PODS = V2 + "/namespaces/default/pods/*/net.http.request.count?labelSelector=app%3Dredis"
DEFAULT_PODS = "/api/v1/namespaces/default/pods"

with open(os.path.join(DOUBLES, "fixtures", "kube_objects.json")) as f:
    KUBE_FIXTURE = json.load(f)


def without_pod(name, namespace="default"):
    document = copy.deepcopy(KUBE_FIXTURE)
    document["items"] = [p for p in document["items"]
                         if (p["metadata"]["namespace"], p["metadata"]["name"]) != (namespace, name)]
    return document


def eventually(condition, limit=5.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class PodWatchCase(unittest.TestCase):
    FLAGS = ()

    def setUp(self):
        stack = AdapterStack("--cache-ttl", "0", *self.FLAGS)
        self.addCleanup(stack.stop)
        self.sysdig, self.kube, self.adapter = stack.sysdig, stack.kube, stack.adapter

    def pod_values(self, path=KUARD_PODS):
        r = self.adapter.get(path)
        self.assertEqual(r.status, 200, r.body)
        return {i["describedObject"]["name"]: i["value"] for i in r.json()["items"]}

    def pod_calls(self):
        """(lists, watches) of the default namespace's pods recorded by the Kubernetes double."""
        calls = [r for r in self.kube.requests() if r["path"] == DEFAULT_PODS]
        watches = [r for r in calls if r["query"].get("watch")]
        return len(calls) - len(watches), len(watches)


class WatchedPodsTest(PodWatchCase):
    FLAGS = ("--max-staleness", "1s")   # the pod cache's bound is at least 5 s

    def test_one_list_per_namespace_then_the_watch(self):
        self.assertEqual(self.pod_values(), {"kuard-7d4f-1": "10500m", "kuard-7d4f-2": "20250m", "kuard-7d4f-3": "30"})
        self.assertEqual(self.pod_values(), {"kuard-7d4f-1": "10500m", "kuard-7d4f-2": "20250m", "kuard-7d4f-3": "30"})
        self.assertEqual(set(self.pod_values(REDIS_PODS)), {"redis-0", "redis-1"})
        self.assertTrue(eventually(lambda: self.pod_calls()[1] >= 1), self.kube.requests())
        self.assertEqual(self.pod_calls()[0], 1)
        watch = [r for r in self.kube.requests() if r["query"].get("watch")][0]
        self.assertEqual(watch["query"]["allowWatchBookmarks"], ["true"])
        self.assertEqual(watch["headers"]["authorization"], "Bearer " + KubeApiDouble.TOKEN)

    def test_a_deleted_pod_leaves_the_answer_without_a_new_list(self):
        self.assertEqual(len(self.pod_values()), 3)
        self.assertTrue(eventually(lambda: self.pod_calls()[1] >= 1))
        self.kube.control("POST", "fixture", without_pod("kuard-7d4f-3"))
        self.assertTrue(eventually(lambda: set(self.pod_values()) == {"kuard-7d4f-1", "kuard-7d4f-2"}))
        self.assertEqual(self.pod_calls()[0], 1)

    def test_an_api_outage_past_max_staleness_is_503_then_recovers(self):
        self.assertEqual(len(self.pod_values()), 3)
        self.assertTrue(eventually(lambda: self.pod_calls()[1] >= 1))
        self.kube.inject(mode="status", status=503)
        self.kube.control("POST", "break-watches")
        self.assertEqual(len(self.pod_values()), 3)  # within --max-staleness: the last known pods
        time.sleep(5.3)
        r = self.adapter.get(KUARD_PODS)
        self.assertEqual(r.status, 503, r.body)
        self.assertIn("namespace default", r.json()["message"])
        self.assertNotIn("items", r.json())
        self.kube.clear_faults()
        self.assertTrue(eventually(lambda: self.adapter.get(KUARD_PODS).status == 200, 10))
        self.assertEqual(len(self.pod_values()), 3)


class ListedPodsTest(PodWatchCase):
    FLAGS = ("--pod-watch=false",)

    def test_without_the_watch_every_request_lists(self):
        self.assertEqual(len(self.pod_values()), 3)
        self.assertEqual(len(self.pod_values()), 3)
        self.assertEqual(self.pod_calls(), (2, 0))


if __name__ == "__main__":
    unittest.main()
