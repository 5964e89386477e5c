"""Chapter 06, echo and messages: an echo handler, fragmentation rules, close codes.

* ``06.echo_handler`` — the student's ``async def echo(ws)``, served for real with
  :func:`wslearn.notebook.start_server` on port 0 and talked to by a client: text must come
  back as text, binary as binary, every message of a conversation (seed articles 000, 002);
* ``06.fragments_legal`` — a kata: is this sequence of frames allowed by RFC 6455 §5.4?
* ``06.close_code`` — which code does a server close with for each scenario of the
  fragmentation widget (1002, 1007, or no close at all)?
"""

from __future__ import annotations

import contextlib
import inspect
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wslearn.errors import ConnectionClosed
from wslearn.i18n import N_, _

from .core import Case, Exercise, Mistake, Question, register, register_quiz

# --- 06.echo_handler: a handler, graded by talking to it ---------------------------------

#: Seconds for each step of a conversation with the student's server.
ECHO_TIMEOUT = 1.5
SERVER_NAME = "06.echo_handler"


@dataclass(frozen=True)
class Conversation:
    """What the client sends on one connection; an echo sends the same messages back."""

    messages: tuple[str | bytes, ...]

    def __repr__(self) -> str:
        shown = ", ".join(f"{_kind(m)} {m!r:.40}" for m in self.messages)
        return f"the same back: {shown}"


def _kind(message: object) -> str:
    return "text" if isinstance(message, str) else "binary"


@dataclass(frozen=True)
class Heard:
    """What came back from the student's server during one conversation."""

    replies: tuple[object, ...] = ()
    closed: ConnectionClosed | None = None  # the connection ended before the last reply
    problem: str = ""  # no answer in time, no connection, not a handler...

    def __repr__(self) -> str:
        shown = ", ".join(f"{_kind(m)} {m!r:.40}" for m in self.replies) or "nothing"
        end = f"; {self.problem}" if self.problem else (f"; closed {self.closed}" if self.closed else "")
        return f"back: {shown}{end}"


async def _reference_echo(ws: Any) -> None:
    async for message in ws:
        await ws.send(message)


def talk_to(handler: Any, conversation: Conversation) -> Heard:
    """Serve ``handler`` on port 0, send each message, read each reply (bounded waits)."""
    if not callable(handler):
        not_handler = _("expected an async function handler(ws), got {type}")
        return Heard(problem=not_handler.format(type=type(handler).__name__))
    if not inspect.iscoroutinefunction(handler):
        return Heard(problem=_("the handler must be an async function: async def echo(ws): ..."))
    from wslearn.notebook import SyncClient, start_server

    replies: list[object] = []
    server = None
    try:
        server = start_server(handler, SERVER_NAME, ping_interval=None)
        with SyncClient(server.url + "/echo", open_timeout=ECHO_TIMEOUT) as ws:
            for message in conversation.messages:
                ws.send(message, timeout=ECHO_TIMEOUT)
                replies.append(ws.recv(timeout=ECHO_TIMEOUT))
        return Heard(tuple(replies))
    except ConnectionClosed as closed:
        return Heard(tuple(replies), closed=closed)
    except TimeoutError:
        return Heard(
            tuple(replies), problem=_("no answer within {seconds} s").format(seconds=f"{ECHO_TIMEOUT:g}")
        )
    except Exception as error:  # the student's server may fail in any way; say how
        return Heard(tuple(replies), problem=f"{type(error).__name__}: {error}")
    finally:
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()


def _echo_run(handler: Any, case: Case) -> Heard:
    """The engine's ``run`` hook: one conversation with the student's handler."""
    heard: Heard = talk_to(handler, case.expected)
    return heard


def _echo_equal(expected: Conversation, heard: Any) -> bool:
    return (
        isinstance(heard, Heard)
        and not heard.problem
        and heard.closed is None
        and len(heard.replies) == len(expected.messages)
        and all(type(a) is type(b) and a == b for a, b in zip(expected.messages, heard.replies, strict=True))
    )


def _echo_diagnose(case: Case, heard: Any) -> str | None:
    if not isinstance(heard, Heard):
        return None
    sent: Sequence[str | bytes] = case.expected.messages
    for message, reply in zip(sent, heard.replies, strict=False):
        if isinstance(message, bytes) and isinstance(reply, str):
            return N_("binary came back as text: send the bytes you received as they are, not str(message)")
        if isinstance(message, str) and isinstance(reply, bytes):
            return N_("text came back as binary: send the str itself, do not encode it to bytes")
        if message != reply:
            not_same = _("{reply} came back for {message}: an echo sends back exactly what arrived")
            return not_same.format(reply=f"{reply!r:.40}", message=f"{message!r:.40}")
    if heard.problem:
        no_answer = _("{problem}: does the handler await ws.send(message) for every message?")
        return no_answer.format(problem=heard.problem)
    if heard.closed is not None:
        code = heard.closed.code
        if code == 1011:
            return N_("the handler raised an exception, so the server closed with 1011 (internal error)")
        if heard.replies:
            return _(
                "only {replies} of {sent} messages came back, then the connection "
                "closed ({code}): loop over every message with async for message in ws"
            ).format(replies=len(heard.replies), sent=len(sent), code=code)
        early = _("the connection closed ({code}) before any answer: did the handler return at once?")
        return early.format(code=code)
    return None


_ECHO_CASES = (
    Case(("hello",), Conversation(("Hello, WebSocket!",)), label="seed 000: 'Hello, WebSocket!'", rfc="§5.6"),
    Case(
        ("binary",), Conversation((b"\x00\x01\xfe\xff",)), label="binary stays binary (seed 002)", rfc="§5.6"
    ),
    Case(("empty",), Conversation(("",)), label="an empty text message", rfc="§5.6"),
    Case(("utf8",), Conversation(("你好, WebSocket",)), label="text that is not ASCII", rfc="§5.6"),
    Case(
        ("three",),
        Conversation(("one", b"two", "three")),
        label="three messages on one connection, mixed types",
        rfc="§5.6",
    ),
    Case(
        ("big",), Conversation((bytes(range(256)) * 300,)), label="76800 bytes (a 64-bit length)", rfc="§5.2"
    ),
)


async def _str_echo(ws: Any) -> None:  # typical mistake: everything becomes text
    async for message in ws:
        await ws.send(str(message))


async def _encoding_echo(ws: Any) -> None:  # typical mistake: everything becomes binary
    async for message in ws:
        await ws.send(message.encode() if isinstance(message, str) else message)


async def _echo_once(ws: Any) -> None:  # typical mistake: no loop, one answer per connection
    message = await ws.recv()
    await ws.send(message)


async def _prefix_echo(ws: Any) -> None:  # typical mistake: decorates the answer
    async for message in ws:
        await ws.send(f"echo: {message}")


async def _raising_echo(ws: Any) -> None:  # typical mistake: text-only code meets bytes
    async for message in ws:
        note = "got " + message  # TypeError for bytes: str + bytes
        await ws.send(message if note else "")


register(
    Exercise(
        id="06.echo_handler",
        title="An echo handler that keeps the type of each message",
        signature="async def echo(ws) -> None",
        reference=_reference_echo,
        rfc="§5.6",
        cases=_ECHO_CASES,
        run=_echo_run,
        compare=_echo_equal,
        diagnose=_echo_diagnose,
        timeout=ECHO_TIMEOUT * 4,
        mistakes=(
            Mistake("str(message)", _str_echo, "binary came back as text"),
            Mistake("message.encode()", _encoding_echo, "text came back as binary"),
            Mistake("no loop", _echo_once, "loop over every message"),
            Mistake("a prefix", _prefix_echo, "an echo sends back exactly what arrived"),
            Mistake("str + bytes raises", _raising_echo, "closed with 1011"),
        ),
        explanation="Seed 000 echoes with the message type it read; wslearn's recv() gives str or bytes.",
    )
)


# --- 06.fragments_legal: the rules of §5.4 as a function ----------------------------------

DATA = ("TEXT", "BINARY")
CONTROL = ("CLOSE", "PING", "PONG")
Frames = Sequence[tuple[str, bool]]


def first_violation(frames: Frames) -> tuple[int, str] | None:
    """The index of the first frame RFC 6455 forbids where it stands, and why."""
    in_message = False
    for index, (opcode, fin) in enumerate(frames):
        if opcode in CONTROL:
            if not fin:
                return index, N_("control frames must not be fragmented (§5.5)")
        elif opcode == "CONTINUATION":
            if not in_message:
                return index, N_("a CONTINUATION frame with no fragmented message to continue (§5.4)")
            in_message = not fin
        elif in_message:
            return index, N_(
                "a new TEXT or BINARY frame cannot start before the fragmented message ended (§5.4)"
            )
        else:
            in_message = not fin
    return None


def _legal_reference(frames: Frames) -> bool:
    return first_violation(frames) is None


def _legal_cases(rng: random.Random, count: int) -> list[Case]:
    rows = []
    for _number in range(count):
        frames = [
            (
                rng.choice(("TEXT", "BINARY", "CONTINUATION", "CONTINUATION", "PING", "PONG")),
                rng.random() < 0.5,
            )
            for _number in range(rng.randint(1, 6))
        ]
        rows.append(Case((frames,), _legal_reference(frames), label=f"legal({frames})"))
    return rows


def _legal_diagnose(case: Case, got: object) -> str | None:
    frames = case.args[0]
    if got is True and case.expected is False:
        found = first_violation(frames)
        if found is None:
            return None
        return _("frame {number} is not allowed: {why}").format(number=found[0] + 1, why=_(found[1]))
    if got is False and case.expected is True:
        open_message = any(not fin for opcode, fin in frames if opcode in DATA)
        if open_message and any(opcode in CONTROL for opcode, _fin in frames):
            return N_("control frames (Ping, Pong, Close) may come between the fragments of a message (§5.4)")
        return N_(
            "every frame here is allowed; a message that is not finished yet may still get its last fragment"
        )
    return None


def _no_control_inside(frames: Frames) -> bool:  # mistake: a Ping must wait for the message
    in_message = False
    for opcode, fin in frames:
        if opcode in CONTROL and in_message:
            return False
        if opcode not in CONTROL:
            if (opcode == "CONTINUATION") != in_message:
                return False
            in_message = not fin
    return True


def _new_message_allowed(frames: Frames) -> bool:  # mistake: TEXT/BINARY may always start
    in_message = False
    for opcode, fin in frames:
        if opcode in CONTROL and not fin:
            return False
        if opcode == "CONTINUATION" and not in_message:
            return False
        if opcode not in CONTROL:
            in_message = not fin
    return True


def _fragmented_control_allowed(frames: Frames) -> bool:  # mistake: FIN ignored on control frames
    return _legal_reference([(op, True if op in CONTROL else fin) for op, fin in frames])


_LEGAL = [
    ([("TEXT", True)], True, "one frame, one message"),
    ([("TEXT", False), ("CONTINUATION", False), ("CONTINUATION", True)], True, "three fragments"),
    ([("TEXT", False), ("PING", True), ("CONTINUATION", True)], True, "a Ping between fragments"),
    (
        [("BINARY", False), ("PONG", True), ("PING", True), ("CONTINUATION", True)],
        True,
        "two controls inside",
    ),
    ([("TEXT", False), ("CLOSE", True)], True, "a Close in the middle of a message"),
    ([("TEXT", False)], True, "a message not finished yet"),
    ([("TEXT", False), ("TEXT", True)], False, "a new message before the last fragment"),
    ([("BINARY", False), ("PING", True), ("BINARY", True)], False, "a new message after a Ping"),
    ([("CONTINUATION", True)], False, "a continuation with nothing to continue"),
    ([("TEXT", True), ("CONTINUATION", True)], False, "a continuation after a finished message"),
    ([("PING", False)], False, "a fragmented Ping"),
    ([("TEXT", False), ("PONG", False), ("CONTINUATION", True)], False, "a fragmented Pong inside a message"),
    ([("TEXT", False), ("CONTINUATION", True), ("BINARY", True)], True, "two messages, one after the other"),
]

register(
    Exercise(
        id="06.fragments_legal",
        title="Is this sequence of frames allowed?",
        signature="legal(frames: list[tuple[str, bool]]) -> bool",
        reference=_legal_reference,
        rfc="§5.4",
        cases=tuple(
            Case(
                (frames,),
                expected,
                label=label,
                hint="check the rules of fragmentation frame by frame",
                rfc="§5.4",
            )
            for frames, expected, label in _LEGAL
        ),
        random_cases=_legal_cases,
        random_count=8,
        diagnose=_legal_diagnose,
        mistakes=(
            Mistake(
                "no control frames inside a message", _no_control_inside, "may come between the fragments"
            ),
            Mistake(
                "a new message may interrupt", _new_message_allowed, "cannot start before the fragmented"
            ),
            Mistake("control frames fragmented", _fragmented_control_allowed, "must not be fragmented"),
        ),
        explanation="Each frame is (opcode name, FIN). Frames after the last one may still come.",
    )
)


# --- 06.close_code: what the server answers to each scenario -------------------------------

#: The answer, written out by hand; tests check it against what the Protocol does.
CLOSE_CODES: dict[str, int | None] = {
    "one message in three fragments": None,
    "a Ping between two fragments": None,
    "a new message before the last fragment": 1002,
    "a continuation with nothing to continue": 1002,
    "a fragmented Ping": 1002,
    "你好 split mid-character, in one message": None,
    "你好 cut into two messages": 1007,
    "an invalid byte in the first fragment": 1007,
}

_CLOSE_HINTS = {
    None: N_("nothing is wrong here: the server assembles the message and stays open"),
    1002: N_("a broken fragmentation rule is a protocol error: 1002"),
    1007: N_("text that is not valid UTF-8 is 1007, invalid frame payload data, not 1002"),
}


def _code_diagnose(case: Case, got: object) -> str | None:
    name = case.args[0]
    if case.expected is None and got == 1007 and "split" in name:
        return N_("a character may be split between two fragments: the assembler waits for its last bytes")
    return _CLOSE_HINTS[case.expected]


def _all_1002(answer: dict[str, int | None]) -> dict[str, int | None]:
    return {name: (1002 if code else None) for name, code in answer.items()}


register(
    Exercise(
        id="06.close_code",
        title="Which close code does the server send?",
        signature="{scenario: close code, or None when the server does not close}",
        reference=dict(CLOSE_CODES),
        kind="value",
        rfc="§7.4.1",
        cases=tuple(
            Case((name,), code, label=name, rfc="§8.1" if code == 1007 else "§5.4")
            for name, code in CLOSE_CODES.items()
        ),
        diagnose=_code_diagnose,
        mistakes=(
            Mistake("UTF-8 errors as 1002", _all_1002(CLOSE_CODES), "not valid UTF-8 is 1007"),
            Mistake(
                "a split character is an error",
                {**CLOSE_CODES, "你好 split mid-character, in one message": 1007},
                "a character may be split between two fragments",
            ),
            Mistake("everything is fine", dict.fromkeys(CLOSE_CODES), "protocol error: 1002"),
        ),
        explanation="Run each scenario in the FragmentationWidget to see the server's Close frame.",
    )
)


register_quiz(
    "06.checkpoint",
    "Checkpoint: echo and messages",
    [
        Question(
            "A client sends TEXT FIN=0 'Hel', then a Ping, then CONTINUATION FIN=1 'lo'. What happens?",
            1,
            "A control frame may come between fragments (§5.4): the server answers the Ping with a Pong "
            "at once, and then delivers the whole message 'Hello'.",
            choices=(
                "the server fails the connection with 1002",
                "a Pong goes back, then the message 'Hello' is delivered",
                "the Ping is queued until the message is complete",
                "the server delivers 'Hel' and 'lo' as two messages",
            ),
            rfc="§5.4",
        ),
        Question(
            "Seed 000's client ends by closing TCP without a Close frame. Which code does the server report?",
            1006,
            "No Close frame arrived, so the server's side of the story is 1006, abnormal closure (§7.1.5). "
            "It is never sent on the wire: nobody is left to receive it.",
            rfc="§7.1.5",
        ),
        Question(
            "An echo handler does await ws.send(str(message)). What goes wrong?",
            2,
            "str(b'...') is the text \"b'...'\": a binary message comes back as a text message with "
            "other bytes. Send the message as it came: str stays text, bytes stay binary (§5.6).",
            choices=(
                "nothing: every message is text anyway",
                "text messages come back as binary",
                "binary messages come back as text, and changed",
                "the server closes with 1003",
            ),
            rfc="§5.6",
        ),
        Question(
            "The last fragment of a text message ends in the middle of a character. Which close code?",
            1007,
            "A character may be cut between fragments, but the whole message must be valid UTF-8 (§8.1): "
            "at its end an incomplete character is invalid data, 1007.",
            rfc="§8.1",
        ),
    ],
)
