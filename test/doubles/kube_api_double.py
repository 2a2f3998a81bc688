#!/usr/bin/env python3
"""A fake Kubernetes API server for the tests of sysdig-metrics-adapter.

It serves HTTPS only, checks the Bearer token, lists pods from a JSON fixture with the full label-selector
grammar and limit/continue paging, injects faults on demand and records every API request. Python 3.11,
standard library only, plus the `openssl` command line to make a serving certificate when none is given.

    python3 kube_api_double.py --port 0 --token SECRET [--fixture fixtures/kube_objects.json]
                               [--bind 127.0.0.1] [--tls-cert C --tls-key K [--ca-file CA]]

prints one line `{"port": N, "ca_file": "<certificate to trust>"}` on stdout once it is listening; everything
else goes to stderr. It exits 0 on SIGTERM/SIGINT and 2 when the fixture or the certificate is unusable.

Fixture: a `kubectl get -o json` style List, `{"kind": "List", "apiVersion": "v1", "items": [<Pod>, ...]}`.
Each Pod needs metadata.name and metadata.namespace; labels are optional, status.phase defaults to Running,
uid/resourceVersion/creationTimestamp are filled in when absent. Only kind Pod is known so far.

API (every path outside /_control/ needs `Authorization: Bearer <token>`, else 401 Status):
    GET /api/v1/pods, GET /api/v1/namespaces/{ns}/pods   labelSelector, limit, continue
    GET /api/v1/namespaces/{ns}/pods/{name}
Errors are metav1.Status objects with the reason Kubernetes uses for the code.

Control API (no token, JSON; not recorded):
    POST/GET/DELETE /_control/faults   {"mode","status","body","headers","latency_ms","count","path_prefix",
                                        "bytes","chunked"}; modes status|garbage|truncate|drop|hang|oversize
    GET/DELETE /_control/requests      recorded API requests: method, path, query, headers (lower-case), body, json
    POST /_control/fixture             replaces the objects (a new resourceVersion); 400 keeps the old ones
    POST /_control/token               {"token": "new"}
    POST /_control/compact             forgets earlier list snapshots: outstanding continue tokens get 410 Expired

New routes (TokenReview, SubjectAccessReview, ConfigMaps, watch) are one entry each in API_ROUTES.
"""
import argparse
import base64
import dataclasses
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import traceback
import urllib.parse
import uuid

DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "kube_objects.json")
CONTROL_PREFIX = "/_control/"
LIST_SNAPSHOTS_KEPT = 16


def log(message):
    print(f"kube-api-double: {message}", file=sys.stderr, flush=True)


def json_bytes(document):
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------------------------------------------------
# Kubernetes name rules (k8s.io/apimachinery/pkg/util/validation)
# ---------------------------------------------------------------------------------------------------------

DNS1123_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
QUALIFIED_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def is_dns_label(text):
    return isinstance(text, str) and len(text) <= 63 and DNS1123_LABEL_RE.fullmatch(text) is not None


def is_dns_subdomain(text):
    return isinstance(text, str) and len(text) <= 253 and DNS1123_SUBDOMAIN_RE.fullmatch(text) is not None


def label_key_problem(key):
    """None for a valid label key ([prefix/]name), else why it is not one."""
    prefix, slash, name = key.rpartition("/")
    if slash and not is_dns_subdomain(prefix):
        return f"prefix part of {key!r} must be a lowercase RFC 1123 subdomain"
    if len(name) > 63 or not QUALIFIED_NAME_RE.fullmatch(name):
        return (f"name part of {key!r} must consist of alphanumeric characters, '-', '_' or '.', and must "
                "start and end with an alphanumeric character (at most 63 characters)")
    return None


def label_value_problem(value):
    if len(value) > 63 or not LABEL_VALUE_RE.fullmatch(value):
        return (f"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                f"'.', and must start and end with an alphanumeric character (at most 63), got {value!r}")
    return None


# ---------------------------------------------------------------------------------------------------------
# Label selectors (k8s.io/apimachinery/pkg/labels: lexer, parser and Requirement.Matches)
# ---------------------------------------------------------------------------------------------------------

class SelectorError(ValueError):
    """A selector the API server refuses with 400 BadRequest."""


SELECTOR_SYMBOLS = ("!=", "==", "=", "!", "(", ")", ",", ">", "<")
SELECTOR_SPECIAL = set("=!(),<>")
SELECTOR_BLANKS = set(" \t\r\n")
EQUALITY_OPERATORS = {"=": "=", "==": "==", "!=": "!="}
SET_OPERATORS = {"in", "notin"}
ORDER_OPERATORS = {">": "gt", "<": "lt"}


@dataclasses.dataclass
class SelectorToken:
    kind: str   # "word", "symbol" or "end"
    text: str


def selector_tokens(text):
    tokens = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in SELECTOR_BLANKS:
            i += 1
        elif char in SELECTOR_SPECIAL:
            symbol = next(s for s in SELECTOR_SYMBOLS if text.startswith(s, i))
            tokens.append(SelectorToken("symbol", symbol))
            i += len(symbol)
        else:
            start = i
            while i < len(text) and text[i] not in SELECTOR_BLANKS and text[i] not in SELECTOR_SPECIAL:
                i += 1
            tokens.append(SelectorToken("word", text[start:i]))
    tokens.append(SelectorToken("end", ""))
    return tokens


@dataclasses.dataclass
class Requirement:
    key: str
    operator: str   # =, ==, !=, in, notin, exists, !exists, gt, lt
    values: list

    def matches(self, labels):
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator in ("=", "==", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        if self.operator == "exists":
            return present
        if self.operator == "!exists":
            return not present
        try:
            actual = int(value) if present else None
        except ValueError:
            return False
        if actual is None:
            return False
        bound = int(self.values[0])
        return actual > bound if self.operator == "gt" else actual < bound


class SelectorParser:
    def __init__(self, text):
        self.tokens = selector_tokens(text)
        self.position = 0

    def peek(self):
        return self.tokens[self.position]

    def take(self):
        token = self.tokens[self.position]
        self.position += 1
        return token

    @staticmethod
    def shown(token):
        return "end of string" if token.kind == "end" else repr(token.text)

    def fail(self, token, expected):
        raise SelectorError(f"unable to parse requirement: found {self.shown(token)}, expected: {expected}")

    def parse(self):
        requirements = []
        while self.peek().kind != "end":
            start = self.peek()
            if start.kind != "word" and start.text != "!":
                self.fail(start, "!, identifier, or 'end of string'")
            requirements.append(self.requirement())
            separator = self.take()
            if separator.kind == "end":
                break
            if separator.text != ",":
                self.fail(separator, "',' or 'end of string'")
            following = self.peek()
            if following.kind != "word" and following.text != "!":
                self.fail(following, "identifier after ','")
        return requirements

    def requirement(self):
        negated = self.peek().text == "!" and self.peek().kind == "symbol"
        if negated:
            self.take()
        key_token = self.take()
        if key_token.kind != "word":
            self.fail(key_token, "identifier")
        key = key_token.text
        problem = label_key_problem(key)
        if problem:
            raise SelectorError(f"unable to parse requirement: {problem}")
        following = self.peek()
        if following.kind == "end" or following.text == ",":
            return Requirement(key, "!exists" if negated else "exists", [])
        if negated:
            self.fail(following, "',' or 'end of string'")
        operator_token = self.take()
        if operator_token.kind == "symbol" and operator_token.text in EQUALITY_OPERATORS:
            return self.checked(Requirement(key, operator_token.text, [self.exact_value()]))
        if operator_token.kind == "symbol" and operator_token.text in ORDER_OPERATORS:
            value = self.exact_value()
            if not re.fullmatch(r"-?\d+", value):
                raise SelectorError("unable to parse requirement: for 'Gt', 'Lt' operators, the value must be "
                                    "an integer")
            return Requirement(key, ORDER_OPERATORS[operator_token.text], [value])
        if operator_token.kind == "word" and operator_token.text in SET_OPERATORS:
            values = self.value_set()
            if not values:
                raise SelectorError("unable to parse requirement: for 'in', 'notin' operators, values set "
                                    "can't be empty")
            return self.checked(Requirement(key, operator_token.text, values))
        self.fail(operator_token, "[!=, ==, =, >, <, in, notin]")

    def exact_value(self):
        following = self.peek()
        if following.kind == "end" or following.text == ",":
            return ""  # "a=" selects the empty value
        token = self.take()
        if token.kind != "word":
            self.fail(token, "identifier")
        return token.text

    def value_set(self):
        opening = self.take()
        if opening.text != "(":
            self.fail(opening, "'('")
        values = []
        expect_value = True
        while True:
            token = self.take()
            if token.text == ")" and token.kind == "symbol":
                if expect_value and values:
                    values.append("")  # "(a,)" holds "a" and ""
                break
            if token.kind == "word" and expect_value:
                values.append(token.text)
                expect_value = False
            elif token.text == "," and token.kind == "symbol":
                if expect_value:
                    values.append("")  # "(,a)" and "(a,,b)" hold ""
                expect_value = True
            else:
                self.fail(token, "',', ')' or identifier")
        return sorted(set(values))

    @staticmethod
    def checked(requirement):
        for value in requirement.values:
            problem = label_value_problem(value)
            if problem:
                raise SelectorError(f"unable to parse requirement: values[0][{requirement.key}]: Invalid value: "
                                    f"{value!r}: {problem}")
        return requirement


def parse_selector(text):
    """The requirements of a label selector string; all must match (comma is AND)."""
    return SelectorParser(text).parse()


def selector_matches(requirements, labels):
    return all(requirement.matches(labels) for requirement in requirements)


# ---------------------------------------------------------------------------------------------------------
# Fixture
# ---------------------------------------------------------------------------------------------------------

class FixtureError(ValueError):
    """The fixture document does not have the documented shape."""


POD_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
KNOWN_ITEM_KEYS = {"kind", "apiVersion", "metadata", "spec", "status"}
FIXED_CREATION_TIMESTAMP = "2026-01-01T00:00:00Z"


def parse_pod(index, item):
    where = f"items[{index}]"
    unknown = set(item) - KNOWN_ITEM_KEYS
    if unknown:
        raise FixtureError(f"{where} has unknown keys {sorted(unknown)}")
    if item.get("apiVersion", "v1") != "v1":
        raise FixtureError(f"{where}: a Pod has apiVersion v1")
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        raise FixtureError(f"{where}.metadata must be an object")
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not is_dns_subdomain(name):
        raise FixtureError(f"{where}.metadata.name must be a lowercase RFC 1123 subdomain")
    if not is_dns_label(namespace):
        raise FixtureError(f"{where}.metadata.namespace must be a lowercase RFC 1123 label")
    labels = metadata.get("labels", {})
    if not isinstance(labels, dict):
        raise FixtureError(f"{where}.metadata.labels must be an object")
    for key, value in labels.items():
        if not isinstance(value, str):
            raise FixtureError(f"{where}.metadata.labels.{key} must be a string")
        problem = label_key_problem(key) or label_value_problem(value)
        if problem:
            raise FixtureError(f"{where}.metadata.labels: {problem}")
    status = item.get("status", {})
    if not isinstance(status, dict) or status.get("phase", "Running") not in POD_PHASES:
        raise FixtureError(f"{where}.status.phase must be one of {list(POD_PHASES)}")
    spec = item.get("spec", {})
    if not isinstance(spec, dict):
        raise FixtureError(f"{where}.spec must be an object")

    # As the API server writes it: list items carry no kind/apiVersion, metadata is filled in.
    pod_metadata = {"name": name, "namespace": namespace,
                    "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"pods/{namespace}/{name}")),
                    "resourceVersion": str(1000 + index),
                    "creationTimestamp": FIXED_CREATION_TIMESTAMP}
    pod_metadata.update(metadata)
    pod_metadata["labels"] = dict(labels)
    if not labels:
        del pod_metadata["labels"]  # omitempty, as Go writes it
    return {"metadata": pod_metadata, "spec": dict(spec), "status": {"phase": "Running", **status}}


def parse_fixture(document):
    """Validates a fixture document; returns its pods in storage order."""
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise FixtureError('a fixture is a List object {"kind": "List", "apiVersion": "v1", "items": [...]}')
    unknown = set(document) - {"kind", "apiVersion", "metadata", "items"}
    if unknown:
        raise FixtureError(f"fixture has unknown keys {sorted(unknown)}")
    pods = []
    for index, item in enumerate(document["items"]):
        if not isinstance(item, dict):
            raise FixtureError(f"items[{index}] must be an object")
        if item.get("kind") != "Pod":
            raise FixtureError(f"items[{index}]: kind {item.get('kind')!r} is not supported (only Pod)")
        pods.append(parse_pod(index, item))
    seen = set()
    for pod in pods:
        identity = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        if identity in seen:
            raise FixtureError(f"duplicate pod {identity[0]}/{identity[1]}")
        seen.add(identity)
    return sorted(pods, key=storage_key)


def storage_key(pod):
    """Where etcd keeps the object; lists come back in this (byte-wise) order and continue tokens point into it."""
    return f'{pod["metadata"]["namespace"]}/{pod["metadata"]["name"]}'


def load_fixture_file(path):
    with open(path, encoding="utf-8") as f:
        try:
            document = json.load(f)
        except json.JSONDecodeError as e:
            raise FixtureError(f"{path} is not JSON: {e}") from e
    return parse_fixture(document)


# ---------------------------------------------------------------------------------------------------------
# Replies in the API server's format
# ---------------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict = dataclasses.field(default_factory=dict)


def json_reply(status, document, headers=None):
    return Reply(status, json_bytes(document), headers=dict(headers or {}))


# metav1.StatusReason for each code, as the API server picks them.
STATUS_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                  405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
                  415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
                  503: "ServiceUnavailable", 504: "Timeout"}


def status_reply(code, message, details=None, headers=None):
    """A metav1.Status failure, field order as the API server writes it."""
    document = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                "reason": STATUS_REASONS.get(code, "Unknown")}
    if details is not None:
        document["details"] = details
    document["code"] = code
    return json_reply(code, document, headers)


def unauthorized_reply():
    return status_reply(401, "Unauthorized")


def not_found_reply():
    return status_reply(404, "the server could not find the requested resource", {})


# ---------------------------------------------------------------------------------------------------------
# Objects and list snapshots
# ---------------------------------------------------------------------------------------------------------

class ObjectStore:
    """The pods, versioned: every replacement is a new resourceVersion, and recent versions stay readable so
    continue tokens read a consistent list, as etcd snapshots give the real API server."""

    def __init__(self, pods):
        self._lock = threading.Lock()
        self._version = 5000
        self._snapshots = {self._version: list(pods)}

    def current(self):
        with self._lock:
            return self._version, self._snapshots[self._version]

    def at(self, version):
        with self._lock:
            return self._snapshots.get(version)

    def replace(self, pods):
        with self._lock:
            self._version += 1
            self._snapshots[self._version] = list(pods)
            for old in sorted(self._snapshots)[:-LIST_SNAPSHOTS_KEPT]:
                del self._snapshots[old]

    def compact(self):
        with self._lock:
            self._snapshots = {self._version: self._snapshots[self._version]}


# ---------------------------------------------------------------------------------------------------------
# API routes
# ---------------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class ApiRequest:
    state: "DoubleState"
    method: str
    path: str
    query: dict      # name -> [values]
    headers: object  # http.client.HTTPMessage
    body: bytes

    def param(self, name):
        values = self.query.get(name)
        return values[0] if values else ""


class BadRequest(ValueError):
    pass


class Expired(ValueError):
    pass


def encode_continue(version, last_key):
    # The shape the API server uses: {"v":"meta.k8s.io/v1","rv":N,"start":"<ns>/<name>\u0000"}, base64url.
    token = json.dumps({"v": "meta.k8s.io/v1", "rv": version, "start": last_key + "\u0000"},
                       separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def decode_continue(token):
    try:
        padded = token + "=" * (-len(token) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        version, start = document["rv"], document["start"]
        if document.get("v") != "meta.k8s.io/v1" or not isinstance(version, int) or not isinstance(start, str):
            raise ValueError("unexpected fields")
        return version, start.rstrip("\u0000")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise BadRequest(f"continue key is not valid: {e}") from e


def list_limit(request):
    text = request.param("limit")
    if text == "":
        return 0
    if not re.fullmatch(r"\d{1,9}", text):
        raise BadRequest(f'limit: Invalid value: "{text}": must be a non-negative integer')
    return int(text)


def list_pods(request, namespace=None):
    limit = list_limit(request)
    requirements = parse_selector(request.param("labelSelector"))
    token = request.param("continue")
    if token:
        version, after = decode_continue(token)
        pods = request.state.store.at(version)
        if pods is None:
            raise Expired(after)
    else:
        version, pods = request.state.store.current()
        after = ""
    selected = [p for p in pods
                if (namespace is None or p["metadata"]["namespace"] == namespace)
                and storage_key(p) > after
                and selector_matches(requirements, p["metadata"].get("labels", {}))]
    metadata = {"resourceVersion": str(version)}
    if limit and len(selected) > limit:
        metadata["continue"] = encode_continue(version, storage_key(selected[limit - 1]))
        if not requirements:
            metadata["remainingItemCount"] = len(selected) - limit  # only set without a selector, as upstream
        selected = selected[:limit]
    return json_reply(200, {"kind": "PodList", "apiVersion": "v1", "metadata": metadata, "items": selected})


def get_pod(request, namespace, name):
    _, pods = request.state.store.current()
    for pod in pods:
        if pod["metadata"]["namespace"] == namespace and pod["metadata"]["name"] == name:
            return json_reply(200, {"kind": "Pod", "apiVersion": "v1", **pod})
    return status_reply(404, f'pods "{name}" not found', {"name": name, "kind": "pods"})


@dataclasses.dataclass
class Route:
    method: str
    pattern: re.Pattern
    handler: object


def route(method, pattern, handler):
    return Route(method, re.compile(pattern), handler)


NAME = r"[^/]+"
API_ROUTES = [
    route("GET", r"/api/v1/pods", list_pods),
    route("GET", rf"/api/v1/namespaces/(?P<namespace>{NAME})/pods", list_pods),
    route("GET", rf"/api/v1/namespaces/(?P<namespace>{NAME})/pods/(?P<name>{NAME})", get_pod),
]

EXPIRED_MESSAGE = ("The provided continue parameter is too old to display a consistent list result. You can start a "
                   "new list without the continue parameter.")


def api_reply(state, method, target, headers, body):
    """The normal answer to an API request: auth check, then routing."""
    path, _, query_string = target.partition("?")
    scheme, _, credentials = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not state.token_matches(credentials.strip()):
        return unauthorized_reply()
    request = ApiRequest(state, method, path, urllib.parse.parse_qs(query_string, keep_blank_values=True),
                         headers, body)
    path_matched = False
    for candidate in API_ROUTES:
        match = candidate.pattern.fullmatch(path)
        if not match:
            continue
        path_matched = True
        if candidate.method != method:
            continue
        try:
            return candidate.handler(request, **match.groupdict())
        except (BadRequest, SelectorError) as e:
            return status_reply(400, str(e))
        except Expired:
            return status_reply(410, EXPIRED_MESSAGE)
    if path_matched:
        return status_reply(405, "the server does not allow this method on the requested resource")
    return not_found_reply()


# ---------------------------------------------------------------------------------------------------------
# Fault injection
# ---------------------------------------------------------------------------------------------------------

FAULT_MODES = ("status", "garbage", "truncate", "drop", "hang", "oversize")
FAULT_KEYS = {"mode", "status", "body", "latency_ms", "count", "path_prefix", "bytes", "chunked", "headers"}
DEFAULT_OVERSIZE_BYTES = 32 * 1024 * 1024
GARBAGE_BODY = b"<html><head><title>502 Bad Gateway</title></head>\r\n\x00\xff\xfe{{not json"


@dataclasses.dataclass
class Fault:
    mode: str | None          # None: latency only
    status: int
    body: str | None
    latency_ms: int
    remaining: int | None     # None: until cleared
    path_prefix: str
    size_bytes: int
    chunked: bool
    headers: dict

    def describe(self):
        return {"mode": self.mode, "status": self.status, "body": self.body, "latency_ms": self.latency_ms,
                "count": self.remaining, "path_prefix": self.path_prefix, "bytes": self.size_bytes,
                "chunked": self.chunked, "headers": self.headers}


def whole_number(document, key, default, minimum=0):
    value = document.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"'{key}' must be an integer >= {minimum}")
    return value


def parse_fault(document):
    if not isinstance(document, dict):
        raise ValueError("a fault is a JSON object")
    unknown = set(document) - FAULT_KEYS
    if unknown:
        raise ValueError(f"unknown fault keys {sorted(unknown)}")
    mode = document.get("mode", "status" if "status" in document else None)
    if mode is not None and mode not in FAULT_MODES:
        raise ValueError(f"'mode' must be one of {list(FAULT_MODES)}")
    status = document.get("status", 503)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError("'status' must be an HTTP status code")
    body = document.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError("'body' must be a string")
    count = document.get("count")
    if count is not None:
        count = whole_number(document, "count", None, minimum=1)
    path_prefix = document.get("path_prefix", "")
    if not isinstance(path_prefix, str):
        raise ValueError("'path_prefix' must be a string")
    headers = document.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ValueError("'headers' must be an object of strings")
    latency_ms = whole_number(document, "latency_ms", 0)
    if mode is None and latency_ms == 0:
        raise ValueError("the fault does nothing: give a 'mode', a 'status' or a 'latency_ms'")
    return Fault(mode, status, body, latency_ms, count, path_prefix,
                 whole_number(document, "bytes", DEFAULT_OVERSIZE_BYTES), bool(document.get("chunked", False)),
                 dict(headers))


# ---------------------------------------------------------------------------------------------------------
# Shared state
# ---------------------------------------------------------------------------------------------------------

class DoubleState:
    """Objects, token, faults and request log, shared by the handler threads."""

    def __init__(self, pods, token):
        self.store = ObjectStore(pods)
        self._lock = threading.Lock()
        self._token = token
        self._faults = []
        self._requests = []

    def token_matches(self, presented):
        with self._lock:
            token = self._token
        return secrets.compare_digest(presented.encode("utf-8"), token.encode("utf-8"))

    def replace_token(self, token):
        with self._lock:
            self._token = token

    def add_fault(self, fault):
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def faults(self):
        with self._lock:
            return [f.describe() for f in self._faults]

    def take_fault(self, path):
        """The first fault whose prefix matches `path`, counted against its budget."""
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def record(self, entry):
        with self._lock:
            self._requests.append(entry)

    def requests(self):
        with self._lock:
            return list(self._requests)

    def clear_requests(self):
        with self._lock:
            self._requests.clear()


def request_record(method, target, headers, body):
    """What /_control/requests shows for one API request."""
    path, _, query_string = target.partition("?")
    text = body.decode("utf-8", "replace")
    lowered = {}
    for name, value in headers.items():
        key = name.lower()
        lowered[key] = f"{lowered[key]}, {value}" if key in lowered else value
    try:
        parsed = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        parsed = None
    return {"method": method, "path": path, "query": urllib.parse.parse_qs(query_string, keep_blank_values=True),
            "headers": lowered, "body": text, "json": parsed}


# ---------------------------------------------------------------------------------------------------------
# Control API
# ---------------------------------------------------------------------------------------------------------

def control_error(status, message):
    return json_reply(status, {"message": message})


def parse_json_body(body):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"body is not JSON: {e}") from e


def control_faults(state, method, body):
    if method == "DELETE":
        state.clear_faults()
    elif method == "POST":
        state.add_fault(parse_fault(parse_json_body(body)))
    return json_reply(200, {"faults": state.faults()})


def control_requests(state, method, body):
    if method == "DELETE":
        state.clear_requests()
        return json_reply(200, [])
    return json_reply(200, state.requests())


def control_fixture(state, method, body):
    try:
        pods = parse_fixture(parse_json_body(body))
    except FixtureError as e:
        raise ValueError(f"invalid fixture: {e}") from e
    state.store.replace(pods)
    version, _ = state.store.current()
    return json_reply(200, {"pods": len(pods), "resourceVersion": str(version)})


def control_token(state, method, body):
    document = parse_json_body(body)
    token = document.get("token") if isinstance(document, dict) else None
    if not isinstance(token, str) or not token:
        raise ValueError('expected {"token": "<non-empty string>"}')
    state.replace_token(token)
    return json_reply(200, {})


def control_compact(state, method, body):
    state.store.compact()
    return json_reply(200, {})


CONTROL_ROUTES = {
    "/_control/faults": (("GET", "POST", "DELETE"), control_faults),
    "/_control/requests": (("GET", "DELETE"), control_requests),
    "/_control/fixture": (("POST",), control_fixture),
    "/_control/token": (("POST",), control_token),
    "/_control/compact": (("POST",), control_compact),
}


def control_reply(state, method, path, body):
    entry = CONTROL_ROUTES.get(path)
    if entry is None:
        return control_error(404, f"unknown control endpoint {path}")
    methods, handler = entry
    if method not in methods:
        return control_error(405, f"{path} accepts {', '.join(methods)}")
    try:
        return handler(state, method, body)
    except ValueError as e:
        return control_error(400, str(e))


# ---------------------------------------------------------------------------------------------------------
# HTTP server
# ---------------------------------------------------------------------------------------------------------

class MalformedBody(ValueError):
    pass


class DoubleRequestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, Content-Length on every answer
    server_version = "kube-api-double/1.0"
    sys_version = ""

    def setup(self):
        # The TLS handshake happens here, in the connection's own thread, so a stuck client blocks nobody.
        self.request.settimeout(10)
        self.request.do_handshake()
        self.request.settimeout(None)
        super().setup()

    def log_message(self, format, *args):
        log(f"{self.address_string()} {format % args}")

    def do_GET(self):
        self.handle_request()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size_line = self.rfile.readline(1024).split(b";")[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError as e:
                    raise MalformedBody(f"bad chunk size {size_line!r}") from e
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not (length.isascii() and length.isdigit()):
            raise MalformedBody(f"bad Content-Length {length!r}")
        return self.rfile.read(int(length))

    def handle_request(self):
        try:
            body = self.read_body()
        except MalformedBody as e:
            self.close_connection = True
            self.send_reply(status_reply(400, str(e)))
            return
        state = self.server.state
        path = self.path.partition("?")[0]
        if path.startswith(CONTROL_PREFIX):
            self.send_reply(control_reply(state, self.command, path, body))
            return
        state.record(request_record(self.command, self.path, self.headers, body))
        fault = state.take_fault(path)
        if fault is not None and fault.latency_ms and self.server.stopping.wait(fault.latency_ms / 1000):
            self.close_connection = True
            return
        self.answer(fault, body)

    def answer(self, fault, body):
        mode = fault.mode if fault else None
        if mode == "drop":
            self.close_connection = True
        elif mode == "hang":
            self.hang()
        elif mode == "garbage":
            self.send_reply(Reply(200, GARBAGE_BODY))
        elif mode == "oversize":
            self.send_oversize(fault)
        elif mode == "status":
            self.send_reply(self.injected_status(fault))
        else:
            reply = self.normal_reply(body)
            if mode == "truncate":
                self.close_connection = True
                self.send_head(reply.status, reply.content_type, len(reply.body), reply.headers)
                self.wfile.write(reply.body[:len(reply.body) // 2])
                self.wfile.flush()
            else:
                self.send_reply(reply)

    def normal_reply(self, body):
        try:
            return api_reply(self.server.state, self.command, self.path, self.headers, body)
        except Exception:  # a bug in the double must show up as a 500, not a dead connection
            log(traceback.format_exc())
            return status_reply(500, "internal error in kube-api-double")

    @staticmethod
    def injected_status(fault):
        if fault.body is None:
            reply = status_reply(fault.status, f"injected fault: HTTP {fault.status}")
        else:
            try:
                json.loads(fault.body)
                content_type = "application/json"
            except json.JSONDecodeError:
                content_type = "text/plain; charset=utf-8"
            reply = Reply(fault.status, fault.body.encode("utf-8"), content_type)
        reply.headers.update(fault.headers)
        return reply

    def send_head(self, status, content_type, length=None, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def send_reply(self, reply):
        self.send_head(reply.status, reply.content_type, len(reply.body), reply.headers)
        self.wfile.write(reply.body)

    def hang(self):
        """Never answer; return once the client hangs up or the double stops."""
        self.close_connection = True
        sock = self.connection
        sock.settimeout(0.2)
        while not self.server.stopping.is_set():
            try:
                if not sock.recv(4096):
                    return
            except (TimeoutError, ssl.SSLWantReadError):
                continue
            except (OSError, ValueError):
                return

    def send_oversize(self, fault):
        prefix = b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[],"padding":"'
        suffix = b'"}'
        padding = max(0, fault.size_bytes - len(prefix) - len(suffix))
        self.send_head(200, "application/json", None if fault.chunked else len(prefix) + padding + len(suffix),
                       fault.headers)
        try:
            self.write_piece(prefix, fault.chunked)
            block = b"x" * 65536
            while padding > 0:
                self.write_piece(block[:padding], fault.chunked)
                padding -= min(padding, len(block))
            self.write_piece(suffix, fault.chunked)
            if fault.chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True   # the client stopped reading, as a size limit should make it

    def write_piece(self, data, chunked):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)


class DoubleHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True      # hanging connections must not keep the process alive
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, state, ssl_context):
        self.state = state
        self.ssl_context = ssl_context
        self.stopping = threading.Event()
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, DoubleRequestHandler)

    def server_bind(self):
        # HTTPServer.server_bind resolves the host name, which can stall on machines without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, address = super().get_request()
        # Head and body go out as separate writes; without this, Nagle and delayed ACKs add 40 ms to each answer.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, ssl.SSLError, TimeoutError)):
            log(f"{client_address[0]} connection ended: {error!r}")
        else:
            super().handle_error(request, client_address)


# ---------------------------------------------------------------------------------------------------------
# TLS material and the double as an object
# ---------------------------------------------------------------------------------------------------------

class ServingCertificate:
    """A throwaway self-signed ECDSA certificate for localhost, 127.0.0.1 and ::1, made with the openssl command
    line in a private temporary directory; remove() deletes it. The certificate is its own CA."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="kube-api-double-")
        self.cert_file = os.path.join(self.directory, "serving.crt")
        self.key_file = os.path.join(self.directory, "serving.key")
        try:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", self.key_file, "-out", self.cert_file, "-days", "2",
                            "-subj", "/CN=kube-api-double",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"],
                           check=True, capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as e:
            self.remove()
            raise OSError(f"cannot generate a serving certificate with openssl: {e}") from e

    def remove(self):
        shutil.rmtree(self.directory, ignore_errors=True)


def tls_context(cert_file, key_file):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


class KubeApiDouble:
    """The double in-process: start(), port, ca_file, stop(). Also usable as a context manager. Without a
    certificate it makes its own and removes it on stop()."""

    def __init__(self, pods, token, host="127.0.0.1", port=0, cert_file=None, key_file=None, ca_file=None):
        self.generated = None if cert_file else ServingCertificate()
        try:
            cert_file = cert_file or self.generated.cert_file
            key_file = key_file or self.generated.key_file
            self.ca_file = ca_file or cert_file
            self.state = DoubleState(pods, token)
            self.server = DoubleHTTPServer((host, port), self.state, tls_context(cert_file, key_file))
        except BaseException:
            if self.generated:
                self.generated.remove()
            raise
        # A short poll interval lets stop() (and so SIGTERM) take effect at once.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="kube-api-double", daemon=True)

    @property
    def port(self):
        return self.server.server_address[1]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        if self.generated:
            self.generated.remove()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Fake Kubernetes API server for tests.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--token", required=True, help="the accepted bearer token")
    parser.add_argument("--fixture", default=DEFAULT_FIXTURE, help="objects fixture (JSON List)")
    parser.add_argument("--tls-cert", help="serving certificate (PEM); generated when absent")
    parser.add_argument("--tls-key", help="private key for --tls-cert (PEM)")
    parser.add_argument("--ca-file", help="what clients should trust, when it is not --tls-cert itself")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        pods = load_fixture_file(args.fixture)
        double = KubeApiDouble(pods, args.token, args.bind, args.port, args.tls_cert, args.tls_key, args.ca_file)
    except (OSError, FixtureError, ssl.SSLError) as e:
        log(f"cannot start: {e}")
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    double.start()
    print(json.dumps({"port": double.port, "ca_file": double.ca_file}), flush=True)
    log(f"listening on {args.bind}:{double.port} (https, {len(pods)} pods from {args.fixture})")
    while not stop.wait(0.5):
        pass
    double.stop()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
