"""The closing handshake (RFC 6455 §5.5.1, §7.4): Close answered by Close, bad codes fail.

§5.5.1: "If an endpoint receives a Close frame and did not previously send a Close frame,
the endpoint MUST send a Close frame in response", "typically echoing the status code it
received". Codes a peer may not send (§7.4.1, §7.4.2: 0-999, 1004-1006, 1015, unassigned
1016-2999, 5000 and up) and a 1-byte payload are protocol errors (1002); a reason that is
not UTF-8 is invalid payload data (1007).
"""

from __future__ import annotations

from .expect import expect_close_reply, expect_failure, expect_nothing_more, grade_close_reply
from .model import Case, CaseRun, Grade, Options, Verdict, case_maker, failed, non_strict, ok
from .peer import Closed, Dropped, Message, Tester, describe
from .peer import describe_code as code_text
from .wire import CLOSE, PING, TEXT, build_frame, close_payload

make = case_maker("closing")

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


def code_cases() -> list[Case]:
    found = [
        make(
            f"code-{code}",
            "§7.4.1",
            f"a Close with {code_text(code)}",
            f"a Close frame in reply, echoing {code}",
            close_with(close_payload(code), code),
        )
        for code in VALID_CODES
    ]
    found += [
        make(
            f"code-{code}",
            "§7.4.1",
            f"a Close with {code_text(code)} (IANA registry)",
            f"a Close frame in reply, echoing {code}",
            later_code(code),
        )
        for code in LATER_CODES
    ]
    found += [
        make(
            f"invalid-code-{code}",
            "§7.4.2",
            f"a Close with {code}, a code no endpoint may send",
            "failing the connection with 1002 (protocol error)",
            must_fail(close_payload(code), 1002),
        )
        for code in INVALID_CODES
    ]
    return found


def payload_cases() -> list[Case]:
    reason_123 = b"r" * 123
    return [
        make(
            "empty",
            "§5.5.1",
            "a Close with no payload",
            "a Close frame in reply (empty, or with 1000)",
            close_with(b"", None, also_ok=(1000,)),
        ),
        make(
            "reason",
            "§5.5.1",
            "a Close with 1000 and the reason 'bye'",
            "a Close frame in reply, echoing 1000",
            close_with(close_payload(1000, b"bye"), 1000),
        ),
        make(
            "reason-utf8",
            "§5.5.1",
            "a Close with 1000 and a Greek reason",
            "a Close frame in reply, echoing 1000",
            close_with(close_payload(1000, "κόσμε".encode()), 1000),
        ),
        make(
            "reason-123",
            "§5.5.1",
            "a Close with 1000 and a 123-byte reason (125 bytes of payload)",
            "a Close frame in reply, echoing 1000",
            close_with(close_payload(1000, reason_123), 1000),
        ),
        make(
            "reason-124",
            "§5.5",
            "a Close with 1000 and a 124-byte reason (126 bytes of payload)",
            "failing the connection with 1002: control frames carry at most 125 bytes",
            must_fail(close_payload(1000, reason_123 + b"r"), 1002),
        ),
        make(
            "one-byte-payload",
            "§5.5.1",
            "a Close whose payload is a single byte",
            "failing the connection with 1002: a status code takes 2 bytes",
            must_fail(b"\x03", 1002),
        ),
        make(
            "reason-invalid-utf8",
            "§5.5.1",
            "a Close with 1000 and a reason that is not UTF-8 (ED A0 80)",
            "failing the connection with 1007: the reason MUST be UTF-8",
            must_fail(close_payload(1000, b"\xed\xa0\x80"), 1007),
        ),
    ]


def order_cases() -> list[Case]:
    return [
        make(
            "data-after-close",
            "§5.5.1",
            "a Close, then a text message in the same write",
            "a Close frame in reply and no echo: no data is processed after a Close",
            nothing_after_close(build_frame(TEXT, b"after the close")),
        ),
        make(
            "ping-after-close",
            "§5.5.2",
            "a Close, then a ping in the same write",
            "a Close frame in reply and no pong: a ping after a Close is not answered",
            nothing_after_close(build_frame(PING, b"after the close")),
        ),
        make(
            "text-then-close",
            "§5.5.1",
            "a text message, then a Close in the same write",
            "a Close frame echoing 1000 (an echo of the text before it is optional)",
            text_then_close,
        ),
        make(
            "tcp-closed-after",
            "§7.1.1",
            "a Close with 1000, then waiting",
            "the server closing the TCP connection after the closing handshake (SHOULD)",
            tcp_closed_after,
        ),
    ]


def cases(options: Options) -> list[Case]:
    return payload_cases() + code_cases() + order_cases()
