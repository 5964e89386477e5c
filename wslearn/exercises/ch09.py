"""Chapter 09, live chat: write seed 003's chat server, graded by the scenarios that audit
the seed's own server and the demo's room (:mod:`wslearn.demo.chatlab`)."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from wslearn.demo.chatlab import EXPECTED, SCENARIOS
from wslearn.i18n import N_, _

from .core import Case, Exercise, Mistake, Question, register, register_quiz

Handler = Callable[[Any], Awaitable[None]]

# --- The reference: seed 003's room, done right -----------------------------------------------


def make_chat() -> Handler:
    """A fresh chat room; returns its handler (one room per call)."""
    from wslearn.errors import ConnectionClosed

    members: dict[str, Any] = {}
    next_id = itertools.count(1)

    async def chat(ws: Any) -> None:
        uid = str(next(next_id))  # never reused, unlike len(members) + 1
        members[uid] = ws
        try:
            await ws.send(uid)  # 1. the id first, as bare text
            async for text in ws:
                try:
                    msg = json.loads(text)["msg"]
                except (ValueError, TypeError, KeyError):
                    continue  # not a chat message: ignore it, keep the room going
                line = json.dumps({"uid": uid, "msg": msg})  # our id, not the one it wrote
                for other in list(members.values()):
                    with contextlib.suppress(ConnectionClosed):
                        other.send_nowait(line)  # never wait on one member
        finally:
            members.pop(uid, None)  # 2. a member that left is gone

    return chat


# --- Typical wrong answers ---------------------------------------------------------------------


def _seed_like() -> Handler:
    """Seed 003's choices: ids from len + 1 (with the leavers removed), the uid trusted."""
    members: dict[Any, int] = {}

    async def chat(ws: Any) -> None:
        members[ws] = len(members) + 1
        await ws.send(str(members[ws]))
        try:
            async for text in ws:
                for other in list(members):
                    await other.send(text)  # passed on as written: the uid is trusted
        finally:
            members.pop(ws, None)

    return chat


def _not_to_the_sender() -> Handler:
    members: dict[str, Any] = {}
    next_id = itertools.count(1)

    async def chat(ws: Any) -> None:
        uid = str(next(next_id))
        members[uid] = ws
        await ws.send(uid)
        try:
            async for text in ws:
                msg = json.loads(text)["msg"]
                for other_uid, other in list(members.items()):
                    if other_uid != uid:
                        other.send_nowait(json.dumps({"uid": uid, "msg": msg}))
        finally:
            members.pop(uid, None)

    return chat


def _never_removes() -> Handler:
    members: list[Any] = []

    async def chat(ws: Any) -> None:
        members.append(ws)
        uid = str(len(members))
        await ws.send(uid)
        async for text in ws:
            msg = json.loads(text)["msg"]
            for other in members:
                other.send_nowait(json.dumps({"uid": uid, "msg": msg}))  # a closed one raises

    return chat


# --- The exercise ------------------------------------------------------------------------------

HINTS = {
    ("a newcomer's first message", ""): N_(
        "send the newcomer its id first, as bare text: await ws.send(uid)"
    ),
    ("one member speaks to a room of three", "not everyone"): N_(
        "send each line to every member, the sender included: its page shows its own line "
        "only when the server sends it back"
    ),
    ("member 2 writes member 1's uid", "the forged id"): N_(
        "put the id your server gave the sender in the broadcast, not the uid it wrote (seed 003 trusts it)"
    ),
    ("the id of a newcomer after someone left", "a reused id"): N_(
        "len(members) + 1 repeats an id once someone left: count with itertools.count()"
    ),
    ("a member vanishes without a Close frame", "the room stopped"): N_(
        "remove a member when its connection ends (try/finally), and never let one failed send "
        "stop the broadcast"
    ),
    ("a member sends <img src=x onerror=alert(1)>", ""): N_(
        "pass the text on unchanged: escaping is the page's job (textContent), not the server's"
    ),
    ("a member sends text that is not JSON", "the room stopped"): N_(
        "a message that is not JSON must not end the handler: catch the ValueError and go on"
    ),
}


def _diagnose(case: Case, got: object) -> str | None:
    name = case.args[0]
    for (scenario, start), hint in HINTS.items():
        if scenario == name and str(got).startswith(start):
            return _("{hint} (observed: {got})").format(hint=_(hint), got=got)
    return None


def _serve_and_run(make: Any, case: Case) -> str:
    """Serve a fresh room from ``make()`` on 127.0.0.1 and run the case's scenario on it."""
    from wslearn.notebook import start_server

    server = start_server(make(), "09.chat_server check")
    try:
        return SCENARIOS[case.args[0]](server.url)
    finally:
        server.stop()


register(
    Exercise(
        id="09.chat_server",
        title="Seed 003's chat server, done right",
        signature="make_chat() -> async handler(ws)",
        reference=make_chat,
        rfc="§5.6",
        cases=tuple(Case((name,), expected, label=name) for name, expected in EXPECTED.items()),
        run=_serve_and_run,
        diagnose=_diagnose,
        timeout=15.0,
        mistakes=(
            Mistake("seed 003's room", _seed_like, "not the uid it wrote"),
            Mistake("not to the sender", _not_to_the_sender, "the sender included"),
            Mistake("never removes a member", _never_removes, "remove a member when its connection ends"),
        ),
    )
)


register_quiz(
    "09.checkpoint",
    "Checkpoint: live chat",
    [
        Question(
            'A member sends {"uid": "1", "msg": "hi"} but the server gave it id 4. What must '
            "the broadcast say?",
            1,
            "The server knows who is on each connection; the uid a client writes is a claim. "
            "Seed 003 passes the claim on, so anyone can speak as anyone.",
            choices=('{"uid": "1", "msg": "hi"}', '{"uid": "4", "msg": "hi"}', "nothing: drop the message"),
        ),
        Question(
            "Three users joined (ids len + 1 = 1, 2, 3) and user 2 left. Which id does the next "
            "newcomer get with len(members) + 1?",
            3,
            "Two members are left, so len + 1 is 3: the id of someone who is still here. A counter "
            "never repeats.",
        ),
        Question(
            "Where must <img src=x onerror=alert(1)> be made harmless?",
            2,
            "The server passes text on; the page decides how to show it. textContent shows it as "
            "text; inserting it as HTML (seed 003's page) runs the attacker's script.",
            choices=(
                "in the server, by deleting < and >",
                "nowhere: WebSocket text cannot run",
                "in the page",
            ),
        ),
        Question(
            "One member's browser stops reading. What should the room do?",
            0,
            "Never wait on one member: queue a little for it, and when it falls too far behind "
            "close it with 1013 (try again later) so the others keep chatting.",
            choices=(
                "close that member (1013) and keep serving the others",
                "wait until it reads again",
                "drop every message until it reads",
            ),
            rfc="§7.4.1",
        ),
    ],
)
