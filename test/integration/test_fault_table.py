"""The fault table of docs/reliability.md, row by row, through the real daemon and the Sysdig double. For every
fault of the backend: the answer comes within the deadline as a Kubernetes Status with the documented code (the
cache is short and keeps nothing stale here, so no value can be served), never a number; other requests are
served meanwhile; and once the fault ends, the right value is back within one cache TTL."""
import threading
import time
import unittest

from adapter_process import Adapter
from double_processes import SysdigDouble

V1 = "/apis/custom.metrics.k8s.io/v1beta1"
OBJECT = V1 + "/namespaces/default/services/kuard/net.http.request.count"
VALUE = "60750m"         # what the fixture's kuard Service sums to
BACKEND_TIMEOUT_S = 1.0
CACHE_TTL_S = 1.0
MARGIN_S = 1.5           # process and loopback time on a loaded machine

# (row, fault rule for the double, status code, a fragment of the Status message)
FAULTS = [
    ("answers 500", {"mode": "status", "status": 500}, 503, "HTTP 500"),
    ("answers 502", {"mode": "status", "status": 502}, 503, "HTTP 502"),
    ("answers 503", {"mode": "status", "status": 503}, 503, "HTTP 503"),
    ("answers 429", {"mode": "status", "status": 429}, 503, "HTTP 429"),
    ("answers 401", {"mode": "status", "status": 401}, 503, "rejected the API token"),
    ("accepts and never answers", {"mode": "hang"}, 503, ""),
    ("answers slower than --backend-timeout", {"latency_ms": 3000}, 503, ""),
    ("drops the connection without an answer", {"mode": "drop"}, 503, ""),
    ("resets mid-body", {"mode": "truncate"}, None, ""),   # 500 (unreadable) or 503 (broken connection)
    ("answers garbage", {"mode": "garbage"}, 500, "not"),
    ("answers over --backend-max-body", {"mode": "oversize", "bytes": 8 * 1024 * 1024}, 500, "larger than 4194304"),
    ("answers over --backend-max-body, chunked", {"mode": "oversize", "bytes": 8 * 1024 * 1024, "chunked": True},
     500, "larger than 4194304"),
]


class FaultTableTest(unittest.TestCase):
    def start(self, sysdig):
        return Adapter("--backend-timeout", f"{BACKEND_TIMEOUT_S:g}s", "--cache-ttl", f"{CACHE_TTL_S:g}s",
                       "--max-staleness", "0s", "--request-timeout", "5s", "--backend-max-body", "4Mi",
                       env={"SDC_ENDPOINT": sysdig.url, "SDC_TOKEN": SysdigDouble.TOKEN, "CLUSTER_NAME": "prod"})

    def setUp(self):
        self.sysdig = SysdigDouble()
        self.addCleanup(lambda: self.sysdig.stop())
        self.adapter = self.start(self.sysdig)
        self.addCleanup(self.adapter.stop)

    def value(self):
        r = self.adapter.get(OBJECT)
        return r.json()["items"][0]["value"] if r.status == 200 else None

    def assert_failure_status(self, code, fragment):
        """The faulty request: a Status within the deadline, never a value. Meanwhile other requests are served."""
        answers = {}

        def faulty():
            started = time.monotonic()
            answers["faulty"] = self.adapter.get(OBJECT)
            answers["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=faulty)
        thread.start()
        time.sleep(0.1)   # the faulty request is in flight now (or already answered)
        started = time.monotonic()
        discovery = self.adapter.get(V1)
        ready = self.adapter.get("/readyz")
        other_seconds = time.monotonic() - started
        thread.join()

        r = answers["faulty"]
        self.assertLess(answers["seconds"], BACKEND_TIMEOUT_S + MARGIN_S, r.body)
        if code is None:
            self.assertIn(r.status, (500, 503), r.body)
        else:
            self.assertEqual(r.status, code, r.body)
        status = r.json()
        self.assertEqual((status["kind"], status["status"]), ("Status", "Failure"))
        self.assertNotIn("items", status)
        self.assertNotIn("value", r.body)
        self.assertIn(fragment, status["message"])
        self.assertNotIn(SysdigDouble.TOKEN, r.body)
        self.assertEqual((discovery.status, ready.status), (200, 200))
        self.assertLess(other_seconds, 1.0)

    def assert_recovers(self):
        deadline = time.monotonic() + CACHE_TTL_S + MARGIN_S
        while time.monotonic() < deadline and self.value() != VALUE:
            time.sleep(0.05)
        self.assertEqual(self.value(), VALUE)

    def test_every_fault_is_a_status_in_time_and_recovers_within_one_ttl(self):
        self.assertEqual(self.value(), VALUE)
        for row, fault, code, fragment in FAULTS:
            with self.subTest(row=row):
                time.sleep(CACHE_TTL_S + 0.1)   # the good value has expired: the next request asks the backend
                self.sysdig.clear_faults()
                self.sysdig.inject(**fault)
                self.assert_failure_status(code, fragment)
                self.sysdig.clear_faults()
                self.assert_recovers()

    def test_refused_connections_then_the_backend_comes_back(self):
        self.assertEqual(self.value(), VALUE)
        port = self.sysdig.port
        self.sysdig.stop()
        time.sleep(CACHE_TTL_S + 0.1)
        self.assert_failure_status(503, "")
        self.sysdig = SysdigDouble("--port", str(port))   # back on the same address
        self.assert_recovers()


if __name__ == "__main__":
    unittest.main()
