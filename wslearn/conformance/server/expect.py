"""Grading: compare what the server did with what RFC 6455 requires.

Each function reads the server's next events and returns a Verdict. The shared rule for a
connection the server must fail (RFC 6455 §7.1.7): a Close frame with the expected code is
OK; a Close frame with another code, or a TCP close without a Close frame, is NON-STRICT
(the connection was failed, but the peer is not told why); going on as if nothing were
wrong — echoing, answering a ping, or just waiting — is FAILED.
"""

from __future__ import annotations

from ..model import Grade, Verdict, failed, non_strict, ok
from ..wire import opcode_name
from .peer import Broken, Closed, Dropped, Event, Message, Peer, Pong, Silence, describe
from .peer import describe_code as code_text


async def expect_message(peer: Peer, opcode: int, data: bytes) -> Verdict:
    """The next message must be ``data`` with the same opcode (an echo)."""
    event = await peer.next_event()
    while isinstance(event, Pong):  # RFC 6455 §5.5.3: an unsolicited pong may be ignored
        event = await peer.next_event()
    return grade_echo(event, opcode, data)


def grade_echo(event: Event, opcode: int, data: bytes) -> Verdict:
    kind = opcode_name(opcode)
    if not isinstance(event, Message):
        return failed(f"{describe(event)} instead of echoing the {len(data)}-byte {kind} message")
    if event.opcode != opcode:
        return failed(f"echoed a {kind} message as {opcode_name(event.opcode)}")
    if event.data != data:
        return failed(f"echoed {len(event.data)} bytes that differ from the {len(data)} sent")
    return ok(f"echoed the {len(data)}-byte {kind} message")


async def expect_echo_then_failure(peer: Peer, opcode: int, data: bytes, code: int) -> Verdict:
    """An echo of the valid message that came before a violation, then the failure.

    Failing at once, without the echo, still fails the connection but loses a message
    that was whole before the violation: NON-STRICT.
    """
    event = await peer.next_event()
    while isinstance(event, Pong):
        event = await peer.next_event()
    if isinstance(event, (Closed, Dropped)):
        failure = grade_failure(event, code)
        if failure.grade is Grade.FAILED:
            return failure
        return non_strict(f"{failure.did}, before echoing the valid message that came first")
    echo = grade_echo(event, opcode, data)
    if echo.grade is not Grade.OK:
        return echo
    failure = await expect_failure(peer, code)
    if failure.grade is not Grade.OK:
        return failure
    return ok(f"{echo.did}, then {failure.did}")


async def expect_pong(peer: Peer, payload: bytes) -> Verdict:
    """The next frame must be a pong carrying ``payload`` (RFC 6455 §5.5.3)."""
    event = await peer.next_event()
    if not isinstance(event, Pong):
        return failed(f"{describe(event)} instead of a pong")
    if event.payload != payload:
        return failed(f"answered with a pong of {len(event.payload)} other bytes")
    return ok(f"answered with a pong carrying the same {len(payload)} bytes")


async def expect_failure(peer: Peer, code: int) -> Verdict:
    """The server must fail the connection with a Close frame carrying ``code``."""
    return grade_failure(await peer.next_event(), code)


def grade_failure(event: Event, code: int) -> Verdict:
    if isinstance(event, Closed):
        if event.code == code:
            return ok(f"failed the connection with {code_text(code)}")
        return non_strict(f"closed with {code_text(event.code)} instead of {code_text(code)}")
    if isinstance(event, Dropped):
        return non_strict(f"{event.how} without a Close frame carrying {code_text(code)}")
    if isinstance(event, Message):
        return failed(f"accepted it and echoed a {len(event.data)}-byte message")
    if isinstance(event, Pong):
        return failed("went on and answered a ping")
    if isinstance(event, Silence):
        return failed(f"kept the connection open and silent for {event.seconds:g} s")
    return failed(describe(event))


async def expect_fail_fast(peer: Peer, code: int, rest: list[bytes]) -> Verdict:
    """The server must fail before ``rest`` (the remaining frames) is sent.

    Closing only after the last frame arrived is NON-STRICT (RFC 6455 §8.1 lets an endpoint
    notice invalid data late, but the point of the rule is to fail at once).
    """
    early = await peer.next_event(peer.options.fail_fast_window)
    if not isinstance(early, Silence):
        verdict = grade_failure(early, code)
        if verdict.grade is Grade.OK:
            return ok(f"{verdict.did}, before the rest was sent (fail fast)")
        return verdict
    for frame in rest:
        if not await peer.send(frame):
            break
    late = grade_failure(await peer.next_event(), code)
    if late.grade is Grade.OK:
        return non_strict(
            f"failed with {code_text(code)} only after the final frame (nothing within "
            f"{peer.options.fail_fast_window:g} s of the bad bytes)",
            requires="failing as soon as the bad bytes arrive (fail fast)",
        )
    return late


async def expect_close_reply(peer: Peer, code: int | None, also_ok: tuple[int, ...] = ()) -> Verdict:
    """After our Close frame, the server must answer with a Close frame (RFC 6455 §5.5.1).

    The reply should echo ``code`` (§5.5.1 "typically echos the status code it received");
    a different valid code is NON-STRICT. Data after our Close must not be processed.
    """
    event = await peer.next_event()
    if isinstance(event, Message):
        return failed("sent a data message after receiving a Close frame")
    if not isinstance(event, Closed):
        return failed(f"{describe(event)} instead of answering with a Close frame")
    return grade_close_reply(event, code, also_ok)


def grade_close_reply(event: Closed, code: int | None, also_ok: tuple[int, ...] = ()) -> Verdict:
    if event.code == code or event.code in also_ok:
        return ok(f"answered with a Close frame with {code_text(event.code)}")
    return non_strict(f"answered with {code_text(event.code)} instead of echoing {code_text(code)}")


async def expect_nothing_more(peer: Peer, seconds: float) -> Verdict | None:
    """After the closing handshake, no more data may come (RFC 6455 §5.5.1); None if fine."""
    event = await peer.next_event(seconds)
    if isinstance(event, Message | Pong):
        return failed(f"{describe(event)} after the closing handshake")
    if isinstance(event, Broken):
        return failed(describe(event))
    return None


def first_problem(*verdicts: Verdict) -> Verdict:
    """The worst of several verdicts (the first FAILED, else the first NON-STRICT, else last)."""
    for wanted in (Grade.FAILED, Grade.NON_STRICT):
        for verdict in verdicts:
            if verdict.grade is wanted:
                return verdict
    return verdicts[-1]


__all__ = [
    "Broken",
    "Dropped",
    "expect_close_reply",
    "expect_fail_fast",
    "expect_failure",
    "expect_message",
    "expect_nothing_more",
    "expect_pong",
    "first_problem",
    "grade_close_reply",
    "grade_echo",
    "grade_failure",
]
