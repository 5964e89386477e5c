"""The course kit, end to end with nbgrader: every assignment generated, then autograded for
three students (the solution, the released notebook untouched, a partly wrong submission),
then feedback generated; headless, in a temporary course folder.

The three students run in one ``nbgrader autograde`` call (one kernel per notebook), which
keeps the whole test near a minute.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook  # in the test extra: pip install -e ".[test]"

from wslearn.conformance.naive import naive_echo
from wslearn.demo.chatlab import EXPECTED
from wslearn.exercises import all_exercises, all_quizzes, check_exercise, get
from wslearn.kit import build, capstones, seedfix
from wslearn.kit.grading import mistake_answer, score, seed_for, student_id

# generate_assignment, autograde and generate_feedback for three students take a few minutes
pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
STUDENTS = ("solution", "released", "partial")
GRADE_CALL = re.compile(r"""grade\("([^"]+)", (\w+), points=([\d.]+)""")
SOLUTION_DICT = r"### BEGIN SOLUTION\n(\w+) = (\{.*\})\n### END SOLUTION"
QUIZ_CALL = re.compile(r"""grade_quiz\("([^"]+)", (\w+), points_each=([\d.]+)""")


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # nbgrader runs the `alembic` command of its environment: find it even when that
    # environment is not activated (its scripts live beside this Python).
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, "--force"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": path},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def cells_by_id(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells if "nbgrader" in c.metadata}


#: A partly wrong answer for each capstone: the careless server and client of the checkers,
#: and seed 000's port left as it is (seed 003's fix is the solution).
CAPSTONE_MISTAKES = {
    "capstone_report_card": {"answer_handle": "from wslearn.conformance.naive import naive_echo as handle\n"},
    "capstone_write_the_client": {
        "answer_client": "from wslearn.kit.capstones import careless_client as client\n"
    },
    "capstone_fix_the_seeds": {
        "answer_seed000": (
            "%%writefile seed000_fixed.py\nimport sys\n\nfrom wslearn.demo.seedports.seed000 import main\n\n"
            "sys.exit(main())\n"
        )
    },
}


def capstone_expected(assignment: str) -> float:
    """What the capstone's mistake earns, from the same checks run here."""
    if assignment == "capstone_report_card":
        report = capstones.check_server(naive_echo)
    elif assignment == "capstone_write_the_client":
        report = capstones.check_client(capstones.careless_client)
    else:
        rows = seedfix.check_seed000("wslearn.demo.seedports.seed000")
        fixed_003 = seedfix.BUG_POINTS * (len(EXPECTED) + 1)
        return sum(seedfix.grade_check(rows, name) for name, _, _ in rows) + fixed_003
    return round(sum(capstones.grade_category(report, name) for name in report.categories()), 2)


def partial_answers(assignment: str, source: nbformat.NotebookNode) -> tuple[dict[str, str], float]:
    """A partly wrong submission and the score it must earn.

    A chapter: every other exercise a typical mistake of the engine, the others right, one
    checkpoint answer wrong. A capstone: :data:`CAPSTONE_MISTAKES`.
    """
    cells = cells_by_id(source)
    answers = {key: c.source for key, c in cells.items() if key.startswith("answer_")}
    if assignment in CAPSTONE_MISTAKES:
        answers.update(CAPSTONE_MISTAKES[assignment])
        return answers, capstone_expected(assignment)
    seed = seed_for("partial")
    expected = 0.0
    graded = [(GRADE_CALL.search(c.source), key) for key, c in cells.items() if key.startswith("grade_")]
    for number, (call, key) in enumerate(graded):
        answer_key = "answer_" + key.removeprefix("grade_")
        if call is None:
            continue
        exercise_id, name, points = call.group(1), call.group(2), float(call.group(3))
        exercise = get(exercise_id)
        if number % 2 == 0 or not exercise.mistakes:
            expected += points  # the solution stays
        else:
            answers[answer_key] = (
                "from wslearn.kit.grading import mistake_answer\n\n"
                f'{name} = mistake_answer("{exercise_id}", 0, seed=SEED)\n'
            )
            wrong = mistake_answer(exercise_id, 0, seed=seed)
            expected += score(check_exercise(exercise, wrong, seed=seed), points)
    for key, cell in cells.items():
        call = QUIZ_CALL.search(cell.source)
        if call is None:
            continue
        answer_key = "answer_" + key.removeprefix("grade_")
        solution = re.search(SOLUTION_DICT, cells[answer_key].source, re.S)
        assert solution is not None
        right = eval(solution.group(2))  # the builder writes a dict literal
        wrong = {**right, 1: "z" if isinstance(right[1], str) else -1}  # question 1 wrong
        answers[answer_key] = f"{solution.group(1)} = {wrong!r}\n"
        expected += float(call.group(3)) * (len(right) - 1)
    return answers, round(expected, 2)


def submission(release: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(release)
    for key, cell in cells_by_id(notebook).items():
        if key in answers:
            cell.source = answers[key]
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    course = tmp_path_factory.mktemp("course")
    shutil.copy(COURSE / "nbgrader_config.py", course)
    shutil.copytree(COURSE / "source", course / "source")
    nbgrader(course, "generate_assignment", "*")
    expected: dict[str, float] = {}
    for folder in sorted((course / "release").iterdir()):
        for path in folder.glob("*.ipynb"):
            source = nbformat.read(course / "source" / folder.name / path.name, as_version=4)
            release = nbformat.read(path, as_version=4)
            solutions = {k: c.source for k, c in cells_by_id(source).items() if k.startswith("answer_")}
            answers, expected[folder.name] = partial_answers(folder.name, source)
            for student, notebook in (
                ("solution", submission(release, solutions)),
                ("released", release),
                ("partial", submission(release, answers)),
            ):
                target = course / "submitted" / student / folder.name / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook, target)
    nbgrader(course, "autograde", "*")
    nbgrader(course, "generate_feedback", "*")
    return {"course": course, "partial": expected}


def scores(course: Path, student: str) -> dict[str, tuple[float, float]]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {
            a.name: (gradebook.find_submission(a.name, student).score, a.max_score)
            for a in gradebook.assignments
        }


def test_every_exercise_and_quiz_is_graded_somewhere() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (COURSE / "source").glob("*/*.ipynb"))
    questions = {q.question_id(n) for q in all_quizzes() for n in range(1, len(q.questions) + 1)}
    for exercise in all_exercises():
        if exercise.id not in questions:
            assert f'grade(\\"{exercise.id}\\"' in sources, f"{exercise.id} has no grade cell"
    for quiz in all_quizzes():
        assert f'grade_quiz(\\"{quiz.id}\\"' in sources, f"{quiz.id} has no grade cell"


def test_the_committed_course_is_what_the_builder_writes() -> None:
    out_of_date = build.stale(COURSE, ROOT / "notebooks")
    assert not out_of_date, f"run `python -m wslearn kit build`: {out_of_date} are out of date"


def test_the_solution_earns_full_marks(graded: dict[str, object]) -> None:
    course = graded["course"]
    assert isinstance(course, Path)
    for assignment, (earned, most) in scores(course, "solution").items():
        assert most > 0 and earned == most, f"{assignment}: {earned} of {most}"


def test_the_released_notebook_earns_nothing(graded: dict[str, object]) -> None:
    course = graded["course"]
    assert isinstance(course, Path)
    for assignment, (earned, most) in scores(course, "released").items():
        assert earned == 0, f"{assignment}: the untouched student notebook earned {earned} of {most}"


def test_a_partly_wrong_submission_earns_the_expected_partial_score(graded: dict[str, object]) -> None:
    course, expected = graded["course"], graded["partial"]
    assert isinstance(course, Path) and isinstance(expected, dict)
    for assignment, (earned, most) in scores(course, "partial").items():
        if assignment in expected:
            assert 0 < earned < most, f"{assignment}: {earned} of {most}"
            assert earned == pytest.approx(expected[assignment], abs=0.011), assignment


def test_the_grader_draws_the_students_own_seed(graded: dict[str, object]) -> None:
    course = graded["course"]
    assert isinstance(course, Path)
    for student in STUDENTS:
        for path in (course / "autograded" / student).glob("[0-9]*/*.ipynb"):  # the chapters
            setup = cells_by_id(nbformat.read(path, as_version=4))["setup"]
            text = "".join(o.get("text", "") for o in setup.outputs)
            assert f"your seed: {seed_for(student)}" in text, path


def test_the_released_notebooks_give_no_solution_away(graded: dict[str, object]) -> None:
    course = graded["course"]
    assert isinstance(course, Path)
    for path in (course / "release").glob("*/*.ipynb"):
        released = path.read_text(encoding="utf-8")
        source = nbformat.read(course / "source" / path.parent.name / path.name, as_version=4)
        for cell in source.cells:
            hidden = r"### BEGIN (?:SOLUTION|HIDDEN TESTS)\n(.*?)### END[^\n]*"
            shown = re.sub(hidden, "", cell.source, flags=re.S)  # the stub, the visible check
            for region in re.findall(hidden, cell.source, re.S):
                for line in region.splitlines():
                    text = line.strip()
                    if len(text) > 30 and not text.startswith(("import ", "from ")) and text not in shown:
                        assert json.dumps(text)[1:-1] not in released, (path.name, line)


def test_a_chapter_without_a_notebook_gets_a_generated_stub() -> None:
    from wslearn.exercises import Exercise

    reference = get("03.accept_key").reference
    lone = Exercise(id="99.twice", title="Twice", signature="twice(n: int) -> int", reference=reference)
    notebook = build.assignment_notebook(build.Chapter("99", exercises=[lone]))
    cells = cells_by_id(notebook)
    assert "# def twice(key: str) -> str:\n#     ...  # your code here" in cells["answer_99_twice"].source
    assert 'grade("99.twice", twice, points=3, seed=SEED)' in cells["grade_99_twice"].source
    assert cells["grade_99_twice"].metadata["nbgrader"]["points"] == 3
    assert list(cells)[-1] == "teardown"


def test_feedback_is_generated_for_every_submission(graded: dict[str, object]) -> None:
    course = graded["course"]
    assert isinstance(course, Path)
    for student in STUDENTS:
        submitted = sorted(p.stem for p in (course / "submitted" / student).glob("*/*.ipynb"))
        feedback = sorted(p.stem for p in (course / "feedback" / student).glob("*/*.html"))
        assert submitted and feedback == submitted, student


def test_a_students_id_comes_from_the_graded_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WSLEARN_STUDENT", raising=False)
    folder = tmp_path / "autograded" / "alice" / "03_accept_key"
    folder.mkdir(parents=True)
    assert student_id(folder) == "alice"
    monkeypatch.setenv("WSLEARN_STUDENT", "bob")
    assert student_id(folder) == "bob"
    assert seed_for("alice") != seed_for("bob") and seed_for("alice") == seed_for("alice")


def test_the_binder_badge_names_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wslearn.kit import badge

    assert badge.repository_from_remote("https://github.com/acme/wslearn.git") == "acme/wslearn"
    assert badge.repository_from_remote("git@github.com:acme/wslearn.git\n") == "acme/wslearn"
    assert badge.repository_from_remote("https://gitlab.com/acme/wslearn") is None
    monkeypatch.setenv(badge.VARIABLE, "acme/wslearn")
    line = badge.badge(badge.find_repository() or "")
    assert "mybinder.org/v2/gh/acme/wslearn/HEAD?urlpath=lab/tree/notebooks/00_start_here.ipynb" in line
    readme = tmp_path / "README.md"
    readme.write_text(f"# wslearn\n\n{badge.badge(badge.PLACEHOLDER)}\n\ntext\n", encoding="utf-8")
    assert badge.write_badge(readme, line)
    assert readme.read_text(encoding="utf-8") == f"# wslearn\n\n{line}\n\ntext\n"


def test_binder_pins_what_its_base_image_lacks() -> None:
    pins = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert "jupyterlab>=4.6,<5" in pins and "ipykernel>=7.4" in pins and "." in pins
    assert (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.12"


def test_the_guide_has_a_section_per_assignment_with_the_checkpoint_answers() -> None:
    guide = (COURSE / "README.md").read_text(encoding="utf-8")
    for chapter in build.chapters(ROOT / "notebooks"):
        assert f"Assignment `{chapter.assignment}`" in guide, chapter.assignment
        if chapter.quiz is not None:
            first = chapter.quiz.questions[0]
            assert first.explanation in guide, chapter.assignment
