#!/usr/bin/env python3
"""The sysdig-metrics-adapter soak (issue #6): mixed load for a long time, every answer checked, RSS watched.

    python3 bench/soak.py [--duration 600] [--rate 1000] [--binary build/sysdig-metrics-adapter]

It starts on loopback the Sysdig double, the Kubernetes API double (for pods/*) and the adapter against them
(the pieces of bench/harness.py), then drives `--rate` requests per second over `--connections` TLS keep-alive
connections for `--duration` seconds: object metrics (Deployments, Services, a StatefulSet, pods, a namespace),
pods/* with label selectors, external metrics, discovery, and bad input (malformed paths, bad names and
selectors, a wrong method) with unique not-found names mixed in. Every answer is checked against what the
fixtures served by the doubles imply (bench/fixtures.py: soak_sysdig, soak_kube, SOAK_RULES): the status code;
for 200s the whole document (values, item names and counts, described objects; timestamps must be the
evaluation time, reused for at most one cache TTL or, for a merged query, one `--refresh-interval`); for errors
the Status code and reason. `--cache-ttl` (default 1s) keeps backend calls happening during the run.

It prints VmRSS at start, after the warm-up and at the end, the requests done and the rate reached, errors by
kind, wrong answers (request, expected, got) and client-side latency percentiles. At the end it stops the
adapter with SIGTERM and requires exit code 0 and no sanitizer report on its stderr.

Exit code 0 when every answer was right, RSS grew at most --rss-limit (10%) from the end of the warm-up to the
end, and the adapter exited cleanly; 1 otherwise, or when something could not run; 2 bad usage. The RSS check
is skipped with --no-rss-check and for sanitizer builds (SMA_SANITIZE=1, or the binary carries ASan): their
quarantine grows RSS by design. For a sanitizer build the adapter runs with leak detection (ASAN_OPTIONS
detect_leaks=1, LSAN_OPTIONS with test/lsan_suppressions.txt, UBSAN_OPTIONS halt_on_error=1, unless set).
docs/reliability.md ("Soak") says more and records runs.
"""
import argparse
import array
import calendar
import contextlib
import datetime
import decimal
import fractions
import hashlib
import http.client
import itertools
import json
import os
import queue
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # leave no __pycache__ in bench/ or test/
import fixtures  # noqa: E402
import harness  # noqa: E402
from harness import HarnessError, mb  # noqa: E402

import kube_api_double  # noqa: E402  (test/doubles, on the path through harness: its label selector grammar)
import sysdig_double  # noqa: E402  (test/doubles: how it writes sample values)

DEFAULT_BINARY = os.path.join(harness.ROOT, "build", "sysdig-metrics-adapter")
LSAN_SUPPRESSIONS = os.path.join(harness.ROOT, "test", "lsan_suppressions.txt")

V1 = "/apis/custom.metrics.k8s.io/v1beta1"
V2 = "/apis/custom.metrics.k8s.io/v1beta2"
EXT = "/apis/external.metrics.k8s.io/v1beta1"
NS = fixtures.SOAK_NAMESPACE
OTHER_NS = fixtures.SOAK_OTHER_NAMESPACE
CLUSTER = fixtures.CLUSTER
WINDOW_S = 60                 # the rules' default window
QUERY_OFFSET_S = 20           # --query-offset default: values are stamped with now - 20 s
TIMESTAMP_SLACK_S = 5         # beyond the cache TTL, for queueing and the answer's own seconds resolution
DISCOVERY_INTERVAL = "5s"     # the metric catalogue is refreshed all through the run
CACHE_MAX_ENTRIES = 500       # the unique not-found names fill it during the warm-up; then it evicts
MAINTENANCE_S = 10            # how often the doubles' request logs are emptied (they keep every request)
MAX_SHOWN = 20                # wrong answers printed in full
SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: \w+Sanitizer")
TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")

# Requests per 100 of each kind. The order of the whole run is this mix, shuffled with a fixed seed.
MIX = {"object": 36, "pods": 12, "external": 12, "discovery": 10, "bad-input": 20, "not-found": 10}


# ---------------------------------------------------------------------------------------------------------
# Expected answers, from the fixtures the doubles serve
# ---------------------------------------------------------------------------------------------------------

def canonical_quantity(text):
    """What the adapter must answer for a sample value written as `text`: Kubernetes' canonical decimal form,
    rounded up (away from zero) to 1m, with the largest suffix that loses nothing (DESIGN.md section 2)."""
    milli = int((decimal.Decimal(text) * 1000).to_integral_value(rounding=decimal.ROUND_UP))
    sign, milli = ("-" if milli < 0 else ""), abs(milli)
    if milli % 1000:
        return f"{sign}{milli}m"
    whole, suffix = milli // 1000, ""
    for next_suffix in ("k", "M", "G", "T", "P", "E"):
        if whole == 0 or whole % 1000:
            break
        whole, suffix = whole // 1000, next_suffix
    return f"{sign}{whole}{suffix}"


class Expectations:
    """Answers implied by the fixture documents: series of the Sysdig double, pods of the Kubernetes double and
    the rules file (sum over an object's series, max for memory.used.bytes)."""

    def __init__(self, sysdig_doc, kube_doc):
        self.series = sysdig_doc["series"]
        self.pods = kube_doc["items"]

    @staticmethod
    def aggregate(metric, values):
        """The value the Sysdig double writes for these series, as the adapter must serve it. Several series are
        combined in floating point by the double, so the fixture must keep that exact (multiples of 1/4)."""
        combine = max if metric == "memory.used.bytes" else sum
        result = combine(values)
        exact = max(map(fractions.Fraction, values)) if combine is max else sum(map(fractions.Fraction, values))
        if fractions.Fraction(result) != exact:
            raise HarnessError(f"fixture: {metric} over {values} is not exact in floating point; the expected "
                               "value would depend on the double's summation order")
        return canonical_quantity(sysdig_double.format_sample_value(result))

    def select(self, metric, **labels):
        """Values of the series of `metric` in the adapter's cluster with these labels."""
        want = {"kube_cluster_name": CLUSTER, **labels}
        return [s["value"] for s in self.series
                if s["metric"] == metric and all(s["labels"].get(k) == v for k, v in want.items())]

    def object_doc(self, version, kind, api_version, resource_label, namespace, name, metric):
        labels = {"kube_namespace_name": namespace}
        if resource_label:
            labels[resource_label] = name
        values = self.select(metric, **labels)
        if not values:
            raise HarnessError(f"fixture has no {metric} for {kind} {namespace}/{name}")
        described = {"kind": kind, "namespace": namespace, "name": name, "apiVersion": api_version}
        if kind == "Namespace":
            described = {"kind": kind, "name": name, "apiVersion": api_version}
        return metric_value_list(version, [(described, metric, self.aggregate(metric, values))])

    def pods_doc(self, version, namespace, selector, metric):
        requirements = kube_api_double.parse_selector(selector)
        listed = sorted(p["metadata"]["name"] for p in self.pods
                        if p["metadata"]["namespace"] == namespace
                        and p.get("status", {}).get("phase", "Running") not in ("Succeeded", "Failed")
                        and kube_api_double.selector_matches(requirements, p["metadata"].get("labels", {})))
        items = []
        for pod in listed:
            values = self.select(metric, kube_namespace_name=namespace, kube_pod_name=pod)
            if values:   # a listed pod without series has no item
                items.append(({"kind": "Pod", "namespace": namespace, "name": pod, "apiVersion": "/v1"}, metric,
                              self.aggregate(metric, values)))
        return metric_value_list(version, items)

    def external_doc(self, namespace, selector):
        requirements = kube_api_double.parse_selector(selector)
        values = [s["value"] for s in self.series
                  if s["metric"] == fixtures.SOAK_EXTERNAL and s["labels"].get("kube_cluster_name") == CLUSTER
                  and s["labels"].get("kube_namespace_name") == namespace
                  and kube_api_double.selector_matches(requirements, s["labels"])]
        # sum(...) without by: one item without labels, or none when no series matches.
        items = [{"metricName": fixtures.SOAK_EXTERNAL, "metricLabels": {}, "window": WINDOW_S,
                  "value": self.aggregate(fixtures.SOAK_EXTERNAL, values)}] if values else []
        return {"kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1", "metadata": {},
                "items": items}


def metric_value_list(version, items):
    out = []
    for described, metric, value in items:
        if version == "v1beta1":
            out.append({"describedObject": described, "metricName": metric, "window": WINDOW_S, "value": value,
                        "selector": None})
        else:
            out.append({"describedObject": described, "metric": {"name": metric, "selector": None},
                        "windowSeconds": WINDOW_S, "value": value})
    return {"kind": "MetricValueList", "apiVersion": f"custom.metrics.k8s.io/{version}", "metadata": {},
            "items": out}


def selector_query(selector):
    return "?labelSelector=" + urllib.parse.quote(selector, safe="") if selector else ""


CUSTOM_GROUP = {
    "name": "custom.metrics.k8s.io",
    "versions": [{"groupVersion": "custom.metrics.k8s.io/v1beta2", "version": "v1beta2"},
                 {"groupVersion": "custom.metrics.k8s.io/v1beta1", "version": "v1beta1"}],
    "preferredVersion": {"groupVersion": "custom.metrics.k8s.io/v1beta2", "version": "v1beta2"},
}
EXTERNAL_GROUP = {
    "name": "external.metrics.k8s.io",
    "versions": [{"groupVersion": "external.metrics.k8s.io/v1beta1", "version": "v1beta1"}],
    "preferredVersion": {"groupVersion": "external.metrics.k8s.io/v1beta1", "version": "v1beta1"},
}


class Case:
    """One request and what it must get: `doc` (a 200 whose JSON, timestamps aside, equals it) or `reason` (an
    error Status with code `status`). A `{n}` in the path becomes a number unique to the request."""

    def __init__(self, kind, path, status=200, doc=None, reason=None, method="GET", body=None):
        self.kind, self.path, self.status, self.doc, self.reason = kind, path, status, doc, reason
        self.method, self.body = method, body
        self.stamped = doc is not None and doc.get("kind") in ("MetricValueList", "ExternalMetricValueList")

    def describe(self):
        return f"{self.method} {self.path}" + (f" (body {self.body!r})" if self.body is not None else "")


def build_cases(expect, custom_discovery):
    """The request mix: {kind: [Case]}."""
    cases = {kind: [] for kind in MIX}
    deployments = fixtures.SOAK_DEPLOYMENTS
    net, mem, cpu = fixtures.SOAK_METRICS

    # Object metrics: one object each, several series aggregated (sum; max for memory), both API versions.
    for i, d in enumerate(deployments):
        version, prefix = (("v1beta1", V1), ("v1beta2", V2))[i % 2]
        for metric in (net, mem):
            cases["object"].append(Case("object", f"{prefix}/namespaces/{NS}/deployments.apps/{d}/{metric}",
                                        doc=expect.object_doc(version, "Deployment", "apps/v1", "kube_deployment_name",
                                                              NS, d, metric)))
        cases["object"].append(Case("object", f"{V2 if i % 2 == 0 else V1}/namespaces/{NS}/services/{d}/{net}",
                                    doc=expect.object_doc("v1beta2" if i % 2 == 0 else "v1beta1", "Service", "/v1",
                                                          "kube_service_name", NS, d, net)))
    for version, prefix in (("v1beta1", V1), ("v1beta2", V2)):
        for metric in (net, mem):
            cases["object"].append(Case("object", f"{prefix}/namespaces/{NS}/statefulsets.apps/db/{metric}",
                                        doc=expect.object_doc(version, "StatefulSet", "apps/v1",
                                                              "kube_statefulset_name", NS, "db", metric)))
        # The same names in the other namespace: scoping must give that namespace's own values.
        cases["object"].append(Case("object", f"{prefix}/namespaces/{OTHER_NS}/services/web-1/{net}",
                                    doc=expect.object_doc(version, "Service", "/v1", "kube_service_name", OTHER_NS,
                                                          "web-1", net)))
        cases["object"].append(Case("object", f"{prefix}/namespaces/{NS}/metrics/{net}",
                                    doc=expect.object_doc(version, "Namespace", "/v1", None, NS, NS, net)))
    # Single pods, with values finer than 1m (rounded up).
    for i, pod in enumerate(("web-0-0", "web-2-0", "web-5-2", "db-1")):
        version, prefix = (("v1beta1", V1), ("v1beta2", V2))[i % 2]
        cases["object"].append(Case("object", f"{prefix}/namespaces/{NS}/pods/{pod}/{cpu}",
                                    doc=expect.object_doc(version, "Pod", "/v1", "kube_pod_name", NS, pod, cpu)))

    # pods/* with label selectors: finished pods are left out, pods without series have no item.
    selectors = [(f"app={d}", net) for d in deployments] + [
        ("app in (web-1,web-2)", mem), ("tier=frontend,track!=canary", cpu), ("tier notin (frontend,data)", net),
        ("app=db", mem), ("!tier", net), ("app=nobody", net), ("track", cpu), ("tier==backend,track=canary", net)]
    for i, (selector, metric) in enumerate(selectors):
        version, prefix = (("v1beta1", V1), ("v1beta2", V2))[i % 2]
        star = "%2A" if i % 3 == 0 else "*"
        namespace = OTHER_NS if i % 5 == 4 else NS
        cases["pods"].append(Case("pods", f"{prefix}/namespaces/{namespace}/pods/{star}/{metric}"
                                          f"{selector_query(selector)}",
                                  doc=expect.pods_doc(version, namespace, selector, metric)))

    # External metrics: one summed value per selection, or no item.
    for namespace, selector in ((NS, "queue=orders"), (NS, "queue in (orders,emails)"), (NS, ""),
                                (NS, "priority=high"), (NS, "queue!=orders,priority"), (NS, "queue=nothing"),
                                (OTHER_NS, "queue=orders")):
        cases["external"].append(Case("external",
                                      f"{EXT}/namespaces/{namespace}/{fixtures.SOAK_EXTERNAL}{selector_query(selector)}",
                                      doc=expect.external_doc(namespace, selector)))

    # Discovery.
    cases["discovery"] += [
        Case("discovery", "/apis", doc={"kind": "APIGroupList", "apiVersion": "v1",
                                        "groups": [CUSTOM_GROUP, EXTERNAL_GROUP]}),
        Case("discovery", "/apis/custom.metrics.k8s.io", doc={"kind": "APIGroup", "apiVersion": "v1", **CUSTOM_GROUP}),
        Case("discovery", "/apis/external.metrics.k8s.io",
             doc={"kind": "APIGroup", "apiVersion": "v1", **EXTERNAL_GROUP}),
        Case("discovery", EXT, doc={
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "external.metrics.k8s.io/v1beta1",
            "resources": [{"name": fixtures.SOAK_EXTERNAL, "singularName": "", "namespaced": True,
                           "kind": "ExternalMetricValueList", "verbs": ["get"]}]}),
    ]
    for version, prefix in (("v1beta1", V1), ("v1beta2", V2)):
        cases["discovery"].append(Case("discovery", prefix, doc={
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"custom.metrics.k8s.io/{version}",
            "resources": custom_discovery}))

    # Bad input: each gets an error Status with this code and reason, and nothing reaches a backend.
    bad = [
        ("/nope", 404), (f"{V1}/namespaces/{NS}/pods", 404), (f"{V1}/namespaces/{NS}/pods/p/m/extra", 404),
        ("/apis/custom.metrics.k8s.io/v1", 404), (f"{EXT}/queue", 404),
        (f"{V1}/namespaces/Soak/services/web-0/{net}", 400),
        (f"{V2}/namespaces/{NS}/services/Web_0/{net}", 400),
        (f"{V1}/namespaces/{NS}/services/web-0/1metric", 400),
        (f"{V1}/namespaces/{NS}/services/web-0%22%7D/{net}", 400),
        (f"{V1}/namespaces/{NS}/services/{'a' * 300}/{net}", 400),
        (f"{V1}/namespaces/{NS}/pods/p/m%00", 400),
        (f"{V1}/namespaces/{NS}/pods/*/{net}?labelSelector=app%3D%3D%3D", 400),
        (f"{V2}/namespaces/{NS}/pods/*/{net}?labelSelector=a%20in%20(b", 400),
        (f"{V1}/namespaces/{NS}/pods/*/{net}?labelSelector=%ZZ", 400),
        (f"{V1}/namespaces/{NS}/services/*/{net}?labelSelector=app%3Dweb-0", 400),
        (f"{V1}/namespaces/{NS}/services/web-0/{net}?metricLabelSelector=kube_namespace_name%3D{OTHER_NS}", 400),
        (f"{EXT}/namespaces/{NS}/{fixtures.SOAK_EXTERNAL}?labelSelector=kube_cluster_name%3D"
         f"{fixtures.SOAK_OTHER_CLUSTER}", 400),
        (f"{EXT}/namespaces/UPPER/{fixtures.SOAK_EXTERNAL}", 400),
    ]
    reasons = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed"}
    for path, code in bad:
        cases["bad-input"].append(Case("bad-input", path, status=code, reason=reasons[code]))
    cases["bad-input"].append(Case("bad-input", f"{V1}/namespaces/{NS}/services/web-0/{net}", status=405,
                                   reason="MethodNotAllowed", method="POST", body="1"))

    # Valid requests for which the backend has nothing: 404, never a value. The {n} names are new every time,
    # so each is a new backend query and a new cache entry.
    cases["not-found"] += [
        Case("not-found", f"{V1}/namespaces/{NS}/services/web-0/no.such.metric", status=404, reason="NotFound"),
        Case("not-found", f"{EXT}/namespaces/{NS}/queue.length", status=404, reason="NotFound"),
        Case("not-found", f"{V2}/namespaces/{NS}/services/gone-{{n}}/{net}", status=404, reason="NotFound"),
        Case("not-found", f"{V1}/namespaces/{NS}/deployments.apps/gone-{{n}}/{mem}", status=404, reason="NotFound"),
    ]
    return cases


def schedule(cases, seed=6):
    """One cycle of the mix: each kind's share of 100 requests spread over its cases, shuffled."""
    cycle = []
    for kind, share in MIX.items():
        group = cases[kind]
        per_case = max(1, round(share * 10 / len(group)))
        cycle.extend(group * per_case)
    random.Random(seed).shuffle(cycle)
    return cycle


# ---------------------------------------------------------------------------------------------------------
# Checking an answer
# ---------------------------------------------------------------------------------------------------------

_epochs = {}


def epoch_of(stamp):
    value = _epochs.get(stamp)
    if value is None:
        value = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
        if len(_epochs) < 100_000:
            _epochs[stamp] = value
    return value


def summarize(document):
    """A short form of an answer for the report."""
    if isinstance(document, dict):
        if document.get("kind") == "Status":
            return f"Status {document.get('code')} {document.get('reason')}: {str(document.get('message'))[:160]}"
        if "items" in document and isinstance(document["items"], list):
            parts = []
            for item in document["items"]:
                if not isinstance(item, dict):
                    parts.append(repr(item)[:80])
                    continue
                who = (item.get("describedObject") or {}).get("name") or json.dumps(item.get("metricLabels"))
                parts.append(f"{who}={item.get('value')}")
            return f"{document.get('kind')} {document.get('apiVersion')} items [{', '.join(parts)}]"
    return json.dumps(document, separators=(",", ":"))[:400]


def check(case, status, body, received, ttl_s):
    """None when the answer is right, else (error kind, what was wrong)."""
    if status != case.status:
        return "wrong status", f"status {status}, expected {case.status}; body {body[:300]!r}"
    try:
        document = json.loads(body)
    except ValueError:
        return "not JSON", f"status {status}, body {body[:300]!r}"
    if case.doc is None:
        expected = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": case.status,
                    "reason": case.reason}
        got = {k: document.get(k) for k in expected} if isinstance(document, dict) else document
        if got != expected or not isinstance(document.get("message"), str) or not document["message"]:
            return "wrong status body", f"got {summarize(document)}; expected Status {case.status} {case.reason}"
        return None
    if case.stamped and isinstance(document, dict) and isinstance(document.get("items"), list):
        for item in document["items"]:
            stamp = item.pop("timestamp", None) if isinstance(item, dict) else None
            if not isinstance(stamp, str) or not TIMESTAMP_RE.fullmatch(stamp):
                return "wrong timestamp", f"item timestamp {stamp!r} is not RFC 3339 UTC seconds"
            # Values are evaluated --query-offset in the past and may be reused for one cache TTL, or for one
            # --refresh-interval when a merged query (the default) answers them.
            age = received - QUERY_OFFSET_S - epoch_of(stamp)
            if not -2 <= age <= ttl_s + TIMESTAMP_SLACK_S:
                return "wrong timestamp", (f"item timestamp {stamp} is {age:+.1f} s off the evaluation time "
                                           f"(now - {QUERY_OFFSET_S} s; allowed -2 .. {ttl_s + TIMESTAMP_SLACK_S:g})")
    if document != case.doc:
        return "wrong value", f"got {summarize(document)}; expected {summarize(case.doc)}"
    return None


# ---------------------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------------------

class Stats:
    """What one connection saw. Latencies are kept for the measured part (after the warm-up) only."""

    def __init__(self):
        self.requests = 0
        self.measured = 0
        self.by_kind = {}
        self.latency = array.array("d")
        self.latency_by_kind = {}
        self.errors = {}
        self.wrong = {}      # (request as written in the mix, error kind) -> [first seen (s), request, what, count]
        self.reconnects = 0  # the adapter closed a connection, saying so (Connection: close)
        self.late = 0        # scheduled sends skipped because the connection was over 1 s behind

    def merge(self, other):
        self.requests += other.requests
        self.measured += other.measured
        for k, v in other.by_kind.items():
            self.by_kind[k] = self.by_kind.get(k, 0) + v
        self.latency.extend(other.latency)
        for k, v in other.latency_by_kind.items():
            self.latency_by_kind.setdefault(k, array.array("d")).extend(v)
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v
        for key, (at, request, what, count) in other.wrong.items():
            mine = self.wrong.get(key)
            if mine is None or at < mine[0]:
                self.wrong[key] = [at, request, what, count + (mine[3] if mine else 0)]
            else:
                mine[3] += count
        self.reconnects += other.reconnects
        self.late += other.late


class Load:
    """`connections` threads, each with one TLS keep-alive connection, sending at rate/connections per second
    on a fixed schedule (open loop: a slow answer does not lower the rate; after a stall a connection catches up
    at most 1 s of backlog). The next request of the shuffled mix goes to whichever connection sends next."""

    def __init__(self, port, context, cycle, rate, connections, started, warmup_end, end, ttl_s):
        self.port, self.context, self.cycle = port, context, cycle
        self.period = connections / rate
        self.connections = connections
        self.started, self.warmup_end, self.end, self.ttl_s = started, warmup_end, end, ttl_s
        self.counter = itertools.count()
        self.unique = itertools.count(1)
        self.stats = [Stats() for _ in range(connections)]
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True, name=f"soak-{i}")
                        for i in range(connections)]
        self.stop_event = threading.Event()

    def start(self):
        for t in self.threads:
            t.start()

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)

    def progress(self):
        requests = sum(s.requests for s in self.stats)
        errors = sum(sum(s.errors.values()) for s in self.stats)
        return requests, errors

    def connect(self):
        conn = http.client.HTTPSConnection(harness.LOOPBACK, self.port, context=self.context, timeout=30)
        conn.connect()
        return conn

    def run(self, index):
        stats = self.stats[index]
        conn = None
        next_send = self.started + self.period * index / self.connections
        while not self.stop_event.is_set():
            now = time.monotonic()
            if now >= self.end:
                break
            if next_send > now:
                time.sleep(min(next_send - now, self.end - now))
                continue
            if now - next_send > 1.0:
                skipped = int((now - next_send) / self.period)
                stats.late += skipped
                next_send += skipped * self.period
            next_send += self.period
            case = self.cycle[next(self.counter) % len(self.cycle)]
            path = case.path.replace("{n}", str(next(self.unique))) if "{n}" in case.path else case.path
            headers = {"Content-Type": "application/json"} if case.body is not None else {}
            sent = time.monotonic()
            try:
                if conn is None:
                    conn = self.connect()
                conn.request(case.method, path, body=case.body, headers=headers)
                reply = conn.getresponse()
                body = reply.read()
                done = time.monotonic()
                status = reply.status
                if (reply.getheader("Connection") or "").lower() == "close":
                    stats.reconnects += 1
                    conn.close()
                    conn = None
                problem = check(case, status, body, time.time(), self.ttl_s)
            except (OSError, http.client.HTTPException) as e:
                done = time.monotonic()
                problem = ("connection", f"{type(e).__name__}: {e}")
                if conn is not None:
                    conn.close()
                conn = None
            stats.requests += 1
            stats.by_kind[case.kind] = stats.by_kind.get(case.kind, 0) + 1
            if sent >= self.warmup_end:
                stats.measured += 1
                stats.latency.append(done - sent)
                stats.latency_by_kind.setdefault(case.kind, array.array("d")).append(done - sent)
            if problem is not None:
                kind, what = problem
                stats.errors[kind] = stats.errors.get(kind, 0) + 1
                key = (f"{case.method} {case.path}", kind)
                if key in stats.wrong:
                    stats.wrong[key][3] += 1
                else:
                    stats.wrong[key] = [sent - self.started, f"{case.method} {path}", what, 1]
        if conn is not None:
            conn.close()

    def total(self):
        out = Stats()
        for s in self.stats:
            out.merge(s)
        return out


def percentiles(values):
    if not values:
        return None
    ordered = sorted(values)

    def at(q):
        return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]
    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "p99.9": at(0.999), "max": ordered[-1]}


def ms_list(p):
    return " ".join(f"{k} {v * 1000:.2f}" for k, v in p.items()) + " ms"


# ---------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------

def sanitizer_environment():
    """Leak detection and halting UBSan for a sanitizer build, keeping what the caller set (scripts/test.sh sets
    them for ctest). Returns the options in force."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    if "detect_leaks" not in asan:
        asan = ":".join(x for x in (asan, "detect_leaks=1") if x)
    lsan = os.environ.get("LSAN_OPTIONS", "")
    if "suppressions" not in lsan:
        lsan = ":".join(x for x in (lsan, f"suppressions={LSAN_SUPPRESSIONS}") if x)
    ubsan = os.environ.get("UBSAN_OPTIONS") or "print_stacktrace=1:halt_on_error=1"
    os.environ.update({"ASAN_OPTIONS": asan, "LSAN_OPTIONS": lsan, "UBSAN_OPTIONS": ubsan})
    return {"ASAN_OPTIONS": asan, "LSAN_OPTIONS": lsan, "UBSAN_OPTIONS": ubsan}


class Soak:
    def __init__(self, args, binary, tmp, stack):
        self.args, self.binary, self.tmp, self.stack = args, binary, tmp, stack
        # How long an answer may be reused: the cache TTL, or a merged query's refresh interval.
        self.ttl_s = max(parse_seconds(args.cache_ttl), parse_seconds(args.refresh_interval))

    def say(self, message):
        if self.args.log:
            print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def write(self, name, document):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(document if isinstance(document, str) else json.dumps(document, separators=(",", ":")))
        return path

    def start(self):
        sysdig_doc, kube_doc = fixtures.soak_sysdig(), fixtures.soak_kube()
        self.expect = Expectations(sysdig_doc, kube_doc)
        cert, key = harness.make_certificate(self.tmp)
        self.context = harness.client_context(cert)
        self.sysdig = harness.TimedDouble("sysdig", self.write("sysdig.json", sysdig_doc), harness.SYSDIG_TOKEN)
        self.stack.callback(self.sysdig.stop)
        self.kube = harness.TimedDouble("kube", self.write("kube.json", kube_doc), harness.KUBE_TOKEN)
        self.stack.callback(self.kube.stop)
        kubeconfig = self.kube.write_kubeconfig(os.path.join(self.tmp, "kubeconfig"))
        rules = self.write("rules.yaml", fixtures.SOAK_RULES)
        self.flags = ["--config", rules, "--kubeconfig", kubeconfig, "--cache-ttl", self.args.cache_ttl,
                      "--refresh-interval", self.args.refresh_interval,
                      "--cache-max-entries", str(CACHE_MAX_ENTRIES), "--discovery-interval", DISCOVERY_INTERVAL]
        self.say(f"adapter: {self.binary} {' '.join(self.flags)}")
        self.adapter = harness.start_adapter(self.binary, cert, key, self.sysdig, *self.flags)
        self.stack.callback(lambda: self.adapter.proc.poll() is None and self.adapter.proc.kill())
        self.pid = self.adapter.proc.pid
        if harness.poll_until_ok(self.adapter.port, self.context, "/readyz", time.perf_counter() + 30) is None:
            raise HarnessError("the adapter did not answer /readyz within 30 s")
        self.rss_start = harness.proc_status_kib(self.pid, "VmRSS")
        self.custom_discovery = self.wait_for_catalogue()
        self.cases = build_cases(self.expect, self.custom_discovery)
        self.cycle = schedule(self.cases)
        # Every case once, alone, before the load: a wrong answer here is reported plainly.
        client = harness.Client(self.adapter.port, self.context)
        try:
            for kind in MIX:
                for case in self.cases[kind]:
                    path = case.path.replace("{n}", "0")
                    answer = client.get(path) if case.method == "GET" else self.send_once(case, path)
                    problem = check(case, answer.status, answer.body, time.time(), self.ttl_s)
                    if problem:
                        raise HarnessError(f"{case.method} {path}: {problem[0]}: {problem[1]}")
        finally:
            client.close()

    def send_once(self, case, path):
        client = harness.Client(self.adapter.port, self.context)
        try:
            client._connect()
            client.conn.request(case.method, path, body=case.body, headers={"Content-Type": "application/json"})
            reply = client.conn.getresponse()
            return harness.Answer(reply.status, dict(reply.getheaders()), reply.read(), 0, 0)
        finally:
            client.close()

    def wait_for_catalogue(self, timeout=30):
        """The custom APIResourceList once the first catalogue refresh is in, checked: the same in both versions,
        every entry well formed, the rule's metric and every fixture series listed for pods. Later answers
        must equal it (the fixture does not change, and the catalogue is refreshed every 5 s)."""
        wanted = {f"pods/{sysdig_double.default_promql_name(m)}" for m in fixtures.SOAK_METRICS}
        wanted |= {"pods/memory.used.bytes", "deployments.apps/memory.used.bytes"}
        deadline = time.monotonic() + timeout
        names = set()
        while time.monotonic() < deadline:
            answer = harness.get_once(self.adapter.port, self.context, V1)
            if answer.status != 200:
                raise HarnessError(f"GET {V1} answered {answer.status}: {answer.body[:200]!r}")
            resources = answer.json().get("resources", [])
            names = {r.get("name") for r in resources}
            if wanted <= names:
                break
            time.sleep(0.2)
        else:
            raise HarnessError(f"discovery did not list {sorted(wanted - names)} within {timeout} s")
        for r in resources:
            if set(r) != {"name", "singularName", "namespaced", "kind", "verbs"} or r["kind"] != "MetricValueList" \
                    or r["verbs"] != ["get"] or r["singularName"] != "" or "/" not in r["name"]:
                raise HarnessError(f"discovery entry not well formed: {r}")
        v2 = harness.get_once(self.adapter.port, self.context, V2).json().get("resources")
        if v2 != resources:
            raise HarnessError("discovery lists differ between v1beta1 and v1beta2")
        return resources

    def backend_calls(self):
        """Backend calls so far, from the adapter's /metrics: {backend label: count}."""
        answer = harness.get_once(self.adapter.port, self.context, "/metrics")
        if answer.status != 200:
            return {}
        histograms = harness.parse_histograms(answer.body.decode("utf-8", "replace"))
        out = {}
        for (name, labels), h in histograms.items():
            if name == "sysdig_metrics_adapter_backend_request_duration_seconds":
                backend = dict(labels).get("backend", "?")
                out[backend] = out.get(backend, 0) + int(h["count"])
        return out

    def maintain(self):
        """The doubles keep every request, timing and log line they saw: empty them, or they grow for the whole run.
        On the way, note the slowest answer each double gave (its own time, bench/timed_double.py), to tell the
        doubles' stalls from the adapter's."""
        for double in (self.sysdig, self.kube):
            with contextlib.suppress(HarnessError, OSError, http.client.HTTPException, ValueError):
                double.clear_requests()
                timings = double.control_json("GET", "timings")["timings"]
                double.control_json("DELETE", "timings")
                count, slowest = self.double_time.get(double.kind, (0, 0.0))
                self.double_time[double.kind] = (count + len(timings),
                                                 max([slowest] + [t["seconds"] for t in timings]))
            del double.stderr_lines[:]

    def run(self):
        a = self.args
        self.start()
        warmup = a.warmup if a.warmup is not None else min(60.0, max(5.0, a.duration * 0.1), a.duration / 2)
        self.warmup_s = warmup
        self.say(f"{len(self.cycle)} requests per cycle over {sum(len(v) for v in self.cases.values())} cases; "
                 f"{a.rate} req/s on {a.connections} connections for {a.duration:g} s (warm-up {warmup:g} s)")
        started = time.monotonic() + 0.2
        load = Load(self.adapter.port, self.context, self.cycle, a.rate, a.connections, started, started + warmup,
                    started + a.duration, self.ttl_s)
        load.start()
        self.rss_samples = []
        next_progress = started + a.progress
        next_maintenance = started + MAINTENANCE_S
        self.rss_warm = None
        self.double_time = {}
        calls_warm = None
        while time.monotonic() < started + a.duration:
            time.sleep(0.2)
            now = time.monotonic()
            if self.adapter.proc.poll() is not None:
                load.stop_event.set()
                raise HarnessError(f"the adapter exited during the run with code {self.adapter.proc.returncode}:\n"
                                   + "".join(self.adapter.log_lines[-40:]))
            if self.rss_warm is None and now >= started + warmup:
                self.rss_warm = harness.proc_status_kib(self.pid, "VmRSS")
                calls_warm = self.backend_calls()
                self.say(f"warm-up done: VmRSS {mb(self.rss_warm):.1f} MB")
            if now >= next_maintenance:
                self.maintain()
                next_maintenance += MAINTENANCE_S
            if now >= next_progress:
                requests, errors = load.progress()
                rss = harness.proc_status_kib(self.pid, "VmRSS")
                self.rss_samples.append((round(now - started), rss))
                self.say(f"t={now - started:.0f}s requests {requests:,} ({requests / (now - started):.0f}/s) "
                         f"errors {errors} VmRSS {mb(rss):.1f} MB")
                next_progress += a.progress
        if not load.join(60):
            raise HarnessError("load threads did not finish within 60 s of the end")
        elapsed = time.monotonic() - started
        self.rss_end = harness.proc_status_kib(self.pid, "VmRSS")
        self.hwm_end = harness.proc_status_kib(self.pid, "VmHWM")
        calls_end = self.backend_calls()
        if self.rss_warm is None:
            raise HarnessError("the run ended before the warm-up did")
        self.calls = {k: v - (calls_warm or {}).get(k, 0) for k, v in calls_end.items()}
        self.total = load.total()
        self.elapsed = elapsed
        self.measured_s = elapsed - warmup
        self.exit_code, self.sanitizer_lines = self.stop_adapter()
        return self

    def stop_adapter(self):
        """SIGTERM, the exit code, and the lines of the adapter's stderr that are sanitizer reports."""
        proc = self.adapter.proc
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        # The drain thread ends with the stream; it queues None after the last line.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.adapter._lines.get(timeout=max(0.01, deadline - time.monotonic())) is None:
                    break
            except queue.Empty:
                break
        lines = list(self.adapter.log_lines)
        self.adapter_log = lines
        return proc.returncode, [line for line in lines if SANITIZER_REPORT.search(line)]


def parse_seconds(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use ms, s or m)")
    number, unit = float(match.group(1)), match.group(2)
    return number / 1000 if unit == "ms" else number * 60 if unit == "m" else number


def report(soak, args, binary, sanitizer, sanitizer_env, out):
    """Prints the result; returns the exit code."""
    t = soak.total
    failures = []
    digest = hashlib.sha256()
    with open(binary, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    built = datetime.datetime.fromtimestamp(os.stat(binary).st_mtime, datetime.timezone.utc)
    print(f"soak: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, "
          f"binary {binary}: {harness.adapter_version(binary)}, sha256 {digest.hexdigest()[:12]}, "
          f"built {built:%Y-%m-%d %H:%M UTC}" + (f" ({sanitizer})" if sanitizer else ""), file=out)
    if sanitizer_env:
        print("sanitizer options: " + " ".join(f"{k}={v}" for k, v in sanitizer_env.items()), file=out)
    print(f"adapter flags: {' '.join(soak.flags)}", file=out)
    print(f"machine: {os.cpu_count()} CPUs, load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=out)
    print(f"run: {soak.elapsed:.0f} s (warm-up {soak.warmup_s:g} s), target {args.rate:g} req/s on "
          f"{args.connections} TLS keep-alive connections", file=out)
    rate = t.requests / soak.elapsed if soak.elapsed else 0
    print(f"requests: {t.requests:,} in {soak.elapsed:.0f} s = {rate:.0f} req/s "
          f"({t.measured:,} after the warm-up = {t.measured / soak.measured_s:.0f} req/s); by kind: "
          + ", ".join(f"{k} {t.by_kind.get(k, 0):,}" for k in MIX), file=out)
    if t.late:
        print(f"  the load fell behind: {t.late:,} scheduled requests skipped (connections over 1 s late)", file=out)
    if rate < 0.9 * args.rate:
        print(f"  WARNING: the achieved rate is below 90% of --rate {args.rate:g}", file=out)
    calls = ", ".join(f"{k} {v:,} ({v / soak.measured_s:.1f}/s)" for k, v in sorted(soak.calls.items()))
    print(f"backend calls after the warm-up (adapter /metrics): {calls or 'n/a'}", file=out)
    if soak.double_time:
        print("doubles' own time per answer, slowest (sampled every 10 s): " + ", ".join(
            f"{k} {slowest * 1000:.0f} ms of {count:,}" for k, (count, slowest) in sorted(soak.double_time.items())),
            file=out)
    p = percentiles(t.latency)
    if p:
        print(f"latency, client side, after the warm-up: {ms_list(p)}", file=out)
        for kind in MIX:
            pk = percentiles(t.latency_by_kind.get(kind, []))
            if pk:
                print(f"  {kind:<10} {ms_list(pk)}", file=out)
    growth = (soak.rss_end - soak.rss_warm) / soak.rss_warm * 100 if soak.rss_warm else 0.0
    print(f"VmRSS: start {mb(soak.rss_start):.1f} MB, after the warm-up {mb(soak.rss_warm):.1f} MB, end "
          f"{mb(soak.rss_end):.1f} MB ({growth:+.1f}% since the warm-up); VmHWM {mb(soak.hwm_end):.1f} MB "
          f"(MB = 10^6 bytes)", file=out)
    if soak.rss_samples:
        print("  VmRSS every " + f"{args.progress:g} s: "
              + ", ".join(f"{s}s {mb(v):.1f}" for s, v in soak.rss_samples), file=out)
    if not args.rss_check:
        print("  RSS check: off (--no-rss-check)", file=out)
    elif sanitizer:
        print("  RSS check: off for a sanitizer build (ASan's quarantine grows RSS by design)", file=out)
    elif growth > args.rss_limit:
        print(f"  RSS check: FAIL, grew {growth:.1f}% > {args.rss_limit:g}%", file=out)
        failures.append("RSS growth")
    else:
        print(f"  RSS check: pass ({growth:+.1f}% <= {args.rss_limit:g}%)", file=out)
    errors = sum(t.errors.values())
    print("errors: " + (", ".join(f"{k} {v:,}" for k, v in sorted(t.errors.items())) if errors else "none")
          + (f"; the adapter closed {t.reconnects} connection(s) with Connection: close" if t.reconnects else ""),
          file=out)
    if errors:
        failures.append(f"{errors} wrong answer(s)")
        shown = sorted((at, request, kind, what, count) for (_, kind), (at, request, what, count) in t.wrong.items())
        print(f"wrong answers: {len(shown)} distinct request(s) and error kind(s)"
              + (f", the first {MAX_SHOWN} shown" if len(shown) > MAX_SHOWN else "") + ":", file=out)
        for at, request, kind, what, count in shown[:MAX_SHOWN]:
            print(f"  {request}\n    {kind} x{count:,}, first at t={at:.1f}s: {what}", file=out)
    print(f"adapter exit after SIGTERM: {soak.exit_code}; sanitizer reports on its stderr: "
          f"{len(soak.sanitizer_lines) or 'none'}", file=out)
    if soak.exit_code != 0:
        failures.append(f"exit code {soak.exit_code}")
    if soak.sanitizer_lines:
        failures.append("sanitizer report")
    if soak.exit_code != 0 or soak.sanitizer_lines:
        print("  last lines of the adapter's stderr:", file=out)
        for line in soak.adapter_log[-60:]:
            print("    " + line.rstrip(), file=out)
    print(f"result: {'FAIL (' + ', '.join(failures) + ')' if failures else 'PASS'}", file=out)
    return 1 if failures else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.environ.get("SMA_BINARY", DEFAULT_BINARY),
                        help="the adapter binary (default build/sysdig-metrics-adapter of this repo, or $SMA_BINARY)")
    parser.add_argument("--duration", type=float, default=600, help="seconds of load, warm-up included (default 600)")
    parser.add_argument("--rate", type=float, default=1000, help="requests per second (default 1000)")
    parser.add_argument("--connections", type=int, default=16, help="TLS keep-alive connections (default 16)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds before the RSS baseline and the latency record (default 10%% of the duration, "
                             "5 to 60 s, at most half the duration)")
    parser.add_argument("--cache-ttl", default="1s", help="the adapter's --cache-ttl (default 1s)")
    parser.add_argument("--refresh-interval", default="10s",
                        help="the adapter's --refresh-interval for merged queries (default 10s, the adapter's own)")
    parser.add_argument("--no-rss-check", dest="rss_check", action="store_false",
                        help="do not fail on RSS growth (always off for a sanitizer build)")
    parser.add_argument("--rss-limit", type=float, default=10.0,
                        help="allowed VmRSS growth after the warm-up, in percent (default 10)")
    parser.add_argument("--progress", type=float, default=30, help="seconds between progress lines (default 30)")
    parser.add_argument("--quiet", dest="log", action="store_false", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.rate <= 0 or not 1 <= args.connections <= 1000 or args.progress <= 0:
        parser.error("--duration, --rate and --progress must be positive, --connections 1..1000")
    if args.warmup is not None and not 0 <= args.warmup < args.duration:
        parser.error("--warmup must be shorter than --duration")
    try:
        ttl = parse_seconds(args.cache_ttl)
        parse_seconds(args.refresh_interval)
    except ValueError as e:
        parser.error(str(e))
    if ttl <= 0:
        parser.error("--cache-ttl must be positive: the soak checks values through the cache")
    binary = os.path.abspath(args.binary)

    def interrupted(signum, frame):
        raise KeyboardInterrupt  # unwinds through the ExitStack, which stops every process started so far

    signal.signal(signal.SIGTERM, interrupted)
    if not os.access(binary, os.X_OK):
        print(f"soak: no adapter binary at {binary}: build it first (scripts/build.sh)", file=sys.stderr)
        return 1
    sanitizer = harness.sanitizer_reason(binary)
    sanitizer_env = sanitizer_environment() if sanitizer else {}
    try:
        with tempfile.TemporaryDirectory(prefix="sma-soak-") as tmp, contextlib.ExitStack() as stack:
            soak = Soak(args, binary, tmp, stack).run()
            return report(soak, args, binary, sanitizer, sanitizer_env, sys.stdout)
    except HarnessError as e:
        print(f"soak: FAIL: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
