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
2. answers 403 to a request whose Host is not one of its names (``allowed_hosts``:
   against DNS rebinding); answers a request that is not a valid upgrade with the HTTP
   error the core chose (400, 403, 405, 426, 431...), whose body says why; lets
   ``process_request`` answer plain HTTP (a page, a 404, a 401, a
   :class:`StreamingResponse` of server-sent events); or accepts with
   ``101 Switching Protocols`` (§4.2.2);
3. runs ``handler(ws)``. When the handler returns, the connection is closed with 1000; when
   it raises, the error is logged and the connection is closed with **1011 (internal
   error)**. Nothing a client sends and nothing a handler raises stops the server.

Broadcasting: :meth:`Server.broadcast` (or :func:`broadcast`) sends a message on many
connections without waiting for any of them: straight to each socket that keeps up, into
the send queue of the others. A client whose send queue is full (``max_queue`` messages
behind a full socket buffer) reads too slowly; it is closed with **1013 (try again
later)** so that it never delays the others.

Memory: every connection holds at most ``max_message_size`` bytes of received messages,
and all of them together ``max_memory`` (64 MiB by default) of received data no handler
has taken yet; past that, they stop reading and TCP slows the peers down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import ssl as ssl_module
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wslearn.deflate import Compression, ServerDeflateConfig, server_config
from wslearn.errors import ConnectionClosed, HandshakeError
from wslearn.eventlog import Direction, EventLog
from wslearn.frames import CloseCode
from wslearn.handshake import (
    Request,
    Response,
    build_error_response,
    check_host,
    is_loopback,
    parse_header_tokens,
)
from wslearn.protocol import Event, HandshakeRejected, Protocol, RequestReceived, Role

from .connection import READ_SIZE, MemoryBudget, WebSocket, frame_tracer, next_connection_id

__all__ = ["Handler", "ProcessRequest", "Server", "StreamingResponse", "broadcast", "serve"]

logger = logging.getLogger("wslearn.aio")

Handler = Callable[[WebSocket], Awaitable[None]]
ProcessRequest = Callable[[Request], "Response | Awaitable[Response | None] | None"]


# What all connections together may hold of received data not yet taken by recv()
# (inboxes, half-received messages): see connection.MemoryBudget.
DEFAULT_MAX_MEMORY = 64 * 2**20


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
    secret_first_message: bool = False
    allowed_hosts: tuple[str, ...] = ()
    max_memory: int | None = DEFAULT_MAX_MEMORY
    deflate_config: ServerDeflateConfig | None = None


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
    secret_first_message: bool = False,
    allowed_hosts: Sequence[str] | None = None,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
    compression: Compression = None,
) -> Server:
    """Start a WebSocket server; port 0 picks a free port (see ``server.port``).

    ``secret_first_message=True``: each client's first message is a credential (an auth
    message), so the event log records its size and never its text.

    ``allowed_hosts``: the names (besides loopback ones) this server answers in the Host
    header; any other gets 403, against DNS rebinding (see
    :func:`wslearn.handshake.host_allowed`). By default, a server on a loopback address
    answers only loopback names, and a server on any other address every name (it was
    asked to be reachable from other machines), as Jupyter Server does.

    ``max_memory`` (64 MiB by default): what all connections together may hold of
    received data that no handler has taken yet; while it is spent, connections read
    little or wait (TCP back-pressure), see :class:`~wslearn.aio.connection.MemoryBudget`.
    Each inbox holds at most ``max_message_size`` bytes (plus the message that crossed it).

    ``compression="deflate"`` accepts a client's offer of permessage-deflate (RFC 7692);
    a :class:`~wslearn.deflate.ServerDeflateConfig` says which parameters to ask for. Off
    by default. ``max_message_size`` limits a message's *decompressed* size.
    """
    if max_memory is not None and max_message_size is not None and max_memory < max_message_size:
        raise ValueError(f"max_memory ({max_memory}) must be at least max_message_size ({max_message_size})")
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
        secret_first_message=secret_first_message,
        allowed_hosts=tuple(allowed_hosts) if allowed_hosts is not None else default_allowed_hosts(host),
        max_memory=max_memory,
        deflate_config=server_config(compression),
    )
    server = Server(handler, settings, secure=ssl is not None)
    await server._listen(host, port, ssl)
    return server


def default_allowed_hosts(bind_address: str) -> tuple[str, ...]:
    """No other name on a loopback address; any name on another address."""
    return () if is_loopback(bind_address.lower().strip("[]")) else ("*",)


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
        limit = settings.max_memory
        self.memory = MemoryBudget(limit) if limit is not None else None  # shared by all connections

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
        _AcceptErrors.install(asyncio.get_running_loop(), self)

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
        _AcceptErrors.uninstall(asyncio.get_running_loop(), self)
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
            # The task ends here without re-raising: nobody awaits it, and on Python 3.11
            # asyncio's stream callback logs a cancelled connection task as an error.
            writer.transport.abort()
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
            deflate_config=self.settings.deflate_config,
            trace=frame_tracer(
                self.settings.event_log, conn_id, secret_first_message=self.settings.secret_first_message
            ),
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
            max_inbox_size=self.settings.max_message_size,
            budget=self.memory,
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
        try:  # before anything else answers: a page or a socket, for its own names only
            check_host(protocol.request, self.settings.allowed_hosts)
        except HandshakeError as error:
            protocol.data_to_send()  # drop the core's answer, if it queued one
            self._send_http(conn_id, build_error_response(error).serialize(), writer)
            return None
        # process_request sees every request first, upgrade or not (a page at "/", a 404,
        # a 401); when it answers, its answer replaces the core's verdict.
        answer = await self._process_request(protocol.request)
        if answer is not None:
            protocol.data_to_send()  # drop the core's error answer, if it queued one
            if protocol.request.method == "HEAD":  # RFC 9110 §9.3.2: GET's headers, no content
                answer = dataclasses.replace(answer, body=b"")
            self._send_http(conn_id, _closing(answer).serialize(), writer)
            if isinstance(answer, StreamingResponse) and protocol.request.method != "HEAD":
                await _send_body_stream(answer, writer)
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


class _AcceptErrors:
    """The loop's exception handler, for one kind of error: a listening socket that cannot
    accept because the process is out of file descriptors (EMFILE).

    asyncio logs a traceback for every refused accept, tens of thousands a second, while
    the connections already open are served as usual. This logs one line per burst that
    says what to do, and hands every other error to the handler that was there before.
    """

    BURST_GAP = 10.0  # seconds without the error after which a new burst is reported again

    def __init__(self, previous: Any) -> None:
        self.previous = previous
        self.servers: dict[int, Server] = {}  # listening fd -> server
        self.last = -self.BURST_GAP

    @classmethod
    def install(cls, loop: asyncio.AbstractEventLoop, server: Server) -> None:
        handler = loop.get_exception_handler()
        if not isinstance(handler, cls):
            handler = cls(handler)
            loop.set_exception_handler(handler)
        assert server._tcp_server is not None
        for sock in server._tcp_server.sockets:
            handler.servers[sock.fileno()] = server

    @classmethod
    def uninstall(cls, loop: asyncio.AbstractEventLoop, server: Server) -> None:
        handler = loop.get_exception_handler()
        if isinstance(handler, cls):
            for fd in [fd for fd, known in handler.servers.items() if known is server]:
                del handler.servers[fd]

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        fileno = getattr(context.get("socket"), "fileno", None)
        server = self.servers.get(fileno()) if fileno is not None else None
        error = context.get("exception")
        if server is None or not isinstance(error, OSError) or "accept" not in context.get("message", ""):
            if self.previous is not None:
                self.previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = loop.time()
        if now - self.last >= self.BURST_GAP:
            logger.error(
                "%s cannot accept new connections: %s (%d connections open, %s). The open"
                " ones are still served; new clients wait until some close. Raise the limit"
                " (e.g. ulimit -n 4096 in the shell that starts the server) or serve fewer clients.",
                server.url,
                error.strerror or error,
                len(server._tasks),
                _descriptor_limit(),
            )
        self.last = now


def _descriptor_limit() -> str:
    try:
        import resource  # Unix only
    except ImportError:
        return "the limit of open files"
    return f"the limit of open files is {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}"


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


@dataclass
class StreamingResponse(Response):
    """A plain HTTP answer whose body is written while it is produced (server-sent events).

    ``process_request`` may return one: the server sends the status line and headers,
    then each chunk ``body_stream`` yields, as it comes. There is no Content-Length, so
    the body ends when the connection closes (RFC 9112 §6.3, rule 8): when the stream
    ends, when the client goes away, or when the server shuts down.
    """

    body_stream: AsyncIterable[bytes] | None = None


async def _send_body_stream(response: StreamingResponse, writer: asyncio.StreamWriter) -> None:
    """Write the chunks of a :class:`StreamingResponse` until it ends or the client leaves."""
    if response.body_stream is None:
        return
    try:
        async for chunk in response.body_stream:
            writer.write(chunk)
            await writer.drain()  # back-pressure: a slow reader slows the stream down
    except (ConnectionError, OSError):
        pass  # the client went away: so does the stream


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
