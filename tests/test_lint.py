"""ruff and mypy are part of the test suite: the code students read stays clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_check() -> None:
    result = run("ruff", "check", "wslearn", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", "wslearn", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    # pyproject.toml makes the core (errors, frames, deflate, http, handshake, redaction,
    # views, assembler, protocol) and explain strict; the rest is checked with the default
    # settings.
    result = run("mypy", "wslearn")
    assert result.returncode == 0, result.stdout + result.stderr
