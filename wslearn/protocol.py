"""A WebSocket connection as a state machine, with no I/O (RFC 6455 §4–§7).

Theory of operation
-------------------
A :class:`Protocol` object is one end of one WebSocket connection, client or server.
It never touches a socket. Whoever owns the socket (an asyncio server, a notebook cell,
a test) moves bytes in and out:

1. bytes read from the network go in with :meth:`Protocol.receive_data`; the end of the
   stream with :meth:`Protocol.receive_eof`;
2. what those bytes meant comes out of :meth:`Protocol.events_received`: a handshake
   request or response, a message, a ping, a Close, a failure;
3. the application acts with ``send_text``, ``send_ping``, ``send_close``, ...;
4. the bytes to write to the network come out of :meth:`Protocol.data_to_send`, and
   :meth:`Protocol.close_transport` says when to close the TCP connection.

What may happen in each state, and where the state goes, is one table, :data:`TABLE`
(:data:`TRANSITIONS` is its part that changes the state). This diagram is printed from it
by :func:`diagram` (a test keeps the two equal)::

    CONNECTING
        request sent                           ──▶ CONNECTING
        handshake accepted                     ──▶ OPEN
        handshake failed, fail, eof            ──▶ CLOSED
    OPEN
        message sent, control sent             ──▶ OPEN
        close sent                             ──▶ CLOSING
        close received, fail, eof              ──▶ CLOSED
    CLOSING
        close received, fail, eof              ──▶ CLOSED
    CLOSED
        (the end: nothing happens any more)

When the peer starts the closing handshake we answer at once with our own Close frame
(echoing its code and reason, RFC 6455 §5.5.1), so ``close received`` in OPEN goes
straight to CLOSED, and CLOSING always means "our Close is sent, we wait for theirs".
Anything the table does not list is refused with an error that says what the state
allows (:meth:`Protocol._transition`).

An extension may change the payload of data frames (RFC 6455 §9). The one wslearn knows
is permessage-deflate (RFC 7692, :mod:`wslearn.deflate`): a client offers it with
``deflate_offers``, a server accepts an offer when it has a ``deflate_config``, and once
it is agreed (:attr:`Protocol.deflate`) every received data frame is decompressed before
the assembler sees it, and every message sent is compressed, RSV1 on its first frame.

A peer that breaks a rule may have sent whole, valid messages just before, in the same
read. They are delivered first: ``events_received()`` returns them while the failure
waits (:attr:`Protocol.failure_pending`), and the *next* call fails the connection, so
the application can answer every message that was complete before the violation.
"""

from __future__ import annotations

import enum
import os
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .assembler import Assembler, Message
from .deflate import DeflateOffer, MessageEncoder, PerMessageDeflate, ServerDeflateConfig
from .deflate import accept as accept_deflate
from .errors import Closer, ConnectionClosed, HandshakeError, ProtocolError
from .frames import (
    MAX_CONTROL_PAYLOAD,
    Close,
    CloseCode,
    Frame,
    FrameHeader,
    Opcode,
    apply_mask,
    parse_frame,
    parse_header,
    serialize_frame,
)
from .handshake import (
    MAX_HEADER_SIZE,
    Request,
    Response,
    agreed_deflate,
    build_accept_response,
    build_error_response,
    build_request,
    check_request,
    check_response,
    generate_key,
    head_ends_in,
    offered_subprotocols,
    select_subprotocol,
)

__all__ = [
    "TABLE",
    "TRANSITIONS",
    "CloseReceived",
    "ConnectionFailed",
    "ConnectionLost",
    "Event",
    "HandshakeFailed",
    "HandshakeRejected",
    "Message",
    "Ping",
    "Pong",
    "Protocol",
    "RequestReceived",
    "ResponseReceived",
    "Role",
    "State",
    "Trigger",
    "diagram",
]


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


class State(enum.Enum):
    """RFC 6455 §4.1 and §7: the life of a connection."""

    CONNECTING = "CONNECTING"  # the opening handshake is under way
    OPEN = "OPEN"  # messages flow both ways
    CLOSING = "CLOSING"  # one Close frame has been sent or received, not both
    CLOSED = "CLOSED"  # both Close frames exchanged, or the connection failed


class Trigger(enum.Enum):
    """What happens to a connection: the application acts, or bytes arrive."""

    REQUEST_SENT = "request sent"  # client: connect() queued the upgrade request
    HANDSHAKE_ACCEPTED = "handshake accepted"
    HANDSHAKE_FAILED = "handshake failed"
    MESSAGE_SENT = "message sent"  # a data frame: text, binary or continuation
    CONTROL_SENT = "control sent"  # a Ping or Pong the application sends
    CLOSE_SENT = "close sent"
    CLOSE_RECEIVED = "close received"
    FAIL = "fail"  # _Fail the WebSocket Connection_ (§7.1.7)
    EOF = "eof"  # the TCP connection ended


S, T = State, Trigger
# (state, what happened) -> next state. What is not in this table is not allowed.
TABLE: dict[tuple[State, Trigger], State] = {
    (S.CONNECTING, T.REQUEST_SENT): S.CONNECTING,
    (S.CONNECTING, T.HANDSHAKE_ACCEPTED): S.OPEN,
    (S.CONNECTING, T.HANDSHAKE_FAILED): S.CLOSED,
    (S.CONNECTING, T.FAIL): S.CLOSED,
    (S.CONNECTING, T.EOF): S.CLOSED,
    (S.OPEN, T.MESSAGE_SENT): S.OPEN,
    (S.OPEN, T.CONTROL_SENT): S.OPEN,
    (S.OPEN, T.CLOSE_SENT): S.CLOSING,
    (S.OPEN, T.CLOSE_RECEIVED): S.CLOSED,  # answered at once with our Close (§5.5.1)
    (S.OPEN, T.FAIL): S.CLOSED,
    (S.OPEN, T.EOF): S.CLOSED,
    (S.CLOSING, T.CLOSE_RECEIVED): S.CLOSED,
    (S.CLOSING, T.FAIL): S.CLOSED,
    (S.CLOSING, T.EOF): S.CLOSED,
}
# The edges that move the state somewhere else.
TRANSITIONS: dict[tuple[State, Trigger], State] = {
    (state, trigger): target for (state, trigger), target in TABLE.items() if target is not state
}
# Sending after the end raises ConnectionClosed, like writing to a closed socket.
_SENDING = frozenset({T.MESSAGE_SENT, T.CONTROL_SENT, T.CLOSE_SENT})


def diagram() -> str:
    """The table as text: for each state, the triggers grouped by where they lead."""
    lines = []
    for state in State:
        lines.append(state.name)
        targets: dict[State, list[str]] = {}
        for (source, trigger), target in TABLE.items():
            if source is state:
                targets.setdefault(target, []).append(trigger.value)
        for target, triggers in targets.items():
            lines.append(f"    {', '.join(triggers):<38} ──▶ {target.name}")
        if not targets:
            lines.append("    (the end: nothing happens any more)")
    return "\n".join(lines)


# --- Events: what the received bytes meant ------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """Server: a valid upgrade request arrived. Call ``accept()`` or ``reject()``."""

    request: Request


@dataclass(frozen=True, slots=True)
class HandshakeRejected:
    """Server: the request was not a valid upgrade; the HTTP error answer is queued."""

    error: HandshakeError


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """Client: the server accepted (101 Switching Protocols); the connection is OPEN."""

    response: Response
    subprotocol: str | None


@dataclass(frozen=True, slots=True)
class HandshakeFailed:
    """Client: the server refused, or its answer broke RFC 6455 §4.1."""

    error: HandshakeError


@dataclass(frozen=True, slots=True)
class Ping:
    payload: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    payload: bytes


@dataclass(frozen=True, slots=True)
class CloseReceived:
    """The peer sent a Close frame (it started the closing handshake, or answered ours)."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """*We* failed the connection (RFC 6455 §7.1.7), because the peer broke a rule."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectionLost:
    """The TCP connection ended before the closing handshake finished (1006)."""


Event = (
    RequestReceived
    | HandshakeRejected
    | ResponseReceived
    | HandshakeFailed
    | Message
    | Ping
    | Pong
    | CloseReceived
    | ConnectionFailed
    | ConnectionLost
)


class Trace(typing.Protocol):
    """Called with every frame received or sent: ``"in"`` or ``"out"``, the frame as it
    is on the wire, and its bytes. For a frame of a compressed message (RFC 7692) a fourth
    argument follows: the frame's payload decompressed."""

    def __call__(self, direction: str, frame: Frame, raw: bytes, plain: bytes = ..., /) -> None: ...


_AUTO = object()  # accept(): pick the subprotocol from the server's list


class Protocol:
    """One end of a WebSocket connection, as a sans-I/O state machine."""

    def __init__(
        self,
        role: Role,
        *,
        subprotocols: Sequence[str] = (),
        origin_allowed: Callable[[str | None], bool] | None = None,
        max_message_size: int | None = 2**20,
        max_header_size: int = MAX_HEADER_SIZE,
        trace: Trace | None = None,
        deflate_offers: Sequence[DeflateOffer] = (),
        deflate_config: ServerDeflateConfig | None = None,
    ) -> None:
        self.role = role
        self.state = State.CONNECTING
        self.subprotocols = tuple(subprotocols)
        self.origin_allowed = origin_allowed
        self.max_message_size = max_message_size
        self.max_header_size = max_header_size
        self.trace = trace
        self.deflate_offers = tuple(deflate_offers)  # client: what to offer (RFC 7692 §5)
        self.deflate_config = deflate_config  # server: accept permessage-deflate? (None: no)
        self.deflate: PerMessageDeflate | None = None  # once agreed in the handshake
        self.extensions = ""  # the agreed Sec-WebSocket-Extensions ("" for none)
        self.subprotocol: str | None = None
        self.request: Request | None = None
        self.response: Response | None = None
        self.closed: ConnectionClosed | None = None
        self._key = ""  # Sec-WebSocket-Key of the handshake
        self._buffer = bytearray()
        self._events: list[Event] = []
        self._outgoing: list[bytes] = []
        self._assembler = Assembler(max_message_size)
        self._sending_fragments = False
        self._encoder: MessageEncoder | None = None  # compresses a fragmented message sent
        self._deferred_error: ProtocolError | None = None  # see failure_pending
        self._partial_checked = 0  # payload bytes of an incomplete text frame already checked
        self._peer_masks = role is Role.SERVER  # §5.1: clients mask, servers do not
        self._head_scanned = 0  # bytes of the handshake already searched for its end
        self._head_ended = False

    def __repr__(self) -> str:
        return f"<Protocol {self.role.value} {self.state.name}>"

    # --- Moving bytes in and out ---------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the network."""
        if not self._processing():
            return  # RFC 6455 §7.1.7 / §5.5.1: nothing is processed after the end
        if self.state is State.CONNECTING:
            self._buffer += data
            self._receive_handshake()
        elif self._buffer:
            self._buffer += data  # the rest of a frame that arrived in pieces
            self._receive_frames()
        else:
            # Nothing left over from last time: read the frames straight from ``data``
            # and keep only an incomplete frame at its end.
            used = self._parse_frames(data)
            if used < len(data) and self._processing():
                self._buffer += data[used:]

    def receive_eof(self) -> None:
        """The peer closed the TCP connection (or it broke)."""
        if self.state is State.CLOSED:
            return
        if self._deferred_error is not None:
            self._fail_now()  # the peer is gone; what it broke still says why it ended
            return
        self._events.append(ConnectionLost())
        self._transition(T.EOF, ending=(CloseCode.ABNORMAL_CLOSURE, "", "nobody"))

    def events_received(self) -> list[Event]:
        """What happened since the last call, oldest first.

        While :attr:`failure_pending`, this returns the messages that came before the
        violation, and the call after it fails the connection.
        """
        if self._deferred_error is not None and not self._events:
            self._fail_now()
        events, self._events = self._events, []
        return events

    @property
    def failure_pending(self) -> bool:
        """True while a protocol error waits for the messages before it to be handled.

        The connection is still OPEN, so the application may answer them; call
        :meth:`events_received` again to fail the connection.
        """
        return self._deferred_error is not None

    def data_to_send(self) -> bytes:
        """Bytes to write to the network, oldest first."""
        data = b"".join(self._outgoing)
        self._outgoing.clear()
        return data

    @property
    def bytes_held(self) -> int:
        """Received bytes not yet handed out as events: an incomplete frame, and the
        fragments of a message in progress. What a server counts against its memory budget."""
        return len(self._buffer) + self._assembler.size

    def close_transport(self) -> bool:
        """True once the TCP connection should be closed, after sending ``data_to_send()``.

        RFC 6455 §7.1.1: the server closes TCP first; a client should wait a little
        for the server to do so before closing it itself.
        """
        return self.state is State.CLOSED

    # --- The opening handshake (RFC 6455 §4) -----------------------------------------

    def connect(
        self,
        host: str,
        target: str = "/",
        *,
        origin: str | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> Request:
        """Client: queue the upgrade request (RFC 6455 §4.1)."""
        self._require_role(Role.CLIENT, "connect")
        self._transition(T.REQUEST_SENT)
        self._key = generate_key()
        if self.deflate_offers:  # RFC 7692 §5: the offers go in Sec-WebSocket-Extensions
            offers = ", ".join(str(one) for one in self.deflate_offers)
            extra_headers = [("Sec-WebSocket-Extensions", offers), *extra_headers]
        self.request = build_request(
            host,
            target,
            key=self._key,
            subprotocols=self.subprotocols,
            origin=origin,
            extra_headers=extra_headers,
        )
        self._outgoing.append(self.request.serialize())
        return self.request

    def accept(
        self, *, subprotocol: object = _AUTO, extra_headers: Sequence[tuple[str, str]] = ()
    ) -> Response:
        """Server: answer the request with 101 Switching Protocols (RFC 6455 §4.2.2)."""
        self._require_role(Role.SERVER, "accept")
        self._check(T.HANDSHAKE_ACCEPTED)
        if self.request is None:
            raise RuntimeError("accept() needs a RequestReceived event first")
        if subprotocol is _AUTO:
            subprotocol = select_subprotocol(offered_subprotocols(self.request), self.subprotocols)
        assert subprotocol is None or isinstance(subprotocol, str)
        self.subprotocol = subprotocol
        self.response = build_accept_response(
            self.request, subprotocol=subprotocol, extensions=self.extensions, extra_headers=extra_headers
        )
        self._outgoing.append(self.response.serialize())
        self._transition(T.HANDSHAKE_ACCEPTED)
        self._receive_frames()  # a client may not wait for our answer to send frames
        return self.response

    def reject(self, status: int, reason: str, headers: Sequence[tuple[str, str]] = ()) -> Response:
        """Server: refuse the upgrade with an HTTP error whose body says why."""
        self._require_role(Role.SERVER, "reject")
        self._check(T.HANDSHAKE_FAILED)
        return self._reject(HandshakeError(status, reason, tuple(headers)))

    def _reject(self, error: HandshakeError) -> Response:
        self.response = build_error_response(error)
        self._outgoing.append(self.response.serialize())
        self._transition(
            T.HANDSHAKE_FAILED, ending=(CloseCode.ABNORMAL_CLOSURE, f"handshake rejected: {error}", "local")
        )
        return self.response

    def _receive_handshake(self) -> None:
        if self.role is Role.SERVER:
            self._receive_request()
        else:
            self._receive_response()

    def _receive_request(self) -> None:
        if self.request is not None:
            return  # waiting for accept() or reject(); keep any early frames buffered
        if not self._head_arrived():
            return
        try:
            parsed = Request.parse(bytes(self._buffer), max_size=self.max_header_size)
            if parsed is None:
                return  # the header block is not complete yet
            request, used = parsed
            del self._buffer[:used]
            self.request = request
            self._key = check_request(request, origin_allowed=self.origin_allowed)
            self._negotiate_deflate(request)
        except HandshakeError as error:
            self._reject(error)
            self._events.append(HandshakeRejected(error))
            return
        self._events.append(RequestReceived(request))

    def _negotiate_deflate(self, request: Request) -> None:
        """Server: accept the client's first acceptable offer of permessage-deflate (RFC 7692 §5)."""
        if self.deflate_config is None:
            return  # extensions we do not want are simply not accepted (RFC 6455 §9.1)
        agreed = accept_deflate(request.headers.get_all("Sec-WebSocket-Extensions"), self.deflate_config)
        if agreed is not None:
            self.extensions, params = agreed
            self.deflate = PerMessageDeflate(params, "server", max_size=self.max_message_size)

    def _receive_response(self) -> None:
        if not self._head_arrived():
            return
        try:
            parsed = Response.parse(bytes(self._buffer), max_size=self.max_header_size)
            if parsed is None:
                return
            response, used = parsed
            del self._buffer[:used]
            self.response = response
            self.subprotocol = check_response(
                response, key=self._key, subprotocols=self.subprotocols, deflate_offers=self.deflate_offers
            )
            params = agreed_deflate(response, self.deflate_offers)
            if params is not None:
                self.extensions = ", ".join(response.headers.get_all("Sec-WebSocket-Extensions"))
                self.deflate = PerMessageDeflate(params, "client", max_size=self.max_message_size)
        except HandshakeError as error:
            self._events.append(HandshakeFailed(error))
            reason = f"handshake failed: {error}"
            self._transition(T.HANDSHAKE_FAILED, ending=(CloseCode.ABNORMAL_CLOSURE, reason, "local"))
            return
        self._transition(T.HANDSHAKE_ACCEPTED)
        self._events.append(ResponseReceived(response, self.subprotocol))
        self._receive_frames()  # the server may send frames right behind its 101

    def _head_arrived(self) -> bool:
        """Worth parsing the handshake now? Its first bytes (to refuse what is not HTTP at
        once), the end of its header section, or the size limit. Only the new bytes are
        searched, so a head that arrives one byte at a time is not re-read each time."""
        first = self._head_scanned == 0
        start = max(0, self._head_scanned - 3)
        self._head_scanned = len(self._buffer)
        if not self._head_ended:
            self._head_ended = head_ends_in(self._buffer, start)
        return first or self._head_ended or len(self._buffer) >= self.max_header_size

    # --- Receiving frames (RFC 6455 §5) ----------------------------------------------

    def _receive_frames(self) -> None:
        # A memoryview lets parse_frame slice payloads out of the buffer without copying
        # them first; it must be released before the buffer shrinks.
        with memoryview(self._buffer) as view:
            position = self._parse_frames(view)
        if not self._processing():
            self._buffer.clear()  # RFC 6455 §5.5.1, §7.1.7: nothing is processed after the end
        else:
            del self._buffer[:position]

    def _processing(self) -> bool:
        """Are received bytes still processed? Not after the end, nor after a violation."""
        return self.state is not State.CLOSED and self._deferred_error is None

    def _parse_frames(self, view: bytes | memoryview) -> int:
        """Handle every whole frame in ``view``; return how many bytes they took."""
        position = 0
        try:
            while position < len(view) and self.state is not State.CLOSED:
                parsed = parse_frame(view, position, max_payload=self.max_message_size)
                if parsed is None:
                    self._check_incomplete_frame(view, position)
                    break  # need more bytes
                frame, used = parsed
                self._partial_checked = 0
                if self.deflate is not None:
                    frame = self._decompress(frame, view[position : position + used])
                elif self.trace is not None:
                    self.trace("in", frame, bytes(view[position : position + used]))
                position += used
                self._receive_frame(frame)
        except ProtocolError as error:
            if any(isinstance(event, Message) for event in self._events):
                self._deferred_error = error  # deliver the messages first, then fail
            else:
                self.fail(error.close_code, error.reason)
        return position

    def _receive_frame(self, frame: Frame) -> None:
        self._check_frame(frame)
        opcode = frame.opcode
        if opcode <= Opcode.BINARY:  # CONTINUATION, TEXT or BINARY: a data frame (§5.6)
            message = self._assembler.receive(frame)
            if message is not None:
                self._events.append(message)
        elif opcode is Opcode.PING:
            self._receive_ping(frame)
        elif opcode is Opcode.PONG:
            self._events.append(Pong(frame.payload))
        else:
            self._receive_close(frame)

    def _decompress(self, frame: Frame, raw: bytes | memoryview) -> Frame:
        """The frame with its payload decompressed and RSV1 cleared, if its message is
        compressed (RFC 7692 §6.2); the frame itself otherwise. The trace sees both."""
        assert self.deflate is not None
        try:
            self._check_frame(frame)
            plain = self.deflate.decode(frame)
        except ProtocolError:
            if self.trace is not None:
                self.trace("in", frame, bytes(raw))  # the frame that broke a rule, as it came
            raise
        if self.trace is not None:
            if plain is frame:
                self.trace("in", frame, bytes(raw))
            else:
                self.trace("in", frame, bytes(raw), plain.payload)
        return plain

    def _check_incomplete_frame(self, view: bytes | memoryview, position: int) -> None:
        """Fail fast inside one frame (§8.1): check the text of a frame still arriving."""
        header = parse_header(view, position)
        if header is None or header.opcode.is_control:
            return
        if self.deflate is not None and (header.rsv1 or self.deflate.receiving_compressed):
            return  # compressed bytes: the text is checked once they are decompressed
        if self._partial_checked == 0:
            self._check_frame(header)
            if not self._assembler.begin_frame(header.opcode):
                return  # binary: nothing to check before the whole frame is in
        start = position + header.size + self._partial_checked
        data = bytes(view[start:])
        if header.masking_key is not None:
            # Byte i of the payload is masked with key[i % 4] (§5.3): start where we left off.
            shift = self._partial_checked % 4
            data = apply_mask(data, header.masking_key[shift:] + header.masking_key[:shift])
        self._assembler.check_partial(data)
        self._partial_checked += len(data)

    def _check_frame(self, frame: Frame | FrameHeader) -> None:
        """The rules parse_frame cannot know: they depend on who we are (RFC 6455 §5.1, §5.2)."""
        if frame.masking_key is None:
            if self._peer_masks:
                raise ProtocolError(1002, "a client must mask every frame it sends (§5.1)")
        elif not self._peer_masks:
            raise ProtocolError(1002, "a server must not mask the frames it sends (§5.1)")
        if frame.rsv2 or frame.rsv3:
            raise ProtocolError(1002, "an RSV bit is set, but no extension was negotiated (§5.2)")
        if frame.rsv1 and self.deflate is None:
            # RSV1 means "compressed" only once permessage-deflate is agreed (RFC 7692 §6).
            raise ProtocolError(1002, "an RSV bit is set, but no extension was negotiated (§5.2)")

    def _receive_ping(self, frame: Frame) -> None:
        self._events.append(Ping(frame.payload))
        # §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
        # response, unless it already received a Close frame", with "identical
        # Application data" (§5.5.3). In CLOSING we sent a Close but got none yet.
        self._send_frame(Opcode.PONG, frame.payload)

    def _receive_close(self, frame: Frame) -> None:
        close = Close.parse(frame.payload)
        self._events.append(CloseReceived(close.code, close.reason))
        by: Closer = "local"  # in CLOSING this is the answer to our Close frame
        if self.state is State.OPEN:
            # The peer started closing. §5.5.1: answer with a Close frame, "typically
            # echoing the status code it received"; we echo its reason too.
            by = "remote"
            echo = b"" if close.code == CloseCode.NO_STATUS_RCVD else close.serialize()
            self._send_frame(Opcode.CLOSE, echo)
        self._transition(T.CLOSE_RECEIVED, ending=(close.code, close.reason, by))

    # --- Sending (RFC 6455 §5.4–§5.6) ------------------------------------------------

    def send_text(self, text: str, *, fin: bool = True) -> None:
        """Send a text message, or the first fragment of one when ``fin=False``."""
        self._send_data(Opcode.TEXT, text.encode("utf-8"), fin)

    def send_binary(self, data: bytes, *, fin: bool = True) -> None:
        """Send a binary message, or the first fragment of one when ``fin=False``."""
        self._send_data(Opcode.BINARY, bytes(data), fin)

    def send_continuation(self, data: bytes, *, fin: bool) -> None:
        """Send the next fragment of the message started with ``fin=False`` (§5.4)."""
        self._send_data(Opcode.CONTINUATION, bytes(data), fin)

    def send_ping(self, payload: bytes = b"") -> None:
        self._send_control(Opcode.PING, payload)

    def send_pong(self, payload: bytes = b"") -> None:
        self._send_control(Opcode.PONG, payload)

    def send_close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Start the closing handshake (RFC 6455 §7.1.2); the state becomes CLOSING."""
        payload = Close(code, reason).serialize()  # ValueError for codes not allowed
        self._transition(T.CLOSE_SENT)
        self._send_frame(Opcode.CLOSE, payload)

    def fail(self, code: int, reason: str) -> None:
        """_Fail the WebSocket Connection_ (RFC 6455 §7.1.7): send a Close frame if we
        still may, then stop; the TCP connection should be closed next."""
        if self.state is State.CLOSED:
            return
        self._deferred_error = None  # this failure is the one that counts
        if self.state is State.OPEN and code not in (1005, 1006, 1015):
            self._send_frame(Opcode.CLOSE, Close(code, _shorten(reason)).serialize())
        self._events.append(ConnectionFailed(code, reason))
        self._transition(T.FAIL, ending=(code, reason, "local"))

    def _fail_now(self) -> None:
        """Fail for the protocol error held back by failure_pending."""
        error, self._deferred_error = self._deferred_error, None
        assert error is not None
        self.fail(error.close_code, error.reason)

    def _send_data(self, opcode: Opcode, payload: bytes, fin: bool) -> None:
        self._transition(T.MESSAGE_SENT)
        continuing = opcode is Opcode.CONTINUATION
        if continuing != self._sending_fragments:
            raise RuntimeError(
                "send_continuation() continues a message started with fin=False"
                if continuing
                else "finish the fragmented message (send_continuation(..., fin=True)) first"
            )
        self._sending_fragments = not fin
        if self.deflate is None:
            self._send_frame(opcode, payload, fin)
        else:
            self._send_compressed(opcode, payload, fin)

    def _send_compressed(self, opcode: Opcode, payload: bytes, fin: bool) -> None:
        """RFC 7692 §6.1: compress the message; RSV1 goes on its first frame only."""
        assert self.deflate is not None
        plain = payload
        if opcode is not Opcode.CONTINUATION and fin:  # a whole message in one frame
            payload, rsv1 = self.deflate.encode(plain)
        elif opcode is not Opcode.CONTINUATION:  # the first fragment
            self._encoder = self.deflate.message_encoder()
            payload, rsv1 = self._encoder.encode(plain, fin=False), True
        elif self._encoder is not None:  # the next fragment of a compressed message
            payload, rsv1 = self._encoder.encode(plain, fin=fin), False
            if fin:
                self._encoder = None
        else:  # a fragmented message sent uncompressed: cannot happen, but stays correct
            rsv1 = False
        if payload is plain:
            self._send_frame(opcode, payload, fin)
        else:
            self._send_frame(opcode, payload, fin, rsv1=rsv1, plain=plain)

    def _send_control(self, opcode: Opcode, payload: bytes) -> None:
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise ValueError(f"a {opcode.name} payload is at most 125 bytes, got {len(payload)} (§5.5)")
        self._transition(T.CONTROL_SENT)
        self._send_frame(opcode, bytes(payload))

    def _send_frame(
        self,
        opcode: Opcode,
        payload: bytes,
        fin: bool = True,
        *,
        rsv1: bool = False,
        plain: bytes | None = None,
    ) -> None:
        # §5.3: a client masks every frame with a fresh, unpredictable key; a server never masks.
        masking_key = os.urandom(4) if self.role is Role.CLIENT else None
        frame = Frame(opcode, payload, fin, rsv1, masking_key=masking_key)
        data = serialize_frame(frame)
        if self.trace is not None:
            if plain is None:
                self.trace("out", frame, data)
            else:  # a frame of a compressed message: the trace sees what it stands for
                self.trace("out", frame, data, plain)
        self._outgoing.append(data)

    # --- Bookkeeping -----------------------------------------------------------------

    def _transition(self, trigger: Trigger, *, ending: tuple[int, str, Closer] | None = None) -> None:
        """Move along the table, or refuse what it does not allow.

        Reaching CLOSED needs ``ending``: the close code, the reason and who closed,
        kept as :attr:`closed` (what ``ConnectionClosed`` will say from then on).
        """
        target = self._check(trigger)
        if target is State.CLOSED:
            assert ending is not None, f"{trigger.value} ends the connection: say how"
            self.closed = ConnectionClosed(*ending)
        self.state = target

    def _check(self, trigger: Trigger) -> State:
        """Where ``trigger`` leads from the current state; an error if the table has no such move."""
        target = TABLE.get((self.state, trigger))
        if target is not None:
            return target
        if trigger in _SENDING:
            if self.closed is not None:
                raise self.closed
            reason = f"cannot send in state {self.state.name} ({trigger.value} is not allowed)"
            raise ConnectionClosed(CloseCode.ABNORMAL_CLOSURE, reason, "local")
        allowed = ", ".join(t.value for (state, t) in TABLE if state is self.state) or "nothing"
        raise RuntimeError(f"{trigger.value} is not allowed in state {self.state.name} (allowed: {allowed})")

    def _require_role(self, role: Role, method: str) -> None:
        if self.role is not role:
            raise RuntimeError(f"{method}() is for the {role.value} side")


def _shorten(reason: str) -> str:
    """Cut a reason to the 123 bytes of UTF-8 a Close frame can carry (§5.5)."""
    encoded = reason.encode("utf-8")[:123]
    return encoded.decode("utf-8", "ignore")
