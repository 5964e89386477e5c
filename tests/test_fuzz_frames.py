"""Fuzzing the frame parser (RFC 6455 §5.2): only documented errors, bounded time and memory.

tests/test_frames.py already feeds arbitrary bytes in arbitrary pieces. Here the inputs are
built to hurt: valid frames with flipped bits, headers announcing up to 2**63-1 bytes, long
streams cut at random places. The parser may answer a frame, "need more bytes" (None) or
ProtocolError with 1002 or 1009 — nothing else, never a hang, never a big allocation.
"""

from __future__ import annotations

import struct
import tracemalloc
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st

from wslearn.errors import ProtocolError
from wslearn.frames import Frame, Opcode, parse_frame, serialize_frame

OPCODES = [int(op) for op in Opcode]


@st.composite
def wire_frames(draw: st.DrawFn) -> bytes:
    """A frame as a client would send it: any opcode and bits, masked, short payload."""
    opcode = draw(st.sampled_from(OPCODES))
    control = opcode >= 8
    payload = draw(st.binary(max_size=125 if control else 300))
    frame = Frame(
        cast(Opcode, opcode),
        payload,
        fin=True if control else draw(st.booleans()),
        rsv1=draw(st.booleans()),
        masking_key=draw(st.binary(min_size=4, max_size=4)),
    )
    return serialize_frame(frame)


def parse_all(data: bytes, max_payload: int | None) -> list[object]:
    """Parse frames until None or an error; the loop is bounded by the data's length."""
    results: list[object] = []
    offset = 0
    for _ in range(len(data) + 1):
        try:
            parsed = parse_frame(data, offset, max_payload=max_payload)
        except ProtocolError as error:
            return [*results, ("error", error.close_code)]
        if parsed is None:
            return [*results, None]
        frame, used = parsed
        assert 2 <= used <= len(data) - offset
        results.append(frame)
        offset += used
    raise AssertionError("the parser did not advance")


@settings(max_examples=400, deadline=1000)
@given(
    frames=st.lists(wire_frames(), min_size=1, max_size=5),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), max_size=4),
    max_payload=st.none() | st.integers(0, 400),
)
def test_flipped_bits_give_frames_need_more_or_a_documented_error(
    frames: list[bytes], flips: list[tuple[int, int]], max_payload: int | None
) -> None:
    data = bytearray(b"".join(frames))
    for position, bit in flips:
        data[position % len(data)] ^= 1 << bit
    results = parse_all(bytes(data), max_payload)
    *parsed, last = results
    assert all(isinstance(frame, Frame) for frame in parsed)
    codes = {1002} if max_payload is None else {1002, 1009}
    assert last is None or last in {("error", code) for code in codes}


@settings(max_examples=200, deadline=1000)
@given(frame=wire_frames())
def test_every_proper_prefix_of_a_frame_needs_more_bytes(frame: bytes) -> None:
    for end in range(len(frame)):
        assert parse_frame(frame[:end]) is None
    parsed = parse_frame(frame)
    assert parsed is not None and parsed[1] == len(frame)


@settings(max_examples=300, deadline=1000)
@given(length=st.integers(126, 2**63 - 1), sent=st.binary(max_size=64), opcode=st.sampled_from([1, 2, 0]))
def test_a_huge_announced_length_never_allocates_the_payload(length: int, sent: bytes, opcode: int) -> None:
    header = bytes([0x80 | opcode, 0xFF]) + struct.pack("!Q", length) + b"mask"
    # Without a limit the parser waits for more bytes; with one it refuses from the header.
    assert parse_frame(header + sent) is None
    limit = min(length - 1, 2**20)
    try:
        parse_frame(header + sent, max_payload=limit)
    except ProtocolError as error:
        assert error.close_code == 1009
    else:
        raise AssertionError("a frame over the limit was not refused")


def test_headers_announcing_terabytes_cost_no_memory() -> None:
    tracemalloc.start()
    try:
        for exponent in range(17, 63):
            header = bytes([0x82, 0xFF]) + struct.pack("!Q", 2**exponent) + b"mask" + b"x" * 100
            assert parse_frame(header) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"\npeak memory while parsing 46 huge headers: {peak} bytes")
    assert peak < 64 * 1024


def test_a_long_random_stream_is_parsed_in_bounded_time() -> None:
    """1 MiB of pseudo-random bytes: the parser stops at the first error or need-more."""
    import random
    import time

    rng = random.Random(6455)
    for _ in range(20):
        data = rng.randbytes(2**16)
        started = time.perf_counter()
        parse_all(data, 2**20)
        assert time.perf_counter() - started < 0.5
