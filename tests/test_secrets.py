"""No credential of any auth style appears in the event log, in ``--trace`` output or in an
error body, whatever shape the request has: each test is an attack that tries to get one out."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc6455_vectors as rfc6455
from websockets.sync.client import connect as ws_connect

from wslearn.demo import demo_server
from wslearn.notebook import BackgroundServer, start_demo

ROOT = Path(__file__).resolve().parent.parent
SECRET = "S3cr3tV4lue"
TIMEOUT = 5
KEY = rfc6455.KEY


def exchange(port: int, raw: bytes) -> bytes:
    """Send raw bytes, return everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def upgrade(target: str, *headers: str, eol: str = "\r\n") -> bytes:
    lines = [
        f"GET {target} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {KEY}",
        "Sec-WebSocket-Version: 13",
        *headers,
    ]
    return (eol.join(lines) + eol + eol).encode("latin-1")


def logged(server: BackgroundServer) -> str:
    """Everything the event log holds, as text and as raw bytes."""
    events = server.event_log.events()
    return "\n".join(f"{event}\n{event.raw.decode('latin-1')}" for event in events)


def assert_hidden(*texts: str | bytes) -> None:
    b64 = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    for text in texts:
        shown = text.decode("latin-1") if isinstance(text, bytes) else text
        assert SECRET not in shown and b64 not in shown, shown


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    running = start_demo(f"secrets {request.node.name}", ping_interval=None, **request.param)
    yield running
    running.stop()


def with_options(**options: object) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("server", [options], indirect=True)


# Requests that carry the secret in a shape the parser refuses, or the checks refuse.
ATTACKS = {
    "bearer token without 'Bearer '": upgrade("/ws", f"Authorization: {SECRET}"),
    "wrong scheme, token after it": upgrade("/ws", f"Authorization: Token {SECRET}"),
    "cookie with a control character": upgrade("/ws", f"Cookie: session={SECRET}\x01"),
    "authorization with a control character": upgrade("/ws", f"Authorization: Bearer {SECRET}\x7f"),
    "token in a request line with two spaces": upgrade(f"/chat?token={SECRET} "),
    "token in a request line with a tab": upgrade(f"/chat?token={SECRET}\tx"),
    "bare LF line endings and no colon": upgrade("/ws?x=1", f"Authorization Bearer {SECRET}", eol="\n"),
    "credential folded onto the next line": upgrade("/ws", "Authorization: Bearer", f" {SECRET}"),
    "invalid header name that starts like a cookie": upgrade("/ws", f"Cookie {SECRET}: x"),
    "request line without a version": f"GET /ws?token={SECRET}\r\nHost: x\r\n\r\n".encode(),
    "header section too large": upgrade("/ws", f"Cookie: s={SECRET}", "X-Pad: " + "a" * 9000),
    "a refused request, then one with a cookie": b"NOT HTTP\r\n\r\n" + upgrade("/", f"Cookie: s={SECRET}"),
    "wrong basic password": upgrade(
        "/ws", "Authorization: Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()
    ),
}


@with_options(bearer_token="the-real-token")
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_no_error_body_and_no_log_line_repeats_a_credential(server: BackgroundServer, attack: str) -> None:
    answer = exchange(server.port, ATTACKS[attack])
    assert answer.startswith(b"HTTP/1.1 4"), answer[:200]  # refused, with a body that says why
    assert b"\r\n\r\n" in answer and answer.split(b"\r\n\r\n", 1)[1].strip()
    assert_hidden(answer, logged(server))


@with_options(message_token=SECRET, auth_timeout=2)
def test_the_auth_message_is_logged_by_size_only(server: BackgroundServer) -> None:
    with ws_connect(server.url + "/ws", open_timeout=TIMEOUT, proxy=None) as ws:
        ws.send(SECRET)
        ws.send("after the token")
        assert ws.recv(timeout=TIMEOUT) == "after the token"
    text = logged(server)
    assert_hidden(text)
    assert "after the token" in text  # only the first message is a credential
    assert "[redacted]" in text


@with_options(message_token=SECRET, auth_timeout=2)
def test_an_auth_message_in_fragments_is_not_logged_either(server: BackgroundServer) -> None:
    with ws_connect(server.url + "/ws", open_timeout=TIMEOUT, proxy=None) as ws:
        ws.send([SECRET[:4], SECRET[4:]])  # two frames: TEXT fin=0, CONTINUATION fin=1
        ws.send("next")
        assert ws.recv(timeout=TIMEOUT) == "next"
    assert_hidden(logged(server))


@with_options(basic_auth=("alice", SECRET))
def test_a_good_basic_login_is_not_logged(server: BackgroundServer) -> None:
    with ws_connect(
        f"ws://alice:{SECRET}@127.0.0.1:{server.port}/ws", open_timeout=TIMEOUT, proxy=None
    ) as ws:
        ws.send("hi")
        assert ws.recv(timeout=TIMEOUT) == "hi"
    assert_hidden(logged(server))


@with_options(query_token=SECRET, cookie=("session", SECRET))
def test_query_and_cookie_credentials_are_not_logged(server: BackgroundServer) -> None:
    url = f"{server.url}/ws?token={SECRET}"
    with ws_connect(
        url, open_timeout=TIMEOUT, proxy=None, additional_headers={"Cookie": f"session={SECRET}"}
    ) as ws:
        ws.send("hi")
        assert ws.recv(timeout=TIMEOUT) == "hi"
    answer = exchange(server.port, upgrade(f"/ws?token={SECRET}x", f"Cookie: session={SECRET}"))
    assert answer.startswith(b"HTTP/1.1 403")
    assert_hidden(logged(server), answer)


def test_serve_trace_prints_no_credential() -> None:
    """``python -m wslearn serve --trace`` prints every handshake: an attacker's included."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "wslearn", "serve", "--port", "0", "--trace"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        port = int(first.split("ws://127.0.0.1:")[1].split()[0])
        answers = [exchange(port, attack) for attack in ATTACKS.values()]
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=TIMEOUT)
    assert "GET /chat?token=[redacted]" in out  # the request was traced, redacted
    assert_hidden(out, *answers)


def test_connect_trace_prints_no_credential() -> None:
    with start_demo("secrets connect", ping_interval=None, bearer_token=SECRET) as server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "wslearn",
                "connect",
                f"{server.url}/ws?token={SECRET}",
                "--header",
                f"Authorization: Bearer {SECRET}",
                "--header",
                f"Cookie: s={SECRET}",
                "--trace",
                "--wait",
                "0.2",
            ],
            input="hello\n",
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )
    assert result.returncode == 0, result.stderr
    assert "< hello" in result.stdout
    assert_hidden(result.stdout, result.stderr)


# --- Empty secrets let anyone in: refused when the server is configured ---------------------


@pytest.mark.parametrize(
    "options",
    [
        {"bearer_token": ""},
        {"query_token": ""},
        {"message_token": ""},
        {"basic_auth": ("", "")},
        {"basic_auth": ("alice", "")},
        {"cookie": ("session", "")},
        {"bearer_token": "   "},
    ],
)
def test_an_empty_secret_is_refused_with_a_clear_error(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="is empty") as raised:
        demo_server(**options)
    assert "non-empty" in str(raised.value)
