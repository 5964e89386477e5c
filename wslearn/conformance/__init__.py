"""A conformance checker for WebSocket servers: an RFC 6455 report card, case by case.

Point it at any ``ws://`` echo server (one that sends every message back as it came)::

    from wslearn.conformance import check
    check("ws://127.0.0.1:8765/ws")              # a Report: shown as a table in a notebook

or from a terminal: ``python -m wslearn check ws://127.0.0.1:8765/ws``. Each case names the
section of RFC 6455 it tests and earns a grade, as in the Autobahn TestSuite: OK, NON-STRICT
(acceptable, not ideal) or FAILED, with one sentence saying what the server did and what
the RFC requires.

The server checks live in :mod:`.server`, one table of cases per category; the client
checks (a misbehaving server grading a client) in :mod:`.client`. Both are rows of the
same :class:`Case`, graded into the same :class:`Report`.
"""

from __future__ import annotations

from .cli import check_main
from .model import Case, Grade, Options, Table, Verdict
from .report import Report, Result
from .server import all_cases, check, run_checks

__all__ = [
    "Case",
    "Grade",
    "Options",
    "Report",
    "Result",
    "Table",
    "Verdict",
    "all_cases",
    "check",
    "check_main",
    "run_checks",
]
