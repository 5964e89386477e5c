"""A client MUST fail the connection on frames no server may send (RFC 6455 §5, §7, §8.1).

Masked frames (§5.1), RSV bits without an extension and reserved opcodes (§5.2), bad
control frames (§5.5), a continuation with no message (§5.4): 1002. Invalid UTF-8 (§8.1):
1007. A Close is answered with a Close (§5.5.1), a ping with a pong (§5.5.2), and a valid
message reaches the application.
"""

from __future__ import annotations

from ..model import Table, Verdict, failed, non_strict, ok
from ..server.peer import describe_code
from ..wire import CLOSE, CONTINUATION, PING, TEXT, build_frame, close_payload
from .adapters import ClientOutcome
from .badserver import ClientCase, Misbehaviour, WireRecord, frames_after_101


def grade_frames(misbehaviour: Misbehaviour, outcome: ClientOutcome, record: WireRecord) -> Verdict:
    code = misbehaviour.expect_close
    if outcome.received is not None:
        return failed(f"{outcome}")
    if outcome.refused is not None:
        return failed(f"refused a valid handshake: {outcome.refused[:100]}")
    if record.close_seen and record.close_code == code:
        if misbehaviour.fail_fast and not record.close_before:
            return non_strict(
                f"failed with {describe_code(code)} only after the server's last frame",
                requires="failing as soon as the invalid bytes arrive (fail fast)",
            )
        did = "answered with a Close frame with" if code == 1000 else "failed the connection with"
        return ok(f"{did} {describe_code(code)}")
    if record.close_seen or "closed" in record.ended or "reset" in record.ended:
        return non_strict(f"{record.client_close()} and {outcome}")
    return failed(f"{record.client_close()} and {outcome}")


def grade_hello(misbehaviour: Misbehaviour, outcome: ClientOutcome, record: WireRecord) -> Verdict:
    if outcome.received == "hello":
        return ok("returned 'hello' to the application")
    return failed(f"{outcome}; {record.client_close()}")


def grade_pong(misbehaviour: Misbehaviour, outcome: ClientOutcome, record: WireRecord) -> Verdict:
    if record.pongs == [b"are you there?"] and outcome.received == "hello":
        return ok("answered the ping with a pong carrying the same payload")
    return failed(f"sent the pongs {record.pongs!r} and {outcome}")


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
    """A frame as a server sends it: unmasked (except in the masked-frame case)."""
    return build_frame(opcode, payload, fin=fin, rsv=rsv, masked=False)


def sending(code: int, *frames: bytes, then: bytes = b"", fast: bool = False) -> Misbehaviour:
    """A good 101, then ``frames`` (``then`` only if the client is still there): the client
    must close with ``code``, before ``then`` if ``fast``."""
    return Misbehaviour(frames_after_101(*frames, then=then), grade_frames, code, fast)


def failure(code: int) -> str:
    if code == 1000:
        return "answering with a Close frame carrying 1000"
    return f"failing the connection with a Close frame carrying {describe_code(code)}"


HELLO = frame(TEXT, b"hello")


def good_cases() -> list[ClientCase]:
    row = Table[Misbehaviour]("client frames", id_prefix="client.frames")
    ping = frame(PING, b"are you there?")
    return [
        row(
            "text",
            section="§5.6",
            title="a valid text message 'hello'",
            requires="returning 'hello' to the application",
            run=Misbehaviour(frames_after_101(HELLO), grade_hello),
        ),
        row(
            "ping",
            section="§5.5.2",
            title="a ping, then a text message",
            requires="a pong with the same payload",
            run=Misbehaviour(frames_after_101(ping, then=HELLO), grade_pong),
        ),
    ]


def bad_cases() -> list[ClientCase]:
    row = Table[Misbehaviour](
        "client frames", id_prefix="client.frames", section="§5.5", requires=failure(1002)
    )
    invalid = failure(1007)
    return [
        row(
            "masked-frame",
            section="§5.1",
            title="a masked text frame",
            run=sending(1002, build_frame(TEXT, b"hello")),
        ),
        row(
            "rsv1",
            section="§5.2",
            title="a text frame with RSV1 set",
            run=sending(1002, frame(TEXT, b"hello", rsv=4)),
        ),
        row(
            "reserved-opcode",
            section="§5.2",
            title="a frame with reserved opcode 0x3",
            run=sending(1002, frame(3), HELLO),
        ),
        row("ping-126", title="a ping with 126 bytes", run=sending(1002, frame(PING, b"x" * 126), HELLO)),
        row(
            "fragmented-ping",
            title="a ping with FIN=0",
            run=sending(1002, frame(PING, b"x", fin=False), HELLO),
        ),
        row(
            "continuation-first",
            section="§5.4",
            title="a continuation frame with no message started",
            run=sending(1002, frame(CONTINUATION, b"lost"), HELLO),
        ),
        row(
            "invalid-utf8",
            section="§8.1",
            title="a text message with a surrogate (ED A0 80)",
            requires=invalid,
            run=sending(1007, frame(TEXT, b"\xed\xa0\x80")),
        ),
        row(
            "invalid-utf8-fragment",
            section="§8.1",
            title="a first text fragment that is invalid (C0 AF), the rest later",
            requires=invalid,
            run=sending(
                1007, frame(TEXT, b"\xc0\xaf", fin=False), then=frame(CONTINUATION, b"end"), fast=True
            ),
        ),
        row(
            "close-1005",
            section="§7.4.1",
            title="a Close frame with 1005, which no endpoint may send",
            run=sending(1002, frame(CLOSE, close_payload(1005))),
        ),
        row(
            "close-999",
            section="§7.4.2",
            title="a Close frame with 999",
            run=sending(1002, frame(CLOSE, close_payload(999))),
        ),
        row(
            "close-one-byte",
            section="§5.5.1",
            title="a Close frame with a 1-byte payload",
            run=sending(1002, frame(CLOSE, b"\x03")),
        ),
        row(
            "close-invalid-reason",
            section="§5.5.1",
            title="a Close frame whose reason is not UTF-8",
            requires=invalid,
            run=sending(1007, frame(CLOSE, close_payload(1000, b"\xff"))),
        ),
        row(
            "close-normal",
            section="§5.5.1",
            title="a Close frame with 1000",
            requires=failure(1000),
            run=sending(1000, frame(CLOSE, close_payload(1000, b"bye"))),
        ),
    ]
