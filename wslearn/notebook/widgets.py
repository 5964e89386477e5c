"""Interactive widgets for the lessons. The only module of wslearn that imports ipywidgets.

* :class:`AcceptKeyWidget` — type a ``Sec-WebSocket-Key`` and watch the server compute
  ``Sec-WebSocket-Accept`` from it, one step at a time (RFC 6455 §1.3, §4.2.2).
* :class:`FrameBuilder` — choose an opcode, FIN, a mask and a payload; see the frame's bytes
  explained field by field (RFC 6455 §5.2).
* :class:`EventLogView` — a live table of what a server sees: handshakes, frames, closes.

Threads: widget callbacks run on the kernel's own thread, but a server running in the
background (wslearn's runner) records events from *its* thread. :class:`EventLogView` never
uses ``with output:`` there (that would send the text to whichever cell happens to run);
it assigns a widget value, which ipykernel sends to the browser safely from any thread,
at most ten times a second however many frames arrive.
"""

from __future__ import annotations

import html
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import ClassVar

import ipywidgets as widgets

from wslearn.errors import HandshakeError
from wslearn.eventlog import EventLog, LogEvent
from wslearn.explain import accept_steps_html, explain_frame
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.handshake import (
    AcceptSteps,
    accept_key_steps,
    build_request,
    check_request,
    generate_key,
)

#: The example of RFC 6455 §1.3: this key must give "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
RFC_EXAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


# --- The accept key, step by step (RFC 6455 §1.3, §4.2.2) -------------------------------


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
        check = f"<p style='color:#cf222e'>✘ a server refuses this key: {_esc(verdict)}</p>"
    answer = (
        "<p>The server answers <code>Sec-WebSocket-Accept: "
        f"<span class='wslearn-accept-value'>{_esc(steps.accept)}</span></code></p>"
    )
    return check + accept_steps_html(steps) + answer


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


# --- Build a frame, see its bytes (RFC 6455 §5.2) -----------------------------------------

#: The masking key of the examples of RFC 6455 §5.7.
RFC_EXAMPLE_MASK = "37fa213d"
#: How many bytes the "on the wire" line shows (the explanation below has a hexdump of more).
WIRE_BYTES = 32


class FrameBuilder(widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
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
            description="opcode",
        )
        self.fin = widgets.Checkbox(value=True, description="FIN (last fragment)")
        self.masked = widgets.Checkbox(value=True, description="masked (as a client sends)")
        self.mask = widgets.Text(value=RFC_EXAMPLE_MASK, description="masking key (hex)")
        self.payload = widgets.Textarea(value=payload, description="payload (UTF-8)")
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
        try:
            data = self.data
        except ValueError as error:
            self.explanation.value = f"<p style='color:#cf222e'>{_esc(str(error))}</p>"
            return
        shown = data[:WIRE_BYTES].hex(" ") + (f" … ({len(data)} bytes)" if len(data) > WIRE_BYTES else "")
        wire = f"<p>on the wire: <code class='wslearn-frame-bytes'>{shown}</code></p>"
        self.explanation.value = wire + explain_frame(data)._repr_html_()


def masking_key(text: str) -> bytes:
    """A masking key typed as hex, e.g. "37fa213d" or "37 fa 21 3d": exactly 4 bytes (§5.3)."""
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"the masking key must be hex digits, like 37fa213d; got {text!r}") from None
    if len(key) != 4:
        raise ValueError(f"the masking key is 4 bytes (8 hex digits); got {len(key)} bytes")
    return key


# --- A live view of an EventLog ---------------------------------------------------------


class EventLogView(widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """A table of the last ``rows`` events of ``log``, updated live from any thread.

    One live view per log: showing a new view of the same log (re-running a cell)
    detaches the previous one, so nothing keeps updating a widget no one sees.
    """

    _live: ClassVar[weakref.WeakValueDictionary[int, EventLogView]] = weakref.WeakValueDictionary()

    def __init__(self, log: EventLog, *, rows: int = 30, refresh_every: float = 0.1) -> None:
        self.event_log = log
        self.rows = rows
        self.refresh_every = refresh_every
        self._events: deque[LogEvent] = deque(log.events()[-rows:], maxlen=rows)
        self._lock = threading.Lock()  # guards _events and _timer
        self._drawing = threading.Lock()
        self._timer: threading.Timer | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.table = widgets.HTML()
        self.clear_button = widgets.Button(description="clear", tooltip="EventLog.clear()")
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
            if self._timer is not None:
                return  # a refresh is already on its way and will show this event too
            self._timer = threading.Timer(self.refresh_every, self.refresh)
            self._timer.daemon = True
            self._timer.start()

    def refresh(self) -> None:
        """Redraw the table now (safe from any thread)."""
        with self._drawing:  # one redraw at a time, so an older picture never wins
            with self._lock:
                self._timer = None
                events = list(self._events)
            self.table.value = events_html(events, total=len(self.event_log))

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
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def close(self) -> None:
        self.detach()
        super().close()


def events_html(events: list[LogEvent], *, total: int | None = None) -> str:
    """Events as an HTML table. Every text from the wire is escaped: a chat message is never HTML."""
    if not events:
        return "<p><i>No events yet: connect a client.</i></p>"
    head = "".join(
        f"<th style='text-align:left'>{name}</th>"
        for name in ("time", "conn", "dir", "kind", "opcode", "bytes", "masked", "what")
    )
    body = "".join(_event_row(event) for event in events)
    shown = f"<p>last {len(events)} of {total} events</p>" if total and total > len(events) else ""
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
        str(event.length) if event.kind in ("frame", "handshake", "http") else "",
        masked,
        event.preview,
    )
    return "<tr>" + "".join(f"<td style='text-align:left'>{_esc(cell)}</td>" for cell in cells) + "</tr>"
