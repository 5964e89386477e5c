"""The capstones: three assignments graded by the project's own checkers, category by category.

* **pass the report card**: an echo server on raw asyncio streams, graded by
  :mod:`wslearn.conformance` (one grade cell per category of the report card);
* **write the client**: a client graded by the misbehaving server of
  :mod:`wslearn.conformance.client` (one grade cell per category);
* **fix the seeds**: the faithful buggy ports of the seed programs
  (:mod:`wslearn.demo.seedports`), fixed by the student and run as programs; the hidden
  tests provoke each bug the port keeps (:mod:`wslearn.kit.seedfix`).

Every live check is bounded: a server or a client that hangs makes its cases fail after
a time limit, and the whole run stops after :data:`BUDGET` seconds. Servers listen on
127.0.0.1, port 0, and are stopped before the check returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from nbformat.notebooknode import NotebookNode

from wslearn.assembler import Message
from wslearn.conformance.client import ANSWER_TIMEOUT, ClientOutcome
from wslearn.conformance.model import Grade, Options, failed
from wslearn.conformance.report import Report, Result
from wslearn.protocol import (
    CloseReceived,
    ConnectionFailed,
    ConnectionLost,
    HandshakeFailed,
    Protocol,
    RequestReceived,
    Role,
    State,
)

#: Seconds a whole report card may take; the cases not reached by then are FAILED.
BUDGET = 90.0
#: Points for each category of a report card.
CATEGORY_POINTS = 2
READ_SIZE = 65536

StreamHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Client = Callable[[str, Sequence[str]], Awaitable[ClientOutcome]]


# --- The references -------------------------------------------------------------------------


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An echo server on asyncio streams, built on the sans-I/O core (wslearn.protocol).

    Bytes in: receive_data / receive_eof; events out: accept the handshake, send each
    message back as it came (while OPEN: a message read with a Close after it is not
    echoed once we answered the Close); bytes out: data_to_send. The Protocol answers Pings (§5.5.2)
    and Close frames (§5.5.1) and fails the connection on a protocol error (§7.1.7); the
    server closes TCP once close_transport() says so (§7.1.1).
    """
    protocol = Protocol(Role.SERVER)
    try:
        while not protocol.close_transport():
            try:
                data = await asyncio.wait_for(reader.read(READ_SIZE), 30)
            except TimeoutError:
                break  # a peer that says nothing for 30 s is gone
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            events = protocol.events_received()
            while events:
                for event in events:
                    if isinstance(event, RequestReceived):
                        protocol.accept()
                    elif isinstance(event, Message) and protocol.state is State.OPEN:
                        if isinstance(event.data, str):
                            protocol.send_text(event.data)
                        else:
                            protocol.send_binary(event.data)
                # Messages that came just before a violation are answered first; the next
                # call fails the connection (Protocol.failure_pending).
                events = protocol.events_received() if protocol.failure_pending else []
            writer.write(protocol.data_to_send())
            await writer.drain()
    except (ConnectionError, OSError):
        pass  # the peer went away; nothing to answer
    finally:
        writer.close()


async def client(url: str, subprotocols: Sequence[str]) -> ClientOutcome:
    """A client on asyncio streams, built on the sans-I/O core: connect, wait for one message.

    The Protocol checks the 101 (§4.1: accept value, subprotocol, extensions) and every
    frame (§5: no masked server frames, no RSV bits, valid UTF-8...); on a violation it
    queues a Close frame with the right code, which must still be written before we stop.
    """
    target = urlsplit(url)
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(target.hostname, target.port or 80), ANSWER_TIMEOUT
    )
    protocol = Protocol(Role.CLIENT, subprotocols=subprotocols)
    protocol.connect(target.netloc, target.path or "/")
    outcome: ClientOutcome | None = None
    try:
        async with asyncio.timeout(2 * ANSWER_TIMEOUT):
            while outcome is None:
                writer.write(protocol.data_to_send())
                await writer.drain()
                data = await reader.read(READ_SIZE)
                if data:
                    protocol.receive_data(data)
                else:
                    protocol.receive_eof()
                for event in protocol.events_received():
                    if isinstance(event, HandshakeFailed):
                        outcome = ClientOutcome(refused=str(event.error))
                    elif isinstance(event, Message):
                        outcome = ClientOutcome(received=event.data)
                        protocol.send_close(1000)
                    elif isinstance(event, (ConnectionFailed, CloseReceived)):
                        outcome = ClientOutcome(closed=event.code)
                    elif isinstance(event, ConnectionLost):
                        outcome = ClientOutcome(closed=1006)
                    if outcome is not None:
                        break
            writer.write(protocol.data_to_send())  # our Close frame, if one is queued
            await writer.drain()
    except TimeoutError:
        outcome = outcome or ClientOutcome(other="no message and no error (timeout)")
    except (ConnectionError, OSError) as error:
        outcome = outcome or ClientOutcome(other=f"the connection broke ({error!r})")
    finally:
        writer.close()
    return outcome


async def careless_client(url: str, subprotocols: Sequence[str]) -> ClientOutcome:
    """A typical first client: sends the request, skips the 101, returns the first frame's bytes."""
    target = urlsplit(url)
    reader, writer = await asyncio.open_connection(target.hostname, target.port or 80)
    try:
        writer.write(
            f"GET {target.path or '/'} HTTP/1.1\r\nHost: {target.netloc}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        async with asyncio.timeout(ANSWER_TIMEOUT / 4):
            await reader.readuntil(b"\r\n\r\n")  # whatever it says
            header = await reader.readexactly(2)
            payload = await reader.readexactly(header[1] & 0x7F)
        return ClientOutcome(received=payload.decode("utf-8", "replace"))
    except (TimeoutError, asyncio.IncompleteReadError) as error:
        return ClientOutcome(other=repr(error))
    finally:
        writer.close()


# --- Running a student's server or client, bounded ---------------------------------------------


@contextlib.contextmanager
def serving(handle: StreamHandler) -> Iterator[str]:
    """Serve ``handle`` on 127.0.0.1 (port 0) from a thread of its own; yields its ws:// URL."""
    loop = asyncio.new_event_loop()
    started: list[asyncio.Server] = []
    ready = threading.Event()

    async def start() -> None:
        started.append(await asyncio.start_server(handle, "127.0.0.1", 0))
        ready.set()

    thread = threading.Thread(target=loop.run_forever, name="wslearn-kit-server", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    try:
        yield f"ws://127.0.0.1:{started[0].sockets[0].getsockname()[1]}/"
    finally:

        async def stop() -> None:
            started[0].close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), loop).result(2)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(2)
        if not thread.is_alive():
            loop.close()


def bounded(run: Callable[[], Awaitable[Report]], seconds: float, report: Report) -> Report:
    """Run ``run()`` on a loop in its own thread for at most ``seconds`` (then give ``report``)."""
    done: list[Report] = []

    def work() -> None:
        with contextlib.suppress(Exception):
            done.append(asyncio.run(asyncio.wait_for(run(), seconds)))

    thread = threading.Thread(target=work, name="wslearn-kit-check", daemon=True)
    thread.start()
    thread.join(seconds + 5)  # a student's code that blocks the loop cannot hold the cell
    return done[0] if done else report


def check_server(handle: StreamHandler, budget: float = BUDGET) -> Report:
    """The report card of ``handle`` served on 127.0.0.1; cases not reached in time FAILED."""
    from wslearn.conformance.server import all_cases, run_checks

    collected: list[Result] = []
    with serving(handle) as url:
        report = Report(url)
        started = time.perf_counter()
        options = Options(case_timeout=5.0)

        async def run() -> Report:
            return await run_checks(url, options=options, progress=collected.append)

        report = bounded(run, budget, report)
        if not report.results:  # ran out of time: what finished, then the rest FAILED
            report.results = list(collected)
        for case in all_cases(options)[len(report.results) :]:
            report.results.append(Result(case, failed(f"not reached within {budget:g} s"), 0.0))
        report.seconds = time.perf_counter() - started
    return report


def check_client(student_client: Client, budget: float = BUDGET) -> Report:
    """The client checks of :mod:`wslearn.conformance.client` against ``student_client``."""
    from wslearn.conformance.client import all_cases, run_client_checks

    report = Report("your client", subject="client")
    report.results = [
        Result(case, failed(f"not finished within {budget:g} s"), 0.0, "client") for case in all_cases()
    ]
    return bounded(lambda: run_client_checks(student_client, "your client"), budget, report)


def categories(report: Report) -> list[str]:
    return list(report.categories())


def grade_category(report: Any, category: str, *, points: float = CATEGORY_POINTS) -> float:
    """``points`` times the share of the category's cases that are OK or NON-STRICT."""
    if not isinstance(report, Report):
        raise TypeError("run the cell that makes the report card first")
    results = [r for r in report.results if r.case.category == category]
    if not results:
        raise ValueError(f"no case of category {category!r} in the report")
    passed = [r for r in results if r.grade is not Grade.FAILED]
    print(f"{category}: {len(passed)} of {len(results)} cases pass")
    for result in results:
        if result.grade is Grade.FAILED:
            print(f"  ✘ {result.case.id}: {result.detail}")
    return round(points * len(passed) / len(results), 2)


# --- The notebooks ---------------------------------------------------------------------------


def capstone_notebooks() -> dict[str, NotebookNode]:
    from .seedfix import fix_the_seeds

    return {
        "capstone_report_card/capstone_report_card.ipynb": report_card(),
        "capstone_fix_the_seeds/capstone_fix_the_seeds.ipynb": fix_the_seeds(),
        "capstone_write_the_client/capstone_write_the_client.ipynb": write_the_client(),
    }


SETUP = """\
# Run this cell first. It is read-only: the grader runs the same lines.
from __future__ import annotations

import asyncio
from collections.abc import Sequence

from wslearn.kit import capstones
"""


def report_card() -> NotebookNode:
    from wslearn.conformance.server import all_cases

    from .build import answer_cell, code, function_source, markdown, new_notebook

    names = list(dict.fromkeys(case.category for case in all_cases()))
    points = CATEGORY_POINTS * len(names)
    intro = f"""# Capstone · Pass the report card

Write a WebSocket echo server on raw asyncio streams: `async def handle(reader, writer)`, the
callback of `asyncio.start_server`. It must answer the opening handshake (RFC 6455 §4.2), send
every message back as it came (text as text, binary as binary), answer Pings and the closing
handshake, and fail the connection with the right close code on anything RFC 6455 forbids.

Build it on the sans-I/O core (`wslearn.protocol.Protocol`: `receive_data`, `events_received`,
`data_to_send`, `close_transport`) or from scratch with `wslearn.frames` and `wslearn.handshake`.
The grader serves your `handle` on 127.0.0.1 (a free port) and runs `wslearn.conformance`, the
report card: {len(all_cases())} cases in {len(names)} categories, {CATEGORY_POINTS} points
per category, shared by its cases (OK and NON-STRICT pass). `python -m wslearn check URL` runs
the same cases from a terminal. A case that hangs fails after 5 s; the whole run stops after
{BUDGET:g} s."""
    stub = (
        "async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:\n"
        "    ...  # your server: read the request, answer 101, then frames in, frames out"
    )
    cells = [
        markdown(intro, "intro"),
        code(SETUP, "setup", locked=True),
        code(answer_cell(stub, function_source(echo, "handle")), "answer_handle", solution=True),
        code(
            "# Read-only: the report card of your server (the grader runs it too).\n"
            "report = capstones.check_server(handle)\nreport",
            "report_card",
            locked=True,
        ),
    ]
    for name in names:
        key = "grade_" + "".join(ch if ch.isalnum() else "_" for ch in name)
        cells.append(
            code(
                f"# {name}: {CATEGORY_POINTS} points\n"
                "### BEGIN HIDDEN TESTS\n"
                f'capstones.grade_category(report, "{name}", points={CATEGORY_POINTS})\n'
                "### END HIDDEN TESTS",
                key,
                grade=True,
                locked=True,
                points=CATEGORY_POINTS,
            )
        )
    cells.insert(1, markdown(f"{points} points in all.", "points"))
    return new_notebook(cells)


def write_the_client() -> NotebookNode:
    from wslearn.conformance.client import all_cases

    from .build import answer_cell, code, function_source, markdown, new_notebook

    scenarios = all_cases()
    names = list(dict.fromkeys(s.category for s in scenarios))
    intro = f"""# Capstone · Write the client

Write a WebSocket client on raw asyncio streams: `async def client(url, subprotocols)`
connects to `url` offering `subprotocols`, waits for one message and says what happened as a
`ClientOutcome` (from `wslearn.conformance.badserver`): `refused=` the reason when it refuses
the handshake, `received=` the first message, `closed=` the close code when the connection
ended (the code of the Close frame you sent or received, 1006 without one), `other=` for
anything else. A client has duties too (RFC 6455 §4.1, §5, §7): refuse a wrong
`Sec-WebSocket-Accept` or a subprotocol it did not offer, fail the connection with the right
code on frames no server may send (masked, RSV bits, reserved opcodes, bad UTF-8...), answer a
Ping with a Pong.

The grader points your client at a misbehaving server, {len(scenarios)} scenarios in
{len(names)} categories, {CATEGORY_POINTS} points per category. Build it on the sans-I/O core
(`Protocol(Role.CLIENT)`) or from scratch. Each scenario gives your client a few seconds; the
whole run stops after {BUDGET:g} s."""
    stub = (
        "async def client(url: str, subprotocols: Sequence[str]) -> ClientOutcome:\n"
        "    ...  # your client: connect, handshake, check the 101, read frames"
    )
    cells = [
        markdown(intro, "intro"),
        code(SETUP + "from wslearn.conformance.badserver import ClientOutcome\n", "setup", locked=True),
        code(answer_cell(stub, function_source(client, "client")), "answer_client", solution=True),
        code(
            "# Read-only: your client against the misbehaving server (the grader runs it too).\n"
            "report = capstones.check_client(client)\nreport",
            "report_card",
            locked=True,
        ),
    ]
    for name in names:
        key = "grade_" + "".join(ch if ch.isalnum() else "_" for ch in name)
        cells.append(
            code(
                f"# {name}: {CATEGORY_POINTS} points\n"
                "### BEGIN HIDDEN TESTS\n"
                f'capstones.grade_category(report, "{name}", points={CATEGORY_POINTS})\n'
                "### END HIDDEN TESTS",
                key,
                grade=True,
                locked=True,
                points=CATEGORY_POINTS,
            )
        )
    return new_notebook(cells)
