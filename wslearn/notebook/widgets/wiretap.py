"""WireTapView: the proxy's wire tap as a list to filter and click.

:func:`wslearn.notebook.start_proxy` logs every handshake and frame that crosses it, both
ways, into an :class:`~wslearn.eventlog.EventLog`. This view lists them; the two menus keep
one connection or one opcode, and selecting a row explains it: a frame field by field
(:func:`wslearn.explain.explain_frame`, RFC 6455 §5.2), an HTTP message as it was relayed
(credentials already redacted by the log).

The list follows the log live: the proxy's thread records events, and the view refreshes at
most every ``refresh_every`` seconds by assigning widget values, never by printing.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import ClassVar

import ipywidgets as widgets

from wslearn.eventlog import MAX_RAW, EventLog, LogEvent
from wslearn.explain import explain_frame
from wslearn.i18n import N_, _

from .common import RedrawSoon, Views, esc

__all__ = ["WireTapView", "explain_event", "row_label", "tap_rows"]

ALL = N_("all")
EVERY_CONNECTION = 0  # the connection menu's "all" (connection ids start at 1)
HTTP = "HTTP"  # the opcode menu's entry for handshakes and other HTTP messages
OPCODES = (ALL, HTTP, "TEXT", "BINARY", "CONTINUATION", "CLOSE", "PING", "PONG")
WIRE_KINDS = ("frame", "handshake", "http")


def tap_rows(events: list[LogEvent], conn_id: int = EVERY_CONNECTION, opcode: str = ALL) -> list[LogEvent]:
    """The events on the wire (frames and HTTP messages) of one connection / one opcode."""
    rows = [e for e in events if e.kind in WIRE_KINDS]
    if conn_id != EVERY_CONNECTION:
        rows = [e for e in rows if e.conn_id == conn_id]
    if opcode == HTTP:
        rows = [e for e in rows if e.kind != "frame"]
    elif opcode != ALL:
        rows = [e for e in rows if e.opcode == opcode]
    return rows


def row_label(event: LogEvent) -> str:
    """One line per row: connection, direction (→ to the target, ← to the client), what."""
    arrow = {"in": "→", "out": "←"}.get(event.direction, " ")
    what = event.opcode if event.kind == "frame" else event.kind
    return f"#{event.conn_id} {arrow} {what} {event.length} B  {event.preview}"[:120]


def explain_event(event: LogEvent) -> tuple[str, str]:
    """The explanation of one row: (text, HTML)."""
    if event.kind != "frame":
        raw = event.raw.decode("latin-1")
        return raw, f"<pre class='wslearn-http'>{esc(raw)}</pre>"
    explanation = explain_frame(event.raw)
    cut = ""
    if event.length + 14 > MAX_RAW and len(event.raw) >= MAX_RAW:
        cut = _("(the log kept the first {count} bytes of this frame)").format(count=MAX_RAW)
    return (
        "\n".join(filter(None, [cut, str(explanation)])),
        (f"<p><i>{esc(cut)}</i></p>" if cut else "") + explanation._repr_html_(),
    )


class WireTapView(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """The tap of ``log`` (a proxy's event log): filter, select a row, read its explanation.

    One live view per log: a new view of the same log (a re-run cell) detaches the old one.
    """

    _live: ClassVar[weakref.WeakValueDictionary[int, WireTapView]] = weakref.WeakValueDictionary()

    def __init__(self, log: EventLog, *, refresh_every: float = 0.2, rows: int = 12) -> None:
        self.event_log = log
        self.refresh_every = refresh_every
        self.connection = widgets.Dropdown(
            options=[(_(ALL), EVERY_CONNECTION)], value=EVERY_CONNECTION, description=_("connection")
        )
        self.opcode = widgets.Dropdown(
            options=[(_(op), op) for op in OPCODES], value=ALL, description=_("opcode")
        )
        self.list = widgets.Select(options=[], rows=rows, layout=widgets.Layout(width="100%"))
        self.detail = widgets.HTML()
        self.shown: list[LogEvent] = []
        self._lock = threading.Lock()  # one redraw at a time
        self._redraw = RedrawSoon(self.refresh, refresh_every)
        super().__init__([widgets.HBox([self.connection, self.opcode]), self.list, self.detail])
        self.add_class("wslearn-wiretap")
        self.connection.observe(lambda _change: self.refresh(), "value")
        self.opcode.observe(lambda _change: self.refresh(), "value")
        self.list.observe(self._on_select, "value")
        previous = WireTapView._live.get(id(log))
        if previous is not None and previous.event_log is log:
            previous.detach()
        WireTapView._live[id(log)] = self
        self._unsubscribe: Callable[[], None] | None = log.subscribe(self._on_event)
        self.refresh()

    # --- Following the log -------------------------------------------------------------------

    def _on_event(self, event: LogEvent) -> None:
        """From the proxy's thread: schedule one refresh for a burst of events."""
        self._redraw.soon()

    def refresh(self) -> None:
        """Re-read the log and redraw the list, keeping the selected row (any thread)."""
        with self._lock:
            self._redraw.started()
            events = self.event_log.events()
            connections = sorted({e.conn_id for e in events if e.kind in WIRE_KINDS})
            options = [(_(ALL), EVERY_CONNECTION)] + [(f"#{c}", c) for c in connections]
            if self.connection.options != tuple(options):
                self.connection.options = options  # keeps the value when it is still there
            selected = self.selected
            self.shown = tap_rows(events, self.connection.value, self.opcode.value)
            self.list.options = [(row_label(e), i) for i, e in enumerate(self.shown)]
            if selected is not None and selected in self.shown:  # the same event stays selected
                self.list.value = self.shown.index(selected)

    def select(self, index: int) -> None:
        """Select row ``index`` of the list (what a click does)."""
        self.list.value = index

    def _on_select(self, change: dict[str, object]) -> None:
        index = change["new"]
        if isinstance(index, int) and 0 <= index < len(self.shown):
            self.detail.value = explain_event(self.shown[index])[1]
        else:
            self.detail.value = ""

    def detach(self) -> None:
        """Stop following the log."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._redraw.cancel()

    def close(self) -> None:
        self.detach()
        super().close()

    # --- Views ---------------------------------------------------------------------------------

    @property
    def selected(self) -> LogEvent | None:
        index = self.list.value
        return self.shown[index] if isinstance(index, int) and index < len(self.shown) else None

    def text(self) -> str:
        where = _("connection {connection}, opcode {opcode}").format(
            connection=self.connection.label, opcode=self.opcode.label
        )
        lines = [_("wire tap: {count} rows ({where})").format(count=len(self.shown), where=where)]
        lines += [("▶ " if i == self.list.value else "  ") + row_label(e) for i, e in enumerate(self.shown)]
        if self.selected is not None:
            lines += ["", explain_event(self.selected)[0]]
        return "\n".join(lines)

    def html(self) -> str:
        marked = " style='background:#fff8c5'"
        rows = "".join(
            f"<tr{marked if i == self.list.value else ''}><td>{esc(row_label(e))}</td></tr>"
            for i, e in enumerate(self.shown)
        )
        detail = explain_event(self.selected)[1] if self.selected is not None else ""
        head = f"<p>{esc(_('wire tap: {count} rows').format(count=len(self.shown)))}</p>"
        return f"<div class='wslearn-wiretap'>{head}<table class='wslearn-tap'>{rows}</table>{detail}</div>"
