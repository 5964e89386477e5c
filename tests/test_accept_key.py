"""Chapter 03: the exercises agree with real implementations, and the AcceptKeyWidget never
shows an accept value for a key a server refuses, nor breaks its layout on a long key."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import chromium
from websockets.utils import accept_key as websockets_accept_key

from wslearn.exercises import check
from wslearn.exercises.ch03 import (
    RFC_ACCEPT,
    RFC_KEY,
    SHORT_KEY,
    VALID_KEY_CASES,
    accept_key,
    is_valid_key,
    random_key,
    random_valid_key_cases,
)
from wslearn.handshake import accept_key as wslearn_accept_key
from wslearn.notebook.widgets import AcceptKeyWidget
from wslearn.notebook.widgets.accept import accept_text, refusal, shorten

LONG_KEY = "A" * 300

# --- The exercises ------------------------------------------------------------------------------


def test_the_reference_accept_key_agrees_with_the_websockets_library_and_wslearn() -> None:
    rng = random.Random(6455)
    for key in [RFC_KEY, SHORT_KEY, *(random_key(rng) for _ in range(200))]:
        assert accept_key(key) == websockets_accept_key(key) == wslearn_accept_key(key)
    assert accept_key(RFC_KEY) == RFC_ACCEPT


def test_is_valid_key_says_what_wslearns_server_says() -> None:
    keys = [case.args[0] for case in VALID_KEY_CASES]
    for seed in range(20):
        keys += [case.args[0] for case in random_valid_key_cases(random.Random(seed), 10)]
    assert any(is_valid_key(key) for key in keys) and not all(is_valid_key(key) for key in keys)
    for key in keys:
        assert is_valid_key(key) == (refusal(key) is None), key


def test_the_articles_keys() -> None:
    assert not is_valid_key(SHORT_KEY)
    assert is_valid_key("sN9cRrP/n9NdMgdcy2VJFQ==")


def test_a_student_stub_gets_a_readable_verdict() -> None:
    result = check("03.accept_key", lambda key: None, seed=0)
    assert not result.passed
    assert "returned None" in result.hints[0]


def test_a_student_exception_is_one_line() -> None:
    def broken(key: str) -> bool:
        raise RuntimeError("not written yet")

    result = check("03.is_valid_key", broken, seed=0)
    assert not result.passed
    assert result.hints[0].startswith("raised RuntimeError: not written yet")


# --- The widget ---------------------------------------------------------------------------------


def test_a_valid_key_gets_an_accept_value() -> None:
    widget = AcceptKeyWidget(RFC_KEY)
    assert widget.accept == RFC_ACCEPT
    assert f"The server answers Sec-WebSocket-Accept: {RFC_ACCEPT}" in widget.text()
    assert "The server answers" in widget.html()
    assert "no server sends it" not in widget.html()
    # one element carries the accept value: the browser test of the start notebook reads it
    assert widget.html().count("wslearn-accept-value") == 1


@pytest.mark.parametrize("key", [SHORT_KEY, "", "!!!!!!!!!!!!!!!!!!!!!!!!", LONG_KEY])
def test_an_invalid_key_gets_no_accept_value(key: str) -> None:
    widget = AcceptKeyWidget(key)
    assert widget.accept is None
    text, page = widget.text(), widget.html()
    for view in (text, page):
        assert "a server refuses this key: 400" in view
        assert "The server answers" not in view
        assert "no server sends it" in view
    assert "sends no Sec-WebSocket-Accept" in text
    assert "400 Bad Request" in page
    assert "wslearn-accept-value" not in page  # the formula's value is not shown as an accept
    assert "wslearn-formula-value" in page


def test_typing_switches_between_the_two_verdicts() -> None:
    widget = AcceptKeyWidget(SHORT_KEY)
    assert widget.accept is None
    widget.key.value = "sN9cRrP/n9NdMgdcy2VJFQ=="  # what the browser does on each keystroke
    assert widget.accept == "fFBooB7FAkLlXgRSz0BT3v4hq5s="
    assert "The server answers" in widget.steps.value
    widget.key.value = "sN9cRrP/n9NdMgdcy2VJFQ="
    assert widget.accept is None
    assert "The server answers" not in widget.steps.value


def test_the_views_follow_the_widget_rules() -> None:
    widget = AcceptKeyWidget()
    assert str(widget) == repr(widget) == widget.text()
    assert widget._repr_html_() == widget.html() == widget.steps.value
    assert "wslearn-accept-key" in widget._dom_classes


def test_a_long_key_is_cut_in_both_views() -> None:
    widget = AcceptKeyWidget(LONG_KEY)
    for view in (widget.text(), widget.html()):
        assert LONG_KEY not in view
        assert "(300 characters)" in view
        assert "(336 characters)" in view  # key + GUID
    assert max(len(line) for line in widget.text().splitlines()) < 200
    assert shorten("abc", 5) == "abc" and shorten("abcdef", 5) == "abcde… (6 characters)"


def test_untrusted_text_is_escaped_in_both_views() -> None:
    widget = AcceptKeyWidget("<script>alert(1)</script>")
    assert "<script>" not in widget.html()
    assert "&lt;script&gt;" in widget.html()
    assert "<script>" in widget.text()  # the text view is plain text, shown as text


def test_the_text_function_matches_the_widget() -> None:
    widget = AcceptKeyWidget(SHORT_KEY)
    assert widget.text() == accept_text(widget.steps_of, refusal(SHORT_KEY))


# --- The layout, in a real browser --------------------------------------------------------------


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with chromium() as browser:
        yield browser.new_page(viewport={"width": 640, "height": 800})


@pytest.mark.parametrize("key", [RFC_KEY, SHORT_KEY, LONG_KEY, "A/" * 40 + " " + "x" * 500])
def test_the_html_view_fits_a_narrow_page(page: Any, key: str) -> None:
    page.set_content(f"<html><body style='margin:8px'>{AcceptKeyWidget(key).html()}</body></html>")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 640, f"the view is {width} px wide on a 640 px page"
