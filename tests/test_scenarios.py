"""wslearn.demo.scenarios: the raw client and the close-code provokers, checked against
the websockets library, which reports independently what it saw."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.server import serve as websockets_serve
from websockets.exceptions import ConnectionClosed as WebsocketsClosed

from wslearn.demo.scenarios import RawClient
from wslearn.frames import Opcode


class WebsocketsEchoServer:
    """The websockets library's echo server in a thread; ``codes`` is how each connection ended."""

    def __init__(self) -> None:
        self.codes: list[int] = []
        self.ended = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    async def _handler(self, ws: Any) -> None:
        try:
            async for message in ws:
                await ws.send(message)
        except WebsocketsClosed:
            pass
        self.codes.append(ws.close_code if ws.close_code is not None else 1006)
        self.ended.set()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self.stop_event = asyncio.Event()
        async with websockets_serve(self._handler, "127.0.0.1", 0, compression=None) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self.ready.set()
            await self.stop_event.wait()

    def __enter__(self) -> WebsocketsEchoServer:
        self.thread.start()
        assert self.ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(5)


@pytest.fixture
def websockets_server() -> Iterator[WebsocketsEchoServer]:
    with WebsocketsEchoServer() as server:
        yield server


def test_hanging_up_leaves_the_websockets_server_with_1006(websockets_server: WebsocketsEchoServer) -> None:
    client = RawClient(f"ws://127.0.0.1:{websockets_server.port}/")
    client.send(Opcode.TEXT, "Hello, WebSocket!")
    reply = client.recv()
    assert reply is not None and reply.payload == b"Hello, WebSocket!"
    client.hang_up()
    assert websockets_server.ended.wait(5)
    assert websockets_server.codes == [1006]


def test_closing_politely_gives_1000(websockets_server: WebsocketsEchoServer) -> None:
    client = RawClient(f"ws://127.0.0.1:{websockets_server.port}/")
    answer = client.close()
    assert answer is not None and answer.code == 1000
    assert websockets_server.ended.wait(5)
    assert websockets_server.codes == [1000]
