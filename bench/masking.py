"""Masking throughput (RFC 6455 §5.3): every byte of a client payload is XORed with a 4-byte key.

Compared: wslearn's fast path, wslearn's readable loop, the C masker of the websockets library
and a plain memory copy (the physical limit: masking cannot be faster than copying the bytes).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

from bench.results import Results, Row, ratio_at_least
from bench.timing import calibrate, optional_module, time_calls

SECTION = "masking"
SIZES = [("125 B", 125), ("4 KiB", 4096), ("64 KiB", 65536), ("1 MiB", 2**20), ("16 MiB", 2**24)]
GOAL_SIZE = "64 KiB"
# The readable loop handles a few MB/s: beyond this size it runs once per sample, fewer samples.
LOOP_FULL_REPS_UP_TO = 65536

Masker = Callable[[bytes, bytes], bytes | bytearray]


def maskers() -> list[tuple[str, Masker | None, str]]:
    """(implementation, function or None, why missing)."""
    from websockets.speedups import apply_mask as websockets_mask

    frames, why = optional_module("wslearn.frames")
    fast = getattr(frames, "apply_mask", None)
    loop = getattr(frames, "apply_mask_loop", None)
    return [
        ("wslearn", fast, why or ("" if fast else "no wslearn.frames.apply_mask")),
        ("wslearn (readable loop)", loop, why or ("" if loop else "no apply_mask_loop")),
        ("websockets", websockets_mask, ""),
        ("memory copy", copy, ""),
    ]


def copy(data: bytes, mask: bytes) -> bytearray:
    """The physical limit: read every byte once and write it once, no XOR."""
    return bytearray(data)


def check_same_result(masker: Masker | None, reference: Masker) -> str:
    """'' when masker agrees with the C masker on a few odd-sized inputs, else why not."""
    if masker is None or masker is copy:
        return ""
    for size in (0, 1, 3, 4, 5, 125, 1031):
        data, mask = os.urandom(size), os.urandom(4)
        if bytes(masker(data, mask)) != bytes(reference(data, mask)):
            return f"wrong result at {size} bytes"
    return ""


def sampler(masker: Masker, size: int, target: float) -> Callable[[], float]:
    """A function that takes one sample, in MB/s (10**6 bytes per second), of about
    `target` seconds (at least one call)."""
    data, mask = os.urandom(size), os.urandom(4)
    # partial() calls from C: no extra Python frame between the timer and the masker.
    call = partial(bytearray, data) if masker is copy else partial(masker, data, mask)
    iterations = calibrate(call, target)

    def sample() -> float:
        return size * iterations / time_calls(call, iterations) / 1e6

    return sample


def run(results: Results, *, quick: bool, reps: int) -> None:
    target = 0.002 if quick else 0.05
    implementations = maskers()
    reference = implementations[2][1]
    assert reference is not None
    for label, size in SIZES:
        samplers: dict[str, tuple[Row, Callable[[], float], int]] = {}
        for impl, masker, why in implementations:
            goal = ratio_at_least(0.9) if impl == "wslearn" and label == GOAL_SIZE else None
            row = results.add(Row(SECTION, f"mask {label}", impl, "MB/s", True), goal)
            row.missing = why or check_same_result(masker, reference)
            if row.missing or masker is None:
                continue
            impl_reps, impl_target = reps, target
            if "loop" in impl and size > LOOP_FULL_REPS_UP_TO:
                if quick:
                    row.missing = "skipped in --quick (slow by design)"
                    continue
                # Pure Python: one call per sample, and fewer samples.
                impl_reps, impl_target = (min(reps, 3) if size <= 2**20 else 1), 0.0
            samplers[impl] = (row, sampler(masker, size, impl_target), impl_reps)
        # Interleave the implementations, so that sample i of each comes from the same round.
        for rep in range(reps):
            for row, sample, impl_reps in samplers.values():
                if rep < impl_reps:
                    row.samples.append(sample())
