"""What the benchmark starts and measures with: the adapter, the doubles (timed, see timed_double.py), nginx,
wrk, an HTTPS client, a sync-wave generator, RSS readings and the adapter's /metrics histograms.

Everything listens on 127.0.0.1 only. Every loop here is bounded in count and in time.
"""
import http.client
import json
import mmap
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "integration"))
sys.path.insert(0, os.path.join(ROOT, "test", "doubles"))

import adapter_process  # noqa: E402  (test/integration: starts the real binary)
import double_process  # noqa: E402  (test/doubles: runs a double as a child process)
import tls_material  # noqa: E402  (test/integration: openssl-made certificates)

TIMED_DOUBLE = os.path.join(HERE, "timed_double.py")
WRK_SCRIPT = os.path.join(HERE, "wrk_report.lua")
LOOPBACK = "127.0.0.1"
SYSDIG_TOKEN = "bench-sysdig-token-5e0c"
KUBE_TOKEN = "bench-kube-token-19ab"


class HarnessError(RuntimeError):
    """Something the benchmark needs did not work: the run fails (exit 1)."""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def make_certificate(directory):
    """One self-signed ECDSA P-256 pair for 127.0.0.1, served by the adapter and nginx alike."""
    return tls_material.make_serving_pair(directory)


def client_context(ca_file):
    context = ssl.create_default_context(cafile=ca_file)  # checks the certificate and 127.0.0.1
    return context


# ---------------------------------------------------------------------------------------------------------
# HTTPS client
# ---------------------------------------------------------------------------------------------------------

class Answer:
    def __init__(self, status, headers, body, first_byte_s, total_s):
        self.status = status
        self.headers = headers
        self.body = body
        self.first_byte_s = first_byte_s   # request sent .. status line and headers read
        self.total_s = total_s             # request sent .. last body byte read

    def json(self):
        return json.loads(self.body)


class Client:
    """One keep-alive HTTPS connection to 127.0.0.1:port; reconnects (at most once per request) if the
    server closed it."""

    def __init__(self, port, context, timeout=30):
        self.port = port
        self.context = context
        self.timeout = timeout
        self.conn = None

    def _connect(self):
        self.close()
        self.conn = http.client.HTTPSConnection(LOOPBACK, self.port, context=self.context, timeout=self.timeout)
        self.conn.connect()

    def get(self, path, headers=None):
        for attempt in (1, 2):
            if self.conn is None:
                self._connect()
            try:
                started = time.perf_counter()
                self.conn.request("GET", path, headers=headers or {})
                reply = self.conn.getresponse()
                first = time.perf_counter()
                body = reply.read()
                done = time.perf_counter()
                return Answer(reply.status, dict(reply.getheaders()), body, first - started, done - started)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def get_once(port, context, path, timeout=10):
    client = Client(port, context, timeout)
    try:
        return client.get(path)
    finally:
        client.close()


def poll_until_ok(port, context, path, deadline, pause_s=0.001):
    """Fresh connections until one answers 200; returns the moment it did (perf_counter) or None."""
    while time.perf_counter() < deadline:
        try:
            answer = get_once(port, context, path, timeout=2)
            if answer.status == 200:
                return time.perf_counter()
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(pause_s)
    return None


def sanitizer_reason(binary):
    """Why `binary` counts as a sanitizer build (SMA_SANITIZE in the environment, or the runtime in the binary),
    or None. Its timings and memory say nothing about the product."""
    flag = os.environ.get("SMA_SANITIZE", "").strip().upper()
    if flag in ("1", "ON", "TRUE", "YES", "Y"):
        return "SMA_SANITIZE is set: a sanitizer build"
    try:
        with open(binary, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for marker in (b"__asan_init", b"__tsan_init", b"__msan_init"):
                if data.find(marker) >= 0:
                    return f"{binary} is a sanitizer build ({marker.decode()})"
    except (OSError, ValueError):
        pass
    return None


# ---------------------------------------------------------------------------------------------------------
# Doubles
# ---------------------------------------------------------------------------------------------------------

class TimedDouble(double_process.DoubleProcess):
    """A double run through timed_double.py: the double unchanged, plus /_control/timings."""

    def __init__(self, kind, fixture, token, *flags, start_timeout=120):
        super().__init__(TIMED_DOUBLE, "--double", kind, "--token", token, "--fixture", fixture, *flags,
                         token=token, start_timeout=start_timeout)
        self.kind = kind

    def control_json(self, method, path, body=None):
        reply = self.control(method, path, body)
        if reply.status >= 300:
            raise HarnessError(f"{self.kind} double: {method} /_control/{path} answered {reply.status}: "
                               f"{reply.body[:200]!r}")
        return json.loads(reply.body) if reply.body else None

    def set_latency(self, latency_ms):
        self.control_json("DELETE", "faults")
        if latency_ms > 0:
            self.control_json("POST", "faults", {"latency_ms": latency_ms})

    def query_calls(self):
        """Recorded requests for values (paths ending /api/v1/query), as the brief counts backend calls."""
        return sum(1 for r in self.control_json("GET", "requests") if r["path"].endswith("/api/v1/query"))

    def clear_requests(self):
        self.control_json("DELETE", "requests")

    def concurrency(self, reset=False):
        """{"in_flight", "peak"}: API requests being answered, and the most at once since the last reset."""
        return self.control_json("DELETE" if reset else "GET", "concurrency")

    def clear_timings(self):
        self.control_json("DELETE", "timings")

    def timings(self):
        reply = self.control_json("GET", "timings")
        if reply["in_progress"]:
            raise HarnessError(f"{self.kind} double still has {reply['in_progress']} request(s) in progress")
        return reply["timings"]

    def write_kubeconfig(self, path):
        return double_process.write_kubeconfig(path, self.url, self.ca_file, self.token)


# ---------------------------------------------------------------------------------------------------------
# The adapter
# ---------------------------------------------------------------------------------------------------------

def adapter_help(binary):
    return subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30).stdout


def adapter_version(binary):
    p = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    return (p.stdout or p.stderr).strip().splitlines()[0] if (p.stdout or p.stderr).strip() else "?"


def adapter_env(sysdig):
    return {"SDC_ENDPOINT": sysdig.url + "/api/", "SDC_TOKEN": sysdig.token, "CLUSTER_NAME": "bench"}


def start_adapter(binary, cert, key, sysdig, *flags):
    """The adapter on a free loopback port (the integration tests' runner), serving `cert`."""
    adapter_process.BINARY = binary
    try:
        return adapter_process.Adapter("--tls-cert-file", cert, "--tls-private-key-file", key, *flags,
                                       env=adapter_env(sysdig))
    except RuntimeError as e:
        raise HarnessError(str(e)) from e


def stop_adapter(adapter):
    try:
        adapter.stop()
    except AssertionError as e:
        raise HarnessError(str(e)) from e


def adapter_argv(binary, cert, key, port):
    return [binary, "--secure-port", str(port), "--bind-address", LOOPBACK, "--insecure-allow-anonymous",
            "--tls-cert-file", cert, "--tls-private-key-file", key]


# ---------------------------------------------------------------------------------------------------------
# nginx
# ---------------------------------------------------------------------------------------------------------

NGINX_CONF = """# Written by bench/run_benchmark.py: nginx as the reference server for the same bytes, same certificate.
worker_processes auto;
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    server_tokens off;
    etag off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    types {{ }}
    default_type application/json;
    # Keep-alive as the adapter does it: connections stay open (idle 90 s) for any number of requests.
    keepalive_timeout 90s;
    keepalive_requests 100000000;
    server {{
        listen {address}:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /readyz {{ default_type text/plain; return 200 "ok\\n"; }}
{locations}
    }}
}}
"""


class Nginx:
    """nginx in the foreground with its own prefix, config and files. Each of `paths` (exact request paths) serves
    the bytes last given to put() for it, as application/json (404 before that)."""

    def __init__(self, prefix, cert, key, paths, port=None):
        self.prefix = prefix
        self.port = port or free_port()
        self.files = {}
        for sub in ("www", "tmp"):
            os.makedirs(os.path.join(prefix, sub), exist_ok=True)
        locations = []
        for i, path in enumerate(paths):
            self.files[path] = os.path.join(prefix, "www", f"file{i}.json")
            locations.append(f"        location = {path} {{ alias {self.files[path]}; }}")
        # Workers run as an unprivileged user when nginx starts as root: they must be able to read the files.
        for directory in (prefix, os.path.join(prefix, "www")):
            os.chmod(directory, 0o755)
        self.conf = os.path.join(prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(NGINX_CONF.format(prefix=prefix, address=LOOPBACK, port=self.port, cert=cert, key=key,
                                      locations="\n".join(locations)))
        self.proc = None

    def put(self, path, body):
        with open(self.files[path], "wb") as f:
            f.write(body)
        os.chmod(self.files[path], 0o644)

    def argv(self):
        return ["nginx", "-p", self.prefix, "-c", self.conf, "-e", os.path.join(self.prefix, "error.log")]

    def start(self, context, timeout=20):
        """Starts it and waits for the first 200 from /readyz; returns the seconds that took."""
        started = time.perf_counter()
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ok = poll_until_ok(self.port, context, "/readyz", started + timeout)
        if ok is None:
            self.stop()
            raise HarnessError("nginx did not answer /readyz:\n" + self.error_log())
        return ok - started

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "error.log"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def pids(self):
        """The master and its workers."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid] + children_of(self.proc.pid)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)   # graceful: workers finish and exit, then the master
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None


def nginx_version():
    p = subprocess.run(["nginx", "-v"], capture_output=True, text=True, timeout=10)
    return (p.stderr or p.stdout).strip().replace("nginx version: nginx/", "")


# ---------------------------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------------------------

class WrkResult:
    def __init__(self, report, argv):
        self.argv = argv
        self.requests = report["requests"]
        self.seconds = report["duration_us"] / 1e6
        self.errors = {k: report[k] for k in ("connect", "read", "write", "status", "timeout")}
        self.ok_requests = self.requests - self.errors["status"]
        self.ok_per_second = self.ok_requests / self.seconds if self.seconds else 0.0
        self.per_second = self.requests / self.seconds if self.seconds else 0.0
        self.latency_ms = {q: report[f"p{q}_us"] / 1000 for q in ("50", "90", "99", "999")}
        self.latency_ms["max"] = report["max_us"] / 1000

    def error_text(self):
        bad = {k: v for k, v in self.errors.items() if v}
        return ", ".join(f"{v} {k}" for k, v in bad.items()) if bad else ""


def run_wrk(url, threads, connections, seconds, delay_ms=0, timeout_s=5):
    """wrk with wrk_report.lua, which prints its summary as one JSON line; `delay_ms` paces every
    connection (one request, then that pause) for a fixed-rate run."""
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", f"{timeout_s}s",
            "--latency", "-s", WRK_SCRIPT, url]
    env = dict(os.environ, WRK_DELAY_MS=str(delay_ms))
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, env=env)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"wrk did not finish: {' '.join(argv)}") from e
    for line in p.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return WrkResult(json.loads(line[len("BENCH_JSON "):]), argv)
    raise HarnessError(f"wrk gave no report (exit {p.returncode}): {' '.join(argv)}\n{p.stdout}\n{p.stderr}")


def wrk_version():
    p = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    return (p.stdout + p.stderr).strip().splitlines()[0].split(" [")[0]


# ---------------------------------------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------------------------------------

def proc_status_kib(pid, field):
    """A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def rss_split(pid):
    """VmRSS as anonymous, file-backed and shared-memory pages, for the notes."""
    parts = {k: proc_status_kib(pid, k) for k in ("RssAnon", "RssFile", "RssShmem")}
    return ", ".join(f"{k[3:].lower()} {mb(v):.1f} MB" for k, v in parts.items() if v is not None)


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def children_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; the parent pid is the 2nd field after it.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry))
    return sorted(found)


def rss_kib(pids):
    values = [proc_status_kib(pid, "VmRSS") for pid in pids]
    return sum(v for v in values if v is not None)


class BackgroundSampler:
    """Runs self._run in a thread between __enter__ and __exit__; _run returns once self._stop is set. __exit__
    waits for it at most `join_s`."""

    join_s = 5

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(self.join_s)


class RssSampler(BackgroundSampler):
    """Samples the summed VmRSS of `pids()` every `interval_s` in a thread until stop(); keeps the maximum."""

    def __init__(self, pids, interval_s=0.002, max_seconds=600):
        super().__init__()
        self.pids = pids
        self.interval_s = interval_s
        self.max_seconds = max_seconds
        self.max_kib = 0
        self.samples = 0

    def _run(self):
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            value = rss_kib(self.pids())
            self.max_kib = max(self.max_kib, value)
            self.samples += 1
            self._stop.wait(self.interval_s)


def mb(kib):
    """KiB (as /proc reports them) in MB of 10^6 bytes."""
    return kib * 1024 / 1e6


# ---------------------------------------------------------------------------------------------------------
# /metrics: Prometheus text format, histograms only
# ---------------------------------------------------------------------------------------------------------

SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def sample_lines(text):
    """(name, [(label, value)], number) for each sample line of a Prometheus text page; comments and lines that
    are not samples are skipped."""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE_RE.match(line)
        if not match:
            continue
        name, labels_text, value = match.groups()
        try:
            number = float(value)
        except ValueError:
            continue
        yield name, LABEL_RE.findall(labels_text or ""), number


def parse_histograms(text):
    """{(name, frozenset(labels without le)): {"buckets": {le: count}, "sum": s, "count": c}}"""
    histograms = {}
    for name, label_pairs, number in sample_lines(text):
        labels = dict(label_pairs)
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix):
                base = name[:-len(suffix)]
                le = labels.pop("le", None)
                entry = histograms.setdefault((base, frozenset(labels.items())),
                                              {"buckets": {}, "sum": 0.0, "count": 0.0})
                if suffix == "_bucket" and le is not None:
                    entry["buckets"][float(le)] = number
                elif suffix == "_sum":
                    entry["sum"] = number
                elif suffix == "_count":
                    entry["count"] = number
                break
    return {k: v for k, v in histograms.items() if v["buckets"]}


def histogram_delta(after, before):
    if before is None:
        return after
    return {"buckets": {le: c - before["buckets"].get(le, 0) for le, c in after["buckets"].items()},
            "sum": after["sum"] - before["sum"], "count": after["count"] - before["count"]}


def histogram_quantile(q, histogram):
    """Prometheus' histogram_quantile: linear within the bucket; (value, (lower, upper) bucket bounds)."""
    buckets = sorted(histogram["buckets"].items())
    total = buckets[-1][1] if buckets else 0
    if total <= 0:
        return None, None
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                finite = [b for b, _ in buckets if b != float("inf")]
                return (finite[-1] if finite else None), (lower_bound, bound)
            if count == lower_count:
                return bound, (lower_bound, bound)
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count), \
                (lower_bound, bound)
        lower_bound, lower_count = bound, count
    return None, None


def merged(histograms):
    """Sums histograms with the same buckets (one histogram over several label values)."""
    out = {"buckets": {}, "sum": 0.0, "count": 0.0}
    for h in histograms:
        for le, c in h["buckets"].items():
            out["buckets"][le] = out["buckets"].get(le, 0) + c
        out["sum"] += h["sum"]
        out["count"] += h["count"]
    return out


def parse_samples(text):
    """Every sample of a Prometheus text page: {(name, frozenset(labels)): value} (counters and gauges)."""
    return {(name, frozenset(label_pairs)): number for name, label_pairs, number in sample_lines(text)}


def sample_sum(samples, name, **labels):
    """The sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, l), v in samples.items() if n == name and wanted <= set(l))


# ---------------------------------------------------------------------------------------------------------
# Threads, descriptors and connections of a process (/proc)
# ---------------------------------------------------------------------------------------------------------

def thread_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def socket_inodes(pid):
    inodes = set()
    try:
        entries = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for entry in entries:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{entry}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def connections_to(pid, port):
    """Established TCP connections of process `pid` whose remote port is `port` (its sockets' inodes, looked up in
    /proc/<pid>/net/tcp and tcp6)."""
    mine = socket_inodes(pid)
    count = 0
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                next(f)
                for line in f:
                    fields = line.split()
                    # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                    if len(fields) > 9 and fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port \
                            and fields[9] in mine:
                        count += 1
        except (OSError, StopIteration, ValueError):
            continue
    return count


def cpu_seconds(pid):
    """User plus system CPU time the process used so far, in seconds; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ProcSampler(BackgroundSampler):
    """Samples a process in a thread until stopped: VmRSS every `rss_interval_s`; threads, open descriptors and
    (with `port`) its connections to that port every `interval_s`. Keeps the highest of each and a time series
    of the slower readings, and when it started with the process's CPU time then (for CPU used since)."""

    def __init__(self, pid, port=None, interval_s=0.5, rss_interval_s=0.02, max_seconds=1800):
        super().__init__()
        self.pid = pid
        self.port = port
        self.interval_s = interval_s
        self.rss_interval_s = rss_interval_s
        self.max_seconds = max_seconds
        self.max = {"rss_kib": 0, "threads": 0, "fds": 0, "connections": 0}
        self.series = []    # (seconds since start, threads, fds, connections, rss_kib)
        self.started_at = None     # time.monotonic() at start
        self.cpu_at_start = None   # cpu_seconds(pid) at start

    def _run(self):
        started = time.monotonic()
        next_slow = started
        while not self._stop.is_set() and time.monotonic() - started < self.max_seconds:
            rss = proc_status_kib(self.pid, "VmRSS")
            if rss is None:
                return
            self.max["rss_kib"] = max(self.max["rss_kib"], rss)
            now = time.monotonic()
            if now >= next_slow:
                reading = {"threads": thread_count(self.pid), "fds": fd_count(self.pid),
                           "connections": connections_to(self.pid, self.port) if self.port else 0}
                for key, value in reading.items():
                    if value is not None:
                        self.max[key] = max(self.max[key], value)
                self.series.append((round(now - started, 2), reading["threads"], reading["fds"],
                                    reading["connections"], rss))
                next_slow = now + self.interval_s
            self._stop.wait(self.rss_interval_s)

    def __enter__(self):
        self.started_at, self.cpu_at_start = time.monotonic(), cpu_seconds(self.pid)
        return super().__enter__()

    def last(self):
        return self.series[-1] if self.series else None
