"""The background runner, the sync client and run(): what notebook cells rely on."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect as ws_connect

from wslearn.aio import serve
from wslearn.aio.connection import WebSocket
from wslearn.errors import ConnectionClosed
from wslearn.frames import Close, Frame, Opcode, parse_frame, serialize_frame
from wslearn.notebook import (
    BackgroundServer,
    SyncClient,
    run,
    running_servers,
    start_demo,
    start_server,
)

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 5


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def raw_handshake(port: int, path: str = "/ws") -> socket.socket:
    """The opening handshake typed by hand, as a student does in a cell (RFC 6455 §4.1)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.sendall(
        b"GET " + path.encode() + b" HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n"
        b"\r\n"
    )
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        assert byte, f"the server closed during the handshake: {head!r}"
        head += byte
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head  # RFC 6455 §1.3
    return sock


def read_frame(sock: socket.socket) -> tuple[Opcode, bytes]:
    data = b""
    for _ in range(1000):
        parsed = parse_frame(data)
        if parsed is not None:
            return parsed[0].opcode, parsed[0].payload
        chunk = sock.recv(4096)
        assert chunk, "the server closed the TCP connection"
        data += chunk
    raise AssertionError("no whole frame")


@pytest.fixture
def demo() -> Iterator[BackgroundServer]:
    server = start_demo("test runner", ping_interval=None)
    yield server
    server.stop()


# --- Blocking cells never starve the server ----------------------------------------------


def test_raw_socket_handshake_and_one_frame_from_a_blocking_call(demo: BackgroundServer) -> None:
    sock = raw_handshake(demo.port)
    with sock:
        time.sleep(0.2)  # a blocking cell: the server's thread runs regardless
        # A masked text frame "Hello", typed as bytes (RFC 6455 §5.7, first example):
        # FIN + TEXT, MASK + length 5, the masking key, then the masked payload.
        sock.sendall(b"\x81\x85" + b"\x37\xfa\x21\x3d" + b"\x7f\x9f\x4d\x51\x58")
        # The echo comes back unmasked (a server never masks, RFC 6455 §5.1).
        assert sock.recv(7) == b"\x81\x05Hello"
    frames = [e for e in demo.event_log.events() if e.kind == "frame"]
    assert [(e.direction, e.opcode, e.masked) for e in frames[:2]] == [
        ("in", "TEXT", True),
        ("out", "TEXT", False),
    ]


def test_the_server_answers_while_the_main_thread_sleeps(demo: BackgroundServer) -> None:
    replies: list[str | bytes] = []

    def client() -> None:
        with ws_connect(demo.url + "/ws", open_timeout=TIMEOUT, proxy=None) as ws:
            ws.send("during sleep")
            replies.append(ws.recv(timeout=TIMEOUT))

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(1)  # the main thread blocks, like time.sleep in a cell
    thread.join(TIMEOUT)
    assert replies == ["during sleep"]


# --- Start, stop, restart ----------------------------------------------------------------


def test_stop_closes_every_connection_with_1001(demo: BackgroundServer) -> None:
    with ws_connect(demo.url + "/ws", open_timeout=TIMEOUT, proxy=None) as ws:
        started = time.monotonic()
        demo.stop()
        assert time.monotonic() - started < 2
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=TIMEOUT)
        assert ws.protocol.close_rcvd is not None
        assert ws.protocol.close_rcvd.code == 1001
    assert not demo.running


def test_stop_within_2_s_when_a_client_never_answers_the_close(demo: BackgroundServer) -> None:
    sock = raw_handshake(demo.port)  # like a cell that holds a socket and never reads
    with sock:
        started = time.monotonic()
        demo.stop()
        assert time.monotonic() - started < 2
        assert read_frame(sock)[0] is Opcode.CLOSE


def answer_close(sock: socket.socket, codes: list[int]) -> None:
    """A well-behaved client: read up to the server's Close frame (pushes may come first),
    send one back (RFC 6455 §5.5.1)."""
    data = b""
    for _ in range(1000):
        parsed = parse_frame(data)
        if parsed is None:
            chunk = sock.recv(4096)
            assert chunk, "the server closed the TCP connection"
            data += chunk
            continue
        frame, used = parsed
        data = data[used:]
        if frame.opcode is Opcode.CLOSE:
            codes.append(Close.parse(frame.payload).code)
            sock.sendall(serialize_frame(Frame(Opcode.CLOSE, frame.payload, masking_key=os.urandom(4))))
            return


def test_start_stop_50_times_leaks_nothing() -> None:
    # Warm up once: imports, the first event loop's resources, the logging machinery.
    start_demo("leak test", ping_interval=None).stop()
    threads, fds = threading.active_count(), open_fds()
    ports: set[int] = set()
    stop_times: list[float] = []
    codes: list[int] = []
    for _ in range(50):
        server = start_demo("leak test", ping_interval=None, push_interval=0.05)  # new options:
        sock = raw_handshake(server.port, "/push")  # a fresh server, a live connection
        client = threading.Thread(target=answer_close, args=(sock, codes))
        client.start()
        started = time.monotonic()
        server.stop()
        stop_times.append(time.monotonic() - started)
        client.join(TIMEOUT)
        sock.close()
        assert server.tasks_left_at_stop == 0
        assert not server.running
        ports.add(server.port)
        start_demo("leak test", ping_interval=None).stop()  # replaced again: other options
    assert codes == [1001] * 50
    assert max(stop_times) < 2
    assert threading.active_count() == threads
    assert open_fds() == fds
    mean = sum(stop_times) / len(stop_times) * 1000
    print(f"50 start/stop cycles: {len(ports)} ports, stop() {mean:.1f} ms on average")


def test_restarting_the_same_name_reuses_or_replaces() -> None:
    first = start_demo("cell", ping_interval=None)
    try:
        assert start_demo("cell", ping_interval=None) is first  # same options: the same server
        second = start_demo("cell", ping_interval=None, heartbeat_interval=1)
        assert second is not first and second.running and not first.running
        assert second.event_log is first.event_log  # widgets watching the log keep working
        assert running_servers()["cell"] is second
    finally:
        start_demo("cell", ping_interval=None).stop()


def test_a_fixed_port_is_freed_on_rerun() -> None:
    port = start_demo("fixed a", ping_interval=None).port
    try:
        for heartbeat in (1, 2, 3):  # "edit the cell, run it again", on a fixed port
            again = start_demo("fixed a", port=port, heartbeat_interval=heartbeat)
            assert again.port == port
        other = start_demo("fixed b", port=port)  # another name, the same port
        assert other.port == port and not again.running
    finally:
        for server in running_servers().values():
            if server.port == port:
                server.stop()


def test_port_taken_by_another_program_is_a_clear_error() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(RuntimeError, match=r"could not start.*in use"):
            start_demo("squatted", port=port)
        assert time.monotonic() - started < 2


def test_a_server_that_never_gets_ready_times_out() -> None:
    async def never_listens() -> BackgroundServer:
        await asyncio.sleep(60)
        raise AssertionError("unreachable")

    server = BackgroundServer(never_listens, name="stuck", ready_timeout=0.3)  # type: ignore[arg-type]
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"did not start listening within 0\.3 s"):
        server.start()
    assert time.monotonic() - started < 3
    assert not server.running


def test_context_manager_and_urls() -> None:
    async def hello(ws: WebSocket) -> None:
        await ws.send("hi")

    with BackgroundServer(lambda: serve(hello, close_timeout=0.5), name="ctx") as server:
        assert server.url == f"ws://127.0.0.1:{server.port}"
        assert server.http_url == f"http://127.0.0.1:{server.port}/"
        with SyncClient(server.url) as client:
            assert client.recv(timeout=TIMEOUT) == "hi"
    assert not server.running


def test_start_server_with_a_student_handler() -> None:
    async def shout(ws: WebSocket) -> None:
        async for message in ws:
            await ws.send(str(message).upper())

    server = start_server(shout, "shout")
    try:
        assert start_server(shout, "shout") is server
        with SyncClient(server.url) as client:
            client.send("quiet")
            assert client.recv(timeout=TIMEOUT) == "QUIET"
    finally:
        server.stop()


def test_call_runs_a_coroutine_on_the_server_loop(demo: BackgroundServer) -> None:
    async def loop_thread_name() -> str:
        return threading.current_thread().name

    assert demo.call(loop_thread_name()) == "wslearn test runner"
    with SyncClient(demo.url + "/ws") as client:

        async def greet_everyone() -> int:
            return demo.server.broadcast("hello from a cell")  # type: ignore[attr-defined, no-any-return]

        assert demo.call(greet_everyone()) == 1
        assert client.recv(timeout=TIMEOUT) == "hello from a cell"
    with pytest.raises(TimeoutError, match=r"within 0\.2 s"):
        demo.call(asyncio.sleep(5), timeout=0.2)


def test_stopped_at_interpreter_exit() -> None:
    script = textwrap.dedent(
        """
        import atexit, socket, threading

        def after_wslearn():  # registered first, so it runs after wslearn's handler
            alive = [t.name for t in threading.enumerate() if t.name.startswith("wslearn")]
            print("alive at exit:", alive, flush=True)

        atexit.register(after_wslearn)
        from wslearn.notebook import start_demo
        server = start_demo(ping_interval=None)
        sock = socket.create_connection(("127.0.0.1", server.port))
        print("started", server.port, flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=20, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert "started" in done.stdout
    assert "alive at exit: []" in done.stdout


# --- SyncClient and run() ----------------------------------------------------------------


def test_sync_client(demo: BackgroundServer) -> None:
    with SyncClient(demo.url + "/ws", subprotocols=["chat"]) as client:
        assert client.subprotocol == "chat"
        client.send("text")
        assert client.recv(timeout=TIMEOUT) == "text"
        client.send(b"\x01\x02")
        assert client.recv(timeout=TIMEOUT) == b"\x01\x02"
        assert 0 < client.ping() < 1
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            client.recv(timeout=0.2)
        assert time.monotonic() - started < 1.5
    assert client.closed is not None and client.closed.code == 1000
    with pytest.raises(ConnectionClosed):
        client.send("too late")


def test_run_outside_a_loop_is_asyncio_run() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert run(answer()) == 42


def test_run_inside_a_running_loop() -> None:
    # In a subprocess: nest_asyncio2 patches asyncio for the whole process.
    script = textwrap.dedent(
        """
        import asyncio
        from wslearn.notebook import run, start_demo
        from wslearn.aio import connect

        server = start_demo(ping_interval=None)

        async def main():
            async with connect(server.url + "/ws") as ws:
                await ws.send("nested")
                return await ws.recv(timeout=5)

        async def cell():  # a notebook cell: code running on the kernel's loop
            print(run(main()))           # what a student pastes from a script...
            print(asyncio.run(main()))   # ...and the original, which works now too

        asyncio.run(cell())
        server.stop()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["nested", "nested"]


def test_a_notebook_with_blocking_cells_runs_to_the_end() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "import asyncio, socket, time\n"
        "from wslearn.notebook import start_demo, SyncClient, run\n"
        "from wslearn.aio import connect",
        "server = start_demo()\nserver = start_demo()  # running the cell twice is fine",
        # A raw-socket handshake in a cell: blocking calls on the kernel's thread.
        "sock = socket.create_connection(('127.0.0.1', server.port), timeout=5)\n"
        "sock.sendall(b'GET /ws HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\n'\n"
        "             b'Connection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n'\n"
        "             b'Sec-WebSocket-Version: 13\\r\\n\\r\\n')\n"
        "time.sleep(0.2)\n"
        "print(sock.recv(4096).split(b'\\r\\n')[0])",
        "with SyncClient(server.url + '/ws') as ws:\n    ws.send('sync'); print(ws.recv(5))",
        "async def main():\n"
        "    async with connect(server.url + '/ws') as ws:\n"
        "        await ws.send('script style')\n"
        "        return await ws.recv(timeout=5)\n"
        "print(run(main()))",
        "print(asyncio.run(main()))",
        "print(await main())",
        "server.stop(); sock.close(); print('last cell ran')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(notebook, timeout=60, kernel_name="python3")
    client.execute(cwd=str(ROOT))
    outputs = ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells]
    assert outputs[2].strip() == "b'HTTP/1.1 101 Switching Protocols'"
    assert outputs[3].strip() == "sync"
    assert outputs[4].strip() == outputs[5].strip() == outputs[6].strip() == "script style"
    assert outputs[7].strip() == "last cell ran"


def test_call_on_loop_refuses_to_wait_on_its_own_loop_and_times_out() -> None:
    from wslearn.notebook.runner import call_on_loop

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        assert call_on_loop(loop, thread, asyncio.sleep(0, "done"), 5, what="test") == "done"
        with pytest.raises(TimeoutError, match=r"test: no result within 0\.1 s"):
            call_on_loop(loop, thread, asyncio.sleep(5), 0.1, what="test")

        async def from_inside() -> str:
            try:
                call_on_loop(loop, thread, asyncio.sleep(0), 1, what="test")
            except RuntimeError as error:
                return str(error)
            return "no error"

        assert "its own event loop" in asyncio.run_coroutine_threadsafe(from_inside(), loop).result(5)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(2)
        loop.close()
