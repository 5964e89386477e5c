"""The checker's side of a WebSocket connection: it sends anything, and names what comes back.

``Tester`` is what a case receives: it opens raw TCP connections or complete WebSocket
connections (``Peer``) to the server under test, and closes them all when the case ends.
``Peer.next_event()`` turns the server's frames into one of a few events, answering the
server's pings on the way, so that cases read like the RFC: "send this, expect that".
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ...deflate import DeflateOffer, PerMessageDeflate, check_response
from ...errors import HandshakeError, ProtocolError
from ...frames import CloseCode, Frame, Opcode, close_code_range
from .. import wire
from ..model import Case, Options, SetupFailed, Verdict
from ..wire import CLOSE, CONTINUATION, PING, PONG, Eof, RawConnection, Target


@dataclass(frozen=True)
class Message:
    """A complete data message from the server (fragments already joined)."""

    opcode: int  # TEXT or BINARY
    data: bytes
    frames: int = 1


@dataclass(frozen=True)
class Pong:
    payload: bytes


@dataclass(frozen=True)
class Closed:
    """A Close frame from the server; ``code`` is None when its payload was empty."""

    code: int | None
    reason: bytes = b""


@dataclass(frozen=True)
class Dropped:
    """The TCP connection ended without (another) Close frame."""

    how: str


@dataclass(frozen=True)
class Silence:
    """Nothing arrived in time."""

    seconds: float


@dataclass(frozen=True)
class Broken:
    """The server sent a frame that breaks RFC 6455 itself."""

    why: str


Event = Message | Pong | Closed | Dropped | Silence | Broken


def describe(event: Event) -> str:
    """What the server did, to complete the sentence "The server ..."."""
    if isinstance(event, Message):
        kind = wire.opcode_name(event.opcode)
        frames = f" in {event.frames} frames" if event.frames > 1 else ""
        return f"sent a {len(event.data)}-byte {kind} message{frames}"
    if isinstance(event, Pong):
        return f"sent a pong with {len(event.payload)} bytes of payload"
    if isinstance(event, Closed):
        return f"sent a Close frame with {describe_code(event.code)}"
    if isinstance(event, Dropped):
        return f"{event.how} without a Close frame"
    if isinstance(event, Silence):
        return f"sent nothing for {event.seconds:g} s"
    return f"sent a broken frame: {event.why}"


def describe_code(code: int | None) -> str:
    """``1002`` → ``"1002 (protocol error)"``; None → ``"no status code"``."""
    if code is None:
        return "no status code"
    try:
        meaning = CloseCode(code).meaning  # "protocol error: the peer broke a rule of RFC 6455"
    except ValueError:
        meaning = close_code_range(code)  # "3000-3999: registered with IANA by libraries, ..."
        return f"{code} ({meaning.split(': ')[-1]})"
    return f"{code} ({meaning.split(':')[0]})"


class Peer:
    """An open WebSocket connection to the server under test (client side, frames masked).

    ``deflate`` is the permessage-deflate agreed in the handshake (RFC 7692), if any: the
    server's compressed messages are then decompressed before they become events.
    """

    def __init__(
        self,
        raw: RawConnection,
        options: Options,
        deflate: PerMessageDeflate | None = None,
        answer: wire.HttpAnswer | None = None,
    ) -> None:
        self.raw = raw
        self.options = options
        self.deflate = deflate
        self.answer = answer  # the server's 101 response
        self.close_sent = False
        self._fragments: list[bytes] = []
        self._fragment_opcode: int | None = None

    # -- sending ---------------------------------------------------------------------------

    async def send(self, data: bytes) -> bool:
        """Write bytes; False when the server had already closed the connection."""
        try:
            await self.raw.send(data)
        except (ConnectionError, OSError):
            return False
        return True

    async def send_frame(
        self, opcode: int, payload: bytes = b"", *, fin: bool = True, key: bytes | None = None
    ) -> bool:
        """Send one masked frame (RFC 6455 §5.3: a client masks every frame)."""
        if opcode == CLOSE:
            self.close_sent = True
        return await self.send(wire.build_frame(opcode, payload, fin=fin, key=key))

    async def send_close(self, code: int | None = 1000, reason: bytes = b"") -> bool:
        payload = b"" if code is None else wire.close_payload(code, reason)
        return await self.send_frame(CLOSE, payload)

    # -- receiving -------------------------------------------------------------------------

    async def next_event(self, timeout: float | None = None) -> Event:
        """The server's next message, pong, Close frame, drop, silence or broken frame."""
        seconds = self.options.answer_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(seconds):
                return await self._next_event()
        except TimeoutError:
            return Silence(seconds)

    async def _next_event(self) -> Event:
        while True:
            try:
                frame = await self.raw.read_frame()
            except Eof as eof:
                return Dropped(eof.how)
            problem = server_frame_problem(frame, compressed=self.deflate is not None)
            if problem:
                return Broken(problem)
            if self.deflate is not None:
                try:
                    frame = decompress(self.deflate, frame)
                except ProtocolError as exc:
                    return Broken(exc.reason)
            event = await self._handle(frame)
            if event is not None:
                return event

    async def _handle(self, frame: wire.WireFrame) -> Event | None:
        if frame.opcode == PING:  # RFC 6455 §5.5.2: answer the server's heartbeats
            await self.send_frame(PONG, frame.payload)
            return None
        if frame.opcode == PONG:
            return Pong(frame.payload)
        if frame.opcode == CLOSE:
            return await self._close_received(frame.payload)
        return self._data_frame(frame)

    async def _close_received(self, payload: bytes) -> Event:
        if len(payload) == 1:
            return Broken("a Close frame with a 1-byte payload (§5.5.1)")
        code = int.from_bytes(payload[:2], "big") if payload else None
        if code is not None and not wire.close_code_allowed(code):
            return Broken(f"a Close frame with {describe_code(code)}, which no endpoint may send (§7.4)")
        if not wire.is_utf8(payload[2:]):
            return Broken("a Close frame whose reason is not UTF-8 (§5.5.1)")
        if not self.close_sent:  # RFC 6455 §5.5.1: answer a Close frame, echoing its code
            await self.send_close(code)
        return Closed(code, payload[2:])

    def _data_frame(self, frame: wire.WireFrame) -> Event | None:
        """Join fragments (RFC 6455 §5.4); a whole message becomes a Message event."""
        if frame.opcode == CONTINUATION:
            if self._fragment_opcode is None:
                return Broken("a continuation frame with no message started (§5.4)")
        elif self._fragment_opcode is not None:
            return Broken("a new data frame inside a fragmented message (§5.4)")
        else:
            self._fragment_opcode = frame.opcode
        self._fragments.append(frame.payload)
        if not frame.fin:
            return None
        opcode, self._fragment_opcode = self._fragment_opcode, None
        data, count = b"".join(self._fragments), len(self._fragments)
        self._fragments = []
        return Message(opcode, data, count)


def decompress(deflate: PerMessageDeflate, frame: wire.WireFrame) -> wire.WireFrame:
    """The frame with its payload decompressed if its message is compressed (RFC 7692 §6.2)."""
    plain = deflate.decode(Frame(Opcode(frame.opcode), frame.payload, frame.fin, bool(frame.rsv & 4)))
    return wire.WireFrame(frame.opcode, plain.payload, frame.fin, 0, frame.masked)


def server_frame_problem(frame: wire.WireFrame, *, compressed: bool = False) -> str | None:
    """What is wrong with a frame the server sent, or None (RFC 6455 §5.1, §5.2, §5.5).

    ``compressed``: permessage-deflate was agreed, so RSV1 has a meaning (RFC 7692 §6).
    """
    if frame.masked:
        return f"a masked {frame} (§5.1: a server MUST NOT mask)"
    if frame.rsv and not (compressed and frame.rsv == 4):
        return f"a {frame} with RSV bits set although no extension was agreed (§5.2)"
    if frame.opcode not in wire.OPCODE_NAMES:
        return f"a frame with {wire.opcode_name(frame.opcode)} (§5.2)"
    if frame.opcode >= CLOSE and (len(frame.payload) > 125 or not frame.fin):
        return f"an invalid control frame: {frame} (§5.5)"
    return None


class Tester:
    """What a case works with: the target, the options, and the connections it opened."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, target: Target, options: Options, ssl: ssl_module.SSLContext | None = None) -> None:
        self.target = target
        self.options = options
        self.ssl = ssl
        self._opened: list[RawConnection] = []

    async def raw(self) -> RawConnection:
        """A plain TCP (or TLS) connection to the server, nothing sent yet."""
        try:
            connection = await RawConnection.open(self.target, self.ssl)
        except OSError as exc:
            raise SetupFailed(f"could not be reached ({exc})") from None
        self._opened.append(connection)
        return connection

    async def connect(self, offer: str | None = None, offers: Sequence[DeflateOffer] = ()) -> Peer:
        """A WebSocket connection after a valid opening handshake (RFC 6455 §4.1).

        ``offer``: a ``Sec-WebSocket-Extensions`` value to send; ``offers`` what it offers
        of permessage-deflate (RFC 7692), against which the answer is checked.
        """
        raw = await self.raw()
        key = wire.new_key()
        headers = wire.default_headers(self.target, key)
        if offer is not None:
            headers.append(("Sec-WebSocket-Extensions", offer))
        await raw.send(wire.build_request(self.target, key=key, headers=headers))
        answer = await self.http_answer(raw)
        problem = handshake_problem(answer, key, extensions_offered=offer is not None)
        if problem:
            raise SetupFailed(f"refused a valid opening handshake: {problem}")
        deflate = None
        if offer is not None:
            try:
                params = check_response(answer.get_all("Sec-WebSocket-Extensions"), offers)
            except HandshakeError as exc:
                raise SetupFailed(f"answered the offer {offer!r} wrongly: {exc.reason}") from None
            if params is not None:
                deflate = PerMessageDeflate(params, "client", max_size=None)
        return Peer(raw, self.options, deflate, answer)

    async def http_answer(self, raw: RawConnection) -> wire.HttpAnswer:
        """The server's HTTP answer; SetupFailed when there is none in time."""
        try:
            async with asyncio.timeout(self.options.answer_timeout):
                return await raw.read_http_answer()
        except TimeoutError:
            raise SetupFailed(f"sent no HTTP answer within {self.options.answer_timeout:g} s") from None
        except Eof as eof:
            raise SetupFailed(eof.how) from None

    def close_all(self) -> None:
        for connection in self._opened:
            connection.abort()
        self._opened.clear()


CaseRun = Callable[[Tester], Awaitable[Verdict]]  # what a server case does with its Tester
ServerCase = Case[CaseRun]


def handshake_problem(
    answer: wire.HttpAnswer, key: str, offered: tuple[str, ...] = (), *, extensions_offered: bool = False
) -> str | None:
    """What is wrong with a server's answer to a valid handshake (RFC 6455 §4.2.2), or None."""
    if answer.status != 101:
        return f"it answered {answer.summary()}"
    upgrade = answer.get("Upgrade") or ""
    if upgrade.lower() != "websocket":
        return f"the 101 response has Upgrade: {upgrade!r}, not 'websocket'"
    connection = [token.strip().lower() for token in (answer.get("Connection") or "").split(",")]
    if "upgrade" not in connection:
        return "the 101 response has no Connection: Upgrade"
    accept = answer.get("Sec-WebSocket-Accept")
    if accept != wire.accept_for(key):
        return f"Sec-WebSocket-Accept is {accept!r}, expected {wire.accept_for(key)!r}"
    if answer.get("Sec-WebSocket-Extensions") is not None and not extensions_offered:
        return "the 101 response agrees an extension the checker never offered"
    subprotocol = answer.get("Sec-WebSocket-Protocol")
    if subprotocol is not None and subprotocol not in offered:
        return f"the 101 response selects the subprotocol {subprotocol!r}, never offered"
    return None
