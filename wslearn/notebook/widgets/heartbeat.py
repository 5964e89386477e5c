"""A live timeline of one connection's heartbeats: Pings, Pongs, TEXT "heart beat"s, data, RTT.

The plot is a bqplot figure: its marks are widgets, so the background server's thread
updates it by assigning their ``x`` and ``y`` (widget state), at most every
``refresh_every`` seconds, the way :class:`.eventlog.EventLogView` updates its table. The
static view (``_repr_html_``) is the same timeline drawn by matplotlib as a PNG, which
GitHub and nbviewer show.
"""

from __future__ import annotations

import base64
import io
import threading
from typing import Any

import ipywidgets as widgets

from wslearn.demo.heartbeats import LANES, Timeline, timeline
from wslearn.eventlog import EventLog, LogEvent
from wslearn.i18n import _

from .common import RedrawSoon, Views, esc, fitting_label

COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#d62728", "#7f7f7f")


class HeartbeatTimeline(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """The heartbeats of connection ``conn_id`` of ``log`` (the newest one when None), live."""

    def __init__(self, log: EventLog, conn_id: int | None = None, *, refresh_every: float = 0.2) -> None:
        import bqplot

        self.event_log = log
        # None: the newest connection now, and that one for good (a later one does not take over)
        self.conn_id = conn_id if conn_id is not None else timeline(log.events()).conn_id
        self.refresh_every = refresh_every
        self._redraw = RedrawSoon(self.refresh, refresh_every)
        x = bqplot.LinearScale(min=0.0)
        lanes = bqplot.OrdinalScale(domain=list(LANES))
        self.marks = [
            bqplot.Scatter(x=[], y=[], scales={"x": x, "y": lanes}, colors=[colour], default_size=40)
            for colour in COLOURS
        ]
        self.figure = bqplot.Figure(
            marks=self.marks,
            axes=[
                bqplot.Axis(scale=x, label="seconds after the connection opened"),
                bqplot.Axis(scale=lanes, side="left"),
            ],
            title="heartbeats of one connection",
            layout=widgets.Layout(width="100%", height="280px"),
            fig_margin={"top": 40, "bottom": 40, "left": 130, "right": 20},
        )
        rtt_y = bqplot.LinearScale(min=0.0)
        self.rtt_line = bqplot.Lines(x=[], y=[], scales={"x": x, "y": rtt_y}, marker="circle")
        self.rtt_figure = bqplot.Figure(
            marks=[self.rtt_line],
            axes=[
                bqplot.Axis(scale=x, label="seconds"),
                bqplot.Axis(scale=rtt_y, side="left", label="RTT (ms)"),
            ],
            title="round trip of each Ping",
            layout=widgets.Layout(width="100%", height="200px"),
            fig_margin={"top": 40, "bottom": 40, "left": 130, "right": 20},
        )
        self.legend = widgets.HTML()
        super().__init__([self.figure, self.rtt_figure, self.legend])
        self.add_class("wslearn-heartbeat-timeline")
        self._unsubscribe = log.subscribe(self._on_event)
        self.refresh()

    def follow(self, log: EventLog, conn_id: int | None = None) -> None:
        """Show connection ``conn_id`` of ``log`` from now on (the newest one when None)."""
        self.detach()
        self.event_log = log
        self.conn_id = conn_id if conn_id is not None else timeline(log.events()).conn_id
        self._unsubscribe = log.subscribe(self._on_event)
        self.refresh()

    @property
    def timeline(self) -> Timeline:
        return timeline(self.event_log.events(), self.conn_id)

    def _on_event(self, event: LogEvent) -> None:
        """Called in the server's thread: schedule one refresh (widget state only)."""
        self._redraw.soon()

    def refresh(self) -> None:
        """Redraw from the log now (safe from any thread)."""
        self._redraw.started()
        shown = self.timeline
        for mark, lane in zip(self.marks, LANES, strict=True):
            times = shown.lanes[lane]
            with mark.hold_sync():
                mark.x = times
                mark.y = [lane] * len(times)
        with self.rtt_line.hold_sync():
            self.rtt_line.x = [t for t, _ms in shown.rtts]
            self.rtt_line.y = [ms for _t, ms in shown.rtts]
        self.legend.value = legend_html(shown)

    def detach(self) -> None:
        """Stop following the log."""
        self._unsubscribe()
        self._redraw.cancel()

    def close(self) -> None:
        self.detach()
        super().close()

    def text(self) -> str:
        return str(self.timeline)

    def html(self) -> str:
        shown = self.timeline
        return (
            f"<img alt='{esc(str(shown))}' src='data:image/png;base64,{timeline_png(shown)}'>"
            + legend_html(shown)
        )


def legend_html(shown: Timeline) -> str:
    """The lanes with their colours and counts, the last round trips, and how it ended."""
    items = "".join(
        f"<span style='color:{colour}'>●</span> {esc(lane)} ({len(shown.lanes[lane])}) &nbsp; "
        for lane, colour in zip(LANES, COLOURS, strict=True)
    )
    rtts = ", ".join(f"{ms:.2f}" for _t, ms in shown.rtts[-5:]) or "none yet"
    closed = f"<br>closed: <b>{esc(shown.closed)}</b>" if shown.closed else ""
    return f"<p>lanes (bottom to top): {items}<br>last round trips (ms): {esc(rtts)}{closed}</p>"


def timeline_figure(shown: Timeline) -> Any:
    """The timeline as a matplotlib Figure (no pyplot state touched)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4))
    axes, rtt_axes = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    for index, (lane, colour) in enumerate(zip(LANES, COLOURS, strict=True)):
        times = shown.lanes[lane]
        axes.scatter(times, [index] * len(times), color=colour, s=25)
    axes.set_yticks(range(len(LANES)), LANES)
    axes.set_title(f"heartbeats of connection #{shown.conn_id}")
    rtt_axes.plot([t for t, _ms in shown.rtts], [ms for _t, ms in shown.rtts], marker="o")
    rtt_axes.set_ylabel("RTT (ms)")
    rtt_axes.set_xlabel("seconds after the connection opened")
    figure.tight_layout()
    return figure


def timeline_png(shown: Timeline) -> str:
    buffer = io.BytesIO()
    timeline_figure(shown).savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class HeartbeatLab(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Controls for the keepalive, and the three experiments of chapter 07 on one timeline.

    ``ping_interval`` and ``ping_timeout`` sliders restart the lab's own demo server with
    those values; **connect** opens a client on ``/wshandler`` that answers every Ping;
    **freeze the peer** opens one that answers nothing (1011 after interval + timeout). Each
    experiment runs in a background thread and reports by setting widget values, so the
    kernel stays free while it runs.
    """

    def __init__(
        self, *, ping_interval: float = 0.5, ping_timeout: float = 0.5, duration: float = 2.0
    ) -> None:
        self.duration = duration
        slider = {"min": 0.1, "max": 3.0, "step": 0.1, "style": {"description_width": "initial"}}
        self.interval = widgets.FloatSlider(value=ping_interval, description=_("ping_interval (s)"), **slider)
        self.timeout = widgets.FloatSlider(value=ping_timeout, description=_("ping_timeout (s)"), **slider)
        self.connect_button = widgets.Button(
            description=_("connect"), tooltip="a client that answers Pings", layout=fitting_label()
        )
        self.freeze_button = widgets.Button(
            description=_("freeze the peer"), tooltip="a client that answers nothing", layout=fitting_label()
        )
        self.status = widgets.HTML("<p>Choose the timers, then start an experiment.</p>")
        self.server: Any = None
        self.timeline_view = HeartbeatTimeline(EventLog(), refresh_every=0.1)
        self._busy = threading.Lock()
        controls = widgets.HBox([self.interval, self.timeout])
        buttons = widgets.HBox([self.connect_button, self.freeze_button])
        super().__init__([controls, buttons, self.status, self.timeline_view])
        self.add_class("wslearn-heartbeat-lab")
        self.connect_button.on_click(lambda _button: self.start("connect"))
        self.freeze_button.on_click(lambda _button: self.start("freeze"))

    def start(self, experiment: str, *, wait: bool = False) -> threading.Thread | None:
        """Run ``"connect"`` or ``"freeze"`` in a background thread (``wait``: until it ends)."""
        if not self._busy.acquire(blocking=False):
            self.status.value = "<p>An experiment is running; wait for it to end.</p>"
            return None
        worker = threading.Thread(
            target=self._run, args=(experiment,), name="wslearn-heartbeat-lab", daemon=True
        )
        worker.start()
        if wait:
            worker.join(self.duration + self.interval.max + self.timeout.max + 10)
        return worker

    def _run(self, experiment: str) -> None:
        from wslearn.demo.heartbeats import freeze_the_peer
        from wslearn.notebook import SyncClient, start_demo

        try:
            interval, timeout = round(self.interval.value, 2), round(self.timeout.value, 2)
            self.server = start_demo("heartbeat-lab", ping_interval=interval, ping_timeout=timeout)
            self.status.value = f"<p>running: <b>{esc(experiment)}</b> with {interval} s / {timeout} s …</p>"
            if experiment == "freeze":
                frozen = freeze_the_peer(self.server.url + "/ws", timeout=interval + timeout + 5)
                self.timeline_view.follow(self.server.event_log)
                measured = f"{frozen.close_code} after {frozen.elapsed or 0:.2f} s"
                self.status.value = (
                    f"<p>frozen peer: {esc(measured)} (predicted {interval + timeout:.2f} s)</p>"
                )
            else:
                with SyncClient(self.server.url + "/ws") as client:
                    self.timeline_view.follow(self.server.event_log)
                    client.send("hello")
                    client.recv(timeout=5)
                    threading.Event().wait(self.duration)
                self.status.value = f"<p>connected for {self.duration:g} s: every Ping got its Pong.</p>"
            self.timeline_view.refresh()
        except Exception as error:  # shown in the widget: nothing may escape a background thread
            self.status.value = f"<p style='color:#cf222e'>the experiment failed: {esc(error)}</p>"
        finally:
            self._busy.release()

    def text(self) -> str:
        timers = f"ping_interval={self.interval.value} s ping_timeout={self.timeout.value} s"
        return f"HeartbeatLab {timers}\n{self.timeline_view.text()}"

    def html(self) -> str:
        timers = f"<p>ping_interval {self.interval.value} s, ping_timeout {self.timeout.value} s</p>"
        return timers + self.timeline_view.html()

    def close(self) -> None:
        self.timeline_view.close()
        super().close()
