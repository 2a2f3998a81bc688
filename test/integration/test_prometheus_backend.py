"""The prometheus backend against a real Prometheus (Debian's package) that scrapes a fixture
exporter: the same PromQL client as Sysdig, Prometheus label conventions, no cluster matcher."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from adapter_process import Adapter
from double_processes import KubeApiDouble
from fixture_exporter import FixtureExporter

V1 = "/apis/custom.metrics.k8s.io/v1beta1"
EXT = "/apis/external.metrics.k8s.io/v1beta1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(shutil.which("prometheus"), "Debian's prometheus is installed by scripts/install-deps.sh")
class PrometheusBackendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.exporter = FixtureExporter()
        cls.prom_port = free_port()
        config = os.path.join(cls.tmp.name, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: fixture
    static_configs:
      - targets: ['127.0.0.1:{cls.exporter.port}']
""")
        cls.prometheus = subprocess.Popen(
            ["prometheus", "--config.file", config, "--storage.tsdb.path", os.path.join(cls.tmp.name, "data"),
             "--web.listen-address", f"127.0.0.1:{cls.prom_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.prom_url = f"http://127.0.0.1:{cls.prom_port}"
        cls.wait_for_samples()
        cls.kube = KubeApiDouble()
        kubeconfig = cls.kube.write_kubeconfig(os.path.join(cls.tmp.name, "kubeconfig"))
        cls.adapter = Adapter("--backend", "prometheus", "--prometheus-url", cls.prom_url, "--kubeconfig", kubeconfig)

    @classmethod
    def wait_for_samples(cls, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(cls.prom_url + "/api/v1/query?query=count(http_requests)", timeout=2) as r:
                    result = json.loads(r.read())["data"]["result"]
                    if result and result[0]["value"][1] == "5":
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("Prometheus did not scrape the fixture exporter in time")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.adapter.stop()
        finally:
            cls.kube.stop()
            cls.prometheus.terminate()
            cls.prometheus.wait(timeout=20)
            cls.exporter.stop()
            cls.tmp.cleanup()

    def get_ok(self, path):
        r = self.adapter.get(path)
        self.assertEqual(r.status, 200, f"{path}: {r.body}")
        return r.json()

    def test_service_value_is_what_prometheus_holds(self):
        items = self.get_ok(V1 + "/namespaces/default/services/kuard/http_requests")["items"]
        self.assertEqual([i["value"] for i in items], ["60750m"])
        items = self.get_ok(V1 + "/namespaces/payments/services/kuard/http_requests")["items"]
        self.assertEqual([i["value"] for i in items], ["100"])

    def test_pods_selector_through_prometheus(self):
        body = self.get_ok(V1 + "/namespaces/default/pods/*/http_requests?labelSelector=app%3Dkuard")
        got = {i["describedObject"]["name"]: i["value"] for i in body["items"]}
        self.assertEqual(got, {"kuard-7d4f-1": "10500m", "kuard-7d4f-2": "20250m", "kuard-7d4f-3": "30"})

    def test_external_metric_through_prometheus(self):
        body = self.get_ok(EXT + "/namespaces/default/queue_messages?labelSelector=queue%3Dorders")
        self.assertEqual([i["value"] for i in body["items"]], ["42"])

    def test_discovery_lists_prometheus_names(self):
        deadline = time.time() + 10
        names = set()
        while time.time() < deadline and "pods/http_requests" not in names:
            names = {x["name"] for x in self.get_ok(V1)["resources"]}
            time.sleep(0.2)
        self.assertIn("pods/http_requests", names)
        self.assertIn("services/queue_messages", names)

    def test_unknown_metric_is_not_found(self):
        r = self.adapter.get(V1 + "/namespaces/default/services/kuard/nothing_here")
        self.assertEqual(r.status, 404, r.body)


if __name__ == "__main__":
    unittest.main()
