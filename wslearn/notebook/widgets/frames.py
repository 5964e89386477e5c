"""Build a frame, see its bytes (RFC 6455 §5.2)."""

from __future__ import annotations

import ipywidgets as widgets

from wslearn.explain import explain_frame
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.i18n import _

from .common import RED, Views, esc

#: The masking key of the examples of RFC 6455 §5.7.
RFC_EXAMPLE_MASK = "37fa213d"
#: How many bytes the "on the wire" line shows (the explanation below has a hexdump of more).
WIRE_BYTES = 32


class FrameBuilder(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Choose an opcode, FIN, a masking key and a payload; see the bytes of that frame.

    It starts with the second example of RFC 6455 §5.7: a masked text frame "Hello", bytes
    ``81 85 37 fa 21 3d 7f 9f 4d 51 58``. Nothing is checked when building: build a control
    frame with 126 bytes or a fragmented Ping, and the explanation tells you what a receiver
    does with it.
    """

    def __init__(self, payload: str = "Hello", *, opcode: Opcode = Opcode.TEXT) -> None:
        self.opcode = widgets.Dropdown(
            options=[(f"{op.value:#x} {op.name}", op) for op in Opcode],
            value=opcode,
            description=_("opcode"),
        )
        self.fin = widgets.Checkbox(value=True, description=_("FIN (last fragment)"))
        self.masked = widgets.Checkbox(value=True, description=_("masked (as a client sends)"))
        self.mask = widgets.Text(value=RFC_EXAMPLE_MASK, description=_("masking key (hex)"))
        self.payload = widgets.Textarea(value=payload, description=_("payload (UTF-8)"))
        self.explanation = widgets.HTML()
        controls = widgets.HBox([self.opcode, self.fin, self.masked])
        super().__init__([controls, widgets.HBox([self.payload, self.mask]), self.explanation])
        self.add_class("wslearn-frame-builder")
        for control in (self.opcode, self.fin, self.masked, self.mask, self.payload):
            control.observe(lambda _change: self._show(), names="value")
        self._show()

    @property
    def frame(self) -> Frame:
        """The frame described by the controls (ValueError for a masking key that is not 4 bytes)."""
        return Frame(
            self.opcode.value,
            self.payload.value.encode("utf-8"),
            fin=self.fin.value,
            masking_key=masking_key(self.mask.value) if self.masked.value else None,
        )

    @property
    def data(self) -> bytes:
        """The frame's bytes on the wire."""
        return serialize_frame(self.frame)

    def _show(self) -> None:
        self.mask.disabled = not self.masked.value
        self.explanation.value = self._explanation_html()

    def _wire(self, data: bytes) -> str:
        return data[:WIRE_BYTES].hex(" ") + (f" … ({len(data)} bytes)" if len(data) > WIRE_BYTES else "")

    def _explanation_html(self) -> str:
        try:
            data = self.data
        except ValueError as error:
            return f"<p style='color:{RED}'>{esc(str(error))}</p>"
        wire = f"<p>on the wire: <code class='wslearn-frame-bytes'>{self._wire(data)}</code></p>"
        return wire + explain_frame(data)._repr_html_()

    def text(self) -> str:
        """The frame's bytes and their explanation, field by field (or why it cannot be built)."""
        try:
            data = self.data
        except ValueError as error:
            return f"FrameBuilder: {error}"
        return f"FrameBuilder, on the wire: {self._wire(data)}\n{explain_frame(data)}"

    def html(self) -> str:
        return f"<div class='wslearn-frame-builder'>{self._explanation_html()}</div>"


def masking_key(text: str) -> bytes:
    """A masking key typed as hex, e.g. "37fa213d" or "37 fa 21 3d": exactly 4 bytes (§5.3)."""
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"the masking key must be hex digits, like 37fa213d; got {text!r}") from None
    if len(key) != 4:
        raise ValueError(f"the masking key is 4 bytes (8 hex digits); got {len(key)} bytes")
    return key
