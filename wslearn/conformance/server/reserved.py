"""Reserved bits and reserved opcodes (RFC 6455 §5.2): without an extension, both fail.

"RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated that defines meanings for
non-zero values. If a nonzero value is received and none of the negotiated extensions
defines the meaning of such a nonzero value, the receiving endpoint MUST _Fail the
WebSocket Connection_." The same holds for the opcodes 0x3-0x7 and 0xB-0xF.
"""

from __future__ import annotations

from ..model import Grade, Options, Table, Verdict
from ..wire import BINARY, CLOSE, CONTINUATION, PING, TEXT, build_frame, close_payload
from .expect import expect_echo_then_failure, expect_failure, expect_message
from .peer import CaseRun, ServerCase, Tester

NO_MEANING = "failing the connection with 1002: no extension gives the bit a meaning"
bits = Table[CaseRun]("reserved bits", section="§5.2", requires=NO_MEANING)
opcodes = Table[CaseRun](
    "reserved opcodes",
    section="§5.2",
    requires="failing the connection with 1002: the opcode is reserved (§5.2)",
)

RSV_NAMES = {4: "RSV1", 2: "RSV2", 1: "RSV3"}


def rsv_name(rsv: int) -> str:
    return "+".join(name for bit, name in RSV_NAMES.items() if rsv & bit)


def bad_after_good(bad_frame: bytes, *, then_ping: bool = True) -> CaseRun:
    """A valid text (echoed), then the bad frame and a ping in one write.

    The connection must fail, and the ping, which follows the bad frame, must not be
    answered: §7.1.7 forbids processing data after the connection is failed.
    """

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send_frame(TEXT, b"before the bad frame")
        echo = await expect_message(peer, TEXT, b"before the bad frame")
        if echo.grade is not Grade.OK:
            return echo
        ping = build_frame(PING, b"after the bad frame") if then_ping else b""
        await peer.send(bad_frame + ping)
        return await expect_failure(peer, 1002)

    return run


def bad_behind_good(bad_frame: bytes) -> CaseRun:
    """A valid text, the bad frame and a ping, all in one write.

    The text was whole before the violation, so a strict server echoes it and only then
    fails the connection; one that fails first lost a valid message (NON-STRICT).
    """

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        text = b"whole before the bad frame"
        await peer.send(build_frame(TEXT, text) + bad_frame + build_frame(PING, b"after"))
        return await expect_echo_then_failure(peer, TEXT, text, 1002)

    return run


def bad_alone(*frames: bytes) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send(b"".join(frames))
        return await expect_failure(peer, 1002)

    return run


def bit_cases() -> list[ServerCase]:
    rows = [
        ("rsv1-text", 4, build_frame(TEXT, b"hello", rsv=4), False),
        ("rsv2-text", 2, build_frame(TEXT, b"hello", rsv=2), True),
        ("rsv3-text", 1, build_frame(TEXT, b"hello", rsv=1), True),
        ("rsv1-rsv2-binary", 6, build_frame(BINARY, bytes(range(8)), rsv=6), True),
        ("rsv1-rsv3-ping", 5, build_frame(PING, b"ping", rsv=5), True),
        ("rsv-all-close", 7, build_frame(CLOSE, close_payload(1000), rsv=7), True),
    ]
    found = []
    for name, rsv, frame, after_good in rows:
        kind = name.split("-")[-1]
        if after_good:
            title = f"a text, then a {kind} frame with {rsv_name(rsv)} set, then a ping"
            found.append(bits(name, title=title, run=bad_after_good(frame)))
        else:
            found.append(bits(name, title=f"a {kind} frame with {rsv_name(rsv)} set", run=bad_alone(frame)))
    start = build_frame(TEXT, b"frag", fin=False)
    found.append(
        bits(
            "rsv1-continuation",
            title="a fragmented text whose continuation frame has RSV1 set",
            run=bad_alone(start, build_frame(CONTINUATION, b"ment", rsv=4)),
        )
    )
    return found


def opcode_cases() -> list[ServerCase]:
    found = []
    for opcode in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
        payload = b"" if opcode % 2 else b"reserved"
        kind = "data" if opcode < 8 else "control"
        title = f"a text, then a frame with reserved {kind} opcode {opcode:#x}"
        title += f" ({len(payload)} bytes), then a ping"
        found.append(
            opcodes(f"opcode-{opcode}", title=title, run=bad_after_good(build_frame(opcode, payload)))
        )
    return found


def same_write_cases() -> list[ServerCase]:
    """Autobahn's way: the valid message and the bad frame arrive in one read."""
    requires = "echoing the text that came first, then failing the connection with 1002"
    rows = [
        (bits, "rsv2-text-same-write", "RSV2 set", build_frame(TEXT, b"hello", rsv=2)),
        (opcodes, "opcode-3-same-write", "reserved opcode 0x3", build_frame(3, b"")),
        (opcodes, "opcode-11-same-write", "reserved opcode 0xb", build_frame(11, b"")),
    ]
    return [
        table(
            name,
            title=f"a text, a frame with {what} and a ping in one write",
            requires=requires,
            run=bad_behind_good(frame),
        )
        for table, name, what, frame in rows
    ]


def cases(options: Options) -> list[ServerCase]:
    return bit_cases() + opcode_cases() + same_write_cases()
