"""Ping and pong (RFC 6455 §5.5.2–§5.5.3): every ping answered with its payload, pongs ignored."""

from __future__ import annotations

from ..model import Grade, Options, Table, Verdict, failed, ok
from ..wire import PING, PONG, TEXT, build_frame
from .expect import expect_failure, expect_message, expect_pong
from .peer import CaseRun, Pong, ServerCase, Tester, describe


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


def cases(options: Options) -> list[ServerCase]:
    row = Table[CaseRun](
        "ping/pong", section="§5.5.2", requires="a pong with the same payload, as soon as practical"
    )
    ignored = "ignoring the pong (no answer) and echoing the text"
    return [
        row("empty", title="a ping with no payload", run=ping(b"")),
        row("text-125", title="a ping with 125 bytes of text", run=ping(b"*" * 125)),
        row("binary-125", title="a ping with 125 bytes 00..7c", run=ping(bytes(range(125)))),
        row(
            "chopped",
            title="a 125-byte ping written one byte at a time",
            run=ping(b"chopped" * 17 + b"ping..", piece=1),
        ),
        row(
            "payload-126",
            section="§5.5",
            title="a ping with 126 bytes of payload",
            requires="failing the connection with 1002: control frames carry at most 125 bytes",
            run=ping_126,
        ),
        row(
            "ten-pings",
            section="§5.5.3",
            title="10 pings in one write",
            requires="pongs in order, at least for the most recent ping",
            run=ten_pings,
        ),
        row(
            "unsolicited-pong",
            section="§5.5.3",
            title="an unsolicited empty pong, then a text message",
            requires=ignored,
            run=unsolicited_pong(b""),
        ),
        row(
            "unsolicited-pong-125",
            section="§5.5.3",
            title="an unsolicited pong with 125 bytes, then a text message",
            requires=ignored,
            run=unsolicited_pong(b"p" * 125),
        ),
    ]
