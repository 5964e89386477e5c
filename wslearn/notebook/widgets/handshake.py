"""Type an opening handshake, send it over a raw TCP socket, read the raw answer (RFC 6455 §4).

The editor holds the request as text. "send" turns it into bytes (each line end a CR LF,
unless you untick the box to send exactly what you typed) and hands them to
:func:`wslearn.notebook.raw.raw_exchange`; the answer shows as raw bytes, parsed, and with
the rule that decided it. The preset buttons load the seed articles' requests; the "break
it" buttons load a valid request with one thing changed, and send it at once.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from wslearn.http import authority
from wslearn.i18n import _
from wslearn.notebook.raw import (
    BREAKS,
    DEFAULT_TIMEOUT,
    SEED_REQUESTS,
    RawAnswer,
    break_request,
    good_request,
    raw_exchange,
    show_bytes,
    show_bytes_html,
)

from .common import Views, esc, fitting_label

__all__ = ["HandshakeEditor", "request_bytes"]


def request_bytes(text: str, crlf: bool = True) -> bytes:
    """The editor's text as bytes on the wire; with ``crlf`` every line ends in CR LF (RFC 9112 §2.1)."""
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text.encode("utf-8")


def _as_text(data: bytes) -> str:
    """Bytes loaded into the editor: one character per byte, CR LF shown as a plain line end."""
    return data.decode("latin-1").replace("\r\n", "\n")


class HandshakeEditor(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """A raw request editor aimed at ``server`` (anything with ``.host`` and ``.port``)."""

    def __init__(self, server: Any, *, path: str = "/ws", timeout: float = DEFAULT_TIMEOUT) -> None:
        self.server = server
        self.path = path
        self.timeout = timeout
        self.last: RawAnswer | None = None
        self.editor = widgets.Textarea(
            value=_as_text(good_request(self.host_header, path)),
            layout=widgets.Layout(width="100%", height="14em"),
        )
        self.crlf = widgets.Checkbox(value=True, description=_("send each line end as CR LF"), indent=False)
        self.send_button = widgets.Button(
            description=_("send"), button_style="primary", tooltip="raw_exchange()", layout=fitting_label()
        )
        self.presets = {name: self._button(name, "load it, then press send") for name in self._preset_names()}
        self.breaks = {name: self._button(name, BREAKS[name].what) for name in BREAKS}
        self.answer = widgets.HTML()
        super().__init__(
            [
                widgets.HTML("<b>Load a request:</b>"),
                widgets.HBox(list(self.presets.values())),
                widgets.HTML("<b>Break it</b> (one change to a valid request, sent at once):"),
                widgets.HBox(list(self.breaks.values()), layout=widgets.Layout(flex_flow="row wrap")),
                self.editor,
                widgets.HBox([self.send_button, self.crlf]),
                self.answer,
            ]
        )
        self.add_class("wslearn-handshake-editor")
        self.send_button.on_click(lambda _button: self.send())
        for name, button in self.presets.items():
            button.on_click(lambda _button, name=name: self.load(name))
        for name, button in self.breaks.items():
            button.on_click(lambda _button, name=name: self.press(name))

    @staticmethod
    def _preset_names() -> list[str]:
        return ["valid request", *SEED_REQUESTS]

    @staticmethod
    def _button(name: str, tooltip: str) -> widgets.Button:
        return widgets.Button(description=name, tooltip=tooltip, layout=fitting_label())

    @property
    def host_header(self) -> str:
        """What a valid request puts in Host: the server's address."""
        return authority(self.server.host, self.server.port)

    # --- What the buttons do ----------------------------------------------------------------

    def load(self, name: str) -> None:
        """Put a preset ("valid request", "seed 000", ...) or a broken request in the editor."""
        if name == "valid request":
            data = good_request(self.host_header, self.path)
        elif name in SEED_REQUESTS:
            data = SEED_REQUESTS[name]
        elif name in BREAKS:
            data = break_request(name, self.host_header, self.path)
        else:
            known = ", ".join([*self._preset_names(), *BREAKS])
            raise KeyError(f"no request named {name!r}; known: {known}")
        self.crlf.value = True
        self.editor.value = _as_text(data)

    def press(self, name: str) -> RawAnswer:
        """Load ``name`` and send it: what a "break it" button does."""
        self.load(name)
        return self.send()

    def send(self) -> RawAnswer:
        """Send the editor's text to the server and show what came back."""
        data = request_bytes(self.editor.value, self.crlf.value)
        self.last = raw_exchange(self.server.host, self.server.port, data, self.timeout)
        self.answer.value = self.last.html()
        return self.last

    # --- The two static views ---------------------------------------------------------------

    def text(self) -> str:
        sent = (
            self.last.request if self.last is not None else request_bytes(self.editor.value, self.crlf.value)
        )
        lines = [f"HandshakeEditor → {self.host_header}", "", "the request:", show_bytes(sent), ""]
        lines.append(self.last.text() if self.last is not None else "(not sent yet: press send)")
        return "\n".join(lines)

    def html(self) -> str:
        sent = (
            self.last.request if self.last is not None else request_bytes(self.editor.value, self.crlf.value)
        )
        request = f"<pre class='wslearn-raw'>{show_bytes_html(sent)}</pre>"
        answer = self.last.html() if self.last is not None else "<p>(not sent yet: press send)</p>"
        return (
            f"<div class='wslearn-handshake-editor'><p><b>Request to {esc(self.host_header)}</b>"
            f":</p>{request}{answer}</div>"
        )
