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

The HTTP part (reading and writing :class:`Request` / :class:`Response`, header fields) is
:mod:`wslearn.http`; this module is what RFC 6455 §4 adds to it. :func:`check_request` is
what a server does (§4.2.1) and :func:`check_response` what a client does (§4.1); every
check that fails raises a :class:`~wslearn.errors.HandshakeError` carrying the HTTP status a
server answers with. :func:`build_request` and :func:`build_accept_response` write the two
messages. (The HTTP names are importable from here too: ``from wslearn.handshake import
Request`` works.)
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from . import deflate
from .errors import HandshakeError
from .http import (
    MAX_BODY_SIZE,
    MAX_HEADER_SIZE,
    Headers,
    Request,
    Response,
    excerpt,
    head_ends_in,
    header_tokens,
    host_allowed,
    host_name,
    is_loopback,
    is_token,
    parse_header_tokens,
    text_response,
)
from .i18n import LANGUAGES, N_, _, catalogue
from .redaction import SECRET_HEADERS, SECRET_QUERY, redact_target
from .views import html_view

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
    "server_said",
    "text_response",
    "wants_websocket",
]

# RFC 6455 §1.3: the "Globally Unique Identifier" every server appends to the key.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


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

    def _repr_html_(self) -> str | None:
        return html_view(self)  # drawn by wslearn.explain, when it is loaded


def accept_key_steps(key: str) -> AcceptSteps:
    """:func:`accept_key`, one step at a time (RFC 6455 §1.3)."""
    concatenated = key + GUID
    digest = hashlib.sha1(concatenated.encode()).digest()
    accept = base64.b64encode(digest).decode("ascii")
    return AcceptSteps(key, concatenated, digest.hex(), digest, accept)


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
            405,
            _("a WebSocket handshake uses GET; got {method}").format(method=excerpt(req.method)),
            (("Allow", "GET"),),
        )


def _check_http_version(req: Request) -> None:
    match = re.fullmatch(r"HTTP/(\d)\.(\d)", req.version)
    if match is None:
        wrong = _("the HTTP version must be HTTP/1.1; got {version}")
        raise HandshakeError(400, wrong.format(version=excerpt(req.version)))
    if int(match[1]) >= 2:
        raise HandshakeError(
            505, _("WebSocket upgrades need HTTP/1.1; got {version}").format(version=req.version)
        )
    if int(match[2]) < 1:
        raise HandshakeError(
            400, _("WebSocket needs HTTP/1.1 or higher; got {version}").format(version=req.version)
        )


def _one_value(
    req: Request, name: str, status: int = 400, headers: tuple[tuple[str, str], ...] = ()
) -> str | None:
    """The value of a header that may appear at most once (None when absent)."""
    values = req.headers.get_all(name)
    if len(values) > 1:
        once = _("{name} must appear once; got {count} values {values}")
        raise HandshakeError(status, once.format(name=name, count=len(values), values=values), headers)
    return values[0] if values else None


def _check_host(req: Request) -> None:
    # RFC 9112 §3.2: a server MUST answer 400 when Host is missing or repeated.
    if _one_value(req, "Host") is None:
        raise HandshakeError(400, _("the Host header is missing (HTTP/1.1 requires it)"))


def wants_websocket(req: Request) -> bool:
    """Does the request ask to switch to WebSocket: is ``websocket`` one of the tokens of
    its Upgrade header (RFC 6455 §4.2.1 item 3; compared case-insensitively)?"""
    return any(token.lower() == "websocket" for token in header_tokens(req.headers, "Upgrade"))


def _check_upgrade(req: Request) -> None:
    if not header_tokens(req.headers, "Upgrade"):
        # RFC 9110 §15.5.22: 426 Upgrade Required names the protocol to upgrade to.
        raise HandshakeError(
            426,
            _("this URL speaks WebSocket only, and the request has no Upgrade: websocket header"),
            (("Upgrade", "websocket"),),
        )
    if not wants_websocket(req):
        got = excerpt(req.headers["Upgrade"])
        raise HandshakeError(400, _("Upgrade must contain websocket; got {got}").format(got=got))


def _check_connection(req: Request) -> None:
    if not req.headers.get_all("Connection"):
        raise HandshakeError(400, _("the Connection header is missing; it must contain Upgrade"))
    if not any(token.lower() == "upgrade" for token in header_tokens(req.headers, "Connection")):
        got = excerpt(req.headers["Connection"])
        raise HandshakeError(400, _("Connection must contain the token Upgrade; got {got}").format(got=got))


def _check_key(req: Request) -> str:
    key = _one_value(req, "Sec-WebSocket-Key")
    if key is None:
        raise HandshakeError(400, _("the Sec-WebSocket-Key header is missing"))
    if len(key) != 24:
        length = _(
            "Sec-WebSocket-Key must be base64 of 16 bytes; got {count} characters: {key} (a valid key has 24)"
        )
        raise HandshakeError(400, length.format(count=len(key), key=excerpt(key)))
    try:
        raw = base64.b64decode(key, validate=True)
    except ValueError:  # binascii.Error, or characters outside ASCII
        not_base64 = _("Sec-WebSocket-Key must be base64 of 16 bytes; got {key}, which is not base64")
        raise HandshakeError(400, not_base64.format(key=excerpt(key))) from None
    if len(raw) != 16:
        size = _("Sec-WebSocket-Key must be base64 of 16 bytes; got {key}, which decodes to {count} bytes")
        raise HandshakeError(400, size.format(key=excerpt(key), count=len(raw)))
    return key


def _check_websocket_version(req: Request) -> None:
    # §4.2.2 item 4: answer a version we do not speak with 426 and the one we speak.
    speaks_13 = (("Sec-WebSocket-Version", "13"),)
    version = _one_value(req, "Sec-WebSocket-Version", 426, speaks_13)
    if version is None:
        raise HandshakeError(
            426, _("the Sec-WebSocket-Version header is missing; this server speaks 13"), speaks_13
        )
    if version != "13":
        wrong = _("Sec-WebSocket-Version must be 13; got {version}").format(version=excerpt(version))
        raise HandshakeError(426, wrong, speaks_13)


def _check_no_body(req: Request) -> None:
    # A body would be read as WebSocket frames once the connection is upgraded.
    length = req.headers.get("Content-Length", "0")
    if length != "0":
        got = f"Content-Length: {excerpt(length)}"
        raise HandshakeError(400, _("a WebSocket handshake request has no body; got {got}").format(got=got))
    if "Transfer-Encoding" in req.headers:
        got = f"Transfer-Encoding: {excerpt(req.headers['Transfer-Encoding'])}"
        raise HandshakeError(400, _("a WebSocket handshake request has no body; got {got}").format(got=got))


def _check_origin(req: Request, origin_allowed: Callable[[str | None], bool] | None) -> None:
    # §10.2: a server may refuse pages from origins it does not trust, with 403.
    origin = _one_value(req, "Origin")
    if origin_allowed is None or origin_allowed(origin):
        return
    if origin is None:
        raise HandshakeError(403, _("this server refuses requests without an Origin header"))
    raise HandshakeError(
        403, _("Origin {origin} is not allowed by this server").format(origin=excerpt(origin))
    )


# --- Server side: whose name is in Host? (DNS rebinding, RFC 6455 §10.2) --------------
# Reading the name in Host is HTTP: wslearn.http.host_allowed says why it matters.


def check_host(req: Request, allowed_hosts: Sequence[str] = ()) -> None:
    """Raise HandshakeError(403) unless :func:`host_allowed` (DNS rebinding protection);
    400 when Host is missing or repeated (RFC 9112 §3.2)."""
    _check_host(req)
    host = req.headers.get("Host")
    if host_allowed(host, allowed_hosts):
        return
    names = ["localhost", "127.0.0.1", "[::1]", *allowed_hosts]
    why = _(
        "It answers {names}: a page that renames itself to this machine (DNS rebinding) still"
        " sends its own name. If you reach this server by another name, add it to allowed_hosts."
    )
    stranger = _("Host {host} is not a name of this server.").format(host=excerpt(host or ""))
    raise HandshakeError(403, stranger + " " + why.format(names=", ".join(names)))


# --- Server side: answering (RFC 6455 §4.2.2) ----------------------------------------


def offered_subprotocols(req: Request) -> list[str]:
    """The subprotocols the client offers in Sec-WebSocket-Protocol, in its order."""
    return header_tokens(req.headers, "Sec-WebSocket-Protocol")


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


# What to do about a refusal, after the reason: translated when the answer is built.
_HINTS = {
    400: N_(
        "A WebSocket handshake is a GET with Upgrade: websocket, Connection: Upgrade,"
        " Sec-WebSocket-Key and Sec-WebSocket-Version: 13 (RFC 6455 §4.1)."
    ),
    401: N_(
        "Send credentials the server accepts (RFC 6455 §4.1: the handshake may carry"
        " Authorization or Cookie headers)."
    ),
    403: N_("The server refused this client: its Origin policy (RFC 6455 §10.2) or its access rules."),
    405: N_("Open a WebSocket with a GET request (RFC 6455 §4.1)."),
    426: N_("Connect with a WebSocket client, e.g. new WebSocket(url) in a browser (RFC 6455 §4.1)."),
    431: N_("Send fewer or smaller headers (RFC 6585 §5)."),
    505: N_("WebSocket runs over HTTP/1.1 (RFC 6455 §4.1)."),
}


def build_error_response(error: HandshakeError) -> Response:
    """A plain-text HTTP response that says why the handshake was refused."""
    status = error.status if 100 <= error.status <= 999 else 400
    body = f"{error.reason}\n"
    if status in _HINTS:
        body += f"\n{_(_HINTS[status])}\n"
    response = text_response(status, body, error.headers)
    if status == 426 and "Upgrade" not in response.headers:
        response.headers.add("Upgrade", "websocket")  # RFC 9110 §15.5.22: a 426 names the protocol
    return response


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
        if not is_token(subprotocol):
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
    answered = _("the server answered {status} {reason} instead of 101 Switching Protocols")
    answered = answered.format(status=resp.status, reason=resp.reason)
    raise HandshakeError(resp.status, answered + _(_IT_SAID) + said if said else answered)


# Between the client's words and the server's in the reason of a refused handshake.
_IT_SAID = N_("; it said: ")


def server_said(error: HandshakeError) -> str:
    """The first line of what a refusing server wrote in its answer, as :func:`check_response`
    quotes it after "it said:" (in any language of the catalogue); the first line of the whole
    reason when the server wrote nothing."""
    wordings = [catalogue(lang).get(_IT_SAID, _IT_SAID) for lang in LANGUAGES]
    for separator in dict.fromkeys([_IT_SAID, *wordings]):
        _before, found, said = error.reason.partition(separator)
        if found and said.strip():
            return said.splitlines()[0]
    return error.reason.splitlines()[0] if error.reason else ""


def _check_response_upgrade(resp: Response) -> None:
    tokens = header_tokens(resp.headers, "Upgrade")
    if [token.lower() for token in tokens] != ["websocket"]:
        got = excerpt(resp.headers.get("Upgrade", ""))
        raise HandshakeError(
            resp.status, _("the response's Upgrade must be websocket; got {got}").format(got=got)
        )


def _check_response_connection(resp: Response) -> None:
    if not any(token.lower() == "upgrade" for token in header_tokens(resp.headers, "Connection")):
        got = excerpt(resp.headers.get("Connection", ""))
        reason = _("the response's Connection must contain Upgrade; got {got}").format(got=got)
        raise HandshakeError(resp.status, reason)


def _check_accept(resp: Response, key: str) -> None:
    expected = accept_key(key)
    got = resp.headers.get("Sec-WebSocket-Accept")
    if got != expected:
        wrong = _("Sec-WebSocket-Accept should be {expected} (base64 of SHA-1 of our key + GUID); got {got}")
        raise HandshakeError(resp.status, wrong.format(expected=expected, got=excerpt(got or "")))


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
            got = excerpt(", ".join(values))
            chosen = _("the server chose Sec-WebSocket-Extensions {got}, but we asked for none").format(
                got=got
            )
            raise HandshakeError(resp.status, chosen)
        return None
    return deflate.check_response(values, offers)


def _agreed_subprotocol(resp: Response, offered: Sequence[str]) -> str | None:
    chosen = header_tokens(resp.headers, "Sec-WebSocket-Protocol")
    if not chosen:
        return None
    if len(chosen) == 1 and chosen[0] in offered:
        return chosen[0]
    got = excerpt(resp.headers["Sec-WebSocket-Protocol"])
    if not offered:
        unasked = _("the server chose Sec-WebSocket-Protocol {got}; we offered none")
        raise HandshakeError(resp.status, unasked.format(got=got))
    other = _("the server chose Sec-WebSocket-Protocol {got}; we offered {offered}")
    raise HandshakeError(resp.status, other.format(got=got, offered=", ".join(offered)))
