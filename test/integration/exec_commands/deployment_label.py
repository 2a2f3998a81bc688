#!/usr/bin/env python3
"""input: object: prints the value of the described object's label named by the first argument
(absent label: nothing, so the adapter answers 404)."""
import json
import sys

document = json.load(sys.stdin)
labels = document["object"]["metadata"].get("labels", {})
if sys.argv[1] in labels:
    print(labels[sys.argv[1]])
