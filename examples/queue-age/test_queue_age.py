"""The queue-age example: its rules file through the real daemon, the two operands read from the Sysdig double
(a fixture of RabbitMQ exporter series), the computed value per queue, the errors it can give, and what
`explain` shows for it."""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))
from adapter_process import Adapter, run_binary  # noqa: E402
from double_processes import SysdigDouble  # noqa: E402

RULES = os.path.join(HERE, "adapter.yaml")
AGE = "/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/queue_oldest_message_age_seconds"


class QueueAgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sysdig = SysdigDouble("--fixture", os.path.join(HERE, "sysdig_series.json"))
        cls.env = {"SDC_ENDPOINT": cls.sysdig.url, "SDC_TOKEN": SysdigDouble.TOKEN, "CLUSTER_NAME": "prod"}
        try:
            cls.adapter = Adapter("--config", RULES, "--cache-ttl", "0", env=cls.env)
        except BaseException:
            cls.sysdig.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.adapter.stop()
        finally:
            cls.sysdig.stop()

    def age(self, queue, ns="default"):
        return self.adapter.get(AGE.format(ns=ns) + f"?labelSelector=queue%3D{queue}")

    def test_age_per_queue(self):
        for queue, seconds in (("orders", "30"), ("emails", "2")):
            with self.subTest(queue=queue):
                r = self.age(queue)
                self.assertEqual(r.status, 200, r.body)
                (item,) = r.json()["items"]
                self.assertEqual(item["metricName"], "queue_oldest_message_age_seconds")
                self.assertEqual(item["value"], seconds)
                self.assertEqual(item["window"], 120)  # the longer operand window

    def test_queries_stay_in_their_namespace(self):
        # Without a selector each operand sums every queue of the namespace: (1200 + 10 + 3) / (40 + 5 + 0),
        # never payments' 999999 waiting messages.
        r = self.adapter.get(AGE.format(ns="default"))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["items"][0]["value"], "26956m")
        for request in self.sysdig.query_requests():
            self.assertIn('kube_namespace_name="default"', str(request))

    def test_a_queue_nobody_publishes_to_has_no_age(self):
        r = self.age("idle")
        self.assertEqual(r.status, 500, r.body)
        self.assertIn("division by zero in `rabbitmq_queue_messages_ready / rabbitmq_queue_messages_published_rate`: "
                      "rabbitmq_queue_messages_published_rate is 0", r.json()["message"])

    def test_a_queue_without_series_is_404_naming_the_operand(self):
        r = self.age("missing")
        self.assertEqual(r.status, 404, r.body)
        self.assertIn("operand rabbitmq_queue_messages_ready has no series in namespace default matching queue=missing",
                      r.json()["message"])

    def test_explain_shows_the_tree_and_both_queries(self):
        code, out, err = run_binary("--config", RULES, "explain", AGE.format(ns="default") + "?labelSelector=queue%3Dorders",
                                    env=self.env)
        self.assertEqual(code, 0, err)
        self.assertIn("division: rabbitmq_queue_messages_ready / rabbitmq_queue_messages_published_rate\n"
                      "  metric rabbitmq_queue_messages_ready\n"
                      "  metric rabbitmq_queue_messages_published_rate\n", out)
        # The queries, form-encoded: last_over_time(rabbitmq_queue_messages_ready{...}[1m]), rate(...[2m]).
        self.assertIn("last_over_time%28rabbitmq_queue_messages_ready%7B", out)
        self.assertIn("rate%28rabbitmq_queue_messages_published_total%7B", out)
        self.assertIn("%5B2m%5D", out)  # the rate's own window, form-encoded

    def test_the_hpa_asks_for_the_computed_metric(self):
        with open(os.path.join(HERE, "hpa.yaml")) as f:
            text = f.read()
        for fragment in ("type: External", "name: queue_oldest_message_age_seconds", "queue: orders"):
            self.assertIn(fragment, text)


if __name__ == "__main__":
    unittest.main()
