"""Runs a test double of this folder as a child process, for the tests that talk to it over the network.

Every double takes `--port 0`, prints one JSON line with at least "port" once it is listening, logs to stderr and
exits on SIGTERM. A double that also reports "ca_file" serves HTTPS and is spoken to trusting that certificate.
"""
import atexit
import http.client
import json
import os
import select
import signal
import ssl
import subprocess
import sys
import threading
import unittest

# request(token=OWN_TOKEN) sends the token the double was started with; token=None sends none.
OWN_TOKEN = object()

_live = set()


@atexit.register
def _kill_leftovers():
    """A test that failed before stop() must not leave a child running after the test run."""
    for proc in list(_live):
        if proc.poll() is None:
            proc.kill()


def track(proc):
    """Registers a child process (a double, or the adapter in test/integration/adapter_process.py) to be killed
    at interpreter exit if it is still running then; returns it."""
    _live.add(proc)
    return proc


def write_kubeconfig(path, server, ca_file, token):
    """A kubeconfig whose one context reaches `server` (trusting `ca_file`) with a bearer `token`; returns path."""
    with open(path, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: {server}
    certificate-authority: {ca_file}
contexts:
- name: test
  context: {{cluster: test, user: test}}
current-context: test
users:
- name: test
  user:
    token: {token}
""")
    return path


class Response:
    """An answer read in full. `body` is what the caller read: bytes here, text for the adapter's runner;
    json() parses either."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class DoubleProcess:
    """`python3 <script> --port 0 <args>` on a free loopback port. `info` is the line it printed, `port` its
    port, `stderr_lines` its log so far; stop() sends SIGTERM and returns the exit code."""

    def __init__(self, script, *args, token=None, start_timeout=10):
        self.name = os.path.basename(script)
        self.token = token
        self.proc = subprocess.Popen([sys.executable, script, "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        track(self.proc)
        self.stderr_lines = []
        # The double logs every request; drain stderr so the pipe never fills up and blocks it.
        self._drainer = threading.Thread(target=self._drain_stderr, daemon=True)
        self._drainer.start()
        self.info = self._read_info(start_timeout)
        self.port = self.info["port"]
        self.ca_file = self.info.get("ca_file")
        self.tls = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None  # checks 127.0.0.1
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def _read_info(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            self._close_pipes()
            raise RuntimeError(f"{self.name} did not report its port:\n" + "".join(self.stderr_lines))
        return json.loads(line)

    def stop(self, timeout=5):
        """SIGTERM, then the exit code: 0 for a clean exit, -9 when it had to be killed after `timeout` s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._close_pipes()
        return self.proc.returncode

    def _close_pipes(self):
        self.proc.wait(5)
        self._drainer.join(2)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- talking to it -------------------------------------------------------------------------------------
    def connection(self, timeout=5):
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, token=OWN_TOKEN, timeout=5):
        """One request on a fresh connection. A dict or list body is sent as JSON."""
        headers = dict(headers or {})
        token = self.token if token is OWN_TOKEN else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            reply = conn.getresponse()
            return Response(reply.status, dict(reply.getheaders()), reply.read())
        finally:
            conn.close()

    def control(self, method, path, body=None):
        """A request to /_control/<path>, which needs no token."""
        return self.request(method, "/_control/" + path, body, token=None)


class DoubleTestCase(unittest.TestCase):
    """One double per test class, reset before every test to `fixture`, the token it was started with, no faults
    and an empty request log, so that tests cannot leak into each other."""

    start_double = None   # a DoubleProcess subclass, called with no arguments
    fixture = None        # the fixture file every test starts from

    @classmethod
    def setUpClass(cls):
        cls.double = cls.start_double()

    @classmethod
    def tearDownClass(cls):
        cls.double.stop()

    def setUp(self):
        with open(self.fixture, encoding="utf-8") as f:
            self.assertEqual(self.double.control("POST", "fixture", f.read()).status, 200)
        self.double.control("POST", "token", {"token": self.double.token})
        self.double.control("DELETE", "faults")
        self.double.control("DELETE", "requests")
        self.double.control("DELETE", "concurrency")
