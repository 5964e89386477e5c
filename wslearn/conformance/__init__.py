"""A conformance checker for WebSocket servers: an RFC 6455 report card, case by case.

Point it at any ``ws://`` echo server (one that sends every message back as it came)::

    from wslearn.conformance import check
    check("ws://127.0.0.1:8765/ws")              # a Report: shown as a table in a notebook

or from a terminal: ``python -m wslearn check ws://127.0.0.1:8765/ws``. Each case names the
section of RFC 6455 it tests and earns a grade, as in the Autobahn TestSuite: OK, NON-STRICT
(acceptable, not ideal) or FAILED, with one sentence saying what the server did and what
the RFC requires.
"""

from __future__ import annotations

from .cli import check_main
from .model import Case, Grade, Options, Verdict
from .report import Report, Result
from .runner import all_cases, check, run_checks

__all__ = [
    "Case",
    "Grade",
    "Options",
    "Report",
    "Result",
    "Verdict",
    "all_cases",
    "check",
    "check_main",
    "run_checks",
]
