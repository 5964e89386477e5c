"""wslearn.demo.scenarios: the raw client and the close-code provokers, checked against
the websockets library, which reports independently what it saw."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect as websockets_connect
from websockets.asyncio.server import serve as websockets_serve
from websockets.exceptions import ConnectionClosed as WebsocketsClosed
from websockets.frames import Frame as WebsocketsFrame
from websockets.frames import Opcode as WebsocketsOpcode

from wslearn.demo.scenarios import PROVOKERS, RawClient, provoke, scenario_server
from wslearn.frames import Opcode, is_valid_close_code
from wslearn.notebook import BackgroundServer, running_servers


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


def test_resetting_leaves_the_websockets_server_with_1006(websockets_server: WebsocketsEchoServer) -> None:
    client = RawClient(f"ws://127.0.0.1:{websockets_server.port}/")
    client.send(Opcode.TEXT, "Hello")
    assert client.recv() is not None
    client.reset()
    assert websockets_server.ended.wait(5)
    assert websockets_server.codes == [1006]


# --- The provokers ----------------------------------------------------------------------------

ALL_WAYS = [(code, how) for code, ways in PROVOKERS.items() for how, _ in ways]


@pytest.fixture(scope="module")
def scenarios() -> Iterator[BackgroundServer]:
    server = scenario_server()
    yield server
    for name, running in running_servers().items():
        if name.startswith("close codes"):
            running.stop()


@pytest.mark.parametrize(("code", "how"), ALL_WAYS, ids=[f"{code}-{how}" for code, how in ALL_WAYS])
def test_each_provoker_produces_its_code(scenarios: BackgroundServer, code: int, how: str) -> None:
    provoked = provoke(code, scenarios, how=how)
    assert provoked.code == code, provoked.text()
    assert provoked.ok
    # A code that may be sent was carried by a Close frame; 1005, 1006 and 1015 never are.
    assert provoked.on_wire == is_valid_close_code(code)
    closes = [frame for _, frame in provoked.frames if frame.opcode is Opcode.CLOSE]
    wire_codes = {int.from_bytes(frame.payload[:2], "big") for frame in closes if frame.payload}
    assert (code in wire_codes) == provoked.on_wire
    assert str(code) in provoked._repr_html_()


def test_the_server_side_of_each_code(scenarios: BackgroundServer) -> None:
    # What the server's log says matches what the client saw (1015: the TLS bytes were
    # answered as bad HTTP; there was never a WebSocket to close).
    for code in (1000, 1002, 1006, 1007, 1009, 1011, 3000):
        assert provoke(code, scenarios).server_saw.startswith(str(code))
    assert "400" in provoke(1015, scenarios).server_saw


def test_provoke_explains_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="these can be provoked"):
        provoke(1004)
    with pytest.raises(ValueError, match="ping timeout"):
        provoke(1011, how="nonsense")


def test_provoked_views_escape_the_reason(scenarios: BackgroundServer) -> None:
    provoked = provoke(1008, scenarios)
    assert "'please'" in provoked.text()
    assert "<script" not in provoked._repr_html_()


# --- The same codes, seen by the websockets library's client ------------------------------------


async def _websockets_sees(url: str, action: Callable[[Any], Awaitable[None]] | None = None) -> int | None:
    """Connect with the websockets library, do ``action``, and return the close code it received."""
    async with websockets_connect(
        url, compression=None, open_timeout=2, close_timeout=1, ping_interval=None
    ) as ws:
        try:
            if action is not None:
                await action(ws)
            async with asyncio.timeout(3):
                while True:
                    await ws.recv()
        except WebsocketsClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
    return None


def _send(message: Any, **options: Any) -> Callable[[Any], Awaitable[None]]:
    async def action(ws: Any) -> None:
        await ws.send(message, **options)

    return action


async def _orphan_continuation(ws: Any) -> None:
    # websockets refuses to build a bad sequence; its sans-I/O layer can still send the frame.
    async with ws.send_context():
        ws.protocol.send_frame(WebsocketsFrame(WebsocketsOpcode.CONT, b"orphan"))


async def _empty_close(ws: Any) -> None:
    async with ws.send_context():
        ws.protocol.send_close()  # no code: an empty Close payload


async def _demand_extension(ws: Any) -> None:
    await ws.close(1010, "x-wslearn-required")


WEBSOCKETS_CASES: list[tuple[int, str, Callable[[Any], Awaitable[None]] | None]] = [
    (1000, "/bye", None),
    (1002, "/echo", _orphan_continuation),
    (1003, "/text-only", _send(b"\x00\x01")),
    (1005, "/echo", _empty_close),
    (1007, "/echo", _send(b"caf\xff", text=True)),
    (1008, "/policy", _send("let me in")),
    (1009, "/echo", _send(bytes(2000))),
    (1010, "/echo", _demand_extension),
    (1011, "/raise", _send("boom")),
    (1012, "/restart", None),
    (1013, "/busy", None),
    (3000, "/custom/3000", None),
    (4000, "/custom/4000", None),
]


@pytest.mark.parametrize(
    ("code", "path", "action"), WEBSOCKETS_CASES, ids=[str(c[0]) for c in WEBSOCKETS_CASES]
)
def test_a_websockets_client_sees_the_same_code(
    scenarios: BackgroundServer, code: int, path: str, action: Callable[[Any], Awaitable[None]] | None
) -> None:
    logging.getLogger("wslearn.aio").setLevel(logging.CRITICAL if code == 1011 else logging.NOTSET)
    try:
        assert asyncio.run(_websockets_sees(scenarios.url + path, action)) == code
    finally:
        logging.getLogger("wslearn.aio").setLevel(logging.NOTSET)


def test_a_websockets_client_sees_1001_when_the_server_stops() -> None:
    own = scenario_server("close codes: websockets 1001")

    async def stop_meanwhile(ws: Any) -> None:
        await asyncio.sleep(0.05)
        threading.Thread(target=own.stop, daemon=True).start()

    assert asyncio.run(_websockets_sees(own.url + "/echo", stop_meanwhile)) == 1001


def test_a_websockets_client_sees_1014_from_the_gateway(scenarios: BackgroundServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    assert asyncio.run(_websockets_sees(scenarios.url + f"/gateway/{dead_port}")) == 1014


def test_the_gateway_relays_while_its_upstream_works(scenarios: BackgroundServer) -> None:
    async def talk() -> object:
        url = scenarios.url + f"/gateway/{scenarios.port}"  # upstream: the scenario server's echo
        async with websockets_connect(url, compression=None, open_timeout=2) as ws:
            await ws.send("through the gateway")
            return await asyncio.wait_for(ws.recv(), 2)

    assert asyncio.run(talk()) == "through the gateway"


def test_1015_a_websockets_client_fails_in_tls_too(scenarios: BackgroundServer) -> None:
    # 1015 never crosses the wire, so no client can receive it: what can be checked is that
    # the TLS handshake fails for an independent client as well, before any WebSocket opens.
    url = f"wss://127.0.0.1:{scenarios.port}/echo"

    async def attempt() -> None:
        async with websockets_connect(url, ssl=ssl.create_default_context(), open_timeout=2):
            pass

    with pytest.raises(ssl.SSLError):
        asyncio.run(attempt())
    assert provoke(1015, scenarios).code == 1015


def test_1011_ping_timeout_is_what_the_server_logged(scenarios: BackgroundServer) -> None:
    # A websockets client answers every Ping by itself, so it cannot provoke this; the raw
    # client never answers, and the server's own log gives the reason.
    provoked = provoke(1011, scenarios, how="ping timeout")
    assert "no pong" in provoked.server_saw
    assert any(frame.opcode is Opcode.PING for direction, frame in provoked.frames if direction == "received")
