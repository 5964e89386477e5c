"""The accept key, step by step (RFC 6455 §1.3, §4.2.2).

Type a ``Sec-WebSocket-Key``; the widget first asks wslearn's own server check whether the
key is valid (§4.2.1 item 5), then shows the steps of base64(SHA-1(key + GUID)). A server
sends the result only for a valid key: for an invalid one it answers 400 and sends no
accept at all, so the steps are shown as what the formula *would* give.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import ipywidgets as widgets

from wslearn.errors import HandshakeError
from wslearn.handshake import AcceptSteps, accept_key_steps, build_request, check_request, generate_key
from wslearn.i18n import _, pad

from .common import GREEN, RED, RFC_EXAMPLE_KEY, Views, esc, fitting_label

#: Values longer than this are cut ("…") in both views; the full value is in ``widget.steps_of``.
SHOWN_CHARS = 72

_TABLE = "border-collapse:collapse;table-layout:fixed;width:100%;max-width:52em;font-size:90%"
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"
_VALUE = _CELL + ";font-family:monospace;overflow-wrap:anywhere;word-break:break-all"
_WRAP = "overflow-wrap:anywhere;word-break:break-word"


@dataclass(frozen=True)
class Refusal:
    """Why a server refuses a key: the HTTP status and the reason it writes in the body."""

    status: int
    reason: str

    def __str__(self) -> str:
        return f"{self.status}: {self.reason}"

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"


def refusal(key: str) -> Refusal | None:
    """What a wslearn server answers to this key: None when it accepts it, else the refusal.

    The check is the server's own (``check_request``), so the widget can never disagree with it.
    """
    try:
        check_request(build_request("127.0.0.1", key=key))
    except HandshakeError as error:
        return Refusal(error.status, error.reason)
    except ValueError as error:  # a character that cannot appear in a header at all
        return Refusal(400, str(error))
    return None


def key_verdict(key: str) -> str | None:
    """:func:`refusal` as one line, ``"400: why"``; None for a key a server accepts."""
    refused = refusal(key)
    return None if refused is None else str(refused)


def shorten(value: str, limit: int = SHOWN_CHARS) -> str:
    """``value``, or its first ``limit`` characters and how long it really is."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… " + _("({count} characters)").format(count=len(value))


def _shorten_html(value: str, limit: int = SHOWN_CHARS) -> str:
    """:func:`shorten` as HTML: the count of characters never breaks across lines."""
    if len(value) <= limit:
        return esc(value)
    count = esc(_("({count} characters)").format(count=len(value)))
    return f"{esc(value[:limit])}… <span style='white-space:nowrap'>{count}</span>"


def _rows(steps: AcceptSteps) -> list[tuple[str, str, str]]:
    """(step, full value, what it is): the views cut long values each in their own way."""
    return [
        ("1. key", steps.key, _("Sec-WebSocket-Key, sent by the client")),
        ("2. key + GUID", steps.concatenated, _("append the fixed GUID of RFC 6455 §1.3")),
        ("3. SHA-1", steps.sha1_hex, _("20 bytes, shown as 40 hex digits")),
        ("4. base64", steps.accept, _("base64 of those 20 bytes: always 28 characters")),
    ]


def accept_text(steps: AcceptSteps, refused: Refusal | None) -> str:
    """The text view: the verdict on the key, the steps, and what the server sends back."""
    lines = [f"Sec-WebSocket-Key: {shorten(steps.key)}"]
    if refused is None:
        lines.append(_("✔ a valid key: base64 of 16 bytes (RFC 6455 §4.1)"))
    else:
        lines.append(_("✘ a server refuses this key: {reason}").format(reason=shorten(str(refused), 160)))
        answers = _("It answers {status} and sends no Sec-WebSocket-Accept.")
        lines.append("  " + answers.format(status=refused.status_line))
        lines.append(_("What the formula would give (no server sends it):"))
    lines.extend(f"  {pad(step, 14)} {shorten(value)}" for step, value, _why in _rows(steps))
    if refused is None:
        lines.append(_("The server answers Sec-WebSocket-Accept: {accept}").format(accept=steps.accept))
    return "\n".join(lines)


def accept_html(steps: AcceptSteps, refused: Refusal | None) -> str:
    """The HTML view: the same as :func:`accept_text`, long values wrapped and cut."""
    if refused is None:
        verdict = (
            f"<p style='color:{GREEN}'>{esc(_('✔ a valid key: base64 of 16 bytes (RFC 6455 §4.1)'))}</p>"
        )
        title = ""
        accept = f"<span class='wslearn-accept-value'>{esc(steps.accept)}</span>"
        value = f"<code>Sec-WebSocket-Accept: {accept}</code>"
        answer = "<p>" + esc(_("The server answers {header}")).format(header=value) + "</p>"
        value_class = ""  # only the answer line under the table has class wslearn-accept-value
    else:
        refuses = _("✘ a server refuses this key: {reason}").format(reason=shorten(str(refused), 160))
        answers = esc(_("It answers {status} and sends no Sec-WebSocket-Accept.")).format(
            status=f"<b>{esc(refused.status_line)}</b>"
        )
        verdict = f"<p style='color:{RED};{_WRAP}'>{esc(refuses)}<br>{answers}</p>"
        title = f"<p><i>{esc(_('What the formula would give (no server sends it):'))}</i></p>"
        answer = ""
        value_class = "wslearn-formula-value"
    rows = []
    for step, value, why in _rows(steps):
        shown = _shorten_html(value)
        if step.startswith("4.") and value_class:
            shown = f"<span class='{value_class}'>{shown}</span>"
        rows.append(
            f"<tr><td style='{_CELL};width:8em'>{esc(step)}</td><td style='{_VALUE}'>{shown}</td>"
            f"<td style='{_CELL};width:16em'>{esc(why)}</td></tr>"
        )
    table = f"<table class='wslearn-accept' style='{_TABLE}'>{''.join(rows)}</table>"
    return f"<div class='wslearn-accept-steps' style='max-width:100%'>{verdict}{title}{table}{answer}</div>"


def steps_html(steps: AcceptSteps, verdict: str | None) -> str:
    """:func:`accept_html` for a verdict given as :func:`key_verdict` writes it."""
    if verdict is None:
        return accept_html(steps, None)
    status, _colon, reason = verdict.partition(": ")
    return accept_html(steps, Refusal(int(status) if status.isdigit() else 400, reason))


class AcceptKeyWidget(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Type a ``Sec-WebSocket-Key``; see if a server accepts it, and each step of the accept value."""

    def __init__(self, key: str = RFC_EXAMPLE_KEY) -> None:
        self.key = widgets.Text(
            value=key,
            description="Sec-WebSocket-Key",
            continuous_update=True,
            layout=widgets.Layout(width="34em", max_width="100%"),
            style={"description_width": "initial"},
        )
        self.new_key = widgets.Button(
            description=_("random key"), tooltip="generate_key()", layout=fitting_label()
        )
        self.rfc_key = widgets.Button(
            description=_("RFC 6455 example"), tooltip="§1.3", layout=fitting_label()
        )
        self.steps = widgets.HTML(layout=widgets.Layout(max_width="100%"))
        controls = widgets.HBox(
            [self.key, self.new_key, self.rfc_key], layout=widgets.Layout(flex_flow="row wrap")
        )
        super().__init__([controls, self.steps], layout=widgets.Layout(max_width="100%"))
        self.add_class("wslearn-accept-key")
        self.key.observe(self._on_key, names="value")
        self.new_key.on_click(lambda _button: self._set_key(generate_key()))
        self.rfc_key.on_click(lambda _button: self._set_key(RFC_EXAMPLE_KEY))
        self._show()

    @property
    def typed(self) -> str:
        """The key as a server reads it: HTTP drops the spaces around a header value (RFC 9110 §5.5)."""
        return str(self.key.value).strip(" \t")

    @property
    def steps_of(self) -> AcceptSteps:
        """Every step of the formula for the key typed, valid or not."""
        return accept_key_steps(self.typed)

    @property
    def refused(self) -> Refusal | None:
        """Why a server refuses the key typed; None when it accepts it."""
        return refusal(self.typed)

    @property
    def accept(self) -> str | None:
        """The ``Sec-WebSocket-Accept`` a server sends back; None when it refuses the key."""
        return self.steps_of.accept if self.refused is None else None

    def _set_key(self, key: str) -> None:
        self.key.value = key  # observe() calls _on_key

    def _on_key(self, _change: dict[str, object]) -> None:
        self._show()

    def _show(self) -> None:
        self.steps.value = accept_html(self.steps_of, self.refused)

    def text(self) -> str:
        return accept_text(self.steps_of, self.refused)

    def html(self) -> str:
        return str(self.steps.value)
