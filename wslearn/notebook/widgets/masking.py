"""Masking, byte by byte (RFC 6455 §5.3).

"Octet i of the transformed data is the XOR of octet i of the original data with octet at
index i modulo 4 of the masking key." The view lines up the payload, the key repeated under
it, and the XOR of the two, each column coloured by i mod 4 so that the key's period shows.
One more row XORs the masked bytes with the key again: the payload comes back, because the
same operation masks and unmasks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import ipywidgets as widgets

from wslearn.frames import apply_mask
from wslearn.i18n import _, pad

from .common import RED, Views, esc, fitting_label

#: The masking key of the examples of RFC 6455 §5.7.
RFC_MASKING_KEY = bytes.fromhex("37fa213d")
#: How many bytes the views show (the rest is counted, not drawn).
SHOWN_BYTES = 64
#: Bytes per line of the views.
PER_LINE = 16
#: The background of a column, by i mod 4 (the row "i % 4" says it in words too).
COLOURS = ("#ffe8cc", "#d3f9d8", "#d0ebff", "#f3d9fa")

_CELL = "border:1px solid #ccc;padding:1px 4px;font-family:monospace;text-align:center"
_HEAD = "border:1px solid #ccc;padding:1px 6px;text-align:left;white-space:nowrap"


def parse_hex(text: str, *, what: str = "the masking key", size: int | None = 4) -> bytes:
    """Bytes typed as hex ("37fa213d", "37 fa 21 3d"); exactly ``size`` bytes when given."""
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{what} must be hex digits, like 37 fa 21 3d; got {text!r:.60}") from None
    if size is not None and len(data) != size:
        raise ValueError(f"{what} is {size} bytes ({2 * size} hex digits); got {len(data)} bytes (§5.3)")
    return data


def _char(octet: int) -> str:
    """The byte as a character when it is printable ASCII, else a middle dot."""
    return chr(octet) if 0x20 < octet < 0x7F else "·"


@dataclass(frozen=True)
class Masking:
    """A payload, a masking key, and the masked bytes (RFC 6455 §5.3)."""

    payload: bytes
    masking_key: bytes

    def __post_init__(self) -> None:
        if len(self.masking_key) != 4:
            raise ValueError(f"a masking key is 4 bytes, got {len(self.masking_key)} (§5.3)")

    @property
    def masked(self) -> bytes:
        return apply_mask(self.payload, self.masking_key)

    @property
    def repeated_key(self) -> bytes:
        """The key written under the payload: key[i % 4] for every i."""
        return bytes(self.masking_key[i % 4] for i in range(len(self.payload)))

    def rows(self, start: int, stop: int) -> list[tuple[str, list[str]]]:
        """The lines of one block of columns ``start .. stop - 1``: (row name, cells)."""
        masked = self.masked
        span = range(start, stop)
        return [
            ("i", [str(i) for i in span]),
            ("i % 4", [str(i % 4) for i in span]),
            ("payload", [f"{self.payload[i]:02x}" for i in span]),
            ("  as text", [_char(self.payload[i]) for i in span]),
            ("key[i % 4]", [f"{self.masking_key[i % 4]:02x}" for i in span]),
            ("masked (XOR)", [f"{masked[i]:02x}" for i in span]),
            ("masked XOR key", [f"{masked[i] ^ self.masking_key[i % 4]:02x}" for i in span]),
        ]

    def blocks(self, limit: int = SHOWN_BYTES) -> list[tuple[int, int]]:
        """The (start, stop) of each line of columns, up to ``limit`` bytes."""
        shown = min(len(self.payload), limit)
        return [(start, min(start + PER_LINE, shown)) for start in range(0, shown, PER_LINE)]

    def headline(self) -> str:
        key = self.masking_key.hex(" ")
        return (
            f"{len(self.payload)} payload bytes, masking key {key}: "
            "masked[i] = payload[i] XOR key[i % 4] (RFC 6455 §5.3)"
        )

    def hidden(self, limit: int = SHOWN_BYTES) -> int:
        return max(0, len(self.payload) - limit)

    def text(self, limit: int = SHOWN_BYTES) -> str:
        lines = [self.headline()]
        if not self.payload:
            lines.append("(an empty payload: nothing to mask)")
        for start, stop in self.blocks(limit):
            width = max(3, len(str(stop - 1)) + 1)
            lines.append("")
            lines.extend(
                pad(name, 15) + "".join(pad(c, width, ">") for c in cells)
                for name, cells in self.rows(start, stop)
            )
        if self.hidden(limit):
            lines.append(f"… and {self.hidden(limit)} more bytes")
        return "\n".join(lines)

    def html(self, limit: int = SHOWN_BYTES) -> str:
        parts = [f"<p>{esc(self.headline())}</p>"]
        if not self.payload:
            parts.append("<p><i>An empty payload: nothing to mask.</i></p>")
        for start, stop in self.blocks(limit):
            body = []
            for name, cells in self.rows(start, stop):
                tds = "".join(
                    f"<td style='{_CELL};background:{COLOURS[i % 4]}'>{esc(cell)}</td>"
                    for i, cell in zip(range(start, stop), cells, strict=True)
                )
                body.append(f"<tr><th style='{_HEAD}'>{esc(name.strip())}</th>{tds}</tr>")
            parts.append(
                f"<table class='wslearn-masking-table' style='border-collapse:collapse;margin:4px 0'>"
                f"{''.join(body)}</table>"
            )
        if self.hidden(limit):
            parts.append(f"<p>… and {self.hidden(limit)} more bytes</p>")
        return (
            "<div class='wslearn-masking-view' style='max-width:100%;overflow-x:auto'>"
            + "".join(parts)
            + "</div>"
        )


class MaskingView(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Type a payload and a masking key; see each byte masked with key[i % 4] (RFC 6455 §5.3).

    ``payload`` is text (sent as UTF-8) or bytes; bytes that are not UTF-8 are shown, and
    typed, as hex.
    """

    def __init__(self, payload: str | bytes = "Hello", masking_key: bytes = RFC_MASKING_KEY) -> None:
        typed, as_hex = payload, False
        if isinstance(payload, bytes):
            try:
                typed = payload.decode("utf-8")
            except UnicodeDecodeError:
                typed, as_hex = payload.hex(" "), True
        self.payload = widgets.Textarea(
            value=typed, description=_("payload"), layout=widgets.Layout(width="34em", max_width="100%")
        )
        self.payload_format = widgets.ToggleButtons(
            options=[("UTF-8 text", False), ("hex", True)], value=as_hex, description=_("typed as")
        )
        self.key = widgets.Text(value=masking_key.hex(" "), description=_("masking key (hex)"))
        self.key.style.description_width = "initial"
        self.new_key = widgets.Button(
            description=_("random key"), tooltip="os.urandom(4), as a client does", layout=fitting_label()
        )
        self.rfc_key = widgets.Button(
            description=_("RFC 6455 §5.7 key"), tooltip="37 fa 21 3d", layout=fitting_label()
        )
        self.view = widgets.HTML(layout=widgets.Layout(max_width="100%"))
        keys = widgets.HBox(
            [self.key, self.new_key, self.rfc_key], layout=widgets.Layout(flex_flow="row wrap")
        )
        super().__init__([self.payload, self.payload_format, keys, self.view])
        self.add_class("wslearn-masking")
        for control in (self.payload, self.payload_format, self.key):
            control.observe(lambda _change: self._show(), names="value")
        self.new_key.on_click(lambda _button: self._set_key(os.urandom(4)))
        self.rfc_key.on_click(lambda _button: self._set_key(RFC_MASKING_KEY))
        self._show()

    @property
    def masking(self) -> Masking:
        """What the controls say (ValueError for a key that is not 4 bytes of hex, or bad hex)."""
        if self.payload_format.value:
            payload = parse_hex(self.payload.value, what="the payload", size=None)
        else:
            payload = str(self.payload.value).encode("utf-8")
        return Masking(payload, parse_hex(self.key.value))

    @property
    def masked(self) -> bytes:
        """The masked payload, as it travels on the wire."""
        return self.masking.masked

    def _set_key(self, key: bytes) -> None:
        self.key.value = key.hex(" ")  # observe() redraws

    def _show(self) -> None:
        self.view.value = self.html()

    def _masking_or_problem(self) -> Masking | str:
        try:
            return self.masking
        except ValueError as error:
            return str(error)

    def text(self) -> str:
        masking = self._masking_or_problem()
        return f"✘ {masking}" if isinstance(masking, str) else masking.text()

    def html(self) -> str:
        masking = self._masking_or_problem()
        if isinstance(masking, str):
            return f"<p style='color:{RED}'>✘ {esc(masking)}</p>"
        return masking.html()
