"""Explanations: what every bit of a frame means, hexdumps, readable HTTP messages.

:func:`explain_frame` reads frame bytes the way a receiver does (RFC 6455 §5.2) and
writes down each field: where it sits, its raw bits, its value and what it means. It
never raises: on bytes that are incomplete or break a rule it explains what it could
and says what is missing or wrong — that is the lesson. With ``deflate=`` (the agreed
permessage-deflate, RFC 7692) it also decompresses a compressed message's payload.

The ``*_html`` functions are the HTML views of requests, responses, closes, frames and
the accept key's steps: this module registers them (:mod:`wslearn.views`) when it is
imported, and the objects' ``_repr_html_`` finds them there. The imports go one way: this
module stands on the core, and the core never imports it. The text views (``str()``) live
with the objects themselves; ``request_text`` and ``response_text`` are importable from
here too. The HTML escapes every piece of text it shows (``html.escape``), because
payloads and headers come from the network. Credentials (Authorization, Cookie,
``?token=`` …) are hidden (:mod:`wslearn.redaction`); ``serialize()`` still gives the exact
bytes.
"""

from __future__ import annotations

import codecs
import html
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .deflate import DeflateParameters, PerMessageDeflate
from .errors import ProtocolError
from .frames import (
    Close,
    CloseCode,
    Frame,
    Opcode,
    apply_mask,
    close_code_range,
    describe_close_code,
    parse_frame,
    serialize_frame,
    text_preview,
)
from .handshake import AcceptSteps
from .http import Request, Response, body_text, request_text, response_text, shown_headers
from .i18n import N_, _, fit, pad
from .redaction import redact_target
from .views import register_html

__all__ = [
    "Field",
    "FrameExplanation",
    "accept_steps_html",
    "close_html",
    "close_text",
    "explain_frame",
    "explain_frames",
    "frame_html",
    "frame_text",
    "hexdump",
    "request_html",
    "request_text",
    "response_html",
    "response_text",
    "text_preview",
]

Bytes = bytes | bytearray | memoryview

# How many payload bytes a field shows before "…".
PREVIEW_BYTES = 32
# How many bytes the hexdump of a frame explanation shows.
HEXDUMP_BYTES = 256


# --- Hexdump -------------------------------------------------------------------------


def _rows(data: bytes, width: int, limit: int | None) -> Iterator[tuple[int, bytes]]:
    shown = data if limit is None else data[:limit]
    for offset in range(0, len(shown), width):
        yield offset, shown[offset : offset + width]


def _printable(octet: int) -> str:
    return chr(octet) if 0x20 <= octet < 0x7F else "."


def _hex_column(chunk: bytes, width: int, render: Callable[[int, int], str]) -> str:
    """Hex pairs, an extra space after every 8, padded to ``width`` bytes."""
    cells = [render(i, octet) for i, octet in enumerate(chunk)]
    cells += ["  "] * (width - len(chunk))
    groups = [" ".join(cells[i : i + 8]) for i in range(0, width, 8)]
    return "  ".join(groups)


def hexdump(data: Bytes, *, width: int = 16, limit: int | None = 4096) -> str:
    """Offset, hex and ASCII columns, like ``hexdump -C``.

    ``hexdump(b"\\x81\\x85\\x37\\xfa\\x21\\x3d\\x7f\\x9f\\x4d\\x51\\x58")`` gives::

        0000  81 85 37 fa 21 3d 7f 9f  4d 51 58                 |..7.!=..MQX|

    At most ``limit`` bytes are shown (``None``: all of them).
    """
    data = bytes(data)
    if not data:
        return "(0 bytes)"
    digits = max(4, len(f"{len(data) - 1:x}"))
    lines = []
    for offset, chunk in _rows(data, width, limit):
        hex_part = _hex_column(chunk, width, lambda _index, octet: f"{octet:02x}")
        text = "".join(_printable(octet) for octet in chunk)
        lines.append(f"{offset:0{digits}x}  {hex_part}  |{text}|")
    if limit is not None and len(data) > limit:
        lines.append(f"… {len(data) - limit} more bytes")
    return "\n".join(lines)


def _preview_hex(data: bytes, limit: int = PREVIEW_BYTES) -> str:
    if not data:
        return "(empty)"
    more = f" … (+{len(data) - limit} bytes)" if len(data) > limit else ""
    return data[:limit].hex(" ") + more


def _preview_text(text: str, limit: int = 80) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


# --- Frames, field by field (RFC 6455 §5.2) ------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a frame as it sits on the wire."""

    name: str  # the RFC's name: FIN, RSV1, opcode, MASK, Payload len, ...
    position: str  # "bit 0", "bits 4–7", "bytes 2–3 (bits 16–31)", ...
    raw: str  # the bits or bytes exactly as they are on the wire
    value: str  # what they decode to
    meaning: str  # what that tells the receiver
    kind: str  # "header", "length", "mask" or "payload" (for colouring)


@dataclass(frozen=True)
class FrameExplanation:
    """What :func:`explain_frame` found in some bytes.

    ``frame`` is the parsed :class:`~wslearn.frames.Frame` when the bytes hold a whole
    frame that ``parse_frame`` accepts, else ``None``. ``missing`` says what has not
    arrived yet, ``problems`` which rules are broken and how a receiver reacts.
    ``size`` is the length of the whole frame, known once its header has arrived.
    """

    data: bytes
    fields: tuple[Field, ...]
    frame: Frame | None
    size: int | None
    payload_length: int | None
    missing: str | None
    problems: tuple[str, ...]
    regions: tuple[tuple[int, int, str], ...]  # (start, end, kind) byte ranges
    decompressed: bytes | None = None  # the payload of a compressed message, decompressed

    @property
    def complete(self) -> bool:
        """Did every byte of the frame arrive?"""
        return self.missing is None

    @property
    def trailing(self) -> int:
        """How many bytes follow this frame (the start of the next one)."""
        return len(self.data) - self.size if self.complete and self.size is not None else 0

    @property
    def headline(self) -> str:
        """One line: what kind of frame this is, or what it is waiting for."""
        if self.missing is not None:
            return _("Incomplete frame ({size} bytes): waiting for {missing}").format(
                size=len(self.data), missing=self.missing
            )
        first, second = self.data[0], self.data[1]
        text = _("{opcode} frame, {final}, {masked}, {length}-byte payload").format(
            opcode=_opcode_name(first & 0x0F),
            final=_("final") if first & 0x80 else _("not final"),
            masked=_("masked") if second & 0x80 else _("unmasked"),
            length=self.payload_length,
        )
        if self.decompressed is not None and self.frame is not None:
            plain = Frame(self.frame.opcode, self.decompressed, self.frame.fin)
            text += _(", RSV1 (compressed) {wire} → {plain} bytes").format(
                wire=self.payload_length, plain=len(self.decompressed)
            )
            text += f": {_frame_preview(plain)}" if self.decompressed else ""
        elif self.frame is not None and self.frame.payload:
            text += f": {_frame_preview(self.frame)}"
        if self.trailing:
            text += _(" (then {count} more bytes: the next frame)").format(count=self.trailing)
        return text

    def __str__(self) -> str:
        lines = [self.headline]
        lines += [_("problem: {problem}").format(problem=problem) for problem in self.problems]
        lines.append(_text_table(self.fields))
        lines.append(hexdump(self.data, limit=HEXDUMP_BYTES))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return _frame_explanation_html(self)


_OPCODE_VALUES = frozenset(int(op) for op in Opcode)
_CLOSE_VALUES = frozenset(int(code) for code in CloseCode)


def _opcode_name(opcode: int) -> str:
    if opcode in _OPCODE_VALUES:
        return Opcode(opcode).name
    return _("reserved opcode {opcode}").format(opcode=f"{opcode:#x}")


def _frame_preview(frame: Frame) -> str:
    if frame.opcode == Opcode.TEXT:
        return text_preview(frame.payload, final=frame.fin)
    if frame.opcode == Opcode.CLOSE:
        try:
            return str(Close.parse(frame.payload))
        except ProtocolError:
            pass
    return _preview_hex(frame.payload)


def _bits(first: int, last: int) -> str:
    return f"bit {first}" if first == last else f"bits {first}–{last}"


def _bytes(first: int, last: int) -> str:
    return f"byte {first}" if first == last else f"bytes {first}–{last}"


class _FrameReader:
    """Reads one frame in the order of RFC 6455 §5.2, writing down every field.

    Each step returns False when the bytes run out; ``missing`` then says what
    the step was waiting for.
    """

    def __init__(self, data: bytes, compression: bool = False) -> None:
        self.data = data
        self.compression = compression  # permessage-deflate agreed: RSV1 is allowed
        self.rsv1 = False
        self.pos = 0  # where the next field starts
        self.fields: list[Field] = []
        self.problems: list[str] = []
        self.regions: list[tuple[int, int, str]] = []
        self.missing: str | None = None
        self.fin = True
        self.opcode = 0
        self.masked = False
        self.masking_key = b""
        self.length: int | None = None  # the payload length, once known
        self.size: int | None = None  # the whole frame's size, once the header is read

    def need(self, size: int, what: str) -> bool:
        """Are the next ``size`` bytes there? If not, note what is missing."""
        have = len(self.data) - self.pos
        if have >= size:
            return True
        self.missing = f"{what} ({have} of {size} bytes arrived)"
        return False

    def add(self, kind: str, size: int, *fields: Field) -> None:
        self.fields.extend(fields)
        self.regions.append((self.pos, self.pos + size, kind))
        self.pos += size

    # Step 1: byte 0 holds FIN, RSV1, RSV2, RSV3 and the opcode.
    def first_byte(self) -> bool:
        if not self.need(1, _("byte 0: FIN, RSV1-3 and the opcode")):
            return False
        byte = self.data[0]
        self.fin = bool(byte & 0x80)
        self.opcode = byte & 0x0F
        rsv = [bool(byte & bit) for bit in (0x40, 0x20, 0x10)]
        self.rsv1 = rsv[0]
        for number, bit in enumerate(rsv, start=1):
            if bit and not (number == 1 and self.compression):
                self.problems.append(
                    _(
                        "RSV{number} is set but no extension was negotiated: a receiver fails"
                        " the connection with {code} (§5.2)"
                    ).format(number=number, code=describe_close_code(1002))
                )
        fields = [_rsv_field(number, bit) for number, bit in enumerate(rsv, start=1)]
        self.add("header", 1, _fin_field(self.fin), *fields, _opcode_field(self.opcode))
        return True

    # Step 2: byte 1 holds MASK and the 7-bit payload length.
    def second_byte(self) -> bool:
        if not self.need(1, _("byte 1: MASK and the payload length")):
            return False
        byte = self.data[1]
        self.masked = bool(byte & 0x80)
        self.length = byte & 0x7F
        self.add("header", 1, _mask_field(self.masked), _length7_field(self.length))
        return True

    # Step 3: 126 → the length is in the next 2 bytes, 127 → in the next 8.
    def extended_length(self) -> bool:
        assert self.length is not None
        if self.length < 126:
            return True
        size = 2 if self.length == 126 else 8
        self.length = None
        where = f"{_bytes(2, 1 + size)} (bits 16–{15 + 8 * size})"
        if not self.need(size, _("the extended payload length, {where}").format(where=where)):
            return False
        raw = self.data[2 : 2 + size]
        self.length = int.from_bytes(raw, "big")
        self.add("length", size, _extended_length_field(where, raw, self.length))
        return True

    # Step 4: the masking key, when MASK is 1.
    def read_masking_key(self) -> bool:
        if not self.masked:
            return True
        where = _bytes(self.pos, self.pos + 3)
        if not self.need(4, _("the masking key, {where}").format(where=where)):
            return False
        self.masking_key = self.data[self.pos : self.pos + 4]
        self.add("mask", 4, _masking_key_field(where, self.masking_key))
        return True

    # Step 5: the payload, masked on the wire when MASK is 1 (§5.3).
    def payload(self) -> bool:
        assert self.length is not None
        self.size = self.pos + self.length  # the header is complete: the size is known
        arrived = self.data[self.pos : self.pos + self.length]
        complete = len(arrived) == self.length
        if not complete:
            self.missing = _("the rest of the payload ({arrived} of {length} bytes arrived)").format(
                arrived=len(arrived), length=self.length
            )
        where = _bytes(self.pos, self.pos + self.length - 1) if self.length else "—"
        fields = []
        if self.masked:
            fields.append(_masked_payload_field(where, arrived, self.length))
        if arrived or not self.masked:
            unmasked = apply_mask(arrived, self.masking_key) if self.masked else arrived
            fields += self.payload_meaning(where, unmasked, complete)
        self.add("payload", len(arrived), *fields)
        return complete

    def payload_meaning(self, where: str, payload: bytes, complete: bool) -> list[Field]:
        """What the (unmasked) payload says, according to the opcode."""
        name = "Payload data, unmasked" if self.masked else "Payload data"
        if self.opcode == Opcode.CLOSE and complete:
            try:
                Close.parse(payload)
            except ProtocolError as exc:
                self.problems.append(_receiver_verdict(exc))
            meaning = _("a Close payload: status code, then reason (§5.5.1)")
            value = _count(len(payload), "byte")
            whole = Field(name, where, _preview_hex(payload), value, meaning, "payload")
            return [whole, *_close_fields(self.pos, payload)]
        if self.rsv1 and self.opcode in (Opcode.TEXT, Opcode.BINARY):
            meaning = _("DEFLATE data (RFC 7692 §7.2): decompress it to read the message")
            meaning = meaning if self.masked else _("not masked; {meaning}").format(meaning=meaning)
            value = _count(len(payload), "byte")
            return [Field(name, where, _preview_hex(payload), value, meaning, "payload")]
        value, meaning, bad_text = _payload_meaning(self.opcode, payload, self.fin and complete)
        if bad_text:
            self.problems.append(
                _("the text is not valid UTF-8: a receiver fails the connection with {code} (§8.1)").format(
                    code=describe_close_code(1007)
                )
            )
        meaning = meaning if self.masked else _("not masked; {meaning}").format(meaning=meaning)
        return [Field(name, where, _preview_hex(payload), value, meaning, "payload")]


def _receiver_verdict(exc: ProtocolError) -> str:
    return _("{reason}: a receiver fails the connection with {code}").format(
        reason=exc.reason, code=describe_close_code(exc.close_code)
    )


def _fin_field(fin: bool) -> Field:
    meaning = (
        _("final fragment: this frame ends its message")
        if fin
        else _("not final: more fragments of this message follow (§5.4)")
    )
    return Field("FIN", _bits(0, 0), str(int(fin)), str(int(fin)), meaning, "header")


def _rsv_field(number: int, bit: bool) -> Field:
    meaning = (
        _("reserved for extensions; set without a negotiated extension → fail with 1002 (§5.2)")
        if bit
        else _("reserved for extensions; 0 as it must be without one (§5.2)")
    )
    if number == 1 and bit:
        meaning = _(
            "per-message compressed, RFC 7692 §6: with permessage-deflate agreed, this"
            " message's payload is DEFLATE data; without an extension → fail with 1002 (§5.2)"
        )
    raw = str(int(bit))
    return Field(f"RSV{number}", _bits(number, number), raw, raw, meaning, "header")


def _opcode_field(opcode: int) -> Field:
    if opcode in _OPCODE_VALUES:
        value, meaning = f"{opcode:#x} = {Opcode(opcode).name}", Opcode(opcode).meaning
        if Opcode(opcode).is_control:
            meaning += _("; a control frame: at most 125 bytes, never fragmented (§5.5)")
    else:
        value = _("{opcode} (reserved)").format(opcode=f"{opcode:#x}")
        if opcode & 0x8:
            meaning = _("reserved for future control frames: a receiver fails with 1002 (§5.2)")
        else:
            meaning = _("reserved for future non-control frames: a receiver fails with 1002 (§5.2)")
    return Field("opcode", _bits(4, 7), f"{opcode:04b}", value, meaning, "header")


def _mask_field(masked: bool) -> Field:
    meaning = (
        _("masked: a 4-byte masking key follows; a client masks every frame (§5.3)")
        if masked
        else _(
            "not masked: a server never masks; a server receiving this from a client fails with 1002 (§5.1)"
        )
    )
    raw = str(int(masked))
    return Field("MASK", _bits(8, 8), raw, raw, meaning, "header")


def _length7_field(length: int) -> Field:
    if length == 126:
        meaning = _("126: the real length is in the next 16 bits")
    elif length == 127:
        meaning = _("127: the real length is in the next 64 bits")
    else:
        meaning = _("the payload is {length} bytes (0–125 fit in these 7 bits)").format(length=length)
    return Field("Payload len", _bits(9, 15), f"{length:07b}", str(length), meaning, "header")


def _extended_length_field(where: str, raw: bytes, length: int) -> Field:
    meaning = _("the payload is {length} bytes").format(length=length)
    if len(raw) == 8 and raw[0] & 0x80:
        meaning = _("the most significant bit must be 0 (§5.2)")
    elif (len(raw) == 2 and length < 126) or (len(raw) == 8 and length < 1 << 16):
        # §5.2: "the minimal number of bytes MUST be used to encode the length".
        meaning += _("; a shorter length form would do, and §5.2 asks for the shortest")
    return Field("Extended payload length", where, raw.hex(" "), str(length), meaning, "length")


def _masking_key_field(where: str, key: bytes) -> Field:
    meaning = _("payload byte i is XOR-ed with key byte i mod 4 (§5.3)")
    return Field("Masking-key", where, key.hex(" "), f"0x{key.hex()}", meaning, "mask")


def _masked_payload_field(where: str, arrived: bytes, length: int) -> Field:
    value = _count(len(arrived), "byte") + (f" of {length}" if len(arrived) < length else "")
    meaning = _("as sent: masked, unreadable until XOR-ed with the masking key (§5.3)")
    return Field("Payload data (masked)", where, _preview_hex(arrived), value, meaning, "payload")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _payload_meaning(opcode: int, payload: bytes, final: bool) -> tuple[str, str, bool]:
    """(value, meaning, is invalid text) of a payload, by opcode.

    ``final``: this frame ends the message and all of it arrived, so the text must
    not stop in the middle of a character.
    """
    if opcode in (Opcode.TEXT, Opcode.CONTINUATION):
        try:
            text = codecs.getincrementaldecoder("utf-8")().decode(payload, final=final)
        except UnicodeDecodeError as exc:
            if opcode == Opcode.CONTINUATION:
                meaning = _("not UTF-8 on its own: binary data, or text cut mid-character")
                return _count(len(payload), "byte"), meaning, False
            invalid = _("not valid UTF-8 (byte {index})").format(index=exc.start)
            return invalid, _("text must be UTF-8 (§5.6)"), True
        if opcode == Opcode.TEXT:
            return _preview_text(text), _("text, decoded as UTF-8"), False
        return _preview_text(text), _("the next part of a fragmented message, decoded as UTF-8"), False
    if opcode == Opcode.PING:
        return repr(payload[:PREVIEW_BYTES]), _("answered by a Pong with the same data (§5.5.2)"), False
    if opcode == Opcode.PONG:
        return repr(payload[:PREVIEW_BYTES]), _("the data of the Ping it answers (§5.5.3)"), False
    size = _count(len(payload), "byte")
    if opcode == Opcode.BINARY:
        return size, _("binary data: the application decides its meaning"), False
    if opcode == Opcode.CLOSE:
        return size, _("a status code and a reason, once all of it has arrived (§5.5.1)"), False
    return size, _("no meaning is defined for this opcode"), False


def _close_fields(start: int, payload: bytes) -> list[Field]:
    """A Close payload: a 2-byte status code, then a UTF-8 reason (§5.5.1)."""
    if not payload:
        meaning = _("no status code: the connection's close code counts as 1005 (§7.1.5)")
        return [Field("Close code", "—", "(empty)", "none", meaning, "payload")]
    if len(payload) == 1:
        meaning = _("1 byte: too short for a 2-byte code (§5.5.1)")
        return [Field("Close code", _bytes(start, start), payload.hex(), "?", meaning, "payload")]
    code = int.from_bytes(payload[:2], "big")
    meaning = CloseCode(code).meaning if code in _CLOSE_VALUES else close_code_range(code)
    where = _bytes(start, start + 1)
    fields = [Field("Close code", where, payload[:2].hex(" "), str(code), meaning, "payload")]
    if len(payload) > 2:
        reason = payload[2:].decode("utf-8", "replace")
        where = _bytes(start + 2, start + len(payload) - 1)
        meaning = _("why, in UTF-8 text (at most 123 bytes)")
        raw = _preview_hex(payload[2:])
        fields.append(Field("Close reason", where, raw, _preview_text(reason), meaning, "payload"))
    return fields


def explain_frame(
    data: Bytes, deflate: PerMessageDeflate | DeflateParameters | None = None
) -> FrameExplanation:
    """Explain the frame at the start of ``data``, field by field (RFC 6455 §5.2).

    Never raises: incomplete or invalid bytes are explained as far as they go, with
    ``missing`` and ``problems`` saying what is not there or not allowed.

    ``deflate``: the permessage-deflate the connection agreed (RFC 7692). RSV1 is then
    allowed, and the payload of a compressed message is decompressed (``decompressed``).
    Given :class:`~wslearn.deflate.DeflateParameters`, a fresh receiver decompresses it
    (the frame's mask tells which side sent it); a
    :class:`~wslearn.deflate.PerMessageDeflate` is used as it is, so that explaining a
    connection's frames in order follows its context takeover (§7.1.1).
    """
    data = bytes(data)
    reader = _FrameReader(data, compression=deflate is not None)
    steps = (
        reader.first_byte,
        reader.second_byte,
        reader.extended_length,
        reader.read_masking_key,
        reader.payload,
    )
    for step in steps:
        if not step():
            break
    frame, verdict = _parse_verdict(data)
    problems = ([verdict] if verdict else []) + reader.problems
    decompressed = None
    if deflate is not None and frame is not None:
        decompressed, problem = _decompress(frame, deflate)
        if problem:
            problems.append(problem)
        elif decompressed is not None:
            reader.fields.append(_decompressed_field(frame, decompressed))
    return FrameExplanation(
        data=data,
        fields=tuple(reader.fields),
        frame=frame,
        size=reader.size,
        payload_length=reader.length,
        missing=reader.missing,
        problems=tuple(dict.fromkeys(problems)),  # in order, without repeats
        regions=tuple(reader.regions),
        decompressed=decompressed,
    )


def _decompress(frame: Frame, deflate: PerMessageDeflate | DeflateParameters) -> tuple[bytes | None, str]:
    """The frame's payload decompressed (None: not a compressed message), or what is wrong."""
    if isinstance(deflate, DeflateParameters):
        if not frame.rsv1:
            return None, ""  # a fresh receiver knows only messages that start here
        deflate = PerMessageDeflate(deflate, "server" if frame.masking_key is not None else "client")
    compressed = frame.rsv1 or (frame.opcode is Opcode.CONTINUATION and deflate.receiving_compressed)
    try:
        plain = deflate.decode(frame)
    except ProtocolError as exc:
        return None, _receiver_verdict(exc)
    return (plain.payload if compressed else None), ""


def _decompressed_field(frame: Frame, plain: bytes) -> Field:
    value, meaning, _invalid = _payload_meaning(frame.opcode, plain, frame.fin)
    meaning = _("per-message compressed, RFC 7692 §6: {wire} → {plain} bytes; {meaning}").format(
        wire=len(frame.payload), plain=len(plain), meaning=meaning
    )
    return Field("Payload, decompressed", "—", _preview_hex(plain), value, meaning, "payload")


def _parse_verdict(data: bytes) -> tuple[Frame | None, str | None]:
    """What ``parse_frame`` — the parser a receiver really uses — says about the bytes."""
    try:
        parsed = parse_frame(data)
    except ProtocolError as exc:
        return None, _receiver_verdict(exc)
    return (parsed[0], None) if parsed is not None else (None, None)


def explain_frames(data: Bytes, *, limit: int = 100) -> list[FrameExplanation]:
    """Explain the frames one after the other in ``data`` (at most ``limit`` of them)."""
    data = bytes(data)
    explanations: list[FrameExplanation] = []
    offset = 0
    while offset < len(data) and len(explanations) < limit:
        explanation = explain_frame(data[offset:])
        explanations.append(explanation)
        if explanation.frame is None or explanation.size is None:
            break  # incomplete or broken: a receiver stops here too
        offset += explanation.size
    return explanations


def frame_text(frame: Frame) -> str:
    """The field-by-field text of ``frame`` as it would be sent."""
    return str(explain_frame(serialize_frame(frame)))


def frame_html(frame: Frame) -> str:
    return explain_frame(serialize_frame(frame))._repr_html_()


# --- Rendering a frame explanation ----------------------------------------------------

# Widths in columns of a monospaced font: a Chinese character takes two (i18n.display_width).
_COLUMNS = ((N_("field"), 24), (N_("position"), 24), (N_("raw"), 26), (N_("value"), 22), (N_("meaning"), 0))


def _cell(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns, cut with "…" so one space stays before the next."""
    if not width:
        return text
    return pad(fit(text, width - 1), width)


def _text_table(fields: tuple[Field, ...]) -> str:
    header = "".join(_cell(_(name), width) for name, width in _COLUMNS)
    rows = [header]
    for f in fields:
        cells = (f.name, f.position, f.raw, f.value, f.meaning)
        rows.append("".join(_cell(c, w) for c, (_name, w) in zip(cells, _COLUMNS, strict=True)))
    return "\n".join(row.rstrip() for row in rows)


_COLOURS = {"header": "#dbeafe", "length": "#fef3c7", "mask": "#fce7f3", "payload": "#dcfce7"}
_STYLE_TABLE = "border-collapse:collapse;font-size:90%"
_STYLE_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"


def _swatch(kind: str) -> str:
    return f"background:{_COLOURS.get(kind, '#eee')};color:#000"


def _html_table(fields: tuple[Field, ...]) -> str:
    head = "".join(f'<th style="{_STYLE_CELL}">{html.escape(_(name))}</th>' for name, _width in _COLUMNS)
    rows = []
    for f in fields:
        cells = (f.name, f.position, f.raw, f.value, f.meaning)
        tds = "".join(f'<td style="{_STYLE_CELL}">{html.escape(c)}</td>' for c in cells)
        rows.append(f'<tr style="{_swatch(f.kind)}">{tds}</tr>')
    return (
        f'<table style="{_STYLE_TABLE}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _kind_of_byte(regions: tuple[tuple[int, int, str], ...]) -> Callable[[int], str]:
    def kind(index: int) -> str:
        for start, end, name in regions:
            if start <= index < end:
                return name
        return "after"

    return kind


def _hexdump_html(data: bytes, regions: tuple[tuple[int, int, str], ...]) -> str:
    """The hexdump with each byte coloured like the field it belongs to."""
    kind = _kind_of_byte(regions)
    lines = []
    for offset, chunk in _rows(data, 16, HEXDUMP_BYTES):

        def render(i: int, octet: int, offset: int = offset) -> str:
            return f'<span style="{_swatch(kind(offset + i))}">{octet:02x}</span>'

        text = html.escape("".join(_printable(octet) for octet in chunk))
        lines.append(f"{offset:04x}  {_hex_column(chunk, 16, render)}  |{text}|")
    if len(data) > HEXDUMP_BYTES:
        lines.append(f"… {len(data) - HEXDUMP_BYTES} more bytes")
    return "<pre>" + "\n".join(lines) + "</pre>"


def _frame_explanation_html(explanation: FrameExplanation) -> str:
    parts = [f"<p><b>{html.escape(explanation.headline)}</b></p>"]
    parts += [
        f'<p style="color:#b00000">problem: {html.escape(problem)}</p>' for problem in explanation.problems
    ]
    parts.append(_html_table(explanation.fields))
    parts.append(_hexdump_html(explanation.data, explanation.regions))
    return f'<div class="wslearn-frame">{"".join(parts)}</div>'


# --- Close payloads (RFC 6455 §5.5.1, §7.4) ------------------------------------------


def _close_rows(close: Close) -> list[tuple[str, str]]:
    rows = [
        (_("code"), describe_close_code(close.code)),
        (_("range"), close_code_range(close.code)),
        (_("reason"), repr(close.reason) if close.reason else _("(none)")),
    ]
    try:
        rows.append((_("payload bytes"), close.serialize().hex(" ")))
    except ValueError as exc:
        rows.append((_("payload bytes"), _("cannot be sent: {error}").format(error=exc)))
    return rows


def close_text(close: Close) -> str:
    """A Close payload, line by line: code, range, reason, bytes."""
    return "\n".join(pad(name, 14) + value for name, value in _close_rows(close))


def close_html(close: Close) -> str:
    rows = "".join(
        f'<tr><th style="{_STYLE_CELL}">{html.escape(name)}</th>'
        f'<td style="{_STYLE_CELL}">{html.escape(value)}</td></tr>'
        for name, value in _close_rows(close)
    )
    return f'<table class="wslearn-close" style="{_STYLE_TABLE}">{rows}</table>'


# --- HTTP messages (RFC 6455 §4) ------------------------------------------------------

# What each handshake header is for, shown as a tooltip in the HTML view.
_HEADER_NOTES = {
    "host": "the server's name and port, required by HTTP/1.1 (RFC 6455 §4.1 item 4)",
    "upgrade": "asks to switch this connection to the websocket protocol (§4.1 item 5)",
    "connection": "must contain Upgrade: the Upgrade header is meant for this hop (§4.1 item 6)",
    "sec-websocket-key": "16 random bytes, base64: the server hashes it to prove it"
    " understood the request (§4.1 item 7)",
    "sec-websocket-version": "the WebSocket protocol version: 13 (§4.1 item 9)",
    "sec-websocket-protocol": "subprotocols: the client's offer, or the one the server picked"
    " (§4.1 item 10, §4.2.2)",
    "sec-websocket-extensions": "extensions such as permessage-deflate (§9)",
    "sec-websocket-accept": "base64(SHA-1(key + GUID)): proof the server read the key (§4.2.2)",
    "origin": "the page that opened the connection; a server may refuse it with 403 (§10.2)",
}


def _html_header_line(name: str, value: str) -> str:
    note = _HEADER_NOTES.get(name.lower())
    title = f' title="{html.escape(note)}"' if note else ""
    return f"<b{title}>{html.escape(name)}</b>: {html.escape(value)}"


def _http_html(start_line: str, headers: list[tuple[str, str]], body: str) -> str:
    lines = [f"<b>{html.escape(start_line)}</b>"]
    lines += [_html_header_line(name, value) for name, value in headers]
    if body:
        lines += ["", html.escape(body)]
    return '<pre class="wslearn-http">' + "\n".join(lines) + "</pre>"


def request_html(req: Request, *, redact: bool = True) -> str:
    """The request as HTML; hover a header name to read what it is for."""
    target = redact_target(req.target) if redact else req.target
    start = f"{req.method} {target} {req.version}"
    return _http_html(start, shown_headers(req.headers, redact=redact), "")


def response_html(resp: Response, *, redact: bool = True) -> str:
    start = f"{resp.version} {resp.status} {resp.reason}"
    body = body_text(resp.body) if resp.body else ""
    return _http_html(start, shown_headers(resp.headers, redact=redact), body)


def accept_steps_html(steps: AcceptSteps) -> str:
    """The four steps from Sec-WebSocket-Key to Sec-WebSocket-Accept (RFC 6455 §1.3)."""
    rows = (
        ("1. key", steps.key, "Sec-WebSocket-Key, sent by the client"),
        ("2. key + GUID", steps.concatenated, "append the fixed GUID of RFC 6455 §1.3"),
        ("3. SHA-1", steps.sha1_hex, "20 bytes, shown as 40 hex digits"),
        ("4. base64", steps.accept, "Sec-WebSocket-Accept, sent back by the server"),
    )
    body = "".join(
        "<tr>" + "".join(f'<td style="{_STYLE_CELL}">{html.escape(c)}</td>' for c in row) + "</tr>"
        for row in rows
    )
    return f'<table class="wslearn-accept" style="{_STYLE_TABLE}">{body}</table>'


# --- What the core objects' _repr_html_ shows (see wslearn.views) -----------------------

register_html(Frame, frame_html)
register_html(Close, close_html)
register_html(Request, request_html)
register_html(Response, response_html)
register_html(AcceptSteps, accept_steps_html)
