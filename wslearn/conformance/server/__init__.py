"""The server checks: the checker is a client that grades the server under test.

One module per category of the report card, each a table of cases (``Table`` rows, with
keywords): ``handshake``, ``framing``, ``pingpong``, ``reserved``, ``fragmentation``,
``utf8``, ``closing``, ``limits``. ``peer`` is the checker's side of a connection (it names
what the server did), ``expect`` grades it, ``sending`` builds what several categories send,
``runner`` runs the cases one at a time and collects the report.
"""

from __future__ import annotations

from .runner import all_cases, check, find_server, run_checks, select

__all__ = ["all_cases", "check", "find_server", "run_checks", "select"]
