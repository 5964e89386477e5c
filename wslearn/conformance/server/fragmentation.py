"""Fragmentation (RFC 6455 §5.4): messages split into frames, with control frames in between."""

from __future__ import annotations

import asyncio

from ..model import Grade, Options, Table, Verdict, failed, non_strict, ok
from ..wire import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, build_frame, close_payload
from .expect import expect_echo_then_failure, expect_failure, expect_message
from .peer import CaseRun, Message, Peer, Pong, ServerCase, Tester, describe
from .sending import echo_fragmented, fragments

FAIL = "failing the connection with 1002"


def with_pings(opcode: int, pieces: list[bytes], pause: float = 0.0) -> CaseRun:
    """Each fragment followed by a ping (but the last): pongs must come, then the echo.

    §5.4: "control frames MAY be injected in the middle of a fragmented message", and the
    pongs are due "as soon as is practical" (§5.5.2), so before the echo of the message.
    """

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        frames = fragments(opcode, pieces)
        pings = [f"ping {n}".encode() for n in range(len(frames) - 1)]
        for n, frame in enumerate(frames):
            await peer.send(frame + (build_frame(PING, pings[n]) if n < len(pings) else b""))
            if pause:
                await asyncio.sleep(pause)
        return await pongs_then_echo(peer, pings, opcode, b"".join(pieces))

    return run


async def pongs_then_echo(peer: Peer, pings: list[bytes], opcode: int, data: bytes) -> Verdict:
    pongs: list[bytes] = []
    echoed = early = False
    while len(pongs) < len(pings) or not echoed:
        event = await peer.next_event()
        if isinstance(event, Pong):
            pongs.append(event.payload)
        elif isinstance(event, Message) and not echoed:
            if event.data != data or event.opcode != opcode:
                return failed(f"{describe(event)}, not the echo of the {len(data)} bytes sent")
            echoed = True
            early = len(pongs) < len(pings)
        else:
            return failed(f"{describe(event)} (had {len(pongs)} pongs, echo: {echoed})")
    if pongs != pings:
        return failed(f"answered the pings with other payloads or out of order: {pongs!r}")
    if early:
        return non_strict(
            "echoed the message before answering every ping",
            requires="a pong as soon as practical, before the message that was still open",
        )
    answered = "the ping" if len(pings) == 1 else f"all {len(pings)} pings"
    return ok(f"answered {answered}, then echoed the message")


async def pong_inside(t: Tester) -> Verdict:
    peer = await t.connect()
    start, end = fragments(TEXT, [b"pong in ", b"the middle"])
    await peer.send(start + build_frame(PONG, b"unsolicited") + end)
    return await expect_message(peer, TEXT, b"pong in the middle")


def must_fail(*frames: bytes, echo_first: bytes | None = None) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        if echo_first is not None:
            await peer.send_frame(TEXT, echo_first)
            verdict = await expect_message(peer, TEXT, echo_first)
            if verdict.grade is not Grade.OK:
                return verdict
        await peer.send(b"".join(frames))
        return await expect_failure(peer, 1002)

    return run


def echo_then_fail(frames: list[bytes], echo: bytes) -> CaseRun:
    """Frames that complete a text message and then break a rule, in one write."""

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send(b"".join(frames))
        return await expect_echo_then_failure(peer, TEXT, echo, 1002)

    return run


def tiny_pieces(count: int) -> list[bytes]:
    text = bytes(ord("a") + n % 26 for n in range(count))
    return [text[n : n + 1] for n in range(count)]


def echo_cases() -> list[ServerCase]:
    row = Table[CaseRun]("fragmentation", section="§5.4", requires="an echo of the whole message, joined")
    return [
        row(
            "text-2",
            title="a text message in 2 fragments",
            run=echo_fragmented(TEXT, [b"fragment one, ", b"fragment two"]),
        ),
        row(
            "binary-3",
            title="a binary message in 3 fragments",
            run=echo_fragmented(BINARY, [bytes(range(100)), bytes(range(100, 200)), b"\xff"]),
        ),
        row(
            "chopped",
            title="a text message in 3 fragments, written one byte at a time",
            run=echo_fragmented(TEXT, [b"chopped ", b"into ", b"bytes"], piece_size=1),
        ),
        row(
            "1000-tiny",
            title="a text message in 1,000 fragments of 1 byte",
            run=echo_fragmented(TEXT, tiny_pieces(1000)),
        ),
        row(
            "empty-fragments",
            title="a text message whose fragments are empty, but one",
            run=echo_fragmented(TEXT, [b"", b"", b"only this", b""]),
        ),
        row(
            "empty-message",
            title="an empty text message in 2 empty fragments",
            requires="an echo of the empty text message",
            run=echo_fragmented(TEXT, [b"", b""]),
        ),
        row(
            "ping-between",
            title="a text in 2 fragments with a ping between them",
            requires="the pong, then the echo (control frames may sit between fragments)",
            run=with_pings(TEXT, [b"before the ping, ", b"after the ping"]),
        ),
        row(
            "pings-between-chopped",
            title="a binary in 5 fragments, a ping after each, written separately",
            requires="the 4 pongs, then the echo",
            run=with_pings(BINARY, [bytes([n]) * 50 for n in range(5)], pause=0.01),
        ),
        row(
            "pong-between",
            title="a text in 2 fragments with an unsolicited pong between them",
            requires="an echo, ignoring the pong",
            run=pong_inside,
        ),
    ]


def failure_cases() -> list[ServerCase]:
    row = Table[CaseRun]("fragmentation", section="§5.4")
    start = build_frame(TEXT, b"started", fin=False)
    nothing = f"{FAIL}: there is nothing to continue"
    interleave = f"{FAIL}: fragments of different messages MUST NOT interleave"
    control = f"{FAIL}: control frames MUST NOT be fragmented"
    return [
        row(
            "continuation-first",
            title="a continuation frame (FIN=1) with no message started",
            requires=nothing,
            run=must_fail(build_frame(CONTINUATION, b"lost")),
        ),
        row(
            "continuation-first-fin0",
            title="continuation frames (FIN=0, then FIN=1) with no message started",
            requires=nothing,
            run=must_fail(build_frame(CONTINUATION, b"lost", fin=False), build_frame(CONTINUATION, b"!")),
        ),
        row(
            "continuation-after-message",
            title="a complete text message, then a continuation frame",
            requires=f"{FAIL}: the message was already complete",
            run=must_fail(build_frame(CONTINUATION, b"too late"), echo_first=b"complete"),
        ),
        row(
            "continuation-after-message-same-write",
            title="a text in 2 fragments, then 2 more continuation frames, all in one write",
            requires="echoing the text that was complete, then failing the connection with 1002",
            run=echo_then_fail(
                [*fragments(TEXT, [b"frag1", b"frag2"]), *fragments(CONTINUATION, [b"frag3", b"frag4"])],
                b"frag1frag2",
            ),
        ),
        row(
            "text-inside-text",
            title="a text started with FIN=0, then a new text frame",
            requires=interleave,
            run=must_fail(start, build_frame(TEXT, b"new message")),
        ),
        row(
            "binary-inside-text",
            title="a text started with FIN=0, then a new binary frame with FIN=0",
            requires=interleave,
            run=must_fail(start, build_frame(BINARY, b"new", fin=False), build_frame(CONTINUATION)),
        ),
        row(
            "fragmented-ping",
            section="§5.5",
            title="a ping with FIN=0, then a continuation",
            requires=control,
            run=must_fail(build_frame(PING, b"frag", fin=False), build_frame(CONTINUATION, b"ment")),
        ),
        row(
            "fragmented-pong",
            section="§5.5",
            title="a pong with FIN=0, then a continuation",
            requires=control,
            run=must_fail(build_frame(PONG, b"frag", fin=False), build_frame(CONTINUATION, b"ment")),
        ),
        row(
            "fragmented-close",
            section="§5.5",
            title="a Close with FIN=0, then a continuation",
            requires=control,
            run=must_fail(build_frame(CLOSE, close_payload(1000), fin=False), build_frame(CONTINUATION)),
        ),
    ]


def cases(options: Options) -> list[ServerCase]:
    return echo_cases() + failure_cases()
