#!/usr/bin/env python3
"""A Custom Pod Autoscaler style "metric gatherer" for an exec rule with `input: object`: the adapter sends the
request and the described Deployment (as the Kubernetes API returns it) as JSON on stdin; this prints the value
of one of the Deployment's labels, named by the first argument, e.g.

    kubectl label deployment kuard autoscaling.example.com/load=250 --overwrite

makes `load_hint` of Deployment kuard 250. A Deployment without the label prints nothing: the adapter answers
404 and the HPA keeps the current scale. The adapter checks that what is printed is a Kubernetes quantity."""
import json
import sys

document = json.load(sys.stdin)
labels = document["object"]["metadata"].get("labels") or {}
value = labels.get(sys.argv[1])
if value is not None:
    print(value)
