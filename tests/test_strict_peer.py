"""Stricter than every peer: what the Autobahn TestSuite and real clients found.

* messages that were whole before a protocol violation are delivered (and answered)
  before the connection fails;
* a server that fails a connection while the client is still sending (a message over
  the size limit) never loses its close code to a TCP reset: node ``ws``, Chromium,
  aiohttp and (over TLS) websockets all see 1009, every time;
* a clean close without a status code (1005) ends ``async for`` quietly, and the
  peer's close reason is echoed with its code.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import json
import ssl
import subprocess
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
from browser_support import chromium, install_node_ws
from conftest import echo
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed as WsConnectionClosed

from wslearn.aio import WebSocket, connect, serve
from wslearn.conformance.wire import CLOSE, CONTINUATION, TEXT, accept_for, build_frame
from wslearn.errors import ConnectionClosed
from wslearn.frames import Close, Frame, Opcode, parse_frame
from wslearn.notebook.runner import BackgroundServer

TIMEOUT = 20


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run on a fresh event loop in a thread of its own: Playwright's sync API keeps a
    loop running in this thread while the browser fixture lives."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, TIMEOUT)).result()


async def read_frames(reader: asyncio.StreamReader) -> list[Frame]:
    """Every frame a peer sends, up to its Close frame or the end of TCP."""
    data = b""
    frames: list[Frame] = []
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


# --- Never lose the close code --------------------------------------------------------------

LIMIT = 2**20  # the server's max_message_size


@pytest.fixture(scope="module")
def echo_server() -> Iterator[BackgroundServer]:
    async def starter() -> Any:
        return await serve(echo, "127.0.0.1", 0, max_message_size=LIMIT, ping_interval=None)

    with BackgroundServer(starter, name="strict echo") as server:
        yield server


NODE_CLIENT = """
// A fragmented message growing past the server's limit, again and again: print the
// close code each connection ended with.
const WebSocket = require('ws');
const [url, runs] = [process.argv[2], Number(process.argv[3])];
function once() {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => { ws.terminate(); resolve('timeout'); }, 10000);
    ws.on('open', () => {
      const piece = Buffer.alloc(64 * 1024, 97);  // 40 fragments: 2.5 MiB in all
      for (let i = 0; i < 40; i++) ws.send(piece, { fin: i === 39, binary: false });
    });
    ws.on('error', () => {});
    ws.on('close', (code) => { clearTimeout(timer); resolve(code); });
  });
}
(async () => {
  const codes = [];
  for (let i = 0; i < runs; i++) codes.push(await once());
  console.log(JSON.stringify(codes));
})();
"""


@pytest.fixture(scope="module")
def node_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the npm package ``ws`` installed and the client script."""
    folder = tmp_path_factory.mktemp("node-ws")
    install_node_ws(folder)
    (folder / "client.js").write_text(NODE_CLIENT)
    return folder


def test_node_ws_sees_1009_for_a_fragmented_message_past_the_limit(
    node_ws: Path, echo_server: BackgroundServer
) -> None:
    runs = 40
    done = subprocess.run(
        ["node", "client.js", echo_server.url + "/", str(runs)],
        cwd=node_ws,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    codes = collections.Counter(json.loads(done.stdout))
    assert codes == {1009: runs}, codes


BROWSER_CLIENT = """
async ([url, runs, size]) => {
  const codes = [];
  for (let i = 0; i < runs; i++) {
    codes.push(await new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.onopen = () => ws.send(new Uint8Array(size));
      ws.onclose = (event) => resolve(event.code);
    }));
  }
  return codes;
}
"""


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    """A blank page in headless Chromium."""
    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        yield page


def test_chromium_sees_1009_for_a_message_past_the_limit_every_time(
    page: Any, echo_server: BackgroundServer
) -> None:
    runs = 20
    codes = page.evaluate(BROWSER_CLIENT, [echo_server.url + "/", runs, 2 * LIMIT])
    assert collections.Counter(codes) == {1009: runs}, codes


def test_aiohttp_sees_1009_for_a_message_past_the_limit_every_time(echo_server: BackgroundServer) -> None:
    async def codes(runs: int) -> collections.Counter[object]:
        seen: collections.Counter[object] = collections.Counter()
        async with aiohttp.ClientSession() as session:
            for _ in range(runs):
                async with session.ws_connect(echo_server.url + "/", max_msg_size=0) as ws:
                    await ws.send_bytes(bytes(2 * LIMIT))
                    message = await ws.receive(timeout=10)
                    seen[message.data if message.type is aiohttp.WSMsgType.CLOSE else message.type] += 1
        return seen

    assert run(codes(20)) == {1009: 20}


def test_over_tls_the_client_sees_1009_every_time_and_soon() -> None:
    # asyncio's TLS transport cannot half-close (no FIN): the server drops what still
    # comes until the client is quiet, then closes, without waiting close_timeout.
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)

    async def main() -> list[tuple[int | None, float]]:
        seen = []
        async with await serve(
            echo, max_message_size=LIMIT, ssl=server_context, ping_interval=None
        ) as server:
            for _ in range(20):
                async with ws_connect(server.url, ssl=client_context, max_size=None) as client:
                    started = time.monotonic()
                    with contextlib.suppress(WsConnectionClosed):
                        await client.send(bytes(2 * LIMIT))
                        await client.recv()
                    await client.wait_closed()
                    code = client.protocol.close_rcvd.code if client.protocol.close_rcvd else None
                    seen.append((code, time.monotonic() - started))
        return seen

    seen = run(main())
    assert [code for code, _ in seen] == [1009] * 20, seen
    assert max(seconds for _, seconds in seen) < 3, seen  # close_timeout is 5 s


# --- A clean close without a code, and the reason echoed ----------------------------------

BROWSER_CLOSES = """
async ([url, args]) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  ws.onopen = () => ws.close(...args);
  ws.onclose = (event) => resolve([event.code, event.reason, event.wasClean]);
})
"""


def test_the_browser_sees_its_close_reason_echoed(page: Any, echo_server: BackgroundServer) -> None:
    # RFC 6455 §5.5.1 lets the answer carry any reason; echoing it tells the browser its
    # close was understood (its close event used to show reason "").
    code, reason, clean = page.evaluate(BROWSER_CLOSES, [echo_server.url + "/", [4000, "done, thanks ✓"]])
    assert (code, reason, clean) == (4000, "done, thanks ✓", True)


def test_async_for_ends_quietly_when_the_browser_closes_without_a_code(page: Any) -> None:
    # ws.close() with no arguments sends a Close frame without a status code: 1005 on our
    # side, a clean end like 1000 and 1001.
    outcomes: list[str] = []

    async def handler(ws: WebSocket) -> None:
        try:
            async for _ in ws:
                pass
            outcomes.append(f"ended quietly ({ws.closed})")
        except ConnectionClosed as closed:
            outcomes.append(f"raised {closed}")

    async def starter() -> Any:
        return await serve(handler, "127.0.0.1", 0, ping_interval=None)

    with BackgroundServer(starter, name="closes without a code") as server:
        code, _, clean = page.evaluate(BROWSER_CLOSES, [server.url + "/", []])
    assert (code, clean) == (1005, True)
    assert outcomes == ["ended quietly (1005 (closed by the peer))"]


def test_async_for_ends_quietly_on_the_client_after_a_close_without_a_code() -> None:
    frames_back: list[list[Frame]] = []

    async def main() -> ConnectionClosed | None:
        server = await raw_server(build_frame(CLOSE, b"", masked=False), frames_back)
        port = server.sockets[0].getsockname()[1]
        async with server, connect(f"ws://127.0.0.1:{port}/") as ws:
            async for _ in ws:
                raise AssertionError("no message was sent")
            return ws.closed

    closed = run(main())
    assert closed is not None and (closed.code, closed.by, closed.ok) == (1005, "remote", True)
    [[echo]] = frames_back
    assert echo.opcode is Opcode.CLOSE and echo.payload == b""  # §5.5.1: no code to echo
