"""The rows of issue 11 (big clusters) for bench/run_benchmark.py: many namespaces on fixed threads (7, 7n, 7c), backend
calls per metric instead of per HPA (7b), one namespace of 100,000 pods (8), many HPAs on metrics of their own (9),
and 32 connections reading a 10,000-pod answer (4c). docs/benchmarks.md says what each measures.

Every row reports the adapter's threads (/proc/<pid>/task), open descriptors (/proc/<pid>/fd), connections to the
Kubernetes API double (its sockets in /proc/<pid>/net/tcp) and the pod cache's watches (/metrics), RSS, latency and
backend calls. The load comes from bench/hpa_load.py: requests sent when an HPA would send them, not as fast as
possible.
"""
import datetime
import json
import math
import os
import statistics
import time
import urllib.parse

import fixtures
import harness
import hpa_load
from harness import HarnessError, mb

V2 = "/apis/custom.metrics.k8s.io/v1beta2"
HPA_PERIOD_S = 15          # the HPA controller's sync period
POOL_CONNECTIONS = 8       # rows 7 and 7b: the aggregator's connections carrying the HPAs' requests
REQUEST_TIMEOUT_S = 10     # the adapter's --request-timeout (default); row 9 judges answers against it
DEADLINE_SLACK_S = 0.5     # row 9: loopback, TLS and this client's own scheduling on a loaded 2-core machine
REFRESH_INTERVAL_S = 10    # --refresh-interval (default)
QUERY_OFFSET_S = 20        # --query-offset (default)
BOOKMARK_INTERVAL_S = 60   # the Kubernetes double's bookmarks, as the real API server sends them
METRICS_POLL_S = 2         # /metrics and the Sysdig double's request count, sampled during a row

# Per mode: the sizes and lengths of these rows. Short mode runs smaller versions (judged "info": the goals are
# set for the full sizes); rows 7n, 7c and 8 are full only.
SCALE = {
    "short": {"namespaces": 100, "many_s": 16, "services": 100, "services_s": 26, "spread_hpas": 200,
              "spread_s": 16, "concurrent_s": 5, "namespace_scope_s": 0, "huge_pods": 0, "huge_requests": 0},
    "full": {"namespaces": fixtures.MANY_NAMESPACES, "many_s": 120, "services": fixtures.MANY_NAMESPACES,
             "services_s": 90, "spread_hpas": fixtures.SPREAD_HPAS, "spread_s": 30, "concurrent_s": 10,
             "namespace_scope_s": 30, "huge_pods": fixtures.HUGE_POD_COUNT, "huge_requests": 10},
}


def pods_path(namespace, selector=fixtures.MANY_SELECTOR, metric=fixtures.METRIC):
    return f"{V2}/namespaces/{namespace}/pods/*/{metric}?labelSelector={urllib.parse.quote(selector, safe='')}"


def service_path(namespace, service, metric=fixtures.METRIC):
    return f"{V2}/namespaces/{namespace}/services/{service}/{metric}"


def ms(seconds, digits=1):
    return "n/a" if seconds is None else f"{seconds * 1000:.{digits}f} ms"


def p(values, q):
    return hpa_load.percentile(values, q)


def statuses(results):
    """"200: 7999, 503: 1 (the first one's message)" for a list of hpa_load results."""
    counts = {}
    for r in results:
        key = str(r.status) if r.status else r.error or "error"
        counts[key] = counts.get(key, 0) + 1
    text = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    failed = next((r for r in results if r.status not in (0, 200)), None)
    if failed is not None:
        try:
            message = json.loads(failed.body).get("message", "")
        except ValueError:
            message = failed.body[:200].decode("utf-8", "replace")
        text += f" (the first {failed.status}: {message[:300]})"
    return text


def handed_off(poller):
    """How many requests the adapter handed from its I/O thread to a worker during the row (its counter's change
    between the poller's first and last reading), or "n/a" when the binary has no such counter."""
    readings = [r.get("handed_off") for _, r, _ in poller.series if r.get("handed_off") is not None]
    if len(readings) < 2 or max(readings) == 0:
        return "n/a"
    return f"{readings[-1] - readings[0]:.0f}"


class MetricsPoller(harness.BackgroundSampler):
    """Scrapes the adapter's /metrics (and counts the Sysdig double's value queries) every METRICS_POLL_S in a
    thread: the pod cache's gauges and the backend slot waits over time, the highest seen."""

    join_s = 30

    def __init__(self, scrape, sysdig=None, interval_s=METRICS_POLL_S):
        super().__init__()
        self.scrape = scrape
        self.sysdig = sysdig
        self.interval_s = interval_s
        self.series = []     # (seconds, {name: value}, sysdig query calls so far)
        self.max = {}
        self.errors = 0

    WATCHED = (("namespaces", "sysdig_metrics_adapter_pod_cache", {"value": "namespaces"}),
               ("pods", "sysdig_metrics_adapter_pod_cache", {"value": "pods"}),
               ("watches_open", "sysdig_metrics_adapter_pod_cache", {"value": "watches_open"}),
               ("cluster_wide", "sysdig_metrics_adapter_pod_cache", {"value": "cluster_wide"}),
               ("waiting_for_slot", "sysdig_metrics_adapter_backend_calls_waiting_for_slot", {}),
               ("slot_timeouts", "sysdig_metrics_adapter_backend_slot_timeouts_total", {}),
               ("in_flight", "sysdig_metrics_adapter_requests_in_flight", {}),
               ("handed_off", "sysdig_metrics_adapter_requests_handed_off_total", {}))

    def _run(self):
        started = time.monotonic()
        while not self._stop.is_set():
            reading = {}
            try:
                samples = self.scrape()
                for key, name, labels in self.WATCHED:
                    reading[key] = harness.sample_sum(samples, name, **labels)
                    self.max[key] = max(self.max.get(key, 0), reading[key])
                calls = self.sysdig.query_calls() if self.sysdig else None
            except (OSError, HarnessError, ValueError):
                self.errors += 1
                calls = None
            self.series.append((round(time.monotonic() - started, 1), reading, calls))
            self._stop.wait(self.interval_s)

    def first_time(self, key, value):
        """Seconds into the row when `key` first read `value` or more; None if never."""
        return next((t for t, reading, _ in self.series if reading.get(key, 0) >= value), None)


class ScaleRows:
    def __init__(self, bench, mode):
        self.b = bench
        self.mode = mode
        self.size = SCALE[mode]
        self.full = mode == "full"
        self.dir = os.path.join(bench.tmp, "scale-fixtures")
        os.makedirs(self.dir, exist_ok=True)

    def say(self, message):
        self.b.say(message)

    # -- plumbing --------------------------------------------------------------------------------------------
    def scrape_samples(self, port, context=None, plain=False):
        if plain:
            import http.client
            conn = http.client.HTTPConnection(harness.LOOPBACK, port, timeout=10)
            try:
                conn.request("GET", "/metrics")
                reply = conn.getresponse()
                body, status = reply.read(), reply.status
            finally:
                conn.close()
        else:
            answer = harness.get_once(port, self.b.context, "/metrics", timeout=30)
            body, status = answer.body, answer.status
        if status != 200:
            raise HarnessError(f"/metrics answered {status}")
        return harness.parse_samples(body.decode("utf-8", "replace"))

    def scrape_histograms(self, port):
        answer = harness.get_once(port, self.b.context, "/metrics", timeout=30)
        if answer.status != 200:
            raise HarnessError(f"/metrics answered {answer.status}")
        return harness.parse_histograms(answer.body.decode("utf-8", "replace"))

    def resources(self, sampler, pid, watches=None):
        """The standard note on threads, descriptors, API connections and RSS."""
        last = sampler.last() or (0, None, None, None, 0)
        hwm = harness.proc_status_kib(pid, "VmHWM")
        text = (f"adapter: threads max {sampler.max['threads']} (end {last[1]}), open descriptors max "
                f"{sampler.max['fds']} (end {last[2]}), connections to the Kubernetes API double max "
                f"{sampler.max['connections']} (end {last[3]})")
        if watches is not None:
            text += f", pod cache watches_open max {watches:.0f}"
        text += (f"; RSS max {mb(sampler.max['rss_kib']):.1f} MB sampled every {sampler.rss_interval_s * 1000:g} ms "
                 f"(VmHWM {mb(hwm or 0):.1f} MB, end {mb(last[4] or 0):.1f} MB)")
        cpu = harness.cpu_seconds(pid)
        if cpu is not None and sampler.cpu_at_start is not None:
            # CPU used since the sampler started, as a share of one core (the sizing table's requests).
            used, seconds = cpu - sampler.cpu_at_start, time.monotonic() - sampler.started_at
            text += f"; CPU {used:.1f} s in {seconds:.0f} s ({used / seconds * 1000:.0f} millicores)"
        return text

    def adapter_histogram(self, before, after, kind):
        key = next((k for k in (after or {}) if k[0] == "sysdig_metrics_adapter_request_duration_seconds"
                    and dict(k[1]).get("kind") == kind), None)
        if key is None:
            return None
        hist = harness.histogram_delta(after[key], (before or {}).get(key))
        return {q: harness.histogram_quantile(q / 100, hist)[0] for q in (50, 99)} | {"count": hist["count"]}

    def write_many_fixtures(self, namespaces):
        if getattr(self, "_many", None) == namespaces:
            return self._many_paths
        self.say(f"scale rows: fixtures, {namespaces:,} namespaces x {fixtures.PODS_PER_NAMESPACE} pods")
        kube = fixtures.write_pod_list(self.dir, "many_kube", fixtures.many_kube_pods(namespaces))
        sysdig = fixtures.write(self.dir, "many_sysdig", fixtures.many_sysdig(namespaces))
        self._many, self._many_paths = namespaces, (kube, sysdig)
        return kube, sysdig

    # -- rows 7, 7n: pods/* HPAs in many namespaces --------------------------------------------------------------
    def run_many_namespaces(self):
        n = self.size["namespaces"]
        kube_fixture, sysdig_fixture = self.write_many_fixtures(n)
        kube = self.b.start_double("kube", kube_fixture, harness.KUBE_TOKEN,
                                   "--bookmark-interval", str(BOOKMARK_INTERVAL_S))
        sysdig = self.b.start_double("sysdig", sysdig_fixture, harness.SYSDIG_TOKEN)
        sysdig.set_latency(self.b.latency_ms)
        kubeconfig = kube.write_kubeconfig(os.path.join(self.b.tmp, "kubeconfig-many"))
        try:
            self.row_pods_hpas("7", kube, sysdig, kubeconfig, n, self.size["many_s"])
            if self.size["namespace_scope_s"]:
                self.row_pods_hpas("7n", kube, sysdig, kubeconfig, n, self.size["namespace_scope_s"],
                                   "--pod-watch-scope=namespace")
                self.row_pods_hpas("7c", kube, sysdig, kubeconfig, n, self.size["namespace_scope_s"],
                                   "--pod-watch-scope=cluster")
            else:
                for key in ("7n", "7c"):
                    self.b.rows[key].not_available("full mode only")
            self.row_services("7b", sysdig, self.size["services"], self.size["services_s"])
        finally:
            kube.stop()
            sysdig.stop()

    def row_pods_hpas(self, key, kube, sysdig, kubeconfig, namespaces, seconds, *flags):
        row = self.b.rows[key]
        if key == "7":
            row.name = f"{namespaces:,} namespaces x 20 pods, a pods/* HPA in each, {seconds} s"
        self.say(f"row {key}: adapter{' ' + ' '.join(flags) if flags else ''}; {namespaces:,} pods/* HPAs, every "
                 f"{HPA_PERIOD_S} s, {seconds} s")
        adapter = self.b.start_adapter(sysdig, "--kubeconfig", kubeconfig, *flags)
        pid = adapter.proc.pid
        self.b.get_ok(adapter.port, "/readyz")
        time.sleep(1)
        idle = (harness.thread_count(pid), harness.fd_count(pid), harness.proc_status_kib(pid, "VmRSS"))
        schedule = []
        for sync in range(math.ceil(seconds / HPA_PERIOD_S)):
            for i in range(namespaces):
                at = i * HPA_PERIOD_S / namespaces + sync * HPA_PERIOD_S
                if at < seconds:
                    schedule.append((at, pods_path(fixtures.many_namespace(i)), (i, sync)))
        sysdig.clear_requests()
        kube.clear_requests()
        kube.clear_timings()
        before = self.scrape_histograms(adapter.port)
        with harness.ProcSampler(pid, kube.port) as sampler, \
                MetricsPoller(lambda: self.scrape_samples(adapter.port), sysdig) as poller:
            results, _ = hpa_load.run_schedule(adapter.port, self.b.context, schedule, POOL_CONNECTIONS,
                                               timeout_s=30)
            time.sleep(0.5)
        after = self.scrape_histograms(adapter.port)
        calls = sysdig.query_calls()
        lists = [r for r in kube.control_json("GET", "requests") if not r["query"].get("watch")]
        list_times = kube.timings()
        cluster_list_s = sum(t["seconds"] for t in list_times if t["path"] == "/api/v1/pods")
        namespace_list_s = [t["seconds"] for t in list_times if t["path"] != "/api/v1/pods"]
        resources = self.resources(sampler, pid, poller.max.get("watches_open"))
        cluster_wide_at = poller.first_time("cluster_wide", 1)
        end = self.scrape_samples(adapter.port)
        harness.stop_adapter(adapter)

        ok = [r for r in results if r.status == 200]
        bad = [r for r in results if r.status != 200]
        first = [r.seconds for r in ok if r.tag[1] == 0]
        later = [r.seconds for r in ok if r.tag[1] > 0]
        everything = [r.seconds for r in ok]
        late = [r.late_s for r in results]
        own = self.adapter_histogram(before, after, "selector")
        per_request = calls / len(results) if results else 0
        threads, rss = sampler.max["threads"], mb(sampler.max["rss_kib"])
        goals = [("threads", threads <= 16), ("RSS", rss <= 60),
                 ("first p99", p(first, 99) is not None and p(first, 99) <= 0.050),
                 ("p99", p(later, 99) is not None and p(later, 99) <= 0.005),
                 ("calls/req", per_request <= 0.05), ("non-200", not bad)]
        row.measured = (f"threads {threads}, RSS {rss:.1f} MB, first p99 {ms(p(first, 99))}, p99 "
                        f"{ms(p(later, 99), 2)}, {per_request:.3f} calls/req")
        row.reference = f"idle: {idle[0]} threads, {mb(idle[2] or 0):.1f} MB"
        if key == "7" and self.full:
            row.judge(all(ok_ for _, ok_ in goals))
            if row.result == "MISS":
                row.result = "MISS (" + ", ".join(name for name, ok_ in goals if not ok_) + ")"
        else:
            row.result = "info"
        row.notes.append(
            f"{namespaces:,} namespaces x {fixtures.PODS_PER_NAMESPACE} pods (~{self.b.fixtures['pod_bytes']:,} bytes "
            f"of JSON each), one pods/* HPA per namespace asking every {HPA_PERIOD_S} s (first asks spread over the "
            f"first {HPA_PERIOD_S} s: {namespaces / HPA_PERIOD_S:.0f} req/s), {seconds} s, {len(results):,} requests "
            f"over {POOL_CONNECTIONS} keep-alive connections, {self.b.latency_ms} ms Sysdig latency"
            + (f", {' '.join(flags)}" if flags else ", default flags")
            + ("" if key != "7" or self.full else "; short mode: a smaller run, goals judged in --full only"))
        row.notes.append(
            f"latency (client side: request written .. answer read, TLS over loopback): first request in a "
            f"namespace p50 {ms(p(first, 50))} / p99 {ms(p(first, 99))} / max {ms(max(first, default=None))} "
            f"({len(first)}); later p50 {ms(p(later, 50), 2)} / p99 {ms(p(later, 99), 2)} / max "
            f"{ms(max(later, default=None))} ({len(later)}); all p99 {ms(p(everything, 99), 2)}; handed off to a "
            f"worker: {handed_off(poller)}; adapter histogram "
            f"(kind selector) p50 {ms(own and own[50], 3)} / p99 {ms(own and own[99], 3)}; requests sent late "
            f"(every connection busy) p99 {ms(p(late, 99))}; answers {statuses(results)}")
        row.notes.append(
            f"backend: {calls} Sysdig value queries for {len(results):,} requests; Kubernetes API: {len(lists)} "
            f"list pages ({len(namespace_list_s)} of a namespace, the double taking p50 {ms(p(namespace_list_s, 50))} / "
            f"max {ms(max(namespace_list_s, default=None))} each; {len(list_times) - len(namespace_list_s)} of the "
            f"cluster, {cluster_list_s:.1f} s in all), pod cache at the end: {harness.sample_sum(end, 'sysdig_metrics_adapter_pod_cache', value='namespaces'):.0f} "
            f"namespaces, {harness.sample_sum(end, 'sysdig_metrics_adapter_pod_cache', value='pods'):.0f} pods, "
            f"cluster_wide {harness.sample_sum(end, 'sysdig_metrics_adapter_pod_cache', value='cluster_wide'):.0f}"
            + (f" (from {cluster_wide_at:.0f} s into the row)" if cluster_wide_at is not None else "")
            + f"; watch problems {harness.sample_sum(end, 'sysdig_metrics_adapter_pod_watch_problems_total'):.0f}")
        row.notes.append(resources)
        self.b.data.setdefault("scale", {})[key] = {
            "namespaces": namespaces, "seconds": seconds, "flags": list(flags), "requests": len(results),
            "non_200": len(bad), "backend_calls": calls, "list_pages": len(lists),
            "first_ms": {q: (p(first, q) or 0) * 1000 for q in (50, 99, 100)},
            "later_ms": {q: (p(later, q) or 0) * 1000 for q in (50, 99, 100)},
            "max": sampler.max, "idle": {"threads": idle[0], "fds": idle[1], "rss_kib": idle[2]},
            "samples": sampler.series[::4], "metrics": [(t, r) for t, r, _ in poller.series]}

    # -- row 7b: Object-metric HPAs, one metric ------------------------------------------------------------------
    def row_services(self, key, sysdig, services, seconds):
        row = self.b.rows[key]
        row.name = f"{services:,} Services, an Object-metric HPA each, one metric, {seconds} s"
        self.say(f"row {key}: adapter; {services:,} Object-metric HPAs on one metric, every {HPA_PERIOD_S} s, "
                 f"{seconds} s")
        adapter = self.b.start_adapter(sysdig)
        pid = adapter.proc.pid
        self.b.get_ok(adapter.port, "/readyz")
        schedule = []
        for sync in range(math.ceil(seconds / HPA_PERIOD_S)):
            for i in range(services):
                at = i * HPA_PERIOD_S / services + sync * HPA_PERIOD_S
                if at < seconds:
                    schedule.append((at, service_path(fixtures.many_namespace(i), fixtures.MANY_APP), (i, sync)))
        sysdig.clear_requests()
        sysdig.clear_timings()
        before = self.scrape_histograms(adapter.port)
        wall_offset = time.time() - time.perf_counter()   # answers are timed with perf_counter
        with harness.ProcSampler(pid) as sampler, \
                MetricsPoller(lambda: self.scrape_samples(adapter.port), sysdig, interval_s=1) as poller:
            results, _ = hpa_load.run_schedule(adapter.port, self.b.context, schedule, POOL_CONNECTIONS,
                                                   timeout_s=30, keep_bodies=True)
        after = self.scrape_histograms(adapter.port)
        calls = sysdig.query_calls()
        query_times = [t["seconds"] for t in sysdig.timings() if t["path"].endswith("/api/v1/query")]
        resources = self.resources(sampler, pid)
        harness.stop_adapter(adapter)

        ok = [r for r in results if r.status == 200]
        ages = []
        for r in ok:
            item = json.loads(r.body)["items"][0]
            stamp = datetime.datetime.strptime(item["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            ages.append(r.done + wall_offset - stamp)
        # Steady state: after the first round of asks (every HPA has asked once, so every object is merged).
        steady = [(t, c) for t, _, c in poller.series if c is not None and t >= HPA_PERIOD_S + 1]
        steady_calls = steady[-1][1] - steady[0][1] if len(steady) > 1 else None
        steady_s = steady[-1][0] - steady[0][0] if len(steady) > 1 else 0
        allowed = math.floor(steady_s / REFRESH_INTERVAL_S) + 1
        age_key = next((k for k in after if k[0] == "sysdig_metrics_adapter_served_value_age_seconds"), None)
        age_hist = harness.histogram_delta(after[age_key], before.get(age_key)) if age_key else None
        bound = REFRESH_INTERVAL_S + QUERY_OFFSET_S
        over_bound = (age_hist["count"] - age_hist["buckets"].get(float(bound), 0)) if age_hist else None
        # The documented bound is the refresh interval plus the query offset, plus the time the refresh took (here
        # the double's time for the query, 50 ms latency included); answer timestamps are whole seconds, so an age
        # read from them is up to 1 s high.
        refresh_s = max(query_times, default=0)
        age_ok = ages and max(ages) <= bound + refresh_s + 1
        row.measured = (f"{steady_calls} calls in {steady_s:.0f} s ({steady_calls / (steady_s / REFRESH_INTERVAL_S):.2f} "
                        f"per {REFRESH_INTERVAL_S} s); oldest value {max(ages, default=0):.1f} s"
                        if steady_calls is not None and steady_s else "n/a")
        row.reference = f"without merging: {services:,} calls per {HPA_PERIOD_S} s"
        if self.full:
            row.judge(steady_calls is not None and steady_calls <= allowed and bool(age_ok) and len(ok) == len(results))
        else:
            row.result = "info"
        row.notes.append(
            f"{services:,} Services (web in team-0000..), one Object-metric HPA each on {fixtures.METRIC}, asking "
            f"every {HPA_PERIOD_S} s for {seconds} s: {len(results):,} requests, answers {statuses(results)}; "
            f"{calls} Sysdig value queries in all, {steady_calls} from {steady[0][0] if steady else 0:.0f} s to the "
            f"end (the goal allows one per {REFRESH_INTERVAL_S} s refresh: at most {allowed} in {steady_s:.0f} s)"
            + ("" if self.full else "; short mode: a smaller run, goals judged in --full only"))
        row.notes.append(
            f"value age (wall clock at the answer less its timestamp, whole seconds): p50 {p(ages, 50) or 0:.1f} s, "
            f"max {max(ages, default=0):.1f} s against the bound --refresh-interval + --query-offset + the refresh's "
            f"time = {bound} s + {refresh_s:.2f} s (+1 s: whole-second timestamps); "
            f"sysdig_metrics_adapter_served_value_age_seconds: {age_hist['count'] if age_hist else 0:.0f} "
            f"observations, {over_bound if over_bound is not None else 'n/a'} above {bound} s; latency p50 "
            f"{ms(p([r.seconds for r in ok], 50), 2)} / p99 {ms(p([r.seconds for r in ok], 99), 2)}; handed off to a "
            f"worker: {handed_off(poller)}")
        row.notes.append(resources)
        self.b.data.setdefault("scale", {})[key] = {
            "services": services, "seconds": seconds, "requests": len(results), "backend_calls": calls,
            "steady_calls": steady_calls, "steady_s": steady_s, "max_age_s": max(ages, default=None),
            "calls_over_time": [(t, c) for t, _, c in poller.series]}

    # -- row 8: one namespace of 100,000 pods ------------------------------------------------------------------
    def run_huge_namespace(self):
        row = self.b.rows["8"]
        count = self.size["huge_pods"]
        if not count:
            row.not_available("full mode only")
            row.notes.append("100,000 pods take about a minute to serve from the Python double and 2.5 GB in it")
            return
        self.say(f"row 8: fixtures, {count:,} pods in one namespace")
        kube_fixture = fixtures.write_pod_list(self.dir, "huge_kube", fixtures.huge_kube_pods(count))
        sysdig_fixture = fixtures.write(self.dir, "huge_sysdig", fixtures.huge_sysdig(count))
        self.say("row 8: starting the doubles (the Kubernetes double takes about 35 s to read 430 MB of pods)")
        kube = self.b.start_double("kube", kube_fixture, harness.KUBE_TOKEN, "--bookmark-interval",
                                   str(BOOKMARK_INTERVAL_S), start_timeout=600)
        sysdig = self.b.start_double("sysdig", sysdig_fixture, harness.SYSDIG_TOKEN, start_timeout=600)
        try:
            sysdig.set_latency(0)
            kubeconfig = kube.write_kubeconfig(os.path.join(self.b.tmp, "kubeconfig-huge"))
            adapter = self.b.start_adapter(sysdig, "--kubeconfig", kubeconfig)
            pid = adapter.proc.pid
            self.b.get_ok(adapter.port, "/readyz")
            path = pods_path(fixtures.HUGE_NAMESPACE, fixtures.HUGE_SELECTOR)
            client = harness.Client(adapter.port, self.b.context, timeout=120)
            measured, attempts = [], []
            with harness.ProcSampler(pid, kube.port) as sampler:
                self.say("row 8: first request (lists 200 pages of 500 pods)")
                started = time.perf_counter()
                while True:
                    answer = client.get(path)
                    attempts.append((round(time.perf_counter() - started, 1), answer.status))
                    if answer.status == 200:
                        break
                    if time.perf_counter() - started > 600:
                        raise HarnessError(f"row 8: no 200 within 600 s: {attempts[-5:]}")
                    time.sleep(1)
                first_ok_s = time.perf_counter() - started
                warm_list_pages = len([r for r in kube.control_json("GET", "requests") if not r["query"].get("watch")])
                items = len(answer.json()["items"])
                if items != count:
                    raise HarnessError(f"row 8: the pods/* answer has {items} items, not {count}")
                body_bytes = len(answer.body)
                hwm_after_list = harness.proc_status_kib(pid, "VmHWM")
                for i in range(self.size["huge_requests"]):
                    self.say(f"row 8: request {i + 1}/{self.size['huge_requests']}")
                    kube.clear_timings()
                    sysdig.clear_timings()
                    answer = self.b.get_ok(adapter.port, path, client)
                    doubles = sum(t["seconds"] for t in kube.timings()) + sum(t["seconds"] for t in sysdig.timings())
                    measured.append({"first": answer.first_byte_s, "total": answer.total_s, "doubles": doubles,
                                     "own": answer.first_byte_s - doubles})
                time.sleep(1)
            client.close()
            resources = self.resources(sampler, pid)
            hwm = harness.proc_status_kib(pid, "VmHWM")
            end = self.scrape_samples(adapter.port)
            harness.stop_adapter(adapter)
        finally:
            kube.stop()
            sysdig.stop()
        own = statistics.median(m["own"] for m in measured)
        row.measured = f"{ms(own)}; RSS peak {mb(hwm):.1f} MB"
        row.reference = f"10,000 pods (row 5): {self.b.rows['5'].measured}"
        row.judge(own <= 0.200 and mb(hwm) <= 150)
        if row.result == "MISS":
            row.result = "MISS (" + ", ".join(n for n, bad in (("answer", own > 0.200), ("RSS", mb(hwm) > 150))
                                              if bad) + ")"
        row.notes.append(
            f"{count:,} pods in namespace {fixtures.HUGE_NAMESPACE}, pods/* over all of them ({fixtures.HUGE_SELECTOR}), "
            f"backend latency 0: median over {len(measured)} requests of (request sent .. headers read) less the "
            f"doubles' time; per request own {[round(m['own'] * 1000) for m in measured]} ms, to last byte "
            f"{[round(m['total'] * 1000) for m in measured]} ms, doubles {[round(m['doubles'] * 1000) for m in measured]} "
            f"ms; answer {body_bytes:,} bytes")
        row.notes.append(
            f"first answer after {first_ok_s:.1f} s ({len(attempts)} attempt(s): {attempts[:6]}{' ...' if len(attempts) > 6 else ''}; "
            f"{warm_list_pages} list pages from the double, which takes most of that time); VmHWM after the first answer "
            f"{mb(hwm_after_list):.1f} MB, after the measured requests {mb(hwm):.1f} MB (the goal is judged on it); "
            f"pod cache {harness.sample_sum(end, 'sysdig_metrics_adapter_pod_cache', value='pods'):.0f} pods")
        row.notes.append(resources)
        self.b.data.setdefault("scale", {})["8"] = {"pods": count, "own_ms": [m["own"] * 1000 for m in measured],
                                                   "first_ok_s": first_ok_s, "hwm_kib": hwm, "max": sampler.max}

    # -- row 9: 2,000 HPAs on 10 metrics of their own ----------------------------------------------------------
    def run_spread(self):
        row = self.b.rows["9"]
        hpas = self.size["spread_hpas"]
        seconds = self.size["spread_s"]
        row.name = f"{hpas:,} HPAs x 10 metrics of their own, {seconds} s"
        self.say(f"row 9: fixtures, {hpas:,} HPAs x {fixtures.SPREAD_METRICS_PER_HPA} metrics of their own")
        sysdig = self.b.start_double("sysdig", fixtures.write(self.dir, "spread_sysdig", fixtures.spread_sysdig(hpas)),
                                     harness.SYSDIG_TOKEN)
        try:
            sysdig.set_latency(self.b.latency_ms)
            metrics_port = harness.free_port()
            adapter = self.b.start_adapter(sysdig, f"--metrics-bind-address={harness.LOOPBACK}:{metrics_port}")
            pid = adapter.proc.pid
            self.b.get_ok(adapter.port, "/readyz")
            plan = []
            for h in range(hpas):
                namespace, service = fixtures.spread_target(h)
                plan.append((h * HPA_PERIOD_S / hpas, [service_path(namespace, service, fixtures.spread_metric(h, k))
                                                       for k in range(fixtures.SPREAD_METRICS_PER_HPA)]))
            sysdig.clear_requests()
            sysdig.concurrency(reset=True)
            before = self.scrape_samples(metrics_port, plain=True)
            self.say(f"row 9: {hpas:,} HPAs, {seconds} s")
            with harness.ProcSampler(pid) as sampler, \
                    MetricsPoller(lambda: self.scrape_samples(metrics_port, plain=True), interval_s=0.5) as poller:
                results, _ = hpa_load.run_hpas(adapter.port, self.b.context, plan, HPA_PERIOD_S, seconds,
                                               timeout_s=60)
            after = self.scrape_samples(metrics_port, plain=True)
            calls = sysdig.query_calls()
            peak = sysdig.concurrency()["peak"]
            resources = self.resources(sampler, pid)
            harness.stop_adapter(adapter)
        finally:
            sysdig.stop()
        seconds_each = [r.seconds for r in results if r.status]
        over = [r for r in results if r.status and r.seconds > REQUEST_TIMEOUT_S + DEADLINE_SLACK_S]
        unanswered = [r for r in results if not r.status]
        syncs = {r.tag for r in results}
        late_syncs = [r.late_s for r in results if r.late_s > 1]
        timeouts = harness.sample_sum(after, "sysdig_metrics_adapter_backend_slot_timeouts_total") - \
            harness.sample_sum(before, "sysdig_metrics_adapter_backend_slot_timeouts_total")
        waiting_max = poller.max.get("waiting_for_slot", 0)
        in_flight_max = poller.max.get("in_flight", 0)
        offered = hpas * fixtures.SPREAD_METRICS_PER_HPA / HPA_PERIOD_S
        row.measured = (f"{len(over):,} of {len(results):,} over {REQUEST_TIMEOUT_S} s (max "
                        f"{max(seconds_each, default=0):.1f} s); slot waits max {waiting_max:.0f}, timeouts {timeouts:.0f}")
        row.reference = f"offered {offered:,.0f} req/s"
        if self.full:
            row.judge(not over and not unanswered)
        else:
            row.result = "info"
        row.notes.append(
            f"{hpas:,} HPAs, each on a Service of its own with {fixtures.SPREAD_METRICS_PER_HPA} metrics nobody else "
            f"asks for ({hpas * fixtures.SPREAD_METRICS_PER_HPA:,} distinct queries: nothing cached, coalesced or "
            f"merged), each HPA syncing every {HPA_PERIOD_S} s on its own connection and asking its metrics one after "
            f"the other, for {seconds} s ({offered:,.0f} req/s offered), {self.b.latency_ms} ms Sysdig latency, "
            f"default flags plus --metrics-bind-address (so /metrics can be read while the API port is busy)"
            + ("" if self.full else "; short mode: a smaller run, goals judged in --full only"))
        row.notes.append(
            f"{len(results):,} answers in {len(syncs):,} HPA syncs ({statuses(results)}); latency (client side, "
            f"queueing included) p50 {ms(p(seconds_each, 50))} / p99 {ms(p(seconds_each, 99))} / max "
            f"{ms(max(seconds_each, default=None))}; {len(over):,} took longer than the {REQUEST_TIMEOUT_S} s "
            f"deadline + {DEADLINE_SLACK_S} s; {len(late_syncs):,} syncs started over 1 s late (the HPA's previous "
            f"sync still waiting)")
        row.notes.append(
            f"backend: {calls:,} Sysdig value queries, at most {peak} at once at the double; "
            f"sysdig_metrics_adapter_backend_calls_waiting_for_slot max {waiting_max:.0f} (sampled every 0.5 s on "
            f"the plain port), backend_slot_timeouts_total +{timeouts:.0f}; requests_in_flight max "
            f"{in_flight_max:.0f}; handed off to a worker: {handed_off(poller)}")
        row.notes.append(resources)
        self.b.data.setdefault("scale", {})["9"] = {
            "hpas": hpas, "seconds": seconds, "answers": len(results), "over_deadline": len(over),
            "unanswered": len(unanswered), "backend_calls": calls, "backend_peak": peak,
            "waiting_for_slot_max": waiting_max, "slot_timeouts": timeouts, "max": sampler.max,
            "latency_s": {q: p(seconds_each, q) for q in (50, 99, 100)},
            "metrics": [(t, r) for t, r, _ in poller.series]}

    # -- row 4c: 32 connections reading the 10,000-pod answer ----------------------------------------------------
    def row_concurrent_big(self, adapter, kube, big_path):
        """The adapter's part of row 4c, on rows 4-5's adapter (its pod cache and cached answer warm)."""
        seconds = self.size["concurrent_s"]
        self.say(f"row 4c: wrk -t2 -c32 on the 10,000-pod answer, {seconds} s")
        pid = adapter.proc.pid
        with harness.ProcSampler(pid, kube.port, rss_interval_s=0.002) as sampler:
            run = harness.run_wrk(f"https://{harness.LOOPBACK}:{adapter.port}{big_path}", 2, 32, seconds,
                                  timeout_s=30)
        self._concurrent = (run, sampler, self.resources(sampler, pid))

    def finish_concurrent_big(self, nginx_port, nginx_path):
        """Row 4c's reference: nginx serving the same bytes to the same wrk."""
        row = self.b.rows["4c"]
        run, sampler, resources = self._concurrent
        seconds = self.size["concurrent_s"]
        reference = harness.run_wrk(f"https://{harness.LOOPBACK}:{nginx_port}{nginx_path}", 2, 32, seconds,
                                    timeout_s=30)
        rss = mb(sampler.max["rss_kib"])
        old = 26.7   # issue 11's measurement of the daemon before it (answers/s, RSS 126.8 MB)
        row.measured = f"{run.ok_per_second:,.1f}/s, RSS {rss:.1f} MB"
        row.reference = f"nginx {reference.ok_per_second:,.0f}/s"
        row.ratio = f"{run.ok_per_second / old:.1f}x"
        row.judge(rss <= 60 and run.ok_per_second >= 4 * old and not run.error_text())
        if row.result == "MISS":
            row.result = "MISS (" + ", ".join(n for n, bad in (("RSS", rss > 60), ("answers/s", run.ok_per_second < 4 * old),
                                                               ("errors", bool(run.error_text()))) if bad) + ")"
        row.notes.append(
            f"wrk -t2 -c32 --timeout 30s, {seconds} s, pods/* over 10,000 pods (the Sysdig answer cached, backend latency 0): "
            f"{run.ok_requests:,} answers, p50 {run.latency_ms['50']:.0f} ms / p99 {run.latency_ms['99']:.0f} ms / max "
            f"{run.latency_ms['max']:.0f} ms; ratio: against issue 11's measurement of the daemon before it "
            f"({old}/s, RSS 126.8 MB), goal 4x = {4 * old:.1f}/s; nginx serving the same bytes p99 "
            f"{reference.latency_ms['99']:.0f} ms" + (f"; adapter errors: {run.error_text()}" if run.error_text() else ""))
        row.notes.append(resources)
        self.b.data.setdefault("scale", {})["4c"] = {"per_second": run.ok_per_second, "rss_kib": sampler.max["rss_kib"],
                                                    "nginx_per_second": reference.ok_per_second}
