"""``python -m wslearn kit build | release | check``: keep the nbgrader course in step with the chapters."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from .build import build, stale


def kit_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wslearn kit",
        description="Build the nbgrader course (course/source/) from the exercise registry.",
    )
    parser.add_argument(
        "action",
        choices=("build", "release", "check"),
        help="build: write course/source/ and the guide's tables; release: build, then write "
        "the students' versions (nbgrader generate_assignment) into course/release/; "
        "check: exit 1 when course/ is out of date",
    )
    parser.add_argument("--course", type=Path, default=Path("course"), help="the course folder")
    parser.add_argument("--notebooks", type=Path, default=Path("notebooks"), help="the chapter notebooks")
    args = parser.parse_args(argv)
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
