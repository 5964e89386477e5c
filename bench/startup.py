"""Start-up costs: import time, the background server's start and stop, notebook execution.

Import time is measured two ways, each in fresh interpreters, median of 10, after one import
that brings the bytecode caches up to date:
  -X importtime   the interpreter's own per-module timer: the cumulative time of the
                  top-level imports that a bare interpreter does not do;
  wall            wall time of ``python -c "import X"`` minus that of ``python -c "pass"``.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import time
from pathlib import Path

from bench.procs import ROOT, child_env, run_client
from bench.results import Results, Row, median_at_most
from bench.timing import optional_module

SECTION = "start-up"
CORE = ["wslearn.protocol"]
# The websockets counterparts: its sans-I/O layer (both roles), and the whole library.
WEBSOCKETS_CORE = ["websockets.server", "websockets.client"]
WEBSOCKETS_ALL = [
    "websockets",
    "websockets.server",
    "websockets.client",
    "websockets.asyncio.server",
    "websockets.asyncio.client",
    "websockets.sync.server",
    "websockets.sync.client",
]


def python(code: str, *options: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter that caches bytecode as usual.

    PYTHONDONTWRITEBYTECODE would make every import of an edited module compile it again,
    which is not what a student's kernel does after the first import.
    """
    env = child_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run(
        [sys.executable, *options, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        check=True,
    )


def top_level_imports(stderr: str) -> dict[str, int]:
    """{module: cumulative µs} for the unindented lines of ``-X importtime`` output."""
    imports = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  "):  # one space after "|" = top level
            imports[name.strip()] = int(cumulative)
    return imports


def importtime_ms(modules: list[str], bare: set[str]) -> float:
    stderr = python("import " + ", ".join(modules), "-X", "importtime").stderr
    imported = top_level_imports(stderr)
    return sum(us for name, us in imported.items() if name not in bare) / 1e3


def wall_s(code: str) -> float:
    start = time.perf_counter()
    python(code)
    return time.perf_counter() - start


def wslearn_modules() -> list[str]:
    """Every module of the package (except the command line entry point)."""
    import wslearn

    names = ["wslearn"]
    for info in pkgutil.walk_packages(wslearn.__path__, "wslearn."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def import_rows(results: Results, *, quick: bool) -> None:
    reps = 3 if quick else 10
    bare = set(top_level_imports(python("pass", "-X", "importtime").stderr))
    python("import " + ", ".join(wslearn_modules() + WEBSOCKETS_ALL))  # fresh .pyc files first
    cases = [
        ("import the core (wslearn.protocol)", "wslearn", CORE, median_at_most(30, "ms")),
        ("import the core (wslearn.protocol)", "websockets", WEBSOCKETS_CORE, None),
        ("import the whole package", "wslearn", wslearn_modules(), None),
        ("import the whole package", "websockets", WEBSOCKETS_ALL, None),
    ]
    rows = []
    for benchmark, impl, modules, goal in cases:
        timer = results.add(Row(SECTION, benchmark + ", -X importtime", impl, "ms", False), goal)
        wall = results.add(Row(SECTION, benchmark + ", wall minus bare python", impl, "ms", False))
        rows.append((modules, timer, wall))
    for _ in range(reps):  # interleaved: sample i of each row comes from the same round
        for modules, timer, wall in rows:
            if timer.missing:
                continue
            try:
                timer.samples.append(importtime_ms(modules, bare))
                code = "import " + ", ".join(modules)
                wall.samples.append((wall_s(code) - wall_s("pass")) * 1e3)
            except subprocess.CalledProcessError as exc:
                timer.missing = wall.missing = exc.stderr.strip().splitlines()[-1][:120]
                timer.samples, wall.samples = [], []


def runner_rows(results: Results, *, quick: bool) -> None:
    """Start and stop the notebook's background server (its own thread and loop)."""
    row = results.add(Row(SECTION, "background server start + stop", "wslearn", "ms", False))
    runner, why = optional_module("wslearn.notebook.runner")
    if runner is None:
        row.missing = why
        return
    out = run_client("runner", {"reps": 3 if quick else 10}, timeout=120)
    row.samples = [seconds * 1e3 for seconds in out["seconds"]]


def notebook_rows(results: Results, *, quick: bool) -> None:
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        results.add(
            Row(
                SECTION,
                "execute notebooks headless",
                "wslearn",
                "s",
                False,
                missing="no notebooks in notebooks/ yet",
            )
        )
        return
    for path in notebooks[:1] if quick else notebooks:
        row = results.add(Row(SECTION, f"execute {path.name} headless", "wslearn", "s", False))
        try:
            row.samples = [run_notebook(path)]
        except RuntimeError as exc:
            row.missing = str(exc)[:120]


def run_notebook(path: Path) -> float:
    out = run_client("notebook", {"path": str(path)}, timeout=600)
    return float(out["seconds"])


def run(results: Results, *, quick: bool, reps: int) -> None:
    import_rows(results, quick=quick)
    runner_rows(results, quick=quick)
    notebook_rows(results, quick=quick)
