"""500 namespaces watched at once through the real daemon and the Kubernetes API double: the daemon's threads
do not grow with the namespaces, every answer names exactly the pods the API server has as they are added and
removed across namespaces, and a watch broken in one namespace disturbs no other. Per-namespace watches
(--pod-watch-scope=namespace, 500 connections) and the default, which switches to one cluster-wide watch."""
import concurrent.futures
import os
import tempfile
import time
import unittest

from adapter_stack import AdapterStack

V2 = "/apis/custom.metrics.k8s.io/v1beta2"
NAMESPACES = [f"ns-{i:03d}" for i in range(500)]
# The daemon's threads without the watches: main, the HTTPS io thread and 4 workers, cpprestsdk's 4, the pod
# cache's timer thread and 2 list threads, discovery, the config watcher and a few more. Never one a namespace.
THREAD_BOUND = 24
RULES = """\
rules:
  - metric: http_requests
    series: http_requests_total
    resources: [pods]
    absentAs: 0            # every selected pod is an item, value or not: the items name the pods
"""


def pod(namespace, name):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": {"app": "web"}},
            "status": {"phase": "Running"}}


def fixture(pods_of):
    return {"kind": "List", "apiVersion": "v1",
            "items": [pod(namespace, name) for namespace in NAMESPACES for name in pods_of(namespace)]}


def two_pods(namespace):
    return [f"{namespace}-a", f"{namespace}-b"]


def changed_pods(namespace):
    """Every 5th namespace gains a pod, every 7th loses one."""
    index = int(namespace[3:])
    names = two_pods(namespace)
    if index % 5 == 0:
        names.append(f"{namespace}-c")
    if index % 7 == 0:
        names.remove(f"{namespace}-a")
    return names


def eventually(condition, limit=30.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def metric(text, name, **labels):
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


class ManyNamespacesCase:
    FLAGS = ()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        rules = os.path.join(self.tmp.name, "rules.yaml")
        with open(rules, "w") as f:
            f.write(RULES)
        stack = AdapterStack("--config", rules, "--cache-ttl", "0", "--sysdig-api", "promql", *self.FLAGS)
        self.addCleanup(stack.stop)
        self.kube, self.adapter = stack.kube, stack.adapter
        self.kube.control("POST", "fixture", fixture(two_pods))

    def answer(self, namespace):
        r = self.adapter.get(f"{V2}/namespaces/{namespace}/pods/*/http_requests?labelSelector=app%3Dweb")
        self.assertEqual(r.status, 200, r.body)
        return sorted(item["describedObject"]["name"] for item in r.json()["items"])

    def answers(self):
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            return dict(zip(NAMESPACES, pool.map(self.answer, NAMESPACES)))

    def threads(self):
        return len(os.listdir(f"/proc/{self.adapter.proc.pid}/task"))

    def pod_cache(self, value):
        return metric(self.adapter.get("/metrics").body, "sysdig_metrics_adapter_pod_cache", value=value)

    def check_answers_follow_the_api_server(self):
        self.assertEqual(self.answers(), {ns: sorted(two_pods(ns)) for ns in NAMESPACES})
        self.kube.control("POST", "fixture", fixture(changed_pods))
        expected = {ns: sorted(changed_pods(ns)) for ns in NAMESPACES}
        self.assertTrue(eventually(lambda: self.answers() == expected), "answers did not follow the changes")


class PerNamespaceWatchesTest(ManyNamespacesCase, unittest.TestCase):
    FLAGS = ("--pod-watch-scope", "namespace")

    def test_500_watches_on_a_fixed_number_of_threads(self):
        before = self.threads()
        self.check_answers_follow_the_api_server()
        self.assertTrue(eventually(lambda: self.pod_cache("watches_open") == 500),
                        f"watches open: {self.pod_cache('watches_open')}")
        self.assertEqual(self.pod_cache("namespaces"), 500)
        after = self.threads()
        self.assertLessEqual(after, THREAD_BOUND, f"{after} threads with 500 watches ({before} before any)")

        # One namespace's watch cut: the others keep their connections, and it comes back by itself.
        lists_before = len([r for r in self.kube.requests() if r["path"].endswith("/pods") and "watch" not in r["query"]])
        self.kube.control("POST", "break-watches", {"namespace": "ns-007"})
        self.kube.clear_requests()
        self.assertTrue(eventually(lambda: any(r["path"] == "/api/v1/namespaces/ns-007/pods" and r["query"].get("watch")
                                               for r in self.kube.requests()), limit=15))
        reopened = {r["path"] for r in self.kube.requests() if r["query"].get("watch")}
        self.assertEqual(reopened, {"/api/v1/namespaces/ns-007/pods"}, "a break in one namespace reopened others")
        self.assertTrue(eventually(lambda: self.pod_cache("watches_open") == 500))
        after_break = {ns: sorted(changed_pods(ns)) for ns in NAMESPACES}
        self.assertEqual(self.answers(), after_break)
        self.assertGreater(lists_before, 0)


class ClusterWideWatchTest(ManyNamespacesCase, unittest.TestCase):
    FLAGS = ()   # --pod-watch-scope=auto: one watch of the cluster past 50 namespaces

    def test_500_namespaces_on_one_watch(self):
        self.check_answers_follow_the_api_server()
        self.assertTrue(eventually(lambda: self.pod_cache("cluster_wide") == 1 and self.pod_cache("watches_open") == 1),
                        f"cluster_wide {self.pod_cache('cluster_wide')}, watches {self.pod_cache('watches_open')}")
        self.assertEqual(self.pod_cache("namespaces"), 500)
        self.assertLessEqual(self.threads(), THREAD_BOUND)
        self.assertTrue(any("switching to one watch of every pod" in line for line in self.adapter.log_lines))
        # Cutting one namespace's watches touches nothing: the cluster's watch is not one of them.
        self.kube.clear_requests()
        self.kube.control("POST", "break-watches", {"namespace": "ns-007"})
        time.sleep(1)
        self.assertEqual([r for r in self.kube.requests() if r["query"].get("watch")], [])
        self.assertEqual(self.answer("ns-007"), sorted(changed_pods("ns-007")))


if __name__ == "__main__":
    unittest.main()
