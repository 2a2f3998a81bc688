#!/usr/bin/env python3
"""A fake Sysdig Monitor for the tests of sysdig-metrics-adapter.

It speaks both Sysdig wire protocols (the Prometheus-compatible API and the legacy Data API), checks the
Bearer token, evaluates a strict PromQL subset against a JSON fixture, injects faults on demand and records
every API request. Python 3.11, standard library only. See README.md next to this file. The server, fault
injection, request recording and the control API are shared with the other doubles: double_server.py.

    python3 sysdig_double.py --port 0 --token SECRET --fixture fixtures/sysdig_series.json

prints one line `{"port": N}` on stdout once it is listening; everything else goes to stderr.
"""
import dataclasses
import datetime
import decimal
import json
import math
import os
import re
import secrets
import ssl
import sys
import time
import urllib.parse

import double_server
from double_server import FixtureError, Reply

DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "sysdig_series.json")

# PromQL label name -> legacy Data API label id. Labels not listed keep their name.
LEGACY_LABEL_NAMES = {
    "kube_cluster_name": "kubernetes.cluster.name",
    "kube_namespace_name": "kubernetes.namespace.name",
    "kube_pod_name": "kubernetes.pod.name",
    "kube_node_name": "kubernetes.node.name",
    "kube_deployment_name": "kubernetes.deployment.name",
    "kube_statefulset_name": "kubernetes.statefulSet.name",
    "kube_daemonset_name": "kubernetes.daemonSet.name",
    "kube_replicaset_name": "kubernetes.replicaSet.name",
    "kube_job_name": "kubernetes.job.name",
    "kube_service_name": "kubernetes.service.name",
    "kube_workload_name": "kubernetes.workload.name",
    "kube_workload_type": "kubernetes.workload.type",
}

METRIC_ID_RE = re.compile(r"[a-zA-Z_:.][a-zA-Z0-9_:.]*")
PROMQL_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

PROMETHEUS_PREFIX = "/prometheus/api/v1"
DOUBLE_NAME = "sysdig-double"


def log(message):
    double_server.log(DOUBLE_NAME, message)


def new_request_id():
    return secrets.token_hex(16)


# ---------------------------------------------------------------------------------------------------------
# Fixture
# ---------------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Series:
    """One time series with its single current sample."""
    metric: str          # legacy dotted Data API id
    promql_name: str     # __name__ on the Prometheus API
    labels: dict         # PromQL label names -> values
    value: float
    timestamp: float | None

    def prom_labels(self):
        return {"__name__": self.promql_name, **self.labels}

    def legacy_labels(self):
        return {legacy_label_name(name): value for name, value in self.labels.items()}


def legacy_label_name(promql_label):
    return LEGACY_LABEL_NAMES.get(promql_label, promql_label)


def default_promql_name(metric):
    return "sysdig_container_" + metric.replace(".", "_")


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_series_entry(index, entry):
    where = f"series[{index}]"
    if not isinstance(entry, dict):
        raise FixtureError(f"{where} must be an object")
    unknown = set(entry) - {"metric", "promql_name", "labels", "value", "timestamp"}
    if unknown:
        raise FixtureError(f"{where} has unknown keys {sorted(unknown)}")
    metric = entry.get("metric")
    if not isinstance(metric, str) or not METRIC_ID_RE.fullmatch(metric):
        raise FixtureError(f"{where}.metric must be a metric id like net.http.request.count")
    promql_name = entry.get("promql_name", default_promql_name(metric))
    if not isinstance(promql_name, str) or not PROMQL_NAME_RE.fullmatch(promql_name):
        raise FixtureError(f"{where}.promql_name is not a valid PromQL metric name")
    labels = entry.get("labels", {})
    if not isinstance(labels, dict):
        raise FixtureError(f"{where}.labels must be an object")
    for name, value in labels.items():
        if not LABEL_NAME_RE.fullmatch(name) or name.startswith("__"):
            raise FixtureError(f"{where}.labels has an invalid label name {name!r}")
        if not isinstance(value, str) or value == "":
            raise FixtureError(f"{where}.labels.{name} must be a non-empty string")
    value = entry.get("value")
    if not is_number(value):
        raise FixtureError(f"{where}.value must be a number")
    timestamp = entry.get("timestamp")
    if timestamp is not None and not is_number(timestamp):
        raise FixtureError(f"{where}.timestamp must be a number of Unix seconds")
    return Series(metric, promql_name, dict(labels), float(value),
                  None if timestamp is None else float(timestamp))


def parse_fixture(document):
    """Validates a fixture document and returns its series."""
    if not isinstance(document, dict) or not isinstance(document.get("series"), list):
        raise FixtureError('a fixture is an object {"series": [...]}')
    unknown = set(document) - {"series"}
    if unknown:
        raise FixtureError(f"fixture has unknown keys {sorted(unknown)}")
    series = [parse_series_entry(i, entry) for i, entry in enumerate(document["series"])]
    # Two series with one label set would make every answer ambiguous, as in a real TSDB.
    seen = set()
    for s in series:
        identity = (s.promql_name, tuple(sorted(s.labels.items())))
        if identity in seen:
            raise FixtureError(f"duplicate series {s.promql_name}{dict(identity[1])}")
        seen.add(identity)
    return series


def load_fixture_file(path):
    return parse_fixture(double_server.read_fixture_file(path))


class SeriesSet(list):
    """The fixture's series, with an index by PromQL name built on first use (select_series uses it)."""

    def by_name(self):
        index = getattr(self, "_by_name", None)
        if index is None:
            index = {}
            for s in self:
                index.setdefault(s.promql_name, []).append(s)
            self._by_name = index
        return index


# ---------------------------------------------------------------------------------------------------------
# Wire formatting
# ---------------------------------------------------------------------------------------------------------

def json_bytes(document):
    # Strict JSON: Prometheus and Sysdig never write NaN, so a non-finite number reaching here is a bug.
    return double_server.json_bytes(document, allow_nan=False)


def format_sample_value(value):
    """A sample value the way Prometheus writes it (Go strconv.FormatFloat(v, 'f', -1, 64))."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    # repr() gives the shortest digits that round-trip; Decimal lays them out without an exponent.
    text = format(decimal.Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def prometheus_time(seconds):
    """Evaluation time as Prometheus writes it: seconds with at most millisecond precision."""
    millis = round(seconds * 1000)
    return millis // 1000 if millis % 1000 == 0 else millis / 1000


def data_api_number(value):
    """Data API values are JSON numbers; Sysdig has no NaN, so a non-finite value reads as null."""
    if not math.isfinite(value):
        return None
    if value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


# ---------------------------------------------------------------------------------------------------------
# Times and durations (Prometheus parameter syntax)
# ---------------------------------------------------------------------------------------------------------

class BadData(ValueError):
    """A request the Prometheus API answers with 400 bad_data."""


FLOAT_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
RFC3339_RE = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})")
DURATION_RE = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
DURATION_UNIT_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def parse_duration(text):
    """Seconds in a Prometheus duration like 5m30s, or None when the text is not one."""
    match = DURATION_RE.fullmatch(text)
    if not text or not match:
        return None
    return sum(int(amount) * unit for amount, unit in zip(match.groups(), DURATION_UNIT_SECONDS) if amount)


def parse_timestamp(text, parameter):
    """Unix seconds (float) or RFC 3339, as the Prometheus API accepts for time/start/end."""
    if FLOAT_RE.fullmatch(text):
        return float(text)
    match = RFC3339_RE.fullmatch(text)
    if match:
        date, clock, fraction, zone = match.groups()
        zone = "+00:00" if zone in ("Z", "z") else zone
        micros = (fraction or "").ljust(6, "0")[:6]
        try:
            moment = datetime.datetime.fromisoformat(f"{date}T{clock}.{micros}{zone}")
            return moment.timestamp()
        except ValueError:
            pass
    raise BadData(f'invalid parameter "{parameter}": cannot parse "{text}" to a valid timestamp')


def parse_step(text):
    """A query_range step: float seconds or a duration."""
    if FLOAT_RE.fullmatch(text):
        return float(text)
    seconds = parse_duration(text)
    if seconds is None:
        raise BadData(f'invalid parameter "step": cannot parse "{text}" to a valid duration')
    return seconds


# ---------------------------------------------------------------------------------------------------------
# PromQL subset: lexer
# ---------------------------------------------------------------------------------------------------------

AGGREGATIONS = {"sum", "avg", "max", "min", "count"}
UNSUPPORTED_AGGREGATIONS = {"topk", "bottomk", "quantile", "count_values", "stddev", "stdvar", "group",
                            "limitk", "limit_ratio"}
RANGE_FUNCTIONS = {"avg_over_time", "sum_over_time", "max_over_time", "min_over_time", "last_over_time",
                   "rate", "irate", "increase"}
# Prometheus keeps the metric name for these range functions and drops it for the others.
NAME_KEEPING_FUNCTIONS = {"last_over_time"}


class PromQLError(BadData):
    """A query outside the supported subset, or malformed."""


@dataclasses.dataclass
class Token:
    kind: str   # IDENT, STRING, DURATION, NUMBER, OP, PUNCT, END
    text: str   # the source text; for STRING the decoded value
    pos: int


LEXER_RULES = [
    ("SPACE", re.compile(r"\s+")),
    ("COMMENT", re.compile(r"#[^\n]*")),
    ("DURATION", re.compile(r"(?:\d+(?:ms|[smhdwy]))+(?![a-zA-Z0-9_.])")),
    ("NUMBER", re.compile(r"0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")),
    ("IDENT", re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")),
    ("OP", re.compile(r"=~|!~|!=|==|<=|>=|[=<>+\-*/%^@]")),
    ("PUNCT", re.compile(r"[{}()\[\],]")),
]

SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def lex_error(pos, message):
    return PromQLError(f"parse error at char {pos + 1}: {message}")


def decode_escape(query, pos, quote):
    """Decodes the Go escape sequence starting at query[pos] == '\\'; returns (text, next position)."""
    if pos + 1 >= len(query):
        raise lex_error(pos, "unterminated quoted string")
    letter = query[pos + 1]
    if letter in SIMPLE_ESCAPES:
        return SIMPLE_ESCAPES[letter], pos + 2
    if letter == quote:  # Go (and Prometheus) accept \" only in "..." and \' only in '...'
        return quote, pos + 2
    hex_widths = {"x": 2, "u": 4, "U": 8}
    if letter in hex_widths:
        digits = query[pos + 2:pos + 2 + hex_widths[letter]]
        if len(digits) != hex_widths[letter] or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise lex_error(pos, f"invalid escape sequence \\{letter}{digits}")
        code = int(digits, 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise lex_error(pos, f"escape sequence \\{letter}{digits} is not a valid Unicode code point")
        return chr(code), pos + 2 + len(digits)
    if letter in "01234567":
        digits = query[pos + 1:pos + 4]
        if len(digits) != 3 or not all(c in "01234567" for c in digits) or int(digits, 8) > 255:
            raise lex_error(pos, f"invalid octal escape sequence \\{digits}")
        return chr(int(digits, 8)), pos + 4
    raise lex_error(pos, f"unknown escape sequence \\{letter}")


def lex_string(query, pos):
    """Reads the string literal starting at query[pos]; returns (decoded value, next position)."""
    quote = query[pos]
    if quote == "`":
        end = query.find("`", pos + 1)
        if end < 0:
            raise lex_error(pos, "unterminated raw string")
        return query[pos + 1:end], end + 1
    parts = []
    i = pos + 1
    while True:
        if i >= len(query) or query[i] == "\n":
            raise lex_error(pos, "unterminated quoted string")
        char = query[i]
        if char == quote:
            return "".join(parts), i + 1
        if char == "\\":
            text, i = decode_escape(query, i, quote)
            parts.append(text)
        else:
            parts.append(char)
            i += 1


def tokenize(query):
    tokens = []
    pos = 0
    while pos < len(query):
        if query[pos] in "\"'`":
            value, end = lex_string(query, pos)
            tokens.append(Token("STRING", value, pos))
            pos = end
            continue
        for kind, pattern in LEXER_RULES:
            match = pattern.match(query, pos)
            if match:
                break
        else:
            raise lex_error(pos, f"unexpected character {query[pos]!r}")
        following = query[match.end():match.end() + 1]
        if kind == "NUMBER" and (following.isalnum() or following == "_"):
            raise lex_error(pos, f"bad number or duration syntax {query[pos:match.end() + 1]!r}")
        if kind not in ("SPACE", "COMMENT"):
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("END", "", len(query)))
    return tokens


# ---------------------------------------------------------------------------------------------------------
# PromQL subset: syntax tree and parser
# ---------------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Matcher:
    label: str
    op: str        # =, !=, =~, !~
    value: str
    regex: re.Pattern | None = None
    literals: frozenset | None = None   # a regex that is only escaped literals joined by |: those strings

    def matches(self, labels):
        # A missing label reads as "", which gives Prometheus' semantics for != and "" matchers.
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        if self.literals is not None:
            found = actual in self.literals
        else:
            found = self.regex.fullmatch(actual) is not None
        return found if self.op == "=~" else not found


REGEX_METACHARACTERS = set("\\.+*?()|[]{}^$")


def literal_alternatives(pattern):
    """The strings an anchored regex matches when it is nothing but literals, with metacharacters escaped by a
    backslash, joined by |: a pods/* query names its pods that way (kube_pod_name=~"a|b|..."). None for any
    other regex. Python compiles a 100,000-way alternation in about 8 s; a set answers the same at once."""
    alternatives, current, i = [], [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1].isalnum() or pattern[i + 1] == "_":
                return None   # \d, \w, \1 ... are classes or references, not literals; a lone \ is an error
            current.append(pattern[i + 1])
            i += 2
            continue
        if char == "|":
            alternatives.append("".join(current))
            current = []
        elif char in REGEX_METACHARACTERS:
            return None
        else:
            current.append(char)
        i += 1
    alternatives.append("".join(current))
    return frozenset(alternatives)


@dataclasses.dataclass
class VectorSelector:
    matchers: list

    def matches(self, labels):
        return all(m.matches(labels) for m in self.matchers)


@dataclasses.dataclass
class RangeSelector:
    selector: VectorSelector
    range_seconds: float


@dataclasses.dataclass
class FunctionCall:
    function: str
    argument: RangeSelector


@dataclasses.dataclass
class Aggregation:
    op: str
    grouping: str | None   # "by", "without" or None
    labels: tuple
    expr: object


class PromQLParser:
    """Recursive descent over the token list; every construct outside the subset is an error."""

    def __init__(self, query):
        self.tokens = tokenize(query)
        self.index = 0

    # -- token helpers --------------------------------------------------------------------------------
    def peek(self, ahead=0):
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self):
        token = self.peek()
        self.index += 1
        return token

    def at(self, kind, text=None):
        token = self.peek()
        return token.kind == kind and (text is None or token.text == text)

    def error(self, message, token=None):
        token = token or self.peek()
        return PromQLError(f"parse error at char {token.pos + 1}: {message}")

    def expect(self, kind, text, context):
        if not self.at(kind, text):
            raise self.error(f"unexpected {describe(self.peek())} {context}, expected \"{text}\"")
        return self.advance()

    # -- grammar ---------------------------------------------------------------------------------------
    def parse_query(self):
        if self.at("END"):
            raise self.error("no expression found in input")
        node = self.parse_expr()
        if not self.at("END"):
            token = self.peek()
            if token.kind == "OP":
                raise self.error(f"binary operator \"{token.text}\" is not supported by this double")
            raise self.error(f"unexpected {describe(token)} after the expression")
        if isinstance(node, RangeSelector):
            raise self.error("a range vector selector is only supported as the argument of "
                             + ", ".join(sorted(RANGE_FUNCTIONS)), self.tokens[0])
        return node

    def parse_expr(self):
        token = self.peek()
        if token.kind == "PUNCT" and token.text == "(":
            self.advance()
            node = self.parse_expr()
            self.expect("PUNCT", ")", "in parenthesised expression")
            return node
        if token.kind == "NUMBER" or (token.kind == "IDENT" and token.text.lower() in ("inf", "nan")):
            raise self.error("number literals are not supported by this double")
        if token.kind == "DURATION":
            raise self.error(f"unexpected duration \"{token.text}\"")
        if token.kind == "STRING":
            raise self.error("string literals are not supported as expressions")
        if token.kind == "OP":
            raise self.error(f"unary and binary operators (\"{token.text}\") are not supported by this double")
        if token.kind == "IDENT":
            return self.parse_identifier_expr()
        if token.kind == "PUNCT" and token.text == "{":
            return self.parse_selector_with_modifiers()
        raise self.error(f"unexpected {describe(token)}")

    def parse_identifier_expr(self):
        name = self.peek().text
        if name in AGGREGATIONS:
            return self.parse_aggregation()
        if name in UNSUPPORTED_AGGREGATIONS:
            raise self.error(f"aggregation \"{name}\" is not supported by this double")
        if self.peek(1).kind == "PUNCT" and self.peek(1).text == "(":
            if name in RANGE_FUNCTIONS:
                return self.parse_function_call()
            raise self.error(f"function \"{name}\" is not supported by this double")
        return self.parse_selector_with_modifiers()

    def parse_aggregation(self):
        op = self.advance().text
        grouping, labels = self.parse_optional_grouping()
        self.expect("PUNCT", "(", f"in aggregation \"{op}\"")
        if self.at("PUNCT", ")"):
            raise self.error(f"no arguments for aggregate expression \"{op}\" provided")
        inner = self.parse_expr()
        if self.at("PUNCT", ","):
            raise self.error(f"aggregation \"{op}\" takes a single argument")
        self.expect("PUNCT", ")", f"in aggregation \"{op}\"")
        if self.at("IDENT", "by") or self.at("IDENT", "without"):
            if grouping is not None:
                raise self.error(f"aggregation \"{op}\" has two grouping clauses")
            grouping, labels = self.parse_optional_grouping()
        if isinstance(inner, RangeSelector):
            raise self.error(f"expected type instant vector in aggregation \"{op}\", got range vector")
        return Aggregation(op, grouping, labels, inner)

    def parse_optional_grouping(self):
        if not (self.at("IDENT", "by") or self.at("IDENT", "without")):
            return None, ()
        grouping = self.advance().text
        self.expect("PUNCT", "(", f"after \"{grouping}\"")
        labels = []
        while not self.at("PUNCT", ")"):
            token = self.advance()
            if token.kind != "IDENT" or not LABEL_NAME_RE.fullmatch(token.text):
                raise self.error(f"unexpected {describe(token)} in grouping, expected a label name", token)
            labels.append(token.text)
            if not self.at("PUNCT", ","):
                break
            self.advance()
        self.expect("PUNCT", ")", f"in \"{grouping}\" clause")
        return grouping, tuple(labels)

    def parse_function_call(self):
        function = self.advance().text
        self.expect("PUNCT", "(", f"in call to \"{function}\"")
        start = self.peek()
        argument = self.parse_expr()
        if self.at("PUNCT", ","):
            raise self.error(f"function \"{function}\" takes a single argument")
        self.expect("PUNCT", ")", f"in call to \"{function}\"")
        if not isinstance(argument, RangeSelector):
            raise self.error(f"expected type range vector in call to function \"{function}\", "
                             "got instant vector", start)
        return FunctionCall(function, argument)

    def parse_selector_with_modifiers(self):
        selector = self.parse_vector_selector()
        node = selector
        if self.at("PUNCT", "["):
            self.advance()
            token = self.advance()
            seconds = parse_duration(token.text) if token.kind == "DURATION" else None
            if seconds is None:
                raise self.error(f"unexpected {describe(token)} in range, expected a duration", token)
            if seconds <= 0:
                raise self.error("range duration must be greater than 0", token)
            if self.at("IDENT") and self.peek().text.startswith(":"):
                raise self.error("subqueries are not supported by this double")
            self.expect("PUNCT", "]", "in range")
            node = RangeSelector(selector, seconds)
        if self.at("IDENT", "offset"):
            self.advance()  # accepted and ignored: the double has one current sample per series
            token = self.advance()
            if token.kind != "DURATION" or parse_duration(token.text) is None:
                raise self.error(f"unexpected {describe(token)} after offset, expected a duration", token)
        if self.at("OP", "@"):
            raise self.error("the @ modifier is not supported by this double")
        return node

    def parse_vector_selector(self):
        matchers = []
        name_token = None
        if self.at("IDENT"):
            name_token = self.advance()
            matchers.append(Matcher("__name__", "=", name_token.text))
        if self.at("PUNCT", "{"):
            matchers.extend(self.parse_matchers(has_name=name_token is not None))
        elif name_token is None:
            raise self.error(f"unexpected {describe(self.peek())}, expected a metric name or \"{{\"")
        if not any(not m.matches({}) for m in matchers):
            raise self.error("vector selector must contain at least one non-empty matcher")
        return VectorSelector(matchers)

    def parse_matchers(self, has_name):
        open_brace = self.advance()
        matchers = []
        while not self.at("PUNCT", "}"):
            matchers.append(self.parse_matcher())
            if not self.at("PUNCT", ","):
                break
            self.advance()
        self.expect("PUNCT", "}", "in label matching")
        if has_name and any(m.label == "__name__" for m in matchers):
            raise self.error("metric name must not be set twice", open_brace)
        return matchers

    def parse_matcher(self):
        label = self.advance()
        if label.kind != "IDENT" or not LABEL_NAME_RE.fullmatch(label.text):
            raise self.error(f"unexpected {describe(label)} in label matching, expected a label name", label)
        op = self.advance()
        if op.kind != "OP" or op.text not in ("=", "!=", "=~", "!~"):
            raise self.error(f"unexpected {describe(op)} in label matching, expected one of =, !=, =~, !~", op)
        value = self.advance()
        if value.kind != "STRING":
            raise self.error(f"unexpected {describe(value)} in label matching, expected a string", value)
        regex, literals = None, None
        if op.text in ("=~", "!~"):
            literals = literal_alternatives(value.text)
            try:
                # Prometheus anchors regexes and (since 3.0) lets "." match newlines.
                regex = None if literals is not None else re.compile(value.text, re.DOTALL)
            except re.error as e:
                raise self.error(f"invalid regular expression {value.text!r}: {e}", value) from e
        return Matcher(label.text, op.text, value.text, regex, literals)


def describe(token):
    if token.kind == "END":
        return "end of input"
    if token.kind == "STRING":
        return f"string {json.dumps(token.text)}"
    return f"\"{token.text}\""


def parse_promql(query):
    return PromQLParser(query).parse_query()


def parse_series_selector(text):
    """A match[] argument: a plain vector selector, nothing else."""
    parser = PromQLParser(text)
    if parser.at("END"):
        raise parser.error("no expression found in input")
    if parser.at("IDENT") and (parser.peek().text in AGGREGATIONS | RANGE_FUNCTIONS
                               or (parser.peek(1).kind == "PUNCT" and parser.peek(1).text == "(")):
        raise parser.error("expected a vector selector")
    selector = parser.parse_vector_selector()
    if not parser.at("END"):
        raise parser.error(f"unexpected {describe(parser.peek())}, expected a plain vector selector")
    return selector


# ---------------------------------------------------------------------------------------------------------
# PromQL subset: evaluation
# ---------------------------------------------------------------------------------------------------------

class ExecutionError(Exception):
    """A well-formed query that Prometheus would refuse to evaluate (422 execution)."""


AGGREGATE_FUNCTIONS = {
    "sum": sum,
    "avg": lambda values: sum(values) / len(values),
    "max": max,
    "min": min,
    "count": lambda values: float(len(values)),
}


def label_key(labels):
    return tuple(sorted(labels.items()))


def select_series(selector, series):
    candidates = series
    by_name = getattr(series, "by_name", None)
    if by_name is not None:
        # Only the series of the metric a name matcher asks for can match: a lookup instead of a scan of all.
        name = next((m.value for m in selector.matchers if m.label == "__name__" and m.op == "="), None)
        if name is not None:
            candidates = by_name().get(name, ())
    return [(labels, s.value) for s in candidates if selector.matches(labels := s.prom_labels())]


def evaluate(node, series):
    """Evaluates a parsed query against the series; returns [(labels, value)] sorted by labels."""
    if isinstance(node, VectorSelector):
        samples = select_series(node, series)
    elif isinstance(node, FunctionCall):
        samples = evaluate_range_function(node, series)
    elif isinstance(node, Aggregation):
        samples = evaluate_aggregation(node, series)
    else:
        raise ExecutionError(f"cannot evaluate {type(node).__name__}")
    return sorted(samples, key=lambda sample: label_key(sample[0]))


def evaluate_range_function(call, series):
    # One current sample per series: every supported range function returns it unchanged.
    samples = select_series(call.argument.selector, series)
    if call.function in NAME_KEEPING_FUNCTIONS:
        return samples
    result = []
    seen = set()
    for labels, value in samples:
        labels = {k: v for k, v in labels.items() if k != "__name__"}
        if label_key(labels) in seen:
            raise ExecutionError("vector cannot contain metrics with the same labelset")
        seen.add(label_key(labels))
        result.append((labels, value))
    return result


def grouping_labels(aggregation, labels):
    if aggregation.grouping == "by":
        return {name: labels[name] for name in aggregation.labels if labels.get(name, "") != ""}
    if aggregation.grouping == "without":
        dropped = set(aggregation.labels) | {"__name__"}
        return {name: value for name, value in labels.items() if name not in dropped}
    return {}


def evaluate_aggregation(aggregation, series):
    groups = {}
    for labels, value in evaluate(aggregation.expr, series):
        group = grouping_labels(aggregation, labels)
        groups.setdefault(label_key(group), (group, []))[1].append(value)
    combine = AGGREGATE_FUNCTIONS[aggregation.op]
    return [(group, combine(values)) for group, values in groups.values()]


# ---------------------------------------------------------------------------------------------------------
# HTTP replies
# ---------------------------------------------------------------------------------------------------------

def json_reply(status, document, headers=None):
    return Reply(status, json_bytes(document), headers=dict(headers or {}))


PROMETHEUS_ERROR_TYPES = {400: "bad_data", 404: "not_found", 405: "bad_data", 422: "execution",
                          503: "unavailable", 504: "timeout"}


def prometheus_error(status, message, error_type=None):
    error_type = error_type or PROMETHEUS_ERROR_TYPES.get(status, "internal")
    return json_reply(status, {"status": "error", "errorType": error_type, "error": message})


def prometheus_success(data):
    return json_reply(200, {"status": "success", "data": data})


def sysdig_error(status, message, headers=None):
    return json_reply(status, {"message": message, "request_id": new_request_id()}, headers)


def unauthorized_reply():
    return sysdig_error(401, "Unauthorized", {"WWW-Authenticate": 'Bearer realm="sysdig"'})


def is_prometheus_path(path):
    return path == PROMETHEUS_PREFIX or path.startswith(PROMETHEUS_PREFIX + "/")


def endpoint_error(path, status, message):
    """An error body in the format of the endpoint the path belongs to."""
    if is_prometheus_path(path):
        return prometheus_error(status, message)
    return sysdig_error(status, message)


# ---------------------------------------------------------------------------------------------------------
# Prometheus-compatible API
# ---------------------------------------------------------------------------------------------------------

MAX_RANGE_POINTS = 11000


def first_param(params, name, default=""):
    values = params.get(name)
    return values[0] if values else default


def evaluation_time(params, now):
    text = first_param(params, "time")
    return parse_timestamp(text, "time") if text else now


def vector_result(samples, at):
    stamp = prometheus_time(at)
    return [{"metric": labels, "value": [stamp, format_sample_value(value)]} for labels, value in samples]


def prometheus_query(params, series, now):
    at = evaluation_time(params, now)
    samples = evaluate(parse_promql(first_param(params, "query")), series)
    return prometheus_success({"resultType": "vector", "result": vector_result(samples, at)})


def range_points(params):
    start = parse_timestamp(first_param(params, "start"), "start")
    end = parse_timestamp(first_param(params, "end"), "end")
    step = parse_step(first_param(params, "step"))
    if end < start:
        raise BadData('invalid parameter "end": end timestamp must not be before start time')
    if step <= 0:
        raise BadData('invalid parameter "step": zero or negative query resolution step widths are not '
                      'accepted. Try a positive integer')
    if (end - start) / step > MAX_RANGE_POINTS:
        raise BadData("exceeded maximum resolution of 11,000 points per timeseries. "
                      "Try decreasing the query resolution (?step=XX)")
    count = int((end - start) / step) + 1
    return [start + i * step for i in range(count)]


def prometheus_query_range(params, series):
    points = range_points(params)
    samples = evaluate(parse_promql(first_param(params, "query")), series)
    result = [{"metric": labels,
               "values": [[prometheus_time(t), format_sample_value(value)] for t in points]}
              for labels, value in samples]
    return prometheus_success({"resultType": "matrix", "result": result})


def series_matching(params, series, required):
    """The series selected by the match[] parameters (all series when optional and absent)."""
    texts = params.get("match[]", [])
    if not texts:
        if required:
            raise BadData("no match[] parameter provided")
        return list(series)
    selectors = []
    for text in texts:
        try:
            selectors.append(parse_series_selector(text))
        except PromQLError as e:
            raise BadData(f'invalid parameter "match[]": {e}') from e
    return [s for s in series if any(sel.matches(s.prom_labels()) for sel in selectors)]


def prometheus_series(params, series):
    matched = series_matching(params, series, required=True)
    return prometheus_success(sorted((s.prom_labels() for s in matched), key=label_key))


def prometheus_label_names(params, series):
    names = {name for s in series_matching(params, series, required=False) for name in s.prom_labels()}
    return prometheus_success(sorted(names))


def prometheus_label_values(label, params, series):
    if not LABEL_NAME_RE.fullmatch(label):
        raise BadData(f'invalid label name: "{label}"')
    values = {s.prom_labels().get(label) for s in series_matching(params, series, required=False)}
    return prometheus_success(sorted(v for v in values if v))


LABEL_VALUES_RE = re.compile(r"/label/([^/]+)/values")


def prometheus_api(method, path, params, series, now):
    """Routes one authenticated request under /prometheus/api/v1."""
    if method not in ("GET", "POST"):
        return prometheus_error(405, f"method {method} not allowed")
    endpoint = path[len(PROMETHEUS_PREFIX):]
    try:
        if endpoint == "/query":
            return prometheus_query(params, series, now)
        if endpoint == "/query_range":
            return prometheus_query_range(params, series)
        if endpoint == "/series":
            return prometheus_series(params, series)
        if endpoint == "/labels":
            return prometheus_label_names(params, series)
        match = LABEL_VALUES_RE.fullmatch(endpoint)
        if match:
            return prometheus_label_values(urllib.parse.unquote(match.group(1)), params, series)
    except BadData as e:
        return prometheus_error(400, str(e))
    except ExecutionError as e:
        return prometheus_error(422, str(e))
    return prometheus_error(404, f"unknown API endpoint {path}", "not_found")


# ---------------------------------------------------------------------------------------------------------
# Data API: filter language
# ---------------------------------------------------------------------------------------------------------

class DataApiError(ValueError):
    """A Data API request answered with 400 and this message."""


@dataclasses.dataclass
class FilterClause:
    label: str
    values: tuple
    negated: bool   # != / not in / not ...

    def matches(self, legacy_labels):
        # A series without the label is never "in" a set, so it matches only the negated forms.
        hit = self.label in legacy_labels and legacy_labels[self.label] in self.values
        return hit != self.negated


FILTER_TOKEN_RE = re.compile(r"\s*(?:(?P<word>[A-Za-z_][A-Za-z0-9_.:]*)|(?P<op>!=|=|\(|\)|,)|(?P<quote>'))")


def filter_error(message):
    return DataApiError(f"invalid filter: {message}")


def tokenize_filter(text):
    """[(kind, value)] with kind word/op/string; strings use single quotes with \\' and \\\\ escapes."""
    tokens = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = FILTER_TOKEN_RE.match(text, pos)
        if not match:
            raise filter_error(f"unexpected character {text[pos:].lstrip()[:1]!r} at offset {pos}")
        if match.group("word"):
            tokens.append(("word", match.group("word")))
            pos = match.end()
        elif match.group("op"):
            tokens.append(("op", match.group("op")))
            pos = match.end()
        else:
            value, pos = read_filter_string(text, match.end())
            tokens.append(("string", value))
    return tokens


def read_filter_string(text, pos):
    parts = []
    while pos < len(text):
        char = text[pos]
        if char == "'":
            return "".join(parts), pos + 1
        if char == "\\":
            if pos + 1 >= len(text) or text[pos + 1] not in "'\\":
                raise filter_error(f"unsupported escape at offset {pos} (only \\' and \\\\ are allowed)")
            parts.append(text[pos + 1])
            pos += 2
        else:
            parts.append(char)
            pos += 1
    raise filter_error("unterminated string")


class FilterParser:
    """filter := clause ('and' clause)*; clause := ['not'] label ('=' s | '!=' s | ['not'] 'in' '(' s, ... ')')"""

    def __init__(self, text):
        self.tokens = tokenize_filter(text)
        self.index = 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "")

    def advance(self):
        token = self.peek()
        self.index += 1
        return token

    def at_keyword(self, keyword):
        kind, value = self.peek()
        return kind == "word" and value.lower() == keyword

    def parse(self):
        if not self.tokens:
            return []
        clauses = [self.parse_clause()]
        while self.at_keyword("and"):
            self.advance()
            clauses.append(self.parse_clause())
        kind, value = self.peek()
        if kind != "end":
            hint = " ('or' is not supported by this double)" if value.lower() == "or" else ""
            raise filter_error(f"unexpected {value!r} after a clause{hint}")
        return clauses

    def parse_clause(self):
        negated = False
        if self.at_keyword("not"):
            self.advance()
            negated = True
        kind, label = self.advance()
        if kind != "word" or label.lower() in ("and", "not", "in", "or"):
            raise filter_error(f"expected a label name, got {label or 'end of filter'!r}")
        kind, op = self.advance()
        if (kind, op) in (("op", "="), ("op", "!=")):
            return FilterClause(label, (self.expect_string(),), negated != (op == "!="))
        if kind == "word" and op.lower() == "not":
            if negated:
                raise filter_error(f"double negation on {label!r}")
            negated = True
            kind, op = self.advance()
        if kind == "word" and op.lower() == "in":
            return FilterClause(label, self.parse_value_list(), negated)
        raise filter_error(f"expected =, !=, in or not in after {label!r}, got {op or 'end of filter'!r}")

    def expect_string(self):
        kind, value = self.advance()
        if kind != "string":
            raise filter_error(f"expected a quoted string, got {value or 'end of filter'!r}")
        return value

    def parse_value_list(self):
        if self.advance() != ("op", "("):
            raise filter_error("expected '(' after in")
        values = [self.expect_string()]
        while self.peek() == ("op", ","):
            self.advance()
            values.append(self.expect_string())
        if self.advance() != ("op", ")"):
            raise filter_error("expected ',' or ')' in value list")
        return tuple(values)


def parse_filter(text):
    return FilterParser(text).parse()


# ---------------------------------------------------------------------------------------------------------
# Data API: /api/data
# ---------------------------------------------------------------------------------------------------------

TIME_AGGREGATIONS = {"timeAvg", "sum", "max", "min"}
GROUP_AGGREGATIONS = {"sum": sum, "avg": lambda v: sum(v) / len(v), "max": max, "min": min}
MAX_SAMPLES = 600
DEFAULT_PAGE_SIZE = 10


@dataclasses.dataclass
class DataQuery:
    metrics: list          # ids in request order
    value_index: int       # position of the metric with aggregations
    group: str
    clauses: list
    last: int
    page: tuple            # (first, last) segment index, inclusive


def positive_int(document, key, required):
    value = document.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise DataApiError(f"'{key}' must be a positive integer number of seconds")
    return value


def parse_data_metrics(metrics):
    """Returns (ids, index of the value metric, group aggregation)."""
    if not isinstance(metrics, list) or not metrics:
        raise DataApiError("'metrics' must be a non-empty array")
    ids, value_index, group = [], None, None
    for i, metric in enumerate(metrics):
        if not isinstance(metric, dict) or not isinstance(metric.get("id"), str) or not metric["id"]:
            raise DataApiError(f"metrics[{i}] must be an object with a string 'id'")
        ids.append(metric["id"])
        aggregations = metric.get("aggregations")
        if aggregations is None:
            continue
        if value_index is not None:
            raise DataApiError("exactly one metric may carry 'aggregations'; the others are keys")
        if not isinstance(aggregations, dict):
            raise DataApiError(f"metrics[{i}].aggregations must be an object")
        if aggregations.get("time") not in TIME_AGGREGATIONS:
            raise DataApiError(f"metrics[{i}].aggregations.time must be one of {sorted(TIME_AGGREGATIONS)}")
        if aggregations.get("group") not in GROUP_AGGREGATIONS:
            raise DataApiError(f"metrics[{i}].aggregations.group must be one of {sorted(GROUP_AGGREGATIONS)}")
        value_index, group = i, aggregations["group"]
    if value_index is None:
        raise DataApiError("one metric must carry 'aggregations' (the value); none does")
    return ids, value_index, group


def parse_paging(paging):
    if paging is None:
        return 0, DEFAULT_PAGE_SIZE - 1
    if not isinstance(paging, dict):
        raise DataApiError("'paging' must be an object {from, to}")
    first, last = paging.get("from"), paging.get("to")
    for name, value in (("from", first), ("to", last)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DataApiError(f"paging.{name} must be a non-negative integer")
    if last < first:
        raise DataApiError("paging.to must not be smaller than paging.from")
    return first, last


def parse_data_query(body):
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataApiError(f"request body is not valid JSON: {e}") from e
    if not isinstance(document, dict):
        raise DataApiError("request body must be a JSON object")
    ids, value_index, group = parse_data_metrics(document.get("metrics"))
    text = document.get("filter")
    if text is not None and not isinstance(text, str):
        raise DataApiError("'filter' must be a string")
    if not isinstance(document.get("dataSourceType", ""), str):
        raise DataApiError("'dataSourceType' must be a string")
    last = positive_int(document, "last", required=True)
    sampling = positive_int(document, "sampling", required=False) or last
    if math.ceil(last / sampling) > MAX_SAMPLES:
        raise DataApiError(f"too many samples requested: last/sampling = {math.ceil(last / sampling)}, "
                           f"at most {MAX_SAMPLES} are allowed")
    return DataQuery(ids, value_index, group, parse_filter(text or ""), last,
                     parse_paging(document.get("paging")))


def data_segments(query, series):
    """[(key values, aggregated value)] ordered by value, highest first (Sysdig's top-N order)."""
    keys = [m for i, m in enumerate(query.metrics) if i != query.value_index]
    value_id = query.metrics[query.value_index]
    groups = {}
    for s in series:
        legacy = s.legacy_labels()
        if s.metric == value_id and all(clause.matches(legacy) for clause in query.clauses):
            groups.setdefault(tuple(legacy.get(k) for k in keys), []).append(s.value)
    combine = GROUP_AGGREGATIONS[query.group]
    segments = [(key, combine(values)) for key, values in groups.items()]

    def order(segment):
        value = segment[1]
        return (-value if not math.isnan(value) else math.inf, [str(k) for k in segment[0]])
    return sorted(segments, key=order)


def data_row(query, key_values, value, stamp):
    keys = iter(key_values)
    row = [data_api_number(value) if i == query.value_index else next(keys) for i in range(len(query.metrics))]
    return {"t": stamp, "d": row}


def data_api(body, series, now):
    try:
        query = parse_data_query(body)
    except DataApiError as e:
        return sysdig_error(400, str(e))
    end = int(now)
    first, last = query.page
    page = data_segments(query, series)[first:last + 1]
    rows = [data_row(query, key_values, value, end) for key_values, value in page]
    return json_reply(200, {"start": end - query.last, "end": end, "data": rows})


# ---------------------------------------------------------------------------------------------------------
# Data API: /api/v2/metrics/descriptors
# ---------------------------------------------------------------------------------------------------------

MAX_DESCRIPTOR_LIMIT = 1000


def is_counter(metric):
    # Sysdig's own event counts (net.http.request.count) are counters; kube-state counts are gauges.
    return metric.endswith(".count") and not metric.startswith("kubernetes.")


def metric_descriptor(metric, values):
    integral = all(math.isfinite(v) and v.is_integer() for v in values)
    return {"id": metric,
            "metricType": "counter" if is_counter(metric) else "gauge",
            "type": "integer" if integral else "double",
            "scale": 1,
            "name": " ".join(part.capitalize() for part in metric.split(".")),
            "category": metric.split(".")[0]}


def tag_descriptor(label_id):
    return {"id": label_id, "metricType": "tag", "type": "string", "scale": 1,
            "name": " ".join(part.capitalize() for part in label_id.split(".")),
            "category": label_id.split(".")[0]}


def build_descriptors(series):
    values = {}
    for s in series:
        values.setdefault(s.metric, []).append(s.value)
    tags = {label for s in series for label in s.legacy_labels()}
    return ([metric_descriptor(m, values[m]) for m in sorted(values)]
            + [tag_descriptor(t) for t in sorted(tags)])


def int_query_param(query, name, default, minimum, maximum):
    text = first_param(query, name)
    if text == "":
        return default
    if not (text.isascii() and text.isdigit()) or not minimum <= int(text) <= maximum:
        raise DataApiError(f"'{name}' must be an integer between {minimum} and {maximum}")
    return int(text)


def descriptors_api(query, series):
    try:
        limit = int_query_param(query, "limit", 100, 1, MAX_DESCRIPTOR_LIMIT)
        offset = int_query_param(query, "offset", 0, 0, 2 ** 31)
    except DataApiError as e:
        return sysdig_error(400, str(e))
    descriptors = build_descriptors(series)
    return json_reply(200, {"total": len(descriptors), "offset": offset,
                            "metricDescriptors": descriptors[offset:offset + limit]})


# ---------------------------------------------------------------------------------------------------------
# The service: fixture, routing and error formats (server, faults, recording and control: double_server.py)
# ---------------------------------------------------------------------------------------------------------

def request_params(query_string, headers, body):
    """Query parameters merged with a form body, body values first (as Go's Request.Form does)."""
    params = {}
    if double_server.is_form(headers.get("Content-Type", "")):
        for key, values in urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                                 keep_blank_values=True).items():
            params.setdefault(key, []).extend(values)
    for key, values in urllib.parse.parse_qs(query_string, keep_blank_values=True).items():
        params.setdefault(key, []).extend(values)
    return params


def api_reply(service, method, target, headers, body, now):
    """The normal answer to an API request: auth check, then routing."""
    path, _, query_string = target.partition("?")
    if not service.bearer_token_accepted(headers):
        return unauthorized_reply()
    series = service.series()
    if is_prometheus_path(path):
        return prometheus_api(method, path, request_params(query_string, headers, body), series, now)
    if path == "/api/data":
        if method != "POST":
            return sysdig_error(405, f"method {method} not allowed on /api/data; use POST")
        return data_api(body, series, now)
    if path == "/api/v2/metrics/descriptors":
        if method != "GET":
            return sysdig_error(405, f"method {method} not allowed; use GET")
        return descriptors_api(urllib.parse.parse_qs(query_string, keep_blank_values=True), series)
    return sysdig_error(404, f"Not Found: {path}")


class SysdigService(double_server.ImitatedService):
    """The series fixture and Sysdig's two APIs, on top of the shared token, faults and request log."""

    name = DOUBLE_NAME
    records_form = True   # Prometheus clients POST form bodies; tests check what they sent

    def __init__(self, series, token):
        super().__init__(token)
        self._series = SeriesSet(series)

    def series(self):
        with self.lock:
            return self._series

    def replace_series(self, series):
        with self.lock:
            self._series = SeriesSet(series)

    def replace_fixture(self, document):
        series = parse_fixture(document)
        self.replace_series(series)
        return {"series": len(series)}

    def api_reply(self, method, target, headers, body):
        return api_reply(self, method, target, headers, body, time.time())

    def error_reply(self, path, status, message):
        return endpoint_error(path, status, message)

    def oversize_prefix(self, path):
        if is_prometheus_path(path):
            return b'{"status":"success","data":{"resultType":"vector","result":[]},"padding":"'
        return b'{"start":0,"end":0,"data":[],"padding":"'


class SysdigDouble(double_server.RunningDouble):
    """The double in-process: start(), port, stop(). Also usable as a context manager."""

    def __init__(self, series, token, host="127.0.0.1", port=0, ssl_context=None):
        super().__init__(SysdigService(series, token), host, port, ssl_context)


def parse_args(argv):
    parser = double_server.argument_parser("Fake Sysdig Monitor for tests.", DEFAULT_FIXTURE,
                                           fixture_help="series fixture (JSON)",
                                           token_help="the accepted API token",
                                           tls_cert_help="serve HTTPS with this certificate (PEM)")
    return double_server.parse_arguments(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        series = load_fixture_file(args.fixture)
        context = double_server.tls_context(args.tls_cert, args.tls_key) if args.tls_cert else None
        double = SysdigDouble(series, args.token, args.bind, args.port, context)
    except (OSError, FixtureError, ssl.SSLError) as e:
        log(f"cannot start: {e}")
        return 2
    return double_server.serve_until_signalled(
        double, {"port": double.port},
        f"listening on {args.bind}:{double.port} ({'https' if context else 'http'}, "
        f"{len(series)} series from {args.fixture})")


if __name__ == "__main__":
    sys.exit(main())
