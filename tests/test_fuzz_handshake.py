"""Fuzzing the opening handshake (RFC 6455 §4): the request parser and the server's decision.

Requests are valid ones with random damage (a header dropped, doubled, renamed in odd case,
padded, a method or version changed, random bytes spliced in), delivered in random pieces.
The server must decide exactly once, the same way whatever the pieces, with a documented
status, and a header flood is refused at the limit without being buffered.
"""

from __future__ import annotations

import itertools
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from wslearn.errors import HandshakeError
from wslearn.handshake import Request, Response, check_request
from wslearn.protocol import HandshakeRejected, Protocol, RequestReceived, Role

STATUSES = {400, 403, 405, 426, 431, 505}
GOOD = [
    ("Host", "example.com:8765"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
]


@st.composite
def damaged_requests(draw: st.DrawFn) -> bytes:
    headers = list(GOOD)
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, max(len(headers) - 1, 0)))
        action = draw(st.sampled_from(["drop", "double", "case", "pad", "value", "byte", "extra"]))
        if not headers:
            break
        name, value = headers[index]
        if action == "drop":
            del headers[index]
        elif action == "double":
            headers.insert(index, (name, value))
        elif action == "case":
            headers[index] = (name.swapcase(), value.upper())
        elif action == "pad":
            headers[index] = (name, f"  {value}\t")
        elif action == "byte" and value:  # one character replaced: the length stays the same
            at = draw(st.integers(0, len(value) - 1))
            headers[index] = (name, value[:at] + chr(draw(st.integers(0, 255))) + value[at + 1 :])
        elif action == "value":
            headers[index] = (name, draw(st.text(st.characters(max_codepoint=255), max_size=30)))
        else:
            headers.append((draw(st.from_regex(r"[A-Za-z-]{1,20}", fullmatch=True)), "x"))
    method, version = "GET", "HTTP/1.1"
    if draw(st.integers(0, 9)) == 0:
        method = draw(st.sampled_from(["POST", "get", "HEAD"]))
    if draw(st.integers(0, 9)) == 0:
        version = draw(st.sampled_from(["HTTP/1.0", "HTTP/2.0", "HTTP/1"]))
    lines = [f"{method} /ws {version}", *(f"{n}: {v}" for n, v in headers)]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    if draw(st.integers(0, 9)) == 0:  # splice in random bytes
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at:]
    return data


def decide(data: bytes, cuts: list[int]) -> tuple[str | tuple[str, int] | None, bytes]:
    """Feed ``data`` in pieces to a server Protocol: its one decision and its answer."""
    server = Protocol(Role.SERVER)
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    events: list[object] = []
    for start, end in itertools.pairwise(points):
        server.receive_data(data[start:end])
        events += server.events_received()
    decisions = [e for e in events if isinstance(e, RequestReceived | HandshakeRejected)]
    assert len(decisions) <= 1, events
    if not decisions:
        return None, server.data_to_send()
    decision = decisions[0]
    if isinstance(decision, HandshakeRejected):
        return ("rejected", decision.error.status), server.data_to_send()
    return "upgrade", server.data_to_send()


@settings(max_examples=400, deadline=1000)
@given(data=damaged_requests(), cuts=st.lists(st.integers(0, 10**4), max_size=12))
def test_damaged_requests_get_one_documented_decision_whatever_the_pieces(
    data: bytes, cuts: list[int]
) -> None:
    whole, answer = decide(data, [])
    pieces, _ = decide(data, cuts)
    assert pieces == whole
    if whole is None:  # no complete header section: only possible if the bytes lost "\r\n\r\n"
        assert b"\r\n\r\n" not in data and b"\n\n" not in data
        return
    if whole == "upgrade":
        assert answer == b""  # the application decides: accept() or reject()
        parsed = Request.parse(data)
        assert parsed is not None
        check_request(parsed[0])  # must not raise: the core only passes valid requests
        return
    assert isinstance(whole, tuple)
    status = whole[1]
    assert status in STATUSES
    response = Response.parse(answer)
    assert response is not None and response[0].status == status
    assert response[0].body  # the body says why
    if status == 426:  # RFC 9110 §15.5.22 (Upgrade) or RFC 6455 §4.4 (the version we speak)
        headers = response[0].headers
        assert headers.get("Upgrade") == "websocket" or headers.get("Sec-WebSocket-Version") == "13"


@settings(max_examples=300, deadline=1000)
@given(data=st.binary(max_size=400), max_size=st.integers(16, 300))
def test_request_parse_on_any_bytes(data: bytes, max_size: int) -> None:
    try:
        parsed = Request.parse(data, max_size=max_size)
    except HandshakeError as error:
        assert error.status in (400, 431)
        return
    if parsed is not None:
        request, used = parsed
        assert 0 < used <= min(len(data), max_size)
        assert request.method and request.target


@settings(max_examples=300, deadline=1000)
@given(data=st.binary(max_size=400))
def test_response_parse_on_any_bytes(data: bytes) -> None:
    try:
        parsed = Response.parse(data)
    except HandshakeError as error:
        assert error.status == 0  # "not an HTTP response"
        return
    if parsed is not None:
        assert 100 <= parsed[0].status <= 999 and 0 < parsed[1] <= len(data)


@settings(max_examples=300, deadline=1000)
@given(data=damaged_requests() | st.binary(max_size=300), cuts=st.lists(st.integers(0, 999), max_size=8))
def test_a_client_protocol_survives_any_response(data: bytes, cuts: list[int]) -> None:
    client = Protocol(Role.CLIENT)
    client.connect("example.com", "/ws")
    client.data_to_send()
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    events: list[object] = []
    for start, end in itertools.pairwise(points):
        client.receive_data(data[start:end])  # must not raise
        events += client.events_received()
    # A random answer never carries the right Sec-WebSocket-Accept: never "open".
    assert all(type(e).__name__ in ("HandshakeFailed", "Message", "Ping", "Pong") for e in events)
    assert client.state.name in ("CONNECTING", "CLOSED")


def test_every_proper_prefix_of_a_request_needs_more_bytes() -> None:
    data = ("GET /ws HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in GOOD) + "\r\n").encode()
    for end in range(len(data)):
        assert Request.parse(data[:end]) is None
    parsed = Request.parse(data + b"\x81\x85trailing")  # a frame right behind the request
    assert parsed is not None and parsed[1] == len(data)


def test_a_header_flood_is_refused_at_the_limit_and_not_buffered() -> None:
    """64 MiB of header lines in 64 KiB pieces: 431 after the first piece, then nothing kept."""
    server = Protocol(Role.SERVER)
    piece = b"X-Flood: " + b"f" * 65517 + b"\r\n"  # 64 KiB, never an empty line
    tracemalloc.start()
    try:
        server.receive_data(b"GET /ws HTTP/1.1\r\n")
        for _ in range(1024):
            server.receive_data(piece)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    [event] = server.events_received()
    assert isinstance(event, HandshakeRejected) and event.error.status == 431
    print(f"\npeak memory while receiving 64 MiB of headers: {peak / 1024:.0f} KiB")
    assert peak < 1024 * 1024
