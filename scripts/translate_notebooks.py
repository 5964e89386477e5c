"""Build the Chinese notebooks from the English ones, and check that no translation is stale.

One source: the English notebook (``notebooks/NN_name.ipynb``) gives every code cell, byte
for byte; the Chinese text lives beside it in ``translations/zh-CN/NN_name.md``, one entry per
cell, keyed by the cell's id (nbformat 4.5)::

    <!-- markdown 6a1f0c2e en:3b9d5e0a7c11 -->
    # 01 · 为什么需要 WebSocket
    ...

    <!-- code 9b2c44d1 en:a0c4e55f2b93 -->

``en:`` is the start of the SHA-256 of the English cell the entry was written (or, for a code
cell, read) against. A markdown entry holds the Chinese text; a code entry holds nothing, it
only says that the Chinese text around that code was checked against this version of it.
When the English cell changes, its hash changes and ``check`` names the cell: the translator
updates the text and runs ``review`` to record the new hash.

    python scripts/translate_notebooks.py check            # exit 1 and a list of cells to translate
    python scripts/translate_notebooks.py build            # write notebooks/zh-CN/*.ipynb
    python scripts/translate_notebooks.py init 06_echo_and_messages    # a skeleton to fill in
    python scripts/translate_notebooks.py review 00_start_here CELL_ID ...   # after updating them

``build`` never refuses: a cell with no translation yet keeps its English text, so the
Chinese notebook always runs and always has every code cell. ``check`` is the gate.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LANG = "zh-CN"
ENGLISH = ROOT / "notebooks"
TRANSLATIONS = ROOT / "translations" / LANG
OUTPUT = ENGLISH / LANG
#: The folders of English notebooks that have a Chinese edition (relative to notebooks/).
FOLDERS = ("", "extra")
HASH_CHARS = 12
MARKER = re.compile(r"^<!-- (markdown|code|raw) (\S+) en:([0-9a-f]{12}) -->\s*$")

#: The cell every Chinese notebook starts with: the widgets, hints and close-code meanings in Chinese.
LANGUAGE_CELL_ID = "zh-cn-language"
LANGUAGE_CELL = (
    "# 中文版：部件、练习提示和关闭码（close code）的说明都用中文显示。\n"
    '# English: set_language("en")\n'
    "from wslearn.i18n import set_language\n"
    "\n"
    'set_language("zh_CN")'
)


def source_of(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cell_hash(cell: dict[str, Any]) -> str:
    """The start of the SHA-256 of a cell's source: what a translation was made from."""
    return hashlib.sha256(source_of(cell).encode("utf-8")).hexdigest()[:HASH_CHARS]


@dataclass
class Entry:
    kind: str
    cell_id: str
    en_hash: str
    text: str


@dataclass
class Problem:
    """A cell whose translation needs a person: ``missing``, ``stale``, ``empty``, ``orphan``, ``kind``."""

    status: str
    cell_id: str
    kind: str
    english: str

    def __str__(self) -> str:
        first = next((line for line in self.english.splitlines() if line.strip()), "")
        what = {
            "missing": "no translation yet",
            "stale": "the English cell changed since it was translated",
            "empty": "the entry has no Chinese text",
            "orphan": "no such cell in the English notebook any more: delete the entry",
            "kind": "the English cell is of another type now",
            "code-text": "a code entry holds text: the code comes from the English notebook",
        }[self.status]
        return f"{self.status:8} {self.kind:8} {self.cell_id}: {what}  | {first[:60]}"


@dataclass
class Report:
    """What ``check`` found for one English notebook."""

    name: str
    translated: bool
    problems: list[Problem] = field(default_factory=list)
    cells: int = 0

    @property
    def ok(self) -> bool:
        return self.translated and not self.problems

    def lines(self) -> list[str]:
        if not self.translated:
            return [
                f"✘ {self.name}: not translated yet ({self.cells} cells need translating;"
                f" start with `init {Path(self.name).stem}`)"
            ]
        if not self.problems:
            return [f"✔ {self.name}: all {self.cells} cells translated and up to date"]
        head = f"✘ {self.name}: {len(self.problems)} of {self.cells} cells need a translator"
        return [head, *(f"    {problem}" for problem in self.problems)]


def english_notebooks() -> list[Path]:
    """Every English notebook with a Chinese edition, in course order."""
    found: list[Path] = []
    for folder in FOLDERS:
        found.extend(sorted((ENGLISH / folder).glob("*.ipynb")))
    return found


def relative(path: Path) -> Path:
    return path.relative_to(ENGLISH)


def translation_path(english: Path) -> Path:
    return (TRANSLATIONS / relative(english)).with_suffix(".md")


def output_path(english: Path) -> Path:
    return OUTPUT / relative(english)


def read_notebook(path: Path) -> dict[str, Any]:
    notebook: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return notebook


def parse(text: str) -> dict[str, Entry]:
    """The entries of a translation file, by cell id (text before the first marker is a preamble)."""
    entries: dict[str, Entry] = {}
    current: Entry | None = None
    body: list[str] = []

    def finish() -> None:
        if current is not None:
            current.text = "\n".join(body).strip("\n")
            if current.cell_id in entries:
                raise ValueError(f"cell {current.cell_id} has two entries")
            entries[current.cell_id] = current

    for line in text.splitlines():
        match = MARKER.match(line)
        if match:
            finish()
            current, body = Entry(match[1], match[2], match[3], ""), []
        elif current is not None:
            body.append(line)
    finish()
    return entries


def load_entries(english: Path) -> dict[str, Entry] | None:
    path = translation_path(english)
    if not path.exists():
        return None
    return parse(path.read_text(encoding="utf-8"))


def check_notebook(english: Path) -> Report:
    """Compare the English notebook with its translation entry by entry."""
    notebook = read_notebook(english)
    cells = notebook["cells"]
    report = Report(str(relative(english)), translated=False, cells=len(cells))
    entries = load_entries(english)
    if entries is None:
        return report
    report.translated = True
    for cell in cells:
        cell_id, kind, source = cell["id"], cell["cell_type"], source_of(cell)
        entry = entries.get(cell_id)
        if entry is None:
            report.problems.append(Problem("missing", cell_id, kind, source))
        elif entry.kind != kind:
            report.problems.append(Problem("kind", cell_id, kind, source))
        elif entry.en_hash != cell_hash(cell):
            report.problems.append(Problem("stale", cell_id, kind, source))
        elif kind != "code" and not entry.text.strip():
            report.problems.append(Problem("empty", cell_id, kind, source))
        elif kind == "code" and entry.text.strip():
            report.problems.append(Problem("code-text", cell_id, kind, source))
    known = {cell["id"] for cell in cells}
    for cell_id, entry in entries.items():
        if cell_id not in known:
            report.problems.append(Problem("orphan", cell_id, entry.kind, entry.text))
    return report


def build_notebook(english: Path) -> dict[str, Any] | None:
    """The Chinese notebook: English code cells verbatim, Chinese text where there is one."""
    entries = load_entries(english)
    if entries is None:
        return None
    source = read_notebook(english)
    built = copy.deepcopy(source)
    cells = []
    for cell in source["cells"]:
        cell = copy.deepcopy(cell)
        entry = entries.get(cell["id"])
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        elif entry is not None and entry.kind == cell["cell_type"] and entry.text.strip():
            cell["source"] = entry.text
        cells.append(cell)
    language: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "id": LANGUAGE_CELL_ID,
        "metadata": {"tags": ["wslearn-language"]},
        "outputs": [],
        "source": LANGUAGE_CELL,
    }
    built["cells"] = [language, *cells]
    built["metadata"].pop("widgets", None)
    depth = "../" * len(relative(english).parts)  # from notebooks/zh-CN/... back to notebooks/
    built["metadata"]["wslearn"] = {
        "lang": LANG,
        "generated_from": f"{depth}{relative(english).as_posix()}",
        "translation": f"{depth}../{translation_path(english).relative_to(ROOT).as_posix()}",
    }
    for cell in built["cells"]:
        if isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(keepends=True)
    return built


def dumps(notebook: dict[str, Any]) -> str:
    """The way Jupyter writes a notebook (nbformat.writes): 1-space indent, non-ASCII kept."""
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def skeleton(english: Path) -> str:
    """A translation file to fill in: one entry per cell, the English text left out."""
    notebook = read_notebook(english)
    lines = [
        f"# {relative(english).as_posix()} · {LANG}",
        "",
        "Each entry below is one cell of the English notebook, by id. Write the Chinese text of a",
        "markdown cell under its marker; a code cell's entry stays empty (the code is the English one).",
        "",
    ]
    for cell in notebook["cells"]:
        lines.append(f"<!-- {cell['cell_type']} {cell['id']} en:{cell_hash(cell)} -->")
        lines.append("")
    return "\n".join(lines)


def review(english: Path, cell_ids: list[str]) -> list[str]:
    """Record that these cells' translations were checked against the current English cells."""
    path = translation_path(english)
    text = path.read_text(encoding="utf-8")
    by_id = {cell["id"]: cell for cell in read_notebook(english)["cells"]}
    done = []
    for cell_id in cell_ids:
        cell = by_id.get(cell_id)
        if cell is None:
            raise SystemExit(f"{english.name} has no cell {cell_id}")
        pattern = re.compile(rf"^<!-- (markdown|code|raw) {re.escape(cell_id)} en:[0-9a-f]{{12}} -->$", re.M)
        marker = f"<!-- {cell['cell_type']} {cell_id} en:{cell_hash(cell)} -->"
        text, count = pattern.subn(marker, text)
        if count != 1:
            raise SystemExit(f"{path.name} has no entry for {cell_id}: add one (see `init`)")
        done.append(cell_id)
    path.write_text(text, encoding="utf-8")
    return done


def find(name: str) -> Path:
    for english in english_notebooks():
        if name in (
            english.name,
            english.stem,
            relative(english).as_posix(),
            str(relative(english).with_suffix("")),
        ):
            return english
    raise SystemExit(f"no English notebook {name!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="list the cells whose translation is missing or stale (exit 1 if any)")
    build = commands.add_parser("build", help="write notebooks/zh-CN/ from the English notebooks")
    build.add_argument("names", nargs="*")
    init = commands.add_parser("init", help="write a skeleton translation file for a notebook")
    init.add_argument("name")
    mark = commands.add_parser("review", help="record that cells were re-read against the English")
    mark.add_argument("name")
    mark.add_argument("cells", nargs="+")
    args = parser.parse_args(argv)

    if args.command == "check":
        reports = [check_notebook(english) for english in english_notebooks()]
        for report in reports:
            print("\n".join(report.lines()))
        return 0 if all(report.ok for report in reports) else 1
    if args.command == "build":
        chosen = [find(name) for name in args.names] or english_notebooks()
        for english in chosen:
            built = build_notebook(english)
            if built is None:
                print(f"– {relative(english)}: not translated yet, no Chinese notebook written")
                continue
            target = output_path(english)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dumps(built), encoding="utf-8")
            print(f"✔ {target.relative_to(ROOT)}")
        return 0
    if args.command == "init":
        english = find(args.name)
        path = translation_path(english)
        if path.exists():
            raise SystemExit(f"{path.relative_to(ROOT)} exists already")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(skeleton(english), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
        return 0
    english = find(args.name)
    for cell_id in review(english, args.cells):
        print(f"✔ {cell_id} reviewed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
