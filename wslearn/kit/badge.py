"""The Binder badge, made from one variable: the GitHub repository (``OWNER/NAME``).

mybinder.org builds a repository it is given by name (``/v2/gh/OWNER/NAME/REF``), so the
badge must name it. The name comes from, in order: ``--repository``, the environment
variable ``WSLEARN_REPOSITORY``, the ``origin`` remote of the git checkout when it is on
GitHub. ``python -m wslearn kit badge --write README.md`` puts the badge in the README.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

VARIABLE = "WSLEARN_REPOSITORY"
PLACEHOLDER = "OWNER/wslearn"
NOTEBOOK = "notebooks/00_start_here.ipynb"
BADGE = re.compile(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\([^)]*\)")
GITHUB = re.compile(r"github\.com[:/]([\w.-]+/[\w.-]+?)(?:\.git)?/?$")


def repository_from_remote(url: str) -> str | None:
    """``OWNER/NAME`` from a GitHub remote URL (https or ssh), else None."""
    match = GITHUB.search(url.strip())
    return match.group(1) if match else None


def find_repository(explicit: str | None = None, cwd: Path | None = None) -> str | None:
    if explicit:
        return explicit
    if os.environ.get(VARIABLE):
        return os.environ[VARIABLE]
    try:
        remote = subprocess.run(
            ["git", "remote", "get-url", "origin"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return repository_from_remote(remote.stdout) if remote.returncode == 0 else None


def badge(repository: str, ref: str = "HEAD", notebook: str = NOTEBOOK) -> str:
    """The badge's markdown: Binder opens JupyterLab on ``notebook``."""
    url = f"https://mybinder.org/v2/gh/{repository}/{ref}?urlpath=lab/tree/{notebook}"
    return f"[![Binder](https://mybinder.org/badge_logo.svg)]({url})"


def write_badge(path: Path, line: str) -> bool:
    """Replace the Binder badge in ``path``; False when the file has none."""
    text = path.read_text(encoding="utf-8")
    if not BADGE.search(text):
        return False
    path.write_text(BADGE.sub(line, text, count=1), encoding="utf-8")
    return True
