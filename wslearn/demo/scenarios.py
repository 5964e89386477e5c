"""Clients that misbehave on purpose, to make a server show each close code (RFC 6455 §7.4).

A well-behaved library never sends a fragmented Ping or hangs up without a Close frame, so
the lessons need a client that can: :class:`RawClient` speaks RFC 6455 on a plain blocking
socket, with wslearn's own frame builder (:mod:`wslearn.frames`) and handshake
(:mod:`wslearn.handshake`), and sends exactly the frames it is told to send::

    with RawClient(server.url + "/ws") as client:
        client.send(Opcode.TEXT, "Hello, WebSocket!")
        print(client.recv())          # TEXT (FIN, 17 bytes): 'Hello, WebSocket!'
        client.hang_up()              # TCP closed, no Close frame: the server sees 1006

Every wait is bounded (``timeout`` seconds), so a cell using it never hangs.

:func:`provoke` uses it to make each close code of RFC 6455 §7.4 happen, live, against a
*scenario server* (:func:`scenario_server`: one route per way a server closes) and returns
a :class:`Provoked`: the code, who saw it (the client, or for 1006 the server), whether a
Close frame carried it, and every frame that crossed the wire::

    provoke(1007)          # the client sends b"caf\xff" as text; the server closes with 1007
    provoke(1011, how="ping timeout")

Three codes are never on the wire (§7.4.1): 1005 (an empty Close: each side computes it),
1006 (no Close at all: a TCP reset, computed by the side left behind) and 1015 (a TLS
handshake that failed: no WebSocket ever opened).
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from wslearn.aio.client import parse_url
from wslearn.errors import HandshakeError
from wslearn.frames import Close, CloseCode, Frame, Opcode, parse_frame, serialize_frame
from wslearn.handshake import Response, build_request, check_response, generate_key
from wslearn.notebook.runner import BackgroundServer

if TYPE_CHECKING:
    from wslearn.aio.connection import WebSocket

__all__ = ["PROVOKERS", "Provoked", "RawClient", "provoke", "scenario_route", "scenario_server"]

READ_SIZE = 65536


class RawClient:
    """A WebSocket client on a blocking socket that sends whatever it is asked to."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 2.0,
        extra_headers: tuple[tuple[str, str], ...] = (),
        receive_buffer: int | None = None,
    ) -> None:
        target = parse_url(url)
        self.timeout = timeout
        self.key = generate_key()
        self.sock = _connect(target.host, target.port, timeout, receive_buffer)
        self._buffer = bytearray()
        self.ended = False  # the server closed TCP (or reset it): nothing more will come
        self.trace: list[tuple[str, Frame]] = []  # ("sent" or "received", frame), in order
        request = build_request(target.host_header, target.target, key=self.key, extra_headers=extra_headers)
        self.sock.sendall(request.serialize())
        self.response = self._read_response()

    def _read_response(self) -> Response:
        while True:
            parsed = Response.parse(self._buffer)
            if parsed is not None:
                response, used = parsed
                del self._buffer[:used]
                break
            data = self._read()
            if not data:
                self.sock.close()
                raise HandshakeError(0, "the server closed the connection during the handshake")
            self._buffer += data
        if response.status != 101:
            self.sock.close()
            raise HandshakeError(response.status, response.reason)
        check_response(response, key=self.key)  # RFC 6455 §4.1: the accept value is right
        return response

    def _read(self) -> bytes:
        try:
            data = self.sock.recv(READ_SIZE)
        except ConnectionError:  # a reset: the same as an end of stream here
            data = b""
        self.ended = not data
        return data

    # --- Frames ----------------------------------------------------------------------

    def send(
        self, opcode: Opcode, payload: bytes | str = b"", *, fin: bool = True, mask: bool = True
    ) -> None:
        """Send one frame, masked with a fresh key unless ``mask=False`` (§5.3)."""
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        frame = Frame(opcode, data, fin=fin, masking_key=os.urandom(4) if mask else None)
        self.send_raw(serialize_frame(frame))
        self.trace.append(("sent", frame))

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (a broken frame, a header cut in two)."""
        self.sock.sendall(data)

    def recv(self) -> Frame | None:
        """The server's next frame; ``None`` once the server has closed TCP (or after ``timeout``)."""
        while True:
            parsed = parse_frame(self._buffer)
            if parsed is not None:
                frame, used = parsed
                del self._buffer[:used]
                self.trace.append(("received", frame))
                return frame
            try:
                data = self._read()
            except TimeoutError:
                return None
            if not data:
                return None
            self._buffer += data

    def recv_close(self) -> Close | None:
        """Read until the server's Close frame; its code and reason, or ``None`` if none came."""
        while (frame := self.recv()) is not None:
            if frame.opcode is Opcode.CLOSE:
                return Close.parse(frame.payload) if frame.payload else Close(CloseCode.NO_STATUS_RCVD)
        return None

    # --- Ending ------------------------------------------------------------------------

    def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> Close | None:
        """The closing handshake (§7.1.2): our Close, the server's answer, then TCP."""
        self.send(Opcode.CLOSE, Close(code, reason).serialize())
        answer = self.recv_close()
        self.sock.close()
        return answer

    def hang_up(self) -> None:
        """Close TCP without a Close frame, as seed 000's client does: the server sees 1006."""
        self.sock.close()

    def reset(self) -> None:
        """Abort the TCP connection with a reset (RST): no Close frame, not even a FIN."""
        # SO_LINGER on, with a timeout of 0: close() discards unsent data and sends RST.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.sock.close()


def _connect(host: str, port: int, timeout: float, receive_buffer: int | None) -> socket.socket:
    """A TCP connection; ``receive_buffer`` shrinks our receive window (a peer that reads
    slowly fills it at once), and must be set before connecting to take effect."""
    if receive_buffer is None:
        return socket.create_connection((host, port), timeout=timeout)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except OSError:
        sock.close()
        raise
    return sock


# --- The scenario server: one route for each way a server chooses to close -------------

#: The scenario server's message limit, so that 1009 costs a 2 KB message, not 1 MiB.
MAX_MESSAGE_SIZE = 1024
#: The heartbeat of the ping-timeout scenario (a real server waits 20 s or so).
HEARTBEAT = 0.2


async def scenario_route(ws: WebSocket) -> None:
    """The handler of the scenario server: the path picks how it closes (RFC 6455 §7.4).

    ``/echo`` echoes; ``/bye`` says bye and returns (1000); ``/text-only`` closes on a binary
    message (1003); ``/policy`` wants ``please`` first (1008); ``/raise`` raises (1011);
    ``/restart`` (1012) and ``/busy`` (1013) close at once; ``/custom/CODE`` closes with an
    application's CODE; ``/gateway/PORT`` relays to ``ws://127.0.0.1:PORT`` and closes with
    1014 when that upstream server fails.
    """
    path = ws.path
    if path == "/bye":
        await ws.send("bye")
        return  # the server closes with 1000 when the handler returns
    if path == "/text-only":
        async for message in ws:
            if isinstance(message, bytes):
                await ws.close(CloseCode.UNSUPPORTED_DATA, "this endpoint accepts text only")
                return
            await ws.send(message)
    elif path == "/policy":
        if await ws.recv() != "please":
            await ws.close(CloseCode.POLICY_VIOLATION, "the first message must be 'please'")
            return
        await _echo(ws)
    elif path == "/raise":
        await ws.recv()
        raise RuntimeError("a bug in the handler")  # the server closes with 1011
    elif path == "/restart":
        await ws.close(CloseCode.SERVICE_RESTART, "the server is restarting")
    elif path == "/busy":
        await ws.close(CloseCode.TRY_AGAIN_LATER, "too busy, try again later")
    elif path.startswith("/custom/"):
        await ws.close(int(path.rsplit("/", 1)[1]), "a code the application defines")
    elif path.startswith("/gateway/"):
        await _gateway(ws, int(path.rsplit("/", 1)[1]))
    else:
        await _echo(ws)


async def _echo(ws: WebSocket) -> None:
    async for message in ws:
        await ws.send(message)


async def _gateway(ws: WebSocket, upstream_port: int) -> None:
    """A gateway: relay each message to an upstream server and its answer back. When the
    upstream fails, say so with 1014, bad gateway (IANA registry, RFC 6455 §11.7)."""
    from wslearn.aio import connect

    try:
        upstream = await connect(f"ws://127.0.0.1:{upstream_port}/echo", open_timeout=1)
    except (OSError, TimeoutError, HandshakeError) as error:
        await ws.close(CloseCode.BAD_GATEWAY, f"the upstream server failed: {type(error).__name__}"[:120])
        return
    try:
        async for message in ws:
            await upstream.send(message)
            await ws.send(await upstream.recv())
    finally:
        await upstream.close()


def scenario_server(name: str = "close codes", **options: Any) -> BackgroundServer:
    """The scenario server in the background (the same one on a re-run)."""
    from wslearn.notebook import start_server

    options.setdefault("ping_interval", None)
    options.setdefault("max_message_size", MAX_MESSAGE_SIZE)
    return start_server(scenario_route, name, **options)


# --- Provoking a code -----------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Provoked:
    """What happened when a close code was provoked.

    ``code`` is the code observed by ``seen_by``: the client (from the server's Close
    frame, or computed by the client itself) or the server (from its event log).
    ``on_wire`` tells whether a Close frame carried the code; ``frames`` are the frames
    the client sent and received, in order; ``server_saw`` is the end of the connection
    in the server's event log.
    """

    expected: int
    how: str
    code: int | None
    seen_by: str
    on_wire: bool
    frames: tuple[tuple[str, Frame], ...]
    server_saw: str
    explanation: str

    @property
    def ok(self) -> bool:
        return self.code == self.expected

    def text(self) -> str:
        mark = "✔" if self.ok else "✘"
        wire = "on the wire" if self.on_wire else "never on the wire"
        lines = [f"{mark} {self.expected}: {self.how}", f"  {self.seen_by} saw {self.code} ({wire})"]
        lines += [f"  client {direction:8} {frame}" for direction, frame in self.frames]
        if self.server_saw:
            lines.append(f"  server log: {self.server_saw}")
        lines.append(f"  {self.explanation}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#cf222e"
        wire = "on the wire" if self.on_wire else "never on the wire"
        rows = "".join(
            f"<tr><td>client {esc(direction)}</td><td><code>{esc(frame)}</code></td></tr>"
            for direction, frame in self.frames
        )
        server = f"<p>server log: <code>{esc(self.server_saw)}</code></p>" if self.server_saw else ""
        return (
            f"<div class='wslearn-provoked'><p style='color:{colour}'><b>{self.expected}</b>: "
            f"{esc(self.how)} → the {esc(self.seen_by)} saw <b>{esc(self.code)}</b> ({wire})</p>"
            f"<table>{rows}</table>{server}<p>{esc(self.explanation)}</p></div>"
        )


Provoker = Callable[[BackgroundServer], Provoked]


def esc(value: object) -> str:
    """Anything shown in HTML is escaped: reasons and payloads come from the wire."""
    return html.escape(str(value), quote=True)


def _converse(
    server: BackgroundServer,
    path: str,
    frames: Sequence[tuple[Opcode, bytes | str, bool]] = (),
    *,
    client: RawClient | None = None,
) -> tuple[RawClient, Close | None]:
    """Connect to ``path``, send ``frames``, read until the server's Close, and answer it."""
    client = client if client is not None else RawClient(server.url + path)
    with client:
        try:
            for opcode, payload, fin in frames:
                client.send(opcode, payload, fin=fin)
        except OSError:
            pass  # the server may already have failed the connection
        close = client.recv_close()
        if close is not None:
            # §5.5.1: answer a Close with a Close, echoing the code (an empty one for 1005).
            answer = b"" if close.code == CloseCode.NO_STATUS_RCVD else Close(close.code).serialize()
            with contextlib.suppress(OSError):
                client.send(Opcode.CLOSE, answer)
    return client, close


def _server_saw(
    server: BackgroundServer, since: float, *, kind: str = "close", direction: str = "-", timeout: float = 1.0
) -> str:
    """The last ``kind`` event the server logged after ``since`` (waits ``timeout`` at most)."""
    deadline = time.monotonic() + timeout
    while True:
        log = server.event_log.events()
        ends = [e for e in log if e.kind == kind and e.direction == direction and e.time >= since]
        if ends or time.monotonic() > deadline:
            return ends[-1].preview if ends else ""
        time.sleep(0.01)


def _from_server(
    code: int, how: str, path: str, frames: Sequence[tuple[Opcode, bytes | str, bool]], why: str
) -> Provoker:
    """A provoker where the server sends a Close frame with ``code`` and the client reads it."""

    def provoker(server: BackgroundServer) -> Provoked:
        since = time.time()
        client, close = _converse(server, path, frames)
        return Provoked(
            code,
            how,
            None if close is None else close.code,
            "client",
            close is not None and close.code != CloseCode.NO_STATUS_RCVD,
            tuple(client.trace),
            _server_saw(server, since),
            why,
        )

    return provoker


def _going_away(server: BackgroundServer) -> Provoked:
    """1001: a server that shuts down closes every connection with "going away"."""
    own = scenario_server("close codes: going away")
    since = time.time()
    client = RawClient(own.url + "/echo")
    client.send(Opcode.TEXT, "still there?")
    client.recv()
    stopper = threading.Thread(target=own.stop, name="wslearn stop for 1001", daemon=True)
    stopper.start()  # stop() waits for our answer to its Close: answer from here meanwhile
    _, close = _converse(own, "/echo", client=client)
    stopper.join(3)
    return Provoked(
        1001,
        "server.stop() while a client is connected",
        None if close is None else close.code,
        "client",
        close is not None,
        tuple(client.trace),
        _server_saw(own, since),
        "A server that shuts down (or a page the browser leaves) is going away: 1001. "
        "wslearn's server.stop() sends it to every connection before it closes them.",
    )


def _no_status(server: BackgroundServer) -> Provoked:
    """1005: a Close frame with no payload at all."""
    since = time.time()
    client = RawClient(server.url + "/echo")
    with client:
        client.send(Opcode.CLOSE, b"")
        close = client.recv_close()
    return Provoked(
        1005,
        "the client sends a Close frame with an empty payload",
        None if close is None else close.code,
        "client",
        False,
        tuple(client.trace),
        _server_saw(server, since),
        "An empty Close frame is allowed (§5.5.1); the receiver then reports 1005, no status "
        "received (§7.1.5). The number 1005 itself is never in a frame: the server echoes an "
        "empty Close, and each side computes 1005 for itself.",
    )


def _abnormal(server: BackgroundServer) -> Provoked:
    """1006: the TCP connection is reset; nobody sends a Close frame."""
    since = time.time()
    client = RawClient(server.url + "/echo")
    client.send(Opcode.TEXT, "Hello, WebSocket!")
    client.recv()
    client.reset()
    saw = _server_saw(server, since)
    return Provoked(
        1006,
        "the client resets the TCP connection (RST) after one echo",
        _leading_code(saw),
        "server",
        False,
        tuple(client.trace),
        saw,
        "No Close frame arrived, so the server records 1006, abnormal closure (§7.1.5). It is "
        "computed locally and never sent: there is nobody left to send it to. Seed 000's "
        "client, which closes TCP without a Close frame, gets the same verdict.",
    )


def _tls_failed(server: BackgroundServer) -> Provoked:
    """1015: the TLS handshake fails, before any WebSocket byte (reported locally only)."""
    since = time.time()
    context = ssl.create_default_context()
    error = ""
    with socket.create_connection((server.host, server.port), timeout=2) as raw:
        try:
            context.wrap_socket(raw, server_hostname=server.host).close()
        except (ssl.SSLError, OSError) as failure:
            error = f"{type(failure).__name__}: {failure}"
    http = _server_saw(server, since, kind="http", direction="out")
    return Provoked(
        1015,
        "a wss:// client talks TLS to a server that does not (any certificate or TLS failure does the same)",
        1015 if error else None,
        "client",
        False,
        (),
        f"{http} (the ClientHello was not HTTP)" if http else "",
        f"The TLS handshake failed ({error[:100]}); no WebSocket ever opened, so no frame can "
        "carry a code. RFC 6455 reserves 1015 for an API to report this (§7.4.1); browsers tell "
        "a page only 1006, for any connection that failed.",
    )


def _extension_missing(server: BackgroundServer) -> Provoked:
    """1010: the client needed an extension, and the server's 101 did not agree to it."""
    header = ("Sec-WebSocket-Extensions", "x-wslearn-required")
    client = RawClient(server.url + "/echo", extra_headers=(header,))
    agreed = client.response.headers.get("Sec-WebSocket-Extensions")
    since = time.time()
    with client:
        if agreed is None:
            client.send(Opcode.CLOSE, Close(1010, "x-wslearn-required").serialize())
        close = client.recv_close()
    return Provoked(
        1010,
        "the client asks for an extension the server does not agree to, and closes",
        None if close is None else close.code,
        "client",
        True,
        tuple(client.trace),
        _server_saw(server, since),
        "1010 is the one code only a client sends: it expected the server to negotiate an "
        "extension, and the 101 answer had none. The server echoes the code (§5.5.1, §7.4.1).",
    )


def _ping_timeout(server: BackgroundServer) -> Provoked:
    """1011: the client never answers the server's Pings."""
    own = scenario_server("close codes: heartbeat", ping_interval=HEARTBEAT, ping_timeout=HEARTBEAT)
    since = time.time()
    client, close = _converse(own, "/echo")
    return Provoked(
        1011,
        f"the client never answers a Ping (heartbeat every {HEARTBEAT} s here, 20 s by default)",
        None if close is None else close.code,
        "client",
        close is not None,
        tuple(client.trace),
        _server_saw(own, since),
        "No Pong within the timeout: the server gives up on the peer and fails the "
        "connection with 1011, an unexpected condition (§5.5.2, §7.4.1).",
    )


def _gateway_failed(server: BackgroundServer) -> Provoked:
    """1014: a gateway whose upstream server cannot be reached."""
    with socket.socket() as probe:  # a port nobody listens on: bind, read it, release it
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    return _from_server(
        1014,
        f"a gateway route whose upstream (port {dead_port}) refuses the connection",
        f"/gateway/{dead_port}",
        (),
        "A server acting as a gateway got no valid answer from upstream: 1014, bad gateway, "
        "the WebSocket twin of HTTP 502 (IANA registry, §11.7). wslearn.proxy relays raw TCP "
        "and so answers HTTP 502 before the upgrade; after it, it passes the failure on.",
    )(server)


def _leading_code(text: str) -> int | None:
    head = text.split(" ", 1)[0]
    return int(head) if head.isdigit() else None


T, B, P = Opcode.TEXT, Opcode.BINARY, Opcode.PING

#: code -> the ways to provoke it, the first being the default.
PROVOKERS: dict[int, list[tuple[str, Provoker]]] = {
    1000: [
        (
            "handler returns",
            _from_server(
                1000,
                "the handler says bye and returns",
                "/bye",
                (),
                "The purpose of the connection is fulfilled: 1000, normal closure. wslearn's "
                "server sends it when the handler returns.",
            ),
        )
    ],
    1001: [("server stops", _going_away)],
    1002: [
        (
            "fragmented Ping",
            _from_server(
                1002,
                "the client sends a fragmented Ping",
                "/echo",
                ((P, "x", False),),
                "Control frames must not be fragmented (§5.5): a protocol error, 1002, and the "
                "server fails the connection at once (§7.1.7).",
            ),
        )
    ],
    1003: [
        (
            "binary to a text-only route",
            _from_server(
                1003,
                "the client sends binary to a route that accepts text only",
                "/text-only",
                ((B, b"\x00\x01", True),),
                "1003, unsupported data: a type of data this endpoint cannot accept. The "
                "application decides this, not the protocol.",
            ),
        )
    ],
    1005: [("empty Close", _no_status)],
    1006: [("TCP reset", _abnormal)],
    1007: [
        (
            "invalid UTF-8",
            _from_server(
                1007,
                "the client sends a text message that is not UTF-8",
                "/echo",
                ((T, b"caf\xff", True),),
                "Text messages must be valid UTF-8 (§8.1): 1007, invalid frame payload data.",
            ),
        )
    ],
    1008: [
        (
            "policy",
            _from_server(
                1008,
                "the client's first message breaks the route's policy",
                "/policy",
                ((T, "let me in", True),),
                "1008, policy violation: the generic code when no more precise one (1003, "
                "1009) fits, e.g. a failed login message.",
            ),
        )
    ],
    1009: [
        (
            "too big",
            _from_server(
                1009,
                f"the client sends 2000 bytes to a server whose limit is {MAX_MESSAGE_SIZE}",
                "/echo",
                ((B, bytes(2000), True),),
                "1009, message too big: the server refuses it from the frame header alone, "
                "before reading the payload (§10.4).",
            ),
        )
    ],
    1010: [("extension missing", _extension_missing)],
    1011: [
        (
            "handler raises",
            _from_server(
                1011,
                "the handler raises an exception",
                "/raise",
                ((T, "boom", True),),
                "1011, internal error: the server met an unexpected condition. The reason says "
                "no more than that: a traceback would tell an attacker too much.",
            ),
        ),
        ("ping timeout", _ping_timeout),
    ],
    1012: [
        (
            "restart",
            _from_server(
                1012,
                "the server is restarting",
                "/restart",
                (),
                "1012, service restart (IANA registry): a client may reconnect after a short wait.",
            ),
        )
    ],
    1013: [
        (
            "busy",
            _from_server(
                1013,
                "the server is overloaded",
                "/busy",
                (),
                "1013, try again later (IANA registry). wslearn's server also uses it for a "
                "client that reads too slowly to keep up with a broadcast.",
            ),
        )
    ],
    1014: [("bad gateway", _gateway_failed)],
    1015: [("TLS failure", _tls_failed)],
    3000: [
        (
            "registered code",
            _from_server(
                3000,
                "the application closes with 3000",
                "/custom/3000",
                (),
                "3000-3999 are registered with IANA by libraries, frameworks and applications "
                "(§7.4.2), and may be sent; a browser's close() accepts them.",
            ),
        )
    ],
    4000: [
        (
            "private code",
            _from_server(
                4000,
                "the application closes with 4000",
                "/custom/4000",
                (),
                "4000-4999 are for private use: their meaning is agreed between the two "
                "applications (§7.4.2).",
            ),
        )
    ],
}


def provoke(code: int, server: BackgroundServer | None = None, how: str | None = None) -> Provoked:
    """Make close code ``code`` happen, live, and tell what each side saw.

    ``server`` is a scenario server (:func:`scenario_server`, the default); some codes use a
    server of their own (1001 stops one, the ping timeout needs a fast heartbeat). ``how``
    picks one of the ways in :data:`PROVOKERS` (for 1011: ``"ping timeout"``).
    """
    ways = PROVOKERS.get(code)
    if ways is None:
        known = ", ".join(str(c) for c in PROVOKERS)
        raise ValueError(f"no scenario makes {code} happen; these can be provoked: {known}")
    chosen = dict(ways)
    if how is not None and how not in chosen:
        raise ValueError(f"{code} can be provoked by {', '.join(chosen)}, not {how!r}")
    provoker = chosen[how] if how is not None else ways[0][1]
    quiet = logging.getLogger("wslearn.aio")
    level = quiet.level
    if code == 1011:  # the handler's traceback is expected here: keep it out of the cell
        quiet.setLevel(logging.CRITICAL)
    try:
        return provoker(server if server is not None else scenario_server())
    finally:
        quiet.setLevel(level)
