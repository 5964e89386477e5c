"""The exercise engine: a table of cases, a student's answer, a verdict per case.

An :class:`Exercise` is an id (``"03.accept_key"``: chapter, dot, name), what the student
writes (a function with a fixed signature, or a value), and a table of :class:`Case` rows.
:func:`check` runs the student's answer on every row and returns a :class:`Result` that
renders in a notebook as a table (✔/✘, the input, expected and got, a hint, the RFC section)
and has ``.passed``. The same tables feed the course kit's hidden tests, so self-check and
grading never disagree.

Student code is untrusted in a gentler sense than bytes from the wire: it may raise, return
the wrong type, or loop forever. Each call runs in a worker thread with a time limit
(:func:`call_with_timeout`); an exception or a timeout becomes a ✘ with one readable line,
never a traceback wall and never a hung cell.

A *kata* is an exercise whose table grows with random cases drawn from a seed: the same
exercise with fresh inputs (``check(id, f, seed=7)``), repeatable, and different per
student when graded.

Every exercise also carries its reference solution and a few typical wrong answers
(:class:`Mistake`), each with the hint it must produce: the test suite checks that the
reference passes and that each mistake fails *with its hint*.
"""

from __future__ import annotations

import ctypes
import html
import random
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wslearn.i18n import _

#: How long one call of a student's function may take, in seconds.
DEFAULT_TIMEOUT = 2.0
#: Where "§5.2" points.
RFC_URL = "https://www.rfc-editor.org/rfc/rfc6455"
#: Reprs longer than this are cut in the table.
SHOWN_CHARS = 160


# --- The table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One row of an exercise's table.

    ``args`` are the positional arguments given to the student's function (for a value
    exercise, ``args[0]`` picks the part of the answer this row checks, see
    :meth:`Exercise.answer_for`). ``hint`` is shown when this row fails and no
    :attr:`Exercise.diagnose` rule explains the failure better.
    """

    args: tuple[Any, ...]
    expected: Any
    label: str = ""
    hint: str = ""
    rfc: str = ""


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer, kept with the exercise so that a test can check its hint."""

    name: str
    answer: Any
    hint: str  # a part of the hint a student with this mistake must see


Diagnose = Callable[[Case, Any], "str | None"]
CaseSource = Callable[[random.Random], Iterable[Case]]


@dataclass
class Exercise:
    """An exercise: what to write, the table of cases, and how to explain a failure.

    * ``kind`` is ``"function"`` (the answer is called with each case's ``args``) or
      ``"value"`` (the answer *is* the result, or a dict/list of results).
    * ``cases`` are the fixed rows; ``random_cases(rng)`` adds rows drawn from a seed
      (``random_count`` of them per check) for a kata.
    * ``diagnose(case, got)`` may return a hint for a recognisable wrong result (e.g. "you
      hashed the key without the GUID"); it wins over the case's own hint.
    * ``compare(expected, got)`` decides equality (default ``==`` with the same type).
    * ``hide_expected`` keeps the expected values out of the result (where they are the
      answers themselves: a value exercise read from seeded bytes).
    * ``run(answer, case)`` computes the result of a case when calling ``answer(*args)`` is
      not enough: e.g. serving a student's handler and talking to it. It runs under the
      same time limit as a plain call.
    """

    id: str
    title: str
    signature: str
    reference: Any
    cases: Sequence[Case] = ()
    kind: str = "function"
    rfc: str = ""
    random_cases: Callable[[random.Random, int], Iterable[Case]] | None = None
    random_count: int = 5
    diagnose: Diagnose | None = None
    compare: Callable[[Any, Any], bool] | None = None
    mistakes: Sequence[Mistake] = ()
    timeout: float = DEFAULT_TIMEOUT
    explanation: str = ""
    run: Callable[[Any, Case], Any] | None = None
    hide_expected: bool = False  # a value exercise whose expected values are the answers

    def table(self, seed: int | None = None) -> list[Case]:
        """The fixed cases, then (for a kata) the random ones drawn from ``seed``."""
        rows = list(self.cases)
        if self.random_cases is not None:
            rows.extend(self.random_cases(random.Random(seed), self.random_count))
        return rows

    def answer_for(self, answer: Any, case: Case) -> Any:
        """What a value exercise's answer says about one case."""
        if not case.args:
            return answer
        key = case.args[0]
        if isinstance(answer, dict):
            return answer.get(key, _MISSING)
        if isinstance(answer, (list, tuple)) and isinstance(key, int):
            return answer[key] if 0 <= key < len(answer) else _MISSING
        return answer

    def equal(self, expected: Any, got: Any) -> bool:
        if self.compare is not None:
            return bool(self.compare(expected, got))
        return same_type(expected, got) and bool(expected == got)


class _Missing:
    def __repr__(self) -> str:
        return _("(no answer)")


_MISSING: Any = _Missing()


def same_type(expected: Any, got: Any) -> bool:
    """True when ``got`` has the type ``expected`` has (a bool is not accepted as an int)."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(expected) is type(got)
    if isinstance(expected, (bytes, bytearray, memoryview)):
        return isinstance(got, (bytes, bytearray))
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(got, (int, float))
    return expected is None or got is None or isinstance(got, type(expected))


# --- The registry ---------------------------------------------------------------------------

_EXERCISES: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the course (an id may be registered once)."""
    if exercise.id in _EXERCISES and _EXERCISES[exercise.id] is not exercise:
        raise ValueError(f"exercise {exercise.id!r} is registered twice")
    _EXERCISES[exercise.id] = exercise
    return exercise


def get(exercise_id: str) -> Exercise:
    """The exercise with this id; a clear error with the known ids otherwise."""
    from . import load_all

    load_all()
    try:
        return _EXERCISES[exercise_id]
    except KeyError:
        chapter = exercise_id.split(".", 1)[0]
        near = [name for name in _EXERCISES if name.startswith(chapter + ".")] or sorted(_EXERCISES)
        raise KeyError(f"no exercise {exercise_id!r}; known: {', '.join(sorted(near))}") from None


def all_exercises() -> list[Exercise]:
    """Every exercise of the course, in id order."""
    from . import load_all

    load_all()
    return [_EXERCISES[name] for name in sorted(_EXERCISES)]


# --- Running student code -----------------------------------------------------------------


class StudentTimeout(Exception):
    """Raised inside a student's function that ran past its time limit."""


@dataclass
class Outcome:
    """What one call of a student's function did: a value, an exception, or a timeout."""

    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False


def call_with_timeout(function: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Outcome:
    """Call ``function(*args)`` in a worker thread, for at most ``timeout`` seconds.

    A function still running then gets a :class:`StudentTimeout` raised inside it (CPython's
    ``PyThreadState_SetAsyncExc``), which stops a pure-Python infinite loop at its next
    bytecode. A call blocked inside C (``time.sleep(1e9)``) cannot be interrupted: it is
    reported as a timeout and left to finish on its own in a daemon thread.
    """
    outcome = Outcome()

    def work() -> None:
        try:
            outcome.value = function(*args)
        except BaseException as error:  # the student's code may raise anything, even SystemExit
            outcome.error = error

    worker = threading.Thread(target=work, name="wslearn-exercise", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        outcome.timed_out = True
        _raise_in(worker, StudentTimeout)
        worker.join(0.5)
    return outcome


def _raise_in(thread: threading.Thread, exception: type[BaseException]) -> None:
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exception))


# --- Checking -------------------------------------------------------------------------------


@dataclass
class CaseResult:
    """The verdict on one case."""

    case: Case
    passed: bool
    got: Any = None
    message: str = ""  # what went wrong, in one line (empty when passed)

    @property
    def hint(self) -> str:
        return "" if self.passed else self.message


@dataclass
class Result:
    """The verdict on a whole answer: one :class:`CaseResult` per case. Renders in a notebook."""

    exercise: Exercise
    results: list[CaseResult]
    seed: int | None = None
    problem: str = ""  # a problem with the answer as a whole (not callable, ...)
    rows_shown: int = 12

    @property
    def passed(self) -> bool:
        return not self.problem and all(result.passed for result in self.results)

    @property
    def score(self) -> tuple[int, int]:
        """(cases passed, cases in all)."""
        return sum(result.passed for result in self.results), len(self.results)

    @property
    def failures(self) -> list[CaseResult]:
        return [result for result in self.results if not result.passed]

    @property
    def hints(self) -> list[str]:
        """The hints of the failed cases, each once, in order (the problem first)."""
        seen = [self.problem] if self.problem else []
        for result in self.failures:
            if result.message not in seen:
                seen.append(result.message)
        return seen

    def headline(self) -> str:
        done, total = self.score
        if self.problem:
            return f"✘ {self.exercise.id}: {self.problem}"
        if self.passed:
            return _("✔ {id}: all {total} cases pass").format(id=self.exercise.id, total=total)
        return _("✘ {id}: {done} of {total} cases pass").format(id=self.exercise.id, done=done, total=total)

    def __str__(self) -> str:
        lines = [self.headline()]
        for result in self._shown():
            mark = "✔" if result.passed else "✘"
            lines.append(f"  {mark} {describe(self.exercise, result.case)}")
            if not result.passed:
                shown = _("expected {expected}, got {got}").format(
                    expected=shown_expected(self.exercise, result.case), got=short(result.got)
                )
                lines.append(f"      {shown}")
                hint = _("hint: {hint}").format(hint=result.message)
                lines.append(f"      {hint}" + _rfc_suffix(result.case, self.exercise))
        lines.extend(self._footer())
        return "\n".join(lines)

    __repr__ = __str__

    def _shown(self) -> list[CaseResult]:
        """Every failure (up to rows_shown), then passes to fill the rest."""
        failures = self.failures[: self.rows_shown]
        passes = [r for r in self.results if r.passed][: max(0, self.rows_shown - len(failures))]
        return [r for r in self.results if r in failures or r in passes]

    def _footer(self) -> list[str]:
        lines = []
        hidden = len(self.results) - len(self._shown())
        if hidden:
            lines.append("  " + _("… and {count} more cases").format(count=hidden))
        if self.seed is not None:
            lines.append(
                "  "
                + _("(random cases from seed={seed}: pass the same seed to repeat them)").format(
                    seed=self.seed
                )
            )
        return lines

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        head = f"<p style='color:{colour};font-weight:bold'>{esc(self.headline())}</p>"
        if not self.results:
            return head
        rows = "".join(_html_row(self.exercise, result) for result in self._shown())
        header = "".join(
            f"<th style='{_CELL}'>{esc(name)}</th>"
            for name in ("", _("case"), _("expected"), _("got"), _("hint"))
        )
        footer = "".join(f"<p>{esc(line.strip())}</p>" for line in self._footer())
        table = f"<table class='wslearn-result' style='{_TABLE}'><tr>{header}</tr>{rows}</table>"
        return f"<div class='wslearn-check'>{head}{table}{footer}</div>"


_TABLE = "border-collapse:collapse;font-size:90%"
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"


def _html_row(exercise: Exercise, result: CaseResult) -> str:
    mark = "✔" if result.passed else "✘"
    hint = "" if result.passed else esc(result.message) + rfc_links(result.case.rfc or exercise.rfc)
    got = "" if result.passed else f"<code>{esc(short(result.got))}</code>"
    cells = (
        mark,
        esc(describe(exercise, result.case)),
        f"<code>{esc(shown_expected(exercise, result.case))}</code>",
        got,
        hint,
    )
    return "<tr>" + "".join(f"<td style='{_CELL}'>{cell}</td>" for cell in cells) + "</tr>"


def _rfc_suffix(case: Case, exercise: Exercise) -> str:
    section = case.rfc or exercise.rfc
    return f" (RFC 6455 {section})" if section else ""


def check(exercise_id: str, answer: Any, *, seed: int | None = None) -> Result:
    """Grade ``answer`` (a function, or a value) against the exercise's table.

    ``seed`` draws a kata's random cases: the same seed gives the same cases. Without one,
    a fresh seed is drawn and shown, so the run can be repeated.
    """
    return check_exercise(get(exercise_id), answer, seed=seed)


def check_exercise(exercise: Exercise, answer: Any, *, seed: int | None = None) -> Result:
    """:func:`check` for an :class:`Exercise` object (registered or not)."""
    if exercise.random_cases is not None and seed is None:
        seed = random.randrange(10_000)
    cases = exercise.table(seed)
    shown_seed = seed if exercise.random_cases is not None else None
    if exercise.kind == "function" and not callable(answer):
        problem = _("expected a function {signature}, got {type} {value}").format(
            signature=exercise.signature, type=type(answer).__name__, value=short(answer)
        )
        failed = [CaseResult(case, False, _MISSING, problem) for case in cases]
        return Result(exercise, failed, shown_seed, problem)
    results = [check_case(exercise, answer, case) for case in cases]
    return Result(exercise, results, shown_seed)


def check_case(exercise: Exercise, answer: Any, case: Case) -> CaseResult:
    """Run one case and judge it."""
    if exercise.kind == "function":
        if exercise.run is not None:
            outcome = call_with_timeout(exercise.run, (answer, case), exercise.timeout)
        else:
            outcome = call_with_timeout(answer, case.args, exercise.timeout)
        if outcome.timed_out:
            message = _(
                "still running after {seconds} s: an infinite loop, or a wait that never ends?"
            ).format(seconds=f"{exercise.timeout:g}")
            return CaseResult(case, False, _MISSING, message)
        if outcome.error is not None:
            return CaseResult(case, False, _MISSING, _raised_with_diagnosis(exercise, case, outcome.error))
        got = outcome.value
    else:
        got = exercise.answer_for(answer, case)
    if exercise.equal(case.expected, got):
        return CaseResult(case, True, got)
    return CaseResult(case, False, got, explain_failure(exercise, case, got))


def _raised_with_diagnosis(exercise: Exercise, case: Case, error: BaseException) -> str:
    """The exception in one line, and what ``diagnose`` makes of it (it gets the exception
    as ``got``: e.g. an IndexError on a cut header means "return None: need more bytes")."""
    message = raised(error)
    if exercise.diagnose is not None:
        try:
            diagnosis = exercise.diagnose(case, error)
        except Exception:  # a best effort, as for wrong results
            diagnosis = None
        if diagnosis:
            return f"{message}: {diagnosis}"
    return message


def explain_failure(exercise: Exercise, case: Case, got: Any) -> str:
    """The hint for a wrong result: a diagnosis, a type mismatch, or the case's own hint."""
    if got is _MISSING:
        return _("no answer for this case")
    if exercise.diagnose is not None:
        try:
            diagnosis = exercise.diagnose(case, got)
        except Exception:  # a diagnosis is a best effort; a strange answer must not break it
            diagnosis = None
        if diagnosis:
            return _(diagnosis)  # a fixed diagnosis has its translation; a computed one stays as it is
    if got is None and case.expected is not None:
        return _("returned None: is a `return` missing, or is the cell still the `...` stub?")
    if not same_type(case.expected, got) and exercise.compare is None:
        return _("expected a {expected}, got a {got}").format(
            expected=type(case.expected).__name__, got=type(got).__name__
        )
    return _(case.hint) if case.hint else _("not the expected result")


def raised(error: BaseException) -> str:
    """An exception from student code, as one line: its type, its message, where it happened."""
    where = ""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        where = " " + _("(line {line} of {function})").format(
            line=tb.tb_lineno, function=tb.tb_frame.f_code.co_name
        )
    text = str(error)
    name = type(error).__name__
    if text:
        return _("raised {error}: {message}").format(error=name, message=text) + where
    return _("raised {error}").format(error=name) + where


# --- Showing ----------------------------------------------------------------------------------


def short(value: Any, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters; bytes as hex, the way the course shows
    frames (``81 05 48 65 6c 6c 6f (7 bytes)``)."""
    if isinstance(value, (bytes, bytearray)):
        return hex_bytes(bytes(value), limit)
    try:
        text = repr(value)
    except Exception as error:  # a student's object with a broken __repr__
        text = f"<unprintable {type(value).__name__}: {error}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown_expected(exercise: Exercise, case: Case) -> str:
    """The expected value as the result shows it: hidden where it is the answer itself."""
    return "(not shown: read it yourself)" if exercise.hide_expected else short(case.expected)


def hex_bytes(data: bytes, limit: int = SHOWN_CHARS) -> str:
    """Bytes as hex pairs with their count: ``81 05 48 (3 bytes)``; cut to about ``limit``."""
    if not data:
        return "b'' (0 bytes)"
    shown = data[: max(1, (limit - 16) // 3)]
    more = "…" if len(shown) < len(data) else ""
    return f"{shown.hex(' ')}{more} ({len(data)} byte{'s' if len(data) != 1 else ''})"


def describe(exercise: Exercise, case: Case) -> str:
    """How a case is shown: its label, or the call it makes."""
    if case.label:
        return _(case.label)
    if exercise.kind == "value":
        return short(case.args[0]) if case.args else _(exercise.title)
    name = exercise.signature.split("(", 1)[0] or "f"
    return f"{name}({', '.join(short(arg, 60) for arg in case.args)})"


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


_SECTION = re.compile(r"§\s?(\d+(?:\.\d+)*)")


def rfc_links(text: str) -> str:
    """Each "§5.2" in ``text`` as a link to that section of RFC 6455 (HTML)."""
    links = [
        f" <a href='{RFC_URL}#section-{number}' target='_blank' rel='noopener'>RFC 6455 §{number}</a>"
        for number in _SECTION.findall(text or "")
    ]
    return "".join(links)


# --- Quizzes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A checkpoint question: multiple choice (``choices``) or numeric (no choices).

    ``answer`` is the index of the right choice, or the number (within ``tolerance``).
    ``explanation`` is shown once the question is answered, right or wrong.
    """

    prompt: str
    answer: int | float
    explanation: str
    choices: tuple[str, ...] = ()
    tolerance: float = 0.0
    rfc: str = ""

    @property
    def numeric(self) -> bool:
        return not self.choices


@dataclass
class Quiz:
    """The questions at the end of a chapter, each registered as a value exercise."""

    id: str
    title: str
    questions: list[Question] = field(default_factory=list)

    def question_id(self, number: int) -> str:
        """The exercise id of question ``number`` (1-based): ``"03.checkpoint.2"``."""
        return f"{self.id}.{number}"

    def check(self, number: int, answer: Any) -> Result:
        """Check the answer to question ``number`` (1-based; a choice by index or by letter)."""
        return check(self.question_id(number), choice_index(self.questions[number - 1], answer))

    def __str__(self) -> str:
        lines = [_(self.title)]
        for number, question in enumerate(self.questions, 1):
            lines.append(f"{number}. {_(question.prompt)}")
            lines.extend(
                f"   {letter}) {_(choice)}"
                for letter, choice in zip("abcdefgh", question.choices, strict=False)
            )
            if question.numeric:
                lines.append("   " + _("(a number)"))
        how = f"wslearn.exercises.quiz({self.id!r}).check(1, 'b')"
        lines.append(_("Answer in a cell: {code}").format(code=how))
        return "\n".join(lines)


_QUIZZES: dict[str, Quiz] = {}


def choice_index(question: Question, answer: Any) -> Any:
    """A choice given as a letter ("b") becomes its index (1); anything else is left as it is."""
    if question.choices and isinstance(answer, str) and len(answer.strip()) == 1:
        letter = answer.strip().lower()
        if letter in "abcdefgh"[: len(question.choices)]:
            return "abcdefgh".index(letter)
    return answer


def _quiz_compare(question: Question) -> Callable[[Any, Any], bool]:
    def compare(expected: Any, got: Any) -> bool:
        got = choice_index(question, got)
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return False
        if question.numeric:
            return abs(float(got) - float(expected)) <= question.tolerance
        return bool(got == expected)

    return compare


def register_quiz(quiz_id: str, title: str, questions: Sequence[Question]) -> Quiz:
    """Register a chapter's checkpoint: question ``n`` becomes the exercise ``f"{quiz_id}.{n}"``."""
    quiz = Quiz(quiz_id, title, list(questions))
    for number, question in enumerate(quiz.questions, 1):
        expected = question.answer
        shown = question.choices[int(expected)] if question.choices else expected
        register(
            Exercise(
                id=quiz.question_id(number),
                title=question.prompt,
                signature="a choice" if question.choices else "a number",
                reference=expected,
                kind="value",
                rfc=question.rfc,
                cases=(Case((), expected, label=question.prompt, hint=f"the answer is {shown}"),),
                compare=_quiz_compare(question),
                explanation=question.explanation,
            )
        )
    _QUIZZES[quiz_id] = quiz
    return quiz


def quiz(quiz_id: str) -> Quiz:
    """The checkpoint quiz with this id (``"03.checkpoint"``)."""
    from . import load_all

    load_all()
    try:
        return _QUIZZES[quiz_id]
    except KeyError:
        raise KeyError(f"no quiz {quiz_id!r}; known: {', '.join(sorted(_QUIZZES))}") from None


def all_quizzes() -> list[Quiz]:
    from . import load_all

    load_all()
    return [_QUIZZES[name] for name in sorted(_QUIZZES)]
