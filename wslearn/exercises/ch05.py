"""Chapter 05, masking: ``"05.apply_mask"`` and the checkpoint.

RFC 6455 §5.3: "Octet i of the transformed data ("transformed-octet-i") is the XOR of octet i
of the original data ("original-octet-i") with octet at index i modulo 4 of the masking key
("masking-key-octet-j")". The same function masks and unmasks.

The fixed cases are the RFC's example (§5.7), the empty payload, and payloads of 1 to 9
bytes masked with a key of four different bytes, so that any slip in ``i % 4`` shows; the
random cases (a kata) are checked against :func:`wslearn.frames.apply_mask`.
"""

from __future__ import annotations

import random
from typing import Any

from wslearn.frames import apply_mask as wslearn_apply_mask
from wslearn.i18n import N_, _

from .core import Case, Exercise, Mistake, Question, register, register_quiz

#: The masking key of the examples of RFC 6455 §5.7.
RFC_KEY = bytes.fromhex("37fa213d")
#: A key whose four bytes differ in every bit position that matters for the cases below.
DISTINCT_KEY = bytes.fromhex("01020408")
RULE = "byte i of the result is payload[i] XOR masking_key[i % 4]"
REPEAT = "zero bytes XOR the key give the key itself, repeated: byte i is masking_key[i % 4]"


def apply_mask(payload: bytes, masking_key: bytes) -> bytes:
    """The reference: byte i XOR key byte i % 4 (RFC 6455 §5.3)."""
    return bytes(octet ^ masking_key[i % 4] for i, octet in enumerate(payload))


# Typical wrong answers, and the hint each must produce.


def _zip_stops_early(payload: bytes, masking_key: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(payload, masking_key))  # noqa: B905 (the mistake)


def _modulo_3(payload: bytes, masking_key: bytes) -> bytes:
    return bytes(octet ^ masking_key[i % 3] for i, octet in enumerate(payload))


def _off_by_one(payload: bytes, masking_key: bytes) -> bytes:
    return bytes(octet ^ masking_key[(i + 1) % 4] for i, octet in enumerate(payload))


def _or_instead_of_xor(payload: bytes, masking_key: bytes) -> bytes:
    return bytes(octet | masking_key[i % 4] for i, octet in enumerate(payload))


def _addition(payload: bytes, masking_key: bytes) -> bytes:
    return bytes((octet + masking_key[i % 4]) % 256 for i, octet in enumerate(payload))


def _list_of_ints(payload: bytes, masking_key: bytes) -> list[int]:
    return [octet ^ masking_key[i % 4] for i, octet in enumerate(payload)]


def _key_reversed(payload: bytes, masking_key: bytes) -> bytes:
    return apply_mask(payload, masking_key[::-1])


MASK_MISTAKES = (
    ("zip stops after 4 bytes", _zip_stops_early, "zip() stops at the shorter input"),
    ("i % 3", _modulo_3, "the key has 4 bytes: byte i uses key[i % 4]"),
    ("off by one", _off_by_one, "byte 0 uses key[0], byte 1 key[1], …: start the key at 0"),
    ("key reversed", _key_reversed, "the key's bytes are used in order"),
    ("OR", _or_instead_of_xor, "use XOR (^)"),
    ("addition", _addition, "use XOR (^)"),
)


def diagnose_mask(case: Case, got: Any) -> str | None:
    """Recognise a typical wrong result of apply_mask and say what went wrong."""
    if got is None:
        return N_("your function returned None: did it forget to return the bytes?")
    payload, masking_key = case.args
    if isinstance(got, list) and got == _list_of_ints(payload, masking_key):
        return N_("right numbers, but a list: return bytes(...) of them")
    if isinstance(got, str):
        return N_("a str: masking works on bytes and returns bytes")
    if not isinstance(got, (bytes, bytearray)):
        return None
    for _name, wrong, hint in MASK_MISTAKES:
        if bytes(got) == wrong(payload, masking_key) and len(payload) > 0:
            if wrong is _zip_stops_early:
                return _("{hint}: repeat the key, byte i uses key[i % 4]").format(hint=_(hint))
            if wrong in (_or_instead_of_xor, _addition):
                inverse = _("{hint}: XOR is its own inverse, so the same function unmasks (§5.3)")
                return inverse.format(hint=_(hint))
            return hint
    if len(got) != len(payload):
        same_length = _("the result has {got} bytes; a masked payload is as long as the payload ({length})")
        return same_length.format(got=len(got), length=len(payload))
    return None


def _case(payload: bytes, key: bytes, label: str = "", hint: str = RULE, rfc: str = "§5.3") -> Case:
    return Case((payload, key), wslearn_apply_mask(payload, key), label=label, hint=hint, rfc=rfc)


def random_mask_cases(rng: random.Random, count: int) -> list[Case]:
    """Random payloads (0 to 300 bytes) and keys; the expected value is wslearn's apply_mask."""
    cases = []
    for _number in range(count):
        payload = rng.randbytes(rng.randrange(301))
        key = rng.randbytes(4)
        cases.append(_case(payload, key, hint="a random payload and key (a kata case)"))
    return cases


MASK_CASES = (
    _case(
        b"Hello",
        RFC_KEY,
        label="RFC 6455 §5.7: 'Hello' with the key 37 fa 21 3d gives 7f 9f 4d 51 58",
        rfc="§5.7",
    ),
    _case(
        bytes.fromhex("7f9f4d5158"),
        RFC_KEY,
        label="unmasking the RFC's bytes gives 'Hello' back",
        hint="the same XOR masks and unmasks",
        rfc="§5.7",
    ),
    _case(b"", RFC_KEY, label="an empty payload", hint="nothing to mask: b''"),
    *(
        _case(
            bytes(size),
            DISTINCT_KEY,
            label=f"{size} zero byte{'s' * (size > 1)}: the key repeated",
            hint=REPEAT,
        )
        for size in range(1, 10)
    ),
    _case(
        b"\xff" * 9, DISTINCT_KEY, label="9 bytes 0xff", hint="byte i is payload[i] XOR masking_key[i % 4]"
    ),
    _case(b"Hello, WebSocket!", bytes(4), label="the key 00 00 00 00 changes nothing"),
    _case("Grüße, 世界".encode(), RFC_KEY, label="UTF-8 text: bytes are masked, not characters"),
    _case(bytes(range(256)), bytes.fromhex("a1b2c3d4"), label="every byte value 00..ff"),
)

register(
    Exercise(
        id="05.apply_mask",
        title="Mask (and unmask) a payload",
        signature="apply_mask(payload: bytes, masking_key: bytes) -> bytes",
        reference=apply_mask,
        rfc="§5.3",
        cases=MASK_CASES,
        random_cases=random_mask_cases,
        diagnose=diagnose_mask,
        mistakes=(
            *(Mistake(name, wrong, hint) for name, wrong, hint in MASK_MISTAKES),
            Mistake("list of ints", _list_of_ints, "right numbers, but a list"),
        ),
        explanation="Byte i XOR key[i % 4]; the same function unmasks.",
    )
)


register_quiz(
    "05.checkpoint",
    "Checkpoint: masking",
    [
        Question(
            "Which frames are masked?",
            1,
            "Every frame a client sends, and only those (§5.1): a server never masks. A server that "
            "receives an unmasked frame closes with 1002; a client that receives a masked one does too.",
            choices=(
                "every frame, in both directions",
                "every frame from the client to the server",
                "only text frames",
                "only frames that carry a password",
            ),
            rfc="§5.1",
        ),
        Question(
            "'H' is the byte 0x48 and the first byte of the masking key is 0x37. "
            "What is the first masked byte, as a decimal number?",
            127,
            "0x48 XOR 0x37 = 0x7f = 127, the first payload byte of the masked 'Hello' of §5.7.",
            rfc="§5.7",
        ),
        Question(
            "Someone records a client's frames on the network. Can they read the messages?",
            0,
            "Yes: the masking key is in the frame header, right before the payload. Masking hides "
            "nothing from an observer; only TLS (wss://) does.",
            choices=(
                "yes: each frame carries its own masking key",
                "no: they would need the server's private key",
                "no: the key is derived from Sec-WebSocket-Accept",
                "only for text frames",
            ),
            rfc="§5.3",
        ),
        Question(
            "Why does RFC 6455 make clients mask their frames?",
            2,
            "A script in a web page chooses the data it sends, but not the masking key, which the "
            "browser draws at random for each frame. So the script cannot choose the bytes on the wire, "
            "and cannot make a proxy that does not understand WebSocket see, say, an HTTP request "
            "it would cache (§10.3).",
            choices=(
                "to encrypt the messages",
                "to compress the payload",
                "so that a script cannot choose the bytes that a confused proxy sees on the wire",
                "so that the server can check the client's identity",
            ),
            rfc="§10.3",
        ),
        Question(
            "A server receives an unmasked text frame from a client. What does it do?",
            3,
            "§5.1: the server MUST close the connection; wslearn's server sends a Close frame with "
            "1002 (protocol error) first, so the client learns why.",
            choices=(
                "unmasks it anyway with the key 00 00 00 00",
                "drops the frame and waits for the next one",
                "answers with a masked frame",
                "fails the connection: a Close frame with code 1002",
            ),
            rfc="§5.1",
        ),
    ],
)
