"""Tests of wslearn.protocol: a client and a server Protocol wired together in memory.

No sockets: bytes move from one ``data_to_send()`` to the other's ``receive_data()``.
Misbehaving peers are played by hand-made frames (``serialize_frame`` does not validate).
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable
from typing import Any, cast

import pytest
import rfc6455_vectors as rfc6455
from conftest import FEEDING, feed, handshake, pump
from hypothesis import given, settings
from hypothesis import strategies as st

from wslearn.assembler import Message
from wslearn.errors import ConnectionClosed
from wslearn.frames import Close, Frame, Opcode, parse_frame, serialize_frame
from wslearn.protocol import (
    TABLE,
    TRANSITIONS,
    CloseReceived,
    ConnectionFailed,
    ConnectionLost,
    HandshakeFailed,
    HandshakeRejected,
    Ping,
    Pong,
    Protocol,
    RequestReceived,
    ResponseReceived,
    Role,
    State,
    Trigger,
    diagram,
)

KEY = b"\x01\x02\x03\x04"


# -- wiring ------------------------------------------------------------------------------------


def connect(
    client_options: dict[str, Any] | None = None,
    server_options: dict[str, Any] | None = None,
    **connect_options: Any,
) -> tuple[Protocol, Protocol]:
    """A client and a server that completed the opening handshake."""
    client = Protocol(Role.CLIENT, **(client_options or {}))
    server = Protocol(Role.SERVER, **(server_options or {}))
    handshake(client, server, **connect_options)
    return client, server


def frames_in(data: bytes) -> list[Frame]:
    """Parse every frame in ``data``, which must hold whole frames only."""
    frames, offset = [], 0
    while offset < len(data):
        parsed = parse_frame(data, offset)
        assert parsed is not None, "data ends in the middle of a frame"
        frames.append(parsed[0])
        offset += parsed[1]
    return frames


def from_peer(receiver: Protocol, opcode: int, payload: bytes, **bits: Any) -> bytes:
    """A frame as the peer of ``receiver`` would send it: masked iff the peer is a client."""
    key = KEY if receiver.role is Role.SERVER else None
    return serialize_frame(Frame(cast(Opcode, opcode), payload, masking_key=key, **bits))


def state_of(endpoint: Protocol) -> State:
    """The state now (a function call, so that type checkers do not assume it is fixed)."""
    return endpoint.state


def pair_and(role: Role) -> tuple[Protocol, Protocol]:
    """An open (endpoint, peer) pair where the endpoint has ``role``."""
    client, server = connect()
    return (client, server) if role is Role.CLIENT else (server, client)


ROLES = pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER], ids=["client", "server"])


# -- the opening handshake (RFC 6455 §4) ---------------------------------------------------------


def test_handshake_opens_both_ends() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER)
    assert state_of(client) is State.CONNECTING and state_of(server) is State.CONNECTING
    request = client.connect("example.com", "/chat?room=1")
    wire = pump(client, server)
    assert wire.startswith(b"GET /chat?room=1 HTTP/1.1\r\n")
    [event] = server.events_received()
    assert isinstance(event, RequestReceived) and event.request is server.request
    assert event.request.path == "/chat"
    assert state_of(server) is State.CONNECTING  # until the application decides
    response = server.accept()
    assert response.status == 101
    assert state_of(server) is State.OPEN
    assert pump(server, client).startswith(b"HTTP/1.1 101")
    [event] = client.events_received()
    assert isinstance(event, ResponseReceived)
    assert event.response.status == 101 and event.subprotocol is None
    assert client.state is State.OPEN
    assert client.request is request
    assert client.closed is None and server.closed is None
    assert not client.close_transport() and not server.close_transport()


def test_handshake_byte_by_byte() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER)
    client.connect("example.com")
    request = client.data_to_send()
    for i in range(len(request)):
        server.receive_data(request[i : i + 1])
        events = server.events_received()
        assert events == [] if i < len(request) - 1 else isinstance(events[0], RequestReceived)
    server.accept()
    server.send_text("first")
    response = server.data_to_send()
    events = []
    for i in range(len(response)):
        client.receive_data(response[i : i + 1])
        events += client.events_received()
    assert [type(event) for event in events] == [ResponseReceived, Message]
    assert events[1] == Message("first")


def test_frames_right_behind_the_101_are_received() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER)
    client.connect("example.com")
    pump(client, server)
    server.events_received()
    server.accept()
    server.send_text("welcome")
    pump(server, client)  # the 101 and the frame in one chunk
    events = client.events_received()
    assert [type(event) for event in events] == [ResponseReceived, Message]
    assert events[1] == Message("welcome")


def eager_client_frame() -> bytes:
    # A frame whose bytes happen to hold an empty line, as random masked bytes sometimes do.
    return serialize_frame(Frame(Opcode.TEXT, b"early\r\n\r\nbird", masking_key=bytes(4)))


def test_frames_in_the_same_chunk_as_the_request_wait_for_accept() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER)
    client.connect("example.com")
    server.receive_data(client.data_to_send() + eager_client_frame())
    assert [type(event) for event in server.events_received()] == [RequestReceived]
    server.accept()
    assert server.events_received() == [Message("early\r\n\r\nbird")]


def test_bytes_between_the_request_and_accept_are_not_a_second_request() -> None:
    # While the application decides (accept or reject), more bytes may arrive. They belong
    # to the WebSocket connection, not to a second HTTP request: one request, one answer.
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER)
    client.connect("example.com")
    pump(client, server)
    assert [type(event) for event in server.events_received()] == [RequestReceived]
    server.receive_data(eager_client_frame())
    assert server.events_received() == []
    assert server.data_to_send() == b""
    server.accept()
    assert server.events_received() == [Message("early\r\n\r\nbird")]


def test_subprotocol_is_the_first_of_the_clients_offer_the_server_supports() -> None:
    client, server = connect({"subprotocols": ["v2", "v1"]}, {"subprotocols": ["v1", "v2"]})
    assert client.subprotocol == "v2" and server.subprotocol == "v2"


def test_no_common_subprotocol() -> None:
    client, server = connect({"subprotocols": ["v3"]}, {"subprotocols": ["v1"]})
    assert client.subprotocol is None and server.subprotocol is None
    assert client.state is State.OPEN


def assert_rejected(server: Protocol, status: int) -> HandshakeRejected:
    [event] = server.events_received()
    assert isinstance(event, HandshakeRejected)
    assert event.error.status == status
    answer = server.data_to_send()
    assert answer.startswith(f"HTTP/1.1 {status} ".encode())
    assert server.state is State.CLOSED
    assert server.close_transport()
    return event


def test_bad_request_is_rejected_with_400_and_a_body_saying_why() -> None:
    server = Protocol(Role.SERVER)
    server.receive_data(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    [event] = server.events_received()
    assert isinstance(event, HandshakeRejected) and event.error.status == 400
    answer = server.data_to_send()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Sec-WebSocket-Key" in body  # the body tells which header was wrong
    assert server.state is State.CLOSED and server.close_transport()


def test_wrong_version_is_426_with_the_version_we_speak() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER)
    client.connect("example.com")
    request = client.data_to_send().replace(b"Sec-WebSocket-Version: 13", b"Sec-WebSocket-Version: 8")
    server.receive_data(request)
    event = assert_rejected(server, 426)
    assert ("Sec-WebSocket-Version", "13") in event.error.headers


def test_origin_policy_is_403() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER, origin_allowed=lambda origin: origin == "https://good.example")
    client.connect("example.com", origin="https://evil.example")
    pump(client, server)
    assert_rejected(server, 403)


def test_header_section_over_the_limit_is_431() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER, max_header_size=1024)
    client.connect("example.com", extra_headers=[("X-Padding", "p" * 2000)])
    pump(client, server)
    assert_rejected(server, 431)


def test_not_http_at_all_is_rejected() -> None:
    server = Protocol(Role.SERVER)
    server.receive_data(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(100) + b"\r\n\r\n")
    [event] = server.events_received()
    assert isinstance(event, HandshakeRejected) and 400 <= event.error.status < 500
    assert server.state is State.CLOSED


def test_server_reject_reaches_the_client_as_handshake_failed() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER)
    client.connect("example.com", "/nowhere")
    pump(client, server)
    server.events_received()
    response = server.reject(404, "no chat room here")
    assert response.status == 404
    assert server.state is State.CLOSED and server.close_transport()
    pump(server, client)
    [event] = client.events_received()
    assert isinstance(event, HandshakeFailed) and event.error.status == 404
    assert client.state is State.CLOSED and client.close_transport()
    with pytest.raises(ConnectionClosed):
        client.send_text("hello?")


def test_client_fails_on_a_wrong_accept_key() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER)
    client.connect("example.com")
    pump(client, server)
    server.events_received()
    server.accept()
    answer = server.data_to_send()
    # RFC 6455 §1.3's example accept value belongs to another key.
    head, _, _ = answer.partition(b"Sec-WebSocket-Accept: ")
    tampered = head + f"Sec-WebSocket-Accept: {rfc6455.ACCEPT}\r\n\r\n".encode()
    client.receive_data(tampered)
    [event] = client.events_received()
    assert isinstance(event, HandshakeFailed)
    assert client.state is State.CLOSED
    assert client.closed is not None


# -- messages ------------------------------------------------------------------------------------


def test_text_and_binary_both_ways() -> None:
    client, server = connect()
    client.send_text("Hello")
    client.send_binary(b"\x00\x01")
    pump(client, server)
    assert server.events_received() == [Message("Hello"), Message(b"\x00\x01")]
    server.send_text("é€😀")
    server.send_binary(b"")
    pump(server, client)
    assert client.events_received() == [Message("é€😀"), Message(b"")]


@FEEDING
def test_the_rfc_hello_frames_arrive_whatever_the_feeding(feeding: str) -> None:
    # RFC 6455 §5.7: the masked "Hello" goes from a client to a server, the unmasked one back.
    # The trailing bytes are the start of the same frame again: they wait for the rest.
    client, server = connect()
    masked, unmasked = rfc6455.MASKED_HELLO, rfc6455.UNMASKED_HELLO
    feed(server.receive_data, masked, feeding, trailing=masked[:4])
    feed(client.receive_data, unmasked, feeding, trailing=unmasked[:5])
    assert server.events_received() == [Message("Hello")]
    assert client.events_received() == [Message("Hello")]
    if feeding == "with trailing bytes":
        server.receive_data(masked[4:])
        client.receive_data(unmasked[5:])
        assert server.events_received() == [Message("Hello")]
        assert client.events_received() == [Message("Hello")]
    assert (client.state, server.state) == (State.OPEN, State.OPEN)


def test_fragmented_send() -> None:
    client, server = connect()
    client.send_text("Hel", fin=False)
    client.send_continuation(b"lo", fin=True)
    wire = client.data_to_send()
    first, second = frames_in(wire)
    assert (first.opcode, first.fin, first.payload) == (Opcode.TEXT, False, b"Hel")
    assert (second.opcode, second.fin, second.payload) == (Opcode.CONTINUATION, True, b"lo")
    server.receive_data(wire)
    assert server.events_received() == [Message("Hello")]


def test_fragmented_binary_from_the_server() -> None:
    client, server = connect()
    server.send_binary(b"ab", fin=False)
    server.send_continuation(b"cd", fin=False)
    server.send_continuation(b"ef", fin=True)
    pump(server, client)
    assert client.events_received() == [Message(b"abcdef")]


def test_ping_between_fragments() -> None:
    # RFC 6455 §5.4: control frames MAY be injected in the middle of a fragmented message.
    client, server = connect()
    client.send_text("Hel", fin=False)
    client.send_ping(b"?")
    client.send_continuation(b"lo", fin=True)
    pump(client, server)
    assert server.events_received() == [Ping(b"?"), Message("Hello")]


@settings(max_examples=50)
@given(
    messages=st.lists(st.text(max_size=50) | st.binary(max_size=300), max_size=8),
    cuts=st.lists(st.integers(0, 5000), max_size=20),
)
def test_messages_arrive_whole_whatever_the_chunking(messages: list[str | bytes], cuts: list[int]) -> None:
    client, server = connect()
    for message in messages:
        if isinstance(message, str):
            client.send_text(message)
        else:
            client.send_binary(message)
    data = client.data_to_send()
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    received = []
    for start, end in itertools.pairwise(points):
        server.receive_data(data[start:end])
        received += server.events_received()
    assert received == [Message(message) for message in messages]


# -- masking (RFC 6455 §5.1, §5.3) ---------------------------------------------------------------


def test_client_masks_every_frame_with_a_fresh_key() -> None:
    client, _ = connect()
    for i in range(10):
        client.send_text(f"text {i}")
        client.send_binary(bytes([i]))
        client.send_ping(b"p")
        client.send_pong(b"q")
        client.send_text("a", fin=False)
        client.send_continuation(b"b", fin=True)
    client.send_close()
    frames = frames_in(client.data_to_send())
    assert len(frames) == 61
    keys = [frame.masking_key for frame in frames]
    assert all(key is not None and len(key) == 4 for key in keys)
    # 61 random 4-byte keys: a repeat would mean the key is not fresh (odds ~ 4e-7).
    assert len(set(keys)) == len(keys)


def test_server_never_masks() -> None:
    _, server = connect()
    server.send_text("t")
    server.send_binary(b"b")
    server.send_ping(b"p")
    server.send_pong(b"q")
    server.send_close(1001)
    frames = frames_in(server.data_to_send())
    assert len(frames) == 5
    assert all(frame.masking_key is None for frame in frames)


def test_trace_sees_every_frame_with_its_bytes() -> None:
    traces: dict[str, list[tuple[str, Frame, bytes]]] = {"client": [], "server": []}

    def tracer(name: str) -> Callable[[str, Frame, bytes], None]:
        return lambda direction, frame, raw: traces[name].append((direction, frame, raw))

    client, server = connect({"trace": tracer("client")}, {"trace": tracer("server")})
    client.send_text("traced")
    wire = pump(client, server)
    [(direction, frame, raw)] = traces["client"]
    assert direction == "out" and raw == wire and frame == frames_in(wire)[0]
    assert frame.payload == b"traced" and frame.masking_key is not None
    # The server saw the same frame and the same bytes, then answered nothing.
    assert traces["server"] == [("in", frame, wire)]


# -- ping and pong (RFC 6455 §5.5.2, §5.5.3) ------------------------------------------------------


@ROLES
def test_ping_is_answered_with_a_pong_automatically(role: Role) -> None:
    endpoint, peer = pair_and(role)
    peer.send_ping(b"are you there?")
    pump(peer, endpoint)
    assert endpoint.events_received() == [Ping(b"are you there?")]
    [pong] = frames_in(endpoint.data_to_send())
    assert pong.opcode is Opcode.PONG and pong.payload == b"are you there?"
    peer.receive_data(serialize_frame(pong))
    assert peer.events_received() == [Pong(b"are you there?")]


def test_empty_ping_and_unsolicited_pong() -> None:
    client, server = connect()
    client.send_ping()
    client.send_pong(b"heartbeat")  # RFC 6455 §5.5.3: an unsolicited pong is allowed
    pump(client, server)
    assert server.events_received() == [Ping(b""), Pong(b"heartbeat")]
    pump(server, client)
    assert client.events_received() == [Pong(b"")]


def test_ping_payload_over_125_bytes_cannot_be_sent() -> None:
    client, _ = connect()
    with pytest.raises(ValueError):
        client.send_ping(b"x" * 126)
    client.send_ping(b"x" * 125)


# -- the closing handshake (RFC 6455 §5.5.1, §7) --------------------------------------------------


@ROLES
def test_closing_handshake(role: Role) -> None:
    initiator, peer = pair_and(role)
    initiator.send_close(1000, "bye")
    assert state_of(initiator) is State.CLOSING
    assert not initiator.close_transport()
    pump(initiator, peer)
    assert peer.events_received() == [CloseReceived(1000, "bye")]
    assert peer.state is State.CLOSED  # it echoed the Close at once: handshake done
    echo = peer.data_to_send()
    [frame] = frames_in(echo)
    assert frame.opcode is Opcode.CLOSE and Close.parse(frame.payload).code == 1000
    assert (frame.masking_key is not None) == (peer.role is Role.CLIENT)
    initiator.receive_data(echo)
    [event] = initiator.events_received()
    assert isinstance(event, CloseReceived) and event.code == 1000
    assert state_of(initiator) is State.CLOSED
    assert initiator.closed is not None and peer.closed is not None
    assert (initiator.closed.code, initiator.closed.by) == (1000, "local")
    assert (peer.closed.code, peer.closed.reason, peer.closed.by) == (1000, "bye", "remote")
    assert peer.close_transport()


@pytest.mark.parametrize("code", [1001, 1008, 1011, 3000, 4999])
def test_the_close_code_is_echoed(code: int) -> None:
    client, server = connect()
    server.send_close(code, "reason")
    pump(server, client)
    assert client.events_received() == [CloseReceived(code, "reason")]
    [echo] = frames_in(client.data_to_send())
    assert Close.parse(echo.payload) == Close(code, "reason")  # the reason is echoed too


def test_server_closes_tcp_after_the_closing_handshake() -> None:
    # RFC 6455 §7.1.1: the server closes the TCP connection first.
    client, server = connect()
    client.send_close()
    pump(client, server)
    assert server.close_transport()
    pump(server, client)
    client.receive_eof()  # the server closed TCP
    assert client.events_received() == [CloseReceived(1000, "")]  # no ConnectionLost
    assert client.state is State.CLOSED
    assert client.closed is not None and client.closed.code == 1000


def test_close_without_a_code() -> None:
    _, server = connect()
    server.receive_data(from_peer(server, Opcode.CLOSE, b""))
    assert server.events_received() == [CloseReceived(1005, "")]
    [echo] = frames_in(server.data_to_send())
    assert echo.opcode is Opcode.CLOSE
    assert echo.payload[:2] != (1005).to_bytes(2, "big")  # §7.4.1: 1005 is never sent
    Close.parse(echo.payload)  # and whatever was sent is a valid Close payload
    assert server.closed is not None and server.closed.code == 1005


def test_both_ends_close_at_the_same_time() -> None:
    client, server = connect()
    client.send_close(1000, "client")
    server.send_close(1001, "server")
    pump(client, server)
    pump(server, client)
    assert client.events_received() == [CloseReceived(1001, "server")]
    assert server.events_received() == [CloseReceived(1000, "client")]
    assert client.state is State.CLOSED and server.state is State.CLOSED
    assert client.data_to_send() == b"" and server.data_to_send() == b""


def test_no_data_is_processed_after_a_close_frame() -> None:
    _, server = connect()
    data = from_peer(server, Opcode.CLOSE, Close(1000).serialize())
    data += from_peer(server, Opcode.TEXT, b"too late") + from_peer(server, Opcode.PING, b"")
    server.receive_data(data)
    assert server.events_received() == [CloseReceived(1000, "")]
    server.receive_data(from_peer(server, Opcode.TEXT, b"later still"))
    assert server.events_received() == []
    assert len(frames_in(server.data_to_send())) == 1  # the echo, and no pong


def test_messages_sent_before_the_peer_saw_our_close_are_received() -> None:
    client, server = connect()
    client.send_close()
    server.send_text("sent while your Close was on its way")
    pump(client, server)  # the server echoes
    pump(server, client)
    assert client.events_received() == [
        Message("sent while your Close was on its way"),
        CloseReceived(1000, ""),
    ]


@pytest.mark.parametrize("when", ["connecting", "closing", "closed", "failed"])
def test_sending_when_not_open_raises_connection_closed(when: str) -> None:
    if when == "connecting":
        endpoint = Protocol(Role.CLIENT)
        endpoint.connect("example.com")
    else:
        endpoint, server = connect()
        if when == "closing":
            endpoint.send_close()
        elif when == "closed":
            endpoint.send_close()
            pump(endpoint, server)
            pump(server, endpoint)
        else:
            endpoint.receive_data(from_peer(endpoint, 3, b""))
    senders: list[Callable[[], None]] = [
        lambda: endpoint.send_text("x"),
        lambda: endpoint.send_binary(b"x"),
        lambda: endpoint.send_ping(b""),
        lambda: endpoint.send_pong(b""),
        lambda: endpoint.send_close(),
    ]
    for send in senders:
        with pytest.raises(ConnectionClosed):
            send()


# -- the connection ends without a closing handshake ------------------------------------------


@ROLES
def test_eof_before_close_is_connection_lost_1006(role: Role) -> None:
    endpoint, _ = pair_and(role)
    endpoint.receive_eof()
    assert endpoint.events_received() == [ConnectionLost()]
    assert endpoint.state is State.CLOSED and endpoint.close_transport()
    assert endpoint.closed is not None
    assert (endpoint.closed.code, endpoint.closed.by) == (1006, "nobody")
    assert not endpoint.closed.ok


def test_eof_while_closing_is_connection_lost() -> None:
    client, _ = connect()
    client.send_close()
    client.receive_eof()
    assert client.events_received() == [ConnectionLost()]
    assert client.closed is not None and client.closed.code == 1006


def test_eof_during_the_handshake_is_connection_lost() -> None:
    client = Protocol(Role.CLIENT)
    client.connect("example.com")
    client.receive_data(b"HTTP/1.1 101 Switching")
    client.receive_eof()
    assert client.events_received() == [ConnectionLost()]
    assert client.state is State.CLOSED


# -- failing the connection (RFC 6455 §7.1.7) -------------------------------------------------------


def assert_failed(endpoint: Protocol, code: int) -> ConnectionFailed:
    """The endpoint failed the connection with ``code`` and told the peer so."""
    events = endpoint.events_received()
    failures = [event for event in events if isinstance(event, ConnectionFailed)]
    assert len(failures) == 1, events
    assert failures[0].code == code and failures[0].reason
    assert not any(isinstance(event, CloseReceived) for event in events)
    assert endpoint.state is State.CLOSED and endpoint.close_transport()
    assert endpoint.closed is not None
    assert (endpoint.closed.code, endpoint.closed.by) == (code, "local")
    # §7.1.7: "the endpoint SHOULD send a Close frame with an appropriate status code".
    *_, close = frames_in(endpoint.data_to_send())
    assert close.opcode is Opcode.CLOSE and Close.parse(close.payload).code == code
    assert (close.masking_key is not None) == (endpoint.role is Role.CLIENT)
    # Nothing is processed after that.
    endpoint.receive_data(from_peer(endpoint, Opcode.TEXT, b"ignored"))
    assert endpoint.events_received() == [] and endpoint.data_to_send() == b""
    return failures[0]


@FEEDING
def test_server_fails_on_an_unmasked_client_frame(feeding: str) -> None:
    _, server = connect()
    feed(server.receive_data, serialize_frame(Frame(Opcode.TEXT, b"not masked")), feeding)
    assert_failed(server, 1002)


@FEEDING
def test_client_fails_on_a_masked_server_frame(feeding: str) -> None:
    client, _ = connect()
    feed(client.receive_data, serialize_frame(Frame(Opcode.TEXT, b"masked", masking_key=KEY)), feeding)
    assert_failed(client, 1002)


@ROLES
@pytest.mark.parametrize("bit", ["rsv1", "rsv2", "rsv3"])
@FEEDING
def test_rsv_bit_without_an_extension_is_1002(role: Role, bit: str, feeding: str) -> None:
    endpoint, _ = pair_and(role)
    feed(endpoint.receive_data, from_peer(endpoint, Opcode.TEXT, b"x", **{bit: True}), feeding)
    assert_failed(endpoint, 1002)


@ROLES
@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
@FEEDING
def test_unknown_opcode_is_1002(role: Role, opcode: int, feeding: str) -> None:
    endpoint, _ = pair_and(role)
    feed(endpoint.receive_data, from_peer(endpoint, opcode, b"x"), feeding)
    assert_failed(endpoint, 1002)


@ROLES
@pytest.mark.parametrize("opcode", [Opcode.PING, Opcode.PONG, Opcode.CLOSE])
@FEEDING
def test_control_frame_over_125_bytes_is_1002(role: Role, opcode: Opcode, feeding: str) -> None:
    endpoint, _ = pair_and(role)
    payload = b"\x03\xe8" + b"x" * 124 if opcode is Opcode.CLOSE else b"x" * 126
    feed(endpoint.receive_data, from_peer(endpoint, opcode, payload), feeding)
    assert_failed(endpoint, 1002)


@ROLES
@pytest.mark.parametrize("opcode", [Opcode.PING, Opcode.PONG, Opcode.CLOSE])
@FEEDING
def test_fragmented_control_frame_is_1002(role: Role, opcode: Opcode, feeding: str) -> None:
    endpoint, _ = pair_and(role)
    feed(endpoint.receive_data, from_peer(endpoint, opcode, b"", fin=False), feeding)
    assert_failed(endpoint, 1002)


@ROLES
@FEEDING
def test_continuation_without_a_message_is_1002(role: Role, feeding: str) -> None:
    endpoint, _ = pair_and(role)
    feed(endpoint.receive_data, from_peer(endpoint, Opcode.CONTINUATION, b"x"), feeding)
    assert_failed(endpoint, 1002)


@ROLES
@FEEDING
def test_new_message_inside_a_fragmented_one_is_1002(role: Role, feeding: str) -> None:
    endpoint, _ = pair_and(role)
    endpoint.receive_data(from_peer(endpoint, Opcode.TEXT, b"a", fin=False))
    feed(endpoint.receive_data, from_peer(endpoint, Opcode.BINARY, b"b"), feeding)
    assert_failed(endpoint, 1002)


@ROLES
@FEEDING
def test_invalid_utf8_is_1007(role: Role, feeding: str) -> None:
    endpoint, _ = pair_and(role)
    feed(endpoint.receive_data, from_peer(endpoint, Opcode.TEXT, b"caf\xc3("), feeding)
    assert_failed(endpoint, 1007)


def test_invalid_utf8_fails_before_the_message_ends() -> None:
    _, server = connect()
    server.receive_data(from_peer(server, Opcode.TEXT, b"ok \xed", fin=False))
    assert server.events_received() == [] and server.state is State.OPEN
    server.receive_data(from_peer(server, Opcode.CONTINUATION, b"\xa0\x80", fin=False))
    assert_failed(server, 1007)


def test_invalid_utf8_fails_inside_one_frame_before_it_is_whole() -> None:
    # One 200-byte text frame; its first bytes hold a surrogate (ED A0 80).
    _, server = connect()
    greek = "κόσμε".encode()
    payload = greek + b"\xed\xa0\x80" + b"x" * 186
    data = from_peer(server, Opcode.TEXT, payload)
    header = len(data) - len(payload)
    server.receive_data(data[: header + len(greek) + 1])  # valid so far: ED may begin U+D000
    assert server.events_received() == [] and server.state is State.OPEN
    server.receive_data(data[header + len(greek) + 1 : header + len(greek) + 2])  # ED A0: never
    assert_failed(server, 1007)


@pytest.mark.parametrize("piece", [1, 2, 3, 5, 7])
def test_valid_text_in_one_frame_arriving_in_pieces_is_not_failed(piece: int) -> None:
    # Each piece is unmasked where the last one stopped (byte i uses key[i % 4]), and a
    # character cut between two reads waits for its last bytes.
    _, server = connect()
    text = "κόσμε 😀 ok" * 5
    data = from_peer(server, Opcode.TEXT, text.encode(), fin=False)
    data += from_peer(server, Opcode.CONTINUATION, "€ 😀".encode())
    for start in range(0, len(data), piece):
        server.receive_data(data[start : start + piece])
        assert server.state is State.OPEN
    assert server.events_received() == [Message(text + "€ 😀")]


def test_a_character_cut_by_a_fragment_is_checked_inside_the_next_frame() -> None:
    _, server = connect()
    server.receive_data(from_peer(server, Opcode.TEXT, b"ok \xf4", fin=False))  # F4: maybe valid
    continuation = from_peer(server, Opcode.CONTINUATION, b"\x90" + b"y" * 100)  # F4 90: never
    server.receive_data(continuation[:7])  # header (6 bytes) and the 90
    assert_failed(server, 1007)


def test_a_frame_out_of_order_fails_from_its_first_bytes() -> None:
    _, server = connect()
    server.receive_data(from_peer(server, Opcode.CONTINUATION, b"z" * 100)[:10])
    assert_failed(server, 1002)


def test_binary_in_pieces_is_not_checked_as_text() -> None:
    _, server = connect()
    data = from_peer(server, Opcode.BINARY, b"\xff\xfe" * 100)
    server.receive_data(data[:50])
    server.receive_data(data[50:])
    assert server.events_received() == [Message(b"\xff\xfe" * 100)]


def test_message_over_the_size_limit_is_1009() -> None:
    _, server = connect(server_options={"max_message_size": 1000})
    server.receive_data(from_peer(server, Opcode.BINARY, bytes(1000)))
    assert server.events_received() == [Message(bytes(1000))]
    server.receive_data(from_peer(server, Opcode.BINARY, bytes(1001)))
    assert_failed(server, 1009)


def test_fragmented_message_over_the_size_limit_is_1009() -> None:
    _, server = connect(server_options={"max_message_size": 1000})
    server.receive_data(from_peer(server, Opcode.TEXT, b"a" * 600, fin=False))
    server.receive_data(from_peer(server, Opcode.CONTINUATION, b"a" * 600, fin=False))
    assert_failed(server, 1009)


def test_frame_over_the_size_limit_fails_from_its_header() -> None:
    _, server = connect(server_options={"max_message_size": 1000})
    # Only the 4 header bytes of a 60000-byte frame: no need to wait for the rest.
    server.receive_data(b"\x82\xfe\xea\x60")
    assert_failed(server, 1009)


def test_default_size_limit_is_one_mebibyte() -> None:
    _, server = connect()
    server.receive_data(from_peer(server, Opcode.BINARY, bytes(2**20)))
    assert server.events_received() == [Message(bytes(2**20))]
    server.receive_data(from_peer(server, Opcode.BINARY, bytes(2**20 + 1)))
    assert_failed(server, 1009)


@ROLES
@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"\x03", 1002),  # §5.5.1: a 1-byte payload cannot hold the 2-byte code
        ((1005).to_bytes(2, "big"), 1002),  # §7.4.1: 1005 never appears on the wire
        ((1006).to_bytes(2, "big"), 1002),
        ((999).to_bytes(2, "big"), 1002),
        ((2000).to_bytes(2, "big"), 1002),
        (b"\x03\xe8\xff", 1007),  # the reason must be UTF-8
    ],
)
def test_invalid_close_payload(role: Role, payload: bytes, code: int) -> None:
    endpoint, _ = pair_and(role)
    endpoint.receive_data(from_peer(endpoint, Opcode.CLOSE, payload))
    assert_failed(endpoint, code)


def test_the_peer_learns_why_we_failed() -> None:
    client, server = connect()
    server.receive_data(serialize_frame(Frame(Opcode.TEXT, b"not masked")))
    [failure] = [e for e in server.events_received() if isinstance(e, ConnectionFailed)]
    pump(server, client)
    [event] = client.events_received()
    assert isinstance(event, CloseReceived)
    assert event.code == 1002 and event.reason
    assert not isinstance(failure, CloseReceived)


def test_failure_stops_processing_the_rest_of_the_chunk() -> None:
    _, server = connect()
    data = from_peer(server, Opcode.TEXT, b"before")
    data += serialize_frame(Frame(Opcode.TEXT, b"unmasked"))
    data += from_peer(server, Opcode.TEXT, b"after")
    server.receive_data(data)
    assert server.events_received() == [Message("before")]
    [failure] = server.events_received()
    assert isinstance(failure, ConnectionFailed) and failure.code == 1002
    assert server.events_received() == []  # "after" was never processed


def test_messages_before_a_violation_are_answered_before_the_failure() -> None:
    # A valid message and a bad frame in one read: the application gets the message
    # while the connection is still OPEN, answers it, and only then the Close goes out.
    _, server = connect()
    data = from_peer(server, Opcode.TEXT, b"valid") + from_peer(server, Opcode.TEXT, b"bad", rsv2=True)
    server.receive_data(data + from_peer(server, Opcode.PING, b"after"))
    assert server.failure_pending and server.state is State.OPEN
    assert server.events_received() == [Message("valid")]
    server.send_text("echo: valid")
    server.receive_data(from_peer(server, Opcode.TEXT, b"ignored"))  # nothing is processed
    assert server.failure_pending
    [failure] = server.events_received()
    assert isinstance(failure, ConnectionFailed) and failure.code == 1002
    assert not server.failure_pending and server.state is State.CLOSED
    echo, close = frames_in(server.data_to_send())  # no pong for the ping after the bad frame
    assert echo.payload == b"echo: valid" and Close.parse(close.payload).code == 1002


def test_eof_while_a_failure_is_pending_still_reports_the_violation() -> None:
    _, server = connect()
    server.receive_data(from_peer(server, Opcode.TEXT, b"valid") + from_peer(server, 3, b""))
    assert server.events_received() == [Message("valid")]
    server.receive_eof()
    [failure] = server.events_received()
    assert isinstance(failure, ConnectionFailed) and failure.code == 1002
    assert server.closed is not None and server.closed.code == 1002


def test_a_violation_alone_fails_at_once() -> None:
    _, server = connect()
    server.receive_data(from_peer(server, Opcode.PING, b"ping") + from_peer(server, 3, b""))
    assert not server.failure_pending
    assert [type(event) for event in server.events_received()] == [Ping, ConnectionFailed]


def test_application_fails_the_connection() -> None:
    # For example a heartbeat that got no pong in time.
    _, server = connect()
    server.fail(1011, "no pong within 20 s")
    assert server.state is State.CLOSED and server.close_transport()
    assert server.closed is not None and server.closed.code == 1011
    [close] = frames_in(server.data_to_send())
    assert Close.parse(close.payload) == Close(1011, "no pong within 20 s")


def test_fail_with_a_reason_too_long_for_a_close_frame() -> None:
    _, server = connect()
    server.fail(1011, "é" * 100)
    [close] = frames_in(server.data_to_send())
    assert len(close.payload) <= 125
    assert Close.parse(close.payload).code == 1011


def test_client_fails_during_the_handshake() -> None:
    # RFC 6455 §4.1: a client that gets no valid answer must _Fail the WebSocket Connection_,
    # e.g. when the opening handshake times out.
    client = Protocol(Role.CLIENT)
    client.connect("example.com")
    client.data_to_send()
    client.fail(1006, "no answer to the opening handshake within 10 s")
    assert client.state is State.CLOSED and client.close_transport()
    assert client.closed is not None
    assert client.data_to_send() == b""  # no Close frame before the handshake


def test_failing_twice_changes_nothing() -> None:
    _, server = connect()
    server.fail(1011, "first")
    server.events_received()
    server.data_to_send()
    server.fail(1002, "second")
    assert server.events_received() == [] and server.data_to_send() == b""
    assert server.closed is not None and server.closed.code == 1011


def test_ping_received_while_closing_is_reported() -> None:
    # The peer pinged before it saw our Close frame.
    client, server = connect()
    client.send_close()
    server.send_ping(b"still there?")
    pump(server, client)
    assert client.events_received() == [Ping(b"still there?")]
    # After our Close frame, no data frame may follow (RFC 6455 §5.5.1), but the Ping
    # still gets its Pong: we have not received a Close frame yet (§5.5.2).
    sent = frames_in(client.data_to_send())
    assert all(frame.opcode.is_control for frame in sent)
    assert [(frame.opcode, frame.payload) for frame in sent[1:]] == [(Opcode.PONG, b"still there?")]


@st.composite
def hostile_client_bytes(draw: st.DrawFn) -> bytes:
    """Masked frames with any opcode, bits and payload, glued to random bytes."""
    parts = []
    for _ in range(draw(st.integers(0, 5))):
        frame = Frame(
            cast(Opcode, draw(st.integers(0, 15))),
            draw(st.binary(max_size=140)),
            fin=draw(st.booleans()),
            rsv1=draw(st.integers(0, 9)) == 0,
            masking_key=draw(st.binary(min_size=4, max_size=4)),
        )
        parts.append(serialize_frame(frame))
        parts.append(draw(st.sampled_from([b"", b"", b"", b"\x81\x7f"])) + draw(st.binary(max_size=3)))
    return b"".join(parts)


KNOWN_EVENTS = (Message, Ping, Pong, CloseReceived, ConnectionFailed, ConnectionLost)


@settings(max_examples=300)
@given(data=hostile_client_bytes() | st.binary(max_size=300), cuts=st.lists(st.integers(0, 999)))
def test_any_bytes_from_the_peer_never_break_the_server(data: bytes, cuts: list[int]) -> None:
    _, server = connect()
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    events = []
    for start, end in itertools.pairwise(points):
        server.receive_data(data[start:end])  # must not raise, whatever the bytes
        events += server.events_received()
    assert all(isinstance(event, KNOWN_EVENTS) for event in events), events
    failures = [event for event in events if isinstance(event, ConnectionFailed)]
    assert all(failure.code in (1002, 1007, 1009) for failure in failures)
    if server.state is State.CLOSED:
        assert server.closed is not None
    frames_in(server.data_to_send())  # whatever we answer is whole, valid frames
    server.receive_eof()
    assert state_of(server) is State.CLOSED


@settings(max_examples=200)
@given(data=st.binary(max_size=300))
def test_any_bytes_instead_of_a_request_never_break_the_server(data: bytes) -> None:
    server = Protocol(Role.SERVER)
    server.receive_data(data)
    events = server.events_received()
    assert all(isinstance(event, (RequestReceived, HandshakeRejected)) for event in events)
    if events and isinstance(events[0], HandshakeRejected):
        assert server.data_to_send().startswith(b"HTTP/1.1 4")


# -- using the API the wrong way ----------------------------------------------------------------------


def test_each_side_has_its_own_handshake_methods() -> None:
    with pytest.raises(RuntimeError):
        Protocol(Role.SERVER).connect("example.com")
    with pytest.raises(RuntimeError):
        Protocol(Role.CLIENT).accept()
    with pytest.raises(RuntimeError):
        Protocol(Role.CLIENT).reject(400, "no")


def test_accept_needs_a_request() -> None:
    with pytest.raises(RuntimeError):
        Protocol(Role.SERVER).accept()


def test_connect_twice() -> None:
    client, _ = connect()
    with pytest.raises(RuntimeError):
        client.connect("example.com")


def test_accept_with_a_chosen_subprotocol() -> None:
    client = Protocol(Role.CLIENT, subprotocols=["v1", "v2"])
    server = Protocol(Role.SERVER, subprotocols=["v1", "v2"])
    client.connect("example.com")
    pump(client, server)
    server.events_received()
    server.accept(subprotocol="v2")  # the application overrides the automatic choice
    pump(server, client)
    assert server.subprotocol == "v2" and client.subprotocol == "v2"


def test_fragments_must_be_sent_in_order() -> None:
    # RFC 6455 §5.4: a continuation continues a message; a new message waits for FIN.
    client, _ = connect()
    with pytest.raises(RuntimeError):
        client.send_continuation(b"no message started", fin=True)
    client.send_text("start", fin=False)
    client.data_to_send()
    with pytest.raises(RuntimeError):
        client.send_binary(b"a new message inside the fragmented one")
    with pytest.raises(RuntimeError):
        client.send_text("nor a text one")
    assert client.data_to_send() == b""
    client.send_continuation(b" end", fin=True)
    client.send_text("next")
    assert [frame.opcode for frame in frames_in(client.data_to_send())] == [
        Opcode.CONTINUATION,
        Opcode.TEXT,
    ]


def test_close_code_that_may_not_be_sent() -> None:
    client, _ = connect()
    for code in (1005, 1006, 1015, 999, 5000):
        with pytest.raises(ValueError):
            client.send_close(code)
    assert client.state is State.OPEN and client.data_to_send() == b""


# -- the state machine -------------------------------------------------------------------------------


def test_transition_table_shape() -> None:
    # Every state but CLOSED has a way out; nothing leaves CLOSED or returns to CONNECTING.
    sources = {state for state, _ in TRANSITIONS}
    assert sources == {State.CONNECTING, State.OPEN, State.CLOSING}
    assert State.CONNECTING not in TRANSITIONS.values()
    assert {target for (source, _), target in TRANSITIONS.items() if source is State.CONNECTING} == {
        State.OPEN,
        State.CLOSED,
    }
    assert {target for (source, _), target in TRANSITIONS.items() if source is State.OPEN} == {
        State.CLOSING,
        State.CLOSED,
    }
    assert {target for (source, _), target in TRANSITIONS.items() if source is State.CLOSING} == {
        State.CLOSED
    }


class StateRecorder:
    """Record every state an endpoint is in after each call."""

    def __init__(self, *endpoints: Protocol) -> None:
        self.endpoints = endpoints
        self.history: list[list[State]] = [[e.state] for e in endpoints]

    def note(self) -> None:
        for history, endpoint in zip(self.history, self.endpoints, strict=True):
            if history[-1] is not endpoint.state:
                history.append(endpoint.state)


def test_states_along_a_whole_connection() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER)
    recorder = StateRecorder(client, server)
    client.connect("example.com")
    steps: list[Callable[[], object]] = [
        lambda: pump(client, server),
        server.accept,
        lambda: pump(server, client),
        lambda: client.send_text("hi"),
        lambda: pump(client, server),
        lambda: client.send_close(),
        lambda: pump(client, server),
        lambda: pump(server, client),
    ]
    for step in steps:
        step()
        recorder.note()
    client_states, server_states = recorder.history
    assert client_states == [State.CONNECTING, State.OPEN, State.CLOSING, State.CLOSED]
    assert server_states == [State.CONNECTING, State.OPEN, State.CLOSED]
    for states in recorder.history:
        for before, after in itertools.pairwise(states):
            assert after in {target for (source, _), target in TRANSITIONS.items() if source is before}


def test_repr_shows_role_and_state() -> None:
    client, server = connect()
    assert "client" in repr(client) and "OPEN" in repr(client)
    assert "server" in repr(server) and "CONNECTING" in repr(Protocol(Role.SERVER))


def test_the_diagram_in_the_docstring_is_printed_from_the_table() -> None:
    import wslearn.protocol

    # The docstring shows it as a literal block, indented four spaces.
    assert textwrap.indent(diagram(), "    ") in (wslearn.protocol.__doc__ or "")
    for state in State:
        assert state.name in diagram()
    for trigger in Trigger:
        assert trigger.value in diagram()


def test_transitions_are_the_edges_of_the_table_that_move() -> None:
    assert set(TRANSITIONS.items()) <= set(TABLE.items())
    assert all(state is not target for (state, _), target in TRANSITIONS.items())
    assert {(state, trigger) for (state, trigger), target in TABLE.items() if state is target} == {
        (State.CONNECTING, Trigger.REQUEST_SENT),
        (State.OPEN, Trigger.MESSAGE_SENT),
        (State.OPEN, Trigger.CONTROL_SENT),
    }


def test_a_move_the_table_does_not_allow_is_refused_readably() -> None:
    client, _ = connect()
    with pytest.raises(
        RuntimeError, match=r"request sent is not allowed in state OPEN \(allowed: .*close sent"
    ):
        client.connect("example.com")
    client.send_close()
    assert client.state is State.CLOSING
    with pytest.raises(ConnectionClosed, match="close sent is not allowed"):
        client.send_close()  # our Close is already on its way (§5.5.1: one Close each)
    with pytest.raises(ConnectionClosed, match="message sent is not allowed"):
        client.send_text("too late")
    data, frames = client.data_to_send(), []
    while parsed := parse_frame(data):  # count frames, not 0x88 bytes: a random mask may hold one
        frame, used = parsed
        frames.append(frame.opcode)
        data = data[used:]
    assert frames == [Opcode.CLOSE]


def test_sending_after_the_end_raises_how_it_ended() -> None:
    client, server = connect()
    client.send_close(1001, "bye")
    pump(client, server)
    pump(server, client)
    assert client.state is State.CLOSED
    with pytest.raises(ConnectionClosed) as raised:
        client.send_ping()
    assert raised.value is client.closed and raised.value.code == 1001
