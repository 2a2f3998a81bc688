"""kubectl, a client nobody here wrote, reads the API through a kubeconfig pointing at the daemon,
verifying the serving certificate it was given."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from adapter_process import Adapter
from double_processes import double_process
from tls_material import make_serving_pair


def write_kubeconfig(path, port, ca_file):
    # The adapter runs anonymous here: the token is sent and not checked.
    double_process.write_kubeconfig(path, f"https://127.0.0.1:{port}", ca_file, "not-checked-anonymous-adapter")


@unittest.skipUnless(shutil.which("kubectl"), "kubectl is installed by scripts/install-deps.sh")
class KubectlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cert, key = make_serving_pair(cls.tmp.name)
        cls.adapter = Adapter("--tls-cert-file", cert, "--tls-private-key-file", key)
        cls.kubeconfig = os.path.join(cls.tmp.name, "kubeconfig")
        write_kubeconfig(cls.kubeconfig, cls.adapter.port, cert)
        for pod, app, value in [("kuard-a", "kuard", "1500m"), ("kuard-b", "kuard", "2"), ("db-0", "db", "40")]:
            cls.adapter.push(f"/write-metrics/namespaces/default/pods/{pod}/m", {"value": value, "labels": {"app": app}})

    @classmethod
    def tearDownClass(cls):
        cls.adapter.stop()
        cls.tmp.cleanup()

    def kubectl_raw(self, path):
        p = subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, "get", "--raw", path],
                           capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def test_v1beta2_pods_selector_through_kubectl(self):
        code, out, err = self.kubectl_raw("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/m"
                                          "?labelSelector=app=kuard")
        self.assertEqual(code, 0, err)
        body = json.loads(out)
        self.assertEqual(body["kind"], "MetricValueList")
        self.assertEqual(body["apiVersion"], "custom.metrics.k8s.io/v1beta2")
        got = {i["describedObject"]["name"]: i["value"] for i in body["items"]}
        self.assertEqual(got, {"kuard-a": "1500m", "kuard-b": "2"})
        self.assertIn("metric", body["items"][0])

    def test_v1beta1_field_names_through_kubectl(self):
        code, out, err = self.kubectl_raw("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/m"
                                          "?labelSelector=app=kuard")
        self.assertEqual(code, 0, err)
        body = json.loads(out)
        self.assertEqual(body["apiVersion"], "custom.metrics.k8s.io/v1beta1")
        self.assertEqual({i["metricName"] for i in body["items"]}, {"m"})
        self.assertEqual(len(body["items"]), 2)

    def test_discovery_through_kubectl(self):
        code, out, err = self.kubectl_raw("/apis/custom.metrics.k8s.io/v1beta1")
        self.assertEqual(code, 0, err)
        self.assertEqual([r["name"] for r in json.loads(out)["resources"]], ["pods/m"])

    def test_openapi_documents_through_kubectl(self):
        code, out, err = self.kubectl_raw("/openapi/v2")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["swagger"], "2.0")
        self.assertIn("io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList", doc["definitions"])
        code, out, err = self.kubectl_raw("/openapi/v3")
        self.assertEqual(code, 0, err)
        url = json.loads(out)["paths"]["apis/custom.metrics.k8s.io/v1beta2"]["serverRelativeURL"]
        code, out, err = self.kubectl_raw(url)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["openapi"], "3.0.0")

    def test_not_found_reaches_kubectl_as_an_error(self):
        code, out, err = self.kubectl_raw("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/x/m")
        self.assertNotEqual(code, 0)
        self.assertIn("NotFound", err + out)


if __name__ == "__main__":
    unittest.main()
