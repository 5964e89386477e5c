"""``python -m wslearn check ws://host:port/path``: grade an echo server from the terminal.

The last line is always ``N passed, M failed, K non-strict``; the exit status is 0 only
when no case FAILED. When no WebSocket server accepts a valid handshake at the URL (a
closed port, a wrong path, ``wss://`` to a plain server), one line says so instead, and
the exit status is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from ..assembler import DEFAULT_MAX_SIZE
from .model import Grade, Options
from .report import Report, Result, category_lines, result_line
from .server.runner import all_cases, find_server, run_checks, select


def size(text: str) -> int | None:
    """``1048576``, ``1MiB``, ``64KiB`` or ``none``."""
    text = text.strip().lower()
    if text in ("none", "0"):
        return None
    for suffix, factor in (("kib", 2**10), ("mib", 2**20), ("k", 2**10), ("m", 2**20)):
        if text.endswith(suffix):
            return int(text[: -len(suffix)]) * factor
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m wslearn check",
        description="Grade a WebSocket echo server against RFC 6455, case by case "
        "(OK / NON-STRICT / FAILED).",
    )
    p.add_argument("url", help="the echo server, e.g. ws://127.0.0.1:8765/ws")
    p.add_argument(
        "--max-message-size",
        type=size,
        default=DEFAULT_MAX_SIZE,
        metavar="BYTES",
        help="the server's message size limit (default 1MiB; 'none' skips the limit cases)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how long to wait for each answer (default 2)",
    )
    p.add_argument(
        "--case-timeout",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="hard limit for one case (default 15)",
    )
    p.add_argument(
        "--fail-fast-window",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="how soon a fail-fast close must come (default 0.5)",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PREFIX",
        help="run only cases whose id or category starts with PREFIX (repeatable)",
    )
    p.add_argument(
        "--compression",
        action="store_true",
        help="the server accepts permessage-deflate: also grade it (RFC 7692 cases)",
    )
    p.add_argument("--problems", action="store_true", help="print only the cases that are not OK")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    return p


def check_main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    options = Options(
        max_message_size=args.max_message_size,
        answer_timeout=args.timeout,
        fail_fast_window=args.fail_fast_window,
        case_timeout=args.case_timeout,
        compression=args.compression,
    )
    cases = select(all_cases(options), args.only)
    if not cases:
        only = " ".join(f"--only {pattern}" for pattern in args.only)
        categories = ", ".join(dict.fromkeys(case.category for case in all_cases(options)))
        print(f"error: no case matches {only}; the categories are {categories}", file=sys.stderr)
        return 2
    if args.list:
        for case in cases:
            print(f"{case.id:<42} {case.section:<7} {case.title}")
        return 0

    def show(result: Result) -> None:
        if not args.problems or result.grade is not Grade.OK:
            print(result_line(result), flush=True)

    try:
        problem = asyncio.run(find_server(args.url, options=options))
    except ValueError as exc:  # not a ws:// URL
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if problem is not None:  # one line, not one FAILED line per case for the same reason
        print(f"error: no WebSocket server at {args.url}: the server {problem}", file=sys.stderr)
        return 1
    print(f"RFC 6455 report card for {args.url}\n", flush=True)
    report = asyncio.run(run_checks(args.url, options=options, only=args.only, progress=show))
    print_summary(report)
    return 0 if report.ok else 1


def print_summary(report: Report) -> None:
    print()
    print("\n".join(category_lines(report.categories())))
    print(f"\n{report.summary_line()}")
