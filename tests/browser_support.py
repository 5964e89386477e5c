"""What the browser tests share: where Debian's Chromium is, how to start it, when to skip;
and node's ``ws``, the browser-like client of the JavaScript world."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright cannot download its own browser here: the tests drive Debian's package.
CHROMIUM = Path("/usr/bin/chromium")
# Headless as root in a container, and nothing that reaches out to the network by itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require(condition: bool, why: str) -> None:
    """Skip when something is missing locally; fail under CI, where nothing may be missing."""
    if condition:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser test cannot run: {why}")
    pytest.skip(why)


@contextlib.contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; closed on the way out.

    Skips (fails under CI) when it is missing. ``extra_args`` go after ``CHROMIUM_ARGS``.
    """
    require(CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


def install_node_ws(folder: Path) -> None:
    """Install the npm package ``ws`` (version 8) into ``folder``, for scripts run there."""
    node, npm = shutil.which("node"), shutil.which("npm")
    require(node is not None and npm is not None, "node and npm are missing: install Debian's nodejs and npm")
    assert npm is not None
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", "ws@8"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    require(done.returncode == 0, f"npm install ws failed: {done.stderr[-500:]}")
