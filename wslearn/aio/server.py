"""A WebSocket server on asyncio streams, built from wslearn's sans-I/O core.

::

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    server = await serve(echo, "127.0.0.1", 0)
    print(server.url)            # ws://127.0.0.1:54321
    ...
    server.close()
    await server.wait_closed()

For each TCP connection the server

1. reads the opening handshake (RFC 6455 §4.2.1), at most ``handshake_timeout`` seconds:
   a client that sends one byte a second is dropped with ``408 Request Timeout``;
2. answers a request that is not a valid upgrade with the HTTP error the core chose (400,
   403, 405, 426, 431...), whose body says why; lets ``process_request`` answer plain
   HTTP (a page, a 404, a 401); or accepts with ``101 Switching Protocols`` (§4.2.2);
3. runs ``handler(ws)``. When the handler returns, the connection is closed with 1000; when
   it raises, the error is logged and the connection is closed with **1011 (internal
   error)**. Nothing a client sends and nothing a handler raises stops the server.

Broadcasting: :meth:`Server.broadcast` (or :func:`broadcast`) sends a message on many
connections without waiting for any of them: straight to each socket that keeps up, into
the send queue of the others. A client whose send queue is full (``max_queue`` messages
behind a full socket buffer) reads too slowly; it is closed with **1013 (try again
later)** so that it never delays the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import ssl as ssl_module
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wslearn.errors import ConnectionClosed, HandshakeError
from wslearn.eventlog import Direction, EventLog
from wslearn.frames import CloseCode
from wslearn.handshake import Request, Response, build_error_response, parse_header_tokens
from wslearn.protocol import Event, HandshakeRejected, Protocol, RequestReceived, Role

from .connection import READ_SIZE, WebSocket, frame_tracer, next_connection_id

__all__ = ["Handler", "ProcessRequest", "Server", "broadcast", "serve"]

logger = logging.getLogger("wslearn.aio")

Handler = Callable[[WebSocket], Awaitable[None]]
ProcessRequest = Callable[[Request], "Response | Awaitable[Response | None] | None"]


@dataclass(frozen=True)
class ServerSettings:
    """The options of :func:`serve`, kept together."""

    subprotocols: Sequence[str] = ()
    origin_allowed: Callable[[str | None], bool] | None = None
    process_request: ProcessRequest | None = None
    ping_interval: float | None = 20
    ping_timeout: float | None = 20
    max_message_size: int | None = 2**20
    max_queue: int = 64
    event_log: EventLog | None = None
    handshake_timeout: float = 10
    close_timeout: float = 5


async def serve(
    handler: Handler,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    subprotocols: Sequence[str] = (),
    origin_allowed: Callable[[str | None], bool] | None = None,
    process_request: ProcessRequest | None = None,
    ping_interval: float | None = 20,
    ping_timeout: float | None = 20,
    max_message_size: int | None = 2**20,
    max_queue: int = 64,
    ssl: ssl_module.SSLContext | None = None,
    event_log: EventLog | None = None,
    handshake_timeout: float = 10,
    close_timeout: float = 5,
) -> Server:
    """Start a WebSocket server; port 0 picks a free port (see ``server.port``)."""
    settings = ServerSettings(
        subprotocols=tuple(subprotocols),
        origin_allowed=origin_allowed,
        process_request=process_request,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        max_message_size=max_message_size,
        max_queue=max_queue,
        event_log=event_log,
        handshake_timeout=handshake_timeout,
        close_timeout=close_timeout,
    )
    server = Server(handler, settings, secure=ssl is not None)
    await server._listen(host, port, ssl)
    return server


class Server:
    """A running server: ``.url``, ``.connections``, ``close()``, ``wait_closed()``.

    Also an async context manager: ``async with await serve(handler) as server: ...``
    closes it (1001, going away) at the end of the block.
    """

    def __init__(self, handler: Handler, settings: ServerSettings, *, secure: bool = False) -> None:
        self.handler = handler
        self.settings = settings
        self.secure = secure
        self.host = ""
        self.port = 0
        self.connections: set[WebSocket] = set()
        self._tcp_server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # one per TCP connection
        self._handshaking: set[asyncio.Task[Any]] = set()  # those not running a handler yet
        self._shutdown: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<Server {self.url} connections={len(self.connections)}>"

    @property
    def url(self) -> str:
        scheme = "wss" if self.secure else "ws"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    async def _listen(self, host: str, port: int, ssl: ssl_module.SSLContext | None) -> None:
        self._tcp_server = await asyncio.start_server(
            self._connection_made,
            host,
            port,
            ssl=ssl,
            ssl_handshake_timeout=self.settings.handshake_timeout if ssl is not None else None,
        )
        address = self._tcp_server.sockets[0].getsockname()
        self.host, self.port = address[0], address[1]

    # --- Stopping --------------------------------------------------------------------

    def close(self, code: int = CloseCode.GOING_AWAY, reason: str = "server shutting down") -> None:
        """Stop accepting connections and close every open one with ``code``."""
        if self._shutdown is None:
            self._shutdown = asyncio.create_task(self._close_all(code, reason))

    async def wait_closed(self) -> None:
        """Wait until the server has stopped (after :meth:`close`)."""
        if self._shutdown is None:
            assert self._tcp_server is not None
            await self._tcp_server.wait_closed()
        else:
            await asyncio.shield(self._shutdown)

    async def serve_forever(self) -> None:
        """Run until cancelled (Ctrl-C in ``python -m wslearn serve``), then close."""
        try:
            await asyncio.Event().wait()
        finally:
            self.close()
            await self.wait_closed()

    async def _close_all(self, code: int, reason: str) -> None:
        assert self._tcp_server is not None
        self._tcp_server.close()
        for task in self._handshaking:
            task.cancel()  # no WebSocket yet: nothing to close politely
        closing = [ws.close(code, reason) for ws in list(self.connections)]
        await asyncio.gather(*closing, return_exceptions=True)
        # Handlers get close_timeout more seconds to notice and return; then they are cancelled.
        tasks = set(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.settings.close_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._tcp_server.wait_closed()

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await self.wait_closed()

    # --- Broadcasting ----------------------------------------------------------------

    def broadcast(self, message: str | bytes) -> int:
        """Send ``message`` on every open connection; see :func:`broadcast`."""
        return broadcast(self.connections, message)

    # --- One TCP connection ----------------------------------------------------------

    async def _connection_made(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Called by asyncio for each new TCP connection, in a task of its own."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._handshaking.add(task)
        ws = None
        try:
            ws = await self._open_websocket(reader, writer)
            if ws is not None:
                self.connections.add(ws)
                self._handshaking.discard(task)
                await self._run_handler(ws)
        except asyncio.CancelledError:  # the server is shutting down
            writer.transport.abort()
            raise
        except Exception:
            logger.exception("unexpected error on a connection; the server goes on")
            writer.transport.abort()
        finally:
            self._tasks.discard(task)
            self._handshaking.discard(task)
            if ws is not None:
                self.connections.discard(ws)

    async def _open_websocket(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> WebSocket | None:
        """The opening handshake; then a started :class:`WebSocket`, or ``None`` when the
        request got a plain HTTP answer instead."""
        conn_id = next_connection_id()
        protocol = Protocol(
            Role.SERVER,
            subprotocols=self.settings.subprotocols,
            origin_allowed=self.settings.origin_allowed,
            max_message_size=self.settings.max_message_size,
            trace=frame_tracer(self.settings.event_log, conn_id),
        )
        events = await self._opening_handshake(conn_id, protocol, reader, writer)
        if events is None:
            await _close_after_answer(reader, writer, self.settings.close_timeout)
            return None
        ws = WebSocket(
            protocol,
            reader,
            writer,
            conn_id=conn_id,
            ping_interval=self.settings.ping_interval,
            ping_timeout=self.settings.ping_timeout,
            close_timeout=self.settings.close_timeout,
            max_queue=self.settings.max_queue,
            event_log=self.settings.event_log,
        )
        ws.start(events)
        return ws

    async def _opening_handshake(
        self,
        conn_id: int,
        protocol: Protocol,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> list[Event] | None:
        """RFC 6455 §4.2: read the request and answer it. Returns the events that came
        right after the handshake when the connection is open, ``None`` otherwise."""
        received = bytearray()
        try:
            async with asyncio.timeout(self.settings.handshake_timeout):
                event = await _read_request(protocol, reader, received)
        except TimeoutError:
            seconds = self.settings.handshake_timeout
            protocol.reject(408, f"the opening handshake did not arrive within {seconds} s")
            self._send_http(conn_id, protocol.data_to_send(), writer)
            return None
        if event is None:  # the client went away before sending a whole request
            return None
        if protocol.request is None:  # the bytes were not even HTTP
            self._log_http(conn_id, "in", bytes(received), kind="http")
            self._send_http(conn_id, protocol.data_to_send(), writer)
            return None
        return await self._answer(conn_id, protocol, event, writer)

    async def _answer(
        self,
        conn_id: int,
        protocol: Protocol,
        event: RequestReceived | HandshakeRejected,
        writer: asyncio.StreamWriter,
    ) -> list[Event] | None:
        """Answer an HTTP request: plain HTTP, an error, or 101 Switching Protocols."""
        assert protocol.request is not None
        upgrade = isinstance(event, RequestReceived)
        self._log_http(conn_id, "in", protocol.request.serialize(), kind="handshake" if upgrade else "http")
        # process_request sees every request first, upgrade or not (a page at "/", a 404,
        # a 401); when it answers, its answer replaces the core's verdict.
        answer = await self._process_request(protocol.request)
        if answer is not None:
            protocol.data_to_send()  # drop the core's error answer, if it queued one
            if protocol.request.method == "HEAD":  # RFC 9110 §9.3.2: GET's headers, no content
                answer = dataclasses.replace(answer, body=b"")
            self._send_http(conn_id, _closing(answer).serialize(), writer)
            return None
        if not upgrade:
            self._send_http(conn_id, protocol.data_to_send(), writer)
            return None
        response = protocol.accept()  # 101 Switching Protocols, with the subprotocol we picked
        writer.write(protocol.data_to_send())
        self._log_http(conn_id, "out", response.serialize(), kind="handshake")
        return protocol.events_received()

    async def _process_request(self, request: Request) -> Response | None:
        """Let ``process_request`` answer with plain HTTP instead of upgrading."""
        process = self.settings.process_request
        if process is None:
            return None
        try:
            answer = process(request)
            if inspect.isawaitable(answer):
                answer = await answer
        except Exception:
            logger.exception("process_request raised for %s", request.path)
            error = HandshakeError(500, "the server failed while processing this request")
            return build_error_response(error)
        return answer

    async def _run_handler(self, ws: WebSocket) -> None:
        """Run the handler; then close with 1000, or with 1011 if it raised."""
        try:
            await self.handler(ws)
        except ConnectionClosed:
            pass  # the connection ended under the handler: nothing left to do
        except Exception as exc:
            logger.exception("handler failed on connection #%d (%s)", ws.id, ws.path)
            self._log_error(ws.id, f"handler raised {type(exc).__name__}: {exc}")
            await ws.close(CloseCode.INTERNAL_ERROR, "internal error in the server's handler")
            return
        await ws.close()

    # --- Writing plain HTTP and logging ----------------------------------------------

    def _send_http(self, conn_id: int, data: bytes, writer: asyncio.StreamWriter) -> None:
        """Send an HTTP answer that ends the connection (an error, a page)."""
        writer.write(data)
        self._log_http(conn_id, "out", data, kind="http")

    def _log_http(self, conn_id: int, direction: Direction, data: bytes, *, kind: str) -> None:
        if self.settings.event_log is not None:
            self.settings.event_log.record_http(conn_id, direction, data, kind=kind)

    def _log_error(self, conn_id: int, text: str) -> None:
        if self.settings.event_log is not None:
            self.settings.event_log.record(conn_id, "-", "error", preview=text)


async def _read_request(
    protocol: Protocol, reader: asyncio.StreamReader, received: bytearray
) -> RequestReceived | HandshakeRejected | None:
    """Read until the core has decided about the request (the header block is complete)."""
    while True:
        try:
            data = await reader.read(READ_SIZE)
        except (ConnectionError, OSError):
            data = b""
        if not data:
            protocol.receive_eof()
            return None
        if len(received) < 2 * READ_SIZE:
            received += data  # kept for the event log, when the request is rejected
        protocol.receive_data(data)
        for event in protocol.events_received():
            if isinstance(event, (RequestReceived, HandshakeRejected)):
                return event


def _closing(response: Response) -> Response:
    """The response with ``Connection: close``: this server answers one plain HTTP request
    per connection and says so (RFC 9112 §9.6)."""
    if "close" in [token.lower() for token in parse_header_tokens(response.headers.get("Connection", ""))]:
        return response
    headers = response.headers.copy()
    headers.remove("Connection")
    headers.add("Connection", "close")
    return dataclasses.replace(response, headers=headers)


async def _close_after_answer(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float
) -> None:
    """Close a connection that got a plain HTTP answer, without losing the answer.

    Closing a socket that still has unread input makes the kernel reset the connection,
    and a reset can destroy our answer before the client reads it. So, as RFC 9112 §9.6
    advises, close the sending side first (FIN), read and drop what the client still
    sends (``timeout`` seconds at most), then close.
    """
    try:
        async with asyncio.timeout(timeout):
            if writer.can_write_eof():
                writer.write_eof()
            while await reader.read(READ_SIZE):
                pass
    except (TimeoutError, ConnectionError, OSError):
        pass
    writer.close()
    try:
        async with asyncio.timeout(timeout):
            await writer.wait_closed()
    except (TimeoutError, ConnectionError, OSError):
        writer.transport.abort()


def broadcast(connections: Iterable[WebSocket], message: str | bytes) -> int:
    """Send ``message`` on every open connection without waiting; returns how many.

    Each connection writes it at once when its socket keeps up, else queues it
    (:meth:`WebSocket.send_nowait`). Policy for slow clients: a client with ``max_queue``
    messages already waiting is closed
    with 1013 (try again later) instead of being waited for, so one slow reader never
    holds up the others. Connections that are closing or closed are skipped.
    """
    queued = 0
    for ws in list(connections):
        try:
            ws.send_nowait(message)
        except ConnectionClosed:
            continue
        queued += 1
    return queued
