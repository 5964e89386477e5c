"""Capstones."""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode


def capstone_notebooks() -> dict[str, NotebookNode]:
    return {}
