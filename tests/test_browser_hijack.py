"""Cross-site WebSocket hijacking in a real headless Chromium.

A page from another kernel port opens a WebSocket to the demo with the browser's cookie
for 127.0.0.1. The demo refuses it (403, the Origin is not its own); seed 000's port,
whose CheckOrigin allows all, lets the page in and answers it; so does the demo with
``allowed_origins=["*"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wslearn.demo.seedports import start_seed
from wslearn.notebook import BackgroundServer, start_demo
from wslearn.notebook.hijack import start_evil_site

TIMEOUT_MS = 10_000
COOKIE = ("session", "kernel-login-4711")


@pytest.fixture
def logged_in(browser: Any) -> Iterator[Any]:
    """A browser context holding the demo's session cookie for 127.0.0.1 (every port)."""
    context = browser.new_context()
    name, value = COOKIE
    context.add_cookies([{"name": name, "value": value, "domain": "127.0.0.1", "path": "/"}])
    yield context
    context.close()


def visit(context: Any, url: str) -> Any:
    page = context.new_page()
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => ['open', 'refused'].includes(document.getElementById('verdict').className)",
        timeout=TIMEOUT_MS,
    )
    return page


def handshakes(server: BackgroundServer) -> list[bytes]:
    return [e.raw for e in server.event_log.events() if e.kind in ("handshake", "http")]


def test_the_demo_refuses_the_evil_page_with_403(logged_in: Any) -> None:
    demo = start_demo("hijack demo", ping_interval=None, cookie=COOKIE)
    evil = start_evil_site(demo.url + "/chat", "hijack evil")
    try:
        page = visit(logged_in, evil.http_url)
        assert page.text_content("#verdict") == "refused"
        assert page.locator("#stolen li").count() == 0
        assert "1006" in str(page.text_content("#detail"))  # all a page learns of a refusal
        request, answer = handshakes(demo)[-2:]
        assert f"Origin: http://127.0.0.1:{evil.port}".encode() in request
        assert b"Cookie: " in request  # the browser did send the cookie, the Origin gave it away
        assert answer.startswith(b"HTTP/1.1 403 ")
    finally:
        evil.stop()
        demo.stop()


def test_allow_all_lets_the_evil_page_read_the_chat(browser: Any) -> None:
    demo = start_demo("hijack demo open", ping_interval=None, cookie=COOKIE, allowed_origins=["*"])
    evil = start_evil_site(demo.url + "/chat", "hijack evil open", cookie=COOKIE)
    context = browser.new_context()
    try:
        # The cookie is set by the evil port's /login, and sent to the demo's port all the same.
        context.new_page().goto(evil.http_url + "login", timeout=TIMEOUT_MS)
        page = visit(context, evil.http_url)
        assert page.text_content("#verdict") == "open"
        page.wait_for_function(
            "() => document.querySelectorAll('#stolen li').length >= 1", timeout=TIMEOUT_MS
        )
        assert str(page.locator("#stolen li").first.text_content()).isdigit()  # the chat gave it a uid
        assert handshakes(demo)[-1].startswith(b"HTTP/1.1 101 ")
        assert b"Cookie: " in handshakes(demo)[-2]
    finally:
        context.close()
        evil.stop()
        demo.stop()


def test_seed_000_lets_any_origin_in(logged_in: Any) -> None:
    seed = start_seed("wslearn.demo.seedports.seed000", fresh=True)
    evil = start_evil_site(f"ws://127.0.0.1:{seed.port}/ws", "hijack evil seed")
    try:
        page = visit(logged_in, evil.http_url)
        assert page.text_content("#verdict") == "open"
        page.wait_for_function(
            "() => document.querySelectorAll('#stolen li').length >= 1", timeout=TIMEOUT_MS
        )
        assert page.locator("#stolen li").first.text_content() == "Hello from another origin"  # echoed
        assert seed.alive
    finally:
        evil.stop()
        seed.stop()
