"""What a graded notebook calls: a seed per student, and a score per exercise from the engine.

The hidden tests of the course kit are one line each::

    grade("03.accept_key", accept_key, points=3, seed=SEED)

which runs the same case table as ``check("03.accept_key", accept_key)`` in the chapter
notebook, shows the result table (it lands in the student's feedback), and returns the
points earned: ``points`` times the share of cases that pass. nbgrader reads that number
as the cell's partial credit (a grade cell whose last value is a number scores that
number). So self-check and grading cannot disagree: they are the same table.

A *kata* draws some cases from a seed. :func:`student_seed` gives every student their own
seed, the same one when they work and when the instructor grades.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wslearn.exercises import check_exercise, get, quiz
from wslearn.exercises.core import Result, choice_index

#: Set this to a student's id to reproduce their seed anywhere (it wins over everything else).
SEED_VARIABLE = "WSLEARN_STUDENT"
#: The folders of an nbgrader course in which a student's id names the next folder.
GRADED_FOLDERS = ("submitted", "autograded", "feedback")


def student_id(cwd: Path | None = None) -> str:
    """Who is working on this notebook.

    In order: ``$WSLEARN_STUDENT``; the student's folder when nbgrader runs the notebook
    (``autograded/<student>/<assignment>/``); the JupyterHub user (nbgrader's student id
    on a hub); the login name. So a student on a hub and the autograder agree.
    """
    if os.environ.get(SEED_VARIABLE):
        return os.environ[SEED_VARIABLE]
    parts = (cwd or Path.cwd()).resolve().parts
    for folder in GRADED_FOLDERS:
        if folder in parts[:-1]:
            index = len(parts) - 1 - parts[::-1].index(folder)
            if index + 1 < len(parts):
                return parts[index + 1]
    if os.environ.get("JUPYTERHUB_USER"):
        return os.environ["JUPYTERHUB_USER"]
    try:
        import getpass

        return getpass.getuser()
    except (ImportError, KeyError, OSError):  # no login name in some containers
        return "student"


def seed_for(student: str) -> int:
    """A student's seed: a stable number from their id (the same on every machine)."""
    digest = hashlib.sha256(f"wslearn:{student}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000


def student_seed() -> int:
    """This student's seed (see :func:`student_id`)."""
    return seed_for(student_id())


def score(result: Result, points: float) -> float:
    """``points`` times the share of cases that pass, rounded to hundredths."""
    done, total = result.score
    if result.problem or not total:
        return 0.0
    return round(points * done / total, 2)


def grade(exercise_id: str, answer: Any, *, points: float, seed: int | None = None) -> float:
    """Check ``answer`` with the exercise's table, show the verdict, return the points earned."""
    result = check_exercise(get(exercise_id), answer, seed=seed)
    _show(result)
    return score(result, points)


def grade_quiz(quiz_id: str, answers: Mapping[int, Any], *, points_each: float = 1) -> float:
    """Grade a checkpoint answered as ``{1: "b", 2: 24, ...}``: ``points_each`` per right answer."""
    checkpoint = quiz(quiz_id)
    earned = 0.0
    for number, question in enumerate(checkpoint.questions, 1):
        given = answers.get(number) if isinstance(answers, Mapping) else None
        result = check_exercise(get(checkpoint.question_id(number)), choice_index(question, given))
        mark = "✔" if result.passed else "✘"
        print(f"{mark} {number}. {question.prompt}\n   {question.explanation}")
        earned += points_each if result.passed else 0
    return earned


def reference_answer(exercise_id: str, seed: int | None = None) -> Any:
    """The reference's answer to a value exercise, as a dict keyed like its cases.

    For a value kata (inputs drawn from ``seed``) this is the answer a student with that
    seed must give; a fixed value exercise gets its reference back.
    """
    exercise = get(exercise_id)
    if exercise.random_cases is None:
        return exercise.reference
    return {
        case.args[0]: exercise.answer_for(exercise.reference, case)
        for case in exercise.table(seed)
        if case.args
    }


def mistake_answer(exercise_id: str, number: int = 0, seed: int | None = None) -> Any:
    """A typical wrong answer kept with the exercise (for a partly wrong test submission)."""
    exercise = get(exercise_id)
    answer = exercise.mistakes[number].answer
    if exercise.kind == "value" and exercise.random_cases is not None and hasattr(answer, "get"):
        return {case.args[0]: answer.get(case.args[0]) for case in exercise.table(seed) if case.args}
    return answer


def inputs(exercise_id: str, seed: int | None = None) -> str:
    """The inputs of a kata's cases for ``seed``, one line each: what a value kata asks about."""
    lines = []
    for case in get(exercise_id).table(seed):
        shown = [_shown(arg) for arg in case.args]
        lines.append(f"{case.label or ', '.join(shown)}" + (f"   ({', '.join(shown)})" if case.label else ""))
    return "\n".join(lines)


def _shown(value: Any) -> str:
    data = getattr(value, "data", value)
    if isinstance(data, (bytes, bytearray)):
        return data.hex(" ")
    return repr(value)


def _show(result: Result) -> None:
    """Show the result table as rich output (HTML in a notebook), never as the cell's value."""
    try:
        from IPython import display
    except ImportError:  # outside IPython: plain text
        print(result)
        return
    show: Any = display.display
    show(result)
