"""Starts the real sysdig-metrics-adapter binary on a free loopback port and talks HTTPS to it."""
import http.client
import json
import os
import queue
import ssl
import subprocess
import sys
import threading
import time

BINARY = os.environ.get("SMA_BINARY", os.path.join(os.path.dirname(__file__), "..", "..", "build",
                                                    "sysdig-metrics-adapter"))

# The leftover-process killer and the Response type are shared with the doubles' runner (test/doubles).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "doubles"))
from double_process import Response, track  # noqa: E402

class Adapter:
    """One daemon process. Use as a context manager; stop() sends SIGTERM and waits."""

    def __init__(self, *args, anonymous=True, wait_ready=True, env=None):
        # No shutdown delay unless a test asks for one: every test stops its daemons.
        argv = [BINARY, "--secure-port", "0", "--bind-address", "127.0.0.1", "--shutdown-delay", "0"]
        if anonymous:
            argv.append("--insecure-allow-anonymous")
        argv.extend(args)
        environment = {k: v for k, v in os.environ.items() if k not in ("SDC_ENDPOINT", "SDC_TOKEN", "CLUSTER_NAME")}
        environment.update(env or {})
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        track(self.proc)
        self.log_lines = []
        self._lines = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        self.port = None
        if wait_ready:
            self._wait_listening()

    def _drain(self):
        for line in self.proc.stderr:
            self.log_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_listening(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self._lines.get(timeout=deadline - time.time())
            except queue.Empty:
                break
            if line is None:
                raise RuntimeError("adapter exited early:\n" + "".join(self.log_lines))
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("msg") == "listening":
                self.port = int(event["port"])
                return
        raise RuntimeError("adapter did not start listening:\n" + "".join(self.log_lines))

    def connection(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=10)

    def kubectl_get_raw(self, path, directory):
        """`kubectl get --raw path` against this adapter through a kubeconfig written in `directory`: its
        certificate (self-signed here) is not verified and the token is not checked. The CompletedProcess."""
        kubeconfig = os.path.join(directory, "adapter-kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
clusters: [{{name: a, cluster: {{server: "https://127.0.0.1:{self.port}", insecure-skip-tls-verify: true}}}}]
users: [{{name: u, user: {{token: anonymous}}}}]
contexts: [{{name: c, context: {{cluster: a, user: u}}}}]
current-context: c
""")
        return subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "get", "--raw", path],
                              capture_output=True, text=True, timeout=60)

    def request(self, method, path, body=None, headers=None):
        conn = self.connection()
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, dict(r.getheaders()), r.read().decode("utf-8", "replace"))
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def push(self, path, value):
        """POSTs value as JSON (a str becomes a JSON quantity string) to a write path; raises if refused."""
        r = self.request("POST", path, body=json.dumps(value))
        if r.status != 200:
            raise AssertionError(f"push to {path} answered {r.status}: {r.body}")
        return r

    def stop(self, expect_clean_exit=True):
        """SIGTERM, then wait. A daemon that exits non-zero (a crash, or a sanitizer report in the
        ASan build) fails the test that owned it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        if expect_clean_exit and code != 0:
            time.sleep(0.2)  # let the drain thread collect the last lines
            raise AssertionError(f"adapter exited with {code}:\n" + "".join(self.log_lines[-40:]))
        return code

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_binary(*args, timeout=30, env=None):
    """Runs the binary to completion (flag errors, --help, explain); returns (code, stdout, stderr)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("SDC_ENDPOINT", "SDC_TOKEN", "CLUSTER_NAME")}
    environment.update(env or {})
    p = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout, env=environment)
    return p.returncode, p.stdout, p.stderr
