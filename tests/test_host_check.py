"""DNS rebinding: a page that renamed itself to 127.0.0.1 still sends its own name in Host.

The attack of the issue: ``Host: evil.example:PORT`` with ``Origin: http://evil.example:PORT``
passed the same-host Origin check and got 101. Now every request (the page, every route)
answers only the server's own names.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import chromium

from wslearn.aio.server import default_allowed_hosts
from wslearn.handshake import host_allowed, host_name, is_loopback
from wslearn.notebook import BackgroundServer, start_demo
from wslearn.notebook.urls import jupyter_hosts

TIMEOUT = 5
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def answer_to(port: int, host: str, path: str = "/chat", *, origin: str | None = None) -> tuple[int, str]:
    """Status and body of the answer to an upgrade request with this Host (and Origin)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade"]
    lines += [f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            while chunk := sock.recv(65536):
                body += chunk
    return int(head.split()[1]), body.decode("utf-8", "replace")  # after a 101: frames


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    options = getattr(request, "param", {})
    running = start_demo(f"hosts {request.node.name}", ping_interval=None, **options)
    yield running
    running.stop()


def test_a_rebinding_host_gets_403_on_every_route(server: BackgroundServer) -> None:
    port = server.port
    for path in ("/chat", "/ws", "/"):
        status, body = answer_to(port, f"evil.example:{port}", path, origin=f"http://evil.example:{port}")
        assert status == 403, (path, status, body)
        assert "evil.example" in body and "allowed_hosts" in body and "DNS rebinding" in body
    # The page too, as plain HTTP.
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: evil.example:{port}\r\n\r\n".encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 403")


def test_loopback_names_are_answered(server: BackgroundServer) -> None:
    port = server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "127.0.0.2", "app.localhost"):
        status, _ = answer_to(port, host, origin=f"http://{host}")
        assert status == 101, host


@pytest.mark.parametrize("server", [{"allowed_hosts": ("lab.example", ".course.example")}], indirect=True)
def test_allowed_hosts_adds_names(server: BackgroundServer) -> None:
    port = server.port
    for host in ("lab.example", "LAB.example.:443", "course.example", "a.b.course.example"):
        assert answer_to(port, host)[0] == 101, host
    for host in ("evil.example", "lab.example.evil.example", "notcourse.example"):
        assert answer_to(port, host)[0] == 403, host


@pytest.mark.parametrize(
    ("host", "allowed", "expected"),
    [
        ("127.0.0.1:8765", (), True),
        ("[::1]:80", (), True),
        ("localhost", (), True),
        ("LocalHost.:1", (), True),
        ("evil.example:8765", (), False),
        ("127.0.0.1.evil.example", (), False),
        ("localhost.evil.example", (), False),
        ("evil.example", ("*",), True),
        ("user@127.0.0.1", (), False),
        ("127.0.0.1:x", (), False),
        ("127.0.0.1/path", (), False),
        ("", (), False),
    ],
)
def test_host_allowed(host: str, allowed: tuple[str, ...], expected: bool) -> None:
    assert host_allowed(host, allowed) is expected


def test_names_and_loopback() -> None:
    assert host_name("[::1]:8765") == "::1"
    assert host_name("Example.ORG.:80") == "example.org"
    assert is_loopback("127.8.9.10") and is_loopback("::1") and is_loopback("x.localhost")
    assert not is_loopback("10.0.0.1") and not is_loopback("localhost.example")
    assert host_allowed(None) is False


def test_the_default_follows_the_bind_address() -> None:
    assert default_allowed_hosts("127.0.0.1") == ()
    assert default_allowed_hosts("::1") == ()
    assert default_allowed_hosts("localhost") == ()
    assert default_allowed_hosts("0.0.0.0") == ("*",)  # asked to be reachable from elsewhere
    assert default_allowed_hosts("") == ("*",)


# --- Behind Jupyter: the Host jupyter-server-proxy passes on ---------------------------------


def test_jupyter_hosts_from_the_environment(tmp_path: Path) -> None:
    assert jupyter_hosts({}) == ()
    hub = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}
    assert jupyter_hosts({**hub, "JUPYTERHUB_PUBLIC_HUB_URL": "https://hub.example.org/"}) == (
        "hub.example.org",
    )
    assert jupyter_hosts({**hub, "JUPYTERHUB_PUBLIC_URL": "https://ada.hub.example.org/user/ada/"}) == (
        "ada.hub.example.org",
    )
    assert jupyter_hosts({**hub, "JUPYTERHUB_HOST": "https://hub.example.org:8443"}) == ("hub.example.org",)
    # Under JupyterHub with no public name known: the browser is on another machine.
    assert jupyter_hosts({**hub, "JUPYTERHUB_PUBLIC_URL": ""}) == ("*",)
    # A local Jupyter server started with --ip: its server info file names it.
    (tmp_path / "jpserver-4242.json").write_text(json.dumps({"url": "http://lab-box:8888/", "token": "t"}))
    local = {"JPY_PARENT_PID": "4242", "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    assert jupyter_hosts(local) == ("lab-box",)
    (tmp_path / "jpserver-4242.json").write_text(json.dumps({"url": "http://localhost:8888/"}))
    assert jupyter_hosts(local) == ()  # loopback: allowed anyway


def test_start_demo_allows_the_hub_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    monkeypatch.setenv("JUPYTERHUB_PUBLIC_HUB_URL", "https://hub.example.org/")
    with start_demo("hosts hub", ping_interval=None) as server:
        # What jupyter-server-proxy forwards: the browser's Host and Origin, both the hub's.
        assert answer_to(server.port, "hub.example.org", origin="https://hub.example.org")[0] == 101
        assert answer_to(server.port, f"evil.example:{server.port}")[0] == 403


# --- The attack in a real browser ----------------------------------------------------------


@pytest.fixture(scope="module")
def rebinding_browser() -> Iterator[Any]:
    """Chromium that resolves evil.example to 127.0.0.1: what a rebinding DNS server does."""
    rebinding = "--host-resolver-rules=MAP evil.example 127.0.0.1"
    # A browser without Local Network Access blocking, as in the attack.
    no_lna = (
        "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests"
        ",PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults"
    )
    with chromium(rebinding, no_lna) as browser:
        yield browser


ATTACK_PAGE = """<!doctype html><script>
const ws = new WebSocket("ws://evil.example:PORT/chat");
window.result = new Promise(done => {
  ws.onmessage = event => done("read: " + event.data);
  ws.onclose = () => done("closed");
});
</script>"""


def test_a_rebinding_page_cannot_read_the_chat(rebinding_browser: Any, server: BackgroundServer) -> None:
    """The attacker's page came from evil.example; then evil.example resolves to 127.0.0.1."""
    port = server.port
    page = rebinding_browser.new_page()
    try:
        # The page served by the attacker's own server (here: by Playwright, before the rebinding).
        body = ATTACK_PAGE.replace("PORT", str(port))
        page.route(
            f"http://evil.example:{port}/attack",
            lambda route: route.fulfill(status=200, content_type="text/html", body=body),
        )
        page.goto(f"http://evil.example:{port}/attack", timeout=10_000)
        assert page.evaluate("window.result") == "closed"  # no id, no chat line: refused
        # The chat page itself, loaded under the attacker's name, is refused too.
        response = page.goto(f"http://evil.example:{port}/", timeout=10_000)
        assert response is not None and response.status == 403
        # Under its real name the same browser chats as before.
        page.goto(f"http://127.0.0.1:{port}/", timeout=10_000)
        page.wait_for_selector("#status.open", timeout=10_000)
    finally:
        page.close()
    events = server.event_log.events()
    refused = {e.conn_id for e in events if e.direction == "out" and "403" in e.preview}
    evil = {e.conn_id for e in events if e.direction == "in" and b"Host: evil.example" in e.raw}
    # every request under the attacker's name was refused (the browser may add a favicon request)
    assert len(evil) >= 2 and evil <= refused
    assert any(e.kind == "handshake" and e.conn_id in evil for e in events)  # the socket among them
