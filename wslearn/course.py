"""``python -m wslearn course``: your own working copy of the course notebooks, then JupyterLab.

The course's notebooks have one home: ``notebooks/`` in the repository, where the tests run
them and where they are committed without outputs. A wheel carries a copy of them in
``wslearn/course_notebooks/`` (``setup.py`` puts it there); an editable install and a clone use
``notebooks/`` itself. Either way you should not work in them: JupyterLab saves outputs into the
notebook you run, and then the originals are no longer the course.

So this command copies them (the chapters, and ``extra/`` with the errata of the articles the
course grew from and the glossary) into a folder of yours (``./wslearn-course`` unless ``--dir``
says otherwise) and opens JupyterLab there. Run it again after an update of wslearn:

* a notebook you never edited is replaced by the course's new version;
* a notebook you edited is **never** overwritten: the command says so, and
  ``--reset NAME`` (or ``--reset`` for all of them) puts the course's version back after saving
  yours under ``backups/``.

``--lang zh-CN`` copies the Chinese edition instead (``notebooks/zh-CN`` and its ``extra/``, with
the English ``extra/`` notebooks beside them) into the same folder layout, opens
``zh-CN/00_start_here.ipynb`` and starts JupyterLab with ``WSLEARN_LANG=zh_CN``, so that every
kernel it starts shows widgets, hints and checkpoints in Chinese.

"Edited" means that the text of a cell differs: running cells (outputs, execution counts) or
folding them does not count. To tell which is which, the folder keeps a small manifest,
``.wslearn-course.json``: the fingerprint of every notebook as the command last wrote it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EDITIONS", "CourseError", "Edition", "Workspace", "course_main", "course_source", "fingerprint"]

DEFAULT_DIR = "wslearn-course"
MANIFEST = ".wslearn-course.json"
BACKUPS = "backups"
FIRST_NOTEBOOK = "00_start_here.ipynb"
PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Edition:
    """One language of the course: which folders of the course it copies, and its kernels' language."""

    folders: tuple[str, ...]  # relative to the course folder; "" is the folder itself
    first: str  # the notebook JupyterLab opens
    wslearn_lang: str | None  # WSLEARN_LANG for JupyterLab and its kernels (None: leave it alone)


#: The editions ``--lang`` offers. The Chinese notebooks link to ``extra/`` beside them.
EDITIONS: dict[str, Edition] = {
    "en": Edition(("", "extra"), FIRST_NOTEBOOK, None),
    "zh-CN": Edition(("zh-CN", "zh-CN/extra", "extra"), f"zh-CN/{FIRST_NOTEBOOK}", "zh_CN"),
}
#: Other spellings of the same languages (as WSLEARN_LANG and locales write them).
LANG_ALIASES = {
    "zh": "zh-CN",
    "zh_CN": "zh-CN",
    "zh-cn": "zh-CN",
    "zh_cn": "zh-CN",
    "en_US": "en",
    "en-US": "en",
}


class CourseError(Exception):
    """Something the student must fix (a wrong --dir, a name not in the course); exit code 1."""


def course_source() -> Path:
    """The folder with the course's own notebooks: the wheel's copy, or a checkout's notebooks/."""
    packaged = PACKAGE / "course_notebooks"  # a regular (wheel) install
    if packaged.is_dir():
        return packaged
    checkout = PACKAGE.parent / "notebooks"  # an editable install, or running from a clone
    if (checkout / FIRST_NOTEBOOK).is_file():
        return checkout
    raise CourseError(
        f"the course notebooks are missing: neither {packaged} nor {checkout} exists. Reinstall wslearn."
    )


def fingerprint(data: bytes) -> str:
    """A hash of what a person writes in a notebook: each cell's type and text.

    Outputs, execution counts and metadata are left out, so running a notebook does not make
    it "edited". A file that is not a notebook hashes as its raw bytes.
    """
    try:
        notebook = json.loads(data)
        cells = [(cell["cell_type"], _text(cell.get("source", ""))) for cell in notebook["cells"]]
    except (ValueError, TypeError, KeyError):
        return "bytes:" + hashlib.sha256(data).hexdigest()
    content = json.dumps(cells, ensure_ascii=False).encode()
    return "cells:" + hashlib.sha256(content).hexdigest()


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


@dataclass
class Outcome:
    """What happened to one notebook: new, updated, unchanged, kept (edited) or reset."""

    name: str
    status: str
    backup: Path | None = None
    course_changed: bool = False


@dataclass
class Workspace:
    """The student's folder and its manifest."""

    root: Path
    source: Path
    edition: Edition = EDITIONS["en"]
    manifest: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, root: Path, source: Path, edition: Edition = EDITIONS["en"]) -> Workspace:
        root = root.expanduser().absolute()
        if root.exists() and not root.is_dir():
            raise CourseError(f"{root} is a file, not a folder: choose another --dir")
        if root.is_dir() and root.resolve() == source.resolve():
            raise CourseError(
                f"{root} holds the course's own notebooks (the tests check them): work in a copy,"
                " choose another --dir"
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CourseError(f"cannot create the folder {root}: {error.strerror or error}") from None
        missing = [folder for folder in edition.folders if not (source / folder).is_dir()]
        if missing:
            raise CourseError(
                f"this copy of the course has no {', '.join(missing)} folder in {source}: reinstall wslearn"
            )
        workspace = cls(root, source, edition)
        workspace._read_manifest()
        return workspace

    def notebooks(self) -> list[str]:
        """The edition's notebooks, as paths relative to the course folder (``zh-CN/extra/errata.ipynb``)."""
        found = []
        for folder in self.edition.folders:
            found += sorted(
                (self.source / folder / path.name).relative_to(self.source).as_posix()
                for path in (self.source / folder).glob("*.ipynb")
            )
        return found

    def sync(self, reset: set[str]) -> list[Outcome]:
        """Copy new notebooks, update unedited ones, keep edited ones (unless in ``reset``)."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        outcomes = []
        try:
            for name in self.notebooks():
                outcomes.append(self._sync_one(name, name in reset, stamp))
        finally:
            self._write_manifest()
        return outcomes

    def _sync_one(self, name: str, reset: bool, stamp: str) -> Outcome:
        course = (self.source / name).read_bytes()
        course_print = fingerprint(course)
        mine = self.root / name
        if not mine.exists():
            self._make_folder(mine.parent)
            self._write(mine, course, course_print)
            return Outcome(name, "new")
        current = fingerprint(mine.read_bytes())
        last_written = self.manifest.get(name)
        if current == course_print:
            self.manifest[name] = course_print
            return Outcome(name, "unchanged")
        if current == last_written:  # the student did not touch it; the course changed it
            self._write(mine, course, course_print)
            return Outcome(name, "updated")
        changed = last_written is not None and last_written != course_print
        if not reset:
            return Outcome(name, "kept", course_changed=changed)
        backup = self._backup(mine, stamp)
        self._write(mine, course, course_print)
        return Outcome(name, "reset", backup=backup)

    def _write(self, path: Path, data: bytes, print_: str) -> None:
        """Write ``data`` whole or not at all (a half-copied notebook would look edited)."""
        partial = path.with_name(path.name + ".partial")
        try:
            partial.write_bytes(data)
            os.replace(partial, path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CourseError(f"cannot write {path}: {error.strerror or error}") from None
        self.manifest[path.relative_to(self.root).as_posix()] = print_

    def _make_folder(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CourseError(f"cannot create the folder {folder}: {error.strerror or error}") from None

    def _backup(self, path: Path, stamp: str) -> Path:
        backup = self.root / BACKUPS / stamp / path.relative_to(self.root)
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, backup)
        return backup

    def _read_manifest(self) -> None:
        path = self.root / MANIFEST
        if not path.exists():
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            notebooks = data["notebooks"]
            if not isinstance(notebooks, dict):
                raise TypeError("notebooks is not an object")
            self.manifest = {str(name): str(value) for name, value in notebooks.items()}
        except (OSError, ValueError, TypeError, KeyError):
            self.warnings.append(
                f"{MANIFEST} could not be read, so every notebook that differs from the course"
                " counts as edited by you and is kept"
            )

    def _write_manifest(self) -> None:
        from wslearn import __version__

        data = {
            "about": "written by `python -m wslearn course`: the notebooks as it last copied them",
            "wslearn": __version__,
            "notebooks": dict(sorted(self.manifest.items())),
        }
        text = json.dumps(data, indent=1) + "\n"
        try:
            (self.root / MANIFEST).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CourseError(f"cannot write {self.root / MANIFEST}: {error.strerror or error}") from None


def resolve_names(asked: list[str], notebooks: list[str]) -> set[str]:
    """``--reset`` arguments as notebooks: ``04_frame_bytes.ipynb``, ``04_frame_bytes`` or ``04``
    (or a path in the course folder, ``zh-CN/extra/errata``)."""
    chosen = set()
    for name in asked:
        matches = [nb for nb in notebooks if name in _names_of(nb)]
        if not matches:
            raise CourseError(
                f"--reset {name}: no such notebook in the course; it has {', '.join(notebooks)}"
            )
        chosen.update(matches)
    return chosen


def _names_of(notebook: str) -> tuple[str, ...]:
    base = notebook.rsplit("/", 1)[-1]
    return (
        notebook,
        notebook.removesuffix(".ipynb"),
        base,
        base.removesuffix(".ipynb"),
        base.split("_", 1)[0],
    )


def lab_command(root: Path, first: str = FIRST_NOTEBOOK) -> tuple[list[str], bool]:
    """The command that opens JupyterLab on the first notebook, and whether it needs --allow-root."""
    command = [sys.executable, "-m", "jupyterlab"]
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        command.append("--allow-root")  # JupyterLab refuses to run as root without it
    if "/" in first:
        # Given a file, JupyterLab serves only the file's own folder; the course folder holds more.
        command.append("--ServerApp.root_dir=.")
    if (root / first).exists():
        command.append(first)
    return command, as_root


def report(workspace: Workspace, outcomes: list[Outcome]) -> str:
    count = len(outcomes)
    lines = [f"wslearn course: {count} notebook{'s' if count != 1 else ''} in {workspace.root}"]
    lines += [f"  warning: {warning}" for warning in workspace.warnings]
    for outcome in outcomes:
        if outcome.status == "new":
            lines.append(f"  copied     {outcome.name}")
        elif outcome.status == "updated":
            lines.append(f"  updated    {outcome.name} (a new version; you had not edited it)")
        elif outcome.status == "reset":
            lines.append(f"  reset      {outcome.name} (your version is saved as {outcome.backup})")
        elif outcome.status == "kept":
            why = (
                "the course has a new version, but you edited yours"
                if outcome.course_changed
                else "you edited it"
            )
            lines.append(f"  kept       {outcome.name} ({why}; it is not overwritten)")
    unchanged = sum(outcome.status == "unchanged" for outcome in outcomes)
    if unchanged:
        lines.append(f"  up to date {unchanged} notebook{'s' if unchanged != 1 else ''}")
    kept = [outcome.name.removesuffix(".ipynb") for outcome in outcomes if outcome.status == "kept"]
    if kept:
        lines.append(
            f"To replace your copy with the course's version (yours goes to {BACKUPS}/): "
            f"python -m wslearn course --dir {shlex.quote(str(workspace.root))} --reset {' '.join(kept)}"
        )
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="python -m wslearn course",
        description="Copy the course notebooks into a folder of your own and open JupyterLab there.",
    )
    parse.add_argument("--dir", default=DEFAULT_DIR, help=f"your course folder (default: ./{DEFAULT_DIR})")
    parse.add_argument("--no-lab", action="store_true", help="only copy; print how to open JupyterLab")
    parse.add_argument(
        "--lang",
        default="en",
        type=_language,
        help="the edition to copy: en (default) or zh-CN, the Chinese edition (中文版)",
    )
    parse.add_argument(
        "--reset",
        nargs="*",
        metavar="NOTEBOOK",
        help="put the course's version back over notebooks you edited (all, or the ones named:"
        " 04_frame_bytes.ipynb, 04_frame_bytes or 04); your versions are saved under backups/",
    )
    return parse


def _language(name: str) -> str:
    """``--lang``: an edition's name, or another spelling of it; anything else is a usage error."""
    lang = LANG_ALIASES.get(name, name)
    if lang not in EDITIONS:
        raise argparse.ArgumentTypeError(
            f"no {name!r} edition of the course; the editions are {', '.join(EDITIONS)}"
        )
    return lang


def course_main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        source = course_source()
        edition = EDITIONS[args.lang]
        workspace = Workspace.open(Path(args.dir), source, edition)
        notebooks = workspace.notebooks()
        if args.reset is None:
            reset: set[str] = set()
        else:
            reset = resolve_names(args.reset, notebooks) if args.reset else set(notebooks)
        outcomes = workspace.sync(reset)
    except CourseError as error:
        print(f"wslearn course: {error}", file=sys.stderr)
        return 1
    print(report(workspace, outcomes))
    command, as_root = lab_command(workspace.root, edition.first)
    env_note = f"WSLEARN_LANG={edition.wslearn_lang}" if edition.wslearn_lang else ""
    root_note = "You are root, so JupyterLab needs --allow-root: it is added." if as_root else ""
    if args.no_lab:
        lab = f"{env_note} {shlex.join(command)}" if env_note else shlex.join(command)
        print(f"To open it: cd {shlex.quote(str(workspace.root))} && {lab}")
        if root_note:
            print(root_note)
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        print(
            f"wslearn course: JupyterLab is not installed in this Python ({sys.executable}):"
            " python -m pip install jupyterlab",
            file=sys.stderr,
        )
        return 1
    if root_note:
        print(root_note)
    print(f"Starting JupyterLab in {workspace.root} (Ctrl+C stops it): {shlex.join(command)}", flush=True)
    if edition.wslearn_lang:
        os.environ["WSLEARN_LANG"] = edition.wslearn_lang  # JupyterLab's kernels inherit it
        print(f"Kernels start with {env_note}.", flush=True)
    os.chdir(workspace.root)
    if os.name == "posix":
        os.execv(sys.executable, command)  # JupyterLab takes over this process (and Ctrl+C)
    import subprocess

    return subprocess.call(command)
