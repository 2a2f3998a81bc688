"""Starts the test doubles of test/doubles as subprocesses and drives their control APIs."""
import json
import os
import sys
import urllib.request

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


class SysdigDouble(DoubleProcess):
    TOKEN = "sysdig-test-token-4f1c9a"

    def __init__(self, *args, token=TOKEN):
        super().__init__("sysdig_double.py", "--token", token, *args, token=token)

    def control(self, method, path, body=None):
        """The parsed JSON answer; a refused call raises urllib's HTTPError, failing the test at once."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_control/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
            return json.loads(text) if text else None

    def inject(self, **fault):
        self.control("POST", "faults", fault)

    def clear_faults(self):
        self.control("DELETE", "faults")

    def requests(self):
        return self.control("GET", "requests")

    def clear_requests(self):
        self.control("DELETE", "requests")

    def query_requests(self):
        """Recorded requests that asked for values (not discovery)."""
        return [r for r in self.requests() if r["path"].endswith("/api/v1/query") or r["path"] == "/api/data"]


class KubeApiDouble(DoubleProcess):
    TOKEN = "kube-test-token-77d2"

    def __init__(self, *args, token=TOKEN):
        super().__init__("kube_api_double.py", "--token", token, *args, token=token)

    def write_kubeconfig(self, path):
        with open(path, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: double
  cluster:
    server: {self.url}
    certificate-authority: {self.ca_file}
contexts:
- name: double
  context: {{cluster: double, user: adapter}}
current-context: double
users:
- name: adapter
  user:
    token: {self.TOKEN}
""")
        return path
