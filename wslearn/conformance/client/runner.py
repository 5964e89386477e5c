"""Run every client case against one client under test, and collect a Report."""

from __future__ import annotations

import asyncio
import time

from ..model import failed
from ..report import Report, Result
from . import frames, handshake
from .adapters import ANSWER_TIMEOUT, ClientUnderTest, wslearn_client
from .badserver import ClientCase

CASE_TIMEOUT = 5 * ANSWER_TIMEOUT


def all_cases() -> list[ClientCase]:
    """Every client case, in the order they run."""
    return frames.good_cases() + handshake.cases() + frames.bad_cases()


async def run_client_checks(client: ClientUnderTest = wslearn_client, name: str | None = None) -> Report:
    """Run every case against ``client``; the Report reads "The client ..." per case."""
    report = Report(name or str(getattr(client, "__name__", "client")), subject="client")
    started = time.perf_counter()
    for case in all_cases():
        begin = time.perf_counter()
        try:
            verdict = await asyncio.wait_for(case.run(client), CASE_TIMEOUT)
        except TimeoutError:
            verdict = failed(f"did not finish within {CASE_TIMEOUT:g} s")
        report.results.append(Result(case, verdict, time.perf_counter() - begin, "client"))
    report.seconds = time.perf_counter() - started
    return report
