"""HPA-like load for the rows of bench/scale_rows.py: GET requests sent at the moments an HPA would send them, over
keep-alive HTTPS connections, every answer timed. asyncio and the standard library only, so a thousand HPAs cost
one thread.

Two shapes:

- run_schedule(): requests due at given moments (one HPA per path, each asking every 15 s), carried by a small pool
  of connections, as the kube-apiserver's aggregator carries the HPA controller's requests. A request whose
  moment comes while every connection is busy waits for one; `late_s` says by how much.
- run_hpas(): every HPA on a connection of its own, asking its metrics one after the other at each sync (as the
  controller does within one HPA), syncs `period_s` apart; a sync that is due while the previous one still waits
  starts when it is done. Nothing bounds how many HPAs wait at once: the worst case of row 9.

Times are time.perf_counter() seconds. Every request has a timeout (a hung one is an error, not a hang), and the
whole run a bound.
"""
import asyncio
import dataclasses
import math
import ssl
import time

HOST = "127.0.0.1"
REQUEST_TEMPLATE = "GET {path} HTTP/1.1\r\nHost: " + HOST + "\r\nAccept: application/json\r\nUser-Agent: sma-bench-hpa\r\n\r\n"


@dataclasses.dataclass
class Result:
    tag: object          # what the row passed in with the request (HPA number, ...)
    path: str
    due: float           # when the request should have gone out
    sent: float          # when it went out (after waiting for a connection, and the handshake if a new one)
    first_byte: float    # status line and headers read
    done: float          # last body byte read (or the error)
    status: int          # 0: no answer (error says why)
    error: str = ""
    body: bytes = b""    # with keep_bodies, and of every answer other than 200
    new_connection: bool = False

    @property
    def seconds(self):
        """Request written .. answer read: what the adapter (and loopback, TLS and this client) took."""
        return self.done - self.sent

    @property
    def late_s(self):
        return self.sent - self.due


class Connection:
    """One keep-alive HTTPS connection, opened on first use and again after the server closed it."""

    def __init__(self, port, context, timeout_s):
        self.port = port
        self.context = context
        self.timeout_s = timeout_s
        self.reader = None
        self.writer = None

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await asyncio.wait_for(self.writer.wait_closed(), 2)
            except (OSError, asyncio.TimeoutError, ssl.SSLError):
                pass
        self.reader = self.writer = None

    async def get(self, path, tag, due, keep_body):
        fresh = self.writer is None
        sent = None
        try:
            if fresh:
                self.reader, self.writer = await asyncio.wait_for(
                    asyncio.open_connection(HOST, self.port, ssl=self.context), self.timeout_s)
            sent = time.perf_counter()
            self.writer.write(REQUEST_TEMPLATE.format(path=path).encode())
            status, headers, body, first = await asyncio.wait_for(self._read_answer(), self.timeout_s)
            done = time.perf_counter()
            if headers.get("connection", "").lower() == "close":
                await self.close()
            return Result(tag, path, due, sent, first, done, status, body=body if keep_body or status != 200 else b"",
                          new_connection=fresh)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ssl.SSLError, ValueError) as e:
            now = time.perf_counter()
            await self.close()
            sent = now if sent is None else sent
            kind = "timeout" if isinstance(e, asyncio.TimeoutError) else type(e).__name__
            return Result(tag, path, due, sent, now, now, 0, error=kind, new_connection=fresh)

    async def _read_answer(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        first = time.perf_counter()
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:
            raise ValueError("an answer without Content-Length or chunked encoding")
        return status, headers, body, first


def run_schedule(port, context, schedule, connections, timeout_s=60, keep_bodies=False, bound_s=None):
    """schedule: [(seconds after the start, path, tag)]. Returns (results in order of completion, start time)."""
    return asyncio.run(_run_schedule(port, context, sorted(schedule, key=lambda x: x[0]), connections, timeout_s,
                                     keep_bodies, bound_s))


async def _run_schedule(port, context, schedule, connection_count, timeout_s, keep_bodies, bound_s):
    queue = asyncio.Queue()
    results = []
    start = time.perf_counter() + 0.2   # room for the tasks to start before the first request is due

    async def worker():
        connection = Connection(port, context, timeout_s)
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                due, path, tag = item
                results.append(await connection.get(path, tag, due, keep_bodies))
        finally:
            await connection.close()

    async def dispatch():
        for offset, path, tag in schedule:
            due = start + offset
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            queue.put_nowait((due, path, tag))
        for _ in range(connection_count):
            queue.put_nowait(None)

    workers = [asyncio.create_task(worker()) for _ in range(connection_count)]
    last = schedule[-1][0] if schedule else 0
    try:
        await asyncio.wait_for(asyncio.gather(dispatch(), *workers), bound_s or last + timeout_s + 60)
    except asyncio.TimeoutError:
        for task in workers:
            task.cancel()
    return results, start


def run_hpas(port, context, hpas, period_s, duration_s, timeout_s=60, bound_s=None):
    """hpas: [(offset in the period, [paths])]: each HPA syncs at start + offset + k * period_s, asking its paths
    one after the other on its own connection, until duration_s: then no HPA sends another request, and those in
    flight are awaited (each at most timeout_s). Returns (results, start)."""
    return asyncio.run(_run_hpas(port, context, hpas, period_s, duration_s, timeout_s, bound_s))


async def _run_hpas(port, context, hpas, period_s, duration_s, timeout_s, bound_s):
    results = []
    start = time.perf_counter() + 0.2

    async def hpa(number, offset, paths):
        connection = Connection(port, context, timeout_s)
        try:
            sync = 0
            while True:
                due = start + offset + sync * period_s
                if due - start >= duration_s:
                    return
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                for path in paths:
                    if time.perf_counter() - start >= duration_s:
                        return   # the run is over: what is in flight is awaited, nothing new is asked
                    results.append(await connection.get(path, (number, sync), due, False))
                    due = time.perf_counter()   # the next metric is due as soon as this one is answered
                sync += 1
        finally:
            await connection.close()

    tasks = [asyncio.create_task(hpa(n, offset, paths)) for n, (offset, paths) in enumerate(hpas)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), bound_s or duration_s + timeout_s + 60)
    except asyncio.TimeoutError:
        pass
    return results, start


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
