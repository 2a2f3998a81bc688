#!/usr/bin/env python3
"""Writes the PrometheusRule of the servicemonitor overlay from the plain rules file, so the two are one source.

    python3 deploy/monitoring/make_prometheusrule.py            # rewrite manifests/overlays/servicemonitor/prometheusrule.yaml
    python3 deploy/monitoring/make_prometheusrule.py --check    # exit 1 if the committed file differs (test/monitoring runs this)

deploy/monitoring/alert-rules.yaml is the source: edit it, then run this. Its `groups:` block is copied verbatim
(indented under `spec:`), so the PrometheusRule carries exactly the same rules, comments within the groups included.
Standard library only.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SOURCE = os.path.join(HERE, "alert-rules.yaml")
TARGET = os.path.join(REPO, "manifests", "overlays", "servicemonitor", "prometheusrule.yaml")

HEADER = """\
# GENERATED from deploy/monitoring/alert-rules.yaml by deploy/monitoring/make_prometheusrule.py: edit that
# file and run the script; test/monitoring fails when the two differ.
#
# The alert rules for the Prometheus Operator. A Prometheus loads a PrometheusRule only when its ruleSelector
# (and ruleNamespaceSelector) select it: kube-prometheus selects the labels prometheus: k8s and
# role: alert-rules below; the kube-prometheus-stack Helm chart by default selects release: <release name>,
# so add that label in your overlay. Runbooks: docs/runbooks.md.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: sysdig-metrics-adapter
  namespace: custom-metrics
  labels:
    app.kubernetes.io/name: sysdig-metrics-adapter
    prometheus: k8s
    role: alert-rules
spec:
"""


def render(source_text):
    lines = source_text.splitlines()
    try:
        start = lines.index("groups:")
    except ValueError:
        raise SystemExit(f"{SOURCE}: no top-level `groups:` line") from None
    body = ["  " + line if line.strip() else "" for line in lines[start:]]
    return HEADER + "\n".join(body) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing it")
    args = parser.parse_args(argv)
    with open(SOURCE, encoding="utf-8") as f:
        wanted = render(f.read())
    if args.check:
        try:
            with open(TARGET, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != wanted:
            print(f"{os.path.relpath(TARGET, REPO)} is not what {os.path.relpath(SOURCE, REPO)} makes: run "
                  f"python3 deploy/monitoring/make_prometheusrule.py", file=sys.stderr)
            return 1
        return 0
    with open(TARGET, "w", encoding="utf-8") as f:
        f.write(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
