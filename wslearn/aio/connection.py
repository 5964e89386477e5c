"""One open WebSocket connection on asyncio streams, for the server and the client alike.

Theory of operation
-------------------
A :class:`WebSocket` wraps a sans-I/O :class:`~wslearn.protocol.Protocol` (which knows the
rules of RFC 6455) and a pair of asyncio streams (which move bytes). One task runs per
connection for as long as it is open, and a second one only while messages wait to be sent:

* the **reader** task — the only code that reads from the socket. It feeds the bytes to
  the protocol and acts on the events that come out: messages go into the *inbox* that
  :meth:`WebSocket.recv` takes from; pongs end the matching :meth:`WebSocket.ping`; a
  Close frame or a protocol violation ends the connection. When whole messages came
  just before the violation, the reader waits (``close_timeout`` at most) until the
  handler has taken and answered them before the Close frame goes out.
* **sending** — a message goes straight to the socket when nothing is waiting before it:
  the outbox is empty, no message is half written, and the socket keeps up (the
  transport's buffer is not above its high-water mark, the level at which
  ``writer.drain()`` would make us wait). That is the common case, and it costs no task
  switch. Otherwise the message waits in the bounded *outbox*, and a **writer** task,
  started for the occasion, writes the waiting messages one after the other and ends
  when the outbox is empty. ``await writer.drain()`` after each message is the
  back-pressure. Whole messages, in order, either way: the frames of two messages are
  never interleaved (RFC 6455 §5.4), and a fragmented message in progress holds back
  every other message until its last frame is out.
* the **heartbeat** (when ``ping_interval`` is set) — a timer, not a task: every
  ``ping_interval`` seconds a timer callback sends a Ping and sets a second timer of
  ``ping_timeout`` seconds. The Pong cancels that timer and sets the next ping; if the
  timer fires first, the connection fails with 1011 (RFC 6455 §5.5.2: a Ping may serve
  "as a keepalive"). The round trip lands in :attr:`WebSocket.rtts`.

Whatever is sent (a message, an automatic Pong, a Ping, a Close frame) lands in the
protocol's buffer as whole frames; :meth:`WebSocket._transmit` is the one place that
moves that buffer to the socket, so frames are never cut in two.

Limits, so that one bad peer never costs more than its share:

* ``max_queue`` messages wait in the outbox at most. :meth:`send` waits for room (it only
  slows down the task that sends); :meth:`send_nowait`, used for broadcasts, never waits:
  when the transport's buffer is over its high-water mark (64 KiB by default) *and*
  ``max_queue`` messages wait behind it, that peer reads too slowly, and the connection
  is closed with **1013 (try again later)** rather than letting it hold up everyone else.
* ``max_queue`` received messages, and ``max_inbox_size`` bytes of them, wait in the
  inbox at most; then the reader stops reading, so TCP flow control slows the peer down.
  (While it does not read, it sees no Pong either: a handler that never calls
  :meth:`recv` on a chatty peer ends up closed by the heartbeat.)
* a server shares one :class:`MemoryBudget` among its connections: the bytes received
  and not yet taken by :meth:`recv` (inboxes, messages half received). While it is
  spent, a connection that holds nothing reads ``MIN_READ`` bytes at a time (small
  messages keep flowing) and the others wait, so a crowd of peers whose handlers never
  read cannot grow the server beyond it.
* the reader stops reading while the pongs it sent wait in a send buffer above its
  high-water mark, so what we owe a peer that floods pings and never reads stays bounded;
* once the closing handshake starts, the TCP connection is closed after
  ``close_timeout`` seconds whatever the peer does.

An idle connection therefore costs two tasks (the reader, and the server's task that
runs the handler), one timer, and no queue: the inbox and the outbox are created with
their first message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from wslearn.deflate import DeflateParameters
from wslearn.errors import ConnectionClosed
from wslearn.eventlog import REDACTED, Direction, EventLog
from wslearn.frames import Close, CloseCode, Frame, Opcode
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

__all__ = ["MIN_READ", "READ_SIZE", "MemoryBudget", "WebSocket", "frame_tracer", "next_connection_id"]

logger = logging.getLogger("wslearn.aio")

READ_SIZE = 2**18  # bytes asked from the socket at a time
MIN_READ = 2**16  # ... while the server's memory budget is spent (see MemoryBudget)
RTT_HISTORY = 100  # round-trip times kept in WebSocket.rtts
DRAIN_QUIET = 0.2  # seconds without a byte: a peer that cannot get our FIN has stopped sending

_connection_ids = itertools.count(1)


def next_connection_id() -> int:
    """A number that names one connection in logs: 1, 2, 3, ..."""
    return next(_connection_ids)


def frame_tracer(
    event_log: EventLog | None, conn_id: int, *, secret_first_message: bool = False
) -> Trace | None:
    """A ``trace`` callback for :class:`Protocol` that writes every frame to ``event_log``.

    With ``secret_first_message`` the first message received is a credential (an auth
    message): its frames are logged with their headers and sizes, never their payload.
    """
    if event_log is None:
        return None
    if not secret_first_message:
        # Every frame goes straight to the log (partial: no Python function of ours between).
        return cast(Trace, functools.partial(event_log.keep_frame, conn_id))
    log = event_log
    secret: bool = True  # still inside the first message received?

    def trace(direction: str, frame: Frame, raw: bytes, plain: bytes | None = None) -> None:
        nonlocal secret
        if secret and direction == "in" and frame.opcode <= Opcode.BINARY:  # a data frame
            secret = not frame.fin
            header = raw[: len(raw) - len(frame.payload)]
            log.record(
                conn_id,
                "in",
                "frame",
                opcode=frame.opcode.name,
                length=len(frame.payload),
                masked=frame.masking_key is not None,
                preview=REDACTED,
                raw=header,
            )
            return
        log.keep_frame(conn_id, cast(Direction, direction), frame, raw, plain)

    return trace


class MemoryBudget:
    """The bytes a server's connections may hold between the socket and :meth:`WebSocket.recv`.

    Each connection charges what it holds (its inbox, an incomplete frame, the fragments
    of a message in progress) and asks :meth:`full` before it reads; while the budget is
    spent, readers wait in :meth:`wait` until some connection gives bytes back.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._waiters: list[asyncio.Future[None]] = []

    def __repr__(self) -> str:
        return f"<MemoryBudget {self.used} of {self.limit} bytes used>"

    def full(self) -> bool:
        return self.used >= self.limit

    def charge(self, delta: int) -> None:
        """Add what a connection took (``delta > 0``) or gave back (``delta < 0``)."""
        self.used += delta
        if delta < 0 and not self.full():
            for waiter in self._waiters:
                _wake(waiter)

    async def wait(self, waiter: asyncio.Future[None]) -> None:
        """Wait until bytes are given back (or ``waiter`` is woken some other way)."""
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            self._waiters.remove(waiter)


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
        max_inbox_size: int | None = 2**20,
        budget: MemoryBudget | None = None,
        event_log: EventLog | None = None,
    ) -> None:
        self.id = conn_id
        self.protocol = protocol
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.close_timeout = close_timeout
        self.max_queue = max_queue
        self.max_inbox_size = max_inbox_size
        self.event_log = event_log
        self._budget = budget
        self._held = 0  # bytes charged to the budget
        self._budget_waiter: asyncio.Future[None] | None = None  # the reader waits for memory
        self._rtts: deque[float] | None = None  # see the rtts property
        self._reader = reader
        self._writer = writer
        # Above this many bytes in the transport's buffer, drain() would wait: the peer
        # does not keep up, and messages wait in the outbox instead of the socket.
        self._high_water = writer.transport.get_write_buffer_limits()[1]
        self._loop = asyncio.get_running_loop()
        # Received messages, waiting for recv(); created with the first one.
        self._inbox: deque[str | bytes] | None = None
        self._inbox_size = 0  # bytes (characters for text) in the inbox
        self._inbox_waiter: asyncio.Future[None] | None = None  # recv() waits for a message
        self._inbox_space: asyncio.Future[None] | None = None  # the reader waits for room
        self._handler_idle: asyncio.Future[None] | None = None  # ... for recv() to wait again
        self._no_more_messages = False
        # Messages waiting to be sent, and the writer task that sends them (both only
        # while there are some).
        self._outbox: deque[_Outgoing] | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self._senders_waiting: list[asyncio.Future[None]] = []  # send() calls wait for room
        self._close_request: Close | None = None
        # Pings waiting for their pong: payload -> (future of ping(), or None for the
        # heartbeat's own ping; time sent).
        self._pings: dict[bytes, tuple[asyncio.Future[float] | None, float]] = {}
        self._heartbeat: asyncio.TimerHandle | None = None  # the next ping, or its timeout
        self._eof_received = False
        self._close_frame_received = False  # the peer's Close frame: nothing follows it
        self._abort_timer: asyncio.TimerHandle | None = None
        self._done: asyncio.Future[None] = self._loop.create_future()
        self._reader_task: asyncio.Task[None] | None = None

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
    def extensions(self) -> str:
        """The agreed ``Sec-WebSocket-Extensions`` (RFC 6455 §9), "" when none."""
        return self.protocol.extensions

    @property
    def deflate(self) -> DeflateParameters | None:
        """The agreed permessage-deflate parameters (RFC 7692 §7.1), None without compression."""
        return self.protocol.deflate.params if self.protocol.deflate is not None else None

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

    @property
    def rtts(self) -> deque[float]:
        """Round-trip times of pings (the heartbeat's and :meth:`ping`'s), in seconds, the
        latest ``RTT_HISTORY``. Created on first use: most connections never need it."""
        if self._rtts is None:
            self._rtts = deque(maxlen=RTT_HISTORY)
        return self._rtts

    # --- Starting --------------------------------------------------------------------

    def start(self, events: Iterable[Event] = ()) -> None:
        """Start the reader task and the heartbeat timer.

        ``events`` are those that arrived together with the end of the opening handshake
        (a peer may send frames right behind it).
        """
        extensions = f" extensions={self.extensions}" if self.extensions else ""
        self._log("-", "open", preview=f"{self.path} subprotocol={self.subprotocol}{extensions}")
        self._reader_task = asyncio.create_task(self._read_frames(list(events)))
        self._schedule_keepalive()

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
        assert self._inbox  # _wait_for_message() returns once a message is there
        message = self._inbox.popleft()
        self._inbox_size -= len(message)
        self._account()
        _wake(self._inbox_space)
        return message

    async def _wait_for_message(self) -> None:
        while not self._inbox:
            if self._no_more_messages:
                raise self._closed_error()
            self._inbox_waiter = self._loop.create_future()
            _wake(self._handler_idle)
            try:
                await self._inbox_waiter
            finally:
                self._inbox_waiter = None

    def __aiter__(self) -> WebSocket:
        """``async for message in ws``: ends quietly after a 1000, 1001 or 1005 close."""
        return self

    async def __anext__(self) -> str | bytes:
        try:
            return await self.recv()
        except ConnectionClosed as closed:
            if closed.ok:
                raise StopAsyncIteration from None
            raise

    # --- Sending ---------------------------------------------------------------------

    async def send(self, message: str | bytes) -> None:
        """Send one message: a ``str`` as a text frame, ``bytes`` as a binary frame.

        Waits while ``max_queue`` messages are already waiting to be written, and while
        the socket does not keep up.
        """
        item = self._outgoing(message)
        if self._can_write_now():
            self._write_whole(item)
            await self._drain()
            return
        while self._outbox_full():
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
        while self._outbox_full():
            await self._wait_for_room()
            self._check_can_send()
        self._queue(_Fragments(parts))  # the writer task sends it, frame after frame

    def send_nowait(self, message: str | bytes) -> None:
        """Send or queue a message without waiting: the method broadcasts use.

        When the socket does not keep up and ``max_queue`` messages are already waiting,
        this peer reads more slowly than we send, and it must not hold up anyone else:
        the connection is closed with 1013 (try again later) and
        :class:`ConnectionClosed` is raised.
        """
        item = self._outgoing(message)
        if self._can_write_now():
            self._write_whole(item)
        elif not self._outbox_full():
            self._queue(item)
        else:
            reason = f"too slow: {self.max_queue} messages were waiting to be sent"
            self._log("-", "error", preview=f"send queue full, closing with 1013 ({reason})")
            self._outbox = None
            self._start_closing(CloseCode.TRY_AGAIN_LATER, reason)
            raise ConnectionClosed(CloseCode.TRY_AGAIN_LATER, reason, "local")

    def _can_write_now(self) -> bool:
        """May a message go straight to the socket? Only when no message waits before it
        (no writer task: the outbox is empty and no message is half written) and the
        socket keeps up (its buffer is not above the high-water mark)."""
        return (
            self._writer_task is None and self._writer.transport.get_write_buffer_size() <= self._high_water
        )

    async def _drain(self) -> None:
        """``writer.drain()``, but a socket that broke under the write (reset by the peer)
        raises :class:`ConnectionClosed` like any other end of the connection: a handler
        written to catch ConnectionClosed is enough. The reader sees the end and cleans up."""
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            if self.protocol.closed is not None:
                raise self.protocol.closed from None
            reason = f"the connection broke while sending ({exc.strerror or type(exc).__name__})"
            raise ConnectionClosed(CloseCode.ABNORMAL_CLOSURE, reason, "nobody") from None

    def _outbox_full(self) -> bool:
        return self._outbox is not None and len(self._outbox) >= self.max_queue

    def _queue(self, item: _Outgoing) -> None:
        """Put a message in the outbox; start the writer task if it is not running."""
        if self._outbox is None:
            self._outbox = deque()
        self._outbox.append(item)
        if self._writer_task is None:
            self._writer_task = asyncio.create_task(self._write_messages())

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
        if isinstance(message, str) and not message.isascii():
            _check_encodable(message)  # here, not in the writer task, which would die of it
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
        self._transmit()  # a control frame may go between the frames of a message (§5.4)
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
            if self._writer_task is None:
                self._send_close_frame(close)  # else the writer sends it after the outbox
            _wake(self._inbox_space)  # the reader must not wait for recv() any more
            _wake(self._budget_waiter)  # ... nor for memory: it reads the peer's Close
            _wake(self._handler_idle)
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
        _wake(self._handler_idle)
        self._transmit()
        self._writer.close()  # the peer does not answer (the heartbeat): no use waiting for it
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

    def _transmit(self) -> bool:
        """Write whatever the protocol has queued (whole frames) to the socket; True if
        there was something."""
        data = self.protocol.data_to_send()
        if data and not self._writer.is_closing():
            self._writer.write(data)
        return bool(data)

    def _write_whole(self, message: str | bytes) -> None:
        """One message in one frame, straight to the socket."""
        if isinstance(message, str):
            self.protocol.send_text(message)
        else:
            self.protocol.send_binary(message)
        self._transmit()

    # --- The writer task (only while messages wait) ----------------------------------

    async def _write_messages(self) -> None:
        """Send the queued messages one at a time; then, if asked, the Close frame."""
        try:
            while self._outbox:
                item = self._outbox.popleft()
                self._wake_senders()
                if isinstance(item, _Fragments):
                    await self._write_fragments(item.parts)
                else:
                    self._write_whole(item)
                    await self._writer.drain()
            if self._close_request is not None:
                self._send_close_frame(self._close_request)
        except (ConnectionClosed, ConnectionError, OSError):
            pass  # the reader sees the end of the connection and cleans up
        finally:
            self._writer_task = None  # from here on, messages go straight to the socket

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
                if self.protocol.failure_pending:
                    await self._fail_after_the_handler()
                    self._account()
                    continue
                size = await self._room_to_read()
                try:
                    data = await self._reader.read(size)
                except (ConnectionError, OSError):  # reset by the peer, TLS error, aborted
                    data = b""
                if data:
                    self.protocol.receive_data(data)
                else:
                    self._eof_received = True
                    self.protocol.receive_eof()
                answered = self._transmit()  # automatic Pongs, the answer to a Close frame
                await self._handle_events(self.protocol.events_received())
                self._account()
                if answered:
                    await self._wait_for_peer_to_read()
        except Exception:
            logger.exception("connection #%d: unexpected error while reading", self.id)
            self.protocol.receive_eof()
        finally:
            await self._close_tcp()
            self._finish()

    async def _room_to_read(self) -> int:
        """How many bytes to read next: READ_SIZE, unless the server's memory budget is
        spent. Then a connection that holds nothing reads MIN_READ bytes (a small message
        still gets through), and one that holds something waits for memory."""
        while self._budget is not None and self._budget.full() and self._close_request is None:
            if self._held == 0:
                return MIN_READ
            self._budget_waiter = self._loop.create_future()
            try:
                await self._budget.wait(self._budget_waiter)
            finally:
                self._budget_waiter = None
        return READ_SIZE

    def _account(self) -> None:
        """Tell the budget what this connection holds now."""
        if self._budget is not None:
            held = self._inbox_size + self.protocol.bytes_held
            self._budget.charge(held - self._held)
            if held < self._held:
                _wake(self._budget_waiter)  # our own reader may go on (it may hold nothing now)
            self._held = held

    async def _wait_for_peer_to_read(self) -> None:
        """After answering (pongs, above all), stop reading while the answers wait unsent:
        a peer that floods pings and never reads would otherwise grow our send buffer
        forever. (Only after answers: two peers that both send a lot before reading must
        not wait for each other.)"""
        if self._writer.transport.get_write_buffer_size() > self._high_water:
            with contextlib.suppress(ConnectionError, OSError):  # the next read sees the end
                await self._writer.drain()

    async def _fail_after_the_handler(self) -> None:
        """Valid messages came just before a protocol violation: let the handler answer
        them, then fail (the protocol's next events_received() does)."""
        await self._wait_for_the_handler()
        events = self.protocol.events_received()
        self._transmit()  # the Close frame
        await self._handle_events(events)

    async def _wait_for_the_handler(self) -> None:
        """Wait until the handler has taken every message and waits in recv() for the
        next one (so it has answered them), or closes; ``close_timeout`` seconds at most."""
        try:
            async with asyncio.timeout(self.close_timeout):
                while self._handler_busy() and self.protocol.failure_pending:
                    self._handler_idle = self._loop.create_future()
                    try:
                        await self._handler_idle
                    finally:
                        self._handler_idle = None
        except TimeoutError:
            pass

    def _handler_busy(self) -> bool:
        return (bool(self._inbox) or self._inbox_waiter is None) and self._close_request is None

    async def _read(self) -> bytes:
        """Read what has arrived, ``b""`` at the end (used while closing)."""
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
            elif isinstance(event, CloseReceived):
                self._close_frame_received = True
                self._end_of_messages()
            elif isinstance(event, ConnectionLost):
                self._end_of_messages()
            # Ping: the protocol has already queued the Pong (RFC 6455 §5.5.2).

    async def _deliver(self, message: str | bytes) -> None:
        """Put a message in the inbox; when it is full, stop reading until recv() makes room."""
        if self._inbox is None:
            self._inbox = deque()
        while len(self._inbox) >= self.max_queue or self._inbox_full():
            if self.protocol.state is not State.OPEN or self._close_request is not None:
                return  # closing: nobody will read it
            self._inbox_space = self._loop.create_future()
            try:
                await self._inbox_space
            finally:
                self._inbox_space = None
        self._inbox.append(message)
        self._inbox_size += len(message)
        self._account()
        _wake(self._inbox_waiter)

    def _inbox_full(self) -> bool:
        return self.max_inbox_size is not None and self._inbox_size >= self.max_inbox_size

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
            if pong is None:
                self._keepalive_answered()
            elif not pong.done():
                pong.set_result(now - sent)
            if key == payload:
                self.rtts.append(now - sent)
                self._log("-", "rtt", preview=f"round trip {(now - sent) * 1000:.2f} ms")
                return

    async def _close_tcp(self) -> None:
        """Close the TCP connection. RFC 6455 §7.1.1: the server closes first; the client
        waits (``close_timeout`` at most) for the server to do so.

        A server that failed the connection (or got no Close frame) may have unread bytes
        from a peer that is still sending; closing the socket then makes the kernel answer
        with a reset, which can destroy our Close frame before the peer reads it, and the
        peer sees 1006 instead of our code. So it half-closes (FIN) first, reads and
        drops what still comes until the peer closes too (``close_timeout`` at most), and
        only then closes, as for an HTTP error answer. TLS cannot half-close: there it
        drops what comes until the peer stops sending (it has read our Close frame, sent
        its own and waits), that is ``DRAIN_QUIET`` seconds without a byte.
        """
        self._transmit()
        client = self.protocol.role is Role.CLIENT
        if not self._eof_received and (client or not self._close_frame_received):
            half_closed = not client and self._writer.can_write_eof() and not self._writer.is_closing()
            if half_closed:
                self._writer.write_eof()  # FIN after our Close frame; we still read
            await self._discard_until_eof(quiet=None if client or half_closed else DRAIN_QUIET)
        self._writer.close()
        try:
            async with asyncio.timeout(self.close_timeout):
                await self._writer.wait_closed()
        except (TimeoutError, ConnectionError, OSError):
            self._writer.transport.abort()

    async def _discard_until_eof(self, quiet: float | None) -> None:
        """Read and drop until EOF, or ``quiet`` seconds without a byte; ``close_timeout``
        seconds at most."""
        try:
            async with asyncio.timeout(self.close_timeout):
                while True:
                    async with asyncio.timeout(quiet):
                        if not await self._read():
                            return
        except TimeoutError:
            pass

    def _finish(self) -> None:
        """The connection is over: wake everyone who waits, stop the writer and the timers."""
        if self.protocol.state is not State.CLOSED:
            self.protocol.receive_eof()
        self._end_of_messages()
        if self._budget is not None:  # it reads no more: its share goes back to the others
            self._budget.charge(-self._held)
            self._held = 0
            self._budget = None
        _wake(self._inbox_space)
        self._wake_senders()
        closed = self._closed_error()
        for pong, _ in self._pings.values():
            if pong is not None and not pong.done():
                pong.set_exception(closed)
                pong.exception()  # nobody may be waiting any more: mark it retrieved
        self._pings.clear()
        for timer in (self._abort_timer, self._heartbeat):
            if timer is not None:
                timer.cancel()
        self._heartbeat = None
        if self._writer_task is not None:
            self._writer_task.cancel()
        self._log("-", "close", preview=str(closed))
        if not self._done.done():
            self._done.set_result(None)

    # --- The heartbeat: two timers, one after the other -------------------------------
    # RFC 6455 §5.5.2: a Ping "may serve either as a keepalive or as a means to verify
    # that the remote endpoint is still responsive".

    def _schedule_keepalive(self) -> None:
        """Send the next keepalive Ping ``ping_interval`` seconds from now."""
        if self.ping_interval is not None and not self._done.done():
            self._heartbeat = self._loop.call_later(self.ping_interval, self._send_keepalive)

    def _send_keepalive(self) -> None:
        """Timer callback: send a Ping, then give the Pong ``ping_timeout`` seconds."""
        self._heartbeat = None
        payload = os.urandom(4)
        try:
            self.protocol.send_ping(payload)
        except ConnectionClosed:
            return  # the connection is closing: no more keepalives
        self._pings[payload] = (None, self._loop.time())
        self._transmit()
        if self.ping_timeout is not None:
            self._heartbeat = self._loop.call_later(self.ping_timeout, self._keepalive_timed_out)

    def _keepalive_answered(self) -> None:
        """The Pong came back in time: stop waiting for it, plan the next Ping."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        self._schedule_keepalive()

    def _keepalive_timed_out(self) -> None:
        """Timer callback: no Pong within ``ping_timeout``: fail with 1011."""
        self._heartbeat = None
        reason = f"no pong within {self.ping_timeout} s (keepalive ping timeout)"
        self._log("-", "error", preview=f"heartbeat: {reason}")
        self._fail(CloseCode.INTERNAL_ERROR, reason)

    # --- The event log ---------------------------------------------------------------

    def _log(self, direction: Direction, kind: str, *, preview: str) -> None:
        if self.event_log is not None:
            self.event_log.record(self.id, direction, kind, preview=preview)


def _check_encodable(text: str) -> None:
    """A text message is UTF-8 on the wire (RFC 6455 §5.6): a ``str`` with a lone surrogate
    (``"\\ud800"``, e.g. from JSON) has no UTF-8 form. ValueError, naming where it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        raise ValueError(
            f"a text message must be valid Unicode: lone surrogate U+{code:04X} at position {exc.start}"
        ) from None


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
