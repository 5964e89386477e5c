"""Size limits (RFC 6455 §7.4.1 code 1009, §10.4): a message over the server's limit fails.

§10.4: "Implementations SHOULD impose implementation-specific limits on frame sizes and the
total message size after reassembly from multiple frames", and 1009 says "a message that
is too big for it to process". The limit is the server's own; the checker is told it
(``Options.max_message_size``, 1 MiB by default, like the ``websockets`` library).
"""

from __future__ import annotations

from .cases_framing import payload_of
from .expect import expect_fail_fast, expect_failure, expect_message
from .model import Case, CaseRun, Options, Verdict, case_maker
from .peer import Tester
from .wire import BINARY, CONTINUATION, build_frame

make = case_maker("limits")

PIECE = 65536


def at_limit(limit: int) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        payload = payload_of(BINARY, limit)
        await peer.send_frame(BINARY, payload)
        return await expect_message(peer, BINARY, payload)

    return run


def one_frame_over(limit: int) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send_frame(BINARY, payload_of(BINARY, limit + 1))
        return await expect_failure(peer, 1009)

    return run


def fragments_over(limit: int) -> CaseRun:
    """64 KiB fragments, none too big alone, that pass the limit before the final one."""

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        count = limit // PIECE + 1  # their sum is over the limit
        piece = payload_of(BINARY, PIECE)
        frames = [build_frame(BINARY if n == 0 else CONTINUATION, piece, fin=False) for n in range(count)]
        for frame in frames:
            if not await peer.send(frame):
                break
        return await expect_fail_fast(peer, 1009, [build_frame(CONTINUATION, b"end")])

    return run


def huge_header(limit: int) -> CaseRun:
    """A header announcing 4x the limit: the length alone tells the server to refuse it."""

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        size = 4 * limit
        payload = payload_of(BINARY, size)
        frame = build_frame(BINARY, payload)
        header_and_start = len(frame) - size + 1024
        await peer.send(frame[:header_and_start])
        return await expect_fail_fast(peer, 1009, [frame[header_and_start:]])

    return run


def cases(options: Options) -> list[Case]:
    limit = options.max_message_size
    if limit is None:
        return []
    too_big = f"failing the connection with 1009 (message too big): the limit is {limit} bytes"
    return [
        make(
            "at-limit",
            "§10.4",
            f"a binary message of exactly the limit, {limit} bytes",
            "an echo: the limit itself is allowed",
            at_limit(limit),
        ),
        make(
            "one-over",
            "§10.4",
            f"a binary message of {limit + 1} bytes in one frame",
            too_big,
            one_frame_over(limit),
        ),
        make(
            "fragments-over",
            "§10.4",
            f"64 KiB fragments that add up to more than {limit} bytes",
            too_big + ", as soon as the sum passes it",
            fragments_over(limit),
        ),
        make(
            "huge-frame-header",
            "§10.4",
            f"a frame header announcing {4 * limit} bytes, then only 1 KiB of payload",
            too_big + ", from the header alone, before the payload arrives",
            huge_header(limit),
        ),
    ]
