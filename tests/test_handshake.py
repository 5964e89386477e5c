"""The opening handshake (RFC 6455 §4): keys, HTTP parsing, server and client checks."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wslearn.explain  # noqa: F401  (draws the HTML views: steps._repr_html_() below)
from wslearn.errors import HandshakeError
from wslearn.frames import Opcode, parse_frame
from wslearn.handshake import (
    GUID,
    MAX_HEADER_SIZE,
    Headers,
    Request,
    Response,
    accept_key,
    accept_key_steps,
    build_accept_response,
    build_error_response,
    build_request,
    check_request,
    check_response,
    generate_key,
    offered_subprotocols,
    parse_header_tokens,
    select_subprotocol,
)

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3
SEEDS_BAD_KEY = "x4JJHMbDL22zLk1GBhXDw=="  # 23 characters, shown in two of the seed articles

# RFC 6455 §1.3, the opening handshake from the client.
RFC_REQUEST = (
    b"GET /chat HTTP/1.1\r\n"
    b"Host: server.example.com\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Origin: http://example.com\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"\r\n"
)

RFC_RESPONSE = (
    b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    b"Sec-WebSocket-Protocol: chat\r\n"
    b"\r\n"
)

# An unmasked server frame "Hi" (RFC 6455 §5.7 style) that may follow a 101 at once.
FRAME_AFTER = b"\x81\x02Hi"


# -- key and accept (RFC 6455 §1.3, §4.2.2) ------------------------------------------------


@pytest.mark.parametrize(
    ("key", "accept"),
    [
        (RFC_KEY, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ("x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="),
        ("sN9cRrP/n9NdMgdcy2VJFQ==", "fFBooB7FAkLlXgRSz0BT3v4hq5s="),
    ],
)
def test_accept_key(key: str, accept: str) -> None:
    assert accept_key(key) == accept
    assert accept_key_steps(key).accept == accept


def test_accept_key_steps_match_rfc_section_1_3() -> None:
    steps = accept_key_steps(RFC_KEY)
    assert steps.key == RFC_KEY
    assert steps.concatenated == "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    # RFC 6455 §1.3 prints the SHA-1 of that string byte by byte.
    rfc_bytes = "b3 7a 4f 2c c0 62 4f 16 90 f6 46 06 cf 38 59 45 b2 be c4 ea"
    assert steps.sha1_hex == rfc_bytes.replace(" ", "")
    assert steps.sha1_digest == bytes.fromhex(rfc_bytes)
    text = str(steps)
    for value in (steps.key, steps.concatenated, steps.sha1_hex, steps.accept):
        assert value in text
    assert GUID in steps._repr_html_()


def test_generate_key_is_16_random_bytes_in_base64() -> None:
    keys = {generate_key() for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert len(key) == 24
        assert len(base64.b64decode(key, validate=True)) == 16
        assert check_request(build_request("h", key=key)) == key


# -- Headers and token lists (RFC 9110 §5) -------------------------------------------------


def test_headers_case_insensitive_and_repeated() -> None:
    headers = Headers([("Host", "a"), ("Connection", "keep-alive"), ("connection", "Upgrade")])
    assert headers["HOST"] == "a"
    assert headers.get_all("CONNECTION") == ["keep-alive", "Upgrade"]
    assert headers["connection"] == "keep-alive, Upgrade"  # RFC 9110 §5.3
    assert headers.get("Origin") is None
    assert headers.get("Origin", "none") == "none"
    assert "host" in headers and "Origin" not in headers and 3 not in headers
    assert len(headers) == 3
    assert list(headers) == ["Host", "Connection", "connection"]
    with pytest.raises(KeyError):
        headers["Origin"]
    headers["CONNECTION"] = "Upgrade"
    assert headers.items() == [("Host", "a"), ("CONNECTION", "Upgrade")]
    headers.remove("host")
    assert headers == Headers({"connection": "Upgrade"})
    assert headers != Headers({"connection": "close"})
    assert headers.copy() == headers and headers.copy() is not headers
    assert headers != [("connection", "Upgrade")]  # only Headers compare equal to Headers
    assert "Upgrade" in repr(headers)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Evil", "1\r\nSet-Cookie: stolen=1"),  # header injection
        ("X-Evil", "a\nb"),
        ("X-Nul", "a\x00b"),
        ("Bad Name", "x"),
        ("", "x"),
        ("Bad:Name", "x"),
    ],
)
def test_headers_refuse_what_would_break_http(name: str, value: str) -> None:
    with pytest.raises(ValueError):
        Headers().add(name, value)


@pytest.mark.parametrize(
    ("value", "tokens"),
    [
        ("keep-alive, Upgrade", ["keep-alive", "Upgrade"]),
        ("Upgrade", ["Upgrade"]),
        (" chat ,, superchat,", ["chat", "superchat"]),
        ("", []),
        ("\tx\t", ["x"]),
    ],
)
def test_parse_header_tokens(value: str, tokens: list[str]) -> None:
    assert parse_header_tokens(value) == tokens


# -- parsing requests: whole, byte by byte, with trailing bytes ----------------------------


def feed_byte_by_byte(parse: Callable[[bytes], tuple[object, int] | None], data: bytes) -> tuple[object, int]:
    """Parse ``data`` as if it arrived one byte at a time; only the last byte completes it."""
    for end in range(len(data)):
        assert parse(data[:end]) is None, f"parsed before byte {end} arrived"
    result = parse(data)
    assert result is not None
    return result


def test_parse_rfc_request_whole() -> None:
    parsed = Request.parse(RFC_REQUEST)
    assert parsed is not None
    req, used = parsed
    assert used == len(RFC_REQUEST)
    assert (req.method, req.target, req.version) == ("GET", "/chat", "HTTP/1.1")
    assert req.headers["sec-websocket-key"] == RFC_KEY
    assert offered_subprotocols(req) == ["chat", "superchat"]
    assert req.serialize() == RFC_REQUEST


def test_parse_rfc_request_byte_by_byte() -> None:
    whole = Request.parse(RFC_REQUEST)
    assert feed_byte_by_byte(Request.parse, RFC_REQUEST) == whole


def test_parse_request_leaves_trailing_bytes() -> None:
    parsed = Request.parse(RFC_REQUEST + b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")
    assert parsed is not None
    assert parsed[1] == len(RFC_REQUEST)


def test_parse_request_accepts_bare_lf_line_endings() -> None:
    # RFC 9112 §2.2: a recipient MAY accept a single LF, handy for requests typed by hand.
    typed = RFC_REQUEST.replace(b"\r\n", b"\n")
    parsed = Request.parse(typed + b"rest")
    assert parsed is not None
    req, used = parsed
    assert used == len(typed)
    assert req == Request.parse(RFC_REQUEST)[0]  # type: ignore[index]


def test_request_path_and_query() -> None:
    req = Request(target="/chat?room=1&room=2&name=&x=a%20b")
    assert req.path == "/chat"
    assert req.query == {"room": "1", "name": "", "x": "a b"}
    assert Request(target="/").query == {}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"GET /\r\n\r\n", "request line"),
        (b"GET / HTTP/1.1 extra\r\n\r\n", "request line"),
        (b"GET  / HTTP/1.1\r\n\r\n", "request line"),
        (b"GET / HTTP/x\r\n\r\n", "request line"),
        (b"GET /\xe9 HTTP/1.1\r\n\r\n", "request line"),
        (b"\r\n\r\n", "starts with a method"),
        (b"GET / HTTP/1.1\r\nHost\r\n\r\n", "line 2 is not 'Name: value'; got 'Host'"),
        (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", "'Host ' on line 2 is not a valid header name"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "obsolete folding"),
        (b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", "the value of Host contains a control"),
        (b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", "the value of Host contains a control"),
    ],
)
def test_malformed_request_is_400(data: bytes, fragment: str) -> None:
    with pytest.raises(HandshakeError) as caught:
        Request.parse(data)
    assert caught.value.status == 400
    assert fragment in caught.value.reason


def test_not_http_at_all_fails_at_once() -> None:
    # A TLS ClientHello (wss:// sent to a ws:// port) starts with 0x16: no need to wait for 8 KiB.
    with pytest.raises(HandshakeError) as caught:
        Request.parse(b"\x16\x03\x01\x02\x00\x01")
    assert caught.value.status == 400
    assert "starts with a method such as GET; got '\\x16\\x03" in caught.value.reason
    assert "wss:// sent to a ws:// server?" in caught.value.reason
    with pytest.raises(HandshakeError) as caught:
        Request.parse(b"\r\n")
    assert "TLS" not in caught.value.reason
    # An SSH server answers with its banner, not HTTP: the client knows from the first bytes.
    with pytest.raises(HandshakeError) as caught:
        Response.parse(b"SSH-2.0")
    assert caught.value.status == 0
    assert "a response starts with 'HTTP/'; got 'SSH-2.0'" in caught.value.reason
    assert Response.parse(b"HTT") is None  # so far so good


def test_header_section_limit_is_431() -> None:
    base = b"GET / HTTP/1.1\r\nX-Pad: "
    end = b"\r\n\r\n"
    # Exactly at the limit: accepted.
    fits = base + b"a" * (MAX_HEADER_SIZE - len(base) - len(end)) + end
    assert len(fits) == MAX_HEADER_SIZE
    assert Request.parse(fits) is not None
    # One byte more: 431, whether complete or still arriving.
    too_big = base + b"a" * (MAX_HEADER_SIZE - len(base) - len(end) + 1) + end
    for data in (too_big, too_big[:-4] + b"more"):
        with pytest.raises(HandshakeError) as caught:
            Request.parse(data)
        assert caught.value.status == 431
        assert "8192" in caught.value.reason
    # A smaller limit, given by the caller.
    with pytest.raises(HandshakeError) as caught:
        Request.parse(RFC_REQUEST, max_size=100)
    assert caught.value.status == 431
    # Incomplete but still under the limit: wait for more.
    assert Request.parse(too_big[: MAX_HEADER_SIZE - 1]) is None


def test_request_serialize_refuses_line_breaks() -> None:
    with pytest.raises(ValueError):
        Request(target="/\r\nX-Evil: 1").serialize()


# -- parsing responses ---------------------------------------------------------------------


def test_parse_rfc_response_whole_byte_by_byte_and_with_a_frame_behind() -> None:
    parsed = Response.parse(RFC_RESPONSE)
    assert parsed is not None
    resp, used = parsed
    assert (resp.status, resp.reason, resp.version) == (101, "Switching Protocols", "HTTP/1.1")
    assert used == len(RFC_RESPONSE)
    assert resp.serialize() == RFC_RESPONSE
    assert feed_byte_by_byte(Response.parse, RFC_RESPONSE) == parsed
    # A 101 has no body even with a Content-Length: what follows is frames.
    with_frame = Response.parse(RFC_RESPONSE + FRAME_AFTER)
    assert with_frame == (resp, len(RFC_RESPONSE))
    frame = parse_frame(RFC_RESPONSE + FRAME_AFTER, len(RFC_RESPONSE))
    assert frame is not None and frame[0].opcode is Opcode.TEXT and frame[0].payload == b"Hi"


def test_parse_error_response_reads_its_body() -> None:
    data = b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nnot you.\r\n"
    resp, used = feed_byte_by_byte(Response.parse, data)  # type: ignore[misc]
    assert isinstance(resp, Response)
    assert used == len(data)
    assert resp.status == 403 and resp.body == b"not you.\r\n"
    assert Response.parse(data + b"garbage") == (resp, len(data))


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",  # 204 never has a body
        b"HTTP/1.1 404 Not Found\r\n\r\n",  # no Content-Length: no body is read
        b"HTTP/1.1 200\r\n\r\n",  # an empty reason phrase
    ],
)
def test_responses_without_body(data: bytes) -> None:
    parsed = Response.parse(data)
    assert parsed is not None and parsed[0].body == b"" and parsed[1] == len(data)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"HTTP/1.1 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1\r\n\r\n", "status line"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "starts with 'HTTP/'"),
        (b"HTTP/1.1 400 Bad\r\nContent-Length: x\r\n\r\n", "Content-Length must be one number"),
        (b"HTTP/1.1 400 Bad\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "one number"),
        (b"HTTP/1.1 400 Bad\r\nContent-Length: 99999999\r\n\r\n", "at most 65536"),
    ],
)
def test_malformed_response_is_status_0(data: bytes, fragment: str) -> None:
    with pytest.raises(HandshakeError) as caught:
        Response.parse(data)
    assert caught.value.status == 0
    assert fragment in caught.value.reason


def test_response_serialize_adds_content_length_to_a_body() -> None:
    data = Response(404, "Not Found", body=b"nothing here").serialize()
    assert b"Content-Length: 12\r\n\r\nnothing here" in data
    parsed = Response.parse(data)
    assert parsed is not None and parsed[0].body == b"nothing here"


# -- server side: check_request (RFC 6455 §4.2.1) ------------------------------------------


def good_request(**changes: str | None) -> Request:
    """The RFC's request with some headers replaced (value) or removed (None)."""
    parsed = Request.parse(RFC_REQUEST)
    assert parsed is not None
    req = parsed[0]
    for name, value in changes.items():
        header = name.replace("_", "-")
        req.headers.remove(header)
        if value is not None:
            req.headers.add(header, value)
    return req


def test_check_request_returns_the_key() -> None:
    assert check_request(good_request()) == RFC_KEY


@pytest.mark.parametrize(
    "changes",
    [
        {"Connection": "keep-alive, Upgrade"},  # what Firefox sends
        {"Connection": "upgrade"},  # tokens are case-insensitive
        {"Upgrade": "WebSocket"},
        {"Sec_WebSocket_Protocol": None},
        {"Origin": None},
    ],
)
def test_check_request_accepts(changes: dict[str, str | None]) -> None:
    assert check_request(good_request(**changes)) == RFC_KEY


def test_connection_tokens_may_span_several_lines() -> None:
    req = good_request(Connection="keep-alive")
    req.headers.add("Connection", "Upgrade")
    assert check_request(req) == RFC_KEY


REJECTIONS = [
    # (what to change, status, words the reason must contain, headers the answer must carry)
    ({"method": "POST"}, 405, "uses GET; got 'POST'", [("Allow", "GET")]),
    ({"version": "HTTP/1.0"}, 400, "HTTP/1.1 or higher; got HTTP/1.0", []),
    ({"version": "HTTP/2.0"}, 505, "need HTTP/1.1; got HTTP/2.0", []),
    ({"version": "HTTPS/1.1"}, 400, "got 'HTTPS/1.1'", []),
    ({"Host": None}, 400, "Host header is missing", []),
    ({"Upgrade": None}, 426, "no Upgrade: websocket", [("Upgrade", "websocket")]),
    ({"Upgrade": "h2c"}, 400, "Upgrade must contain websocket; got 'h2c'", []),
    ({"Connection": None}, 400, "Connection header is missing", []),
    ({"Connection": "keep-alive"}, 400, "token Upgrade; got 'keep-alive'", []),
    ({"Sec_WebSocket_Key": None}, 400, "Sec-WebSocket-Key header is missing", []),
    (
        {"Sec_WebSocket_Key": SEEDS_BAD_KEY},
        400,
        "Sec-WebSocket-Key must be base64 of 16 bytes; got 23 characters",
        [],
    ),
    ({"Sec_WebSocket_Key": "!" * 24}, 400, "which is not base64", []),
    ({"Sec_WebSocket_Key": "A" * 24}, 400, "which decodes to 18 bytes", []),
    ({"Sec_WebSocket_Key": ""}, 400, "got 0 characters", []),
    (
        {"Sec_WebSocket_Version": None},
        426,
        "Sec-WebSocket-Version header is missing",
        [("Sec-WebSocket-Version", "13")],
    ),
    (
        {"Sec_WebSocket_Version": "8"},
        426,
        "Sec-WebSocket-Version must be 13; got '8'",
        [("Sec-WebSocket-Version", "13")],
    ),
    ({"Content_Length": "5"}, 400, "has no body; got Content-Length: '5'", []),
    ({"Transfer_Encoding": "chunked"}, 400, "has no body; got Transfer-Encoding", []),
]


@pytest.mark.parametrize(("changes", "status", "words", "headers"), REJECTIONS)
def test_check_request_rejects(
    changes: dict[str, str | None], status: int, words: str, headers: list[tuple[str, str]]
) -> None:
    req = good_request(**{k: v for k, v in changes.items() if k not in ("method", "version")})
    req.method = changes.get("method") or req.method
    req.version = changes.get("version") or req.version
    with pytest.raises(HandshakeError) as caught:
        check_request(req)
    error = caught.value
    assert (error.status, error.headers) == (status, tuple(headers))
    assert words in error.reason
    # The answer a server sends: that status, the reason in the body, those headers.
    answer = build_error_response(error)
    assert answer.status == status
    assert words.encode() in answer.body
    for header in headers:
        assert header in answer.headers.items()


@pytest.mark.parametrize("name", ["Host", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Origin"])
def test_check_request_rejects_repeated_headers(name: str) -> None:
    req = good_request()
    req.headers.add(name, req.headers.get_all(name)[0])
    with pytest.raises(HandshakeError) as caught:
        check_request(req)
    assert caught.value.status in (400, 426)
    assert f"{name} must appear once; got 2 values" in caught.value.reason


def test_the_seeds_request_with_the_23_character_key_is_rejected() -> None:
    seeds = RFC_REQUEST.replace(RFC_KEY.encode(), SEEDS_BAD_KEY.encode())
    parsed = Request.parse(seeds)
    assert parsed is not None
    with pytest.raises(HandshakeError) as caught:
        check_request(parsed[0])
    assert caught.value.status == 400
    assert caught.value.reason == (
        "Sec-WebSocket-Key must be base64 of 16 bytes; got 23 characters:"
        " 'x4JJHMbDL22zLk1GBhXDw==' (a valid key has 24)"
    )


def test_origin_policy() -> None:
    seen: list[str | None] = []

    def only_example_com(origin: str | None) -> bool:
        seen.append(origin)
        return origin == "http://example.com"

    assert check_request(good_request(), origin_allowed=only_example_com) == RFC_KEY
    with pytest.raises(HandshakeError) as caught:
        check_request(good_request(Origin="http://evil.example"), origin_allowed=only_example_com)
    assert caught.value.status == 403
    assert "Origin 'http://evil.example' is not allowed" in caught.value.reason
    with pytest.raises(HandshakeError) as caught:
        check_request(good_request(Origin=None), origin_allowed=only_example_com)
    assert caught.value.status == 403
    assert "without an Origin header" in caught.value.reason
    assert seen == ["http://example.com", "http://evil.example", None]


def test_error_response_explains_itself() -> None:
    error = HandshakeError(
        426, "Sec-WebSocket-Version must be 13; got '8'", (("Sec-WebSocket-Version", "13"),)
    )
    answer = build_error_response(error)
    assert (answer.status, answer.reason) == (426, "Upgrade Required")
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answer.headers["Connection"] == "close"
    assert answer.headers["Sec-WebSocket-Version"] == "13"
    assert answer.body.decode().startswith("Sec-WebSocket-Version must be 13; got '8'\n")
    parsed = Response.parse(answer.serialize())
    assert parsed is not None and parsed[0] == answer
    assert int(answer.headers["Content-Length"]) == len(answer.body)
    # A status with no known phrase and no hint still gives a well-formed answer.
    odd = build_error_response(HandshakeError(418, "no tea here"))
    assert (odd.status, odd.body) == (418, b"no tea here\n")


# -- server side: answering (RFC 6455 §4.2.2) ----------------------------------------------


@pytest.mark.parametrize(
    ("offered", "supported", "chosen"),
    [
        (["chat", "superchat"], ["superchat", "chat"], "chat"),  # the client's order wins
        (["chat", "superchat"], ["superchat"], "superchat"),
        (["chat"], ["v2"], None),
        ([], ["chat"], None),
        (["chat"], [], None),
    ],
)
def test_select_subprotocol(offered: list[str], supported: list[str], chosen: str | None) -> None:
    assert select_subprotocol(offered, supported) == chosen


def test_build_accept_response_is_the_rfc_response() -> None:
    resp = build_accept_response(good_request(), subprotocol="chat")
    assert resp.serialize() == RFC_RESPONSE
    assert check_response(resp, key=RFC_KEY, subprotocols=["chat", "superchat"]) == "chat"


def test_build_accept_response_never_picks_an_unoffered_subprotocol() -> None:
    with pytest.raises(ValueError, match="did not offer the subprotocol 'mqtt'"):
        build_accept_response(good_request(), subprotocol="mqtt")


def test_build_accept_response_refuses_a_bad_request() -> None:
    with pytest.raises(HandshakeError) as caught:
        build_accept_response(good_request(Sec_WebSocket_Key=SEEDS_BAD_KEY))
    assert caught.value.status == 400


def test_build_accept_response_extra_headers() -> None:
    resp = build_accept_response(good_request(), extra_headers=[("Server", "wslearn")])
    assert resp.headers["Server"] == "wslearn"
    assert "Sec-WebSocket-Protocol" not in resp.headers


# -- client side (RFC 6455 §4.1) ------------------------------------------------------------


def test_build_request() -> None:
    req = build_request(
        "server.example.com",
        "/chat",
        key=RFC_KEY,
        subprotocols=["chat", "superchat"],
        origin="http://example.com",
    )
    assert check_request(req) == RFC_KEY
    assert offered_subprotocols(req) == ["chat", "superchat"]
    assert req.headers["Origin"] == "http://example.com"
    assert req.serialize().startswith(b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n")


@pytest.mark.parametrize(
    ("target", "subprotocols"),
    [("chat", ()), ("/a b", ()), ("/\r\nX: 1", ()), ("/", ("two words",)), ("/", ("a,b",))],
)
def test_build_request_refuses_bad_input(target: str, subprotocols: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        build_request("h", target, key=RFC_KEY, subprotocols=subprotocols)


def rfc_response(**changes: str | None) -> Response:
    parsed = Response.parse(RFC_RESPONSE)
    assert parsed is not None
    resp = parsed[0]
    for name, value in changes.items():
        header = name.replace("_", "-")
        resp.headers.remove(header)
        if value is not None:
            resp.headers.add(header, value)
    return resp


def test_check_response_returns_the_subprotocol() -> None:
    assert check_response(rfc_response(), key=RFC_KEY, subprotocols=["chat"]) == "chat"
    no_protocol = rfc_response(Sec_WebSocket_Protocol=None)
    assert check_response(no_protocol, key=RFC_KEY) is None
    # Case-insensitive tokens, several Connection tokens.
    relaxed = rfc_response(Upgrade="WebSocket", Connection="keep-alive, upgrade")
    assert check_response(relaxed, key=RFC_KEY, subprotocols=["chat"]) == "chat"


CLIENT_FAILURES = [
    ({"Upgrade": None}, "Upgrade must be websocket; got ''"),
    ({"Upgrade": "h2c"}, "Upgrade must be websocket; got 'h2c'"),
    ({"Upgrade": "websocket, h2c"}, "got 'websocket, h2c'"),
    ({"Connection": None}, "Connection must contain Upgrade; got ''"),
    ({"Connection": "close"}, "Connection must contain Upgrade; got 'close'"),
    ({"Sec_WebSocket_Accept": None}, "should be s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
    (
        {"Sec_WebSocket_Accept": "HSmrc0sMlYUkAGmm5OPpG2HaGWk="},
        "got 'HSmrc0sMlYUkAGmm5OPpG2HaGWk='",
    ),
    ({"Sec_WebSocket_Extensions": "permessage-deflate"}, "but we asked for none"),
    ({"Sec_WebSocket_Protocol": "mqtt"}, "Sec-WebSocket-Protocol 'mqtt'; we offered chat"),
    ({"Sec_WebSocket_Protocol": "chat, superchat"}, "'chat, superchat'; we offered chat"),
]


@pytest.mark.parametrize(("changes", "words"), CLIENT_FAILURES)
def test_check_response_fails(changes: dict[str, str | None], words: str) -> None:
    with pytest.raises(HandshakeError) as caught:
        check_response(rfc_response(**changes), key=RFC_KEY, subprotocols=["chat"])
    assert caught.value.status == 101
    assert words in caught.value.reason


def test_check_response_subprotocol_when_none_was_offered() -> None:
    with pytest.raises(HandshakeError) as caught:
        check_response(rfc_response(), key=RFC_KEY)
    assert "we offered none" in caught.value.reason


def test_check_response_not_101_keeps_the_status_and_the_servers_words() -> None:
    answer = build_error_response(HandshakeError(403, "Origin 'http://evil' is not allowed"))
    with pytest.raises(HandshakeError) as caught:
        check_response(answer, key=RFC_KEY)
    assert caught.value.status == 403
    assert "answered 403 Forbidden instead of 101" in caught.value.reason
    assert "Origin 'http://evil' is not allowed" in caught.value.reason
    with pytest.raises(HandshakeError) as caught:
        check_response(Response(200, "OK"), key=RFC_KEY)
    assert caught.value.reason == "the server answered 200 OK instead of 101 Switching Protocols"


# -- Hypothesis: any bytes give a Request, None or HandshakeError ---------------------------

# Bytes that look more and more like HTTP, so the parser's deeper branches are reached.
http_pieces = st.sampled_from(
    [b"GET / HTTP/1.1", b"HTTP/1.1 101 OK", b"\r\n", b"\n", b"\r", b": ", b"Host", b"x", b" "]
)
http_like = st.lists(st.one_of(http_pieces, st.binary(max_size=8)), max_size=30).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=400), http_like), st.sampled_from([MAX_HEADER_SIZE, 16]))
def test_any_bytes_give_request_none_or_handshake_error(data: bytes, max_size: int) -> None:
    try:
        result = Request.parse(data, max_size=max_size)
    except HandshakeError as error:
        assert error.status in (400, 431) and error.reason
        return
    if result is not None:
        req, used = result
        assert isinstance(req, Request) and 0 < used <= len(data)
        # What was parsed serializes to a request that parses the same way again.
        again = Request.parse(req.serialize(), max_size=MAX_HEADER_SIZE)
        assert again is not None and again[0] == req


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), http_like))
def test_any_bytes_give_response_none_or_handshake_error(data: bytes) -> None:
    try:
        result = Response.parse(data)
    except HandshakeError as error:
        assert error.status == 0 and error.reason
        return
    if result is not None:
        assert isinstance(result[0], Response) and 0 < result[1] <= len(data)


# Any value in any WebSocket header, including bytes outside ASCII (obs-text): the
# server's checks answer with a HandshakeError and an HTTP status, never crash.
latin1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF)
any_value = st.one_of(st.text(latin1, max_size=30), st.text(latin1, min_size=24, max_size=24))


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(
        ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Origin"]
    ),
    value=any_value,
)
def test_check_request_answers_any_header_value_with_a_status(name: str, value: str) -> None:
    data = RFC_REQUEST.decode("latin-1")
    lines = [line for line in data.split("\r\n") if not line.lower().startswith(name.lower() + ":")]
    lines.insert(1, f"{name}: {value}")
    try:
        parsed = Request.parse("\r\n".join(lines).encode("latin-1"))
        assert parsed is not None
        check_request(parsed[0], origin_allowed=lambda origin: origin is None or origin.isascii())
    except HandshakeError as error:
        assert 400 <= error.status <= 505 and error.reason


tokens = st.text("abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=12)
header_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=0, max_size=20)


@settings(max_examples=200, deadline=None)
@given(
    host=tokens,
    subprotocols=st.lists(tokens, max_size=4),
    extra=st.lists(st.tuples(tokens.map(lambda t: "X-" + t), header_values), max_size=5),
    chunk=st.integers(min_value=1, max_value=50),
)
def test_built_requests_survive_the_wire_in_any_chunks(
    host: str, subprotocols: list[str], extra: list[tuple[str, str]], chunk: int
) -> None:
    key = generate_key()
    req = build_request(host, "/ws", key=key, subprotocols=subprotocols, extra_headers=extra)
    data = req.serialize() + FRAME_AFTER
    result = None
    for end in range(chunk, len(data) + chunk, chunk):
        result = Request.parse(data[:end])
        if result is not None:
            break
    assert result == (req, len(data) - len(FRAME_AFTER))
    assert check_request(req) == key
    resp = build_accept_response(req, subprotocol=select_subprotocol(subprotocols, subprotocols[::-1]))
    expected = subprotocols[0] if subprotocols else None
    assert check_response(resp, key=key, subprotocols=subprotocols) == expected


# -- interop with the websockets library's sans-I/O objects, both roles ---------------------


def test_our_request_is_accepted_by_websockets_server() -> None:
    from websockets.http11 import Request as TheirRequest
    from websockets.protocol import OPEN
    from websockets.server import ServerProtocol

    key = generate_key()
    ours = build_request(
        "127.0.0.1:8765", "/chat", key=key, subprotocols=["chat", "superchat"], origin="http://x"
    )
    theirs = ServerProtocol(subprotocols=["superchat"], origins=["http://x"])
    theirs.receive_data(ours.serialize())
    [their_request] = theirs.events_received()
    assert isinstance(their_request, TheirRequest) and their_request.path == "/chat"
    their_response = theirs.accept(their_request)
    theirs.send_response(their_response)
    assert theirs.state is OPEN and theirs.handshake_exc is None
    theirs.send_text(b"Hi")  # a frame right behind the 101
    data = b"".join(theirs.data_to_send())

    parsed = Response.parse(data)
    assert parsed is not None
    resp, used = parsed
    assert check_response(resp, key=key, subprotocols=["chat", "superchat"]) == "superchat"
    frame = parse_frame(data, used)
    assert frame is not None and frame[0].payload == b"Hi" and used + frame[1] == len(data)


def test_websockets_server_rejects_our_bad_requests_too() -> None:
    # The reference implementation refuses these too. (It lets a missing Host through;
    # RFC 6455 §4.2.1 item 2 requires one, so check_request is stricter there.)
    from websockets.server import ServerProtocol

    bad = [
        {"Sec_WebSocket_Key": SEEDS_BAD_KEY},
        {"Sec_WebSocket_Key": None},
        {"Sec_WebSocket_Version": "8"},
        {"Upgrade": None},
        {"Connection": "keep-alive"},
    ]
    for changes in bad:
        req = good_request(**changes)
        with pytest.raises(HandshakeError):
            check_request(req)
        theirs = ServerProtocol()
        theirs.receive_data(req.serialize())
        [their_request] = theirs.events_received()
        assert theirs.accept(their_request).status_code >= 400


def test_websockets_client_request_passes_our_checks_and_accepts_our_101() -> None:
    from websockets.client import ClientProtocol
    from websockets.http11 import Response as TheirResponse
    from websockets.protocol import OPEN
    from websockets.uri import parse_uri

    theirs = ClientProtocol(
        parse_uri("ws://127.0.0.1:8765/chat?room=1"),
        subprotocols=["chat", "superchat"],
        origin="http://127.0.0.1:8765",
    )
    theirs.send_request(theirs.connect())
    data = b"".join(theirs.data_to_send())

    parsed = Request.parse(data)
    assert parsed is not None
    req, used = parsed
    assert used == len(data)
    assert (req.path, req.query) == ("/chat", {"room": "1"})
    key = check_request(req, origin_allowed=lambda origin: origin == "http://127.0.0.1:8765")
    assert key == theirs.key
    chosen = select_subprotocol(offered_subprotocols(req), ["superchat"])
    resp = build_accept_response(req, subprotocol=chosen)

    theirs.receive_data(resp.serialize() + FRAME_AFTER)
    events = theirs.events_received()
    assert isinstance(events[0], TheirResponse) and events[0].status_code == 101
    assert theirs.handshake_exc is None
    assert theirs.state is OPEN and theirs.subprotocol == "superchat"
    assert events[1].data == b"Hi"  # the frame behind our 101 reached them as a frame


def test_websockets_client_reads_our_error_response() -> None:
    from websockets.client import ClientProtocol
    from websockets.exceptions import InvalidStatus
    from websockets.uri import parse_uri

    theirs = ClientProtocol(parse_uri("ws://127.0.0.1:8765/"))
    theirs.send_request(theirs.connect())
    parsed = Request.parse(b"".join(theirs.data_to_send()))
    assert parsed is not None
    with pytest.raises(HandshakeError) as caught:
        check_request(parsed[0], origin_allowed=lambda origin: False)
    theirs.receive_data(build_error_response(caught.value).serialize())
    theirs.events_received()
    assert isinstance(theirs.handshake_exc, InvalidStatus)
    assert theirs.handshake_exc.response.status_code == 403
    assert b"without an Origin header" in theirs.handshake_exc.response.body


def test_error_response_for_an_unregistered_status_still_says_why() -> None:
    answer = build_error_response(HandshakeError(499, "the client went away"))
    assert answer.status == 499 and answer.reason == "Error"
    assert b"the client went away" in answer.body
