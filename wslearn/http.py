"""HTTP/1.1 messages: the part of the opening handshake that is plain HTTP (RFC 9110, RFC 9112).

A WebSocket connection starts as one HTTP request and one HTTP response. This module
knows HTTP only, nothing of WebSocket: it turns bytes into :class:`Request` and
:class:`Response` objects and back, keeps :class:`Headers` in order with names that
compare case-insensitively, and reads the Host header. What makes such a request a
WebSocket handshake, and how a server answers it, is :mod:`wslearn.handshake` (RFC 6455 §4).

Parsing refuses what is not well-formed HTTP with a
:class:`~wslearn.errors.HandshakeError` carrying the status a server answers with (400 for
a malformed request, 431 for one whose header section is too large) or 0 for a response
that is not HTTP at all. ``str()`` of a message is the HTTP text with credentials hidden
(:mod:`wslearn.redaction`); ``serialize()`` gives the exact bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import overload

from .errors import HandshakeError
from .i18n import _
from .redaction import SECRET_HEADERS, redact_target, redact_value, starts_like_secret_header
from .views import html_view

__all__ = [
    "MAX_BODY_SIZE",
    "MAX_HEADER_SIZE",
    "Headers",
    "Request",
    "Response",
    "authority",
    "body_text",
    "excerpt",
    "head_ends_in",
    "header_tokens",
    "host_allowed",
    "host_name",
    "is_loopback",
    "is_token",
    "parse_header_tokens",
    "reason_phrase",
    "request_text",
    "response_text",
    "shown_headers",
    "text_response",
]

# The largest header section (request or status line + header lines + blank line) we
# read. Bigger requests get 431 Request Header Fields Too Large (RFC 6585 §5).
MAX_HEADER_SIZE = 8192

# The largest body of a non-101 response a client reads (the server's error page).
MAX_BODY_SIZE = 65536


Bytes = bytes | bytearray | memoryview


# --- Header fields (RFC 9110 §5) -----------------------------------------------------

# RFC 9110 §5.6.2: token = 1*tchar, the allowed characters of a header name.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def is_token(text: str) -> bool:
    """Is ``text`` a token (RFC 9110 §5.6.2): a header name, a method, a subprotocol name?"""
    return _TOKEN.fullmatch(text) is not None


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
        return (name for name, _value in self._fields)

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


def header_tokens(headers: Headers, name: str) -> list[str]:
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


def excerpt(text: str, limit: int = 60) -> str:
    """``text`` quoted for an error message, shortened when long."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def _check_request_start(first_bytes: bytes) -> None:
    """Fail at once, not after 8 KiB, when the bytes cannot be the start of a request."""
    if first_bytes and not _TOKEN.match(first_bytes[:1].decode("latin-1")):
        got = excerpt(redact_target(first_bytes.decode("latin-1")))
        hint = _(" (a TLS handshake: wss:// sent to a ws:// server?)") if first_bytes[0] == 0x16 else ""
        raise _BadHTTP(_("a request starts with a method such as GET; got {got}").format(got=got) + hint)


def _check_response_start(first_bytes: bytes) -> None:
    """Fail at once when the peer does not answer in HTTP at all."""
    if not b"HTTP/".startswith(first_bytes[:5]):
        got = excerpt(first_bytes.decode("latin-1"))
        raise _BadHTTP(_("a response starts with 'HTTP/'; got {got}").format(got=got))


def _split_header_section(data: Bytes, max_size: int) -> tuple[str, list[str], int] | None:
    """Find the header section: (start line, header lines, bytes it took) or None.

    None means the empty line that ends it has not arrived yet.
    """
    window = bytes(data[:max_size])
    end = _END_OF_HEADERS.search(window)
    if end is None:
        if len(data) >= max_size:
            raise _TooBig(_("the header section is larger than {size} bytes").format(size=max_size))
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
            folded = _("line {number} starts with whitespace (obsolete folding, RFC 9112 §5.2)")
            raise _BadHTTP(folded.format(number=number))
        name, colon, value = line.partition(":")
        if not colon:
            no_colon = _("line {number} is not 'Name: value'; got {line}")
            raise _BadHTTP(no_colon.format(number=number, line=_excerpt_unless_secret(line)))
        if not _TOKEN.fullmatch(name):
            bad_name = _("{name} on line {number} is not a valid header name")
            raise _BadHTTP(bad_name.format(name=_excerpt_unless_secret(name), number=number))
        value = value.strip(" \t")
        if not _FIELD_VALUE.fullmatch(value):
            shown = _("(a credential: not shown)") if name.lower() in SECRET_HEADERS else excerpt(value)
            control = _("the value of {name} contains a control character: {shown}")
            raise _BadHTTP(control.format(name=name, shown=shown))
        headers.add(name, value)
    return headers


def _excerpt_unless_secret(line: str) -> str:
    """:func:`excerpt`, except for a line that starts like a credential header: an error
    answer quotes what it refuses, and must not hand a credential back (or into a log)."""
    if starts_like_secret_header(line):
        return _("a line that starts like a credential header (not shown)")
    return excerpt(redact_target(line))


def _content_length(headers: Headers) -> int | None:
    # RFC 9110 §8.6: a repeated Content-Length is fine only when all values agree.
    values = set(header_tokens(headers, "Content-Length"))
    if not values:
        return None
    if len(values) > 1 or not re.fullmatch(r"[0-9]{1,18}", next(iter(values))):
        got = excerpt(headers["Content-Length"])
        raise _BadHTTP(_("Content-Length must be one number; got {got}").format(got=got))
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
                got = excerpt(redact_target(request_line))
                raise _BadHTTP(
                    _("the request line must be 'METHOD target HTTP/1.1'; got {got}").format(got=got)
                )
            method, target, version = match.groups()
            return cls(method, target, version, _parse_header_lines(header_lines)), consumed
        except _TooBig as exc:
            raise HandshakeError(431, _("{error}, the limit of this server").format(error=exc)) from None
        except _BadHTTP as exc:
            raise HandshakeError(400, _("malformed HTTP request: {error}").format(error=exc)) from None

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
        return request_text(self)

    def _repr_html_(self) -> str | None:
        return html_view(self)  # drawn by wslearn.explain, when it is loaded


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
                bad_status = _("the status line must be 'HTTP/1.1 101 …'; got {got}")
                raise _BadHTTP(bad_status.format(got=excerpt(status_line)))
            version, status, reason = match.groups()
            response = cls(int(status), reason or "", version, _parse_header_lines(header_lines))
            body_size = _response_body_size(response, max_body_size)
        except _BadHTTP as exc:
            raise HandshakeError(0, _("malformed HTTP response: {error}").format(error=exc)) from None
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
        return response_text(self)

    def _repr_html_(self) -> str | None:
        return html_view(self)  # drawn by wslearn.explain, when it is loaded


def _response_body_size(response: Response, max_body_size: int) -> int:
    """How many body bytes follow the header section (RFC 9112 §6.3)."""
    if response.status < 200 or response.status in (204, 304):
        return 0  # 1xx (101 included), 204 and 304 never have a body
    length = _content_length(response.headers)
    if length is None:
        return 0
    if length > max_body_size:
        too_long = _("the body is {length} bytes; this client reads at most {limit}")
        raise _BadHTTP(too_long.format(length=length, limit=max_body_size))
    return length


def _start_line(*parts: str) -> str:
    line = " ".join(parts)
    if "\r" in line or "\n" in line:
        raise ValueError(f"a request or status line cannot contain CR or LF: {line!r}")
    return line


def _serialize(start_line: str, headers: Headers, body: bytes) -> bytes:
    lines = [start_line, *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --- Text views: the message as HTTP text, credentials hidden --------------------------


def request_text(req: Request, *, redact: bool = True) -> str:
    """The request as HTTP text, one line per header (credentials hidden by default)."""
    target = redact_target(req.target) if redact else req.target
    lines = [f"{req.method} {target} {req.version}"]
    lines += [f"{name}: {value}" for name, value in shown_headers(req.headers, redact=redact)]
    return "\n".join(lines)


def response_text(resp: Response, *, redact: bool = True) -> str:
    """The response as HTTP text, with its body (credentials hidden by default)."""
    lines = [f"{resp.version} {resp.status} {resp.reason}"]
    lines += [f"{name}: {value}" for name, value in shown_headers(resp.headers, redact=redact)]
    if resp.body:
        lines += ["", body_text(resp.body)]
    return "\n".join(lines)


def shown_headers(headers: Headers, *, redact: bool = True) -> list[tuple[str, str]]:
    """The header fields as people see them: credentials hidden, names of cookies and
    authentication schemes kept (:func:`~wslearn.redaction.redact_value`)."""
    return [(n, redact_value(n, v, keep_names=True) if redact else v) for n, v in headers.items()]


def body_text(body: bytes, limit: int = 2000) -> str:
    """A body as text, cut after ``limit`` bytes."""
    text = body[:limit].decode("utf-8", "replace")
    return text + (f"\n… ({len(body) - limit} more bytes)" if len(body) > limit else "")


# --- Plain-text answers ---------------------------------------------------------------


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
    return Response(status, reason_phrase(status), headers=fields, body=body)


def reason_phrase(status: int) -> str:
    """``426`` → ``"Upgrade Required"`` (the phrases of RFC 9110 §15)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- Host and authority (RFC 9110 §7.2, RFC 3986 §3.2) ---------------------------------


def authority(host: str, port: int | None = None, *, default_port: int | None = None) -> str:
    """``host:port`` as a URL or a Host header writes it: an IPv6 address goes in brackets
    (RFC 3986 §3.2.2), and the port is left out when it is None or ``default_port``.

    ``authority("::1", 8765)`` → ``"[::1]:8765"``; ``authority("example.org", 443,
    default_port=443)`` → ``"example.org"``.
    """
    name = f"[{host}]" if ":" in host else host
    return name if port is None or port == default_port else f"{name}:{port}"


# A page on evil.example can make its own name resolve to 127.0.0.1 ("DNS rebinding"): the
# browser then lets it talk to a server on this machine, and calls that same-origin. Its
# requests still carry "Host: evil.example:PORT", so a server on loopback answers only
# the names it is known by, as Jupyter Server does (see wslearn.handshake.check_host).


def host_name(host_header: str) -> str | None:
    """The name in a Host header, lowercased, without port or final dot: ``"[::1]:8765"`` →
    ``"::1"``, ``"Example.ORG.:80"`` → ``"example.org"``; None when it is not host[:port]."""
    from urllib.parse import urlsplit  # here, not at the top: only servers need it

    try:
        parts = urlsplit(f"//{host_header}")
        _port = parts.port  # raises ValueError for a port that is not a number
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
