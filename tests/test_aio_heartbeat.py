"""Heartbeats (RFC 6455 §5.5.2): pings every ping_interval, 1011 when no pong comes back.

The silent peers here are raw TCP endpoints that complete the opening handshake and then
never answer: the server must notice within ping_interval + ping_timeout, and so must
the client.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import run
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve

from wslearn.aio import WebSocket, connect, serve
from wslearn.errors import ConnectionClosed
from wslearn.eventlog import EventLog
from wslearn.frames import Close, Opcode, parse_frame
from wslearn.handshake import Request, Response, build_accept_response, build_request, generate_key

TIMEOUT = 20
INTERVAL = 0.3
PONG_TIMEOUT = 0.3
SLACK = 0.5  # scheduling, CI machines


async def idle(ws: WebSocket) -> None:
    async for _ in ws:
        pass


def test_server_closes_a_silent_client_with_1011() -> None:
    members: list[WebSocket] = []

    async def handler(ws: WebSocket) -> None:
        members.append(ws)
        await idle(ws)

    async def main() -> None:
        async with await serve(handler, ping_interval=INTERVAL, ping_timeout=PONG_TIMEOUT) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(build_request("127.0.0.1", "/", key=generate_key()).serialize())
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 101")
            opened = time.monotonic()
            while not members:
                await asyncio.sleep(0.01)
            # From here on the client reads nothing and answers nothing.
            await members[0].wait_closed()
            elapsed = time.monotonic() - opened
            closed = members[0].closed
            assert closed is not None
            assert (closed.code, closed.by) == (1011, "local")
            assert "pong" in closed.reason
            assert INTERVAL + PONG_TIMEOUT - 0.05 < elapsed < INTERVAL + PONG_TIMEOUT + SLACK
            # What the silent client would have read: a Ping, then the Close frame.
            wire = await reader.read()
            ping, used = parse_frame(wire) or pytest.fail("no frame")
            assert ping.opcode is Opcode.PING
            close_frame, _ = parse_frame(wire, used) or pytest.fail("no Close frame")
            assert Close.parse(close_frame.payload).code == 1011
            writer.close()

    run(main())


async def silent_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept the WebSocket handshake (RFC 6455 §4.2.2), then never answer anything."""
    data = bytearray()
    while (parsed := Request.parse(bytes(data))) is None:
        chunk = await reader.read(4096)
        if not chunk:
            writer.close()
            return
        data += chunk
    request, _ = parsed
    writer.write(build_accept_response(request).serialize())
    while await reader.read(4096):  # read and ignore everything, pings included
        pass
    writer.close()


def test_client_closes_a_silent_server_with_1011() -> None:
    async def main() -> None:
        server = await asyncio.start_server(silent_server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            ws = await connect(f"ws://127.0.0.1:{port}/", ping_interval=INTERVAL, ping_timeout=PONG_TIMEOUT)
            opened = time.monotonic()
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv(timeout=5)
            elapsed = time.monotonic() - opened
            assert (info.value.code, info.value.by) == (1011, "local")
            assert INTERVAL + PONG_TIMEOUT - 0.05 < elapsed < INTERVAL + PONG_TIMEOUT + SLACK
            await ws.wait_closed()

    run(main())


def test_ping_raises_when_the_connection_ends_before_the_pong() -> None:
    async def main() -> None:
        server = await asyncio.start_server(silent_server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            ws = await connect(f"ws://127.0.0.1:{port}/", close_timeout=0.5)
            pinging = asyncio.create_task(ws.ping())
            await asyncio.sleep(0.05)
            assert not pinging.done()
            await ws.close()  # the silent server never answers: dropped after close_timeout
            with pytest.raises(ConnectionClosed):
                await pinging

    run(main())


def test_server_heartbeat_records_round_trips_with_a_live_client() -> None:
    log = EventLog()
    members: list[WebSocket] = []

    async def handler(ws: WebSocket) -> None:
        members.append(ws)
        await idle(ws)

    async def main() -> None:
        async with (
            await serve(handler, ping_interval=0.1, ping_timeout=1, event_log=log) as server,
            ws_connect(server.url, compression=None) as client,
        ):
            await asyncio.sleep(0.65)
            (ws,) = members
            assert len(ws.rtts) >= 3
            assert all(0 < rtt < 1 for rtt in ws.rtts)
            await client.send("still open")  # the heartbeat did not disturb anything
            assert ws.closed is None

    run(main())
    rtt_events = [event for event in log.events() if event.kind == "rtt"]
    assert len(rtt_events) >= 3
    pings = [e for e in log.events() if e.kind == "frame" and e.opcode == "PING" and e.direction == "out"]
    pongs = [e for e in log.events() if e.kind == "frame" and e.opcode == "PONG" and e.direction == "in"]
    assert len(pings) >= 3
    assert len(pongs) >= 3
    assert all(e.masked for e in pongs)  # a client masks its pongs too (RFC 6455 §5.3)


def test_client_heartbeat_records_round_trips_with_websockets_server() -> None:
    async def handler(connection: ServerConnection) -> None:
        async for _ in connection:
            pass

    async def main() -> None:
        async with ws_serve(handler, "127.0.0.1", 0, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}", ping_interval=0.1, ping_timeout=1) as ws:
                await asyncio.sleep(0.65)
                assert len(ws.rtts) >= 3
                assert ws.closed is None

    run(main())


def test_heartbeat_is_off_when_ping_interval_is_none() -> None:
    log = EventLog()

    async def main() -> None:
        async with (
            await serve(idle, ping_interval=None, event_log=log) as server,
            ws_connect(server.url, compression=None),
        ):
            await asyncio.sleep(0.3)

    run(main())
    assert not [event for event in log.events() if event.opcode == "PING"]


def test_silent_server_pong_check_uses_accept_key() -> None:
    """The silent server above is a real WebSocket server for the handshake: its answer
    carries the right Sec-WebSocket-Accept, so only the heartbeat can catch it."""

    async def main() -> None:
        server = await asyncio.start_server(silent_server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(build_request("127.0.0.1", "/", key="dGhlIHNhbXBsZSBub25jZQ==").serialize())
            head = await reader.readuntil(b"\r\n\r\n")
            parsed = Response.parse(head)
            assert parsed is not None
            assert parsed[0].headers["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
            writer.close()

    run(main())
