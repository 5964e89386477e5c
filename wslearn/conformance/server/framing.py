"""Framing (RFC 6455 §5.1–§5.2): payload lengths at every encoding boundary, chopped writes."""

from __future__ import annotations

from ..model import Grade, Options, Table, Verdict, ok
from ..wire import BINARY, TEXT, build_frame, opcode_name
from .expect import expect_failure, expect_message
from .peer import CaseRun, ServerCase, Tester
from .sending import payload_of

# §5.2: lengths up to 125 fit in 7 bits, 126..65535 take a 16-bit field, more a 64-bit one.
TEXT_SIZES = (0, 125, 126, 127, 65535, 65536)
BINARY_SIZES = (0, 1, 125, 126, 127, 128, 65535, 65536, 65537, 2**18)
BIG_SIZES = (2**22, 2**24)  # 4 and 16 MiB, when the server's limit allows them


def echo(opcode: int, size: int) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        payload = payload_of(opcode, size)
        await peer.send_frame(opcode, payload)
        return await expect_message(peer, opcode, payload)

    return run


def echo_chopped(size: int, piece: int, header_only: bool = False) -> CaseRun:
    """One frame written in pieces of ``piece`` bytes (only its header, if ``header_only``)."""

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        payload = payload_of(BINARY, size)
        frame = build_frame(BINARY, payload)
        cut = len(frame) - len(payload) if header_only else len(frame)
        await peer.raw.send_chopped(frame[:cut], piece, pause=0.001 if header_only else 0)
        await peer.send(frame[cut:])
        return await expect_message(peer, BINARY, payload)

    return run


def echo_many_in_one_write(count: int) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        texts = [f"message {n} of {count}".encode() for n in range(count)]
        await peer.send(b"".join(build_frame(TEXT, text) for text in texts))
        for text in texts:
            verdict = await expect_message(peer, TEXT, text)
            if verdict.grade is not Grade.OK:
                return verdict
        return ok(f"echoed all {count} messages, in order")

    return run


async def zero_mask(t: Tester) -> Verdict:
    peer = await t.connect()
    await peer.send_frame(TEXT, b"masked with 00 00 00 00", key=b"\0\0\0\0")
    return await expect_message(peer, TEXT, b"masked with 00 00 00 00")


async def unmasked(t: Tester) -> Verdict:
    peer = await t.connect()
    await peer.send(build_frame(TEXT, b"not masked", masked=False))
    return await expect_failure(peer, 1002)


async def length_top_bit(t: Tester) -> Verdict:
    peer = await t.connect()
    header = build_frame(BINARY, b"", length=2**63 + 5)
    await peer.send(header + b"12345")
    return await expect_failure(peer, 1002)


def fits(size: int, limit: int | None) -> bool:
    """Sizes up to the server's stated limit; multi-MiB ones only when a limit allows them."""
    if limit is None:
        return size not in BIG_SIZES
    return size <= limit


def cases(options: Options) -> list[ServerCase]:
    row = Table[CaseRun]("framing", section="§5.2")
    chopped = "an echo: TCP may split a frame anywhere"
    found = [
        row(
            f"{opcode_name(opcode)}-{size}",
            title=f"a {size}-byte {opcode_name(opcode)} message in one frame",
            requires="an echo of the same message",
            run=echo(opcode, size),
        )
        for opcode, sizes in ((TEXT, TEXT_SIZES), (BINARY, BINARY_SIZES + BIG_SIZES))
        for size in sizes
        if fits(size, options.max_message_size)
    ]
    found += [
        row(
            "chopped-header",
            title="a 300-byte frame whose header arrives one byte per write",
            requires=chopped,
            run=echo_chopped(300, 1, header_only=True),
        ),
        row(
            "chopped-bytes",
            title="a 256-byte frame written one byte at a time",
            requires=chopped,
            run=echo_chopped(256, 1),
        ),
        row(
            "chopped-64k",
            title="a 65536-byte frame written in pieces of 997 bytes",
            requires=chopped,
            run=echo_chopped(65536, 997),
        ),
        row(
            "two-in-one-write",
            title="two text frames in one TCP write",
            requires="two echoes, in order",
            run=echo_many_in_one_write(2),
        ),
        row(
            "hundred-in-one-write",
            title="100 text frames in one TCP write",
            requires="100 echoes, in order",
            run=echo_many_in_one_write(100),
        ),
        row(
            "zero-masking-key",
            section="§5.3",
            title="a text frame masked with the key 00 00 00 00",
            requires="an echo: any 32-bit value is a valid masking key",
            run=zero_mask,
        ),
        row(
            "unmasked-client-frame",
            section="§5.1",
            title="a text frame without a mask",
            requires="failing the connection, ideally with 1002 (a server MUST close on unmasked frames)",
            run=unmasked,
        ),
        row(
            "length-top-bit-set",
            title="a frame whose 64-bit length has its most significant bit set",
            requires="failing the connection with 1002 (the top bit MUST be 0)",
            run=length_top_bit,
        ),
    ]
    return found
