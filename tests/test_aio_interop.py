"""wslearn's asyncio server and client against the reference implementation, both ways.

The websockets library's client talks to wslearn's server, and wslearn's client talks to
a websockets server: echo of text and binary, subprotocols, close codes in both
directions, large and fragmented messages, pings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from conftest import echo, run
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed as WsConnectionClosed
from websockets.typing import Subprotocol

from wslearn.aio import WebSocket, connect, serve
from wslearn.errors import ConnectionClosed, HandshakeError

TIMEOUT = 20
BIG = 3 * 2**20 + 7  # more than 1 MiB, not a multiple of anything
LIMIT = 4 * 2**20


# --- the websockets client against wslearn's server -----------------------------------


def test_echo_text_and_binary_to_websockets_client() -> None:
    async def main() -> None:
        async with await serve(echo) as server, ws_connect(server.url + "/ws", compression=None) as client:
            messages: list[str | bytes] = ["hello", "", "héllo wörld ✓ 🎉", b"\x00\x01\xff", b""]
            for message in messages:
                await client.send(message)
                reply = await client.recv()
                assert reply == message
                assert type(reply) is type(message)

    run(main())


def test_subprotocol_negotiation_with_websockets_client() -> None:
    seen: list[str | None] = []

    async def handler(ws: WebSocket) -> None:
        seen.append(ws.subprotocol)
        await ws.send(ws.subprotocol or "none")

    async def main() -> None:
        async with await serve(handler, subprotocols=["chat", "superchat"]) as server:
            # The server picks the client's first offer that it supports.
            offer = [Subprotocol("superchat"), Subprotocol("chat")]
            async with ws_connect(server.url, subprotocols=offer, compression=None) as c:
                assert c.subprotocol == "superchat"
                assert await c.recv() == "superchat"
            async with ws_connect(server.url, subprotocols=[Subprotocol("v9")], compression=None) as c:
                assert c.subprotocol is None
                assert await c.recv() == "none"

    run(main())
    assert seen == ["superchat", None]


def test_server_closes_with_custom_code() -> None:
    async def handler(ws: WebSocket) -> None:
        await ws.recv()
        await ws.close(4000, "custom reason")

    async def main() -> None:
        async with await serve(handler) as server, ws_connect(server.url, compression=None) as client:
            await client.send("go")
            with pytest.raises(WsConnectionClosed) as info:
                await client.recv()
            assert info.value.rcvd is not None
            assert (info.value.rcvd.code, info.value.rcvd.reason) == (4000, "custom reason")

    run(main())


def test_websockets_client_closes_with_custom_code() -> None:
    outcome: asyncio.Future[ConnectionClosed] | None = None

    async def handler(ws: WebSocket) -> None:
        assert outcome is not None
        try:
            await ws.recv()
        except ConnectionClosed as closed:
            outcome.set_result(closed)

    async def main() -> None:
        nonlocal outcome
        outcome = asyncio.get_running_loop().create_future()
        async with await serve(handler) as server:
            client = await ws_connect(server.url, compression=None)
            await client.close(4001, "bye now")
            closed = await outcome
            assert (closed.code, closed.reason, closed.by) == (4001, "bye now", "remote")
            assert client.close_code == 4001

    run(main())


def test_async_for_ends_quietly_on_1000_but_raises_otherwise() -> None:
    results: list[str] = []

    async def handler(ws: WebSocket) -> None:
        try:
            async for _ in ws:
                pass
            results.append("ended quietly")
        except ConnectionClosed as closed:
            results.append(f"raised {closed.code}")

    async def main() -> None:
        async with await serve(handler) as server:
            for code in (1000, 1001, 4004):
                client = await ws_connect(server.url, compression=None)
                await client.send("x")
                await client.close(code)
            while len(results) < 3:
                await asyncio.sleep(0.01)

    run(main())
    assert results == ["ended quietly", "ended quietly", "raised 4004"]


def test_large_messages_with_websockets_client() -> None:
    async def main() -> None:
        async with (
            await serve(echo, max_message_size=LIMIT) as server,
            ws_connect(server.url, compression=None, max_size=LIMIT) as client,
        ):
            text = "é" * (BIG // 2)
            data = bytes(range(256)) * (BIG // 256)
            await client.send(text)
            assert await client.recv() == text
            await client.send(data)
            assert await client.recv() == data

    run(main())


def test_too_large_message_closes_with_1009() -> None:
    async def main() -> None:
        async with (
            await serve(echo, max_message_size=1000) as server,
            ws_connect(server.url, compression=None) as client,
        ):
            await client.send(b"x" * 1001)
            with pytest.raises(WsConnectionClosed) as info:
                await client.recv()
            assert info.value.rcvd is not None
            assert info.value.rcvd.code == 1009
            assert "1001 bytes" in info.value.rcvd.reason

    run(main())


def test_fragmented_messages_from_websockets_client() -> None:
    async def main() -> None:
        async with await serve(echo) as server, ws_connect(server.url, compression=None) as client:
            await client.send(["frag", "mented ", "téxt"])  # websockets sends one frame per item
            assert await client.recv() == "fragmented téxt"
            await client.send([b"\x01", b"", b"\x02\x03"])
            assert await client.recv() == b"\x01\x02\x03"

    run(main())


def test_send_fragments_to_websockets_client() -> None:
    async def handler(ws: WebSocket) -> None:
        await ws.send_fragments(["one ", "two ", "three"])
        await ws.send_fragments([b"\x00" * 70000, b"\x01" * 10])
        await ws.recv()

    async def main() -> None:
        async with await serve(handler) as server, ws_connect(server.url, compression=None) as client:
            assert await client.recv() == "one two three"
            assert await client.recv() == b"\x00" * 70000 + b"\x01" * 10

    run(main())


def test_pings_both_ways_with_websockets_client() -> None:
    rtts: list[float] = []

    async def handler(ws: WebSocket) -> None:
        rtts.append(await ws.ping())
        rtts.append(await ws.ping(b"custom payload"))
        await ws.send("pinged")
        await echo(ws)

    async def main() -> None:
        async with await serve(handler) as server, ws_connect(server.url, compression=None) as client:
            assert await client.recv() == "pinged"
            latency = await (await client.ping(b"from the client"))  # wslearn answers with a Pong
            assert latency >= 0
            await client.send("still open")
            assert await client.recv() == "still open"
            (ws,) = server.connections
            assert list(ws.rtts) == rtts

    run(main())
    assert len(rtts) == 2
    assert all(0 < rtt < TIMEOUT for rtt in rtts)


def test_connection_attributes_seen_by_handler() -> None:
    seen: dict[str, Any] = {}

    async def handler(ws: WebSocket) -> None:
        assert ws.request is not None
        seen.update(path=ws.path, query=ws.request.query, address=ws.remote_address, state=ws.state.name)
        await ws.send("ok")

    async def main() -> None:
        async with (
            await serve(handler) as server,
            ws_connect(server.url + "/chat?room=1", compression=None) as client,
        ):
            assert await client.recv() == "ok"
            assert seen["address"] == client.local_address[:2]

    run(main())
    assert seen["path"] == "/chat"
    assert seen["query"] == {"room": "1"}
    assert seen["state"] == "OPEN"


# --- wslearn's client against a websockets server -------------------------------------


async def ws_echo(connection: ServerConnection) -> None:
    async for message in connection:
        await connection.send(message)


def with_websockets_server(
    handler: Callable[[ServerConnection], Awaitable[None]], **options: Any
) -> Callable[[Callable[[str], Awaitable[None]]], None]:
    """Run ``test(url)`` against a websockets server running ``handler``."""

    def decorate(test: Callable[[str], Awaitable[None]]) -> None:
        async def main() -> None:
            async with ws_serve(handler, "127.0.0.1", 0, compression=None, **options) as server:
                port = server.sockets[0].getsockname()[1]
                await test(f"ws://127.0.0.1:{port}")

        run(main())

    return decorate


def test_wslearn_client_echo_text_and_binary() -> None:
    @with_websockets_server(ws_echo)
    async def _(url: str) -> None:
        async with connect(url + "/echo") as ws:
            messages: list[str | bytes] = ["hello", "", "héllo ✓ 🎉", b"\x00\xff", b""]
            for message in messages:
                await ws.send(message)
                reply = await ws.recv(timeout=5)
                assert reply == message
                assert type(reply) is type(message)
        assert ws.closed is not None
        assert (ws.closed.code, ws.closed.by) == (1000, "local")


def test_wslearn_client_subprotocols() -> None:
    async def handler(connection: ServerConnection) -> None:
        await connection.send(connection.subprotocol or "none")

    @with_websockets_server(handler, subprotocols=["chat", "superchat"])
    async def _(url: str) -> None:
        # websockets picks by the server's order of preference: "chat" first.
        async with connect(url, subprotocols=["superchat", "chat"]) as ws:
            assert ws.subprotocol == "chat"
            assert await ws.recv(timeout=5) == "chat"
        async with connect(url, subprotocols=["superchat"]) as ws:
            assert ws.subprotocol == "superchat"
            assert await ws.recv(timeout=5) == "superchat"


def test_wslearn_client_refused_handshake_raises_with_status() -> None:
    async def handler(connection: ServerConnection) -> None:
        await connection.send("unreachable")

    def refuse(connection: ServerConnection, request: Any) -> Any:
        return connection.respond(403, "no entry\n")

    @with_websockets_server(handler, process_request=refuse)
    async def _(url: str) -> None:
        with pytest.raises(HandshakeError) as info:
            await connect(url)
        assert info.value.status == 403


def test_wslearn_client_closes_with_custom_code() -> None:
    codes: list[tuple[int | None, str | None]] = []

    async def handler(connection: ServerConnection) -> None:
        try:
            await connection.recv()
        except WsConnectionClosed:
            codes.append((connection.close_code, connection.close_reason))

    @with_websockets_server(handler)
    async def _(url: str) -> None:
        ws = await connect(url)
        await ws.close(3001, "client says bye")
        assert ws.closed is not None
        assert (ws.closed.code, ws.closed.by) == (3001, "local")
        for _ in range(100):
            if codes:
                break
            await asyncio.sleep(0.01)

    assert codes == [(3001, "client says bye")]


def test_websockets_server_closes_wslearn_client_with_custom_code() -> None:
    async def handler(connection: ServerConnection) -> None:
        await connection.close(4002, "server says bye")

    @with_websockets_server(handler)
    async def _(url: str) -> None:
        async with connect(url) as ws:
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv(timeout=5)
            assert (info.value.code, info.value.reason, info.value.by) == (4002, "server says bye", "remote")


def test_wslearn_client_large_and_fragmented_messages() -> None:
    async def handler(connection: ServerConnection) -> None:
        await connection.send(["a" * 100, "b" * 70000, "ç"])  # one message, three frames
        await ws_echo(connection)

    @with_websockets_server(handler, max_size=LIMIT)
    async def _(url: str) -> None:
        async with connect(url, max_message_size=LIMIT) as ws:
            assert await ws.recv(timeout=5) == "a" * 100 + "b" * 70000 + "ç"
            data = bytes(range(256)) * (BIG // 256)
            await ws.send(data)
            assert await ws.recv(timeout=10) == data
            await ws.send_fragments(["x" * 200000, "y", "é" * 3])
            assert await ws.recv(timeout=10) == "x" * 200000 + "y" + "é" * 3


def test_wslearn_client_ping_returns_round_trip() -> None:
    @with_websockets_server(ws_echo)
    async def _(url: str) -> None:
        async with connect(url) as ws:
            rtt = await ws.ping()
            assert 0 < rtt < 5
            assert list(ws.rtts) == [rtt]


def test_wslearn_client_answers_server_pings() -> None:
    async def handler(connection: ServerConnection) -> None:
        latency = await asyncio.wait_for(await connection.ping(b"are you there"), 5)
        await connection.send(f"pong after {latency:.6f}")

    @with_websockets_server(handler)
    async def _(url: str) -> None:
        async with connect(url) as ws:
            reply = await ws.recv(timeout=5)
            assert isinstance(reply, str)
            assert reply.startswith("pong after ")


def test_wslearn_client_recv_timeout_keeps_connection_open() -> None:
    @with_websockets_server(ws_echo)
    async def _(url: str) -> None:
        async with connect(url) as ws:
            with pytest.raises(TimeoutError):
                await ws.recv(timeout=0.1)
            await ws.send("after timeout")
            assert await ws.recv(timeout=5) == "after timeout"


# --- wslearn against itself -----------------------------------------------------------


def test_wslearn_client_against_wslearn_server_many_messages_in_order() -> None:
    async def main() -> None:
        async with await serve(echo) as server, connect(server.url) as ws:
            sent = [f"message {i}" if i % 2 else bytes([i % 256]) * i for i in range(500)]
            for message in sent:
                await ws.send(message)
            received = [await ws.recv(timeout=5) for _ in sent]
            assert received == sent

    run(main())
