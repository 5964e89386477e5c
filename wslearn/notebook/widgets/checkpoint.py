"""The checkpoint at the end of a chapter: a few questions, instant feedback, an explanation.

The answers are checked by :mod:`wslearn.exercises` (each question is a value exercise,
``"03.checkpoint.1"`` …), so the widget, ``quiz("03.checkpoint").check(1, "b")`` in a plain
cell, and the course kit's grader all agree.
"""

from __future__ import annotations

import contextlib

import ipywidgets as widgets
from traitlets import TraitError

from wslearn.exercises import Question, Quiz, Result, quiz
from wslearn.exercises.core import choice_index
from wslearn.i18n import _

from .common import GREEN, RED, Views, esc, fitting_label

LETTERS = "abcdefgh"


class QuestionView(widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """One question: its choices (or a number box), a "check" button, and the feedback."""

    def __init__(self, quiz: Quiz, number: int) -> None:
        self.quiz = quiz
        self.number = number
        self.question: Question = quiz.questions[number - 1]
        self.result: Result | None = None
        prompt = widgets.HTML(f"<b>{number}. {esc(_(self.question.prompt))}</b>")
        if self.question.choices:
            options = [(f"{LETTERS[i]}) {_(choice)}", i) for i, choice in enumerate(self.question.choices)]
            self.answer: widgets.Widget = widgets.RadioButtons(
                options=options, value=None, layout=widgets.Layout(width="auto")
            )
        else:
            self.answer = widgets.FloatText(
                value=0.0, description=_("answer"), layout=widgets.Layout(width="14em")
            )
        self.button = widgets.Button(
            description=_("check"), tooltip=quiz.question_id(number), layout=fitting_label()
        )
        self.feedback = widgets.HTML()
        super().__init__([prompt, self.answer, self.button, self.feedback])
        self.add_class("wslearn-question")
        self.button.on_click(lambda _button: self.submit())

    def submit(self, answer: object = None) -> Result:
        """Check ``answer`` (or what is selected) and show the verdict and the explanation."""
        value = self.answer.value if answer is None else choice_index(self.question, answer)
        if answer is not None:
            with contextlib.suppress(TraitError, TypeError, ValueError):  # shown only if the widget can
                self.answer.value = value
        self.result = self.quiz.check(self.number, value)
        self.feedback.value = feedback_html(self.question, self.result)
        return self.result


def feedback_html(question: Question, result: Result) -> str:
    colour, mark = (GREEN, _("✔ right")) if result.passed else (RED, _("✘ not quite"))
    explanation = esc(_(question.explanation))
    return f"<p><span style='color:{colour};font-weight:bold'>{esc(mark)}.</span> {explanation}</p>"


class Checkpoint(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """The quiz ``quiz_id`` (e.g. ``"03.checkpoint"``) as a widget, with a running score."""

    def __init__(self, quiz_id: str) -> None:
        self.quiz = quiz(quiz_id)
        self.questions = [QuestionView(self.quiz, n) for n in range(1, len(self.quiz.questions) + 1)]
        self.score = widgets.HTML()
        title = widgets.HTML(f"<h3>{esc(_(self.quiz.title))}</h3>")
        super().__init__([title, *self.questions, self.score])
        self.add_class("wslearn-checkpoint")
        for view in self.questions:
            view.button.on_click(lambda _button: self._show_score())
        self._show_score()

    def answer(self, number: int, value: object) -> Result:
        """Answer question ``number`` (1-based) from code: a choice's letter or index, or a number."""
        result = self.questions[number - 1].submit(value)
        self._show_score()
        return result

    @property
    def right(self) -> int:
        return sum(1 for view in self.questions if view.result is not None and view.result.passed)

    def _show_score(self) -> None:
        answered = sum(1 for view in self.questions if view.result is not None)
        score = _("{right} of {total} right ({answered} answered)").format(
            right=self.right, total=len(self.questions), answered=answered
        )
        self.score.value = f"<p class='wslearn-score'>{esc(score)}</p>"

    def text(self) -> str:
        return str(self.quiz)

    def html(self) -> str:
        items = []
        for question in self.quiz.questions:
            choices = (
                "".join(f"<li>{esc(_(choice))}</li>" for choice in question.choices)
                or f"<li>{esc(_('(a number)'))}</li>"
            )
            items.append(f"<li>{esc(_(question.prompt))}<ol type='a'>{choices}</ol></li>")
        how = f"quiz({self.quiz.id!r}).check(1, 'b')"
        answer = "<p>" + esc(_("Answer in a cell: {code}")).format(code=f"<code>{esc(how)}</code>") + "</p>"
        return f"<h3>{esc(_(self.quiz.title))}</h3><ol>{''.join(items)}</ol>{answer}"
