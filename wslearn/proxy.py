"""A reverse proxy for WebSocket that also shows every frame: a wire tap.

Seed article 002 puts a reverse proxy in front of its WebSocket server. This one does the
same and, on the way, decodes each frame in both directions into an
:class:`~wslearn.eventlog.EventLog` ("Wireshark in the notebook")::

    browser / client  ──TCP──▶  proxy (this module)  ──TCP──▶  target server
                      ◀──────── bytes relayed unchanged ◀──────
                                      │ a copy of each byte
                                      ▼
                         parse_frame() → EventLog

For each connection the proxy

1. reads the client's HTTP request (RFC 9112 §3) and forwards it to the target, minus the
   hop-by-hop headers (see below);
2. reads the target's answer. A ``101 Switching Protocols`` goes back to the client and
   from then on the TCP connection carries WebSocket frames (RFC 6455 §4.2.2). Any other
   answer (a 404, a page) is passed on as it came;
3. relays bytes both ways, **unchanged**: the tap parses a copy with
   :func:`wslearn.frames.parse_frame`. Masking, fragmentation, pings, the closing
   handshake: the proxy sees them all and alters none;
4. passes each end of TCP on (a half-close, so the closing handshake of RFC 6455 §7.1.1
   completes through the proxy) and forgets the connection when both ends are closed.

Hop-by-hop headers
------------------
HTTP headers are either *end-to-end*, meant for the final recipient (``Host``,
``Origin``, ``Cookie``, ``Sec-WebSocket-Key``...), or *hop-by-hop*, meant only for the
next machine on the path. A proxy must not forward the hop-by-hop ones (RFC 9110 §7.6.1):

* ``Connection`` — options for this one TCP connection, plus the names of other headers
  that are hop-by-hop for it (``Connection: keep-alive, X-Foo`` makes ``X-Foo`` one too);
* ``Keep-Alive``, ``Proxy-Connection`` — reuse of this one TCP connection;
* ``TE``, ``Trailer``, ``Transfer-Encoding`` — how this hop encodes the body;
* ``Proxy-Authorization``, ``Proxy-Authenticate`` — credentials for the proxy itself;
* ``Upgrade`` — a request to change the protocol of this one connection.

WebSocket is the exception that proves the rule. ``Upgrade: websocket`` and
``Connection: Upgrade`` are hop-by-hop (RFC 6455 §4.1 says so), but a reverse proxy that
wants the *target* to speak WebSocket must ask it for the upgrade on its own hop. So the
proxy drops them like the others and then adds them again, on purpose, to the request it
sends; a proxy that forgets this turns every WebSocket upgrade into a plain GET, and the
target answers 426 Upgrade Required. The same goes for the 101 answer on the way back.

Two more choices, each a line of code:

* the ``Host`` header is kept as the client sent it (like Go's reverse proxy and
  jupyter-server-proxy), so that a same-origin check at the target compares the
  browser's ``Origin`` with the host the browser used; ``X-Forwarded-For``,
  ``X-Forwarded-Host`` and ``X-Forwarded-Proto`` tell the target where the request came
  from;
* ``Sec-WebSocket-Extensions`` is not forwarded, so no compression is negotiated
  (RFC 7692): the tap can only show payloads it can read.

Directions in the log are those of the target server's own log: ``in`` for frames from
the client to the target, ``out`` for frames from the target to the client.

Misconfigured on purpose: ``mode``
----------------------------------
Most "WebSocket works locally but not in production" reports are a proxy in the middle.
``mode`` makes this proxy reproduce three real mistakes, so their symptoms can be watched
(see :data:`MODES`):

* ``"drop-upgrade"``: hop-by-hop headers dropped and *not* asked for again, which is what
  nginx does without ``proxy_set_header Upgrade``/``Connection``: the target sees a plain
  GET and answers 426 Upgrade Required (or serves a page);
* ``"http10"``: the upgrade headers are forwarded but the request line says HTTP/1.0,
  nginx's default without ``proxy_http_version 1.1``. HTTP/1.0 has no Upgrade
  (RFC 9110 §7.8 tells a server to ignore it there), so the target refuses: 400;
* ``"first-subprotocol"``: the client is told the *first* subprotocol it offered, whatever
  the target chose, as jupyter-server-proxy does (it finishes the browser's handshake
  before it asks the target). Both ends then believe in different subprotocols.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from wslearn.aio.client import parse_url
from wslearn.aio.connection import READ_SIZE, next_connection_id
from wslearn.errors import HandshakeError, ProtocolError
from wslearn.eventlog import MAX_RAW, Direction, EventLog
from wslearn.frames import parse_frame
from wslearn.handshake import build_error_response, wants_websocket
from wslearn.http import MAX_HEADER_SIZE, Headers, Request, Response, authority, parse_header_tokens

__all__ = ["HOP_BY_HOP", "MODES", "FrameTap", "Proxy", "check_mode", "forward_request", "start_proxy_server"]

# RFC 9110 §7.6.1 (and the older Keep-Alive, Proxy-Connection): never forwarded as is.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    }
)
# What each ``mode`` does (see "Misconfigured on purpose" above).
MODES = {
    "websocket": "forwards the upgrade: Upgrade and Connection asked for again on its own hop",
    "drop-upgrade": "drops Upgrade and Connection like any hop-by-hop header (nginx without"
    " proxy_set_header Upgrade/Connection)",
    "http10": "forwards the upgrade in an HTTP/1.0 request (nginx without proxy_http_version 1.1)",
    "first-subprotocol": "tells the client the first subprotocol it offered, whatever the target"
    " chose (jupyter-server-proxy)",
}
HANDSHAKE_TIMEOUT = 10.0  # seconds for the client's request and the target's answer
TAP_MAX_FRAME = 16 * 2**20  # the tap stops decoding (not relaying) past this frame size


# --- Headers -------------------------------------------------------------------------


def _drop_hop_by_hop(headers: Headers) -> Headers:
    """A copy without hop-by-hop headers, including those named in Connection."""
    named = {t.lower() for v in headers.get_all("Connection") for t in parse_header_tokens(v)}
    return Headers([(n, v) for n, v in headers.items() if n.lower() not in HOP_BY_HOP | named])


def check_mode(mode: str) -> None:
    """Raise ValueError, naming the known modes, when ``mode`` is not one of :data:`MODES`."""
    if mode not in MODES:
        raise ValueError(f"unknown proxy mode {mode!r}; known: {', '.join(MODES)}")


def forward_request(request: Request, target_path: str, client_host: str, mode: str = "websocket") -> Request:
    """The request the proxy sends to the target (see "Hop-by-hop headers" above)."""
    check_mode(mode)
    headers = _drop_hop_by_hop(request.headers)
    headers.remove("Sec-WebSocket-Extensions")  # the tap must read the payloads
    if wants_websocket(request) and mode != "drop-upgrade":
        headers.add("Upgrade", "websocket")  # hop-by-hop, asked again on our own hop
        headers.add("Connection", "Upgrade")
    else:
        headers.add("Connection", "close")  # one request per connection: simple relaying
    forwarded_for = ", ".join([*request.headers.get_all("X-Forwarded-For"), client_host])
    headers["X-Forwarded-For"] = forwarded_for
    if "Host" in request.headers:
        headers["X-Forwarded-Host"] = request.headers["Host"]
    headers["X-Forwarded-Proto"] = "http"
    target = target_path.rstrip("/") + request.target if target_path != "/" else request.target
    version = "HTTP/1.0" if mode == "http10" else request.version
    return Request(request.method, target, version, headers)


def first_offered_subprotocol(request: Request) -> str | None:
    """The first token of the client's ``Sec-WebSocket-Protocol`` offer (RFC 6455 §4.1 item 10)."""
    offered = [t for v in request.headers.get_all("Sec-WebSocket-Protocol") for t in parse_header_tokens(v)]
    return offered[0] if offered else None


def _forward_switching_protocols(response: Response, told: str | None = None) -> Response:
    """The target's 101, minus hop-by-hop headers, plus Upgrade/Connection again.

    ``told`` replaces the target's ``Sec-WebSocket-Protocol`` (mode "first-subprotocol").
    """
    headers = _drop_hop_by_hop(response.headers)
    headers.add("Upgrade", "websocket")
    headers.add("Connection", "Upgrade")
    if told is not None:
        headers["Sec-WebSocket-Protocol"] = told
    return Response(response.status, response.reason, response.version, headers)


# --- The tap -------------------------------------------------------------------------


class FrameTap:
    """Decodes a copy of one direction's bytes into frames for the event log.

    Never touches the relayed bytes. When the stream cannot be decoded (not WebSocket,
    a frame bigger than ``max_frame``), it logs why once and stops decoding.
    """

    def __init__(self, event_log: EventLog, conn_id: int, direction: Direction, max_frame: int) -> None:
        self.event_log = event_log
        self.conn_id = conn_id
        self.direction = direction
        self.max_frame = max_frame
        self.frames = 0
        self.stopped = False
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        if self.stopped:
            return
        self._buffer += data
        offset = 0
        try:
            while parsed := parse_frame(self._buffer, offset, max_payload=self.max_frame):
                frame, used = parsed
                raw = bytes(self._buffer[offset : offset + min(used, MAX_RAW)])  # what the log keeps
                self.event_log.record_frame(self.conn_id, self.direction, frame, raw)
                self.frames += 1
                offset += used
        except ProtocolError as error:
            self._stop(f"the tap stops decoding this direction: {error}")
        del self._buffer[:offset]

    def _stop(self, why: str) -> None:
        self.stopped = True
        self._buffer.clear()
        self.event_log.record(self.conn_id, self.direction, "error", preview=why)


# --- The proxy server ----------------------------------------------------------------


@dataclass
class _Link:
    """One client connection and its connection to the target."""

    conn_id: int
    client_reader: asyncio.StreamReader
    client_writer: asyncio.StreamWriter
    target_reader: asyncio.StreamReader | None = None
    target_writer: asyncio.StreamWriter | None = None

    def abort(self) -> None:
        for writer in (self.client_writer, self.target_writer):
            if writer is not None:
                writer.transport.abort()


class Proxy:
    """A running proxy: ``.url``, ``.port``, ``.event_log``, ``close()``, ``wait_closed()``."""

    def __init__(
        self, target: str, event_log: EventLog, *, tap_max_frame: int, mode: str = "websocket"
    ) -> None:
        check_mode(mode)
        url = parse_url(target)
        if url.secure:
            raise ValueError("the wire tap reads frames in clear text: give a ws:// target")
        self.target = target
        self.target_host = url.host
        self.target_port = url.port
        self.target_path = url.target
        self.event_log = event_log
        self.tap_max_frame = tap_max_frame
        self.mode = mode
        self.host = ""
        self.port = 0
        self._tcp_server: asyncio.Server | None = None
        self._links: dict[asyncio.Task[Any], _Link] = {}

    def __repr__(self) -> str:
        mode = "" if self.mode == "websocket" else f" mode={self.mode}"
        return f"<Proxy {self.url} → {self.target}{mode} links={len(self._links)}>"

    @property
    def url(self) -> str:
        return f"ws://{authority(self.host, self.port)}"

    async def listen(self, host: str, port: int) -> None:
        self._tcp_server = await asyncio.start_server(self._serve_link, host, port)
        self.host, self.port = self._tcp_server.sockets[0].getsockname()[:2]

    def close(self) -> None:
        """Stop accepting and drop every relayed connection.

        The proxy is not a WebSocket endpoint, so it has no Close frame of its own to
        send: both ends see their TCP connection end (1006, abnormal closure).
        """
        if self._tcp_server is not None:
            self._tcp_server.close()
        for link in self._links.values():
            link.abort()  # each relay sees the end of its streams and finishes by itself

    async def wait_closed(self) -> None:
        if self._tcp_server is not None:
            await self._tcp_server.wait_closed()
        if self._links:
            _, stuck = await asyncio.wait(list(self._links), timeout=1)
            for task in stuck:  # e.g. still connecting to the target
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)

    async def __aenter__(self) -> Proxy:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await self.wait_closed()

    # --- One relayed connection ------------------------------------------------------

    async def _serve_link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        link = _Link(next_connection_id(), reader, writer)
        self._links[task] = link
        peer = writer.get_extra_info("peername")
        self.event_log.record(link.conn_id, "-", "open", preview=f"{peer} → {self.target}")
        try:
            await self._relay(link, peer[0] if peer else "unknown")
        except (ConnectionError, OSError) as error:
            self.event_log.record(link.conn_id, "-", "error", preview=f"relay ended: {error}")
        finally:
            link.abort()
            del self._links[task]
            self.event_log.record(link.conn_id, "-", "close", preview="both TCP connections closed")

    async def _relay(self, link: _Link, client_host: str) -> None:
        try:
            request, early = await self._read_request(link)
            await self._open_target(link)
        except HandshakeError as error:
            self._answer_error(link, error)
            return
        assert link.target_reader is not None and link.target_writer is not None
        upstream = forward_request(request, self.target_path, client_host, self.mode)
        link.target_writer.write(upstream.serialize())
        if not wants_websocket(request):  # a page, a plain GET: relay it raw
            await self._pump_both(link, early, b"", tapping=False)
            return
        try:
            response, rest = await self._read_response(link, self._told(request))
        except HandshakeError as error:
            self._answer_error(link, error)
            return
        await self._pump_both(link, early, rest, tapping=response is not None)

    async def _read_request(self, link: _Link) -> tuple[Request, bytes]:
        """The client's request and the bytes that came after it."""
        buffer = bytearray()
        async with _deadline(408, "the request did not arrive in time"):
            while (parsed := Request.parse(buffer)) is None:
                data = await link.client_reader.read(READ_SIZE)
                if not data:
                    raise HandshakeError(400, "the client closed before a whole request")
                buffer += data
        request, used = parsed
        kind = "handshake" if wants_websocket(request) else "http"
        self.event_log.record_http(link.conn_id, "in", bytes(buffer[:used]), kind=kind)
        return request, bytes(buffer[used:])

    async def _open_target(self, link: _Link) -> None:
        where = f"{self.target_host}:{self.target_port}"
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                reader, writer = await asyncio.open_connection(self.target_host, self.target_port)
        except TimeoutError:
            raise HandshakeError(504, f"the target {where} did not accept TCP in time") from None
        except OSError as error:
            raise HandshakeError(502, f"the proxy cannot reach the target {where}: {error}") from None
        link.target_reader, link.target_writer = reader, writer

    def _told(self, request: Request) -> str | None:
        """The subprotocol a "first-subprotocol" proxy tells the client, else None."""
        return first_offered_subprotocol(request) if self.mode == "first-subprotocol" else None

    async def _read_response(self, link: _Link, told: str | None) -> tuple[Response | None, bytes]:
        """Pass the target's answer to the client. A 101 is returned (it starts the tap)."""
        assert link.target_reader is not None
        buffer = bytearray()
        async with _deadline(504, "the target did not answer the upgrade in time"):
            while b"\r\n\r\n" not in buffer:
                data = await link.target_reader.read(READ_SIZE)
                if not data or len(buffer) > 2 * MAX_HEADER_SIZE:
                    raise HandshakeError(502, "the target's answer is not an HTTP response")
                buffer += data
        head_end = buffer.index(b"\r\n\r\n") + 4
        status_line = bytes(buffer[: buffer.index(b"\r\n")])
        if status_line.split(b" ")[1:2] != [b"101"]:  # refused: pass the answer on as it is
            self.event_log.record_http(link.conn_id, "out", bytes(buffer[:head_end]), kind="http")
            return None, bytes(buffer)
        parsed = Response.parse(buffer[:head_end])
        if parsed is None:
            raise HandshakeError(502, "the target's 101 answer cannot be parsed")
        response = _forward_switching_protocols(parsed[0], told)
        link.client_writer.write(response.serialize())
        self.event_log.record_http(link.conn_id, "out", response.serialize())
        return response, bytes(buffer[head_end:])

    def _answer_error(self, link: _Link, error: HandshakeError) -> None:
        """The proxy's own error answer: 400/408 (client), 502/504 (target)."""
        data = build_error_response(error).serialize()
        link.client_writer.write(data)
        self.event_log.record_http(link.conn_id, "out", data, kind="http")

    async def _pump_both(self, link: _Link, early: bytes, rest: bytes, *, tapping: bool) -> None:
        """Relay both directions until both have ended."""
        assert link.target_reader is not None and link.target_writer is not None
        up = FrameTap(self.event_log, link.conn_id, "in", self.tap_max_frame) if tapping else None
        down = FrameTap(self.event_log, link.conn_id, "out", self.tap_max_frame) if tapping else None
        await asyncio.gather(
            _pump(link.client_reader, link.target_writer, early, up),
            _pump(link.target_reader, link.client_writer, rest, down),
        )


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes, tap: FrameTap | None
) -> None:
    """Copy bytes from ``reader`` to ``writer`` unchanged; a copy goes to the tap."""
    data = first
    try:
        while True:
            if data:
                writer.write(data)
                if tap is not None:
                    tap.feed(data)
                await writer.drain()
            data = await reader.read(READ_SIZE)
            if not data:
                break
    except (ConnectionError, OSError):
        writer.transport.abort()  # one side failed: make the other side see it too
        return
    with contextlib.suppress(ConnectionError, OSError):
        if writer.can_write_eof():
            writer.write_eof()  # pass the end of this direction on (TCP half-close)


@contextlib.asynccontextmanager
async def _deadline(status: int, why: str) -> AsyncIterator[None]:
    """Turn a timeout into the HTTP error the proxy answers with."""
    try:
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            yield
    except TimeoutError:
        raise HandshakeError(status, f"{why} ({HANDSHAKE_TIMEOUT:g} s)") from None


async def start_proxy_server(
    target: str,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    event_log: EventLog | None = None,
    tap_max_frame: int = TAP_MAX_FRAME,
    mode: str = "websocket",
) -> Proxy:
    """Listen on ``host:port`` and relay every connection to ``target`` (``ws://h:p[/path]``).

    ``mode`` is one of :data:`MODES` ("websocket", the default, is the correct proxy).
    """
    log = event_log if event_log is not None else EventLog()
    proxy = Proxy(target, log, tap_max_frame=tap_max_frame, mode=mode)
    await proxy.listen(host, port)
    return proxy
