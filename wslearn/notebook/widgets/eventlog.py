"""A live view of an EventLog, safe to update from the server's thread."""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import ClassVar

import ipywidgets as widgets

from wslearn.eventlog import EventLog, LogEvent
from wslearn.i18n import _

from .common import RedrawSoon, Views, esc, fitting_label


class EventLogView(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """A table of the last ``rows`` events of ``log``, updated live from any thread.

    ``str(view)`` is the same table as text, one event a line; ``view._repr_html_()`` is a
    static copy of the table (what GitHub and nbviewer show).

    One live view per log: showing a new view of the same log (re-running a cell)
    detaches the previous one, so nothing keeps updating a widget no one sees.
    """

    _live: ClassVar[weakref.WeakValueDictionary[int, EventLogView]] = weakref.WeakValueDictionary()

    def __init__(self, log: EventLog, *, rows: int = 30, refresh_every: float = 0.1) -> None:
        self.event_log = log
        self.rows = rows
        self.refresh_every = refresh_every
        self._events: deque[LogEvent] = deque(log.events()[-rows:], maxlen=rows)
        self._lock = threading.Lock()  # guards _events
        self._drawing = threading.Lock()
        self._redraw = RedrawSoon(self.refresh, refresh_every)
        self._unsubscribe: Callable[[], None] | None = None
        self.table = widgets.HTML()
        self.clear_button = widgets.Button(
            description=_("clear"), tooltip="EventLog.clear()", layout=fitting_label()
        )
        super().__init__([self.clear_button, self.table])
        self.add_class("wslearn-event-log")
        self.clear_button.on_click(lambda _button: self.clear())
        self._replace_previous_view()
        self._unsubscribe = log.subscribe(self._on_event)
        self.refresh()

    def _replace_previous_view(self) -> None:
        previous = EventLogView._live.get(id(self.event_log))
        if previous is not None and previous.event_log is self.event_log:
            previous.detach()
        EventLogView._live[id(self.event_log)] = self

    def _on_event(self, event: LogEvent) -> None:
        """Called by the log in the thread that recorded the event: queue a refresh."""
        with self._lock:
            self._events.append(event)
        self._redraw.soon()

    def refresh(self) -> None:
        """Redraw the table now (safe from any thread)."""
        with self._drawing:  # one redraw at a time, so an older picture never wins
            self._redraw.started()
            self.table.value = self.html()

    def shown(self) -> list[LogEvent]:
        """The events the view holds now (the last ``rows``), oldest first."""
        with self._lock:
            return list(self._events)

    def text(self) -> str:
        return events_text(self.shown(), total=len(self.event_log))

    def html(self) -> str:
        return events_html(self.shown(), total=len(self.event_log))

    def clear(self) -> None:
        """Empty the log and the view."""
        self.event_log.clear()
        with self._lock:
            self._events.clear()
        self.refresh()

    def detach(self) -> None:
        """Stop following the log (the table keeps what it shows)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._redraw.cancel()

    def close(self) -> None:
        self.detach()
        super().close()


def events_text(events: list[LogEvent], *, total: int | None = None) -> str:
    """Events as text, one line each (see :meth:`LogEvent.__str__`)."""
    if not events:
        return "No events yet: connect a client."
    last = _("last {shown} of {total} events").format(shown=len(events), total=total)
    shown = [last] if total and total > len(events) else []
    return "\n".join([*shown, *(str(event) for event in events)])


def events_html(events: list[LogEvent], *, total: int | None = None) -> str:
    """Events as an HTML table. Every text from the wire is escaped: a chat message is never HTML."""
    if not events:
        return "<p><i>No events yet: connect a client.</i></p>"
    head = "".join(
        f"<th style='text-align:left'>{name}</th>"
        for name in ("time", "conn", "dir", "kind", "opcode", "bytes", "masked", "what")
    )
    body = "".join(_event_row(event) for event in events)
    last = _("last {shown} of {total} events").format(shown=len(events), total=total)
    shown = f"<p>{esc(last)}</p>" if total and total > len(events) else ""
    return f"{shown}<table class='wslearn-events'><tr>{head}</tr>{body}</table>"


def _event_row(event: LogEvent) -> str:
    clock = time.strftime("%H:%M:%S", time.localtime(event.time)) + f".{int(event.time % 1 * 1000):03d}"
    masked = "" if event.masked is None else ("yes" if event.masked else "no")
    cells = (
        clock,
        f"#{event.conn_id}",
        "" if event.direction == "-" else event.direction,
        event.kind,
        (event.opcode or "") + (" FIN=0" if event.fin is False else ""),  # a fragment (§5.4)
        event.compression or (str(event.length) if event.kind in ("frame", "handshake", "http") else ""),
        masked,
        event.preview,
    )
    return "<tr>" + "".join(f"<td style='text-align:left'>{esc(cell)}</td>" for cell in cells) + "</tr>"
