"""RedrawSoon: the one way a widget redraws after events from other threads."""

from __future__ import annotations

import threading
import time

from wslearn.notebook.widgets.common import RedrawSoon


def counting(delay: float) -> tuple[RedrawSoon, list[float]]:
    calls: list[float] = []
    redraw: RedrawSoon

    def draw() -> None:
        redraw.started()
        calls.append(time.monotonic())

    redraw = RedrawSoon(draw, delay)
    return redraw, calls


def test_a_burst_from_many_threads_is_one_redraw() -> None:
    redraw, calls = counting(0.05)
    threads = [threading.Thread(target=lambda: [redraw.soon() for _ in range(50)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # a second timer, had one started, would have fired by now
    assert len(calls) == 1
    assert not redraw.pending


def test_the_next_event_after_a_redraw_schedules_another() -> None:
    redraw, calls = counting(0.01)
    for expected in (1, 2):
        redraw.soon()
        deadline = time.monotonic() + 5
        while len(calls) < expected and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(calls) == expected


def test_a_direct_redraw_cancels_the_pending_timer() -> None:
    redraw, calls = counting(5)
    redraw.soon()
    timer = redraw._timer
    assert timer is not None and timer.is_alive()
    redraw.redraw()  # a button or a cell calls it directly
    timer.join(1)
    assert not timer.is_alive() and len(calls) == 1


def test_cancel_drops_a_pending_redraw() -> None:
    redraw, calls = counting(0.02)
    redraw.soon()
    redraw.cancel()
    time.sleep(0.1)
    assert calls == [] and not redraw.pending
