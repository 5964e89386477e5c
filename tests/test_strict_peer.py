"""Stricter than every peer: what the Autobahn TestSuite and real clients found.

* messages that were whole before a protocol violation are delivered (and answered)
  before the connection fails;
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from wslearn.aio import WebSocket, connect
from wslearn.conformance.wire import CONTINUATION, TEXT, accept_for, build_frame
from wslearn.errors import ConnectionClosed
from wslearn.frames import Close, Frame, Opcode, parse_frame

TIMEOUT = 20


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


async def read_frames(reader: asyncio.StreamReader) -> list[Frame]:
    """Every frame a peer sends, up to its Close frame or the end of TCP."""
    data, frames = b"", []
    while not frames or frames[-1].opcode is not Opcode.CLOSE:
        parsed = parse_frame(data)
        if parsed is None:
            more = await reader.read(65536)
            if not more:
                break
            data += more
            continue
        frame, used = parsed
        frames.append(frame)
        data = data[used:]
    return frames


async def raw_server(after_101: bytes, frames_back: list[list[Frame]]) -> asyncio.Server:
    """A hand-written server: it accepts any handshake, writes ``after_101`` in the same
    write as its 101 answer, and keeps every frame the client sends in ``frames_back``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        answer = (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_for(key)}\r\n\r\n"
        )
        writer.write(answer.encode() + after_101)
        frames_back.append(await read_frames(reader))
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


# --- Deliver what came before the error ------------------------------------------------------


def test_client_answers_the_messages_before_a_violation_then_fails() -> None:
    # The server writes two whole messages (one fragmented) and then a continuation
    # frame with nothing to continue, all at once (Autobahn 5.15, from the server side).
    data = build_frame(TEXT, b"first", masked=False)
    data += build_frame(TEXT, b"sec", fin=False, masked=False)
    data += build_frame(CONTINUATION, b"ond", masked=False)
    data += build_frame(CONTINUATION, b"nothing to continue", masked=False)
    frames_back: list[list[Frame]] = []
    received: list[str | bytes] = []

    async def main() -> ConnectionClosed:
        server = await raw_server(data, frames_back)
        port = server.sockets[0].getsockname()[1]
        async with server:
            ws: WebSocket
            async with connect(f"ws://127.0.0.1:{port}/") as ws:
                try:
                    async for message in ws:
                        received.append(message)
                        await ws.send(f"echo {message!s}")
                except ConnectionClosed as closed:
                    return closed
            raise AssertionError("the connection should have failed")

    closed = run(main())
    assert received == ["first", "second"]
    assert (closed.code, closed.by) == (1002, "local")
    [frames] = frames_back
    assert [frame.payload for frame in frames[:2]] == [b"echo first", b"echo second"]
    assert frames[2].opcode is Opcode.CLOSE and Close.parse(frames[2].payload).code == 1002
    assert len(frames) == 3
