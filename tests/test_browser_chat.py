"""The chat page in a real headless Chromium: two pages chat, and HTML stays text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wslearn.notebook import BackgroundServer, start_demo

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TIMEOUT_MS = 10_000
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    running = start_demo("browser chat", ping_interval=None)
    yield running
    running.stop()


class ChatPage:
    """One browser tab on the chat page, recording dialogs and script errors."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url, timeout=TIMEOUT_MS)
        self.page.wait_for_selector("#status.open", timeout=TIMEOUT_MS)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    @property
    def uid(self) -> str:
        return str(self.page.text_content("#uid"))

    def say(self, text: str) -> None:
        self.page.fill("#msg", text)
        self.page.press("#msg", "Enter")

    def wait_for_message(self, count: int) -> list[str]:
        """The texts of the chat lines, once there are ``count`` of them."""
        self.page.wait_for_function(
            "n => document.querySelectorAll('#messages .chat').length >= n",
            arg=count,
            timeout=TIMEOUT_MS,
        )
        return [str(t) for t in self.page.locator("#messages .chat .msg").all_text_contents()]


def test_two_pages_chat_and_html_stays_text(browser: Any, server: BackgroundServer) -> None:
    one = ChatPage(browser, server.http_url)
    two = ChatPage(browser, server.http_url)
    assert one.uid.isdigit() and two.uid.isdigit() and one.uid != two.uid

    one.say("hello from page one")
    assert one.wait_for_message(1) == two.wait_for_message(1) == ["hello from page one"]

    two.say(XSS)
    for tab in (one, two):
        assert tab.wait_for_message(2) == ["hello from page one", XSS]  # shown as text
        assert tab.page.evaluate("document.images.length") == 0  # no <img> was created
    one.page.wait_for_timeout(300)  # an onerror handler would have run by now
    assert one.dialogs == two.dialogs == []

    # The notices of the "superchat" subprotocol: who joined, who is online.
    assert f"user {two.uid} joined" in str(one.page.text_content("#messages"))
    assert str(one.page.text_content("#users")) == f"{one.uid}, {two.uid}"

    ARTIFACTS.mkdir(exist_ok=True)
    one.page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)

    server.stop()  # the page says how the connection ended
    one.page.wait_for_selector("#status.closed", timeout=TIMEOUT_MS)
    assert "code 1001" in str(one.page.text_content("#status"))
    assert one.errors == two.errors == []


def test_the_websocket_url_follows_the_page_address(browser: Any, server: BackgroundServer) -> None:
    tab = ChatPage(browser, server.http_url)
    cases = {
        "http://127.0.0.1:8765/": "ws://127.0.0.1:8765/chat",
        "https://hub.example/user/x/proxy/8765/": "wss://hub.example/user/x/proxy/8765/chat",
        "https://hub.example/user/x/proxy/8765": "wss://hub.example/user/x/proxy/8765/chat",
        "http://h/p/?token=abc#top": "ws://h/p/chat?token=abc",
    }
    for page_address, websocket_url in cases.items():
        assert tab.page.evaluate("chatUrl", page_address) == websocket_url
    assert tab.page.evaluate("ws.url") == server.url + "/chat"
    assert tab.page.evaluate("ws.protocol") == "superchat"
