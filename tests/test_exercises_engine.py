"""The exercise engine itself: verdicts, hints, timeouts, seeds and views, on small exercises
made here (not registered, so the course's table stays the course's)."""

from __future__ import annotations

import random
import threading
import time

import pytest

from wslearn.exercises import Case, Exercise, Mistake, Question, call_with_timeout, check_exercise
from wslearn.exercises.core import register_quiz, rfc_links


def double(x: int) -> int:
    return 2 * x


def random_doubles(rng: random.Random, count: int) -> list[Case]:
    return [Case((n,), 2 * n) for n in (rng.randrange(1000) for _ in range(count))]


EXERCISE = Exercise(
    id="99.double",
    title="double a number",
    signature="double(x: int) -> int",
    reference=double,
    cases=(Case((0,), 0, hint="zero doubles to zero"), Case((21,), 42, rfc="§5.2")),
    random_cases=random_doubles,
    diagnose=lambda case, got: "you added instead of multiplying" if got == case.args[0] + 2 else None,
    mistakes=(Mistake("adds", lambda x: x + 2, "added instead"),),
    timeout=0.3,
)


def test_the_reference_passes_and_the_result_says_so() -> None:
    result = check_exercise(EXERCISE, double, seed=1)
    assert result.passed
    assert result.score == (7, 7)
    assert str(result).startswith("✔ 99.double: all 7 cases pass")


def test_a_wrong_answer_fails_with_the_diagnosis() -> None:
    result = check_exercise(EXERCISE, lambda x: x + 2, seed=1)
    assert not result.passed
    assert "you added instead of multiplying" in result.hints
    assert "expected 42, got 23" in str(result)


def test_the_case_hint_when_no_diagnosis_applies() -> None:
    result = check_exercise(EXERCISE, lambda x: 7, seed=1)
    assert "zero doubles to zero" in result.hints


def test_a_wrong_type_is_named() -> None:
    result = check_exercise(EXERCISE, lambda x: str(2 * x), seed=1)
    assert result.hints == ["expected a int, got a str"]


def test_an_exception_is_one_readable_line() -> None:
    def broken(x: int) -> int:
        raise ValueError("no idea")

    result = check_exercise(EXERCISE, broken, seed=1)
    assert not result.passed
    assert result.hints[0].startswith("raised ValueError: no idea (line ")
    assert "Traceback" not in str(result)


def test_an_infinite_loop_is_stopped_and_reported() -> None:
    def forever(x: int) -> int:
        while True:
            x += 1

    before = threading.active_count()
    started = time.monotonic()
    result = check_exercise(EXERCISE, forever, seed=1)
    assert time.monotonic() - started < 7 * 0.3 + 7 * 0.5 + 2
    assert "still running after 0.3 s" in result.hints[0]
    time.sleep(0.2)
    assert threading.active_count() == before, "the looping threads were not stopped"


def test_a_call_blocked_in_c_is_reported_not_waited_for() -> None:
    started = time.monotonic()
    outcome = call_with_timeout(time.sleep, (3,), 0.2)
    assert outcome.timed_out
    assert time.monotonic() - started < 1.5


def test_not_a_function() -> None:
    result = check_exercise(EXERCISE, 42, seed=1)
    assert not result.passed
    assert result.problem.startswith("expected a function double(x: int) -> int, got int")


def test_seeds_repeat_and_differ() -> None:
    assert EXERCISE.table(5) == EXERCISE.table(5)
    assert EXERCISE.table(5) != EXERCISE.table(6)
    result = check_exercise(EXERCISE, double)
    assert result.seed is not None
    assert f"seed={result.seed}" in str(result)


def test_html_escapes_what_the_student_returned() -> None:
    result = check_exercise(EXERCISE, lambda x: "<script>alert(1)</script>", seed=1)
    page = result._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "rfc6455#section-5.2" in page


def test_rfc_links() -> None:
    assert rfc_links("see §5.2 and §10.3") == (
        " <a href='https://www.rfc-editor.org/rfc/rfc6455#section-5.2' target='_blank' rel='noopener'>"
        "RFC 6455 §5.2</a> <a href='https://www.rfc-editor.org/rfc/rfc6455#section-10.3' target='_blank' "
        "rel='noopener'>RFC 6455 §10.3</a>"
    )


def test_a_value_exercise_reads_a_dict() -> None:
    exercise = Exercise(
        id="99.statuses",
        title="statuses",
        signature="a dict",
        reference={"a": 400, "b": 426},
        kind="value",
        cases=(Case(("a",), 400), Case(("b",), 426, hint="a wrong version gets 426")),
    )
    assert check_exercise(exercise, {"a": 400, "b": 426}).passed
    result = check_exercise(exercise, {"a": 400})
    assert result.hints == ["no answer for this case"]
    assert check_exercise(exercise, {"a": 400, "b": 400}).hints == ["a wrong version gets 426"]


def test_quiz_questions_are_exercises(monkeypatch: pytest.MonkeyPatch) -> None:
    from wslearn.exercises import core

    monkeypatch.setattr(core, "_EXERCISES", {})
    monkeypatch.setattr(core, "_QUIZZES", {})
    quiz = register_quiz(
        "99.checkpoint",
        "Checkpoint",
        [
            Question("How many bytes is a masking key?", 4, "RFC 6455 §5.3: 32 bits"),
            Question("Which opcode is Ping?", 1, "0x9", choices=("0x8", "0x9", "0xA")),
        ],
    )
    assert quiz.check(1, 4).passed
    assert not quiz.check(1, 5).passed
    assert quiz.check(2, "b").passed
    assert quiz.check(2, 1).passed
    assert not quiz.check(2, "a").passed
    assert not quiz.check(2, True).passed
    assert "b) 0x9" in str(quiz)


def test_a_stub_that_returns_none_is_told_so() -> None:
    result = check_exercise(EXERCISE, lambda x: None, seed=1)
    assert result.hints == ["returned None: is a `return` missing, or is the cell still the `...` stub?"]


def test_a_run_hook_computes_each_case_from_the_answer() -> None:
    exercise = Exercise(
        id="99.apply_twice",
        title="a function applied twice",
        signature="f(x: int) -> int",
        reference=lambda x: x + 1,
        cases=(Case((1,), 3), Case((5,), 7)),
        run=lambda answer, case: answer(answer(*case.args)),
        timeout=0.3,
    )
    assert check_exercise(exercise, lambda x: x + 1).passed
    assert check_exercise(exercise, lambda x: x + 2).score == (0, 2)


def test_a_run_hook_that_hangs_is_stopped() -> None:
    def spin(answer: object, case: Case) -> None:
        while True:
            pass

    exercise = Exercise(
        id="99.spin", title="", signature="f()", reference=None, cases=(Case((), 1),), run=spin, timeout=0.2
    )
    assert "still running after 0.2 s" in check_exercise(exercise, lambda: 1).hints[0]


def test_bytes_are_shown_as_hex_with_their_count() -> None:
    from wslearn.exercises.core import short

    assert short(b"\x81\x05Hello") == "81 05 48 65 6c 6c 6f (7 bytes)"
    assert short(b"") == "b'' (0 bytes)"
    assert short(b"\x00") == "00 (1 byte)"
    assert short(bytes(200), limit=40).endswith("… (200 bytes)")


def test_diagnose_sees_the_exception() -> None:
    exercise = Exercise(
        id="99.first_byte",
        title="",
        signature="first(data: bytes) -> int | None",
        reference=lambda data: data[0] if data else None,
        cases=(Case((b"",), None),),
        diagnose=lambda case, got: (
            "return None when a byte is missing" if isinstance(got, IndexError) else None
        ),
    )
    result = check_exercise(exercise, lambda data: data[0])
    assert result.hints[0].startswith("raised IndexError: index out of range (line ")
    assert result.hints[0].endswith("): return None when a byte is missing")


def test_hidden_expected_values_stay_hidden() -> None:
    exercise = Exercise(
        id="99.read",
        title="",
        signature="a dict",
        reference={"a": 7},
        kind="value",
        cases=(Case(("a",), 7),),
        hide_expected=True,
    )
    result = check_exercise(exercise, {"a": 6})
    assert "7" not in str(result).replace("99.read", "") and "not shown" in str(result)
    assert ">7<" not in result._repr_html_()
