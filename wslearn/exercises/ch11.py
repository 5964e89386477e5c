"""Chapter 11, permessage-deflate (RFC 7692): the payload of a compressed message, RSV1, an offer.

* ``11.deflate_payload`` — compress a message the way a sender does: raw DEFLATE, a sync
  flush, and the four octets 0x00 0x00 0xff 0xff removed (RFC 7692 §7.2.1);
* ``11.inflate_payload`` — the receiver's side: put the four octets back and decompress
  with raw DEFLATE (§7.2.2);
* ``11.rsv1_verdict`` — is this sequence of frames allowed on a connection, with or without
  permessage-deflate, or does the receiver close with 1002 (§6.1, RFC 6455 §5.2)?
* ``11.answer_offer`` — a server's answer to an offer, for four servers with different needs
  (§7.1).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from wslearn.deflate import DeflateOffer, DeflateParameters, check_response, parse_extensions
from wslearn.i18n import N_

from .core import Case, Exercise, Mistake, Question, register, register_quiz

#: RFC 7692 §7.2.1: the empty stored block a sync flush ends with.
TAIL = b"\x00\x00\xff\xff"
#: RFC 7692 §7.2.3.1: "Hello", compressed, as the RFC's own example shows it.
RFC_HELLO = bytes.fromhex("f2 48 cd c9 c9 07 00")

# --- 11.deflate_payload: what a sender puts in the frame ----------------------------------


def deflate_payload(message: bytes) -> bytes:
    """The payload of a compressed message, RSV1 set on its frame (RFC 7692 §7.2.1).

    Raw DEFLATE (negative wbits: no zlib header, no checksum), ended with a sync flush,
    whose last four octets 0x00 0x00 0xff 0xff are removed.
    """
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    data = compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return data.removesuffix(TAIL)


def _inflates_to(payload: bytes) -> bytes | None:
    """What a receiver makes of ``payload``, or None when it is not a message that keeps the
    stream open: invalid DEFLATE, or a stream ended with a final block (the next message
    could not go on from it)."""
    try:
        decompressor = zlib.decompressobj(-15)
        message = decompressor.decompress(bytes(payload) + TAIL)
    except (zlib.error, TypeError):
        return None
    return None if decompressor.eof else message


def _deflate_compare(expected: Any, got: Any) -> bool:
    # Any valid compression passes (another level, another zlib): the receiver's view decides.
    return (
        isinstance(got, (bytes, bytearray))
        and not bytes(got).endswith(TAIL)
        and _inflates_to(bytes(got)) == _inflates_to(expected)
    )


_ZLIB_HEADER = N_(
    "this starts with a zlib header (0x78 …) and ends with a checksum: permessage-deflate sends raw"
    " DEFLATE, zlib.compressobj(wbits=-15) (RFC 7692 §7.2.1)"
)
_TAIL_LEFT = N_(
    "the payload still ends with 00 00 ff ff: the sender removes these four octets (RFC 7692 §7.2.1)"
)
_NOT_DEFLATE = N_("a receiver cannot decompress this: compress with zlib.compressobj(wbits=-15), then flush")
_SYNC = N_(
    "flush with zlib.Z_SYNC_FLUSH: it ends the data with 00 00 ff ff, the four octets to remove;"
    " Z_FINISH ends the stream instead"
)


def _deflate_diagnose(case: Case, got: Any) -> str | None:
    if not isinstance(got, (bytes, bytearray)):
        return None
    data = bytes(got)
    if data[:1] == b"\x78" and _inflates_to(data) is None:
        try:
            zlib.decompress(data)
            return _ZLIB_HEADER
        except zlib.error:
            pass
    if data.endswith(TAIL):
        return _TAIL_LEFT
    if _inflates_to(data) is None:
        try:  # a stream ended with Z_FINISH decompresses without the tail
            zlib.decompress(data, -15)
            return _SYNC
        except zlib.error:
            return _NOT_DEFLATE
    return None


_DEFLATE_CASES = (
    Case((b"Hello",), RFC_HELLO, label="b'Hello' (the example of RFC 7692 §7.2.3.1)"),
    Case((b"Hello, Hello, Hello, Hello!",), deflate_payload(b"Hello, Hello, Hello, Hello!")),
    Case(
        (b'{"user": "alice", "text": "hi"}' * 20,),
        deflate_payload(b'{"user": "alice", "text": "hi"}' * 20),
        label="a 620-byte chat history",
    ),
    Case((bytes(range(256)),), deflate_payload(bytes(range(256))), label="256 bytes that do not compress"),
    Case((b"",), deflate_payload(b""), label="an empty message"),
)


def _with_tail(message: bytes) -> bytes:  # mistake: forgets to remove the four octets
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _zlib_compress(message: bytes) -> bytes:  # mistake: zlib's own format, header and checksum
    return zlib.compress(message).removesuffix(TAIL)


def _finish(message: bytes) -> bytes:  # mistake: Z_FINISH, so there is no tail to remove
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return (compressor.compress(message) + compressor.flush(zlib.Z_FINISH)).removesuffix(TAIL)


register(
    Exercise(
        id="11.deflate_payload",
        title="The payload of a compressed message",
        signature="deflate_payload(message: bytes) -> bytes",
        reference=deflate_payload,
        rfc="§5.2",
        cases=_DEFLATE_CASES,
        compare=_deflate_compare,
        diagnose=_deflate_diagnose,
        mistakes=(
            Mistake("tail left on", _with_tail, "removes these four octets"),
            Mistake("zlib.compress", _zlib_compress, "zlib header"),
            Mistake("Z_FINISH", _finish, "Z_SYNC_FLUSH"),
        ),
        explanation="Any compression the receiver can undo is right: the cases decompress what you"
        " return, as a receiver would.",
    )
)


# --- 11.inflate_payload: what a receiver does with it ---------------------------------------


def inflate_payload(payload: bytes) -> bytes:
    """The message a compressed payload holds: append the four octets, then raw inflate (§7.2.2)."""
    return zlib.decompressobj(wbits=-15).decompress(payload + TAIL)


_INFLATE_CASES = (
    Case((RFC_HELLO,), b"Hello", label="f2 48 cd c9 c9 07 00 (RFC 7692 §7.2.3.1)"),
    Case(
        (bytes.fromhex("f2 48 05 00 00 00 ff ff ca c9 c9 07 00"),),
        b"Hello",
        label="'Hello' in two DEFLATE blocks (RFC 7692 §7.2.3.5)",
    ),
    Case(
        (bytes.fromhex("00 05 00 fa ff 48 65 6c 6c 6f 00"),),
        b"Hello",
        label="'Hello' in a stored block (§7.2.3.3)",
    ),
    Case(
        (deflate_payload(b'{"user": "alice", "text": "hi"}' * 20),),
        b'{"user": "alice", "text": "hi"}' * 20,
        label="a 620-byte chat history",
    ),
    Case((deflate_payload("你好，WebSocket".encode()),), "你好，WebSocket".encode(), label="UTF-8 text"),
)

_NO_TAIL = N_(
    "put the four octets 00 00 ff ff back at the end before decompressing: the sender removed them"
    " (RFC 7692 §7.2.2)"
)
_HEADER_CHECK = N_(
    "'incorrect header check': zlib looked for its own header; the payload is raw DEFLATE, so"
    " decompress with wbits=-15"
)


def _inflate_diagnose(case: Case, got: Any) -> str | None:
    if isinstance(got, zlib.error):
        text = str(got)
        if "header" in text:
            return _HEADER_CHECK
        if "incomplete" in text or "truncated" in text:
            return _NO_TAIL
    return None


def _no_tail(payload: bytes) -> bytes:  # mistake: the one-shot function, without the four octets
    return zlib.decompress(payload, -15)


def _zlib_format(payload: bytes) -> bytes:  # mistake: zlib's default format, wbits=15
    return zlib.decompress(payload + TAIL)


register(
    Exercise(
        id="11.inflate_payload",
        title="Decompress a received message",
        signature="inflate_payload(payload: bytes) -> bytes",
        reference=inflate_payload,
        rfc="§5.2",
        cases=_INFLATE_CASES,
        diagnose=_inflate_diagnose,
        mistakes=(
            Mistake("no tail", _no_tail, "put the four octets 00 00 ff ff back"),
            Mistake("zlib format", _zlib_format, "wbits=-15"),
        ),
    )
)


# --- 11.rsv1_verdict: where RSV1 may be set ---------------------------------------------------

CONTROL = ("PING", "PONG", "CLOSE")
Frames = Sequence[tuple[str, bool, bool]]  # (opcode name, FIN, RSV1), in order


def rsv1_verdict(frames: Frames, negotiated: bool) -> int | None:
    """None if every frame may carry its RSV1 bit; 1002 if one may not.

    With permessage-deflate negotiated, RSV1 marks a compressed message and is set on the
    first frame of a message only: never on a continuation frame nor a control frame
    (RFC 7692 §6.1). A message may also go uncompressed (RSV1 clear, §6.1). Without an
    extension that defines it, RSV1 must be 0 (RFC 6455 §5.2).
    """
    for opcode, _fin, rsv1 in frames:
        if rsv1 and (not negotiated or opcode in CONTROL or opcode == "CONTINUATION"):
            return 1002
    return None


_RSV_CASES = [
    ([("TEXT", True, True)], True, None, N_("a compressed message in one frame: RSV1 on its only frame")),
    (
        [("TEXT", False, True), ("CONTINUATION", False, False), ("CONTINUATION", True, False)],
        True,
        None,
        N_("a compressed message in three frames: RSV1 on the first one only"),
    ),
    (
        [("TEXT", True, False)],
        True,
        None,
        N_("a message sent uncompressed: RSV1 clear is allowed (RFC 7692 §6.1)"),
    ),
    (
        [("BINARY", True, True), ("TEXT", True, False), ("TEXT", True, True)],
        True,
        None,
        N_("compressed, uncompressed, compressed: each message decides for itself"),
    ),
    (
        [("TEXT", False, True), ("PING", True, False), ("CONTINUATION", True, False)],
        True,
        None,
        N_("a Ping between the fragments of a compressed message"),
    ),
    (
        [("TEXT", False, True), ("CONTINUATION", True, True)],
        True,
        1002,
        N_("RSV1 on a continuation frame: only the first frame of a message carries it (RFC 7692 §6.1)"),
    ),
    (
        [("PING", True, True)],
        True,
        1002,
        N_("RSV1 on a Ping: control frames are never compressed (RFC 7692 §6.1)"),
    ),
    (
        [("TEXT", False, True), ("CLOSE", True, True)],
        True,
        1002,
        N_("RSV1 on a Close: control frames are never compressed (RFC 7692 §6.1)"),
    ),
    (
        [("TEXT", True, True)],
        False,
        1002,
        N_("RSV1 without a negotiated extension: it must be 0 (RFC 6455 §5.2)"),
    ),
    (
        [("TEXT", True, False), ("PING", True, False)],
        False,
        None,
        N_("no extension, no RSV1: an ordinary connection"),
    ),
]

_RSV_LABELS = {
    True: "permessage-deflate negotiated",
    False: "no extension negotiated",
}


def _frames_label(frames: Frames, negotiated: bool) -> str:
    shown = ", ".join(
        f"{opcode}{'' if fin else ' FIN=0'}{' RSV1' if rsv1 else ''}" for opcode, fin, rsv1 in frames
    )
    return f"{_RSV_LABELS[negotiated]}: {shown}"


def _allow_continuation(
    frames: Frames, negotiated: bool
) -> int | None:  # mistake: RSV1 anywhere in a message
    for opcode, _fin, rsv1 in frames:
        if rsv1 and (not negotiated or opcode in CONTROL):
            return 1002
    return None


def _allow_control(frames: Frames, negotiated: bool) -> int | None:  # mistake: control frames too
    for opcode, _fin, rsv1 in frames:
        if rsv1 and (not negotiated or opcode == "CONTINUATION"):
            return 1002
    return None


def _every_message_compressed(frames: Frames, negotiated: bool) -> int | None:  # mistake: RSV1 required
    for opcode, _fin, rsv1 in frames:
        if negotiated and opcode in ("TEXT", "BINARY") and not rsv1:
            return 1002
    return rsv1_verdict(frames, negotiated)


def _ignores_negotiation(frames: Frames, negotiated: bool) -> int | None:  # mistake: always allowed
    return rsv1_verdict(frames, True)


def _rsv1_diagnose(case: Case, got: Any) -> str | None:
    # None is a valid answer here ("no close"): say why this sequence gets 1002 instead.
    if got is None and case.expected == 1002:
        return case.hint
    return None


register(
    Exercise(
        id="11.rsv1_verdict",
        title="Where RSV1 may be set",
        signature="rsv1_verdict(frames: list[tuple[str, bool, bool]], negotiated: bool) -> int | None",
        reference=rsv1_verdict,
        rfc="§5.2",
        diagnose=_rsv1_diagnose,
        cases=tuple(
            Case((frames, negotiated), expected, label=_frames_label(frames, negotiated), hint=hint)
            for frames, negotiated, expected, hint in _RSV_CASES
        ),
        mistakes=(
            Mistake("RSV1 on any frame of a message", _allow_continuation, "RSV1 on a continuation frame"),
            Mistake("RSV1 on control frames", _allow_control, "control frames are never compressed"),
            Mistake("every message must be compressed", _every_message_compressed, "RSV1 clear is allowed"),
            Mistake("negotiation ignored", _ignores_negotiation, "without a negotiated extension"),
        ),
    )
)


# --- 11.answer_offer: a server's answer, for four servers --------------------------------------

CHROME = "permessage-deflate; client_max_window_bits"
FIREFOX = "permessage-deflate"

#: What each server wants, and the offer it receives.
SERVERS = {
    "plain": (CHROME, N_("Chrome's offer; a server with memory to spare: compression with the defaults")),
    "small": (
        CHROME,
        N_("Chrome's offer; a server with 100,000 connections: windows of at most 2**10 bytes, both ways"),
    ),
    "small-firefox": (
        FIREFOX,
        N_(
            "Firefox's offer (no client_max_window_bits); the same server: its own window at most 2**10 bytes"
        ),
    ),
    "secret": (
        CHROME,
        N_("Chrome's offer; a server whose messages put a user's token beside text another user wrote"),
    ),
}

ANSWERS: dict[str, str | None] = {
    "plain": "permessage-deflate",
    "small": "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10",
    "small-firefox": "permessage-deflate; server_max_window_bits=10",
    "secret": None,
}

_ANSWER_HINTS = {
    "plain": N_(
        "accept the offer as it is: the response 'permessage-deflate' agrees on 15-bit windows both ways"
    ),
    "small": N_(
        "the server sets its own window with server_max_window_bits=10, and may answer"
        " client_max_window_bits=10 because the offer has client_max_window_bits (RFC 7692 §7.1.2)"
    ),
    "small-firefox": N_(
        "the offer has no client_max_window_bits, so the response may not have it either: the client would"
        " fail the connection (RFC 7692 §7.1.2.2). Limit the server's own window only"
    ),
    "secret": N_(
        "a secret compressed beside text an attacker chooses leaks through the compressed length (CRIME):"
        " decline the offer, answer None (no Sec-WebSocket-Extensions in the response)"
    ),
}


def _agreed(offer: str, answer: Any) -> DeflateParameters | str | None:
    """The parameters a client derives from ``answer``; None for no extension; an error text."""
    if answer is None:
        return None
    if not isinstance(answer, str):
        return "not a string"
    try:
        sent = DeflateOffer(client_max_window_bits=True if "client_max_window_bits" in offer else None)
        return check_response([answer], [sent])
    except Exception as error:  # HandshakeError or ValueError: the client fails the connection
        return f"refused: {error}"


def _answer_compare(expected: Any, got: Any) -> bool:
    offer, _why = SERVERS[expected]
    agreed = _agreed(offer, got)
    if expected == "secret":
        return got is None
    if agreed is None or isinstance(agreed, str):
        return False
    if expected == "plain":
        return (
            agreed.server_max_window_bits == 15
            and agreed.client_max_window_bits == 15
            and not (agreed.server_no_context_takeover or agreed.client_no_context_takeover)
        )
    return agreed.server_max_window_bits <= 10 and (
        expected != "small" or agreed.client_max_window_bits <= 10
    )


def _answer_diagnose(case: Case, got: Any) -> str | None:
    if isinstance(got, str):
        try:
            names = [extension.name for extension in parse_extensions([got])]
        except ValueError:
            return N_("this is not a Sec-WebSocket-Extensions value: 'permessage-deflate; name=value; …'")
        if names != ["permessage-deflate"]:
            return N_("answer with exactly one extension, permessage-deflate, and its parameters")
    return _ANSWER_HINTS[case.expected]


register(
    Exercise(
        id="11.answer_offer",
        title="Answer an offer of permessage-deflate",
        signature="a dict: 'plain', 'small', 'small-firefox', 'secret' -> the response's"
        " Sec-WebSocket-Extensions (a str), or None to decline",
        reference=dict(ANSWERS),
        kind="value",
        rfc="§9.1",
        cases=tuple(Case((key,), key, label=SERVERS[key][1], hint=_ANSWER_HINTS[key]) for key in SERVERS),
        compare=_answer_compare,
        diagnose=_answer_diagnose,
        hide_expected=True,
        mistakes=(
            Mistake(
                "client_max_window_bits to Firefox",
                {**ANSWERS, "small-firefox": ANSWERS["small"]},
                "may not have it either",
            ),
            Mistake("compress the secrets too", {**ANSWERS, "secret": "permessage-deflate"}, "CRIME"),
            Mistake(
                "only the server's window",
                {**ANSWERS, "small": "permessage-deflate; server_max_window_bits=10"},
                "client_max_window_bits=10",
            ),
        ),
    )
)


# --- Checkpoint -----------------------------------------------------------------------------

register_quiz(
    "11.checkpoint",
    "Checkpoint: permessage-deflate",
    [
        Question(
            "Which bit of the frame header says that a message is compressed?",
            0,
            "RSV1, the 'Per-Message Compressed' bit (RFC 7692 §6), on the first frame of the message"
            " only; a continuation or control frame with RSV1 set is a protocol error (1002).",
            choices=("RSV1, on the first frame of the message", "RSV1, on every frame", "MASK", "opcode 0x3"),
            rfc="§5.2",
        ),
        Question(
            "A sender compressed a message and removed 00 00 ff ff from the end. What does the receiver do"
            " before it decompresses?",
            1,
            "It appends the same four octets (RFC 7692 §7.2.2): together they are the empty stored block of"
            " the sync flush, which every message would otherwise carry.",
            choices=(
                "nothing: raw DEFLATE needs no end",
                "append 00 00 ff ff",
                "prepend a zlib header 78 9c",
            ),
        ),
        Question(
            "With context takeover, the server sends the same 300-byte JSON message twice. About how many"
            " bytes does the second payload take: 5, 150 or 300?",
            5,
            "The whole message is in the window already: one back-reference and the end of the block,"
            " a few bytes (RFC 7692 §7.2.3.2 shows 'Hello' again in 5).",
            tolerance=5,
        ),
        Question(
            "Which response to Chrome's offer 'permessage-deflate; client_max_window_bits' limits both"
            " windows to 1 KiB?",
            2,
            "server_max_window_bits=10 limits the server's own window, client_max_window_bits=10 the"
            " client's (allowed because the offer had client_max_window_bits, RFC 7692 §7.1.2).",
            choices=(
                "permessage-deflate; client_max_window_bits",
                "permessage-deflate; server_no_context_takeover",
                "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10",
            ),
        ),
        Question(
            "A server's messages carry a user's session token beside chat text that other users write."
            " What protects the token from a CRIME-style attack?",
            1,
            "Context takeover off is not enough: inside one message the token and the attacker's text"
            " still share a window. Keep secrets out of compressed messages, or do not compress.",
            choices=(
                "server_no_context_takeover",
                "not compressing these messages (or keeping the token out of them)",
                "a smaller window, server_max_window_bits=9",
            ),
        ),
    ],
)
