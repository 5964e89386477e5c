"""Four ways to learn about a server's updates, side by side, and measured.

The server makes an *update* now and then (a chat message, a price, a score). How does a
browser hear about it?

============== =================================================================================
``/poll``        polling: ask every few seconds "anything after update N?"; the answer comes at once
``/longpoll``    long polling: ask the same, but the server holds the answer until there is news
``/sse``         server-sent events: one HTTP response that never ends, one event per update
``/updates``     WebSocket: one handshake, then one frame per update (RFC 6455 §1.1, §1.2)
============== =================================================================================

All four carry the same updates from the same :class:`UpdateClock`, so the differences that
:func:`measure` finds are those of the methods: how many bytes cross the wire per update
(HTTP headers on every request and every answer, or none once the connection is open) and
how long an update waits before the client has it.

The clients here are deliberately plain: a TCP socket that counts every byte it writes and
reads (:class:`WireCounter`), and a request that carries the headers a browser sends. What
they count is what a packet capture would show above TCP.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from statistics import mean
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from wslearn.aio.server import StreamingResponse
from wslearn.errors import ConnectionClosed
from wslearn.handshake import (
    Headers,
    Request,
    Response,
    build_accept_response,
    build_request,
    text_response,
)
from wslearn.http import authority
from wslearn.i18n import _
from wslearn.protocol import Message, Protocol, Role, State

from .routes import method_not_allowed, wants_websocket

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from wslearn.aio.connection import WebSocket

__all__ = [
    "BROWSER_HEADERS",
    "HTTP_PATHS",
    "METHODS",
    "FrameHeaders",
    "Measurement",
    "UpdateClock",
    "UpdateFeed",
    "WireCounter",
    "cookie_header",
    "frame_headers",
    "measure",
    "measure_all",
    "plot",
    "predict",
    "wire_sizes",
]

#: The four methods, in the order of the course: from the oldest trick to the protocol.
METHODS = ("poll", "longpoll", "sse", "websocket")
#: The plain HTTP routes of this module (the WebSocket one is ``/updates``).
HTTP_PATHS = ("/poll", "/longpoll", "/sse")
#: The path each method asks for.
PATHS = {"poll": "/poll", "longpoll": "/longpoll", "sse": "/sse", "websocket": "/updates"}

#: A long poll is answered after this many seconds even without news (an empty 204), so
#: that no proxy on the way gives up on a request that looks dead.
LONG_POLL_TIMEOUT = 30.0
#: One answer carries at most this many updates; a client that is further behind asks again.
MAX_UPDATES_PER_ANSWER = 100

# --- The updates -------------------------------------------------------------------------------

# The fractional parts of n·φ (φ the golden ratio) spread evenly over [0, 1): update n is
# born somewhere in the n-th interval, never twice at the same spot, and every run is the same.
_GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass(frozen=True)
class UpdateClock:
    """When the server's updates happen: one in each ``interval``, at an irregular moment.

    Update ``n`` (0, 1, 2, ...) is born at ``start + (n + jitter) * interval``, the jitter
    between 0 and 1. Real updates do not come on a beat either; and a poller that asks every
    ``interval`` seconds therefore finds each update after a wait anywhere between 0 and
    ``interval``: on average half of it.

    Its text (:meth:`payload`) is its number and its birth time (Unix time, the clock every
    process on a machine shares), so a client can tell how long the update travelled.
    Numbers have six digits, so every update has the same size: 24 bytes.
    """

    interval: float
    start: float = field(default_factory=time.time)

    def born(self, n: int) -> float:
        """The time update ``n`` happens (seconds since the epoch)."""
        return self.start + (n + (n * _GOLDEN) % 1.0) * self.interval

    def latest(self, now: float | None = None) -> int:
        """The number of the newest update born by ``now``; -1 before the first one."""
        now = time.time() if now is None else now
        n = math.floor((now - self.start) / self.interval)
        if n < 0:
            return -1
        return n if self.born(n) <= now else n - 1

    def payload(self, n: int) -> str:
        """What update ``n`` says: ``"000017 1764600000.123456"`` (number, birth time)."""
        return f"{n:06d} {self.born(n):.6f}"

    async def wait_for(self, n: int) -> None:
        """Sleep until update ``n`` is born."""
        await asyncio.sleep(max(0.0, self.born(n) - time.time()))


def parse_update(text: str) -> tuple[int, float]:
    """``"000017 1764600000.123456"`` → ``(17, 1764600000.123456)``."""
    number, born = text.split()
    return int(number), float(born)


# --- The server side ---------------------------------------------------------------------------


class UpdateFeed:
    """The routes of the comparison, around one :class:`UpdateClock`.

    :meth:`answer` is called from the demo server's ``process_request`` for the plain HTTP
    paths (:data:`HTTP_PATHS`); :meth:`websocket` is the handler of ``/updates``.
    """

    def __init__(self, interval: float = 1.0, *, start: float | None = None) -> None:
        self.clock = UpdateClock(interval) if start is None else UpdateClock(interval, start)

    def describe(self) -> dict[str, str]:
        """Path → one line about it (for the demo server's 404 page)."""
        every = _("an update about every {seconds} s").format(seconds=f"{self.clock.interval:g}")
        return {
            "/poll": _("polling: GET /poll?after=N answers at once ({every})").format(every=every),
            "/longpoll": _("long polling: GET /longpoll?after=N answers when there is news"),
            "/sse": _("server-sent events: one response, one event per update"),
            "/updates": _("WebSocket: one text message per update"),
        }

    def answer(self, request: Request) -> Response | Awaitable[Response]:
        """The HTTP answer for ``/poll``, ``/longpoll`` or ``/sse``."""
        if request.method not in ("GET", "HEAD"):  # RFC 9110 §9.1: HEAD wherever GET
            return method_not_allowed(request.method, request.path)
        if wants_websocket(request):
            text = f"{request.path} is plain HTTP; the WebSocket route of the same updates is /updates\n"
            return text_response(400, text)
        try:
            after = self._after(request)
        except ValueError as error:
            return text_response(400, f"{error}\n")
        if request.path == "/poll":
            return self.poll(after)
        if request.path == "/longpoll":
            return self.long_poll(after)
        return self.sse(self._last_event_id(request))

    def _after(self, request: Request) -> int | None:
        """``?after=N``: the newest update the client has; missing: it has none yet."""
        value = request.query.get("after")
        if value is None:
            return None
        if not value.isdigit():
            raise ValueError(f"after must be the number of the last update you have, not {value!r}")
        return int(value)

    def _last_event_id(self, request: Request) -> int | None:
        """SSE: a browser that reconnects sends the id of the last event it had."""
        value = request.headers.get("Last-Event-ID", "")
        return int(value) if value.isdigit() else None

    def poll(self, after: int | None) -> Response:
        """``/poll``: every update after ``after``, or 204 No Content when there is none.

        Without ``after`` the client has nothing yet: it gets the newest update, its
        starting point.
        """
        latest = self.clock.latest()
        first = latest if after is None else after + 1
        return self.updates_response(range(max(first, 0), latest + 1))

    async def long_poll(self, after: int | None) -> Response:
        """``/longpoll``: like ``/poll``, but wait for the next update when there is none yet."""
        if after is not None and self.clock.latest() <= after:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LONG_POLL_TIMEOUT):
                    await self.clock.wait_for(after + 1)
        return self.poll(after)

    def updates_response(self, numbers: range) -> Response:
        """The answer of a poll: these updates, one a line (at most :data:`MAX_UPDATES_PER_ANSWER`)."""
        numbers = numbers[:MAX_UPDATES_PER_ANSWER]
        if not numbers:
            # RFC 9110 §15.3.5: 204 No Content, "nothing new".
            headers = Headers([("Cache-Control", "no-store"), ("Connection", "close")])
            return Response(204, "No Content", headers=headers)
        body = "".join(self.clock.payload(n) + "\n" for n in numbers)
        # no-store: a cache on the way must never answer a poll with an old answer.
        return text_response(200, body, [("Cache-Control", "no-store")])

    def sse(self, last_event_id: int | None) -> StreamingResponse:
        """``/sse``: a ``text/event-stream`` (HTML Living Standard, "Server-sent events")."""
        headers = Headers(
            [
                ("Content-Type", "text/event-stream"),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                ("Connection", "close"),
            ]
        )
        after = self.clock.latest() if last_event_id is None else last_event_id
        after = max(after, self.clock.latest() - MAX_UPDATES_PER_ANSWER)
        return StreamingResponse(200, "OK", headers=headers, body_stream=self._events(after))

    async def _events(self, after: int) -> AsyncIterator[bytes]:
        n = after
        while True:
            n += 1
            await self.clock.wait_for(n)
            yield sse_event(n, self.clock.payload(n))

    async def websocket(self, ws: WebSocket) -> None:
        """``/updates``: each update as a text message; what the client sends is read and dropped."""
        sender = asyncio.create_task(self._send_updates(ws), name="updates")
        try:
            async for _message in ws:
                pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await sender

    async def _send_updates(self, ws: WebSocket) -> None:
        n = self.clock.latest()
        while True:
            n += 1
            await self.clock.wait_for(n)
            await ws.send(self.clock.payload(n))


def sse_event(n: int, data: str) -> bytes:
    """One server-sent event: its id (for Last-Event-ID on reconnect), its data, an empty line."""
    return f"id: {n:06d}\ndata: {data}\n\n".encode()


# --- The client side: counting the bytes --------------------------------------------------------


class WireCounter:
    """A TCP connection that counts every byte written to it and read from it."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sent = 0
        self.received = 0

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)
        self.sent += len(data)

    def recv(self) -> bytes:
        """What has arrived (at least one byte); ``b""`` once the server has closed."""
        data = self.sock.recv(65536)
        self.received += len(data)
        return data

    def read_to_end(self) -> bytes:
        """Everything until the server closes the connection (each answer here ends so)."""
        chunks = []
        while chunk := self.recv():
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> WireCounter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


#: What Chromium sends with a ``fetch()`` besides Host (a few headers left out: they vary).
#: Every HTTP request of the comparison carries them, the WebSocket handshake too.
BROWSER_HEADERS: tuple[tuple[str, str], ...] = (
    (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Safari/537.36",
    ),
    ("Accept", "*/*"),
    ("Accept-Language", "en-US,en;q=0.9"),
    ("Accept-Encoding", "gzip, deflate, br, zstd"),
)


def cookie_header(size: int) -> list[tuple[str, str]]:
    """A ``Cookie`` header whose value is ``size`` bytes (none for 0): ``session=xxxx…``.

    A browser sends its cookies for a site with *every* request to it (RFC 6265 §5.4):
    a session id, preferences, an analytics id. A few kilobytes are common.
    """
    if size <= 0:
        return []
    name = "session="
    return [("Cookie", (name + "x" * size)[:size])]


def http_request(method: str, host: str, target: str, cookie_bytes: int = 0) -> bytes:
    """The bytes of the plain GET that ``method`` sends (what a browser's fetch sends)."""
    headers = Headers([("Host", host), *BROWSER_HEADERS, *cookie_header(cookie_bytes)])
    if method == "sse":
        headers["Accept"] = "text/event-stream"
    return Request("GET", target, "HTTP/1.1", headers).serialize()


@dataclass
class Measurement:
    """What one method cost for ``updates`` updates, counted on the sockets."""

    method: str
    updates: int
    sent: int  # bytes client → server
    received: int  # bytes server → client
    requests: int  # HTTP requests (polling), or 1 (the one request of SSE and of the handshake)
    latencies: list[float]  # seconds from each update's birth until the client had it
    cookie_bytes: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.received

    @property
    def bytes_per_update(self) -> float:
        return self.total / self.updates

    @property
    def mean_latency(self) -> float:
        return mean(self.latencies)

    def __str__(self) -> str:
        return (
            f"{self.method:<9} {self.updates} updates: {self.sent} bytes sent, {self.received} received,"
            f" {self.bytes_per_update:.0f} bytes per update, {self.requests} request(s),"
            f" latency {self.mean_latency * 1000:.1f} ms on average"
        )


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"expected a URL with a host and a port, like http://127.0.0.1:8765, not {url!r}")
    return parts.hostname, parts.port


def measure(
    method: str,
    url: str,
    updates: int = 10,
    *,
    cookie_bytes: int = 0,
    poll_interval: float = 1.0,
    timeout: float | None = None,
) -> Measurement:
    """Receive ``updates`` updates from the demo server at ``url`` with ``method``; count.

    ``method`` is one of :data:`METHODS`. The bytes are counted from the first byte of the
    first request until the last update has arrived (closing costs a few more bytes, left
    out). ``poll_interval`` is how often the poller asks; give it the server's update
    interval. ``timeout`` (seconds, for the whole run) defaults to three times the
    expected duration plus 5 s.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; not {method!r}")
    if updates < 1:
        raise ValueError("updates must be at least 1")
    limit = timeout if timeout is not None else 5.0 + 3 * updates * poll_interval
    deadline = time.monotonic() + limit
    host, port = _address(url)
    run = {"poll": _poll, "longpoll": _poll, "sse": _sse, "websocket": _websocket}[method]
    try:
        result = run(method, host, port, updates, cookie_bytes, poll_interval, deadline)
    except TimeoutError:  # a socket's own timeout, or the deadline
        raise TimeoutError(f"{method}: the updates did not all arrive within {limit:g} s") from None
    result.cookie_bytes = cookie_bytes
    return result


def _remaining(deadline: float, method: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"{method}: the updates did not all arrive in time")
    return left


def _http_exchange(
    host: str, port: int, request: bytes, deadline: float, method: str
) -> tuple[Response, int, int]:
    """One request on a new connection, read to the end: (answer, bytes sent, bytes received)."""
    with WireCounter(host, port, _remaining(deadline, method)) as wire:
        wire.send(request)
        raw = wire.read_to_end()
    parsed = Response.parse(raw)
    if parsed is None:
        raise ConnectionError(f"{method}: the server closed before a whole answer ({len(raw)} bytes)")
    return parsed[0], wire.sent, wire.received


def _poll(
    method: str,
    host: str,
    port: int,
    updates: int,
    cookie_bytes: int,
    poll_interval: float,
    deadline: float,
) -> Measurement:
    """Polling and long polling: one HTTP request per answer, on a fresh connection each time.

    The first request (no ``after``) fetches the newest update: the starting point. Then
    the poller asks every ``poll_interval`` seconds (long polling: again as soon as an
    answer arrives, since the server waits for it).

    The demo server closes the connection after each answer; a browser would keep it open
    for the next poll (HTTP/1.1 persistent connections). The HTTP bytes are the same either
    way; what keeping it open saves is TCP's own handshake, which is not counted here.
    """
    host_port = authority(host, port)
    path = PATHS[method]
    result = Measurement(method, updates, 0, 0, 0, [])
    last: int | None = None
    next_poll = time.monotonic()
    while len(result.latencies) < updates:
        if method == "poll":
            time.sleep(max(0.0, next_poll - time.monotonic()))
            next_poll += poll_interval
        target = path if last is None else f"{path}?after={last:06d}"
        answer, sent, received = _http_exchange(
            host, port, http_request(method, host_port, target, cookie_bytes), deadline, method
        )
        arrived = time.time()
        result.sent += sent
        result.received += received
        result.requests += 1
        if answer.status not in (200, 204):
            raise ConnectionError(f"{method}: the server answered {answer.status} {answer.reason}")
        for line in answer.body.decode().splitlines():
            number, born = parse_update(line)
            if last is not None and len(result.latencies) < updates:
                result.latencies.append(arrived - born)
            last = number
    return result


def _sse(
    method: str,
    host: str,
    port: int,
    updates: int,
    cookie_bytes: int,
    poll_interval: float,
    deadline: float,
) -> Measurement:
    """Server-sent events: one request, then one event per update in the same response."""
    result = Measurement(method, updates, 0, 0, 1, [])
    with WireCounter(host, port, _remaining(deadline, method)) as wire:
        wire.send(http_request(method, authority(host, port), PATHS[method], cookie_bytes))
        buffer = b""
        head_done = False
        while len(result.latencies) < updates:
            wire.sock.settimeout(_remaining(deadline, method))
            chunk = wire.recv()
            if not chunk:
                raise ConnectionError("sse: the server ended the stream")
            arrived = time.time()
            buffer += chunk
            if not head_done:
                head, found, buffer = buffer.partition(b"\r\n\r\n")
                if not found:
                    buffer = head
                    continue
                head_done = True
                if not head.startswith(b"HTTP/1.1 200"):
                    raise ConnectionError(f"sse: the server answered {head.splitlines()[0]!r}")
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                for line in event.split(b"\n"):  # "id: …" and "data: …"; a line ":…" is a comment
                    if line.startswith(b"data: ") and len(result.latencies) < updates:
                        result.latencies.append(arrived - parse_update(line[6:].decode())[1])
        result.sent, result.received = wire.sent, wire.received
    return result


def _websocket(
    method: str,
    host: str,
    port: int,
    updates: int,
    cookie_bytes: int,
    poll_interval: float,
    deadline: float,
) -> Measurement:
    """WebSocket: the opening handshake (RFC 6455 §4.1), then one text frame per update.

    wslearn's sans-I/O :class:`~wslearn.protocol.Protocol` writes the handshake and reads
    the frames; the socket under it counts the bytes.
    """
    result = Measurement(method, updates, 0, 0, 1, [])
    protocol = Protocol(Role.CLIENT)
    headers = [*BROWSER_HEADERS, *cookie_header(cookie_bytes)]
    protocol.connect(authority(host, port), PATHS[method], extra_headers=headers)
    with WireCounter(host, port, _remaining(deadline, method)) as wire:
        wire.send(protocol.data_to_send())
        while len(result.latencies) < updates:
            wire.sock.settimeout(_remaining(deadline, method))
            chunk = wire.recv()
            arrived = time.time()
            if not chunk:
                raise ConnectionError("websocket: the server closed the connection")
            protocol.receive_data(chunk)
            events = protocol.events_received()
            texts = [e.data for e in events if isinstance(e, Message) and isinstance(e.data, str)]
            for text in texts[: updates - len(result.latencies)]:
                result.latencies.append(arrived - parse_update(str(text))[1])
            if protocol.state is State.CLOSED:
                raise ConnectionError(f"websocket: the connection ended: {protocol.closed}")
            if reply := protocol.data_to_send():  # a Pong to the server's Ping (§5.5.3)
                wire.send(reply)
        result.sent, result.received = wire.sent, wire.received
        _close_politely(protocol, wire)
    return result


def _close_politely(protocol: Protocol, wire: WireCounter) -> None:
    """The closing handshake (RFC 6455 §7.1.2), not counted: send Close, wait for the answer."""
    protocol.send_close()
    with contextlib.suppress(OSError):
        wire.send(protocol.data_to_send())
        wire.sock.settimeout(1.0)
        while not protocol.close_transport() and (chunk := wire.recv()):
            protocol.receive_data(chunk)


def measure_all(
    url: str,
    updates: int = 10,
    *,
    cookie_bytes: int = 0,
    poll_interval: float = 1.0,
    methods: Sequence[str] = METHODS,
) -> list[Measurement]:
    """:func:`measure` every method at the same time (one thread each), in ``methods`` order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(methods), thread_name_prefix="wslearn-measure") as pool:
        futures = [
            pool.submit(measure, method, url, updates, cookie_bytes=cookie_bytes, poll_interval=poll_interval)
            for method in methods
        ]
        return [future.result() for future in futures]


# --- The frame header, measured -------------------------------------------------------------


@dataclass(frozen=True)
class FrameHeaders:
    """The bytes one message cost beyond its payload, each way (RFC 6455 §5.2)."""

    payload: int
    client_to_server: int  # 2 + extended length + 4 (the masking key, §5.3)
    server_to_client: int  # 2 + extended length: servers do not mask (§5.1)


def frame_headers(url: str, payload_size: int, *, timeout: float = 5.0) -> FrameHeaders:
    """Send a text message of ``payload_size`` bytes to the echo route ``/ws``; count both frames."""
    host, port = _address(url)
    protocol = Protocol(Role.CLIENT)
    protocol.connect(authority(host, port), "/ws")
    with WireCounter(host, port, timeout) as wire:
        wire.send(protocol.data_to_send())
        while protocol.state is State.CONNECTING:
            chunk = wire.recv()
            if not chunk:
                raise ConnectionError("the server closed during the handshake")
            protocol.receive_data(chunk)
        protocol.events_received()
        before_sent, before_received = wire.sent, wire.received
        protocol.send_text("x" * payload_size)
        wire.send(protocol.data_to_send())
        sent = wire.sent - before_sent
        echoed = False
        while not echoed:
            chunk = wire.recv()
            if not chunk:
                raise ConnectionError("the server closed before it echoed")
            protocol.receive_data(chunk)
            echoed = any(isinstance(event, Message) for event in protocol.events_received())
        received = wire.received - before_received
        _close_politely(protocol, wire)
    return FrameHeaders(payload_size, sent - payload_size, received - payload_size)


# --- The arithmetic: bytes from header sizes --------------------------------------------------------

#: A Host header as the demo server's URLs give it (the port has five digits on most systems).
EXAMPLE_HOST = "127.0.0.1:54321"
#: Any valid key gives a handshake of the same size (24 base64 characters, RFC 6455 §4.1).
_EXAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def wire_sizes(host: str = EXAMPLE_HOST, cookie_bytes: int = 0) -> dict[str, int]:
    """The size in bytes of each piece the four methods put on the wire.

    Built with the same functions the clients and the server use, so :func:`predict`
    and :func:`measure` agree.
    """
    feed = UpdateFeed(1.0)
    browser = [*BROWSER_HEADERS, *cookie_header(cookie_bytes)]
    handshake = build_request(host, PATHS["websocket"], key=_EXAMPLE_KEY, extra_headers=browser)
    return {
        "poll: first request (no after)": len(http_request("poll", host, "/poll", cookie_bytes)),
        "poll: request ?after=N": len(http_request("poll", host, "/poll?after=000017", cookie_bytes)),
        "longpoll: first request (no after)": len(http_request("longpoll", host, "/longpoll", cookie_bytes)),
        "longpoll: request ?after=N": len(
            http_request("longpoll", host, "/longpoll?after=000017", cookie_bytes)
        ),
        "answer with one update": len(feed.updates_response(range(17, 18)).serialize()),
        "answer with no update (204)": len(feed.updates_response(range(0)).serialize()),
        "sse: request": len(http_request("sse", host, "/sse", cookie_bytes)),
        "sse: response head": len(feed.sse(None).serialize()),
        "sse: one event": len(sse_event(17, feed.clock.payload(17))),
        "websocket: handshake request": len(handshake.serialize()),
        "websocket: 101 response": len(build_accept_response(handshake).serialize()),
        "websocket: one frame": 2 + len(feed.clock.payload(17)),  # §5.2: 2 header bytes, no mask
    }


def predict(method: str, updates: int, sizes: dict[str, int] | None = None) -> int:
    """Bytes on the wire, both ways, for ``updates`` updates, from the sizes of the pieces.

    Polling is counted as if every poll found exactly one new update (a poller asking as
    often as updates come, on average; the measured count differs by a few empty answers).
    """
    s = wire_sizes() if sizes is None else sizes
    if method in ("poll", "longpoll"):
        first = s[f"{method}: first request (no after)"] + s["answer with one update"]
        return first + updates * (s[f"{method}: request ?after=N"] + s["answer with one update"])
    if method == "sse":
        return s["sse: request"] + s["sse: response head"] + updates * s["sse: one event"]
    if method == "websocket":
        setup = s["websocket: handshake request"] + s["websocket: 101 response"]
        return setup + updates * s["websocket: one frame"]
    raise ValueError(f"method must be one of {', '.join(METHODS)}; not {method!r}")


# --- The picture ------------------------------------------------------------------------------------

_COLOURS = {"poll": "#cf222e", "longpoll": "#bf8700", "sse": "#0969da", "websocket": "#1a7f37"}


def plot(measurements: Sequence[Measurement], *, interval: float | None = None) -> Figure:
    """Two bar charts: bytes per update, and latency (mean, with the smallest and largest)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.4), layout="constrained")
    by_bytes, by_latency = figure.subplots(1, 2)
    names = [m.method for m in measurements]
    colours = [_COLOURS.get(name, "grey") for name in names]
    per_update = [m.bytes_per_update for m in measurements]
    bars = by_bytes.bar(names, per_update, color=colours)
    by_bytes.bar_label(bars, labels=[f"{value:.0f}" for value in per_update])
    cookie = measurements[0].cookie_bytes if measurements else 0
    by_bytes.set_title(f"bytes per update, both ways (cookie: {cookie} bytes)")
    by_bytes.set_ylabel("bytes")
    by_bytes.margins(y=0.15)
    means = [m.mean_latency * 1000 for m in measurements]
    low = [means[i] - min(m.latencies) * 1000 for i, m in enumerate(measurements)]
    high = [max(m.latencies) * 1000 - means[i] for i, m in enumerate(measurements)]
    bars = by_latency.bar(names, means, color=colours, yerr=[low, high], capsize=4)
    by_latency.bar_label(bars, labels=[f"{value:.1f}" for value in means], padding=2)
    by_latency.set_title("latency: birth of an update → client has it")
    by_latency.set_ylabel("milliseconds (mean; bars: min–max)")
    if interval is not None:
        by_latency.axhline(interval * 500, color="grey", linestyle="--", linewidth=1)
        by_latency.annotate("interval / 2", (0, interval * 500), xytext=(4, 4), textcoords="offset points")
    return figure
