"""The accept key, step by step (RFC 6455 §1.3, §4.2.2)."""

from __future__ import annotations

import ipywidgets as widgets

from wslearn.errors import HandshakeError
from wslearn.explain import accept_steps_html
from wslearn.handshake import AcceptSteps, accept_key_steps, build_request, check_request, generate_key

from .common import RFC_EXAMPLE_KEY, esc


class AcceptKeyWidget(widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Type a ``Sec-WebSocket-Key``; see each step that turns it into ``Sec-WebSocket-Accept``."""

    def __init__(self, key: str = RFC_EXAMPLE_KEY) -> None:
        self.key = widgets.Text(
            value=key,
            description="Sec-WebSocket-Key",
            continuous_update=True,
            layout=widgets.Layout(width="34em"),
            style={"description_width": "initial"},
        )
        self.new_key = widgets.Button(description="random key", tooltip="generate_key()")
        self.rfc_key = widgets.Button(description="RFC 6455 example", tooltip="§1.3")
        self.steps = widgets.HTML()
        super().__init__([widgets.HBox([self.key, self.new_key, self.rfc_key]), self.steps])
        self.add_class("wslearn-accept-key")
        self.key.observe(self._on_key, names="value")
        self.new_key.on_click(lambda _button: self._set_key(generate_key()))
        self.rfc_key.on_click(lambda _button: self._set_key(RFC_EXAMPLE_KEY))
        self._show(key)

    @property
    def accept(self) -> str:
        """The ``Sec-WebSocket-Accept`` value for the key currently typed."""
        return accept_key_steps(self.key.value.strip()).accept

    def _set_key(self, key: str) -> None:
        self.key.value = key  # observe() calls _on_key

    def _on_key(self, change: dict[str, object]) -> None:
        self._show(str(change["new"]))

    def _show(self, typed: str) -> None:
        key = typed.strip()  # HTTP drops the spaces around a header value (RFC 9110 §5.5)
        self.steps.value = steps_html(accept_key_steps(key), key_verdict(key))


def key_verdict(key: str) -> str | None:
    """What a wslearn server answers to this key: None when it accepts it, else the reason.

    The check is the server's own (``check_request``), so the widget can never disagree with it.
    """
    try:
        check_request(build_request("127.0.0.1", key=key))
    except HandshakeError as error:
        return f"{error.status}: {error.reason}"
    except ValueError as error:  # a character that cannot appear in a header at all
        return f"400: {error}"
    return None


def steps_html(steps: AcceptSteps, verdict: str | None) -> str:
    """What the widget shows: is the key valid, the four steps, and the header sent back."""
    if verdict is None:
        check = "<p>✔ a valid key: base64 of 16 bytes (RFC 6455 §4.1)</p>"
    else:
        check = f"<p style='color:#cf222e'>✘ a server refuses this key: {esc(verdict)}</p>"
    answer = (
        "<p>The server answers <code>Sec-WebSocket-Accept: "
        f"<span class='wslearn-accept-value'>{esc(steps.accept)}</span></code></p>"
    )
    return check + accept_steps_html(steps) + answer
