"""Build the nbgrader course from the exercise registry: one assignment per chapter.

Nothing here knows a chapter by name. For every chapter that has exercises (the ids'
``NN.`` prefix) the builder writes ``source/NN_<name>/NN_<name>.ipynb`` with

* the chapter's title, objectives and time, read from the chapter notebook's first cell;
* per exercise: the prompt (the markdown cell before the exercise in the chapter
  notebook), the student's stub (the chapter's exercise cell without its ``check`` line),
  then the reference solution between ``### BEGIN SOLUTION`` and ``### END SOLUTION``,
  then a read-only grade cell: a visible ``check`` and a hidden ``grade`` that scores the
  same case table (:mod:`wslearn.kit.grading`);
* the checkpoint quiz as one answer cell and one grade cell;
* a last cell that stops every server the notebook started.

A new chapter module (``wslearn/exercises/chNN.py``) and its notebook are picked up by
running the build again: ``python -m wslearn kit build``.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import pprint
import re
import sys
import textwrap
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat as _nbformat
from nbformat.notebooknode import NotebookNode

from wslearn.exercises import Exercise, Quiz, all_exercises, all_quizzes

nbformat: Any = _nbformat  # untyped: its calls return NotebookNode objects

#: Points for an exercise whose answer is a function, and for one whose answer is a value.
FUNCTION_POINTS = 3
VALUE_POINTS = 2
#: Points for each checkpoint question.
QUESTION_POINTS = 1
#: Seconds added to the worst case of a grade cell for the kernel's own work.
CELL_MARGIN = 30


# --- What a chapter is made of ------------------------------------------------------------------


@dataclass
class Chapter:
    """A chapter of the course as the kit sees it: its notebook (if any) and its exercises."""

    number: str  # "03"
    exercises: list[Exercise] = field(default_factory=list)
    quiz: Quiz | None = None
    notebook: NotebookNode | None = None
    notebook_name: str = ""  # "03_accept_key"

    @property
    def assignment(self) -> str:
        """The nbgrader assignment id (and notebook name): the chapter notebook's name."""
        return self.notebook_name or f"ch{self.number}"

    @property
    def intro(self) -> str:
        """The chapter notebook's first markdown cell (title, objectives, time)."""
        for cell in self.notebook.cells if self.notebook else ():
            if cell.cell_type == "markdown":
                return str(cell.source)
        return f"# Chapter {self.number}"

    @property
    def title(self) -> str:
        first = self.intro.splitlines()[0] if self.intro else ""
        return first.lstrip("# ").strip() or f"Chapter {self.number}"

    def section(self, heading: str) -> str:
        """The text under a bold heading of the intro (``**Objectives**``, ``**Time**``...)."""
        match = re.search(rf"\*\*{heading}:?\*\*:?\s*(.*?)(?=\n\s*\*\*[A-Z]|\Z)", self.intro, re.S)
        return match.group(1).strip() if match else ""

    @property
    def text(self) -> str:
        """Everything the chapter shows a student: its notebook's cells and its exercises."""
        cells = [str(c.source) for c in self.notebook.cells] if self.notebook else []
        for exercise in self.exercises:
            cells += [exercise.title, exercise.explanation, *(c.hint for c in exercise.cases)]
        for question in self.quiz.questions if self.quiz else ():
            cells += [question.prompt, question.explanation]
        return "\n".join(cells)

    @property
    def points(self) -> float:
        total = sum(points_for(exercise) for exercise in self.exercises)
        return total + (len(self.quiz.questions) * QUESTION_POINTS if self.quiz else 0)


def points_for(exercise: Exercise) -> int:
    return FUNCTION_POINTS if exercise.kind == "function" else VALUE_POINTS


def chapters(notebooks: Path | None) -> list[Chapter]:
    """Every chapter with exercises or a checkpoint, in order, with its notebook when found."""
    found: dict[str, Chapter] = {}
    quizzes = {q.id: q for q in all_quizzes()}
    question_ids = {q.question_id(n) for q in quizzes.values() for n in range(1, len(q.questions) + 1)}
    for exercise in all_exercises():
        if exercise.id not in question_ids:
            found.setdefault(chapter_of(exercise.id), Chapter(chapter_of(exercise.id))).exercises.append(
                exercise
            )
    for quiz in quizzes.values():
        found.setdefault(chapter_of(quiz.id), Chapter(chapter_of(quiz.id))).quiz = quiz
    for chapter in found.values():
        path = next(iter(sorted(notebooks.glob(f"{chapter.number}_*.ipynb"))), None) if notebooks else None
        if path is not None:
            chapter.notebook = nbformat.read(path, as_version=4)
            chapter.notebook_name = path.stem
    return [found[number] for number in sorted(found)]


def chapter_of(exercise_id: str) -> str:
    return exercise_id.split(".", 1)[0]


# --- Cells ---------------------------------------------------------------------------------------


def grade_id(*parts: str) -> str:
    """An nbgrader cell id: letters, digits, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", "_".join(parts))


def nbgrader_meta(
    cell_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False, points: float = 0
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": cell_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(source: str, cell_id: str) -> NotebookNode:
    cell: NotebookNode = nbformat.v4.new_markdown_cell(
        source, id=cell_id, metadata=nbgrader_meta(cell_id, locked=True)
    )
    return cell


def code(source: str, cell_id: str, **kinds: Any) -> NotebookNode:
    cell: NotebookNode = nbformat.v4.new_code_cell(
        source.strip() + "\n", id=cell_id, metadata=nbgrader_meta(cell_id, **kinds)
    )
    return cell


SETUP = """\
# Run this cell first. It is read-only: the grader runs the same lines.
from __future__ import annotations

from wslearn.exercises import check
from wslearn.kit.grading import inputs, reference_answer, student_seed

SEED = student_seed()  # your own random cases; the grader draws the same ones
print("your seed:", SEED)
"""

TEARDOWN = """\
# Read-only: stops every server this notebook started (the grader runs it too).
from wslearn.notebook import stop_all

stop_all()
"""


# --- The chapter notebook's exercise cell, and the reference's source ----------------------------


@dataclass
class ExerciseCell:
    """What the chapter notebook shows for an exercise: the prompt, the stub, the answer's name."""

    prompt: str
    stub: str
    name: str


SOLUTION_BLOCK = re.compile(r"<details>.*?</details>", re.S | re.I)


def find_exercise_cell(chapter: Chapter, exercise: Exercise) -> ExerciseCell | None:
    """The code cell that calls ``check("<id>", name ...)``, with the markdown cell before it."""
    if chapter.notebook is None:
        return None
    call = re.compile(rf"""check\(\s*["']{re.escape(exercise.id)}["']\s*,\s*(\w+)""")
    cells = chapter.notebook.cells
    for index, cell in enumerate(cells):
        match = call.search(cell.source) if cell.cell_type == "code" else None
        if match is None:
            continue
        prompt = next((str(c.source) for c in reversed(cells[:index]) if c.cell_type == "markdown"), "")
        prompt = SOLUTION_BLOCK.sub("", prompt).strip()  # a "Show a solution" block stays in the chapter
        stub = "\n".join(
            line
            for line in str(cell.source).splitlines()
            if not call.search(line) and line.strip() != "from wslearn.exercises import check"
        )
        return ExerciseCell(prompt, stub.strip(), match.group(1))
    return None


def answer_name(exercise: Exercise) -> str:
    """The name the answer gets when the chapter notebook does not say."""
    if exercise.kind == "function":
        return exercise.signature.split("(", 1)[0].strip() or "answer"
    return "answer"


def generated_stub(exercise: Exercise, name: str) -> str:
    if exercise.kind == "function":
        header = function_header(exercise.reference, name)
        return f"{header}\n    ...  # your code here"
    return f"{name} = None  # your answer: {exercise.signature}"


def function_header(function: Any, name: str) -> str:
    """``def name(<the reference's parameters>):`` (annotations kept)."""
    source = textwrap.dedent(inspect.getsource(function))
    node = ast.parse(source).body[0]
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    lines = source.splitlines()
    body_start = node.body[0].lineno - 1  # the header ends where the body (or docstring) begins
    header = "\n".join(lines[node.lineno - 1 - len(node.decorator_list) : body_start])
    return re.sub(rf"\bdef\s+{re.escape(node.name)}\b", f"def {name}", header, count=1)


def function_source(function: Any, name: str) -> str:
    """The reference's source, renamed to ``name``, with imports for the names it uses."""
    source = textwrap.dedent(inspect.getsource(function))
    node = ast.parse(source).body[0]
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    source = re.sub(rf"\bdef\s+{re.escape(node.name)}\b", f"def {name}", source, count=1)
    imports = imports_for(function)
    return "\n".join(imports) + ("\n\n\n" if imports else "") + source.rstrip()


def imports_for(function: Any) -> list[str]:
    """Import lines for the module-level names ``function`` (and the functions inside it) use."""
    module = sys.modules[function.__module__]
    names: set[str] = set()
    stack = [function.__code__]
    while stack:
        code_object = stack.pop()
        names.update(code_object.co_names)
        stack.extend(c for c in code_object.co_consts if isinstance(c, types.CodeType))
    lines = []
    for name in sorted(names - set(dir(builtins))):
        if name not in module.__dict__ or name == function.__name__:
            continue
        value = module.__dict__[name]
        if isinstance(value, types.ModuleType):
            full = value.__name__
            if full == name:
                lines.append(f"import {name}")
            elif full.endswith("." + name):
                lines.append(f"from {full.rsplit('.', 1)[0]} import {name}")
            else:
                lines.append(f"import {full} as {name}")
        else:
            home = getattr(value, "__module__", None)
            if not (isinstance(home, str) and getattr(sys.modules.get(home), name, None) is value):
                home = module.__name__  # a constant: from the module that holds it
            lines.append(f"from {home} import {name}")
    return sorted(lines, key=lambda line: (line.startswith("from"), line))


def value_source(exercise: Exercise, name: str) -> str:
    """``name = <the reference as a literal>``, or a call that computes it for the seed."""
    if exercise.random_cases is None:
        text = pprint.pformat(exercise.reference, width=100, sort_dicts=False)
        try:
            if ast.literal_eval(text) == exercise.reference:
                return f"{name} = {text}"
        except (ValueError, SyntaxError):
            pass
    return f'{name} = reference_answer("{exercise.id}", seed=SEED)'


def solution_source(exercise: Exercise, name: str) -> str:
    """The reference as source a student could have written, or else a line that fetches it."""
    if exercise.kind == "function":
        if readable_function(exercise.reference):
            return function_source(exercise.reference, name)
        return f'from wslearn.exercises import get\n\n{name} = get("{exercise.id}").reference'
    return value_source(exercise, name)


def readable_function(function: Any) -> bool:
    """A module-level ``def`` with no closure: its source, with imports, runs on its own."""
    if not isinstance(function, types.FunctionType) or function.__code__.co_freevars:
        return False
    if function.__name__ == "<lambda>" or "<locals>" in function.__qualname__:
        return False
    try:
        node = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return False
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))


# --- An assignment -------------------------------------------------------------------------------


STARTING_POINT = (
    "# The chapter's starting point, commented out: uncomment it (select the lines, Ctrl+/),\n"
    "# complete it, and delete the `raise NotImplementedError()` line under it.\n"
)


def answer_cell(stub: str, solution: str) -> str:
    """The answer cell: the stub as comments (so an untouched cell scores nothing), then the solution."""
    commented = "\n".join(f"# {line}" if line.strip() else "#" for line in stub.splitlines())
    return f"{STARTING_POINT}{commented}\n\n### BEGIN SOLUTION\n{solution}\n### END SOLUTION"


def exercise_cells(chapter: Chapter, exercise: Exercise) -> list[NotebookNode]:
    found = find_exercise_cell(chapter, exercise)
    name = found.name if found else answer_name(exercise)
    stub = found.stub if found and found.stub else generated_stub(exercise, name)
    key = grade_id(exercise.id)
    heading = f"## {exercise.id}: {exercise.title}"
    about = f"Your answer: `{exercise.signature}`" + (f" (RFC 6455 {exercise.rfc})" if exercise.rfc else "")
    prompt = found.prompt if found and found.prompt else ""
    cells = [markdown("\n\n".join(p for p in (heading, about, prompt) if p), f"about_{key}")]
    if exercise.kind == "value" and exercise.random_cases is not None:
        cells.append(code(f'print(inputs("{exercise.id}", seed=SEED))', f"inputs_{key}", locked=True))
    cells.append(code(answer_cell(stub, solution_source(exercise, name)), f"answer_{key}", solution=True))
    points = points_for(exercise)
    test = (
        f"# Your self-check (the grader scores the same table: {points} points, shared by its cases)\n"
        f'check("{exercise.id}", {name}, seed=SEED)\n'
        "### BEGIN HIDDEN TESTS\n"
        "from wslearn.kit.grading import grade\n\n"
        f'grade("{exercise.id}", {name}, points={points}, seed=SEED)\n'
        "### END HIDDEN TESTS"
    )
    cells.append(code(test, f"grade_{key}", grade=True, locked=True, points=points))
    return cells


def quiz_cells(quiz: Quiz) -> list[NotebookNode]:
    key = grade_id(quiz.id)
    lines = [
        f"## {quiz.title}",
        "",
        "Answer each question in the cell below: a letter for a choice, else a number.",
        "",
    ]
    for number, question in enumerate(quiz.questions, 1):
        lines.append(f"{number}. {question.prompt}")
        lines += [
            f"   {letter}) {choice}" for letter, choice in zip("abcdefgh", question.choices, strict=False)
        ]
        lines.append("")
    name = f"checkpoint_{quiz.id.split('.', 1)[0]}"
    stub = f"{name} = {{{', '.join(f'{n}: None' for n in range(1, len(quiz.questions) + 1))}}}"
    answers = {
        n: ("abcdefgh"[int(q.answer)] if q.choices else q.answer) for n, q in enumerate(quiz.questions, 1)
    }
    solution = answer_cell(stub, f"{name} = {answers!r}")
    points = len(quiz.questions) * QUESTION_POINTS
    test = (
        f"# {points} points, {QUESTION_POINTS} per right answer; the explanations appear once graded\n"
        f"assert isinstance({name}, dict), 'answer with a dict: {{1: \"b\", 2: 24, ...}}'\n"
        "### BEGIN HIDDEN TESTS\n"
        "from wslearn.kit.grading import grade_quiz\n\n"
        f'grade_quiz("{quiz.id}", {name}, points_each={QUESTION_POINTS})\n'
        "### END HIDDEN TESTS"
    )
    return [
        markdown("\n".join(lines).rstrip(), f"about_{key}"),
        code(solution, f"answer_{key}", solution=True),
        code(test, f"grade_{key}", grade=True, locked=True, points=points),
    ]


def assignment_notebook(chapter: Chapter) -> NotebookNode:
    """The instructor's version of a chapter's assignment (solutions and hidden tests in it)."""
    notebook_name = chapter.notebook_name or chapter.assignment
    intro = (
        f"# {chapter.title} — graded assignment\n\n"
        f"Work through the chapter notebook `{notebook_name}.ipynb` first: the exercises below are its "
        "exercises, checked by the same case tables. Write each answer in the cell under its prompt, "
        "replacing `raise NotImplementedError()`; run the next cell to check it. "
        f"{chapter.points:g} points in all; each exercise's points are shared by its cases.\n\n"
        "Run the cells from the top (Kernel → Restart and Run All before you submit)."
    )
    objectives = chapter.section("Objectives")
    if objectives:
        intro += f"\n\n**Objectives**\n\n{objectives}"
    cells = [markdown(intro, "intro"), code(SETUP, "setup", locked=True)]
    for exercise in chapter.exercises:
        cells += exercise_cells(chapter, exercise)
    if chapter.quiz is not None:
        cells += quiz_cells(chapter.quiz)
    cells.append(code(TEARDOWN, "teardown", locked=True))
    return new_notebook(cells)


def new_notebook(cells: Iterable[NotebookNode]) -> NotebookNode:
    notebook: NotebookNode = nbformat.v4.new_notebook(cells=list(cells))
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nbformat.validate(notebook)
    return notebook


def cell_timeout() -> int:
    """A cell timeout that fits the slowest grade cell: every case of it at its time limit."""
    worst = max((e.timeout * len(e.table(0)) for e in all_exercises()), default=0.0)
    return int(worst) + CELL_MARGIN


# --- Writing the course --------------------------------------------------------------------------


def source_notebooks(notebooks: Path | None) -> dict[str, NotebookNode]:
    """``{"<assignment>/<notebook>.ipynb": notebook}`` for every chapter and every capstone."""
    from .capstones import capstone_notebooks

    built = {f"{c.assignment}/{c.assignment}.ipynb": assignment_notebook(c) for c in chapters(notebooks)}
    built.update(capstone_notebooks())
    return built


def planned(course: Path, notebooks: Path | None) -> dict[Path, str | None]:
    """Every file of ``course/`` the builder owns, with its text (``None``: to be removed)."""
    from .guide import refresh_guide

    source = course / "source"
    files: dict[Path, str | None] = {path: None for path in source.glob("*/*.ipynb")}
    for relative, notebook in source_notebooks(notebooks).items():
        files[source / relative] = nbformat.writes(notebook) + "\n"
    guide = course / "README.md"
    if guide.exists():
        files[guide] = refresh_guide(guide.read_text(encoding="utf-8"), chapters(notebooks))
    return files


def stale(course: Path, notebooks: Path | None) -> list[Path]:
    """The files a build would change (empty when ``course/`` is up to date)."""
    return [
        path
        for path, text in planned(course, notebooks).items()
        if (text is None) or not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def build(course: Path, notebooks: Path | None) -> list[Path]:
    """Write ``course/source/`` (assignments no longer built are removed) and the guide's tables."""
    files = planned(course, notebooks)
    changed = stale(course, notebooks)
    for path in changed:
        text = files[path]
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return changed
