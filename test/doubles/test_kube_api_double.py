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

    def test_pages_stay_in_their_namespace_when_names_share_a_prefix(self):
        # Pages are slices of the sorted snapshot: "team" must not take in "team-a" ('-' sorts before '/') nor
        # "team0" ('0' right after '/'), and a continue token resumes inside the namespace.
        def pod(namespace, name, app):
            return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}}}
        items = [pod(ns, f"p-{i}", "odd" if i % 2 else "even")
                 for ns in ("team", "team-a", "team0", "teal") for i in range(5)]
        self.assertEqual(self.double.control("POST", "fixture", {"kind": "List", "items": items}).status, 200)
        for namespace in ("team", "team-a", "team0", "teal"):
            with self.subTest(namespace=namespace):
                names, pages = self.all_pages(namespace, limit=2)
                self.assertEqual(names, [f"p-{i}" for i in range(5)])
                self.assertEqual([p["metadata"].get("remainingItemCount") for p in pages], [3, 1, None])
                names, _ = self.all_pages(namespace, limit=1, labelSelector="app=odd")
                self.assertEqual(names, ["p-1", "p-3"])
        names, pages = self.all_pages(None, limit=7)
        self.assertEqual(len(names), 20)
        self.assertEqual([p["metadata"].get("remainingItemCount") for p in pages], [13, 6, None])
        self.assertEqual(self.names("nobody", limit=2), [])

    def test_bad_paging_parameters_are_400(self):
        for params in ({"limit": "-1"}, {"limit": "ten"}, {"continue": "not-a-token"}):
            with self.subTest(params=params):
                self.assert_status(self.double.request("GET", pods_path("default", **params)), 400, "BadRequest")


class WatchTests(DoubleTestCase):
    def watch_lines(self, namespace, **params):
        """The event lines of one watch, read to its end (timeoutSeconds keeps it short)."""
        response = self.double.request("GET", pods_path(namespace, watch="1", **params))
        self.assertEqual(response.status, 200, response.body)
        return [json.loads(line) for line in response.body.decode().splitlines() if line.strip()]

    def test_changes_after_a_list_arrive_as_events_with_increasing_versions(self):
        listed = self.list_pods("default")
        version = listed["metadata"]["resourceVersion"]
        with open(FIXTURE) as f:
            document = json.load(f)
        document["items"] = [p for p in document["items"] if p["metadata"]["name"] != "redis-1"]
        document["items"][0]["metadata"]["labels"]["extra"] = "yes"
        self.double.control("POST", "fixture", document)
        events = self.watch_lines("default", resourceVersion=version, timeoutSeconds="1")
        changes = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
        self.assertEqual(changes, [("MODIFIED", "kuard-7d4f-1"), ("DELETED", "redis-1")])
        versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
        self.assertEqual(versions, sorted(versions))
        self.assertGreater(versions[0], int(version))
        self.assertEqual(events[0]["object"]["metadata"]["labels"]["extra"], "yes")
        self.assertEqual(events[0]["object"]["kind"], "Pod")

    def test_no_version_starts_with_every_pod_and_bookmarks_when_asked(self):
        events = self.watch_lines("payments", timeoutSeconds="2", allowWatchBookmarks="true")
        added = [e["object"]["metadata"]["name"] for e in events if e["type"] == "ADDED"]
        self.assertEqual(added, ["kuard-7d4f-1", "kuard-7d4f-2"])
        self.assertIn("BOOKMARK", [e["type"] for e in events])

    def test_bookmark_interval_is_a_flag(self):
        with KubeApiProcess("--bookmark-interval", "0.2") as process:
            response = process.request("GET", pods_path("payments", watch="1", timeoutSeconds="1",
                                                        allowWatchBookmarks="true"))
        types = [json.loads(line)["type"] for line in response.body.decode().splitlines() if line.strip()]
        self.assertGreaterEqual(types.count("BOOKMARK"), 3)   # the default (1 s) would give none in 1 s

    def test_a_compacted_version_is_a_410_error_event(self):
        version = self.list_pods("default")["metadata"]["resourceVersion"]
        self.double.control("POST", "fixture", {"kind": "List", "items": []})
        self.double.control("POST", "compact")
        events = self.watch_lines("default", resourceVersion=version, timeoutSeconds="5")
        self.assertEqual(len(events), 1)
        self.assertEqual((events[0]["type"], events[0]["object"]["code"], events[0]["object"]["reason"]),
                         ("ERROR", 410, "Expired"))


    def test_break_watches_of_one_namespace_leaves_the_others_open(self):
        import threading
        outcomes = {}

        def watch(namespace):
            started = time.monotonic()
            try:
                self.double.request("GET", pods_path(namespace, watch="1", timeoutSeconds="3"), timeout=10)
                outcomes[namespace] = ("ended", time.monotonic() - started)
            except (http.client.HTTPException, OSError):
                outcomes[namespace] = ("cut", time.monotonic() - started)

        threads = [threading.Thread(target=watch, args=(ns,)) for ns in ("default", "payments")]
        for thread in threads:
            thread.start()
        time.sleep(1)
        self.double.control("POST", "break-watches", {"namespace": "payments"})
        for thread in threads:
            thread.join()
        self.assertEqual(outcomes["payments"][0], "cut")
        self.assertLess(outcomes["payments"][1], 2.5)
        self.assertEqual(outcomes["default"][0], "ended")
        self.assertGreaterEqual(outcomes["default"][1], 2.9)


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


# ---------------------------------------------------------------------------------------------------------
# Delegated authentication and authorization
# ---------------------------------------------------------------------------------------------------------

TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"
SUBJECT_ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
AUTH_CONFIGMAP = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
HPA_RULE = {"users": [HPA_USER], "verbs": ["get", "list"],
            "apiGroups": ["custom.metrics.k8s.io", "external.metrics.k8s.io"], "resources": ["*"]}
HPA_TOKEN_ENTRY = {"username": HPA_USER, "uid": "7c3f0a52-hpa",
                   "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
                   "extra": {"authentication.kubernetes.io/pod-name": ["kube-controller-manager-cp-1"]}}
AUTHENTICATION_DATA = {"client-ca-file": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                       "requestheader-allowed-names": '["front-proxy-client"]',
                       "requestheader-username-headers": '["X-Remote-User"]'}


def custom_metric(verb="get", user=HPA_USER, group="custom.metrics.k8s.io", **attributes):
    """A SubjectAccessReview spec for the HPA's custom metrics read, pods/*/http_requests in default."""
    resource = {"namespace": "default", "verb": verb, "group": group, "version": "v1beta2", "resource": "pods",
                "subresource": "http_requests", "name": "*", **attributes}
    return {"resourceAttributes": {k: v for k, v in resource.items() if v is not None}, "user": user}


def non_resource(path, verb="get", user="alice", groups=("system:authenticated",)):
    return {"nonResourceAttributes": {"path": path, "verb": verb}, "user": user, "groups": list(groups)}


def evaluate(rules, spec):
    return double_module.evaluate_policy(double_module.parse_policy({"rules": rules}), spec)


class PolicyTests(unittest.TestCase):
    """The policy in-process: RBAC-style matching of SubjectAccessReview specs."""

    def allowed(self, rules, spec):
        return evaluate(rules, spec)["allowed"]

    def test_hpa_rule(self):
        self.assertEqual(evaluate([HPA_RULE], custom_metric()), {"allowed": True, "reason": "allowed by rule 0"})
        self.assertTrue(self.allowed([HPA_RULE], custom_metric("list", group="external.metrics.k8s.io",
                                                               resource="queue_depth", subresource=None)))
        for spec in (custom_metric("watch"), custom_metric(user="system:serviceaccount:default:default"),
                     custom_metric(group="metrics.k8s.io"), {**custom_metric(), "user": "", "groups": [HPA_USER]},
                     non_resource("/apis/custom.metrics.k8s.io/v1beta2", user=HPA_USER)):
            with self.subTest(spec=spec):
                self.assertEqual(evaluate([HPA_RULE], spec), {"allowed": False, "reason": "no rule allows it"})

    def test_resources_follow_rbac(self):
        def matches(rule_resource, resource, subresource=None):
            return self.allowed([{"resources": [rule_resource]}],
                                custom_metric(resource=resource, subresource=subresource))
        self.assertTrue(matches("*", "pods", "log"))
        self.assertTrue(matches("pods", "pods"))
        self.assertFalse(matches("pods", "pods", "log"))
        self.assertTrue(matches("pods/log", "pods", "log"))
        self.assertFalse(matches("pods/log", "pods", "exec"))
        self.assertTrue(matches("pods/*", "pods", "http_requests"))
        self.assertFalse(matches("pods/*", "pods"))
        self.assertFalse(matches("pods/*", "services", "proxy"))
        self.assertTrue(matches("*/http_requests", "namespaces", "http_requests"))
        self.assertFalse(matches("*/http_requests", "pods"))

    def test_verbs_groups_namespaces_and_names(self):
        spec = custom_metric()
        self.assertTrue(self.allowed([{"verbs": ["*"], "apiGroups": ["*"]}], spec))
        self.assertFalse(self.allowed([{"apiGroups": [""]}], spec))
        self.assertTrue(self.allowed([{"apiGroups": [""]}], custom_metric(group=None)))   # the core group
        self.assertTrue(self.allowed([{"namespaces": ["payments", "default"]}], spec))
        self.assertFalse(self.allowed([{"namespaces": ["payments"]}], spec))
        self.assertFalse(self.allowed([{"namespaces": ["default"]}], custom_metric(namespace=None)))
        self.assertTrue(self.allowed([{"resourceNames": ["*"]}], spec))   # the name the HPA asks for is "*"
        self.assertFalse(self.allowed([{"resourceNames": ["kuard-7d4f-1"]}], spec))

    def test_groups_match_when_they_intersect(self):
        rule = {"groups": ["system:masters", "metrics-readers"], "verbs": ["get"]}
        self.assertTrue(self.allowed([rule], {**custom_metric(user="bob"), "groups": ["a", "metrics-readers"]}))
        self.assertFalse(self.allowed([rule], {**custom_metric(user="bob"), "groups": ["a"]}))
        self.assertFalse(self.allowed([rule], custom_metric(user="bob")))
        both = {"users": ["bob"], "groups": ["metrics-readers"]}   # every field a rule sets must match
        self.assertTrue(self.allowed([both], {**custom_metric(user="bob"), "groups": ["metrics-readers"]}))
        self.assertFalse(self.allowed([both], {**custom_metric(user="carol"), "groups": ["metrics-readers"]}))

    def test_deny_rules_win_over_earlier_allows(self):
        rules = [{"verbs": ["get"]}, {"users": ["mallory"], "deny": True}, {"users": ["bob"], "deny": False}]
        self.assertEqual(evaluate(rules, custom_metric(user="mallory")),
                         {"allowed": False, "denied": True, "reason": "denied by rule 1"})
        self.assertEqual(evaluate(rules, custom_metric(user="mallory", verb="list")),
                         {"allowed": False, "denied": True, "reason": "denied by rule 1"})
        self.assertEqual(evaluate(rules, custom_metric(user="bob", verb="list")),
                         {"allowed": True, "reason": "allowed by rule 2"})

    def test_non_resource_urls(self):
        rules = [{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/apis/*"]}]
        self.assertEqual(evaluate(rules, non_resource("/healthz")), {"allowed": True, "reason": "allowed by rule 0"})
        for path, expected in (("/healthz/ready", False), ("/apis", False), ("/apis/", True),
                               ("/apis/custom.metrics.k8s.io/v1beta2", True), ("/api", False)):
            with self.subTest(path=path):
                self.assertEqual(self.allowed(rules, non_resource(path)), expected)
        self.assertFalse(self.allowed(rules, non_resource("/healthz", verb="post")))
        self.assertTrue(self.allowed([{"nonResourceURLs": ["*"]}], non_resource("/anything/at/all")))

    def test_rules_apply_to_resources_or_non_resource_urls(self):
        self.assertFalse(self.allowed([{"nonResourceURLs": ["*"]}], custom_metric()))
        self.assertFalse(self.allowed([{"resources": ["*"]}], non_resource("/healthz")))
        self.assertFalse(self.allowed([{"apiGroups": ["*"]}], non_resource("/healthz")))
        neither = [{"users": ["alice"], "verbs": ["get"]}]
        self.assertTrue(self.allowed(neither, non_resource("/healthz")))
        self.assertTrue(self.allowed(neither, custom_metric(user="alice")))
        self.assertFalse(self.allowed([], custom_metric()))

    def test_invalid_policies_are_refused(self):
        for document in ({}, {"rules": {}}, {"rules": [], "extra": 1}, {"rules": ["x"]},
                         {"rules": [{"verb": ["get"]}]}, {"rules": [{"verbs": "get"}]}, {"rules": [{"verbs": []}]},
                         {"rules": [{"verbs": [1]}]}, {"rules": [{"deny": "yes"}]},
                         {"rules": [{"resources": ["*"], "nonResourceURLs": ["*"]}]},
                         {"rules": [{"nonResourceURLs": ["healthz"]}]}, {"rules": [{"nonResourceURLs": ["/a*b"]}]}):
            with self.subTest(document=document):
                with self.assertRaises(double_module.FixtureError):
                    double_module.parse_policy(document)


class AuthFixtureTests(unittest.TestCase):
    def test_tokens_configmap_and_policy_are_optional_fixture_keys(self):
        pods, auth = double_module.parse_fixture_document({"items": []})
        self.assertEqual((pods, auth.tokens, auth.rules, auth.configmap_data), ([], {}, (), None))
        _, auth = double_module.parse_fixture_document(
            {"items": [], "tokens": {"t": {"username": "u"}}, "policy": {"rules": [HPA_RULE]},
             "authenticationConfigMap": {"data": {"b": "2", "a": "1"}}})
        self.assertEqual(auth.tokens["t"]["user"]["username"], "u")
        self.assertIn("uid", auth.tokens["t"]["user"])
        self.assertEqual(auth.rules, (HPA_RULE,))
        self.assertEqual(list(auth.configmap_data), ["a", "b"])   # sorted, as Go writes maps

    def test_invalid_auth_keys_are_refused_without_quoting_tokens(self):
        cases = [{"tokens": []}, {"tokens": {"": {"username": "u"}}}, {"tokens": {"sekrit": {}}},
                 {"tokens": {"sekrit": {"username": "u", "groups": "g"}}},
                 {"tokens": {"sekrit": {"username": "u", "extra": {"k": "v"}}}},
                 {"tokens": {"sekrit": {"username": "u", "audiences": []}}},
                 {"tokens": {"sekrit": {"username": "u", "password": "p"}}},
                 {"policy": {"rules": [{"verbs": []}]}}, {"authenticationConfigMap": {}},
                 {"authenticationConfigMap": {"data": {"k": 1}}}, {"authenticationConfigMap": {"data": {"a/b": "x"}}},
                 {"authenticationConfigMap": {"data": {}, "binaryData": {}}}]
        for extra in cases:
            with self.subTest(extra=extra):
                with self.assertRaises(double_module.FixtureError) as caught:
                    double_module.parse_fixture_document({"items": [], **extra})
                self.assertNotIn("sekrit", str(caught.exception))

    def test_a_fixture_file_with_auth_keys_is_served_from_the_start(self):
        with open(FIXTURE, encoding="utf-8") as f:
            document = json.load(f)
        document.update({"tokens": {"hpa-token": HPA_TOKEN_ENTRY}, "policy": {"rules": [HPA_RULE]},
                         "authenticationConfigMap": {"data": AUTHENTICATION_DATA}})
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(document, f)
        try:
            with KubeApiProcess(fixture=f.name) as process:
                review = process.request("POST", TOKEN_REVIEWS, {"spec": {"token": "hpa-token"}}).json()
                self.assertEqual(review["status"]["user"]["username"], HPA_USER)
                access = process.request("POST", SUBJECT_ACCESS_REVIEWS, {"spec": custom_metric()}).json()
                self.assertTrue(access["status"]["allowed"])
                self.assertEqual(process.request("GET", AUTH_CONFIGMAP).json()["data"], AUTHENTICATION_DATA)
                self.assertEqual(len(process.request("GET", pods_path()).json()["items"]), 10)
        finally:
            os.unlink(f.name)


class TokenReviewTests(DoubleTestCase):
    def setUp(self):
        super().setUp()
        self.assertEqual(self.double.control("POST", "tokens", {"hpa-token": HPA_TOKEN_ENTRY,
                                                                "bare": {"username": "bare-user", "uid": ""}}).status,
                         200)

    def review(self, spec, **document):
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec, **document}
        return self.double.request("POST", TOKEN_REVIEWS, body)

    def test_known_token(self):
        response = self.review({"token": "hpa-token"})
        self.assertEqual(response.status, 201, response.body)
        self.assertEqual(response.headers.get("Content-Type"), "application/json")
        self.assertEqual(response.json(), {
            "kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": None},
            "spec": {"token": "hpa-token"},
            "status": {"authenticated": True, "user": HPA_TOKEN_ENTRY,
                       "audiences": ["https://kubernetes.default.svc.cluster.local"]}})
        self.assertEqual(list(response.json()), ["kind", "apiVersion", "metadata", "spec", "status"])
        self.assertEqual(list(response.json()["status"]["user"]), ["username", "uid", "groups", "extra"])

    def test_empty_user_fields_are_omitted_as_go_writes_them(self):
        status = self.review({"token": "bare"}).json()["status"]
        self.assertEqual(status["user"], {"username": "bare-user"})

    def test_unknown_token(self):
        response = self.review({"token": "forged"})
        self.assertEqual(response.status, 201)
        # authenticated is omitempty, and user a struct, so the API server writes exactly this.
        self.assertEqual(response.json()["status"], {"user": {}, "error": "token not recognised"})

    def test_audiences(self):
        own = "https://kubernetes.default.svc.cluster.local"
        ok = self.review({"token": "hpa-token", "audiences": ["elsewhere", own]})
        self.assertEqual(ok.json()["status"]["audiences"], [own])
        self.assertEqual(ok.json()["spec"]["audiences"], ["elsewhere", own])
        refused = self.review({"token": "hpa-token", "audiences": ["elsewhere"]}).json()["status"]
        self.assertNotIn("authenticated", refused)
        self.assertIn("is invalid for the target audiences", refused["error"])

    def test_spec_is_echoed_as_decoded_with_warnings_for_unknown_fields(self):
        response = self.review({"token": "hpa-token", "audiences": [], "tokn": "x"}, metadata={"name": "r"},
                               color="blue")
        self.assertEqual(response.status, 201)
        self.assertEqual(response.json()["spec"], {"token": "hpa-token"})
        self.assertEqual(response.json()["metadata"], {"name": "r", "creationTimestamp": None})
        self.assertEqual(response.headers.get("Warning"),
                         '299 - "unknown field \\"color\\"", 299 - "unknown field \\"spec.tokn\\""')

    def test_malformed_bodies_are_400_status(self):
        cases = {b"{not json": "json parse error", b"[1]": "json parse error", b"": "json parse error",
                 json.dumps({"spec": {"token": 7}}).encode(): "cannot unmarshal number into Go struct field "
                                                              "TokenReviewSpec.spec.token of type string",
                 json.dumps({"spec": "hpa-token"}).encode(): "cannot unmarshal string",
                 json.dumps({"spec": {"token": "hpa-token", "audiences": "a"}}).encode(): "audiences",
                 json.dumps({"apiVersion": "v1", "spec": {"token": "t"}}).encode(): "does not match",
                 json.dumps({"kind": "Pod", "spec": {"token": "t"}}).encode(): "does not match",
                 json.dumps({"spec": {}}).encode(): "token is required",
                 json.dumps({"spec": {"token": ""}}).encode(): "token is required"}
        for body, message in cases.items():
            with self.subTest(body=body):
                response = self.double.request("POST", TOKEN_REVIEWS, body, {"Content-Type": "application/json"})
                self.assertIn(message, self.assert_status(response, 400, "BadRequest")["message"])

    def test_json_is_the_only_content_type_and_post_the_only_method(self):
        wrong = self.double.request("POST", TOKEN_REVIEWS, b'{"spec":{"token":"hpa-token"}}',
                                    {"Content-Type": "text/plain"})
        self.assert_status(wrong, 415, "UnsupportedMediaType")
        untyped = self.double.request("POST", TOKEN_REVIEWS, b'{"spec":{"token":"hpa-token"}}')
        self.assertEqual(untyped.status, 201)   # no Content-Type reads as JSON
        self.assert_status(self.double.request("GET", TOKEN_REVIEWS), 405, "MethodNotAllowed")

    def test_the_table_is_replaced_not_merged(self):
        reply = self.double.control("POST", "tokens", {"new-token": {"username": "newcomer", "groups": ["g"]}})
        self.assertEqual(reply.json(), {"tokens": 1})
        self.assertNotIn("authenticated", self.review({"token": "hpa-token"}).json()["status"])
        self.assertEqual(self.review({"token": "new-token"}).json()["status"]["user"]["username"], "newcomer")

    def test_an_invalid_table_is_refused_and_the_old_one_kept(self):
        refused = self.double.control("POST", "tokens", {"t": {"groups": []}})
        self.assertEqual(refused.status, 400)
        self.assertIn("username", refused.json()["message"])
        self.assertTrue(self.review({"token": "hpa-token"}).json()["status"]["authenticated"])

    def test_replacing_the_fixture_resets_the_table(self):
        with open(FIXTURE, encoding="utf-8") as f:
            self.assertEqual(self.double.control("POST", "fixture", f.read()).json()["tokens"], 0)
        self.assertNotIn("authenticated", self.review({"token": "hpa-token"}).json()["status"])

    def test_the_bearer_token_is_required_on_every_new_route(self):
        self.double.control("POST", "configmap", {"data": AUTHENTICATION_DATA})
        self.double.control("POST", "policy", {"rules": [{}]})
        calls = (("POST", TOKEN_REVIEWS, {"spec": {"token": "hpa-token"}}),
                 ("POST", SUBJECT_ACCESS_REVIEWS, {"spec": custom_metric()}), ("GET", AUTH_CONFIGMAP, None),
                 ("POST", TOKEN_REVIEWS, b"{not json"))
        for method, path, body in calls:
            for token in (None, "hpa-token", "wrong"):
                with self.subTest(path=path, token=token):
                    response = self.double.request(method, path, body, token=token)
                    self.assertEqual(self.assert_status(response, 401, "Unauthorized")["message"], "Unauthorized")
            with self.subTest(path=path, token=TOKEN):
                self.assertIn(self.double.request(method, path, body).status, (200, 201, 400))


class SubjectAccessReviewTests(DoubleTestCase):
    def setUp(self):
        super().setUp()
        rules = [HPA_RULE,
                 {"groups": ["system:authenticated"], "verbs": ["get"], "nonResourceURLs": ["/healthz", "/apis/*"]},
                 {"groups": ["metrics-admins"], "verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                 {"users": ["mallory"], "deny": True}]
        self.assertEqual(self.double.control("POST", "policy", {"rules": rules}).json(), {"rules": 4})

    def review(self, spec):
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
        response = self.double.request("POST", SUBJECT_ACCESS_REVIEWS, body)
        self.assertEqual(response.status, 201, response.body)
        return response.json()

    def test_the_hpa_may_read_custom_and_external_metrics(self):
        spec = {**custom_metric(), "groups": HPA_TOKEN_ENTRY["groups"], "extra": HPA_TOKEN_ENTRY["extra"],
                "uid": "7c3f0a52-hpa"}
        self.assertEqual(self.review(spec), {
            "kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": spec,
            "status": {"allowed": True, "reason": "allowed by rule 0"}})
        external = custom_metric("list", group="external.metrics.k8s.io", resource="queue_depth", subresource=None,
                                 name=None)
        self.assertTrue(self.review(external)["status"]["allowed"])

    def test_other_verbs_users_and_groups_are_not_allowed(self):
        for spec in (custom_metric("watch"), custom_metric(user="system:serviceaccount:default:default"),
                     custom_metric(group="metrics.k8s.io"), custom_metric(group=None, resource="secrets")):
            with self.subTest(spec=spec):
                self.assertEqual(self.review(spec)["status"], {"allowed": False, "reason": "no rule allows it"})

    def test_group_membership(self):
        admin = {**custom_metric("delete", user="bob"), "groups": ["system:authenticated", "metrics-admins"]}
        self.assertEqual(self.review(admin)["status"], {"allowed": True, "reason": "allowed by rule 2"})
        groups_only = {"resourceAttributes": custom_metric()["resourceAttributes"], "groups": ["metrics-admins"]}
        self.assertTrue(self.review(groups_only)["status"]["allowed"])
        outsider = {**custom_metric(user="bob"), "groups": ["system:authenticated"]}
        self.assertFalse(self.review(outsider)["status"]["allowed"])

    def test_deny_rules(self):
        spec = {**custom_metric(user="mallory"), "groups": ["metrics-admins"]}
        self.assertEqual(self.review(spec)["status"], {"allowed": False, "denied": True, "reason": "denied by rule 3"})

    def test_non_resource_requests(self):
        self.assertEqual(self.review(non_resource("/healthz"))["status"],
                         {"allowed": True, "reason": "allowed by rule 1"})
        self.assertTrue(self.review(non_resource("/apis/custom.metrics.k8s.io/v1beta2"))["status"]["allowed"])
        for spec in (non_resource("/metrics"), non_resource("/healthz", verb="post"),
                     non_resource("/healthz", groups=["system:unauthenticated"]),
                     non_resource("/apis/custom.metrics.k8s.io", user=HPA_USER, groups=())):
            with self.subTest(spec=spec):
                self.assertEqual(self.review(spec)["status"], {"allowed": False, "reason": "no rule allows it"})
        self.double.control("POST", "policy", {"rules": [{"users": ["alice"], "nonResourceURLs": ["*"]}]})
        self.assertTrue(self.review(non_resource("/openapi/v2", verb="head"))["status"]["allowed"])
        self.assertFalse(self.review(custom_metric(user="alice"))["status"]["allowed"])

    def test_spec_is_echoed_as_decoded(self):
        spec = {"resourceAttributes": {"name": "*", "verb": "get", "namespace": "", "extra": 1, "group": None},
                "user": HPA_USER, "groups": [], "extra": {"b": ["2"], "a": ["1"]}}
        document = self.review(spec)
        self.assertEqual(document["spec"], {"resourceAttributes": {"verb": "get", "name": "*"}, "user": HPA_USER,
                                            "extra": {"a": ["1"], "b": ["2"]}})
        self.assertEqual(list(document["spec"]["extra"]), ["a", "b"])

    def test_invalid_reviews(self):
        cases = {"no attributes": {"user": "alice"},
                 "both attributes": {**non_resource("/healthz"), "resourceAttributes": {"verb": "get"}},
                 "nobody": {"resourceAttributes": {"verb": "get"}, "user": "", "groups": []}}
        for name, spec in cases.items():
            with self.subTest(name):
                response = self.double.request("POST", SUBJECT_ACCESS_REVIEWS, {"spec": spec})
                body = self.assert_status(response, 422, "Invalid")
                self.assertTrue(body["message"].startswith('SubjectAccessReview.authorization.k8s.io "" is invalid: '))
                self.assertEqual((body["details"]["kind"], body["details"]["group"]),
                                 ("SubjectAccessReview", "authorization.k8s.io"))
                self.assertEqual(body["details"]["causes"][0]["reason"], "FieldValueInvalid")
        wrong_type = self.double.request("POST", SUBJECT_ACCESS_REVIEWS,
                                         {"spec": {"user": "a", "resourceAttributes": {"verb": ["get"]}}})
        self.assertIn("Go struct field ResourceAttributes.spec.resourceAttributes.verb of type string",
                      self.assert_status(wrong_type, 400, "BadRequest")["message"])
        self.assert_status(self.double.request("POST", SUBJECT_ACCESS_REVIEWS, b"]"), 400, "BadRequest")

    def test_the_policy_is_replaced_and_an_invalid_one_refused(self):
        self.assertEqual(self.double.control("POST", "policy", {"rules": [{"verbs": []}]}).status, 400)
        self.assertTrue(self.review(custom_metric())["status"]["allowed"])
        self.assertEqual(self.double.control("POST", "policy", {"rules": []}).status, 200)
        self.assertFalse(self.review(custom_metric())["status"]["allowed"])


class AuthenticationConfigMapTests(DoubleTestCase):
    def test_absent_by_default(self):
        missing = self.double.request("GET", AUTH_CONFIGMAP)
        body = self.assert_status(missing, 404, "NotFound")
        self.assertEqual(body["message"], 'configmaps "extension-apiserver-authentication" not found')
        self.assertEqual(body["details"], {"name": "extension-apiserver-authentication", "kind": "configmaps"})

    def test_present_once_set(self):
        reply = self.double.control("POST", "configmap", {"data": AUTHENTICATION_DATA}).json()
        self.assertTrue(reply["present"])
        response = self.double.request("GET", AUTH_CONFIGMAP)
        self.assertEqual(response.status, 200, response.body)
        document = response.json()
        self.assertEqual(list(document), ["kind", "apiVersion", "metadata", "data"])
        self.assertEqual((document["kind"], document["apiVersion"]), ("ConfigMap", "v1"))
        metadata = document["metadata"]
        self.assertEqual((metadata["name"], metadata["namespace"]),
                         ("extension-apiserver-authentication", "kube-system"))
        self.assertEqual(metadata["resourceVersion"], reply["resourceVersion"])
        self.assertIn("uid", metadata)
        self.assertEqual(document["data"], AUTHENTICATION_DATA)
        self.assertEqual(list(document["data"]), sorted(AUTHENTICATION_DATA))

    def test_replaced_removed_and_validated(self):
        first = self.double.control("POST", "configmap", {"data": AUTHENTICATION_DATA}).json()["resourceVersion"]
        second = self.double.control("POST", "configmap", {"data": {"client-ca-file": "other"}}).json()
        self.assertGreater(int(second["resourceVersion"]), int(first))
        self.assertEqual(self.double.request("GET", AUTH_CONFIGMAP).json()["data"], {"client-ca-file": "other"})
        self.double.control("POST", "configmap", {"data": {}})
        self.assertNotIn("data", self.double.request("GET", AUTH_CONFIGMAP).json())   # omitempty
        for bad in ({"data": {"k": 1}}, {"data": []}, {}, {"data": {"bad key": "v"}}, []):
            with self.subTest(bad=bad):
                self.assertEqual(self.double.control("POST", "configmap", bad).status, 400)
        self.assertEqual(self.double.request("GET", AUTH_CONFIGMAP).status, 200)
        self.assertFalse(self.double.control("POST", "configmap", {"data": None}).json()["present"])
        self.assert_status(self.double.request("GET", AUTH_CONFIGMAP), 404, "NotFound")

    def test_only_that_configmap_exists(self):
        self.double.control("POST", "configmap", {"data": AUTHENTICATION_DATA})
        for path in ("/api/v1/namespaces/default/configmaps/extension-apiserver-authentication",
                     "/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt"):
            with self.subTest(path=path):
                self.assert_status(self.double.request("GET", path), 404, "NotFound")


class DelegatedAuthFaultTests(DoubleTestCase):
    def setUp(self):
        super().setUp()
        self.double.control("POST", "tokens", {"hpa-token": HPA_TOKEN_ENTRY})
        self.double.control("POST", "policy", {"rules": [HPA_RULE]})

    def test_status_faults_apply_to_reviews(self):
        self.double.control("POST", "faults", {"status": 500, "path_prefix": "/apis/authorization.k8s.io/",
                                               "count": 1})
        failed = self.double.request("POST", SUBJECT_ACCESS_REVIEWS, {"spec": custom_metric()})
        self.assertIn("injected fault", self.assert_status(failed, 500, "InternalError")["message"])
        self.assertEqual(self.double.request("POST", TOKEN_REVIEWS, {"spec": {"token": "hpa-token"}}).status, 201)
        self.assertEqual(self.double.request("POST", SUBJECT_ACCESS_REVIEWS, {"spec": custom_metric()}).status, 201)

    def test_hang_and_drop_apply_to_reviews_and_the_configmap(self):
        self.double.control("POST", "faults", {"mode": "hang", "path_prefix": TOKEN_REVIEWS, "count": 1})
        with self.assertRaises(TimeoutError):
            self.double.request("POST", TOKEN_REVIEWS, {"spec": {"token": "hpa-token"}}, timeout=0.3)
        self.double.control("POST", "faults", {"mode": "drop", "path_prefix": "/api/v1/namespaces/kube-system/"
                                                                              "configmaps/", "count": 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.double.request("GET", AUTH_CONFIGMAP)
        self.assertEqual(self.double.request("GET", pods_path("default")).status, 200)

    def test_oversize_review_answers_are_still_json_of_the_right_kind(self):
        self.double.control("POST", "faults", {"mode": "oversize", "bytes": 100000, "count": 1,
                                               "path_prefix": SUBJECT_ACCESS_REVIEWS})
        big = self.double.request("POST", SUBJECT_ACCESS_REVIEWS, {"spec": custom_metric()})
        self.assertEqual((len(big.body), big.json()["kind"]), (100000, "SubjectAccessReview"))

    def test_reviews_are_recorded_with_their_json_bodies(self):
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "hpa-token"}}
        self.double.control("POST", "faults", {"status": 503, "count": 1})
        self.double.request("POST", TOKEN_REVIEWS, review)
        self.double.request("POST", SUBJECT_ACCESS_REVIEWS, {"spec": custom_metric()}, token="wrong")
        self.double.request("GET", AUTH_CONFIGMAP)
        records = self.double.control("GET", "requests").json()
        self.assertEqual([(r["method"], r["path"]) for r in records],
                         [("POST", TOKEN_REVIEWS), ("POST", SUBJECT_ACCESS_REVIEWS), ("GET", AUTH_CONFIGMAP)])
        self.assertEqual(records[0]["json"], review)
        self.assertEqual(records[1]["json"], {"spec": custom_metric()})
        self.assertEqual(records[1]["headers"]["authorization"], "Bearer wrong")
        self.assertEqual(records[0]["headers"]["content-type"], "application/json")


SECRETS = "/api/v1/namespaces/custom-metrics/secrets"
APISERVICE = "/apis/apiregistration.k8s.io/v1/apiservices/v1beta2.custom.metrics.k8s.io"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def tls_secret(name="serving", version=None, **data):
    metadata = {"name": name, "namespace": "custom-metrics"}
    if version is not None:
        metadata["resourceVersion"] = version
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "kubernetes.io/tls",
            "data": {"tls.crt": b64("CERT"), "tls.key": b64("KEY"), **data}}


class StoredObjectTests(DoubleTestCase):
    """Secrets and APIServices as the API server's registry keeps them: create races, stale updates, merge
    patches and the validation an adapter managing its certificate runs into."""

    def setUp(self):
        super().setUp()
        self.assertEqual(self.double.control("POST", "objects", {"secrets": [], "apiServices": [
            {"metadata": {"name": "v1beta2.custom.metrics.k8s.io"},
             "spec": {"group": "custom.metrics.k8s.io", "version": "v1beta2", "insecureSkipTLSVerify": True,
                      "groupPriorityMinimum": 100, "versionPriority": 200,
                      "service": {"namespace": "custom-metrics", "name": "sysdig-metrics-adapter", "port": 443}}}]}
        ).status, 200)

    def test_a_secret_is_created_once_then_read_back(self):
        self.assert_status(self.double.request("GET", SECRETS + "/serving"), 404, "NotFound")
        created = self.double.request("POST", SECRETS, tls_secret())
        self.assertEqual(created.status, 201, created.body)
        secret = created.json()
        self.assertEqual(list(secret), ["kind", "apiVersion", "metadata", "data", "type"])
        self.assertTrue(secret["metadata"]["resourceVersion"])
        again = self.double.request("POST", SECRETS, tls_secret())
        body = self.assert_status(again, 409, "AlreadyExists")
        self.assertEqual(body["message"], 'secrets "serving" already exists')
        self.assertEqual(self.double.request("GET", SECRETS + "/serving").json(), secret)

    def test_updates_need_the_current_version_and_keep_the_type(self):
        version = self.double.request("POST", SECRETS, tls_secret()).json()["metadata"]["resourceVersion"]
        updated = self.double.request("PUT", SECRETS + "/serving", tls_secret(version=version, **{"ca.crt": b64("CA")}))
        self.assertEqual(updated.status, 200, updated.body)
        self.assertNotEqual(updated.json()["metadata"]["resourceVersion"], version)
        stale = self.double.request("PUT", SECRETS + "/serving", tls_secret(version=version))
        self.assertIn("the object has been modified", self.assert_status(stale, 409, "Conflict")["message"])
        opaque = tls_secret(version=updated.json()["metadata"]["resourceVersion"])
        opaque["type"] = "Opaque"
        self.assertIn("field is immutable", self.assert_status(
            self.double.request("PUT", SECRETS + "/serving", opaque), 422, "Invalid")["message"])
        self.assert_status(self.double.request("PUT", SECRETS + "/missing", tls_secret("missing")), 404, "NotFound")
        self.assert_status(self.double.request("PUT", SECRETS + "/other", tls_secret()), 400, "BadRequest")

    def test_secret_data_is_validated(self):
        no_key = tls_secret()
        del no_key["data"]["tls.key"]
        self.assertIn("data[tls.key]: Required value",
                      self.assert_status(self.double.request("POST", SECRETS, no_key), 422, "Invalid")["message"])
        self.assert_status(self.double.request("POST", SECRETS, tls_secret(**{"tls.crt": "%%%"})), 400, "BadRequest")
        elsewhere = tls_secret()
        elsewhere["metadata"]["namespace"] = "default"
        self.assert_status(self.double.request("POST", SECRETS, elsewhere), 400, "BadRequest")

    def test_apiservices_take_merge_patches_and_refuse_a_ca_bundle_beside_skip_verify(self):
        merge = {"Content-Type": "application/merge-patch+json"}
        refused = self.double.request("PATCH", APISERVICE, json.dumps({"spec": {"caBundle": b64("CA")}}), merge)
        self.assertIn("may not be true if caBundle is present",
                      self.assert_status(refused, 422, "Invalid")["message"])
        patched = self.double.request("PATCH", APISERVICE,
                                      json.dumps({"spec": {"caBundle": b64("CA"), "insecureSkipTLSVerify": None}}), merge)
        self.assertEqual(patched.status, 200, patched.body)
        spec = self.double.request("GET", APISERVICE).json()["spec"]
        self.assertEqual(spec["caBundle"], b64("CA"))
        self.assertNotIn("insecureSkipTLSVerify", spec)
        self.assertEqual(spec["service"]["name"], "sysdig-metrics-adapter")   # the rest is kept
        self.assert_status(self.double.request("PATCH", APISERVICE, json.dumps({"spec": {}}),
                                               {"Content-Type": "application/json-patch+json"}),
                           415, "UnsupportedMediaType")
        self.assert_status(self.double.request("GET", APISERVICE.replace("v1beta2", "v9")), 404, "NotFound")
        self.assertEqual(self.double.control("GET", "objects").json()["apiServices"][0]["spec"]["caBundle"], b64("CA"))

    def test_the_token_is_required(self):
        for method, path in (("GET", SECRETS + "/serving"), ("POST", SECRETS), ("GET", APISERVICE)):
            self.assertEqual(self.double.request(method, path, token="wrong").status, 401)


class HorizontalPodAutoscalerTests(DoubleTestCase):
    """What `simulate` reads of a cluster: HPAs in both API versions, a Deployment's /scale, the version."""

    HPA = {"metadata": {"name": "kuard", "namespace": "default"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "kuard"},
                    "minReplicas": 1, "maxReplicas": 10,
                    "metrics": [{"type": "Pods", "pods": {"metric": {"name": "net.http.request.count"},
                                                          "target": {"type": "AverageValue", "averageValue": "10"}}}]}}
    DEPLOYMENT = {"metadata": {"name": "kuard", "namespace": "default"},
                  "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "kuard"},
                                                       "matchExpressions": [{"key": "tier", "operator": "In",
                                                                             "values": ["frontend", "edge"]}]}},
                  "status": {"replicas": 4}}

    def setUp(self):
        super().setUp()
        self.assertEqual(self.double.control("POST", "objects", {"horizontalPodAutoscalers": [self.HPA],
                                                                 "deployments": [self.DEPLOYMENT],
                                                                 "version": "1.31"}).status, 200)

    def test_an_hpa_is_served_as_v2_and_v2beta2(self):
        for version in ("v2", "v2beta2"):
            with self.subTest(version=version):
                answer = self.double.request(
                    "GET", f"/apis/autoscaling/{version}/namespaces/default/horizontalpodautoscalers/kuard")
                self.assertEqual(answer.status, 200, answer.body)
                hpa = answer.json()
                self.assertEqual((hpa["kind"], hpa["apiVersion"]), ("HorizontalPodAutoscaler", f"autoscaling/{version}"))
                self.assertEqual(hpa["spec"], self.HPA["spec"])
                self.assertTrue(hpa["metadata"]["resourceVersion"])
        missing = self.double.request("GET", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/none")
        self.assertEqual(self.assert_status(missing, 404, "NotFound")["message"],
                         'horizontalpodautoscalers.autoscaling "none" not found')
        self.assert_status(self.double.request(
            "GET", "/apis/autoscaling/v2/namespaces/payments/horizontalpodautoscalers/kuard"), 404, "NotFound")

    def test_the_scale_subresource_carries_replicas_and_the_selector_string(self):
        scale = self.double.request("GET", "/apis/apps/v1/namespaces/default/deployments/kuard/scale")
        self.assertEqual(scale.status, 200, scale.body)
        body = scale.json()
        self.assertEqual((body["kind"], body["apiVersion"]), ("Scale", "autoscaling/v1"))
        self.assertEqual(body["spec"], {"replicas": 3})
        self.assertEqual(body["status"], {"replicas": 4, "selector": "app=kuard,tier in (edge,frontend)"})
        deployment = self.double.request("GET", "/apis/apps/v1/namespaces/default/deployments/kuard").json()
        self.assertEqual(deployment["kind"], "Deployment")
        self.assert_status(self.double.request("GET", "/apis/apps/v1/namespaces/default/statefulsets/kuard/scale"),
                           404, "NotFound")

    def test_the_version_is_what_was_set(self):
        version = self.double.request("GET", "/version").json()
        self.assertEqual((version["major"], version["minor"], version["gitVersion"]), ("1", "31", "v1.31.0"))

    def test_pods_keep_their_readiness_and_start_time(self):
        pod = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "kuard-1", "namespace": "default",
                                                               "labels": {"app": "kuard"}},
               "spec": {"containers": [{"name": "kuard", "resources": {"requests": {"cpu": "50m"}}}]},
               "status": {"phase": "Running", "startTime": "2026-01-01T10:00:00Z",
                          "conditions": [{"type": "Ready", "status": "False",
                                          "lastTransitionTime": "2026-01-01T10:00:05Z"}]}}
        self.double.control("POST", "fixture", {"kind": "List", "apiVersion": "v1", "items": [pod]})
        listed = self.list_pods("default", labelSelector="app=kuard")["items"][0]
        self.assertEqual(listed["status"], pod["status"])
        self.assertEqual(listed["spec"], pod["spec"])

    def test_objects_that_cannot_be_stored_are_refused(self):
        for bad in ({"horizontalPodAutoscalers": [{"metadata": {"name": "x"}, "spec": {}}]},
                    {"deployments": [{"metadata": {"name": "x"}, "spec": {"replicas": 1}}]},
                    {"version": "2.0"}):
            with self.subTest(bad=bad):
                self.assertEqual(self.double.control("POST", "objects", bad).status, 400)
        self.assertEqual(self.double.control("GET", "objects").json()["version"], "1.31")

    def test_the_token_is_required(self):
        for path in ("/apis/apps/v1/namespaces/default/deployments/kuard/scale", "/version",
                     "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/kuard"):
            self.assertEqual(self.double.request("GET", path, token="wrong").status, 401)


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
