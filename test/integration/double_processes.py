"""Starts the test doubles of test/doubles as subprocesses and drives their control APIs."""
import atexit
import json
import os
import subprocess
import sys
import threading
import urllib.request

DOUBLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "doubles")


_live = set()


@atexit.register
def _kill_leftovers():
    for proc in list(_live):
        if proc.poll() is None:
            proc.kill()


class DoubleProcess:
    """A double started as `python3 <script> --port 0 ...` that prints one JSON line when listening."""

    def __init__(self, script, *args):
        self.proc = subprocess.Popen([sys.executable, os.path.join(DOUBLES, script), "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _live.add(self.proc)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{script} did not start: " + self.proc.stderr.read())
        self.info = json.loads(line)
        self.port = self.info["port"]
        self.stderr_lines = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class SysdigDouble(DoubleProcess):
    TOKEN = "sysdig-test-token-4f1c9a"

    def __init__(self, *args, token=TOKEN):
        super().__init__("sysdig_double.py", "--token", token, *args)
        self.url = f"http://127.0.0.1:{self.port}"

    def control(self, method, path, body=None):
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
        super().__init__("kube_api_double.py", "--token", token, *args)
        self.url = f"https://127.0.0.1:{self.port}"
        self.ca_file = self.info["ca_file"]

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
