"""Attacks on the asyncio layer: a peer that resets under a send, text that has no UTF-8.

A handler written to catch :class:`ConnectionClosed` must be enough, whatever the peer does.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

import pytest
from conftest import run

from wslearn.aio import WebSocket, connect, serve
from wslearn.errors import ConnectionClosed
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.handshake import Response, build_request, generate_key

MASK = b"\x11\x22\x33\x44"


async def upgraded(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client that upgrades, then reads nothing: small buffers, so the server's writes wait."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    writer.write(build_request(f"127.0.0.1:{port}", "/", key=generate_key()).serialize())
    head = await reader.readuntil(b"\r\n\r\n")
    parsed = Response.parse(head)
    assert parsed is not None and parsed[0].status == 101
    return reader, writer


def reset(writer: asyncio.StreamWriter) -> None:
    """Vanish with a TCP RST (SO_LINGER 0): the server's next write fails with ECONNRESET."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def test_a_reset_under_send_raises_connection_closed(caplog: pytest.LogCaptureFixture) -> None:
    """50 clients send 4 MiB to an echo server without reading its answers, then reset.
    Before, about half the handlers got ConnectionResetError from ws.send() and the
    server logged "handler failed" with a traceback."""
    outcomes: list[str] = []

    async def echo(ws: WebSocket) -> None:
        try:
            async for message in ws:
                await ws.send(message)
        except ConnectionClosed:
            outcomes.append("ConnectionClosed")
            raise
        except Exception as exc:
            outcomes.append(type(exc).__name__)
            raise
        outcomes.append("end")

    frame = serialize_frame(Frame(Opcode.BINARY, b"x" * 65536, masking_key=MASK))

    async def main() -> None:
        async with await serve(echo, ping_interval=None) as server:
            for _ in range(50):
                _, writer = await upgraded(server.port)
                writer.write(frame * 64)  # 4 MiB: the server is still echoing when we reset
                await asyncio.sleep(0.02)
                reset(writer)
            for _ in range(200):
                if len(outcomes) == 50:
                    break
                await asyncio.sleep(0.02)

    with caplog.at_level(logging.ERROR, logger="wslearn.aio"):
        run(main())
    assert len(outcomes) == 50
    assert set(outcomes) <= {"ConnectionClosed", "end"}, outcomes
    assert "ConnectionClosed" in outcomes  # the resets did land under a send (ws.send raised)
    assert not [r for r in caplog.records if "handler failed" in r.getMessage()]


def test_text_with_a_lone_surrogate_is_refused_before_it_is_queued() -> None:
    async def handler(ws: WebSocket) -> None:
        with pytest.raises(ValueError, match="lone surrogate U\\+D800 at position 3"):
            await ws.send("abc\ud800")
        with pytest.raises(ValueError, match="lone surrogate"):
            ws.send_nowait("\udfff")
        with pytest.raises(ValueError, match="lone surrogate"):
            await ws.send_fragments(["ok", "\ud83d"])
        await ws.send("still open ✓")

    async def main() -> None:
        async with await serve(handler, ping_interval=None) as server, connect(server.url) as client:
            assert await client.recv(timeout=5) == "still open ✓"

    run(main())
