"""Tests of the Kubernetes API double: its selector grammar in-process, and the real script as a subprocess
spoken to over HTTPS, trusting the certificate it reports."""
import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

import double_process
import kube_api_double as double_module

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "kube_api_double.py")
FIXTURE = os.path.join(HERE, "fixtures", "kube_objects.json")
TOKEN = "kube-s3cr3t"

DEFAULT_RUNNING = ["kuard-7d4f-1", "kuard-7d4f-2", "kuard-7d4f-3", "redis-0", "redis-1"]


class KubeApiProcess(double_process.DoubleProcess):
    """The Kubernetes API double as a child process on a free port, spoken to over HTTPS with TOKEN, trusting
    the certificate it reports."""

    def __init__(self, *extra_args, fixture=FIXTURE):
        super().__init__(SCRIPT, "--token", TOKEN, "--fixture", fixture, *extra_args, token=TOKEN)


def pods_path(namespace=None, **params):
    base = "/api/v1/pods" if namespace is None else f"/api/v1/namespaces/{namespace}/pods"
    return base + ("?" + urllib.parse.urlencode(params) if params else "")


class DoubleTestCase(double_process.DoubleTestCase):
    """One Kubernetes API double per test class, reset to the stock fixture and token before every test."""

    start_double = KubeApiProcess
    fixture = FIXTURE

    def list_pods(self, namespace=None, **params):
        response = self.double.request("GET", pods_path(namespace, **params))
        self.assertEqual(response.status, 200, response.body)
        return response.json()

    def names(self, namespace=None, **params):
        return [item["metadata"]["name"] for item in self.list_pods(namespace, **params)["items"]]

    def assert_status(self, response, code, reason):
        self.assertEqual(response.status, code, response.body)
        body = response.json()
        self.assertEqual(list(body)[:6], ["kind", "apiVersion", "metadata", "status", "message", "reason"])
        self.assertEqual((body["kind"], body["apiVersion"], body["status"], body["reason"], body["code"]),
                         ("Status", "v1", "Failure", reason, code))
        return body


# ---------------------------------------------------------------------------------------------------------
# In-process: the selector grammar
# ---------------------------------------------------------------------------------------------------------

class SelectorGrammarTests(unittest.TestCase):
    LABELS = {"app": "kuard", "tier": "frontend", "replicas": "3"}

    def matches(self, selector, labels=None):
        return double_module.selector_matches(double_module.parse_selector(selector),
                                              self.LABELS if labels is None else labels)

    def test_operators(self):
        cases = {"": True, "app=kuard": True, "app==kuard": True, "app!=kuard": False, "app!=redis": True,
                 "missing!=x": True, "app in (redis,kuard)": True, "app notin (kuard)": False,
                 "missing notin (x)": True, "app": True, "!app": False, "!missing": True, "missing": False,
                 "app=kuard,tier=backend": False, "  app = kuard ,  tier  ": True, "replicas>2": True,
                 "replicas<3": False, "app>1": False, "missing=": False, "app in (kuard,)": True}
        for selector, expected in cases.items():
            with self.subTest(selector=selector):
                self.assertEqual(self.matches(selector), expected)

    def test_empty_values(self):
        self.assertTrue(self.matches("app=", {"app": ""}))
        self.assertTrue(self.matches("app in (,x)", {"app": ""}))

    def test_keywords_are_plain_words_as_values_and_keys(self):
        self.assertTrue(self.matches("in=notin", {"in": "notin"}))
        self.assertTrue(self.matches("example.com/role in (in)", {"example.com/role": "in"}))

    def test_malformed_selectors_are_refused(self):
        for selector in ("app in ()", "app in (a b)", "app=(", "!app=x", "app=kuard,", ",app", "app kuard",
                         "-bad=1", "app=-x", "app in kuard", "a=b=c", "replicas>x", "Bad_Prefix/x=1", "x/=1",
                         "(app)", "app notin"):
            with self.subTest(selector=selector):
                with self.assertRaises(double_module.SelectorError):
                    double_module.parse_selector(selector)

    def test_error_messages_read_like_the_api_server(self):
        with self.assertRaisesRegex(double_module.SelectorError, r"^unable to parse requirement: .*values set"):
            double_module.parse_selector("app in ()")


class FixtureParsingTests(unittest.TestCase):
    def test_bundled_fixture(self):
        pods = double_module.load_fixture_file(FIXTURE)
        self.assertEqual(len(pods), 10)
        job = next(p for p in pods if p["metadata"]["name"] == "kuard-job-x")
        self.assertEqual((job["metadata"]["namespace"], job["status"]["phase"]), ("default", "Succeeded"))

    def test_invalid_fixtures_are_refused(self):
        pod = {"kind": "Pod", "metadata": {"name": "a", "namespace": "default"}}
        cases = [{"items": "x"}, {"items": [{"kind": "Service", "metadata": {}}]},
                 {"items": [{**pod, "metadata": {"name": "A", "namespace": "default"}}]},
                 {"items": [{**pod, "metadata": {"name": "a"}}]},
                 {"items": [{**pod, "status": {"phase": "Sleeping"}}]},
                 {"items": [{**pod, "metadata": {**pod["metadata"], "labels": {"app": 1}}}]},
                 {"items": [pod, pod]}, {"items": [{**pod, "extra": 1}]}, {"items": [], "more": 1}]
        for document in cases:
            with self.subTest(document=document):
                with self.assertRaises(double_module.FixtureError):
                    double_module.parse_fixture(document)

    def test_defaults_are_filled_in(self):
        [pod] = double_module.parse_fixture({"items": [{"kind": "Pod", "metadata": {"name": "a", "namespace": "n"}}]})
        self.assertEqual(pod["status"]["phase"], "Running")
        self.assertIn("uid", pod["metadata"])
        self.assertNotIn("labels", pod["metadata"])
        self.assertNotIn("kind", pod)


# ---------------------------------------------------------------------------------------------------------
# The script over HTTPS
# ---------------------------------------------------------------------------------------------------------

class TransportAndAuthTests(DoubleTestCase):
    def test_it_serves_https_with_the_reported_certificate(self):
        self.assertTrue(os.path.isfile(self.double.ca_file))
        plain = ssl.create_default_context()  # the system store does not know the double's certificate
        conn = http.client.HTTPSConnection("127.0.0.1", self.double.port, timeout=5, context=plain)
        with self.assertRaises(ssl.SSLCertVerificationError):
            conn.request("GET", "/api/v1/pods")
        conn.close()

    def test_missing_or_wrong_token_gets_401_status(self):
        for headers, token in (({}, None), ({}, "wrong"), ({"Authorization": f"Basic {TOKEN}"}, None)):
            with self.subTest(headers=headers, token=token):
                response = self.double.request("GET", pods_path("default"), headers=headers, token=token)
                body = self.assert_status(response, 401, "Unauthorized")
                self.assertEqual(body["message"], "Unauthorized")

    def test_token_can_be_replaced_at_runtime(self):
        self.double.control("POST", "token", {"token": "rotated"})
        self.assertEqual(self.double.request("GET", pods_path("default")).status, 401)
        self.assertEqual(self.double.request("GET", pods_path("default"), token="rotated").status, 200)

    def test_unknown_paths_and_methods(self):
        self.assert_status(self.double.request("GET", "/api/v1/services"), 404, "NotFound")
        self.assert_status(self.double.request("POST", pods_path("default"), {}), 405, "MethodNotAllowed")


class PodListTests(DoubleTestCase):
    def test_namespace_list_is_a_real_looking_pod_list(self):
        body = self.list_pods("default")
        self.assertEqual(list(body), ["kind", "apiVersion", "metadata", "items"])
        self.assertEqual((body["kind"], body["apiVersion"]), ("PodList", "v1"))
        self.assertTrue(body["metadata"]["resourceVersion"].isdigit())
        self.assertNotIn("continue", body["metadata"])
        first = body["items"][0]
        self.assertNotIn("kind", first)
        self.assertEqual(first["metadata"]["name"], "kuard-7d4f-1")
        self.assertEqual(first["metadata"]["namespace"], "default")
        self.assertEqual(first["metadata"]["labels"]["app"], "kuard")
        for key in ("uid", "resourceVersion", "creationTimestamp"):
            self.assertIn(key, first["metadata"])
        self.assertEqual(first["status"]["phase"], "Running")

    def test_lists_include_finished_pods_as_the_api_server_does(self):
        self.assertEqual(self.names("default", labelSelector="app=kuard"),
                         ["kuard-7d4f-1", "kuard-7d4f-2", "kuard-7d4f-3", "kuard-job-x"])

    def test_namespaces_are_separate(self):
        self.assertEqual(self.names("payments", labelSelector="app=kuard"), ["kuard-7d4f-1", "kuard-7d4f-2"])
        self.assertEqual(self.names("nowhere"), [])
        everywhere = self.list_pods()["items"]
        self.assertEqual(len(everywhere), 10)
        self.assertEqual({p["metadata"]["namespace"] for p in everywhere}, {"default", "payments", "kube-system"})

    def test_selector_grammar_over_http(self):
        cases = {"app=redis": ["redis-0", "redis-1"],
                 "app in (redis, kuard),tier": DEFAULT_RUNNING,
                 "app notin (kuard)": ["redis-0", "redis-1"],
                 "!tier": ["kuard-job-x"],
                 "app!=kuard": ["redis-0", "redis-1"],
                 "statefulset.kubernetes.io/pod-name==redis-1": ["redis-1"]}
        for selector, expected in cases.items():
            with self.subTest(selector=selector):
                self.assertEqual(self.names("default", labelSelector=selector), expected)

    def test_bad_selector_is_400(self):
        response = self.double.request("GET", pods_path("default", labelSelector="app in ()"))
        body = self.assert_status(response, 400, "BadRequest")
        self.assertIn("unable to parse requirement", body["message"])

    def test_single_pod(self):
        response = self.double.request("GET", "/api/v1/namespaces/payments/pods/kuard-7d4f-2")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.json()["kind"], "Pod")
        missing = self.double.request("GET", "/api/v1/namespaces/payments/pods/kuard-7d4f-3")
        self.assertEqual(self.assert_status(missing, 404, "NotFound")["message"], 'pods "kuard-7d4f-3" not found')


class PagingTests(DoubleTestCase):
    def all_pages(self, namespace=None, **params):
        names, pages, token = [], [], None
        while True:
            query = dict(params, **({"continue": token} if token else {}))
            body = self.list_pods(namespace, **query)
            pages.append(body)
            names += [p["metadata"]["name"] for p in body["items"]]
            token = body["metadata"].get("continue")
            if not token:
                return names, pages

    def test_limit_and_continue_walk_the_whole_list(self):
        names, pages = self.all_pages("default", limit=2)
        self.assertEqual(names, ["kuard-7d4f-1", "kuard-7d4f-2", "kuard-7d4f-3", "kuard-job-x", "redis-0", "redis-1"])
        self.assertEqual([len(p["items"]) for p in pages], [2, 2, 2])
        self.assertEqual(pages[0]["metadata"]["remainingItemCount"], 4)
        token = json.loads(base64.urlsafe_b64decode(pages[0]["metadata"]["continue"] + "=="))
        self.assertEqual(token["start"], "default/kuard-7d4f-2\u0000")

    def test_limit_counts_matching_pods_and_omits_remaining_count_with_a_selector(self):
        names, pages = self.all_pages(None, limit=3, labelSelector="app=kuard")
        self.assertEqual(names, ["kuard-7d4f-1", "kuard-7d4f-2", "kuard-7d4f-3", "kuard-job-x",
                                 "kuard-7d4f-1", "kuard-7d4f-2"])
        self.assertNotIn("remainingItemCount", pages[0]["metadata"])

    def test_continue_reads_a_consistent_snapshot_until_compaction(self):
        first = self.list_pods("default", limit=2)
        token = {"continue": first["metadata"]["continue"]}
        self.double.control("POST", "fixture", {"kind": "List", "items": []})
        later = self.list_pods("default", limit=10, **token)
        self.assertEqual(len(later["items"]), 4)
        self.assertEqual(self.double.control("POST", "compact").status, 200)
        expired = self.double.request("GET", pods_path("default", limit=2, **token))
        self.assertIn("too old", self.assert_status(expired, 410, "Expired")["message"])

    def test_bad_paging_parameters_are_400(self):
        for params in ({"limit": "-1"}, {"limit": "ten"}, {"continue": "not-a-token"}):
            with self.subTest(params=params):
                self.assert_status(self.double.request("GET", pods_path("default", **params)), 400, "BadRequest")


class FaultAndRecordingTests(DoubleTestCase):
    def test_status_fault_uses_status_json_and_counts_down(self):
        self.double.control("POST", "faults", {"status": 429, "count": 1, "headers": {"Retry-After": "1"}})
        busy = self.double.request("GET", pods_path("default"))
        self.assert_status(busy, 429, "TooManyRequests")
        self.assertEqual(busy.headers.get("Retry-After"), "1")
        self.assertEqual(self.double.request("GET", pods_path("default")).status, 200)

    def test_faults_apply_before_auth_and_by_path_prefix(self):
        self.double.control("POST", "faults", {"status": 503, "path_prefix": "/api/v1/namespaces/payments"})
        self.assertEqual(self.double.request("GET", pods_path("payments"), token=None).status, 503)
        self.assertEqual(self.double.request("GET", pods_path("default")).status, 200)

    def test_latency_garbage_and_drop(self):
        self.double.control("POST", "faults", {"latency_ms": 300, "count": 1})
        started = time.monotonic()
        self.assertEqual(self.double.request("GET", pods_path("default")).status, 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.double.control("POST", "faults", {"mode": "garbage", "count": 1})
        with self.assertRaises(ValueError):
            json.loads(self.double.request("GET", pods_path("default")).body)
        self.double.control("POST", "faults", {"mode": "drop", "count": 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.double.request("GET", pods_path("default"))

    def test_oversize_and_hang(self):
        self.double.control("POST", "faults", {"mode": "oversize", "bytes": 200000, "chunked": True, "count": 1})
        big = self.double.request("GET", pods_path("default"))
        self.assertEqual(len(big.body), 200000)
        self.assertEqual(big.json()["kind"], "PodList")
        self.double.control("POST", "faults", {"mode": "hang", "count": 1})
        with self.assertRaises(TimeoutError):
            self.double.request("GET", pods_path("default"), timeout=0.3)

    def test_invalid_faults_are_refused(self):
        for fault in ({"mode": "explode"}, {"status": 99}, {"count": 0, "status": 500}, {"color": "red"}, {}):
            with self.subTest(fault=fault):
                self.assertEqual(self.double.control("POST", "faults", fault).status, 400)

    def test_requests_are_recorded_without_control_calls(self):
        self.double.request("GET", pods_path("default", labelSelector="app in (kuard)", limit=500))
        self.double.request("GET", pods_path("default"), token="wrong")
        records = self.double.control("GET", "requests").json()
        self.assertEqual(len(records), 2)
        self.assertEqual(records[0]["path"], "/api/v1/namespaces/default/pods")
        self.assertEqual(records[0]["query"], {"labelSelector": ["app in (kuard)"], "limit": ["500"]})
        self.assertEqual(records[0]["headers"]["authorization"], f"Bearer {TOKEN}")
        self.assertEqual(records[1]["headers"]["authorization"], "Bearer wrong")

    def test_invalid_fixture_keeps_the_old_one(self):
        refused = self.double.control("POST", "fixture", {"items": [{"kind": "Pod", "metadata": {"name": "x"}}]})
        self.assertEqual(refused.status, 400)
        self.assertIn("namespace", refused.json()["message"])
        self.assertEqual(len(self.list_pods()["items"]), 10)

    def test_new_fixture_changes_answers_and_resource_version(self):
        before = self.list_pods("default")["metadata"]["resourceVersion"]
        pod = {"kind": "Pod", "metadata": {"name": "solo", "namespace": "default", "labels": {"app": "solo"}}}
        self.assertEqual(self.double.control("POST", "fixture", {"kind": "List", "items": [pod]}).status, 200)
        after = self.list_pods("default")
        self.assertEqual([p["metadata"]["name"] for p in after["items"]], ["solo"])
        self.assertGreater(int(after["metadata"]["resourceVersion"]), int(before))


class ProcessLifecycleTests(unittest.TestCase):
    def test_sigterm_exits_cleanly_and_removes_the_generated_certificate(self):
        process = KubeApiProcess()
        directory = os.path.dirname(process.ca_file)
        self.assertEqual(process.stop(), 0)
        self.assertFalse(os.path.exists(directory))
        self.assertTrue(any("listening" in line for line in process.stderr_lines))
        self.assertFalse(any(TOKEN in line for line in process.stderr_lines))

    def test_unusable_fixture_exits_2(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('{"items": [{"kind": "Pod"}]}')
        try:
            result = subprocess.run([sys.executable, SCRIPT, "--port", "0", "--token", "t", "--fixture", f.name],
                                    capture_output=True, text=True, timeout=20)
        finally:
            os.unlink(f.name)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertIn("cannot start", result.stderr)


if __name__ == "__main__":
    unittest.main()
