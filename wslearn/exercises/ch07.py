"""Chapter 07, push and heartbeats: which heartbeat is which, and when a silent peer is closed."""

from __future__ import annotations

import math
import random
from typing import Any

from wslearn.i18n import N_, _

from .core import Case, Exercise, Mistake, Question, register, register_quiz

# --- 07.which_heartbeat: an application message, or a protocol frame? -----------------------

TEXT, PING, NEITHER = "TEXT", "Ping", "impossible"

WHICH_HEARTBEAT = {
    "seed 002's server sends the string 'heart beat' every 3 s": TEXT,
    "wslearn's server checks every 20 s that the peer is still there": PING,
    "browser JavaScript sends a keepalive with the WebSocket API": NEITHER,
    "a chat page shows 'still connected' when the server says so": TEXT,
    "the peer's library answers without the application seeing it": PING,
    "a Python client (websockets, wslearn) checks that the server is alive": PING,
}

WHY = {
    TEXT: N_("an ordinary message: the other application receives it (RFC 6455 §5.6)"),
    PING: N_("a control frame: the peer's library answers with a Pong (RFC 6455 §5.5.2, §5.5.3)"),
    NEITHER: N_("browser JavaScript has no way to send a Ping: the WebSocket API has no such method"),
}


def _which_diagnose(case: Case, got: object) -> str | None:
    if got not in (TEXT, PING, NEITHER):
        return _("answer with one of {choices}").format(choices=f"{TEXT!r}, {PING!r}, {NEITHER!r}")
    return f"{case.expected}: {_(WHY[str(case.expected)])}"


register(
    Exercise(
        id="07.which_heartbeat",
        title="Application heartbeat (TEXT) or protocol heartbeat (Ping)?",
        signature=f"a dict: statement -> {TEXT!r}, {PING!r} or {NEITHER!r}",
        reference=dict(WHICH_HEARTBEAT),
        kind="value",
        rfc="§5.5.2",
        cases=tuple(Case((statement,), answer) for statement, answer in WHICH_HEARTBEAT.items()),
        diagnose=_which_diagnose,
        mistakes=(
            Mistake(
                "every heartbeat is a Ping", dict.fromkeys(WHICH_HEARTBEAT, PING), "TEXT: an ordinary message"
            ),
            Mistake(
                "browsers can ping",
                {**WHICH_HEARTBEAT, "browser JavaScript sends a keepalive with the WebSocket API": PING},
                "browser JavaScript has no way to send a Ping",
            ),
        ),
    )
)


# --- 07.close_time: when is a frozen peer closed? ---------------------------------------------


def close_time(ping_interval: float, ping_timeout: float, frozen_at: float) -> float:
    """Seconds after the handshake when a server with this keepalive closes a peer that
    answered every Ping until ``frozen_at`` and nothing after it (round trips taken as 0).

    Pings go out at ``ping_interval``, ``2 * ping_interval``, ...; the first one after the
    freeze gets no Pong, and ``ping_timeout`` seconds later the server fails with 1011.
    """
    first_unanswered = (math.floor(frozen_at / ping_interval) + 1) * ping_interval
    return first_unanswered + ping_timeout


def _random_close_cases(rng: random.Random, count: int) -> list[Case]:
    cases = []
    for _number in range(count):
        interval = rng.choice((1, 2, 5, 10, 20, 30))
        timeout = rng.choice((1, 5, 10, 20))
        frozen_at = round(rng.uniform(0, 5 * interval), 1)
        if frozen_at / interval == int(frozen_at / interval):
            frozen_at += 0.5  # not exactly at a Ping: the order of two events at once is not the lesson
        cases.append(Case((interval, timeout, frozen_at), close_time(interval, timeout, frozen_at)))
    return cases


def _close_diagnose(case: Case, got: object) -> str | None:
    interval, timeout, frozen_at = case.args
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        return None
    if math.isclose(got, interval + timeout) and not math.isclose(got, case.expected):
        return N_("the peer answered every Ping before it froze: count from the first Ping after the freeze")
    if math.isclose(got, frozen_at + timeout):
        return N_("the server cannot see a freeze: it notices only when its next Ping gets no Pong")
    if math.isclose(got, frozen_at + interval + timeout):
        return N_("Pings go out on their schedule (every ping_interval), not ping_interval after the freeze")
    if math.isclose(got, case.expected - timeout):
        return N_("the server waits ping_timeout seconds for the Pong before it gives up")
    return None


def _approximately(expected: Any, got: Any) -> bool:
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        return False
    return math.isclose(float(got), float(expected), abs_tol=1e-6)


register(
    Exercise(
        id="07.close_time",
        title="When does the keepalive close a frozen peer?",
        signature="close_time(ping_interval: float, ping_timeout: float, frozen_at: float) -> float",
        reference=close_time,
        rfc="§5.5.2",
        cases=(
            Case((20, 20, 0), 40.0, label="frozen from the start, 20 s / 20 s: the defaults"),
            Case((0.3, 0.3, 0), 0.6, label="the chapter's freeze: 0.3 s / 0.3 s"),
            Case((10, 5, 25), 35.0, label="frozen at 25 s, pings at 10, 20, 30 s"),
            Case((10, 5, 5), 15.0, label="frozen at 5 s, before the first Ping at 10 s"),
            Case((2, 1, 7.5), 9.0, label="frozen at 7.5 s"),
        ),
        random_cases=_random_close_cases,
        diagnose=_close_diagnose,
        compare=_approximately,
        mistakes=(
            Mistake(
                "ignores the freeze",
                lambda interval, timeout, frozen_at: interval + timeout,
                "count from the first Ping after the freeze",
            ),
            Mistake(
                "counts from the freeze",
                lambda interval, timeout, frozen_at: frozen_at + timeout,
                "cannot see a freeze",
            ),
            Mistake(
                "a Ping after the freeze",
                lambda interval, timeout, frozen_at: frozen_at + interval + timeout,
                "on their schedule",
            ),
        ),
    )
)


register_quiz(
    "07.checkpoint",
    "Checkpoint: push and heartbeats",
    [
        Question(
            "Can JavaScript in a browser send a Ping frame?",
            1,
            "No: the browser's WebSocket API has send() and close() only. The browser answers the "
            "server's Pings by itself, so the server is the one that pings.",
            choices=("yes, with ws.ping()", "no, the API has no such method", "only over wss://"),
            rfc="§5.5.2",
        ),
        Question(
            "A server pings every 20 s and waits 20 s for the Pong. A client freezes right after "
            "the handshake. After how many seconds is it closed?",
            40,
            "The first Ping goes out at 20 s and gets no Pong; 20 s later, at 40 s, the server fails "
            "the connection with 1011.",
        ),
        Question(
            "Which close code does a keepalive timeout produce?",
            2,
            "1011, internal error: the endpoint met a condition that prevents it from going on; "
            "wslearn and websockets both say 'keepalive ping timeout' in the reason.",
            choices=(
                "1001 going away",
                "1006 abnormal closure",
                "1011 internal error",
                "1008 policy violation",
            ),
            rfc="§7.4.1",
        ),
        Question(
            "An asyncio handler calls time.sleep(5) and its client pings every second with a 1 s "
            "timeout. What happens?",
            0,
            "time.sleep blocks the server's whole event loop: nobody reads the Ping, so no Pong goes "
            "back and the client gives up with 1011. Use await asyncio.sleep or asyncio.to_thread.",
            choices=(
                "the client closes with 1011: the server's loop cannot answer its Pings",
                "nothing: the Pong is sent by the operating system",
                "the server closes with 1000 after the sleep",
            ),
        ),
        Question(
            "Seed 003 calls ws.PongHandler() to 'set up' its heartbeat. What does that call do?",
            1,
            "In gorilla/websocket PongHandler() returns the current handler; SetPongHandler(f) sets one. "
            "The call changes nothing, so that code has no heartbeat at all.",
            choices=("it installs a Pong handler", "it only returns the current handler", "it sends a Pong"),
        ),
    ],
)
