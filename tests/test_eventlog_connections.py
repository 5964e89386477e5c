"""Picking one connection's events out of a log: by connection id, found from the client's key.

Notebook 00 shows "what crossed the wire" for one SyncClient. Picking the events by time
let another connection's frames (a browser's Close) slip in; the client's Sec-WebSocket-Key
names its connection in the server's log instead (RFC 6455 §4.1: a fresh nonce each time).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wslearn.eventlog import EventLog
from wslearn.notebook import BackgroundServer, SyncClient, start_demo

REQUEST = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"SEC-WEBSOCKET-KEY:  dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    running = start_demo("connection ids", ping_interval=None)
    yield running
    running.stop()


def test_events_of_one_connection() -> None:
    log = EventLog()
    log.record(1, "in", "frame", opcode="TEXT", preview="one")
    log.record(2, "in", "frame", opcode="CLOSE", preview="two")
    log.record(1, "out", "frame", opcode="TEXT", preview="one back")
    assert [event.preview for event in log.events(conn_id=1)] == ["one", "one back"]
    assert [event.preview for event in log.events(conn_id=3)] == []
    assert len(log.events()) == 3


def test_connection_with_key_reads_the_header_whatever_its_case() -> None:
    log = EventLog()
    log.record_http(7, "in", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", kind="http")
    log.record_http(8, "in", REQUEST)
    assert log.connection_with_key("dGhlIHNhbXBsZSBub25jZQ==") == 8
    assert log.connection_with_key("AAAAAAAAAAAAAAAAAAAAAA==") is None
    assert EventLog().connection_with_key("dGhlIHNhbXBsZSBub25jZQ==") is None


def test_another_connections_close_does_not_slip_in(server: BackgroundServer) -> None:
    url = server.url + "/ws"
    with SyncClient(url) as ours:
        other = SyncClient(url)
        ours.send("ours")
        other.close(1001, "a browser tab going away")  # inside our connection's lifetime
        assert ours.recv(timeout=5) == "ours"
    assert ours.request is not None and ours.response is not None
    conn_id = server.event_log.connection_with_key(ours.request.headers["Sec-WebSocket-Key"])
    assert conn_id is not None
    events = server.event_log.events(conn_id=conn_id)
    frames = [(event.direction, event.opcode, event.preview) for event in events if event.kind == "frame"]
    assert frames[:2] == [("in", "TEXT", "'ours'"), ("out", "TEXT", "'ours'")]
    assert [opcode for _, opcode, _ in frames[2:]] == ["CLOSE", "CLOSE"]
    assert all("going away" not in preview for _, _, preview in frames)
    assert [event.kind for event in events if event.kind == "handshake"] == ["handshake", "handshake"]


def test_each_end_numbers_the_connection_its_own_way(server: BackgroundServer) -> None:
    client_log = EventLog()
    with SyncClient(server.url + "/ws", event_log=client_log) as ws:
        ws.send("hi")
        ws.recv(timeout=5)
    assert ws.request is not None
    key = ws.request.headers["Sec-WebSocket-Key"]
    on_the_client = client_log.connection_with_key(key)
    on_the_server = server.event_log.connection_with_key(key)
    assert on_the_client == ws.ws.id
    assert on_the_server is not None and on_the_server != on_the_client
    sent = [
        e.opcode for e in client_log.events(conn_id=ws.ws.id) if e.kind == "frame" and e.direction == "out"
    ]
    received = [e.opcode for e in server.event_log.events(conn_id=on_the_server) if e.direction == "in"]
    assert sent[0] == "TEXT" and received.count("TEXT") == 1
