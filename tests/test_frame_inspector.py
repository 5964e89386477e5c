"""The frame widgets of chapter 04: FrameInspector, LengthSlider, FrameBuilder's views.

The widgets are driven as the browser drives them (set ``.value``, ``.click()``); the logic
below them (hex parsing, header bits, length forms) is tested directly.
"""

from __future__ import annotations

import pytest
import rfc6455_vectors as rfc6455

from wslearn.explain import hexdump
from wslearn.frames import Frame, Opcode, parse_frame, serialize_frame
from wslearn.handshake import Request
from wslearn.notebook import SyncClient, start_demo
from wslearn.notebook.widgets import FrameBuilder, FrameInspector, LengthSlider, parse_hex
from wslearn.notebook.widgets.inspector import (
    LENGTH_BOUNDARIES,
    RFC_EXAMPLES,
    flip_bit,
    header_bits,
    length_form,
)

MASKED_HELLO = rfc6455.MASKED_HELLO  # RFC 6455 §5.7


# --- Hex in -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "81 85 37 fa 21 3d 7f 9f 4d 51 58",
        "818537fa213d7f9f4d5158",
        "81 85 37 FA 21 3D\n7f 9f 4d 51 58\n",
        "0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58",
        "81:85:37:fa:21:3d:7f:9f:4d:51:58",
        "\\x81\\x85\\x37\\xfa\\x21\\x3d\\x7f\\x9f\\x4d\\x51\\x58",
        hexdump(MASKED_HELLO),  # "0000  81 85 37 fa 21 3d 7f 9f  4d 51 58   |..7.!=..MQX|"
    ],
)
def test_parse_hex_reads_the_usual_forms(text: str) -> None:
    assert parse_hex(text) == MASKED_HELLO


def test_parse_hex_reads_a_hexdump_of_several_lines() -> None:
    data = serialize_frame(Frame(Opcode.BINARY, bytes(range(40))))
    assert parse_hex(hexdump(data)) == data


def test_a_plain_hex_line_is_never_taken_for_a_hexdump_offset() -> None:
    assert parse_hex("818537fa  ") == bytes.fromhex("818537fa")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("81 8", "3 hex digits: a byte is two digits"),
        ("81 zz", "'z' is not a hex digit"),
        ("81 85 …", "'…' stands for bytes left out"),
        ("81 85 ...", "'…' stands for bytes left out"),
        ("81 85 g0", "'g' is not a hex digit"),
        ("", "no hex digits"),
        ("   ", "no hex digits"),
    ],
)
def test_parse_hex_says_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_hex(text)


# --- The bits of a header --------------------------------------------------------------------------


def test_header_bits_of_the_masked_hello() -> None:
    bits = header_bits(MASKED_HELLO)
    assert len(bits) == 48  # 2 bytes + a 4-byte key
    assert [bit.field for bit in bits[:9]] == ["FIN", "RSV1", "RSV2", "RSV3", *["opcode"] * 4, "MASK"]
    assert {bit.field for bit in bits[16:]} == {"Masking-key"}
    assert "".join(str(bit.value) for bit in bits[:16]) == "1000000110000101"
    assert bits[8].label == "bit 8: MASK = 1"


def test_header_bits_of_a_64_bit_length() -> None:
    bits = header_bits(RFC_EXAMPLES["64 KiB of binary, unmasked: 64-bit length"])
    assert len(bits) == 80
    assert {bit.field for bit in bits[16:]} == {"Extended payload length"}
    assert {bit.kind for bit in bits[16:]} == {"length"}


def test_header_bits_stop_where_the_bytes_stop() -> None:
    assert len(header_bits(MASKED_HELLO[:4])) == 32  # two of the four key bytes
    assert header_bits(b"") == []


def test_flip_bit() -> None:
    assert flip_bit(MASKED_HELLO, 0)[0] == 0x01  # FIN off
    assert flip_bit(MASKED_HELLO, 8)[1] == 0x05  # MASK off
    assert flip_bit(flip_bit(MASKED_HELLO, 13), 13) == MASKED_HELLO
    with pytest.raises(IndexError, match="outside the 11 bytes"):
        flip_bit(MASKED_HELLO, 88)


# --- FrameInspector -------------------------------------------------------------------------------


def shown_bits(inspector: FrameInspector) -> str:
    return "".join(b.description for b in inspector.buttons if b.layout.display != "none")


def test_the_inspector_starts_with_the_masked_hello() -> None:
    inspector = FrameInspector()
    assert inspector.data == MASKED_HELLO
    assert inspector.hex.value == "81 85 37 fa 21 3d 7f 9f 4d 51 58"
    assert shown_bits(inspector).startswith("1000000110000101")
    assert len(shown_bits(inspector)) == 48
    assert "TEXT frame, final, masked, 5-byte payload: &#x27;Hello&#x27;" in inspector.explanation.value


def test_clicking_mask_re_decodes_the_same_bytes() -> None:
    inspector = FrameInspector()
    inspector.buttons[8].click()  # MASK
    assert inspector.data == bytes.fromhex("81 05 37 fa 21 3d 7f 9f 4d 51 58")
    assert inspector.hex.value == "81 05 37 fa 21 3d 7f 9f 4d 51 58"
    assert len(shown_bits(inspector)) == 16  # no masking key any more
    assert inspector.current.frame is not None
    assert inspector.current.frame.payload == bytes.fromhex("37 fa 21 3d 7f")
    assert "then 4 more bytes" in inspector.current.headline  # 11 - 2 - 5


def test_clicking_rsv1_and_an_opcode_bit_shows_the_receivers_verdict() -> None:
    inspector = FrameInspector()
    inspector.buttons[1].click()  # RSV1
    assert "RSV1 is set" in inspector.explanation.value
    assert "1002" in inspector.explanation.value
    inspector.buttons[1].click()
    inspector.buttons[6].click()  # opcode 1 -> 3
    assert inspector.data[0] == 0x83
    assert "opcode 0x3 is reserved" in inspector.explanation.value


@pytest.mark.parametrize("name", list(RFC_EXAMPLES))
def test_every_rfc_example_is_a_preset(name: str) -> None:
    inspector = FrameInspector(b"\x88\x00")
    inspector.preset.value = name
    data = RFC_EXAMPLES[name]
    assert inspector.data == data
    parsed = parse_frame(data)
    assert parsed is not None
    assert inspector.current.frame == parsed[0]


def test_the_rfc_examples_are_the_bytes_of_the_rfc() -> None:
    assert RFC_EXAMPLES["256 bytes of binary, unmasked: 16-bit length"][:4] == bytes.fromhex("82 7e 01 00")
    assert RFC_EXAMPLES["64 KiB of binary, unmasked: 64-bit length"][:10] == bytes.fromhex(
        "82 7f 00 00 00 00 00 01 00 00"
    )
    assert len(RFC_EXAMPLES["64 KiB of binary, unmasked: 64-bit length"]) == 10 + 65536


def test_two_frames_in_one_paste() -> None:
    inspector = FrameInspector()
    inspector.preset.value = "fragmented unmasked text 'Hel' + 'lo' (two frames)"
    assert [value for _, value in inspector.frame_choice.options] == [0, 5]
    assert inspector.frame_choice.layout.display is None
    assert "TEXT frame, not final" in inspector.explanation.value
    inspector.frame_choice.value = 5
    assert "CONTINUATION frame, final" in inspector.explanation.value
    inspector.buttons[0].click()  # FIN of the second frame: byte 5
    assert inspector.data == bytes.fromhex("01 03 48 65 6c 00 02 6c 6f")
    assert inspector.frame_choice.value == 5
    assert "frame 2 of 2" in inspector.text()
    assert inspector.preset.value == ""  # no longer the RFC's example


def test_bad_hex_keeps_the_last_good_bytes() -> None:
    inspector = FrameInspector()
    inspector.hex.value = "81 8"
    assert inspector.data == MASKED_HELLO
    assert "a byte is two digits" in inspector.message.value
    assert "last good bytes (11)" in inspector.message.value
    assert "✘ 3 hex digits" in inspector.text()
    inspector.hex.value = "8105 4865 6c6c 6f"
    assert inspector.message.value == ""
    assert inspector.data == bytes.fromhex("810548656c6c6f")


def test_bad_hex_from_the_start_is_explained_not_raised() -> None:
    inspector = FrameInspector("zz")
    assert inspector.data == b""
    assert "'z' is not a hex digit" in inspector.text()
    assert "&#x27;z&#x27; is not a hex digit" in inspector.html()
    assert "waiting for byte 0" in inspector.html()


def test_an_incomplete_frame_shows_what_has_arrived() -> None:
    inspector = FrameInspector("81 fe 01")
    assert len(shown_bits(inspector)) == 24
    assert "waiting for the extended payload length" in inspector.explanation.value


def test_payload_text_is_escaped_in_the_html_views() -> None:
    attack = serialize_frame(Frame(Opcode.TEXT, b"<script>alert(1)</script>"))
    inspector = FrameInspector(attack)
    for view in (inspector.html(), inspector._repr_html_(), inspector.explanation.value):
        assert "<script>" not in view
        assert "&lt;script&gt;" in view
    assert "'<script>alert(1)</script>'" in str(inspector)


def test_the_text_view_lists_the_header_bits() -> None:
    text = repr(FrameInspector(RFC_EXAMPLES["256 bytes of binary, unmasked: 16-bit length"]))
    assert "byte 0  1000 0010  FIN RSV1 RSV2 RSV3 opcode" in text
    assert "byte 1  0111 1110  MASK Payload len" in text
    assert "byte 2  0000 0001  Extended payload length" in text
    assert "BINARY frame, final, unmasked, 256-byte payload" in text


def test_the_inspector_decodes_a_frame_from_a_real_servers_event_log() -> None:
    server = start_demo("test-frame-inspector")
    try:
        with SyncClient(server.url + "/ws") as ws:
            key = ws.ws.request.headers["Sec-WebSocket-Key"]
            ws.send("inspect me")
            assert ws.recv(timeout=5) == "inspect me"
        events = server.event_log.events()
        handshakes = [e for e in events if e.kind == "handshake" and e.direction == "in"]
        (conn_id,) = [
            e.conn_id for e in handshakes if Request.parse(e.raw)[0].headers["Sec-WebSocket-Key"] == key
        ]
        sent = next(e for e in events if e.conn_id == conn_id and e.kind == "frame" and e.direction == "in")
        inspector = FrameInspector()
        inspector.hex.value = sent.raw.hex(" ")  # pasted from the log
        assert inspector.current.frame is not None
        assert inspector.current.frame.payload == b"inspect me"
        assert inspector.current.frame.masking_key is not None  # a client masks (§5.3)
        assert len(shown_bits(inspector)) == 48
    finally:
        server.stop()


# --- LengthSlider ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "form", "field", "extended"),
    [
        (0, "7-bit", 0, ""),
        (125, "7-bit", 125, ""),
        (126, "16-bit", 126, "00 7e"),
        (65535, "16-bit", 126, "ff ff"),
        (65536, "64-bit", 127, "00 00 00 00 00 01 00 00"),
    ],
)
def test_length_forms_at_the_boundaries(length: int, form: str, field: int, extended: str) -> None:
    f = length_form(length)
    assert (f.form, f.payload_len, f.extended.hex(" ")) == (form, field, extended)
    assert f.client_header == f.server_header + 4
    wire = f.header + bytes(length)
    parsed = parse_frame(wire)
    assert parsed is not None and len(parsed[0].payload) == length


def test_the_slider_jumps_to_the_boundaries() -> None:
    slider = LengthSlider()
    assert [int(button.description) for button in slider.jumps] == list(LENGTH_BOUNDARIES)
    slider.jumps[2].click()  # 126
    assert slider.slider.value == 126
    assert "the 7-bit field says 126 and the length follows in 2 bytes: 00 7e" in slider.text()
    assert "00 7e" in slider.table.value
    slider.slider.value = 70_000
    assert slider.form.form == "64-bit"
    assert "70000" in slider.text()
    assert "a client&#x27;s 14" in slider.html()


# --- FrameBuilder's views ---------------------------------------------------------------------------


def test_frame_builder_has_a_text_and_an_html_view() -> None:
    builder = FrameBuilder()
    assert str(builder) == builder.text() == repr(builder)
    assert builder.text().startswith("FrameBuilder, on the wire: 81 85 37 fa 21 3d 7f 9f 4d 51 58")
    assert "TEXT frame, final, masked, 5-byte payload: 'Hello'" in builder.text()
    assert builder._repr_html_() == builder.html()
    assert "wslearn-frame-builder" in builder.html()


def test_frame_builder_views_escape_the_payload_and_report_a_bad_key() -> None:
    builder = FrameBuilder("<img src=x onerror=alert(1)>")
    assert "<img" not in builder.html()
    assert "&lt;img" in builder.html()
    builder.mask.value = "37fa"
    assert "got 2 bytes" in builder.text()
    assert "got 2 bytes" in builder.html()
