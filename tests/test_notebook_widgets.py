"""The widgets, driven the way the browser drives them (trait changes, button clicks) and fed by a
real server running in a background thread."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable

import pytest
import rfc6455_vectors as rfc6455

from wslearn.eventlog import EventLog
from wslearn.frames import Frame, Opcode
from wslearn.notebook.widgets import (
    RFC_EXAMPLE_KEY,
    AcceptKeyWidget,
    EventLogView,
    FrameBuilder,
    events_html,
    key_verdict,
    masking_key,
)

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def expected_accept(key: str) -> str:
    """RFC 6455 §4.2.2 computed here with hashlib, independently of wslearn."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# --- AcceptKeyWidget ------------------------------------------------------------------------


def test_starts_with_the_rfc_example() -> None:
    widget = AcceptKeyWidget()
    assert widget.key.value == RFC_EXAMPLE_KEY
    assert widget.accept == rfc6455.ACCEPT  # RFC 6455 §1.3
    assert rfc6455.ACCEPT in widget.steps.value
    assert "✔ a valid key" in widget.steps.value


@pytest.mark.parametrize("key", ["x3JJHMbDL1EzLkh9GBhXDw==", "sN9cRrP/n9NdMgdcy2VJFQ=="])
def test_typing_a_key_shows_every_step(key: str) -> None:
    widget = AcceptKeyWidget()
    widget.key.value = key  # what the browser does on each keystroke
    digest = hashlib.sha1((key + GUID).encode()).digest()
    shown = widget.steps.value
    assert key + GUID in shown
    assert digest.hex() in shown
    assert f"<span class='wslearn-accept-value'>{expected_accept(key)}</span>" in shown
    assert widget.accept == expected_accept(key)


def test_spaces_around_the_key_are_not_part_of_it() -> None:
    widget = AcceptKeyWidget(f"  {rfc6455.KEY}  ")
    assert widget.accept == rfc6455.ACCEPT


def test_random_key_button() -> None:
    widget = AcceptKeyWidget()
    widget.new_key.click()
    key = widget.key.value
    assert key != RFC_EXAMPLE_KEY
    assert len(base64.b64decode(key, validate=True)) == 16
    assert expected_accept(key) in widget.steps.value
    widget.rfc_key.click()
    assert widget.key.value == RFC_EXAMPLE_KEY


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("x3JJHMbDL1EzLkh9GBhXDw=", "got 23 characters"),  # one character short, as in some tutorials
        ("", "got 0 characters"),
        ("!!!!!!!!!!!!!!!!!!!!!!!!", "not base64"),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "got 28 characters"),
    ],
)
def test_keys_a_server_refuses(key: str, words: str) -> None:
    verdict = key_verdict(key)
    assert verdict is not None and verdict.startswith("400: ") and words in verdict
    widget = AcceptKeyWidget(key)
    assert "✘ a server refuses this key" in widget.steps.value


def test_a_valid_key_passes_the_servers_own_check() -> None:
    assert key_verdict(RFC_EXAMPLE_KEY) is None


def test_what_is_typed_is_shown_as_text() -> None:
    widget = AcceptKeyWidget("<img src=x onerror=alert(1)>")
    assert "<img" not in widget.steps.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in widget.steps.value


# --- EventLogView ---------------------------------------------------------------------------


def record_text(log: EventLog, text: str, conn_id: int = 1) -> None:
    log.record(conn_id, "in", "frame", opcode="TEXT", length=len(text), masked=True, preview=text)


def test_shows_what_is_already_in_the_log() -> None:
    log = EventLog()
    record_text(log, "before the view")
    view = EventLogView(log)
    try:
        assert "before the view" in view.table.value
    finally:
        view.close()


def test_empty_log() -> None:
    view = EventLogView(EventLog())
    try:
        assert "No events yet" in view.table.value
    finally:
        view.close()


def test_events_from_a_background_thread_appear() -> None:
    log = EventLog()
    view = EventLogView(log, refresh_every=0.01)
    try:
        writer = threading.Thread(target=record_text, args=(log, "from another thread"))
        writer.start()
        writer.join(5)
        wait_for(lambda: "from another thread" in view.table.value)
    finally:
        view.close()


def test_a_burst_of_events_is_drawn_a_few_times_not_once_per_event() -> None:
    log = EventLog()
    view = EventLogView(log, rows=5, refresh_every=0.05)
    redraws: list[str] = []
    view.table.observe(lambda change: redraws.append(change["new"]), names="value")
    try:
        for number in range(1000):
            record_text(log, f"message {number}")
        wait_for(lambda: "message 999" in view.table.value)
        assert 1 <= len(redraws) <= 20, len(redraws)
        assert "last 5 of 1000 events" in view.table.value
        assert "message 994" not in view.table.value
    finally:
        view.close()


def test_payloads_are_shown_as_text_never_as_html() -> None:
    page = events_html([EventLog().record(1, "in", "frame", preview="<img src=x onerror=alert(1)>")])
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_table_marks_fragments() -> None:
    log = EventLog()
    log.record_frame(1, "in", Frame(Opcode.BINARY, b"ab", fin=False), b"")
    log.record_frame(1, "in", Frame(Opcode.CONTINUATION, b"cd"), b"")
    page = events_html(log.events())
    assert page.count("FIN=0") == 1 and ">BINARY FIN=0<" in page and ">CONTINUATION<" in page


def test_a_new_view_of_the_same_log_detaches_the_old_one() -> None:
    log = EventLog()
    old = EventLogView(log, refresh_every=0.01)
    new = EventLogView(log, refresh_every=0.01)
    try:
        record_text(log, "after re-running the cell")
        wait_for(lambda: "after re-running the cell" in new.table.value)
        time.sleep(0.05)
        assert "after re-running the cell" not in old.table.value
    finally:
        new.close()
        old.close()


def test_views_of_different_logs_live_side_by_side() -> None:
    first, second = EventLog(), EventLog()
    views = [EventLogView(first, refresh_every=0.01), EventLogView(second, refresh_every=0.01)]
    try:
        record_text(first, "one")
        record_text(second, "two")
        wait_for(lambda: "one" in views[0].table.value and "two" in views[1].table.value)
    finally:
        for view in views:
            view.close()


def test_clear_button_empties_log_and_view() -> None:
    log = EventLog()
    record_text(log, "old news")
    view = EventLogView(log)
    try:
        view.clear_button.click()
        assert len(log) == 0
        assert "No events yet" in view.table.value
    finally:
        view.close()


def test_closed_view_stops_following_and_leaves_no_thread() -> None:
    before = threading.active_count()
    log = EventLog()
    view = EventLogView(log, refresh_every=10)  # a redraw is pending when we close
    record_text(log, "pending")
    view.close()
    record_text(log, "after close")
    wait_for(lambda: threading.active_count() <= before)
    assert "after close" not in view.table.value


def test_live_view_of_a_real_server() -> None:
    """The demo server runs in its background thread; a client talks to it; the view shows it."""
    from wslearn.notebook import SyncClient, start_demo

    server = start_demo("widget-test")
    view = EventLogView(server.event_log, refresh_every=0.02)
    try:
        with SyncClient(server.url + "/ws") as ws:
            ws.send("seen by the widget")
            assert ws.recv(timeout=5) == "seen by the widget"
        wait_for(lambda: "101 Switching Protocols" in view.table.value)
        wait_for(lambda: "seen by the widget" in view.table.value)
        assert "CLOSE" in view.table.value
    finally:
        view.close()
        server.stop()


# --- FrameBuilder ---------------------------------------------------------------------------


def test_frame_builder_starts_with_the_masked_hello_of_rfc_5_7() -> None:
    builder = FrameBuilder()
    assert builder.data == bytes.fromhex("81 85 37 fa 21 3d 7f 9f 4d 51 58")
    assert "81 85 37 fa 21 3d 7f 9f 4d 51 58" in builder.explanation.value
    assert "TEXT frame, final, masked, 5-byte payload" in builder.explanation.value


@pytest.mark.parametrize(
    ("opcode", "masked", "fin", "wire"),
    [
        (Opcode.TEXT, False, True, "81 05 48 65 6c 6c 6f"),  # RFC 6455 §5.7, unmasked text
        (Opcode.PING, False, True, "89 05 48 65 6c 6c 6f"),  # §5.7, unmasked Ping
        (Opcode.TEXT, False, False, "01 05 48 65 6c 6c 6f"),  # §5.7, first fragment "Hel"+"lo"
    ],
)
def test_frame_builder_controls(opcode: Opcode, masked: bool, fin: bool, wire: str) -> None:
    builder = FrameBuilder()
    builder.opcode.value = opcode
    builder.masked.value = masked
    builder.fin.value = fin
    assert builder.data.hex(" ") == wire
    assert builder.mask.disabled is not masked


def test_frame_builder_long_payload_uses_the_16_bit_length() -> None:
    builder = FrameBuilder()
    builder.masked.value = False
    builder.payload.value = "x" * 256  # RFC 6455 §5.7: 256 bytes -> 7e 01 00
    assert builder.data[:4] == bytes.fromhex("81 7e 01 00")
    assert "(260 bytes)" in builder.explanation.value


def test_frame_builder_explains_a_frame_that_breaks_the_rules() -> None:
    builder = FrameBuilder("x" * 126, opcode=Opcode.PING)
    assert "problem" in builder.explanation.value  # control frames carry 125 bytes at most


@pytest.mark.parametrize(
    ("typed", "words"), [("zz", "must be hex digits"), ("37fa21", "got 3 bytes"), ("", "got 0")]
)
def test_frame_builder_bad_masking_key(typed: str, words: str) -> None:
    builder = FrameBuilder()
    builder.mask.value = typed
    assert words in builder.explanation.value
    with pytest.raises(ValueError, match=words):
        masking_key(typed)


def test_masking_key_accepts_spaces() -> None:
    assert masking_key("37 fa 21 3d") == rfc6455.MASKING_KEY
