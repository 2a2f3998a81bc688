"""What the monitoring tests share: where the dashboard, the rules and the runbooks are, and reading the metric
names a PromQL expression uses."""
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DASHBOARD = os.path.join(REPO, "deploy", "monitoring", "grafana-dashboard.json")
RULES = os.path.join(REPO, "deploy", "monitoring", "alert-rules.yaml")
RULES_TEST = os.path.join(HERE, "alert-rules-test.yaml")
PROMETHEUS_RULE = os.path.join(REPO, "manifests", "overlays", "servicemonitor", "prometheusrule.yaml")
MAKE_PROMETHEUS_RULE = os.path.join(REPO, "deploy", "monitoring", "make_prometheusrule.py")
RUNBOOKS = os.path.join(REPO, "docs", "runbooks.md")

# Metrics the dashboard or the rules read that the adapter does not export, and who does.
NOT_FROM_THE_ADAPTER = {
    "up": "Prometheus itself, for every scrape target",
    "aggregator_unavailable_apiservice": "the kube-apiserver's aggregator (scraped by kube-prometheus)",
}
# Variables Grafana itself defines.
GRAFANA_BUILTINS = {"__rate_interval", "__interval", "__range", "__range_s", "__interval_ms"}

_NOT_NAMES = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
              "inf", "nan"}


def yaml_module():
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        raise AssertionError("PyYAML is missing: install python3-yaml (scripts/install-deps.sh does)") from None
    return yaml


def load_dashboard():
    with open(DASHBOARD, encoding="utf-8") as f:
        return json.load(f)


def load_rules():
    with open(RULES, encoding="utf-8") as f:
        return yaml_module().safe_load(f)


def alerts(rules_document):
    return [rule for group in rules_document["groups"] for rule in group["rules"] if "alert" in rule]


def panels(dashboard):
    """Every panel but the rows, collapsed rows' panels included."""
    found = []
    for panel in dashboard["panels"]:
        if panel.get("type") == "row":
            found.extend(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def variable_queries(dashboard):
    """(name, metric selector, label) of every `label_values(selector, label)` query variable."""
    found = []
    for var in dashboard["templating"]["list"]:
        if var.get("type") != "query":
            continue
        query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        m = re.fullmatch(r"label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)", query.strip())
        if not m:
            raise AssertionError(f"variable {var['name']}: not a label_values(selector, label) query: {query}")
        found.append((var["name"], m.group(1), m.group(2)))
    return found


def metric_names(expr):
    """The metric names a PromQL expression selects: identifiers outside strings, label matchers, ranges and
    label lists that are not functions, aggregations or keywords."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for m in re.finditer(r"(?<![\w$.])[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        if text[m.end():].lstrip().startswith("(") or m.group(0).lower() in _NOT_NAMES:
            continue
        names.add(m.group(0))
    return names


def exposed_names(metrics_text):
    """Sample names in a Prometheus text exposition (histograms as _bucket, _sum and _count)."""
    names = set()
    for line in metrics_text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names
