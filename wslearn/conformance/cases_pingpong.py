"""Ping and pong (RFC 6455 §5.5.2–§5.5.3): every ping answered with its payload, pongs ignored."""

from __future__ import annotations

from .expect import expect_failure, expect_message, expect_pong
from .model import Case, CaseRun, Grade, Options, Verdict, case_maker, failed, ok
from .peer import Pong, Tester, describe
from .wire import PING, PONG, TEXT, build_frame

make = case_maker("ping/pong")


def ping(payload: bytes, piece: int | None = None) -> CaseRun:
    """Send a ping (in pieces of ``piece`` bytes if given) and expect its pong."""

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        frame = build_frame(PING, payload)
        if piece:
            await peer.raw.send_chopped(frame, piece)
        else:
            await peer.send(frame)
        return await expect_pong(peer, payload)

    return run


async def ping_126(t: Tester) -> Verdict:
    peer = await t.connect()
    await peer.send_frame(PING, b"x" * 126)
    return await expect_failure(peer, 1002)


async def ten_pings(t: Tester) -> Verdict:
    """§5.5.3 lets an endpoint answer only the most recent of several pings."""
    peer = await t.connect()
    payloads = [f"ping {n}".encode() for n in range(10)]
    await peer.send(b"".join(build_frame(PING, payload) for payload in payloads))
    answered: list[bytes] = []
    while not answered or answered[-1] != payloads[-1]:
        event = await peer.next_event()
        if not isinstance(event, Pong):
            return failed(f"{describe(event)} after answering {len(answered)} of 10 pings")
        if event.payload not in payloads or (answered and event.payload <= answered[-1]):
            return failed(f"answered with a pong {event.payload!r} out of order")
        answered.append(event.payload)
    if len(answered) == len(payloads):
        return ok("answered all 10 pings, in order")
    return ok(f"answered {len(answered)} of the 10 pings, the last one included")


def unsolicited_pong(payload: bytes) -> CaseRun:
    """A pong nobody asked for must be ignored; the next text must still be echoed."""

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send(build_frame(PONG, payload) + build_frame(TEXT, b"after the pong"))
        verdict = await expect_message(peer, TEXT, b"after the pong")
        if verdict.grade is Grade.OK:
            return ok("ignored the pong and echoed the next message")
        return verdict

    return run


def cases(options: Options) -> list[Case]:
    same = "a pong with the same payload, as soon as practical"
    return [
        make("empty", "§5.5.2", "a ping with no payload", same, ping(b"")),
        make("text-125", "§5.5.2", "a ping with 125 bytes of text", same, ping(b"*" * 125)),
        make(
            "binary-125",
            "§5.5.2",
            "a ping with 125 bytes 00..7c",
            same,
            ping(bytes(range(125))),
        ),
        make(
            "chopped",
            "§5.5.2",
            "a 125-byte ping written one byte at a time",
            same,
            ping(b"chopped" * 17 + b"ping..", piece=1),
        ),
        make(
            "payload-126",
            "§5.5",
            "a ping with 126 bytes of payload",
            "failing the connection with 1002: control frames carry at most 125 bytes",
            ping_126,
        ),
        make(
            "ten-pings",
            "§5.5.3",
            "10 pings in one write",
            "pongs in order, at least for the most recent ping",
            ten_pings,
        ),
        make(
            "unsolicited-pong",
            "§5.5.3",
            "an unsolicited empty pong, then a text message",
            "ignoring the pong (no answer) and echoing the text",
            unsolicited_pong(b""),
        ),
        make(
            "unsolicited-pong-125",
            "§5.5.3",
            "an unsolicited pong with 125 bytes, then a text message",
            "ignoring the pong (no answer) and echoing the text",
            unsolicited_pong(b"p" * 125),
        ),
    ]
