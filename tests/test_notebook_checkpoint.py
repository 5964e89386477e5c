"""The Checkpoint widget and show_source, driven as the browser drives them."""

from __future__ import annotations

import pytest

from wslearn.exercises import Question, core
from wslearn.notebook import show_source
from wslearn.notebook.widgets import Checkpoint


@pytest.fixture
def quiz_id(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(core, "_EXERCISES", {})
    monkeypatch.setattr(core, "_QUIZZES", {})
    core.register_quiz(
        "99.checkpoint",
        "Checkpoint <99>",
        [
            Question("Opcode of <Ping>?", 1, "0x9 (§5.5.2)", choices=("0x8", "0x9", "<b>0xA</b>")),
            Question("Bytes in a masking key?", 4, "32 bits (§5.3)"),
        ],
    )
    return "99.checkpoint"


def test_clicking_check_shows_the_verdict_and_the_score(quiz_id: str) -> None:
    checkpoint = Checkpoint(quiz_id)
    first, second = checkpoint.questions
    first.answer.value = 0
    first.button.click()
    assert "✘ not quite" in first.feedback.value
    assert "0x9 (§5.5.2)" in first.feedback.value
    first.answer.value = 1
    first.button.click()
    assert "✔ right" in first.feedback.value
    second.answer.value = 4.0
    second.button.click()
    assert "2 of 2 right" in checkpoint.score.value


def test_answering_from_code(quiz_id: str) -> None:
    checkpoint = Checkpoint(quiz_id)
    assert checkpoint.answer(1, "b").passed
    assert not checkpoint.answer(2, 5).passed
    assert "1 of 2 right (2 answered)" in checkpoint.score.value


def test_text_and_static_html_views_escape(quiz_id: str) -> None:
    checkpoint = Checkpoint(quiz_id)
    assert "1. Opcode of <Ping>?" in str(checkpoint)
    assert "c) <b>0xA</b>" in str(checkpoint)
    page = checkpoint._repr_html_()
    assert "&lt;b&gt;0xA&lt;/b&gt;" in page and "<b>0xA" not in page
    assert "Checkpoint &lt;99&gt;" in page


def test_show_source_links_the_sections_it_cites() -> None:
    from wslearn.handshake import accept_key

    source = show_source(accept_key)
    assert source.name == "wslearn.handshake.accept_key"
    assert source.filename == "wslearn/handshake.py"
    assert "def accept_key(key: str) -> str:" in str(source)
    assert "4.2.2" in source.sections
    assert "rfc6455#section-4.2.2" in source._repr_html_()


def test_show_source_of_something_without_source() -> None:
    with pytest.raises(TypeError, match="no Python source"):
        show_source(len)
