"""Chapter 07's experiments, against real servers on 127.0.0.1: a frozen peer, a blocked
event loop (seen by wslearn's client and by the websockets library's), two writers without
a lock, a handler that never returns, and the timeline widget fed by a live server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from wslearn.demo.heartbeats import (
    blocking_handler,
    freeze_the_peer,
    interleaved_writes,
    keepalive_client,
    leaky_handler,
    live_tasks,
    non_blocking_handler,
    receive_as_client,
    tidy_handler,
    timeline,
)
from wslearn.eventlog import EventLog
from wslearn.frames import Opcode
from wslearn.notebook import SyncClient, run, start_demo, start_server, stop_all

INTERVAL, TIMEOUT = 0.2, 0.2


@pytest.fixture
def demo() -> Iterator[object]:
    server = start_demo(
        "test-heartbeats", ping_interval=INTERVAL, ping_timeout=TIMEOUT, heartbeat_interval=0.1
    )
    yield server
    stop_all()


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_frozen_peer_is_closed_with_1011_after_interval_plus_timeout(demo) -> None:  # type: ignore[no-untyped-def]
    frozen = freeze_the_peer(demo.url + "/ws", timeout=5)
    assert frozen.close_code == 1011
    assert "keepalive" in frozen.close_reason
    assert frozen.elapsed is not None
    assert INTERVAL + TIMEOUT - 0.05 <= frozen.elapsed < INTERVAL + TIMEOUT + 1.0
    opcodes = [frame.opcode for _, frame in frozen.frames]
    assert opcodes == [Opcode.PING, Opcode.CLOSE]


def test_without_a_keepalive_a_frozen_peer_stays_open() -> None:
    server = start_demo("test-no-keepalive", ping_interval=None, ping_timeout=None)
    try:
        frozen = freeze_the_peer(server.url + "/ws", timeout=0.8)
        assert frozen.close_code is None
        assert frozen.frames == []
    finally:
        server.stop()


def test_a_blocked_loop_makes_the_client_fail_with_1011_and_the_fix_answers() -> None:
    blocking = start_server(blocking_handler(1.0), "test-blocking")
    fixed = start_server(non_blocking_handler(1.0), "test-non-blocking")
    try:
        failed = run(keepalive_client(blocking.url, ping_interval=0.2, ping_timeout=0.3))
        assert failed.closed is not None and failed.closed.code == 1011
        assert failed.elapsed < 1.0, "the client noticed only after the work was done"
        answered = run(keepalive_client(fixed.url, ping_interval=0.2, ping_timeout=0.3))
        assert answered.closed is None and answered.reply == "work"
    finally:
        blocking.stop()
        fixed.stop()


def test_the_websockets_library_sees_the_same_1011_from_a_blocked_loop() -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    blocking = start_server(blocking_handler(1.5), "test-blocking-ws")

    async def client() -> int | None:
        async with connect(blocking.url, ping_interval=0.2, ping_timeout=0.3, close_timeout=0.5) as ws:
            await ws.send("work")
            try:
                await asyncio.wait_for(ws.recv(), 3)
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else (closed.sent.code if closed.sent else None)
        return None

    try:
        assert run(client()) == 1011
    finally:
        blocking.stop()


def test_two_writers_without_a_lock_make_the_client_fail_with_1002() -> None:
    assert receive_as_client(interleaved_writes(b"first, in two parts", b"heart beat", cut=1)) == [
        "failed the connection: 1002 (a server must not mask the frames it sends (§5.1))"
    ]
    assert receive_as_client(interleaved_writes(b"first", b"heart beat", cut=0)) == [
        "message 'heart beat'",
        "message 'first (end)'",
    ]
    # B's header byte 0x81 inside A's text is not UTF-8: fail fast (§8.1)
    assert receive_as_client(interleaved_writes(b"first, in two parts", b"heart beat", cut=5))[0].startswith(
        "failed the connection: 1007"
    )
    # B's whole frame right after A's first fragment: a new message inside a fragmented one (§5.4)
    assert (
        "1002 (a new TEXT message started before"
        in receive_as_client(interleaved_writes(b"first, in two parts", b"heart beat", cut=21))[0]
    )


def test_a_leaky_handler_keeps_one_task_per_client_and_a_tidy_one_none() -> None:
    leaky = start_server(leaky_handler, "test-leaky")
    tidy = start_server(tidy_handler, "test-tidy")
    try:
        for server, growth in ((leaky, 3), (tidy, 0)):
            expected = live_tasks(server) + growth
            for _ in range(3):
                with SyncClient(server.url) as ws:
                    assert ws.recv(timeout=5) == "hello"
            wait_for(lambda server=server, expected=expected: live_tasks(server) == expected)
            time.sleep(0.2)
            assert live_tasks(server) == expected
    finally:
        leaky.stop()
        tidy.stop()


def test_the_timeline_of_a_live_wshandler_connection(demo) -> None:  # type: ignore[no-untyped-def]
    with SyncClient(demo.url + "/wshandler") as ws:
        ws.send("hello")
        messages = [ws.recv(timeout=5) for _ in range(5)]
        wait_for(lambda: len(timeline(demo.event_log.events()).lanes["Pong in"]) >= 2)
    assert messages[0] == "hello" and "heart beat" in messages
    shown = timeline(demo.event_log.events())
    assert len(shown.lanes["heart beat (TEXT)"]) >= 4
    assert len(shown.lanes["Ping out"]) >= 2 and len(shown.rtts) >= 2
    assert shown.lanes["data"][0] < 0.1  # the "hello" both ways, right after opening
    assert all(ms >= 0 for _, ms in shown.rtts)


def test_timeline_picks_one_connection() -> None:
    log = EventLog()
    log.record(1, "-", "open", time=10.0)
    log.record(2, "-", "open", time=11.0)
    log.record(1, "out", "frame", opcode="PING", time=10.5)
    log.record(2, "out", "frame", opcode="TEXT", preview="'heart beat'", time=11.25)
    log.record(2, "-", "rtt", preview="round trip 0.42 ms", time=11.5)
    newest = timeline(log.events())
    assert newest.conn_id == 2
    assert newest.lanes["heart beat (TEXT)"] == [0.25]
    assert newest.rtts == [(0.5, 0.42)]
    assert timeline(log.events(), 1).lanes["Ping out"] == [0.5]


def test_the_widget_follows_its_connection_from_the_server_thread(demo) -> None:  # type: ignore[no-untyped-def]
    from wslearn.notebook.widgets import HeartbeatTimeline

    with SyncClient(demo.url + "/wshandler") as ws:
        view = HeartbeatTimeline(demo.event_log, refresh_every=0.05)
        beats = view.marks[4]
        wait_for(lambda: len(beats.x) >= 3)  # updated by the server's thread, no call from here
        assert ws.recv(timeout=5)
    view.detach()
    assert list(beats.y) == ["heart beat (TEXT)"] * len(beats.x)
    assert "heart beat (TEXT)" in view.text()
    page = view.html()
    assert page.startswith("<img alt='connection #") and "data:image/png;base64," in page
    assert "<script" not in page


def test_the_lab_measures_a_freeze_with_the_chosen_timers() -> None:
    from wslearn.notebook.widgets import HeartbeatLab

    lab = HeartbeatLab(ping_interval=0.2, ping_timeout=0.3, duration=1.5)  # several pings, even under load
    try:
        lab.interval.value, lab.timeout.value = 0.3, 0.2
        lab.start("freeze", wait=True)
        assert "frozen peer: 1011 after" in lab.status.value and "predicted 0.50 s" in lab.status.value
        assert lab.server.running
        assert len(lab.timeline_view.timeline.lanes["Ping out"]) == 1
        lab.start("connect", wait=True)
        assert "every Ping got its Pong" in lab.status.value
        assert len(lab.timeline_view.timeline.lanes["Pong in"]) >= 1
        assert "ping_interval=0.3 s" in lab.text()
    finally:
        lab.close()
        stop_all()
