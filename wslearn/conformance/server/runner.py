"""Run the cases against one server, each with a timeout, and collect a Report.

A case that hangs is cut off after ``Options.case_timeout`` seconds and FAILED; a server
that dies makes every later case fail quickly (connection refused). Cases run one at a
time, so that what one case does cannot disturb another.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl as ssl_module
import time
from collections.abc import Callable, Iterable
from types import ModuleType

from ..model import Grade, Options, SetupFailed, Verdict, failed
from ..report import Report, Result
from ..wire import TEXT, Target
from . import closing, deflate, fragmentation, framing, handshake, limits, pingpong, reserved, utf8
from .expect import expect_message
from .peer import ServerCase, Tester

CATEGORY_MODULES: tuple[ModuleType, ...] = (
    handshake,
    framing,
    pingpong,
    reserved,
    fragmentation,
    utf8,
    closing,
    limits,
    deflate,  # only with Options.compression
)


def all_cases(options: Options | None = None) -> list[ServerCase]:
    """Every case, in the order they run."""
    options = options or Options()
    found: list[ServerCase] = []
    for module in CATEGORY_MODULES:
        found += module.cases(options)
    return found


def select(cases: Iterable[ServerCase], patterns: Iterable[str] = ()) -> list[ServerCase]:
    """The cases whose id or category starts with one of ``patterns`` (all when empty)."""
    wanted = tuple(patterns)
    return [c for c in cases if not wanted or c.id.startswith(wanted) or c.category in wanted]


async def run_case(case: ServerCase, tester: Tester) -> Result:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(tester.options.case_timeout):
            verdict = await case.run(tester)
            if case.check_alive_after and verdict.grade is not Grade.FAILED:
                verdict = await still_serving(tester, verdict)
    except TimeoutError:
        verdict = failed(f"did not finish the case within {tester.options.case_timeout:g} s")
    except SetupFailed as exc:
        verdict = failed(exc.did)
    except (ConnectionError, OSError) as exc:
        verdict = failed(f"broke the connection unexpectedly ({exc!r})")
    finally:
        tester.close_all()
    return Result(case, verdict, time.perf_counter() - started)


async def still_serving(tester: Tester, verdict: Verdict) -> Verdict:
    """After a bad request, a valid client must still be served."""
    try:
        peer = await tester.connect()
    except SetupFailed as exc:
        return failed(f"{verdict.did}, but then {exc.did}", requires="serving the next client")
    await peer.send_frame(TEXT, b"still serving?")
    echo = await expect_message(peer, TEXT, b"still serving?")
    if echo.grade is not Grade.OK:
        return failed(f"{verdict.did}, but then {echo.did}", requires="serving the next client")
    return verdict


async def run_checks(
    url: str,
    *,
    options: Options | None = None,
    only: Iterable[str] = (),
    ssl: ssl_module.SSLContext | None = None,
    progress: Callable[[Result], None] | None = None,
) -> Report:
    """Grade the echo server at ``url`` (``ws://`` or ``wss://``); ``only`` filters cases.

    In a notebook: ``report = await run_checks("ws://127.0.0.1:8765/ws")``.
    """
    options = options or Options()
    target = Target.from_url(url)
    report = Report(url)
    started = time.perf_counter()
    for case in select(all_cases(options), only):
        result = await run_case(case, Tester(target, options, ssl))
        report.results.append(result)
        if progress is not None:
            progress(result)
    report.seconds = time.perf_counter() - started
    return report


async def find_server(
    url: str, *, options: Options | None = None, ssl: ssl_module.SSLContext | None = None
) -> str | None:
    """Does a WebSocket server accept a valid opening handshake at ``url``? ``None`` when
    one does; else what happened, completing "The server ..." ("could not be reached")."""
    options = options or Options()
    tester = Tester(Target.from_url(url), options, ssl)
    try:
        async with asyncio.timeout(options.case_timeout):
            await tester.connect()
    except SetupFailed as exc:
        return exc.did
    except TimeoutError:
        return f"did not finish the opening handshake within {options.case_timeout:g} s"
    except (ConnectionError, OSError) as exc:
        return f"broke the connection during the opening handshake ({exc})"
    finally:
        tester.close_all()
    return None


def check(url: str, **kwargs: object) -> Report:
    """:func:`run_checks` from synchronous code, or from a notebook cell, in its own thread.

    The checker runs on a loop of its own, so the server under test must not be on the
    caller's loop (a server started on the kernel's loop needs ``await run_checks(...)``).
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run_checks(url, **kwargs)).result()  # type: ignore[arg-type]
