"""Run every benchmark and print one markdown table: ``python -m bench [--quick]``.

Sections, in order: masking, parsing (both in this process), echo, fanout, memory (servers and
clients in their own processes), startup (fresh interpreters, the background server, notebooks).
Progress goes to stderr, the table to stdout; --json also writes every sample to a file.
``--compression deflate`` adds the echo section again with permessage-deflate (RFC 7692) on
the wslearn and websockets servers and the client: ``python -m bench --only echo --compression deflate``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench import masking, network, parsing, startup
from bench.results import Results, Row, markdown_table

Section = Callable[..., None]
SECTIONS: dict[str, Section] = {
    "masking": masking.run,
    "parsing": parsing.run,
    "echo": network.run_echo,
    "fanout": network.run_fanout,
    "memory": network.run_memory,
    "startup": startup.run,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and 2 repetitions: checks that everything runs"
    )
    parser.add_argument(
        "--reps", type=int, default=None, help="repetitions per measurement (default 7, or 2 with --quick)"
    )
    parser.add_argument("--only", default="", help="comma-separated sections: " + ", ".join(SECTIONS))
    parser.add_argument("--json", type=Path, default=None, help="also write all samples here")
    parser.add_argument(
        "--compression",
        choices=["deflate"],
        default=None,
        help="also run the echo section with permessage-deflate on every server that has it",
    )
    args = parser.parse_args(argv)
    args.sections = [name for name in args.only.split(",") if name] or list(SECTIONS)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    if args.reps is None:
        args.reps = 2 if args.quick else 7
    return args


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {psutil.cpu_count()} cores, "
        f"{memory:.1f} GiB, Python {platform.python_version()}"
    )


def versions() -> str:
    import wsproto
    from websockets.version import version

    return f"websockets {version}, wsproto {wsproto.__version__}"


def run_section(name: str, results: Results, *, quick: bool, reps: int, **options: str) -> None:
    """Run one section; if it breaks, say so in the table and carry on with the next."""
    print(f"[bench] {name} {' '.join(options.values())}...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        SECTIONS[name](results, quick=quick, reps=reps, **options)
    except Exception as exc:  # one broken section must not hide the others
        traceback.print_exc()
        why = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        results.add(Row(name, "section failed", "-", "", True, missing=why))
    print(f"[bench] {name} done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def report(results: Results, *, quick: bool, reps: int) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "--quick (tiny sizes, numbers not meaningful)" if quick else "full"
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        f"Benchmarks {date}, {mode}, {reps} repetitions; {machine()}; {versions()};"
        f" load average at the end {load}.",
        "median = median of the samples; spread = half their range, relative to the median;"
        " best = the best sample (least disturbed by other processes);"
        " vs websockets = median of the per-repetition ratios to websockets in this run"
        " (implementations are interleaved), oriented so that > 1 = better than websockets.",
        "",
        markdown_table(results),
    ]
    summary = results.goal_summary()
    if summary:
        missed = [f"{row.benchmark} ({row.impl})" for row, _, met in summary if met is False]
        met = sum(1 for _, _, ok in summary if ok)
        lines += ["", f"Goals met: {met} of {len(summary)}."]
        if missed:
            lines.append("Missed: " + "; ".join(missed) + ".")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = Results()
    for name in args.sections:
        run_section(name, results, quick=args.quick, reps=args.reps)
        if name == "echo" and args.compression:
            run_section(name, results, quick=args.quick, reps=args.reps, compression=args.compression)
    print(report(results, quick=args.quick, reps=args.reps), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(results.to_json(), indent=1))
    return 0
