"""A WebSocket client on asyncio streams, built from wslearn's sans-I/O core.

::

    async with connect("ws://127.0.0.1:8765/ws", subprotocols=["chat"]) as ws:
        await ws.send("Hello, WebSocket!")
        print(await ws.recv(timeout=5))

    ws = await connect(url)      # the same, without the block: call ``await ws.close()``

``connect`` opens TCP (and TLS for ``wss://``), sends the upgrade request (RFC 6455 §4.1),
checks the server's answer and returns an open :class:`~wslearn.aio.connection.WebSocket`.
A refused handshake raises :class:`~wslearn.errors.HandshakeError` with the server's
status; no answer within ``open_timeout`` seconds raises ``TimeoutError``.

A ``user:pass@`` in the URL becomes an ``Authorization: Basic`` header, as browsers do
(RFC 7617).
"""

from __future__ import annotations

import asyncio
import base64
import ssl as ssl_module
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import unquote, urlsplit

from wslearn.deflate import Compression, DeflateOffer, client_offers
from wslearn.errors import HandshakeError
from wslearn.eventlog import Direction, EventLog
from wslearn.protocol import Event, HandshakeFailed, Protocol, ResponseReceived, Role

from .connection import READ_SIZE, WebSocket, frame_tracer, next_connection_id

__all__ = ["Connecting", "WebSocketURL", "connect", "parse_url"]

HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass(frozen=True)
class WebSocketURL:
    """The parts of a ``ws://`` or ``wss://`` URL that the handshake needs (RFC 6455 §3)."""

    secure: bool
    host: str
    port: int
    target: str  # path and query: "/chat?room=1"
    username: str | None = None
    password: str | None = None

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the port only when it is not the default (80 / 443)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.secure else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_url(url: str) -> WebSocketURL:
    """``"ws://localhost:8765/chat?room=1"`` → its parts. Raises ``ValueError`` when the
    URL is not a WebSocket URL (RFC 6455 §3: no fragment, scheme ws or wss)."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"a WebSocket URL starts with ws:// or wss://, not {url!r}")
    if not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    if parts.fragment:
        raise ValueError(f"a WebSocket URL has no #fragment (RFC 6455 §3): {url!r}")
    secure = parts.scheme == "wss"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebSocketURL(
        secure=secure,
        host=parts.hostname,
        port=parts.port or (443 if secure else 80),
        target=target,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def connect(
    url: str,
    *,
    subprotocols: Sequence[str] = (),
    headers: HeadersLike = (),
    origin: str | None = None,
    ssl: ssl_module.SSLContext | None = None,
    ping_interval: float | None = None,
    ping_timeout: float | None = None,
    max_message_size: int | None = 2**20,
    max_queue: int = 64,
    open_timeout: float = 10,
    close_timeout: float = 5,
    event_log: EventLog | None = None,
    compression: Compression = None,
) -> Connecting:
    """Open a WebSocket connection: ``await connect(url)`` or ``async with connect(url) as ws``.

    For ``wss://`` URLs without ``ssl``, the system's default TLS context checks the
    server's certificate. ``compression="deflate"`` offers permessage-deflate (RFC 7692),
    or pass :class:`~wslearn.deflate.DeflateOffer` objects; ``ws.deflate`` tells what the
    server agreed to (None: it declined).
    """
    return Connecting(
        url,
        subprotocols=tuple(subprotocols),
        headers=list(headers.items() if isinstance(headers, Mapping) else headers),
        origin=origin,
        ssl=ssl,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        max_message_size=max_message_size,
        max_queue=max_queue,
        open_timeout=open_timeout,
        close_timeout=close_timeout,
        event_log=event_log,
        deflate_offers=client_offers(compression),
    )


class Connecting:
    """What :func:`connect` returns: await it, or use it with ``async with``.

    (``asyncio.run_coroutine_threadsafe`` needs a coroutine: pass it ``connecting.open()``.)
    """

    def __init__(
        self,
        url: str,
        *,
        subprotocols: tuple[str, ...],
        headers: list[tuple[str, str]],
        origin: str | None,
        ssl: ssl_module.SSLContext | None,
        ping_interval: float | None,
        ping_timeout: float | None,
        max_message_size: int | None,
        max_queue: int,
        open_timeout: float,
        close_timeout: float,
        event_log: EventLog | None,
        deflate_offers: tuple[DeflateOffer, ...] = (),
    ) -> None:
        self.url = parse_url(url)
        if ssl is not None and not self.url.secure:
            raise ValueError(f"an ssl context needs a wss:// URL, not {url!r}")
        self.subprotocols = subprotocols
        self.headers = headers
        self.origin = origin
        self.ssl = ssl
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_message_size = max_message_size
        self.max_queue = max_queue
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self.event_log = event_log
        self.deflate_offers = deflate_offers
        self._ws: WebSocket | None = None

    def __await__(self) -> Generator[object, None, WebSocket]:
        return self.open().__await__()

    async def __aenter__(self) -> WebSocket:
        self._ws = await self.open()
        return self._ws

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def open(self) -> WebSocket:
        """TCP (+ TLS), then the opening handshake, all within ``open_timeout`` seconds."""
        conn_id = next_connection_id()
        try:
            async with asyncio.timeout(self.open_timeout):
                reader, writer = await self._open_tcp()
                try:
                    protocol, events = await self._handshake(conn_id, reader, writer)
                except BaseException:
                    writer.transport.abort()
                    raise
        except TimeoutError:
            raise TimeoutError(
                f"no WebSocket connection to {self.url.host_header} within {self.open_timeout} s"
            ) from None
        ws = WebSocket(
            protocol,
            reader,
            writer,
            conn_id=conn_id,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            close_timeout=self.close_timeout,
            max_queue=self.max_queue,
            event_log=self.event_log,
        )
        ws.start(events)
        return ws

    async def _open_tcp(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        context = self.ssl
        if self.url.secure and context is None:
            context = ssl_module.create_default_context()
        try:
            return await asyncio.open_connection(
                self.url.host,
                self.url.port,
                ssl=context,
                server_hostname=self.url.host if context is not None else None,
            )
        except ssl_module.SSLError as error:
            not_tls = error.reason == "WRONG_VERSION_NUMBER"
            if isinstance(error, ssl_module.SSLCertVerificationError) or not not_tls:
                raise
            # Our ClientHello got an answer that is no TLS record: most likely plain HTTP.
            raise ssl_module.SSLError(
                error.errno,
                f"{error.strerror}: the server at {self.url.host_header} does not speak TLS;"
                " is it a ws:// port? (it read our ClientHello, first byte 0x16, as an HTTP request)",
            ) from error

    async def _handshake(
        self, conn_id: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[Protocol, list[Event]]:
        """RFC 6455 §4.1: send the upgrade request, read and check the answer."""
        protocol = Protocol(
            Role.CLIENT,
            subprotocols=self.subprotocols,
            max_message_size=self.max_message_size,
            deflate_offers=self.deflate_offers,
            trace=frame_tracer(self.event_log, conn_id),
        )
        request = protocol.connect(
            self.url.host_header,
            self.url.target,
            origin=self.origin,
            extra_headers=self._request_headers(),
        )
        writer.write(protocol.data_to_send())
        self._log_http(conn_id, "out", request.serialize())
        events = await _read_response(protocol, reader, secure=self.url.secure)
        first = events[0]
        if isinstance(first, HandshakeFailed):
            self._log_http(conn_id, "in", _serialized(protocol), kind="http")
            raise first.error
        self._log_http(conn_id, "in", _serialized(protocol))
        return protocol, events[1:]

    def _request_headers(self) -> list[tuple[str, str]]:
        headers = list(self.headers)
        has_auth = any(name.lower() == "authorization" for name, _ in headers)
        if self.url.username is not None and not has_auth:
            credentials = f"{self.url.username}:{self.url.password or ''}".encode()
            headers.append(("Authorization", "Basic " + base64.b64encode(credentials).decode()))
        return headers

    def _log_http(self, conn_id: int, direction: Direction, data: bytes, *, kind: str = "handshake") -> None:
        if self.event_log is not None:
            self.event_log.record_http(conn_id, direction, data, kind=kind)


def _serialized(protocol: Protocol) -> bytes:
    return protocol.response.serialize() if protocol.response is not None else b""


# A TLS server reads a ClientHello first (its first byte is 0x16, a handshake record,
# RFC 8446 §5.1); given "GET ..." instead it closes the connection without a word.
_PLAIN_TO_TLS = (
    " (is it a TLS port? A wss:// server expects a TLS ClientHello, first byte 0x16,"
    " and drops a ws:// client's 'GET' without an answer: try wss://)"
)


async def _read_response(protocol: Protocol, reader: asyncio.StreamReader, *, secure: bool) -> list[Event]:
    """Read until the core has decided about the server's answer; the first event is
    :class:`ResponseReceived` or :class:`HandshakeFailed`, then any frames behind it."""
    while True:
        try:
            data = await reader.read(READ_SIZE)
        except (ConnectionError, OSError) as exc:
            raise HandshakeError(0, f"the connection broke during the opening handshake: {exc}") from exc
        if not data:
            hint = "" if secure else _PLAIN_TO_TLS
            raise HandshakeError(0, "the server closed the connection without answering the handshake" + hint)
        protocol.receive_data(data)
        events = protocol.events_received()
        if events and isinstance(events[0], (ResponseReceived, HandshakeFailed)):
            return events
