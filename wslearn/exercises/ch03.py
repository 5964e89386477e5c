"""Chapter 03, the accept key: ``"03.accept_key"``, ``"03.is_valid_key"`` and the checkpoint.

The server proves it read the client's handshake by answering
``Sec-WebSocket-Accept: base64(SHA-1(key + GUID))`` (RFC 6455 §1.3, §4.2.2 step 5.4); the
client checks that value before it sends a frame (§4.1). A key is valid only when it is the
base64 encoding of 16 bytes, which is always 24 characters (§4.1, §4.2.1 item 5).

The case tables below are what the course kit grades with: the RFC's example, the keys of
the articles the course grew from (one of them is 23 characters long and must be refused),
boundary cases, and random keys drawn from a seed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import string
from collections.abc import Callable
from typing import Any

from wslearn.i18n import N_, _

from .core import Case, Exercise, Mistake, Question, register, register_quiz

#: RFC 6455 §1.3: the GUID every server appends to the key.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: RFC 6455 §1.3: the sample key and the accept value it must give.
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#: A key with a character missing (23 characters), shown beside the RFC's accept in two of
#: the articles the course grew from: no server may accept it.
SHORT_KEY = "x4JJHMbDL22zLk1GBhXDw=="
BASE64_ALPHABET = string.ascii_letters + string.digits + "+/"


# --- 03.accept_key -----------------------------------------------------------------------------


def accept_key(key: str) -> str:
    """The reference: base64( SHA-1( key + GUID ) ), RFC 6455 §4.2.2 step 5.4.

    §1.3: the key is taken "minus any leading and trailing whitespace" before the GUID is
    appended (an HTTP parser has already removed it from a header value, §4.2.1).
    """
    digest = hashlib.sha1((key.strip() + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def _sha1(text: str) -> bytes:
    return hashlib.sha1(text.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# Typical wrong answers, each a function a student might write. The diagnosis below
# recognises their results; the test suite checks that each one fails with its hint.


def _no_guid(key: str) -> str:
    return _b64(_sha1(key.strip()))


def _hex_digest(key: str) -> str:
    return hashlib.sha1((key.strip() + GUID).encode()).hexdigest()


def _base64_of_hex(key: str) -> str:
    return _b64(_hex_digest(key).encode("ascii"))


def _lowercase_guid(key: str) -> str:
    return _b64(_sha1(key.strip() + GUID.lower()))


def _decoded_key(key: str) -> str:
    return _b64(hashlib.sha1(base64.b64decode(key.strip()) + GUID.encode()).digest())


def _guid_first(key: str) -> str:
    return _b64(_sha1(GUID + key.strip()))


def _no_strip(key: str) -> str:
    return _b64(_sha1(key + GUID))


def _returns_bytes(key: str) -> bytes:
    return base64.b64encode(_sha1(key.strip() + GUID))


# (name, wrong function, hint): the order is the order in which the diagnosis tries them.
ACCEPT_MISTAKES: tuple[tuple[str, Callable[[str], Any], str], ...] = (
    (
        "no GUID",
        _no_guid,
        N_("you hashed the key alone: append the GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11 first (§1.3)"),
    ),
    (
        "hex digest",
        _hex_digest,
        N_("that is the SHA-1 as 40 hex digits (.hexdigest()): base64-encode the 20 raw bytes (.digest())"),
    ),
    (
        "base64 of the hex digest",
        _base64_of_hex,
        N_("you base64-encoded the 40 hex digits; base64-encode the 20 raw bytes of .digest() instead"),
    ),
    (
        "lowercase GUID",
        _lowercase_guid,
        N_("the GUID is case-sensitive: write it in upper case, exactly as RFC 6455 §1.3 prints it"),
    ),
    (
        "key decoded first",
        _decoded_key,
        N_(
            "you base64-decoded the key first; the RFC appends the GUID to the key as received, "
            "24 characters of text (§4.2.2)"
        ),
    ),
    (
        "GUID first",
        _guid_first,
        N_("the GUID goes after the key: SHA-1(key + GUID), not SHA-1(GUID + key)"),
    ),
    (
        "whitespace kept",
        _no_strip,
        N_("the spaces (or CR LF) around the key are not part of it: strip them first (§1.3)"),
    ),
)


def diagnose_accept(case: Case, got: Any) -> str | None:
    """Recognise a typical wrong ``Sec-WebSocket-Accept`` value and say what went wrong."""
    if got is None:
        return N_("your function returned None: did it forget to return the value?")
    key = case.args[0]
    if isinstance(got, (bytes, bytearray)):
        if bytes(got) == _returns_bytes(key):
            return N_("right value, but bytes: base64.b64encode() returns bytes, .decode('ascii') them")
        return N_("expected a str (the header value), got bytes")
    if not isinstance(got, str):
        return None
    if got != got.strip():
        return N_("the value has spaces or a newline around it: a header value is just the 28 characters")
    for _name, wrong, hint in ACCEPT_MISTAKES:
        try:
            if got == wrong(key):
                return hint
        except (ValueError, UnicodeError, binascii.Error):
            continue
    if len(got) != 28:
        return _("an accept value is base64 of 20 bytes, always 28 characters; got {count}").format(
            count=len(got)
        )
    return None


def random_key(rng: random.Random, size: int = 16) -> str:
    """base64 of ``size`` bytes drawn from ``rng`` (16 bytes: a valid key)."""
    return _b64(bytes(rng.randrange(256) for _number in range(size)))


def random_accept_cases(rng: random.Random, count: int) -> list[Case]:
    keys = [random_key(rng) for _number in range(count)]
    return [Case((key,), accept_key(key), hint="a random 16-byte key (a kata case)") for key in keys]


ACCEPT_CASES = (
    Case((RFC_KEY,), RFC_ACCEPT, label="the example of RFC 6455 §1.3", rfc="§1.3"),
    Case(
        ("sN9cRrP/n9NdMgdcy2VJFQ==",),
        "fFBooB7FAkLlXgRSz0BT3v4hq5s=",
        label="an article's handshake example (a key with a '/')",
        rfc="§4.2.2",
    ),
    Case(
        ("x3JJHMbDL1EzLkh9GBhXDw==",),
        "HSmrc0sMlYUkAGmm5OPpG2HaGWk=",
        label="another article's handshake example",
        rfc="§4.2.2",
    ),
    Case(
        ("AAAAAAAAAAAAAAAAAAAAAA==",),
        accept_key("AAAAAAAAAAAAAAAAAAAAAA=="),
        label="16 zero bytes",
        hint="the formula does not depend on what the key's bytes are",
    ),
    Case(
        ("/////////////////////w==",),
        accept_key("/////////////////////w=="),
        label="16 bytes 0xff: a key full of '/'",
    ),
    Case(
        (SHORT_KEY,),
        accept_key(SHORT_KEY),
        label="the 23-character key of two articles: the formula still gives a value",
        hint="accept_key computes; refusing an invalid key is is_valid_key's job",
        rfc="§4.2.2",
    ),
    Case(
        ("  " + RFC_KEY + "  ",),
        RFC_ACCEPT,
        label="the RFC key with spaces around it",
        hint="strip the whitespace around the key (§1.3)",
        rfc="§1.3",
    ),
    Case(
        (RFC_KEY + "\r\n",),
        RFC_ACCEPT,
        label="the RFC key as read from a header line, CR LF included",
        hint="strip the whitespace around the key (§1.3)",
        rfc="§1.3",
    ),
)

register(
    Exercise(
        id="03.accept_key",
        title="Sec-WebSocket-Accept from Sec-WebSocket-Key",
        signature="accept_key(key: str) -> str",
        reference=accept_key,
        rfc="§4.2.2",
        cases=ACCEPT_CASES,
        random_cases=random_accept_cases,
        diagnose=diagnose_accept,
        mistakes=(
            *(Mistake(name, wrong, hint[:40]) for name, wrong, hint in ACCEPT_MISTAKES),
            Mistake("bytes returned", _returns_bytes, "right value, but bytes"),
        ),
        explanation="base64(SHA-1(key + GUID)): 20 bytes of digest, 28 characters of base64.",
    )
)


# --- 03.is_valid_key -----------------------------------------------------------------------------


def is_valid_key(key: str) -> bool:
    """The reference: is ``key`` the base64 encoding of 16 bytes? (RFC 6455 §4.1, §4.2.1 item 5)

    16 bytes are 5 groups of 3 bytes and 1 byte left over: 5 × 4 characters, then 2 characters
    and the padding "==". So a valid key is exactly 24 characters of the base64 alphabet.
    """
    if len(key) != 24:
        return False
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):  # not base64, or characters outside ASCII
        return False


def _length_only(key: str) -> bool:
    return len(key) == 24


def _ends_with_padding(key: str) -> bool:
    return len(key) == 24 and key.endswith("==")


def _decodes_at_all(key: str) -> bool:
    try:
        base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _lenient_decode(key: str) -> bool:
    try:
        return len(base64.b64decode(key)) == 16  # validate=False skips characters outside the alphabet
    except (binascii.Error, ValueError):
        return False


NOT_BASE64 = "24 characters, but not all from the base64 alphabet (A–Z a–z 0–9 + / and = at the end)"
WRONG_SIZE = "valid base64, but not of 16 bytes: a key is 16 bytes (§4.1)"
WRONG_LENGTH = "a valid key is exactly 24 characters: base64 of 16 bytes"
VALID = "a valid key: 24 characters of base64 that decode to 16 bytes (§4.1)"


def _invalid(key: str, label: str, hint: str) -> Case:
    return Case((key,), False, label=label, hint=hint, rfc="§4.2.1")


VALID_KEY_CASES = (
    Case((RFC_KEY,), True, label="the example of RFC 6455 §1.3", hint=VALID, rfc="§1.3"),
    Case(("sN9cRrP/n9NdMgdcy2VJFQ==",), True, label="an article's key (with a '/')", hint=VALID),
    Case(("AAAAAAAAAAAAAAAAAAAAAA==",), True, label="16 zero bytes", hint=VALID),
    Case(("+++++++++++++++++++++w==",), True, label="a key of '+' (in the alphabet)", hint=VALID),
    _invalid(SHORT_KEY, "the 23-character key of two articles", WRONG_LENGTH),
    _invalid("x4jjhmbdl22zlk1gbhxdw==", "the same key, lower-cased by a publishing tool", WRONG_LENGTH),
    _invalid("", "an empty key", WRONG_LENGTH),
    _invalid("!!!!!!!!!!!!!!!!!!!!!!!!", "24 characters that are not base64", NOT_BASE64),
    _invalid("!!!!!!!!!!!!!!!!!!!!!!==", "22 non-base64 characters, then '=='", NOT_BASE64),
    _invalid("dGhlIHNhbXBsZSBub25jZQ-_", "the URL-safe alphabet ('-' and '_')", NOT_BASE64),
    _invalid("dGhlIHNhbXBsZSBub25jZ===", "three '=' of padding", NOT_BASE64),
    _invalid("AAAAAAAAAAAAAAAAAAAA==AA", "padding in the middle", NOT_BASE64),
    _invalid("dGhlIHNhbXBsZSBub25jZQ=é", "a character outside ASCII", NOT_BASE64),
    _invalid("dGhlIHNhbXBsZSBub25jZQ", "the RFC key without its padding (22 characters)", WRONG_LENGTH),
    _invalid("dGhlIHNhbXBsZSBub25jZQ===", "one '=' too many (25 characters)", WRONG_LENGTH),
    _invalid("dGhlIHNh bXBsZSBub25jZQ==", "a space inside the key", WRONG_LENGTH),
    _invalid("AAAAAAAAAAAAAAAAAAAA", "base64 of 15 bytes (20 characters)", WRONG_LENGTH),
    _invalid("AAAAAAAAAAAAAAAAAAAAAAA=", "base64 of 17 bytes: 24 characters too", WRONG_SIZE),
    _invalid("AAAAAAAAAAAAAAAAAAAAAAAA", "base64 of 18 bytes: 24 characters, no padding", WRONG_SIZE),
    _invalid("the sample nonce", "the RFC's 16 bytes themselves, not encoded", WRONG_LENGTH),
    _invalid("00112233445566778899aabbccddeeff", "16 bytes written in hex", WRONG_LENGTH),
)


def random_valid_key_cases(rng: random.Random, count: int) -> list[Case]:
    """Fresh keys for a kata: valid ones, and near misses of each kind."""
    cases = []
    for _number in range(count):
        key = random_key(rng)
        kind = rng.randrange(5)
        if kind == 0:
            cases.append(Case((key,), True, hint=VALID))
        elif kind == 1:
            cases.append(_invalid(key[:-1], "", WRONG_LENGTH))  # one character short, like the articles'
        elif kind == 2:
            at = rng.randrange(21)
            bad = key[:at] + rng.choice("!-_.:*") + key[at + 1 :]
            cases.append(_invalid(bad, "", NOT_BASE64))
        else:
            size = rng.choice((15, 17, 18) if kind == 3 else (12, 14, 20))
            other = random_key(rng, size)
            hint = WRONG_SIZE if len(other) == 24 else WRONG_LENGTH
            cases.append(_invalid(other, "", hint))
    return cases


def diagnose_valid_key(case: Case, got: Any) -> str | None:
    if got is None:
        return N_("your function returned None: return True or False")
    return None  # a wrong bool: the case's own hint says what makes this key valid or not


register(
    Exercise(
        id="03.is_valid_key",
        title="Is this a valid Sec-WebSocket-Key?",
        signature="is_valid_key(key: str) -> bool",
        reference=is_valid_key,
        rfc="§4.1",
        cases=VALID_KEY_CASES,
        random_cases=random_valid_key_cases,
        random_count=8,
        diagnose=diagnose_valid_key,
        mistakes=(
            Mistake("length only", _length_only, "not all from the base64 alphabet"),
            Mistake("length and '=='", _ends_with_padding, "not all from the base64 alphabet"),
            Mistake("decodes, any size", _decodes_at_all, "a valid key is exactly 24 characters"),
            Mistake("lenient decoding", _lenient_decode, "a valid key is exactly 24 characters"),
        ),
        explanation="24 characters of base64 that decode to exactly 16 bytes.",
    )
)


# --- The checkpoint --------------------------------------------------------------------------

register_quiz(
    "03.checkpoint",
    "Checkpoint: the accept key",
    [
        Question(
            "How many characters long is every valid Sec-WebSocket-Key?",
            24,
            "16 bytes are five groups of 3 bytes (20 characters) and one byte left over, "
            "which base64 writes as 2 characters and the padding '==': 24 in all.",
            rfc="§4.1",
        ),
        Question(
            "What does a correct Sec-WebSocket-Accept prove to the client?",
            1,
            "Only that the server read this handshake and speaks WebSocket: anyone can compute "
            "the value, and it travels in clear text. TLS (wss://) is what protects the data.",
            choices=(
                "that the connection is encrypted from now on",
                "that the server understood this very WebSocket request",
                "that the client is who it says it is",
                "that the server stored the key as the client's session id",
            ),
            rfc="§1.3",
        ),
        Question(
            "A client sends the 23-character key x4JJHMbDL22zLk1GBhXDw==. What does a correct server do?",
            2,
            "The key is not base64 of 16 bytes, so the request is not a valid handshake: the "
            "server answers 400 Bad Request and sends no Sec-WebSocket-Accept at all.",
            choices=(
                "answers 101 with Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                "answers 101 with base64(SHA-1(key + GUID))",
                "answers 400 Bad Request, with no accept value",
                "pads the key with a '=' and goes on",
            ),
            rfc="§4.2.1",
        ),
        Question(
            "The server's 101 carries a Sec-WebSocket-Accept that is not base64(SHA-1(key + GUID)). "
            "What does the client do?",
            0,
            "It must fail the WebSocket connection (§4.1): close the TCP connection without "
            "sending a single frame.",
            choices=(
                "fails the connection before sending any frame",
                "sends its messages anyway: the 101 status is what counts",
                "sends a Close frame with code 1002",
                "retries the handshake with the same key",
            ),
            rfc="§4.1",
        ),
        Question(
            "Why does a client pick a fresh random key for every connection?",
            3,
            "§4.1 asks for a nonce chosen at random for each connection, so the expected accept "
            "value is new each time: an answer recorded from an earlier handshake does not fit. "
            "The key is no session id: the next connection of the same page has another key.",
            choices=(
                "so the server can find the client's session again after a reload",
                "because the key encrypts the frames that follow",
                "because the server must store every key it has seen",
                "so that the accept value proves the server answered this handshake, not an older one",
            ),
            rfc="§4.1",
        ),
    ],
)
