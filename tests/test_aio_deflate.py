"""permessage-deflate (RFC 7692) over real sockets, against the websockets library both ways.

The websockets client, with every combination of the four parameters in its offer, meets
wslearn's server with a spread of configurations, and wslearn's client, offering every
combination, meets websockets servers configured every which way. Each pair checks that
both ends agreed on the same thing and exchanges small, large, binary and fragmented
messages. Then the limits: a decompression bomb through the live server is closed with
1009 (the peer receives it), RSV1 on a continuation with 1002, and the command lines.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import zlib
from collections.abc import Sequence
from typing import Any

import pytest
from conftest import echo, run
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed as WsConnectionClosed
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate as WsPerMessageDeflate,
)

from wslearn.aio import WebSocket, connect, serve
from wslearn.deflate import DeflateOffer, DeflateParameters, ServerDeflateConfig
from wslearn.errors import ConnectionClosed
from wslearn.eventlog import EventLog
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.protocol import CloseReceived, Protocol, ResponseReceived, Role

TIMEOUT = 60
FLAGS = list(itertools.product([False, True], repeat=2))
# Messages that exercise the compressor: small, repeated (context takeover), large and
# compressible, random (incompressible), and one sent in fragments.
LARGE = ("All work and no play makes a compressed message. " * 1000).encode()
RANDOM = os.urandom(5_000)
MESSAGES: list[str | bytes] = ["hi", "hi", "", "héllo wörld ✓ 🎉" * 50, LARGE, RANDOM, LARGE.decode()]
FRAGMENTS = ["fragmented ", "text, ", "é" * 100]


def ws_view(ext: WsPerMessageDeflate, our_role: str) -> DeflateParameters:
    """What the websockets end agreed on, as wslearn's DeflateParameters."""
    local = (ext.local_no_context_takeover, ext.local_max_window_bits)
    remote = (ext.remote_no_context_takeover, ext.remote_max_window_bits)
    # websockets is the client when we are the server: its "local" side is the client.
    (cnct, cmwb), (snct, smwb) = (local, remote) if our_role == "server" else (remote, local)
    return DeflateParameters(snct, cnct, smwb, cmwb)


def deflate_of(connection: Any) -> WsPerMessageDeflate | None:
    extensions = connection.protocol.extensions
    assert len(extensions) <= 1
    return extensions[0] if extensions else None


def compressed_frames(log: EventLog) -> tuple[int, int]:
    """(data frames sent with RSV1, data frames received with RSV1) in ``log``."""
    events = [e for e in log.events() if e.kind == "frame" and e.opcode in ("TEXT", "BINARY")]
    return (
        sum(1 for e in events if e.direction == "out" and e.rsv1),
        sum(1 for e in events if e.direction == "in" and e.rsv1),
    )


# --- the websockets client against wslearn's server -----------------------------------

WS_CLIENTS = [
    ClientPerMessageDeflateFactory(snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb in [None, 8, 12, 15]
    for cmwb in [None, True, 9, 15]  # websockets' client cannot compress with 8 bits
]
OUR_CONFIGS = [
    ServerDeflateConfig(snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb, cmwb in [(None, None), (8, None), (10, 11), (15, 9)]
]


@pytest.mark.parametrize("config", OUR_CONFIGS, ids=str)
def test_websockets_client_offers_to_our_server(config: ServerDeflateConfig) -> None:
    agreed: list[DeflateParameters | None] = []

    async def handler(ws: WebSocket) -> None:
        agreed.append(ws.deflate)
        await echo(ws)

    async def main() -> None:
        log = EventLog(maxlen=100_000)
        async with await serve(handler, compression=config, event_log=log) as server:
            for factory in WS_CLIENTS:
                async with ws_connect(server.url, extensions=[factory], compression=None, max_size=None) as c:
                    theirs = deflate_of(c)
                    assert theirs is not None, factory
                    for message in MESSAGES:
                        await c.send(message)
                        assert await c.recv() == message
                    await c.send(FRAGMENTS)
                    assert await c.recv() == "".join(FRAGMENTS)
                await asyncio.sleep(0)
                assert agreed[-1] == ws_view(theirs, "server"), list(factory.get_request_params())
            # Every data message both ways went compressed.
            await asyncio.sleep(0.05)
            per_connection = len(MESSAGES) + 1
            assert compressed_frames(log) == (len(WS_CLIENTS) * per_connection,) * 2

    run(main(), timeout=TIMEOUT)
    assert len(agreed) == len(WS_CLIENTS)


def test_a_websockets_client_without_compression_gets_none() -> None:
    async def handler(ws: WebSocket) -> None:
        await ws.send(f"{ws.extensions!r} {ws.deflate}")

    async def main() -> None:
        server = await serve(handler, compression="deflate")
        async with server, ws_connect(server.url, compression=None) as c:
            assert await c.recv() == "'' None"
            assert c.response.headers.get("Sec-WebSocket-Extensions") is None

    run(main(), timeout=TIMEOUT)


def test_our_server_without_compression_declines_websockets_offer() -> None:
    async def main() -> None:
        async with await serve(echo) as server, ws_connect(server.url, compression="deflate") as c:
            assert deflate_of(c) is None
            await c.send(LARGE)
            assert await c.recv() == LARGE

    run(main(), timeout=TIMEOUT)


# --- wslearn's client against websockets servers ---------------------------------------

OUR_OFFERS = [
    DeflateOffer(snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb in [None, 8, 12, 15]
    for cmwb in [None, True, 8, 15]
]
WS_SERVERS = [
    (snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb, cmwb in [(None, None), (9, None), (10, 11), (15, 8)]
]


async def ws_echo(connection: ServerConnection) -> None:
    try:
        async for message in connection:
            await connection.send(message)
    except WsConnectionClosed:
        pass


@pytest.mark.parametrize("settings", WS_SERVERS, ids=str)
def test_our_client_offers_to_websockets_server(settings: tuple[Any, ...]) -> None:
    factory = ServerPerMessageDeflateFactory(*settings)
    seen: list[WsPerMessageDeflate | None] = []

    async def handler(connection: ServerConnection) -> None:
        seen.append(deflate_of(connection))
        await ws_echo(connection)

    async def main() -> None:
        async with ws_serve(
            handler, "127.0.0.1", 0, extensions=[factory], compression=None, max_size=None
        ) as s:
            port = s.sockets[0].getsockname()[1]
            for sent in OUR_OFFERS:
                log = EventLog()
                url = f"ws://127.0.0.1:{port}/"
                async with connect(url, compression=sent, max_message_size=None, event_log=log) as ws:
                    theirs = seen[-1]
                    if theirs is None:
                        # websockets declines to compress with 8 bits (zlib cannot); ours would.
                        assert sent.server_max_window_bits == 8 and ws.deflate is None, sent
                    else:
                        assert ws.deflate == ws_view(theirs, "client"), sent
                        assert ws.extensions.startswith("permessage-deflate")
                    for message in MESSAGES:
                        await ws.send(message)
                        assert await ws.recv() == message
                    await ws.send_fragments(FRAGMENTS)
                    assert await ws.recv() == "".join(FRAGMENTS)
                expected = 0 if theirs is None else len(MESSAGES) + 1
                assert compressed_frames(log) == (expected, expected), sent

    run(main(), timeout=TIMEOUT)
    assert len(seen) == len(OUR_OFFERS)


def test_our_client_against_a_websockets_server_that_does_not_compress() -> None:
    async def main() -> None:
        async with ws_serve(ws_echo, "127.0.0.1", 0, compression=None) as s:
            port = s.sockets[0].getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}/", compression="deflate") as ws:
                assert ws.deflate is None and ws.extensions == ""
                await ws.send("plain")
                assert await ws.recv() == "plain"

    run(main(), timeout=TIMEOUT)


def test_our_client_and_server_together() -> None:
    async def main() -> None:
        async with (
            await serve(echo, compression="deflate") as server,
            connect(server.url, compression="deflate") as ws,
        ):
            assert ws.deflate == DeflateParameters()
            for message in [*MESSAGES, LARGE * 10]:
                await ws.send(message)
                assert await ws.recv() == message
            await ws.send_fragments(FRAGMENTS)
            assert await ws.recv() == "".join(FRAGMENTS)

    run(main(), timeout=TIMEOUT)


# --- limits through the live server --------------------------------------------------------


def bomb(mib: int) -> bytes:
    """Raw DEFLATE of ``mib`` MiB of zeros (about 1 KB per MiB), its last 4 octets removed."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(2**20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return (block * mib)[:-4]


def test_a_decompression_bomb_through_the_live_server_is_closed_with_1009() -> None:
    received: list[str | bytes] = []

    async def handler(ws: WebSocket) -> None:
        async for message in ws:
            received.append(message)

    async def main() -> None:
        async with await serve(handler, compression="deflate", max_message_size=2**20) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            # A client of our own, speaking raw frames over the socket: offer, then the bomb.
            protocol = Protocol(Role.CLIENT, deflate_offers=[DeflateOffer()], max_message_size=None)
            protocol.connect(f"127.0.0.1:{server.port}")
            writer.write(protocol.data_to_send())
            while protocol.deflate is None:
                protocol.receive_data(await reader.read(4096))
                assert any(isinstance(e, ResponseReceived) for e in protocol.events_received())
            payload = bomb(512)  # 512 MiB of zeros in about half a megabyte
            assert len(payload) < 2**20
            writer.write(serialize_frame(Frame(Opcode.BINARY, payload, rsv1=True, masking_key=os.urandom(4))))
            await writer.drain()
            data = await asyncio.wait_for(reader.read(4096), 10)
            protocol.receive_data(data)
            [close] = [e for e in protocol.events_received() if isinstance(e, CloseReceived)]
            assert close.code == 1009
            assert "decompresses to more than the limit of 1048576 bytes" in close.reason
            writer.close()

    run(main(), timeout=TIMEOUT)
    assert received == []


def test_a_bomb_sent_to_the_websockets_client_is_refused_by_ours() -> None:
    # The other way round: a server that sends a bomb; our client closes with 1009.
    async def bomber(connection: ServerConnection) -> None:
        # websockets compresses what it sends: a real 64 MiB message of zeros is a bomb.
        await connection.send(bytes(64 * 2**20))
        await connection.wait_closed()

    async def main() -> None:
        async with ws_serve(bomber, "127.0.0.1", 0, compression="deflate", max_size=None) as s:
            port = s.sockets[0].getsockname()[1]
            async with connect(
                f"ws://127.0.0.1:{port}/", compression="deflate", max_message_size=2**20
            ) as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.code == 1009
                assert "decompresses to more than the limit" in closed.value.reason

    run(main(), timeout=TIMEOUT)


def test_rsv1_on_a_continuation_is_closed_with_1002_by_the_live_server() -> None:
    async def main() -> None:
        async with await serve(echo, compression="deflate") as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            protocol = Protocol(Role.CLIENT, deflate_offers=[DeflateOffer()])
            protocol.connect(f"127.0.0.1:{server.port}")
            writer.write(protocol.data_to_send())
            while protocol.deflate is None:
                protocol.receive_data(await reader.read(4096))
                protocol.events_received()
            key = os.urandom(4)
            compressor = zlib.compressobj(wbits=-15)
            payload = compressor.compress(b"hello world") + compressor.flush(zlib.Z_SYNC_FLUSH)
            writer.write(
                serialize_frame(Frame(Opcode.TEXT, payload[:4], fin=False, rsv1=True, masking_key=key))
            )
            writer.write(
                serialize_frame(Frame(Opcode.CONTINUATION, payload[4:-4], rsv1=True, masking_key=key))
            )
            await writer.drain()
            protocol.receive_data(await asyncio.wait_for(reader.read(4096), 10))
            [close] = [e for e in protocol.events_received() if isinstance(e, CloseReceived)]
            assert close.code == 1002
            assert "continuation" in close.reason
            writer.close()

    run(main(), timeout=TIMEOUT)


# --- the command lines --------------------------------------------------------------------


def cli(args: Sequence[str], stdin: str = "", timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wslearn", *args], input=stdin, capture_output=True, text=True, timeout=timeout
    )


def test_connect_compression_deflate_against_a_compressing_server() -> None:
    async def main() -> None:
        log = EventLog()
        async with await serve(echo, compression="deflate", event_log=log) as server:
            result = await asyncio.to_thread(
                cli, ["connect", server.url, "--compression", "deflate", "--wait", "2"], "hello\n" * 3
            )
            assert result.returncode == 0, result.stderr
            assert "extensions: permessage-deflate" in result.stderr
            assert result.stdout.count("< hello") == 3
            assert compressed_frames(log) == (3, 3)

    run(main(), timeout=TIMEOUT)


def test_serve_compression_deflate() -> None:
    port_probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    port = int(port_probe.stdout)
    child = subprocess.Popen(
        [sys.executable, "-m", "wslearn", "serve", "--port", str(port), "--compression", "deflate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()  # it prints its URLs once it listens

        async def main() -> None:
            async with ws_connect(f"ws://127.0.0.1:{port}/ws", compression="deflate") as c:
                assert deflate_of(c) is not None
                await c.send(LARGE)
                assert await c.recv() == LARGE

        run(main(), timeout=TIMEOUT)
    finally:
        child.terminate()
        child.wait(10)


def test_the_cli_refuses_an_unknown_compression() -> None:
    result = cli(["serve", "--compression", "gzip"])
    assert result.returncode == 2 and "invalid choice: 'gzip'" in result.stderr
