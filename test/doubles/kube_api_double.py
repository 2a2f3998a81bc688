#!/usr/bin/env python3
"""A fake Kubernetes API server for the tests of sysdig-metrics-adapter.

It serves HTTPS only, checks the Bearer token, lists pods from a JSON fixture with the full label-selector
grammar and limit/continue paging, answers the reviews an aggregated API server's delegated authentication and
authorization send (TokenReview, SubjectAccessReview) and serves the extension-apiserver-authentication ConfigMap.
It injects faults on demand and records every API request. Python 3.11, standard library only, plus the
`openssl` command line to make a serving certificate when none is given.

    python3 kube_api_double.py --port 0 --token SECRET [--fixture fixtures/kube_objects.json]
                               [--bind 127.0.0.1] [--tls-cert C --tls-key K [--ca-file CA]]
                               [--bookmark-interval 1]

prints one line `{"port": N, "ca_file": "<certificate to trust>"}` on stdout once it is listening; everything
else goes to stderr. It exits 0 on SIGTERM/SIGINT and 2 when the fixture or the certificate is unusable.

Fixture: a `kubectl get -o json` style List, `{"kind": "List", "apiVersion": "v1", "items": [<Pod>, ...]}`.
Each Pod needs metadata.name and metadata.namespace; labels are optional, status.phase defaults to Running,
uid/resourceVersion/creationTimestamp are filled in when absent. Only kind Pod is known so far. Optional
top-level keys `tokens`, `policy` and `authenticationConfigMap` take the bodies of the control routes below.

API (every path outside /_control/ needs `Authorization: Bearer <token>`, else 401 Status):
    GET /api/v1/pods, GET /api/v1/namespaces/{ns}/pods   labelSelector, limit, continue
        with watch=1: resourceVersion, timeoutSeconds, allowWatchBookmarks; JSON lines of watch events (every
        change a /_control/fixture makes is one ADDED/MODIFIED/DELETED event with its own resourceVersion)
    GET /api/v1/namespaces/{ns}/pods/{name}
    POST /apis/authentication.k8s.io/v1/tokenreviews            TokenReview, answered from the token table
    POST /apis/authorization.k8s.io/v1/subjectaccessreviews     SubjectAccessReview, answered by the policy
    GET /api/v1/namespaces/{ns}/configmaps/{name}               only kube-system/extension-apiserver-authentication
    GET/PUT /api/v1/namespaces/{ns}/secrets/{name}, POST /api/v1/namespaces/{ns}/secrets
    GET/PATCH /apis/apiregistration.k8s.io/v1/apiservices/{name}  JSON merge patch only
    GET /apis/autoscaling/{v2,v2beta2}/namespaces/{ns}/horizontalpodautoscalers/{name}
    GET /apis/apps/v1/namespaces/{ns}/{deployments,statefulsets}/{name}[/scale]   (/scale: an autoscaling/v1 Scale)
    GET /version
        (Secrets and APIServices behave as the API server's registry does: kube_stored_objects.py)
Errors are metav1.Status objects with the reason Kubernetes uses for the code.

Control API (no token, JSON; not recorded):
    POST/GET/DELETE /_control/faults   {"mode","status","body","headers","latency_ms","count","path_prefix",
                                        "bytes","chunked"}; modes status|garbage|truncate|drop|hang|oversize
    GET/DELETE /_control/requests      recorded API requests: method, path, query, headers (lower-case), body, json
    POST /_control/fixture             replaces the objects (a new resourceVersion) and the tokens, policy and
                                       ConfigMap (keys it leaves out become empty); 400 keeps the old ones
    POST /_control/token               {"token": "new"}
    POST /_control/compact             forgets earlier list snapshots and events: outstanding continue tokens get
                                       410 Expired, watches from earlier versions an ERROR event with a 410 Status
    POST /_control/break-watches       cuts every open watch mid-stream (as an API server restart does);
                                       {"namespace": "x"} only the watches of namespace x
    POST /_control/tokens              {"<token>": {"username", "uid", "groups", "extra", "audiences"}, ...}
    POST /_control/policy              {"rules": [{"users", "groups", "verbs", "apiGroups", "resources",
                                        "namespaces", "resourceNames", "nonResourceURLs", "deny"}, ...]}
    POST /_control/configmap           {"data": {...}} sets the authentication ConfigMap, {"data": null} removes it
    GET/POST /_control/objects         the stored Secrets, APIServices, HPAs, Deployments, StatefulSets and the
                                       version; POST {"secrets", "apiServices", "horizontalPodAutoscalers",
                                       "deployments", "statefulSets", "version"} replaces them

New routes (ConfigMap lists, watch, ...) are one entry each in API_ROUTES. The server, fault injection, request
recording and the control API are shared with the other doubles: double_server.py.
"""
import base64
import bisect
import dataclasses
import itertools
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import double_server
import kube_stored_objects
from double_server import FixtureError, json_bytes, json_reply

DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "kube_objects.json")
LIST_SNAPSHOTS_KEPT = 16
WATCH_EVENTS_KEPT = 100000
BOOKMARK_INTERVAL_SECONDS = 1.0   # the real API server sends one about every minute; often, to be exercised
                                  # (--bookmark-interval: the benchmark's thousand watches use 60, as upstream)
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
    unknown = set(document) - {"kind", "apiVersion", "metadata", "items"} - AUTH_FIXTURE_KEYS
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


def parse_fixture_document(document):
    """(pods, AuthConfig) of a whole fixture document: the objects, then the optional delegated-auth keys."""
    pods = parse_fixture(document)
    return pods, parse_auth(document)


def load_fixture_file(path):
    return parse_fixture(double_server.read_fixture_file(path))


def load_fixture(path):
    return parse_fixture_document(double_server.read_fixture_file(path))


# ---------------------------------------------------------------------------------------------------------
# Delegated authentication and authorization: the token table, the policy and the authentication ConfigMap
# ---------------------------------------------------------------------------------------------------------

# What the API server answers TokenReviews for when the review names no audiences (its --api-audiences, which
# default to the service account issuer).
API_SERVER_AUDIENCES = ("https://kubernetes.default.svc.cluster.local",)
AUTHENTICATION_CONFIGMAP = ("kube-system", "extension-apiserver-authentication")
AUTH_FIXTURE_KEYS = {"tokens", "policy", "authenticationConfigMap"}
TOKEN_ENTRY_KEYS = {"username", "uid", "groups", "extra", "audiences"}
RULE_LIST_KEYS = ("users", "groups", "verbs", "apiGroups", "resources", "namespaces", "resourceNames",
                  "nonResourceURLs")
RESOURCE_RULE_KEYS = {"apiGroups", "resources", "namespaces", "resourceNames"}
CONFIGMAP_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")


@dataclasses.dataclass(frozen=True)
class AuthConfig:
    """What the delegated-auth routes answer from. Replaced whole, never changed in place."""
    tokens: dict = dataclasses.field(default_factory=dict)   # token -> {"user": UserInfo, "audiences": [...]}
    rules: tuple = ()                                        # validated policy rules, in order
    configmap_data: dict | None = None                       # None: the ConfigMap does not exist


def is_string_list(value):
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def parse_extra(value, where):
    """A user's extra (map[string][]string), keys sorted as Go writes maps."""
    if not isinstance(value, dict) or not all(is_string_list(v) for v in value.values()):
        raise FixtureError(f"{where} must be an object of string lists")
    return {key: list(value[key]) for key in sorted(value)}


def parse_tokens(document, where="tokens"):
    """The token table: token -> {"user": the UserInfo a TokenReview reports, "audiences": what it is valid for}.
    Error messages never quote a token."""
    if not isinstance(document, dict):
        raise FixtureError(f'{where} must be an object {{"<token>": {{"username": ...}}, ...}}')
    table = {}
    for position, (token, entry) in enumerate(document.items()):
        at = f"{where} entry #{position + 1}"
        if not token:
            raise FixtureError(f"{at}: the token must be a non-empty string")
        if not isinstance(entry, dict):
            raise FixtureError(f"{at} must be an object")
        unknown = set(entry) - TOKEN_ENTRY_KEYS
        if unknown:
            raise FixtureError(f"{at} has unknown keys {sorted(unknown)}")
        username = entry.get("username")
        if not isinstance(username, str) or not username:
            raise FixtureError(f"{at}: 'username' must be a non-empty string")
        uid = entry.get("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"users/{username}")))
        if not isinstance(uid, str):
            raise FixtureError(f"{at}: 'uid' must be a string")
        groups = entry.get("groups", [])
        if not is_string_list(groups):
            raise FixtureError(f"{at}: 'groups' must be a list of strings")
        extra = parse_extra(entry.get("extra", {}), f"{at}: 'extra'")
        audiences = entry.get("audiences", list(API_SERVER_AUDIENCES))
        if not is_string_list(audiences) or not audiences:
            raise FixtureError(f"{at}: 'audiences' must be a non-empty list of strings")
        # authenticationv1.UserInfo, every field omitempty.
        user = {key: value for key, value in
                (("username", username), ("uid", uid), ("groups", list(groups)), ("extra", extra)) if value}
        table[token] = {"user": user, "audiences": list(audiences)}
    return table


def parse_policy(document, where="policy"):
    """The policy's rules, checked; see rule_matches for what each field means."""
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise FixtureError(f'{where} must be an object {{"rules": [...]}}')
    unknown = set(document) - {"rules"}
    if unknown:
        raise FixtureError(f"{where} has unknown keys {sorted(unknown)}")
    rules = []
    for index, rule in enumerate(document["rules"]):
        at = f"{where}.rules[{index}]"
        if not isinstance(rule, dict):
            raise FixtureError(f"{at} must be an object")
        unknown = set(rule) - set(RULE_LIST_KEYS) - {"deny"}
        if unknown:
            raise FixtureError(f"{at} has unknown keys {sorted(unknown)}")
        for key in RULE_LIST_KEYS:
            if key in rule and (not is_string_list(rule[key]) or not rule[key]):
                raise FixtureError(f"{at}.{key} must be a non-empty list of strings (leave it out to match any)")
        if not isinstance(rule.get("deny", False), bool):
            raise FixtureError(f"{at}.deny must be true or false")
        if "nonResourceURLs" in rule and RESOURCE_RULE_KEYS & set(rule):
            raise FixtureError(f"{at}: a rule applies to resources or to nonResourceURLs, not both")
        for url in rule.get("nonResourceURLs", []):
            if url != "*" and (not url.startswith("/") or "*" in url[:-1]):
                raise FixtureError(f"{at}.nonResourceURLs: {url!r} must be a path, with '*' only at the end")
        rules.append({key: (list(value) if isinstance(value, list) else value) for key, value in rule.items()})
    return tuple(rules)


def parse_configmap(document, where="authenticationConfigMap"):
    """The authentication ConfigMap's data (keys sorted, as Go writes maps), or None for no ConfigMap."""
    if not isinstance(document, dict) or set(document) != {"data"}:
        raise FixtureError(f'{where} must be {{"data": {{...}}}} or {{"data": null}}')
    data = document["data"]
    if data is None:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise FixtureError(f"{where}.data must be an object of strings, or null")
    for key in data:
        if len(key) > 253 or not CONFIGMAP_KEY_RE.fullmatch(key):
            raise FixtureError(f"{where}.data: {key!r} is not a valid ConfigMap key (alphanumerics, '-', '_', '.')")
    return {key: data[key] for key in sorted(data)}


def parse_auth(document):
    """The AuthConfig a fixture document sets; each key is optional and empty when absent."""
    return AuthConfig(parse_tokens(document.get("tokens", {})),
                      parse_policy(document.get("policy", {"rules": []})),
                      parse_configmap(document.get("authenticationConfigMap", {"data": None})))


# -- the policy ---------------------------------------------------------------------------------------------

def resource_matches(rule_resources, resource, subresource):
    """RBAC's ResourceMatches ("*", "pods", "pods/log", "*/log"), plus "pods/*" for any subresource of pods."""
    combined = f"{resource}/{subresource}" if subresource else resource
    for candidate in rule_resources:
        if candidate in ("*", combined):
            return True
        if subresource and candidate in (f"{resource}/*", f"*/{subresource}"):
            return True
    return False


def url_matches(rule_urls, path):
    """RBAC's NonResourceURLMatches: "*", the exact path, or a prefix ending in "*"."""
    return any(url in ("*", path) or (url.endswith("*") and path.startswith(url[:-1])) for url in rule_urls)


def wildcard_listed(values, wanted):
    return "*" in values or wanted in values


def rule_matches(rule, spec):
    """Whether every field `rule` sets matches the SubjectAccessReview `spec`. Resource fields (apiGroups,
    resources, namespaces, resourceNames) only match resource requests, nonResourceURLs only non-resource ones."""
    if "users" in rule and spec.get("user", "") not in rule["users"]:
        return False
    if "groups" in rule and not set(rule["groups"]) & set(spec.get("groups", [])):
        return False
    attributes = spec.get("resourceAttributes")
    if attributes is not None:
        if "nonResourceURLs" in rule:
            return False
        checks = (("verbs", lambda: wildcard_listed(rule["verbs"], attributes.get("verb", ""))),
                  ("apiGroups", lambda: wildcard_listed(rule["apiGroups"], attributes.get("group", ""))),
                  ("resources", lambda: resource_matches(rule["resources"], attributes.get("resource", ""),
                                                         attributes.get("subresource", ""))),
                  ("namespaces", lambda: attributes.get("namespace", "") in rule["namespaces"]),
                  ("resourceNames", lambda: attributes.get("name", "") in rule["resourceNames"]))
    else:
        attributes = spec.get("nonResourceAttributes", {})
        if RESOURCE_RULE_KEYS & set(rule):
            return False
        checks = (("verbs", lambda: wildcard_listed(rule["verbs"], attributes.get("verb", ""))),
                  ("nonResourceURLs", lambda: url_matches(rule["nonResourceURLs"], attributes.get("path", ""))))
    return all(check() for key, check in checks if key in rule)


def evaluate_policy(rules, spec):
    """A SubjectAccessReviewStatus: deny rules first, then the first allowing rule; N is the index in `rules`."""
    for index, rule in enumerate(rules):
        if rule.get("deny") and rule_matches(rule, spec):
            return {"allowed": False, "denied": True, "reason": f"denied by rule {index}"}
    for index, rule in enumerate(rules):
        if not rule.get("deny") and rule_matches(rule, spec):
            return {"allowed": True, "reason": f"allowed by rule {index}"}
    return {"allowed": False, "reason": "no rule allows it"}


# ---------------------------------------------------------------------------------------------------------
# Replies in the API server's format
# ---------------------------------------------------------------------------------------------------------

# metav1.StatusReason for each code, as the API server picks them.
STATUS_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                  405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
                  415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
                  503: "ServiceUnavailable", 504: "Timeout"}


def status_reply(code, message, details=None, headers=None, reason=None):
    """A metav1.Status failure, field order as the API server writes it."""
    document = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                "reason": reason or STATUS_REASONS.get(code, "Unknown")}
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
    """The pods, versioned as etcd versions them: every change of a pod is one event with the next
    resourceVersion. Recent list snapshots stay readable so continue tokens read a consistent list, and recent
    events stay readable so a watch can start from any version since the last compaction."""

    def __init__(self, pods, bookmark_interval=BOOKMARK_INTERVAL_SECONDS):
        self._lock = threading.Condition()
        self.bookmark_interval = bookmark_interval
        self._version = 5000
        self._snapshots = {self._version: list(pods)}
        self._keys = {}                    # version -> the snapshot's storage keys, sorted (list paging bisects)
        self._encoded = {}                 # id(pod) -> (pod, its JSON): a pod is encoded once, not per list
        for pod in pods:                   # ahead, so that first lists are as quick as later ones
            self.encoded(pod)
        self._events = []                  # (version, type, pod), oldest first
        self._oldest_watchable = self._version
        self._broken = 0                   # bumped by break_watches()
        self._broken_namespaces = {}       # namespace -> bumped by break_watches(namespace)

    def current(self):
        with self._lock:
            return self._version, self._snapshots[self._version]

    def at(self, version):
        with self._lock:
            return self._snapshots.get(version)

    def keys(self, version):
        """The storage keys of snapshot `version`, in its (sorted) order: a list page is found by bisection
        instead of a scan of every pod, which a 100,000-pod list of 200 pages would repeat 200 times."""
        with self._lock:
            keys = self._keys.get(version)
            if keys is None:
                keys = self._keys[version] = [storage_key(p) for p in self._snapshots[version]]
            return keys

    def encoded(self, pod):
        """The pod's JSON as a list item, made once: stored pods never change (a change is a new dict), and
        encoding is most of what serving a big list costs. Keyed by id(), holding the pod so the id stays its."""
        entry = self._encoded.get(id(pod))
        if entry is None or entry[0] is not pod:
            entry = (pod, json_bytes(pod))
            self._encoded[id(pod)] = entry
        return entry[1]

    def replace(self, pods):
        """Installs a new set of pods: each added, changed or removed pod is one event."""
        with self._lock:
            old = {storage_key(p): p for p in self._snapshots[self._version]}
            new = {storage_key(p): p for p in pods}
            stored = []
            for key in sorted(set(old) | set(new)):
                before, after = old.get(key), new.get(key)
                if after is None:
                    self._record("DELETED", before)
                elif before is not None and without_version(before) == without_version(after):
                    stored.append(before)
                else:
                    stored.append(self._record("ADDED" if before is None else "MODIFIED", after))
            self._version += 1     # the list itself is a version too, as with fixtures that change nothing
            self._snapshots[self._version] = stored
            for version in sorted(self._snapshots)[:-LIST_SNAPSHOTS_KEPT]:
                del self._snapshots[version]
                self._keys.pop(version, None)
            self._forget_encodings()
            del self._events[:-WATCH_EVENTS_KEPT]
            if len(self._events) == WATCH_EVENTS_KEPT:
                self._oldest_watchable = self._events[0][0] - 1
            self._lock.notify_all()

    def _record(self, kind, pod):
        self._version += 1
        pod = {**pod, "metadata": {**pod["metadata"], "resourceVersion": str(self._version)}}
        self._events.append((self._version, kind, pod))
        return pod

    def _forget_encodings(self):
        kept = {id(pod) for snapshot in self._snapshots.values() for pod in snapshot}
        self._encoded = {key: entry for key, entry in self._encoded.items() if key in kept}

    def compact(self):
        """Forgets history: continue tokens and watches from earlier versions get 410."""
        with self._lock:
            self._snapshots = {self._version: self._snapshots[self._version]}
            self._keys = {v: k for v, k in self._keys.items() if v == self._version}
            self._forget_encodings()
            self._events = []
            self._oldest_watchable = self._version

    def break_watches(self, namespace=None):
        """Cuts every open watch, or those of one namespace (the cluster-wide watch stays)."""
        with self._lock:
            if namespace is None:
                self._broken += 1
            else:
                self._broken_namespaces[namespace] = self._broken_namespaces.get(namespace, 0) + 1
            self._lock.notify_all()

    def _breaks(self, namespace):
        return self._broken, self._broken_namespaces.get(namespace, 0) if namespace is not None else 0

    def breaks(self, namespace=None):
        """Where the break counters stand: a watch takes this when it starts, and events_after tells it of any
        break since (one that fell between two waits included)."""
        with self._lock:
            return self._breaks(namespace)

    def watchable(self, version):
        with self._lock:
            return version >= self._oldest_watchable

    def events_after(self, version, timeout, stopping, namespace=None, breaks=None):
        """(events after `version`, current version, broken) once there is something to say or `timeout` passed.
        `namespace`: the watch's namespace (None: all), which break_watches(namespace) cuts; `breaks`: what
        breaks() said when the watch started (None: now)."""
        with self._lock:
            if breaks is None:
                breaks = self._breaks(namespace)
            self._lock.wait_for(lambda: self._version > version or self._breaks(namespace) != breaks
                                or stopping.is_set(), timeout)
            return ([e for e in self._events if e[0] > version], self._version, self._breaks(namespace) != breaks)


def without_version(pod):
    return {**pod, "metadata": {k: v for k, v in pod["metadata"].items() if k != "resourceVersion"}}


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


def non_negative_param(request, name, default):
    """An integer query parameter (limit, timeoutSeconds), or `default` when absent."""
    text = request.param(name)
    if text == "":
        return default
    if not re.fullmatch(r"\d{1,9}", text):
        raise BadRequest(f'{name}: Invalid value: "{text}": must be a non-negative integer')
    return int(text)


def list_pods(request, namespace=None):
    if request.param("watch") in ("1", "true"):
        return watch_pods(request, namespace)
    limit = non_negative_param(request, "limit", 0)
    requirements = parse_selector(request.param("labelSelector"))
    token = request.param("continue")
    store = request.service.store
    if token:
        version, after = decode_continue(token)
        pods = store.at(version)
        if pods is None:
            raise Expired(after)
    else:
        version, pods = store.current()
        after = ""
    # The snapshot is sorted by storage key: the namespace's pods, and those after the continue key, are one
    # slice of it ("<ns>/" up to "<ns>0", '0' being the character after '/').
    keys = store.keys(version)
    first, end = 0, len(pods)
    if namespace is not None:
        first, end = bisect.bisect_left(keys, namespace + "/"), bisect.bisect_left(keys, namespace + "0")
    if after:
        first = max(first, bisect.bisect_right(keys, after))
    if requirements:
        selected = []
        for pod in itertools.islice(pods, first, end):
            if selector_matches(requirements, pod["metadata"].get("labels", {})):
                selected.append(pod)
                if limit and len(selected) > limit:
                    break   # one more than a page says a continue token is due; the rest is not counted
    else:
        selected = pods[first:min(end, first + limit + 1)] if limit else pods[first:end]
    metadata = {"resourceVersion": str(version)}
    if limit and len(selected) > limit:
        metadata["continue"] = encode_continue(version, storage_key(selected[limit - 1]))
        if not requirements:
            metadata["remainingItemCount"] = max(0, end - first) - limit  # only without a selector, as upstream
        selected = selected[:limit]
    # The bytes json_reply would write for the whole PodList, from each item's JSON made once (store.encoded).
    body = b"".join((b'{"kind":"PodList","apiVersion":"v1","metadata":', json_bytes(metadata), b',"items":[',
                     b",".join(store.encoded(pod) for pod in selected), b"]}"))
    return double_server.Reply(200, body)


def watch_event_line(kind, pod):
    return json_bytes({"type": kind, "object": {"kind": "Pod", "apiVersion": "v1", **pod}}) + b"\n"


def watch_pods(request, namespace):
    """GET ...pods?watch=1: the events after resourceVersion as JSON lines, as the API server streams them. No
    resourceVersion (or "0") starts with an ADDED event for every pod. A version older than the kept history is
    one ERROR event with a 410 Status. Ends cleanly after timeoutSeconds; /_control/break-watches cuts it."""
    store = request.service.store
    requirements = parse_selector(request.param("labelSelector"))
    timeout = non_negative_param(request, "timeoutSeconds", 1800)
    bookmarks = request.param("allowWatchBookmarks") == "true"
    text = request.param("resourceVersion")
    if text not in ("", "0") and not re.fullmatch(r"\d{1,18}", text):
        raise BadRequest(f'resourceVersion: Invalid value: "{text}": must be an integer')

    def selected(pod):
        return ((namespace is None or pod["metadata"]["namespace"] == namespace)
                and selector_matches(requirements, pod["metadata"].get("labels", {})))

    def produce(stopping):
        deadline = time.monotonic() + timeout
        breaks = store.breaks(namespace)
        if text in ("", "0"):
            version, pods = store.current()
            for pod in pods:
                if selected(pod):
                    yield watch_event_line("ADDED", pod)
        else:
            version = int(text)
            if not store.watchable(version):
                status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                          "message": f"too old resource version: {version}", "reason": "Expired", "code": 410}
                yield json_bytes({"type": "ERROR", "object": status}) + b"\n"
                return
        next_bookmark = time.monotonic() + store.bookmark_interval
        while not stopping.is_set():
            now = time.monotonic()
            if now >= deadline:
                return
            events, current, broken = store.events_after(version, min(deadline, next_bookmark) - now, stopping,
                                                         namespace, breaks)
            if broken:
                raise double_server.StreamBroken()
            for event_version, kind, pod in events:
                if selected(pod):
                    yield watch_event_line(kind, pod)
            version = max(version, current)
            if bookmarks and time.monotonic() >= next_bookmark:
                yield json_bytes({"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1",
                                                                  "metadata": {"resourceVersion": str(version)}}}) + b"\n"
                next_bookmark = time.monotonic() + store.bookmark_interval

    return double_server.StreamReply(200, produce)


def get_pod(request, namespace, name):
    _, pods = request.service.store.current()
    for pod in pods:
        if pod["metadata"]["namespace"] == namespace and pod["metadata"]["name"] == name:
            return json_reply(200, {"kind": "Pod", "apiVersion": "v1", **pod})
    return status_reply(404, f'pods "{name}" not found', {"name": name, "kind": "pods"})


# -- delegated authentication and authorization -------------------------------------------------------------

class UnsupportedMediaType(ValueError):
    pass


class Invalid(ValueError):
    """A 422 Invalid, as apierrors.NewInvalid writes it; causes are (field, message) pairs."""

    def __init__(self, kind, group, causes):
        super().__init__(kind)
        self.kind, self.group, self.causes = kind, group, causes

    def reply(self):
        shown = [f"{field}: {message}" for field, message in self.causes]
        summary = shown[0] if len(shown) == 1 else "[" + ", ".join(shown) + "]"
        details = {"group": self.group, "kind": self.kind,
                   "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}
                              for field, message in self.causes]}
        return status_reply(422, f'{self.kind}.{self.group} "" is invalid: {summary}', details)


@dataclasses.dataclass(frozen=True)
class GoStruct:
    """The JSON shape of a Go API struct, to decode a request body as the API server does. Each field is
    (json name, type): "string", "[]string", "map[string][]string" or a GoStruct (a pointer, kept when {}).
    fields=None is a struct the double passes through unchecked."""
    name: str
    fields: tuple | None


RESOURCE_ATTRIBUTES = GoStruct("v1.ResourceAttributes", (
    ("namespace", "string"), ("verb", "string"), ("group", "string"), ("version", "string"),
    ("resource", "string"), ("subresource", "string"), ("name", "string"),
    ("fieldSelector", GoStruct("v1.FieldSelectorAttributes", None)),
    ("labelSelector", GoStruct("v1.LabelSelectorAttributes", None))))
NON_RESOURCE_ATTRIBUTES = GoStruct("v1.NonResourceAttributes", (("path", "string"), ("verb", "string")))
TOKEN_REVIEW_SPEC = GoStruct("v1.TokenReviewSpec", (("token", "string"), ("audiences", "[]string")))
SUBJECT_ACCESS_REVIEW_SPEC = GoStruct("v1.SubjectAccessReviewSpec", (
    ("resourceAttributes", RESOURCE_ATTRIBUTES), ("nonResourceAttributes", NON_RESOURCE_ATTRIBUTES),
    ("user", "string"), ("groups", "[]string"), ("extra", "map[string][]string"), ("uid", "string")))
REVIEW_TOP_LEVEL_KEYS = ("kind", "apiVersion", "metadata", "spec", "status")


def json_type(value):
    for python_type, name in ((bool, "bool"), ((int, float), "number"), (str, "string"), (list, "array"),
                              (dict, "object")):
        if isinstance(value, python_type):
            return name
    return "null"


class ReviewDecoder:
    """Decodes a review body into its spec the way the API server does: Go types (a wrong type is 400), null
    and empty values dropped (omitempty), unknown fields dropped with a warning, map keys sorted."""

    def __init__(self, kind):
        self.kind = kind
        self.warnings = []

    def type_error(self, value, owner, path, go_type):
        raise BadRequest(f'{self.kind} in version "v1" cannot be handled as a {self.kind}: json: cannot unmarshal '
                         f"{json_type(value)} into Go struct field {owner}.{path} of type {go_type}")

    def field(self, value, field_type, owner, path):
        """The decoded value, or None when Go would leave it empty and omitempty drop it."""
        if value is None:
            return None
        if isinstance(field_type, GoStruct):
            if not isinstance(value, dict):
                self.type_error(value, owner, path, field_type.name)
            return dict(value) if field_type.fields is None else self.struct(value, field_type, path)
        if field_type == "string":
            if not isinstance(value, str):
                self.type_error(value, owner, path, "string")
            return value or None
        if field_type == "[]string":
            if not isinstance(value, list) or not all(isinstance(v, str) or v is None for v in value):
                self.type_error(value, owner, path, "[]string")
            return [v or "" for v in value] or None
        if not isinstance(value, dict) or not all(isinstance(v, list) or v is None for v in value.values()):
            self.type_error(value, owner, path, "map[string]v1.ExtraValue")
        extra = {}
        for key in sorted(value):
            items = self.field(value[key], "[]string", owner, f"{path}.{key}")
            extra[key] = items or []
        return extra or None

    def struct(self, document, struct, path):
        known = dict(struct.fields)
        for key in document:
            if key not in known:
                self.warnings.append(f'unknown field "{path}.{key}"')
        decoded = {}
        for key, field_type in struct.fields:
            value = self.field(document.get(key), field_type, struct.name.split(".")[-1], f"{path}.{key}")
            if value is not None:
                decoded[key] = value
        return decoded


def decode_review(request, kind, group, spec_struct):
    """(metadata to echo, the decoded spec, warnings) of a review request body."""
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in ("", "application/json"):   # no Content-Type reads as JSON, as upstream
        raise UnsupportedMediaType(content_type)
    try:
        document = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadRequest(f"couldn't get version/kind; json parse error: {e}") from e
    if not isinstance(document, dict):
        raise BadRequest(f"couldn't get version/kind; json parse error: json: cannot unmarshal "
                         f"{json_type(document)} into Go value of type struct {{ APIVersion; Kind }}")
    api_version = f"{group}/v1"
    if document.get("apiVersion") not in (None, "", api_version):
        raise BadRequest(f"the API version in the data ({document['apiVersion']}) does not match the expected "
                         f"API version ({api_version})")
    if document.get("kind") not in (None, "", kind):
        raise BadRequest(f"the kind in the data ({document['kind']}) does not match the expected kind ({kind})")
    decoder = ReviewDecoder(kind)
    decoder.warnings += [f'unknown field "{key}"' for key in document if key not in REVIEW_TOP_LEVEL_KEYS]
    metadata = document.get("metadata")
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, dict):
        decoder.type_error(metadata, kind, "metadata", "v1.ObjectMeta")
    spec = decoder.field(document.get("spec"), spec_struct, kind, "spec") or {}   # spec is not omitempty
    # The review is never stored: the answer echoes the name, and creationTimestamp is a null metav1.Time.
    echoed = {"name": metadata["name"]} if isinstance(metadata.get("name"), str) and metadata["name"] else {}
    echoed["creationTimestamp"] = None
    return echoed, spec, decoder.warnings


def review_reply(kind, group, metadata, spec, status, warnings):
    """201 Created, as the API server answers a review; unknown request fields become Warning headers."""
    headers = {"Warning": ", ".join(f"299 - {json.dumps(w)}" for w in warnings)} if warnings else None
    return json_reply(201, {"kind": kind, "apiVersion": f"{group}/v1", "metadata": metadata, "spec": spec,
                            "status": status}, headers)


def go_quoted(strings):
    return "[" + " ".join(json.dumps(s) for s in strings) + "]"   # fmt's %q of a []string


def create_token_review(request):
    metadata, spec, warnings = decode_review(request, "TokenReview", "authentication.k8s.io", TOKEN_REVIEW_SPEC)
    token = spec.get("token", "")
    if not token:
        raise BadRequest("token is required for TokenReview in authentication")
    entry = request.service.auth().tokens.get(token)
    wanted = spec.get("audiences") or list(API_SERVER_AUDIENCES)
    # TokenReviewStatus: authenticated, audiences and error are omitempty; user is a struct, so always written.
    if entry is None:
        status = {"user": {}, "error": "token not recognised"}
    else:
        granted = [audience for audience in wanted if audience in entry["audiences"]]
        if granted:
            status = {"authenticated": True, "user": entry["user"], "audiences": granted}
        else:
            status = {"user": {}, "error": f"token audiences {go_quoted(entry['audiences'])} is invalid for the "
                                          f"target audiences {go_quoted(wanted)}"}
    return review_reply("TokenReview", "authentication.k8s.io", metadata, spec, status, warnings)


def create_subject_access_review(request):
    kind, group = "SubjectAccessReview", "authorization.k8s.io"
    metadata, spec, warnings = decode_review(request, kind, group, SUBJECT_ACCESS_REVIEW_SPEC)
    causes = []   # ValidateSubjectAccessReviewSpec
    if "resourceAttributes" in spec and "nonResourceAttributes" in spec:
        causes.append(("spec.nonResourceAttributes", f"Invalid value: {json.dumps(spec['nonResourceAttributes'])}: "
                                                     "cannot be specified in combination with resourceAttributes"))
    if "resourceAttributes" not in spec and "nonResourceAttributes" not in spec:
        causes.append(("spec.resourceAttributes", 'Invalid value: "null": exactly one of nonResourceAttributes or '
                                                  "resourceAttributes must be specified"))
    if not spec.get("user") and not spec.get("groups"):
        causes.append(("spec.user", 'Invalid value: "": at least one of user or group must be specified'))
    if causes:
        raise Invalid(kind, group, causes)
    status = evaluate_policy(request.service.auth().rules, spec)
    return review_reply(kind, group, metadata, spec, status, warnings)


def get_configmap(request, namespace, name):
    data, version = request.service.authentication_configmap()
    if (namespace, name) != AUTHENTICATION_CONFIGMAP or data is None:
        return status_reply(404, f'configmaps "{name}" not found', {"name": name, "kind": "configmaps"})
    metadata = {"name": name, "namespace": namespace,
                "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"configmaps/{namespace}/{name}")),
                "resourceVersion": str(version), "creationTimestamp": FIXED_CREATION_TIMESTAMP}
    document = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": metadata}
    if data:
        document["data"] = data   # omitempty
    return json_reply(200, document)


def api_group_discovery(request, group):
    """GET /apis/<group>: an APIGroup for the custom resources set with /_control/discovery."""
    entry = request.service.discovery.get(group)
    if entry is None:
        return not_found_reply()
    version = {"groupVersion": f"{group}/{entry['version']}", "version": entry["version"]}
    return json_reply(200, {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [version],
                            "preferredVersion": version})


def api_resource_discovery(request, group, version):
    """GET /apis/<group>/<version>: the APIResourceList of that group version."""
    entry = request.service.discovery.get(group)
    if entry is None or entry["version"] != version:
        return not_found_reply()
    resources = [{"name": r["name"], "singularName": "", "namespaced": bool(r.get("namespaced", True)),
                  "kind": r["kind"], "verbs": ["get", "list", "watch"]} for r in entry["resources"]]
    return json_reply(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}",
                            "resources": resources})


# -- Secrets and APIServices (kube_stored_objects.py) --------------------------------------------------------

def stored_object_call(action):
    """Runs one StoredObjects call; its ApiFailure becomes the Status the API server answers."""
    try:
        status, document = action()
        return json_reply(status, document)
    except kube_stored_objects.ApiFailure as e:
        return status_reply(e.code, e.message, e.details, reason=e.reason)


def get_secret(request, namespace, name):
    return stored_object_call(lambda: (200, request.service.objects.get_secret(namespace, name)))


def create_secret(request, namespace):
    return stored_object_call(lambda: (201, request.service.objects.create_secret(
        namespace, kube_stored_objects.parse_body(request, "Secret"))))


def update_secret(request, namespace, name):
    return stored_object_call(lambda: (200, request.service.objects.update_secret(
        namespace, name, kube_stored_objects.parse_body(request, "Secret"))))


def get_apiservice(request, name):
    return stored_object_call(lambda: (200, request.service.objects.get_apiservice(name)))


def patch_apiservice(request, name):
    def patch():
        if kube_stored_objects.content_type_of(request) != "application/merge-patch+json":
            raise UnsupportedMediaType(kube_stored_objects.content_type_of(request))
        return 200, request.service.objects.patch_apiservice(name, kube_stored_objects.parse_body(request, "APIService"))
    return stored_object_call(patch)


def get_hpa(request, version, namespace, name):
    return stored_object_call(lambda: (200, request.service.objects.get_hpa(version, namespace, name)))


def get_workload(request, resource, namespace, name):
    return stored_object_call(lambda: (200, request.service.objects.get_workload(resource, namespace, name)))


def get_scale(request, resource, namespace, name):
    return stored_object_call(lambda: (200, request.service.objects.get_scale(resource, namespace, name)))


def get_version(request):
    return json_reply(200, request.service.objects.version_info())


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
    route("POST", r"/apis/authentication\.k8s\.io/v1/tokenreviews", create_token_review),
    route("POST", r"/apis/authorization\.k8s\.io/v1/subjectaccessreviews", create_subject_access_review),
    route("GET", rf"/api/v1/namespaces/(?P<namespace>{NAME})/configmaps/(?P<name>{NAME})", get_configmap),
    route("GET", rf"/api/v1/namespaces/(?P<namespace>{NAME})/secrets/(?P<name>{NAME})", get_secret),
    route("PUT", rf"/api/v1/namespaces/(?P<namespace>{NAME})/secrets/(?P<name>{NAME})", update_secret),
    route("POST", rf"/api/v1/namespaces/(?P<namespace>{NAME})/secrets", create_secret),
    route("GET", rf"/apis/apiregistration\.k8s\.io/v1/apiservices/(?P<name>{NAME})", get_apiservice),
    route("PATCH", rf"/apis/apiregistration\.k8s\.io/v1/apiservices/(?P<name>{NAME})", patch_apiservice),
    route("GET", rf"/apis/autoscaling/(?P<version>v2|v2beta2)/namespaces/(?P<namespace>{NAME})/horizontalpodautoscalers/"
                 rf"(?P<name>{NAME})", get_hpa),
    route("GET", rf"/apis/apps/v1/namespaces/(?P<namespace>{NAME})/(?P<resource>deployments|statefulsets)/(?P<name>{NAME})",
          get_workload),
    route("GET", rf"/apis/apps/v1/namespaces/(?P<namespace>{NAME})/(?P<resource>deployments|statefulsets)/(?P<name>{NAME})"
                 r"/scale", get_scale),
    route("GET", r"/version", get_version),
    route("GET", rf"/apis/(?P<group>{NAME})", api_group_discovery),
    route("GET", rf"/apis/(?P<group>{NAME})/(?P<version>{NAME})", api_resource_discovery),
]
UNSUPPORTED_MEDIA_TYPE_MESSAGE = ("the body of the request was in an unknown format - accepted media types include: "
                                  "application/json")

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
        except Invalid as e:
            return e.reply()
        except UnsupportedMediaType:
            return status_reply(415, UNSUPPORTED_MEDIA_TYPE_MESSAGE)
    if path_matched:
        return status_reply(405, "the server does not allow this method on the requested resource")
    return not_found_reply()


# ---------------------------------------------------------------------------------------------------------
# The service (server, faults, recording and control API: double_server.py)
# ---------------------------------------------------------------------------------------------------------

def control_discovery(service, method, body):
    """{"<group>": {"version": "v1alpha1", "resources": [{"name": "widgets", "kind": "Widget", "namespaced": true}]}}
    replaces the custom API groups served by discovery."""
    document = double_server.parse_json_body(body)
    if not isinstance(document, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("version"), str) and isinstance(v.get("resources"), list)
            and all(isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("kind"), str)
                    for r in v["resources"]) for v in document.values()):
        return json_reply(400, {"error": "expected {group: {version, resources: [{name, kind, namespaced}]}}"})
    service.discovery = document
    return json_reply(200, {"groups": len(document)})


def control_objects(service, method, body):
    """GET: the stored objects; POST {"secrets", "apiServices", "horizontalPodAutoscalers", "deployments",
    "statefulSets", "version"} replaces them (a set left out becomes empty, the version 1.33)."""
    if method == "POST":
        return json_reply(200, service.objects.replace(double_server.parse_json_body(body)))
    return json_reply(200, service.objects.snapshot())


def control_compact(service, method, body):
    service.store.compact()
    return json_reply(200, {})


def control_break_watches(service, method, body):
    """{} cuts every watch; {"namespace": "x"} only the watches of namespace x."""
    document = double_server.parse_json_body(body) if body else {}
    if not isinstance(document, dict) or set(document) - {"namespace"}:
        raise ValueError('expected {} or {"namespace": "<name>"}')
    service.store.break_watches(document.get("namespace"))
    return json_reply(200, {})


def control_tokens(service, method, body):
    tokens = parse_tokens(double_server.parse_json_body(body))
    service.replace_auth(tokens=tokens)
    return json_reply(200, {"tokens": len(tokens)})


def control_policy(service, method, body):
    rules = parse_policy(double_server.parse_json_body(body))
    service.replace_auth(rules=rules)
    return json_reply(200, {"rules": len(rules)})


def control_configmap(service, method, body):
    data = parse_configmap(double_server.parse_json_body(body), "body")
    service.replace_auth(configmap_data=data)
    _, version = service.authentication_configmap()
    return json_reply(200, {"present": data is not None, "resourceVersion": str(version)})


class KubeApiService(double_server.ImitatedService):
    """The versioned objects, the delegated-auth state and the API server's routes, on top of the shared token,
    faults and request log."""

    name = DOUBLE_NAME
    extra_control_routes = {"/_control/compact": (("POST",), control_compact),
                            "/_control/break-watches": (("POST",), control_break_watches),
                            "/_control/tokens": (("POST",), control_tokens),
                            "/_control/policy": (("POST",), control_policy),
                            "/_control/configmap": (("POST",), control_configmap),
                            "/_control/discovery": (("POST",), control_discovery),
                            "/_control/objects": (("GET", "POST"), control_objects)}

    def __init__(self, pods, token, auth=None, bookmark_interval=BOOKMARK_INTERVAL_SECONDS):
        super().__init__(token)
        self.discovery = {}  # custom API groups: set through /_control/discovery
        self.store = ObjectStore(pods, bookmark_interval)
        self.objects = kube_stored_objects.StoredObjects()   # Secrets and APIServices: /_control/objects
        self._auth = auth or AuthConfig()
        self._configmap_version = 100

    def auth(self):
        with self.lock:
            return self._auth

    def replace_auth(self, **changes):
        """Replaces some of tokens, rules and configmap_data; a ConfigMap change is a new resourceVersion."""
        with self.lock:
            self._auth = dataclasses.replace(self._auth, **changes)
            if "configmap_data" in changes:
                self._configmap_version += 1

    def authentication_configmap(self):
        with self.lock:
            return self._auth.configmap_data, self._configmap_version

    def replace_fixture(self, document):
        pods, auth = parse_fixture_document(document)   # both checked before either is installed
        self.store.replace(pods)
        self.replace_auth(tokens=auth.tokens, rules=auth.rules, configmap_data=auth.configmap_data)
        version, _ = self.store.current()
        return {"pods": len(pods), "resourceVersion": str(version), "tokens": len(auth.tokens),
                "rules": len(auth.rules)}

    def api_reply(self, method, target, headers, body):
        return api_reply(self, method, target, headers, body)

    def error_reply(self, path, status, message):
        return status_reply(status, message)   # every path answers errors as a Status

    def unreadable_body_reply(self, message):
        return status_reply(400, message)

    def oversize_prefix(self, path):
        for prefix, kind, api_version in OVERSIZE_KINDS:
            if path.startswith(prefix):
                return (f'{{"kind":"{kind}","apiVersion":"{api_version}","metadata":{{"creationTimestamp":null}},'
                        f'"spec":{{}},"status":{{}},"padding":"').encode()
        if "/configmaps/" in path:
            return b'{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"},"padding":"'
        return b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[],"padding":"'


OVERSIZE_KINDS = (("/apis/authentication.k8s.io/", "TokenReview", "authentication.k8s.io/v1"),
                  ("/apis/authorization.k8s.io/", "SubjectAccessReview", "authorization.k8s.io/v1"))


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

    def __init__(self, pods, token, host="127.0.0.1", port=0, cert_file=None, key_file=None, ca_file=None,
                 auth=None, bookmark_interval=BOOKMARK_INTERVAL_SECONDS):
        self.generated = None if cert_file else ServingCertificate()
        try:
            cert_file = cert_file or self.generated.cert_file
            key_file = key_file or self.generated.key_file
            self.ca_file = ca_file or cert_file
            super().__init__(KubeApiService(pods, token, auth, bookmark_interval), host, port,
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
    parser.add_argument("--bookmark-interval", type=float, default=BOOKMARK_INTERVAL_SECONDS,
                        help="seconds between BOOKMARK events of a watch that asks for them (default "
                             f"{BOOKMARK_INTERVAL_SECONDS:g}; the real API server: about 60)")
    args = double_server.parse_arguments(parser, argv)
    if not 0 < args.bookmark_interval <= 3600:
        parser.error("--bookmark-interval must be between 0 and 3600 seconds")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        pods, auth = load_fixture(args.fixture)
        double = KubeApiDouble(pods, args.token, args.bind, args.port, args.tls_cert, args.tls_key, args.ca_file,
                               auth, args.bookmark_interval)
    except (OSError, FixtureError, ssl.SSLError) as e:
        log(f"cannot start: {e}")
        return 2
    return double_server.serve_until_signalled(
        double, {"port": double.port, "ca_file": double.ca_file},
        f"listening on {args.bind}:{double.port} (https, {len(pods)} pods, {len(auth.tokens)} review tokens and "
        f"{len(auth.rules)} policy rules from {args.fixture})")


if __name__ == "__main__":
    sys.exit(main())
