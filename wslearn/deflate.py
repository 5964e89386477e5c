"""permessage-deflate: compressing each message with DEFLATE (RFC 7692).

A WebSocket *extension* changes what travels in the payload of data frames. This one,
``permessage-deflate``, compresses every message with DEFLATE (RFC 1951) and marks a
compressed message by setting RSV1 on its first frame ("Per-Message Compressed" bit,
RFC 7692 §6). It has two halves, and this module does both without any I/O:

* **Negotiation** in the opening handshake (RFC 7692 §5, §7.1). The client *offers* the
  extension in ``Sec-WebSocket-Extensions`` (:func:`offer`); the server *accepts* the
  first offer it can honour and says so in its response (:func:`accept`); the client
  checks that response and fails the connection if it is not acceptable
  (:func:`check_response`). Four parameters can be agreed:

  ``server_no_context_takeover`` / ``client_no_context_takeover`` (§7.1.1)
      that side starts each message with an empty LZ77 window: it cannot refer back to
      earlier messages. It costs compression but saves the memory kept between messages.
  ``server_max_window_bits`` / ``client_max_window_bits`` (§7.1.2)
      that side's LZ77 window is at most 2**bits bytes (8..15, i.e. 256 B..32 KiB).

* **Payload transformation** (RFC 7692 §7.2), by :class:`PerMessageDeflate`: compress a
  message to send (:meth:`PerMessageDeflate.encode`), and decompress a received one
  frame by frame (:meth:`PerMessageDeflate.decode`, or a :class:`MessageDecoder` fed
  any pieces). The decompressed size is checked *while* decompressing, so a small
  "decompression bomb" fails with 1009 long before it fills the memory (RFC 7692 §8).

Only the standard library's :mod:`zlib` does the DEFLATE work. :class:`wslearn.protocol.Protocol`
calls it (``deflate_offers=`` for a client, ``deflate_config=`` for a server); the servers
and clients take ``compression="deflate"`` (see :func:`server_config`, :func:`client_offers`).

Where an endpoint calls it::

    # client, opening handshake                 # server, opening handshake
    request header: offer()                     answer = accept(request's values)
    params = check_response(response's values)  if answer: response header, params = answer
    deflate = PerMessageDeflate(params, "client")   deflate = PerMessageDeflate(params, "server")

    # every received frame, before the assembler (which still checks the UTF-8, §8.1)
    frame = deflate.decode(frame)
    # every sent message: RSV1 on its first frame only, never on a control frame
    payload, rsv1 = deflate.encode(message)     # or message_encoder() for fragments
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import HandshakeError, ProtocolError
from .frames import Frame, Opcode

__all__ = [
    "DEFAULT_MAX_SIZE",
    "EXTENSION_NAME",
    "DeflateOffer",
    "DeflateParameters",
    "ExtensionOffer",
    "MessageDecoder",
    "MessageEncoder",
    "PerMessageDeflate",
    "ServerDeflateConfig",
    "accept",
    "accept_offer",
    "check_response",
    "client_offers",
    "offer",
    "parse_extensions",
    "server_config",
]

EXTENSION_NAME = "permessage-deflate"  # RFC 7692 §7 (registered in §9.1)

# RFC 7692 §7.1.2: window sizes are given as a base-2 logarithm, 8 to 15 (256 B..32 KiB).
MIN_WINDOW_BITS = 8
MAX_WINDOW_BITS = 15

# RFC 7692 §7.2.1: a message compressed with a "sync flush" ends with an empty stored
# block, the four octets 0x00 0x00 0xff 0xff. The sender removes them; the receiver puts
# them back before decompressing (§7.2.2).
EMPTY_BLOCK_TAIL = b"\x00\x00\xff\xff"

DEFAULT_MAX_SIZE = 2**20  # 1 MiB, the assembler's default limit for a message

# The decompressor hands out at most this much output per call: the most a message can
# overshoot the size limit before it is refused with 1009.
OUTPUT_CHUNK = 64 * 1024
# Compressed input is given to zlib in slices of this size, so that what zlib has not
# consumed yet (``unconsumed_tail``, a copy) stays small too.
INPUT_CHUNK = 64 * 1024

Bytes = bytes | bytearray | memoryview
Param = tuple[str, str | None]  # one extension parameter: name and value (None: no value)


# --- The Sec-WebSocket-Extensions header (RFC 6455 §9.1) ------------------------------
#
#   Sec-WebSocket-Extensions = extension-list
#   extension-list = 1#extension
#   extension = extension-token *( ";" extension-param )
#   extension-param = token [ "=" (token | quoted-string) ]
#
# A header may list several extensions (or several offers of the same one), and a
# request may carry several such headers: together they form one list, in order.


@dataclass(frozen=True)
class ExtensionOffer:
    """One element of ``Sec-WebSocket-Extensions``: a name and its parameters, in order."""

    name: str
    params: tuple[Param, ...] = ()

    def __str__(self) -> str:
        params = (name if value is None else f"{name}={value}" for name, value in self.params)
        return "; ".join([self.name, *params])


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 7230 §3.2.6
_QUOTED_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_QUOTED_PAIR = re.compile(r"\\(.)")


class _Scanner:
    """Reads one header value from left to right; raises ValueError at the first bad character."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.text.startswith((" ", "\t"), self.pos):
            self.pos += 1

    def at(self, char: str) -> bool:
        """Consume ``char`` (and the spaces after it) if it comes next."""
        self.skip_space()
        if self.text.startswith(char, self.pos):
            self.pos += 1
            self.skip_space()
            return True
        return False

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos == len(self.text)

    def token(self, what: str) -> str:
        match = _TOKEN.match(self.text, self.pos)
        if match is None:
            raise ValueError(f"expected {what} at position {self.pos} of {self.text!r}")
        self.pos = match.end()
        return match.group()

    def value(self) -> str:
        """A parameter value: a token, or a quoted-string whose content is a token (RFC 6455 §9.1)."""
        match = _QUOTED_STRING.match(self.text, self.pos)
        if match is None:
            return self.token("a parameter value")
        self.pos = match.end()
        unquoted = _QUOTED_PAIR.sub(r"\1", match.group(1))
        if not _TOKEN.fullmatch(unquoted):
            raise ValueError(f"the quoted value {match.group()} is not a token (RFC 6455 §9.1)")
        return unquoted


def parse_extensions(header_values: Iterable[str]) -> list[ExtensionOffer]:
    """All the extensions listed in one or more ``Sec-WebSocket-Extensions`` values, in order.

    ``'permessage-deflate; client_max_window_bits, permessage-deflate'`` gives two offers of
    ``permessage-deflate``, the first with one parameter. Raises ``ValueError`` when the
    text does not follow the grammar of RFC 6455 §9.1.
    """
    extensions: list[ExtensionOffer] = []
    for text in header_values:
        scanner = _Scanner(text)
        while not scanner.at_end():
            if scanner.at(","):  # RFC 7230 §7: empty list elements are allowed and ignored
                continue
            name = scanner.token("an extension name")
            params: list[Param] = []
            while scanner.at(";"):
                param = scanner.token("a parameter name")
                params.append((param, scanner.value() if scanner.at("=") else None))
            extensions.append(ExtensionOffer(name, tuple(params)))
            if not scanner.at_end() and not scanner.at(","):
                raise ValueError(f"expected ',' or ';' at position {scanner.pos} of {text!r}")
    return extensions


# --- The parameters of permessage-deflate (RFC 7692 §7.1) ------------------------------

WindowBits = int | None
# client_max_window_bits in an offer: absent (None), present without a value (True: "you
# may limit my window"), or present with a value (the client will use at most that).
OfferedClientBits = int | Literal[True] | None


@dataclass(frozen=True)
class DeflateOffer:
    """What a client asks for in one offer of permessage-deflate (RFC 7692 §7.1).

    The defaults make the most common offer, ``permessage-deflate; client_max_window_bits``:
    compression with context takeover both ways, and the server may limit our window.
    """

    server_no_context_takeover: bool = False  # §7.1.1.1: please reset your window per message
    client_no_context_takeover: bool = False  # §7.1.1.2: a hint, we will reset ours
    server_max_window_bits: WindowBits = None  # §7.1.2.1: please use at most 2**bits bytes
    client_max_window_bits: OfferedClientBits = True  # §7.1.2.2

    def __post_init__(self) -> None:
        _check_bits_setting("server_max_window_bits", self.server_max_window_bits)
        if self.client_max_window_bits is not True:
            _check_bits_setting("client_max_window_bits", self.client_max_window_bits)

    def params(self) -> tuple[Param, ...]:
        """The offer's extension parameters, in the order of RFC 7692 §7.1."""
        params: list[Param] = []
        if self.server_no_context_takeover:
            params.append(("server_no_context_takeover", None))
        if self.client_no_context_takeover:
            params.append(("client_no_context_takeover", None))
        if self.server_max_window_bits is not None:
            params.append(("server_max_window_bits", str(self.server_max_window_bits)))
        if self.client_max_window_bits is True:
            params.append(("client_max_window_bits", None))
        elif self.client_max_window_bits is not None:
            params.append(("client_max_window_bits", str(self.client_max_window_bits)))
        return tuple(params)

    def __str__(self) -> str:
        return str(ExtensionOffer(EXTENSION_NAME, self.params()))


@dataclass(frozen=True)
class ServerDeflateConfig:
    """What a server wants, whatever the client offers (RFC 7692 §7.1).

    ``server_no_context_takeover`` and ``client_no_context_takeover`` ask for a fresh window
    per message from that side even when the offer did not; the two ``*_max_window_bits``
    cap the windows (the client's cap works only if the offer allows it, §7.1.2.2).
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: WindowBits = None
    client_max_window_bits: WindowBits = None

    def __post_init__(self) -> None:
        _check_bits_setting("server_max_window_bits", self.server_max_window_bits)
        _check_bits_setting("client_max_window_bits", self.client_max_window_bits)


@dataclass(frozen=True)
class DeflateParameters:
    """The agreed configuration of one connection, derived by both endpoints (RFC 7692 §7.1)."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = MAX_WINDOW_BITS  # no parameter means 15 (§7.1.2.1)
    client_max_window_bits: int = MAX_WINDOW_BITS

    def response_params(self, received: DeflateOffer) -> tuple[Param, ...]:
        """The parameters a server puts in its response to the offer it ``received``."""
        params: list[Param] = []
        if self.server_no_context_takeover:
            params.append(("server_no_context_takeover", None))
        if self.client_no_context_takeover:
            params.append(("client_no_context_takeover", None))
        # §7.1.2.1: an offered server_max_window_bits must be answered; a server may also
        # announce a smaller window unasked.
        if self.server_max_window_bits < MAX_WINDOW_BITS or received.server_max_window_bits is not None:
            params.append(("server_max_window_bits", str(self.server_max_window_bits)))
        # §7.1.2.2: client_max_window_bits only in answer to an offer that has it.
        if received.client_max_window_bits is not None and self.client_max_window_bits < MAX_WINDOW_BITS:
            params.append(("client_max_window_bits", str(self.client_max_window_bits)))
        return tuple(params)


def _check_bits_setting(name: str, bits: int | None) -> None:
    if bits is not None and not MIN_WINDOW_BITS <= bits <= MAX_WINDOW_BITS:
        raise ValueError(f"{name} must be between {MIN_WINDOW_BITS} and {MAX_WINDOW_BITS}, not {bits}")


class _Unacceptable(Exception):
    """An offer or a response breaks the rules of RFC 7692 §7; the message says which."""


def _window_bits(name: str, value: str | None) -> int:
    # RFC 7692 §7.1.2.1/§7.1.2.2: "a decimal integer value without leading zeroes between
    # 8 to 15, inclusive".
    if value is None:
        raise _Unacceptable(f"{name} needs a value here")
    if not re.fullmatch(r"[1-9][0-9]?", value) or not 8 <= int(value) <= 15:
        raise _Unacceptable(f"{name}={value} is not a window size from 8 to 15")
    return int(value)


def _read_params(params: Sequence[Param], *, in_offer: bool) -> DeflateOffer:
    """The four parameters, checked against RFC 7692 §7: each known, once, with a valid value.

    In an offer ``client_max_window_bits`` may come without a value (§7.1.2.2); in a
    response every ``*_max_window_bits`` needs one.
    """
    found: dict[str, str | None] = {}
    for name, value in params:
        if name in found:
            raise _Unacceptable(f"the parameter {name} appears twice")
        found[name] = value
    unknown = set(found) - {
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits",
        "client_max_window_bits",
    }
    if unknown:
        raise _Unacceptable(f"{', '.join(sorted(unknown))} is not a parameter of {EXTENSION_NAME}")
    for flag in ("server_no_context_takeover", "client_no_context_takeover"):
        if found.get(flag) is not None:  # §7.1.1: these never carry a value
            raise _Unacceptable(f"{flag} takes no value; got {flag}={found[flag]}")
    server_bits = None
    if "server_max_window_bits" in found:
        server_bits = _window_bits("server_max_window_bits", found["server_max_window_bits"])
    client_bits: OfferedClientBits = None
    if "client_max_window_bits" in found:
        value = found["client_max_window_bits"]
        client_bits = True if value is None and in_offer else _window_bits("client_max_window_bits", value)
    return DeflateOffer(
        server_no_context_takeover="server_no_context_takeover" in found,
        client_no_context_takeover="client_no_context_takeover" in found,
        server_max_window_bits=server_bits,
        client_max_window_bits=client_bits,
    )


# --- The client: offer, then check the response -----------------------------------------


def offer(*offers: DeflateOffer) -> str:
    """The value of the client's ``Sec-WebSocket-Extensions`` header (RFC 7692 §5).

    With several offers the server takes the first one it can honour, so list them in
    order of preference, e.g. a small window first and the plain extension as a fallback.
    """
    return ", ".join(str(one) for one in offers or (DeflateOffer(),))


def check_response(
    header_values: Sequence[str], offers: Sequence[DeflateOffer] = (DeflateOffer(),)
) -> DeflateParameters | None:
    """What the server agreed to, from its ``Sec-WebSocket-Extensions`` (all of its values).

    ``None`` when the server did not accept permessage-deflate (no header): messages then go
    uncompressed. Raises :class:`HandshakeError` when the client must *fail the WebSocket
    connection* (RFC 7692 §5 and §7): an extension we did not offer (RFC 6455 §9.1),
    permessage-deflate accepted twice, a parameter that is unknown or twice, a bad value,
    or a configuration that matches none of our offers.
    """
    try:
        extensions = parse_extensions(header_values)
    except ValueError as exc:
        raise HandshakeError(101, f"the response's Sec-WebSocket-Extensions is malformed: {exc}") from None
    if not extensions:
        return None
    chosen = ", ".join(str(one) for one in extensions)
    if any(one.name != EXTENSION_NAME for one in extensions):
        raise HandshakeError(101, f"the server chose extensions we did not offer: {chosen} (RFC 6455 §9.1)")
    if len(extensions) > 1:
        raise HandshakeError(101, f"the server accepted {EXTENSION_NAME} more than once: {chosen}")
    try:
        response = _read_params(extensions[0].params, in_offer=False)
    except _Unacceptable as exc:
        raise HandshakeError(101, f"unacceptable {EXTENSION_NAME} response: {exc} (RFC 7692 §7)") from None
    reasons: list[str] = []
    for one in offers:
        try:
            return _agreed_by_client(one, response)
        except _Unacceptable as exc:
            reasons.append(str(exc))
    raise HandshakeError(
        101, f"unacceptable {EXTENSION_NAME} response {chosen}: {'; '.join(reasons)} (RFC 7692 §7)"
    )


def _agreed_by_client(sent: DeflateOffer, response: DeflateOffer) -> DeflateParameters:
    """The configuration a response sets up for one of our offers, if the rules allow it."""
    # §7.1.1.1: a server accepts server_no_context_takeover by repeating it; it may also
    # add it unasked. §7.1.1.2: client_no_context_takeover may always come back.
    if sent.server_no_context_takeover and not response.server_no_context_takeover:
        raise _Unacceptable("we asked for server_no_context_takeover and the response lacks it")
    # §7.1.2.1: the server answers our server_max_window_bits with the same or a smaller value.
    asked, server_bits = sent.server_max_window_bits, response.server_max_window_bits
    if asked is not None:
        if server_bits is None:
            raise _Unacceptable(f"we asked for server_max_window_bits={asked} and got no answer")
        if server_bits > asked:
            raise _Unacceptable(f"server_max_window_bits={server_bits} is more than the {asked} we asked for")
    # §7.1.2.2: client_max_window_bits may come back only if we offered it, and never
    # above the value we offered; without an answer, the value we offered holds.
    offered, answered = sent.client_max_window_bits, response.client_max_window_bits
    if answered is not None:
        if offered is None:
            raise _Unacceptable("client_max_window_bits came back, but we did not offer it")
        if offered is not True and answered > offered:
            raise _Unacceptable(f"client_max_window_bits={answered} is more than the {offered} we offered")
        client_bits = answered
    elif offered is None or offered is True:
        client_bits = MAX_WINDOW_BITS
    else:
        client_bits = offered
    return DeflateParameters(
        server_no_context_takeover=response.server_no_context_takeover,
        client_no_context_takeover=response.client_no_context_takeover or sent.client_no_context_takeover,
        server_max_window_bits=server_bits or MAX_WINDOW_BITS,
        client_max_window_bits=client_bits,
    )


# --- The server: accept the first offer it can honour ------------------------------------


def accept(
    header_values: Sequence[str], config: ServerDeflateConfig = ServerDeflateConfig()
) -> tuple[str, DeflateParameters] | None:
    """Answer the client's ``Sec-WebSocket-Extensions`` (all of its values, in order).

    Returns the value of the response's ``Sec-WebSocket-Extensions`` header and the agreed
    parameters, or ``None`` when no offer of permessage-deflate can be accepted: the
    connection then goes on without compression (RFC 7692 §5: a server *declines* an
    offer it cannot honour, it does not fail the handshake). Offers are tried in the
    client's order of preference and the first acceptable one wins (§5, examples §5.1).
    Other extensions are simply not accepted. A header that does not follow the grammar
    of RFC 6455 §9.1 gets a :class:`HandshakeError` with status 400.
    """
    try:
        extensions = parse_extensions(header_values)
    except ValueError as exc:
        raise HandshakeError(400, f"Sec-WebSocket-Extensions is malformed: {exc}") from None
    for extension in extensions:
        if extension.name != EXTENSION_NAME:
            continue
        agreed = accept_offer(extension.params, config)
        if agreed is not None:
            return agreed
    return None


def accept_offer(
    params: Sequence[Param], config: ServerDeflateConfig = ServerDeflateConfig()
) -> tuple[str, DeflateParameters] | None:
    """Accept one offer of permessage-deflate, or ``None`` to decline it (RFC 7692 §7).

    §7 lists what makes a server decline: a parameter not defined for an offer, an
    invalid value, the same parameter twice, or a configuration it does not support.
    """
    try:
        received = _read_params(params, in_offer=True)
    except _Unacceptable:
        return None
    agreed = _agreed_by_server(received, config)
    return str(ExtensionOffer(EXTENSION_NAME, agreed.response_params(received))), agreed


def _agreed_by_server(received: DeflateOffer, config: ServerDeflateConfig) -> DeflateParameters:
    """Combine an offer with the server's wishes (RFC 7692 §7.1).

    Every valid offer can be honoured: a fresh window per message is always possible, and
    every window size 8..15 too (8 is compressed with zlib's 9, see :func:`_compress_bits`).
    """
    server_bits = min(
        received.server_max_window_bits or MAX_WINDOW_BITS, config.server_max_window_bits or MAX_WINDOW_BITS
    )
    # The client's window can be capped only if it offered client_max_window_bits (§7.1.2.2).
    client_bits = MAX_WINDOW_BITS
    if received.client_max_window_bits is True:
        client_bits = config.client_max_window_bits or MAX_WINDOW_BITS
    elif received.client_max_window_bits is not None:
        client_bits = min(received.client_max_window_bits, config.client_max_window_bits or MAX_WINDOW_BITS)
    return DeflateParameters(
        server_no_context_takeover=received.server_no_context_takeover or config.server_no_context_takeover,
        client_no_context_takeover=received.client_no_context_takeover or config.client_no_context_takeover,
        server_max_window_bits=server_bits,
        client_max_window_bits=client_bits,
    )


# --- Compressing and decompressing messages (RFC 7692 §6, §7.2) -------------------------


def _compress_bits(window_bits: int) -> int:
    """The ``wbits`` zlib compresses with so that the peer's window of 2**window_bits suffices.

    zlib refuses raw DEFLATE with an 8-bit window ("Invalid initialization option",
    madler/zlib#171). Compressing with 9 instead is safe: zlib never looks back further
    than the window minus 262 bytes (MAX_DIST in deflate.c), so a 512-byte window yields
    distances of at most 250, which a peer with a 256-byte window decodes. Negative wbits
    means raw DEFLATE: no zlib header or checksum, as RFC 7692 §7.2.1 requires.
    """
    return -max(window_bits, 9)


class MessageEncoder:
    """Compresses one outgoing message, fragment by fragment (RFC 7692 §7.2.1).

    Each fragment is compressed and *sync-flushed*, so a frame can go out at once and
    the peer can decompress it on arrival. The final fragment loses the trailing
    0x00 0x00 0xff 0xff; the first frame carries RSV1, the others do not (§6.1).
    """

    def __init__(self, compressor: zlib._Compress) -> None:
        self._compressor = compressor
        self.finished = False

    def encode(self, fragment: Bytes, *, fin: bool) -> bytes:
        """The payload of the next frame of this message; ``fin`` for the last one."""
        if self.finished:
            raise RuntimeError("this message is already finished")
        data = self._compressor.compress(fragment) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        if fin:
            self.finished = True
            if data.endswith(EMPTY_BLOCK_TAIL):  # §7.2.1: remove the four octets
                data = data[: -len(EMPTY_BLOCK_TAIL)]
        return data


class MessageDecoder:
    """Decompresses one received message, fed its compressed bytes in any pieces (§7.2.2).

    The pieces are the payloads of the message's frames, concatenated: where the frames
    or the pieces begin and end does not matter. :meth:`finish` appends the 0x00 0x00
    0xff 0xff the sender removed. The decompressed size is counted as it is produced: as
    soon as it passes ``max_size`` the message is refused with 1009, having produced at
    most ``max_size`` + 1 bytes (RFC 6455 §10.4, RFC 7692 §8).
    """

    def __init__(self, decompressor: zlib._Decompress, max_size: int | None) -> None:
        self._decompressor = decompressor
        self.max_size = max_size
        self.size = 0  # decompressed bytes so far

    def decode(self, piece: Bytes, *, final: bool = False) -> bytes:
        """The decompressed bytes this piece of compressed data gives.

        ``final=True`` for the last piece of the message: the same as calling
        :meth:`finish` after it, in one step.
        """
        if len(piece) <= INPUT_CHUNK:  # the common case: one call to zlib
            return self._inflate(bytes(piece) + EMPTY_BLOCK_TAIL if final else piece)
        view = memoryview(piece)
        parts = [
            self._inflate(view[start : start + INPUT_CHUNK]) for start in range(0, len(view), INPUT_CHUNK)
        ]
        if final:
            parts.append(self.finish())
        return b"".join(parts)

    def finish(self) -> bytes:
        """The last decompressed bytes, once the message's final frame has been fed (§7.2.2)."""
        return self._inflate(EMPTY_BLOCK_TAIL)

    def _inflate(self, data: Bytes) -> bytes:
        parts: list[bytes] = []
        while True:
            limit = OUTPUT_CHUNK
            if self.max_size is not None:  # one byte past the limit is enough to know
                limit = min(limit, self.max_size - self.size + 1)
            try:
                chunk = self._decompressor.decompress(data, limit)
            except zlib.error as exc:
                reason = f"the compressed data is not valid DEFLATE: {exc} (RFC 7692 §7.2.2)"
                raise ProtocolError(1002, reason) from None
            self.size += len(chunk)
            if self.max_size is not None and self.size > self.max_size:
                raise ProtocolError(
                    1009,
                    f"the message decompresses to more than the limit of {self.max_size} bytes"
                    " (RFC 6455 §7.4.1, RFC 7692 §8)",
                )
            parts.append(chunk)
            # Stop when zlib has taken all the input *and* had room to spare: a full chunk
            # may mean more output is waiting inside zlib even with no input left.
            data = self._decompressor.unconsumed_tail
            if not data and len(chunk) < limit:
                return chunk if len(parts) == 1 else b"".join(parts)


Role = Literal["client", "server"]


class PerMessageDeflate:
    """The agreed permessage-deflate of one connection, from one endpoint's point of view.

    ``role`` says which side we are: a client compresses with the ``client_*`` parameters
    and decompresses with the ``server_*`` ones, a server the other way round. With
    context takeover (the default) one compressor and one decompressor live as long as the
    connection, so each message may refer back to the ones before it (§7.1.1); with
    ``*_no_context_takeover`` that side starts every message afresh.

    ``max_size`` limits the decompressed size of a received message (None: no limit).
    ``compress_min_size``: messages shorter than this go out uncompressed (RSV1 clear),
    which RFC 7692 §6.1 allows; the default compresses everything.
    """

    def __init__(
        self,
        params: DeflateParameters,
        role: Role,
        *,
        max_size: int | None = DEFAULT_MAX_SIZE,
        compress_min_size: int = 0,
        compress_level: int = zlib.Z_DEFAULT_COMPRESSION,
    ) -> None:
        self.params = params
        self.role = role
        self.max_size = max_size
        self.compress_min_size = compress_min_size
        self.compress_level = compress_level
        if role == "client":
            self.local_no_context_takeover = params.client_no_context_takeover
            self.local_max_window_bits = params.client_max_window_bits
            self.remote_no_context_takeover = params.server_no_context_takeover
            self.remote_max_window_bits = params.server_max_window_bits
        else:
            self.local_no_context_takeover = params.server_no_context_takeover
            self.local_max_window_bits = params.server_max_window_bits
            self.remote_no_context_takeover = params.client_no_context_takeover
            self.remote_max_window_bits = params.client_max_window_bits
        self._compressor: zlib._Compress | None = None  # kept between messages: context takeover
        self._decompressor: zlib._Decompress | None = None
        self._decoder: MessageDecoder | None = None  # the received message being decompressed

    def __repr__(self) -> str:
        return f"PerMessageDeflate({self.params}, role={self.role!r})"

    # Sending (RFC 7692 §6.1, §7.2.1)

    def encode(self, message: Bytes) -> tuple[bytes, bool]:
        """A whole message's payload and its RSV1 bit: ``(compressed, True)`` or ``(message, False)``.

        The caller may still split the payload into several frames; only the first one
        carries RSV1 (§6.1).
        """
        if len(message) < self.compress_min_size:
            return bytes(message), False
        return self.message_encoder().encode(message, fin=True), True

    def message_encoder(self) -> MessageEncoder:
        """A :class:`MessageEncoder` for a message sent in fragments; its first frame gets RSV1."""
        if self._compressor is None or self.local_no_context_takeover:
            # §7.1.1: without context takeover every message starts with an empty window.
            self._compressor = zlib.compressobj(
                self.compress_level, zlib.DEFLATED, _compress_bits(self.local_max_window_bits)
            )
        return MessageEncoder(self._compressor)

    # Receiving (RFC 7692 §6.2, §7.2.2)

    @property
    def receiving_compressed(self) -> bool:
        """Is a compressed message half received (its first frame in, not its last)?"""
        return self._decoder is not None

    def message_decoder(self) -> MessageDecoder:
        """A :class:`MessageDecoder` for a message whose first frame had RSV1 set."""
        # A sender may end a message with a final block (BFINAL, RFC 7692 §7.2.3.4); that
        # ends zlib's stream, so the next message needs a new decompressor.
        if self._decompressor is None or self.remote_no_context_takeover or self._decompressor.eof:
            # Decompressing with the full 15 bits would work too, but the agreed window is
            # all the memory the peer's messages need (§7.1.2).
            self._decompressor = zlib.decompressobj(wbits=-self.remote_max_window_bits)
        return MessageDecoder(self._decompressor, self.max_size)

    def decode(self, frame: Frame) -> Frame:
        """Undo the compression of one received frame; call it for every frame, in order.

        Control frames and the frames of uncompressed messages come back as they are. For a
        compressed message the frame comes back with its payload decompressed and RSV1
        cleared, so the rest of the protocol sees an ordinary frame. Raises ProtocolError
        1002 for RSV1 where RFC 7692 §6.1 forbids it (a control frame, or a frame other
        than a message's first) and 1009 when the message decompresses to more than
        ``max_size``.
        """
        if frame.opcode.is_control:
            if frame.rsv1:
                reason = f"RSV1 is set on a {frame.opcode.name} frame; control frames are never compressed"
                raise ProtocolError(1002, reason + " (RFC 7692 §6.1)")
            return frame
        if frame.opcode is Opcode.CONTINUATION:
            if frame.rsv1:
                reason = "RSV1 is set on a continuation frame; only the first frame of a message may carry it"
                raise ProtocolError(1002, reason + " (RFC 7692 §6.1)")
        elif frame.rsv1:
            self._decoder = self.message_decoder()
        else:
            self._decoder = None  # an uncompressed message (§6.2)
        decoder = self._decoder
        if decoder is None:
            return frame
        data = decoder.decode(frame.payload, final=frame.fin)
        if frame.fin:
            self._decoder = None
        # The same frame with RSV1 cleared (positional arguments: twice as fast as keywords).
        return Frame(frame.opcode, data, frame.fin, False, frame.rsv2, frame.rsv3, frame.masking_key)


# --- The ``compression=`` option of servers and clients -------------------------------

# ``None``: no compression; ``"deflate"``: permessage-deflate with the default settings;
# or the settings themselves (a ServerDeflateConfig for a server, DeflateOffers for a client).
Compression = Literal["deflate"] | ServerDeflateConfig | DeflateOffer | Sequence[DeflateOffer] | None


def server_config(compression: Compression) -> ServerDeflateConfig | None:
    """What a server with ``compression=...`` accepts: None (no offer) or its wishes."""
    if compression is None:
        return None
    if compression == "deflate":
        return ServerDeflateConfig()
    if isinstance(compression, ServerDeflateConfig):
        return compression
    expected = 'a server\'s compression is None, "deflate" or a ServerDeflateConfig'
    raise ValueError(f"{expected}, not {compression!r}")


def client_offers(compression: Compression) -> tuple[DeflateOffer, ...]:
    """The offers a client with ``compression=...`` makes (none for None)."""
    if compression is None:
        return ()
    if compression == "deflate":
        return (DeflateOffer(),)
    if isinstance(compression, DeflateOffer):
        return (compression,)
    if (
        isinstance(compression, Sequence)
        and not isinstance(compression, str)
        and compression
        and all(isinstance(one, DeflateOffer) for one in compression)
    ):
        return tuple(compression)
    expected = 'a client\'s compression is None, "deflate" or DeflateOffers'
    raise ValueError(f"{expected}, not {compression!r}")
