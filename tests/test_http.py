"""wslearn.http: HTTP/1.1 alone; wslearn.handshake: what RFC 6455 §4 adds to it."""

from __future__ import annotations

import pytest

import wslearn.handshake
import wslearn.http
from wslearn.handshake import build_request, wants_websocket
from wslearn.http import Headers, Request, authority

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def test_the_http_names_are_still_importable_from_handshake() -> None:
    for name in ("Headers", "Request", "Response", "MAX_HEADER_SIZE", "head_ends_in", "host_allowed"):
        assert getattr(wslearn.handshake, name) is getattr(wslearn.http, name)
    assert set(wslearn.handshake.__all__) <= set(dir(wslearn.handshake))


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (("127.0.0.1", 8765), {}, "127.0.0.1:8765"),
        (("::1", 8765), {}, "[::1]:8765"),  # RFC 3986 §3.2.2: an IPv6 address in brackets
        (("::1",), {}, "[::1]"),
        (("example.org", 443), {"default_port": 443}, "example.org"),
        (("fe80::1", 80), {"default_port": 443}, "[fe80::1]:80"),
    ],
)
def test_authority(args: tuple, kwargs: dict, expected: str) -> None:
    assert authority(*args, **kwargs) == expected


def test_the_servers_and_clients_write_ipv6_in_brackets() -> None:
    from wslearn.aio.client import parse_url

    url = parse_url("ws://[::1]:8765/chat")
    assert url.host == "::1" and url.host_header == "[::1]:8765"
    assert parse_url("wss://[::1]/").host_header == "[::1]"


@pytest.mark.parametrize(
    ("upgrade", "wanted"),
    [
        (["websocket"], True),
        (["WebSocket"], True),  # tokens compare case-insensitively
        (["h2c, websocket"], True),
        (["h2c", "websocket"], True),  # two fields are one list (RFC 9110 §5.3)
        (["h2c"], False),
        ([], False),
    ],
)
def test_wants_websocket(upgrade: list[str], wanted: bool) -> None:
    req = Request(headers=Headers([("Upgrade", value) for value in upgrade]))
    assert wants_websocket(req) is wanted


def test_one_wants_websocket_for_the_server_the_proxy_and_the_routes() -> None:
    import wslearn.demo.routes
    import wslearn.proxy

    assert wslearn.demo.routes.wants_websocket is wants_websocket
    assert wslearn.proxy.wants_websocket is wants_websocket
    assert wants_websocket(build_request("h", key=KEY))
