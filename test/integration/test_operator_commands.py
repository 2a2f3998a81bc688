"""`explain` shows the backend request an API path becomes without sending it; `query` sends it and
prints what the HPA would get. Neither needs a cluster or a running daemon."""
import json
import unittest
import urllib.parse

from adapter_process import run_binary
from double_processes import SysdigDouble

PATH = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/services/kuard/net.http.request.count"


class OperatorCommandsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sysdig = SysdigDouble()
        cls.env = {"SDC_ENDPOINT": cls.sysdig.url, "SDC_TOKEN": SysdigDouble.TOKEN, "CLUSTER_NAME": "prod"}

    @classmethod
    def tearDownClass(cls):
        cls.sysdig.stop()

    def setUp(self):
        self.sysdig.clear_requests()

    def test_explain_prints_the_promql_request_with_the_token_masked_and_sends_nothing(self):
        code, out, err = run_binary("explain", PATH, env=self.env)
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], f"POST {self.sysdig.url}/prometheus/api/v1/query")
        self.assertIn("Authorization: Bearer ****", lines)
        self.assertNotIn(SysdigDouble.TOKEN, out + err)
        form = urllib.parse.parse_qs(lines[-1])
        self.assertEqual(form["query"][0],
                         'sum by (kube_service_name) (avg_over_time(sysdig_container_net_http_request_count'
                         '{kube_cluster_name="prod",kube_namespace_name="default",kube_service_name="kuard"}[1m]))')
        self.assertEqual(self.sysdig.requests(), [])

    def test_explain_in_data_api_mode_prints_the_body(self):
        code, out, err = run_binary("--sysdig-api", "data", "explain", PATH, env=self.env)
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith(f"POST {self.sysdig.url}/api/data\n"), out)
        body = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(body["metrics"][0]["id"], "net.http.request.count")
        self.assertIn("kubernetes.service.name = 'kuard'", body["filter"])
        self.assertEqual(self.sysdig.requests(), [])

    def test_explain_refuses_bad_paths_like_the_server(self):
        code, _, err = run_binary("explain", PATH.replace("kuard", "ku%22ard"), env=self.env)
        self.assertEqual(code, 1)
        self.assertIn("BadRequest", err)

    def test_query_prints_what_the_hpa_would_get(self):
        code, out, err = run_binary("query", PATH, env=self.env)
        self.assertEqual(code, 0, err)
        body = json.loads(out)
        self.assertEqual(body["kind"], "MetricValueList")
        self.assertEqual(body["items"][0]["value"], "60750m")

    def test_query_reports_backend_failure_without_a_number(self):
        self.sysdig.inject(mode="status", status=503, count=1)
        code, out, err = run_binary("query", PATH, env=self.env)
        self.assertEqual(code, 1)
        self.assertEqual(out, "")
        self.assertIn("ServiceUnavailable", err)

    def test_usage_errors(self):
        code, _, err = run_binary("explain", env=self.env)
        self.assertEqual(code, 2)
        self.assertIn("usage", err)


if __name__ == "__main__":
    unittest.main()
