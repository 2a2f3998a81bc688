#!/usr/bin/env python3
"""An exec rule's command for the integration tests: records what it was given (stdin, argv, the names
in its environment, its working directory) as one JSON line in $RECORD_FILE, then answers the query
with values derived from the document, so a test can tell which request produced which answer."""
import json
import os
import sys

document = json.load(sys.stdin)
record = {"stdin": document, "argv": sys.argv[1:], "env": sorted(os.environ), "cwd": os.getcwd()}
if os.environ.get("RECORD_FILE"):
    with open(os.environ["RECORD_FILE"], "a") as f:
        f.write(json.dumps(record) + "\n")
if "--sleep" in sys.argv:
    import time
    time.sleep(float(sys.argv[sys.argv.index("--sleep") + 1]))
kind = document["kind"]
if kind == "object":
    # The length of the object's name, in milli-units: "kuard" -> 5m... as a quantity string.
    print(f"{len(document['name'])}500m")
elif kind == "selector":
    names = document.get("names") or ["kuard-a", "kuard-b"]
    print(json.dumps({"items": [{"name": n, "value": str(i + 1)} for i, n in enumerate(names)]}))
else:
    print(json.dumps({"items": [{"labels": {"queue": "orders"}, "value": "42"},
                                {"labels": {"queue": "emails"}, "value": 7}]}))
