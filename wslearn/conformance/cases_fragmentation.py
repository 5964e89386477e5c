"""Fragmentation (RFC 6455 §5.4): messages split into frames, with control frames in between."""

from __future__ import annotations

import asyncio

from .expect import expect_echo_then_failure, expect_failure, expect_message
from .model import Case, CaseRun, Grade, Options, Verdict, case_maker, failed, non_strict, ok
from .peer import Message, Peer, Pong, Tester, describe
from .wire import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, build_frame, close_payload

make = case_maker("fragmentation")


def fragments(opcode: int, pieces: list[bytes]) -> list[bytes]:
    """The frames of one message: the first has ``opcode``, the rest are continuations."""
    last = len(pieces) - 1
    return [
        build_frame(opcode if n == 0 else CONTINUATION, piece, fin=n == last)
        for n, piece in enumerate(pieces)
    ]


def echo_fragmented(opcode: int, pieces: list[bytes], piece_size: int | None = None) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        data = b"".join(fragments(opcode, pieces))
        if piece_size:
            await peer.raw.send_chopped(data, piece_size)
        else:
            await peer.send(data)
        return await expect_message(peer, opcode, b"".join(pieces))

    return run


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


def echo_cases() -> list[Case]:
    same = "an echo of the whole message, joined"
    return [
        make(
            "text-2",
            "§5.4",
            "a text message in 2 fragments",
            same,
            echo_fragmented(TEXT, [b"fragment one, ", b"fragment two"]),
        ),
        make(
            "binary-3",
            "§5.4",
            "a binary message in 3 fragments",
            same,
            echo_fragmented(BINARY, [bytes(range(100)), bytes(range(100, 200)), b"\xff"]),
        ),
        make(
            "chopped",
            "§5.4",
            "a text message in 3 fragments, written one byte at a time",
            same,
            echo_fragmented(TEXT, [b"chopped ", b"into ", b"bytes"], piece_size=1),
        ),
        make(
            "1000-tiny",
            "§5.4",
            "a text message in 1,000 fragments of 1 byte",
            same,
            echo_fragmented(TEXT, tiny_pieces(1000)),
        ),
        make(
            "empty-fragments",
            "§5.4",
            "a text message whose fragments are empty, but one",
            same,
            echo_fragmented(TEXT, [b"", b"", b"only this", b""]),
        ),
        make(
            "empty-message",
            "§5.4",
            "an empty text message in 2 empty fragments",
            "an echo of the empty text message",
            echo_fragmented(TEXT, [b"", b""]),
        ),
        make(
            "ping-between",
            "§5.4",
            "a text in 2 fragments with a ping between them",
            "the pong, then the echo (control frames may sit between fragments)",
            with_pings(TEXT, [b"before the ping, ", b"after the ping"]),
        ),
        make(
            "pings-between-chopped",
            "§5.4",
            "a binary in 5 fragments, a ping after each, written separately",
            "the 4 pongs, then the echo",
            with_pings(BINARY, [bytes([n]) * 50 for n in range(5)], pause=0.01),
        ),
        make(
            "pong-between",
            "§5.4",
            "a text in 2 fragments with an unsolicited pong between them",
            "an echo, ignoring the pong",
            pong_inside,
        ),
    ]


def failure_cases() -> list[Case]:
    fail = "failing the connection with 1002"
    start = build_frame(TEXT, b"started", fin=False)
    return [
        make(
            "continuation-first",
            "§5.4",
            "a continuation frame (FIN=1) with no message started",
            f"{fail}: there is nothing to continue",
            must_fail(build_frame(CONTINUATION, b"lost")),
        ),
        make(
            "continuation-first-fin0",
            "§5.4",
            "continuation frames (FIN=0, then FIN=1) with no message started",
            f"{fail}: there is nothing to continue",
            must_fail(build_frame(CONTINUATION, b"lost", fin=False), build_frame(CONTINUATION, b"!")),
        ),
        make(
            "continuation-after-message",
            "§5.4",
            "a complete text message, then a continuation frame",
            f"{fail}: the message was already complete",
            must_fail(build_frame(CONTINUATION, b"too late"), echo_first=b"complete"),
        ),
        make(
            "continuation-after-message-same-write",
            "§5.4",
            "a text in 2 fragments, then 2 more continuation frames, all in one write",
            "echoing the text that was complete, then failing the connection with 1002",
            echo_then_fail(
                [*fragments(TEXT, [b"frag1", b"frag2"]), *fragments(CONTINUATION, [b"frag3", b"frag4"])],
                b"frag1frag2",
            ),
        ),
        make(
            "text-inside-text",
            "§5.4",
            "a text started with FIN=0, then a new text frame",
            f"{fail}: fragments of different messages MUST NOT interleave",
            must_fail(start, build_frame(TEXT, b"new message")),
        ),
        make(
            "binary-inside-text",
            "§5.4",
            "a text started with FIN=0, then a new binary frame with FIN=0",
            f"{fail}: fragments of different messages MUST NOT interleave",
            must_fail(start, build_frame(BINARY, b"new", fin=False), build_frame(CONTINUATION)),
        ),
        make(
            "fragmented-ping",
            "§5.5",
            "a ping with FIN=0, then a continuation",
            f"{fail}: control frames MUST NOT be fragmented",
            must_fail(build_frame(PING, b"frag", fin=False), build_frame(CONTINUATION, b"ment")),
        ),
        make(
            "fragmented-pong",
            "§5.5",
            "a pong with FIN=0, then a continuation",
            f"{fail}: control frames MUST NOT be fragmented",
            must_fail(build_frame(PONG, b"frag", fin=False), build_frame(CONTINUATION, b"ment")),
        ),
        make(
            "fragmented-close",
            "§5.5",
            "a Close with FIN=0, then a continuation",
            f"{fail}: control frames MUST NOT be fragmented",
            must_fail(build_frame(CLOSE, close_payload(1000), fin=False), build_frame(CONTINUATION)),
        ),
    ]


def cases(options: Options) -> list[Case]:
    return echo_cases() + failure_cases()
