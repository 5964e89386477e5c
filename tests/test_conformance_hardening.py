"""Hardening: what a hostile or broken client can do to wslearn's server, measured.

* a slow-loris client (one header byte per second) is dropped by the handshake timeout,
  while other clients are served;
* a header section over the limit gets 431 before it even ends;
* a message or frame over the limit closes with 1009, a huge announced frame at once;
* a client that sends without reading cannot make the server buffer without bound;
* 1,000 connect/disconnect cycles, many ending with a TCP reset in the middle of a frame
  or of the handshake, leave no task, socket or thread behind, and memory returns near
  its baseline (the numbers are printed).

Each server runs in a background thread with its own loop (as in the notebooks), so the
test can count the tasks on that loop while the clients run in the test's thread.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import struct
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import echo, run

from wslearn.aio import WebSocket, serve
from wslearn.conformance.model import Options
from wslearn.conformance.server.peer import Closed, Tester
from wslearn.conformance.wire import (
    BINARY,
    CONTINUATION,
    TEXT,
    RawConnection,
    Target,
    accept_for,
    build_frame,
    build_request,
    new_key,
)
from wslearn.demo import demo_server
from wslearn.notebook.runner import BackgroundServer


def background(**serve_options: Any) -> BackgroundServer:
    async def starter() -> Any:
        return await serve(host="127.0.0.1", port=0, **serve_options)

    return BackgroundServer(starter, name="hardening")


@pytest.fixture
def echo_server(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    options = getattr(request, "param", {})
    with background(handler=echo, **options) as server:
        yield server


async def echoes(url: str, text: bytes = b"still here") -> bool:
    """Does a fresh, valid client get its message back?"""
    tester = Tester(Target.from_url(url), Options())
    try:
        peer = await tester.connect()
        await peer.send_frame(TEXT, text)
        event = await peer.next_event()
        return getattr(event, "data", None) == text
    finally:
        tester.close_all()


# --- Slow loris --------------------------------------------------------------------------


@pytest.mark.parametrize("echo_server", [{"handshake_timeout": 1.0}], indirect=True)
def test_slow_loris_is_dropped_by_the_handshake_timeout(echo_server: BackgroundServer) -> None:
    url = echo_server.url + "/"
    target = Target.from_url(url)
    request = build_request(target, key=new_key())

    async def slow_client() -> tuple[float, bytes]:
        started = time.perf_counter()  # before connecting: the server's clock starts later
        raw = await RawConnection.open(target)
        answer = b""
        try:
            for byte in request:  # one header byte per second
                await raw.send(bytes([byte]))
                try:
                    answer = await asyncio.wait_for(raw.reader.read(4096), 1.0)
                except TimeoutError:
                    continue
                break  # the server answered or closed
        except OSError:
            pass
        finally:
            raw.abort()
        return time.perf_counter() - started, answer

    async def main() -> tuple[list[tuple[float, bytes]], bool]:
        slow = [asyncio.create_task(slow_client()) for _ in range(20)]
        await asyncio.sleep(0.3)
        served = await echoes(url)  # while 20 slow clients hold connections
        return list(await asyncio.gather(*slow)), served

    results, served = run(main())
    times = [seconds for seconds, _ in results]
    print(f"\n20 slow-loris clients dropped after {min(times):.2f}-{max(times):.2f} s")
    print(f"answer: {results[0][1][:60]!r}")
    assert served
    for seconds, answer in results:
        assert 0.9 <= seconds < 3.0
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


# --- Header size -------------------------------------------------------------------------


def test_headers_over_the_limit_get_431_before_they_end(echo_server: BackgroundServer) -> None:
    """64 KiB of header lines and no empty line: the size alone decides, at 8192 bytes."""
    url = echo_server.url + "/"
    target = Target.from_url(url)

    async def flood() -> bytes:
        raw = await RawConnection.open(target)
        head = build_request(target, key=new_key())[:-2]  # no empty line: the section never ends
        line = b"X-Flood: " + b"f" * 1000 + b"\r\n"
        try:
            await raw.send(head + line * 64)
            return await asyncio.wait_for(raw.reader.read(4096), 5)
        except (OSError, TimeoutError) as error:
            return repr(error).encode()
        finally:
            raw.abort()

    answer = run(flood())
    print(f"\nanswered {answer[:44]!r}")
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"8192" in answer  # the body says what the limit is
    assert run(echoes(url))


# --- Message and frame size --------------------------------------------------------------


@pytest.mark.parametrize("echo_server", [{"max_message_size": 1000}], indirect=True)
def test_messages_and_frames_over_the_limit_close_with_1009(echo_server: BackgroundServer) -> None:
    url = echo_server.url + "/"

    async def close_code(*frames: bytes, wait_before_last: bool = False) -> tuple[int | None, bool]:
        tester = Tester(Target.from_url(url), Options(answer_timeout=2))
        try:
            peer = await tester.connect()
            await peer.send(b"".join(frames[:-1] if wait_before_last else frames))
            event = await peer.next_event(0.5 if wait_before_last else None)
            early = isinstance(event, Closed)
            if not early and wait_before_last:
                await peer.send(frames[-1])
                event = await peer.next_event()
            return (event.code if isinstance(event, Closed) else None), early
        finally:
            tester.close_all()

    async def main() -> None:
        assert await echoes(url, b"x" * 1000)  # the limit itself is fine
        assert await close_code(build_frame(BINARY, b"x" * 1001)) == (1009, True)
        first, second = build_frame(TEXT, b"a" * 600, fin=False), build_frame(CONTINUATION, b"b" * 600)
        last = build_frame(CONTINUATION, b"!")
        second_not_final = build_frame(CONTINUATION, b"b" * 600, fin=False)
        assert await close_code(first, second) == (1009, True)
        # fail fast: the sum passes the limit with the second fragment, not at the end
        assert await close_code(first, second_not_final, last, wait_before_last=True) == (1009, True)
        # a header announcing 2**40 bytes is refused from the header alone
        huge = build_frame(BINARY, b"", length=2**40)
        assert await close_code(huge) == (1009, True)
        assert await echoes(url)

    run(main())


# --- Bounded queues ----------------------------------------------------------------------


def test_a_client_that_never_reads_cannot_grow_the_server_without_bound() -> None:
    """The handler never calls recv(): after max_queue messages the server stops reading."""
    release = threading.Event()

    async def never_reads(ws: WebSocket) -> None:
        while not release.is_set():
            await asyncio.sleep(0.05)

    async def flood(url: str) -> int:
        tester = Tester(Target.from_url(url), Options())
        sent = 0
        message = build_frame(BINARY, b"m" * 65536)
        try:
            peer = await tester.connect()
            while sent < 256 * 2**20:
                await asyncio.wait_for(peer.raw.send(message), 1.0)
                sent += len(message)
        except TimeoutError:
            pass  # the server stopped reading: TCP flow control holds us back
        finally:
            tester.close_all()
        return sent

    with background(handler=never_reads, max_queue=16, max_message_size=2**20) as server:
        sent = run(flood(server.url + "/"))
        release.set()
    print(f"\na client that is never read got {sent / 2**20:.1f} MiB out before TCP stopped it")
    # 16 queued messages of 64 KiB (1 MiB), a READ_SIZE buffer and the kernel's socket buffers
    assert sent < 64 * 2**20


# --- 1,000 connect/disconnect cycles -------------------------------------------------------


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset (RST) instead of a FIN: SO_LINGER on, timeout 0."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def handshake(sock: socket.socket, target: Target) -> None:
    key = new_key()
    sock.sendall(build_request(target, key=key))
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        assert chunk, "the server closed during the handshake"
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 101") and accept_for(key).encode() in answer


def one_cycle(n: int, target: Target) -> None:
    """Five ways to come and go, in turn."""
    sock = socket.create_connection((target.host, target.port), timeout=5)
    kind = n % 5
    if kind == 0:  # a complete, clean connection: handshake, echo, Close
        handshake(sock, target)
        sock.sendall(build_frame(TEXT, b"hello") + build_frame(8, b"\x03\xe8"))
        while sock.recv(4096):
            pass
        sock.close()
    elif kind == 1:  # vanish in the middle of a frame
        handshake(sock, target)
        sock.sendall(build_frame(BINARY, b"z" * 5000)[:2000])
        reset(sock)
    elif kind == 2:  # vanish in the middle of the handshake
        sock.sendall(build_request(target, key=new_key())[:40])
        reset(sock)
    elif kind == 3:  # connect and leave at once
        sock.close()
    else:  # leave after the handshake without a Close frame (1006)
        handshake(sock, target)
        sock.close()


def count_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def count_tasks() -> int:
    return len(asyncio.all_tasks()) - 1  # not this one


async def count_connections(server: Any) -> int:
    return len(server.connections)


def settle(bg: BackgroundServer, tasks: int) -> tuple[int, int]:
    """Wait (bounded) until the server has let every connection go."""
    deadline = time.monotonic() + 10
    while True:
        now_tasks = bg.call(count_tasks())
        connections = bg.call(count_connections(bg.server))
        if (now_tasks <= tasks and connections == 0) or time.monotonic() > deadline:
            return now_tasks, connections
        time.sleep(0.05)


def test_a_thousand_connect_disconnect_cycles_leak_nothing() -> None:
    async def starter() -> Any:
        kwargs = demo_server().serve_kwargs()
        return await serve(**kwargs, host="127.0.0.1", port=0, close_timeout=1)

    with BackgroundServer(starter, name="cycles") as bg:
        target = Target.from_url(bg.url + "/ws")
        idle = bg.call(count_tasks())  # the server's own tasks, before any client
        for n in range(100):  # warm up: caches, the event log's ring buffer
            one_cycle(n, target)
        tasks_before, _ = settle(bg, idle)
        gc.collect()
        tracemalloc.start()
        memory_before = tracemalloc.get_traced_memory()[0]
        fds_before, threads_before = count_fds(), threading.active_count()

        started = time.perf_counter()
        for n in range(1000):
            one_cycle(n, target)
        seconds = time.perf_counter() - started

        tasks_after, connections = settle(bg, idle)
        gc.collect()
        memory_after, memory_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        fds_after, threads_after = count_fds(), threading.active_count()
        still_serves = run(echoes(bg.url + "/ws"))

    grow = (memory_after - memory_before) / 1024
    print(
        f"\n1000 cycles in {seconds:.2f} s (400 with a TCP reset mid-frame or mid-handshake)"
        f"\nserver tasks {tasks_before} -> {tasks_after}, open connections {connections}"
        f"\nfile descriptors {fds_before} -> {fds_after}, threads {threads_before} -> {threads_after}"
        f"\nmemory allocated during the cycles and still held: {grow:+.0f} KiB "
        f"(peak {memory_peak / 1024:.0f} KiB)"
    )
    assert still_serves
    assert connections == 0
    assert tasks_after == tasks_before
    assert fds_after <= fds_before
    assert threads_after == threads_before
    assert grow < 512  # KiB: near the baseline (the demo's event log is already full)
