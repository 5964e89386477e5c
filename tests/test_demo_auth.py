"""The demo server's Origin policy and its four auth styles (seed article 003)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from wslearn.demo import demo_server
from wslearn.demo.auth import same_host
from wslearn.handshake import Headers, Request
from wslearn.notebook import BackgroundServer, start_demo

TIMEOUT = 5


def open_ws(url: str, **kwargs: Any) -> ClientConnection:
    connection: ClientConnection = ws_connect(
        url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, proxy=None, **kwargs
    )
    return connection


def refusal(url: str, **kwargs: Any) -> tuple[int, str]:
    """Status and body of a refused handshake."""
    with pytest.raises(InvalidStatus) as raised, open_ws(url, **kwargs):
        pass
    response = raised.value.response
    return response.status_code, response.body.decode("utf-8")


def echo_works(url: str, **kwargs: Any) -> bool:
    with open_ws(url, **kwargs) as ws:
        ws.send("ping?")
        return ws.recv(timeout=TIMEOUT) == "ping?"


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    running = start_demo(f"auth {request.node.name}", ping_interval=None, **request.param)
    yield running
    running.stop()


def with_options(**options: object) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("server", [options], indirect=True)


# --- Origin (RFC 6455 §10.2) -------------------------------------------------------------


@with_options()
def test_no_origin_is_allowed(server: BackgroundServer) -> None:
    assert echo_works(server.url + "/ws")  # the websockets client sends no Origin


@with_options()
def test_same_host_origin_is_allowed(server: BackgroundServer) -> None:
    assert echo_works(server.url + "/ws", origin=f"http://127.0.0.1:{server.port}")


@with_options()
def test_foreign_origin_is_403_with_a_reason(server: BackgroundServer) -> None:
    status, body = refusal(server.url + "/ws", origin="http://evil.example")
    assert status == 403
    assert "http://evil.example" in body and "Origin" in body


@with_options()
def test_same_host_other_port_is_foreign(server: BackgroundServer) -> None:
    status, _ = refusal(server.url + "/chat", origin=f"http://127.0.0.1:{server.port + 1}")
    assert status == 403


@with_options(allowed_origins=("http://localhost:8888",))
def test_allowlisted_origin(server: BackgroundServer) -> None:
    assert echo_works(server.url + "/ws", origin="http://localhost:8888")
    assert refusal(server.url + "/ws", origin="http://localhost:8889")[0] == 403


@with_options(allowed_origins=("*",))
def test_star_allows_any_origin(server: BackgroundServer) -> None:
    assert echo_works(server.url + "/ws", origin="http://anything.example")


def test_same_host_rules() -> None:
    assert same_host("http://Example.com", "example.com:80")
    assert same_host("https://example.com", "example.com:443")
    assert same_host("http://[::1]:8765", "[::1]:8765")
    assert not same_host("https://example.com", "example.com:80")
    assert not same_host("http://example.com:8080", "example.com")
    assert not same_host("null", "example.com")  # sandboxed pages send "null"
    assert not same_host("http://example.com", None)


# --- The four auth styles ----------------------------------------------------------------


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@with_options(basic_auth=("alice", "s3cret"))
def test_basic_auth(server: BackgroundServer) -> None:
    status, body = refusal(server.url + "/ws")
    assert status == 401 and "Authorization: Basic" in body
    status, body = refusal(server.url + "/ws", additional_headers=basic("alice", "wrong"))
    assert status == 403 and "wrong user name or password" in body
    status, body = refusal(server.url + "/ws", additional_headers={"Authorization": "Basic !!"})
    assert status == 401 and "base64" in body
    assert echo_works(server.url + "/ws", additional_headers=basic("alice", "s3cret"))
    # The seed's way: user:password in the URL becomes the same header.
    assert echo_works(f"ws://alice:s3cret@127.0.0.1:{server.port}/ws")


@with_options(bearer_token="t0ken")
def test_bearer_token(server: BackgroundServer) -> None:
    status, body = refusal(server.url + "/ws")
    assert status == 401 and "Bearer" in body
    status, body = refusal(server.url + "/ws", additional_headers={"Authorization": "Basic eA=="})
    assert status == 401 and "the Basic scheme" in body
    status, body = refusal(server.url + "/ws", additional_headers={"Authorization": "Bearer no"})
    assert status == 403 and "bearer token is wrong" in body
    assert echo_works(server.url + "/ws", additional_headers={"Authorization": "Bearer t0ken"})


@with_options(cookie=("session", "abc123"))
def test_cookie(server: BackgroundServer) -> None:
    status, body = refusal(server.url + "/ws")
    assert status == 401 and "'session'" in body
    status, body = refusal(server.url + "/ws", additional_headers={"Cookie": "session=nope"})
    assert status == 403 and "wrong value" in body
    cookies = {"Cookie": "theme=dark; session=abc123"}
    assert echo_works(server.url + "/ws", additional_headers=cookies)


@with_options(query_token="q-secret")
def test_token_in_the_query(server: BackgroundServer) -> None:
    status, body = refusal(server.url + "/chat")
    assert status == 401 and "?token=" in body
    status, body = refusal(server.url + "/ws?token=guess")
    assert status == 403 and "wrong" in body
    assert echo_works(server.url + "/ws?token=q-secret")
    logged = "\n".join(str(e) + repr(e.raw) for e in server.event_log.events())
    assert "q-secret" not in logged  # credentials never reach the event log


@with_options(message_token="m-secret", auth_timeout=0.3)
def test_auth_message_after_connect(server: BackgroundServer) -> None:
    with open_ws(server.url + "/ws") as ws:
        ws.send("m-secret")
        ws.send("now echo")
        assert ws.recv(timeout=TIMEOUT) == "now echo"
    with open_ws(server.url + "/ws") as ws:
        ws.send("wrong")
        with pytest.raises(ConnectionClosedError):
            ws.recv(timeout=TIMEOUT)
        assert ws.protocol.close_rcvd is not None
        assert ws.protocol.close_rcvd.code == 4403
    with open_ws(server.url + "/ws") as ws:
        with pytest.raises(ConnectionClosedError):
            ws.recv(timeout=TIMEOUT)  # says nothing: closed after auth_timeout
        assert ws.protocol.close_rcvd is not None
        assert ws.protocol.close_rcvd.code == 4401
        assert "0.3 s" in ws.protocol.close_rcvd.reason


@with_options(query_token="q", cookie=("c", "v"))
def test_every_enabled_style_must_pass(server: BackgroundServer) -> None:
    assert refusal(server.url + "/ws?token=q")[0] == 401  # no cookie
    assert echo_works(server.url + "/ws?token=q", additional_headers={"Cookie": "c=v"})


def test_the_page_needs_no_credentials() -> None:
    request = Request("GET", "/", headers=Headers([("Host", "x")]))
    app = demo_server(query_token="q")
    response = app.process_request(request)
    assert response is not None and response.status == 200


def test_basic_and_bearer_cannot_both_be_on() -> None:
    with pytest.raises(ValueError, match="Authorization"):
        demo_server(basic_auth=("a", "b"), bearer_token="t")


def test_unknown_option_is_named() -> None:
    with pytest.raises(TypeError, match="hearbeat_interval"):
        demo_server(hearbeat_interval=1)
