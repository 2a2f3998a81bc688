"""`simulate` end to end: the real binary computes what the HPA controller would decide, from an HPA in a file or in
the Kubernetes API double, with values from the Sysdig double through the adapter's own providers (as the daemon
answers) or through the metrics API paths of a running daemon (as the kube-apiserver forwards them)."""
import copy
import json
import os
import tempfile
import unittest

from adapter_process import run_binary
from adapter_stack import AdapterStack
from double_processes import DOUBLES, KubeApiDouble, SysdigDouble, double_process
from tls_material import make_serving_pair

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "manifests", "examples")
OBJECT_HPA = os.path.join(EXAMPLES, "hpa-object.yaml")

PODS_HPA = {"metadata": {"name": "kuard", "namespace": "default"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "kuard"},
                     "minReplicas": 1, "maxReplicas": 10,
                     "metrics": [{"type": "Pods", "pods": {"metric": {"name": "net.http.request.count"},
                                                           "target": {"type": "AverageValue", "averageValue": "10"}}}]}}
KUARD = {"metadata": {"name": "kuard", "namespace": "default"},
         "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "kuard"}}}, "status": {"replicas": 3}}


def ready_fixture():
    """The bundled pods, the Running ones Ready since long ago (the HPA controller reads readiness)."""
    with open(os.path.join(DOUBLES, "fixtures", "kube_objects.json")) as f:
        fixture = json.load(f)
    for pod in fixture["items"]:
        if pod["status"].get("phase", "Running") == "Running":
            pod["status"]["startTime"] = "2026-01-01T00:00:00Z"
            pod["status"]["conditions"] = [{"type": "Ready", "status": "True",
                                            "lastTransitionTime": "2026-01-01T00:00:10Z"}]
    return fixture


class SimulateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.sysdig = SysdigDouble()
        cls.kube = KubeApiDouble()
        cls.kubeconfig = cls.kube.write_kubeconfig(os.path.join(cls.tmp.name, "kubeconfig"))
        cls.env = {"SDC_ENDPOINT": cls.sysdig.url, "SDC_TOKEN": SysdigDouble.TOKEN, "CLUSTER_NAME": "prod"}

    @classmethod
    def tearDownClass(cls):
        cls.sysdig.stop()
        cls.kube.stop()
        cls.tmp.cleanup()

    def setUp(self):
        self.sysdig.clear_faults()
        self.kube.control("POST", "fixture", ready_fixture())
        self.kube.control("POST", "objects", {"horizontalPodAutoscalers": [PODS_HPA], "deployments": [KUARD]})

    def simulate(self, *args):
        return run_binary("simulate", *args, env=self.env, timeout=60)

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_an_hpa_from_a_file_with_values_from_the_providers(self):
        # net.http.request.count of Service kuard is 10.5 + 20.25 + 30 = 60.75 against a Value target of 100:
        # ceil(0.6075 x 4 ready pods) = 3.
        code, out, err = self.simulate("-f", OBJECT_HPA, "--replicas", "4")
        self.assertEqual(code, 0, err)
        self.assertIn("Object Service/kuard net.http.request.count", out)
        self.assertIn("ratio = 60750m / 100 = 0.6075", out)
        self.assertIn("ceil(0.6075 x 4) = 3", out)
        self.assertIn("desired replicas: 3 (scale down from 4)", out)
        self.assertIn("scale-down stabilization (300s)", out)
        self.assertIn("no cluster: assumed 4 pods", out)
        code, out, err = self.simulate("-f", OBJECT_HPA, "--replicas", "4", "-o", "json")
        self.assertEqual(code, 0, err)
        report = json.loads(out)
        self.assertEqual((report["desiredReplicas"], report["currentReplicas"]), (3, 4))
        metric = report["metrics"][0]
        self.assertEqual((metric["current"], metric["proposal"], metric["rule"]), ("60750m", 3, "ceil(ratio x ready pods)"))
        self.assertEqual(metric["path"],
                         "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/services/kuard/net.http.request.count")

    def test_an_hpa_from_the_cluster_reads_scale_pods_and_version(self):
        # Pods metric: 10.5, 20.25 and 30 for kuard-7d4f-1..3 (average 20.25 against 10). The Succeeded kuard-job-x
        # matches app=kuard too: before 1.38 the controller counts it as a pod without a value (0 on a scale-up):
        # ceil(60.75 / 4 / 10 x 4) = 7, limited to max(2 x 3, 4) = 6 without behavior.
        code, out, err = self.simulate("--kubeconfig", self.kubeconfig, "--name", "kuard", "--namespace", "default",
                                       "--source", "providers", "-o", "json")
        self.assertEqual(code, 0, err)
        report = json.loads(out)
        self.assertEqual(report["kubernetesArithmetic"], "1.33")  # the double's /version
        metric = report["metrics"][0]
        self.assertEqual(metric["current"], "20250m")
        self.assertEqual(metric["missingPods"], ["kuard-job-x"])
        self.assertEqual(metric["readyPods"], 3)
        self.assertEqual(metric["proposal"], 7)
        self.assertEqual((report["limits"]["reason"], report["desiredReplicas"]), ("ScaleUpLimit", 6))
        self.assertTrue(metric["path"].endswith("/pods/*/net.http.request.count?labelSelector=app%3Dkuard"))
        # From 1.38 the Succeeded pod is left out: ceil(2.025 x 3) = 7 all the same, without a missing pod.
        code, out, err = self.simulate("--kubeconfig", self.kubeconfig, "--name", "kuard", "--source", "providers",
                                       "--namespace", "default", "--kubernetes-version", "1.38", "-o", "json")
        self.assertEqual(code, 0, err)
        metric = json.loads(out)["metrics"][0]
        self.assertEqual((metric["missingPods"], metric["ignoredPods"], metric["proposal"]), ([], ["kuard-job-x"], 7))
        reads = [r["path"] for r in self.kube.requests()]
        self.assertIn("/apis/apps/v1/namespaces/default/deployments/kuard/scale", reads)
        self.assertIn("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/kuard", reads)

    def test_source_api_reads_the_daemons_answers_and_agrees_with_the_providers(self):
        certs = tempfile.TemporaryDirectory()
        self.addCleanup(certs.cleanup)
        cert, key = make_serving_pair(certs.name)
        stack = AdapterStack("--tls-cert-file", cert, "--tls-private-key-file", key)
        self.addCleanup(stack.stop)
        stack.kube.control("POST", "fixture", ready_fixture())
        metrics_kubeconfig = double_process.write_kubeconfig(os.path.join(certs.name, "adapter"),
                                                             f"https://127.0.0.1:{stack.adapter.port}", cert,
                                                             "not-checked-anonymous-adapter")
        stack.sysdig.clear_requests()
        code, out, err = self.simulate("--kubeconfig", self.kubeconfig, "--name", "kuard", "--namespace", "default",
                                       "--metrics-kubeconfig", metrics_kubeconfig, "-o", "json")
        self.assertEqual(code, 0, err)
        through_api = json.loads(out)
        self.assertTrue(through_api["source"].startswith(f"api (https://127.0.0.1:{stack.adapter.port}"))
        self.assertEqual(len(stack.sysdig.query_requests()), 1)  # the daemon asked its backend
        code, out, err = self.simulate("--kubeconfig", self.kubeconfig, "--name", "kuard", "--namespace", "default",
                                       "--source", "providers", "-o", "json")
        self.assertEqual(code, 0, err)
        direct = json.loads(out)
        for key in ("desiredReplicas", "recommendation"):
            self.assertEqual(through_api[key], direct[key])
        for key in ("current", "ratio", "adjustedRatio", "proposal", "path", "steps"):
            self.assertEqual(through_api["metrics"][0][key], direct["metrics"][0][key])

    def test_what_if_replaces_the_fetched_value(self):
        # At 250 req/s on the Service: ceil(2.5 x 4) = 10, limited to max(2 x 4, 4) = 8.
        self.sysdig.clear_requests()
        code, out, err = self.simulate("-f", OBJECT_HPA, "--replicas", "4", "--what-if", "net.http.request.count=250")
        self.assertEqual(code, 0, err)
        self.assertIn("value from --what-if", out)
        self.assertIn("ceil(2.5000 x 4) = 10", out)
        self.assertIn("desired replicas: 8 (scale up from 4)", out)
        self.assertEqual(self.sysdig.query_requests(), [])
        code, _, err = self.simulate("-f", OBJECT_HPA, "--replicas", "4", "--what-if", "no.such=1")
        self.assertEqual(code, 2)
        self.assertIn('"no.such", which is not a metric of the HPA', err)

    def test_an_unknown_metric_fails_clearly(self):
        with open(OBJECT_HPA) as f:
            hpa = f.read().replace("net.http.request.count", "no.such.metric")
        code, out, err = self.simulate("-f", self.write("unknown.yaml", hpa), "--replicas", "2")
        self.assertEqual(code, 1)
        self.assertIn("FAILED", out)
        self.assertIn("the controller skips this metric (FailedGetObjectMetric)", out)
        self.assertIn("404", err)
        self.assertIn("no.such.metric", err)
        self.assertIn("the controller would not scale", err)

    def test_a_backend_down_fails_clearly_and_keeps_the_count(self):
        self.sysdig.inject(mode="status", status=503)
        code, out, err = self.simulate("-f", OBJECT_HPA, "--replicas", "3", "-o", "json")
        self.assertEqual(code, 1)
        report = json.loads(out)
        self.assertEqual((report["desiredReplicas"], report["heldByFailures"]), (3, True))
        self.assertIn("503", report["metrics"][0]["error"])
        self.assertIn("Sysdig", err)
        self.assertNotIn(SysdigDouble.TOKEN, out + err)

    def test_a_missing_hpa_or_target_fails_clearly(self):
        code, out, err = self.simulate("--kubeconfig", self.kubeconfig, "--name", "nope", "--namespace", "default")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("HorizontalPodAutoscaler default/nope not found", err)
        lost = copy.deepcopy(PODS_HPA)
        lost["spec"]["scaleTargetRef"]["name"] = "gone"
        self.kube.control("POST", "objects", {"horizontalPodAutoscalers": [lost]})
        code, _, err = self.simulate("--kubeconfig", self.kubeconfig, "--name", "kuard", "--namespace", "default")
        self.assertEqual(code, 1)
        self.assertIn("the scale of Deployment default/gone: not found", err)

    def test_resource_metrics_without_metrics_server_are_not_simulated(self):
        hpa = ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: kuard}\n"
               "spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: kuard}, maxReplicas: 5}\n")
        code, out, err = self.simulate("--kubeconfig", self.kubeconfig, "-f", self.write("cpu.yaml", hpa),
                                       "--source", "providers")
        self.assertEqual(code, 1)
        self.assertIn("Resource cpu", out)
        self.assertIn("not simulated", out)
        self.assertIn("metrics.k8s.io", err)

    def test_usage_errors(self):
        code, _, err = self.simulate()
        self.assertEqual(code, 2)
        self.assertIn("-f FILE or with --name", err)
        code, _, err = self.simulate("-f", OBJECT_HPA)
        self.assertEqual(code, 2)
        self.assertIn("--replicas", err)


if __name__ == "__main__":
    unittest.main()
