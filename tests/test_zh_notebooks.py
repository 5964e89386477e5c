"""The Chinese edition: generated from the English notebooks, never stale, and it runs.

``notebooks/zh-CN/`` is built by ``scripts/translate_notebooks.py`` from two sources: the English
notebook (every code cell, byte for byte) and ``translations/zh-CN/<name>.md`` (the Chinese text,
one entry per cell id, each with the hash of the English cell it was made from). These tests fail
when an English cell changed since its translation was looked at, when the committed Chinese
notebook is not what the sources build, and when a Chinese notebook does not run top to bottom
twice in one kernel. An English chapter with no translation at all yet is reported as a warning
naming how many cells need translating (``translate_notebooks.py check`` lists them, and exits 1).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from test_notebooks import list_threads, run_every_cell

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "translate_notebooks", ROOT / "scripts" / "translate_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
ENGLISH = tool.english_notebooks()
TRANSLATED = [path for path in ENGLISH if tool.translation_path(path).exists()]
CHINESE = sorted(tool.OUTPUT.rglob("*.ipynb"))
#: English notebooks outside the chapter numbering (errata, glossary): tests/test_notebooks.py
#: globs notebooks/*.ipynb only, so they are run here.
EXTRA = sorted((tool.ENGLISH / "extra").glob("*.ipynb"))


def ids(paths: list[Path]) -> list[str]:
    return [str(tool.relative(path)) if tool.ENGLISH in path.parents else path.name for path in paths]


def test_the_chapters_that_exist_are_translated() -> None:
    names = {path.name for path in TRANSLATED}
    for chapter in ("00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"):
        assert any(name.startswith(chapter + "_") for name in names), f"chapter {chapter} has no translation"
    assert {"errata.ipynb", "glossary.ipynb"} <= names


def test_untranslated_chapters_are_reported() -> None:
    pending = [tool.check_notebook(path) for path in ENGLISH if path not in TRANSLATED]
    for report in pending:
        assert not report.ok
        assert "not translated yet" in report.lines()[0]
        warnings.warn(report.lines()[0], stacklevel=1)


@pytest.mark.parametrize("english", TRANSLATED, ids=ids(TRANSLATED))
def test_no_translation_is_stale(english: Path) -> None:
    report = tool.check_notebook(english)
    assert report.ok, "\n".join(report.lines()) + (
        f"\nupdate the entries, then: python scripts/translate_notebooks.py review {english.stem} CELL_ID ..."
    )


@pytest.mark.parametrize("english", TRANSLATED, ids=ids(TRANSLATED))
def test_the_committed_chinese_notebook_is_what_the_sources_build(english: Path) -> None:
    built = tool.dumps(tool.build_notebook(english))
    target = tool.output_path(english)
    assert target.exists(), f"run: python scripts/translate_notebooks.py build {english.stem}"
    assert target.read_text(encoding="utf-8") == built, (
        f"{target.name} is out of date: python scripts/translate_notebooks.py build {english.stem}"
    )


@pytest.mark.parametrize("english", TRANSLATED, ids=ids(TRANSLATED))
def test_code_cells_are_the_english_ones_and_text_is_chinese(english: Path) -> None:
    source = nbformat.read(english, as_version=4)
    chinese = nbformat.read(tool.output_path(english), as_version=4)
    nbformat.validate(chinese)
    first, *rest = chinese.cells
    assert first.id == tool.LANGUAGE_CELL_ID and 'set_language("zh_CN")' in first.source
    assert [cell.id for cell in rest] == [cell.id for cell in source.cells]
    for mine, theirs in zip(rest, source.cells, strict=True):
        assert mine.cell_type == theirs.cell_type
        if mine.cell_type == "code":
            assert mine.source == theirs.source, f"code cell {mine.id} differs from the English one"
            assert mine.outputs == [] and mine.execution_count is None
        else:
            assert CJK.search(mine.source), f"markdown cell {mine.id} has no Chinese text"
    assert chinese.metadata["wslearn"]["lang"] == "zh-CN"
    assert "widgets" not in chinese.metadata


def test_every_chinese_notebook_has_its_sources() -> None:
    built = {tool.output_path(path) for path in TRANSLATED}
    assert set(CHINESE) == built, "a notebook in notebooks/zh-CN has no English source or translation"


# --- the checker itself, on a notebook made for the test ---------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    english = tmp_path / "notebooks"
    english.mkdir()
    monkeypatch.setattr(tool, "ENGLISH", english)
    monkeypatch.setattr(tool, "TRANSLATIONS", tmp_path / "translations" / "zh-CN")
    monkeypatch.setattr(tool, "OUTPUT", english / "zh-CN")
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# 99 · Test\n\nSome text.", id="intro"),
        nbformat.v4.new_code_cell("print(len('你好'.encode()))", id="code-1"),
        nbformat.v4.new_markdown_cell("The end.", id="end"),
    ]
    nbformat.write(notebook, english / "99_test.ipynb")
    return english / "99_test.ipynb"


def translate(path: Path, text: dict[str, str]) -> None:
    entries = tool.parse(tool.skeleton(path))
    lines = []
    for cell_id, entry in entries.items():
        lines.append(f"<!-- {entry.kind} {cell_id} en:{entry.en_hash} -->")
        lines.append(text.get(cell_id, ""))
    target = tool.translation_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_notebook_without_translation_is_reported_with_its_cells(workspace: Path) -> None:
    report = tool.check_notebook(workspace)
    assert not report.ok and "3 cells need translating" in report.lines()[0]
    assert tool.build_notebook(workspace) is None
    assert tool.main(["check"]) == 1


def test_a_complete_translation_passes_and_builds(workspace: Path) -> None:
    translate(workspace, {"intro": "# 99 · 测试\n\n一些文字。", "end": "结束。"})
    assert tool.check_notebook(workspace).ok
    assert tool.main(["check"]) == 0
    assert tool.main(["build"]) == 0
    built = json.loads(tool.output_path(workspace).read_text(encoding="utf-8"))
    sources = ["".join(cell["source"]) for cell in built["cells"]]
    assert sources[1:] == ["# 99 · 测试\n\n一些文字。", "print(len('你好'.encode()))", "结束。"]


def test_a_changed_code_cell_makes_the_check_fail_until_reviewed(workspace: Path) -> None:
    translate(workspace, {"intro": "# 99 · 测试", "end": "结束。"})
    notebook = nbformat.read(workspace, as_version=4)
    notebook.cells[1].source = "print(len('你好'))  # characters, not bytes"
    nbformat.write(notebook, workspace)
    report = tool.check_notebook(workspace)
    assert [(p.status, p.cell_id) for p in report.problems] == [("stale", "code-1")]
    assert "the English cell changed" in "\n".join(report.lines())
    built: Any = tool.build_notebook(workspace)  # the Chinese notebook takes the new code at once
    assert "".join(built["cells"][2]["source"]) == notebook.cells[1].source
    tool.review(workspace, ["code-1"])
    assert tool.check_notebook(workspace).ok


def test_new_removed_and_empty_cells_are_named(workspace: Path) -> None:
    translate(workspace, {"intro": "# 99 · 测试"})  # "end" left empty
    notebook = nbformat.read(workspace, as_version=4)
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell("A new paragraph.", id="new"))
    del notebook.cells[2]  # the code cell
    nbformat.write(notebook, workspace)
    problems = {(p.status, p.cell_id) for p in tool.check_notebook(workspace).problems}
    assert problems == {("missing", "new"), ("empty", "end"), ("orphan", "code-1")}
    built: Any = tool.build_notebook(workspace)
    assert "".join(built["cells"][2]["source"]) == "A new paragraph."  # English until translated


def test_a_code_entry_may_not_carry_text(workspace: Path) -> None:
    translate(workspace, {"intro": "# 99 · 测试", "code-1": "print('不同的代码')", "end": "结束。"})
    assert [p.status for p in tool.check_notebook(workspace).problems] == ["code-text"]


# --- every Chinese notebook runs, twice, in one kernel ----------------------------------------


@pytest.mark.parametrize("path", EXTRA, ids=ids(EXTRA))
def test_extra_english_notebooks_are_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"cell {cell.id} has outputs"
    assert "widgets" not in notebook.metadata


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", CHINESE + EXTRA, ids=ids(CHINESE + EXTRA))
def test_runs_top_to_bottom_twice(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    started = time.monotonic()
    with client.setup_kernel():
        run_every_cell(client, notebook)
        first = time.monotonic() - started
        threads_after_first = list_threads(client, notebook)
        run_every_cell(client, notebook)
        threads_after_second = list_threads(client, notebook)
    print(f"{path.relative_to(tool.ENGLISH)}: first run {first:.1f} s (kernel start included)")
    assert len(threads_after_second) == len(threads_after_first), (
        f"re-running the cells left threads behind: {threads_after_first} became {threads_after_second}"
    )
    shown = json.dumps([cell.get("outputs", []) for cell in notebook.cells], ensure_ascii=False)
    if "Checkpoint(" in "".join(cell.source for cell in notebook.cells):
        assert "小测验" in shown, "the checkpoint did not speak Chinese"
