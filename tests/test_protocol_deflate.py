"""permessage-deflate (RFC 7692) wired into the sans-I/O Protocol and the handshake.

A client and a server Protocol in memory, as in test_protocol.py: the client offers, the
server accepts when it has a ``deflate_config``, and then every data message travels
compressed. Misbehaving peers are played by hand-made frames.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest
from conftest import handshake, pump
from hypothesis import given, settings
from hypothesis import strategies as st

from wslearn.assembler import Message
from wslearn.deflate import (
    EMPTY_BLOCK_TAIL,
    DeflateOffer,
    DeflateParameters,
    PerMessageDeflate,
    ServerDeflateConfig,
    client_offers,
    server_config,
)
from wslearn.eventlog import EventLog
from wslearn.explain import explain_frame
from wslearn.frames import Close, Frame, Opcode, parse_frame, serialize_frame
from wslearn.protocol import (
    CloseReceived,
    ConnectionFailed,
    HandshakeFailed,
    HandshakeRejected,
    Protocol,
    RequestReceived,
    Role,
    State,
)

KEY = b"\x01\x02\x03\x04"
DEFAULT_CONFIG = ServerDeflateConfig()
TEXT = "permessage-deflate compresses repeated text " * 20


def deflating(
    offers: tuple[DeflateOffer, ...] = (DeflateOffer(),),
    config: ServerDeflateConfig = DEFAULT_CONFIG,
    **options: Any,
) -> tuple[Protocol, Protocol]:
    """An open client and server that agreed on permessage-deflate."""
    client = Protocol(Role.CLIENT, deflate_offers=offers, **options)
    server = Protocol(Role.SERVER, deflate_config=config, **options)
    handshake(client, server)
    assert client.deflate is not None and server.deflate is not None
    return client, server


def frames_in(data: bytes) -> list[Frame]:
    frames, offset = [], 0
    while offset < len(data):
        parsed = parse_frame(data, offset)
        assert parsed is not None
        frames.append(parsed[0])
        offset += parsed[1]
    return frames


def from_peer(receiver: Protocol, opcode: Opcode, payload: bytes, **bits: Any) -> bytes:
    key = KEY if receiver.role is Role.SERVER else None
    return serialize_frame(Frame(opcode, payload, masking_key=key, **bits))


def compressed(data: bytes) -> bytes:
    """``data`` compressed as one message with a fresh window (RFC 7692 §7.2.1)."""
    compressor = zlib.compressobj(wbits=-15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(EMPTY_BLOCK_TAIL)
    return out[: -len(EMPTY_BLOCK_TAIL)]


def failure(endpoint: Protocol) -> ConnectionFailed:
    events = endpoint.events_received()
    failed = [event for event in events if isinstance(event, ConnectionFailed)]
    assert failed, events
    assert endpoint.state is State.CLOSED
    return failed[0]


def close_sent(endpoint: Protocol) -> Close:
    [frame] = [f for f in frames_in(endpoint.data_to_send()) if f.opcode is Opcode.CLOSE]
    return Close.parse(frame.payload)


# -- negotiation in the opening handshake (RFC 7692 §5) ------------------------------------------


def test_the_offer_is_in_the_request_and_the_answer_in_the_response() -> None:
    client = Protocol(Role.CLIENT, deflate_offers=[DeflateOffer()])
    server = Protocol(Role.SERVER, deflate_config=ServerDeflateConfig())
    request = client.connect("example.com")
    assert request.headers.get_all("Sec-WebSocket-Extensions") == [
        "permessage-deflate; client_max_window_bits"
    ]
    pump(client, server)
    server.events_received()
    response = server.accept()
    assert response.headers.get_all("Sec-WebSocket-Extensions") == ["permessage-deflate"]
    pump(server, client)
    client.events_received()
    assert client.extensions == server.extensions == "permessage-deflate"
    assert client.deflate is not None and server.deflate is not None
    assert client.deflate.params == server.deflate.params == DeflateParameters()
    assert (client.deflate.role, server.deflate.role) == ("client", "server")


def test_every_parameter_is_agreed_by_both_ends() -> None:
    offer = DeflateOffer(True, True, 10, True)
    client, server = deflating((offer,), ServerDeflateConfig(client_max_window_bits=9))
    agreed = DeflateParameters(True, True, 10, 9)
    assert client.deflate is not None and server.deflate is not None
    assert client.deflate.params == server.deflate.params == agreed
    assert server.extensions == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
        " server_max_window_bits=10; client_max_window_bits=9"
    )
    for text in ["one", TEXT, TEXT + "!"]:
        client.send_text(text)
        pump(client, server)
        server.send_text(text)
        pump(server, client)
        assert server.events_received() == [Message(text)]
        assert client.events_received() == [Message(text)]


def test_a_server_without_a_config_declines_every_offer() -> None:
    client = Protocol(Role.CLIENT, deflate_offers=[DeflateOffer()])
    server = Protocol(Role.SERVER)
    handshake(client, server)
    assert "Sec-WebSocket-Extensions" not in server.response.headers  # type: ignore[union-attr]
    assert client.deflate is None and server.deflate is None
    assert client.extensions == server.extensions == ""
    client.send_text(TEXT)
    [frame] = frames_in(pump(client, server))
    assert not frame.rsv1 and frame.payload == TEXT.encode()
    assert server.events_received() == [Message(TEXT)]


def test_a_client_that_offers_nothing_gets_nothing() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER, deflate_config=ServerDeflateConfig())
    handshake(client, server)
    assert "Sec-WebSocket-Extensions" not in client.request.headers  # type: ignore[union-attr]
    assert client.deflate is None and server.deflate is None


def test_an_unacceptable_offer_is_declined_not_refused() -> None:
    # RFC 7692 §5: the server declines (no header) rather than failing the handshake.
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER, deflate_config=ServerDeflateConfig())
    client.connect("example.com", extra_headers=[("Sec-WebSocket-Extensions", "permessage-deflate; x=1")])
    pump(client, server)
    [event] = server.events_received()
    assert isinstance(event, RequestReceived)
    response = server.accept()
    assert "Sec-WebSocket-Extensions" not in response.headers
    assert server.deflate is None


def test_a_malformed_offer_gets_400_saying_why() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER, deflate_config=ServerDeflateConfig())
    client.connect("example.com", extra_headers=[("Sec-WebSocket-Extensions", "permessage-deflate;;")])
    pump(client, server)
    [event] = server.events_received()
    assert isinstance(event, HandshakeRejected)
    assert event.error.status == 400
    answer = server.data_to_send()
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"Sec-WebSocket-Extensions is malformed" in answer


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("permessage-deflate; server_max_window_bits=16", "not a window size from 8 to 15"),
        ("permessage-deflate; foo", "foo is not a parameter of permessage-deflate"),
        ("x-webkit-deflate-frame", "extensions we did not offer"),
        ("permessage-deflate, permessage-deflate", "more than once"),
    ],
)
def test_the_client_fails_an_unacceptable_answer(answer: str, why: str) -> None:
    client = Protocol(Role.CLIENT, deflate_offers=[DeflateOffer()])
    server = Protocol(Role.SERVER)
    client.connect("example.com")
    pump(client, server)
    server.events_received()
    server.accept(extra_headers=[("Sec-WebSocket-Extensions", answer)])
    pump(server, client)
    [event] = client.events_received()
    assert isinstance(event, HandshakeFailed)
    assert why in event.error.reason
    assert client.state is State.CLOSED and client.deflate is None


def test_a_client_that_offered_nothing_fails_any_extension() -> None:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER)
    client.connect("example.com")
    pump(client, server)
    server.events_received()
    server.accept(extra_headers=[("Sec-WebSocket-Extensions", "permessage-deflate")])
    pump(server, client)
    [event] = client.events_received()
    assert isinstance(event, HandshakeFailed)
    assert "but we asked for none" in event.error.reason


def test_the_compression_option() -> None:
    assert client_offers(None) == () and server_config(None) is None
    assert client_offers("deflate") == (DeflateOffer(),)
    assert server_config("deflate") == ServerDeflateConfig()
    offer = DeflateOffer(client_max_window_bits=10)
    assert client_offers(offer) == (offer,) and client_offers([offer, DeflateOffer()]) == (
        offer,
        DeflateOffer(),
    )
    config = ServerDeflateConfig(server_max_window_bits=9)
    assert server_config(config) is config
    for bad in ("gzip", [], ["deflate"], config):
        with pytest.raises(ValueError, match="a client's compression is"):
            client_offers(bad)  # type: ignore[arg-type]
    for bad in ("gzip", offer):
        with pytest.raises(ValueError, match="a server's compression is"):
            server_config(bad)  # type: ignore[arg-type]


# -- compressed messages (RFC 7692 §6, §7.2) -----------------------------------------------------


def test_a_message_goes_compressed_with_rsv1_both_ways() -> None:
    client, server = deflating()
    client.send_text(TEXT)
    [frame] = frames_in(pump(client, server))
    assert frame.rsv1 and frame.opcode is Opcode.TEXT
    assert len(frame.payload) < len(TEXT) // 10
    assert server.events_received() == [Message(TEXT)]
    server.send_binary(bytes(5000))
    [frame] = frames_in(pump(server, client))
    assert frame.rsv1 and len(frame.payload) < 100
    assert client.events_received() == [Message(bytes(5000))]


def test_context_takeover_makes_a_repeated_message_smaller() -> None:
    client, server = deflating()
    sizes = []
    for _ in range(2):
        client.send_text(TEXT)
        [frame] = frames_in(pump(client, server))
        sizes.append(len(frame.payload))
        assert server.events_received() == [Message(TEXT)]
    assert sizes[1] < sizes[0]  # the second refers back to the first (§7.1.1)


def test_rsv1_goes_on_the_first_fragment_only() -> None:
    client, server = deflating()
    client.send_text("hello ", fin=False)
    client.send_continuation(b"hello ", fin=False)
    client.send_continuation("wörld".encode(), fin=True)
    frames = frames_in(pump(client, server))
    assert [(f.opcode, f.rsv1, f.fin) for f in frames] == [
        (Opcode.TEXT, True, False),
        (Opcode.CONTINUATION, False, False),
        (Opcode.CONTINUATION, False, True),
    ]
    assert server.events_received() == [Message("hello hello wörld")]


def test_control_frames_are_never_compressed() -> None:
    client, server = deflating()
    client.send_ping(b"ping " * 20)
    client.send_pong(b"pong")
    client.send_close(1000, "bye " * 20)
    frames = frames_in(pump(client, server))
    assert [(f.opcode, f.rsv1) for f in frames] == [
        (Opcode.PING, False),
        (Opcode.PONG, False),
        (Opcode.CLOSE, False),
    ]
    assert frames[0].payload == b"ping " * 20
    answer = frames_in(pump(server, client))
    assert [(f.opcode, f.rsv1) for f in answer] == [(Opcode.PONG, False), (Opcode.CLOSE, False)]


def test_an_uncompressed_message_is_still_accepted() -> None:
    # RFC 7692 §6.2: a message whose first frame has RSV1 clear is not compressed.
    _client, server = deflating()
    server.receive_data(from_peer(server, Opcode.TEXT, b"plain"))
    assert server.events_received() == [Message("plain")]


def test_a_hand_compressed_message_from_the_peer() -> None:
    # The RFC 7692 §7.2.3.1 example: "Hello" as 0xf2 0x48 0xcd 0xc9 0xc9 0x07 0x00.
    client, _server = deflating()
    client.receive_data(bytes([0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]))
    assert client.events_received() == [Message("Hello")]


@pytest.mark.parametrize("opcode", [Opcode.PING, Opcode.PONG, Opcode.CLOSE])
def test_rsv1_on_a_control_frame_fails_with_1002(opcode: Opcode) -> None:
    _client, server = deflating()
    server.receive_data(from_peer(server, opcode, b"", rsv1=True))
    failed = failure(server)
    assert failed.code == 1002 and "control frames are never compressed" in failed.reason
    assert close_sent(server).code == 1002


def test_rsv1_on_a_continuation_fails_with_1002() -> None:
    _client, server = deflating()
    payload = compressed(b"hello world")
    server.receive_data(from_peer(server, Opcode.TEXT, payload[:3], fin=False, rsv1=True))
    server.receive_data(from_peer(server, Opcode.CONTINUATION, payload[3:], rsv1=True))
    failed = failure(server)
    assert failed.code == 1002 and "continuation frame" in failed.reason
    assert close_sent(server).code == 1002


@pytest.mark.parametrize("bit", ["rsv2", "rsv3"])
def test_other_rsv_bits_still_fail_with_1002(bit: str) -> None:
    _client, server = deflating()
    server.receive_data(from_peer(server, Opcode.TEXT, b"x", **{bit: True}))
    failed = failure(server)
    assert failed.code == 1002 and "no extension was negotiated" in failed.reason


def test_rsv1_without_negotiation_still_fails_with_1002() -> None:
    client = Protocol(Role.CLIENT, deflate_offers=[DeflateOffer()])
    server = Protocol(Role.SERVER)  # declines
    handshake(client, server)
    server.receive_data(from_peer(server, Opcode.TEXT, compressed(b"x"), rsv1=True))
    assert failure(server).code == 1002


def test_invalid_utf8_after_decompression_fails_with_1007() -> None:
    _client, server = deflating()
    server.receive_data(from_peer(server, Opcode.TEXT, compressed(b"ok \xff\xfe"), rsv1=True))
    failed = failure(server)
    assert failed.code == 1007
    assert close_sent(server).code == 1007


def test_invalid_utf8_split_across_compressed_fragments_fails_with_1007() -> None:
    _client, server = deflating()
    payload = compressed("é".encode() + b"\xc3")  # ends mid-character
    server.receive_data(from_peer(server, Opcode.TEXT, payload[:2], fin=False, rsv1=True))
    assert server.events_received() == []
    server.receive_data(from_peer(server, Opcode.CONTINUATION, payload[2:]))
    assert failure(server).code == 1007


def test_data_that_is_not_deflate_fails_with_1002() -> None:
    _client, server = deflating()
    server.receive_data(from_peer(server, Opcode.BINARY, b"\xff\xff\xff\xff", rsv1=True))
    failed = failure(server)
    assert failed.code == 1002 and "not valid DEFLATE" in failed.reason


def test_the_size_limit_counts_the_decompressed_message() -> None:
    client, server = deflating(max_message_size=10_000)
    client.send_binary(bytes(10_000))  # exactly the limit: fine
    pump(client, server)
    assert server.events_received() == [Message(bytes(10_000))]
    client.send_binary(bytes(10_001))  # 28 bytes on the wire, one byte too many decompressed
    [frame] = frames_in(pump(client, server))
    assert len(frame.payload) < 100
    failed = failure(server)
    assert failed.code == 1009 and "decompresses to more than the limit of 10000 bytes" in failed.reason
    assert close_sent(server).code == 1009


def bomb(mib: int) -> bytes:
    """Raw DEFLATE of ``mib`` MiB of zeros: about 1 KB per MiB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(2**20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * mib


def test_a_decompression_bomb_is_refused_with_1009_after_the_limit() -> None:
    limit = 2**20
    _client, server = deflating(max_message_size=limit)
    payload = bomb(256)  # 256 MiB of zeros in about 260 KB: a frame well within the limit
    assert len(payload) < 300_000
    server.receive_data(from_peer(server, Opcode.BINARY, payload, rsv1=True))
    failed = failure(server)
    assert failed.code == 1009
    assert failed.reason.startswith("the message decompresses to more than the limit of 1048576 bytes")
    assert close_sent(server).code == 1009


def test_a_bomb_in_small_frames_stops_at_the_limit() -> None:
    limit = 2**20
    _client, server = deflating(max_message_size=limit)
    payload = bomb(64)  # 64 MiB of zeros in about 66 KB, sent in 1 KB frames
    pieces = [payload[i : i + 1024] for i in range(0, len(payload), 1024)]
    server.receive_data(from_peer(server, Opcode.BINARY, pieces[0], fin=False, rsv1=True))
    for piece in pieces[1:]:
        server.receive_data(from_peer(server, Opcode.CONTINUATION, piece, fin=False))
        if server.state is State.CLOSED:
            break
    failed = failure(server)
    assert failed.code == 1009
    assert "decompresses to more than the limit" in failed.reason
    assert server.bytes_held <= limit  # nothing beyond the limit was kept


def test_the_messages_before_a_violation_are_delivered_first() -> None:
    client, server = deflating()
    client.send_text("first")
    data = client.data_to_send() + from_peer(server, Opcode.PING, b"", rsv1=True)
    server.receive_data(data)
    assert server.events_received() == [Message("first")]
    assert server.failure_pending
    assert failure(server).code == 1002


def test_a_closing_handshake_after_compressed_messages() -> None:
    client, server = deflating()
    client.send_text(TEXT)
    client.send_close(1000, "done")
    pump(client, server)
    events = server.events_received()
    assert events[0] == Message(TEXT) and events[1] == CloseReceived(1000, "done")
    pump(server, client)
    assert client.state is State.CLOSED and server.state is State.CLOSED


# -- round trips across fragment and read boundaries (Hypothesis) --------------------------------

PARAMS = st.builds(
    DeflateOffer,
    st.booleans(),
    st.booleans(),
    st.none() | st.integers(8, 15),
    st.none() | st.just(True) | st.integers(8, 15),
)
CHUNKS = st.binary(max_size=300) | st.text(alphabet="ab é€😀", max_size=200).map(str.encode)


@settings(max_examples=60, deadline=None)
@given(
    offer=PARAMS,
    messages=st.lists(st.tuples(st.booleans(), st.lists(CHUNKS, min_size=1, max_size=4)), max_size=5),
    read_size=st.integers(1, 64),
    client_sends=st.booleans(),
)
def test_round_trips_across_fragment_boundaries(
    offer: DeflateOffer, messages: list[tuple[bool, list[bytes]]], read_size: int, client_sends: bool
) -> None:
    client, server = deflating((offer,))
    sender, receiver = (client, server) if client_sends else (server, client)
    expected: list[Message] = []
    for is_text, parts in messages:
        if is_text:
            whole = b"".join(parts)
            try:
                expected.append(Message(whole.decode("utf-8")))
            except UnicodeDecodeError:
                continue  # only valid text is sent as text
        else:
            expected.append(Message(b"".join(parts)))
        if len(parts) == 1:
            sender.send_text(parts[0].decode()) if is_text else sender.send_binary(parts[0])
            continue
        if is_text:  # the first fragment is a str; the others may cut a character
            first = parts[0].decode("utf-8", "ignore")
            sender.send_text(first, fin=False)
            rest = [b"".join(parts)[len(first.encode()) : len(parts[0])], *parts[1:]]
        else:
            sender.send_binary(parts[0], fin=False)
            rest = parts[1:]
        for index, part in enumerate(rest, start=1):
            sender.send_continuation(part, fin=index == len(rest))
    data = sender.data_to_send()
    for frame in frames_in(data):
        assert not frame.rsv1 or frame.opcode is not Opcode.CONTINUATION
    received = []
    for start in range(0, len(data), read_size):
        receiver.receive_data(data[start : start + read_size])
        received += receiver.events_received()
    assert received == expected
    assert receiver.state is State.OPEN


# -- what the trace, the event log and explain_frame show ------------------------------------------


def test_the_trace_sees_the_wire_frame_and_the_decompressed_payload() -> None:
    seen: list[tuple[Any, ...]] = []
    client = Protocol(Role.CLIENT, deflate_offers=[DeflateOffer()], trace=lambda *args: seen.append(args))
    server = Protocol(Role.SERVER, deflate_config=ServerDeflateConfig())
    handshake(client, server)
    client.send_text(TEXT)
    pump(client, server)
    server.send_text("pong")
    server.send_ping(b"p")
    pump(server, client)
    client.events_received()
    (out, frame, raw, plain), (into, frame_in, _, plain_in), *rest = seen
    assert (out, into) == ("out", "in")
    assert frame.rsv1 and plain == TEXT.encode() and raw == serialize_frame(frame)
    assert frame_in.rsv1 and plain_in == b"pong"
    # A control frame has no decompressed payload: three arguments, as without compression.
    assert [len(args) for args in rest] == [3, 3]


def test_the_event_log_shows_rsv1_and_both_sizes() -> None:
    log = EventLog()
    client = Protocol(
        Role.CLIENT, deflate_offers=[DeflateOffer()], trace=lambda *args: log.keep_frame(1, *args)
    )
    server = Protocol(
        Role.SERVER, deflate_config=ServerDeflateConfig(), trace=lambda *a: log.record_frame(2, *a)
    )
    handshake(client, server)
    client.send_text(TEXT)
    pump(client, server)
    server.events_received()
    sent, received = log.events()
    for event in (sent, received):
        assert event.rsv1 is True
        assert event.size == len(TEXT)
        assert event.length < len(TEXT)
        assert event.compression == f"RSV1 (compressed) {event.length} → {len(TEXT)} bytes"
        assert f"RSV1 (compressed) {event.length} → {len(TEXT)} bytes" in str(event)
        assert event.preview.startswith("'permessage-deflate compresses")  # the text, not DEFLATE bytes


def test_the_event_log_of_an_uncompressed_frame_is_unchanged() -> None:
    log = EventLog()
    frame = Frame(Opcode.TEXT, b"hi")
    log.keep_frame(1, "out", frame, serialize_frame(frame))
    [event] = log.events()
    assert event.rsv1 is False and event.size is None and event.compression == ""
    assert " 2 B " in str(event)


def test_explain_frame_without_deflate_explains_rsv1() -> None:
    explanation = explain_frame(bytes([0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]))
    rsv1 = next(field for field in explanation.fields if field.name == "RSV1")
    assert "per-message compressed, RFC 7692 §6" in rsv1.meaning
    assert any("RSV1 is set but no extension was negotiated" in problem for problem in explanation.problems)
    assert explanation.decompressed is None
    payload = next(field for field in explanation.fields if field.name == "Payload data")
    assert "DEFLATE data" in payload.meaning  # not "invalid UTF-8"


@pytest.mark.parametrize("deflate", [DeflateParameters(), PerMessageDeflate(DeflateParameters(), "client")])
def test_explain_frame_with_deflate_decompresses(deflate: DeflateParameters | PerMessageDeflate) -> None:
    explanation = explain_frame(
        bytes([0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), deflate=deflate
    )
    assert explanation.problems == ()
    assert explanation.decompressed == b"Hello"
    assert "RSV1 (compressed) 7 → 5 bytes: 'Hello'" in explanation.headline
    field = next(field for field in explanation.fields if field.name == "Payload, decompressed")
    assert "per-message compressed, RFC 7692 §6: 7 → 5 bytes" in field.meaning
    assert "Hello" in str(explanation) and "Hello" in explanation._repr_html_()


def test_explain_frame_with_deflate_tells_what_a_receiver_does_with_a_bomb() -> None:
    deflate = PerMessageDeflate(DeflateParameters(), "server", max_size=2**16)
    frame = serialize_frame(Frame(Opcode.BINARY, bomb(1), rsv1=True, masking_key=KEY))
    explanation = explain_frame(frame, deflate=deflate)
    assert any("1009" in problem for problem in explanation.problems)
    assert explanation.decompressed is None


def test_explain_frame_follows_a_connection_with_context_takeover() -> None:
    sender = PerMessageDeflate(DeflateParameters(), "server")
    receiver = PerMessageDeflate(DeflateParameters(), "client")
    for _ in range(3):
        payload, rsv1 = sender.encode(TEXT.encode())
        explanation = explain_frame(serialize_frame(Frame(Opcode.TEXT, payload, rsv1=rsv1)), deflate=receiver)
        assert explanation.decompressed == TEXT.encode(), explanation.problems
