"""The message catalogues of :mod:`wslearn.i18n`, and the check that none of them lacks a key.

A catalogue is a module named after its language (``zh_CN.py``) holding ``MESSAGES``, a dict
from the English text to its translation. The keys it must have are:

* every string literal wrapped in ``_("...")`` or ``N_("...")`` anywhere in the ``wslearn`` package (found by
  reading the source, as ``xgettext`` would);
* the close-code meanings (:attr:`wslearn.frames.CloseCode.meaning`);
* the texts of the exercises of each chapter that has a translated notebook: case hints and
  labels, titles, and the checkpoint's questions, choices and explanations.

``python -m wslearn.locale zh_CN`` lists the keys still missing (exit status 1 if any).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
TRANSLATED_NOTEBOOKS = PACKAGE.parent / "translations"


def source_messages(root: Path = PACKAGE) -> dict[str, str]:
    """Every literal ``_("...")`` in the package: message -> the first place it is used."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "N_")
                and len(node.args) == 1
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                where = f"{path.relative_to(root.parent)}:{node.lineno}"
                found.setdefault(node.args[0].value, where)
    return found


def close_code_messages() -> dict[str, str]:
    from wslearn.errors import _CLOSE_MEANINGS

    return {meaning: f"close code {int(code)}" for code, meaning in _CLOSE_MEANINGS.items()}


def translated_chapters(lang: str) -> list[str]:
    """The chapter numbers ("01", "02", ...) whose notebook has a translation in ``lang``."""
    folder = TRANSLATED_NOTEBOOKS / lang.replace("_", "-")
    return sorted({path.name[:2] for path in folder.glob("[0-9][0-9]_*.md")})


def exercise_messages(chapters: Iterable[str]) -> dict[str, str]:
    """The student-visible texts of these chapters' exercises and checkpoints."""
    from wslearn.exercises import all_exercises, all_quizzes

    wanted = tuple(f"{chapter}." for chapter in chapters)
    found: dict[str, str] = {}
    for exercise in all_exercises():
        if not exercise.id.startswith(wanted) or exercise.id.count(".") > 1:
            continue  # a checkpoint's questions are taken from its quiz below
        found.setdefault(exercise.title, exercise.id)
        for case in exercise.cases:
            for text in (case.hint, case.label):
                if text:
                    found.setdefault(text, exercise.id)
        for case in exercise.table(seed=0)[len(exercise.cases) :]:  # a kata's random rows: their hints
            if case.hint:
                found.setdefault(case.hint, exercise.id)
    for quiz in all_quizzes():
        if not quiz.id.startswith(wanted):
            continue
        found.setdefault(quiz.title, quiz.id)
        for question in quiz.questions:
            for text in (question.prompt, question.explanation, *question.choices):
                found.setdefault(text, quiz.id)
    return found


def required(lang: str) -> dict[str, str]:
    """Every key the catalogue of ``lang`` must have: message -> where it comes from."""
    messages = source_messages()
    messages.update(close_code_messages())
    messages.update(exercise_messages(translated_chapters(lang)))
    return messages


def missing(lang: str) -> dict[str, str]:
    from wslearn.i18n import catalogue

    have = catalogue(lang)
    return {message: where for message, where in required(lang).items() if message not in have}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    lang = args[0] if args else "zh_CN"
    gaps = missing(lang)
    for message, where in gaps.items():
        print(f"{where}: {message!r}")
    print(f"{lang}: {len(required(lang)) - len(gaps)} of {len(required(lang))} messages translated")
    return 1 if gaps else 0
