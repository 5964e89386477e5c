"""Chapter 09's checks of a chat server: what seed article 003's room must do, tested live.

The chat protocol (seed 003, kept by :mod:`wslearn.demo.chat`): a newcomer's first message
is its user id as bare text; a client sends ``{"uid": ..., "msg": ...}``; the server sends
``{"uid": ..., "msg": ...}`` to every member, the sender included.

Each scenario of :data:`SCENARIOS` connects a few kernel clients to a chat at ``url`` (on
127.0.0.1, every wait bounded), does one thing and reports what it *observed*, in words;
:data:`EXPECTED` says what a correct room shows. The same scenarios grade a student's
handler (exercise ``"09.chat_server"``), audit the seed's port (:mod:`.seedports.seed003`)
and the demo's ``/chat``, so the three can never be judged by different rules.
:func:`slow_member` measures the one thing a few clients cannot show quickly: a member
that stops reading must not stall the room.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["EXPECTED", "SCENARIOS", "SlowMember", "audit", "slow_member"]

#: How long a scenario waits for one message that should come.
WAIT = 2.0
#: How long it waits for a message that should *not* come (or to see that nothing else comes).
QUIET = 0.3
XSS = "<img src=x onerror=alert(1)>"


def _client(url: str) -> Any:
    from wslearn.notebook import SyncClient

    return SyncClient(url, open_timeout=WAIT)


def _join(url: str) -> tuple[Any, str]:
    """A new member and the id the server gave it (its first message)."""
    client = _client(url)
    return client, str(client.recv(timeout=WAIT))


def _say(client: Any, uid: str, msg: str) -> None:
    client.send(json.dumps({"uid": uid, "msg": msg}))


def _next_chat_line(client: Any, timeout: float = WAIT) -> dict[str, Any] | None:
    """The next ``{"uid", "msg"}`` message (notices and other JSON are skipped), or None."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            text = client.recv(timeout=left)
        except (TimeoutError, Exception):
            return None
        try:
            value = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(value, dict) and "msg" in value:
            return value
    return None


def _close_all(*clients: Any) -> None:
    """Close each client; one the server cannot answer any more is dropped (no Close frame)."""
    for client in clients:
        try:
            client.close()
        except Exception:  # the server is gone or does not answer: drop the connection
            with contextlib.suppress(Exception):
                client.abort()


@contextlib.contextmanager
def _members(url: str, count: int) -> Iterator[list[tuple[Any, str]]]:
    """``count`` members of the chat at ``url``, each closed at the end whatever happens."""
    joined: list[tuple[Any, str]] = []
    try:
        for _ in range(count):
            joined.append(_join(url))
        yield joined
    finally:
        _close_all(*(client for client, _ in joined))


# --- The scenarios ------------------------------------------------------------------------


def first_message(url: str) -> str:
    """What a newcomer receives first."""
    client = _client(url)
    try:
        first = client.recv(timeout=WAIT)
    except TimeoutError:
        return "nothing"
    finally:
        _close_all(client)
    if isinstance(first, bytes):
        return "a binary message"
    try:
        json.loads(first)
    except ValueError:
        return "its id, as bare text"
    return "its id, as bare text" if first.strip().isdigit() else f"JSON: {first[:60]}"


def everyone_receives(url: str) -> str:
    """Three members; one speaks. Who receives it?"""
    with _members(url, 3) as members:
        speaker, uid = members[0]
        _say(speaker, uid, "hello, room")
        got = [_next_chat_line(client) is not None for client, _ in members]
    if all(got):
        return "all three, the sender included"
    names = ["the sender", "member 2", "member 3"]
    missing = ", ".join(name for name, ok in zip(names, got, strict=True) if not ok)
    return f"not everyone: {missing} got nothing"


def forged_uid(url: str) -> str:
    """Member 2 writes member 1's id into its message. Whose id does the room see?"""
    with _members(url, 2) as [(first, uid1), (second, uid2)]:
        _say(second, uid1, "I am the first user, trust me")
        line = _next_chat_line(first)
    if line is None:
        return "nothing arrived"
    shown = str(line.get("uid"))
    if shown == uid2:
        return "the sender's real id"
    return "the forged id" if shown == uid1 else f"another id: {shown!r}"


def ids_after_a_leave(url: str) -> str:
    """Two members join, the second leaves, a third joins. Is its id new?"""
    with _members(url, 2) as [(_, uid1), (second, uid2)]:
        second.close()
        time.sleep(QUIET)  # let the server see the leave
        with _members(url, 1) as [(_, uid3)]:
            pass
    if uid3 in (uid1, uid2):
        return f"a reused id: the newcomer got {uid3!r}, the id of someone who was here"
    return "a new id"


def after_a_vanished_member(url: str) -> str:
    """The first member vanishes without a Close frame; the second speaks. Does the third hear?"""
    with _members(url, 3) as [(gone, _), (second, uid2), (third, _)]:
        gone.abort()  # a TCP reset: no Close frame (RFC 6455 §7.1.5)
        time.sleep(QUIET)
        _say(second, uid2, "anyone still here?")
        line = _next_chat_line(third)
    return "the others still chat" if line is not None else "the room stopped: nothing arrived"


def html_in_a_message(url: str) -> str:
    """A member sends HTML. What do the others receive?"""
    with _members(url, 2) as [(first, uid1), (second, _)]:
        _say(first, uid1, XSS)
        line = _next_chat_line(second)
    if line is None:
        return "nothing arrived"
    return "the same text, unchanged" if line.get("msg") == XSS else f"changed text: {line.get('msg')!r}"


def not_json(url: str) -> str:
    """A member sends text that is not JSON, then a real message. Does the room go on?"""
    with _members(url, 2) as [(first, uid1), (second, _)]:
        first.send("hello?")
        _say(first, uid1, "sorry, now in JSON")
        line = _next_chat_line(second)
    if line is None:
        return "the room stopped: nothing arrived"
    return "the room goes on" if line.get("msg") == "sorry, now in JSON" else "a wrong message arrived"


SCENARIOS: dict[str, Callable[[str], str]] = {
    "a newcomer's first message": first_message,
    "one member speaks to a room of three": everyone_receives,
    "member 2 writes member 1's uid": forged_uid,
    "the id of a newcomer after someone left": ids_after_a_leave,
    "a member vanishes without a Close frame": after_a_vanished_member,
    "a member sends <img src=x onerror=alert(1)>": html_in_a_message,
    "a member sends text that is not JSON": not_json,
}

EXPECTED: dict[str, str] = {
    "a newcomer's first message": "its id, as bare text",
    "one member speaks to a room of three": "all three, the sender included",
    "member 2 writes member 1's uid": "the sender's real id",
    "the id of a newcomer after someone left": "a new id",
    "a member vanishes without a Close frame": "the others still chat",
    "a member sends <img src=x onerror=alert(1)>": "the same text, unchanged",
    "a member sends text that is not JSON": "the room goes on",
}


def audit(url_for: Callable[[str], str]) -> list[tuple[str, str, str]]:
    """Run every scenario, each on the chat ``url_for(name)`` returns (a fresh room or not).

    Returns ``(scenario, expected, observed)`` rows; a scenario that raises is observed as
    the error, in one line.
    """
    rows = []
    for name, scenario in SCENARIOS.items():
        try:
            observed = scenario(url_for(name))
        except ConnectionRefusedError:
            observed = "the server is gone: nobody listens on its port any more"
        except Exception as error:
            observed = f"failed: {type(error).__name__}: {error}"
        rows.append((name, EXPECTED[name], observed))
    return rows


# --- A member that stops reading --------------------------------------------------------------


@dataclass
class SlowMember:
    """What happened while one member did not read and another talked."""

    sent: int  # chat messages the talker sent
    received: int  # of those, how many the reading member got (within the wait)
    slow_close: int | None  # the close code the slow member found at the end (None: none)
    seconds: float
    slow_dropped: bool = False  # the server ended the slow member's TCP connection

    def __str__(self) -> str:
        if self.slow_close:
            fate = f"was closed with {self.slow_close}"
        elif self.slow_dropped:
            # its Close frame waited behind megabytes it never read, until the close timeout
            fate = "was dropped by the server (its Close frame sat behind data it never read)"
        else:
            fate = "was not closed"
        return (
            f"the reading member got {self.received} of {self.sent} messages in {self.seconds:.2f} s; "
            f"the member that never read {fate}"
        )


def slow_member(url: str, *, messages: int = 4000, size: int = 4000, wait: float = 3.0) -> SlowMember:
    """One member never reads; another sends ``messages`` chat lines of ``size`` characters;
    a third reads. A good room closes the slow member (1013) and the reader gets them all.

    The talker and the reader read all the time (:meth:`SyncClient.listen`), as a browser
    tab does; only the slow member stops.
    """
    import threading

    from .scenarios import RawClient

    slow = RawClient(url, timeout=WAIT, receive_buffer=4096)  # joins, then never reads
    (talker, uid), (reader, _) = _join(url), _join(url)
    counts = {"reader": 0}
    all_in = threading.Event()

    def count(message: str | bytes) -> None:
        if isinstance(message, str) and message.startswith('{"uid"'):
            counts["reader"] += 1
            if counts["reader"] >= messages:
                all_in.set()

    reader.listen(count)
    talker.listen(lambda message: None)
    started = time.monotonic()
    try:
        text, sent, deadline = "x" * size, 0, started + wait
        for number in range(messages):
            try:  # a stalled room stops reading the talker too: its sends then block
                talker.send(
                    json.dumps({"uid": uid, "msg": f"{number} {text}"}),
                    max(0.05, deadline - time.monotonic()),
                )
            except TimeoutError:
                break
            sent += 1
        if sent < messages:
            all_in.clear()  # the talker gave up: wait no longer for messages never sent
        stalled = not all_in.wait(max(0.0, deadline - time.monotonic()))
        seconds, received = time.monotonic() - started, counts["reader"]
        # Counted before the slow member reads anything: its reading would unblock a stalled
        # room. A stalled room closes nobody: a short look at the socket is enough then.
        slow.sock.settimeout(QUIET if stalled else WAIT)
        close = slow.recv_close()
        return SlowMember(sent, received, close.code if close else None, seconds, slow.ended)
    finally:
        slow.hang_up()
        _close_all(talker, reader)
