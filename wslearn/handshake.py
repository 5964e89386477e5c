"""The opening handshake: one HTTP request and one HTTP response (RFC 6455 §4).

A WebSocket connection starts life as HTTP/1.1. The client asks to switch protocols::

    GET /chat HTTP/1.1
    Host: server.example.com
    Upgrade: websocket
    Connection: Upgrade
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
    Sec-WebSocket-Version: 13

and the server agrees, proving it read the key (RFC 6455 §1.3)::

    HTTP/1.1 101 Switching Protocols
    Upgrade: websocket
    Connection: Upgrade
    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=

After the blank line that ends the response, both sides speak frames (see ``frames``).

This module only turns bytes into :class:`Request` / :class:`Response` objects and back,
and checks them: :func:`check_request` is what a server does (RFC 6455 §4.2.1) and
:func:`check_response` what a client does (§4.1). Every check that fails raises a
:class:`~wslearn.errors.HandshakeError` carrying the HTTP status a server answers with.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import overload

from . import deflate
from .errors import HandshakeError

__all__ = [
    "GUID",
    "MAX_BODY_SIZE",
    "MAX_HEADER_SIZE",
    "SECRET_HEADERS",
    "SECRET_QUERY",
    "AcceptSteps",
    "Headers",
    "Request",
    "Response",
    "accept_key",
    "accept_key_steps",
    "agreed_deflate",
    "build_accept_response",
    "build_error_response",
    "build_request",
    "check_host",
    "check_request",
    "check_response",
    "generate_key",
    "head_ends_in",
    "host_allowed",
    "host_name",
    "is_loopback",
    "offered_subprotocols",
    "parse_header_tokens",
    "redact_target",
    "select_subprotocol",
    "text_response",
]

# RFC 6455 §1.3: the "Globally Unique Identifier" every server appends to the key.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# The largest header section (request or status line + header lines + blank line) we
# read. Bigger requests get 431 Request Header Fields Too Large (RFC 6585 §5).
MAX_HEADER_SIZE = 8192

# The largest body of a non-101 response a client reads (the server's error page).
MAX_BODY_SIZE = 65536


Bytes = bytes | bytearray | memoryview


# --- The key and the accept value (RFC 6455 §4.1, §4.2.2) ---------------------------


def generate_key() -> str:
    """A fresh ``Sec-WebSocket-Key``: 16 random bytes, base64-encoded (RFC 6455 §4.1).

    "The value of this header field MUST be a nonce consisting of a randomly selected
    16-byte value that has been base64-encoded" — always 24 characters, ending in "==".
    """
    return base64.b64encode(os.urandom(16)).decode("ascii")


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` a server answers to ``key`` (RFC 6455 §4.2.2, step 5.4).

    base64( SHA-1( key + GUID ) ) — the server proves it understood WebSocket.
    """
    digest = hashlib.sha1((key + GUID).encode()).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True, slots=True)
class AcceptSteps:
    """Each intermediate value of :func:`accept_key`, for looking at one step at a time."""

    key: str  # the client's Sec-WebSocket-Key
    concatenated: str  # key + GUID
    sha1_hex: str  # SHA-1 of the concatenation, as 40 hex digits
    sha1_digest: bytes  # the same 20 bytes
    accept: str  # base64 of those 20 bytes: the Sec-WebSocket-Accept value

    def __str__(self) -> str:
        return (
            f"1. key                {self.key}\n"
            f"2. key + GUID         {self.concatenated}\n"
            f"3. SHA-1 (hex)        {self.sha1_hex}\n"
            f"4. base64 of SHA-1    {self.accept}"
        )

    def _repr_html_(self) -> str:
        from .explain import accept_steps_html

        return accept_steps_html(self)


def accept_key_steps(key: str) -> AcceptSteps:
    """:func:`accept_key`, one step at a time (RFC 6455 §1.3)."""
    concatenated = key + GUID
    digest = hashlib.sha1(concatenated.encode()).digest()
    accept = base64.b64encode(digest).decode("ascii")
    return AcceptSteps(key, concatenated, digest.hex(), digest, accept)


# --- Credentials: what is never shown and never logged ------------------------------
# A handshake may carry credentials (RFC 6455 §4.1 allows any header, §10.5 mentions cookies
# and HTTP authentication); behind jupyter-server-proxy, the Jupyter token arrives too.

# Headers whose whole value is a credential (RFC 9110 §11.6.2, §11.7.2; RFC 6265 §4).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

# Query parameters that carry credentials: "token", "access_token", "auth", "api_key", ...
SECRET_QUERY = re.compile(
    r"(?<![\w.-])(?P<name>(?:[\w.-]*token|auth|authorization|api[_-]?key|apikey|key|password|passwd|pwd"
    r"|secret|session|sessionid|sid|jwt|signature|sig|code)=)(?P<value>[^&#\s]*)",
    re.IGNORECASE,
)


def redact_target(target: str, marker: str = "[redacted]") -> str:
    """Hide the values of token-like query parameters: ``/ws?token=abc`` → ``/ws?token=[redacted]``."""
    if "=" not in target:
        return target
    return SECRET_QUERY.sub(lambda match: match.group("name") + marker, target)


# --- Header fields (RFC 9110 §5) -----------------------------------------------------

# RFC 9110 §5.6.2: token = 1*tchar, the allowed characters of a header name.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: a field value is visible characters, spaces and tabs (and obs-text);
# never CR, LF, NUL or another control character.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


class Headers:
    """HTTP header fields in the order they were written (RFC 9110 §5).

    Names compare case-insensitively ("host" finds "Host") and a name may appear more
    than once: :meth:`get_all` returns every value. ``headers[name]`` and :meth:`get`
    return the values joined by ", ", which RFC 9110 §5.3 says means the same thing.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        self._fields: list[tuple[str, str]] = []
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        for name, value in pairs:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        """Append one header field. Refuses what would break the HTTP framing."""
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name (RFC 9110 §5.1)")
        if not _FIELD_VALUE.fullmatch(value):
            # A CR or LF here would let a value forge extra header lines.
            raise ValueError(f"the value of {name} contains a control character: {value!r}")
        self._fields.append((name, value))

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, in order; ``[]`` when absent."""
        wanted = name.lower()
        return [value for field_name, value in self._fields if field_name.lower() == wanted]

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...

    def get(self, name: str, default: str | None = None) -> str | None:
        """The values of ``name`` joined by ", ", or ``default`` when absent."""
        values = self.get_all(name)
        return ", ".join(values) if values else default

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: str) -> None:
        """Replace every ``name`` field by one with ``value``."""
        self.remove(name)
        self.add(name, value)

    def remove(self, name: str) -> None:
        """Drop every ``name`` field (nothing happens when there is none)."""
        wanted = name.lower()
        self._fields = [(n, v) for n, v in self._fields if n.lower() != wanted]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_all(name))

    def __len__(self) -> int:
        return len(self._fields)

    def __iter__(self) -> Iterator[str]:
        """The names, in order (a name that repeats comes several times)."""
        return (name for name, _ in self._fields)

    def items(self) -> list[tuple[str, str]]:
        """``(name, value)`` pairs, in order, names as they were written."""
        return list(self._fields)

    def copy(self) -> Headers:
        return Headers(self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        mine = [(n.lower(), v) for n, v in self._fields]
        return mine == [(n.lower(), v) for n, v in other._fields]

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


def parse_header_tokens(value: str) -> list[str]:
    """Split a comma-separated list: ``"keep-alive, Upgrade"`` → ``["keep-alive", "Upgrade"]``.

    RFC 9110 §5.6.1: elements are separated by commas with optional spaces around
    them, and empty elements are ignored.
    """
    return [item.strip(" \t") for item in value.split(",") if item.strip(" \t")]


def _tokens(headers: Headers, name: str) -> list[str]:
    """The list elements of every ``name`` field together (RFC 9110 §5.3)."""
    return [token for value in headers.get_all(name) for token in parse_header_tokens(value)]


# --- Reading the header section (RFC 9112 §2–§5) -------------------------------------

# The header section ends with an empty line. RFC 9112 §2.2 lets a recipient accept a
# bare LF as line ending, which helps when the request is typed by hand.
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
_REQUEST_LINE = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) (HTTP/\d\.\d)")
_STATUS_LINE = re.compile(r"(HTTP/\d\.\d) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")


def head_ends_in(data: Bytes, start: int = 0) -> bool:
    """Does the empty line that ends a header section appear in ``data`` from ``start`` on?

    A reader that receives the head in pieces calls this with ``start`` a few bytes before
    the new ones (3: ``"\r\n\r"`` may end the old bytes), so a head sent one byte at a
    time costs time in proportion to its size, not to its size squared.
    """
    return _END_OF_HEADERS.search(data, start) is not None


class _BadHTTP(Exception):
    """The bytes are not a well-formed HTTP message (turned into a HandshakeError)."""


class _TooBig(_BadHTTP):
    """The header section is larger than the limit."""


def _show(text: str, limit: int = 60) -> str:
    """``text`` quoted for an error message, shortened when long."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def _check_request_start(first_bytes: bytes) -> None:
    """Fail at once, not after 8 KiB, when the bytes cannot be the start of a request."""
    if first_bytes and not _TOKEN.match(first_bytes[:1].decode("latin-1")):
        got = _show(redact_target(first_bytes.decode("latin-1")))
        hint = " (a TLS handshake: wss:// sent to a ws:// server?)" if first_bytes[0] == 0x16 else ""
        raise _BadHTTP(f"a request starts with a method such as GET; got {got}{hint}")


def _check_response_start(first_bytes: bytes) -> None:
    """Fail at once when the peer does not answer in HTTP at all."""
    if not b"HTTP/".startswith(first_bytes[:5]):
        raise _BadHTTP(f"a response starts with 'HTTP/'; got {_show(first_bytes.decode('latin-1'))}")


def _split_header_section(data: Bytes, max_size: int) -> tuple[str, list[str], int] | None:
    """Find the header section: (start line, header lines, bytes it took) or None.

    None means the empty line that ends it has not arrived yet.
    """
    window = bytes(data[:max_size])
    end = _END_OF_HEADERS.search(window)
    if end is None:
        if len(data) >= max_size:
            raise _TooBig(f"the header section is larger than {max_size} bytes")
        return None
    # latin-1 maps each byte to one character, so no byte can fail to decode.
    lines = window[: end.start()].decode("latin-1").split("\n")
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines[0], lines[1:], end.end()


def _parse_header_lines(lines: list[str]) -> Headers:
    """``Name: value`` lines into Headers (RFC 9112 §5)."""
    headers = Headers()
    for number, line in enumerate(lines, start=2):
        if line[:1] in (" ", "\t"):
            raise _BadHTTP(f"line {number} starts with whitespace (obsolete folding, RFC 9112 §5.2)")
        name, colon, value = line.partition(":")
        if not colon:
            raise _BadHTTP(f"line {number} is not 'Name: value'; got {_show_unless_secret(line)}")
        if not _TOKEN.fullmatch(name):
            raise _BadHTTP(f"{_show_unless_secret(name)} on line {number} is not a valid header name")
        value = value.strip(" \t")
        if not _FIELD_VALUE.fullmatch(value):
            shown = "(a credential: not shown)" if name.lower() in SECRET_HEADERS else _show(value)
            raise _BadHTTP(f"the value of {name} contains a control character: {shown}")
        headers.add(name, value)
    return headers


def _show_unless_secret(line: str) -> str:
    """:func:`_show`, except for a line that starts like a credential header: an error
    answer quotes what it refuses, and must not hand a credential back (or into a log)."""
    if line.lstrip().lower().startswith(tuple(SECRET_HEADERS)):
        return "a line that starts like a credential header (not shown)"
    return _show(redact_target(line))


def _content_length(headers: Headers) -> int | None:
    # RFC 9110 §8.6: a repeated Content-Length is fine only when all values agree.
    values = set(_tokens(headers, "Content-Length"))
    if not values:
        return None
    if len(values) > 1 or not re.fullmatch(r"[0-9]{1,18}", next(iter(values))):
        raise _BadHTTP(f"Content-Length must be one number; got {_show(headers['Content-Length'])}")
    return int(values.pop())


# --- Request and Response ------------------------------------------------------------


@dataclass
class Request:
    """An HTTP request, e.g. the client's opening handshake (RFC 6455 §4.1)."""

    method: str = "GET"
    target: str = "/"
    version: str = "HTTP/1.1"
    headers: Headers = field(default_factory=Headers)

    @classmethod
    def parse(cls, data: Bytes, *, max_size: int = MAX_HEADER_SIZE) -> tuple[Request, int] | None:
        """Read a request from the start of ``data``.

        Returns ``(request, consumed)`` or ``None`` while the header section is
        incomplete. Bytes after it (maybe the first frames) are left alone. Raises
        HandshakeError: 400 for a malformed request, 431 when the header section is
        larger than ``max_size``.
        """
        try:
            _check_request_start(bytes(data[:16]))
            section = _split_header_section(data, max_size)
            if section is None:
                return None
            request_line, header_lines, consumed = section
            match = _REQUEST_LINE.fullmatch(request_line)
            if match is None:
                got = _show(redact_target(request_line))
                raise _BadHTTP(f"the request line must be 'METHOD target HTTP/1.1'; got {got}")
            method, target, version = match.groups()
            return cls(method, target, version, _parse_header_lines(header_lines)), consumed
        except _TooBig as exc:
            raise HandshakeError(431, f"{exc}, the limit of this server") from None
        except _BadHTTP as exc:
            raise HandshakeError(400, f"malformed HTTP request: {exc}") from None

    def serialize(self) -> bytes:
        """The bytes on the wire (RFC 9112 §3: request line, header lines, empty line)."""
        start = _start_line(self.method, self.target, self.version)
        return _serialize(start, self.headers, b"")

    @property
    def path(self) -> str:
        """The target without its query: ``/chat?room=1`` → ``/chat``."""
        return self.target.partition("?")[0]

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (the first value of each): ``/chat?room=1`` → ``{"room": "1"}``."""
        from urllib.parse import parse_qsl  # here, not at the top: it is rarely needed

        params: dict[str, str] = {}
        for name, value in parse_qsl(self.target.partition("?")[2], keep_blank_values=True):
            params.setdefault(name, value)
        return params

    def __str__(self) -> str:
        from .explain import request_text

        return request_text(self)

    def _repr_html_(self) -> str:
        from .explain import request_html

        return request_html(self)


@dataclass
class Response:
    """An HTTP response, e.g. the server's 101 Switching Protocols (RFC 6455 §4.2.2)."""

    status: int = 101
    reason: str = "Switching Protocols"
    version: str = "HTTP/1.1"
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @classmethod
    def parse(
        cls,
        data: Bytes,
        *,
        max_size: int = MAX_HEADER_SIZE,
        max_body_size: int = MAX_BODY_SIZE,
    ) -> tuple[Response, int] | None:
        """Read a response from the start of ``data``: ``(response, consumed)`` or ``None``.

        A 101 response has no body: the bytes after its empty line are frames. Another
        status reads the body announced by Content-Length (nothing without one).
        Raises HandshakeError with status 0 when the bytes are not an HTTP response.
        """
        try:
            _check_response_start(bytes(data[:16]))
            section = _split_header_section(data, max_size)
            if section is None:
                return None
            status_line, header_lines, consumed = section
            match = _STATUS_LINE.fullmatch(status_line)
            if match is None:
                raise _BadHTTP(f"the status line must be 'HTTP/1.1 101 …'; got {_show(status_line)}")
            version, status, reason = match.groups()
            response = cls(int(status), reason or "", version, _parse_header_lines(header_lines))
            body_size = _response_body_size(response, max_body_size)
        except _BadHTTP as exc:
            raise HandshakeError(0, f"malformed HTTP response: {exc}") from None
        if len(data) < consumed + body_size:
            return None
        response.body = bytes(data[consumed : consumed + body_size])
        return response, consumed + body_size

    def serialize(self) -> bytes:
        """The bytes on the wire (RFC 9112 §4: status line, header lines, empty line, body).

        A body with no Content-Length gets one, or the reader could not tell where
        the body ends (RFC 9112 §6.3).
        """
        start = _start_line(self.version, str(self.status), self.reason)
        headers = self.headers
        if self.body and "Content-Length" not in headers and "Transfer-Encoding" not in headers:
            headers = headers.copy()
            headers.add("Content-Length", str(len(self.body)))
        return _serialize(start, headers, self.body)

    def __str__(self) -> str:
        from .explain import response_text

        return response_text(self)

    def _repr_html_(self) -> str:
        from .explain import response_html

        return response_html(self)


def _response_body_size(response: Response, max_body_size: int) -> int:
    """How many body bytes follow the header section (RFC 9112 §6.3)."""
    if response.status < 200 or response.status in (204, 304):
        return 0  # 1xx (101 included), 204 and 304 never have a body
    length = _content_length(response.headers)
    if length is None:
        return 0
    if length > max_body_size:
        raise _BadHTTP(f"the body is {length} bytes; this client reads at most {max_body_size}")
    return length


def _start_line(*parts: str) -> str:
    line = " ".join(parts)
    if "\r" in line or "\n" in line:
        raise ValueError(f"a request or status line cannot contain CR or LF: {line!r}")
    return line


def _serialize(start_line: str, headers: Headers, body: bytes) -> bytes:
    lines = [start_line, *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --- Server side: checking the request (RFC 6455 §4.2.1) -----------------------------


def check_request(
    req: Request,
    *,
    origin_allowed: Callable[[str | None], bool] | None = None,
) -> str:
    """Check an opening handshake request as RFC 6455 §4.2.1 asks; return its key.

    Raises HandshakeError with the status to answer: 405 (not GET), 400 or 505 (not
    HTTP/1.1), 400 (Host, Connection, Sec-WebSocket-Key), 426 (no Upgrade: websocket,
    or a Sec-WebSocket-Version other than 13), 403 (``origin_allowed`` said no).
    """
    _check_method(req)  # §4.2.1 item 1
    _check_http_version(req)  # item 1
    _check_host(req)  # item 2
    _check_upgrade(req)  # item 3
    _check_connection(req)  # item 4
    key = _check_key(req)  # item 5
    _check_websocket_version(req)  # item 6
    _check_no_body(req)
    _check_origin(req, origin_allowed)  # item 7 and §10.2
    return key


def _check_method(req: Request) -> None:
    if req.method != "GET":
        # RFC 9110 §15.5.6: a 405 response lists the allowed methods in Allow.
        raise HandshakeError(
            405, f"a WebSocket handshake uses GET; got {_show(req.method)}", (("Allow", "GET"),)
        )


def _check_http_version(req: Request) -> None:
    match = re.fullmatch(r"HTTP/(\d)\.(\d)", req.version)
    if match is None:
        raise HandshakeError(400, f"the HTTP version must be HTTP/1.1; got {_show(req.version)}")
    if int(match[1]) >= 2:
        raise HandshakeError(505, f"WebSocket upgrades need HTTP/1.1; got {req.version}")
    if int(match[2]) < 1:
        raise HandshakeError(400, f"WebSocket needs HTTP/1.1 or higher; got {req.version}")


def _one_value(
    req: Request, name: str, status: int = 400, headers: tuple[tuple[str, str], ...] = ()
) -> str | None:
    """The value of a header that may appear at most once (None when absent)."""
    values = req.headers.get_all(name)
    if len(values) > 1:
        raise HandshakeError(status, f"{name} must appear once; got {len(values)} values {values}", headers)
    return values[0] if values else None


def _check_host(req: Request) -> None:
    # RFC 9112 §3.2: a server MUST answer 400 when Host is missing or repeated.
    if _one_value(req, "Host") is None:
        raise HandshakeError(400, "the Host header is missing (HTTP/1.1 requires it)")


def _check_upgrade(req: Request) -> None:
    tokens = _tokens(req.headers, "Upgrade")
    if not tokens:
        # RFC 9110 §15.5.22: 426 Upgrade Required names the protocol to upgrade to.
        raise HandshakeError(
            426,
            "this URL speaks WebSocket only, and the request has no Upgrade: websocket header",
            (("Upgrade", "websocket"),),
        )
    if not any(token.lower() == "websocket" for token in tokens):
        got = _show(req.headers["Upgrade"])
        raise HandshakeError(400, f"Upgrade must contain websocket; got {got}")


def _check_connection(req: Request) -> None:
    if not req.headers.get_all("Connection"):
        raise HandshakeError(400, "the Connection header is missing; it must contain Upgrade")
    if not any(token.lower() == "upgrade" for token in _tokens(req.headers, "Connection")):
        got = _show(req.headers["Connection"])
        raise HandshakeError(400, f"Connection must contain the token Upgrade; got {got}")


def _check_key(req: Request) -> str:
    key = _one_value(req, "Sec-WebSocket-Key")
    if key is None:
        raise HandshakeError(400, "the Sec-WebSocket-Key header is missing")
    wanted = "Sec-WebSocket-Key must be base64 of 16 bytes"
    if len(key) != 24:
        got = f"{len(key)} characters: {_show(key)}"
        raise HandshakeError(400, f"{wanted}; got {got} (a valid key has 24)")
    try:
        raw = base64.b64decode(key, validate=True)
    except ValueError:  # binascii.Error, or characters outside ASCII
        raise HandshakeError(400, f"{wanted}; got {_show(key)}, which is not base64") from None
    if len(raw) != 16:
        raise HandshakeError(400, f"{wanted}; got {_show(key)}, which decodes to {len(raw)} bytes")
    return key


def _check_websocket_version(req: Request) -> None:
    # §4.2.2 item 4: answer a version we do not speak with 426 and the one we speak.
    speaks_13 = (("Sec-WebSocket-Version", "13"),)
    version = _one_value(req, "Sec-WebSocket-Version", 426, speaks_13)
    if version is None:
        raise HandshakeError(
            426, "the Sec-WebSocket-Version header is missing; this server speaks 13", speaks_13
        )
    if version != "13":
        raise HandshakeError(426, f"Sec-WebSocket-Version must be 13; got {_show(version)}", speaks_13)


def _check_no_body(req: Request) -> None:
    # A body would be read as WebSocket frames once the connection is upgraded.
    length = req.headers.get("Content-Length", "0")
    if length != "0":
        got = f"Content-Length: {_show(length)}"
        raise HandshakeError(400, f"a WebSocket handshake request has no body; got {got}")
    if "Transfer-Encoding" in req.headers:
        got = f"Transfer-Encoding: {_show(req.headers['Transfer-Encoding'])}"
        raise HandshakeError(400, f"a WebSocket handshake request has no body; got {got}")


def _check_origin(req: Request, origin_allowed: Callable[[str | None], bool] | None) -> None:
    # §10.2: a server may refuse pages from origins it does not trust, with 403.
    origin = _one_value(req, "Origin")
    if origin_allowed is None or origin_allowed(origin):
        return
    if origin is None:
        raise HandshakeError(403, "this server refuses requests without an Origin header")
    raise HandshakeError(403, f"Origin {_show(origin)} is not allowed by this server")


# --- Server side: whose name is in Host? (DNS rebinding, RFC 6455 §10.2) --------------
# A page on evil.example can make its own name resolve to 127.0.0.1 ("DNS rebinding"): the
# browser then lets it talk to a server on this machine, and calls that same-origin. Its
# requests still carry "Host: evil.example:PORT", so a server on loopback answers only
# the names it is known by, as Jupyter Server does.


def host_name(host_header: str) -> str | None:
    """The name in a Host header, lowercased, without port or final dot: ``"[::1]:8765"`` →
    ``"::1"``, ``"Example.ORG.:80"`` → ``"example.org"``; None when it is not host[:port]."""
    from urllib.parse import urlsplit  # here, not at the top: only servers need it

    try:
        parts = urlsplit(f"//{host_header}")
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or "/" in host_header:
        return None
    return parts.hostname.lower().rstrip(".")


def is_loopback(name: str) -> bool:
    """``localhost`` and its subdomains (RFC 6761 §6.3), 127.0.0.0/8 and ``::1``."""
    import ipaddress

    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_allowed(host_header: str | None, allowed_hosts: Iterable[str] = ()) -> bool:
    """Is the Host header a loopback name or one of ``allowed_hosts``?

    Entries are names (``"hub.example.org"``), ``".example.org"`` for that domain and
    every subdomain, or ``"*"`` for any name; ports are not compared.
    """
    name = host_name(host_header) if host_header is not None else None
    if name is None:
        return False
    if is_loopback(name):
        return True
    for entry in allowed_hosts:
        entry = entry.lower().rstrip(".")
        if entry == "*" or entry == name or (entry.startswith(".") and f".{name}".endswith(entry)):
            return True
    return False


def check_host(req: Request, allowed_hosts: Sequence[str] = ()) -> None:
    """Raise HandshakeError(403) unless :func:`host_allowed` (DNS rebinding protection);
    400 when Host is missing or repeated (RFC 9112 §3.2)."""
    _check_host(req)
    host = req.headers.get("Host")
    if host_allowed(host, allowed_hosts):
        return
    also = f" and {', '.join(allowed_hosts)}" if allowed_hosts else ""
    raise HandshakeError(
        403,
        f"Host {_show(host or '')} is not a name of this server. It answers localhost, 127.0.0.1"
        f" and [::1]{also}: a page that renames itself to this machine (DNS rebinding) still"
        " sends its own name. If you reach this server by another name, add it to allowed_hosts.",
    )


# --- Server side: answering (RFC 6455 §4.2.2) ----------------------------------------


def offered_subprotocols(req: Request) -> list[str]:
    """The subprotocols the client offers in Sec-WebSocket-Protocol, in its order."""
    return _tokens(req.headers, "Sec-WebSocket-Protocol")


def select_subprotocol(offered: Sequence[str], supported: Sequence[str]) -> str | None:
    """The first subprotocol of the client's offer that the server supports, or None.

    RFC 6455 §4.2.2 item 5.4: the server picks one of the client's values, never
    anything else (the client would fail the connection, §4.1).
    """
    for subprotocol in offered:
        if subprotocol in supported:
            return subprotocol
    return None


def build_accept_response(
    req: Request,
    *,
    subprotocol: str | None = None,
    extensions: str = "",
    extra_headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """The 101 Switching Protocols response to a request (RFC 6455 §4.2.2 item 5).

    Runs :func:`check_request` first, so a bad request can never be accepted.
    ``extensions`` is the server's answer to the client's ``Sec-WebSocket-Extensions``
    (RFC 6455 §9.1), e.g. what :func:`wslearn.deflate.accept` returned; "" for none.
    """
    key = check_request(req)
    if subprotocol is not None and subprotocol not in offered_subprotocols(req):
        raise ValueError(f"the client did not offer the subprotocol {subprotocol!r}")
    headers = Headers(
        [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", accept_key(key)),
        ]
    )
    if subprotocol is not None:
        headers.add("Sec-WebSocket-Protocol", subprotocol)
    if extensions:
        headers.add("Sec-WebSocket-Extensions", extensions)
    for name, value in extra_headers:
        headers.add(name, value)
    return Response(101, "Switching Protocols", headers=headers)


_HINTS = {
    400: "A WebSocket handshake is a GET with Upgrade: websocket, Connection: Upgrade,"
    " Sec-WebSocket-Key and Sec-WebSocket-Version: 13 (RFC 6455 §4.1).",
    401: "Send credentials the server accepts (RFC 6455 §4.1: the handshake may carry"
    " Authorization or Cookie headers).",
    403: "The server refused this client: its Origin policy (RFC 6455 §10.2) or its access rules.",
    405: "Open a WebSocket with a GET request (RFC 6455 §4.1).",
    426: "Connect with a WebSocket client, e.g. new WebSocket(url) in a browser (RFC 6455 §4.1).",
    431: "Send fewer or smaller headers (RFC 6585 §5).",
    505: "WebSocket runs over HTTP/1.1 (RFC 6455 §4.1).",
}


def build_error_response(error: HandshakeError) -> Response:
    """A plain-text HTTP response that says why the handshake was refused."""
    status = error.status if 100 <= error.status <= 999 else 400
    body = f"{error.reason}\n"
    if status in _HINTS:
        body += f"\n{_HINTS[status]}\n"
    response = text_response(status, body, error.headers)
    if status == 426 and "Upgrade" not in response.headers:
        response.headers.add("Upgrade", "websocket")  # RFC 9110 §15.5.22: a 426 names the protocol
    return response


def text_response(status: int, text: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """A plain-text HTTP answer; ``Connection: close``, as the connection ends after it."""
    body = text.encode("utf-8")
    fields = Headers(
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            ("Connection", "close"),
            *headers,
        ]
    )
    return Response(status, _reason_phrase(status), headers=fields, body=body)


def _reason_phrase(status: int) -> str:
    """``426`` → ``"Upgrade Required"`` (the phrases of RFC 9110 §15)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- Client side (RFC 6455 §4.1) -----------------------------------------------------

_TARGET = re.compile(r"/[\x21-\x7e]*")


def build_request(
    host: str,
    target: str = "/",
    *,
    key: str,
    subprotocols: Sequence[str] = (),
    origin: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> Request:
    """The client's opening handshake (RFC 6455 §4.1, the numbered requirements 1–12).

    ``host`` is what goes in the Host header, with the port when it is not the
    default one: ``"127.0.0.1:8765"``. ``key`` comes from :func:`generate_key`.
    """
    if not _TARGET.fullmatch(target):
        raise ValueError(f"the target must start with / and contain no spaces: {target!r}")
    for subprotocol in subprotocols:
        if not _TOKEN.fullmatch(subprotocol):
            raise ValueError(f"{subprotocol!r} is not a valid subprotocol name (RFC 6455 §4.1)")
    headers = Headers(
        [
            ("Host", host),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", "13"),
        ]
    )
    if subprotocols:
        headers.add("Sec-WebSocket-Protocol", ", ".join(subprotocols))
    if origin is not None:
        headers.add("Origin", origin)
    for name, value in extra_headers:
        headers.add(name, value)
    return Request("GET", target, "HTTP/1.1", headers)


def check_response(
    resp: Response,
    *,
    key: str,
    subprotocols: Sequence[str] = (),
    deflate_offers: Sequence[deflate.DeflateOffer] = (),
) -> str | None:
    """Check the server's answer as RFC 6455 §4.1 asks a client; return the subprotocol.

    ``deflate_offers`` are the offers of permessage-deflate the request made (RFC 7692);
    :func:`agreed_deflate` tells what the server accepted. Raises HandshakeError
    (status = the status received) when the client must fail the connection.
    """
    _check_status(resp)  # §4.1, "If the status code received from the server is not 101"
    _check_response_upgrade(resp)  # the numbered client requirement 2
    _check_response_connection(resp)  # 3
    _check_accept(resp, key)  # 4
    agreed_deflate(resp, deflate_offers)  # 5
    return _agreed_subprotocol(resp, subprotocols)  # 6


def _check_status(resp: Response) -> None:
    if resp.status == 101:
        return
    said = resp.body[:200].decode("utf-8", "replace").strip()
    reason = f"the server answered {resp.status} {resp.reason} instead of 101 Switching Protocols"
    raise HandshakeError(resp.status, f"{reason}; it said: {said}" if said else reason)


def _check_response_upgrade(resp: Response) -> None:
    tokens = _tokens(resp.headers, "Upgrade")
    if [token.lower() for token in tokens] != ["websocket"]:
        got = _show(resp.headers.get("Upgrade", ""))
        raise HandshakeError(resp.status, f"the response's Upgrade must be websocket; got {got}")


def _check_response_connection(resp: Response) -> None:
    if not any(token.lower() == "upgrade" for token in _tokens(resp.headers, "Connection")):
        got = _show(resp.headers.get("Connection", ""))
        reason = f"the response's Connection must contain Upgrade; got {got}"
        raise HandshakeError(resp.status, reason)


def _check_accept(resp: Response, key: str) -> None:
    expected = accept_key(key)
    got = resp.headers.get("Sec-WebSocket-Accept")
    if got != expected:
        raise HandshakeError(
            resp.status,
            f"Sec-WebSocket-Accept should be {expected} (base64 of SHA-1 of our key + GUID);"
            f" got {_show(got or '')}",
        )


def agreed_deflate(
    resp: Response, offers: Sequence[deflate.DeflateOffer] = ()
) -> deflate.DeflateParameters | None:
    """The permessage-deflate the server accepted, or None (the client requirement 5 of §4.1).

    A server may only choose among the extensions the client offered (RFC 6455 §9.1):
    with no offers, any ``Sec-WebSocket-Extensions`` fails the connection; with offers,
    :func:`wslearn.deflate.check_response` checks the answer against them (RFC 7692 §7).
    """
    values = resp.headers.get_all("Sec-WebSocket-Extensions")
    if not offers:
        if values:
            got = _show(", ".join(values))
            reason = f"the server chose Sec-WebSocket-Extensions {got}, but we asked for none"
            raise HandshakeError(resp.status, reason)
        return None
    return deflate.check_response(values, offers)


def _agreed_subprotocol(resp: Response, offered: Sequence[str]) -> str | None:
    chosen = _tokens(resp.headers, "Sec-WebSocket-Protocol")
    if not chosen:
        return None
    if len(chosen) == 1 and chosen[0] in offered:
        return chosen[0]
    got = _show(resp.headers["Sec-WebSocket-Protocol"])
    we_offered = ", ".join(offered) if offered else "none"
    raise HandshakeError(
        resp.status, f"the server chose Sec-WebSocket-Protocol {got}; we offered {we_offered}"
    )
