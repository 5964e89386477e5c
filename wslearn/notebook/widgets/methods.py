"""Polling, long polling, SSE and WebSocket, measured again for each cookie size.

Move the slider: every request the browser makes to a site carries that site's cookies
(RFC 6265 §5.4). The widget asks the demo server for the same updates with each method
(:func:`wslearn.demo.compare.measure_all`), with a ``Cookie`` header of that many bytes,
and shows what each update cost on the wire. The methods that make one request per update
pay for the cookie on every update; SSE and WebSocket pay for it once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets

from wslearn.demo.compare import Measurement, measure_all
from wslearn.i18n import _, pad

from .common import RED, Views, esc

Measure = Callable[..., list[Measurement]]


def rows(measurements: Sequence[Measurement]) -> list[tuple[str, str, str, str, str]]:
    """One row per method: name, bytes per update, bytes sent, received, mean latency."""
    return [
        (
            m.method,
            f"{m.bytes_per_update:,.0f}",
            f"{m.sent:,}",
            f"{m.received:,}",
            f"{m.mean_latency * 1000:.1f} ms",
        )
        for m in measurements
    ]


HEADER = ("method", "bytes per update", "sent", "received", "latency (mean)")


class MethodsWidget(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """A cookie-size slider over a table: the four methods, measured for that cookie."""

    def __init__(
        self,
        url: str,
        *,
        updates: int = 10,
        poll_interval: float = 1.0,
        cookie_bytes: int = 0,
        max_cookie: int = 4096,
        measure: Measure = measure_all,
    ) -> None:
        self.url = url
        self.updates = updates
        self.poll_interval = poll_interval
        self._measure = measure
        self.measurements: list[Measurement] = []
        self.error = ""
        self.slider = widgets.IntSlider(
            value=cookie_bytes,
            min=0,
            max=max_cookie,
            step=256,
            description=_("Cookie bytes"),
            continuous_update=False,  # measure once the slider is let go, not on every step
            style={"description_width": "initial"},
        )
        self.table = widgets.HTML()
        super().__init__([self.slider, self.table])
        self.add_class("wslearn-methods")
        self.slider.observe(lambda _change: self.remeasure(), names="value")
        self.remeasure()

    @property
    def cookie_bytes(self) -> int:
        return int(self.slider.value)

    def remeasure(self) -> None:
        """Measure the four methods with the slider's cookie size and show the result."""
        try:
            self.measurements = self._measure(
                self.url, self.updates, cookie_bytes=self.cookie_bytes, poll_interval=self.poll_interval
            )
            self.error = ""
        except (OSError, ValueError) as error:  # the server stopped, or refused a request
            self.measurements = []
            self.error = f"could not measure: {type(error).__name__}: {error}"
        self.table.value = self.html()

    def text(self) -> str:
        title = f"{self.updates} updates, Cookie header of {self.cookie_bytes} bytes"
        if self.error:
            return f"{title}\n{self.error}"
        lines = [title, "  ".join(pad(name, 16, ">") for name in HEADER)]
        lines += ["  ".join(pad(cell, 16, ">") for cell in row) for row in rows(self.measurements)]
        return "\n".join(lines)

    def html(self) -> str:
        title = f"<p>{self.updates} updates, <code>Cookie</code> header of {self.cookie_bytes} bytes</p>"
        if self.error:
            return f"{title}<p style='color:{RED}'>{esc(self.error)}</p>"
        cell = "border:1px solid #ccc;padding:2px 8px;text-align:right"
        head = "".join(f"<th style='{cell}'>{esc(name)}</th>" for name in HEADER)
        body = "".join(
            "<tr>" + "".join(f"<td style='{cell}'>{esc(value)}</td>" for value in row) + "</tr>"
            for row in rows(self.measurements)
        )
        table = f"<table style='border-collapse:collapse'><tr>{head}</tr>{body}</table>"
        return f"<div class='wslearn-methods-table'>{title}{table}</div>"
