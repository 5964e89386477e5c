"""Ports of the seed articles' servers, each keeping one bug on purpose, to watch it happen.

Each port is a small Python program that behaves like the Go server of an article, bug
included; its module docstring names the bug it keeps. A port runs in a *subprocess*
(:class:`SeedProcess`), on 127.0.0.1 only, so that when the bug takes the process down, the
notebook's kernel and its servers carry on.
"""

from __future__ import annotations

from .process import SeedProcess, start_seed

__all__ = ["SeedProcess", "start_seed"]
