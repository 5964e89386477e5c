"""One open WebSocket connection on asyncio streams, for the server and the client alike.

Theory of operation
-------------------
A :class:`WebSocket` wraps a sans-I/O :class:`~wslearn.protocol.Protocol` (which knows the
rules of RFC 6455) and a pair of asyncio streams (which move bytes). Three tasks run per
connection:

* the **reader** — the only task that reads from the socket. It feeds the bytes to the
  protocol and acts on the events that come out: messages go into the *inbox* that
  :meth:`WebSocket.recv` takes from; pongs end the matching :meth:`WebSocket.ping`; a
  Close frame or a protocol violation ends the connection.
* the **writer** — takes whole messages from the bounded *outbox* that
  :meth:`WebSocket.send` fills, one after the other, so the frames of two messages are
  never interleaved (RFC 6455 §5.4). ``await writer.drain()`` after each message is the
  back-pressure: the outbox fills up when the peer reads slowly.
* the **heartbeat** (when ``ping_interval`` is set) — sends a Ping every
  ``ping_interval`` seconds and fails the connection with 1011 when no Pong comes back
  within ``ping_timeout`` (RFC 6455 §5.5.2: a Ping may serve "as a keepalive").

Whatever a task asks the protocol to send (a message, an automatic Pong, a Close frame)
lands in the protocol's buffer as whole frames; :meth:`WebSocket._transmit` is the one
place that moves that buffer to the socket, so frames are never cut in two.

Limits, so that one bad peer never costs more than its share:

* ``max_queue`` messages wait in the outbox at most. :meth:`send` waits for room (it only
  slows down the task that sends); :meth:`send_nowait`, used for broadcasts, never waits:
  when the outbox of a peer is full, that peer reads too slowly, and the connection is
  closed with **1013 (try again later)** rather than letting it hold up everyone else.
* ``max_queue`` received messages wait in the inbox at most; then the reader stops
  reading, so TCP flow control slows the peer down. (While it does not read, it sees no
  Pong either: a handler that never calls :meth:`recv` on a chatty peer ends up closed
  by the heartbeat.)
* once the closing handshake starts, the TCP connection is closed after
  ``close_timeout`` seconds whatever the peer does.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import cast

from wslearn.errors import ConnectionClosed
from wslearn.eventlog import Direction, EventLog
from wslearn.frames import Close, CloseCode, Frame
from wslearn.handshake import Request, Response
from wslearn.protocol import (
    CloseReceived,
    ConnectionFailed,
    ConnectionLost,
    Event,
    Message,
    Pong,
    Protocol,
    Role,
    State,
    Trace,
)

__all__ = ["READ_SIZE", "WebSocket", "frame_tracer", "next_connection_id"]

logger = logging.getLogger("wslearn.aio")

READ_SIZE = 2**18  # bytes asked from the socket at a time
RTT_HISTORY = 100  # round-trip times kept in WebSocket.rtts

_connection_ids = itertools.count(1)


def next_connection_id() -> int:
    """A number that names one connection in logs: 1, 2, 3, ..."""
    return next(_connection_ids)


def frame_tracer(event_log: EventLog | None, conn_id: int) -> Trace | None:
    """A ``trace`` callback for :class:`Protocol` that writes every frame to ``event_log``."""
    if event_log is None:
        return None
    log = event_log

    def trace(direction: str, frame: Frame, raw: bytes) -> None:
        log.record_frame(conn_id, cast(Direction, direction), frame, raw)

    return trace


@dataclass(frozen=True)
class _Fragments:
    """A message to send in several frames (RFC 6455 §5.4), as one item of the outbox."""

    parts: tuple[str | bytes, ...]  # all str (a text message) or all bytes (binary)


_Outgoing = str | bytes | _Fragments


class WebSocket:
    """An open WebSocket connection: ``send``, ``recv``, ``ping``, ``close``.

    Built by :func:`wslearn.aio.serve` (for each client) and :func:`wslearn.aio.connect`;
    never created directly.
    """

    def __init__(
        self,
        protocol: Protocol,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        conn_id: int,
        ping_interval: float | None = None,
        ping_timeout: float | None = None,
        close_timeout: float = 5,
        max_queue: int = 64,
        event_log: EventLog | None = None,
    ) -> None:
        self.id = conn_id
        self.protocol = protocol
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.close_timeout = close_timeout
        self.max_queue = max_queue
        self.event_log = event_log
        self.rtts: deque[float] = deque(maxlen=RTT_HISTORY)
        self._reader = reader
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        # Received messages, waiting for recv().
        self._inbox: deque[str | bytes] = deque()
        self._inbox_waiter: asyncio.Future[None] | None = None  # recv() waits for a message
        self._inbox_space: asyncio.Future[None] | None = None  # the reader waits for room
        self._no_more_messages = False
        # Messages waiting for the writer.
        self._outbox: deque[_Outgoing] = deque()
        self._writing = False  # the writer task is in the middle of a message
        self._outbox_waiter: asyncio.Future[None] | None = None  # the writer waits for a message
        self._senders_waiting: list[asyncio.Future[None]] = []  # send() calls wait for room
        self._close_request: Close | None = None
        # Pings waiting for their pong: payload -> (future, time sent).
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._eof_received = False
        self._abort_timer: asyncio.TimerHandle | None = None
        self._done: asyncio.Future[None] = self._loop.create_future()
        self._tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        return f"<WebSocket #{self.id} {self.protocol.role.value} {self.path} {self.state.name}>"

    # --- What the handshake decided --------------------------------------------------

    @property
    def request(self) -> Request | None:
        return self.protocol.request

    @property
    def response(self) -> Response | None:
        return self.protocol.response

    @property
    def path(self) -> str:
        """The path of the request (``/chat`` for ``ws://host/chat?room=1``)."""
        return self.request.path if self.request is not None else ""

    @property
    def subprotocol(self) -> str | None:
        return self.protocol.subprotocol

    @property
    def remote_address(self) -> tuple[str, int] | None:
        address = self._writer.get_extra_info("peername")
        return (address[0], address[1]) if address else None

    @property
    def state(self) -> State:
        return self.protocol.state

    @property
    def closed(self) -> ConnectionClosed | None:
        """Why the connection ended (code, reason, who); ``None`` while it is not over."""
        return self.protocol.closed

    # --- Starting --------------------------------------------------------------------

    def start(self, events: Iterable[Event] = ()) -> None:
        """Start the reader, writer and heartbeat tasks.

        ``events`` are those that arrived together with the end of the opening handshake
        (a peer may send frames right behind it).
        """
        self._log("-", "open", preview=f"{self.path} subprotocol={self.subprotocol}")
        self._tasks.append(asyncio.create_task(self._read_frames(list(events))))
        self._tasks.append(asyncio.create_task(self._write_messages()))
        if self.ping_interval is not None:
            self._tasks.append(asyncio.create_task(self._heartbeat()))

    # --- Receiving -------------------------------------------------------------------

    async def recv(self, timeout: float | None = None) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary.

        Raises :class:`ConnectionClosed` once the connection is over and every message
        received before has been returned, and ``TimeoutError`` after ``timeout`` seconds
        with no message (the connection stays open).
        """
        if self._inbox_waiter is not None:
            raise RuntimeError("another task is already waiting in recv() on this connection")
        if not self._inbox and timeout is None:
            await self._wait_for_message()
        elif not self._inbox:
            async with asyncio.timeout(timeout):
                await self._wait_for_message()
        message = self._inbox.popleft()
        _wake(self._inbox_space)
        return message

    async def _wait_for_message(self) -> None:
        while not self._inbox:
            if self._no_more_messages:
                raise self._closed_error()
            self._inbox_waiter = self._loop.create_future()
            try:
                await self._inbox_waiter
            finally:
                self._inbox_waiter = None

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        """``async for message in ws``: ends quietly after a 1000 or 1001 close."""
        while True:
            try:
                yield await self.recv()
            except ConnectionClosed as closed:
                if closed.ok:
                    return
                raise

    # --- Sending ---------------------------------------------------------------------

    async def send(self, message: str | bytes) -> None:
        """Send one message: a ``str`` as a text frame, ``bytes`` as a binary frame.

        Waits while ``max_queue`` messages are already waiting to be written.
        """
        item = self._outgoing(message)
        if not self._outbox and not self._writing:
            # Nothing waits before this message and the writer is idle: write it now, which
            # keeps the order and saves waking the writer task (the common case).
            self._write_whole(item)
            await self._writer.drain()
            return
        while len(self._outbox) >= self.max_queue:
            await self._wait_for_room()
            self._check_can_send()
        self._queue(item)

    async def send_fragments(self, fragments: Iterable[str] | Iterable[bytes]) -> None:
        """Send one message split into frames, one frame per fragment (RFC 6455 §5.4)."""
        parts = tuple(self._outgoing(part) for part in fragments)
        if not parts:
            raise ValueError("send_fragments() needs at least one fragment")
        if len({type(part) for part in parts}) > 1:
            raise TypeError("fragments must be all str (text) or all bytes (binary)")
        while len(self._outbox) >= self.max_queue:
            await self._wait_for_room()
            self._check_can_send()
        self._queue(_Fragments(parts))

    def send_nowait(self, message: str | bytes) -> None:
        """Queue a message without waiting: the method broadcasts use.

        When ``max_queue`` messages are already waiting, this peer reads more slowly than
        we send, and it must not hold up anyone else: the connection is closed with 1013
        (try again later) and :class:`ConnectionClosed` is raised.
        """
        item = self._outgoing(message)
        if len(self._outbox) >= self.max_queue:
            reason = f"too slow: {self.max_queue} messages were waiting to be sent"
            self._log("-", "error", preview=f"send queue full, closing with 1013 ({reason})")
            self._outbox.clear()
            self._start_closing(CloseCode.TRY_AGAIN_LATER, reason)
            raise ConnectionClosed(CloseCode.TRY_AGAIN_LATER, reason, "local")
        self._queue(item)

    def _queue(self, item: _Outgoing) -> None:
        self._outbox.append(item)
        _wake(self._outbox_waiter)

    async def _wait_for_room(self) -> None:
        room: asyncio.Future[None] = self._loop.create_future()
        self._senders_waiting.append(room)
        try:
            await room
        finally:
            self._senders_waiting.remove(room)

    def _wake_senders(self) -> None:
        for room in self._senders_waiting:
            _wake(room)

    def _outgoing(self, message: str | bytes) -> str | bytes:
        if isinstance(message, (bytearray, memoryview)):
            message = bytes(message)
        if not isinstance(message, (str, bytes)):
            raise TypeError(f"a message is str (text) or bytes (binary), not {type(message).__name__}")
        self._check_can_send()
        return message

    def _check_can_send(self) -> None:
        if self._close_request is not None or self.protocol.state is not State.OPEN:
            raise self._closed_error()

    async def ping(self, data: bytes | None = None) -> float:
        """Send a Ping and wait for its Pong; returns the round-trip time in seconds.

        ``data`` (at most 125 bytes) is the ping's payload, echoed by the pong (RFC 6455
        §5.5.3); by default 4 random bytes, so that each ping is told apart.
        """
        payload = os.urandom(4) if data is None else bytes(data)
        if payload in self._pings:
            raise ValueError(f"a ping with payload {payload!r} is already waiting for its pong")
        self.protocol.send_ping(payload)  # ConnectionClosed when not OPEN, ValueError if > 125
        pong: asyncio.Future[float] = self._loop.create_future()
        self._pings[payload] = (pong, self._loop.time())
        self._transmit()
        try:
            return await asyncio.shield(pong)
        finally:
            self._pings.pop(payload, None)

    # --- Closing ---------------------------------------------------------------------

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Close the connection with the closing handshake (RFC 6455 §7.1.2).

        Messages already queued by :meth:`send` go first, then our Close frame; then we
        wait for the peer's Close frame and the end of TCP, ``close_timeout`` seconds at
        most, after which the TCP connection is simply dropped.
        """
        close = Close(code, reason)
        close.serialize()  # ValueError now, for a code not allowed on the wire (RFC 6455 §7.4)
        if self.protocol.state is State.OPEN and self._close_request is None:
            self._close_request = close
            self._schedule_abort()
            _wake(self._outbox_waiter)  # the writer sends the Close frame after the outbox
            _wake(self._inbox_space)  # the reader must not wait for recv() any more
            self._wake_senders()  # send() calls waiting for room fail now
        await self.wait_closed()

    async def wait_closed(self) -> None:
        """Wait until the TCP connection is closed."""
        await asyncio.shield(self._done)

    def _start_closing(self, code: int, reason: str) -> None:
        """Send a Close frame now, ahead of any queued message (used for 1013)."""
        if self.protocol.state is State.OPEN:
            self._close_request = Close(code, reason)
            self.protocol.send_close(code, reason)
            self._transmit()
            self._schedule_abort()

    def _fail(self, code: int, reason: str) -> None:
        """_Fail the WebSocket Connection_ (RFC 6455 §7.1.7): Close frame, then close TCP."""
        self.protocol.fail(code, reason)
        self._transmit()
        self._writer.close()
        self._schedule_abort()

    def _schedule_abort(self) -> None:
        """Whatever the peer does, drop TCP ``close_timeout`` seconds from now."""
        if self._abort_timer is None and not self._done.done():
            transport = self._writer.transport
            self._abort_timer = self._loop.call_later(self.close_timeout, transport.abort)

    def _closed_error(self) -> ConnectionClosed:
        if self.protocol.closed is not None:
            return self.protocol.closed
        if self._close_request is not None:
            return ConnectionClosed(self._close_request.code, self._close_request.reason, "local")
        return ConnectionClosed(CloseCode.ABNORMAL_CLOSURE, f"state {self.state.name}", "nobody")

    # --- The one place that writes to the socket -------------------------------------

    def _transmit(self) -> None:
        """Write whatever the protocol has queued (whole frames) to the socket."""
        data = self.protocol.data_to_send()
        if data and not self._writer.is_closing():
            self._writer.write(data)

    # --- The writer task -------------------------------------------------------------

    async def _write_messages(self) -> None:
        """Send queued messages one at a time; then, if asked, the Close frame."""
        try:
            while True:
                while not self._outbox:
                    if self._close_request is not None:
                        self._send_close_frame(self._close_request)
                        return
                    self._outbox_waiter = self._loop.create_future()
                    try:
                        await self._outbox_waiter
                    finally:
                        self._outbox_waiter = None
                item = self._outbox.popleft()
                self._wake_senders()
                await self._write_message(item)
        except (ConnectionClosed, ConnectionError, OSError):
            return  # the reader sees the end of the connection and cleans up

    async def _write_message(self, item: str | bytes | _Fragments) -> None:
        self._writing = True
        try:
            if isinstance(item, _Fragments):
                await self._write_fragments(item.parts)
            else:
                self._write_whole(item)
            await self._writer.drain()
        finally:
            self._writing = False

    def _write_whole(self, message: str | bytes) -> None:
        """One message in one frame, straight to the socket."""
        if isinstance(message, str):
            self.protocol.send_text(message)
        else:
            self.protocol.send_binary(message)
        self._transmit()

    async def _write_fragments(self, parts: tuple[str | bytes, ...]) -> None:
        """RFC 6455 §5.4: first frame TEXT or BINARY with FIN=0, then CONTINUATION frames."""
        last = len(parts) - 1
        for index, part in enumerate(parts):
            fin = index == last
            if index > 0:
                data = part.encode("utf-8") if isinstance(part, str) else part
                self.protocol.send_continuation(data, fin=fin)
            elif isinstance(part, str):
                self.protocol.send_text(part, fin=fin)
            else:
                self.protocol.send_binary(part, fin=fin)
            self._transmit()
            await self._writer.drain()

    def _send_close_frame(self, close: Close) -> None:
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(close.code, close.reason)
            self._transmit()

    # --- The reader task -------------------------------------------------------------

    async def _read_frames(self, events: list[Event]) -> None:
        """Read from the socket until the connection is over, then clean up."""
        try:
            self._transmit()  # e.g. the Pong for a Ping that came right behind the handshake
            await self._handle_events(events)
            while not self.protocol.close_transport():
                data = await self._read()
                if data:
                    self.protocol.receive_data(data)
                else:
                    self.protocol.receive_eof()
                self._transmit()  # automatic Pongs, the answer to a Close frame
                await self._handle_events(self.protocol.events_received())
        except Exception:
            logger.exception("connection #%d: unexpected error while reading", self.id)
            self.protocol.receive_eof()
        finally:
            await self._close_tcp()
            self._finish()

    async def _read(self) -> bytes:
        try:
            data = await self._reader.read(READ_SIZE)
        except (ConnectionError, OSError):  # reset by the peer, TLS error, aborted
            data = b""
        if not data:
            self._eof_received = True
        return data

    async def _handle_events(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Message):
                await self._deliver(event.data)
            elif isinstance(event, Pong):
                self._pong_received(event.payload)
            elif isinstance(event, ConnectionFailed):
                self._log("-", "error", preview=f"failed the connection: {event.code} {event.reason}")
                self._end_of_messages()
            elif isinstance(event, (CloseReceived, ConnectionLost)):
                self._end_of_messages()
            # Ping: the protocol has already queued the Pong (RFC 6455 §5.5.2).

    async def _deliver(self, message: str | bytes) -> None:
        """Put a message in the inbox; when it is full, stop reading until recv() makes room."""
        while len(self._inbox) >= self.max_queue:
            if self.protocol.state is not State.OPEN or self._close_request is not None:
                return  # closing: nobody will read it
            self._inbox_space = self._loop.create_future()
            try:
                await self._inbox_space
            finally:
                self._inbox_space = None
        self._inbox.append(message)
        _wake(self._inbox_waiter)

    def _end_of_messages(self) -> None:
        self._no_more_messages = True
        _wake(self._inbox_waiter)

    def _pong_received(self, payload: bytes) -> None:
        """End the ping with this payload, and every older one (RFC 6455 §5.5.3 lets a
        peer answer only the most recent ping). An unasked-for pong is ignored."""
        if payload not in self._pings:
            return
        now = self._loop.time()
        for key in list(self._pings):
            pong, sent = self._pings.pop(key)
            if not pong.done():
                pong.set_result(now - sent)
            if key == payload:
                self.rtts.append(now - sent)
                self._log("-", "rtt", preview=f"round trip {(now - sent) * 1000:.2f} ms")
                return

    async def _close_tcp(self) -> None:
        """Close the TCP connection. RFC 6455 §7.1.1: the server closes first; the client
        waits (``close_timeout`` at most) for the server to do so."""
        self._transmit()
        if self.protocol.role is Role.CLIENT and not self._eof_received:
            try:
                async with asyncio.timeout(self.close_timeout):
                    while await self._read():
                        pass
            except TimeoutError:
                pass
        self._writer.close()
        try:
            async with asyncio.timeout(self.close_timeout):
                await self._writer.wait_closed()
        except (TimeoutError, ConnectionError, OSError):
            self._writer.transport.abort()

    def _finish(self) -> None:
        """The connection is over: wake everyone who waits, stop the other tasks."""
        if self.protocol.state is not State.CLOSED:
            self.protocol.receive_eof()
        self._end_of_messages()
        _wake(self._inbox_space)
        self._wake_senders()
        closed = self._closed_error()
        for pong, _ in self._pings.values():
            if not pong.done():
                pong.set_exception(closed)
                pong.exception()  # nobody may be waiting any more: mark it retrieved
        self._pings.clear()
        if self._abort_timer is not None:
            self._abort_timer.cancel()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._log("-", "close", preview=str(closed))
        if not self._done.done():
            self._done.set_result(None)

    # --- The heartbeat task ----------------------------------------------------------

    async def _heartbeat(self) -> None:
        """RFC 6455 §5.5.2: a Ping "may serve either as a keepalive or as a means to verify
        that the remote endpoint is still responsive"."""
        assert self.ping_interval is not None
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                async with asyncio.timeout(self.ping_timeout):
                    await self.ping()
            except TimeoutError:
                reason = f"no pong within {self.ping_timeout} s (keepalive ping timeout)"
                self._log("-", "error", preview=f"heartbeat: {reason}")
                self._fail(CloseCode.INTERNAL_ERROR, reason)
                return
            except ConnectionClosed:
                return

    # --- The event log ---------------------------------------------------------------

    def _log(self, direction: Direction, kind: str, *, preview: str) -> None:
        if self.event_log is not None:
            self.event_log.record(self.id, direction, kind, preview=preview)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
