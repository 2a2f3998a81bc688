"""Computed metrics (a rule's expr) through the real daemon, their operands read from the Sysdig double through
their own rules (one backend query each, in the value cache): object, pods/* (per pod, over the pods every
operand has) and external values; every error row as a Status naming the operand or the operation (division by
zero, a missing operand with and without absentAs, an operand's backend down); rules refused at start with
file:line:column (parse errors, cycles, operands no rule exposes); `explain` printing the tree and each
operand's backend request; kubectl get --raw. And writes refused for metrics another backend serves."""
import decimal
import json
import math
import os
import shutil
import tempfile
import unittest

from adapter_process import Adapter, run_binary
from adapter_stack import AdapterStack
from double_processes import SysdigDouble

V2 = "/apis/custom.metrics.k8s.io/v1beta2"
EXTERNAL = "/apis/external.metrics.k8s.io/v1beta1"

RULES = """rules:
  - metric: requests_doubled
    resources: [services, deployments.apps]
    expr: net.http.request.count * 2
  - metric: requests_per_core
    resources: [services, pods]
    expr: net.http.request.count / cpu.cores.used
  - metric: requests_plus_cores
    resources: [pods]
    expr: net.http.request.count + cpu.cores.used
    absentAs: 0
  - metric: broken_ratio
    resources: [services]
    expr: net.http.request.count / (cpu.cores.used - cpu.cores.used)
  - metric: needs_absent
    resources: [services]
    expr: net.http.request.count / max(absent_metric, 1)
  - metric: absent_counts_as_zero
    resources: [services]
    expr: net.http.request.count / max(absent_metric, 1)
    absentAs: 0
  - metric: nested
    resources: [services]
    expr: clamp(requests_doubled - 100, 0, 10)
  - metric: net.http.request.count
  - metric: cpu.cores.used
  - metric: absent_metric
  - external: queue_share
    expr: queue.depth / 7
  - external: queue.depth
    series: sysdig_queue_depth
"""


def quantity(x):
    """The canonical quantity the adapter writes for a positive result: 15 significant digits (what a double
    holds, without the noise of its last bits), rounded up to 1m."""
    milli = math.ceil(decimal.Decimal(format(x, ".15g")) * 1000)
    return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"


class ComputedCase(unittest.TestCase):
    FLAGS = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.config = os.path.join(cls.tmp.name, "adapter.yaml")
        with open(cls.config, "w") as f:
            f.write(RULES)
        cls.stack = AdapterStack("--config", cls.config, "--cache-ttl", "0", "--max-staleness", "0", *cls.FLAGS)
        cls.sysdig, cls.adapter = cls.stack.sysdig, cls.stack.adapter

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stack.stop()
        finally:
            cls.tmp.cleanup()

    def setUp(self):
        self.sysdig.clear_faults()
        self.sysdig.clear_requests()

    def ok(self, path):
        r = self.adapter.get(path)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def status(self, path, code):
        r = self.adapter.get(path)
        self.assertEqual(r.status, code, r.body)
        self.assertNotIn("items", r.json())
        return r.json()["message"]

    def line_of(self, metric):
        with open(self.config) as f:
            for number, line in enumerate(f, 1):
                if line.strip() in (f"- metric: {metric}", f"- external: {metric}"):
                    return number
        raise AssertionError(metric)


class ComputedValuesTest(ComputedCase):
    def test_object_value_from_two_backend_queries(self):
        (item,) = self.ok(V2 + "/namespaces/default/services/kuard/requests_per_core")["items"]
        self.assertEqual(item["value"], quantity((10.5 + 20.25 + 30) / (0.58 + 0.125 + 0.001)))
        self.assertEqual(item["metric"]["name"], "requests_per_core")
        self.assertEqual(item["describedObject"]["kind"], "Service")
        self.assertEqual(item["windowSeconds"], 60)
        queries = [json.dumps(r) for r in self.sysdig.query_requests()]
        self.assertEqual(len(queries), 2, queries)  # one query per operand, nothing for the computed metric
        self.assertEqual(sum("net_http_request_count" in q for q in queries), 1)
        self.assertEqual(sum("cpu_cores_used" in q for q in queries), 1)

    def test_deployment_and_nested_computed_metrics(self):
        self.assertEqual(self.ok(V2 + "/namespaces/default/deployments.apps/kuard/requests_doubled")["items"][0]["value"],
                         "121500m")
        # clamp(121.5 - 100, 0, 10): a computed operand is computed in turn.
        self.assertEqual(self.ok(V2 + "/namespaces/default/services/kuard/nested")["items"][0]["value"], "10")

    def test_pods_per_pod_over_the_pods_every_operand_has(self):
        path = V2 + "/namespaces/default/pods/*/requests_per_core?labelSelector=tier%20in%20(frontend,backend)"
        items = self.ok(path)["items"]
        # redis-0 and redis-1 have requests but no cpu.cores.used: no value for them.
        self.assertEqual([(i["describedObject"]["name"], i["value"]) for i in items],
                         [("kuard-7d4f-1", quantity(10.5 / 0.58)), ("kuard-7d4f-2", quantity(20.25 / 0.125)),
                          ("kuard-7d4f-3", "30k")])
        # With absentAs the missing operand counts as that value.
        path = V2 + "/namespaces/default/pods/*/requests_plus_cores?labelSelector=tier%20in%20(frontend,backend)"
        values = {i["describedObject"]["name"]: i["value"] for i in self.ok(path)["items"]}
        self.assertEqual(values, {"kuard-7d4f-1": "11080m", "kuard-7d4f-2": "20375m", "kuard-7d4f-3": "30001m",
                                  "redis-0": "5", "redis-1": "7500m"})

    def test_external_sums_each_operands_series(self):
        self.assertEqual(self.ok(EXTERNAL + "/namespaces/default/queue_share")["items"][0]["value"], "7")
        (item,) = self.ok(EXTERNAL + "/namespaces/default/queue_share?labelSelector=queue%3Dorders")["items"]
        self.assertEqual(item["value"], "6")
        self.assertEqual(item["metricLabels"], {})

    def test_discovery_lists_computed_metrics(self):
        names = {r["name"] for r in self.ok(V2)["resources"]}
        self.assertTrue({"services/requests_per_core", "pods/requests_per_core",
                         "deployments.apps/requests_doubled"} <= names)
        self.assertIn("queue_share", {r["name"] for r in self.ok(EXTERNAL)["resources"]})

    @unittest.skipUnless(shutil.which("kubectl"), "kubectl is installed by scripts/install-deps.sh")
    def test_through_kubectl_get_raw(self):
        p = self.adapter.kubectl_get_raw(V2 + "/namespaces/default/pods/*/requests_per_core?labelSelector=app%3Dkuard",
                                         self.tmp.name)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(json.loads(p.stdout)["items"]), 3)


class ComputedErrorsTest(ComputedCase):
    def test_division_by_zero_names_the_operation(self):
        message = self.status(V2 + "/namespaces/default/services/kuard/broken_ratio", 500)
        self.assertEqual(message, f"cannot compute broken_ratio for services kuard (rule at {self.config}:"
                                  f"{self.line_of('broken_ratio')}): division by zero in `net.http.request.count / "
                                  f"(cpu.cores.used - cpu.cores.used)`: `(cpu.cores.used - cpu.cores.used)` is 0")

    def test_a_missing_operand_is_404_naming_it(self):
        message = self.status(V2 + "/namespaces/default/services/kuard/needs_absent", 404)
        self.assertIn("cannot compute needs_absent for services kuard", message)
        self.assertIn("operand absent_metric: the server could not find the metric absent_metric for services kuard",
                      message)

    def test_absent_as_stands_in_for_a_missing_operand(self):
        # 60.75 / max(absent -> 0, 1)
        self.assertEqual(self.ok(V2 + "/namespaces/default/services/kuard/absent_counts_as_zero")["items"][0]["value"],
                         "60750m")

    def test_an_operands_backend_down_is_503_naming_it_even_with_absent_as(self):
        self.sysdig.inject(status=503, count=100)
        message = self.status(V2 + "/namespaces/default/services/kuard/absent_counts_as_zero", 503)
        self.assertIn("cannot compute absent_counts_as_zero for services kuard", message)
        self.assertIn("operand ", message)
        self.assertNotIn("60750m", message)

    def test_a_missing_object_is_404(self):
        message = self.status(V2 + "/namespaces/default/services/nothing/requests_per_core", 404)
        self.assertIn("operand net.http.request.count", message)


class ComputedStartTest(unittest.TestCase):
    def refused(self, text):
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "adapter.yaml")
            with open(config, "w") as f:
                f.write(text)
            code, _, err = run_binary("--insecure-allow-anonymous", "--secure-port", "0", "--config", config)
            self.assertEqual(code, 1, err)
            return err.replace(config, "adapter.yaml")

    def test_rules_that_cannot_be_computed_refuse_to_start(self):
        self.assertIn("adapter.yaml:3:15: expr: expected an operand (a metric name, a number, a function or '(') "
                      "but found '*'", self.refused("rules:\n  - metric: m\n    expr: a + * b\n  - metric: a\n"))
        self.assertIn("adapter.yaml:7:11: expr: computed metrics depend on each other in a cycle: a -> b -> a",
                      self.refused("rules:\n  - metric: a\n    expr: b * 2\n  - metric: c\n    backend: push\n"
                                   "  - metric: b\n    expr: a + 1\n"))
        self.assertIn("adapter.yaml:4:22: expr: no rule exposes ready_pods for deployments.apps",
                      self.refused("rules:\n  - metric: m\n    resources: [deployments.apps]\n"
                                   "    expr: requests / ready_pods\n  - metric: requests\n"))


class ComputedExplainTest(unittest.TestCase):
    def test_explain_prints_the_tree_and_each_operands_request(self):
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "adapter.yaml")
            with open(config, "w") as f:
                f.write(RULES)
            code, out, err = run_binary("--config", config, "explain",
                                        V2 + "/namespaces/default/services/kuard/nested",
                                        env={"SDC_ENDPOINT": "https://sysdig.example", "SDC_TOKEN": "t0ken-never-shown",
                                             "CLUSTER_NAME": "prod"})
        self.assertEqual(code, 0, err)
        line = RULES.splitlines().index("  - metric: nested") + 1
        self.assertIn(f"computed metric nested (rule at {config}:{line}): clamp(requests_doubled - 100, 0, 10)\n"
                      "clamp: clamp(requests_doubled - 100, 0, 10)\n"
                      "  subtraction: requests_doubled - 100\n"
                      "    metric requests_doubled\n"
                      "    number 100\n"
                      "  number 0\n"
                      "  number 10\n", out)
        self.assertIn("operand requests_doubled: " + V2 + "/namespaces/default/services/kuard/requests_doubled\n"
                      "computed metric requests_doubled", out)
        self.assertIn("operand net.http.request.count: " + V2 +
                      "/namespaces/default/services/kuard/net.http.request.count\nPOST https://sysdig.example/prometheus"
                      "/api/v1/query", out)
        self.assertIn("sysdig_container_net_http_request_count", out)
        self.assertNotIn("t0ken-never-shown", out)


class WriteRoutingTest(unittest.TestCase):
    """A write to a metric whose rule sends reads to another backend is refused: 400 naming the metric, the
    backend and the rule's file:line."""

    def test_writes_to_a_metric_served_elsewhere_are_refused(self):
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "adapter.yaml")
            with open(config, "w") as f:
                f.write("rules:\n  - metric: pushed_rps\n    backend: push\n  - metricRegex: \".*\"\n"
                        "    backend: sysdig\n  - externalRegex: \".*\"\n    backend: sysdig\n")
            env = {"SDC_ENDPOINT": "http://127.0.0.1:9", "SDC_TOKEN": SysdigDouble.TOKEN, "CLUSTER_NAME": "prod"}
            with Adapter("--config", config, env=env) as adapter:
                adapter.push("/write-metrics/namespaces/default/services/kuard/pushed_rps", "3")
                self.assertEqual(adapter.get(V2 + "/namespaces/default/services/kuard/pushed_rps").json()["items"][0]
                                 ["value"], "3")
                r = adapter.request("POST", "/write-metrics/namespaces/default/services/kuard/net.http.request.count",
                                    body=json.dumps("5"))
                self.assertEqual(r.status, 400, r.body)
                status = r.json()
                self.assertEqual((status["kind"], status["reason"]), ("Status", "BadRequest"))
                self.assertIn("net.http.request.count", status["message"])
                self.assertIn(f"served by the sysdig backend (rule at {config}:4)", status["message"])
                r = adapter.request("POST", "/write-external-metrics/namespaces/default/queue.depth",
                                    body=json.dumps("5"))
                self.assertEqual(r.status, 400, r.body)
                self.assertIn(f"the external metric queue.depth: it is served by the sysdig backend (rule at {config}:6)",
                              r.json()["message"])


if __name__ == "__main__":
    unittest.main()
