"""Bounded work and memory for any input: each test is an attack, bounded in time and count.

Memory is measured in a child process (psutil RSS), so that nothing else of the test run
counts.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from typing import Any

import psutil
import pytest
from websockets.sync.client import connect as ws_connect

from wslearn import handshake
from wslearn.aio.connection import READ_SIZE
from wslearn.assembler import MIN_FRAGMENT_COST, Message
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.handshake import build_request, generate_key
from wslearn.protocol import HandshakeRejected, Protocol, RequestReceived, Role

TIMEOUT = 10

# --- Slow handshakes: the head is searched only where new bytes arrived ---------------------


def slow_head() -> bytes:
    """A valid upgrade request padded to almost 8 KiB of headers."""
    request = build_request("127.0.0.1:8765", "/", key=generate_key())
    request.headers.add("X-Padding", "p" * (8000 - len(request.serialize())))
    return request.serialize()


@pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT])
def test_a_head_sent_one_byte_at_a_time_is_parsed_once(monkeypatch: pytest.MonkeyPatch, role: Role) -> None:
    """Before, each byte re-parsed the whole head: 8 KiB one byte at a time cost 8,000 parses
    (0.45 s of CPU against 0.3 ms in one write)."""
    calls = []

    def counted(parse: Any) -> Any:
        def parse_and_count(data: bytes, *, max_size: int = handshake.MAX_HEADER_SIZE) -> Any:
            calls.append(len(data))
            return parse(data, max_size=max_size)

        return parse_and_count

    monkeypatch.setattr(handshake.Request, "parse", counted(handshake.Request.parse))
    monkeypatch.setattr(handshake.Response, "parse", counted(handshake.Response.parse))
    peer = Protocol(role)
    if role is Role.CLIENT:
        peer.connect("127.0.0.1:8765")
        peer.data_to_send()
        head = b"HTTP/1.1 400 Bad Request\r\nX-Padding: " + b"p" * 7900 + b"\r\nContent-Length: 0\r\n\r\n"
    else:
        head = slow_head()
    started = time.process_time()
    for index in range(len(head)):
        peer.receive_data(head[index : index + 1])
    cpu = time.process_time() - started
    events = peer.events_received()
    assert events, "the head was never recognized"
    if role is Role.SERVER:
        assert isinstance(events[0], RequestReceived)
    assert len(calls) <= 2, len(calls)  # the first byte (to refuse non-HTTP at once), the end
    print(f"{len(head)} bytes one at a time: {len(calls)} parses, {cpu * 1000:.1f} ms of CPU")


def test_non_http_is_still_refused_at_the_first_byte() -> None:
    server = Protocol(Role.SERVER)
    server.receive_data(b"\x16")  # a TLS ClientHello starts with 0x16
    [event] = server.events_received()
    assert isinstance(event, HandshakeRejected) and "TLS" in event.error.reason


# --- A server in a child process, whose memory we watch -------------------------------------

SERVER_SCRIPT = """
import asyncio, json, sys
from wslearn.aio import serve
from wslearn.demo import demo_server

async def main():
    options = json.loads(sys.argv[1])
    if "nofile" in options:
        import resource
        limit = options.pop("nofile")
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    serve_options = options.pop("serve", {})
    app = demo_server(**options)
    server = await serve(**{**app.serve_kwargs(), **serve_options}, port=0)
    print(server.port, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


class ChildServer:
    """``python -c SERVER_SCRIPT``: the demo server with ``options``; ``.rss()`` in bytes."""

    def __init__(self, **options: Any) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER_SCRIPT, json.dumps(options)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.port = int(self.process.stdout.readline())
        self.stderr: list[str] = []
        stderr = self.process.stderr
        threading.Thread(target=lambda: self.stderr.extend(stderr), daemon=True).start()
        self.ps = psutil.Process(self.process.pid)

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def cpu(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def __enter__(self) -> ChildServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.process.kill()
        self.process.wait(TIMEOUT)


def raw_upgrade(port: int, path: str = "/ws", *, receive_buffer: int | None = 4096) -> socket.socket:
    """A client that completes the handshake and then reads nothing (small receive buffer)."""
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    sock.sendall(build_request(f"127.0.0.1:{port}", path, key=generate_key()).serialize())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def flood(sock: socket.socket, data: bytes, seconds: float, limit: int) -> int:
    """Send ``data`` again and again for ``seconds`` (or ``limit`` bytes); returns bytes sent.
    Stops early when the server stops reading (our send would block)."""
    sock.settimeout(0.5)
    sent = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and sent < limit:
            sock.sendall(data)
            sent += len(data)
    except TimeoutError:
        pass
    return sent


MIB = 2**20


def test_a_ping_flood_from_a_client_that_never_reads_stays_flat() -> None:
    """Before: the pongs piled up in the server's send buffer, 429 MB in 40 s."""
    ping = serialize_frame(Frame(Opcode.PING, b"p" * 125, masking_key=b"mask"))
    with ChildServer(ping_interval=None) as server:
        sock = raw_upgrade(server.port)
        before = server.rss()
        sent = flood(sock, ping * 8000, seconds=4, limit=400 * MIB)
        time.sleep(0.3)  # let the server handle what it read
        grown = server.rss() - before
        sock.close()
    print(f"ping flood: {sent / MIB:.1f} MiB of pings sent, server grew {grown / MIB:.1f} MiB")
    assert grown < 16 * MIB, (sent, grown)


# --- Empty fragments: each one counts toward the limit ----------------------------------------


def open_server(max_message_size: int) -> Protocol:
    """A sans-I/O server connection in the OPEN state."""
    server = Protocol(Role.SERVER, max_message_size=max_message_size)
    server.receive_data(build_request("127.0.0.1", "/", key=generate_key()).serialize())
    [event] = server.events_received()
    assert isinstance(event, RequestReceived)
    server.accept()
    server.data_to_send()
    return server


def masked(opcode: Opcode, payload: bytes, *, fin: bool) -> bytes:
    return serialize_frame(Frame(opcode, payload, fin, masking_key=b"\x01\x02\x03\x04"))


def test_a_million_empty_fragments_cost_at_most_the_limit() -> None:
    """Before: 113 MB held and growing, 1,066 MB at the final join, 5.4 s of CPU."""
    limit = 2**20
    server = open_server(limit)
    frames_seen = []
    server.trace = lambda direction, frame, raw: frames_seen.append(direction == "in")
    attack = masked(Opcode.BINARY, b"", fin=False) + masked(Opcode.CONTINUATION, b"", fin=False) * 1_000_000
    tracemalloc.start()
    started = time.process_time()
    for start in range(0, len(attack), READ_SIZE):
        server.receive_data(attack[start : start + READ_SIZE])
    cpu = time.process_time() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert server.closed is not None and server.closed.code == 1009, server.closed
    received = sum(frames_seen)
    assert received <= limit // MIN_FRAGMENT_COST + 1
    assert peak < 2 * READ_SIZE + limit, peak  # what was read at once, and the message's share
    print(f"1M empty fragments: 1009 after {received} frames, peak {peak / MIB:.2f} MiB, cpu {cpu:.2f} s")


@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY])
def test_autobahn_9_3_and_9_4_still_pass_with_a_16_mib_limit(opcode: Opcode) -> None:
    """4 MiB in fragments of 64 bytes (Autobahn 9.3.1 / 9.4.1) and of 4 KiB (9.3.5 / 9.4.5)."""
    payload = b"*" * (4 * MIB)
    for size in (64, 4096):
        server = open_server(16 * MIB)
        pieces = [payload[i : i + size] for i in range(0, len(payload), size)]
        wire = masked(opcode, pieces[0], fin=False)
        wire += b"".join(masked(Opcode.CONTINUATION, piece, fin=False) for piece in pieces[1:-1])
        wire += masked(Opcode.CONTINUATION, pieces[-1], fin=True)
        for start in range(0, len(wire), READ_SIZE):
            server.receive_data(wire[start : start + READ_SIZE])
        [message] = server.events_received()
        assert isinstance(message, Message)
        assert message.data == (payload.decode() if opcode is Opcode.TEXT else payload)


def test_empty_fragments_at_full_speed_hold_no_memory_in_the_server() -> None:
    """The attack on a real server: a fragmented message that never ends, at full speed."""
    attack = masked(Opcode.CONTINUATION, b"", fin=False) * 100_000
    with ChildServer(ping_interval=None) as server:
        before = server.rss()
        sock = raw_upgrade(server.port, receive_buffer=None)
        for _ in range(20):  # 20 messages of up to 100,000 empty fragments: each ends with 1009
            sock.sendall(masked(Opcode.BINARY, b"", fin=False))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # closed with 1009 mid-way
                sock.sendall(attack)
            close = sock.recv(4096)
            assert close[:1] == b"\x88" and close[2:4] == (1009).to_bytes(2, "big"), close[:20]
            sock.close()
            sock = raw_upgrade(server.port, receive_buffer=None)
        grown = server.rss() - before
        sock.close()
    print(f"20 never-ending messages of empty fragments: server grew {grown / MIB:.1f} MiB")
    assert grown < 16 * MIB


# --- Messages never read: the inboxes share one memory budget ---------------------------------


def never_read(port: int, clients: int, messages: int, size: int) -> list[socket.socket]:
    """``clients`` connections to /ws that each send ``messages`` binary messages of ``size``
    bytes and never read the echo: the handler blocks in send(), its inbox fills."""
    frame = masked(Opcode.BINARY, b"m" * size, fin=True)
    socks = [raw_upgrade(port) for _ in range(clients)]
    for sock in socks:
        sock.setblocking(False)
    pending = {sock: frame * messages for sock in socks}
    deadline = time.monotonic() + 15
    last_progress = time.monotonic()
    while pending and time.monotonic() < deadline:  # send what the server takes, to all at once
        for sock, data in list(pending.items()):
            try:
                sent = sock.send(data[: 2**20])
            except BlockingIOError:
                continue
            last_progress = time.monotonic()
            if sent == len(data):
                del pending[sock]
            else:
                pending[sock] = data[sent:]
        if time.monotonic() - last_progress > 1:
            break  # the server takes nothing more: it stopped reading every one of them
        time.sleep(0.01)
    return socks


def settle(server: ChildServer, seconds: float = 1.0) -> int:
    """The server's RSS once it has stopped growing (or after ``seconds``)."""
    last = server.rss()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = server.rss()
        if now <= last:
            return now
        last = now
    return last


def test_clients_that_never_read_pin_at_most_the_budget() -> None:
    """Before: 64 messages of 1 MiB per connection stayed in memory (100 clients: +6.7 GiB)."""
    clients, budget, limit = 50, 16 * MIB, MIB
    with ChildServer(ping_interval=None, serve={"max_memory": budget}) as server:
        before = server.rss()
        socks = never_read(server.port, clients, messages=8, size=limit)
        grown = settle(server) - before
        # The sum of the limits: the shared budget, and per connection the one echo it may
        # have written to its socket (send() waits there: the client does not read).
        limits = budget + clients * limit
        # The budget is spent, yet another client's small messages still get through.
        with ws_connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=TIMEOUT, proxy=None) as ws:
            for number in range(20):
                ws.send(f"still served {number}")
                assert ws.recv(timeout=TIMEOUT) == f"still served {number}"
        for sock in socks:
            sock.close()
    print(
        f"{clients} clients x 8 MiB never read: server grew {grown / MIB:.0f} MiB;"
        f" limits {limits / MIB:.0f} MiB; factor {grown / limits:.2f}"
    )
    assert grown < 1.5 * limits


# --- Out of file descriptors: one line that says what to do, and the open ones go on ---------


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE is Unix")
def test_out_of_file_descriptors_logs_once_and_keeps_serving() -> None:
    """Before: a traceback for every refused accept (11,680 in 5 s at a limit of 128)."""
    with ChildServer(ping_interval=None, nofile=128, serve={"handshake_timeout": 30}) as server:
        with ws_connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=TIMEOUT, proxy=None) as ws:
            socks = []
            for _ in range(200):  # more than the process may open: the rest wait in the backlog
                sock = socket.socket()
                sock.settimeout(3)
                try:
                    sock.connect(("127.0.0.1", server.port))
                except OSError:
                    sock.close()
                    break  # the backlog is full too
                socks.append(sock)
            assert len(socks) > 128
            cpu = server.cpu()
            round_trips = []
            for number in range(30):  # 3 s out of descriptors: the open connection is served
                started = time.monotonic()
                ws.send(f"echo {number}")
                assert ws.recv(timeout=TIMEOUT) == f"echo {number}"
                round_trips.append(time.monotonic() - started)
                time.sleep(0.1)
            cpu = server.cpu() - cpu
            for sock in socks:
                sock.close()
        log = "".join(server.stderr)
    print(
        f"out of descriptors for 3 s: {log.count(chr(10))} log lines, server CPU {cpu:.2f} s,"
        f" echo max {max(round_trips) * 1000:.1f} ms"
    )
    assert log.count("cannot accept new connections") == 1, log[:2000]
    assert "Traceback" not in log
    assert "ulimit -n" in log and "Too many open files" in log
