"""Deployment: misconfigured proxies and their symptoms, TLS in the kernel, ws:// versus wss://."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import pytest

from wslearn.errors import HandshakeError
from wslearn.handshake import Headers, Request
from wslearn.notebook import BackgroundServer, SyncClient, start_demo, start_proxy
from wslearn.notebook.tls import TLS_HANDSHAKE_BYTE, first_bytes, kernel_ca
from wslearn.proxy import MODES, first_offered_subprotocol, forward_request, start_proxy_server

TIMEOUT = 5


@pytest.fixture(scope="module")
def target() -> Iterator[BackgroundServer]:
    server = start_demo("deployment target", ping_interval=None)
    yield server
    server.stop()


def upgrade_request(*extra: tuple[str, str]) -> Request:
    headers = Headers(
        [
            ("Host", "127.0.0.1:1"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
            *extra,
        ]
    )
    return Request("GET", "/chat", "HTTP/1.1", headers)


# --- What each mode sends upstream -------------------------------------------------------


def test_the_correct_proxy_asks_for_the_upgrade_again() -> None:
    sent = forward_request(upgrade_request(), "/", "10.0.0.1")
    assert sent.version == "HTTP/1.1"
    assert sent.headers.get("Upgrade") == "websocket"
    assert sent.headers.get("Connection") == "Upgrade"


def test_drop_upgrade_sends_a_plain_get() -> None:
    sent = forward_request(upgrade_request(), "/", "10.0.0.1", "drop-upgrade")
    assert sent.headers.get("Upgrade") is None
    assert sent.headers.get("Connection") == "close"
    assert sent.headers.get("Sec-WebSocket-Key") == "dGhlIHNhbXBsZSBub25jZQ=="  # end to end


def test_http10_keeps_the_headers_but_not_the_version() -> None:
    sent = forward_request(upgrade_request(), "/", "10.0.0.1", "http10")
    assert sent.version == "HTTP/1.0"
    assert sent.headers.get("Upgrade") == "websocket"


def test_unknown_mode_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="drop-upgrade"):
        forward_request(upgrade_request(), "/", "10.0.0.1", "nginx")
    with pytest.raises(ValueError, match="unknown proxy mode"):
        start_proxy("ws://127.0.0.1:1", "bad mode proxy", mode="nginx")
    assert set(MODES) == {"websocket", "drop-upgrade", "http10", "first-subprotocol"}


def test_first_offered_subprotocol() -> None:
    assert (
        first_offered_subprotocol(upgrade_request(("Sec-WebSocket-Protocol", "v2.chat, superchat")))
        == "v2.chat"
    )
    assert first_offered_subprotocol(upgrade_request()) is None


# --- The symptoms, live ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "status", "said"),
    [("drop-upgrade", 426, "Upgrade Required"), ("http10", 400, "HTTP/1.1 or higher")],
)
def test_a_misconfigured_proxy_breaks_the_upgrade(
    target: BackgroundServer, mode: str, status: int, said: str
) -> None:
    proxy = start_proxy(target.url, f"proxy {mode}", mode=mode)
    try:
        with pytest.raises(HandshakeError) as refused:
            SyncClient(proxy.url + "/ws", open_timeout=TIMEOUT)
        assert refused.value.status == status
        assert said in str(refused.value)
        # The target saw the request the proxy sent, and refused it: no frame ever flowed.
        assert not [e for e in proxy.event_log.events() if e.kind == "frame"]
        answers = [e.preview for e in proxy.event_log.events() if e.direction == "out"]
        assert any(str(status) in answer for answer in answers)
    finally:
        proxy.stop()
    with SyncClient(target.url + "/ws", open_timeout=TIMEOUT) as ws:  # the target is fine
        ws.send("direct")
        assert ws.recv(timeout=TIMEOUT) == "direct"


def test_first_subprotocol_proxy_makes_the_ends_disagree(target: BackgroundServer) -> None:
    proxy = start_proxy(target.url, "proxy first-subprotocol", mode="first-subprotocol")
    try:
        with SyncClient(
            proxy.url + "/chat", subprotocols=["v2.chat", "superchat"], open_timeout=TIMEOUT
        ) as ws:
            assert ws.subprotocol == "v2.chat"  # what the proxy told the client
            assert ws.recv(timeout=TIMEOUT).isdigit()  # the uid
            notice = ws.recv(timeout=TIMEOUT)  # the target chose superchat: it sends notices
            assert '"type": "join"' in notice
        with SyncClient(proxy.url + "/chat", subprotocols=["superchat"], open_timeout=TIMEOUT) as ws:
            assert ws.subprotocol == "superchat"  # one offer: nothing to disagree about
    finally:
        proxy.stop()


def test_start_proxy_server_with_a_mode_is_bounded() -> None:
    import asyncio

    async def main() -> str:
        async with await start_proxy_server("ws://127.0.0.1:1", mode="http10") as proxy:
            return repr(proxy)

    assert "mode=http10" in asyncio.run(asyncio.wait_for(main(), TIMEOUT))


# --- TLS -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_demo() -> Iterator[BackgroundServer]:
    server = start_demo("deployment tls", ssl=kernel_ca().server_context(), ping_interval=None)
    yield server
    server.stop()


def test_wss_to_the_tls_demo(tls_demo: BackgroundServer) -> None:
    assert tls_demo.url.startswith("wss://127.0.0.1:")
    assert tls_demo.http_url.startswith("https://127.0.0.1:")
    with SyncClient(tls_demo.url + "/ws", ssl=kernel_ca().client_context(), open_timeout=TIMEOUT) as ws:
        ws.send("over TLS")
        assert ws.recv(timeout=TIMEOUT) == "over TLS"
    again = start_demo("deployment tls", ssl=kernel_ca().server_context(), ping_interval=None)
    assert again is tls_demo  # re-running the cell: the same server
    assert start_demo("deployment tls", tls=True, ping_interval=None) is tls_demo  # the same context


def test_an_untrusted_certificate_is_refused(tls_demo: BackgroundServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        SyncClient(tls_demo.url + "/ws", open_timeout=TIMEOUT)  # the system does not know our CA


def test_ws_to_a_tls_port_says_so(tls_demo: BackgroundServer) -> None:
    with pytest.raises(HandshakeError, match="0x16") as refused:
        SyncClient(tls_demo.url.replace("wss://", "ws://") + "/ws", open_timeout=TIMEOUT)
    assert "wss://" in str(refused.value)


def test_wss_to_a_plain_port_says_so(target: BackgroundServer) -> None:
    with pytest.raises(ssl.SSLError, match="does not speak TLS"):
        SyncClient(
            target.url.replace("ws://", "wss://") + "/ws",
            ssl=kernel_ca().client_context(),
            open_timeout=TIMEOUT,
        )
    refused = [e for e in target.event_log.events() if e.raw[:1] == bytes([TLS_HANDSHAKE_BYTE])]
    assert refused, "the plain server logged the ClientHello it could not read"


def test_first_bytes_tell_tls_from_http(tls_demo: BackgroundServer) -> None:
    context = kernel_ca().client_context()
    with socket.create_connection(("127.0.0.1", tls_demo.port), timeout=TIMEOUT) as raw:
        hello = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(*hello, server_hostname="127.0.0.1")
        with pytest.raises(ssl.SSLWantReadError):
            tls.do_handshake()
        client_hello = hello[1].read()
        raw.sendall(client_hello)
    assert client_hello[0] == 0x16
    assert "TLS" in first_bytes(client_hello)
    assert "plain HTTP" in first_bytes(b"GET /ws HTTP/1.1\r\n")
    assert "nothing" in first_bytes(b"")
    assert "neither" in first_bytes(b"\x00")


def test_the_ca_is_made_once_and_has_a_pem() -> None:
    assert kernel_ca() is kernel_ca()
    assert kernel_ca().ca_pem().startswith("-----BEGIN CERTIFICATE-----")
