"""Every notebook of the course runs headless from top to bottom, and again, without an error.

The second pass runs every code cell once more in the same kernel, as a student re-running
cells does: no "address already in use", no second server, no thread left behind (the number
of threads in the kernel is the same after both passes). The notebooks are committed without
outputs, so that a diff shows only what a person wrote.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
COUNT_THREADS = "import threading; print(threading.active_count())"


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


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_runs_top_to_bottom_twice(path: Path) -> None:
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
        threads_after_first = count_threads(client, notebook)
        run_every_cell(client, notebook)
        threads_after_second = count_threads(client, notebook)
    print(f"{path.name}: first run {first:.1f} s (kernel start included)")
    assert threads_after_second == threads_after_first, "re-running the cells left threads behind"


def run_every_cell(client: NotebookClient, notebook: Any) -> None:
    """Run each code cell in order; nbclient raises CellExecutionError on the first error."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            client.execute_cell(cell, index)


def count_threads(client: NotebookClient, notebook: Any) -> int:
    """Run one more cell, not part of the notebook, that prints the kernel's thread count."""
    cell = nbformat.v4.new_code_cell(COUNT_THREADS)
    notebook.cells.append(cell)
    try:
        client.execute_cell(cell, len(notebook.cells) - 1)
    finally:
        notebook.cells.pop()
    return int(cell.outputs[0]["text"])
