"""Tests of close codes and Close payloads (RFC 6455 §5.5.1, §7.1.5, §7.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wslearn.errors import ProtocolError
from wslearn.frames import (
    Close,
    CloseCode,
    close_code_range,
    describe_close_code,
    is_valid_close_code,
)

# RFC 6455 §7.4.1 names, and the IANA registry of §11.7 for 1012-1015.
RFC_CODES = {
    "NORMAL_CLOSURE": 1000,
    "GOING_AWAY": 1001,
    "PROTOCOL_ERROR": 1002,
    "UNSUPPORTED_DATA": 1003,
    "NO_STATUS_RCVD": 1005,
    "ABNORMAL_CLOSURE": 1006,
    "INVALID_FRAME_PAYLOAD_DATA": 1007,
    "POLICY_VIOLATION": 1008,
    "MESSAGE_TOO_BIG": 1009,
    "MANDATORY_EXTENSION": 1010,
    "INTERNAL_ERROR": 1011,
    "SERVICE_RESTART": 1012,
    "TRY_AGAIN_LATER": 1013,
    "BAD_GATEWAY": 1014,
    "TLS_HANDSHAKE": 1015,
}

# What an endpoint may put in a Close frame, written out independently of the code:
# the registered codes except 1004 (reserved) and 1005/1006/1015 (§7.4.1: "MUST NOT be set
# as a status code in a Close control frame by an endpoint"), plus 3000-4999 (§7.4.2).
SENDABLE = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
SENDABLE |= set(range(3000, 5000))


def test_close_code_names_and_values() -> None:
    assert {code.name: int(code) for code in CloseCode} == RFC_CODES


def test_every_close_code_has_a_one_line_meaning() -> None:
    meanings = [code.meaning for code in CloseCode]
    for meaning in meanings:
        assert isinstance(meaning, str) and meaning.strip() and "\n" not in meaning
    assert len(set(meanings)) == len(meanings)


def test_is_valid_close_code_near_the_edges() -> None:
    codes = [*range(0, 1100), *range(2990, 3010), *range(3990, 4010), *range(4990, 5010)]
    wrong = [code for code in codes if is_valid_close_code(code) != (code in SENDABLE)]
    assert wrong == []


@pytest.mark.parametrize("code", [-1, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 4999, 5000])
def test_is_valid_close_code_autobahn_cases(code: int) -> None:
    # The Autobahn test suite (cases 7.7 and 7.9) sends these codes in Close frames.
    assert is_valid_close_code(code) == (code in SENDABLE)


@given(st.integers(-(2**20), 2**20))
def test_is_valid_close_code_anywhere(code: int) -> None:
    assert is_valid_close_code(code) == (code in SENDABLE)


# Representative codes of each range of RFC 6455 §7.4.2 (with 1016-2999: the part of
# 1000-2999 that no specification has assigned yet).
RANGES = {
    "0-999": [0, 1, 500, 999],
    "1016-2999": [1016, 1500, 2000, 2999],
    "3000-3999": [3000, 3500, 3999],
    "4000-4999": [4000, 4500, 4999],
}


@pytest.mark.parametrize("name", list(RANGES))
def test_close_code_range_is_the_same_within_a_range(name: str) -> None:
    descriptions = {close_code_range(code) for code in RANGES[name]}
    assert len(descriptions) == 1
    (description,) = descriptions
    assert description.strip() and "\n" not in description


def test_close_code_range_tells_the_ranges_apart() -> None:
    descriptions = [close_code_range(codes[0]) for codes in RANGES.values()]
    descriptions.append(close_code_range(5000))
    assert len(set(descriptions)) == len(descriptions), descriptions


def test_unassigned_codes_1016_to_2999_are_not_described_as_defined() -> None:
    # Issue 2 lists 1016-2999 as a range of its own: reserved by §7.4.2 for future
    # revisions and extensions, but assigned to nothing, so invalid on the wire today.
    # It must read differently from the codes RFC 6455 and IANA actually define.
    assert close_code_range(2000) != close_code_range(1000)


@pytest.mark.parametrize("code", list(CloseCode))
def test_describe_known_code(code: CloseCode) -> None:
    text = describe_close_code(int(code))
    assert text.startswith(f"{int(code)} (") and text.endswith(")")
    assert code.meaning in text


def test_describe_abnormal_closure() -> None:
    assert describe_close_code(1006).startswith("1006 (abnormal closure")


@pytest.mark.parametrize("code", [0, 999, 1004, 2500, 3000, 4321, 5000])
def test_describe_unknown_code_names_its_range(code: int) -> None:
    text = describe_close_code(code)
    assert text.startswith(f"{code} (")
    assert close_code_range(code) in text


# -- Close payloads (RFC 6455 §5.5.1) ---------------------------------------------------------


def test_parse_code_and_reason() -> None:
    assert Close.parse(b"\x03\xe8bye") == Close(1000, "bye")
    assert Close.parse(b"\x03\xe9") == Close(1001, "")
    assert Close.parse(b"\x0f\xa0private") == Close(4000, "private")


def test_parse_empty_payload_is_1005() -> None:
    # RFC 6455 §7.1.5: a Close frame with no status code → the close code is 1005.
    assert Close.parse(b"") == Close(1005, "")


def test_parse_one_byte_payload_is_1002() -> None:
    # RFC 6455 §5.5.1: if there is a body, its first two bytes are the status code.
    with pytest.raises(ProtocolError) as info:
        Close.parse(b"\x03")
    assert info.value.close_code == 1002


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_parse_code_not_allowed_on_the_wire_is_1002(code: int) -> None:
    with pytest.raises(ProtocolError) as info:
        Close.parse(code.to_bytes(2, "big") + b"reason")
    assert info.value.close_code == 1002
    assert str(code) in info.value.reason


@pytest.mark.parametrize("reason", [b"\xff", b"caf\xc3", b"\xed\xa0\x80", b"\xc0\xaf"])
def test_parse_reason_not_utf8_is_1007(reason: bytes) -> None:
    # RFC 6455 §5.5.1 and §8.1: the reason is UTF-8; invalid data fails with 1007.
    with pytest.raises(ProtocolError) as info:
        Close.parse(b"\x03\xe8" + reason)
    assert info.value.close_code == 1007


def test_serialize() -> None:
    assert Close(1000, "bye").serialize() == b"\x03\xe8bye"
    assert Close().serialize() == b"\x03\xe8"
    assert Close(4999, "é").serialize() == b"\x13\x87\xc3\xa9"


@pytest.mark.parametrize("code", [1005, 1006, 1015, 1004, 999, 2000, 5000])
def test_serialize_code_not_allowed_on_the_wire_is_value_error(code: int) -> None:
    with pytest.raises(ValueError):
        Close(code, "").serialize()


def test_serialize_reason_limit_counts_utf8_bytes() -> None:
    # RFC 6455 §5.5: control payloads are at most 125 bytes: 2 for the code, 123 for text.
    assert len(Close(1000, "x" * 123).serialize()) == 125
    assert len(Close(1000, "é" * 61 + "x").serialize()) == 125
    with pytest.raises(ValueError):
        Close(1000, "x" * 124).serialize()
    with pytest.raises(ValueError):
        Close(1000, "é" * 62).serialize()  # 62 characters, 124 bytes


@given(
    code=st.sampled_from(sorted(SENDABLE)),
    reason=st.text(max_size=123).filter(lambda text: len(text.encode("utf-8")) <= 123),
)
def test_close_round_trip(code: int, reason: str) -> None:
    assert Close.parse(Close(code, reason).serialize()) == Close(code, reason)


def test_str_of_close() -> None:
    text = str(Close(1000, "bye"))
    assert text.startswith("1000 (normal closure") and text.endswith("'bye'")
    assert str(Close(1001)).startswith("1001 (going away")


# --- CloseCode at the bottom, with the errors -----------------------------------------


def test_close_code_lives_with_the_errors() -> None:
    import wslearn.errors
    import wslearn.frames

    assert wslearn.errors.CloseCode is wslearn.frames.CloseCode  # one enum, two doors


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x83\x00", CloseCode.PROTOCOL_ERROR),  # a reserved opcode (§5.2)
        (b"\x88\x01\x03", CloseCode.PROTOCOL_ERROR),  # a 1-byte Close payload (§5.5.1)
        (b"\x88\x04\x03\xe8\xff\xfe", CloseCode.INVALID_FRAME_PAYLOAD_DATA),  # a reason not UTF-8
    ],
)
def test_protocol_errors_carry_close_code_members(data: bytes, code: CloseCode) -> None:
    from wslearn.frames import parse_frame

    with pytest.raises(ProtocolError) as caught:
        parsed = parse_frame(data)
        assert parsed is not None
        Close.parse(parsed[0].payload)
    assert caught.value.close_code is code
    assert str(caught.value).startswith(f"{int(code)}: ")


def test_a_protocol_error_given_a_number_still_holds_a_member() -> None:
    assert ProtocolError(1009, "too big").close_code is CloseCode.MESSAGE_TOO_BIG


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ((1006,), "1006 (abnormal closure: no close frame)"),
        ((CloseCode.ABNORMAL_CLOSURE, "", "nobody"), "1006 (abnormal closure: no close frame)"),
        ((1000, "bye", "remote"), "1000 'bye' (closed by the peer)"),
        ((1001, "", "local"), "1001 (closed by us)"),
    ],
)
def test_connection_closed_says_what_happened(args: tuple, text: str) -> None:
    from wslearn.errors import ConnectionClosed

    assert str(ConnectionClosed(*args)) == text
