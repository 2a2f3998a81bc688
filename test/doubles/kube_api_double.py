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

New routes (TokenReview, SubjectAccessReview, ConfigMaps, watch) are one entry each in API_ROUTES. The server,
fault injection, request recording and the control API are shared with the other doubles: double_server.py.
"""
import base64
import dataclasses
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import uuid

import double_server
from double_server import FixtureError, json_reply

DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "kube_objects.json")
LIST_SNAPSHOTS_KEPT = 16
DOUBLE_NAME = "kube-api-double"


def log(message):
    double_server.log(DOUBLE_NAME, message)


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
    return parse_fixture(double_server.read_fixture_file(path))


# ---------------------------------------------------------------------------------------------------------
# Replies in the API server's format
# ---------------------------------------------------------------------------------------------------------

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
    service: "KubeApiService"
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
        pods = request.service.store.at(version)
        if pods is None:
            raise Expired(after)
    else:
        version, pods = request.service.store.current()
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
    _, pods = request.service.store.current()
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


def api_reply(service, method, target, headers, body):
    """The normal answer to an API request: auth check, then routing."""
    path, _, query_string = target.partition("?")
    if not service.bearer_token_accepted(headers):
        return unauthorized_reply()
    request = ApiRequest(service, method, path, urllib.parse.parse_qs(query_string, keep_blank_values=True),
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
# The service (server, faults, recording and control API: double_server.py)
# ---------------------------------------------------------------------------------------------------------

def control_compact(service, method, body):
    service.store.compact()
    return json_reply(200, {})


class KubeApiService(double_server.ImitatedService):
    """The versioned objects and the API server's routes, on top of the shared token, faults and request log."""

    name = DOUBLE_NAME
    extra_control_routes = {"/_control/compact": (("POST",), control_compact)}

    def __init__(self, pods, token):
        super().__init__(token)
        self.store = ObjectStore(pods)

    def replace_fixture(self, document):
        pods = parse_fixture(document)
        self.store.replace(pods)
        version, _ = self.store.current()
        return {"pods": len(pods), "resourceVersion": str(version)}

    def api_reply(self, method, target, headers, body):
        return api_reply(self, method, target, headers, body)

    def error_reply(self, path, status, message):
        return status_reply(status, message)   # every path answers errors as a Status

    def unreadable_body_reply(self, message):
        return status_reply(400, message)

    def oversize_prefix(self, path):
        return b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[],"padding":"'


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



class KubeApiDouble(double_server.RunningDouble):
    """The double in-process: start(), port, ca_file, stop(). Also usable as a context manager. Without a
    certificate it makes its own and removes it on stop()."""

    def __init__(self, pods, token, host="127.0.0.1", port=0, cert_file=None, key_file=None, ca_file=None):
        self.generated = None if cert_file else ServingCertificate()
        try:
            cert_file = cert_file or self.generated.cert_file
            key_file = key_file or self.generated.key_file
            self.ca_file = ca_file or cert_file
            super().__init__(KubeApiService(pods, token), host, port,
                             double_server.tls_context(cert_file, key_file))
        except BaseException:
            if self.generated:
                self.generated.remove()
            raise

    def stop(self):
        super().stop()
        if self.generated:
            self.generated.remove()


def parse_args(argv):
    parser = double_server.argument_parser("Fake Kubernetes API server for tests.", DEFAULT_FIXTURE,
                                           fixture_help="objects fixture (JSON List)",
                                           token_help="the accepted bearer token",
                                           tls_cert_help="serving certificate (PEM); generated when absent")
    parser.add_argument("--ca-file", help="what clients should trust, when it is not --tls-cert itself")
    return double_server.parse_arguments(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        pods = load_fixture_file(args.fixture)
        double = KubeApiDouble(pods, args.token, args.bind, args.port, args.tls_cert, args.tls_key, args.ca_file)
    except (OSError, FixtureError, ssl.SSLError) as e:
        log(f"cannot start: {e}")
        return 2
    return double_server.serve_until_signalled(
        double, {"port": double.port, "ca_file": double.ca_file},
        f"listening on {args.bind}:{double.port} (https, {len(pods)} pods from {args.fixture})")


if __name__ == "__main__":
    sys.exit(main())
