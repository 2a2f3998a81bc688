"""Delegated authentication and authorization against the real binary: front-proxy certificates
from the kube-system ConfigMap, users' client certificates, TokenReview, SubjectAccessReview, and
their caches; checked through the Kubernetes API double's request log."""
import http.client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest

from adapter_process import Adapter
from double_processes import KubeApiDouble
from tls_material import CertificateAuthority, make_serving_pair

HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
V2 = "/apis/custom.metrics.k8s.io/v1beta2"
METRIC_PATH = V2 + "/namespaces/default/pods/*/http_requests?labelSelector=app%3Dkuard"

POLICY = {"rules": [
    {"users": [HPA_USER], "verbs": ["get", "list"],
     "apiGroups": ["custom.metrics.k8s.io", "external.metrics.k8s.io"], "resources": ["*"]},
    {"users": ["alice", "jane"], "verbs": ["get", "list"], "apiGroups": ["custom.metrics.k8s.io"], "resources": ["*"]},
    {"users": ["jane"], "verbs": ["get"], "nonResourceURLs": ["/apis", "/apis/*"]},
    {"users": ["pusher"], "verbs": ["create"], "nonResourceURLs": ["/write-metrics/*"]},
    # In a cluster the system:discovery ClusterRole grants this to every authenticated user.
    {"users": ["system:aggregator"], "verbs": ["get"], "nonResourceURLs": ["/openapi", "/openapi/*"]},
]}


class AuthenticationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        front_proxy = CertificateAuthority(d, "front-proxy")
        clients = CertificateAuthority(d, "client")
        stranger = CertificateAuthority(d, "stranger")
        cls.proxy_cert = front_proxy.issue_client("front-proxy-client")
        cls.intruder_cert = front_proxy.issue_client("intruder-proxy")
        cls.stranger_cert = stranger.issue_client("front-proxy-client")
        cls.jane_cert = clients.issue_client("jane", ["team-a"])
        cls.serving_cert, cls.serving_key = make_serving_pair(d)

        cls.kube = KubeApiDouble()
        cls.kube.control("POST", "configmap", {"data": {
            "requestheader-client-ca-file": front_proxy.pem(),
            "requestheader-allowed-names": '["front-proxy-client"]',
            "requestheader-username-headers": '["X-Remote-User"]',
            "requestheader-group-headers": '["X-Remote-Group"]',
            "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
            "client-ca-file": clients.pem(),
        }})
        cls.kube.control("POST", "tokens", {
            "alice-token": {"username": "alice", "groups": ["team-b"]},
            "pusher-token": {"username": "pusher", "groups": []},
        })
        cls.kube.control("POST", "policy", POLICY)
        cls.kubeconfig = cls.kube.write_kubeconfig(os.path.join(d, "kubeconfig"))
        cls.adapter = Adapter("--kubeconfig", cls.kubeconfig, "--backend", "push",
                              "--tls-cert-file", cls.serving_cert, "--tls-private-key-file", cls.serving_key,
                              anonymous=False)
        for pod in ("kuard-1", "kuard-2"):
            r = cls.request("POST", f"/write-metrics/namespaces/default/pods/{pod}/http_requests",
                            body=json.dumps({"value": "2", "labels": {"app": "kuard"}}),
                            headers={"Authorization": "Bearer pusher-token"})
            assert r[0] == 200, r

    @classmethod
    def tearDownClass(cls):
        try:
            cls.adapter.stop()
        finally:
            cls.kube.stop()
            cls.tmp.cleanup()

    @classmethod
    def request(cls, method, path, body=None, headers=None, cert=None):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if cert:
            context.load_cert_chain(*cert)
        conn = http.client.HTTPSConnection("127.0.0.1", cls.adapter.port, context=context, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read().decode()
        finally:
            conn.close()

    def reviews(self, kind):
        return [r for r in self.kube.requests() if r["path"].endswith(kind)]

    def test_front_proxy_with_allowed_cn_is_believed(self):
        status, body = self.request("GET", METRIC_PATH, headers={"X-Remote-User": HPA_USER,
                                                                 "X-Remote-Group": "system:serviceaccounts"},
                                    cert=self.proxy_cert)
        self.assertEqual(status, 200, body)
        self.assertEqual(len(json.loads(body)["items"]), 2)

    def test_identity_headers_without_a_certificate_are_ignored(self):
        status, body = self.request("GET", METRIC_PATH, headers={"X-Remote-User": HPA_USER})
        self.assertEqual(status, 401, body)
        self.assertEqual(json.loads(body)["reason"], "Unauthorized")

    def test_certificate_from_a_stranger_ca_is_not_a_front_proxy(self):
        try:
            status, body = self.request("GET", METRIC_PATH, headers={"X-Remote-User": HPA_USER},
                                        cert=self.stranger_cert)
        except (ssl.SSLError, ConnectionError):
            return  # refused at the handshake: also correct
        self.assertEqual(status, 401, body)

    def test_front_proxy_cn_not_in_the_allowed_list_is_refused(self):
        status, body = self.request("GET", METRIC_PATH, headers={"X-Remote-User": HPA_USER},
                                    cert=self.intruder_cert)
        self.assertEqual(status, 401, body)
        self.assertIn("intruder-proxy", json.loads(body)["message"])

    def test_denied_review_is_403_naming_user_and_request(self):
        status, body = self.request("GET", V2 + "/namespaces/default/pods/*/other_metric",
                                    headers={"X-Remote-User": "mallory"}, cert=self.proxy_cert)
        self.assertEqual(status, 403, body)
        message = json.loads(body)["message"]
        self.assertIn('User "mallory" cannot get resource "pods/other_metric" in API group "custom.metrics.k8s.io"',
                      message)
        self.assertIn('namespace "default"', message)

    def test_review_attributes_follow_the_kubernetes_request_info_rules(self):
        self.kube.clear_requests()
        self.request("GET", V2 + "/namespaces/default/pods/%2A/attr_metric", headers={"X-Remote-User": HPA_USER,
                     "X-Remote-Group": "system:serviceaccounts", "X-Remote-Extra-Scopes": "a"}, cert=self.proxy_cert)
        (review,) = self.reviews("subjectaccessreviews")
        spec = review["json"]["spec"]
        self.assertEqual(spec["resourceAttributes"], {"namespace": "default", "verb": "get",
                                                      "group": "custom.metrics.k8s.io", "version": "v1beta2",
                                                      "resource": "pods", "subresource": "attr_metric", "name": "*"})
        self.assertEqual(spec["user"], HPA_USER)
        self.assertEqual(set(spec["groups"]), {"system:serviceaccounts", "system:authenticated"})
        self.assertEqual(spec["extra"], {"scopes": ["a"]})
        self.kube.clear_requests()
        self.request("GET", "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth",
                     headers={"X-Remote-User": HPA_USER}, cert=self.proxy_cert)
        (review,) = self.reviews("subjectaccessreviews")
        attributes = review["json"]["spec"]["resourceAttributes"]
        self.assertEqual((attributes["verb"], attributes["resource"]), ("list", "queue_depth"))

    def test_bearer_tokens_are_reviewed(self):
        status, body = self.request("GET", METRIC_PATH, headers={"Authorization": "Bearer alice-token"})
        self.assertEqual(status, 200, body)
        status, body = self.request("GET", METRIC_PATH, headers={"Authorization": "Bearer forged-token"})
        self.assertEqual(status, 401, body)

    def test_direct_client_certificate_user_is_cn_and_groups_are_o(self):
        self.kube.clear_requests()
        status, body = self.request("GET", V2 + "/namespaces/default/pods/*/jane_metric", cert=self.jane_cert)
        self.assertEqual(status, 200, body)
        (review,) = self.reviews("subjectaccessreviews")
        self.assertEqual(review["json"]["spec"]["user"], "jane")
        self.assertIn("team-a", review["json"]["spec"]["groups"])

    def test_caches_cut_repeat_reviews(self):
        self.kube.clear_requests()
        for _ in range(5):
            status, _ = self.request("GET", V2 + "/namespaces/default/pods/*/cached_metric",
                                     headers={"Authorization": "Bearer alice-token"})
            self.assertEqual(status, 200)
        self.assertLessEqual(len(self.reviews("tokenreviews")), 1)
        self.assertEqual(len(self.reviews("subjectaccessreviews")), 1)

    def test_health_needs_no_identity(self):
        for path in ("/healthz", "/livez", "/readyz"):
            self.assertEqual(self.request("GET", path)[0], 200)

    def test_discovery_and_writes_are_non_resource_reviews(self):
        self.assertEqual(self.request("GET", V2)[0], 401)
        self.assertEqual(self.request("GET", V2, cert=self.jane_cert)[0], 200)
        status, _ = self.request("POST", "/write-metrics/namespaces/default/pods/p/m", body='"1"')
        self.assertEqual(status, 401)
        status, _ = self.request("POST", "/write-metrics/namespaces/default/pods/p/m", body='"1"',
                                 headers={"Authorization": "Bearer alice-token"})
        self.assertEqual(status, 403)

    def test_openapi_documents_are_non_resource_reviews(self):
        # The kube-aggregator fetches them as system:aggregator, through the front proxy.
        aggregator = {"X-Remote-User": "system:aggregator", "Accept": "application/json"}
        self.assertEqual(self.request("GET", "/openapi/v2")[0], 401)
        self.kube.clear_requests()
        status, body = self.request("GET", "/openapi/v2", headers=aggregator, cert=self.proxy_cert)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["swagger"], "2.0")
        (review,) = self.reviews("subjectaccessreviews")
        self.assertEqual(review["json"]["spec"]["nonResourceAttributes"], {"path": "/openapi/v2", "verb": "get"})
        self.assertNotIn("resourceAttributes", review["json"]["spec"])

        self.kube.clear_requests()
        status, body = self.request("GET", "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2?hash=STALE",
                                    headers=aggregator, cert=self.proxy_cert)
        self.assertEqual(status, 301, body)  # authorized, then sent to the current hash
        (review,) = self.reviews("subjectaccessreviews")
        self.assertEqual(review["json"]["spec"]["nonResourceAttributes"],
                         {"path": "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2", "verb": "get"})

        status, body = self.request("GET", "/openapi/v3", headers={"X-Remote-User": "mallory"}, cert=self.proxy_cert)
        self.assertEqual(status, 403, body)
        self.assertIn('User "mallory" cannot get path "/openapi/v3"', json.loads(body)["message"])

    def test_metrics_on_the_secure_port_needs_an_authorized_identity(self):
        self.assertEqual(self.request("GET", "/metrics")[0], 401)
        self.kube.clear_requests()
        self.assertEqual(self.request("GET", "/metrics", cert=self.jane_cert)[0], 403)  # no rule for /metrics
        (review,) = self.reviews("subjectaccessreviews")
        self.assertEqual(review["json"]["spec"]["nonResourceAttributes"], {"path": "/metrics", "verb": "get"})

    def test_reviews_down_fail_closed(self):
        self.kube.inject(mode="status", status=500, path_prefix="/apis/authorization.k8s.io")
        try:
            status, body = self.request("GET", V2 + "/namespaces/default/pods/*/uncached_metric",
                                        headers={"X-Remote-User": HPA_USER}, cert=self.proxy_cert)
        finally:
            self.kube.clear_faults()
        self.assertEqual(status, 503, body)
        self.assertNotIn("items", body)

    @unittest.skipUnless(shutil.which("kubectl"), "kubectl is installed by scripts/install-deps.sh")
    def test_kubectl_with_a_client_certificate(self):
        kubeconfig = os.path.join(self.tmp.name, "jane.kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: adapter
  cluster: {{server: "https://127.0.0.1:{self.adapter.port}", certificate-authority: "{self.serving_cert}"}}
users:
- name: jane
  user: {{client-certificate: "{self.jane_cert[0]}", client-key: "{self.jane_cert[1]}"}}
contexts:
- name: adapter
  context: {{cluster: adapter, user: jane}}
current-context: adapter
""")
        p = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "get", "--raw", METRIC_PATH],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["kind"], "MetricValueList")


if __name__ == "__main__":
    unittest.main()
