"""The client side: a misbehaving server checks that a WebSocket *client* fails correctly.

A client has duties too (RFC 6455 §4.1, §5, §7): it must refuse a 101 response with a
wrong Sec-WebSocket-Accept, a subprotocol or an extension it did not ask for, and it must
fail the connection on frames no server may send: masked frames, RSV bits, reserved
opcodes, bad control frames, invalid UTF-8, close codes no endpoint may use.

For each scenario :class:`BadServer` listens on 127.0.0.1, answers the handshake (or
misbehaves in it), sends its frames, and records on the wire what the client sent back.
The client under test is an adapter (:func:`wslearn_client`, :func:`websockets_client`)
that connects, waits for one message and tells what happened::

    report = await run_client_checks()                  # wslearn's own client
    report = await run_client_checks(websockets_client) # the websockets library's
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from .model import Case, Verdict, failed, non_strict, ok
from .peer import describe_code
from .report import Report, Result
from .wire import (
    CLOSE,
    CONTINUATION,
    PING,
    PONG,
    TEXT,
    Eof,
    RawConnection,
    accept_for,
    build_frame,
    close_payload,
)

ANSWER_TIMEOUT = 2.0  # how long the client has to react


@dataclass(frozen=True)
class ClientOutcome:
    """What the client under test reported to its application."""

    refused: str | None = None  # the handshake error it raised
    received: str | bytes | None = None  # the first message it returned
    closed: int | None = None  # the close code in the error it raised
    other: str | None = None  # anything else: a timeout, another exception

    def __str__(self) -> str:
        if self.refused is not None:
            return f"refused the handshake ({self.refused})"
        if self.received is not None:
            return f"returned the message {self.received!r:.60} to the application"
        if self.closed is not None:
            return f"reported the connection closed with {describe_code(self.closed)}"
        return f"ended with {self.other}"


ClientUnderTest = Callable[[str, Sequence[str]], Awaitable[ClientOutcome]]


async def wslearn_client(url: str, subprotocols: Sequence[str]) -> ClientOutcome:
    """wslearn's client: connect, wait for one message, close."""
    from wslearn.aio.client import connect
    from wslearn.errors import ConnectionClosed, HandshakeError

    try:
        ws = await connect(url, subprotocols=subprotocols, open_timeout=ANSWER_TIMEOUT)
    except HandshakeError as error:
        return ClientOutcome(refused=str(error))
    try:
        return ClientOutcome(received=await ws.recv(timeout=ANSWER_TIMEOUT))
    except ConnectionClosed as closed:
        return ClientOutcome(closed=closed.code)
    except TimeoutError:
        return ClientOutcome(other="no message and no error (timeout)")
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), ANSWER_TIMEOUT)


async def websockets_client(url: str, subprotocols: Sequence[str]) -> ClientOutcome:
    """The websockets library's client, for comparison."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake
    from websockets.typing import Subprotocol

    offer = [Subprotocol(name) for name in subprotocols] or None
    try:
        ws = await connect(url, subprotocols=offer, open_timeout=ANSWER_TIMEOUT, compression=None)
    except InvalidHandshake as error:
        return ClientOutcome(refused=str(error))
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            return ClientOutcome(received=await ws.recv())
    except ConnectionClosed as closed:
        code = closed.sent.code if closed.sent else closed.rcvd.code if closed.rcvd else 1006
        return ClientOutcome(closed=code)
    except TimeoutError:
        return ClientOutcome(other="no message and no error (timeout)")
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), ANSWER_TIMEOUT)


# --- What the bad server sent, and what came back --------------------------------------


@dataclass
class WireRecord:
    """What the client sent after the handshake, as seen by the bad server."""

    request: bytes = b""
    close_code: int | None = None
    close_seen: bool = False
    close_before: bool = False  # the Close came before the server's last frame (fail fast)
    pongs: list[bytes] = field(default_factory=list)
    ended: str = ""

    def client_close(self) -> str:
        if self.close_seen:
            return f"sent a Close frame with {describe_code(self.close_code)}"
        return f"sent no Close frame ({self.ended or 'the connection stayed open'})"


KEY = re.compile(r"^sec-websocket-key:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def response(
    key: str, *extra: str, status: str = "101 Switching Protocols", accept: str | None = None
) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Upgrade: websocket", "Connection: Upgrade"]
    lines.append(f"Sec-WebSocket-Accept: {accept if accept is not None else accept_for(key)}")
    return ("\r\n".join([*lines, *extra]) + "\r\n\r\n").encode()


Act = Callable[[RawConnection, str, WireRecord], Awaitable[None]]
Grader = Callable[["Scenario", ClientOutcome, WireRecord], Verdict]


@dataclass(frozen=True)
class Scenario:
    """One misbehaviour, the RFC 6455 section it breaks and how a client must react."""

    name: str
    category: str
    section: str
    title: str  # what the bad server does
    requires: str  # what the client must do
    act: Act  # the server's side, after the request was read
    grade: Grader  # compares what the client did with what it must do
    expect_close: int | None = None  # the code of the Close the client must send
    fail_fast: bool = False  # the client must close before the server's last frame
    subprotocols: tuple[str, ...] = ()  # what the client offers


def handshake_reply(make: Callable[[str], bytes]) -> Act:
    async def act(conn: RawConnection, key: str, record: WireRecord) -> None:
        await conn.send(make(key))
        await read_client(conn, record)

    return act


def frames_after_101(*frames: bytes, then: bytes = b"") -> Act:
    """A good 101, then ``frames``; ``then`` is sent only if the client did not close first."""

    async def act(conn: RawConnection, key: str, record: WireRecord) -> None:
        await conn.send(response(key) + b"".join(frames))
        if then:
            await read_client(conn, record, ANSWER_TIMEOUT / 4)
            record.close_before = record.close_seen
            if not record.close_seen:
                with contextlib.suppress(OSError):
                    await conn.send(then)
        await read_client(conn, record)

    return act


async def read_client(conn: RawConnection, record: WireRecord, seconds: float = ANSWER_TIMEOUT) -> None:
    """Read the client's frames until its Close, EOF or ``seconds`` (answering nothing)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while not record.close_seen:
                try:
                    frame = await conn.read_frame()
                except Eof as eof:
                    record.ended = f"it {eof.how}"
                    return
                if frame.opcode == PONG:
                    record.pongs.append(frame.payload)
                elif frame.opcode == CLOSE:
                    record.close_seen = True
                    payload = frame.payload
                    record.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None


class BadServer:
    """Runs one scenario per connection on 127.0.0.1 (port 0)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.record = WireRecord()
        self._server: asyncio.Server | None = None
        self.done = asyncio.Event()

    async def __aenter__(self) -> BadServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 1)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = RawConnection(reader, writer)
        try:
            async with asyncio.timeout(3 * ANSWER_TIMEOUT):
                self.record.request = await reader.readuntil(b"\r\n\r\n")
                match = KEY.search(self.record.request.decode("latin-1"))
                await self.scenario.act(conn, match.group(1) if match else "", self.record)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, Eof):
            pass
        finally:
            self.done.set()
            conn.abort()


# --- Grading -----------------------------------------------------------------------------


def grade_handshake(scenario: Scenario, outcome: ClientOutcome, record: WireRecord) -> Verdict:
    if outcome.refused is not None:
        return ok(f"refused it: {outcome.refused[:100]}")
    return failed(f"accepted the handshake and {outcome}")


def grade_frames(scenario: Scenario, outcome: ClientOutcome, record: WireRecord) -> Verdict:
    code = scenario.expect_close
    if outcome.received is not None:
        return failed(f"{outcome}")
    if outcome.refused is not None:
        return failed(f"refused a valid handshake: {outcome.refused[:100]}")
    if record.close_seen and record.close_code == code:
        if scenario.fail_fast and not record.close_before:
            return non_strict(
                f"failed with {describe_code(code)} only after the server's last frame",
                requires="failing as soon as the invalid bytes arrive (fail fast)",
            )
        did = "answered with a Close frame with" if code == 1000 else "failed the connection with"
        return ok(f"{did} {describe_code(code)}")
    if record.close_seen or "closed" in record.ended or "reset" in record.ended:
        return non_strict(f"{record.client_close()} and {outcome}")
    return failed(f"{record.client_close()} and {outcome}")


def grade_hello(scenario: Scenario, outcome: ClientOutcome, record: WireRecord) -> Verdict:
    if outcome.received == "hello":
        return ok("returned 'hello' to the application")
    return failed(f"{outcome}; {record.client_close()}")


async def run_scenario(scenario: Scenario, client: ClientUnderTest) -> Verdict:
    async with BadServer(scenario) as server:
        outcome = await client(server.url, scenario.subprotocols)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.done.wait(), 3 * ANSWER_TIMEOUT)
        record = server.record
    return scenario.grade(scenario, outcome, record)


def grade_pong(scenario: Scenario, outcome: ClientOutcome, record: WireRecord) -> Verdict:
    if record.pongs == [b"are you there?"] and outcome.received == "hello":
        return ok("answered the ping with a pong carrying the same payload")
    return failed(f"sent the pongs {record.pongs!r} and {outcome}")


# --- The scenarios ---------------------------------------------------------------------


def handshake_scenarios() -> list[Scenario]:
    must = "refusing the handshake (the client MUST _Fail the WebSocket Connection_)"

    def make(
        name: str, section: str, title: str, reply: Callable[[str], bytes], offer: tuple[str, ...] = ()
    ) -> Scenario:
        act = handshake_reply(reply)
        return Scenario(
            name, "client handshake", section, title, must, act, grade_handshake, subprotocols=offer
        )

    rfc_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # the accept of the RFC's sample key, not ours
    return [
        make(
            "wrong-accept",
            "§4.1",
            "101 with the Sec-WebSocket-Accept of another key",
            lambda key: response(key, accept=rfc_accept),
        ),
        make(
            "no-accept",
            "§4.1",
            "101 without Sec-WebSocket-Accept",
            lambda key: response(key).replace(f"Sec-WebSocket-Accept: {accept_for(key)}\r\n".encode(), b""),
        ),
        make(
            "no-upgrade",
            "§4.1",
            "101 without Upgrade: websocket",
            lambda key: response(key).replace(b"Upgrade: websocket\r\n", b""),
        ),
        make(
            "status-200",
            "§4.1",
            "200 OK instead of 101",
            lambda key: response(key, "Content-Length: 0", status="200 OK"),
        ),
        make(
            "unrequested-subprotocol",
            "§4.1",
            "101 selecting the subprotocol 'chat', never offered",
            lambda key: response(key, "Sec-WebSocket-Protocol: chat"),
        ),
        make(
            "other-subprotocol",
            "§4.1",
            "101 selecting 'superchat' when the client offered 'chat'",
            lambda key: response(key, "Sec-WebSocket-Protocol: superchat"),
            offer=("chat",),
        ),
        make(
            "unrequested-extension",
            "§9.1",
            "101 agreeing to permessage-deflate, never offered",
            lambda key: response(key, "Sec-WebSocket-Extensions: permessage-deflate"),
        ),
        make(
            "forbidden",
            "§4.1",
            "403 Forbidden",
            lambda key: b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
        ),
    ]


def frame_scenarios() -> list[Scenario]:
    def make(name: str, section: str, title: str, code: int, act: Act, fast: bool = False) -> Scenario:
        requires = f"failing the connection with a Close frame carrying {describe_code(code)}"
        if code == 1000:
            requires = "answering with a Close frame carrying 1000"
        return Scenario(name, "client frames", section, title, requires, act, grade_frames, code, fast)

    hello = build_frame(TEXT, b"hello", masked=False)
    return [
        make(
            "masked-frame", "§5.1", "a masked text frame", 1002, frames_after_101(build_frame(TEXT, b"hello"))
        ),
        make(
            "rsv1",
            "§5.2",
            "a text frame with RSV1 set",
            1002,
            frames_after_101(build_frame(TEXT, b"hello", rsv=4, masked=False)),
        ),
        make(
            "reserved-opcode",
            "§5.2",
            "a frame with reserved opcode 0x3",
            1002,
            frames_after_101(build_frame(3, b"", masked=False), hello),
        ),
        make(
            "ping-126",
            "§5.5",
            "a ping with 126 bytes",
            1002,
            frames_after_101(build_frame(PING, b"x" * 126, masked=False), hello),
        ),
        make(
            "fragmented-ping",
            "§5.5",
            "a ping with FIN=0",
            1002,
            frames_after_101(build_frame(PING, b"x", fin=False, masked=False), hello),
        ),
        make(
            "continuation-first",
            "§5.4",
            "a continuation frame with no message started",
            1002,
            frames_after_101(build_frame(CONTINUATION, b"lost", masked=False), hello),
        ),
        make(
            "invalid-utf8",
            "§8.1",
            "a text message with a surrogate (ED A0 80)",
            1007,
            frames_after_101(build_frame(TEXT, b"\xed\xa0\x80", masked=False)),
        ),
        make(
            "invalid-utf8-fragment",
            "§8.1",
            "a first text fragment that is invalid (C0 AF), the rest later",
            1007,
            frames_after_101(
                build_frame(TEXT, b"\xc0\xaf", fin=False, masked=False),
                then=build_frame(CONTINUATION, b"end", masked=False),
            ),
            fast=True,
        ),
        make(
            "close-1005",
            "§7.4.1",
            "a Close frame with 1005, which no endpoint may send",
            1002,
            frames_after_101(build_frame(CLOSE, close_payload(1005), masked=False)),
        ),
        make(
            "close-999",
            "§7.4.2",
            "a Close frame with 999",
            1002,
            frames_after_101(build_frame(CLOSE, close_payload(999), masked=False)),
        ),
        make(
            "close-one-byte",
            "§5.5.1",
            "a Close frame with a 1-byte payload",
            1002,
            frames_after_101(build_frame(CLOSE, b"\x03", masked=False)),
        ),
        make(
            "close-invalid-reason",
            "§5.5.1",
            "a Close frame whose reason is not UTF-8",
            1007,
            frames_after_101(build_frame(CLOSE, close_payload(1000, b"\xff"), masked=False)),
        ),
        make(
            "close-normal",
            "§5.5.1",
            "a Close frame with 1000",
            1000,
            frames_after_101(build_frame(CLOSE, close_payload(1000, b"bye"), masked=False)),
        ),
    ]


def good_scenarios() -> list[Scenario]:
    hello = build_frame(TEXT, b"hello", masked=False)
    ping = build_frame(PING, b"are you there?", masked=False)
    return [
        Scenario(
            "text",
            "client frames",
            "§5.6",
            "a valid text message 'hello'",
            "returning 'hello' to the application",
            frames_after_101(hello),
            grade_hello,
        ),
        Scenario(
            "ping",
            "client frames",
            "§5.5.2",
            "a ping, then a text message",
            "a pong with the same payload",
            frames_after_101(ping, then=hello),
            grade_pong,
        ),
    ]


def all_scenarios() -> list[Scenario]:
    return good_scenarios() + handshake_scenarios() + frame_scenarios()


def as_case(scenario: Scenario) -> Case:
    async def not_for_servers(_: object) -> Verdict:
        raise TypeError("a client check runs with run_client_checks()")

    return Case(
        f"{scenario.category.replace(' ', '.')}.{scenario.name}",
        scenario.category,
        scenario.section,
        scenario.title,
        scenario.requires,
        not_for_servers,
    )


async def run_client_checks(client: ClientUnderTest = wslearn_client, name: str | None = None) -> Report:
    """Run every scenario against ``client``; the Report reads "The client ..." per case."""
    report = Report(name or str(getattr(client, "__name__", "client")), subject="client")
    started = time.perf_counter()
    for scenario in all_scenarios():
        begin = time.perf_counter()
        try:
            verdict = await asyncio.wait_for(run_scenario(scenario, client), 5 * ANSWER_TIMEOUT)
        except TimeoutError:
            verdict = failed(f"did not finish within {5 * ANSWER_TIMEOUT:g} s")
        report.results.append(Result(as_case(scenario), verdict, time.perf_counter() - begin, "client"))
    report.seconds = time.perf_counter() - started
    return report
