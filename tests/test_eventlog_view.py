"""EventLogView follows the widget rules: a text view and a static HTML view of what it shows."""

from __future__ import annotations

from wslearn.eventlog import EventLog
from wslearn.notebook.widgets import EventLogView
from wslearn.notebook.widgets.common import Views

XSS = "<img src=x onerror=alert(1)>"


def test_is_a_views_widget_with_its_css_class() -> None:
    view = EventLogView(EventLog())
    try:
        assert isinstance(view, Views)
        assert "wslearn-event-log" in view._dom_classes
    finally:
        view.close()


def test_text_view_is_one_line_per_event() -> None:
    log = EventLog()
    first = log.record(3, "in", "frame", opcode="TEXT", length=5, masked=True, preview="'hello'")
    second = log.record(3, "out", "frame", opcode="TEXT", length=5, masked=False, preview="'hello'")
    view = EventLogView(log)
    try:
        assert view.text() == f"{first}\n{second}"
        assert str(view) == repr(view) == view.text()
        assert "#3 in  frame TEXT 5 B masked 'hello'" in view.text()
    finally:
        view.close()


def test_text_view_of_an_empty_log_and_of_a_long_one() -> None:
    log = EventLog()
    view = EventLogView(log, rows=2)
    try:
        assert view.text() == "No events yet: connect a client."
        for number in range(5):
            log.record(1, "in", "frame", opcode="TEXT", preview=f"m{number}")
        view.refresh()
        lines = view.text().splitlines()
        assert lines[0] == "last 2 of 5 events"
        assert lines[1].endswith("m3") and lines[2].endswith("m4")
    finally:
        view.close()


def test_static_html_is_the_table_with_payloads_escaped() -> None:
    log = EventLog()
    log.record(1, "in", "frame", opcode="TEXT", preview=XSS)
    view = EventLogView(log)
    try:
        page = view._repr_html_()
        assert page == view.html() == view.table.value
        assert "<table class='wslearn-events'>" in page
        assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        assert XSS in view.text()  # the text view is plain text: nothing to escape
    finally:
        view.close()


def test_detached_view_keeps_showing_what_it_had() -> None:
    log = EventLog()
    log.record(1, "in", "frame", opcode="TEXT", preview="kept")
    view = EventLogView(log)
    try:
        view.detach()
        log.record(1, "in", "frame", opcode="TEXT", preview="not followed")
        assert "kept" in view.text() and "not followed" not in view.text()
    finally:
        view.close()


def test_a_direct_refresh_cancels_the_pending_one() -> None:
    log = EventLog()
    view = EventLogView(log, refresh_every=5)
    try:
        log.record(1, "in", "frame", opcode="TEXT", preview="queued")  # starts a 5 s timer
        timer = view._redraw._timer
        assert timer is not None and timer.is_alive()
        view.refresh()
        timer.join(1)
        assert not timer.is_alive(), "the timer would redraw again later, maybe after close()"
        assert "queued" in view.text()
    finally:
        view.close()
