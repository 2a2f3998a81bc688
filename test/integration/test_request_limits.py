"""Limits on what one request may cost, against the real binary and the doubles: the cap on
concurrent backend calls (--max-backend-concurrency, counted at the Sysdig double) and the
per-request deadline (--request-timeout). Past either, the answer is a Status, never a number."""
import json
import os
import threading
import time
import unittest

from adapter_process import Adapter
from adapter_stack import AdapterStack
from double_processes import SysdigDouble

V1 = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default"
# Six distinct backend queries (one pod, one metric each) and the values the double holds for them.
EXPECTED = {
    f"{V1}/pods/kuard-7d4f-1/net.http.request.count": "10500m",
    f"{V1}/pods/kuard-7d4f-2/net.http.request.count": "20250m",
    f"{V1}/pods/kuard-7d4f-3/net.http.request.count": "30",
    f"{V1}/pods/kuard-7d4f-1/cpu.cores.used": "580m",
    f"{V1}/pods/kuard-7d4f-2/cpu.cores.used": "125m",
    f"{V1}/pods/kuard-7d4f-3/cpu.cores.used": "1m",
}
QUERY_PATH = "/prometheus/api/v1/query"
SYSDIG_ENV = {"SDC_TOKEN": SysdigDouble.TOKEN, "CLUSTER_NAME": "prod"}


def get_all(adapter, paths):
    """Sends every path at once, each on its own connection; returns {path: (response, seconds)}."""
    results = {}

    def one(path):
        started = time.monotonic()
        r = adapter.get(path)
        results[path] = (r, time.monotonic() - started)

    threads = [threading.Thread(target=one, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class LimitCase(unittest.TestCase):
    def assert_status(self, r, code, reason):
        self.assertEqual(r.status, code, r.body)
        body = r.json()
        self.assertEqual((body["kind"], body["apiVersion"], body["status"], body["reason"], body["code"]),
                         ("Status", "v1", "Failure", reason, code), body)
        self.assertNotIn("items", body)  # never a value
        return body


class ConcurrencyCapTest(LimitCase):
    @classmethod
    def setUpClass(cls):
        cls.sysdig = SysdigDouble()

    @classmethod
    def tearDownClass(cls):
        cls.sysdig.stop()

    def setUp(self):
        self.sysdig.clear_faults()
        self.sysdig.clear_requests()

    def start(self, *flags):
        adapter = Adapter("--max-backend-concurrency", "2", *flags, env={"SDC_ENDPOINT": self.sysdig.url, **SYSDIG_ENV})
        self.addCleanup(adapter.stop)
        self.sysdig.control("DELETE", "concurrency")
        return adapter

    def test_never_more_than_the_cap_in_flight_and_every_value_right(self):
        adapter = self.start()
        self.sysdig.inject(latency_ms=500, path_prefix=QUERY_PATH)
        results = get_all(adapter, EXPECTED)
        for path, (r, _) in results.items():
            self.assertEqual(r.status, 200, f"{path}: {r.body}")
            (item,) = r.json()["items"]
            self.assertEqual(item["value"], EXPECTED[path], path)
        self.assertEqual(len(self.sysdig.query_requests()), len(EXPECTED))
        # Four workers answer at once, so without the cap four would be in flight; the cap is reached.
        self.assertEqual(self.sysdig.control("GET", "concurrency")["peak"], 2)

    def test_past_a_tight_deadline_the_answer_is_503_or_504_never_a_number(self):
        # Two calls fit (0.6 s each); the next two get their slots with 0.3 s left and run out; the
        # rest wait for slots until their deadline. Nothing may answer a value after its deadline.
        adapter = self.start("--request-timeout", "900ms")
        self.sysdig.inject(latency_ms=600, path_prefix=QUERY_PATH)
        results = get_all(adapter, EXPECTED)
        answered = 0
        for path, (r, seconds) in results.items():
            if r.status == 200:
                (item,) = r.json()["items"]
                self.assertEqual(item["value"], EXPECTED[path], path)
                answered += 1
                continue
            body = self.assert_status(r, r.status, "ServiceUnavailable" if r.status == 503 else "Timeout")
            self.assertIn(r.status, (503, 504))
            self.assertTrue("--max-backend-concurrency" in body["message"] or "--request-timeout" in body["message"],
                            body["message"])
        self.assertGreaterEqual(answered, 2)
        self.assertLess(answered, len(EXPECTED))
        # No peak check here: a call given up at its deadline frees its slot as the adapter closes the
        # connection, and the double notices that hang-up a moment later than the next call arrives.

    def test_no_free_slot_within_the_deadline_is_503_and_counted(self):
        # A slow discovery call (no request deadline; --backend-timeout bounds it) holds the only slot.
        self.sysdig.inject(latency_ms=4000, path_prefix="/prometheus/api/v1/label")
        adapter = Adapter("--max-backend-concurrency", "1", "--request-timeout", "1s",
                          env={"SDC_ENDPOINT": self.sysdig.url, **SYSDIG_ENV})
        self.addCleanup(adapter.stop)
        deadline = time.monotonic() + 5
        while self.sysdig.control("GET", "concurrency")["in_flight"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        r = adapter.get(f"{V1}/pods/kuard-7d4f-1/net.http.request.count")
        elapsed = time.monotonic() - started
        body = self.assert_status(r, 503, "ServiceUnavailable")
        self.assertIn("no backend call slot came free within the request's deadline", body["message"])
        self.assertIn("--max-backend-concurrency", body["message"])
        self.assertLess(elapsed, 2.5)
        self.assertEqual(self.sysdig.query_requests(), [])  # it never reached the backend
        metrics = adapter.get("/metrics").body
        self.assertIn("sysdig_metrics_adapter_backend_slot_timeouts_total 1", metrics)
        self.assertIn("sysdig_metrics_adapter_backend_calls_waiting_for_slot 0", metrics)


class RequestDeadlineTest(LimitCase):
    @classmethod
    def setUpClass(cls):
        # --backend-timeout stays at its 5 s default: the 1 s request deadline must cut it short.
        cls.stack = AdapterStack("--request-timeout", "1s", "--cache-ttl", "0")
        cls.sysdig, cls.kube, cls.adapter = cls.stack.sysdig, cls.stack.kube, cls.stack.adapter

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def setUp(self):
        self.sysdig.clear_faults()
        self.sysdig.clear_requests()
        self.kube.clear_faults()

    def timed_get(self, path):
        started = time.monotonic()
        r = self.adapter.get(path)
        return r, time.monotonic() - started

    def test_a_hanging_backend_is_answered_504_within_the_deadline(self):
        self.sysdig.inject(mode="hang", path_prefix=QUERY_PATH)
        r, seconds = self.timed_get(f"{V1}/pods/kuard-7d4f-1/net.http.request.count")
        body = self.assert_status(r, 504, "Timeout")
        self.assertIn("--request-timeout", body["message"])
        self.assertGreaterEqual(seconds, 0.9)
        self.assertLess(seconds, 1.0 + 0.75)
        self.sysdig.clear_faults()
        r = self.adapter.get(f"{V1}/pods/kuard-7d4f-1/net.http.request.count")  # and it keeps serving
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["items"][0]["value"], "10500m")

    def test_a_hanging_pod_listing_is_answered_504_within_the_deadline(self):
        self.kube.inject(mode="hang", path_prefix="/api/v1/namespaces/default/pods")
        r, seconds = self.timed_get(f"{V1}/pods/*/net.http.request.count?labelSelector=app%3Dkuard")
        body = self.assert_status(r, 504, "Timeout")
        self.assertIn("listing pods from the Kubernetes API", body["message"])
        self.assertLess(seconds, 1.0 + 0.75)
        self.assertEqual(self.sysdig.query_requests(), [])

    def test_a_backend_slower_than_the_deadline_but_within_backend_timeout_is_504(self):
        self.sysdig.inject(latency_ms=3000, path_prefix=QUERY_PATH)
        r, seconds = self.timed_get(f"{V1}/pods/kuard-7d4f-2/net.http.request.count")
        self.assert_status(r, 504, "Timeout")
        self.assertLess(seconds, 1.0 + 0.75)


if __name__ == "__main__":
    unittest.main()
