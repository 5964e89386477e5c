"""What every widget shares: escaping untrusted text, the colours of a verdict, and one way
to redraw soon from any thread."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

#: The example of RFC 6455 §1.3: this key must give "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
RFC_EXAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
#: The colour of a refusal or a failed check.
RED = "#cf222e"
#: The colour of a passed check.
GREEN = "#1a7f37"


def esc(text: object) -> str:
    """``text`` made safe to put inside HTML: everything from the wire or a student is untrusted."""
    return html.escape(str(text), quote=True)


def fitting_label() -> Any:
    """A button layout as wide as its label, so a translated label ("发送帧") is never cut to "发…".

    ipywidgets draws a button 148 px wide and lets a crowded row shrink it; either way a label
    that does not fit ends in "…". This one neither shrinks nor stops short of its label.
    """
    import ipywidgets as widgets

    return widgets.Layout(width="auto", min_width="max-content", flex="0 0 auto")


class Views:
    """The two views every widget has besides the live one.

    ``str(widget)`` is the text view (headless runs, screen readers, ``print``); the
    ``text/html`` output from :meth:`_repr_html_` is stored with the notebook and shown by
    GitHub and nbviewer, where the live widget cannot render. A widget subclass defines
    :meth:`text` and :meth:`html` for what it shows *now*.
    """

    def text(self) -> str:
        raise NotImplementedError

    def html(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:  # ipywidgets puts repr() in the text/plain output
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()


class RedrawSoon:
    """One redraw for a burst of events: ``soon()`` from any thread, ``redraw`` runs once.

    A server or client thread that sees an event calls :meth:`soon`; the first call of a
    burst starts a timer and the calls after it, until the redraw starts, add nothing. The
    redraw itself only sets widget state (the rule for updating widgets from a thread that
    is not the kernel's). :meth:`started` is called first thing in ``redraw``: it lets the
    next event start a new timer, and, when the redraw was called directly (a button, a
    cell), cancels the timer that would only repeat it. :meth:`cancel` stops a pending one.
    """

    def __init__(self, redraw: Callable[[], object], delay: float) -> None:
        self.redraw = redraw
        self.delay = delay
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    @property
    def pending(self) -> bool:
        """Is a redraw on its way?"""
        return self._timer is not None

    def soon(self) -> None:
        """Redraw within ``delay`` seconds (nothing more if one is already on its way)."""
        with self._lock:
            if self._timer is not None:
                return  # the pending redraw will show this event too
            self._timer = threading.Timer(self.delay, self.redraw)
            self._timer.daemon = True
            self._timer.start()

    def started(self) -> None:
        """Called at the start of the redraw: the next event schedules a new one."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()  # a direct redraw shows what the timer would have shown

    def cancel(self) -> None:
        """Drop a pending redraw (the widget is closing or stops following its source)."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
