"""Bad paths, names, selectors, methods and bodies: each gets a Status with the right code and a
message naming what was wrong; nothing is stored and the daemon keeps serving."""
import unittest

from adapter_process import Adapter

V1 = "/apis/custom.metrics.k8s.io/v1beta1"
EXT = "/apis/external.metrics.k8s.io/v1beta1"

# (method, path, body, code, a piece of the message)
TABLE = [
    ("GET", "/nope", None, 404, "could not find the requested resource"),
    ("GET", "/apis/custom.metrics.k8s.io/v1", None, 404, "could not find"),
    ("GET", "/apis/other.group/v1", None, 404, "could not find"),
    ("GET", V1 + "/namespaces/default/pods", None, 404, "could not find"),
    ("GET", V1 + "/namespaces/default/pods/p/m/extra", None, 404, "could not find"),
    ("GET", V1 + "/namespaces//pods/p/m", None, 404, "could not find"),
    ("GET", EXT + "/queue", None, 404, "could not find"),
    ("GET", V1 + "/namespaces/Default/pods/p/m", None, 400, "Default"),
    ("GET", V1 + "/namespaces/de_fault/pods/p/m", None, 400, "namespace"),
    ("GET", V1 + "/namespaces/" + "a" * 64 + "/pods/p/m", None, 400, "namespace"),
    ("GET", V1 + "/namespaces/default/pods/Bad_Name/m", None, 400, "Bad_Name"),
    ("GET", V1 + "/namespaces/default/pods/p%2Fq/m", None, 400, "p/q"),
    ("GET", V1 + "/namespaces/default/Pods/p/m", None, 400, "Pods"),
    ("GET", V1 + "/namespaces/default/pods/p/1metric", None, 400, "1metric"),
    ("GET", V1 + "/namespaces/default/pods/p/m%22%7D", None, 400, "metric"),
    ("GET", V1 + "/namespaces/default/pods/p/m-dash", None, 400, "m-dash"),
    ("GET", V1 + "/namespaces/default/pods/p/m%00", None, 400, "percent-encoding"),
    ("GET", V1 + "/namespaces/default/pods/p/m%G0", None, 400, "percent-encoding"),
    ("GET", V1 + "/namespaces/default/pods/*/m?labelSelector=app%3D%3D%3D", None, 400, "labelSelector"),
    ("GET", V1 + "/namespaces/default/pods/*/m?labelSelector=a%20in%20(b", None, 400, "labelSelector"),
    ("GET", V1 + "/namespaces/default/pods/*/m?labelSelector=a%3Db%22", None, 400, "labelSelector"),
    ("GET", V1 + "/namespaces/default/pods/*/m?labelSelector=a%3E1", None, 400, "labelSelector"),
    ("GET", V1 + "/namespaces/default/pods/*/m?metricLabelSelector=%3Db", None, 400, "metricLabelSelector"),
    ("GET", V1 + "/namespaces/default/pods/*/m?labelSelector=%ZZ", None, 400, "percent-encoding"),
    ("GET", EXT + "/namespaces/default/q?labelSelector=x%20notin", None, 400, "labelSelector"),
    ("GET", EXT + "/namespaces/UPPER/q", None, 400, "UPPER"),
    ("POST", V1 + "/namespaces/default/pods/p/m", "1", 405, "does not allow this method"),
    ("DELETE", V1, None, 405, "does not allow this method"),
    ("PUT", EXT + "/namespaces/default/q", "1", 405, "does not allow this method"),
    ("GET", "/write-metrics/namespaces/default/pods/p/m", None, 405, "does not allow this method"),
    ("POST", "/write-metrics/namespaces/default/pods/*/m", "1", 400, "*"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", "", 400, "not JSON"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", "abc", 400, "not JSON"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '"abc"', 400, "not a Kubernetes quantity"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '"1.5.5"', 400, "not a Kubernetes quantity"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", "[1]", 400, "expected a quantity"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", "true", 400, "expected a quantity"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", "null", 400, "expected a quantity"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '{"labels":{}}', 400, "no \"value\""),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '{"value":"1","extra":1}', 400, "unknown field"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '{"value":"1","labels":{"app":1}}', 400, "string"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '{"value":"1","labels":{"bad key":"x"}}', 400, "bad key"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '{"value":"1","metricLabels":{"k":"bad value"}}', 400,
     "bad value"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '{"value":"1","metricLabels":[]}', 400, "object"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '"1e400"', 400, "not a Kubernetes quantity"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", "1e400", 400, "too large to be a Kubernetes quantity"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", "NaN", 400, "not JSON"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '"NaN"', 400, "not a Kubernetes quantity"),
    ("POST", "/write-metrics/namespaces/default/pods/p/m", '"1" trailing', 400, "not JSON"),
    ("POST", "/write-external-metrics/namespaces/default/q", '{"value":"1","labels":{"a":"b"}}', 400, "metricLabels"),
    ("POST", "/write-external-metrics/namespaces/default", "1", 404, "could not find"),
]


class BadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.adapter = Adapter()

    @classmethod
    def tearDownClass(cls):
        cls.adapter.stop()

    def test_each_bad_input_gets_a_status_with_the_right_code(self):
        reasons = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed"}
        for method, path, body, code, fragment in TABLE:
            with self.subTest(method=method, path=path, body=body):
                r = self.adapter.request(method, path, body=body)
                self.assertEqual(r.status, code, r.body)
                status = r.json()
                self.assertEqual(status["kind"], "Status")
                self.assertEqual(status["apiVersion"], "v1")
                self.assertEqual(status["status"], "Failure")
                self.assertEqual(status["code"], code)
                self.assertEqual(status["reason"], reasons[code])
                self.assertIn(fragment, status["message"])
        # Nothing was stored by any refused write, and the daemon still answers.
        r = self.adapter.get(V1)
        self.assertEqual(r.status, 200)
        self.assertEqual([x["name"] for x in r.json()["resources"]], ["*/*"])

    def test_head_on_health_is_allowed(self):
        r = self.adapter.request("HEAD", "/healthz")
        self.assertEqual(r.status, 200)


if __name__ == "__main__":
    unittest.main()
