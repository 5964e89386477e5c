"""Credentials are hidden in one place, with one marker (wslearn.redaction).

The views of a request (``str()``, the HTML), the event log and the error answers that
quote what they refuse all go through the same functions, so they hide the same things
the same way.
"""

from __future__ import annotations

import pytest

import wslearn.eventlog
import wslearn.explain
import wslearn.handshake
from wslearn.errors import HandshakeError
from wslearn.handshake import build_request
from wslearn.http import Request, Response
from wslearn.redaction import MARKER, redact_http, redact_value

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def test_one_marker_everywhere() -> None:
    assert MARKER == "[redacted]"
    assert wslearn.eventlog.REDACTED is MARKER
    req = build_request(
        "h", "/ws?token=abc", key=KEY, extra_headers=[("Cookie", "sid=1"), ("Authorization", "Basic x")]
    )
    views = [str(req), wslearn.explain.request_html(req), redact_http(req.serialize()).decode()]
    for view in views:
        assert MARKER in view
        assert "«hidden»" not in view and "abc" not in view


def test_the_names_the_views_keep() -> None:
    assert redact_value("Authorization", "Bearer abc", keep_names=True) == f"Bearer {MARKER}"
    assert redact_value("Cookie", "a=1; b=2", keep_names=True) == f"a={MARKER}; b={MARKER}"
    assert redact_value("Set-Cookie", "sid=3; HttpOnly", keep_names=True) == f"sid={MARKER}; HttpOnly"
    assert redact_value("Authorization", "Bearer abc") == MARKER  # what a log keeps: nothing
    assert redact_value("Referer", "http://h/?token=4") == f"http://h/?token={MARKER}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Cookie", "thewholecookieisthesecret"),  # no "=": all of it may be the value
        ("Cookie", "a=1; thesecretalone"),
        ("Set-Cookie", "thesecretalone; HttpOnly"),
        ("Authorization", "thesecretalone"),  # no scheme
    ],
)
def test_a_value_without_a_name_is_hidden_whole(name: str, value: str) -> None:
    secret = "thesecretalone" if "thesecretalone" in value else value
    shown = redact_value(name, value, keep_names=True)
    assert secret not in shown and MARKER in shown
    req = Request(headers=wslearn.handshake.Headers([(name, value)]))
    assert secret not in str(req) and secret not in wslearn.explain.request_html(req)
    resp = Response(200, "OK", headers=wslearn.handshake.Headers([(name, value)]))
    assert secret not in str(resp)


def test_error_answers_quote_through_the_same_functions() -> None:
    with pytest.raises(HandshakeError) as caught:
        Request.parse(b"GET /ws?token=abc HTTP/1.1 extra\r\nHost: h\r\n\r\n")
    assert "abc" not in caught.value.reason and MARKER in caught.value.reason
