"""The misbehaving server: it plays one client case and records what the client sent back.

For each case :class:`BadServer` listens on 127.0.0.1, answers the handshake (or
misbehaves in it), sends its frames, and records on the wire what the client sent back
(a :class:`WireRecord`). A client case's ``run`` is a :class:`Misbehaviour`: what the bad
server does, and how the client's reaction is graded.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..model import Case, Verdict
from ..server.peer import describe_code
from ..wire import CLOSE, PONG, Eof, RawConnection, accept_for
from .adapters import ANSWER_TIMEOUT, ClientOutcome, ClientUnderTest


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
Grader = Callable[["Misbehaviour", ClientOutcome, WireRecord], Verdict]


@dataclass(frozen=True)
class Misbehaviour:
    """What the bad server does (``act``, after the request was read) and how the client's
    reaction is graded; called with a client under test, it plays the case and grades it."""

    act: Act
    grade: Grader  # compares what the client did with what it must do
    expect_close: int | None = None  # the code of the Close the client must send
    fail_fast: bool = False  # the client must close before the server's last frame
    subprotocols: tuple[str, ...] = ()  # what the client offers

    async def __call__(self, client: ClientUnderTest) -> Verdict:
        async with BadServer(self) as server:
            outcome = await client(server.url, self.subprotocols)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.done.wait(), 3 * ANSWER_TIMEOUT)
        return self.grade(self, outcome, server.record)


ClientCase = Case[Misbehaviour]


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
    """Plays one client case (or its misbehaviour) per connection on 127.0.0.1 (port 0)."""

    def __init__(self, case: ClientCase | Misbehaviour) -> None:
        self.misbehaviour = case.run if isinstance(case, Case) else case
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
                await self.misbehaviour.act(conn, match.group(1) if match else "", self.record)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, Eof):
            pass
        finally:
            self.done.set()
            conn.abort()
