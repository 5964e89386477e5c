"""The CloseCodeExplorer widget, its table of codes (RFC 6455 §7.4) and chapter 08's exercises."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wslearn.demo.scenarios import PROVOKERS
from wslearn.exercises import check, get
from wslearn.exercises.ch08 import SEED_004_ROWS, WRONG_ROWS, _classify_reference
from wslearn.frames import close_code_range, is_valid_close_code
from wslearn.notebook import running_servers
from wslearn.notebook.widgets import CloseCodeExplorer
from wslearn.notebook.widgets.closecodes import CODE_ROWS, browser_close_allows


def test_the_rows_cover_every_two_byte_code_once() -> None:
    covered = [code for row in CODE_ROWS for code in range(row.first, row.last + 1)]
    assert covered == list(range(0, 65536))


def test_every_code_of_a_row_behaves_like_the_row() -> None:
    for row in CODE_ROWS:
        for code in range(row.first, row.last + 1):
            assert is_valid_close_code(code) == row.on_the_wire, code
            assert browser_close_allows(code) == row.browser_close, code


@pytest.mark.parametrize(
    ("code", "allowed"),
    [
        (999, False),
        (1000, True),
        (1001, False),
        (1011, False),
        (2999, False),
        (3000, True),
        (4999, True),
        (5000, False),
    ],
)
def test_browser_close_allows_only_1000_and_3000_to_4999(code: int, allowed: bool) -> None:
    assert browser_close_allows(code) is allowed


def test_every_provoker_has_a_row_with_a_button() -> None:
    provokable = {row.provokable for row in CODE_ROWS} - {None}
    assert provokable == set(PROVOKERS)
    # Every code of 1000-1015 but the reserved 1004 can be made to happen.
    assert set(range(1000, 1016)) - provokable == {1004}


@pytest.fixture
def explorer() -> Iterator[CloseCodeExplorer]:
    widget = CloseCodeExplorer()
    yield widget
    for name, server in running_servers().items():
        if name.startswith("close codes"):
            server.stop()


def test_clicking_provoke_shows_the_frames(explorer: CloseCodeExplorer) -> None:
    assert "Press a Provoke button" in explorer.result.value
    explorer.buttons[(1007, "invalid UTF-8")].click()
    assert explorer.last is not None and explorer.last.code == 1007
    assert "1007" in explorer.result.value and "CLOSE" in explorer.result.value
    assert "1007" in explorer.text().split("\n\n", 1)[1]
    explorer.buttons[(1011, "ping timeout")].click()
    assert explorer.last.code == 1011 and "no pong" in explorer.last.server_saw


def test_static_views_list_every_row(explorer: CloseCodeExplorer) -> None:
    html, text = explorer.html(), explorer.text()
    for row in CODE_ROWS:
        assert row.label in html and row.label in text
    assert "wslearn-close-code-explorer" in explorer._dom_classes


# --- 08.classify and 08.seed004_rows ------------------------------------------------------------

CATEGORY_OF_RANGE = {"0-999": "unused", "1000-1015": "protocol", "1016-2999": "protocol"}
CATEGORY_OF_RANGE |= {"3000-3999": "registered", "4000-4999": "private"}


def test_classify_reference_agrees_with_the_library() -> None:
    for code in range(-5, 70000):
        category, sendable = _classify_reference(code)
        assert sendable == is_valid_close_code(code)
        prefix = close_code_range(code).split(":", 1)[0]
        assert category == CATEGORY_OF_RANGE.get(prefix, "invalid"), code


def test_the_never_sent_rows_are_the_codes_the_library_refuses() -> None:
    # 1005, 1006, 1015 are flagged for leaving out "never sent"; they are exactly the codes
    # of 1000-1015 that may not be sent, apart from the reserved 1004.
    never_sent = {int(row) for row, why in WRONG_ROWS.items() if "never be put" in why}
    refused = {code for code in range(1000, 1016) if not is_valid_close_code(code)} - {1004}
    assert never_sent == refused


def test_seed_rows_and_the_exercise_agree() -> None:
    assert set(WRONG_ROWS) <= set(SEED_004_ROWS)
    assert get("08.seed004_rows").reference == {row: row in WRONG_ROWS for row in SEED_004_ROWS}
    # The misnamed row carries the name of another code: 1003's.
    assert SEED_004_ROWS["1007"][0] == "Unsupported Data"


def test_a_list_instead_of_a_tuple_gets_a_type_hint() -> None:
    result = check("08.classify", lambda code: list(_classify_reference(code)), seed=0)
    assert not result.passed
    assert any("pair" in hint or "tuple" in hint for hint in result.hints)
