"""Starts the test doubles of test/doubles as subprocesses and drives their control APIs."""
import json
import os
import sys

DOUBLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "doubles")

# The process helper lives next to the doubles, which test themselves with it too.
sys.path.insert(0, DOUBLES)
import double_process  # noqa: E402


class DoubleProcess(double_process.DoubleProcess):
    """A double started as `python3 <script> --port 0 ...` that prints one JSON line when listening. `info` is
    that line; `url` and, for an HTTPS double, `ca_file` come from it."""

    def __init__(self, script, *args, token=None):
        super().__init__(os.path.join(DOUBLES, script), *args, token=token)

    def stop(self):
        return super().stop(timeout=10)

    def control(self, method, path, body=None):
        """The parsed JSON answer; a refused call fails the test at once."""
        reply = super().control(method, path, body)
        if reply.status >= 300:
            raise AssertionError(f"control {method} {path} answered {reply.status}: {reply.body[:200]!r}")
        return json.loads(reply.body) if reply.body else None

    def inject(self, **fault):
        self.control("POST", "faults", fault)

    def clear_faults(self):
        self.control("DELETE", "faults")

    def requests(self):
        return self.control("GET", "requests")

    def clear_requests(self):
        self.control("DELETE", "requests")


class SysdigDouble(DoubleProcess):
    TOKEN = "sysdig-test-token-4f1c9a"

    def __init__(self, *args, token=TOKEN):
        super().__init__("sysdig_double.py", "--token", token, *args, token=token)

    def query_requests(self):
        """Recorded requests that asked for values (not discovery)."""
        return [r for r in self.requests() if r["path"].endswith("/api/v1/query") or r["path"] == "/api/data"]


class KubeApiDouble(DoubleProcess):
    TOKEN = "kube-test-token-77d2"

    def __init__(self, *args, token=TOKEN):
        super().__init__("kube_api_double.py", "--token", token, *args, token=token)

    def write_kubeconfig(self, path):
        return double_process.write_kubeconfig(path, self.url, self.ca_file, self.TOKEN)
