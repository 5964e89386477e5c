"""``python -m wslearn course``: the real command in a temporary folder, JupyterLab left out (--no-lab).

What it promises: every course notebook is copied; a notebook the student edited is never
overwritten (the command says so and offers --reset, which keeps the student's version under
backups/); a notebook the student did not edit is updated when the course changes it; running
a notebook (outputs) is not editing it. ``--lang zh-CN`` does the same with the Chinese edition and
starts JupyterLab (and so its kernels) with WSLEARN_LANG=zh_CN. And the notebooks ship inside the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from wslearn import course as course_module
from wslearn.course import MANIFEST, fingerprint

ROOT = Path(__file__).resolve().parent.parent
#: The English edition, by path in the course folder: the chapters and extra/ (errata, glossary).
EN = {
    path.relative_to(ROOT / "notebooks").as_posix(): path
    for folder in ("", "extra")
    for path in sorted((ROOT / "notebooks" / folder).glob("*.ipynb"))
}
NAMES = sorted(EN)
FIRST = "00_start_here.ipynb"
#: The Chinese edition, by path in the course folder: what --lang zh-CN copies.
ZH = {
    path.relative_to(ROOT / "notebooks").as_posix(): path
    for folder in ("zh-CN", "zh-CN/extra", "extra")
    for path in sorted((ROOT / "notebooks" / folder).glob("*.ipynb"))
}
ZH_FIRST = "zh-CN/00_start_here.ipynb"
#: Every notebook the wheel must carry, by path in the course folder.
SHIPPED = EN | ZH


def course(*args: str, cwd: Path, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-m", "wslearn", "course", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def copy_course(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = course("--no-lab", "--dir", str(workspace), *args, cwd=workspace.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def edit_first_cell(path: Path, text: str) -> bytes:
    notebook = json.loads(path.read_text())
    notebook["cells"][0]["source"] = text
    path.write_text(json.dumps(notebook, indent=1))
    return path.read_bytes()


def manifest(workspace: Path) -> dict[str, str]:
    entries: dict[str, str] = json.loads((workspace / MANIFEST).read_text())["notebooks"]
    return entries


def test_copies_every_notebook_and_says_how_to_open_lab(tmp_path: Path) -> None:
    done = course("--no-lab", cwd=tmp_path)  # the default folder: ./wslearn-course
    assert done.returncode == 0, done.stderr
    workspace = tmp_path / "wslearn-course"
    assert sorted(path.relative_to(workspace).as_posix() for path in workspace.rglob("*.ipynb")) == NAMES
    for name, path in EN.items():
        assert (workspace / name).read_bytes() == path.read_bytes()
    assert manifest(workspace) == {name: fingerprint(path.read_bytes()) for name, path in EN.items()}
    assert f"wslearn course: {len(NAMES)} notebook" in done.stdout
    assert f"copied     {FIRST}" in done.stdout
    assert f"To open it: cd {workspace} && {sys.executable} -m jupyterlab" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1 if os.geteuid() != 0 else -2].endswith(FIRST)


def test_as_root_lab_gets_allow_root_and_the_command_says_so(tmp_path: Path) -> None:
    done = copy_course(tmp_path / "ws")
    if os.geteuid() == 0:
        assert "-m jupyterlab --allow-root 00_start_here.ipynb" in done.stdout
        assert "You are root, so JupyterLab needs --allow-root: it is added." in done.stdout
    else:
        assert "--allow-root" not in done.stdout


def test_running_it_again_changes_nothing(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    copy_course(workspace)
    before = {path.name: path.stat().st_mtime_ns for path in workspace.glob("*.ipynb")}
    done = copy_course(workspace)
    assert f"up to date {len(NAMES)} notebook" in done.stdout
    assert "copied" not in done.stdout and "updated" not in done.stdout
    assert {path.name: path.stat().st_mtime_ns for path in workspace.glob("*.ipynb")} == before


def test_an_edited_notebook_is_never_overwritten(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    copy_course(workspace)
    edited = edit_first_cell(workspace / FIRST, "# my own notes")
    done = copy_course(workspace)
    assert (workspace / FIRST).read_bytes() == edited
    assert f"kept       {FIRST} (you edited it; it is not overwritten)" in done.stdout
    assert f"--reset {FIRST.removesuffix('.ipynb')}" in done.stdout


def test_reset_puts_the_course_version_back_and_saves_the_students(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    copy_course(workspace)
    edited = edit_first_cell(workspace / FIRST, "# my own notes")
    done = copy_course(workspace, "--reset", "00")
    assert (workspace / FIRST).read_bytes() == (ROOT / "notebooks" / FIRST).read_bytes()
    [backup] = (workspace / "backups").glob(f"*/{FIRST}")
    assert backup.read_bytes() == edited
    assert f"reset      {FIRST} (your version is saved as {backup})" in done.stdout
    assert "up to date" in copy_course(workspace).stdout  # and now it counts as unedited again


def test_reset_without_names_resets_every_edited_notebook(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    copy_course(workspace)
    edit_first_cell(workspace / FIRST, "# mine")
    done = copy_course(workspace, "--reset")
    assert f"reset      {FIRST}" in done.stdout
    assert fingerprint((workspace / FIRST).read_bytes()) == manifest(workspace)[FIRST]


def test_an_unedited_notebook_is_updated_when_the_course_changes_it(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    copy_course(workspace)
    # What an older wslearn left behind: an older version of the notebook, and its fingerprint
    # in the manifest (the student never touched it).
    older = edit_first_cell(workspace / FIRST, "# 00 · an older version of this chapter")
    entries = json.loads((workspace / MANIFEST).read_text())
    entries["notebooks"][FIRST] = fingerprint(older)
    (workspace / MANIFEST).write_text(json.dumps(entries))
    done = copy_course(workspace)
    assert f"updated    {FIRST} (a new version; you had not edited it)" in done.stdout
    assert (workspace / FIRST).read_bytes() == (ROOT / "notebooks" / FIRST).read_bytes()


def test_an_edited_notebook_is_kept_even_when_the_course_changed_it(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    copy_course(workspace)
    entries = json.loads((workspace / MANIFEST).read_text())
    entries["notebooks"][FIRST] = "cells:written-by-an-older-version"
    (workspace / MANIFEST).write_text(json.dumps(entries))
    edited = edit_first_cell(workspace / FIRST, "# mine")
    done = copy_course(workspace)
    assert (workspace / FIRST).read_bytes() == edited
    assert f"kept       {FIRST} (the course has a new version, but you edited yours" in done.stdout


def test_outputs_from_running_a_notebook_are_not_edits(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    copy_course(workspace)
    notebook = json.loads((workspace / FIRST).read_text())
    for number, cell in enumerate(cell for cell in notebook["cells"] if cell["cell_type"] == "code"):
        cell["execution_count"] = number + 1
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["ran\n"]}]
    notebook["metadata"]["widgets"] = {"state": {}}
    (workspace / FIRST).write_text(json.dumps(notebook))
    ran = (workspace / FIRST).read_bytes()
    assert "up to date" in copy_course(workspace).stdout  # nothing to update: the text is the course's
    assert (workspace / FIRST).read_bytes() == ran  # and the outputs stay


def test_a_notebook_in_the_folder_that_we_did_not_write_is_kept(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / FIRST).write_text("not even JSON")
    done = copy_course(workspace)
    assert (workspace / FIRST).read_text() == "not even JSON"
    assert f"kept       {FIRST}" in done.stdout


def test_an_unreadable_manifest_keeps_everything_that_differs(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    copy_course(workspace)
    edited = edit_first_cell(workspace / FIRST, "# mine")
    (workspace / MANIFEST).write_text("{broken")
    done = copy_course(workspace)
    assert f"warning: {MANIFEST} could not be read" in done.stdout
    assert (workspace / FIRST).read_bytes() == edited
    assert f"kept       {FIRST}" in done.stdout
    assert FIRST not in manifest(workspace)  # still unknown: it stays the student's


# --- The Chinese edition: --lang zh-CN -------------------------------------------------------


def test_lang_zh_copies_the_chinese_edition_and_opens_its_first_notebook(tmp_path: Path) -> None:
    assert ZH_FIRST in ZH and "zh-CN/extra/glossary.ipynb" in ZH and "extra/errata.ipynb" in ZH
    workspace = tmp_path / "ws"
    done = copy_course(workspace, "--lang", "zh-CN")
    copied = {path.relative_to(workspace).as_posix() for path in workspace.rglob("*.ipynb")}
    assert copied == set(ZH)  # the Chinese edition only: no English chapter beside it
    for name, path in ZH.items():
        assert (workspace / name).read_bytes() == path.read_bytes()
    assert manifest(workspace) == {name: fingerprint(path.read_bytes()) for name, path in ZH.items()}
    assert f"copied     {ZH_FIRST}" in done.stdout
    assert f"To open it: cd {workspace} && WSLEARN_LANG=zh_CN {sys.executable} -m jupyterlab" in done.stdout
    assert f"--ServerApp.root_dir=. {ZH_FIRST}" in done.stdout  # the folder, not only zh-CN/, is served


def test_lang_accepts_the_other_spellings_of_chinese(tmp_path: Path) -> None:
    for spelling in ("zh_CN", "zh"):
        workspace = tmp_path / spelling
        done = copy_course(workspace, "--lang", spelling)
        assert (workspace / ZH_FIRST).read_bytes() == ZH[ZH_FIRST].read_bytes(), done.stdout


def test_both_editions_share_one_folder(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    copy_course(workspace)
    copy_course(workspace, "--lang", "zh-CN")
    assert set(manifest(workspace)) == set(NAMES) | set(ZH)
    assert f"up to date {len(NAMES)} notebook" in copy_course(workspace).stdout
    assert f"up to date {len(ZH)} notebook" in copy_course(workspace, "--lang", "zh-CN").stdout


def test_lang_zh_keeps_an_edited_chinese_notebook_and_resets_it_into_backups(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    copy_course(workspace, "--lang", "zh-CN")
    edited = edit_first_cell(workspace / ZH_FIRST, "# 我的笔记")
    done = copy_course(workspace, "--lang", "zh-CN")
    assert f"kept       {ZH_FIRST} (you edited it; it is not overwritten)" in done.stdout
    assert (workspace / ZH_FIRST).read_bytes() == edited
    done = copy_course(workspace, "--lang", "zh-CN", "--reset", "00")
    assert (workspace / ZH_FIRST).read_bytes() == ZH[ZH_FIRST].read_bytes()
    [backup] = (workspace / "backups").glob(f"*/{ZH_FIRST}")
    assert backup.read_bytes() == edited
    assert f"reset      {ZH_FIRST} (your version is saved as {backup})" in done.stdout


def test_lang_zh_starts_jupyterlab_with_wslearn_lang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --no-lab: the command replaces itself with JupyterLab. os.execv is caught here, with
    the environment JupyterLab (and every kernel it starts) would inherit."""
    pytest.importorskip("jupyterlab")  # a dependency of wslearn[test]: present wherever the suite runs
    started: list[tuple[str, list[str], str | None, Path]] = []

    def execv(path: str, command: list[str]) -> None:
        started.append((path, command, os.environ.get("WSLEARN_LANG"), Path.cwd()))
        raise SystemExit(0)

    monkeypatch.setenv("WSLEARN_LANG", "en")  # restored after the test, as the working directory is
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(course_module.os, "execv", execv)
    monkeypatch.setattr(course_module.os, "name", "posix")
    with pytest.raises(SystemExit):
        course_module.course_main(["--dir", "ws", "--lang", "zh-CN"])
    [(path, command, lang, cwd)] = started
    assert path == sys.executable
    assert command[:3] == [sys.executable, "-m", "jupyterlab"] and command[-1] == ZH_FIRST
    assert "--ServerApp.root_dir=." in command
    assert lang == "zh_CN"
    assert cwd == tmp_path / "ws" and (cwd / ZH_FIRST).is_file()


def test_unknown_lang_is_a_usage_error_that_names_the_editions(tmp_path: Path) -> None:
    done = course("--no-lab", "--lang", "fr", cwd=tmp_path)
    assert done.returncode == 2
    assert "argument --lang: no 'fr' edition of the course; the editions are en, zh-CN" in done.stderr
    assert not (tmp_path / "wslearn-course").exists()


# --- Errors: a clear message, exit code 1 or 2, nothing lost -------------------------------


def test_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    done = course("--no-lab", "--dir", "notes.txt", cwd=tmp_path)
    assert done.returncode == 1
    assert (
        done.stderr
        == f"wslearn course: {tmp_path / 'notes.txt'} is a file, not a folder: choose another --dir\n"
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_dir_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    done = course("--no-lab", "--dir", "notes.txt/course", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"wslearn course: cannot create the folder {tmp_path / 'notes.txt' / 'course'}: "
    )


def test_the_course_folder_itself_is_refused(tmp_path: Path) -> None:
    done = course("--no-lab", "--dir", str(ROOT / "notebooks"), cwd=tmp_path)
    assert done.returncode == 1
    assert "holds the course's own notebooks (the tests check them): work in a copy" in done.stderr
    assert not (ROOT / "notebooks" / MANIFEST).exists()


def test_reset_of_a_notebook_not_in_the_course(tmp_path: Path) -> None:
    done = course("--no-lab", "--dir", "ws", "--reset", "99_nothing", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "wslearn course: --reset 99_nothing: no such notebook in the course; it has "
    )
    assert FIRST in done.stderr


def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    done = course("--no-such-option", cwd=tmp_path)
    assert done.returncode == 2
    assert "usage: python -m wslearn course" in done.stderr
    assert not (tmp_path / "wslearn-course").exists()


# --- The notebooks inside the wheel --------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel --no-deps .``, as a release is built."""
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            str(ROOT),
            "-w",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = out.glob("wslearn-*.whl")
    return built


@pytest.mark.timeout(600)
def test_the_wheel_carries_every_notebook(wheel: Path) -> None:
    folder = "wslearn/course_notebooks/"
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.removeprefix(folder): archive.read(name)
            for name in archive.namelist()
            if name.startswith(folder)
        }
    assert shipped == {name: path.read_bytes() for name, path in SHIPPED.items()}


@pytest.mark.timeout(600)
def test_a_wheel_install_copies_its_own_notebooks(wheel: Path, tmp_path: Path) -> None:
    """A fresh virtual environment with only the wheel (no dependencies: the command needs none
    to copy) and no checkout next to it."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", str(wheel)]
    done = subprocess.run(install, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    work = tmp_path / "work"
    work.mkdir()
    done = course("--no-lab", cwd=work, python=python)
    assert done.returncode == 0, done.stderr
    for name, path in EN.items():
        assert (work / "wslearn-course" / name).read_bytes() == path.read_bytes()
    done = course("--no-lab", "--lang", "zh-CN", cwd=work, python=python)
    assert done.returncode == 0, done.stderr
    for name, path in ZH.items():
        assert (work / "wslearn-course" / name).read_bytes() == path.read_bytes()
    # Without --no-lab, and without JupyterLab in that environment: copied, then a clear message.
    done = course(cwd=work, python=python)
    assert done.returncode == 1
    assert f"JupyterLab is not installed in this Python ({python})" in done.stderr
