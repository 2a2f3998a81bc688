"""--serving-cert-secret through the real daemon and the Kubernetes API double: the first start makes the Secret and
injects its CA into the APIServices, replicas starting together serve one certificate, a Secret made by someone else
is used as it is, the pair and the CA rotate at two thirds of their lives, RBAC refusals and tampered Secrets leave
the adapter serving and saying why."""
import base64
import json
import os
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from adapter_process import Adapter
from double_processes import KubeApiDouble

NAMESPACE = "custom-metrics"
SECRET = "sma-serving"
SECRET_PATH = f"/api/v1/namespaces/{NAMESPACE}/secrets"
SERVICE_DNS = "sma.custom-metrics.svc"
APISERVICES = ("v1beta1.custom.metrics.k8s.io", "v1beta2.custom.metrics.k8s.io", "v1beta1.external.metrics.k8s.io")


def apiservice(name, **spec):
    version, _, group = name.partition(".")
    return {"metadata": {"name": name},
            "spec": {"group": group, "version": version, "groupPriorityMinimum": 100, "versionPriority": 100,
                     "service": {"namespace": NAMESPACE, "name": "sma", "port": 443}, **spec}}


def b64(text):
    return base64.b64encode(text.encode()).decode()


def pem_certificates(bundle):
    """The PEM blocks of a bundle, each normalised through DER."""
    blocks = []
    for part in bundle.split("-----END CERTIFICATE-----")[:-1]:
        block = part[part.index("-----BEGIN CERTIFICATE-----"):] + "-----END CERTIFICATE-----\n"
        blocks.append(ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(block)))
    return blocks


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def metric_value(text, name, **labels):
    """The value of one series of the Prometheus text, or None."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


class ServingCertSecretTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.kube = KubeApiDouble()
        self.kubeconfig = self.kube.write_kubeconfig(os.path.join(self.tmp.name, "kubeconfig"))
        self.adapters = []

    def tearDown(self):
        try:
            for adapter in self.adapters:
                adapter.stop()
        finally:
            self.kube.stop()
            self.tmp.cleanup()

    # -- helpers ---------------------------------------------------------------------------------------------

    def seed(self, secrets=(), apiservices=None):
        if apiservices is None:
            apiservices = [apiservice(name) for name in APISERVICES]
        self.kube.control("POST", "objects", {"secrets": list(secrets), "apiServices": apiservices})

    def start(self, *flags, wait_ready=True):
        adapter = Adapter("--kubeconfig", self.kubeconfig, f"--serving-cert-secret={NAMESPACE}/{SECRET}",
                          "--serving-cert-service=sma", "--serving-cert-check-interval=1s", *flags,
                          wait_ready=wait_ready)
        self.adapters.append(adapter)
        return adapter

    def objects(self):
        return self.kube.control("GET", "objects")

    def secret(self):
        found = [s for s in self.objects()["secrets"] if s["metadata"]["name"] == SECRET]
        return found[0] if found else None

    def secret_pem(self, key):
        return base64.b64decode(self.secret()["data"][key]).decode()

    def ca_bundles(self):
        return {s["metadata"]["name"]: base64.b64decode(s["spec"].get("caBundle", "")).decode()
                for s in self.objects()["apiServices"]}

    def served_certificate(self, adapter):
        """The leaf the daemon presents to a new connection, as PEM."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", adapter.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=SERVICE_DNS) as tls:
                return ssl.DER_cert_to_PEM_cert(tls.getpeercert(binary_form=True))

    def verified_get(self, adapter, ca_pem, path="/readyz"):
        """GET over TLS verified against `ca_pem` for the Service's name, as the aggregator connects."""
        context = ssl.create_default_context(cadata=ca_pem)
        with socket.create_connection(("127.0.0.1", adapter.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=SERVICE_DNS) as tls:
                tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {SERVICE_DNS}\r\nConnection: close\r\n\r\n".encode())
                answer = b""
                while chunk := tls.recv(65536):
                    answer += chunk
        return answer.decode("utf-8", "replace")

    def verifies(self, adapter, ca_pem):
        """Whether the certificate served now verifies against ca_pem (not yet: False, not an error)."""
        try:
            return "200 OK" in self.verified_get(adapter, ca_pem)
        except ssl.SSLError:
            return False

    def wait_for(self, condition, what, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.2)
        self.fail(f"timed out waiting for {what}")

    def logged(self, adapter, fragment):
        return any(fragment in line for line in adapter.log_lines)

    # -- tests -----------------------------------------------------------------------------------------------

    def test_first_start_creates_the_secret_serves_it_and_injects_the_ca(self):
        apiservices = [apiservice(APISERVICES[0], insecureSkipTLSVerify=True)] + \
                      [apiservice(name) for name in APISERVICES[1:]]
        self.seed(apiservices=apiservices)
        adapter = self.start()

        secret = self.secret()
        self.assertIsNotNone(secret, "the Secret was not created")
        self.assertEqual(secret["metadata"]["labels"], {"app.kubernetes.io/managed-by": "sysdig-metrics-adapter"})
        self.assertEqual(secret["type"], "kubernetes.io/tls")
        ca = self.secret_pem("ca.crt")
        self.assertEqual(len(pem_certificates(ca)), 1)
        # Served before the first answer, and verifiable as the aggregator verifies it.
        self.assertEqual(self.served_certificate(adapter), pem_certificates(self.secret_pem("tls.crt"))[0])
        self.assertIn("200 OK", self.verified_get(adapter, ca))
        for name in ("sma.custom-metrics.svc.cluster.local", "sma.custom-metrics"):
            context = ssl.create_default_context(cadata=ca)
            with socket.create_connection(("127.0.0.1", adapter.port), timeout=5) as raw:
                with context.wrap_socket(raw, server_hostname=name):
                    pass
        with self.assertRaises(ssl.SSLCertVerificationError):
            context = ssl.create_default_context(cadata=ca)
            with socket.create_connection(("127.0.0.1", adapter.port), timeout=5) as raw:
                context.wrap_socket(raw, server_hostname="other.custom-metrics.svc")

        objects = self.objects()
        for service in objects["apiServices"]:
            self.assertEqual(base64.b64decode(service["spec"]["caBundle"]).decode(), ca, service["metadata"]["name"])
            self.assertNotIn("insecureSkipTLSVerify", service["spec"])
        patches = [r for r in self.kube.requests() if r["method"] == "PATCH"]
        self.assertEqual(sorted(p["path"].rsplit("/", 1)[1] for p in patches), sorted(APISERVICES))
        self.assertTrue(all(p["headers"]["content-type"] == "application/merge-patch+json" for p in patches))
        self.assertTrue(self.logged(adapter, "insecureSkipTLSVerify: true; cleared it"))

        # Later checks find everything in place and write nothing.
        self.kube.clear_requests()
        time.sleep(2.5)
        writes = [r for r in self.kube.requests() if r["method"] != "GET"]
        self.assertEqual(writes, [])
        metrics = adapter.get("/metrics").body
        self.assertIsNotNone(metric_value(metrics, "sysdig_metrics_adapter_serving_certificate_expiry_timestamp_seconds",
                                          source="secret"))
        for name in APISERVICES:
            self.assertEqual(metric_value(metrics, "sysdig_metrics_adapter_apiservice_ca_injection",
                                          apiservice=name, outcome="unchanged"), 1)
        self.assertEqual(adapter.get("/readyz").status, 200)

    def test_two_adapters_starting_together_make_one_secret_and_serve_the_same_certificate(self):
        self.seed()
        first = self.start(wait_ready=False)
        second = self.start(wait_ready=False)
        first._wait_listening()
        second._wait_listening()
        self.assertEqual(len(self.objects()["secrets"]), 1)
        served = pem_certificates(self.secret_pem("tls.crt"))[0]
        self.assertEqual(self.served_certificate(first), served)
        self.assertEqual(self.served_certificate(second), served)
        creates = [r for r in self.kube.requests() if r["method"] == "POST" and r["path"] == SECRET_PATH]
        self.assertGreaterEqual(len(creates), 1)

    def test_a_secret_made_by_someone_else_is_served_as_it_is(self):
        work = self.tmp.name
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=operator-ca", cwd=work)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                "tls.key", "-out", "tls.csr", "-subj", f"/CN={SERVICE_DNS}", cwd=work)
        with open(os.path.join(work, "ext"), "w") as f:
            f.write(f"subjectAltName=DNS:{SERVICE_DNS}\n")
        openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "30", "-extfile", "ext", "-out", "tls.crt", cwd=work)
        files = {}
        for name in ("ca.crt", "tls.crt", "tls.key"):
            with open(os.path.join(work, name)) as f:
                files[name] = f.read()
        self.seed(secrets=[{"metadata": {"name": SECRET, "namespace": NAMESPACE}, "type": "kubernetes.io/tls",
                            "data": {key: b64(value) for key, value in files.items()}}])
        version = self.secret()["metadata"]["resourceVersion"]
        adapter = self.start()

        self.assertEqual(self.served_certificate(adapter), pem_certificates(files["tls.crt"])[0])
        self.assertIn("200 OK", self.verified_get(adapter, files["ca.crt"]))
        self.assertEqual(set(self.ca_bundles().values()), {files["ca.crt"]})  # its ca.crt is injected
        time.sleep(2.5)
        self.assertEqual(self.secret()["metadata"]["resourceVersion"], version, "someone else's Secret was rewritten")
        self.assertTrue(self.logged(adapter, "made by someone else"))

    def test_serving_pair_and_ca_rotate_at_two_thirds_of_their_lives(self):
        self.seed()
        adapter = self.start("--serving-cert-validity=9s", "--serving-cert-ca-validity=21s")
        first_ca = self.secret_pem("ca.crt")
        first_leaf = self.served_certificate(adapter)

        # The serving pair: renewed by the same CA at ~6 s, and served without a restart.
        second_leaf = self.wait_for(lambda: (lambda c: c if c != first_leaf else None)(self.served_certificate(adapter)),
                                    "the serving pair to be renewed", timeout=12)
        self.assertEqual(self.secret_pem("ca.crt"), first_ca)
        self.assertIn("200 OK", self.verified_get(adapter, first_ca))
        self.assertEqual(second_leaf, pem_certificates(self.secret_pem("tls.crt"))[0])

        # The CA, at ~14 s: both CAs in every caBundle, then a pair from the new one, then the old one retires.
        both = self.wait_for(lambda: (lambda b: b if len(pem_certificates(b)) == 2 else None)(self.secret_pem("ca.crt")),
                             "a second CA in ca.crt", timeout=14)
        new_ca, old_ca = pem_certificates(both)
        self.assertEqual(old_ca, pem_certificates(first_ca)[0])
        self.wait_for(lambda: all(len(pem_certificates(b)) == 2 for b in self.ca_bundles().values()),
                      "both CAs in every APIService's caBundle", timeout=5)
        self.wait_for(lambda: self.verifies(adapter, new_ca), "a pair from the new CA", timeout=8)
        retired = self.wait_for(lambda: (lambda b: b if len(pem_certificates(b)) == 1 else None)(self.secret_pem("ca.crt")),
                                "the old CA to leave ca.crt", timeout=8)
        self.assertEqual(pem_certificates(retired), [new_ca])
        self.wait_for(lambda: set(self.ca_bundles().values()) == {retired}, "the APIServices to drop the old CA",
                      timeout=5)
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.verified_get(adapter, old_ca)
        self.assertTrue(self.logged(adapter, "two thirds of the authority's life"))

    def test_rbac_refusals_leave_it_serving_and_saying_why_until_they_are_lifted(self):
        self.seed()
        self.kube.inject(mode="status", status=403, path_prefix=SECRET_PATH,
                         body=json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                          "message": 'secrets "sma-serving" is forbidden', "reason": "Forbidden",
                                          "code": 403}))
        adapter = self.start()
        readyz = adapter.get("/readyz")
        self.assertEqual(readyz.status, 503)
        self.assertIn("[-]serving-certificate failed", readyz.body)
        self.assertIn("forbidden", readyz.body)
        self.assertTrue(self.logged(adapter, "SERVING A SELF-SIGNED CERTIFICATE"))
        self.assertEqual(adapter.get("/healthz").status, 200)   # alive, serving: not restarted
        self.wait_for(lambda: (metric_value(adapter.get("/metrics").body,
                                            "sysdig_metrics_adapter_serving_secret_operations_total",
                                            operation="read", outcome="forbidden") or 0) >= 3,
                      "retries with backoff", timeout=10)
        self.assertIsNone(self.secret())

        self.kube.clear_faults()
        self.wait_for(lambda: adapter.get("/readyz").status == 200, "readiness once the Secret can be made", timeout=15)
        self.assertEqual(self.served_certificate(adapter), pem_certificates(self.secret_pem("tls.crt"))[0])

    def test_apiservices_that_cannot_be_patched_are_reported_while_the_secret_is_served(self):
        self.seed()
        self.kube.inject(mode="status", status=403, path_prefix="/apis/apiregistration.k8s.io/")
        adapter = self.start()
        self.assertEqual(adapter.get("/readyz").status, 200)
        self.assertEqual(self.served_certificate(adapter), pem_certificates(self.secret_pem("tls.crt"))[0])
        metrics = adapter.get("/metrics").body
        for name in APISERVICES:
            self.assertEqual(metric_value(metrics, "sysdig_metrics_adapter_apiservice_ca_injection",
                                          apiservice=name, outcome="failed"), 1)
        self.assertTrue(self.logged(adapter, "cannot inject caBundle into APIService"))
        self.kube.clear_faults()
        ca = self.secret_pem("ca.crt")
        self.wait_for(lambda: set(self.ca_bundles().values()) == {ca}, "the injection to succeed on retry", timeout=10)

    def tampered_secret(self):
        return {"metadata": {"name": SECRET, "namespace": NAMESPACE,
                             "labels": {"app.kubernetes.io/managed-by": "sysdig-metrics-adapter"}},
                "type": "kubernetes.io/tls",
                "data": {"tls.crt": b64("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                         "tls.key": b64("garbage"), "ca.crt": b64("garbage"), "ca.key": b64("garbage")}}

    def test_a_tampered_secret_is_reported_and_left_alone_without_the_flag(self):
        self.seed(secrets=[self.tampered_secret()])
        version = self.secret()["metadata"]["resourceVersion"]
        adapter = self.start()
        readyz = adapter.get("/readyz")
        self.assertEqual(readyz.status, 503)
        self.assertIn("unusable", readyz.body)
        self.assertIn("--serving-cert-replace-unusable", readyz.body)
        self.assertTrue(self.logged(adapter, "unusable: tls.crt"))
        time.sleep(2)
        self.assertEqual(self.secret()["metadata"]["resourceVersion"], version)
        self.assertEqual(set(self.ca_bundles().values()), {""})   # nothing injected from it

    def test_a_tampered_secret_is_replaced_when_the_flag_allows(self):
        self.seed(secrets=[self.tampered_secret()])
        adapter = self.start("--serving-cert-replace-unusable")
        self.assertEqual(adapter.get("/readyz").status, 200)
        ca = self.secret_pem("ca.crt")
        self.assertIn("200 OK", self.verified_get(adapter, ca))
        self.assertTrue(self.logged(adapter, "replacing it"))

    def test_flags_that_cannot_work_stop_the_start_with_a_reason(self):
        from adapter_process import run_binary
        code, _, err = run_binary("--insecure-allow-anonymous", "--kubeconfig", self.kubeconfig,
                                  "--serving-cert-secret=no-namespace")
        self.assertEqual(code, 1)
        self.assertIn("names no namespace", err)
        code, _, err = run_binary("--insecure-allow-anonymous", "--kubeconfig", self.kubeconfig,
                                  "--serving-cert-secret=Bad_Namespace/x")
        self.assertEqual(code, 1)
        self.assertIn("invalid --serving-cert-secret", err)
        code, _, err = run_binary("--insecure-allow-anonymous", f"--serving-cert-secret={NAMESPACE}/{SECRET}")
        self.assertEqual(code, 1)
        self.assertIn("needs the Kubernetes API", err)
        code, _, err = run_binary("--insecure-allow-anonymous", f"--serving-cert-secret={NAMESPACE}/{SECRET}",
                                  "--tls-cert-file=/x", "--tls-private-key-file=/y")
        self.assertEqual(code, 1)
        self.assertIn("give one", err)


if __name__ == "__main__":
    unittest.main()
