"""Chapter 04, frame bytes: read a frame header by hand (RFC 6455 §5.2).

* ``"04.parse_header"`` — write ``parse_header(data: bytes) -> dict | None``, which decodes
  FIN, RSV1-3, the opcode, MASK, the payload length (7, 16 or 64 bits) and the masking key
  from the first bytes of a frame, and answers ``None`` ("need more bytes") while the header
  has not arrived in full. A kata: each check adds frames drawn from a seed.
* ``"04.decode_frames"`` — a value exercise: read the frames of :func:`seeded_frames` by eye
  and write down each one's opcode, payload length and FIN bit.
* ``"04.checkpoint"`` — the chapter's quiz.

The expected results of the generated cases come from the :class:`~wslearn.frames.Frame`
that was serialized, never from the reference solution, so the reference is tested too.
"""

from __future__ import annotations

import random
from typing import Any

from wslearn.exercises.core import Case, Exercise, Mistake, Question, register, register_quiz
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.i18n import N_, _

#: The keys of the dict ``parse_header`` returns, in the order of the header (§5.2).
HEADER_KEYS = (
    "fin",
    "rsv1",
    "rsv2",
    "rsv3",
    "opcode",
    "masked",
    "payload_length",
    "masking_key",
    "header_length",
)
#: The masking key of the examples of RFC 6455 §5.7.
RFC_KEY = bytes.fromhex("37fa213d")


# --- 04.parse_header: the reference solution ------------------------------------------------


def parse_header(data: bytes) -> dict[str, Any] | None:
    """Decode the header at the start of ``data`` (RFC 6455 §5.2); None if it is not all there."""
    if len(data) < 2:
        return None
    first, second = data[0], data[1]
    length = second & 0x7F
    size = 2
    if length == 126:  # the real length follows in 16 bits, network byte order
        if len(data) < 4:
            return None
        length = int.from_bytes(data[2:4], "big")
        size = 4
    elif length == 127:  # ... or in 64 bits
        if len(data) < 10:
            return None
        length = int.from_bytes(data[2:10], "big")
        size = 10
    masked = bool(second & 0x80)
    masking_key = None
    if masked:  # a 4-byte masking key follows the length (§5.3)
        if len(data) < size + 4:
            return None
        masking_key = bytes(data[size : size + 4])
        size += 4
    return {
        "fin": bool(first & 0x80),
        "rsv1": bool(first & 0x40),
        "rsv2": bool(first & 0x20),
        "rsv3": bool(first & 0x10),
        "opcode": first & 0x0F,
        "masked": masked,
        "payload_length": length,
        "masking_key": masking_key,
        "header_length": size,
    }


# --- 04.parse_header: the cases ---------------------------------------------------------------


def header_of(frame: Frame) -> dict[str, Any]:
    """What ``parse_header`` must say about the bytes of ``frame`` (taken from the frame itself)."""
    wire = serialize_frame(frame)
    return {
        "fin": frame.fin,
        "rsv1": frame.rsv1,
        "rsv2": frame.rsv2,
        "rsv3": frame.rsv3,
        "opcode": int(frame.opcode),
        "masked": frame.masking_key is not None,
        "payload_length": len(frame.payload),
        "masking_key": frame.masking_key,
        "header_length": len(wire) - len(frame.payload),
    }


def _expect(
    opcode: int,
    length: int,
    header_length: int,
    *,
    fin: bool = True,
    key: bytes | None = None,
    rsv1: bool = False,
) -> dict[str, Any]:
    return {
        "fin": fin,
        "rsv1": rsv1,
        "rsv2": False,
        "rsv3": False,
        "opcode": opcode,
        "masked": key is not None,
        "payload_length": length,
        "masking_key": key,
        "header_length": header_length,
    }


def _frame_case(frame: Frame, label: str, hint: str = "", rfc: str = "§5.2") -> Case:
    return Case((serialize_frame(frame),), header_of(frame), label=label, hint=hint, rfc=rfc)


_LENGTH_HINT = N_("0-125: the length itself; 126: 16 more bits follow; 127: 64 more bits follow")

_RFC_CASES = (
    # RFC 6455 §5.7, every example, written out as the RFC shows the bytes.
    Case(
        (bytes.fromhex("810548656c6c6f"),),
        _expect(0x1, 5, 2),
        label="§5.7 single-frame unmasked text 'Hello': 81 05 48 65 6c 6c 6f",
        hint="byte 0 = 0x81: FIN 1, opcode 1 (text); byte 1 = 0x05: MASK 0, length 5",
        rfc="§5.7",
    ),
    Case(
        (bytes.fromhex("818537fa213d7f9f4d5158"),),
        _expect(0x1, 5, 6, key=RFC_KEY),
        label="§5.7 single-frame masked text 'Hello': 81 85 37 fa 21 3d …",
        hint="byte 1 = 0x85: MASK 1, length 5; the key is the next 4 bytes, so the header is 6 bytes",
        rfc="§5.7",
    ),
    Case(
        (bytes.fromhex("010348656c"),),
        _expect(0x1, 3, 2, fin=False),
        label="§5.7 fragmented text, first frame 'Hel': 01 03 48 65 6c",
        hint="byte 0 = 0x01: FIN 0 (more fragments follow), opcode 1",
        rfc="§5.7",
    ),
    Case(
        (bytes.fromhex("80026c6f"),),
        _expect(0x0, 2, 2),
        label="§5.7 fragmented text, last frame 'lo': 80 02 6c 6f",
        hint="byte 0 = 0x80: FIN 1, opcode 0 (continuation)",
        rfc="§5.7",
    ),
    Case(
        (bytes.fromhex("890548656c6c6f"),),
        _expect(0x9, 5, 2),
        label="§5.7 unmasked Ping 'Hello': 89 05 48 65 6c 6c 6f",
        hint="byte 0 = 0x89: FIN 1, opcode 9 (ping)",
        rfc="§5.7",
    ),
    Case(
        (bytes.fromhex("8a8537fa213d7f9f4d5158"),),
        _expect(0xA, 5, 6, key=RFC_KEY),
        label="§5.7 masked Pong 'Hello': 8a 85 37 fa 21 3d …",
        hint="byte 0 = 0x8a: FIN 1, opcode 10 (pong); byte 1 = 0x85: masked, length 5",
        rfc="§5.7",
    ),
    Case(
        (bytes.fromhex("827e0100") + bytes(256),),
        _expect(0x2, 256, 4),
        label="§5.7 256 bytes of binary, unmasked: 82 7e 01 00 …",
        hint="length 126 means: the length is the next 2 bytes, 01 00 = 256 (big-endian)",
        rfc="§5.7",
    ),
    Case(
        (bytes.fromhex("827f0000000000010000") + bytes(65536),),
        _expect(0x2, 65536, 10),
        label="§5.7 64 KiB of binary, unmasked: 82 7f 00 00 00 00 00 01 00 00 …",
        hint="length 127 means: the length is the next 8 bytes, …01 00 00 = 65536 (big-endian)",
        rfc="§5.7",
    ),
)

_BOUNDARY_CASES = tuple(
    _frame_case(
        Frame(Opcode.BINARY, bytes(length), masking_key=key),
        f"{'masked' if key else 'unmasked'} binary of {length} bytes (header {header} bytes)",
        hint=_LENGTH_HINT,
    )
    for length, key, header in (
        (0, None, 2),
        (125, None, 2),
        (126, None, 4),
        (127, None, 4),
        (65535, None, 4),
        (65536, None, 10),
        (125, RFC_KEY, 6),
        (126, RFC_KEY, 8),
        (65536, RFC_KEY, 14),
    )
)

_OTHER_CASES = (
    # RFC 7692 §7.2.3.1: "Hello" compressed with permessage-deflate sets RSV1.
    Case(
        (bytes.fromhex("c107f248cdc9c90700"),),
        _expect(0x1, 7, 2, rsv1=True),
        label="RSV1 set (permessage-deflate, RFC 7692): c1 07 f2 48 …",
        hint="byte 0 = 0xc1: FIN 1, RSV1 1, opcode 1; the opcode is only the low 4 bits",
    ),
    _frame_case(
        Frame(Opcode.CLOSE, b"\x03\xe8bye", masking_key=b"\x00\x00\x00\x00"),
        "masked Close 1000 'bye' with the all-zero key: 88 85 00 00 00 00 …",
        hint="an all-zero masking key is still a key: MASK is 1 and the header is 6 bytes",
    ),
    Case(
        (bytes.fromhex("830568656c6c6f"),),
        _expect(0x3, 5, 2),
        label="reserved opcode 0x3: decode it, do not judge it",
        hint="parse_header only decodes: opcode 3 is returned as 3 (a receiver then fails with 1002)",
    ),
    Case(
        (bytes.fromhex("8a8537fa213d"),),
        _expect(0xA, 5, 6, key=RFC_KEY),
        label="the whole header, the payload not yet: 8a 85 37 fa 21 3d",
        hint="the header is complete: decode it even though the 5 payload bytes have not arrived",
    ),
)


def _truncated(data: bytes, cut: int, what: str) -> Case:
    return Case(
        (data[:cut],),
        None,
        label=f"only {cut} byte{'s' if cut != 1 else ''}: {data[:cut].hex(' ') or '(empty)'} ({what})",
        hint=f"{what}: return None, 'need more bytes'",
    )


_MASKED_16 = serialize_frame(Frame(Opcode.BINARY, bytes(200), masking_key=RFC_KEY))
_MASKED_64 = serialize_frame(Frame(Opcode.BINARY, bytes(70000), masking_key=RFC_KEY))
_TRUNCATED_CASES = (
    _truncated(b"\x81\x05Hello", 0, "nothing arrived"),
    _truncated(b"\x81\x05Hello", 1, "byte 1 with MASK and the length is missing"),
    _truncated(_MASKED_16, 2, "126: the 16-bit length has not arrived"),
    _truncated(_MASKED_16, 3, "half of the 16-bit length"),
    _truncated(_MASKED_16, 7, "the 16-bit length, then 3 of the 4 key bytes"),
    _truncated(_MASKED_64, 2, "127: the 64-bit length has not arrived"),
    _truncated(_MASKED_64, 9, "7 of the 8 bytes of the 64-bit length"),
    _truncated(_MASKED_64, 13, "the 64-bit length, then 3 of the 4 key bytes"),
    _truncated(bytes.fromhex("818537fa213d7f9f4d5158"), 2, "MASK is 1: the key has not arrived"),
    _truncated(bytes.fromhex("818537fa213d7f9f4d5158"), 5, "3 of the 4 key bytes"),
)

PARSE_HEADER_CASES = _RFC_CASES + _BOUNDARY_CASES + _OTHER_CASES + _TRUNCATED_CASES


def random_frame(rng: random.Random) -> Frame:
    """A frame of any shape: the opcode, FIN, MASK and a length of each of the three forms."""
    opcode = rng.choice(list(Opcode))
    if opcode.is_control:
        length = rng.randrange(126)
    else:
        length = rng.choice((rng.randrange(126), rng.randrange(126, 1 << 16), rng.randrange(1 << 16, 70_000)))
    return Frame(
        opcode,
        rng.randbytes(length),
        fin=opcode.is_control or rng.random() < 0.7,
        rsv1=rng.random() < 0.15,
        masking_key=rng.randbytes(4) if rng.random() < 0.5 else None,
    )


def random_header_cases(rng: random.Random, count: int) -> list[Case]:
    """Seeded frames; one in four is cut short inside its header (expected: None)."""
    cases = []
    for number in range(1, count + 1):
        frame = random_frame(rng)
        wire = serialize_frame(frame)
        expected = header_of(frame)
        if rng.random() < 0.25:
            cut = rng.randrange(expected["header_length"])
            cases.append(_truncated(wire, cut, f"random frame {number}, cut inside its header"))
        else:
            label = f"random frame {number}: {wire[:6].hex(' ')} … ({len(wire)} bytes)"
            cases.append(Case((wire,), expected, label=label, hint=_LENGTH_HINT))
    return cases


# --- 04.parse_header: recognising typical mistakes -------------------------------------------


def _needed(data: bytes) -> int:
    """How many bytes the header at the start of ``data`` takes (at least 2)."""
    if len(data) < 2:
        return 2
    length = data[1] & 0x7F
    size = 2 + (2 if length == 126 else 8 if length == 127 else 0)
    return size + (4 if data[1] & 0x80 else 0)


def diagnose_header(case: Case, got: Any) -> str | None:
    """A hint for a recognisable wrong result of ``parse_header``."""
    data: bytes = case.args[0]
    expected = case.expected
    if expected is None:
        if got is not None:
            return _(
                "need more bytes: {count} bytes arrived, this header takes {needed};"
                " return None (a slice past the end is shorter, not an error)"
            ).format(count=len(data), needed=_needed(data))
        return None
    if got is None:
        return _(
            "all {header} header bytes are here ({count} bytes arrived):"
            " return the dict (None only while header bytes are missing)"
        ).format(header=expected["header_length"], count=len(data))
    if not isinstance(got, dict):
        return _("return a dict (or None), not a {type}").format(type=type(got).__name__)
    if set(got) != set(HEADER_KEYS):
        missing = ", ".join(sorted(set(HEADER_KEYS) - set(got))) or "—"
        extra = ", ".join(sorted(map(str, set(got) - set(HEADER_KEYS)))) or "—"
        keys = ", ".join(HEADER_KEYS)
        exact = _("the dict must have exactly the keys {keys} (missing: {missing}; extra: {extra})")
        return exact.format(keys=keys, missing=missing, extra=extra)
    return _diagnose_fields(data, expected, got)


def _diagnose_fields(data: bytes, expected: dict[str, Any], got: dict[str, Any]) -> str | None:
    first, second = data[0], data[1]
    if got["opcode"] != expected["opcode"] and got["opcode"] in (first, first & 0x7F, first >> 4):
        return N_("the opcode is the low 4 bits of byte 0 (data[0] & 0x0F); FIN and RSV1-3 are the high 4")
    if got["masked"] != expected["masked"] and bool(got["masked"]) == bool(first & 0x80):
        return N_("MASK is the top bit of byte 1 (data[1] & 0x80); the top bit of byte 0 is FIN")
    length, marker = got["payload_length"], second & 0x7F
    size = 2 + {126: 2, 127: 8}.get(marker, 0)  # where the extended length ends
    if length != expected["payload_length"]:
        if length in (126, 127) and length == marker:
            return N_(
                "126 and 127 are not lengths: 126 says the length is in the next 16 bits, 127 in the next 64"
            )
        if size > 2 and length == int.from_bytes(data[2:size], "little"):
            return N_("the extended length is big-endian (network byte order): int.from_bytes(..., 'big')")
        return _("the payload length is wrong: {hint}").format(hint=_(_LENGTH_HINT))
    if got["header_length"] != expected["header_length"]:
        if expected["masked"] and got["header_length"] == expected["header_length"] - 4:
            return N_("the 4 bytes of the masking key are part of the header: add 4 when MASK is 1")
        return N_(
            "header_length counts 2 bytes, plus 2 or 8 for an extended length, plus 4 for a masking key"
        )
    if not expected["masked"] and got["masking_key"] is not None:
        return N_("masking_key is None when MASK is 0: an unmasked frame carries no key")
    if expected["masked"] and got["masking_key"] != expected["masking_key"]:
        where = f"data[{size}:{size + 4}]"
        return _("the masking key is the 4 bytes right after the length: {where} here").format(where=where)
    for name in ("fin", "rsv1", "rsv2", "rsv3"):
        if got[name] != expected[name]:
            bit = {"fin": "0x80", "rsv1": "0x40", "rsv2": "0x20", "rsv3": "0x10"}[name]
            return _("{name} is wrong: it is the bit data[0] & {bit}, as True or False").format(
                name=name, bit=bit
            )
    return None


# --- 04.parse_header: typical wrong answers (each must fail with its hint) ---------------------


def _variant(
    data: bytes,
    *,
    byteorder: str = "big",
    extended: bool = True,
    mask_byte: int = 1,
    opcode_bits: int = 0x0F,
    wait: bool = True,
    key_in_header: bool = True,
) -> dict[str, Any] | None:
    """``parse_header`` with one typical mistake switched on (see PARSE_HEADER_MISTAKES)."""
    if wait and len(data) < 2:
        return None
    first, second = data[0], data[1]  # without the check above: IndexError on 0 or 1 byte
    length, size = second & 0x7F, 2
    if extended and length in (126, 127):
        size = 4 if length == 126 else 10
        if wait and len(data) < size:
            return None
        length = int.from_bytes(data[2:size], "little" if byteorder == "little" else "big")
    masked = bool(data[mask_byte] & 0x80)
    key = None
    if masked:
        if wait and len(data) < size + 4:
            return None
        key = bytes(data[size : size + 4])
    return {
        "fin": bool(first & 0x80),
        "rsv1": bool(first & 0x40),
        "rsv2": bool(first & 0x20),
        "rsv3": bool(first & 0x10),
        "opcode": first & opcode_bits,
        "masked": masked,
        "payload_length": length,
        "masking_key": key,
        "header_length": size + (4 if masked and key_in_header else 0),
    }


def _with(data: bytes, change: Any) -> dict[str, Any] | None:
    """The right header of ``data`` with the fields ``change(header)`` returns put in."""
    header = parse_header(data)
    return None if header is None else {**header, **change(header)}


PARSE_HEADER_MISTAKES = (
    Mistake(
        "the extended length read little-endian",
        lambda data: _variant(data, byteorder="little"),
        "big-endian (network byte order)",
    ),
    Mistake(
        "126 and 127 taken as lengths",
        lambda data: _variant(data, extended=False),
        "126 and 127 are not lengths",
    ),
    Mistake(
        "MASK read from byte 0",
        lambda data: _variant(data, mask_byte=0),
        "MASK is the top bit of byte 1",
    ),
    Mistake(
        "the opcode with the RSV bits",
        lambda data: _variant(data, opcode_bits=0x7F),
        "the low 4 bits of byte 0",
    ),
    Mistake(
        "no None on a cut header",
        lambda data: _variant(data, wait=False),
        "need more bytes",
    ),
    Mistake(
        "the masking key always read from bytes 2-5",
        lambda data: _with(data, lambda h: {"masking_key": bytes(data[2:6])} if h["masked"] else {}),
        "the masking key is the 4 bytes right after the length",
    ),
    Mistake(
        "FIN as the number data[0] & 0x80",
        lambda data: _with(data, lambda h: {"fin": data[0] & 0x80}),
        "as True or False",
    ),
    Mistake(
        "the masking key left out of header_length",
        lambda data: _variant(data, key_in_header=False),
        "the 4 bytes of the masking key are part of the header",
    ),
)

register(
    Exercise(
        id="04.parse_header",
        title="Decode a frame header",
        signature="parse_header(data: bytes) -> dict | None",
        reference=parse_header,
        rfc="§5.2",
        cases=PARSE_HEADER_CASES,
        random_cases=random_header_cases,
        random_count=6,
        diagnose=diagnose_header,
        mistakes=PARSE_HEADER_MISTAKES,
        explanation=(
            "Return None while the header is incomplete, else a dict with the keys "
            + ", ".join(HEADER_KEYS)
            + ": fin/rsv1/rsv2/rsv3/masked as bool, opcode, payload_length and header_length as int,"
            " masking_key as 4 bytes or None."
        ),
    )
)


# --- 04.decode_frames: read seeded frames by eye -----------------------------------------------


class FrameNumber(int):
    """The number of a frame in :func:`seeded_frames`, which also carries the frame's bytes.

    A student's answer is a list (``answer[number]``); the reference reads ``.data``.
    """

    data: bytes

    def __new__(cls, number: int, data: bytes) -> FrameNumber:
        self = super().__new__(cls, number)
        self.data = data
        return self


#: How many frames :func:`seeded_frames` gives.
SEEDED_FRAME_COUNT = 5


def _seeded_frame_list(rng: random.Random) -> list[bytes]:
    """One of each shape, shuffled: a 7-bit and a 16-bit length, a fragment, a control frame."""
    text = rng.choice(("Hello", "frame bytes", "¡olé!", "WebSocket"))
    frames = [
        Frame(Opcode.TEXT, text.encode(), masking_key=rng.randbytes(4)),
        Frame(Opcode.BINARY, rng.randbytes(rng.randrange(126, 1000))),
        Frame(Opcode.TEXT, rng.randbytes(rng.randrange(1, 40)), fin=False, masking_key=rng.randbytes(4)),
        Frame(rng.choice((Opcode.PING, Opcode.PONG, Opcode.CLOSE)), rng.randbytes(rng.randrange(0, 20))),
        Frame(Opcode.CONTINUATION, rng.randbytes(rng.randrange(126, 300)), masking_key=rng.randbytes(4)),
    ]
    rng.shuffle(frames)
    return [serialize_frame(frame) for frame in frames]


def seeded_frames(seed: int) -> list[bytes]:
    """The frames of ``"04.decode_frames"`` for ``seed``: the same seed, the same frames."""
    return _seeded_frame_list(random.Random(seed))[:SEEDED_FRAME_COUNT]


def _read(data: bytes) -> dict[str, Any]:
    header = parse_header(data)
    assert header is not None
    return {"opcode": header["opcode"], "length": header["payload_length"], "fin": header["fin"]}


class Hidden(dict[str, Any]):
    """An expected reading that the result table does not give away: read it from the bytes."""

    def __repr__(self) -> str:
        return "(read it from the bytes)"


def same_reading(expected: Any, got: Any) -> bool:
    """The student's dict says what the expected one says (``fin`` may be written 1 or True)."""
    return (
        isinstance(got, dict) and set(got) == set(expected) and all(got[k] == expected[k] for k in expected)
    )


def decode_frame_cases(rng: random.Random, count: int) -> list[Case]:
    frames = _seeded_frame_list(rng)[:count]
    return [
        Case(
            (FrameNumber(number, data),),
            Hidden(opcode=int(data[0] & 0x0F), length=len(data) - _needed(data), fin=bool(data[0] & 0x80)),
            label=f"frames[{number}]: {data[:6].hex(' ')} …",
            hint="byte 0: FIN is the top bit, the opcode the low 4 bits; byte 1: the length",
        )
        for number, data in enumerate(frames)
    ]


class _Reader(dict[Any, Any]):
    """An answer that reads each frame it is asked about (the reference, and the mistakes)."""

    def __init__(self, read: Any) -> None:
        super().__init__()
        self.read = read

    def get(self, key: Any, default: Any = None) -> Any:
        return self.read(key.data) if isinstance(key, FrameNumber) else default


def diagnose_decoded(case: Case, got: Any) -> str | None:
    data: bytes = case.args[0].data
    expected = case.expected
    if not isinstance(got, dict):
        return N_('write a dict for each frame: {"opcode": 0x1, "length": 5, "fin": True}')
    if set(got) != set(expected):
        exact = _('each dict has exactly the keys "opcode", "length" and "fin"; got {keys}')
        return exact.format(keys=", ".join(map(repr, got)))
    wrong = [name for name in expected if got[name] != expected[name]]
    first, second = f"{data[0]:#04x}", f"{data[1]:#04x}"
    hints = {
        "opcode": _("the opcode is the low 4 bits of byte 0: {byte} & 0x0f").format(byte=first),
        "fin": _("FIN is the top bit of byte 0 ({byte} = {bits})").format(byte=first, bits=f"{data[0]:08b}"),
        "length": _("byte 1 is {byte}: drop the MASK bit (& 0x7f)").format(byte=second)
        + (_("; 126 means the length is the next 2 bytes, big-endian") if data[1] & 0x7F == 126 else ""),
    }
    found = "; ".join(hints[name] for name in wrong if name in hints)
    return found or _("check {names}").format(names=", ".join(wrong))


register(
    Exercise(
        id="04.decode_frames",
        title="Read seeded frames by eye",
        signature='a list: [{"opcode": int, "length": int, "fin": bool}, ...], one per frame',
        reference=_Reader(_read),
        kind="value",
        rfc="§5.2",
        random_cases=decode_frame_cases,
        random_count=SEEDED_FRAME_COUNT,
        diagnose=diagnose_decoded,
        compare=same_reading,
        mistakes=(
            Mistake(
                "the 7-bit length taken as it is",
                _Reader(lambda data: {**_read(data), "length": data[1] & 0x7F}),
                "126 means the length is the next 2 bytes",
            ),
            Mistake(
                "the opcode with FIN",
                _Reader(lambda data: {**_read(data), "opcode": data[0] & 0x8F}),
                "the opcode is the low 4 bits of byte 0",
            ),
            Mistake(
                "the MASK bit kept in the length",
                _Reader(
                    lambda data: {**_read(data), "length": data[1] if data[1] >> 7 else _read(data)["length"]}
                ),
                "drop the MASK bit",
            ),
        ),
    )
)


# --- The checkpoint ----------------------------------------------------------------------------

register_quiz(
    "04.checkpoint",
    "Checkpoint: frame bytes",
    [
        Question(
            "How many bytes is the smallest header of a frame that a client sends?",
            6,
            "2 bytes (FIN, RSV, opcode; MASK, length) plus the 4-byte masking key: a client masks"
            " every frame (§5.3). Only a server's frames can have a 2-byte header.",
            rfc="§5.2",
        ),
        Question(
            "A server sends a 126-byte binary payload. How is its length written?",
            1,
            "7-bit lengths stop at 125. 126 in the 7-bit field says: the length follows in 16 bits"
            " (here 00 7e), big-endian; 127 would announce 64 bits, from 65536 bytes on.",
            choices=(
                "126 in the 7-bit field, nothing more",
                "126 in the 7-bit field, then 00 7e in 16 bits",
                "127 in the 7-bit field, then 126 in 64 bits",
            ),
            rfc="§5.2",
        ),
        Question(
            "A frame starts with the byte 0x01. What is it?",
            1,
            "0x01 = 0000 0001: FIN 0, opcode 1. The first fragment of a text message; the following"
            " frames carry opcode 0 (continuation), and the last one has FIN 1 (§5.4).",
            choices=(
                "a complete text message",
                "the first fragment of a text message: more frames follow",
                "a continuation frame",
            ),
            rfc="§5.4",
        ),
        Question(
            "Only the 3 bytes 81 fe 01 have arrived. What does parse_header answer?",
            1,
            "0xfe = MASK 1 and length 126: the header is 2 + 2 + 4 = 8 bytes, so 3 are not enough."
            " A reader waits for more bytes; it does not guess and does not fail.",
            choices=(
                "a dict with payload_length 1",
                "None: need more bytes",
                "an error: the frame is broken",
            ),
            rfc="§5.2",
        ),
        Question(
            "What is the largest payload length that fits in the 7-bit field alone?",
            125,
            "0-125 are lengths; 126 and 127 are the markers of the 16-bit and 64-bit forms (§5.2).",
            rfc="§5.2",
        ),
    ],
)
