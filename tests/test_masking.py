"""Chapter 05: the masking view (pure logic and widget) and the apply_mask exercise, checked
against wslearn's maskers and the websockets library's C masker."""

from __future__ import annotations

import random
import re

import pytest
import rfc6455_vectors as rfc6455
from websockets.speedups import apply_mask as websockets_apply_mask

from wslearn.exercises import check
from wslearn.exercises.ch05 import DISTINCT_KEY, RFC_KEY, apply_mask, random_mask_cases
from wslearn.frames import apply_mask as wslearn_apply_mask
from wslearn.frames import apply_mask_loop
from wslearn.notebook.widgets import Masking, MaskingView
from wslearn.notebook.widgets.masking import COLOURS, parse_hex

RFC_MASKED = rfc6455.MASKED_HELLO_PAYLOAD  # RFC 6455 §5.7

# --- The exercise ------------------------------------------------------------------------------


def test_the_reference_agrees_with_three_other_maskers() -> None:
    rng = random.Random(6455)
    for size in [*range(10), 125, 126, 127, 1000]:
        payload, key = rng.randbytes(size), rng.randbytes(4)
        expected = websockets_apply_mask(payload, key)
        assert apply_mask(payload, key) == expected == wslearn_apply_mask(payload, key)
        assert apply_mask_loop(payload, key) == expected


def test_the_rfc_example() -> None:
    assert apply_mask(b"Hello", RFC_KEY) == RFC_MASKED
    assert apply_mask(RFC_MASKED, RFC_KEY) == b"Hello"


def test_random_cases_are_repeatable_and_differ_per_seed() -> None:
    first = [case.args for case in random_mask_cases(random.Random(1), 5)]
    assert first == [case.args for case in random_mask_cases(random.Random(1), 5)]
    assert first != [case.args for case in random_mask_cases(random.Random(2), 5)]


def test_an_index_error_is_one_readable_line() -> None:
    result = check(
        "05.apply_mask", lambda payload, key: bytes(b ^ key[i] for i, b in enumerate(payload)), seed=0
    )
    assert not result.passed
    assert any(hint.startswith("raised IndexError") for hint in result.hints)


def test_the_student_stub_fails_without_raising() -> None:
    result = check("05.apply_mask", lambda payload, key: None, seed=0)
    assert not result.passed
    assert "returned None" in result.hints[0]


# --- The pure view -----------------------------------------------------------------------------


def test_masking_lines_up_payload_key_and_xor() -> None:
    masking = Masking(b"Hello", RFC_KEY)
    assert masking.masked == RFC_MASKED
    assert masking.repeated_key == bytes.fromhex("37fa213d37")
    rows = dict(masking.rows(0, 5))
    assert rows["i % 4"] == ["0", "1", "2", "3", "0"]
    assert rows["masked (XOR)"] == ["7f", "9f", "4d", "51", "58"]
    assert rows["masked XOR key"] == ["48", "65", "6c", "6c", "6f"]  # unmasking gives the payload back
    assert "7f 9f 4d 51 58" in masking.text()


def test_columns_are_coloured_by_i_mod_4() -> None:
    page = Masking(bytes(9), DISTINCT_KEY).html()
    first_row = page.split("</tr>")[0]
    colours = re.findall(r"background:(#[0-9a-f]{6})", first_row)
    assert colours == [COLOURS[i % 4] for i in range(9)]
    assert len(set(COLOURS)) == 4


def test_a_long_payload_is_cut_and_counted() -> None:
    masking = Masking(b"x" * 70, DISTINCT_KEY)
    assert masking.blocks() == [(0, 16), (16, 32), (32, 48), (48, 64)]
    assert "… and 6 more bytes" in masking.text()
    assert "… and 6 more bytes" in masking.html()


def test_an_empty_payload() -> None:
    masking = Masking(b"", RFC_KEY)
    assert masking.masked == b""
    assert "nothing to mask" in masking.text()
    assert "<table" not in masking.html()


def test_a_key_must_be_four_bytes() -> None:
    with pytest.raises(ValueError, match="4 bytes"):
        Masking(b"x", b"abc")
    assert parse_hex("37 fa 21 3d") == RFC_KEY
    with pytest.raises(ValueError, match="hex digits"):
        parse_hex("xyz")
    with pytest.raises(ValueError, match="got 3 bytes"):
        parse_hex("37fa21")


def test_the_payload_is_escaped() -> None:
    page = Masking(b"<b>&", RFC_KEY).html()
    assert "<b>" not in page
    assert "&lt;" in page and "&amp;" in page


# --- The widget --------------------------------------------------------------------------------


def test_the_widget_starts_with_the_rfc_example() -> None:
    widget = MaskingView()
    assert widget.masked == RFC_MASKED
    assert str(widget) == repr(widget) == widget.text()
    assert widget._repr_html_() == widget.html() == widget.view.value
    assert "wslearn-masking" in widget._dom_classes


def test_typing_and_clicking_update_the_view() -> None:
    widget = MaskingView()
    widget.payload.value = "Hello, WebSocket!"  # what the browser does on each keystroke
    assert widget.masked == wslearn_apply_mask(b"Hello, WebSocket!", RFC_KEY)
    widget.new_key.click()
    key = parse_hex(widget.key.value)
    assert widget.masked == wslearn_apply_mask(b"Hello, WebSocket!", key)
    assert widget.masked.hex()[:2] in widget.view.value
    widget.rfc_key.click()
    assert widget.key.value == "37 fa 21 3d"


def test_a_bad_key_is_explained_not_raised() -> None:
    widget = MaskingView()
    widget.key.value = "37 fa"
    assert widget.text().startswith("✘ the masking key is 4 bytes")
    assert "<table" not in widget.view.value
    widget.key.value = "37 fa 21 3d"
    assert "<table" in widget.view.value


def test_bytes_that_are_not_utf8_are_typed_as_hex() -> None:
    widget = MaskingView(b"\xff\x00\x10", RFC_KEY)
    assert widget.payload_format.value is True
    assert widget.payload.value == "ff 00 10"
    assert widget.masked == wslearn_apply_mask(b"\xff\x00\x10", RFC_KEY)
    widget.payload.value = "zz"
    assert "the payload must be hex digits" in widget.text()
