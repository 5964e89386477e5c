"""The reverse proxy and wire tap: bytes relayed unchanged, frames logged both ways."""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from wslearn.eventlog import EventLog, LogEvent
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.handshake import Headers, Request
from wslearn.notebook import BackgroundServer, start_demo, start_proxy
from wslearn.proxy import FrameTap, forward_request

TIMEOUT = 5


def open_ws(url: str, **kwargs: Any) -> ClientConnection:
    connection: ClientConnection = ws_connect(
        url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, proxy=None, **kwargs
    )
    return connection


@pytest.fixture(scope="module")
def target() -> Iterator[BackgroundServer]:
    server = start_demo("proxy target", ping_interval=None)
    yield server
    server.stop()


@pytest.fixture
def proxy(target: BackgroundServer) -> Iterator[BackgroundServer]:
    running = start_proxy(target.url, "test proxy")
    running.event_log.clear()
    target.event_log.clear()
    yield running
    running.stop()


def frames(log: EventLog) -> list[LogEvent]:
    return [e for e in log.events() if e.kind == "frame"]


def test_echo_through_the_proxy_is_logged_both_ways(
    proxy: BackgroundServer, target: BackgroundServer
) -> None:
    with open_ws(proxy.url + "/ws", subprotocols=["chat"]) as ws:
        assert ws.subprotocol == "chat"  # negotiated end to end
        ws.send("through the proxy")
        assert ws.recv(timeout=TIMEOUT) == "through the proxy"
    tapped = [(e.direction, e.opcode, e.masked, e.preview) for e in frames(proxy.event_log)]
    assert tapped[:2] == [
        ("in", "TEXT", True, "'through the proxy'"),  # client → target, masked
        ("out", "TEXT", False, "'through the proxy'"),  # target → client
    ]
    assert ("in", "CLOSE") in [(d, o) for d, o, _, _ in tapped]
    assert ("out", "CLOSE") in [(d, o) for d, o, _, _ in tapped]
    handshakes = [e for e in proxy.event_log.events() if e.kind == "handshake"]
    assert handshakes[0].preview == "GET /ws HTTP/1.1"
    assert handshakes[1].preview == "HTTP/1.1 101 Switching Protocols"


def test_the_bytes_are_not_altered(proxy: BackgroundServer, target: BackgroundServer) -> None:
    with open_ws(proxy.url + "/ws", compression=None) as ws:
        ws.send(["frag", "ments"])
        ws.send(os.urandom(1000))
        ws.recv(timeout=TIMEOUT)
        ws.recv(timeout=TIMEOUT)
        ws.ping(b"p")
    # The target logs every frame exactly as it crossed the wire, so do we: same bytes,
    # same masking keys, frame by frame, in each direction.
    for direction in ("in", "out"):
        seen_by_proxy = [e.raw for e in frames(proxy.event_log) if e.direction == direction]
        seen_by_target = [e.raw for e in frames(target.event_log) if e.direction == direction]
        assert seen_by_proxy == seen_by_target
        assert len(seen_by_proxy) >= 4  # in: 2 fragments, binary, ping, close; out: 4


def test_a_big_message_through_the_proxy(proxy: BackgroundServer) -> None:
    big = os.urandom(2**20 - 100)
    with open_ws(proxy.url + "/ws", compression=None, max_size=2**21) as ws:
        ws.send(big)
        assert ws.recv(timeout=TIMEOUT) == big
    lengths = [e.length for e in frames(proxy.event_log) if e.opcode == "BINARY"]
    assert lengths == [len(big), len(big)]


def test_chat_through_the_proxy(proxy: BackgroundServer) -> None:
    with open_ws(proxy.url + "/chat") as a, open_ws(proxy.url + "/chat") as b:
        uid_a, _ = a.recv(timeout=TIMEOUT), b.recv(timeout=TIMEOUT)
        a.send(json.dumps({"uid": uid_a, "msg": "via proxy"}))
        assert "via proxy" in str(b.recv(timeout=TIMEOUT))


def test_plain_http_is_relayed_as_the_target_answers(
    proxy: BackgroundServer, target: BackgroundServer
) -> None:
    def get(port: int, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    for path in ("/", "/ws", "/nope"):
        assert get(proxy.port, path) == get(target.port, path)


def test_refused_upgrade_is_passed_on(proxy: BackgroundServer) -> None:
    with pytest.raises(InvalidStatus) as raised, open_ws(proxy.url + "/nope"):
        pass
    assert raised.value.response.status_code == 404


def test_unreachable_target_is_502() -> None:
    with socket.socket() as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        port = closed_port.getsockname()[1]
    proxy = start_proxy(f"ws://127.0.0.1:{port}", "proxy to nowhere")
    try:
        with pytest.raises(InvalidStatus) as raised, open_ws(proxy.url + "/ws"):
            pass
        assert raised.value.response.status_code == 502
        assert f"127.0.0.1:{port}" in raised.value.response.body.decode()
    finally:
        proxy.stop()


def test_stopping_the_proxy_drops_relayed_connections(target: BackgroundServer) -> None:
    proxy = start_proxy(target.url, "proxy to stop")
    with open_ws(proxy.url + "/ws") as ws:
        ws.send("x")
        ws.recv(timeout=TIMEOUT)
        proxy.stop()
        with pytest.raises(ConnectionClosedError):
            ws.recv(timeout=TIMEOUT)  # no Close frame from a proxy: 1006
    assert proxy.tasks_left_at_stop == 0


# --- Hop-by-hop headers ------------------------------------------------------------------


def test_forward_request_drops_hop_by_hop_headers_but_keeps_the_upgrade() -> None:
    request = Request(
        "GET",
        "/ws?room=1",
        headers=Headers(
            [
                ("Host", "example.com:8000"),
                ("Connection", "keep-alive, Upgrade, X-Trace"),
                ("Upgrade", "websocket"),
                ("Keep-Alive", "timeout=5"),
                ("X-Trace", "only for the first hop"),
                ("Proxy-Authorization", "Basic cHJveHk6cGFzcw=="),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Extensions", "permessage-deflate"),
                ("Origin", "http://example.com:8000"),
                ("X-Forwarded-For", "10.0.0.1"),
            ]
        ),
    )
    forwarded = forward_request(request, "/", "127.0.0.1")
    names = [name.lower() for name in forwarded.headers]
    for dropped in ("keep-alive", "x-trace", "proxy-authorization", "sec-websocket-extensions"):
        assert dropped not in names
    assert forwarded.headers.get_all("Upgrade") == ["websocket"]
    assert forwarded.headers.get_all("Connection") == ["Upgrade"]
    assert forwarded.headers["Host"] == "example.com:8000"  # kept: same-origin checks
    assert forwarded.headers["Sec-WebSocket-Key"] == "dGhlIHNhbXBsZSBub25jZQ=="
    assert forwarded.headers["Origin"] == "http://example.com:8000"
    assert forwarded.headers["X-Forwarded-For"] == "10.0.0.1, 127.0.0.1"
    assert forwarded.headers["X-Forwarded-Host"] == "example.com:8000"
    assert forwarded.target == "/ws?room=1"
    assert forward_request(request, "/base", "127.0.0.1").target == "/base/ws?room=1"


def test_forward_plain_request_asks_to_close() -> None:
    request = Request("GET", "/", headers=Headers([("Host", "h"), ("Connection", "keep-alive")]))
    forwarded = forward_request(request, "/", "127.0.0.1")
    assert forwarded.headers.get_all("Connection") == ["close"]
    assert "Upgrade" not in forwarded.headers


# --- The tap alone -----------------------------------------------------------------------


def test_tap_decodes_byte_by_byte_and_with_several_frames_per_chunk() -> None:
    wire = b"".join(
        serialize_frame(frame)
        for frame in [
            Frame(Opcode.TEXT, b"Hello", masking_key=b"\x37\xfa\x21\x3d"),
            Frame(Opcode.PING, b""),
            Frame(Opcode.BINARY, bytes(300)),
        ]
    )
    for chunk_size in (1, 7, len(wire)):
        log = EventLog()
        tap = FrameTap(log, 1, "in", max_frame=2**20)
        for start in range(0, len(wire), chunk_size):
            tap.feed(wire[start : start + chunk_size])
        assert [(e.opcode, e.length) for e in log.events()] == [
            ("TEXT", 5),
            ("PING", 0),
            ("BINARY", 300),
        ]
        assert b"".join(e.raw for e in log.events()) == wire


def test_tap_stops_decoding_on_garbage_and_says_why_once() -> None:
    log = EventLog()
    tap = FrameTap(log, 1, "out", max_frame=2**20)
    tap.feed(b"\x83\x00")  # opcode 3 is reserved (RFC 6455 §5.2)
    tap.feed(serialize_frame(Frame(Opcode.TEXT, b"later")))
    [event] = log.events()
    assert event.kind == "error" and "stops decoding" in event.preview
    assert tap.stopped


def test_tap_stops_on_a_frame_bigger_than_its_limit() -> None:
    log = EventLog()
    tap = FrameTap(log, 1, "in", max_frame=100)
    tap.feed(serialize_frame(Frame(Opcode.BINARY, bytes(101)))[:4])  # the header is enough
    [event] = log.events()
    assert "1009" in event.preview or "100" in event.preview
