"""Bad input never hurts wslearn's server: each peer gets a clear answer, others are served.

Raw TCP clients send what no library would: broken handshakes, a request typed one byte
a second, unmasked frames, invalid UTF-8, reserved opcodes. Each gets the HTTP error or
the close code (with a reason) that RFC 6455 asks for, while a well-behaved websockets
client keeps talking to the same server.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any, cast

import pytest
from conftest import echo, run
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed as WsConnectionClosed

from wslearn.aio import Server, WebSocket, serve
from wslearn.errors import ConnectionClosed
from wslearn.eventlog import EventLog
from wslearn.frames import Close, Frame, Opcode, parse_frame, serialize_frame
from wslearn.handshake import Response, build_request, generate_key

MASK = b"\x11\x22\x33\x44"


class RawClient:
    """A TCP connection driven by hand: bytes out, frames or an HTTP answer in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buffer = bytearray()

    @classmethod
    async def open(cls, server: Server) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        return cls(reader, writer)

    @classmethod
    async def upgraded(cls, server: Server, path: str = "/") -> RawClient:
        """Open a connection and complete the opening handshake."""
        client = await cls.open(server)
        request = build_request(f"127.0.0.1:{server.port}", path, key=generate_key())
        client.writer.write(request.serialize())
        response = await client.read_response()
        assert response.status == 101
        return client

    def send_frame(self, frame: Frame) -> None:
        self.writer.write(serialize_frame(frame))

    async def read_response(self) -> Response:
        while True:
            parsed = Response.parse(bytes(self.buffer))
            if parsed is not None:
                response, used = parsed
                del self.buffer[:used]
                return response
            await self._fill()

    async def read_frame(self) -> Frame:
        while True:
            parsed = parse_frame(self.buffer)
            if parsed is not None:
                frame, used = parsed
                del self.buffer[:used]
                return frame
            await self._fill()

    async def read_close(self) -> Close:
        """Skip frames until the Close frame; return its code and reason."""
        while True:
            frame = await self.read_frame()
            if frame.opcode is Opcode.CLOSE:
                return Close.parse(frame.payload)

    async def at_eof(self) -> bool:
        """True when the server closes TCP (reads and drops anything before that); then
        close our side too."""
        while await self.reader.read(4096):
            pass
        self.writer.close()
        return True

    async def _fill(self) -> None:
        data = await self.reader.read(65536)
        if not data:
            raise EOFError("the server closed the connection")
        self.buffer += data

    def close(self) -> None:
        self.writer.transport.abort()


async def assert_still_serving(client: ClientConnection, text: str) -> None:
    await client.send(text)
    assert await client.recv() == text


# --- Malformed handshakes: an HTTP error whose body says why ----------------------------

BAD_REQUESTS = {
    "not HTTP at all": (b"hello there\r\n\r\n", 400, "request line"),
    "no Upgrade header": (
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n",
        426,
        "Upgrade",
    ),
    "key of the seed article (23 characters)": (
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: x4JJHMbDL22zLk1GBhXDw==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        400,
        "Sec-WebSocket-Key",
    ),
    "POST": (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        405,
        "GET",
    ),
    "version 8": (
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
        426,
        "13",
    ),
    "header section too big": (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431, ""),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_malformed_handshake_gets_http_error_saying_why(name: str) -> None:
    data, status, why = BAD_REQUESTS[name]

    async def main() -> None:
        async with await serve(echo) as server, ws_connect(server.url, compression=None) as good:
            raw = await RawClient.open(server)
            raw.writer.write(data)
            response = await raw.read_response()
            assert response.status == status
            body = response.body.decode()
            assert why in body
            assert int(response.headers["Content-Length"]) == len(response.body)
            assert await raw.at_eof()
            await assert_still_serving(good, f"after {name}")

    run(main())


def test_plain_http_get_without_upgrade_gets_an_explanation() -> None:
    async def main() -> None:
        async with await serve(echo) as server:
            raw = await RawClient.open(server)
            raw.writer.write(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            response = await raw.read_response()
            assert response.status in (400, 426)
            assert "upgrade" in response.body.decode().lower()

    run(main())


def test_handshake_timeout_drops_a_client_sending_one_byte_at_a_time() -> None:
    """Slowloris: a valid request, one byte every 0.25 s, never finished in time."""
    request = build_request("127.0.0.1", "/", key=generate_key()).serialize()

    async def main() -> None:
        async with await serve(echo, handshake_timeout=1, close_timeout=1) as server:
            raw = await RawClient.open(server)
            started = time.monotonic()

            async def trickle() -> None:
                for byte in request:
                    raw.writer.write(bytes([byte]))
                    await asyncio.sleep(0.25)

            trickling = asyncio.create_task(trickle())
            response = await raw.read_response()
            elapsed = time.monotonic() - started
            trickling.cancel()
            assert response.status == 408
            assert "did not arrive within 1 s" in response.body.decode()
            assert 0.9 < elapsed < 3
            assert await raw.at_eof()
            async with ws_connect(server.url, compression=None) as good:
                await assert_still_serving(good, "after the slow client")

    run(main())


def test_process_request_answers_plain_http_and_its_failure_is_a_500() -> None:
    def process_request(request: Any) -> Response | None:
        if request.path == "/page":
            return Response(200, "OK", body=b"a page")
        if request.path == "/broken":
            raise RuntimeError("bug in process_request")
        return None

    async def main() -> None:
        async with await serve(echo, process_request=process_request) as server:
            for path, status in [("/page", 200), ("/broken", 500)]:
                raw = await RawClient.open(server)
                raw.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                response = await raw.read_response()
                assert response.status == status
                assert response.headers["Connection"] == "close"  # one answer per connection
                assert await raw.at_eof()
            async with ws_connect(server.url + "/ws", compression=None) as good:
                await assert_still_serving(good, "after process_request")

    run(main())


# --- Protocol violations: the right close code, with a reason ---------------------------

VIOLATIONS = {
    "unmasked client frame": (Frame(Opcode.TEXT, b"hi"), 1002, "mask"),
    "invalid UTF-8 in a text frame": (Frame(Opcode.TEXT, b"ok \xff", masking_key=MASK), 1007, "UTF-8"),
    "reserved opcode 3": (Frame(cast(Opcode, 3), b"", masking_key=MASK), 1002, "reserved"),
    "reserved opcode 0xB": (Frame(cast(Opcode, 0xB), b"", masking_key=MASK), 1002, "reserved"),
    "RSV1 without extension": (Frame(Opcode.TEXT, b"x", rsv1=True, masking_key=MASK), 1002, "RSV"),
    "continuation with nothing to continue": (
        Frame(Opcode.CONTINUATION, b"x", masking_key=MASK),
        1002,
        "continuation",
    ),
    "fragmented ping": (Frame(Opcode.PING, b"", fin=False, masking_key=MASK), 1002, "fragmented"),
    "close with 1 byte payload": (Frame(Opcode.CLOSE, b"\x03", masking_key=MASK), 1002, "1 byte"),
}


@pytest.mark.parametrize("name", list(VIOLATIONS))
def test_protocol_violation_gets_close_code_and_reason(name: str) -> None:
    frame, code, why = VIOLATIONS[name]
    server_side: list[WebSocket] = []

    async def handler(ws: WebSocket) -> None:
        server_side.append(ws)
        await echo(ws)

    async def main() -> None:
        async with await serve(handler) as server, ws_connect(server.url, compression=None) as good:
            await assert_still_serving(good, "before")
            raw = await RawClient.upgraded(server)
            raw.send_frame(frame)
            close = await raw.read_close()
            assert close.code == code
            assert why in close.reason
            assert await raw.at_eof()  # the server closes TCP after failing the connection
            await assert_still_serving(good, "after")
            bad = server_side[1]
            await bad.wait_closed()
            assert bad.closed is not None
            assert (bad.closed.code, bad.closed.by) == (code, "local")

    run(main())


def test_violation_in_the_middle_of_traffic_spares_the_other_client() -> None:
    """Several raw clients misbehave while a good client keeps echoing."""

    async def main() -> None:
        async with await serve(echo) as server, ws_connect(server.url, compression=None) as good:

            async def misbehave(frame: Frame) -> int:
                raw = await RawClient.upgraded(server)
                raw.send_frame(Frame(Opcode.TEXT, b"fine", masking_key=MASK))
                assert (await raw.read_frame()).payload == b"fine"
                raw.send_frame(frame)
                return (await raw.read_close()).code

            async def behave() -> None:
                for i in range(50):
                    await assert_still_serving(good, f"message {i}")

            codes = await asyncio.gather(*(misbehave(frame) for frame, _, _ in VIOLATIONS.values()), behave())
            assert codes[:-1] == [code for _, code, _ in VIOLATIONS.values()]

    run(main())


# --- Handler errors ---------------------------------------------------------------------


def test_handler_exception_closes_with_1011_and_server_goes_on() -> None:
    log = EventLog()

    async def handler(ws: WebSocket) -> None:
        message = await ws.recv()
        if message == "boom":
            raise ValueError("the handler has a bug")
        await echo(ws)

    async def main() -> None:
        async with await serve(handler, event_log=log) as server:
            async with ws_connect(server.url, compression=None) as victim:
                await victim.send("boom")
                with pytest.raises(WsConnectionClosed) as info:
                    await victim.recv()
                assert info.value.rcvd is not None
                assert info.value.rcvd.code == 1011
                assert "internal error" in info.value.rcvd.reason
                assert "ValueError" not in info.value.rcvd.reason  # no internals for the peer
            async with ws_connect(server.url, compression=None) as good:
                await good.send("first")
                await assert_still_serving(good, "fine")

    run(main())
    errors = [event.preview for event in log.events() if event.kind == "error"]
    assert any("ValueError: the handler has a bug" in text for text in errors)


def test_handler_that_returns_closes_with_1000() -> None:
    async def handler(ws: WebSocket) -> None:
        await ws.send("one message and goodbye")

    async def main() -> None:
        async with await serve(handler) as server, ws_connect(server.url, compression=None) as client:
            assert await client.recv() == "one message and goodbye"
            with pytest.raises(WsConnectionClosed):
                await client.recv()
            assert client.close_code == 1000

    run(main())


def test_client_vanishing_without_close_frame_is_1006() -> None:
    outcome: list[ConnectionClosed] = []

    async def handler(ws: WebSocket) -> None:
        try:
            await ws.recv()
        except ConnectionClosed as closed:
            outcome.append(closed)

    async def main() -> None:
        async with await serve(handler) as server:
            raw = await RawClient.upgraded(server)
            raw.close()  # TCP reset, no Close frame
            while not outcome:
                await asyncio.sleep(0.01)
            assert not server.connections or all(ws.closed for ws in server.connections)

    run(main())
    assert (outcome[0].code, outcome[0].by) == (1006, "nobody")


# --- Slow readers never block the others ------------------------------------------------


def test_broadcast_closes_a_slow_reader_with_1013_and_others_get_everything() -> None:
    """A client that stops reading fills its send queue; a broadcast closes it with 1013
    instead of waiting, and the readers that keep up receive every message."""
    count, size = 300, 64 * 1024

    async def main() -> None:
        joined = asyncio.Event()
        members: list[WebSocket] = []

        async def handler(ws: WebSocket) -> None:
            members.append(ws)
            if len(members) == 3:
                joined.set()
            async for _ in ws:
                pass

        async with await serve(handler, max_queue=8, close_timeout=10) as server:
            fast = [await ws_connect(server.url, compression=None, max_queue=None) for _ in range(2)]
            slow_sock = socket.socket()
            slow_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow_sock.connect(("127.0.0.1", server.port))
            reader, writer = await asyncio.open_connection(sock=slow_sock)
            slow = RawClient(reader, writer)
            slow.writer.write(build_request("127.0.0.1", "/", key=generate_key()).serialize())
            await joined.wait()

            async def read_all(client: ClientConnection) -> int:
                got = 0
                for _ in range(count):
                    message = await client.recv()
                    assert len(message) == size
                    got += 1
                return got

            readers = [asyncio.create_task(read_all(client)) for client in fast]
            queued = []
            for i in range(count):
                queued.append(server.broadcast(bytes([i % 256]) * size))
                await asyncio.sleep(0.002)
            assert await asyncio.gather(*readers) == [count, count]
            assert queued[0] == 3 and queued[-1] == 2  # the slow one dropped out on the way
            # The slow client finally reads: behind the data it finds the Close frame.
            assert (await slow.read_response()).status == 101
            close = await slow.read_close()
            assert close.code == 1013
            assert "too slow" in close.reason
            slow.close()
            for client in fast:
                await client.close()

    run(main())


def test_slow_reader_does_not_delay_echo_for_others() -> None:
    """A client that sends a lot and never reads only ever blocks its own handler."""

    async def main() -> None:
        async with await serve(echo, max_queue=4) as server:
            hog_sock = socket.socket()
            hog_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            hog_sock.connect(("127.0.0.1", server.port))
            reader, writer = await asyncio.open_connection(sock=hog_sock)
            hog = RawClient(reader, writer)
            hog.writer.write(build_request("127.0.0.1", "/", key=generate_key()).serialize())
            assert (await hog.read_response()).status == 101
            chunk = serialize_frame(Frame(Opcode.BINARY, b"z" * 65536, masking_key=MASK))
            for _ in range(200):  # 13 MB to echo, and the hog never reads the echoes
                hog.writer.write(chunk)
            async with ws_connect(server.url, compression=None) as good:
                started = time.monotonic()
                for i in range(100):
                    await assert_still_serving(good, f"quick {i}")
                assert time.monotonic() - started < 5
            hog.close()

    run(main())
