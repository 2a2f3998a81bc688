"""Operating the daemon: the plain-HTTP metrics/health port, and graceful shutdown in order."""
import http.client
import json
import signal
import threading
import time
import unittest

from adapter_process import Adapter
from double_processes import SysdigDouble

OBJECT = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/services/kuard/net.http.request.count"


def listening_event(adapter):
    for line in adapter.log_lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("msg") == "listening":
            return event
    raise AssertionError("no listening event")


def plain_get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        conn.close()


class PlainMetricsPortTest(unittest.TestCase):
    def test_serves_metrics_and_health_only_without_tls(self):
        with Adapter("--metrics-bind-address", "127.0.0.1:0") as a:
            port = int(listening_event(a)["metrics_port"])
            a.get("/apis")  # one request so the counters have something
            status, content_type, body = plain_get(port, "/metrics")
            self.assertEqual(status, 200)
            self.assertTrue(content_type.startswith("text/plain"))
            self.assertIn('sysdig_metrics_adapter_requests_total{code="200",kind="discovery"', body)
            for path in ("/healthz", "/livez", "/readyz"):
                self.assertEqual(plain_get(port, path)[0], 200)
            for path in ("/apis", "/apis/custom.metrics.k8s.io/v1beta1", "/write-metrics/namespaces/a/pods/b/c"):
                self.assertEqual(plain_get(port, path)[0], 404, path)

    def test_bad_address_stops_the_start(self):
        from adapter_process import run_binary
        code, _, err = run_binary("--insecure-allow-anonymous", "--secure-port", "0", "--metrics-bind-address", "x:y")
        self.assertEqual(code, 1)
        self.assertIn("--metrics-bind-address", err)


class GracefulShutdownTest(unittest.TestCase):
    def test_sigterm_fails_readiness_keeps_serving_then_finishes_in_flight_and_exits_zero(self):
        with SysdigDouble() as sysdig:
            a = Adapter("--shutdown-delay", "1500ms", "--shutdown-grace", "10s", "--cache-ttl", "0",
                        env={"SDC_ENDPOINT": sysdig.url, "SDC_TOKEN": SysdigDouble.TOKEN, "CLUSTER_NAME": "prod"})
            try:
                self.assertEqual(a.get("/readyz").status, 200)
                sysdig.inject(latency_ms=1500)
                started = time.time()
                a.proc.send_signal(signal.SIGTERM)
                time.sleep(0.2)
                # 1. readiness fails at once; 2. the API is still served during the delay.
                self.assertEqual(a.get("/readyz").status, 503)
                self.assertEqual(a.get("/healthz").status, 200)
                # A request that is still waiting on the backend when accepting stops...
                in_flight = {}
                t = threading.Thread(target=lambda: in_flight.update(r=a.get(OBJECT)))
                t.start()
                time.sleep(1.5)  # past the delay: the server stops accepting now
                with self.assertRaises(OSError):
                    a.get("/healthz")
                # 4. ...is finished, and 5. the process exits 0.
                t.join(timeout=15)
                self.assertEqual(in_flight["r"].status, 200)
                self.assertEqual(a.proc.wait(timeout=15), 0)
                self.assertLess(time.time() - started, 12)
                messages = [json.loads(l)["msg"] for l in a.log_lines if l.startswith("{")]
                order = [m for m in messages if m.startswith("shutting down") or m == "stopped"]
                self.assertEqual(order, ["shutting down: readiness off, still serving",
                                         "shutting down: no longer accepting, finishing in-flight requests",
                                         "stopped"])
            finally:
                a.stop(expect_clean_exit=False)


if __name__ == "__main__":
    unittest.main()
