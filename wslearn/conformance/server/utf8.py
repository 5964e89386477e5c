"""UTF-8 in text messages (RFC 6455 §5.6, §8.1): valid text echoed, invalid text fails with 1007.

"When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte stream is
not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_"
(§8.1), with 1007 (§7.4.1). Text is only valid UTF-8 as defined by RFC 3629: no overlong
forms, no surrogates (U+D800-U+DFFF), nothing above U+10FFFF.
"""

from __future__ import annotations

import asyncio
import itertools

from ..model import Options, Table, Verdict
from ..wire import CONTINUATION, TEXT, build_frame
from .expect import expect_fail_fast, expect_failure, expect_message
from .peer import CaseRun, ServerCase, Tester
from .sending import echo_fragmented, fragments

row = Table[CaseRun]("UTF-8", section="§8.1")

KOSME = "κόσμε".encode()  # Greek "world": 5 letters of 2 bytes each, CE or CF then a continuation

VALID = {
    "mixed": ("Latin-1 and ASCII", "Hello-µ@ßöäüàá-UTF-8!!".encode()),
    "greek": ("Greek, 2-byte sequences", KOSME),
    "one-byte-bounds": ("U+0000 and U+007F", b"\x00\x7f"),
    "two-byte-bounds": ("U+0080 and U+07FF", "\u0080\u07ff".encode()),
    "three-byte-bounds": (
        "U+0800, U+D7FF, U+E000, U+FFFD, U+FFFE, U+FFFF",
        "\u0800\ud7ff\ue000\ufffd\ufffe\uffff".encode(),
    ),
    "four-byte-bounds": ("U+10000, U+1F600 and U+10FFFF", "\U00010000😀\U0010ffff".encode()),
}

INVALID = {
    "lone-continuation": ("a lone continuation byte 80", b"ab\x80cd"),
    "byte-fe": ("the byte FE, never used in UTF-8", b"\xfe"),
    "byte-ff": ("the byte FF, never used in UTF-8", b"\xff"),
    "overlong-slash-2": ("'/' as an overlong 2-byte form C0 AF", b"\xc0\xaf"),
    "overlong-slash-3": ("'/' as an overlong 3-byte form E0 80 AF", b"\xe0\x80\xaf"),
    "overlong-slash-4": ("'/' as an overlong 4-byte form F0 80 80 AF", b"\xf0\x80\x80\xaf"),
    "overlong-nul": ("NUL as an overlong form C0 80", b"\xc0\x80"),
    "overlong-max-2": ("the largest overlong 2-byte form C1 BF", b"\xc1\xbf"),
    "overlong-max-3": ("the largest overlong 3-byte form E0 9F BF", b"\xe0\x9f\xbf"),
    "overlong-max-4": ("the largest overlong 4-byte form F0 8F BF BF", b"\xf0\x8f\xbf\xbf"),
    "surrogate-high": ("the surrogate U+D800 (ED A0 80)", b"\xed\xa0\x80"),
    "surrogate-low": ("the surrogate U+DFFF (ED BF BF)", b"\xed\xbf\xbf"),
    "surrogate-pair": ("a surrogate pair ED A0 80 ED B0 80 (CESU-8)", b"\xed\xa0\x80\xed\xb0\x80"),
    "above-max": ("U+110000 (F4 90 80 80), above U+10FFFF", b"\xf4\x90\x80\x80"),
    "lead-f5": ("the lead byte F5 (would start code points above U+10FFFF)", b"\xf5\x80\x80\x80"),
    "five-bytes": ("a 5-byte sequence F8 88 80 80 80", b"\xf8\x88\x80\x80\x80"),
    "six-bytes": ("a 6-byte sequence FC 84 80 80 80 80", b"\xfc\x84\x80\x80\x80\x80"),
    "truncated-2": ("a 2-byte sequence cut short at the end (CE)", KOSME[:-1]),
    "truncated-3": ("a 3-byte sequence cut short at the end (E2 82)", b"price \xe2\x82"),
    "truncated-4": ("a 4-byte sequence cut short at the end (F0 9F 98)", b"smile \xf0\x9f\x98"),
    "truncated-then-ascii": ("a 2-byte sequence cut short by 'A' (CE 41)", b"\xceA"),
    "inside-valid": ("a surrogate inside valid Greek", KOSME + b"\xed\xa0\x80edited"),
}


def echo_text(data: bytes) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send_frame(TEXT, data)
        return await expect_message(peer, TEXT, data)

    return run


def invalid_text(data: bytes) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send_frame(TEXT, data)
        return await expect_failure(peer, 1007)

    return run


def fail_fast(sent: list[bytes], rest: list[bytes]) -> CaseRun:
    """Send the fragments ``sent`` (they make the text invalid); keep ``rest`` for later."""

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send(
            b"".join(
                build_frame(TEXT if n == 0 else CONTINUATION, piece, fin=False)
                for n, piece in enumerate(sent)
            )
        )
        return await expect_fail_fast(peer, 1007, rest)

    return run


def fail_fast_in_one_frame(payload: bytes, cuts: list[int]) -> CaseRun:
    """One text frame sent in pieces, cut after ``cuts`` bytes of its payload; the bytes
    up to the last cut make the text invalid, the rest of the frame is kept for later."""

    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        frame = build_frame(TEXT, payload)
        header = len(frame) - len(payload)
        starts = [0, *(header + cut for cut in cuts)]
        for start, end in itertools.pairwise(starts):
            await peer.send(frame[start:end])
            await asyncio.sleep(0.05)  # separate reads
        return await expect_fail_fast(peer, 1007, [frame[starts[-1] :]])

    return run


def truncated_across_fragments() -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await t.connect()
        await peer.send(b"".join(fragments(TEXT, [KOSME[:-1], b""])))
        return await expect_failure(peer, 1007)

    return run


def valid_cases() -> list[ServerCase]:
    found = [
        row(
            name,
            section="§5.6",
            title=f"valid UTF-8 text: {what}",
            requires="an echo of the same text",
            run=echo_text(data),
        )
        for name, (what, data) in VALID.items()
    ]
    every_byte = [KOSME[n : n + 1] for n in range(len(KOSME))]
    smile = "😀".encode()
    found += [
        row(
            "split-every-byte",
            section="§5.6",
            title=f"valid Greek text in {len(KOSME)} fragments of 1 byte, splitting every character",
            requires="an echo: UTF-8 is checked over the whole message, not per frame",
            run=echo_fragmented(TEXT, every_byte),
        ),
        row(
            "split-4-byte",
            section="§5.6",
            title="the emoji U+1F600 (4 bytes) split over 3 fragments",
            requires="an echo: a character may span fragments",
            run=echo_fragmented(TEXT, [smile[:1], smile[1:3], smile[3:]]),
        ),
    ]
    return found


def invalid_cases() -> list[ServerCase]:
    requires = "failing the connection with 1007 (invalid frame payload data)"
    return [
        row(name, title=f"a text message with {what}", requires=requires, run=invalid_text(data))
        for name, (what, data) in INVALID.items()
    ]


def fail_fast_cases() -> list[ServerCase]:
    fast = "failing with 1007 as soon as the invalid bytes arrive, before the final fragment"
    in_frame = fast.replace("the final fragment", "the rest of the frame")
    last = build_frame(CONTINUATION, b"end")
    return [
        row(
            "fail-fast-first-fragment",
            title="a fragmented text whose first fragment holds C0 AF (overlong)",
            requires=fast,
            run=fail_fast([b"hello \xc0\xaf"], [last]),
        ),
        row(
            "fail-fast-second-fragment",
            title="valid Greek, then a fragment holding a surrogate, then the final fragment",
            requires=fast,
            run=fail_fast([KOSME, b"\xed\xa0\x80edited"], [last]),
        ),
        row(
            "fail-fast-above-max",
            title="a fragmented text starting F4 90 (above U+10FFFF)",
            requires=fast,
            run=fail_fast([b"\xf4\x90"], [build_frame(CONTINUATION, b"\x80\x80")]),
        ),
        row(
            "fail-fast-split-sequence",
            title="a fragment ending in CE (incomplete), then a fragment starting with 'A'",
            requires=fast + " (CE 41 is invalid once the 'A' arrives)",
            run=fail_fast([KOSME[:-1], b"A"], [last]),
        ),
        row(
            "fail-fast-inside-a-frame",
            title="one text frame in 3 writes: valid Greek, then a surrogate ED A0 80, then the rest",
            requires=in_frame,
            run=fail_fast_in_one_frame(
                KOSME + b"\xed\xa0\x80" + b"edited" * 20, [len(KOSME), len(KOSME) + 3]
            ),
        ),
        row(
            "fail-fast-inside-a-frame-split",
            title="one text frame in 3 writes: valid Greek and F4, then 90 (above U+10FFFF), then the rest",
            requires=in_frame,
            run=fail_fast_in_one_frame(
                KOSME + b"\xf4\x90\x80\x80" + b"edited" * 20, [len(KOSME) + 1, len(KOSME) + 2]
            ),
        ),
        row(
            "truncated-at-end-fragmented",
            title="a fragment ending in CE, then an empty final fragment",
            requires="failing with 1007: the message ends in the middle of a character",
            run=truncated_across_fragments(),
        ),
    ]


def cases(options: Options) -> list[ServerCase]:
    return valid_cases() + invalid_cases() + fail_fast_cases()
