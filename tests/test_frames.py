"""Tests of wslearn.frames: the frame parser, serializer and masking (RFC 6455 §5).

Every example of RFC 6455 §5.7 is a test vector. Each vector is fed whole, one byte at a
time (the parser must answer "need more bytes" until the frame is complete) and followed
by trailing bytes (the parser must consume exactly the frame, nothing more).
"""

from __future__ import annotations

import itertools
import sys
from typing import cast

import pytest
import rfc6455_vectors as rfc6455
from conftest import FEEDINGS, parse_fed
from hypothesis import given, settings
from hypothesis import strategies as st

from wslearn import frames
from wslearn.errors import ProtocolError
from wslearn.frames import (
    MAX_CONTROL_PAYLOAD,
    Frame,
    Opcode,
    apply_mask,
    apply_mask_loop,
    parse_frame,
    parse_header,
    serialize_frame,
)

RFC_KEY = rfc6455.MASKING_KEY  # the masking key of every masked example of RFC 6455 §5.7
RFC_VECTORS = rfc6455.FRAMES  # (name, bytes on the wire, the frame they encode)

# Payload lengths at the edges of the three length forms of RFC 6455 §5.2, with the length
# bytes the RFC prescribes (written out by hand, not computed by the code under test).
LENGTH_HEADERS: list[tuple[int, bytes]] = [
    (0, bytes.fromhex("00")),
    (125, bytes.fromhex("7d")),
    (126, bytes.fromhex("7e007e")),
    (127, bytes.fromhex("7e007f")),
    (65535, bytes.fromhex("7effff")),
    (65536, bytes.fromhex("7f0000000000010000")),
]


def xor_with_key(data: bytes, key: bytes) -> bytes:
    """RFC 6455 §5.3, written out here so the vectors do not depend on the code under test."""
    return bytes(octet ^ key[i % 4] for i, octet in enumerate(data))


def boundary_vectors() -> list[tuple[str, bytes, Frame]]:
    """Binary frames with boundary payload lengths, unmasked and masked."""
    vectors = []
    for length, length_bytes in LENGTH_HEADERS:
        payload = bytes(i % 251 for i in range(length))
        unmasked = b"\x82" + length_bytes + payload
        vectors.append((f"{length} bytes unmasked", unmasked, Frame(Opcode.BINARY, payload)))
        masked_length = bytes([length_bytes[0] | 0x80]) + length_bytes[1:]
        masked = b"\x82" + masked_length + RFC_KEY + xor_with_key(payload, RFC_KEY)
        frame = Frame(Opcode.BINARY, payload, masking_key=RFC_KEY)
        vectors.append((f"{length} bytes masked", masked, frame))
    return vectors


ALL_VECTORS = RFC_VECTORS + boundary_vectors()
VECTOR_IDS = [name for name, _, _ in ALL_VECTORS]


def prefix_lengths(size: int) -> list[int]:
    """Every prefix length of a small vector; for a big one, the edges and a sample between.

    Feeding all 65546 prefixes of the 64 KiB example works too but only repeats the same
    "need more" answer; the header bytes, the first payload bytes and the last ones are
    where a parser goes wrong.
    """
    if size <= 1024:
        return list(range(size))
    return sorted(set(range(32)) | set(range(32, size, 997)) | set(range(size - 32, size)))


# -- the RFC 6455 §5.7 examples and the boundary lengths ---------------------------------


@pytest.mark.parametrize(("name", "wire", "frame"), ALL_VECTORS, ids=VECTOR_IDS)
def test_parse_whole(name: str, wire: bytes, frame: Frame) -> None:
    assert parse_frame(wire) == (frame, len(wire))


@pytest.mark.parametrize(("name", "wire", "frame"), ALL_VECTORS, ids=VECTOR_IDS)
def test_parse_returns_unmasked_payload_as_bytes(name: str, wire: bytes, frame: Frame) -> None:
    result = parse_frame(wire)
    assert result is not None
    assert type(result[0].payload) is bytes
    assert type(result[0].opcode) is Opcode


@pytest.mark.parametrize(("name", "wire", "frame"), ALL_VECTORS, ids=VECTOR_IDS)
def test_parse_byte_by_byte(name: str, wire: bytes, frame: Frame) -> None:
    view = memoryview(wire)
    for size in prefix_lengths(len(wire)):
        assert parse_frame(view[:size]) is None, f"frame complete after {size} bytes?"
    assert parse_frame(view) == (frame, len(wire))


@pytest.mark.parametrize(("name", "wire", "frame"), ALL_VECTORS, ids=VECTOR_IDS)
def test_the_header_is_known_before_the_payload_arrives(name: str, wire: bytes, frame: Frame) -> None:
    header_size = len(wire) - len(frame.payload)
    for size in range(header_size):
        assert parse_header(wire[:size]) is None, f"header complete after {size} bytes?"
    for size in range(header_size, len(wire) + 1):
        header = parse_header(wire[:size])
        assert header is not None
        assert (header.opcode, header.fin, header.masking_key) == (frame.opcode, frame.fin, frame.masking_key)
        assert (header.size, header.length) == (header_size, len(frame.payload))


@pytest.mark.parametrize(("name", "wire", "frame"), ALL_VECTORS, ids=VECTOR_IDS)
def test_parse_with_trailing_bytes(name: str, wire: bytes, frame: Frame) -> None:
    next_frame = rfc6455.UNMASKED_HELLO
    data = wire + next_frame + b"\x81"  # another frame, then the start of a third one
    assert parse_frame(data) == (frame, len(wire))
    assert parse_frame(data, len(wire)) == (Frame(Opcode.TEXT, b"Hello"), len(next_frame))
    assert parse_frame(data, len(wire) + len(next_frame)) is None


@pytest.mark.parametrize(("name", "wire", "frame"), ALL_VECTORS, ids=VECTOR_IDS)
def test_parse_at_offset(name: str, wire: bytes, frame: Frame) -> None:
    garbage = b"\xff\x00\x7f"  # not a frame: only the offset keeps the parser off it
    assert parse_frame(garbage + wire, 3) == (frame, len(wire))


@pytest.mark.parametrize(("name", "wire", "frame"), ALL_VECTORS, ids=VECTOR_IDS)
def test_parse_accepts_bytearray_and_memoryview(name: str, wire: bytes, frame: Frame) -> None:
    assert parse_frame(bytearray(wire)) == (frame, len(wire))
    assert parse_frame(memoryview(wire)) == (frame, len(wire))


@pytest.mark.parametrize(("name", "wire", "frame"), ALL_VECTORS, ids=VECTOR_IDS)
def test_serialize(name: str, wire: bytes, frame: Frame) -> None:
    assert serialize_frame(frame) == wire


def test_empty_input_needs_more() -> None:
    assert parse_frame(b"") is None
    assert parse_frame(b"\x81\x05Hello", 12) is None


# -- header bits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_byte", "rsv1", "rsv2", "rsv3"),
    [
        (0xC1, True, False, False),
        (0xA1, False, True, False),
        (0x91, False, False, True),
        (0xF1, True, True, True),
    ],
)
def test_rsv_bits_are_parsed_not_checked(first_byte: int, rsv1: bool, rsv2: bool, rsv3: bool) -> None:
    # RFC 6455 §5.2: whether RSV bits are allowed depends on the negotiated extensions,
    # which the protocol knows and the parser does not.
    wire = bytes([first_byte, 5]) + b"Hello"
    expected = Frame(Opcode.TEXT, b"Hello", rsv1=rsv1, rsv2=rsv2, rsv3=rsv3)
    assert parse_frame(wire) == (expected, len(wire))
    assert serialize_frame(expected) == wire


def test_serialize_writes_any_opcode_for_crafting_invalid_valid_frames() -> None:
    assert serialize_frame(Frame(cast(Opcode, 3), b"")) == b"\x83\x00"
    assert serialize_frame(Frame(cast(Opcode, 0xF), b"", fin=False)) == b"\x0f\x00"


def test_serialize_does_not_validate_control_valid_frames() -> None:
    # A test or a conformance checker must be able to write a broken frame on purpose.
    wire = serialize_frame(Frame(Opcode.PING, b"x" * 126, fin=False))
    assert wire == b"\x09\x7e\x00\x7e" + b"x" * 126


def test_frame_defaults() -> None:
    frame = Frame(Opcode.TEXT, b"Hi")
    assert (frame.fin, frame.rsv1, frame.rsv2, frame.rsv3) == (True, False, False, False)
    assert frame.masking_key is None


def test_masked_serialization_sends_the_masked_payload() -> None:
    # RFC 6455 §5.3: the payload on the wire is the payload XOR the masking key.
    wire = serialize_frame(Frame(Opcode.BINARY, b"\x00" * 8, masking_key=b"\x01\x02\x03\x04"))
    assert wire == b"\x82\x88" + b"\x01\x02\x03\x04" + b"\x01\x02\x03\x04" * 2


# -- parse errors -----------------------------------------------------------------------------


def assert_protocol_error(data: bytes, close_code: int, **kwargs: int) -> ProtocolError:
    """``data`` breaks a rule: parsing fails with ``close_code`` and a reason, whether the
    bytes come whole, one at a time, or with more bytes behind them."""
    for feeding in FEEDINGS:
        with pytest.raises(ProtocolError) as info:
            parse_fed(lambda buffer: parse_frame(buffer, **kwargs), data, feeding)
        assert info.value.close_code == close_code, feeding
        assert info.value.reason, "a student needs a reason, not just a number"
    return info.value


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcode_is_1002(opcode: int) -> None:
    # RFC 6455 §5.2: %x3-7 reserved for further non-control frames, %xB-F for control frames.
    assert_protocol_error(bytes([0x80 | opcode, 0x00]), 1002)
    assert_protocol_error(bytes([0x80 | opcode, 0x02]) + b"hi", 1002)


def test_64_bit_length_with_most_significant_bit_set_is_1002() -> None:
    # RFC 6455 §5.2: "the most significant bit MUST be 0".
    assert_protocol_error(b"\x82\x7f" + b"\x80" + b"\x00" * 7, 1002)
    assert_protocol_error(b"\x82\xff" + b"\xff" * 8 + RFC_KEY, 1002)


@pytest.mark.parametrize("opcode", [Opcode.CLOSE, Opcode.PING, Opcode.PONG])
def test_control_frame_longer_than_125_is_1002(opcode: Opcode) -> None:
    # RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    payload = b"x" * 126
    assert_protocol_error(bytes([0x80 | opcode]) + b"\x7e\x00\x7e" + payload, 1002)
    long_form = bytes([0x80 | opcode]) + b"\x7f" + (126).to_bytes(8, "big") + payload
    assert_protocol_error(long_form, 1002)


@pytest.mark.parametrize("opcode", [Opcode.CLOSE, Opcode.PING, Opcode.PONG])
def test_control_frame_of_125_bytes_is_fine(opcode: Opcode) -> None:
    wire = bytes([0x80 | opcode, 125]) + b"x" * 125
    assert parse_frame(wire) == (Frame(opcode, b"x" * 125), len(wire))
    assert MAX_CONTROL_PAYLOAD == 125


@pytest.mark.parametrize("opcode", [Opcode.CLOSE, Opcode.PING, Opcode.PONG])
def test_fragmented_control_frame_is_1002(opcode: Opcode) -> None:
    # RFC 6455 §5.5: "Control frames themselves MUST NOT be fragmented."
    assert_protocol_error(bytes([opcode, 0x00]), 1002)
    assert_protocol_error(bytes([opcode, 0x02]) + b"hi", 1002)


def test_payload_over_max_payload_is_1009_from_the_header_alone() -> None:
    # The 1009 must come before the payload arrives, so a peer cannot make us buffer it.
    assert_protocol_error(b"\x82\x7e\x01\x00", 1009, max_payload=255)
    assert_protocol_error(b"\x82\xfe\x01\x00", 1009, max_payload=255)  # masked, no key yet
    assert_protocol_error(b"\x82\x7f" + (2**40).to_bytes(8, "big"), 1009, max_payload=2**20)
    assert_protocol_error(b"\x81\x7d", 1009, max_payload=124)


def test_payload_at_max_payload_is_fine() -> None:
    wire = bytes.fromhex("827e0100") + rfc6455.PAYLOAD_256
    assert parse_frame(wire, max_payload=256) == (Frame(Opcode.BINARY, rfc6455.PAYLOAD_256), len(wire))
    assert parse_frame(wire[:4], max_payload=256) is None


def test_huge_announced_length_without_limit_just_needs_more() -> None:
    assert parse_frame(b"\x82\x7f" + (2**62).to_bytes(8, "big") + b"abc") is None


# -- masking (RFC 6455 §5.3) -------------------------------------------------------------------


def test_apply_mask_rfc_example() -> None:
    assert apply_mask(b"Hello", RFC_KEY) == rfc6455.MASKED_HELLO_PAYLOAD
    assert apply_mask_loop(b"Hello", RFC_KEY) == rfc6455.MASKED_HELLO_PAYLOAD
    assert apply_mask(rfc6455.MASKED_HELLO_PAYLOAD, RFC_KEY) == b"Hello"


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 1000, 4099])
def test_apply_mask_equals_loop_at_sizes(size: int) -> None:
    data = bytes((7 * i + 3) % 256 for i in range(size))
    key = b"\xa5\x5a\x0f\xf0"
    assert apply_mask(data, key) == apply_mask_loop(data, key)
    assert len(apply_mask(data, key)) == size


def test_apply_mask_accepts_bytearray_and_memoryview() -> None:
    data = bytes(range(100))
    expected = apply_mask_loop(data, RFC_KEY)
    for form in (bytearray(data), memoryview(data)):
        assert apply_mask(form, RFC_KEY) == expected
        assert apply_mask_loop(form, RFC_KEY) == expected
        assert type(apply_mask(form, RFC_KEY)) is bytes


@given(data=st.binary(max_size=2000), key=st.binary(min_size=4, max_size=4))
def test_apply_mask_fast_path_equals_readable_loop(data: bytes, key: bytes) -> None:
    assert apply_mask(data, key) == apply_mask_loop(data, key)


@given(data=st.binary(max_size=2000), key=st.binary(min_size=4, max_size=4))
def test_masking_twice_gives_back_the_data(data: bytes, key: bytes) -> None:
    # XOR is its own inverse: the same function masks and unmasks (RFC 6455 §5.3).
    assert apply_mask(apply_mask(data, key), key) == data
    assert apply_mask_loop(apply_mask_loop(data, key), key) == data


@given(data=st.binary(max_size=200), key=st.binary(min_size=4, max_size=4))
def test_apply_mask_loop_follows_the_rfc_formula(data: bytes, key: bytes) -> None:
    # RFC 6455 §5.3: transformed-octet-i = original-octet-i XOR masking-key-octet-(i MOD 4)
    assert apply_mask_loop(data, key) == xor_with_key(data, key)


# -- properties (Hypothesis) ---------------------------------------------------------------------


@st.composite
def payloads(draw: st.DrawFn, max_small: int = 130) -> bytes:
    """Mostly short payloads, sometimes one in the 16-bit or the 64-bit length form."""
    form = draw(st.sampled_from(["7-bit", "7-bit", "16-bit", "64-bit"]))
    if form == "7-bit":
        return draw(st.binary(max_size=max_small))
    pattern = draw(st.binary(min_size=1, max_size=16))
    low, high = (126, 65535) if form == "16-bit" else (65536, 70000)
    length = draw(st.integers(low, high))
    return (pattern * (length // len(pattern) + 1))[:length]


@st.composite
def valid_frames(draw: st.DrawFn) -> Frame:
    """Any frame a valid peer may send (control frames short and unfragmented)."""
    opcode = draw(st.sampled_from(list(Opcode)))
    if opcode.is_control:
        payload = draw(st.binary(max_size=MAX_CONTROL_PAYLOAD))
        fin = True
    else:
        payload = draw(payloads())
        fin = draw(st.booleans())
    return Frame(
        opcode,
        payload,
        fin=fin,
        rsv1=draw(st.booleans()),
        rsv2=draw(st.booleans()),
        rsv3=draw(st.booleans()),
        masking_key=draw(st.none() | st.binary(min_size=4, max_size=4)),
    )


@settings(max_examples=300)
@given(frame=valid_frames())
def test_serialize_then_parse_round_trip(frame: Frame) -> None:
    wire = serialize_frame(frame)
    assert parse_frame(wire) == (frame, len(wire))


def parse_stream(chunks: list[bytes], max_payload: int | None = None) -> list[object]:
    """Feed chunks one after the other, as a receiver does; return what the parser gave.

    The result is the list of frames, then one final entry: "need more" when the data ends
    in an unfinished frame (or cleanly), or the close code of the ProtocolError raised.
    The loop is bounded: every round either consumes at least one byte or stops.
    """
    buffer = bytearray()
    offset = 0
    results: list[object] = []
    for chunk in chunks:
        buffer += chunk
        for _ in range(len(buffer) - offset + 1):
            try:
                parsed = parse_frame(buffer, offset, max_payload=max_payload)
            except ProtocolError as error:
                return [*results, ("error", error.close_code)]
            if parsed is None:
                break
            frame, used = parsed
            assert 0 < used <= len(buffer) - offset
            results.append(frame)
            offset += used
        else:
            raise AssertionError("the parser did not stop")
    return [*results, "need more"]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@settings(max_examples=200)
@given(stream=st.lists(valid_frames(), max_size=6), cuts=st.lists(st.integers(0, 10**6), max_size=30))
def test_any_chunking_gives_the_same_frames(stream: list[Frame], cuts: list[int]) -> None:
    data = b"".join(serialize_frame(frame) for frame in stream)
    assert parse_stream([data]) == [*stream, "need more"]
    assert parse_stream(split(data, cuts)) == [*stream, "need more"]


def test_byte_by_byte_stream_of_all_rfc_examples() -> None:
    small = [(wire, frame) for _, wire, frame in RFC_VECTORS if len(wire) < 1000]
    data = b"".join(wire for wire, _ in small)
    chunks = [data[i : i + 1] for i in range(len(data))]
    assert parse_stream(chunks) == [*(frame for _, frame in small), "need more"]


@settings(max_examples=500)
@given(
    data=st.binary(max_size=600),
    cuts=st.lists(st.integers(0, 600), max_size=10),
    max_payload=st.none() | st.integers(0, 300),
)
def test_arbitrary_bytes_give_frames_need_more_or_protocol_error(
    data: bytes, cuts: list[int], max_payload: int | None
) -> None:
    whole = parse_stream([data], max_payload)
    *parsed, last = whole
    for frame in parsed:
        assert isinstance(frame, Frame)
        assert isinstance(frame.opcode, Opcode)
        assert type(frame.payload) is bytes
        if frame.opcode.is_control:
            assert frame.fin and len(frame.payload) <= MAX_CONTROL_PAYLOAD
        elif max_payload is not None:  # the limit is for data; control frames stop at 125
            assert len(frame.payload) <= max_payload
    allowed_codes = {1002} if max_payload is None else {1002, 1009}
    assert last == "need more" or last in {("error", code) for code in allowed_codes}
    # The same bytes arriving in pieces give the same answer.
    assert parse_stream(split(data, cuts), max_payload) == whole


@settings(max_examples=300)
@given(frame=valid_frames(), extra=st.binary(max_size=20))
def test_bytes_around_a_valid_frame_do_not_change_it(frame: Frame, extra: bytes) -> None:
    wire = serialize_frame(frame)
    data = extra + wire + extra
    assert parse_frame(data, len(extra)) == (frame, len(wire))


# -- opcodes ---------------------------------------------------------------------------------------


def test_opcode_values() -> None:
    # RFC 6455 §5.2 and §11.8.
    assert {op.name: int(op) for op in Opcode} == {
        "CONTINUATION": 0,
        "TEXT": 1,
        "BINARY": 2,
        "CLOSE": 8,
        "PING": 9,
        "PONG": 10,
    }


def test_opcode_is_control() -> None:
    # RFC 6455 §5.5: control frames are identified by opcodes where the MSB of the opcode is 1.
    assert {op for op in Opcode if op.is_control} == {Opcode.CLOSE, Opcode.PING, Opcode.PONG}


def test_opcode_meaning_is_one_readable_line() -> None:
    meanings = [op.meaning for op in Opcode]
    for meaning in meanings:
        assert isinstance(meaning, str) and meaning.strip() and "\n" not in meaning
    assert len(set(meanings)) == len(meanings)


# -- the masker without websockets, bad keys ------------------------------------------------------


@pytest.mark.parametrize("key", [b"", b"abc", b"abcde"])
def test_masking_key_must_be_4_bytes(key: bytes) -> None:
    # RFC 6455 §5.2: "Masking-key: 0 or 4 bytes".
    with pytest.raises(ValueError):
        apply_mask(b"data", key)
    with pytest.raises(ValueError):
        apply_mask_loop(b"data", key)


def test_apply_mask_without_the_websockets_c_masker(monkeypatch: pytest.MonkeyPatch) -> None:
    # websockets is the fast path, not a requirement: without it apply_mask still works.
    monkeypatch.setitem(sys.modules, "websockets.speedups", None)  # import now fails
    monkeypatch.setattr(frames, "_fast_masker", None)  # forget the masker loaded earlier
    key = b"\xa5\x5a\x0f\xf0"
    for size in [0, 1, 3, 4, 5, 63, 64, 65, 1000, 65537]:
        data = bytes((7 * i + 3) % 256 for i in range(size))
        assert apply_mask(data, key) == xor_with_key(data, key)
        assert apply_mask(memoryview(data), key) == xor_with_key(data, key)
    assert frames._fast_masker is not None
    assert frames._fast_masker.__module__ == "wslearn.frames"  # the pure-Python fallback


# -- readable frames -------------------------------------------------------------------------------


def test_str_of_a_text_frame() -> None:
    text = str(Frame(Opcode.TEXT, b"Hello"))
    assert "TEXT" in text and "5 bytes" in text and "'Hello'" in text
    assert "masked" not in text
    assert "masked" in str(Frame(Opcode.TEXT, b"Hello", masking_key=RFC_KEY))


def test_str_of_a_fragment() -> None:
    first = str(Frame(Opcode.TEXT, b"Hel", fin=False))
    last = str(Frame(Opcode.CONTINUATION, b"lo"))
    assert "CONTINUATION" in last
    assert first != str(Frame(Opcode.TEXT, b"Hel"))  # FIN=0 shows


def test_str_of_a_binary_frame_shows_hex() -> None:
    assert "de ad be ef" in str(Frame(Opcode.BINARY, bytes.fromhex("deadbeef")))


def test_str_of_a_close_frame_shows_code_and_reason() -> None:
    text = str(Frame(Opcode.CLOSE, b"\x03\xe9bye"))
    assert "CLOSE" in text and "1001" in text and "bye" in text


def test_str_of_a_long_payload_is_cut_short() -> None:
    for opcode in (Opcode.TEXT, Opcode.BINARY):
        text = str(Frame(opcode, b"x" * 10_000))
        assert "10000 bytes" in text and len(text) < 300 and "…" in text


def test_str_of_a_crafted_frame() -> None:
    # Invalid frames must still print, e.g. in the conformance checker's report.
    assert "0x3" in str(Frame(cast(Opcode, 3), b""))
    assert "TEXT" in str(Frame(Opcode.TEXT, b"\xff"))  # not UTF-8, printed anyway
    assert "CLOSE" in str(Frame(Opcode.CLOSE, b"\x03\xe8\xff"))


def test_apply_mask_works_when_the_fast_masker_cannot_be_imported_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Out of file descriptors, the lazy import of the C masker fails with OSError (EMFILE):
    the frame is unmasked all the same, and the import is tried again next time."""
    import wslearn.frames as frames

    def out_of_descriptors() -> None:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(frames, "_fast_masker", None)
    monkeypatch.setattr(frames, "_load_fast_masker", out_of_descriptors)
    assert frames.apply_mask(b"\x01\x02\x03\x04\x05", b"\x01\x02\x03\x04") == b"\x00\x00\x00\x00\x04"
    assert frames._fast_masker is None
