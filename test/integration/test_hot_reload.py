"""Reloading without a restart: the rules file (on change and on SIGHUP; a broken file keeps the old
rules) and the Sysdig token file (the rotated token reaches the backend)."""
import json
import os
import signal
import tempfile
import time
import unittest

from adapter_process import Adapter
from double_processes import SysdigDouble

V1 = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/services/s/"


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # as Kubernetes swaps mounted files


def rules(*metrics):
    return "rules:\n" + "".join(f"  - metric: {m}\n    backend: push\n" for m in metrics)


class ConfigReloadTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.config = os.path.join(self.tmp.name, "adapter.yaml")
        write(self.config, rules("first_metric"))
        self.adapter = Adapter("--config", self.config)
        self.addCleanup(self.adapter.stop)
        for metric in ("first_metric", "second_metric"):
            self.adapter.push(f"/write-metrics/namespaces/default/services/s/{metric}", "1")

    def wait_for_status(self, path, status, seconds=8):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.adapter.get(path).status == status:
                return True
            time.sleep(0.1)
        return False

    def test_a_changed_rules_file_is_applied(self):
        self.assertEqual(self.adapter.get(V1 + "second_metric").status, 404)
        write(self.config, rules("first_metric", "second_metric"))
        self.assertTrue(self.wait_for_status(V1 + "second_metric", 200))

    def test_a_broken_rules_file_keeps_the_old_rules(self):
        write(self.config, "rules:\n  - metric: second_metric\n    aggregation: median\n")
        deadline = time.time() + 8
        while time.time() < deadline and not any("reload rejected" in l for l in self.adapter.log_lines):
            time.sleep(0.1)
        rejected = [json.loads(l) for l in self.adapter.log_lines if "reload rejected" in l]
        self.assertTrue(rejected)
        self.assertIn("adapter.yaml:3: aggregation must be one of", rejected[0]["error"])
        self.assertEqual(self.adapter.get(V1 + "first_metric").status, 200)
        self.assertEqual(self.adapter.get(V1 + "second_metric").status, 404)

    def test_sighup_forces_a_reload(self):
        write(self.config, rules("second_metric"))
        self.adapter.proc.send_signal(signal.SIGHUP)
        self.assertTrue(self.wait_for_status(V1 + "second_metric", 200))
        self.assertTrue(any('"trigger":"SIGHUP"' in l and "configuration reloaded" in l for l in self.adapter.log_lines))
        self.assertEqual(self.adapter.get(V1 + "first_metric").status, 404)


class CertificateRotationTest(unittest.TestCase):
    def test_a_rotated_serving_certificate_is_served_to_new_connections(self):
        import ssl
        from tls_material import make_serving_pair
        with tempfile.TemporaryDirectory() as d:
            first = os.path.join(d, "first")
            second = os.path.join(d, "second")
            os.mkdir(first)
            os.mkdir(second)
            cert_a, key_a = make_serving_pair(first, cn="first-cert")
            cert_b, key_b = make_serving_pair(second, cn="second-cert")
            cert, key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
            write(cert, open(cert_a).read())
            write(key, open(key_a).read())
            with Adapter("--tls-cert-file", cert, "--tls-private-key-file", key) as a:
                served = lambda: ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", a.port)))
                self.assertEqual(served(), ssl.PEM_cert_to_DER_cert(open(cert_a).read()))
                write(key, open(key_b).read())
                write(cert, open(cert_b).read())
                deadline = time.time() + 10
                while time.time() < deadline and served() != ssl.PEM_cert_to_DER_cert(open(cert_b).read()):
                    time.sleep(0.2)
                self.assertEqual(served(), ssl.PEM_cert_to_DER_cert(open(cert_b).read()))
                self.assertEqual(a.get("/healthz").status, 200)
                write(cert, "not a certificate\n")
                a.proc.send_signal(signal.SIGHUP)
                time.sleep(0.5)
                self.assertEqual(served(), ssl.PEM_cert_to_DER_cert(open(cert_b).read()))  # the old pair stays
                self.assertTrue(any("rejected" in l and "tls.crt" in l for l in a.log_lines))


class TokenRotationTest(unittest.TestCase):
    def test_a_rotated_token_file_reaches_the_backend(self):
        with tempfile.TemporaryDirectory() as d, SysdigDouble() as sysdig:
            token_file = os.path.join(d, "token")
            write(token_file, SysdigDouble.TOKEN + "\n")
            path = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/services/kuard/net.http.request.count"
            with Adapter("--sysdig-token-file", token_file, "--cache-ttl", "0",
                         env={"SDC_ENDPOINT": sysdig.url, "CLUSTER_NAME": "prod"}) as a:
                self.assertEqual(a.get(path).status, 200)
                sysdig.control("POST", "token", {"token": "rotated-token-2"})
                self.assertEqual(a.get(path).status, 503)  # the old token is refused now
                write(token_file, "rotated-token-2\n")
                sysdig.clear_requests()
                r = a.get(path)
                self.assertEqual(r.status, 200, r.body)
                (request,) = sysdig.query_requests()
                self.assertEqual(request["headers"]["authorization"], "Bearer rotated-token-2")


if __name__ == "__main__":
    unittest.main()
