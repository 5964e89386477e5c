"""Size limits (RFC 6455 §7.4.1 code 1009, §10.4): a message over the server's limit fails.

§10.4: "Implementations SHOULD impose implementation-specific limits on frame sizes and the
total message size after reassembly from multiple frames", and 1009 says "a message that
is too big for it to process". The limit is the server's own; the checker is told it
(``Options.max_message_size``, 1 MiB by default, like the ``websockets`` library).
"""

from __future__ import annotations

from ..model import Options, Table, Verdict
from ..wire import BINARY, CONTINUATION, build_frame
from .expect import expect_fail_fast, expect_failure, expect_message
from .peer import CaseRun, ServerCase, Tester
from .sending import payload_of

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


def cases(options: Options) -> list[ServerCase]:
    limit = options.max_message_size
    if limit is None:
        return []
    row = Table[CaseRun](
        "limits",
        section="§10.4",
        requires=f"failing the connection with 1009 (message too big): the limit is {limit} bytes",
    )
    return [
        row(
            "at-limit",
            title=f"a binary message of exactly the limit, {limit} bytes",
            requires="an echo: the limit itself is allowed",
            run=at_limit(limit),
        ),
        row(
            "one-over", title=f"a binary message of {limit + 1} bytes in one frame", run=one_frame_over(limit)
        ),
        row(
            "fragments-over",
            title=f"64 KiB fragments that add up to more than {limit} bytes",
            requires=row.requires + ", as soon as the sum passes it",
            run=fragments_over(limit),
        ),
        row(
            "huge-frame-header",
            title=f"a frame header announcing {4 * limit} bytes, then only 1 KiB of payload",
            requires=row.requires + ", from the header alone, before the payload arrives",
            run=huge_header(limit),
        ),
    ]
