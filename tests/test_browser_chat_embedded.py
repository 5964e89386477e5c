"""The chat page inside an IFrame, as notebook 00 shows it: it leaves the page around it alone.

The host page stands in for the notebook: a focused text box (the cell being edited), then
the chat page in an IFrame far below the top, then more page. Another browser tab chats, so
messages arrive in the IFrame without anyone touching it. The page around must keep its
keyboard focus and its scroll position; only the chat's message list scrolls.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wslearn.notebook import BackgroundServer, start_demo

TIMEOUT_MS = 10_000
HOST_PAGE = """<!doctype html><html><body style="margin:0">
<textarea id="cell">a notebook cell being edited</textarea>
<div style="height:2000px"></div>
<iframe id="chat" width="600" height="360"></iframe>
<div style="height:4000px"></div>
</body></html>"""


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    running = start_demo("embedded chat", ping_interval=None)
    yield running
    running.stop()


def open_host_page(browser: Any, server: BackgroundServer) -> Any:
    """The host page at an address of the chat server itself, so the IFrame is same-origin
    (as behind jupyter-server-proxy, where both come from the Jupyter server)."""
    page = browser.new_page(viewport={"width": 800, "height": 600})
    host_url = server.http_url + "host-page-for-the-test"
    page.route(host_url, lambda route: route.fulfill(status=200, content_type="text/html", body=HOST_PAGE))
    page.goto(host_url, timeout=TIMEOUT_MS)
    page.focus("#cell")
    page.evaluate("document.getElementById('chat').src = '/'")  # it connects while the cell has focus
    return page


def test_the_embedded_chat_takes_neither_focus_nor_the_page_scroll(
    browser: Any, server: BackgroundServer
) -> None:
    host = open_host_page(browser, server)
    chat = host.frame_locator("#chat")
    chat.locator("#status.open").wait_for(timeout=TIMEOUT_MS)
    other = browser.new_page()
    other.goto(server.http_url, timeout=TIMEOUT_MS)
    other.wait_for_selector("#status.open", timeout=TIMEOUT_MS)
    for number in range(1, 13):  # enough lines to overflow the message list
        other.fill("#msg", f"message {number}")
        other.press("#msg", "Enter")
    chat.locator("#messages .chat .msg", has_text="message 12").wait_for(timeout=TIMEOUT_MS)

    assert host.evaluate("document.activeElement.id") == "cell", "the chat took the keyboard focus"
    assert host.evaluate("window.scrollY") == 0, "the chat scrolled the page around it"
    # The message list itself scrolled to its newest line.
    scrolled = chat.locator("#messages").evaluate("m => [m.scrollTop, m.scrollHeight, m.clientHeight]")
    top, height, visible = scrolled
    assert height > visible and top + visible >= height - 4
    other.close()
    host.close()


def test_the_chat_page_on_its_own_takes_the_focus(browser: Any, server: BackgroundServer) -> None:
    page = browser.new_page()
    page.goto(server.http_url, timeout=TIMEOUT_MS)
    page.wait_for_selector("#status.open", timeout=TIMEOUT_MS)
    assert page.evaluate("document.activeElement.id") == "msg"  # type at once
    page.close()
