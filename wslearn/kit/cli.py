"""``python -m wslearn kit build | release | check``: keep the nbgrader course in step with the chapters."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from . import badge
from .build import build, stale


def kit_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wslearn kit",
        description="Build the nbgrader course (course/source/) from the exercise registry.",
    )
    parser.add_argument(
        "action",
        choices=("build", "release", "check", "badge"),
        help="build: write course/source/ and the guide's tables; release: build, then write "
        "the students' versions (nbgrader generate_assignment) into course/release/; "
        "check: exit 1 when course/ is out of date; badge: print the Binder badge",
    )
    parser.add_argument(
        "--repository",
        help=f"badge: the GitHub repository OWNER/NAME (default: ${badge.VARIABLE}, or git's origin)",
    )
    parser.add_argument("--ref", default="HEAD", help="badge: the branch, tag or commit Binder builds")
    parser.add_argument("--write", type=Path, help="badge: replace the Binder badge in this file (README.md)")
    parser.add_argument("--course", type=Path, default=Path("course"), help="the course folder")
    parser.add_argument("--notebooks", type=Path, default=Path("notebooks"), help="the chapter notebooks")
    args = parser.parse_args(argv)
    if args.action == "badge":
        return badge_main(args.repository, args.ref, args.write)
    notebooks = args.notebooks if args.notebooks.is_dir() else None
    if args.action == "check":
        out_of_date = stale(args.course, notebooks)
        for path in out_of_date:
            print(f"out of date: {path}")
        return 1 if out_of_date else 0
    for path in build(args.course, notebooks):
        print(f"wrote {path}")
    if args.action == "release":
        command = [sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--force"]
        return subprocess.run(command, cwd=args.course, check=False).returncode
    return 0


def badge_main(repository: str | None, ref: str, write: Path | None) -> int:
    found = badge.find_repository(repository)
    if found is None:
        print(
            f"wslearn kit badge: no GitHub repository known; pass --repository OWNER/NAME or set "
            f"{badge.VARIABLE}=OWNER/NAME",
            file=sys.stderr,
        )
        return 2
    line = badge.badge(found, ref)
    print(line)
    if write is not None and not badge.write_badge(write, line):
        print(f"wslearn kit badge: no Binder badge in {write}", file=sys.stderr)
        return 1
    return 0
