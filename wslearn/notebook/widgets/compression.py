"""What each message costs on the wire with permessage-deflate (RFC 7692).

:class:`CompressionLab` sends messages through one sender, as one connection would: type a
message, press *send*, and a row shows its size, its compressed payload and the whole frame
(RSV1 set, RFC 7692 §6). Press *send* again and, with context takeover (§7.1.1), the same
message costs a few bytes; untick it, or make the window smaller (§7.1.2), and the next
sends start afresh. Changing a setting is a new connection: the rows start over.

The compression is :class:`wslearn.deflate.PerMessageDeflate`'s, the demo server's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets

from wslearn.deflate import DeflateParameters, PerMessageDeflate
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.i18n import _

from .common import Views, esc

#: The window sizes an offer may name (RFC 7692 §7.1.2): 2**8 to 2**15 bytes.
WINDOW_BITS = tuple(range(15, 7, -1))
#: How many bytes of a frame the views show in hex.
SHOWN_BYTES = 24
#: The rows kept: the newest ones.
MAX_ROWS = 50
DEFAULT_MESSAGE = '{"type": "chat", "from": "alice", "text": "Is the meeting still at ten?"}'

_CELL = "border:1px solid #ccc;padding:1px 6px;text-align:left;vertical-align:top"


@dataclass(frozen=True)
class Sent:
    """One message as it went out: its size, its compressed payload, the whole frame."""

    number: int
    message: str
    size: int  # bytes of the message (UTF-8)
    frame: bytes  # header and compressed payload, RSV1 set
    payload_length: int  # the compressed payload alone

    @property
    def ratio(self) -> float:
        """The frame's size against the frame the message would make uncompressed."""
        return len(self.frame) / (self.size + header_length(self.size))

    def hex(self) -> str:
        shown = self.frame[:SHOWN_BYTES].hex(" ")
        return shown + (" …" if len(self.frame) > SHOWN_BYTES else "")


def header_length(payload_length: int) -> int:
    """The header of an unmasked frame with this payload: a server's (RFC 6455 §5.2)."""
    if payload_length <= 125:
        return 2
    return 4 if payload_length <= 0xFFFF else 10


class CompressionLab(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Messages through one permessage-deflate sender (a server's), and what each costs."""

    def __init__(
        self, message: str = DEFAULT_MESSAGE, *, window_bits: int = 15, context_takeover: bool = True
    ) -> None:
        if window_bits not in WINDOW_BITS:
            raise ValueError(f"window_bits is 8 to 15 (RFC 7692 §7.1.2), not {window_bits!r}")
        self.message = widgets.Textarea(
            value=message, description=_("message"), layout=widgets.Layout(width="48em", height="4em")
        )
        self.window = widgets.Dropdown(
            options=[(f"2**{bits} = {2**bits} B", bits) for bits in WINDOW_BITS],
            value=window_bits,
            description=_("window"),
        )
        self.takeover = widgets.Checkbox(value=context_takeover, description=_("context takeover"))
        self.send_button = widgets.Button(description=_("send"), button_style="primary")
        self.reset_button = widgets.Button(description=_("new connection"))
        self.table = widgets.HTML()
        self.rows: list[Sent] = []
        self._count = 0
        self._sender = self._new_sender()
        super().__init__(
            [
                self.message,
                widgets.HBox([self.window, self.takeover]),
                widgets.HBox([self.send_button, self.reset_button]),
                self.table,
            ]
        )
        self.add_class("wslearn-compression-lab")
        self.send_button.on_click(lambda _button: self.send())
        self.reset_button.on_click(lambda _button: self.reset())
        self.window.observe(lambda _change: self.reset(), names="value")
        self.takeover.observe(lambda _change: self.reset(), names="value")
        self._draw()

    @property
    def params(self) -> DeflateParameters:
        """What this connection agreed on (RFC 7692 §7.1)."""
        return DeflateParameters(
            server_no_context_takeover=not self.takeover.value, server_max_window_bits=int(self.window.value)
        )

    def _new_sender(self) -> PerMessageDeflate:
        return PerMessageDeflate(self.params, "server")

    # --- what a student does ---------------------------------------------------------------

    def send(self, message: str | None = None) -> Sent:
        """Compress ``message`` (or the text box's) as the next message of the connection."""
        text = self.message.value if message is None else message
        payload, rsv1 = self._sender.encode(text.encode("utf-8"))
        self._count += 1
        frame = serialize_frame(Frame(Opcode.TEXT, payload, rsv1=rsv1))
        sent = Sent(self._count, text, len(text.encode("utf-8")), frame, len(payload))
        self.rows = [*self.rows, sent][-MAX_ROWS:]
        self._draw()
        return sent

    def reset(self) -> None:
        """A new connection with the current settings: a fresh window, no rows."""
        self._sender = self._new_sender()
        self.rows = []
        self._count = 0
        self._draw()

    # --- the views ---------------------------------------------------------------------------

    def _draw(self) -> None:
        self.table.value = self._table_html()

    def _settings(self) -> str:
        takeover = _("context takeover") if self.takeover.value else _("no context takeover")
        return f"2**{self.window.value}, {takeover}"

    def text(self) -> str:
        lines = [f"CompressionLab: {self._settings()}"]
        if not self.rows:
            lines.append(_("nothing sent yet: press send"))
        for row in self.rows:
            line = _("#{number}: {size} B message → {frame} B frame ({ratio:.0%}): {hex}").format(
                number=row.number, size=row.size, frame=len(row.frame), ratio=row.ratio, hex=row.hex()
            )
            lines.append(line)
        return "\n".join(lines)

    def _table_html(self) -> str:
        if not self.rows:
            return f"<p>{esc(_('nothing sent yet: press send'))}</p>"
        heads: tuple[str, ...] = ("#", _("message"), _("message bytes"), _("payload bytes"), _("frame bytes"))
        heads += (_("of uncompressed"), _("the frame (RSV1 set)"))
        header = "".join(f"<th style='{_CELL}'>{esc(head)}</th>" for head in heads)
        body = "".join(
            "<tr>"
            + "".join(
                f"<td style='{_CELL}'>{cell}</td>"
                for cell in (
                    str(row.number),
                    esc(row.message[:60] + ("…" if len(row.message) > 60 else "")),
                    str(row.size),
                    str(row.payload_length),
                    str(len(row.frame)),
                    f"{row.ratio:.0%}",
                    f"<code>{esc(row.hex())}</code>",
                )
            )
            + "</tr>"
            for row in self.rows
        )
        return f"<table style='border-collapse:collapse;font-size:90%'><tr>{header}</tr>{body}</table>"

    def html(self) -> str:
        return (
            f"<div class='wslearn-compression-lab'><p>CompressionLab: {esc(self._settings())}</p>"
            f"{self._table_html()}</div>"
        )
