"""What several categories send: payloads of any size, and messages in fragments (§5.4)."""

from __future__ import annotations

from ..model import Verdict
from ..wire import CONTINUATION, TEXT, build_frame
from .expect import expect_message
from .peer import CaseRun, Tester


def payload_of(opcode: int, size: int) -> bytes:
    """``size`` bytes: printable ASCII for text, every byte value for binary."""
    pattern = b"wslearn-echo-" if opcode == TEXT else bytes(range(256))
    return (pattern * (size // len(pattern) + 1))[:size]


def fragments(opcode: int, pieces: list[bytes]) -> list[bytes]:
    """The frames of one message: the first has ``opcode``, the rest are continuations."""
    last = len(pieces) - 1
    return [
        build_frame(opcode if n == 0 else CONTINUATION, piece, fin=n == last)
        for n, piece in enumerate(pieces)
    ]


def echo_fragmented(opcode: int, pieces: list[bytes], piece_size: int | None = None) -> CaseRun:
    """The message in fragments (written in pieces of ``piece_size`` bytes if given) must be
    echoed whole."""

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        data = b"".join(fragments(opcode, pieces))
        if piece_size:
            await peer.raw.send_chopped(data, piece_size)
        else:
            await peer.send(data)
        return await expect_message(peer, opcode, b"".join(pieces))

    return run
