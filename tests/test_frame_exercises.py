"""Chapter 04's exercises against wslearn's own parser: the case tables are right, the reference
agrees with ``parse_frame`` on every shape of frame, and the seeded frames repeat per seed.

(tests/test_exercises.py checks that the reference passes and every typical mistake fails with
its hint; this file checks that the tables themselves tell the truth.)
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wslearn.exercises import check, get
from wslearn.exercises.ch04 import (
    HEADER_KEYS,
    PARSE_HEADER_CASES,
    parse_header,
    random_frame,
    random_header_cases,
    seeded_frames,
)
from wslearn.frames import Frame, Opcode, parse_frame, serialize_frame


def frames() -> st.SearchStrategy[Frame]:
    return st.builds(
        Frame,
        st.sampled_from(list(Opcode)),
        st.one_of(st.binary(max_size=130), st.binary(min_size=65530, max_size=65540)),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.none() | st.binary(min_size=4, max_size=4),
    )


def agrees_with_parse_frame(data: bytes, header: dict[str, object]) -> None:
    """The header says what wslearn's parser (with its checks skipped) finds in the same bytes."""
    parsed = parse_frame(data)
    assert parsed is not None
    frame, size = parsed
    assert header == {
        "fin": frame.fin,
        "rsv1": frame.rsv1,
        "rsv2": frame.rsv2,
        "rsv3": frame.rsv3,
        "opcode": int(frame.opcode),
        "masked": frame.masking_key is not None,
        "payload_length": len(frame.payload),
        "masking_key": frame.masking_key,
        "header_length": size - len(frame.payload),
    }


@settings(max_examples=60, deadline=None)
@given(frames())
def test_the_reference_agrees_with_parse_frame(frame: Frame) -> None:
    # Control frames of more than 125 bytes are refused by parse_frame; parse_header only decodes.
    data = serialize_frame(frame)
    header = parse_header(data)
    assert header is not None
    if not (frame.opcode.is_control and (len(frame.payload) > 125 or not frame.fin)):
        agrees_with_parse_frame(data, header)
    for cut in range(header["header_length"]):
        assert parse_header(data[:cut]) is None, f"{cut} bytes are not a whole header"
    assert parse_header(data[: header["header_length"]]) == header  # the payload is not needed


def test_every_case_with_a_valid_frame_agrees_with_parse_frame() -> None:
    checked = 0
    for case in PARSE_HEADER_CASES:
        data = case.args[0]
        if case.expected is None:
            assert parse_frame(data) is None, case.label  # wslearn's parser also needs more bytes
            continue
        if case.expected["opcode"] in [int(op) for op in Opcode] and not case.expected["rsv1"]:
            header_length = case.expected["header_length"]
            full = data + bytes(header_length + case.expected["payload_length"] - len(data))
            agrees_with_parse_frame(full, case.expected)
            checked += 1
    decoded = [case for case in PARSE_HEADER_CASES if case.expected is not None]
    assert checked == len(decoded) - 2  # all but the RSV1 and the reserved-opcode cases


def test_the_table_covers_what_the_course_promises() -> None:
    labels = " ".join(case.label for case in PARSE_HEADER_CASES)
    for example in ("81 05", "81 85", "01 03", "80 02", "89 05", "8a 85", "82 7e 01 00", "82 7f"):
        assert example in labels, example
    lengths = {case.expected["payload_length"] for case in PARSE_HEADER_CASES if case.expected}
    assert {125, 126, 127, 65535, 65536} <= lengths
    cut_at = {len(case.args[0]) for case in PARSE_HEADER_CASES if case.expected is None}
    assert {0, 1, 2, 3, 5, 7, 9, 13} <= cut_at  # inside every field of the header
    for case in PARSE_HEADER_CASES:
        assert case.expected is None or set(case.expected) == set(HEADER_KEYS)


def test_random_cases_repeat_per_seed_and_differ_between_seeds() -> None:
    def labels(seed: int) -> list[str]:
        return [case.label for case in random_header_cases(random.Random(seed), 6)]

    assert labels(7) == labels(7)
    assert labels(7) != labels(8)
    shapes = {len(serialize_frame(random_frame(random.Random(seed)))) > 65536 for seed in range(40)}
    assert shapes == {True, False}


def test_seeded_frames_repeat_per_seed() -> None:
    assert seeded_frames(3) == seeded_frames(3)
    assert seeded_frames(3) != seeded_frames(4)
    assert len(seeded_frames(3)) == 5


def read_by_parse_frame(seed: int) -> list[dict[str, object]]:
    answers = []
    for data in seeded_frames(seed):
        parsed = parse_frame(data)
        assert parsed is not None
        frame = parsed[0]
        answers.append({"opcode": int(frame.opcode), "length": len(frame.payload), "fin": frame.fin})
    return answers


@pytest.mark.parametrize("seed", [0, 4, 99])
def test_a_student_who_reads_correctly_passes_decode_frames(seed: int) -> None:
    result = check("04.decode_frames", read_by_parse_frame(seed), seed=seed)
    assert result.passed, str(result)


def test_decode_frames_does_not_show_the_answers() -> None:
    answers = read_by_parse_frame(4)
    result = check("04.decode_frames", [], seed=4)
    assert not result.passed
    for answer in answers:
        assert f"'length': {answer['length']}" not in str(result)
    assert "(read it from the bytes)" in str(result)


def test_decode_frames_with_another_seed_fails() -> None:
    assert not check("04.decode_frames", read_by_parse_frame(4), seed=5).passed


def test_parse_header_hints_for_shapes_of_wrong_answers() -> None:
    result = check("04.parse_header", lambda data: {"fin": True}, seed=0)
    assert any("exactly the keys" in hint and "missing: header_length" in hint for hint in result.hints)
    result = check("04.parse_header", lambda data: [1, 2], seed=0)
    assert any("return a dict (or None), not a list" in hint for hint in result.hints)
    result = check("04.parse_header", lambda data: data[5], seed=0)
    assert any(hint.startswith("raised IndexError") for hint in result.hints)


def test_the_exercise_says_its_signature() -> None:
    exercise = get("04.parse_header")
    assert exercise.signature == "parse_header(data: bytes) -> dict | None"
    assert all(key in exercise.explanation for key in HEADER_KEYS)
