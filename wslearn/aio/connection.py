"""One open WebSocket connection on asyncio streams, for the server and the client alike.

Theory of operation
-------------------
A :class:`WebSocket` wraps a sans-I/O :class:`~wslearn.protocol.Protocol` (which knows the
rules of RFC 6455) and a pair of asyncio streams (which move bytes). One task runs per
connection for as long as it is open, and three small parts do the rest:

* the **reader** task — the only code that reads from the socket. It feeds the bytes to
  the protocol and acts on the events that come out: messages go into the
  :class:`~wslearn.aio.inbox.Inbox` that :meth:`WebSocket.recv` takes from; pongs go to
  the :class:`~wslearn.aio.heartbeat.Heartbeat`; a Close frame or a protocol violation
  ends the connection. When whole messages came just before the violation, the reader
  waits (``close_timeout`` at most) until the handler has taken and answered them before
  the Close frame goes out.
* **sending** — every message leaves through :meth:`WebSocket._send`: it waits for its
  turn (one message at a time, in order), then each of its frames goes to the protocol
  and to the socket, and ``await writer.drain()`` after each frame is the back-pressure (it waits
  while the socket's buffer is above its high-water mark). The frames of two messages are
  never interleaved (RFC 6455 §5.4). There is no send queue and no writer task: the
  socket's own buffer is the queue. (:meth:`WebSocket.send_nowait`, for broadcasts,
  writes the same frame without waiting: a labelled shortcut.)
* the **heartbeat** (when ``ping_interval`` is set) — a timer, not a task: a Ping every
  ``ping_interval`` seconds; if its Pong does not come within ``ping_timeout``, the
  connection fails with 1011 (RFC 6455 §5.5.2: a Ping may serve "as a keepalive").

Whatever is sent (a message, an automatic Pong, a Ping, a Close frame) lands in the
protocol's buffer as whole frames; :meth:`WebSocket._transmit` is the one place that
moves that buffer to the socket, so frames are never cut in two.

Limits, so that one bad peer never costs more than its share:

* :meth:`send` waits while the socket does not keep up (it only slows down the task that
  sends); :meth:`send_nowait`, used for broadcasts, never waits: when ``max_queue``
  messages were written after the transport's buffer went over its high-water mark
  (64 KiB by default), that peer reads too slowly, and the connection is closed with
  **1013 (try again later)** rather than letting it hold up everyone else or grow the
  buffer without end.
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
runs the handler), one timer, and no queue: the inbox allocates with
its first message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import os
from collections import deque
from collections.abc import Iterable, Sequence
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

from .heartbeat import RTT_HISTORY, Heartbeat
from .inbox import Inbox

__all__ = [
    "MIN_READ",
    "READ_SIZE",
    "RTT_HISTORY",
    "MemoryBudget",
    "WebSocket",
    "frame_tracer",
    "next_connection_id",
]

logger = logging.getLogger("wslearn.aio")

READ_SIZE = 2**18  # bytes asked from the socket at a time
MIN_READ = 2**16  # ... while the server's memory budget is spent (see MemoryBudget)
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
        self.close_timeout = close_timeout
        self.max_queue = max_queue
        self.event_log = event_log
        self._reader = reader
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        self._inbox = Inbox(self._loop, max_queue, max_inbox_size)
        self._heartbeat = Heartbeat(
            self._loop, self._send_ping, self._keepalive_failed, interval=ping_interval, timeout=ping_timeout
        )
        # Sending (see _send): one message at a time, in line. Above `_high_water` bytes in the
        # transport's buffer, drain() waits: the peer does not keep up; `_behind` counts the
        # messages send_nowait() wrote since then (its policy for slow readers).
        self._line: deque[asyncio.Future[None]] | None = None  # messages sending or waiting
        self._high_water = writer.transport.get_write_buffer_limits()[1]
        self._behind = 0
        self._budget = budget
        self._held = 0  # bytes charged to the budget
        self._budget_waiter: asyncio.Future[None] | None = None  # the reader waits for memory
        self._close_request: Close | None = None  # close() was called, with this code
        self._eof_received = False
        self._close_frame_received = False  # the peer's Close frame: nothing follows it
        self._abort_timer: asyncio.TimerHandle | None = None
        self._reader_task: asyncio.Task[None] | None = None  # done: the connection is over

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
        latest ``RTT_HISTORY``."""
        return self._heartbeat.rtts

    @property
    def buffered_amount(self) -> int:
        """Bytes sent but not yet handed to the network (the browser's ``bufferedAmount``)."""
        return self._writer.transport.get_write_buffer_size()

    # --- Starting --------------------------------------------------------------------

    def start(self, events: Iterable[Event] = ()) -> None:
        """Start the reader task and the heartbeat timer.

        ``events`` are those that arrived together with the end of the opening handshake
        (a peer may send frames right behind it).
        """
        extensions = f" extensions={self.extensions}" if self.extensions else ""
        self._log("-", "open", preview=f"{self.path} subprotocol={self.subprotocol}{extensions}")
        self._reader_task = asyncio.create_task(self._read_frames(list(events)))
        self._heartbeat.start()

    # --- Receiving -------------------------------------------------------------------

    async def recv(self, timeout: float | None = None) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary.

        Raises :class:`ConnectionClosed` once the connection is over and every message
        received before has been returned, and ``TimeoutError`` after ``timeout`` seconds
        with no message (the connection stays open).
        """
        if timeout is None or self._inbox:
            message = await self._inbox.get()
        else:
            async with asyncio.timeout(timeout):
                message = await self._inbox.get()
        if message is None:
            raise self._closed_error()
        self._account()
        return message

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

        Returns once the frame is written; waits while the socket does not keep up.
        """
        message = self._outgoing(message)
        if self._line is not None:
            await self._send((message,))
        else:
            # SHORTCUT of _send((message,)), for speed (getting in line costs about 1 µs a
            # message): with no message in line, _send's turn would come at once, and one
            # frame is written in one step that nothing can come between. So: the same
            # frame, then the same drain(), without the line. tests/test_aio_send_path.py
            # checks that send(), send_fragments([m]) and send_nowait() put the same bytes on
            # the wire; `python -m bench --only echo` measures the difference.
            self._write_frame(message)
            await self._drain()

    async def send_fragments(self, fragments: Iterable[str] | Iterable[bytes]) -> None:
        """Send one message split into frames, one frame per fragment (RFC 6455 §5.4)."""
        parts = tuple(self._outgoing(part) for part in fragments)
        if not parts:
            raise ValueError("send_fragments() needs at least one fragment")
        if len({type(part) for part in parts}) > 1:
            raise TypeError("fragments must be all str (text) or all bytes (binary)")
        await self._send(parts)

    async def _send(self, parts: Sequence[str | bytes], turn: asyncio.Future[None] | None = None) -> None:
        """How every message leaves: it waits for its turn in line, then each of its frames
        goes through the protocol to the socket, followed by ``drain()``, which waits while
        the socket does not keep up.

        * RFC 6455 §5.6: ``str`` is a text message (opcode 0x1, UTF-8), ``bytes`` a binary
          one (0x2). §5.4: a message of several parts is a first frame with FIN = 0, then
          CONTINUATION frames (0x0), the last with FIN = 1.
        * §5.4: the frames of two messages are never interleaved: one message at a time,
          in the order the senders came. Control frames (Pongs, Pings, a Close for a slow
          reader) do not wait in line: §5.4 lets them go in between.
        * §5.3 (a client masks every frame) and any extension's transformation of the
          payload (§9) happen in the protocol: this function does not change for them.
        """
        if turn is None:
            turn = self._get_in_line()
        try:
            await turn  # the messages ahead of this one have left
            last = len(parts) - 1
            for index, part in enumerate(parts):
                self._write_frame(part, first=index == 0, fin=index == last)
                await self._drain()
        finally:
            self._leave_line(turn)

    def _get_in_line(self) -> asyncio.Future[None]:
        """A turn behind the messages already in line; done at once when there are none."""
        turn: asyncio.Future[None] = self._loop.create_future()
        if self._line is None:
            self._line = deque()
        self._line.append(turn)
        if len(self._line) == 1:
            turn.set_result(None)
        return turn

    def _leave_line(self, turn: asyncio.Future[None]) -> None:
        """This message has left (or given up): the next one's turn."""
        assert self._line is not None
        self._line.remove(turn)
        if self._line:
            _wake(self._line[0])
        else:
            self._line = None  # no message in line: the shortcuts may write at once

    def _write_frame(self, part: str | bytes, *, first: bool = True, fin: bool = True) -> None:
        """One frame of a message, through the protocol, to the socket."""
        if not first:
            self.protocol.send_continuation(part.encode("utf-8") if isinstance(part, str) else part, fin=fin)
        elif isinstance(part, str):
            self.protocol.send_text(part, fin=fin)
        else:
            self.protocol.send_binary(part, fin=fin)
        self._transmit()

    def send_nowait(self, message: str | bytes) -> None:
        """Send a message without waiting: the method broadcasts use.

        When the socket does not keep up and ``max_queue`` messages were already written
        behind it, this peer reads more slowly than we send, and it must not hold up
        anyone else nor grow our buffer without end: the connection is closed with 1013
        (try again later) and :class:`ConnectionClosed` is raised.
        """
        message = self._outgoing(message)
        if self._too_slow():
            reason = f"too slow: {self.max_queue} messages were waiting to be sent"
            self._log("-", "error", preview=f"send queue full, closing with 1013 ({reason})")
            self._start_closing(CloseCode.TRY_AGAIN_LATER, reason)
            raise ConnectionClosed(CloseCode.TRY_AGAIN_LATER, reason, "local")
        if self._line is not None:  # a message is half sent: this one gets in line behind it
            asyncio.create_task(self._send((message,), self._get_in_line())).add_done_callback(_retrieve)
        else:
            # SHORTCUT of _send((message,)), as in send(); and a broadcast does not wait for
            # drain() (it writes to a thousand sockets), so no coroutine either.
            self._write_frame(message)

    def _too_slow(self) -> bool:
        """send_nowait's policy: more than ``max_queue`` messages were written since the
        socket stopped keeping up (its buffer went over the high-water mark, or a message
        is half sent)."""
        if self.buffered_amount <= self._high_water and self._line is None:
            self._behind = 0
            return False
        self._behind += 1
        return self._behind > self.max_queue

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

    def _outgoing(self, message: str | bytes) -> str | bytes:
        if isinstance(message, (bytearray, memoryview)):
            message = bytes(message)
        if not isinstance(message, (str, bytes)):
            raise TypeError(f"a message is str (text) or bytes (binary), not {type(message).__name__}")
        if isinstance(message, str) and not message.isascii():
            _check_encodable(message)  # here, before any frame of the message is written
        self._check_can_send()
        return message

    def _check_can_send(self) -> None:
        if self._close_request is not None or self.protocol.state is not State.OPEN:
            raise self._closed_error()

    # --- Pings -----------------------------------------------------------------------

    async def ping(self, data: bytes | None = None) -> float:
        """Send a Ping and wait for its Pong; returns the round-trip time in seconds.

        ``data`` (at most 125 bytes) is the ping's payload, echoed by the pong (RFC 6455
        §5.5.3); by default 4 random bytes, so that each ping is told apart.
        """
        payload = os.urandom(4) if data is None else bytes(data)
        pong = self._heartbeat.ping(payload)
        try:
            return await asyncio.shield(pong)
        finally:
            self._heartbeat.forget(payload)

    def _send_ping(self, payload: bytes) -> None:
        """A Ping frame, now: a control frame may go between the frames of a message (§5.4)."""
        self.protocol.send_ping(payload)  # ConnectionClosed when not OPEN, ValueError if > 125
        self._transmit()

    def _keepalive_failed(self, reason: str) -> None:
        self._log("-", "error", preview=f"heartbeat: {reason}")
        self._fail(CloseCode.INTERNAL_ERROR, reason)

    # --- Closing ---------------------------------------------------------------------

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Close the connection with the closing handshake (RFC 6455 §7.1.2).

        A message being sent, and those whose send() came before, go first, then our
        Close frame; then we wait for the peer's Close frame and the end of TCP,
        ``close_timeout`` seconds at most, after which the TCP connection is dropped.
        """
        close = Close(code, reason)
        close.serialize()  # ValueError now, for a code not allowed on the wire (RFC 6455 §7.4)
        if self.protocol.state is State.OPEN and self._close_request is None:
            self._close_request = close  # send() fails from now on
            self._schedule_abort()
            self._inbox.wake_reader()  # the reader must not wait for recv() any more
            _wake(self._budget_waiter)  # ... nor for memory: it reads the peer's Close
            turn = self._get_in_line()  # the messages in line go first
            try:
                await turn
                self._send_close_frame(close)
            finally:
                self._leave_line(turn)
        await self.wait_closed()

    async def wait_closed(self) -> None:
        """Wait until the TCP connection is closed (and the reader task has cleaned up)."""
        if self._reader_task is not None:
            await asyncio.shield(self._reader_task)

    def _send_close_frame(self, close: Close) -> None:
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(close.code, close.reason)
            self._transmit()

    def _start_closing(self, code: int, reason: str) -> None:
        """Send a Close frame now, even between the frames of a message (used for 1013)."""
        if self.protocol.state is State.OPEN:
            self._close_request = Close(code, reason)
            self._send_close_frame(self._close_request)
            self._schedule_abort()

    def _fail(self, code: int, reason: str) -> None:
        """_Fail the WebSocket Connection_ (RFC 6455 §7.1.7): Close frame, then close TCP."""
        self.protocol.fail(code, reason)
        self._inbox.wake_reader()
        self._transmit()
        self._writer.close()  # the peer does not answer (the heartbeat): no use waiting for it
        self._schedule_abort()

    def _schedule_abort(self) -> None:
        """Whatever the peer does, drop TCP ``close_timeout`` seconds from now."""
        if self._abort_timer is None and not (self._reader_task is not None and self._reader_task.done()):
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

    # --- The reader task -------------------------------------------------------------

    async def _read_frames(self, events: list[Event]) -> None:
        """Read from the socket until the connection is over, then clean up."""
        try:
            while True:
                # Automatic Pongs, the answer to a Close frame, the Close frame of a failure.
                answered = self._transmit()
                await self._handle_events(events)
                self._account()
                if answered:
                    await self._wait_for_peer_to_read()
                if self.protocol.close_transport():
                    break
                if self.protocol.failure_pending:
                    # Valid messages came just before a protocol violation: let the handler
                    # answer them; then the protocol's events_received() fails.
                    await self._wait_for_the_handler()
                else:
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
                events = self.protocol.events_received()
        except Exception:
            logger.exception("connection #%d: unexpected error while reading", self.id)
            self.protocol.receive_eof()
        finally:
            await self._close_tcp()
            self._finish()

    async def _read(self) -> bytes:
        """Read what has arrived, ``b""`` at the end (used while closing)."""
        try:
            data = await self._reader.read(READ_SIZE)
        except (ConnectionError, OSError):  # reset by the peer, TLS error, aborted
            data = b""
        if not data:
            self._eof_received = True
        return data

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
            held = self._inbox.size + self.protocol.bytes_held
            self._budget.charge(held - self._held)
            if held < self._held:
                _wake(self._budget_waiter)  # our own reader may go on (it may hold nothing now)
            self._held = held

    async def _wait_for_peer_to_read(self) -> None:
        """After answering (pongs, above all), stop reading while the answers wait unsent:
        a peer that floods pings and never reads would otherwise grow our send buffer
        forever. (Only after answers: two peers that both send a lot before reading must
        not wait for each other.)"""
        if self.buffered_amount > self._high_water:
            with contextlib.suppress(ConnectionError, OSError):  # the next read sees the end
                await self._writer.drain()

    async def _wait_for_the_handler(self) -> None:
        """Wait until the handler has taken every message and waits in recv() for the
        next one (so it has answered them), or closes; ``close_timeout`` seconds at most."""
        try:
            async with asyncio.timeout(self.close_timeout):
                while self.protocol.failure_pending and self._close_request is None:
                    if not self._inbox.handler_busy():
                        return
                    await self._inbox.wait_for_handler()
        except TimeoutError:
            pass

    async def _handle_events(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Message):
                await self._deliver(event.data)
            elif isinstance(event, Pong):
                rtt = self._heartbeat.pong_received(event.payload)
                if rtt is not None:
                    self._log("-", "rtt", preview=f"round trip {rtt * 1000:.2f} ms")
            elif isinstance(event, ConnectionFailed):
                self._log("-", "error", preview=f"failed the connection: {event.code} {event.reason}")
                self._inbox.end()
            elif isinstance(event, CloseReceived):
                self._close_frame_received = True
                self._inbox.end()
            elif isinstance(event, ConnectionLost):
                self._inbox.end()
            # Ping: the protocol has already queued the Pong (RFC 6455 §5.5.2).

    async def _deliver(self, message: str | bytes) -> None:
        """Put a message in the inbox; when it is full, stop reading until recv() makes room."""
        while self._inbox.full():
            if self.protocol.state is not State.OPEN or self._close_request is not None:
                return  # closing: nobody will read it
            await self._inbox.wait_for_room()
        self._inbox.put(message)
        self._account()

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
        """The connection is over: wake everyone who waits, stop the timers."""
        if self.protocol.state is not State.CLOSED:
            self.protocol.receive_eof()
        self._inbox.end()
        if self._budget is not None:  # it reads no more: its share goes back to the others
            self._budget.charge(-self._held)
            self._held = 0
            self._budget = None
        closed = self._closed_error()
        self._heartbeat.stop(closed)
        if self._abort_timer is not None:
            self._abort_timer.cancel()
        self._log("-", "close", preview=str(closed))

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


def _retrieve(task: asyncio.Task[None]) -> None:
    """A message sent in a task of its own (see send_nowait): nobody waits for it, so its
    end (the connection closed under it) is taken here, not reported as never retrieved."""
    if not task.cancelled():
        task.exception()


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
