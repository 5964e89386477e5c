"""The API of wslearn.aio: recv timeouts, the single write path, closing, shutdown, the event log."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import time

import pytest
from conftest import echo, run
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed as WsConnectionClosed

from wslearn.aio import WebSocket, broadcast, connect, serve
from wslearn.aio.client import parse_url
from wslearn.errors import ConnectionClosed, HandshakeError
from wslearn.eventlog import EventLog
from wslearn.handshake import Request, Response, build_request, generate_key
from wslearn.protocol import State

# --- recv ---------------------------------------------------------------------------------


def test_recv_timeout_on_the_server_side_keeps_the_connection() -> None:
    outcomes: list[str] = []

    async def handler(ws: WebSocket) -> None:
        try:
            await ws.recv(timeout=0.1)
        except TimeoutError:
            outcomes.append("timeout")
        outcomes.append(str(await ws.recv(timeout=5)))

    async def main() -> None:
        async with await serve(handler) as server, ws_connect(server.url, compression=None) as client:
            await asyncio.sleep(0.3)
            await client.send("late")
            with pytest.raises(WsConnectionClosed):
                await client.recv()

    run(main())
    assert outcomes == ["timeout", "late"]


def test_two_tasks_cannot_recv_at_once() -> None:
    async def main() -> None:
        async with await serve(echo) as server, connect(server.url) as ws:
            first = asyncio.create_task(ws.recv())
            await asyncio.sleep(0.01)
            with pytest.raises(RuntimeError, match="already waiting"):
                await ws.recv()
            await ws.send("x")
            assert await first == "x"

    run(main())


def test_messages_received_before_the_close_are_still_delivered() -> None:
    async def handler(ws: WebSocket) -> None:
        for i in range(5):
            await ws.send(f"message {i}")
        await ws.close(1000, "done")

    async def main() -> None:
        async with await serve(handler) as server:
            ws = await connect(server.url)
            await ws.wait_closed()  # everything has arrived, the connection is over
            received = [message async for message in ws]  # ends quietly on 1000
            assert received == [f"message {i}" for i in range(5)]
            assert ws.closed is not None
            assert (ws.closed.code, ws.closed.reason, ws.closed.by) == (1000, "done", "remote")
            with pytest.raises(ConnectionClosed):
                await ws.recv()

    run(main())


# --- send -----------------------------------------------------------------------------------


def test_send_after_close_raises_connection_closed() -> None:
    async def main() -> None:
        async with await serve(echo) as server:
            ws = await connect(server.url)
            await ws.close()
            assert ws.state is State.CLOSED
            with pytest.raises(ConnectionClosed):
                await ws.send("too late")
            with pytest.raises(ConnectionClosed):
                ws.send_nowait("too late")
            with pytest.raises(ConnectionClosed):
                await ws.ping()

    run(main())


def test_send_rejects_other_types_and_bad_close_codes() -> None:
    async def main() -> None:
        async with await serve(echo) as server, connect(server.url) as ws:
            with pytest.raises(TypeError):
                await ws.send(42)  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                await ws.send_fragments(["text", b"bytes"])  # type: ignore[arg-type]
            with pytest.raises(ValueError):
                await ws.send_fragments([])
            with pytest.raises(ValueError):
                await ws.close(1005)  # §7.4.1: never sent on the wire
            with pytest.raises(ValueError):
                await ws.ping(b"x" * 126)  # §5.5: control payloads are at most 125 bytes
            await ws.send("still fine")
            assert await ws.recv(timeout=5) == "still fine"

    run(main())


def test_concurrent_senders_never_interleave_frames() -> None:
    """Three tasks send fragmented and whole messages at once; the websockets client (which
    fails the connection on any interleaving, RFC 6455 §5.4) gets every message whole."""

    async def handler(ws: WebSocket) -> None:
        async def sender(tag: str) -> None:
            for i in range(20):
                await ws.send_fragments([f"{tag}{i}:", "x" * 50000, "y" * 50000, "!"])
                await ws.send(f"{tag}{i} whole")

        await asyncio.gather(sender("a"), sender("b"), sender("c"))
        await ws.recv()

    async def main() -> None:
        async with await serve(handler) as server, ws_connect(server.url, compression=None) as client:
            received = [str(await client.recv()) for _ in range(120)]
            whole = [m for m in received if m.endswith("whole")]
            fragmented = [m for m in received if m.endswith("!")]
            assert len(whole) == 60 and len(fragmented) == 60
            assert all(m.endswith(":" + "x" * 50000 + "y" * 50000 + "!") for m in fragmented)
            for tag in "abc":  # each sender's messages arrive in its order
                mine = [m.split(":")[0] for m in fragmented if m.startswith(tag)]
                assert mine == [f"{tag}{i}" for i in range(20)]

    run(main())


def test_messages_queued_before_close_are_sent_before_the_close_frame() -> None:
    async def handler(ws: WebSocket) -> None:
        for i in range(100):
            await ws.send(f"{i}" * 1000)
        await ws.close(4000, "after the messages")

    async def main() -> None:
        async with await serve(handler) as server, ws_connect(server.url, compression=None) as client:
            received = [await client.recv() for _ in range(100)]
            assert received == [f"{i}" * 1000 for i in range(100)]
            with pytest.raises(WsConnectionClosed) as info:
                await client.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 4000

    run(main())


def test_broadcast_reaches_every_open_connection() -> None:
    async def main() -> None:
        async with await serve(echo) as server:
            clients = [await ws_connect(server.url, compression=None) for _ in range(5)]
            while len(server.connections) < 5:
                await asyncio.sleep(0.01)
            assert server.broadcast("to everyone") == 5
            assert [await client.recv() for client in clients] == ["to everyone"] * 5
            await clients[0].close()
            while len(server.connections) > 4:
                await asyncio.sleep(0.01)
            assert broadcast(server.connections, b"to the rest") == 4
            assert [await client.recv() for client in clients[1:]] == [b"to the rest"] * 4
            for client in clients[1:]:
                await client.close()

    run(main())


# --- close and shutdown -------------------------------------------------------------------


def test_server_close_sends_1001_to_every_client_and_returns_promptly() -> None:
    async def main() -> None:
        server = await serve(echo)
        clients = [await ws_connect(server.url, compression=None) for _ in range(3)]
        while len(server.connections) < 3:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        server.close()
        await server.wait_closed()
        assert time.monotonic() - started < 2
        for client in clients:
            with pytest.raises(WsConnectionClosed):
                await client.recv()
            assert client.close_code == 1001
            assert client.close_reason == "server shutting down"
        assert not server.connections
        with pytest.raises(OSError):
            await ws_connect(server.url, compression=None, open_timeout=2)

    run(main())


def test_server_close_cancels_a_handler_that_ignores_the_end() -> None:
    cancelled = []

    async def stubborn(ws: WebSocket) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(ws.id)
            raise

    async def main() -> None:
        server = await serve(stubborn, close_timeout=0.3)
        client = await ws_connect(server.url, compression=None)
        while not server.connections:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        server.close()
        await server.wait_closed()
        assert time.monotonic() - started < 2
        assert client.close_code == 1001
        assert not server._tasks

    run(main())
    assert len(cancelled) == 1


def test_server_close_does_not_wait_for_connections_still_in_the_handshake() -> None:
    async def main() -> None:
        server = await serve(echo, handshake_timeout=30, close_timeout=5)
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", server.port)
        idle_writer.write(b"GET / HTTP/1.1\r\n")  # and never the rest
        await asyncio.sleep(0.05)
        started = time.monotonic()
        server.close()
        await server.wait_closed()
        assert time.monotonic() - started < 1
        with contextlib.suppress(ConnectionResetError):  # a reset means dropped, too
            assert await idle_reader.read() == b""  # dropped
        idle_writer.close()

    run(main())


def test_close_timeout_drops_a_peer_that_never_answers_the_close() -> None:
    async def main() -> None:
        async with await serve(echo, close_timeout=0.3) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            request = build_request("127.0.0.1", "/", key=generate_key())
            writer.write(request.serialize())
            await reader.readuntil(b"\r\n\r\n")
            while not server.connections:
                await asyncio.sleep(0.01)
            (ws,) = server.connections
            started = time.monotonic()
            await ws.close(1000, "bye")  # the raw peer never sends its Close frame
            assert 0.25 < time.monotonic() - started < 1.5
            assert ws.closed is not None and ws.closed.code == 1006
            writer.close()

    run(main())


# --- the client -------------------------------------------------------------------------


def test_parse_url() -> None:
    url = parse_url("ws://localhost:8765/chat?room=1")
    assert (url.secure, url.host, url.port, url.target, url.host_header) == (
        False,
        "localhost",
        8765,
        "/chat?room=1",
        "localhost:8765",
    )
    assert parse_url("wss://example.com").port == 443
    assert parse_url("wss://example.com").host_header == "example.com"
    assert parse_url("ws://[::1]:9000/").host_header == "[::1]:9000"
    url = parse_url("ws://user:p%40ss@h/")
    assert (url.username, url.password, url.target) == ("user", "p@ss", "/")
    for bad in ["http://h/", "ws:///path", "ws://h/#frag"]:
        with pytest.raises(ValueError):
            parse_url(bad)


def test_client_sends_headers_origin_and_basic_auth_from_url() -> None:
    seen: list[Request] = []

    async def handler(ws: WebSocket) -> None:
        assert ws.request is not None
        seen.append(ws.request)

    async def main() -> None:
        async with await serve(handler) as server:
            url = f"ws://alice:s3cret@127.0.0.1:{server.port}/auth"
            ws = await connect(url, headers={"X-Test": "1"}, origin="http://example.com")
            await ws.wait_closed()

    run(main())
    headers = seen[0].headers
    assert headers["X-Test"] == "1"
    assert headers["Origin"] == "http://example.com"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()


def test_client_open_timeout() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()
        finally:
            writer.close()  # Server.wait_closed() waits for every connection (Python 3.12.1)

    async def main() -> None:
        server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            started = time.monotonic()
            with pytest.raises(TimeoutError, match=r"within 0\.3 s"):
                await connect(f"ws://127.0.0.1:{port}/", open_timeout=0.3)
            assert time.monotonic() - started < 2

    run(main())


def test_client_refused_by_process_request_gets_status_and_body() -> None:
    def process_request(request: Request) -> Response | None:
        body = f"no route {request.path}\n".encode()
        return Response(404, "Not Found", body=body) if request.path != "/ok" else None

    async def main() -> None:
        async with await serve(echo, process_request=process_request) as server:
            with pytest.raises(HandshakeError) as info:
                await connect(server.url + "/nowhere")
            assert info.value.status == 404
            assert "no route /nowhere" in info.value.reason
            async with connect(server.url + "/ok") as ws:
                assert ws.path == "/ok"

    run(main())


def test_async_process_request() -> None:
    async def process_request(request: Request) -> Response | None:
        await asyncio.sleep(0)
        return Response(401, "Unauthorized", body=b"who are you?") if "token" not in request.query else None

    async def main() -> None:
        async with await serve(echo, process_request=process_request) as server:
            with pytest.raises(HandshakeError) as info:
                await connect(server.url)
            assert info.value.status == 401
            async with connect(server.url + "/?token=t") as ws:
                await ws.send("in")
                assert await ws.recv(timeout=5) == "in"

    run(main())


# --- the event log ----------------------------------------------------------------------


def test_event_log_records_everything_without_credentials() -> None:
    log = EventLog()
    secrets = ["s3cret-token", "bearer-value", "cookie-value", "basic-pass"]

    async def main() -> None:
        async with await serve(echo, event_log=log) as server:
            url = f"ws://bob:basic-pass@127.0.0.1:{server.port}/ws?token=s3cret-token&room=1"
            headers = [("Authorization", "Bearer bearer-value"), ("Cookie", "sid=cookie-value")]
            async with connect(url, headers=headers, event_log=log) as ws:
                await ws.send("hello")
                assert await ws.recv(timeout=5) == "hello"
            await asyncio.sleep(0.05)

    run(main())
    events = log.events()
    for event in events:
        for secret in secrets:
            assert secret.encode() not in event.raw, event
            assert secret not in event.preview, event
    kinds = [(e.direction, e.kind) for e in events]
    assert kinds.count(("out", "handshake")) == 2  # the client's request, the server's 101
    assert kinds.count(("in", "handshake")) == 2
    handshakes = [e for e in events if e.kind == "handshake" and e.preview.startswith("GET")]
    assert all("token=[redacted]&room=1" in e.preview for e in handshakes)
    texts = [e for e in events if e.kind == "frame" and e.opcode == "TEXT"]
    assert len(texts) == 4  # client out, server in, server out, client in
    assert sorted(bool(e.masked) for e in texts) == [False, False, True, True]  # only the client masks
    assert {e.kind for e in events} >= {"open", "close", "frame", "handshake"}


def test_event_log_records_rejected_handshakes() -> None:
    log = EventLog()

    async def main() -> None:
        async with await serve(echo, event_log=log) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /ws?token=abc HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: a=b\r\n\r\n")
            await reader.read()
            writer.close()

    run(main())
    http = [e for e in log.events() if e.kind == "http"]
    assert [e.direction for e in http] == ["in", "out"]
    assert b"abc" not in http[0].raw and b"a=b" not in http[0].raw
    assert http[1].preview.startswith("HTTP/1.1 4")


def test_fifty_servers_started_and_stopped_leak_no_tasks_or_sockets() -> None:
    def open_sockets() -> int:  # this process's file descriptors that are sockets (Linux)
        return sum(1 for fd in os.listdir("/proc/self/fd") if _is_socket(fd))

    async def one_round() -> None:
        async with await serve(echo, ping_interval=0.05) as server, connect(server.url) as ws:
            await ws.send("x")
            assert await ws.recv(timeout=5) == "x"

    async def main() -> None:
        await one_round()  # warm up (imports, the loop's own sockets)
        sockets_before = open_sockets()
        tasks_before = asyncio.all_tasks()
        for _ in range(50):
            await one_round()
        await asyncio.sleep(0.05)
        assert open_sockets() <= sockets_before
        assert asyncio.all_tasks() == tasks_before

    run(main())


def _is_socket(fd: str) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    except OSError:  # closed in the meantime
        return False
