#!/usr/bin/env python3
"""Runs one of the test doubles (test/doubles) unchanged, and also times each API request it serves.

    python3 bench/timed_double.py --double sysdig|kube <the double's own flags>

The double behaves exactly as when its own script runs it. This wrapper also measures, for each API request
(not /_control/ requests), how long the double takes from the moment it has read the request headers until
the last byte of its answer is written to the socket. Watches (`?watch=1`) are not timed: they stay open for as
long as the adapter watches, and no API request waits on them. That time covers reading the body, any injected latency,
evaluating the request, serialising the answer and, for the HTTPS Kubernetes double, encrypting it. The
benchmark subtracts it from the adapter's request latency, to get the adapter's own time without the doubles'
time. Control route:

    GET    /_control/timings   -> {"timings": [{"path": "/api/v1/namespaces/x/pods", "seconds": 0.0123}, ...],
                                   "in_progress": 0}, oldest first
    DELETE /_control/timings   -> clears them

Both first wait (at most 2 s) until no timed request is in progress, so a client that has just read its answer
finds that answer's time; "in_progress" is the number still running after that wait (0 unless a request hangs).

At most MAX_TIMINGS entries are kept (the oldest are dropped), so a long load run cannot fill memory.
"""
import collections
import os
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # leave no __pycache__ in bench/ or test/

DOUBLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "doubles")
sys.path.insert(0, DOUBLES)

import double_server  # noqa: E402  (the doubles' shared server; patched below before a double starts)

MAX_TIMINGS = 100_000
# A request's time is stored after its answer has gone out, so a client that reads the timings right after
# its answer could miss it: reading waits (at most SETTLE_SECONDS) until no timed request is in progress.
SETTLE_SECONDS = 2.0
_timings = collections.deque(maxlen=MAX_TIMINGS)
_changed = threading.Condition()
_in_progress = 0
_untimed_handle_request = double_server.DoubleRequestHandler.handle_request


def _is_watch(query):
    # A watch stays open for as long as its client watches; no API request of the adapter waits on it.
    return urllib.parse.parse_qs(query).get("watch", [""])[0] in ("1", "true")


def _timed_handle_request(handler):
    global _in_progress
    path, _, query = handler.path.partition("?")
    if path.startswith(double_server.CONTROL_PREFIX) or _is_watch(query):
        return _untimed_handle_request(handler)
    with _changed:
        _in_progress += 1
    started = time.perf_counter()
    try:
        return _untimed_handle_request(handler)
    finally:
        elapsed = time.perf_counter() - started
        with _changed:
            _in_progress -= 1
            _timings.append({"path": path, "seconds": elapsed})
            _changed.notify_all()


def _control_timings(service, method, body):
    with _changed:
        _changed.wait_for(lambda: _in_progress == 0, timeout=SETTLE_SECONDS)
        if method == "DELETE":
            _timings.clear()
            return double_server.json_reply(200, [])
        return double_server.json_reply(200, {"timings": list(_timings), "in_progress": _in_progress})


double_server.DoubleRequestHandler.handle_request = _timed_handle_request
double_server.SHARED_CONTROL_ROUTES["/_control/timings"] = (("GET", "DELETE"), _control_timings)


def main(argv):
    """`--double KIND` may stand anywhere (a harness puts `--port 0` first); the rest goes to the double."""
    kind = None
    if "--double" in argv and argv.index("--double") + 1 < len(argv):
        at = argv.index("--double")
        kind = argv[at + 1]
        argv = argv[:at] + argv[at + 2:]
    if kind not in ("sysdig", "kube"):
        print("usage: timed_double.py --double sysdig|kube <flags of the double>", file=sys.stderr)
        return 2
    if kind == "sysdig":
        import sysdig_double as double
    else:
        import kube_api_double as double
    return double.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
