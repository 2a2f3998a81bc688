"""A tiny Prometheus exporter serving fixed samples, for a real Prometheus to scrape in tests.
Labels follow the usual Kubernetes relabelling conventions (namespace, pod, service)."""
import http.server
import threading

METRICS = """# HELP http_requests Requests per second, per pod.
# TYPE http_requests gauge
http_requests{namespace="default",pod="kuard-7d4f-1",service="kuard"} 10.5
http_requests{namespace="default",pod="kuard-7d4f-2",service="kuard"} 20.25
http_requests{namespace="default",pod="kuard-7d4f-3",service="kuard"} 30
http_requests{namespace="default",pod="redis-0",service="redis"} 5
http_requests{namespace="payments",pod="kuard-7d4f-1",service="kuard"} 100
# HELP queue_messages Messages waiting, per queue.
# TYPE queue_messages gauge
queue_messages{namespace="default",queue="orders"} 42
queue_messages{namespace="default",queue="emails"} 7
queue_messages{namespace="payments",queue="orders"} 13
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = METRICS.encode() if self.path == "/metrics" else b"not found\n"
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class FixtureExporter:
    def __init__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
