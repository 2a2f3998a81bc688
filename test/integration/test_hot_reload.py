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


class ClientCaRotationTest(unittest.TestCase):
    """--client-ca-file is re-read on change and on SIGHUP: a certificate from the new CA is accepted,
    one from the old CA refused, on connections opened before the reload too; a broken file keeps the
    CA in force."""

    DISCOVERY = "/apis/custom.metrics.k8s.io/v1beta1"

    def setUp(self):
        import ssl  # noqa: F401  (as above: only these tests need it)
        from double_processes import KubeApiDouble
        from tls_material import CertificateAuthority
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        d = self.tmp.name
        old_ca = CertificateAuthority(d, "old")
        new_ca = CertificateAuthority(d, "new")
        self.alice = old_ca.issue_client("alice")
        self.bob = new_ca.issue_client("bob")
        self.new_ca_pem = new_ca.pem()
        self.ca_file = os.path.join(d, "client-ca.crt")
        write(self.ca_file, old_ca.pem())
        self.kube = KubeApiDouble()
        self.addCleanup(self.kube.stop)
        # No ConfigMap: the flag alone configures client certificates.
        self.kube.control("POST", "policy", {"rules": [{"users": ["alice", "bob"], "verbs": ["get"],
                                                        "nonResourceURLs": ["/apis", "/apis/*"]}]})
        kubeconfig = self.kube.write_kubeconfig(os.path.join(d, "kubeconfig"))
        self.adapter = Adapter("--kubeconfig", kubeconfig, "--backend", "push", "--client-ca-file", self.ca_file,
                               anonymous=False)
        self.addCleanup(self.adapter.stop)

    def connect(self, cert):
        import http.client
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.load_cert_chain(*cert)
        return http.client.HTTPSConnection("127.0.0.1", self.adapter.port, context=context, timeout=10)

    def status(self, cert, conn=None):
        own = conn is None
        conn = conn or self.connect(cert)
        try:
            conn.request("GET", self.DISCOVERY)
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            if own:
                conn.close()

    def wait_for_log(self, text, seconds=8):
        deadline = time.time() + seconds
        while time.time() < deadline:
            lines = [json.loads(l) for l in self.adapter.log_lines if text in l]
            if lines:
                return lines
            time.sleep(0.1)
        self.fail(f"no log line with {text!r}:\n" + "".join(self.adapter.log_lines[-20:]))

    def test_a_rotated_client_ca_file_is_put_in_force_and_a_broken_one_rejected(self):
        self.assertEqual(self.status(self.alice), 200)
        bobs_connection = self.connect(self.bob)  # opened before the rotation, kept open across it
        self.addCleanup(bobs_connection.close)
        self.assertEqual(self.status(self.bob, bobs_connection), 401)
        socket_before = bobs_connection.sock
        self.assertIsNotNone(socket_before)  # kept alive after the 401

        write(self.ca_file, self.new_ca_pem)  # picked up by the file watcher
        (reloaded,) = self.wait_for_log('"CA reloaded"')
        self.assertEqual((reloaded["flag"], reloaded["trigger"]), ("--client-ca-file", "file change"))
        self.assertEqual(self.status(self.bob, bobs_connection), 200)
        self.assertIs(bobs_connection.sock, socket_before)  # the same connection: nothing was dropped
        self.assertEqual(self.status(self.bob), 200)
        self.assertEqual(self.status(self.alice), 401)

        write(self.ca_file, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
        self.adapter.proc.send_signal(signal.SIGHUP)
        rejected = self.wait_for_log("CA reload rejected")
        self.assertIn("no CA certificate could be read from " + self.ca_file, rejected[0]["error"])
        self.assertEqual(self.status(self.bob), 200)  # the CA in force stays
        self.assertEqual(self.status(self.alice), 401)
