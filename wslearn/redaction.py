"""Credentials: what is never shown and never logged.

A handshake may carry credentials: RFC 6455 §4.1 allows any header, and §10.5 mentions
cookies and HTTP authentication. Behind jupyter-server-proxy the notebook's own token
reaches the server too, in the query string and in cookies. So every view of an HTTP
message (``str(request)``, the HTML views, the event log, an error answer that quotes
what it refuses) hides them, always with the same marker, :data:`MARKER`::

    >>> redact_target("/ws?room=1&token=abc")
    '/ws?room=1&token=[redacted]'
    >>> redact_headers([("Cookie", "sid=abc"), ("Host", "example.org")])
    [('Cookie', '[redacted]'), ('Host', 'example.org')]

``serialize()`` still gives the exact bytes: only what people and logs see is redacted.
This module uses the standard library only, so the core can use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "MARKER",
    "SECRET_HEADERS",
    "SECRET_QUERY",
    "redact_headers",
    "redact_http",
    "redact_target",
    "redact_value",
    "starts_like_secret_header",
]

#: What stands where a credential was.
MARKER = "[redacted]"

# Headers whose whole value is a credential (RFC 9110 §11.6.2, §11.7.2; RFC 6265 §4).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

# Query parameters that carry credentials: "token", "access_token", "auth", "api_key", ...
SECRET_QUERY = re.compile(
    r"(?<![\w.-])(?P<name>(?:[\w.-]*token|auth|authorization|api[_-]?key|apikey|key|password|passwd|pwd"
    r"|secret|session|sessionid|sid|jwt|signature|sig|code)=)(?P<value>[^&#\s]*)",
    re.IGNORECASE,
)


def redact_target(target: str) -> str:
    """Hide the values of token-like query parameters: ``/ws?token=abc`` → ``/ws?token=[redacted]``."""
    if "=" not in target:
        return target
    return SECRET_QUERY.sub(lambda match: match.group("name") + MARKER, target)


def redact_value(name: str, value: str, *, keep_names: bool = False) -> str:
    """The value of header ``name`` with its credentials hidden.

    A credential header (:data:`SECRET_HEADERS`) loses its whole value; other headers
    (Referer, Origin, Location...) keep everything but token-like query parameters. With
    ``keep_names``, what is not secret stays readable, for a student looking at a
    request: the scheme of ``Authorization: Bearer [redacted]`` and the names of the
    cookies in ``Cookie: _xsrf=[redacted]; sid=[redacted]``.
    """
    lower = name.lower()
    if lower not in SECRET_HEADERS:
        return redact_target(value)
    if not keep_names:
        return MARKER
    if lower in ("authorization", "proxy-authorization"):  # RFC 9110 §11.4: scheme, then credentials
        scheme, space, _ = value.strip().partition(" ")
        return f"{scheme} {MARKER}" if space else MARKER
    if lower == "cookie":  # RFC 6265 §4.2.1: name=value pairs separated by "; "
        return "; ".join(_cookie_name(crumb) for crumb in value.split(";") if crumb.strip())
    cookie, semicolon, attributes = value.partition(";")  # Set-Cookie, RFC 6265 §4.1.1
    return f"{_cookie_name(cookie)}{semicolon}{attributes}"


def _cookie_name(pair: str) -> str:
    """``"sid=abc"`` → ``"sid=[redacted]"``; a pair without "=" may be all value: hidden."""
    name, equals, _ = pair.strip().partition("=")
    return f"{name}={MARKER}" if equals else MARKER


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Copy ``headers`` with every credential replaced by :data:`MARKER` (see :func:`redact_value`)."""
    return [(name, redact_value(name, value)) for name, value in headers]


def starts_like_secret_header(line: str) -> bool:
    """Does a header line start with the name of a credential header, however malformed
    the rest of it is (``"Authorization Bearer x"``, ``"Cookie x: y"``)?"""
    return line.lstrip().lower().startswith(tuple(SECRET_HEADERS))


# The empty line that ends an HTTP head (RFC 9112 §2.2 lets a recipient accept a bare LF).
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")


def redact_http(raw: bytes) -> bytes:
    """Redact the head of an HTTP/1.1 message (request line or status line, then headers).

    The body of a response, after the empty line, is kept as it is (an error answer's
    text); what follows a request is only counted. Malformed
    heads are redacted too (they are logged when they are refused): lines may end with a
    bare LF, the request line may have extra spaces, and a line that continues a
    credential header (obsolete folding, RFC 9112 §5.2) is part of that credential.
    """
    end = _END_OF_HEAD.search(raw)
    head, rest = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"")
    lines = head.decode("latin-1").split("\n")
    if not lines[0].startswith("HTTP/"):  # "GET /ws?token=x HTTP/1.1", however spaced
        lines[0] = redact_target(lines[0])
        if end and len(rest) > end.end() - end.start():
            # What follows a refused request may be another request, with its own credentials.
            hidden = len(rest) - (end.end() - end.start())
            rest = rest[: end.end() - end.start()] + f"[{hidden} more bytes not shown]".encode()
    in_secret = False  # the previous line was a credential header
    for number, line in enumerate(lines[1:], start=1):
        cr = "\r" if line.endswith("\r") else ""
        name, colon, value = line.partition(":")
        key = name.strip().lower()
        if in_secret and line[:1] in (" ", "\t"):
            lines[number] = " " + MARKER + cr  # the credential goes on (obsolete folding)
            continue
        in_secret = starts_like_secret_header(line)
        if in_secret and not (colon and key in SECRET_HEADERS):
            lines[number] = MARKER + cr  # "Authorization Bearer x", "Cookie x: y": malformed
        elif colon:
            lines[number] = f"{name.strip()}: {redact_value(name.strip(), value.strip())}{cr}"
    return "\n".join(lines).encode("latin-1") + rest
