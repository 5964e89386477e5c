"""Every notebook of the course runs headless from top to bottom, and again, without an error.

The second pass runs every code cell once more in the same kernel, as a student re-running
cells does: no "address already in use", no second server, no thread left behind (the number
of threads in the kernel is the same after both passes). The notebooks are committed without
outputs, so that a diff shows only what a person wrote. The time of each run is reported at the
end of this module's tests (and written to ``test-artifacts/notebook-times.txt``).

Every chapter has the same frame: a first cell with its title, **Objectives**,
**Prerequisites** and **Time**; at the end a Checkpoint quiz and a "Next" cell that links the
following chapter (the last chapter ends with a closing cell instead).

These tests read the committed notebooks in ``notebooks/``, never a student's working copy
(``python -m wslearn course`` makes that copy elsewhere).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# The kernel's threads, by name. A threading.Timer is left out: widgets use one-shot timers to
# batch their redraws (EventLogView), which come and go by themselves.
LIST_THREADS = (
    "import json, threading; "
    "print(json.dumps(sorted(t.name for t in threading.enumerate() if not isinstance(t, threading.Timer))))"
)
# The chapters of the course, in order (fixed names: other notebooks and links point at them).
CHAPTERS = (
    "00_start_here",
    "01_why_websocket",
    "02_http_upgrade",
    "03_accept_key",
    "04_frame_bytes",
    "05_masking",
    "06_echo_and_messages",
    "07_push_and_heartbeats",
    "08_closing",
    "09_live_chat",
    "10_security_and_deployment",
    "11_permessage_deflate",
)
# How long each notebook took: name -> (first run with kernel start, second run), in seconds.
TIMES: dict[str, tuple[float, float]] = {}


def test_the_course_has_a_start_notebook() -> None:
    assert "00_start_here.ipynb" in [path.name for path in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} of {path.name} has outputs"
            assert cell.execution_count is None, f"cell {index} of {path.name} has a count"
    assert "widgets" not in notebook.metadata, f"{path.name} carries saved widget state"


@pytest.fixture(scope="module", autouse=True)
def report_times(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the last notebook ran: each notebook's times, and the total, on the terminal."""
    yield
    if not TIMES:
        return
    lines = [
        f"{name}: first run {first:.1f} s (kernel start included), second run {second:.1f} s"
        for name, (first, second) in sorted(TIMES.items())
    ]
    total = sum(first for first, _ in TIMES.values())
    lines.append(f"{len(TIMES)} notebook(s): {total:.1f} s for the first runs together")
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "notebook-times.txt").write_text("\n".join(lines) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # shown even when the tests pass
        reporter.write_line("")
        reporter.write_sep("-", "notebook run times")
        for line in lines:
            reporter.write_line(line)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_runs_top_to_bottom_twice(path: Path, record_property: Any) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=60,  # seconds per cell
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    with client.setup_kernel():
        run_every_cell(client, notebook)
        first = time.monotonic() - started
        threads_after_first = list_threads(client, notebook)
        again = time.monotonic()
        run_every_cell(client, notebook)
        second = time.monotonic() - again
        threads_after_second = list_threads(client, notebook)
    TIMES[path.name] = (first, second)
    record_property("first_run_seconds", round(first, 2))
    record_property("second_run_seconds", round(second, 2))
    print(f"{path.name}: first run {first:.1f} s (kernel start included), second run {second:.1f} s")
    assert len(threads_after_second) == len(threads_after_first), (
        f"re-running the cells left threads behind: {threads_after_first} became {threads_after_second}"
    )


def run_every_cell(client: NotebookClient, notebook: Any) -> None:
    """Run each code cell in order; nbclient raises CellExecutionError on the first error."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            client.execute_cell(cell, index)


def list_threads(client: NotebookClient, notebook: Any) -> list[str]:
    """Run one more cell, not part of the notebook, that lists the kernel's threads."""
    cell = nbformat.v4.new_code_cell(LIST_THREADS)
    notebook.cells.append(cell)
    try:
        client.execute_cell(cell, len(notebook.cells) - 1)
    finally:
        notebook.cells.pop()
    names: list[str] = json.loads(cell.outputs[0]["text"])
    return names


# --- The frame of every chapter ------------------------------------------------------------


def source(cell: Any) -> str:
    text = cell.source
    return "".join(text) if isinstance(text, list) else str(text)


def label(name: str) -> str:
    """A regex for a heading of the first cell: ``**Time**``, ``**Time:**`` or ``### Time``."""
    return rf"(?:\*\*{name}:?\*\*|^#+ *{name}\b)"


def section(text: str, start: str, end: str) -> str:
    """The text after the heading ``start`` and before the heading ``end``."""
    found = re.search(rf"{label(start)}(.*?)(?:{label(end)}|\Z)", text, re.S | re.M)
    return found.group(1) if found else ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_is_a_chapter_of_the_course(path: Path) -> None:
    assert path.stem in CHAPTERS, f"{path.name} is not one of the chapters: {', '.join(CHAPTERS)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_starts_with_objectives_prerequisites_and_time(path: Path) -> None:
    first = nbformat.read(path, as_version=4).cells[0]
    text = source(first)
    number = path.name[:2]
    assert first.cell_type == "markdown", f"{path.name}: the first cell must be markdown"
    assert re.match(rf"# {number} · \S", text), f"{path.name}: the title must be '# {number} · Title'"
    objectives = section(text, "Objectives", "Prerequisites")
    bullets = re.findall(r"^\s*[*-] \S", objectives, re.M)
    assert 3 <= len(bullets) <= 5, f"{path.name}: **Objectives** needs 3 to 5 bullets, found {len(bullets)}"
    prerequisites = section(text, "Prerequisites", "Time")
    assert prerequisites.strip(" :\n"), f"{path.name}: **Prerequisites** must say what the student needs"
    time_line = re.search(rf"{label('Time')}:?(.*?)(?:\n\s*\n|\Z)", text, re.S | re.M)
    assert time_line and re.search(r"\d+.*min", time_line.group(1)), f"{path.name}: **Time** in minutes"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_ends_with_a_checkpoint_and_next(path: Path) -> None:
    from wslearn.exercises import quiz

    cells = nbformat.read(path, as_version=4).cells
    number = path.name[:2]
    code_cells = [cell for cell in cells if cell.cell_type == "code"]
    quiz_id = f"{number}.checkpoint"
    shows_checkpoint = rf"Checkpoint\(\s*[\"']{re.escape(quiz_id)}[\"']"
    assert code_cells and re.search(shows_checkpoint, source(code_cells[-1])), (
        f"{path.name}: the last code cell must show Checkpoint({quiz_id!r})"
    )
    assert 3 <= len(quiz(quiz_id).questions) <= 5, f"{quiz_id} needs 3 to 5 questions"
    last = cells[-1]
    assert last.cell_type == "markdown", f"{path.name}: the last cell must be markdown"
    if path.stem == CHAPTERS[-1]:
        assert source(last).strip(), f"{path.name}: the last chapter ends with a closing cell"
        return
    following = CHAPTERS[CHAPTERS.index(path.stem) + 1]
    assert "Next" in source(last), f"{path.name}: the last cell must be 'Next: chapter ...'"
    assert f"]({following}.ipynb)" in source(last), f"{path.name}: 'Next' must link {following}.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_links_to_notebooks_name_chapters(path: Path) -> None:
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for target in re.findall(r"\]\(([^)#\s]+\.ipynb)", source(cell)):
                assert Path(target).stem in CHAPTERS, f"{path.name} links {target}, which is no chapter"
