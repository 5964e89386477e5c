"""What chapter 11 (permessage-deflate) shows, checked against real peers and the RFC's bytes.

* the offer the chapter quotes is the one headless Chromium really sends the demo server;
* the FrameInspector, told the connection agreed on permessage-deflate, reads RSV1 as
  "compressed" and decompresses the payload; without it RSV1 is a protocol error (1002), and
  with RSV1 cleared the DEFLATE bytes are read as text that is not UTF-8 (1007).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wslearn.deflate import DeflateParameters
from wslearn.exercises.ch11 import CHROME, RFC_HELLO
from wslearn.notebook import BackgroundServer, start_demo

TIMEOUT_MS = 10_000
# RFC 7692 §7.2.3.1: "Hello", compressed, in one unmasked text frame with RSV1 set.
HELLO_FRAME = bytes.fromhex("c1 07") + RFC_HELLO


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    running = start_demo("compression chapter", compression="deflate", ping_interval=None)
    yield running
    running.stop()


def handshake_headers(server: BackgroundServer) -> list[dict[str, str]]:
    """The headers of every upgrade request the server logged, names in lower case."""
    found = []
    for event in server.event_log.events():
        if event.kind == "handshake" and event.direction == "in":
            lines = event.raw.decode("latin-1").split("\r\n")[1:]
            found.append({name.lower(): value for name, _, value in (line.partition(": ") for line in lines)})
    return found


@pytest.mark.timeout(120)
def test_chromium_sends_the_offer_the_chapter_quotes(browser: Any, server: BackgroundServer) -> None:
    page = browser.new_page()
    try:
        page.goto(server.http_url, timeout=TIMEOUT_MS)
        page.wait_for_selector("#status.open", timeout=TIMEOUT_MS)
    finally:
        page.close()
    offers = [headers.get("sec-websocket-extensions") for headers in handshake_headers(server)]
    assert offers and offers[-1] == CHROME, offers
    answers = [e for e in server.event_log.events() if e.kind == "handshake" and e.direction == "out"]
    assert b"Sec-WebSocket-Extensions: permessage-deflate" in answers[-1].raw


def test_the_inspector_decompresses_a_frame_with_rsv1() -> None:
    pytest.importorskip("ipywidgets")
    from wslearn.notebook.widgets import FrameInspector

    inspector = FrameInspector(HELLO_FRAME, deflate=DeflateParameters())
    assert inspector.current.decompressed == b"Hello"
    assert inspector.current.problems == ()
    assert "RSV1 (compressed) 7 → 5 bytes: 'Hello'" in str(inspector)
    assert "per-message compressed" in inspector.html()

    inspector.flip(1)  # RSV1 cleared: the DEFLATE bytes are taken for the text itself
    assert inspector.current.decompressed is None
    assert any("1007" in problem for problem in inspector.current.problems)


def test_the_inspector_without_deflate_refuses_rsv1() -> None:
    pytest.importorskip("ipywidgets")
    from wslearn.notebook.widgets import FrameInspector

    inspector = FrameInspector(HELLO_FRAME)
    assert inspector.current.decompressed is None
    assert any("RSV1 is set" in problem and "1002" in problem for problem in inspector.current.problems)


# --- CompressionLab ------------------------------------------------------------------------------


def test_the_lab_shows_context_takeover_and_its_absence() -> None:
    pytest.importorskip("ipywidgets")
    from wslearn.deflate import PerMessageDeflate
    from wslearn.frames import parse_frame
    from wslearn.notebook.widgets import CompressionLab

    lab = CompressionLab('{"text": "the same message, again and again"}')
    first, second = lab.send(), lab.send()
    assert len(second.frame) < len(first.frame) // 3  # one back-reference (RFC 7692 §7.1.1)
    # Each frame is what a receiver decompresses into the message, in order, RSV1 set.
    receiver = PerMessageDeflate(DeflateParameters(), "client")
    for sent in (first, second):
        parsed = parse_frame(sent.frame)
        assert parsed is not None and parsed[0].rsv1
        assert receiver.decode(parsed[0]).payload == sent.message.encode()
        assert sent.payload_length == len(parsed[0].payload)
    assert "#2:" in str(lab)

    lab.takeover.value = False  # a new connection that resets its window per message
    assert lab.rows == [] and lab.params.server_no_context_takeover
    again, once_more = lab.send(), lab.send()
    assert again.frame == once_more.frame == first.frame


def test_the_lab_escapes_the_message_and_checks_the_window() -> None:
    pytest.importorskip("ipywidgets")
    from wslearn.notebook.widgets import CompressionLab

    lab = CompressionLab(window_bits=9)
    assert lab.params.server_max_window_bits == 9
    assert "nothing sent yet" in str(lab)
    lab.send("<img src=x onerror=alert(1)>")
    assert "<img" not in lab.html() and "&lt;img" in lab.html()
    lab.reset_button.click()
    assert lab.rows == []
    with pytest.raises(ValueError, match="8 to 15"):
        CompressionLab(window_bits=16)
