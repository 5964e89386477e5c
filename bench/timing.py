"""Small timing tools shared by the in-process benchmarks."""

from __future__ import annotations

import gc
import importlib
import time
from collections.abc import Callable
from types import ModuleType


def optional_module(name: str) -> tuple[ModuleType | None, str]:
    """Import `name`, or return (None, why) when that part of wslearn has not landed yet."""
    try:
        return importlib.import_module(name), ""
    except ImportError as exc:
        return None, f"{name} not available: {exc}"


def calibrate(call: Callable[[], object], target: float) -> int:
    """How many calls of `call` take about `target` seconds (at least 1)."""
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, int(target / once))


def time_calls(call: Callable[[], object], iterations: int) -> float:
    """Wall time of `iterations` calls, with the garbage collector paused."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(iterations):
            call()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()
