"""WebSocket frames: the bytes on the wire (RFC 6455 §5).

Every WebSocket message travels as one or more *frames*. A frame is a small header
followed by the payload (RFC 6455 §5.2)::

      0                   1                   2                   3
      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
     +-+-+-+-+-------+-+-------------+-------------------------------+
     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
     | |1|2|3|       |K|             |                               |
     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
     |     Extended payload length continued, if payload len == 127  |
     + - - - - - - - - - - - - - - - +-------------------------------+
     |                               |Masking-key, if MASK set to 1  |
     +-------------------------------+-------------------------------+
     | Masking-key (continued)       |          Payload Data         |
     +-------------------------------- - - - - - - - - - - - - - - - +

This module turns bytes into :class:`Frame` objects (:func:`parse_frame`) and back
(:func:`serialize_frame`). It does no I/O: :func:`parse_frame` simply answers ``None``
when the bytes it was given do not hold a whole frame yet.
"""

from __future__ import annotations

import codecs
import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from .errors import CloseCode, ProtocolError
from .i18n import N_, _
from .views import html_view

__all__ = [
    "MAX_CONTROL_PAYLOAD",
    "Close",
    "CloseCode",
    "Frame",
    "FrameHeader",
    "Opcode",
    "apply_mask",
    "apply_mask_loop",
    "close_code_range",
    "describe_close_code",
    "is_valid_close_code",
    "parse_frame",
    "parse_header",
    "serialize_frame",
    "text_preview",
]

Bytes = bytes | bytearray | memoryview

# RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
MAX_CONTROL_PAYLOAD = 125


class Opcode(enum.IntEnum):
    """The 4-bit opcode: what kind of frame this is (RFC 6455 §5.2, §11.8)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        """Control frames have the high bit of the opcode set (RFC 6455 §5.5)."""
        return bool(self & 0x8)

    @property
    def meaning(self) -> str:
        return _(_OPCODE_MEANINGS[self])


_OPCODE_MEANINGS = {
    Opcode.CONTINUATION: N_("continuation: the next fragment of a message (§5.4)"),
    Opcode.TEXT: N_("text: a message of UTF-8 text (§5.6)"),
    Opcode.BINARY: N_("binary: a message of arbitrary bytes (§5.6)"),
    Opcode.CLOSE: N_("close: start or answer the closing handshake (§5.5.1)"),
    Opcode.PING: N_("ping: are you still there? (§5.5.2)"),
    Opcode.PONG: N_("pong: yes, I am (§5.5.3)"),
}


# The codes RFC 6455 and the IANA registry define (§7.4.1, §11.7); CloseCode lives in
# ``errors``, beside the ProtocolError that carries one.
_DEFINED = frozenset(int(code) for code in CloseCode)

# RFC 6455 §7.4.1: these three describe what *happened*; an endpoint never puts them
# in a Close frame.
_NEVER_ON_THE_WIRE = frozenset({1005, 1006, 1015})


def close_code_range(code: int) -> str:
    """Which range of RFC 6455 §7.4.2 a status code belongs to."""
    if 0 <= code <= 999:
        return "0-999: not used"
    if 1000 <= code <= 1015:
        return "1000-1015: defined by RFC 6455 and the IANA registry"
    if 1016 <= code <= 2999:
        return "1016-2999: reserved for future revisions of RFC 6455 and extensions; unassigned"
    if 3000 <= code <= 3999:
        return "3000-3999: registered with IANA by libraries, frameworks and applications"
    if 4000 <= code <= 4999:
        return "4000-4999: private use, agreed between the two applications"
    return "outside 0-4999: not a WebSocket status code"


def is_valid_close_code(code: int) -> bool:
    """Whether ``code`` may appear in a Close frame on the wire (RFC 6455 §7.4)."""
    if code in _NEVER_ON_THE_WIRE:
        return False
    return code in _DEFINED or 3000 <= code <= 4999


def describe_close_code(code: int) -> str:
    """``1006`` → ``"1006 (abnormal closure: no Close frame at all (never sent))"``."""
    if code in _DEFINED:
        return f"{code} ({CloseCode(code).meaning})"
    return f"{code} ({close_code_range(code)})"


@dataclass(slots=True)  # not frozen: a frozen dataclass is 5x slower to create, and
class Frame:  # a busy connection creates one per frame. Treat it as read-only all the same.
    """One frame. ``payload`` is always the *unmasked* data.

    ``masking_key`` is the 4-byte key the frame carried on the wire (after parsing) or
    will carry (when serialized); ``None`` means an unmasked frame.
    """

    opcode: Opcode
    payload: bytes
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False
    masking_key: bytes | None = None

    def __str__(self) -> str:
        flags = "FIN" if self.fin else "more to come"
        name = self.opcode.name if isinstance(self.opcode, Opcode) else f"opcode {self.opcode:#x}"
        masked = ", masked" if self.masking_key is not None else ""
        return f"{name} ({flags}{masked}, {len(self.payload)} bytes): {_preview(self)}"

    def _repr_html_(self) -> str | None:
        return html_view(self)  # drawn by wslearn.explain, when it is loaded


def _preview(frame: Frame, limit: int = 60) -> str:
    data = frame.payload
    if frame.opcode == Opcode.CLOSE and len(data) >= 2:
        return str(Close(int.from_bytes(data[:2], "big"), data[2:].decode("utf-8", "replace")))
    if frame.opcode == Opcode.TEXT:
        text = data[:limit].decode("utf-8", "replace")
        return repr(text) + ("…" if len(data) > limit else "")
    return data[:limit].hex(" ") + (" …" if len(data) > limit else "")


def text_preview(payload: Bytes, limit: int = 80, *, final: bool = True) -> str:
    """The first ``limit`` characters of a UTF-8 payload, quoted, "…" when cut.

    Only the first ``4 * limit`` bytes are decoded (a character is at most 4 bytes), with
    the incremental decoder the payload fields use: a character cut by that byte limit,
    or by the end of a frame that is not ``final``, is left out instead of shown as "�".
    """
    head = bytes(payload[: 4 * limit])
    whole = len(head) == len(payload)
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(head, final=final and whole)
    return repr(text[:limit]) + ("…" if len(text) > limit or not whole else "")


# --- Masking (RFC 6455 §5.3) -------------------------------------------------------


def apply_mask_loop(data: Bytes, mask: bytes) -> bytes:
    """Mask or unmask ``data``, exactly as RFC 6455 §5.3 says.

    "Octet i of the transformed data is the XOR of octet i of the original data with
    octet at index i modulo 4 of the masking key." The same operation masks and unmasks.
    """
    if len(mask) != 4:
        raise ValueError(f"a masking key is 4 bytes, got {len(mask)}")
    out = bytearray(len(data))
    for i, octet in enumerate(bytes(data)):
        out[i] = octet ^ mask[i % 4]
    return bytes(out)


def _load_fast_masker() -> Callable[[Bytes, bytes], bytes]:
    """The C masker that ships with the websockets library, or else the plain loop.

    Imported on first use, not at import time, so that ``import wslearn.frames``
    stays cheap and pulls in nothing but the standard library. Nothing in between: a
    pure-Python trick (XOR as one big integer) would hold several copies of the payload
    at once, and the memory bounds of wslearn's limits must hold without websockets too.
    """
    try:
        from websockets.speedups import apply_mask as c_apply_mask
    except ImportError:  # websockets is a dependency, but stay usable without it
        return apply_mask_loop
    return c_apply_mask


_fast_masker: Callable[[Bytes, bytes], bytes] | None = None


def apply_mask(data: Bytes, mask: bytes) -> bytes:
    """Same result as :func:`apply_mask_loop`, hundreds of times faster (with websockets' C
    masker; without it, the loop itself)."""
    global _fast_masker
    if len(mask) != 4:
        raise ValueError(f"a masking key is 4 bytes, got {len(mask)}")
    if _fast_masker is None:
        try:
            _fast_masker = _load_fast_masker()
        except OSError:  # the import opens files: out of file descriptors, try again next time
            return apply_mask_loop(data, mask)
    return _fast_masker(data, mask)


# --- Parsing (RFC 6455 §5.2) -------------------------------------------------------

# Bit masks of the first two header bytes, in the order of the diagram above.
FIN = 0b1000_0000
RSV1 = 0b0100_0000
RSV2 = 0b0010_0000
RSV3 = 0b0001_0000
OPCODE = 0b0000_1111
CONTROL = 0b0000_1000  # the high bit of the opcode marks a control frame (§5.5)
MASK = 0b1000_0000
PAYLOAD_LEN = 0b0111_1111

_OPCODES = {int(op): op for op in Opcode}
_U16 = struct.Struct("!H")
_U64 = struct.Struct("!Q")


class FrameHeader(NamedTuple):
    """What the header of a frame says, before its payload has arrived (RFC 6455 §5.2)."""

    opcode: Opcode
    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    masking_key: bytes | None
    size: int  # bytes of the header: 2 to 14
    length: int  # bytes of the payload that follows


def parse_frame(
    data: Bytes,
    offset: int = 0,
    *,
    max_payload: int | None = None,
) -> tuple[Frame, int] | None:
    """Read one frame from ``data`` starting at ``offset``.

    Returns ``(frame, consumed)`` where ``consumed`` is the number of bytes the frame
    took, or ``None`` when ``data`` does not yet hold the whole frame ("need more
    bytes"). Raises :class:`ProtocolError` as soon as the header breaks a rule.
    """
    header = _read_header(data, offset, max_payload)
    if header is None:
        return None
    opcode, fin, rsv1, rsv2, rsv3, masking_key, header_size, length = header
    # Step 6: the payload, unmasked as it is read (§5.3).
    frame_size = header_size + length
    if len(data) - offset < frame_size:
        return None
    payload = data[offset + header_size : offset + frame_size]
    payload = bytes(payload) if masking_key is None else apply_mask(payload, masking_key)
    return Frame(opcode, payload, fin, rsv1, rsv2, rsv3, masking_key), frame_size


def parse_header(
    data: Bytes,
    offset: int = 0,
    *,
    max_payload: int | None = None,
) -> FrameHeader | None:
    """Steps 1-5 of :func:`parse_frame`: the header alone, ``None`` until it is complete."""
    header = _read_header(data, offset, max_payload)
    return None if header is None else FrameHeader(*header)


_Header = tuple[Opcode, bool, bool, bool, bool, bytes | None, int, int]  # FrameHeader's fields


def _read_header(data: Bytes, offset: int, max_payload: int | None) -> _Header | None:
    # A plain tuple, not a FrameHeader: parse_frame runs once per frame, and this is faster.
    available = len(data) - offset
    if available < 2:
        return None
    # Step 1: FIN, RSV1-3 and the opcode share the first byte.
    first, second = data[offset], data[offset + 1]
    opcode = _OPCODES.get(first & OPCODE)
    if opcode is None:
        # §5.2: "If an unknown opcode is received, the receiving endpoint MUST
        # _Fail the WebSocket Connection_."
        raise ProtocolError(
            CloseCode.PROTOCOL_ERROR, f"opcode {first & OPCODE:#x} is reserved (RFC 6455 §5.2)"
        )
    fin = bool(first & FIN)
    # Step 2: the MASK bit and the 7-bit payload length share the second byte.
    masked = second & MASK
    length = second & PAYLOAD_LEN
    header_size = 2
    # Step 3: 126 means "the real length follows in 16 bits", 127 "in 64 bits".
    if length == 126:
        if available < 4:
            return None
        (length,) = _U16.unpack_from(data, offset + 2)
        header_size = 4
    elif length == 127:
        if available < 10:
            return None
        (length,) = _U64.unpack_from(data, offset + 2)
        header_size = 10
        if length >> 63:
            raise ProtocolError(
                CloseCode.PROTOCOL_ERROR, "the most significant bit of a 64-bit length must be 0 (§5.2)"
            )
    # Step 4: rules that the header alone decides, before waiting for the payload.
    if first & CONTROL:
        _check_control_frame(opcode, fin, length)
    elif max_payload is not None and length > max_payload:
        raise ProtocolError(
            CloseCode.MESSAGE_TOO_BIG,
            f"a frame of {length} bytes is over this endpoint's limit of {max_payload} (§7.4.1)",
        )
    # Step 5: the 4-byte masking key, present only when MASK is set.
    masking_key = None
    if masked:
        if available < header_size + 4:
            return None
        start = offset + header_size
        masking_key = bytes(data[start : start + 4])
        header_size += 4
    rsv1, rsv2, rsv3 = bool(first & RSV1), bool(first & RSV2), bool(first & RSV3)
    return opcode, fin, rsv1, rsv2, rsv3, masking_key, header_size, length


def _check_control_frame(opcode: Opcode, fin: bool, length: int) -> None:
    # §5.5: "All control frames MUST have a payload length of 125 bytes or less
    # and MUST NOT be fragmented."
    if length > MAX_CONTROL_PAYLOAD:
        raise ProtocolError(
            CloseCode.PROTOCOL_ERROR,
            f"a {opcode.name} frame carries {length} bytes; control frames allow 125 (§5.5)",
        )
    if not fin:
        raise ProtocolError(CloseCode.PROTOCOL_ERROR, f"a {opcode.name} frame must not be fragmented (§5.5)")


# --- Serializing -------------------------------------------------------------------


def serialize_frame(frame: Frame) -> bytes:
    """The bytes of ``frame`` on the wire, masked with ``frame.masking_key`` if set.

    Nothing is checked here, on purpose: tests and the conformance checker use this to
    build frames that break the rules. :class:`~wslearn.protocol.Protocol` checks what
    it sends before it calls this.
    """
    first = (
        (FIN if frame.fin else 0)
        | (RSV1 if frame.rsv1 else 0)
        | (RSV2 if frame.rsv2 else 0)
        | (RSV3 if frame.rsv3 else 0)
        | (int(frame.opcode) & OPCODE)
    )
    mask_bit = MASK if frame.masking_key is not None else 0
    length = len(frame.payload)
    # §5.2: "the minimal number of bytes MUST be used to encode the length".
    if length < 126:
        header = bytes([first, mask_bit | length])
    elif length < 1 << 16:
        header = bytes([first, mask_bit | 126]) + _U16.pack(length)
    else:
        header = bytes([first, mask_bit | 127]) + _U64.pack(length)
    if frame.masking_key is None:
        return header + frame.payload
    return header + frame.masking_key + apply_mask(frame.payload, frame.masking_key)


# --- Close frames (RFC 6455 §5.5.1, §7.4) ------------------------------------------


@dataclass(frozen=True, slots=True)
class Close:
    """The payload of a Close frame: a 2-byte status code and a UTF-8 reason."""

    code: int = CloseCode.NORMAL_CLOSURE
    reason: str = ""

    @classmethod
    def parse(cls, payload: bytes) -> Close:
        """Read a Close payload, applying the rules of RFC 6455 §5.5.1 and §7.4."""
        if not payload:
            # §7.1.5: no status code in the frame → "_The WebSocket Connection Close
            # Code_ is considered to be 1005".
            return cls(CloseCode.NO_STATUS_RCVD, "")
        if len(payload) == 1:
            raise ProtocolError(
                CloseCode.PROTOCOL_ERROR, "a Close payload of 1 byte is invalid: the code takes 2 (§5.5.1)"
            )
        code = int.from_bytes(payload[:2], "big")
        if not is_valid_close_code(code):
            raise ProtocolError(
                CloseCode.PROTOCOL_ERROR,
                f"close code {describe_close_code(code)} is not allowed on the wire (§7.4)",
            )
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(
                CloseCode.INVALID_FRAME_PAYLOAD_DATA, "the reason of a Close frame must be UTF-8 (§5.5.1)"
            ) from None
        return cls(code, reason)

    def serialize(self) -> bytes:
        """The Close payload: the code in network byte order, then the reason."""
        if not is_valid_close_code(self.code):
            raise ValueError(f"close code {describe_close_code(self.code)} must not be sent (§7.4)")
        payload = self.code.to_bytes(2, "big") + self.reason.encode("utf-8")
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise ValueError(f"the close reason is {len(payload) - 2} bytes of UTF-8; at most 123 fit (§5.5)")
        return payload

    def __str__(self) -> str:
        text = describe_close_code(self.code)
        return f"{text} {self.reason!r}" if self.reason else text

    def _repr_html_(self) -> str | None:
        return html_view(self)  # drawn by wslearn.explain, when it is loaded
