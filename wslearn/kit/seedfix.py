"""The "fix the seeds" capstone: fix the faithful buggy ports, and let tests provoke each bug.

The student writes each fixed program to a file (``%%writefile seed000_fixed.py``); the
grader runs it as a child process (:func:`wslearn.demo.seedports.start_seed`, 127.0.0.1,
port 0), so a bug that ends the process ends only the program, never the kernel. Each
check returns what it observed, and passes when that is what RFC 6455 and the chapters ask
for.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

from nbformat.notebooknode import NotebookNode

from wslearn.demo.chatlab import EXPECTED, audit, slow_member
from wslearn.demo.seedports import SeedProcess, seed000, seed003, start_seed

#: Points for each provoked bug.
BUG_POINTS = 2
HELLO = "Hello, WebSocket!"
_started: dict[str, list[SeedProcess]] = {}


# --- Seed 000: the echo server that log.Fatal ends ----------------------------------------------


def _exchange(process: Any, request: Callable[[str], bytes]) -> Any:
    from wslearn.notebook.raw import raw_exchange

    return raw_exchange(process.host, process.port, request(f"{process.host}:{process.port}"))


def _with_header(header: str) -> Callable[[str], bytes]:
    from wslearn.notebook.raw import good_request

    def request(host: str) -> bytes:
        return good_request(host).replace(b"\r\n\r\n", f"\r\n{header}\r\n\r\n".encode(), 1)

    return request


def _status(answer: Any) -> str:
    """An answer in the words of the checks: an HTTP error (4xx) is one outcome, whatever its code."""
    if not answer.status:
        return f"no answer ({answer.error})"
    return "an HTTP error" if 400 <= answer.status < 500 else f"answered {answer.status}"


def bad_upgrade_is_answered(module: str) -> str:
    from wslearn.notebook.raw import break_request

    return _status(_exchange(seed(module), lambda host: break_request("drop Upgrade", host)))


def survives_a_bad_upgrade(module: str) -> str:
    from wslearn.notebook import SyncClient
    from wslearn.notebook.raw import break_request

    process = seed(module)
    _exchange(process, lambda host: break_request("drop Upgrade", host))
    if process.wait(0.3) is not None:
        return f"the process ended with exit status {process.returncode}{_last_words(process)}"
    with SyncClient(f"ws://127.0.0.1:{process.port}/ws", open_timeout=5) as ws:
        ws.send(HELLO)
        return f"echoed {ws.recv(timeout=5)!r}"


def _last_words(process: SeedProcess) -> str:
    """The last line the ended process wrote to stderr (its log.Fatal, or a traceback's end)."""
    lines = process.stderr.strip().splitlines()
    return f" ({lines[-1].strip()})" if lines else ""


def foreign_origin_refused(module: str) -> str:
    return _status(_exchange(seed(module), _with_header("Origin: http://evil.example")))


def own_origin_accepted(module: str) -> str:
    process = seed(module)
    return _status(_exchange(process, _with_header(f"Origin: http://127.0.0.1:{process.port}")))


def subprotocol_chosen(module: str) -> str:
    answer = _exchange(seed(module), _with_header("Sec-WebSocket-Protocol: chat, superchat"))
    if answer.response is None:
        return f"no answer ({answer.error})"
    chosen = answer.response.headers.get("Sec-WebSocket-Protocol")
    return f"answered {answer.status} with the subprotocol {chosen!r}"


#: name → (check, what a fixed server does); each one provokes one bug the port keeps.
SEED000_CHECKS: dict[str, tuple[Callable[[str], str], str]] = {
    "a request to /ws that is not an upgrade": (bad_upgrade_is_answered, "an HTTP error"),
    "the next client after a failed upgrade": (survives_a_bad_upgrade, f"echoed {HELLO!r}"),
    "a page from another origin": (foreign_origin_refused, "an HTTP error"),
    "a page from the server's own origin": (own_origin_accepted, "answered 101"),
    "a client that asks for the subprotocol chat": (
        subprotocol_chosen,
        "answered 101 with the subprotocol 'chat'",
    ),
}


def check_seed000(module: str = "seed000_fixed") -> list[tuple[str, str, str]]:
    """``(check, expected, observed)`` for each check, each on a fresh process of ``module``."""
    rows = []
    for name, (run, expected) in SEED000_CHECKS.items():
        try:
            seed(module, fresh=True)
            observed = run(module)
        except Exception as error:  # a program that does not start, or breaks the check
            observed = f"failed: {type(error).__name__}: {error}"
        rows.append((name, expected, observed))
    stop_seed(module)
    return rows


def seed(module: str, *, fresh: bool = False) -> SeedProcess:
    """:func:`start_seed`, remembering the process so that :func:`stop_seed` can end it."""
    process = start_seed(module, fresh=fresh)
    _started.setdefault(module, []).append(process)
    return process


def stop_seed(module: str) -> None:
    """Stop every process of ``module`` these checks started (without starting a new one)."""
    for process in _started.pop(module, []):
        process.stop()


# --- Seed 003: the chat room ---------------------------------------------------------------------


def check_seed003(module: str = "seed003_fixed") -> list[tuple[str, str, str]]:
    """chapter 09's scenarios, each on a fresh room, then a member that stops reading."""

    def fresh_room(scenario: str) -> str:
        return f"ws://127.0.0.1:{seed(module, fresh=True).port}"

    rows = audit(fresh_room)
    try:
        slow = slow_member(fresh_room("slow"), wait=2)
        observed = "the room went on" if slow.received == slow.sent else str(slow)
    except Exception as error:
        observed = f"failed: {type(error).__name__}: {error}"
    rows.append(("one member stops reading", "the room went on", observed))
    stop_seed(module)
    return rows


def show(rows: list[tuple[str, str, str]]) -> None:
    for name, expected, observed in rows:
        mark = "✔" if observed == expected else "✘"
        print(f"{mark} {name}\n    expected: {expected}\n    observed: {observed}")


def grade_check(rows: Any, name: str, *, points: float = BUG_POINTS) -> float:
    """All the points when the check ``name`` observed what a fixed server does, else none."""
    found = {row[0]: row for row in rows}
    _, expected, observed = found[name]
    print(f"{'✔' if observed == expected else '✘'} {name}: expected {expected}, observed {observed}")
    return float(points) if observed == expected else 0.0


# --- The notebook ----------------------------------------------------------------------------


def program_source(module: ModuleType) -> str:
    return inspect.getsource(module).rstrip()


def fix_the_seeds() -> NotebookNode:
    from . import fixed_seed000, fixed_seed003
    from .build import code, markdown, new_notebook

    seed003_names = [*EXPECTED, "one member stops reading"]
    total = BUG_POINTS * (len(SEED000_CHECKS) + len(seed003_names))
    intro = f"""# Capstone · Fix the seeds

`wslearn.demo.seedports` holds faithful Python ports of two seed programs, bugs kept on purpose
(chapters 02 and 09 watch them happen): seed 000's echo server, which one bad request ends, and
seed 003's group chat. Fix both. Each fixed program is a file that you write from a cell
(`%%writefile`); the grader runs it as its own process on 127.0.0.1 (a free port, `--port 0`),
exactly as `start_seed` runs the ports, and provokes each bug in turn on a fresh process.

You may start from the port's source (the cells below print it) or import the port and replace
only what is wrong (`from wslearn.demo.seedports import seed000 as port`, then
`port.handle_connections = ...` and `port.main()`). A program must print
`listening on 127.0.0.1:PORT` once it listens, like the ports do.

{total} points: {BUG_POINTS} per provoked bug."""
    stub_note = (
        "# Write the fixed program below this line (the cell saves it; run it again after each change).\n"
    )
    cells = [
        markdown(intro, "intro"),
        code("# Read-only.\nfrom wslearn.kit import seedfix", "setup", locked=True),
        markdown(
            "## Seed 000: the echo server\n\nThe port's docstring lists the bugs it keeps. "
            "The hidden tests send it: " + "; ".join(SEED000_CHECKS) + ".",
            "about_seed000",
        ),
        code(f"print(seedfix.program_source(seedfix.{seed000.__name__.rsplit('.', 1)[1]}))", "show_seed000"),
        code(
            f"%%writefile seed000_fixed.py\n{stub_note}### BEGIN SOLUTION\n{program_source(fixed_seed000)}\n"
            "### END SOLUTION",
            "answer_seed000",
            solution=True,
        ),
        code(
            "# Read-only: each bug provoked on a fresh process of your program.\n"
            "seed000_rows = seedfix.check_seed000('seed000_fixed')\nseedfix.show(seed000_rows)",
            "run_seed000",
            locked=True,
        ),
    ]
    cells += _grade_cells("seed000_rows", list(SEED000_CHECKS), "seed000")
    cells += [
        markdown(
            "## Seed 003: the group chat\n\nChapter 09's scenarios, each on a fresh room, then a "
            "member that stops reading while another talks.",
            "about_seed003",
        ),
        code(f"print(seedfix.program_source(seedfix.{seed003.__name__.rsplit('.', 1)[1]}))", "show_seed003"),
        code(
            f"%%writefile seed003_fixed.py\n{stub_note}### BEGIN SOLUTION\n{program_source(fixed_seed003)}\n"
            "### END SOLUTION",
            "answer_seed003",
            solution=True,
        ),
        code(
            "# Read-only: each scenario on a fresh process of your program.\n"
            "seed003_rows = seedfix.check_seed003('seed003_fixed')\nseedfix.show(seed003_rows)",
            "run_seed003",
            locked=True,
        ),
    ]
    cells += _grade_cells("seed003_rows", seed003_names, "seed003")
    return new_notebook(cells)


def _grade_cells(rows: str, names: list[str], prefix: str) -> list[NotebookNode]:
    from .build import code, grade_id

    return [
        code(
            f"# {name}: {BUG_POINTS} points\n"
            "### BEGIN HIDDEN TESTS\n"
            f"seedfix.grade_check({rows}, {json.dumps(name)}, points={BUG_POINTS})\n"
            "### END HIDDEN TESTS",
            grade_id("grade", prefix, str(number)),
            grade=True,
            locked=True,
            points=BUG_POINTS,
        )
        for number, name in enumerate(names, 1)
    ]
