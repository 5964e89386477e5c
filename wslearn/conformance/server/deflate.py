"""permessage-deflate (RFC 7692): negotiation, compressed echoes, and the rules of RSV1.

Graded only when the checker is told the server compresses (``Options.compression``,
``python -m wslearn check URL --compression``): compression is optional, and a server
that declines every offer is within its rights (RFC 7692 §5).

The checker offers the extension the way browsers do (``permessage-deflate;
client_max_window_bits``) and checks the answer as a client must (§7.1): then it sends
compressed messages, whole and in fragments, and expects them echoed (compressed or not,
§6.1 lets the server choose), and breaks the rules: RSV1 on a continuation or a control
frame (§6.1, 1002), text that is not UTF-8 once decompressed (1007), a few kilobytes that
inflate past the server's size limit (§8, 1009).
"""

from __future__ import annotations

import zlib

from ...deflate import EMPTY_BLOCK_TAIL, DeflateOffer
from ..model import Grade, Options, SetupFailed, Table, Verdict, failed, non_strict, ok
from ..wire import BINARY, CONTINUATION, PING, TEXT, build_frame
from .expect import expect_failure, expect_message, first_problem
from .peer import CaseRun, Peer, ServerCase, Tester

BROWSER_OFFER = "permessage-deflate; client_max_window_bits"  # what Chromium and Firefox send
OFFERS = (DeflateOffer(),)
RSV1 = 4

negotiation = Table[CaseRun]("deflate negotiation", section="RFC 7692 §5", id_prefix="deflate.negotiation")
messages = Table[CaseRun](
    "deflate messages",
    section="RFC 7692 §6",
    requires="an echo of the decompressed message (compressed or not, §6.1)",
    id_prefix="deflate.messages",
)
violations = Table[CaseRun]("deflate violations", section="RFC 7692 §6.1", id_prefix="deflate.violations")


async def compressing(t: Tester, offer: str = BROWSER_OFFER) -> Peer:
    """A connection on which the server accepted permessage-deflate."""
    peer = await t.connect(offer, OFFERS)
    if peer.deflate is None:
        raise SetupFailed(f"declined the offer {offer!r} (told to grade a compressing server)")
    return peer


def compressed_frames(peer: Peer, opcode: int, data: bytes, pieces: int = 1) -> list[bytes]:
    """One message compressed with the connection's context (§7.2.1), in ``pieces`` frames:
    RSV1 on the first frame only (§6.1)."""
    assert peer.deflate is not None
    encoder = peer.deflate.message_encoder()
    size = -(-len(data) // pieces) if data else 0
    chunks = [data[i * size : (i + 1) * size] for i in range(pieces)]
    frames = []
    for number, chunk in enumerate(chunks):
        last = number == pieces - 1
        payload = encoder.encode(chunk, fin=last)
        first = number == 0
        frames.append(
            build_frame(opcode if first else CONTINUATION, payload, fin=last, rsv=RSV1 if first else 0)
        )
    return frames


def raw_deflate(data: bytes) -> bytes:
    """``data`` compressed alone, as the payload of one message (§7.2.1)."""
    compressor = zlib.compressobj(wbits=-15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return out[: -len(EMPTY_BLOCK_TAIL)]


# --- negotiation (RFC 7692 §5, §7.1) ----------------------------------------------------------


async def accepts_browser_offer(t: Tester) -> Verdict:
    peer = await t.connect(BROWSER_OFFER, OFFERS)
    answer = ", ".join(peer.answer.get_all("Sec-WebSocket-Extensions")) if peer.answer else ""
    if peer.deflate is None:
        return failed("declined the offer: no Sec-WebSocket-Extensions in its 101 response")
    return ok(f"accepted with Sec-WebSocket-Extensions: {answer}")


def declines(offer: str, why: str) -> CaseRun:
    """An offer the server must decline (§7: unknown parameter, bad value, twice)."""

    async def run(t: Tester) -> Verdict:
        try:
            peer = await t.connect(offer, OFFERS)
        except SetupFailed as exc:
            if "answered the offer" in exc.did:
                return failed(exc.did)
            return non_strict(f"refused the handshake ({exc.did}) instead of declining the offer")
        if peer.deflate is not None:
            return failed(f"accepted an offer with {why}")
        await peer.send_frame(TEXT, b"uncompressed")
        echo = await expect_message(peer, TEXT, b"uncompressed")
        if echo.grade is not Grade.OK:
            return echo
        return ok(f"declined the offer ({why}) and went on without compression")

    return run


async def first_acceptable_offer(t: Tester) -> Verdict:
    """§5: the server accepts the first offer it can honour; the first here is invalid."""
    offer = "permessage-deflate; server_max_window_bits=7, permessage-deflate"
    peer = await t.connect(offer, OFFERS)
    if peer.deflate is None:
        return failed("declined both offers, though the second is plain permessage-deflate")
    return ok("skipped the invalid first offer and accepted the second")


def parameter_honoured(offer: DeflateOffer, what: str) -> CaseRun:
    """An offer with a parameter the server must answer (or decline the offer)."""

    async def run(t: Tester) -> Verdict:
        try:
            peer = await t.connect(str(offer), (offer,))
        except SetupFailed as exc:
            return failed(exc.did)
        if peer.deflate is None:
            return non_strict(f"declined an offer with {what} (allowed, but the offer is valid)")
        answer = ", ".join(peer.answer.get_all("Sec-WebSocket-Extensions")) if peer.answer else ""
        frames = compressed_frames(peer, TEXT, b"a parameter was agreed " * 20)
        await peer.send(b"".join(frames))
        echo = await expect_message(peer, TEXT, b"a parameter was agreed " * 20)
        if echo.grade is not Grade.OK:
            return echo
        return ok(f"answered {answer} and echoed a compressed message")

    return run


async def declines_for_an_uncompressed_client(t: Tester) -> Verdict:
    """No offer, no extension: the server must not answer with one (RFC 6455 §9.1)."""
    peer = await t.connect()  # fails SetupFailed if the answer has Sec-WebSocket-Extensions
    frame = build_frame(TEXT, b"no compression here")
    await peer.send(frame)
    return await expect_message(peer, TEXT, b"no compression here")


# --- compressed messages (RFC 7692 §6, §7.2) ----------------------------------------------


def compressed_echo(opcode: int, data: bytes, pieces: int = 1, repeat: int = 1) -> CaseRun:
    async def run(t: Tester) -> Verdict:
        peer = await compressing(t)
        verdicts = []
        for _ in range(repeat):  # context takeover: each message may refer to the one before
            await peer.send(b"".join(compressed_frames(peer, opcode, data, pieces)))
            verdicts.append(await expect_message(peer, opcode, data))
            if verdicts[-1].grade is not Grade.OK:
                break
        return first_problem(*verdicts)

    return run


async def uncompressed_message(t: Tester) -> Verdict:
    """§6.2: a message whose first frame has RSV1 clear is not compressed."""
    peer = await compressing(t)
    await peer.send_frame(TEXT, b"sent without compression")
    return await expect_message(peer, TEXT, b"sent without compression")


async def empty_message(t: Tester) -> Verdict:
    peer = await compressing(t)
    await peer.send(b"".join(compressed_frames(peer, BINARY, b"")))
    return await expect_message(peer, BINARY, b"")


# --- violations ---------------------------------------------------------------------------


async def rsv1_on_continuation(t: Tester) -> Verdict:
    peer = await compressing(t)
    payload = raw_deflate(b"RSV1 belongs on the first frame only")
    await peer.send(build_frame(TEXT, payload[:4], fin=False, rsv=RSV1))
    await peer.send(build_frame(CONTINUATION, payload[4:], rsv=RSV1))
    return await expect_failure(peer, 1002)


async def rsv1_on_ping(t: Tester) -> Verdict:
    peer = await compressing(t)
    await peer.send(build_frame(PING, b"control frames are never compressed", rsv=RSV1))
    return await expect_failure(peer, 1002)


async def invalid_utf8_inside(t: Tester) -> Verdict:
    peer = await compressing(t)
    await peer.send(build_frame(TEXT, raw_deflate(b"valid, then \xff\xfe"), rsv=RSV1))
    return await expect_failure(peer, 1007)


async def not_deflate(t: Tester) -> Verdict:
    peer = await compressing(t)
    await peer.send(build_frame(BINARY, b"\xff\xff\xff\xff not DEFLATE", rsv=RSV1))
    return await expect_failure(peer, 1002)


def bomb(limit: int) -> CaseRun:
    """A frame far smaller than the limit that inflates to 64 times it (§8)."""

    async def run(t: Tester) -> Verdict:
        peer = await compressing(t)
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = compressor.compress(bytes(limit)) + compressor.flush(zlib.Z_FULL_FLUSH)
        payload = chunk * 64
        await peer.send(build_frame(BINARY, payload, rsv=RSV1))
        return await expect_failure(peer, 1009)

    return run


def cases(options: Options) -> list[ServerCase]:
    if not options.compression:
        return []
    found = [
        negotiation(
            "browser-offer",
            title=f"the offer {BROWSER_OFFER!r}",
            requires="accepting it with a valid response (§7.1)",
            run=accepts_browser_offer,
        ),
        negotiation(
            "no-offer",
            title="no Sec-WebSocket-Extensions in the request",
            requires="no extension in the response: only what was offered can be agreed (RFC 6455 §9.1)",
            run=declines_for_an_uncompressed_client,
        ),
        negotiation(
            "first-acceptable",
            title="an invalid offer (server_max_window_bits=7), then a plain one",
            requires="accepting the second offer (§5: the first acceptable one)",
            run=first_acceptable_offer,
        ),
    ]
    for name, offer, why in [
        ("unknown-parameter", "permessage-deflate; x-unknown=1", "an unknown parameter"),
        ("bad-window-bits", "permessage-deflate; client_max_window_bits=16", "client_max_window_bits=16"),
        (
            "parameter-twice",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "a parameter twice",
        ),
    ]:
        found.append(
            negotiation(
                name,
                title=f"the offer {offer!r} alone",
                requires="declining it (no extension in the 101 response) and serving the client (§7)",
                run=declines(offer, why),
            )
        )
    for name, parameter, what in [
        (
            "server-no-context-takeover",
            DeflateOffer(server_no_context_takeover=True),
            "server_no_context_takeover",
        ),
        ("server-max-window-bits", DeflateOffer(server_max_window_bits=10), "server_max_window_bits=10"),
        ("client-max-window-bits", DeflateOffer(client_max_window_bits=9), "client_max_window_bits=9"),
    ]:
        found.append(
            negotiation(
                name,
                title=f"the offer {str(parameter)!r}",
                requires=f"answering {what} as §7.1 requires, then a compressed echo",
                run=parameter_honoured(parameter, what),
            )
        )
    text = b"A compressed message, decompressed by the server. " * 40
    found += [
        messages(
            "text", title=f"a compressed {len(text)}-byte text in one frame", run=compressed_echo(TEXT, text)
        ),
        messages(
            "binary-fragmented",
            title="a compressed 3000-byte binary message in 3 frames (RSV1 on the first)",
            run=compressed_echo(BINARY, bytes(range(250)) * 12, pieces=3),
        ),
        messages(
            "context-takeover",
            title="the same compressed text 5 times, each referring back to the one before (§7.1.1)",
            run=compressed_echo(TEXT, text, repeat=5),
        ),
        messages("empty", title="an empty compressed binary message", run=empty_message),
        messages(
            "uncompressed",
            title="a text with RSV1 clear on a compressing connection",
            requires="an echo: RSV1 clear means not compressed (§6.2)",
            run=uncompressed_message,
        ),
        violations(
            "rsv1-continuation",
            title="a compressed text whose continuation frame also has RSV1 set",
            requires="failing the connection with 1002: RSV1 is for the first frame only (§6.1)",
            run=rsv1_on_continuation,
        ),
        violations(
            "rsv1-ping",
            title="a ping with RSV1 set",
            requires="failing the connection with 1002: control frames are never compressed (§6.1)",
            run=rsv1_on_ping,
        ),
        violations(
            "invalid-utf8",
            title="a compressed text that is not UTF-8 once decompressed",
            section="RFC 6455 §8.1",
            requires="failing the connection with 1007 (invalid UTF-8 after decompression)",
            run=invalid_utf8_inside,
        ),
        violations(
            "not-deflate",
            title="RSV1 set on bytes that are not DEFLATE data",
            section="RFC 7692 §7.2.2",
            requires="failing the connection with 1002",
            run=not_deflate,
        ),
    ]
    if options.max_message_size is not None:
        limit = options.max_message_size
        found.append(
            violations(
                "bomb",
                title=f"a compressed frame of a few KB that inflates to {64 * limit} bytes",
                section="RFC 7692 §8",
                requires="failing the connection with 1009: the decompressed message passes"
                f" the limit of {limit} bytes",
                run=bomb(limit),
            )
        )
    return found
