"""Deployment in a real headless Chromium: the chat page behind proxies and over TLS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wslearn.notebook import BackgroundServer, SyncClient, start_demo, start_proxy

TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def demo() -> Iterator[BackgroundServer]:
    server = start_demo("browser deployment demo", ping_interval=None)
    yield server
    server.stop()


def open_chat(context: Any, url: str) -> Any:
    page = context.new_page()
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_selector("#status.open", timeout=TIMEOUT_MS)
    return page


def test_the_chat_page_works_behind_a_first_subprotocol_proxy(browser: Any, demo: BackgroundServer) -> None:
    # The page offers one subprotocol, so "the first offered" is the one the server picked.
    proxy = start_proxy(demo.url, "browser first-subprotocol proxy", mode="first-subprotocol")
    context = browser.new_context()
    try:
        page = open_chat(context, proxy.http_url)
        assert "subprotocol: superchat" in str(page.text_content("#status"))
        with SyncClient(demo.url + "/chat") as kernel:
            kernel_uid = kernel.recv(timeout=5)
            page.wait_for_function("() => document.getElementById('users').textContent.includes(',')")
            assert kernel_uid in str(page.text_content("#users"))  # a superchat notice was understood
    finally:
        context.close()
        proxy.stop()


def test_the_chat_page_fails_behind_a_proxy_that_drops_the_upgrade(
    browser: Any, demo: BackgroundServer
) -> None:
    proxy = start_proxy(demo.url, "browser drop-upgrade proxy", mode="drop-upgrade")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(proxy.http_url, timeout=TIMEOUT_MS)  # the page itself is plain HTTP: it loads
        page.wait_for_selector("#status.closed", timeout=TIMEOUT_MS)
        assert "1006" in str(page.text_content("#status"))  # all the browser tells the page
        answers = [e.preview for e in proxy.event_log.events() if e.direction == "out"]
        assert any("426" in answer for answer in answers)
    finally:
        context.close()
        proxy.stop()


def test_over_https_the_page_uses_wss_and_may_not_open_ws(browser: Any, demo: BackgroundServer) -> None:
    tls = start_demo("browser deployment tls", tls=True, ping_interval=None)
    open_demo = start_demo("browser deployment any origin", ping_interval=None, allowed_origins=["*"])
    # Chromium does not know the kernel's CA: tell this context to accept the certificate.
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = open_chat(context, tls.http_url)
        assert str(page.text_content("#status")).startswith(f"connected to wss://127.0.0.1:{tls.port}/chat")
        # Mixed content: an https page opening ws:// to a host that is not loopback is refused
        # at once (the name is never even looked up).
        blocked = page.evaluate(
            """() => { try { new WebSocket("ws://example.invalid/ws"); return "allowed"; }
                       catch (error) { return error.name; } }"""
        )
        assert blocked == "SecurityError"
        # Loopback is exempt (it never leaves the machine), as the chapter says. The plain
        # server must accept the https page's origin for the socket to open.
        loopback = open_demo.url + "/ws"
        opened = page.evaluate(
            """(url) => new Promise((done) => { const ws = new WebSocket(url);
                 ws.onopen = () => { ws.close(); done("open"); }; ws.onerror = () => done("error"); })""",
            loopback,
        )
        assert opened == "open"
    finally:
        context.close()
        tls.stop()
        open_demo.stop()
