"""Tests of the Sysdig test double itself: the real script as a subprocess, spoken to over HTTP."""
import http.client
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

import double_process

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "sysdig_double.py")
FIXTURE = os.path.join(HERE, "fixtures", "sysdig_series.json")
TOKEN = "s3cr3t-token"

REQUEST_COUNT = "sysdig_container_net_http_request_count"
KUARD_PROD = 'kube_cluster_name="prod",kube_namespace_name="default"'
DATA_QUERY = {
    "metrics": [{"id": "kubernetes.pod.name"},
                {"id": "net.http.request.count", "aggregations": {"time": "timeAvg", "group": "sum"}}],
    "dataSourceType": "container",
    "filter": "kubernetes.cluster.name = 'prod' and kubernetes.namespace.name = 'default' "
              "and kubernetes.service.name = 'kuard'",
    "last": 60, "sampling": 60, "paging": {"from": 0, "to": 99},
}


class SysdigProcess(double_process.DoubleProcess):
    """The Sysdig double as a child process on a free port, spoken to over HTTP with TOKEN."""

    def __init__(self, *extra_args, fixture=FIXTURE):
        super().__init__(SCRIPT, "--token", TOKEN, "--fixture", fixture, *extra_args, token=TOKEN)


class DoubleTestCase(double_process.DoubleTestCase):
    """One Sysdig double per test class, reset to the stock fixture and token before every test."""

    start_double = SysdigProcess
    fixture = FIXTURE

    def query(self, promql, method="GET", **params):
        form = urllib.parse.urlencode({"query": promql, **params})
        if method == "POST":
            return self.double.request("POST", "/prometheus/api/v1/query", form,
                                       {"Content-Type": "application/x-www-form-urlencoded"})
        return self.double.request("GET", "/prometheus/api/v1/query?" + form)

    def query_result(self, promql, **params):
        response = self.query(promql, **params)
        self.assertEqual(response.status, 200, response.body)
        body = response.json()
        self.assertEqual(body["status"], "success")
        self.assertEqual(body["data"]["resultType"], "vector")
        return body["data"]["result"]

    def data(self, document):
        return self.double.request("POST", "/api/data", document)


class AuthTests(DoubleTestCase):
    def assert_unauthorized(self, response):
        self.assertEqual(response.status, 401)
        body = response.json()
        self.assertEqual(body["message"], "Unauthorized")
        int(body["request_id"], 16)  # a hex id, as Sysdig gives

    def test_missing_token_is_refused_on_every_api(self):
        for path in ("/prometheus/api/v1/query?query=up", "/prometheus/api/v1/label/__name__/values",
                     "/api/v2/metrics/descriptors"):
            with self.subTest(path=path):
                self.assert_unauthorized(self.double.request("GET", path, token=None))
        self.assert_unauthorized(self.double.request("POST", "/api/data", DATA_QUERY, token=None))

    def test_wrong_token_or_scheme_is_refused(self):
        self.assert_unauthorized(self.double.request("GET", "/api/v2/metrics/descriptors", token="wrong"))
        basic = {"Authorization": f"Basic {TOKEN}"}
        self.assert_unauthorized(self.double.request("GET", "/api/v2/metrics/descriptors", headers=basic,
                                                     token=None))

    def test_token_can_be_replaced_at_runtime(self):
        self.assertEqual(self.double.control("POST", "token", {"token": "rotated"}).status, 200)
        self.assert_unauthorized(self.double.request("GET", "/api/v2/metrics/descriptors"))
        ok = self.double.request("GET", "/api/v2/metrics/descriptors", token="rotated")
        self.assertEqual(ok.status, 200)


class PromQLTests(DoubleTestCase):
    def test_object_query_sums_the_service_pods(self):
        result = self.query_result(
            f'sum(avg_over_time({REQUEST_COUNT}{{{KUARD_PROD},kube_service_name="kuard"}}[1m]))')
        self.assertEqual(result, [{"metric": {}, "value": result[0]["value"]}])
        self.assertEqual(result[0]["value"][1], "60.75")

    def test_sum_by_pod_keeps_only_the_grouping_label(self):
        inner = f'{REQUEST_COUNT}{{{KUARD_PROD},kube_pod_name=~"kuard-7d4f-1|kuard-7d4f-2"}}'
        for promql in (f"sum by (kube_pod_name) ({inner})", f"sum({inner}) by (kube_pod_name)"):
            with self.subTest(promql=promql):
                result = self.query_result(promql)
                self.assertEqual([(r["metric"], r["value"][1]) for r in result],
                                 [({"kube_pod_name": "kuard-7d4f-1"}, "10.5"),
                                  ({"kube_pod_name": "kuard-7d4f-2"}, "20.25")])

    def test_negative_matchers_match_series_without_the_label(self):
        for matcher in ('kube_statefulset_name!="redis"', 'kube_statefulset_name!~"re.*"',
                        'kube_statefulset_name=""'):
            with self.subTest(matcher=matcher):
                result = self.query_result(f"{REQUEST_COUNT}{{{KUARD_PROD},{matcher}}}")
                self.assertEqual(sorted(r["metric"]["kube_pod_name"] for r in result),
                                 ["kuard-7d4f-1", "kuard-7d4f-2", "kuard-7d4f-3"])

    def test_regexes_are_fully_anchored(self):
        self.assertEqual(self.query_result(f'{REQUEST_COUNT}{{{KUARD_PROD},kube_pod_name=~"kuard"}}'), [])
        self.assertEqual(len(self.query_result(f'{REQUEST_COUNT}{{{KUARD_PROD},kube_pod_name=~"kuard.*"}}')),
                         3)

    def test_selectors_keep_the_metric_name_and_functions_drop_it(self):
        selector = f'{REQUEST_COUNT}{{{KUARD_PROD},kube_pod_name="kuard-7d4f-1"}}'
        self.assertEqual(self.query_result(selector)[0]["metric"]["__name__"], REQUEST_COUNT)
        self.assertNotIn("__name__", self.query_result(f"rate({selector}[5m])")[0]["metric"])
        self.assertIn("__name__", self.query_result(f"last_over_time({selector}[5m])")[0]["metric"])
        by_name = self.query_result(f'{{__name__="{REQUEST_COUNT}",{KUARD_PROD},kube_pod_name="kuard-7d4f-1"}}')
        self.assertEqual(by_name[0]["metric"]["kube_pod_name"], "kuard-7d4f-1")

    def test_values_are_formatted_like_prometheus_and_stamped_with_the_evaluation_time(self):
        pod1 = 'kube_cluster_name="prod",kube_pod_name="kuard-7d4f-1"'
        pod3 = 'kube_cluster_name="prod",kube_pod_name="kuard-7d4f-3"'
        cases = [(f"sysdig_container_cpu_cores_used{{{pod1}}}", "0.58"),
                 (f"{REQUEST_COUNT}{{{pod3},kube_namespace_name='default'}}", "30"),
                 (f"sysdig_container_memory_used_bytes{{{pod3}}}", "6442450944"),
                 (f"sysdig_container_cpu_cores_used{{{pod3}}}", "0.001")]
        for promql, expected in cases:
            with self.subTest(promql=promql):
                self.assertEqual(self.query_result(promql, time="1767261601.25")[0]["value"],
                                 [1767261601.25, expected])
        stamped = self.query_result(cases[0][0], time="2026-01-01T10:00:00Z")
        self.assertEqual(stamped[0]["value"][0], 1767261600)
        before, after = time.time(), None
        now_value = self.query_result(cases[0][0])[0]["value"][0]
        after = time.time()
        self.assertTrue(before - 0.01 <= now_value <= after + 0.01)

    def test_aggregations(self):
        inner = f'{REQUEST_COUNT}{{{KUARD_PROD},kube_service_name="kuard"}}'
        expected = {"sum": "60.75", "avg": "20.25", "max": "30", "min": "10.5", "count": "3"}
        for op, value in expected.items():
            with self.subTest(op=op):
                self.assertEqual(self.query_result(f"{op}({inner})")[0]["value"][1], value)
        without = self.query_result(f'sum without (kube_pod_name, kube_node_name) ({inner})')
        self.assertEqual(len(without), 1)
        self.assertNotIn("__name__", without[0]["metric"])
        self.assertEqual(without[0]["metric"]["kube_service_name"], "kuard")

    def test_offset_and_every_string_syntax_are_accepted(self):
        promql = "sum(sysdig_queue_depth{queue='orders',kube_namespace_name=`default`,kube_cluster_name=\"pro\\x64\"}" \
                 " offset 5m) by (queue)"
        self.assertEqual([(r["metric"], r["value"][1]) for r in self.query_result(promql)],
                         [({"queue": "orders"}, "42")])
        ranged = f'max_over_time({REQUEST_COUNT}{{{KUARD_PROD},kube_pod_name="kuard-7d4f-2"}}[5m30s] offset 1m)'
        self.assertEqual(self.query_result(ranged)[0]["value"][1], "20.25")

    def test_unsupported_or_malformed_queries_are_bad_data(self):
        for promql in ("", f"{REQUEST_COUNT} + 1", "42", f"rate({REQUEST_COUNT})", f"{REQUEST_COUNT}[5m]",
                       f"topk(3, {REQUEST_COUNT})", f"abs({REQUEST_COUNT})", "{}", '{a=""}',
                       f'{REQUEST_COUNT}{{a="unterminated}}', f'{REQUEST_COUNT}{{a="\\q"}}',
                       f"{REQUEST_COUNT}{{a=\"\\'\"}}", f'{REQUEST_COUNT}{{a=~"("}}',
                       f'{REQUEST_COUNT}{{__name__="x"}}', f"sum by (a) ({REQUEST_COUNT}) by (b)",
                       f"sum({REQUEST_COUNT}", f"rate({REQUEST_COUNT}[5x])", f"{REQUEST_COUNT} offset",
                       f"rate({REQUEST_COUNT}[5m:1m])", f"{REQUEST_COUNT} @ 100", f"{REQUEST_COUNT}{{1a=\"b\"}}"):
            with self.subTest(promql=promql):
                response = self.query(promql)
                self.assertEqual(response.status, 400, response.body)
                body = response.json()
                self.assertEqual((body["status"], body["errorType"]), ("error", "bad_data"))
                self.assertTrue(body["error"])

    def test_bad_time_parameter_is_bad_data(self):
        response = self.query(REQUEST_COUNT, time="yesterday")
        self.assertEqual(response.status, 400)
        self.assertIn('invalid parameter "time"', response.json()["error"])

    def test_post_form_query(self):
        response = self.query(f'sum({REQUEST_COUNT}{{{KUARD_PROD},kube_service_name="kuard"}})', method="POST",
                              time="1767261600")
        self.assertEqual(response.status, 200, response.body)
        self.assertEqual(response.json()["data"]["result"][0]["value"], [1767261600, "60.75"])

    def test_query_range_repeats_the_value_at_every_step(self):
        params = urllib.parse.urlencode({"query": f'{REQUEST_COUNT}{{{KUARD_PROD},kube_pod_name="kuard-7d4f-1"}}',
                                         "start": "1767261600", "end": "1767261720", "step": "1m"})
        body = self.double.request("GET", "/prometheus/api/v1/query_range?" + params).json()
        self.assertEqual(body["data"]["resultType"], "matrix")
        self.assertEqual(body["data"]["result"][0]["values"],
                         [[1767261600, "10.5"], [1767261660, "10.5"], [1767261720, "10.5"]])
        bad = self.double.request("GET", "/prometheus/api/v1/query_range?query=x&start=10&end=5&step=1")
        self.assertEqual(bad.status, 400)

    def test_series_lists_matching_label_sets(self):
        params = urllib.parse.urlencode([("match[]", 'sysdig_queue_depth{kube_cluster_name="prod"}'),
                                         ("match[]", 'sysdig_queue_depth{kube_cluster_name="staging",queue="emails"}')])
        body = self.double.request("GET", "/prometheus/api/v1/series?" + params).json()
        self.assertEqual(body["status"], "success")
        self.assertEqual(len(body["data"]), 4)
        self.assertTrue(all(s["__name__"] == "sysdig_queue_depth" for s in body["data"]))
        missing = self.double.request("GET", "/prometheus/api/v1/series")
        self.assertEqual((missing.status, missing.json()["errorType"]), (400, "bad_data"))
        aggregated = self.double.request("GET", "/prometheus/api/v1/series?" + urllib.parse.urlencode(
            {"match[]": f"sum({REQUEST_COUNT})"}))
        self.assertEqual(aggregated.status, 400)

    def test_label_values(self):
        names = self.double.request("GET", "/prometheus/api/v1/label/__name__/values").json()["data"]
        self.assertEqual(names, sorted(set(names)))
        self.assertIn(REQUEST_COUNT, names)
        self.assertIn("sysdig_queue_depth", names)
        namespaces = self.double.request("GET", "/prometheus/api/v1/label/kube_namespace_name/values").json()
        self.assertEqual(namespaces["data"], ["default", "kube-system", "payments"])
        by_post = self.double.request("POST", "/prometheus/api/v1/label/queue/values", "",
                                      {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(by_post.json()["data"], ["emails", "orders"])


class LiteralAlternationTests(unittest.TestCase):
    """In-process: a regex of escaped literals joined by | is matched as a set, with the regex's own answers."""

    def test_literal_alternations_match_as_the_regex_does(self):
        import re
        import sysdig_double
        samples = ["kuard-7d4f-1", "kuard-7d4f-2", "x.y", "xzy", "", "a|b", "a", "b", "\\", "web-0"]
        for pattern in ("kuard-7d4f-1|kuard-7d4f-2", r"x\.y", "a|", r"a\|b", r"\\", "|web-0", "web-0"):
            with self.subTest(pattern=pattern):
                literals = sysdig_double.literal_alternatives(pattern)
                self.assertIsNotNone(literals)
                regex = re.compile(pattern, re.DOTALL)
                for text in samples:
                    self.assertEqual(text in literals, regex.fullmatch(text) is not None, text)

    def test_other_regexes_are_left_to_re(self):
        import sysdig_double
        for pattern in ("x.y", "a.*", r"a\d", "(a|b)", "[ab]", "a+", "^a$", "a\\"):
            with self.subTest(pattern=pattern):
                self.assertIsNone(sysdig_double.literal_alternatives(pattern))


class DataApiTests(DoubleTestCase):
    def test_segmented_query_with_paging_returns_one_row_per_pod(self):
        response = self.data(DATA_QUERY)
        self.assertEqual(response.status, 200, response.body)
        body = response.json()
        self.assertEqual(body["end"] - body["start"], 60)
        self.assertEqual([row["d"] for row in body["data"]],
                         [["kuard-7d4f-3", 30], ["kuard-7d4f-2", 20.25], ["kuard-7d4f-1", 10.5]])
        self.assertTrue(all(row["t"] == body["end"] for row in body["data"]))

    def test_without_paging_only_ten_segments_come_back(self):
        # Pod names repeat across clusters and namespaces, so a unique segment needs all three keys.
        keys = [{"id": "kubernetes.cluster.name"}, {"id": "kubernetes.namespace.name"}, {"id": "kubernetes.pod.name"}]
        everything = dict(DATA_QUERY, filter="", metrics=keys + DATA_QUERY["metrics"][1:])
        del everything["paging"]
        self.assertEqual(len(self.data(everything).json()["data"]), 10)
        self.assertEqual(len(self.data(dict(everything, paging={"from": 0, "to": 99})).json()["data"]), 11)
        window = self.data(dict(everything, paging={"from": 1, "to": 2})).json()["data"]
        self.assertEqual([row["d"] for row in window], [["prod", "payments", "kuard-7d4f-2", 200],
                                                        ["prod", "payments", "kuard-7d4f-1", 100]])
        by_pod_name_only = dict(DATA_QUERY, filter="", paging={"from": 0, "to": 99})
        self.assertEqual(len(self.data(by_pod_name_only).json()["data"]), 5)

    def test_filter_with_in_and_not_in(self):
        query = dict(DATA_QUERY, filter="kubernetes.cluster.name = 'staging' and "
                                        "kubernetes.pod.name in ('kuard-7d4f-1', 'kuard-7d4f-3')")
        self.assertEqual([row["d"] for row in self.data(query).json()["data"]],
                         [["kuard-7d4f-3", 3], ["kuard-7d4f-1", 1]])
        for text in ("kubernetes.cluster.name='staging' and kubernetes.pod.name not in ('kuard-7d4f-1')",
                     "kubernetes.cluster.name='staging' AND not kubernetes.pod.name in ('kuard-7d4f-1')",
                     "kubernetes.cluster.name='staging' and kubernetes.pod.name != 'kuard-7d4f-1'"):
            with self.subTest(filter=text):
                rows = self.data(dict(DATA_QUERY, filter=text)).json()["data"]
                self.assertEqual([row["d"][0] for row in rows], ["kuard-7d4f-3", "kuard-7d4f-2"])

    def test_value_only_query_and_empty_match(self):
        query = dict(DATA_QUERY, metrics=DATA_QUERY["metrics"][1:])
        self.assertEqual([row["d"] for row in self.data(query).json()["data"]], [[60.75]])
        nothing = dict(query, filter="kubernetes.namespace.name = 'nowhere'")
        self.assertEqual(self.data(nothing).json()["data"], [])

    def test_bad_filters_are_400(self):
        for text in ("kubernetes.cluster.name = prod", "kubernetes.cluster.name == 'prod'",
                     "kubernetes.cluster.name = 'prod' or kubernetes.cluster.name = 'staging'",
                     "kubernetes.pod.name in ()", "kubernetes.cluster.name = 'unterminated",
                     "kubernetes.cluster.name = \"prod\"", "and", "kubernetes.cluster.name = 'a\\n'"):
            with self.subTest(filter=text):
                response = self.data(dict(DATA_QUERY, filter=text))
                self.assertEqual(response.status, 400, response.body)
                body = response.json()
                self.assertTrue(body["message"].startswith("invalid filter: "), body)
                self.assertIn("request_id", body)

    def test_request_validation(self):
        too_many_samples = dict(DATA_QUERY, last=6010, sampling=10)
        no_value = dict(DATA_QUERY, metrics=[{"id": "kubernetes.pod.name"}])
        no_last = {k: v for k, v in DATA_QUERY.items() if k != "last"}
        for name, body in (("samples", too_many_samples), ("value", no_value), ("last", no_last),
                           ("negative last", dict(DATA_QUERY, last=-5)), ("not json", "{")):
            with self.subTest(case=name):
                response = self.data(body)
                self.assertEqual(response.status, 400, response.body)
                self.assertTrue(response.json()["message"])
        self.assertEqual(self.double.request("GET", "/api/data").status, 405)

    def test_descriptors_are_paged(self):
        first = self.double.request("GET", "/api/v2/metrics/descriptors?limit=100&offset=0").json()
        ids = [d["id"] for d in first["metricDescriptors"]]
        self.assertEqual(first["total"], len(ids))
        self.assertIn("net.http.request.count", ids)
        self.assertIn("kubernetes.pod.name", ids)
        by_id = {d["id"]: d for d in first["metricDescriptors"]}
        self.assertEqual(by_id["net.http.request.count"]["metricType"], "counter")
        self.assertEqual(by_id["kubernetes.pod.name"]["metricType"], "tag")
        page = self.double.request("GET", "/api/v2/metrics/descriptors?limit=2&offset=3").json()
        self.assertEqual((page["total"], page["offset"]), (first["total"], 3))
        self.assertEqual([d["id"] for d in page["metricDescriptors"]], ids[3:5])
        self.assertEqual(self.double.request("GET", "/api/v2/metrics/descriptors?limit=x").status, 400)


class FaultTests(DoubleTestCase):
    DESCRIPTORS = "/api/v2/metrics/descriptors"

    def set_fault(self, **fault):
        response = self.double.control("POST", "faults", fault)
        self.assertEqual(response.status, 200, response.body)

    def test_status_fault_uses_the_endpoint_error_format_and_honours_count(self):
        self.set_fault(status=503, count=2)
        prom = self.query(REQUEST_COUNT)
        self.assertEqual(prom.status, 503)
        self.assertEqual((prom.json()["status"], prom.json()["errorType"]), ("error", "unavailable"))
        data = self.double.request("GET", self.DESCRIPTORS)
        self.assertEqual(data.status, 503)
        self.assertIn("request_id", data.json())
        self.assertEqual(self.double.request("GET", self.DESCRIPTORS).status, 200)

    def test_status_fault_with_body_and_path_prefix(self):
        self.set_fault(mode="status", status=429, body="slow down", path_prefix="/api/data",
                       headers={"Retry-After": "1"})
        self.assertEqual(self.double.request("GET", self.DESCRIPTORS).status, 200)
        limited = self.data(DATA_QUERY)
        self.assertEqual((limited.status, limited.body), (429, b"slow down"))
        self.assertEqual(limited.headers["Retry-After"], "1")

    def test_garbage(self):
        self.set_fault(mode="garbage")
        response = self.query(REQUEST_COUNT)
        self.assertEqual(response.status, 200)
        with self.assertRaises(ValueError):
            response.json()

    def test_truncate_promises_more_than_it_sends(self):
        self.set_fault(mode="truncate", count=1)
        conn = self.double.connection()
        try:
            conn.request("GET", self.DESCRIPTORS, headers={"Authorization": f"Bearer {TOKEN}"})
            reply = conn.getresponse()
            self.assertEqual(reply.status, 200)
            with self.assertRaises(http.client.IncompleteRead):
                reply.read()
        finally:
            conn.close()

    def test_drop_closes_without_answer(self):
        self.set_fault(mode="drop", count=1)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.double.request("GET", self.DESCRIPTORS)
        self.assertEqual(self.double.request("GET", self.DESCRIPTORS).status, 200)

    def test_concurrency_reports_requests_in_flight_and_their_peak(self):
        self.set_fault(latency_ms=400, path_prefix="/prometheus")
        self.assertEqual(self.double.control("GET", "concurrency").json(), {"in_flight": 0, "peak": 0})
        threads = [threading.Thread(target=self.query, args=(REQUEST_COUNT,)) for _ in range(3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 5
        while self.double.control("GET", "concurrency").json()["in_flight"] < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.double.control("GET", "concurrency").json(), {"in_flight": 3, "peak": 3})
        for t in threads:
            t.join()
        self.assertEqual(self.double.request("GET", self.DESCRIPTORS).status, 200)  # one at a time
        # A request stops counting just after its last byte is sent, so the client may see it first.
        while self.double.control("GET", "concurrency").json()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(self.double.control("GET", "concurrency").json(), {"in_flight": 0, "peak": 3})
        self.assertEqual(self.double.control("DELETE", "concurrency").json(), {"in_flight": 0, "peak": 0})

    def test_hang_never_answers_and_blocks_nobody_else(self):
        self.set_fault(mode="hang", path_prefix="/prometheus")
        started = time.monotonic()
        with self.assertRaises(TimeoutError):
            self.query_with_timeout(0.5)
        self.assertGreaterEqual(time.monotonic() - started, 0.45)
        self.assertEqual(self.double.request("GET", self.DESCRIPTORS, timeout=2).status, 200)

    def query_with_timeout(self, timeout):
        return self.double.request("GET", "/prometheus/api/v1/query?query=up", timeout=timeout)

    def test_latency_delays_a_normal_answer(self):
        self.set_fault(latency_ms=300, count=1)
        started = time.monotonic()
        response = self.double.request("GET", self.DESCRIPTORS)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(response.status, 200)
        self.assertIn("metricDescriptors", response.json())

    def test_oversize_is_valid_json_of_the_requested_size(self):
        for chunked in (False, True):
            with self.subTest(chunked=chunked):
                self.set_fault(mode="oversize", bytes=1 << 20, count=1, chunked=chunked)
                response = self.query(REQUEST_COUNT)
                self.assertEqual(response.status, 200)
                self.assertEqual(len(response.body), 1 << 20)
                self.assertEqual(response.json()["status"], "success")

    def test_faults_can_be_listed_cleared_and_are_validated(self):
        self.set_fault(mode="garbage")
        self.assertEqual(len(self.double.control("GET", "faults").json()["faults"]), 1)
        self.double.control("DELETE", "faults")
        self.assertEqual(self.double.request("GET", self.DESCRIPTORS).status, 200)
        for bad in ({"mode": "explode"}, {}, {"status": 99}, {"mode": "drop", "count": 0}):
            with self.subTest(fault=bad):
                self.assertEqual(self.double.control("POST", "faults", bad).status, 400)


class RecordingTests(DoubleTestCase):
    def test_requests_are_recorded_with_headers_and_bodies(self):
        self.query(REQUEST_COUNT, method="POST", time="1767261600")
        self.data(DATA_QUERY)
        self.double.request("GET", "/api/v2/metrics/descriptors?limit=5", token=None)
        recorded = self.double.control("GET", "requests").json()
        self.assertEqual([(r["method"], r["path"]) for r in recorded],
                         [("POST", "/prometheus/api/v1/query"), ("POST", "/api/data"),
                          ("GET", "/api/v2/metrics/descriptors")])
        prom, data, unauthenticated = recorded
        self.assertEqual(prom["headers"]["authorization"], f"Bearer {TOKEN}")
        self.assertEqual(prom["form"], {"query": [REQUEST_COUNT], "time": ["1767261600"]})
        self.assertIsNone(prom["json"])
        self.assertEqual(data["json"], DATA_QUERY)
        self.assertNotIn("form", data)
        self.assertEqual(unauthenticated["query"], {"limit": ["5"]})
        self.assertNotIn("authorization", unauthenticated["headers"])

    def test_the_log_can_be_cleared(self):
        self.query(REQUEST_COUNT)
        self.double.control("DELETE", "requests")
        self.assertEqual(self.double.control("GET", "requests").json(), [])


class FixtureTests(DoubleTestCase):
    def test_fixture_can_be_replaced_at_runtime(self):
        fixture = {"series": [{"metric": "queue.depth", "labels": {"kube_cluster_name": "prod", "queue": "x"},
                               "value": 1e21}]}
        self.assertEqual(self.double.control("POST", "fixture", fixture).json(), {"series": 1})
        result = self.query_result("sysdig_container_queue_depth")
        self.assertEqual(result[0]["value"][1], "1000000000000000000000")
        self.assertEqual(self.query_result(REQUEST_COUNT), [])
        legacy = {"metrics": [{"id": "queue"}, {"id": "queue.depth", "aggregations": {"time": "timeAvg",
                                                                                      "group": "avg"}}],
                  "filter": "kubernetes.cluster.name = 'prod'", "last": 10}
        self.assertEqual(self.data(legacy).json()["data"][0]["d"], ["x", 1e21])

    def test_invalid_fixture_is_refused_and_the_old_one_kept(self):
        for bad in ({"series": [{"metric": "a b", "value": 1}]}, {"series": [{"metric": "m", "value": "1"}]},
                    {"series": [{"metric": "m", "value": 1}, {"metric": "m", "value": 2}]}, {"rows": []}):
            with self.subTest(fixture=bad):
                self.assertEqual(self.double.control("POST", "fixture", bad).status, 400)
        self.assertEqual(len(self.query_result(f"{REQUEST_COUNT}{{{KUARD_PROD}}}")), 5)


class ProcessTests(unittest.TestCase):
    def test_keep_alive_and_sigterm(self):
        double = SysdigProcess()
        conn = double.connection()
        try:
            for _ in range(2):  # two requests over one connection
                conn.request("GET", "/api/v2/metrics/descriptors", headers={"Authorization": f"Bearer {TOKEN}"})
                reply = conn.getresponse()
                self.assertEqual(reply.status, 200)
                self.assertEqual(int(reply.getheader("Content-Length")), len(reply.read()))
        finally:
            conn.close()
        self.assertEqual(double.stop(), 0)

    def test_bad_fixture_exits_with_an_error(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            f.write("{not json")
            f.flush()
            proc = subprocess.run([sys.executable, SCRIPT, "--port", "0", "--token", TOKEN, "--fixture", f.name],
                                  capture_output=True, text=True, timeout=10)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stdout, "")
        self.assertIn("not JSON", proc.stderr)

    def test_https_when_given_a_certificate(self):
        with tempfile.TemporaryDirectory() as directory:
            cert, key = os.path.join(directory, "tls.crt"), os.path.join(directory, "tls.key")
            try:
                subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                                "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
            except (OSError, subprocess.CalledProcessError):
                self.skipTest("openssl is not available")
            double = SysdigProcess("--tls-cert", cert, "--tls-key", key)
        try:
            context = ssl.create_default_context(cafile=None)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection("127.0.0.1", double.port, context=context, timeout=5)
            conn.request("GET", "/api/v2/metrics/descriptors", headers={"Authorization": f"Bearer {TOKEN}"})
            self.assertEqual(conn.getresponse().status, 200)
            conn.close()
        finally:
            self.assertEqual(double.stop(), 0)


if __name__ == "__main__":
    unittest.main()
