"""What every test double in this folder shares, so that each double holds only the service it imitates.

A double subclasses ImitatedService: it keeps its fixture and answers API requests in its service's wire format.
This module does everything else, the same way for every double:

- the threaded HTTP/1.1 server (HTTPS when given a TLS context), with the TLS handshake in each connection's thread;
- recording every API request, then applying the first matching fault rule (status, garbage, truncate, drop, hang,
  oversize, latency; each with an optional count and path prefix) before the service answers;
- counting API requests in flight and their peak (for tests of the adapter's concurrency cap);
- the /_control/ API: faults, requests, concurrency, fixture and token, plus any routes a double adds;
- running as a script: the shared flags, the one JSON line on stdout, and a clean exit on SIGTERM or SIGINT.

Python 3.11, standard library only.
"""
import argparse
import dataclasses
import http.server
import json
import secrets
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import urllib.parse

CONTROL_PREFIX = "/_control/"


def log(name, message):
    # stdout carries only the start-up line the test harnesses wait for; everything else goes to stderr.
    print(f"{name}: {message}", file=sys.stderr, flush=True)


def json_bytes(document, allow_nan=True):
    # Compact and UTF-8 as-is, as the real services write JSON.
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan).encode("utf-8")


@dataclasses.dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class StreamReply:
    """A long-lived answer (a watch): chunked, each piece `produce(stopping)` yields written and flushed as it
    comes. The iterator ends the answer cleanly by returning; raising StreamBroken closes the connection
    mid-body instead. `stopping` is the server's threading.Event, set when the double stops."""
    status: int
    produce: object
    content_type: str = "application/json"


class StreamBroken(Exception):
    """Raised by a StreamReply's iterator to cut the connection without ending the body."""


def json_reply(status, document, headers=None):
    return Reply(status, json_bytes(document), headers=dict(headers or {}))


class FixtureError(ValueError):
    """The fixture document does not have the documented shape."""


def read_fixture_file(path):
    """The JSON document in a fixture file, for the double to validate. OSError when it cannot be read."""
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise FixtureError(f"{path} is not JSON: {e}") from e


# ---------------------------------------------------------------------------------------------------------
# Fault rules
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


def non_negative_int(document, key, default):
    value = document.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"'{key}' must be a non-negative integer")
    return value


def parse_fault(document):
    """The Fault a POST /_control/faults body describes; ValueError says what is wrong with it."""
    if not isinstance(document, dict):
        raise ValueError("a fault is a JSON object")
    unknown = set(document) - FAULT_KEYS
    if unknown:
        raise ValueError(f"unknown fault keys {sorted(unknown)}")
    mode = document.get("mode")
    if mode is None and "status" in document:
        mode = "status"
    if mode is not None and mode not in FAULT_MODES:
        raise ValueError(f"'mode' must be one of {list(FAULT_MODES)}")
    status = document.get("status", 503)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError("'status' must be an HTTP status code")
    body = document.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError("'body' must be a string")
    latency_ms = non_negative_int(document, "latency_ms", 0)
    count = document.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count <= 0):
        raise ValueError("'count' must be a positive integer (omit it for 'until cleared')")
    path_prefix = document.get("path_prefix", "")
    if not isinstance(path_prefix, str):
        raise ValueError("'path_prefix' must be a string")
    headers = document.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ValueError("'headers' must be an object of strings")
    if mode is None and latency_ms == 0:
        raise ValueError("the fault does nothing: give a 'mode', a 'status' or a 'latency_ms'")
    return Fault(mode, status, body, latency_ms, count, path_prefix,
                 non_negative_int(document, "bytes", DEFAULT_OVERSIZE_BYTES),
                 bool(document.get("chunked", False)), dict(headers))


# ---------------------------------------------------------------------------------------------------------
# The imitated service: shared state, plus the hooks each double fills in
# ---------------------------------------------------------------------------------------------------------

class ImitatedService:
    """One double's state and answers. This base class keeps what every double has (the accepted token, the
    fault rules and the request log, behind one lock because handler threads share them); a subclass adds its
    fixture and implements the hooks below in its service's wire format."""

    name = "double"              # in log lines, error messages, the Server header and the thread name
    records_form = False         # whether a recorded request also shows its parsed form body
    extra_control_routes = {}    # path -> (methods, handler(service, method, body)), beside the shared ones

    def __init__(self, token):
        self.lock = threading.Lock()
        self._token = token
        self._faults = []
        self._requests = []
        self._in_flight = 0
        self._peak = 0

    # -- hooks --------------------------------------------------------------------------------------------
    def api_reply(self, method, target, headers, body):
        """The normal answer to an API request (faults aside), auth check included."""
        raise NotImplementedError

    def error_reply(self, path, status, message):
        """An error in the format of the endpoint `path` belongs to (injected faults, internal errors)."""
        raise NotImplementedError

    def oversize_prefix(self, path):
        """The start of a valid JSON answer for `path`, which the oversize fault pads with x's and closes."""
        raise NotImplementedError

    def replace_fixture(self, document):
        """Validates and installs a new fixture (FixtureError keeps the old one); returns the reply document."""
        raise NotImplementedError

    def unreadable_body_reply(self, message):
        """The 400 for a request whose body cannot even be read."""
        return control_error(400, message)

    # -- token --------------------------------------------------------------------------------------------
    def bearer_token_accepted(self, headers):
        scheme, _, credentials = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        with self.lock:
            token = self._token
        return secrets.compare_digest(credentials.strip().encode("utf-8"), token.encode("utf-8"))

    def replace_token(self, token):
        with self.lock:
            self._token = token

    # -- faults -------------------------------------------------------------------------------------------
    def add_fault(self, fault):
        with self.lock:
            self._faults.append(fault)

    def clear_faults(self):
        with self.lock:
            self._faults.clear()

    def faults(self):
        with self.lock:
            return [f.describe() for f in self._faults]

    def take_fault(self, path):
        """The first fault whose prefix matches `path`, counted against its budget."""
        with self.lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # -- request log --------------------------------------------------------------------------------------
    def record(self, entry):
        with self.lock:
            self._requests.append(entry)

    def requests(self):
        with self.lock:
            return list(self._requests)

    def clear_requests(self):
        with self.lock:
            self._requests.clear()

    # -- concurrency --------------------------------------------------------------------------------------
    def request_started(self):
        with self.lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)

    def request_finished(self):
        with self.lock:
            self._in_flight -= 1

    def concurrency(self):
        with self.lock:
            return {"in_flight": self._in_flight, "peak": self._peak}

    def reset_peak(self):
        with self.lock:
            self._peak = self._in_flight


def is_form(content_type):
    return content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


def request_record(method, target, headers, body, with_form):
    """What /_control/requests shows for one API request."""
    path, _, query_string = target.partition("?")
    text = body.decode("utf-8", "replace")
    lowered = {}
    for name, value in headers.items():
        key = name.lower()
        lowered[key] = f"{lowered[key]}, {value}" if key in lowered else value
    record = {"method": method, "path": path,
              "query": urllib.parse.parse_qs(query_string, keep_blank_values=True),
              "headers": lowered, "body": text}
    if with_form and is_form(headers.get("Content-Type", "")):
        record["form"] = urllib.parse.parse_qs(text, keep_blank_values=True)
    try:
        record["json"] = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        record["json"] = None
    return record


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


def control_faults(service, method, body):
    if method == "DELETE":
        service.clear_faults()
    elif method == "POST":
        service.add_fault(parse_fault(parse_json_body(body)))
    return json_reply(200, {"faults": service.faults()})


def control_requests(service, method, body):
    if method == "DELETE":
        service.clear_requests()
        return json_reply(200, [])
    return json_reply(200, service.requests())


def control_concurrency(service, method, body):
    if method == "DELETE":
        service.reset_peak()
    return json_reply(200, service.concurrency())


def control_fixture(service, method, body):
    document = parse_json_body(body)
    try:
        return json_reply(200, service.replace_fixture(document))
    except FixtureError as e:
        raise ValueError(f"invalid fixture: {e}") from e


def control_token(service, method, body):
    document = parse_json_body(body)
    token = document.get("token") if isinstance(document, dict) else None
    if not isinstance(token, str) or not token:
        raise ValueError('expected {"token": "<non-empty string>"}')
    service.replace_token(token)
    return json_reply(200, {})


SHARED_CONTROL_ROUTES = {
    "/_control/faults": (("GET", "POST", "DELETE"), control_faults),
    "/_control/requests": (("GET", "DELETE"), control_requests),
    "/_control/concurrency": (("GET", "DELETE"), control_concurrency),
    "/_control/fixture": (("POST",), control_fixture),
    "/_control/token": (("POST",), control_token),
}


def control_reply(service, method, path, body):
    route = SHARED_CONTROL_ROUTES.get(path) or service.extra_control_routes.get(path)
    if route is None:
        return control_error(404, f"unknown control endpoint {path}")
    methods, handler = route
    if method not in methods:
        return control_error(405, f"{path} accepts {', '.join(methods)}")
    try:
        return handler(service, method, body)
    except ValueError as e:
        return control_error(400, str(e))


# ---------------------------------------------------------------------------------------------------------
# HTTP server
# ---------------------------------------------------------------------------------------------------------

class MalformedBody(ValueError):
    pass


class DoubleRequestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, Content-Length on every answer
    sys_version = ""

    def setup(self):
        # TLS handshakes happen here, in the connection's own thread, so a stuck client blocks nobody.
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def version_string(self):
        return f"{self.server.service.name}/1.0 {self.sys_version}"

    def log_message(self, format, *args):
        log(self.server.service.name, f"{self.address_string()} {format % args}")

    def do_GET(self):
        self.handle_request()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # -- request side ---------------------------------------------------------------------------------------
    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self.read_chunked_body()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not (length.isascii() and length.isdigit()):
            raise MalformedBody(f"bad Content-Length {length!r}")
        return self.rfile.read(int(length))

    def read_chunked_body(self):
        parts = []
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as e:
                raise MalformedBody(f"bad chunk size {size_line!r}") from e
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def handle_request(self):
        service = self.server.service
        try:
            body = self.read_body()
        except MalformedBody as e:
            self.close_connection = True
            self.send_reply(service.unreadable_body_reply(str(e)))
            return
        path = self.path.partition("?")[0]
        if path.startswith(CONTROL_PREFIX):
            self.send_reply(control_reply(service, self.command, path, body))
            return
        # Recording comes first and faults before the service's auth check, so faulted and 401 requests show too.
        service.record(request_record(self.command, self.path, self.headers, body, service.records_form))
        # In flight from here until the first byte of the answer (or the hang-up), latency included. Not until
        # the last byte: the client may see that and send its next request before this thread counts it done.
        service.request_started()
        self.in_flight = True
        try:
            fault = service.take_fault(path)
            if fault is not None and fault.latency_ms and not self.delay(fault.latency_ms / 1000):
                self.close_connection = True
                return
            self.answer(fault, path, body)
        finally:
            self.answer_started()

    def answer_started(self):
        if getattr(self, "in_flight", False):
            self.in_flight = False
            self.server.service.request_finished()

    def delay(self, seconds):
        """Waits `seconds` before answering. False when the answer is not worth sending any more: the double is
        stopping, or the client hung up (Go servers cancel a request whose client went away; on HTTPS that is not
        seen before the answer is written)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.server.stopping.is_set() or self.client_hung_up(min(left, 0.05)):
                return False
        return True

    def client_hung_up(self, wait):
        """Waits up to `wait` seconds for the client to hang up; True when it did."""
        sock = self.connection
        if isinstance(sock, ssl.SSLSocket):
            time.sleep(wait)  # peeking is not possible under TLS
            return False
        try:
            readable, _, _ = select.select([sock], [], [], wait)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def answer(self, fault, path, body):
        mode = fault.mode if fault else None
        if mode == "drop":
            self.close_connection = True   # the server closes the socket without a byte of answer
        elif mode == "hang":
            self.hang()
        elif mode == "garbage":
            self.send_reply(Reply(200, GARBAGE_BODY))
        elif mode == "oversize":
            self.send_oversize(fault, path)
        elif mode == "status":
            self.send_reply(self.injected_status(fault, path))
        else:
            reply = self.normal_reply(path, body)
            if mode == "truncate" and not isinstance(reply, StreamReply):
                self.send_truncated(reply)
            else:
                self.send_reply(reply)

    def normal_reply(self, path, body):
        service = self.server.service
        try:
            return service.api_reply(self.command, self.path, self.headers, body)
        except Exception:  # a bug in the double must show up as a 500, not a dead connection
            log(service.name, traceback.format_exc())
            return service.error_reply(path, 500, f"internal error in {service.name}")

    def injected_status(self, fault, path):
        if fault.body is None:
            reply = self.server.service.error_reply(path, fault.status, f"injected fault: HTTP {fault.status}")
        else:
            try:
                json.loads(fault.body)
                content_type = "application/json"
            except json.JSONDecodeError:
                content_type = "text/plain; charset=utf-8"
            reply = Reply(fault.status, fault.body.encode("utf-8"), content_type)
        reply.headers.update(fault.headers)
        return reply

    # -- response side --------------------------------------------------------------------------------------
    def send_head(self, status, content_type, length=None, headers=None):
        self.answer_started()
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
        if isinstance(reply, StreamReply):
            self.send_stream(reply)
            return
        self.send_head(reply.status, reply.content_type, len(reply.body), reply.headers)
        self.wfile.write(reply.body)

    def send_stream(self, reply):
        self.send_head(reply.status, reply.content_type)
        self.wfile.flush()
        try:
            for piece in reply.produce(self.server.stopping):
                self.write_piece(piece, True)
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (StreamBroken, OSError, ValueError):
            self.close_connection = True

    def send_truncated(self, reply):
        # Promise the whole body, deliver half, then close: the client sees an early EOF.
        self.close_connection = True
        self.send_head(reply.status, reply.content_type, len(reply.body), reply.headers)
        self.wfile.write(reply.body[:len(reply.body) // 2])
        self.wfile.flush()

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

    def send_oversize(self, fault, path):
        prefix = self.server.service.oversize_prefix(path)
        suffix = b'"}'
        padding = max(0, fault.size_bytes - len(prefix) - len(suffix))
        total = len(prefix) + padding + len(suffix)
        self.send_head(200, "application/json", None if fault.chunked else total, fault.headers)
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
    # socketserver's default backlog is 5: a client opening hundreds of connections at once (a watch per
    # namespace) would see SYNs dropped and retried a second later, and time that is the double's, not its own.
    request_queue_size = 1024

    def __init__(self, address, service, ssl_context=None):
        self.service = service
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
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, ssl.SSLError, TimeoutError)):
            log(self.service.name, f"{client_address[0]} connection ended: {error!r}")
        else:
            super().handle_error(request, client_address)


class RunningDouble:
    """A double in-process: start(), port, stop(). Also usable as a context manager."""

    def __init__(self, service, host="127.0.0.1", port=0, ssl_context=None):
        self.service = service
        self.server = DoubleHTTPServer((host, port), service, ssl_context)
        # A short poll interval lets stop() (and so SIGTERM) take effect at once.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name=service.name, daemon=True)

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

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def tls_context(cert_file, key_file):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


# ---------------------------------------------------------------------------------------------------------
# Running as a script
# ---------------------------------------------------------------------------------------------------------

def argument_parser(description, default_fixture, fixture_help, token_help, tls_cert_help):
    """The flags every double takes. A double may add its own before calling parse_arguments."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--token", required=True, help=token_help)
    parser.add_argument("--fixture", default=default_fixture, help=fixture_help)
    parser.add_argument("--tls-cert", help=tls_cert_help)
    parser.add_argument("--tls-key", help="private key for --tls-cert (PEM)")
    return parser


def parse_arguments(parser, argv):
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    return args


def serve_until_signalled(double, announcement, listening_message):
    """Runs a started-up double until SIGTERM or SIGINT, then exits cleanly (returns 0).

    `announcement` goes to stdout as the one JSON line test harnesses wait for; it must hold "port"."""
    name = double.service.name
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    double.start()
    print(json.dumps(announcement), flush=True)
    log(name, listening_message)
    while not stop.wait(0.5):
        pass
    double.stop()
    log(name, "stopped")
    return 0
