"""Tests of wslearn.assembler: fragments to messages (RFC 6455 §5.4, §5.6, §8.1)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wslearn.assembler import MIN_FRAGMENT_COST, Assembler, Message
from wslearn.errors import ProtocolError
from wslearn.frames import Frame, Opcode

TEXT, BINARY, CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION


def fragments(opcode: Opcode, parts: list[bytes]) -> list[Frame]:
    """A message split into frames: ``opcode`` first, then continuations, FIN on the last."""
    last = len(parts) - 1
    return [Frame(opcode if i == 0 else CONT, part, fin=(i == last)) for i, part in enumerate(parts)]


def feed(assembler: Assembler, frames: list[Frame]) -> list[Message | None]:
    return [assembler.receive(frame) for frame in frames]


def protocol_error(assembler: Assembler, frame: Frame) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        assembler.receive(frame)
    assert info.value.reason, "a student needs a reason, not just a number"
    return info.value


# -- messages -------------------------------------------------------------------------------------


def test_single_text_frame() -> None:
    message = Assembler().receive(Frame(TEXT, b"Hello"))
    assert message == Message("Hello")
    assert message.is_text


def test_single_binary_frame() -> None:
    message = Assembler().receive(Frame(BINARY, b"\x00\xff"))
    assert message == Message(b"\x00\xff")
    assert not message.is_text


def test_empty_messages() -> None:
    assembler = Assembler()
    assert assembler.receive(Frame(TEXT, b"")) == Message("")
    assert assembler.receive(Frame(BINARY, b"")) == Message(b"")


def test_rfc_fragmented_hello() -> None:
    # RFC 6455 §5.7: "Hel" in a TEXT frame with FIN=0, then "lo" in a continuation.
    assembler = Assembler()
    assert not assembler.in_progress
    assert assembler.receive(Frame(TEXT, b"Hel", fin=False)) is None
    assert assembler.in_progress
    assert assembler.receive(Frame(CONT, b"lo")) == Message("Hello")
    assert not assembler.in_progress


def test_fragmented_binary() -> None:
    frames = fragments(BINARY, [b"\x01", b"\x02\x03", b"", b"\x04"])
    assert feed(Assembler(), frames) == [None, None, None, Message(b"\x01\x02\x03\x04")]


def test_empty_fragments() -> None:
    frames = fragments(TEXT, [b"", b"", b"x", b""])
    assert feed(Assembler(), frames) == [None, None, None, Message("x")]


def test_messages_one_after_the_other() -> None:
    assembler = Assembler()
    frames = [*fragments(TEXT, [b"a", b"b"]), Frame(BINARY, b"c"), *fragments(BINARY, [b"d", b"e"])]
    assert feed(assembler, frames) == [None, Message("ab"), Message(b"c"), None, Message(b"de")]


@settings(max_examples=200)
@given(text=st.text(max_size=200), cuts=st.lists(st.integers(0, 2000), max_size=10))
def test_text_split_anywhere_comes_back_whole(text: str, cuts: list[int]) -> None:
    # Cuts may fall inside a multi-byte character: the assembler must carry it over.
    data = text.encode("utf-8")
    results = feed(Assembler(), fragments(TEXT, split(data, cuts)))
    assert results[:-1] == [None] * (len(results) - 1)
    assert results[-1] == Message(text)


def test_multibyte_character_split_byte_by_byte() -> None:
    euro = "€".encode()  # e2 82 ac
    frames = fragments(TEXT, [euro[0:1], euro[1:2], euro[2:3]])
    assert feed(Assembler(), frames) == [None, None, Message("€")]


# -- continuation rules (RFC 6455 §5.4) -------------------------------------------------------------


@pytest.mark.parametrize("fin", [True, False])
def test_continuation_without_a_message_is_1002(fin: bool) -> None:
    assert protocol_error(Assembler(), Frame(CONT, b"x", fin=fin)).close_code == 1002


def test_continuation_after_a_finished_message_is_1002() -> None:
    assembler = Assembler()
    feed(assembler, fragments(TEXT, [b"a", b"b"]))
    assert protocol_error(assembler, Frame(CONT, b"c")).close_code == 1002


@pytest.mark.parametrize("opcode", [TEXT, BINARY])
@pytest.mark.parametrize("fin", [True, False])
@pytest.mark.parametrize("first", [TEXT, BINARY])
def test_new_message_inside_a_fragmented_one_is_1002(first: Opcode, opcode: Opcode, fin: bool) -> None:
    assembler = Assembler()
    assembler.receive(Frame(first, b"a", fin=False))
    assert protocol_error(assembler, Frame(opcode, b"b", fin=fin)).close_code == 1002


# -- UTF-8 (RFC 6455 §8.1), failing fast ------------------------------------------------------------

# Unicode 15, Table 3-7 "Well-Formed UTF-8 Byte Sequences": for each first byte, the allowed
# ranges of the bytes that follow it. Written out here as an oracle independent of Python's
# decoder, which the code under test uses.
_FOLLOWERS: dict[int, list[tuple[int, int]]] = {}
_TAIL = (0x80, 0xBF)
for _lead in range(0xC2, 0xE0):
    _FOLLOWERS[_lead] = [_TAIL]
_FOLLOWERS[0xE0] = [(0xA0, 0xBF), _TAIL]
for _lead in [*range(0xE1, 0xED), 0xEE, 0xEF]:
    _FOLLOWERS[_lead] = [_TAIL, _TAIL]
_FOLLOWERS[0xED] = [(0x80, 0x9F), _TAIL]  # no UTF-16 surrogates
_FOLLOWERS[0xF0] = [(0x90, 0xBF), _TAIL, _TAIL]
for _lead in range(0xF1, 0xF4):
    _FOLLOWERS[_lead] = [_TAIL, _TAIL, _TAIL]
_FOLLOWERS[0xF4] = [(0x80, 0x8F), _TAIL, _TAIL]  # nothing above U+10FFFF


def first_impossible_byte(data: bytes) -> int | None:
    """Index of the first byte after which ``data`` can never become valid UTF-8.

    ``None`` when every byte so far is fine: ``data`` is valid UTF-8, or the start of it
    (a character cut short at the end).
    """
    i = 0
    while i < len(data):
        if data[i] <= 0x7F:
            i += 1
            continue
        if data[i] not in _FOLLOWERS:
            return i
        for k, (low, high) in enumerate(_FOLLOWERS[data[i]]):
            j = i + 1 + k
            if j == len(data):
                return None
            if not low <= data[j] <= high:
                return j
        i += 1 + len(_FOLLOWERS[data[i]])
    return None


def test_oracle_agrees_with_the_rfc_3629_examples() -> None:
    assert first_impossible_byte("κόσμε".encode()) is None
    assert first_impossible_byte(b"\xe2\x82") is None
    assert first_impossible_byte(b"\xc0\xaf") == 0
    assert first_impossible_byte(b"ab\xed\xa0\x80") == 3
    assert first_impossible_byte(b"\xf4\x90\x80\x80") == 1
    assert first_impossible_byte(b"\xe2\x82A") == 2


@pytest.mark.parametrize(
    "payload",
    [b"\xff", b"\xc0\xaf", b"caf\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82A"],
)
def test_invalid_utf8_in_one_frame_is_1007(payload: bytes) -> None:
    assert protocol_error(Assembler(), Frame(TEXT, payload)).close_code == 1007


def test_invalid_utf8_in_the_first_fragment_fails_at_once() -> None:
    # Autobahn case 6.4.1: the bad bytes come in the first fragment of a long message;
    # waiting for the end of the message would let a peer feed us garbage for ever.
    assembler = Assembler()
    bad = "κόσμε".encode() + b"\xf4\x90\x80\x80" + b"edited"
    assert protocol_error(assembler, Frame(TEXT, bad, fin=False)).close_code == 1007


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (b"ok \xf4", b"\x90\x80\x80"),  # F4 90: above U+10FFFF
        (b"ok \xed", b"\xa0\x80"),  # ED A0: a UTF-16 surrogate
        (b"ok \xe0", b"\x80\x80"),  # E0 80: an overlong form
        (b"ok \xe2\x82", b"A"),  # a character cut short by ASCII
    ],
)
def test_invalid_sequence_split_across_fragments_fails_at_the_impossible_byte(
    first: bytes, second: bytes
) -> None:
    assembler = Assembler()
    # Every byte of the first fragment may still begin a valid character: no error yet.
    assert first_impossible_byte(first) is None
    assert assembler.receive(Frame(TEXT, first, fin=False)) is None
    # The first byte of the second fragment rules it out; the message is not finished.
    assert first_impossible_byte(first + second) == len(first)
    error = protocol_error(assembler, Frame(CONT, second + b" more text", fin=False))
    assert error.close_code == 1007


@pytest.mark.parametrize("second", [0xA0, 0xAF, 0xBF])
def test_a_surrogate_fails_at_its_second_byte(second: int) -> None:
    # ED A0..BF can only become U+D800-U+DFFF, excluded from UTF-8 (RFC 3629 §3); Python's
    # own decoder would wait for a third byte.
    assert first_impossible_byte(bytes([0xED, second])) == 1
    assembler = Assembler()
    assert assembler.receive(Frame(TEXT, b"ok \xed", fin=False)) is None  # ED 80..9F is fine
    assert protocol_error(assembler, Frame(CONT, bytes([second]), fin=False)).close_code == 1007
    assert Assembler().begin_frame(TEXT)
    probe = Assembler()
    probe.begin_frame(TEXT)
    with pytest.raises(ProtocolError):
        probe.check_partial(bytes([0x41, 0xED, second]))


def test_character_cut_short_by_the_end_of_the_message_is_1007() -> None:
    assembler = Assembler()
    assert assembler.receive(Frame(TEXT, b"ok \xe2", fin=False)) is None
    assert assembler.receive(Frame(CONT, b"\x82", fin=False)) is None
    assert protocol_error(assembler, Frame(CONT, b"", fin=True)).close_code == 1007


def test_binary_messages_are_not_decoded() -> None:
    assert Assembler().receive(Frame(BINARY, b"\xff\xfe")) == Message(b"\xff\xfe")
    frames = fragments(BINARY, [b"\xed", b"\xa0\x80"])
    assert feed(Assembler(), frames) == [None, Message(b"\xed\xa0\x80")]


# Bytes near the edges of Table 3-7, so that random data is often almost valid UTF-8.
_EDGE_BYTES = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0]
_EDGE_BYTES += [0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
utf8_ish = st.lists(
    st.text(max_size=4).map(lambda text: text.encode("utf-8"))
    | st.sampled_from(_EDGE_BYTES).map(lambda byte: bytes([byte])),
    max_size=30,
).map(b"".join)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)] or [b""]


@settings(max_examples=500)
@given(data=utf8_ish, cuts=st.lists(st.integers(0, 200), max_size=8))
def test_utf8_fails_fast_at_the_first_impossible_byte(data: bytes, cuts: list[int]) -> None:
    parts = split(data, cuts)
    bad = first_impossible_byte(data)
    failing_fragment: int | None = None
    if bad is None:
        try:
            expected = Message(data.decode("utf-8"))
        except UnicodeDecodeError:
            failing_fragment = len(parts) - 1  # valid so far, but the last character is cut short
    else:
        # The fragment that holds the first impossible byte.
        ends = [sum(map(len, parts[: i + 1])) for i in range(len(parts))]
        failing_fragment = next(i for i, end in enumerate(ends) if bad < end)
    assembler = Assembler()
    for i, frame in enumerate(fragments(TEXT, parts)):
        if i == failing_fragment:
            assert protocol_error(assembler, frame).close_code == 1007
            return
        result = assembler.receive(frame)
        assert result == (expected if frame.fin else None)


# -- size limit (RFC 6455 §7.4.1, 1009) -------------------------------------------------------------


def test_default_limit_is_one_mebibyte() -> None:
    assert Assembler().receive(Frame(BINARY, bytes(2**20))) == Message(bytes(2**20))
    assert protocol_error(Assembler(), Frame(BINARY, bytes(2**20 + 1))).close_code == 1009


def test_default_limit_applies_to_fragmented_messages() -> None:
    assembler = Assembler()
    assert assembler.receive(Frame(BINARY, bytes(2**19), fin=False)) is None
    assert assembler.receive(Frame(CONT, bytes(2**19), fin=False)) is None
    # The message would be 1 MiB + 1 byte: fail now, without waiting for FIN.
    assert protocol_error(assembler, Frame(CONT, b"x", fin=False)).close_code == 1009


@pytest.mark.parametrize("opcode", [TEXT, BINARY])
def test_custom_limit(opcode: Opcode) -> None:
    assert Assembler(max_size=10).receive(Frame(opcode, b"x" * 10)) is not None
    assert protocol_error(Assembler(max_size=10), Frame(opcode, b"x" * 11)).close_code == 1009


def test_limit_fails_at_the_fragment_that_crosses_it() -> None:
    assembler = Assembler(max_size=200)
    assert assembler.receive(Frame(TEXT, b"a" * 80, fin=False)) is None
    assert assembler.receive(Frame(CONT, b"b" * 80, fin=False)) is None
    assert protocol_error(assembler, Frame(CONT, b"c" * 41, fin=False)).close_code == 1009


def test_limit_counts_utf8_bytes_not_characters() -> None:
    assert Assembler(max_size=10).receive(Frame(TEXT, ("é" * 5).encode())) == Message("é" * 5)
    error = protocol_error(Assembler(max_size=10), Frame(TEXT, ("é" * 6).encode()))
    assert error.close_code == 1009


def test_limit_is_per_message() -> None:
    assembler = Assembler(max_size=200)
    for _ in range(5):
        assert feed(assembler, fragments(BINARY, [b"1" * 100, b"2" * 100]))[-1] == Message(
            b"1" * 100 + b"2" * 100
        )


def test_every_fragment_counts_at_least_min_fragment_cost() -> None:
    """A million empty fragments never near a byte limit; each counts 64 bytes instead."""
    assembler = Assembler(max_size=64 * 100)
    assembler.receive(Frame(BINARY, b"", fin=False))
    for _ in range(99):
        assert assembler.receive(Frame(CONT, b"", fin=False)) is None
    error = protocol_error(assembler, Frame(CONT, b"", fin=False))
    assert error.close_code == 1009 and "counts 64 bytes at least" in error.reason
    assert MIN_FRAGMENT_COST == 64
    # Whole frames count what they carry: a 1-byte message is 1 byte.
    assert Assembler(max_size=1).receive(Frame(BINARY, b"x")) == Message(b"x")


def test_no_limit() -> None:
    big = bytes(2**20 + 1)
    assert Assembler(max_size=None).receive(Frame(BINARY, big)) == Message(big)
