"""The closing handshake (RFC 6455 §5.5.1, §7.4): Close answered by Close, bad codes fail.

§5.5.1: "If an endpoint receives a Close frame and did not previously send a Close frame,
the endpoint MUST send a Close frame in response", "typically echoing the status code it
received". Codes a peer may not send (§7.4.1, §7.4.2: 0-999, 1004-1006, 1015, unassigned
1016-2999, 5000 and up) and a 1-byte payload are protocol errors (1002); a reason that is
not UTF-8 is invalid payload data (1007).
"""

from __future__ import annotations

from ..model import Grade, Options, Table, Verdict, failed, non_strict, ok
from ..wire import CLOSE, PING, TEXT, build_frame, close_payload
from .expect import expect_close_reply, expect_failure, expect_nothing_more, grade_close_reply
from .peer import CaseRun, Closed, Dropped, Message, ServerCase, Tester, describe
from .peer import describe_code as code_text

row = Table[CaseRun]("closing", section="§5.5.1")
ECHO_1000 = "a Close frame in reply, echoing 1000"

VALID_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999)
# Added to the IANA registry after RFC 6455 (§11.7); older servers refuse them.
LATER_CODES = (1012, 1013, 1014)
INVALID_CODES = (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535)


def close_with(payload: bytes, reply: int | None, also_ok: tuple[int, ...] = ()) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send_frame(CLOSE, payload)
        return await expect_close_reply(peer, reply, also_ok)

    return run


def later_code(code: int) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        verdict = await close_with(close_payload(code), code)(t)
        if verdict.grade is Grade.NON_STRICT and "1002" in verdict.did:
            return non_strict(
                f"refused {code_text(code)} with 1002: it is registered with IANA since "
                "RFC 6455 was published",
                requires=f"echoing {code}, a code of the IANA registry (§11.7)",
            )
        return verdict

    return run


def must_fail(payload: bytes, code: int) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send(build_frame(CLOSE, payload))
        return await expect_failure(peer, code)

    return run


def nothing_after_close(after: bytes) -> CaseRun:
    """A Close, then ``after`` in the same write: only the Close may be answered."""

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        peer.close_sent = True
        await peer.send(build_frame(CLOSE, close_payload(1000)) + after)
        verdict = await expect_close_reply(peer, 1000)
        if verdict.grade is Grade.FAILED:
            return verdict
        problem = await expect_nothing_more(peer, t.options.fail_fast_window)
        if problem is not None:
            return problem
        if verdict.grade is Grade.OK:
            return ok(f"{verdict.did}, and nothing for the frame after the Close")
        return verdict

    return run


async def text_then_close(t: Tester) -> Verdict:
    """§5.5.1 lets the server answer the Close at once: the echo may come first, or never."""
    peer = await t.connect()
    await peer.send(build_frame(TEXT, b"last words") + build_frame(CLOSE, close_payload(1000)))
    peer.close_sent = True
    event = await peer.next_event()
    echoed = isinstance(event, Message) and event.data == b"last words"
    if echoed:
        event = await peer.next_event()
    if not isinstance(event, Closed):
        return failed(f"{describe(event)} instead of answering the Close")
    verdict = grade_close_reply(event, 1000)
    if verdict.grade is Grade.OK:
        first = "echoed the text, then " if echoed else "did not echo the text (allowed) and "
        return ok(f"{first}{verdict.did}")
    return verdict


async def tcp_closed_after(t: Tester) -> Verdict:
    """§7.1.1: after the closing handshake the server SHOULD close the TCP connection first."""
    peer = await t.connect()
    await peer.send_close(1000)
    verdict = await expect_close_reply(peer, 1000)
    if verdict.grade is Grade.FAILED:
        return verdict
    event = await peer.next_event()
    if isinstance(event, Dropped):
        return ok("answered the Close and then closed the TCP connection")
    if isinstance(event, Closed):
        return non_strict("sent a second Close frame")
    return non_strict(
        f"left the TCP connection open for {t.options.answer_timeout:g} s after the closing handshake"
    )


def code_cases() -> list[ServerCase]:
    found = [
        row(
            f"code-{code}",
            section="§7.4.1",
            title=f"a Close with {code_text(code)}",
            requires=f"a Close frame in reply, echoing {code}",
            run=close_with(close_payload(code), code),
        )
        for code in VALID_CODES
    ]
    found += [
        row(
            f"code-{code}",
            section="§7.4.1",
            title=f"a Close with {code_text(code)} (IANA registry)",
            requires=f"a Close frame in reply, echoing {code}",
            run=later_code(code),
        )
        for code in LATER_CODES
    ]
    found += [
        row(
            f"invalid-code-{code}",
            section="§7.4.2",
            title=f"a Close with {code}, a code no endpoint may send",
            requires="failing the connection with 1002 (protocol error)",
            run=must_fail(close_payload(code), 1002),
        )
        for code in INVALID_CODES
    ]
    return found


def payload_cases() -> list[ServerCase]:
    reason_123 = b"r" * 123
    return [
        row(
            "empty",
            title="a Close with no payload",
            requires="a Close frame in reply (empty, or with 1000)",
            run=close_with(b"", None, also_ok=(1000,)),
        ),
        row(
            "reason",
            title="a Close with 1000 and the reason 'bye'",
            requires=ECHO_1000,
            run=close_with(close_payload(1000, b"bye"), 1000),
        ),
        row(
            "reason-utf8",
            title="a Close with 1000 and a Greek reason",
            requires=ECHO_1000,
            run=close_with(close_payload(1000, "κόσμε".encode()), 1000),
        ),
        row(
            "reason-123",
            title="a Close with 1000 and a 123-byte reason (125 bytes of payload)",
            requires=ECHO_1000,
            run=close_with(close_payload(1000, reason_123), 1000),
        ),
        row(
            "reason-124",
            section="§5.5",
            title="a Close with 1000 and a 124-byte reason (126 bytes of payload)",
            requires="failing the connection with 1002: control frames carry at most 125 bytes",
            run=must_fail(close_payload(1000, reason_123 + b"r"), 1002),
        ),
        row(
            "one-byte-payload",
            title="a Close whose payload is a single byte",
            requires="failing the connection with 1002: a status code takes 2 bytes",
            run=must_fail(b"\x03", 1002),
        ),
        row(
            "reason-invalid-utf8",
            title="a Close with 1000 and a reason that is not UTF-8 (ED A0 80)",
            requires="failing the connection with 1007: the reason MUST be UTF-8",
            run=must_fail(close_payload(1000, b"\xed\xa0\x80"), 1007),
        ),
    ]


def order_cases() -> list[ServerCase]:
    return [
        row(
            "data-after-close",
            title="a Close, then a text message in the same write",
            requires="a Close frame in reply and no echo: no data is processed after a Close",
            run=nothing_after_close(build_frame(TEXT, b"after the close")),
        ),
        row(
            "ping-after-close",
            section="§5.5.2",
            title="a Close, then a ping in the same write",
            requires="a Close frame in reply and no pong: a ping after a Close is not answered",
            run=nothing_after_close(build_frame(PING, b"after the close")),
        ),
        row(
            "text-then-close",
            title="a text message, then a Close in the same write",
            requires="a Close frame echoing 1000 (an echo of the text before it is optional)",
            run=text_then_close,
        ),
        row(
            "tcp-closed-after",
            section="§7.1.1",
            title="a Close with 1000, then waiting",
            requires="the server closing the TCP connection after the closing handshake (SHOULD)",
            run=tcp_closed_after,
        ),
    ]


def cases(options: Options) -> list[ServerCase]:
    return payload_cases() + code_cases() + order_cases()
