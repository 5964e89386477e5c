"""Exercises with instant feedback: ``check(exercise_id, answer)``.

::

    from wslearn.exercises import check

    def accept_key(key: str) -> str:
        ...                                  # your code

    check("03.accept_key", accept_key)       # ✔/✘ per case, with hints and RFC sections

Each chapter's exercises live in a module of this package named after the chapter
(``ch03.py`` holds ``"03.accept_key"``, ``"03.is_valid_key"`` and the chapter's checkpoint
quiz); they are registered when first asked for. :mod:`.core` is the engine.
"""

from __future__ import annotations

import importlib
import pkgutil

from .core import (
    Case,
    CaseResult,
    Exercise,
    Mistake,
    Question,
    Quiz,
    Result,
    all_exercises,
    all_quizzes,
    call_with_timeout,
    check,
    check_exercise,
    get,
    quiz,
    register,
    register_quiz,
)

__all__ = [
    "Case",
    "CaseResult",
    "Exercise",
    "Mistake",
    "Question",
    "Quiz",
    "Result",
    "all_exercises",
    "all_quizzes",
    "call_with_timeout",
    "check",
    "check_exercise",
    "get",
    "load_all",
    "quiz",
    "register",
    "register_quiz",
]

_loaded = False


def load_all() -> None:
    """Import every chapter module (``chNN.py``) once, which registers its exercises."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("ch"):
            importlib.import_module(f"{__name__}.{module.name}")
