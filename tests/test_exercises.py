"""Every exercise of the course, checked as the course kit will grade it: the reference
solution passes (on several seeds), and each typical wrong answer fails *with its hint*."""

from __future__ import annotations

import pytest

from wslearn.exercises import Exercise, all_exercises, all_quizzes, check_exercise

EXERCISES = [exercise for exercise in all_exercises() if ".checkpoint." not in exercise.id]
SEEDS = (0, 1, 2)


def ids(exercises: list[Exercise]) -> list[str]:
    return [exercise.id for exercise in exercises]


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids(EXERCISES))
def test_the_reference_passes(exercise: Exercise) -> None:
    for seed in SEEDS:
        result = check_exercise(exercise, exercise.reference, seed=seed)
        assert result.passed, str(result)


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids(EXERCISES))
def test_typical_mistakes_fail_with_their_hint(exercise: Exercise) -> None:
    assert len(exercise.mistakes) >= 2, f"{exercise.id} needs at least two typical wrong answers"
    for mistake in exercise.mistakes:
        result = check_exercise(exercise, mistake.answer, seed=0)
        assert not result.passed, f"{exercise.id}: the mistake {mistake.name!r} passes"
        assert any(mistake.hint in hint for hint in result.hints), (
            f"{exercise.id}: the mistake {mistake.name!r} gets {result.hints}, not {mistake.hint!r}"
        )


def test_every_chapter_has_a_checkpoint() -> None:
    chapters = {exercise.id.split(".", 1)[0] for exercise in all_exercises()}
    quizzes = {quiz.id.split(".", 1)[0] for quiz in all_quizzes()}
    assert chapters <= quizzes, f"chapters without a checkpoint: {sorted(chapters - quizzes)}"


@pytest.mark.parametrize("quiz", all_quizzes(), ids=[quiz.id for quiz in all_quizzes()])
def test_each_checkpoint_answer_is_right_and_another_is_wrong(quiz) -> None:  # type: ignore[no-untyped-def]
    for number, question in enumerate(quiz.questions, 1):
        assert quiz.check(number, question.answer).passed
        wrong = (question.answer + 1) % len(question.choices) if question.choices else question.answer + 1000
        assert not quiz.check(number, wrong).passed
        assert question.explanation, f"{quiz.id} question {number} explains nothing"
