"""What the browser tests share: where Debian's Chromium is, how to start it, when to skip."""

from __future__ import annotations

import os
from pathlib import Path

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
