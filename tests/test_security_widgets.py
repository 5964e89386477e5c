"""Chapter 10's widgets driven as the browser drives them, and the logic below them."""

from __future__ import annotations

import time

import pytest

from wslearn.errors import HandshakeError
from wslearn.eventlog import EventLog
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.handshake import Headers, Request
from wslearn.notebook import SyncClient, start_demo, start_proxy
from wslearn.notebook.hijack import EvilSite, evil_links, evil_page, start_evil_site
from wslearn.notebook.widgets import AuthLab, WireTapView
from wslearn.notebook.widgets.authlab import METHODS, TOKEN, attempt, check_subprotocol_token, redact
from wslearn.notebook.widgets.wiretap import explain_event, row_label, tap_rows

TIMEOUT = 5


def wait_until(condition: object, seconds: float = TIMEOUT) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


# --- AuthLab ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "right", "wrong", "none"),
    [
        ("basic", "101: let in", "403", "401"),
        ("bearer", "101: let in", "403", "401"),
        ("password-as-bearer", "401", "401", "401"),
        ("cookie", "101: let in", "403", "401"),
        ("query", "101: let in", "403", "401"),
        ("message", "101: let in", "101, then Close 4403", "101, then Close 4401"),
        ("subprotocol", "101: let in", "403", "401"),
    ],
)
def test_every_method_right_wrong_and_none(method: str, right: str, wrong: str, none: str) -> None:
    assert [attempt(method, c).verdict for c in ("right", "wrong", "none")] == [right, wrong, none]


def test_no_secret_shows_in_the_logged_request() -> None:
    for key in METHODS:
        result = attempt(key, "right")
        assert TOKEN not in result.request, key
        assert "s3cret-demo" not in result.request, key
        assert "kernel-login-4711" not in result.request, key
    assert "[redacted]" in attempt("bearer").request
    assert "token.[redacted]" in attempt("subprotocol").request


def test_the_url_token_is_in_an_access_log_line() -> None:
    result = attempt("query", "right")
    assert f"?token={TOKEN}" in result.access_log
    assert "?token=[redacted]" in result.request


def test_password_in_the_url_is_sent_as_basic_not_bearer() -> None:
    result = attempt("password-as-bearer", "right")
    assert "Authorization: Basic" in result.request or "Authorization: [redacted]" in result.request
    assert "Basic" in result.answer


def test_subprotocol_token_server_answers_with_the_real_subprotocol() -> None:
    result = attempt("subprotocol", "right")
    assert "(subprotocol chat)" in result.answer  # never the token
    headers = Headers([("Sec-WebSocket-Protocol", f"chat, token.{TOKEN}")])
    assert check_subprotocol_token(Request("GET", "/ws", headers=headers)) is None
    refused = check_subprotocol_token(
        Request("GET", "/ws", headers=Headers([("Sec-WebSocket-Protocol", "chat")]))
    )
    assert refused is not None and refused.status == 401


def test_redact_hides_a_token_offer() -> None:
    assert (
        redact("Sec-WebSocket-Protocol: chat, token.abc") == "Sec-WebSocket-Protocol: chat, token.[redacted]"
    )


def test_authlab_driven_like_the_browser() -> None:
    lab = AuthLab()
    assert "101: let in" in lab.text()
    lab.method.value = "message"
    lab.credential.value = "none"
    lab.connect_button.click()
    assert "Close 4401" in lab.text()
    assert "Close 4401" in lab.html()
    assert "Close 4401" in lab.output.value
    lab.method.value = "query"
    lab.credential.value = "wrong"
    lab.connect_button.click()
    assert "→ 403" in lab.text()
    assert "<script" not in lab.html()
    lab.close()


# --- WireTapView --------------------------------------------------------------------------------


def test_tap_rows_filter_and_explain() -> None:
    log = EventLog()
    log.record_http(1, "in", b"GET /ws HTTP/1.1\r\nHost: h\r\nCookie: a=b\r\n\r\n")
    text = serialize_frame(Frame(Opcode.TEXT, b"<b>hi</b>", masking_key=b"abcd"))
    log.record_frame(1, "in", Frame(Opcode.TEXT, b"<b>hi</b>", masking_key=b"abcd"), text)
    ping = serialize_frame(Frame(Opcode.PING, b""))
    log.record_frame(2, "out", Frame(Opcode.PING, b""), ping)
    log.record(2, "-", "close")
    events = log.events()
    assert len(tap_rows(events)) == 3  # open/close events are not on the wire
    assert [e.opcode for e in tap_rows(events, opcode="TEXT")] == ["TEXT"]
    assert [e.conn_id for e in tap_rows(events, conn_id=2)] == [2]
    assert [e.kind for e in tap_rows(events, opcode="HTTP")] == ["handshake"]
    assert row_label(tap_rows(events, opcode="TEXT")[0]).startswith("#1 → TEXT 9 B")
    explained_text, explained_html = explain_event(tap_rows(events, opcode="TEXT")[0])
    assert "masked" in explained_text and "<b>hi</b>" not in explained_html
    http_text, _ = explain_event(tap_rows(events, opcode="HTTP")[0])
    assert "a=b" not in http_text  # the log redacted the cookie


def test_wiretap_follows_a_live_proxy_and_a_click_explains() -> None:
    demo = start_demo("wiretap demo", ping_interval=None)
    proxy = start_proxy(demo.url, "wiretap proxy")
    proxy.event_log.clear()
    tap = WireTapView(proxy.event_log, refresh_every=0.05)
    try:
        with SyncClient(proxy.url + "/ws") as ws:
            ws.send("through the tap")
            assert ws.recv(timeout=TIMEOUT) == "through the tap"
        wait_until(lambda: len(tap.shown) >= 6)
        tap.refresh()
        conn = tap.connection.options[1][1]
        tap.connection.value = conn
        tap.opcode.value = "TEXT"
        assert [e.direction for e in tap.shown] == ["in", "out"]
        tap.select(1)
        assert "unmasked" in tap.detail.value and "through the tap" in tap.text()
        assert "TEXT frame" in tap.html()
        tap.opcode.value = "all"  # the selected frame stays selected
        assert tap.selected is not None and tap.selected.opcode == "TEXT"
        tap.opcode.value = "CLOSE"
        assert {e.opcode for e in tap.shown} == {"CLOSE"}
        again = WireTapView(proxy.event_log)  # a re-run cell: the old view stops following
        assert tap._unsubscribe is None
        again.close()
    finally:
        tap.close()
        proxy.stop()
        demo.stop()


# --- The evil page ------------------------------------------------------------------------------


def test_evil_page_escapes_its_target_and_serves_only_slash() -> None:
    page = evil_page("ws://x/</script><script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in page.split("<script>", 1)[0]
    assert page.count("</script>") == 1  # the target cannot end the script element
    assert "\\u003c/script\\u003e" in page
    site = EvilSite("ws://127.0.0.1:1/chat")
    assert site.process_request(Request("GET", "/")).status == 200
    assert site.process_request(Request("GET", "/other")).status == 404
    assert site.process_request(Request("GET", "/login")).status == 404  # no cookie to set
    login = EvilSite("ws://127.0.0.1:1/chat", ("session", "v")).process_request(Request("GET", "/login"))
    assert login.status == 200
    assert login.headers.get("Set-Cookie") == "session=v; Path=/; SameSite=Lax; HttpOnly"


def test_kernel_clients_with_a_browser_origin() -> None:
    demo = start_demo("origin demo", ping_interval=None)
    evil = start_evil_site(demo.url + "/chat", "origin evil")
    try:
        assert start_evil_site(demo.url + "/chat", "origin evil") is evil  # re-run: same site
        foreign = f"http://127.0.0.1:{evil.port}"
        with pytest.raises(HandshakeError) as refused:
            SyncClient(demo.url + "/chat", origin=foreign)
        assert refused.value.status == 403
        own = f"http://127.0.0.1:{demo.port}"
        with SyncClient(demo.url + "/chat", origin=own) as ws:
            assert ws.recv(timeout=TIMEOUT).isdigit()
    finally:
        evil.stop()
        demo.stop()


def test_evil_links_direct_and_behind_a_proxy() -> None:
    site = start_evil_site("ws://127.0.0.1:1/chat", "links evil")
    try:
        direct = evil_links(site, environ={"WSLEARN_BROWSER_URLS": "direct"})
        assert f"http://127.0.0.1:{site.port}/login" in direct.text()
        assert f"href='http://127.0.0.1:{site.port}/'" in direct._repr_html_()
        proxied = evil_links(site, environ={"WSLEARN_BROWSER_URLS": "proxy"})
        assert "local Jupyter" in proxied.text() and "href" not in proxied._repr_html_()
    finally:
        site.stop()
