"""wss:// — WebSocket over TLS, with a self-signed certificate authority (trustme)."""

from __future__ import annotations

import ssl

import pytest
import trustme
from conftest import echo, run
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve

from wslearn.aio import connect, serve


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


def test_wslearn_wss_server_with_websockets_client(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async def main() -> None:
        async with await serve(echo, ssl=server_context) as server:
            assert server.url.startswith("wss://127.0.0.1:")
            async with ws_connect(server.url, ssl=client_context, compression=None) as client:
                await client.send("over TLS")
                assert await client.recv() == "over TLS"
                data = bytes(range(256)) * 4096  # 1 MiB across many TLS records
                await client.send(data)
                assert await client.recv() == data

    run(main())


def test_wslearn_client_with_websockets_wss_server(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async def handler(connection: ServerConnection) -> None:
        async for message in connection:
            await connection.send(message)

    async def main() -> None:
        async with ws_serve(handler, "127.0.0.1", 0, ssl=server_context, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            async with connect(f"wss://localhost:{port}/tls", ssl=client_context) as ws:
                await ws.send("hello TLS")
                assert await ws.recv(timeout=5) == "hello TLS"
                assert await ws.ping() > 0
            assert ws.closed is not None and ws.closed.code == 1000

    run(main())


def test_wslearn_client_and_server_over_tls(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async def main() -> None:
        async with (
            await serve(echo, ssl=server_context) as server,
            connect(server.url, ssl=client_context) as ws,
        ):
            await ws.send_fragments([b"a" * 100000, b"b"])
            assert await ws.recv(timeout=5) == b"a" * 100000 + b"b"

    run(main())


def test_untrusted_certificate_is_refused_and_server_goes_on(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    async def main() -> None:
        async with await serve(echo, ssl=server_context) as server:
            with pytest.raises(ssl.SSLCertVerificationError):
                await connect(server.url, ssl=ssl.create_default_context())  # does not know our CA
            async with connect(server.url, ssl=client_context) as ws:
                await ws.send("still serving")
                assert await ws.recv(timeout=5) == "still serving"

    run(main())


def test_ssl_context_needs_a_wss_url(client_context: ssl.SSLContext) -> None:
    with pytest.raises(ValueError, match="wss://"):
        connect("ws://127.0.0.1:1/", ssl=client_context)
