"""The demo server's routes, tested with the websockets library as the client.

The server runs in wslearn's background runner; each test talks to it from the test's own
thread with blocking clients (websockets.sync and http.client), every wait bounded.
"""

from __future__ import annotations

import http.client
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from wslearn.notebook import BackgroundServer, start_demo

TIMEOUT = 5


def open_ws(server: BackgroundServer, path: str, **kwargs: Any) -> ClientConnection:
    """A websockets client on ``path``; no HTTP proxy from the environment."""
    url = server.url + path
    connection: ClientConnection = ws_connect(
        url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, proxy=None, **kwargs
    )
    return connection


def http_get(
    server: BackgroundServer, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    """A plain HTTP GET; returns (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def demo() -> Iterator[BackgroundServer]:
    server = start_demo("test routes", heartbeat_interval=0.3, push_interval=0.1, ping_interval=None)
    yield server
    server.stop()


# --- /ws: echo ---------------------------------------------------------------------------


def test_echo_keeps_the_message_type(demo: BackgroundServer) -> None:
    with open_ws(demo, "/ws") as ws:
        ws.send("Hello, WebSocket!")
        assert ws.recv(timeout=TIMEOUT) == "Hello, WebSocket!"
        ws.send(b"\x00\xffbinary")
        assert ws.recv(timeout=TIMEOUT) == b"\x00\xffbinary"
        ws.send("héllo ✓")
        assert ws.recv(timeout=TIMEOUT) == "héllo ✓"


def test_echo_of_fragmented_and_large_messages(demo: BackgroundServer) -> None:
    big = bytes(range(256)) * 2048  # 512 KiB
    with open_ws(demo, "/ws", compression=None) as ws:
        ws.send(["frag", "mented"])  # one message in two frames (RFC 6455 §5.4)
        assert ws.recv(timeout=TIMEOUT) == "fragmented"
        ws.send(big)
        assert ws.recv(timeout=TIMEOUT) == big


def test_echo_answers_pings(demo: BackgroundServer) -> None:
    with open_ws(demo, "/ws") as ws:
        pong = ws.ping(b"are you there")
        assert pong.wait(TIMEOUT)


def test_echo_closes_with_the_code_the_client_chose(demo: BackgroundServer) -> None:
    with open_ws(demo, "/ws") as ws:
        ws.close(4000, "done here")
        echoed = ws.protocol.close_rcvd
    assert echoed is not None
    assert echoed.code == 4000  # RFC 6455 §5.5.1: the answer echoes the status code


# --- /wshandler: echo + heart beat -------------------------------------------------------


def test_wshandler_pushes_heart_beats_and_still_echoes(demo: BackgroundServer) -> None:
    with open_ws(demo, "/wshandler") as ws:
        assert ws.recv(timeout=TIMEOUT) == "heart beat"
        ws.send("echo me")
        received = [ws.recv(timeout=TIMEOUT) for _ in range(3)]
        assert "echo me" in received
        assert received.count("heart beat") >= 1


def test_wshandler_sends_protocol_pings(demo: BackgroundServer) -> None:
    with open_ws(demo, "/wshandler") as ws:
        ws.recv(timeout=TIMEOUT)
        ws.recv(timeout=TIMEOUT)  # the second heart beat follows the first ping's pong
    connection_ids = {e.conn_id for e in demo.event_log.events() if e.preview.startswith("/wsh")}
    pings = [
        e
        for e in demo.event_log.events()
        if e.conn_id in connection_ids and e.kind == "frame" and e.opcode == "PING"
    ]
    pongs = [
        e
        for e in demo.event_log.events()
        if e.conn_id in connection_ids and e.kind == "frame" and e.opcode == "PONG"
    ]
    assert [p.direction for p in pings][:1] == ["out"]
    assert [p.direction for p in pongs][:1] == ["in"]


# --- /push -------------------------------------------------------------------------------


def test_push_speaks_first_then_listens(demo: BackgroundServer) -> None:
    with open_ws(demo, "/push") as ws:
        start = time.monotonic()
        got = [ws.recv(timeout=TIMEOUT) for _ in range(3)]
        elapsed = time.monotonic() - start
        assert got == ["hello i am 0", "hello i am 1", "hello i am 2"]
        assert elapsed >= 0.25  # three pauses of 0.1 s (the seed waits before each)
        ws.send("i am client")
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.3)  # read, not answered
    assert any(e.preview == "'i am client'" for e in demo.event_log.events())


def test_push_timing_default_is_two_seconds() -> None:
    from wslearn.demo import DemoOptions

    assert DemoOptions().push_interval == 2.0
    assert DemoOptions().heartbeat_interval == 3.0


# --- Subprotocols ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "agreed"),
    [(["chat"], "chat"), (["superchat", "chat"], "superchat"), (["v2", "chat"], "chat")],
)
def test_subprotocol_first_offered_that_the_server_speaks(
    demo: BackgroundServer, offered: list[str], agreed: str
) -> None:
    with open_ws(demo, "/ws", subprotocols=offered) as ws:
        assert ws.subprotocol == agreed


def test_no_subprotocol_when_none_is_shared(demo: BackgroundServer) -> None:
    with open_ws(demo, "/ws", subprotocols=["mqtt"]) as ws:
        assert ws.subprotocol is None  # RFC 6455 §4.2.2: the header is simply left out


# --- Plain HTTP --------------------------------------------------------------------------


def test_root_serves_the_chat_page(demo: BackgroundServer) -> None:
    status, headers, body = http_get(demo, "/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert 'new URL("chat", page)' in body
    assert "innerHTML" not in body.split("<script>", 1)[1].replace("never innerHTML", "")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", body)  # nothing from a CDN
    assert "<script src" not in body and "<link" not in body


def test_unknown_path_is_404_listing_the_routes(demo: BackgroundServer) -> None:
    status, _, body = http_get(demo, "/nope")
    assert status == 404
    assert "/nope" in body
    for route in ("/ws", "/wshandler", "/push", "/chat"):
        assert route in body


def test_unknown_path_refuses_a_websocket_upgrade_with_404(demo: BackgroundServer) -> None:
    with pytest.raises(InvalidStatus) as raised, open_ws(demo, "/nope"):
        pass
    assert raised.value.response.status_code == 404
    assert b"/chat" in raised.value.response.body


@pytest.mark.parametrize("path", ["/ws", "/wshandler", "/push", "/chat"])
def test_plain_get_on_a_websocket_route_is_426(demo: BackgroundServer, path: str) -> None:
    status, headers, body = http_get(demo, path)
    assert status == 426
    assert headers["Upgrade"] == "websocket"
    assert "Upgrade: websocket" in body and "Sec-WebSocket-Key" in body
    assert path in body


def test_post_to_the_page_is_405(demo: BackgroundServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=TIMEOUT)
    try:
        conn.request("POST", "/", body=b"x")
        response = conn.getresponse()
        assert response.status == 405
        assert response.getheader("Allow") == "GET, HEAD"
        assert b"GET and HEAD" in response.read()
    finally:
        conn.close()


def raw_http(server: BackgroundServer, request: str) -> tuple[bytes, bytes]:
    """Send one request as it is; returns the answer's head and everything after it."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(request.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    return head, rest


@pytest.mark.parametrize(("path", "status"), [("/", 200), ("/nope", 404), ("/ws", 426)])
def test_head_gets_the_headers_of_get_and_no_content(demo: BackgroundServer, path: str, status: int) -> None:
    # RFC 9110 §9.3.2: the same header fields as GET, and no content at all.
    get_head, get_body = raw_http(demo, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head, rest = raw_http(demo, f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert head == get_head and get_body
    assert f"Content-Length: {len(get_body)}".encode() in head
    assert rest == b""


def test_a_bad_request_never_hurts_the_others(demo: BackgroundServer) -> None:
    with open_ws(demo, "/ws") as ws:
        status, _, body = http_get(demo, "/ws", {"Upgrade": "websocket", "Connection": "Upgrade"})
        assert status == 400  # no Sec-WebSocket-Key
        assert "Sec-WebSocket-Key" in body
        ws.send("still here")
        assert ws.recv(timeout=TIMEOUT) == "still here"
