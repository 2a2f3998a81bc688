"""image:run: the container image is built from docker/Dockerfile and run with podman.

scripts/build-image.sh builds it (with podman; the base images are made locally when missing), then
the image is run as the Deployment runs it: read-only root filesystem, a tmpfs at /tmp (the
Deployment's emptyDir), and checked for:
- `--version` printing the project VERSION of the top-level CMakeLists.txt;
- the daemon process running as uid/gid 65532 on a read-only root (read from the host's /proc);
- /readyz answered over TLS, and a pushed metric served back through the custom metrics API;
- SIGTERM: /readyz fails during --shutdown-delay, then the container exits 0 within
  --shutdown-delay + --shutdown-grace.

Where podman cannot run (not installed, `podman info` fails) every test is skipped (exit 77), unless
SMA_REQUIRE_IMAGE=1 (scripts/test.sh sets it, so CI fails instead). Python standard library only.
"""
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TAG = os.environ.get("SMA_IMAGE_TAG", "sysdig-metrics-adapter:test")
UID = 65532
# The settings podman needs on CI's machine (no systemd; its hard nofile limit is below podman's
# default of 1048576, so runc cannot set that and the container would not start).
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
RUN = ["run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--read-only", "--tmpfs", "/tmp"]
# Containers carry this label and the test's pid, so a run killed by ctest's timeout is cleaned up
# by the next one.
LABEL = "sma.test=image"
DELAY, GRACE = 1.0, 2.0
# podman's own time to deliver the signal and notice the exit (`podman wait` polls every 250 ms).
PODMAN_SLACK = 2.0
BUILD_TIMEOUT = 3300


def podman(*args, timeout=120, check=True):
    r = subprocess.run(PODMAN + list(args), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("podman %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r


def podman_problem():
    """Why podman cannot build and run the image here, or None."""
    for tool in ("podman", "runc"):
        if shutil.which(tool) is None:
            return "%s is not installed (scripts/install-deps.sh installs it)" % tool
    try:
        r = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False, timeout=60)
    except subprocess.TimeoutExpired:
        return "`podman info` did not answer within 60 s"
    if r.returncode != 0:
        return "`podman info` fails: " + r.stderr.strip()
    return None


def project_version():
    text = (REPO / "CMakeLists.txt").read_text(encoding="utf-8")
    return re.search(r"project\(\s*sysdig-metrics-adapter\s+VERSION\s+([0-9.]+)", text).group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remove_stale_containers():
    """Containers of earlier runs whose test process is gone."""
    r = podman("ps", "-a", "--filter", "label=" + LABEL, "--format", '{{.ID}} {{index .Labels "sma.test.pid"}}',
               check=False)
    for line in r.stdout.split("\n"):
        words = line.split()
        if len(words) == 2 and not Path("/proc", words[1]).exists():
            podman("rm", "-f", words[0], check=False)


def read_status(pid):
    """{field: value} of /proc/<pid>/status."""
    out = {}
    for line in Path("/proc", str(pid), "status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.split()
    return out


def mount_options(pid, mount_point):
    """The per-mount options of a mount point as the process sees it (/proc/<pid>/mountinfo)."""
    options = None
    for line in Path("/proc", str(pid), "mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[4] == mount_point:
            options = fields[5].split(",")  # the last mount on a point is the one in effect
    return options


class Container:
    """One daemon container on the host's network, listening on 127.0.0.1:<port>."""

    def __init__(self, image, *args):
        self.port = free_port()
        self.name = "sma-image-test-%d-%d" % (os.getpid(), self.port)
        podman(*RUN, "-d", "--name", self.name, "--label", LABEL, "--label", "sma.test.pid=%d" % os.getpid(),
               "--network", "host", image,
               "--insecure-allow-anonymous", "--bind-address", "127.0.0.1", "--secure-port", str(self.port), *args)
        atexit.register(self.remove)

    def inspect(self, template):
        return podman("inspect", "--format", template, self.name).stdout.strip()

    def logs(self):
        r = podman("logs", self.name, check=False)
        return (r.stdout + r.stderr)[-6000:]

    def request(self, method, path, body=None):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the daemon's self-signed certificate
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=10)
        try:
            conn.request(method, path, body=body)
            r = conn.getresponse()
            return r.status, r.read().decode("utf-8", "replace"), conn.sock.version()
        finally:
            conn.close()

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.inspect("{{.State.Running}}") != "true":
                raise AssertionError("the container stopped (exit %s):\n%s" % (
                    self.inspect("{{.State.ExitCode}}"), self.logs()))
            try:
                if self.request("GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("not ready within %d s:\n%s" % (timeout, self.logs()))

    def remove(self):
        podman("rm", "-f", "-t", "0", self.name, check=False)


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        problem = podman_problem()
        if problem:
            if os.environ.get("SMA_REQUIRE_IMAGE") == "1":
                raise AssertionError(problem + " (SMA_REQUIRE_IMAGE=1: the image must be built and run here)")
            raise unittest.SkipTest("SKIPPED: " + problem)
        remove_stale_containers()
        cls.image = cls.build()
        cls.daemon = Container(cls.image)
        cls.daemon.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.remove()

    @staticmethod
    def build():
        started = time.time()
        with tempfile.TemporaryFile("w+") as log:
            env = dict(os.environ, CONTAINER_ENGINE="podman")
            r = subprocess.run(["nice", "-n", "10", str(REPO / "scripts" / "build-image.sh"), TAG], stdout=subprocess.PIPE,
                               stderr=log, text=True, env=env, timeout=BUILD_TIMEOUT)
            if r.returncode != 0:
                log.seek(0)
                raise AssertionError("scripts/build-image.sh failed (%d):\n%s" % (
                    r.returncode, "".join(log.readlines()[-80:])))
        image = r.stdout.split()[-1]
        print("built %s (%s) in %.0f s" % (TAG, image[:12], time.time() - started), file=sys.stderr)
        return image

    def test_version_is_the_projects(self):
        r = podman(*RUN, "--rm", self.image, "--version")
        self.assertEqual(r.stdout.strip(), "sysdig-metrics-adapter " + project_version())

    def test_runs_as_65532_on_a_read_only_root(self):
        pid = int(self.daemon.inspect("{{.State.Pid}}"))
        status = read_status(pid)
        argv = Path("/proc", str(pid), "cmdline").read_bytes().split(b"\0")
        self.assertEqual(argv[0], b"/usr/local/bin/sysdig-metrics-adapter")
        self.assertEqual(status["Uid"], [str(UID)] * 4, "real, effective, saved and filesystem uid")
        self.assertEqual(status["Gid"], [str(UID)] * 4)
        self.assertIn("ro", mount_options(pid, "/"))
        self.assertIn("rw", mount_options(pid, "/tmp"))

    def test_readyz_over_tls(self):
        status, body, tls = self.daemon.request("GET", "/readyz")
        self.assertEqual(status, 200, body)
        self.assertIn(tls, ("TLSv1.2", "TLSv1.3"))

    def test_pushed_metric_is_served(self):
        status, body, _ = self.daemon.request(
            "POST", "/write-metrics/namespaces/default/pods/kuard-1/http_requests",
            json.dumps({"value": "2", "labels": {"app": "kuard"}}))
        self.assertEqual(status, 200, body)
        status, body, _ = self.daemon.request(
            "GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app%3Dkuard")
        self.assertEqual(status, 200, body)
        document = json.loads(body)
        self.assertEqual(document["kind"], "MetricValueList")
        self.assertEqual([(i["describedObject"]["name"], i["value"]) for i in document["items"]], [("kuard-1", "2")])

    def test_sigterm_exits_0_within_delay_and_grace(self):
        c = Container(self.image, "--shutdown-delay", "%gs" % DELAY, "--shutdown-grace", "%gs" % GRACE)
        try:
            c.wait_ready()
            started = time.time()
            podman("kill", "--signal", "TERM", c.name)
            # During the delay it still serves, with readiness off.
            answers = []
            while time.time() - started < DELAY and 503 not in answers:
                answers.append(c.request("GET", "/readyz")[0])
                time.sleep(0.05)
            self.assertIn(503, answers, "/readyz during the shutdown delay")
            code = podman("wait", c.name, timeout=60).stdout.strip()
            elapsed = time.time() - started
            print("exited %s, %.2f s after SIGTERM (delay %g s, grace %g s)" % (code, elapsed, DELAY, GRACE),
                  file=sys.stderr)
            self.assertEqual(code, "0", c.logs())
            self.assertGreaterEqual(elapsed, DELAY)
            self.assertLess(elapsed, DELAY + GRACE + PODMAN_SLACK)
        finally:
            c.remove()


def main():
    # On SIGTERM, leave through atexit, which removes the containers. (ctest's timeout uses SIGKILL:
    # the next run removes what that leaves, remove_stale_containers.)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    result = unittest.TextTestRunner(verbosity=2).run(unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules[__name__]))
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun == 0 or len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)


if __name__ == "__main__":
    main()
