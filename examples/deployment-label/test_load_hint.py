"""The deployment-label example: both versions of the command (Python and POSIX sh) on sample documents, then
through the real daemon with the example's rules, the Kubernetes API double holding the Deployment."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))
from adapter_process import Adapter  # noqa: E402
from double_processes import KubeApiDouble  # noqa: E402

KEY = "autoscaling.example.com/load"
PATH = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/deployments.apps/kuard/load_hint"
SCRIPTS = ("load_hint.py", "load_hint.sh")


def deployment(labels=None, annotations=None, template_labels=None):
    metadata = {"name": "kuard", "namespace": "default", "uid": "0b1c", "resourceVersion": "7"}
    if labels is not None:
        metadata["labels"] = labels
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": metadata,
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "kuard"}},
                     "template": {"metadata": {"labels": template_labels or {"app": "kuard"}}}},
            "status": {"replicas": 2}}


def document(obj):
    """As the adapter writes it: compact JSON, object last."""
    head = {"version": 1, "kind": "object", "rule": "adapter.yaml:4", "metric": "load_hint", "namespace": "default",
            "resource": "deployments.apps", "name": "kuard", "metricSelector": {"string": ""},
            "deadline": "2026-01-01T10:00:00.250Z", "timeoutMillis": 2000, "object": obj}
    return json.dumps(head, separators=(",", ":"))


def run(script, stdin):
    p = subprocess.run([os.path.join(HERE, script), KEY], input=stdin, capture_output=True, text=True, timeout=30,
                       env={})
    return p.returncode, p.stdout


class ScriptTest(unittest.TestCase):
    def test_both_versions_read_the_label_and_nothing_else(self):
        applied = json.dumps({"metadata": {"labels": {KEY: "999"}}, "spec": {"replicas": 1}})
        cases = [
            (deployment({"app": "kuard", KEY: "250"}), "250\n"),
            (deployment({KEY: "1500m", "app": "kuard"}), "1500m\n"),
            (deployment({"app": "kuard"}), ""),
            (deployment(), ""),
            # The key only in the pod template, or in an annotation's escaped JSON: not the Deployment's label.
            (deployment({"app": "kuard"}, template_labels={KEY: "5"}), ""),
            (deployment(None, {"kubectl.kubernetes.io/last-applied-configuration": applied}, {KEY: "5"}), ""),
            (deployment({KEY: "40"}, {"kubectl.kubernetes.io/last-applied-configuration": applied}), "40\n"),
        ]
        for obj, expected in cases:
            for script in SCRIPTS:
                with self.subTest(script=script, labels=obj["metadata"].get("labels")):
                    self.assertEqual(run(script, document(obj)), (0, expected))


class ThroughTheDaemonTest(unittest.TestCase):
    def test_the_example_rules_serve_the_label(self):
        with open(os.path.join(HERE, "adapter.yaml")) as f:
            rules = f.read()
        self.assertIn("/opt/metrics/load_hint.sh", rules)  # where the manifests mount it
        for script in SCRIPTS:
            with self.subTest(script=script), tempfile.TemporaryDirectory() as d:
                config = os.path.join(d, "adapter.yaml")
                with open(config, "w") as f:
                    f.write(rules.replace("/opt/metrics/load_hint.sh", os.path.join(HERE, script)))
                kube = KubeApiDouble()
                try:
                    kube.control("POST", "objects", {"deployments": [deployment({"app": "kuard", KEY: "250"})]})
                    kubeconfig = kube.write_kubeconfig(os.path.join(d, "kubeconfig"))
                    with Adapter("--config", config, "--kubeconfig", kubeconfig) as adapter:
                        r = adapter.get(PATH)
                        self.assertEqual(r.status, 200, r.body)
                        item = r.json()["items"][0]
                        self.assertEqual(item["value"], "250")
                        self.assertEqual(item["describedObject"]["kind"], "Deployment")
                        kube.control("POST", "objects", {"deployments": [deployment({"app": "kuard", KEY: "40"})]})
                        deadline = time.time() + 15  # the rule's cacheTTL is 5s
                        while time.time() < deadline and adapter.get(PATH).json().get("items", [{}])[0].get("value") != "40":
                            time.sleep(0.2)
                        self.assertEqual(adapter.get(PATH).json()["items"][0]["value"], "40")
                        kube.control("POST", "objects", {"deployments": [deployment({"app": "kuard"})]})
                        deadline = time.time() + 15
                        while time.time() < deadline and adapter.get(PATH).status != 404:
                            time.sleep(0.2)
                        r = adapter.get(PATH)
                        self.assertEqual(r.status, 404, r.body)
                        self.assertIn("printed no value", r.json()["message"])
                finally:
                    kube.stop()

    def test_the_hpa_reads_the_metric_of_the_deployment(self):
        with open(os.path.join(HERE, "hpa.yaml")) as f:
            text = f.read()
        for fragment in ("kind: HorizontalPodAutoscaler", "type: Object", "name: load_hint", "kind: Deployment"):
            self.assertIn(fragment, text)


if __name__ == "__main__":
    unittest.main()
