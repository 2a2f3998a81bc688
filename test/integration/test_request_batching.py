"""--batch-window: pods/* requests for the same metric and namespace that arrive together become one backend
query over all their pods, and each caller gets only its own pods. Through the real daemon, the Kubernetes
double and the Sysdig double's request log, in both Sysdig API modes."""
import os
import threading
import unittest

from adapter_stack import AdapterStack

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
V2 = "/apis/custom.metrics.k8s.io/v1beta2"
PODS = V2 + "/namespaces/default/pods/*/net.http.request.count?labelSelector="
KUARD = {"kuard-7d4f-1": "10500m", "kuard-7d4f-2": "20250m", "kuard-7d4f-3": "30"}


class BatchingCase:
    MODE = None
    RULES = None

    def start(self, *flags):
        stack = AdapterStack("--sysdig-api", self.MODE, "--config", os.path.join(FIXTURES, self.RULES),
                             "--cache-ttl", "0", *flags)
        self.addCleanup(stack.stop)
        self.sysdig, self.adapter = stack.sysdig, stack.adapter
        # The pod lists first, so that the requests below arrive at the batcher together.
        self.assertEqual(self.adapter.get(PODS + "app%3Dkuard").status, 200)
        self.assertEqual(self.adapter.get(PODS + "app%3Dredis").status, 200)
        self.sysdig.clear_requests()

    def ask_together(self, selectors):
        answers = {}

        def ask(selector):
            answers[selector] = self.adapter.get(PODS + selector)

        threads = [threading.Thread(target=ask, args=(s,)) for s in selectors]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        values = {}
        for selector, r in answers.items():
            self.assertEqual(r.status, 200, r.body)
            values[selector] = {i["describedObject"]["name"]: i["value"] for i in r.json()["items"]}
        return values

    def test_requests_within_the_window_share_one_query_and_keep_their_own_pods(self):
        self.start("--batch-window", "1s")
        values = self.ask_together(["app%3Dkuard", "app%3Dredis", "statefulset.kubernetes.io%2Fpod-name%3Dredis-1",
                                    "app%3Dkuard"])
        self.assertEqual(values["app%3Dkuard"], KUARD)
        self.assertEqual(set(values["app%3Dredis"]), {"redis-0", "redis-1"})
        self.assertEqual(values["statefulset.kubernetes.io%2Fpod-name%3Dredis-1"],
                         {"redis-1": values["app%3Dredis"]["redis-1"]})
        queries = self.sysdig.query_requests()
        self.assertEqual(len(queries), 1, queries)
        # The one query names every pod of the batch.
        text = str(queries[0])
        for pod in ("kuard-7d4f-1", "kuard-7d4f-3", "redis-0", "redis-1"):
            self.assertIn(pod, text)

    def test_without_a_window_each_request_queries_alone(self):
        self.start()
        values = self.ask_together(["app%3Dkuard", "app%3Dredis"])
        self.assertEqual(values["app%3Dkuard"], KUARD)
        self.assertEqual(len(self.sysdig.query_requests()), 2)

    def test_a_failed_batch_query_fails_every_member_with_503(self):
        self.start("--batch-window", "1s")
        self.sysdig.inject(mode="status", status=503)
        answers = []
        threads = [threading.Thread(target=lambda s=s: answers.append(self.adapter.get(PODS + s)))
                   for s in ("app%3Dkuard", "app%3Dredis")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([r.status for r in answers], [503, 503])
        for r in answers:
            self.assertNotIn("items", r.json())
        self.assertEqual(len(self.sysdig.query_requests()), 1)


class PromqlBatchingTest(BatchingCase, unittest.TestCase):
    MODE = "promql"
    RULES = "sysdig_promql_rules.yaml"


class DataApiBatchingTest(BatchingCase, unittest.TestCase):
    MODE = "data"
    RULES = "sysdig_data_rules.yaml"


if __name__ == "__main__":
    unittest.main()
