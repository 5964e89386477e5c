"""Take a frame apart bit by bit (RFC 6455 §5.2), and watch the length change form.

* :class:`FrameInspector` — paste the hex of a frame (from the event log, a capture, the
  RFC) or pick an example of RFC 6455 §5.7; every bit of the header is a button: click one
  and the bytes are decoded again, as a receiver would read them.
* :class:`LengthSlider` — move a payload length across 125/126 and 65535/65536 and see the
  7-bit length become a 16-bit, then a 64-bit one.

The decoding is :func:`wslearn.explain.explain_frame`'s, which reads bytes the way
:func:`wslearn.frames.parse_frame` does, so what the widgets say is what a receiver does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ipywidgets as widgets

from wslearn.deflate import DeflateParameters
from wslearn.explain import FrameExplanation, explain_frame, explain_frames
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.i18n import _

from .common import RED, Views, esc

#: The masking key of the examples of RFC 6455 §5.7.
_RFC_KEY = bytes.fromhex("37fa213d")

#: Every example of RFC 6455 §5.7, as the bytes on the wire.
RFC_EXAMPLES: dict[str, bytes] = {
    "single-frame unmasked text 'Hello'": bytes.fromhex("81 05 48 65 6c 6c 6f"),
    "single-frame masked text 'Hello'": bytes.fromhex("81 85 37 fa 21 3d 7f 9f 4d 51 58"),
    "fragmented unmasked text 'Hel' + 'lo' (two frames)": bytes.fromhex("01 03 48 65 6c 80 02 6c 6f"),
    "unmasked Ping 'Hello'": bytes.fromhex("89 05 48 65 6c 6c 6f"),
    "masked Pong 'Hello' (answering it)": bytes.fromhex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"),
    "256 bytes of binary, unmasked: 16-bit length": serialize_frame(Frame(Opcode.BINARY, bytes(256))),
    "64 KiB of binary, unmasked: 64-bit length": serialize_frame(Frame(Opcode.BINARY, bytes(65536))),
}

#: The longest header: 2 bytes, an 8-byte length, a 4-byte masking key (§5.2).
MAX_HEADER = 14
#: The lengths where the length changes form (§5.2).
LENGTH_BOUNDARIES = (0, 125, 126, 65535, 65536)


# --- Hex in, hex out ---------------------------------------------------------------------------

# A line of a hexdump: "0000  81 85 37 fa 21 3d 7f 9f  4d 51 58   |..7.!=..MQX|" (the offset
# and the text column are dropped). Only lines with both are read this way.
_HEXDUMP_LINE = re.compile(r"^\s*[0-9a-fA-F]{4,}:?\s+((?:[0-9a-fA-F]{2}\s+)+)\|.*\|\s*$")
_SEPARATORS = re.compile(r"0x|\\x|[\s:,\-]", re.IGNORECASE)


def parse_hex(text: str) -> bytes:
    """Bytes written as hex: ``"81 85 37 fa"``, ``"818537fa"``, ``"0x81,0x85"``, hexdump lines.

    Raises ValueError with what is wrong and where: a character that is not a hex digit, or
    an odd number of digits.
    """
    lines = [_hexdump_bytes(line) for line in text.splitlines()]
    digits = _SEPARATORS.sub("", " ".join(lines))
    if not digits:
        raise ValueError("no hex digits: paste bytes like 81 85 37 fa or 818537fa")
    if "…" in digits or "..." in digits:
        raise ValueError("'…' stands for bytes left out: paste the whole frame, e.g. event.raw.hex(' ')")
    bad = re.search(r"[^0-9a-fA-F]", digits)
    if bad:
        raise ValueError(
            f"{bad.group()!r} is not a hex digit (only 0-9 and a-f; spaces, colons and 0x are ignored)"
        )
    if len(digits) % 2:
        raise ValueError(f"{len(digits)} hex digits: a byte is two digits, so one is missing or extra")
    return bytes.fromhex(digits)


def _hexdump_bytes(line: str) -> str:
    match = _HEXDUMP_LINE.match(line)
    return match.group(1) if match else line


def hex_text(data: bytes) -> str:
    """The hex of ``data``, one space between bytes: what :func:`parse_hex` reads back."""
    return data.hex(" ")


# --- The bits of a header ----------------------------------------------------------------------


@dataclass(frozen=True)
class Bit:
    """One bit of a frame header: where it is (bit 0 = the top bit of byte 0, as in §5.2)."""

    index: int
    value: int
    field: str  # FIN, RSV1, opcode, MASK, Payload len, Extended payload length, Masking-key
    kind: str  # "header", "length" or "mask" (the colours of explain_frame)

    @property
    def byte(self) -> int:
        return self.index // 8

    @property
    def label(self) -> str:
        return f"bit {self.index}: {self.field} = {self.value}"


_BYTE0 = ("FIN", "RSV1", "RSV2", "RSV3", "opcode", "opcode", "opcode", "opcode")
_BYTE1 = ("MASK",) + ("Payload len",) * 7


def header_fields(data: bytes) -> list[tuple[str, str]]:
    """(field, kind) of each header byte at the start of ``data``, as far as they have arrived.

    Bytes 0 and 1 say how long the rest of the header is (§5.2): 2 or 8 bytes of extended
    length when the 7-bit length is 126 or 127, then 4 bytes of masking key when MASK is 1.
    """
    layout = [("", "header")] * 2
    if len(data) >= 2:
        length = data[1] & 0x7F
        extended = 2 if length == 126 else 8 if length == 127 else 0
        layout += [("Extended payload length", "length")] * extended
        layout += [("Masking-key", "mask")] * (4 if data[1] & 0x80 else 0)
    return layout[: len(data)]


def header_bits(data: bytes) -> list[Bit]:
    """The bits of the header at the start of ``data``, as far as its bytes have arrived."""
    bits = []
    for byte, (field, kind) in enumerate(header_fields(data)):
        for offset in range(8):
            name = _BYTE0[offset] if byte == 0 else _BYTE1[offset] if byte == 1 else field
            bits.append(Bit(8 * byte + offset, (data[byte] >> (7 - offset)) & 1, name, kind))
    return bits


def flip_bit(data: bytes, index: int) -> bytes:
    """``data`` with bit ``index`` inverted (bit 0 is the most significant bit of byte 0)."""
    byte, offset = divmod(index, 8)
    if not 0 <= byte < len(data):
        raise IndexError(f"bit {index} is outside the {len(data)} bytes")
    changed = bytearray(data)
    changed[byte] ^= 0x80 >> offset
    return bytes(changed)


def frame_offsets(data: bytes) -> list[tuple[int, FrameExplanation]]:
    """Where each frame in ``data`` starts, with its explanation (at least one entry)."""
    offsets = []
    offset = 0
    for explanation in explain_frames(data):
        offsets.append((offset, explanation))
        offset += explanation.size or 0
    return offsets or [(0, explain_frame(data))]


_COLOURS = {"header": "#dbeafe", "length": "#fef3c7", "mask": "#fce7f3"}
_SET_COLOURS = {"header": "#93c5fd", "length": "#fcd34d", "mask": "#f9a8d4"}  # a bit that is 1


def _caption(bits: list[Bit]) -> str:
    """What a row of the grid holds: ``bits 0–15: FIN, RSV1, RSV2, RSV3, opcode, MASK, Payload len``."""
    if not bits:
        return ""
    fields = ", ".join(dict.fromkeys(bit.field for bit in bits))
    return f"<small>bits {bits[0].index}–{bits[-1].index}: {esc(fields)}</small>"


def bits_text(bits: list[Bit]) -> str:
    """The header bits, one line per byte: ``byte 0  1000 0001  FIN RSV1 RSV2 RSV3 opcode``."""
    lines = []
    for byte in sorted({bit.byte for bit in bits}):
        row = [bit for bit in bits if bit.byte == byte]
        value = "".join(str(bit.value) for bit in row)
        fields = " ".join(dict.fromkeys(bit.field for bit in row))
        lines.append(f"byte {byte:<2} {value[:4]} {value[4:]}  {fields}")
    return "\n".join(lines)


def bits_html(bits: list[Bit]) -> str:
    """The header bits as a static table, 16 bits a row, coloured like explain_frame's fields."""
    rows = []
    for first in range(0, len(bits), 16):
        cells = "".join(
            f"<td title='{esc(bit.label)}' style='background:{_COLOURS[bit.kind]};color:#000;"
            f"border:1px solid #999;padding:1px 5px;text-align:center'>{bit.value}</td>"
            for bit in bits[first : first + 16]
        )
        rows.append(f"<tr><th style='padding-right:6px'>{first}</th>{cells}</tr>")
    return f"<table class='wslearn-bits' style='border-collapse:collapse'>{''.join(rows)}</table>"


# --- The inspector -----------------------------------------------------------------------------

_CHOOSE = "— an example of RFC 6455 §5.7 —"


class FrameInspector(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """The bytes of one or more frames, decoded; each header bit a button that flips it.

    ``FrameInspector(data)`` takes bytes or hex text. A bad hex string is refused with a
    red line that says why, and the last good bytes stay on show. Flipping a bit changes the
    bytes and nothing else: set MASK on an unmasked frame and the receiver takes the first
    four payload bytes as the masking key, because nothing else tells it where the key is.

    ``deflate``: the permessage-deflate a connection agreed (RFC 7692). RSV1 is then allowed,
    and a compressed message's payload is shown decompressed too (a fresh receiver's view).
    """

    def __init__(
        self,
        data: bytes | str = RFC_EXAMPLES["single-frame masked text 'Hello'"],
        *,
        deflate: DeflateParameters | None = None,
    ) -> None:
        self.deflate = deflate
        self.data = b""
        self.error = ""
        self.hex = widgets.Textarea(
            description=_("hex"),
            placeholder="81 85 37 fa 21 3d 7f 9f 4d 51 58  (or 818537fa…)",
            layout=widgets.Layout(width="48em", height="4.5em"),
        )
        self.preset = widgets.Dropdown(
            options=[(_CHOOSE, "")] + [(name, name) for name in RFC_EXAMPLES],
            value="",
            description=_("example"),
            layout=widgets.Layout(width="34em"),
        )
        self.frame_choice = widgets.Dropdown(description=_("frame"), layout=widgets.Layout(width="48em"))
        self.message = widgets.HTML()
        self.buttons = [self._bit_button(index) for index in range(8 * MAX_HEADER)]
        self.captions = [
            widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px")) for _number in range(MAX_HEADER // 2)
        ]
        self.rows = [
            widgets.HBox(
                [
                    widgets.HBox(self.buttons[16 * row : 16 * row + 8]),
                    widgets.HBox(
                        self.buttons[16 * row + 8 : 16 * row + 16], layout=widgets.Layout(margin="0 0 0 10px")
                    ),
                    self.captions[row],
                ]
            )
            for row in range(MAX_HEADER // 2)
        ]
        self.grid = widgets.VBox(self.rows)
        self.explanation = widgets.HTML()
        super().__init__(
            [self.preset, self.hex, self.message, self.frame_choice, self.grid, self.explanation]
        )
        self.add_class("wslearn-frame-inspector")
        self._offset = 0
        self._drawing = False
        self.hex.observe(lambda change: self._on_hex(str(change["new"])), names="value")
        self.preset.observe(lambda change: self._on_preset(str(change["new"])), names="value")
        self.frame_choice.observe(lambda change: self._on_frame_choice(change["new"]), names="value")
        self.load(data)

    def _bit_button(self, index: int) -> widgets.Button:
        button = widgets.Button(layout=widgets.Layout(width="2.4em", height="2em", padding="0", margin="1px"))
        button.on_click(lambda _button: self.flip(8 * self._offset + index))
        return button

    # --- what a student does ---------------------------------------------------------------

    def load(self, data: bytes | str) -> None:
        """Show these bytes (or this hex text): the hex box, the bit grid, the explanation."""
        text = data if isinstance(data, str) else hex_text(data)
        if self.hex.value == text:
            self._on_hex(text)
        else:
            self.hex.value = text  # observe() decodes it

    def flip(self, index: int) -> None:
        """Invert bit ``index`` of the data (counted from the start of all the bytes) and decode again."""
        self.load(flip_bit(self.data, index))

    @property
    def explanations(self) -> list[tuple[int, FrameExplanation]]:
        return frame_offsets(self.data)

    @property
    def current(self) -> FrameExplanation:
        """The explanation of the frame on show."""
        return explain_frame(self.data[self._offset :], deflate=self.deflate)

    # --- reacting to the controls ------------------------------------------------------------

    def _on_hex(self, text: str) -> None:
        try:
            data = parse_hex(text)
        except ValueError as error:
            self.error = str(error)
            kept = f" Still showing the last good bytes ({len(self.data)})." if self.data else ""
            self.message.value = f"<p style='color:{RED}'>✘ {esc(error)}.{esc(kept)}</p>"
            return
        self.error = ""
        self.message.value = ""
        if self.preset.value and RFC_EXAMPLES[self.preset.value] != data:
            self.preset.value = ""  # the bytes are no longer the example's
        if data != self.data:
            self.data = data
            self._offset = self._offset if any(o == self._offset for o, _e in self.explanations) else 0
        self._draw()

    def _on_preset(self, name: str) -> None:
        if name:
            self._offset = 0
            self.load(RFC_EXAMPLES[name])

    def _on_frame_choice(self, offset: object) -> None:
        if not self._drawing and isinstance(offset, int) and offset != self._offset:
            self._offset = offset
            self._draw()

    def _draw(self) -> None:
        self._drawing = True
        try:
            frames = self.explanations
            self.frame_choice.options = [
                (f"frame {n} (from byte {offset}): {explanation.headline[:90]}", offset)
                for n, (offset, explanation) in enumerate(frames, 1)
            ]
            self.frame_choice.value = self._offset
            self.frame_choice.layout.display = None if len(frames) > 1 else "none"
            bits = {bit.index: bit for bit in header_bits(self.data[self._offset :])}
            for index, button in enumerate(self.buttons):
                bit = bits.get(index)
                if bit is None:
                    button.layout.display = "none"
                    continue
                button.layout.display = None
                button.description = str(bit.value)
                button.tooltip = bit.label
                button.style.button_color = (_SET_COLOURS if bit.value else _COLOURS)[bit.kind]
                button.style.font_weight = "bold" if bit.value else "normal"
            for row, caption in enumerate(self.captions):
                in_row = [bits[i] for i in range(16 * row, 16 * row + 16) if i in bits]
                self.rows[row].layout.display = None if in_row else "none"
                caption.value = _caption(in_row)
            self.explanation.value = self.current._repr_html_()
        finally:
            self._drawing = False

    # --- the two views --------------------------------------------------------------------------

    def _summary(self) -> str:
        frames = len(self.explanations)
        which = f"frame {1 + [o for o, _e in self.explanations].index(self._offset)} of {frames}"
        return f"{len(self.data)} bytes, {which}"

    def text(self) -> str:
        lines = [f"FrameInspector: {self._summary()}"]
        if self.error:
            lines.append(f"✘ {self.error}")
        lines += [bits_text(header_bits(self.data[self._offset :])), str(self.current)]
        return "\n".join(lines)

    def html(self) -> str:
        return (
            f"<div class='wslearn-frame-inspector'><p>FrameInspector: {esc(self._summary())}</p>"
            f"{self.message.value}{bits_html(header_bits(self.data[self._offset :]))}"
            f"{self.current._repr_html_()}</div>"
        )


# --- Three ways to write a length (§5.2) ----------------------------------------------------------


@dataclass(frozen=True)
class LengthForm:
    """How a payload length is written in a frame header."""

    length: int
    header: bytes  # the header of an unmasked frame of that length (as a server sends it)

    @property
    def payload_len(self) -> int:
        """The 7-bit field: the length itself, or 126 / 127."""
        return self.header[1] & 0x7F

    @property
    def extended(self) -> bytes:
        """The extended payload length: 0, 2 or 8 bytes."""
        return self.header[2:]

    @property
    def form(self) -> str:
        return {0: "7-bit", 2: "16-bit", 8: "64-bit"}[len(self.extended)]

    @property
    def server_header(self) -> int:
        return len(self.header)

    @property
    def client_header(self) -> int:
        """A client adds its 4-byte masking key (§5.3)."""
        return len(self.header) + 4


def length_form(length: int) -> LengthForm:
    """The length as :func:`wslearn.frames.serialize_frame` writes it."""
    wire = serialize_frame(Frame(Opcode.BINARY, bytes(length)))
    return LengthForm(length, wire[: len(wire) - length])


def length_table_text(forms: list[LengthForm]) -> str:
    lines = ["payload  form    7-bit field  extended length           header: server  client"]
    for f in forms:
        ext = f.extended.hex(" ") or "—"
        lines.append(
            f"{f.length:<8} {f.form:<7} {f.payload_len:<12} {ext:<25} {f.server_header:<15} {f.client_header}"
        )
    return "\n".join(lines)


def length_table_html(forms: list[LengthForm], *, highlight: int | None = None) -> str:
    head = "".join(
        f"<th style='border:1px solid #ccc;padding:2px 6px'>{name}</th>"
        for name in (
            "payload bytes",
            "form",
            "7-bit field",
            "extended length",
            "header (server)",
            "header (client)",
        )
    )
    rows = []
    for f in forms:
        style = "background:#fef3c7;color:#000;font-weight:bold" if f.length == highlight else ""
        cells = (
            f.length,
            f.form,
            f"{f.payload_len} = {f.payload_len:07b}",
            f.extended.hex(" ") or "—",
            f"{f.server_header} bytes",
            f"{f.client_header} bytes",
        )
        tds = "".join(f"<td style='border:1px solid #ccc;padding:2px 6px'>{esc(c)}</td>" for c in cells)
        rows.append(f"<tr style='{style}'>{tds}</tr>")
    table = "<table class='wslearn-lengths' style='border-collapse:collapse'>"
    return f"{table}<tr>{head}</tr>{''.join(rows)}</table>"


class LengthSlider(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """A payload length on a slider, with buttons for the lengths where its form changes."""

    def __init__(self, length: int = 125, *, maximum: int = 70_000) -> None:
        self.slider = widgets.IntSlider(
            value=length,
            min=0,
            max=maximum,
            description=_("payload"),
            continuous_update=True,
            layout=widgets.Layout(width="40em"),
        )
        self.jumps = [
            widgets.Button(description=str(n), layout=widgets.Layout(width="6em")) for n in LENGTH_BOUNDARIES
        ]
        for button, n in zip(self.jumps, LENGTH_BOUNDARIES, strict=True):
            button.on_click(lambda _button, n=n: setattr(self.slider, "value", n))
        self.table = widgets.HTML()
        super().__init__([self.slider, widgets.HBox([widgets.Label("jump to"), *self.jumps]), self.table])
        self.add_class("wslearn-length-slider")
        self.slider.observe(lambda _change: self._draw(), names="value")
        self._draw()

    @property
    def form(self) -> LengthForm:
        return length_form(self.slider.value)

    def _forms(self) -> list[LengthForm]:
        lengths = sorted({*LENGTH_BOUNDARIES, self.slider.value})
        return [length_form(n) for n in lengths]

    def _draw(self) -> None:
        self.table.value = self.html()

    def _sentence(self) -> str:
        f = self.form
        ext = (
            f" and the length follows in {len(f.extended)} bytes: {f.extended.hex(' ')}" if f.extended else ""
        )
        return (
            f"{f.length} bytes: the 7-bit field says {f.payload_len}{ext}. A server's header is"
            f" {f.server_header} bytes, a client's {f.client_header} (with the masking key)."
        )

    def text(self) -> str:
        return f"{self._sentence()}\n{length_table_text(self._forms())}"

    def html(self) -> str:
        return (
            f"<p>{esc(self._sentence())}</p>{length_table_html(self._forms(), highlight=self.slider.value)}"
        )
