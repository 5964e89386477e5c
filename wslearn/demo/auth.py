"""Who may open a WebSocket: the Origin policy and four ways to authenticate.

A browser's ``new WebSocket(url, protocols)`` cannot add headers of its own, so seed
article 003 lists four ways a client can prove who it is. Each one is a check here, off
by default and switched on by a parameter of :func:`wslearn.demo.demo_server`:

=================  ==============================================  =====================
style              what the client sends                           parameter
=================  ==============================================  =====================
user:password      ``Authorization: Basic base64(user:password)``  ``basic_auth``
bearer token       ``Authorization: Bearer <token>``               ``bearer_token``
cookie             ``Cookie: <name>=<value>``                      ``cookie``
token in the URL   ``ws://host/chat?token=<token>``                ``query_token``
auth message       first WebSocket message after the handshake     ``message_token``
=================  ==============================================  =====================

The first four are checked on the HTTP upgrade request, before any WebSocket exists, so
a refusal is an ordinary HTTP answer whose body says why:

* **401 Unauthorized**: the credential is missing ("who are you?");
* **403 Forbidden**: a credential was sent but it is wrong ("I know what you sent, no").

The auth message comes after the 101, so it can only be refused with a Close frame. We
use the private-use range (RFC 6455 §7.4.2, codes 4000-4999) the way many servers do:
4000 + the HTTP status, **4401** when no auth message came in time and **4403** when it
was wrong.

Every secret is compared with :func:`hmac.compare_digest`, which takes the same time
whatever the first wrong character is, and no secret is ever logged.

The Origin policy (RFC 6455 §10.2) protects users' browsers from other sites' pages:
a browser always sends the page's origin, and any page on the web could otherwise open a
WebSocket to this server with the user's cookies. Seed article 000 accepts every origin;
here the default allows

* requests without an Origin header (non-browser clients: Python, curl, wscat), and
* same-host origins, whose host:port equals the Host header (our own chat page, also
  behind jupyter-server-proxy, which passes Host and Origin through unchanged),

plus any origin in ``allowed_origins`` (``"*"`` allows all, as in seed 000).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from wslearn.errors import ConnectionClosed, HandshakeError
from wslearn.handshake import Request
from wslearn.i18n import _

if TYPE_CHECKING:
    from wslearn.aio.connection import WebSocket

__all__ = [
    "DEFAULT_PORTS",
    "authenticate_by_message",
    "check_basic_auth",
    "check_bearer_token",
    "check_cookie",
    "check_origin",
    "check_query_token",
    "same_host",
]

# The port a URL means when it does not write one (RFC 6455 §3: ws 80, wss 443).
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}

# RFC 9110 §11.6.1: a 401 answer must tell which authentication scheme to use.
_BASIC_CHALLENGE = (("WWW-Authenticate", 'Basic realm="wslearn", charset="UTF-8"'),)
_BEARER_CHALLENGE = (("WWW-Authenticate", 'Bearer realm="wslearn"'),)


def _same_secret(sent: str, expected: str) -> bool:
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


# --- Origin (RFC 6455 §4.2.1 item 8, §10.2) --------------------------------------------


def _host_and_port(authority: str, default_port: int) -> tuple[str, int] | None:
    """``"Example.com:8080"`` → ``("example.com", 8080)``; ``None`` if it is not host[:port]."""
    try:
        parts = urlsplit(f"//{authority}")
        port = parts.port if parts.port is not None else default_port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port


def same_host(origin: str, host_header: str | None) -> bool:
    """Does ``origin`` (``"http://h:p"``) name the host:port of the Host header?"""
    scheme, _sep, authority = origin.partition("://")
    default_port = DEFAULT_PORTS.get(scheme.lower())
    if host_header is None or default_port is None:
        return False
    origin_host = _host_and_port(authority, default_port)
    return origin_host is not None and origin_host == _host_and_port(host_header, default_port)


def check_origin(request: Request, allowed_origins: Iterable[str] = ()) -> None:
    """Raise HandshakeError(403) unless the request's Origin is allowed (see module doc)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser: the Origin policy protects browsers only
    allowed = set(allowed_origins)
    if "*" in allowed or origin in allowed:
        return
    if same_host(origin, request.headers.get("Host")):
        return
    refusal = _(
        "Origin {origin} is not allowed: this server accepts pages it served itself"
        " (Origin host:port equal to the Host header {host})"
        " and clients that send no Origin (RFC 6455 §10.2)."
    )
    raise HandshakeError(403, refusal.format(origin=repr(origin), host=repr(request.headers.get("Host"))))


# --- The four ways to authenticate ---------------------------------------------------


def _authorization(request: Request, scheme: str, challenge: tuple[tuple[str, str], ...]) -> str:
    """The credentials after ``Authorization: <scheme> ``; 401 when there are none."""
    value = request.headers.get("Authorization")
    if value is None:
        wanted = _("this server wants an Authorization: {scheme} ... header").format(scheme=scheme)
        raise HandshakeError(401, wanted, challenge)
    sent_scheme, _space, credentials = value.strip().partition(" ")
    if sent_scheme.lower() != scheme.lower():
        # Name the scheme only when it is a known one: a client that forgot "Bearer "
        # sent its token in its place, and this answer lands in logs.
        if sent_scheme.lower() in _KNOWN_SCHEMES:
            used = _("the {scheme} scheme").format(scheme=sent_scheme)
        else:
            used = _("no known scheme")
        other = _("the Authorization header uses {used}; this server wants {scheme} (RFC 9110 §11.4)")
        raise HandshakeError(401, other.format(used=used, scheme=scheme), challenge)
    return credentials.strip()


# The schemes of the IANA HTTP Authentication Scheme Registry (RFC 9110 §16.4.1).
_KNOWN_SCHEMES = frozenset(
    {"basic", "bearer", "concealed", "digest", "dpop", "gnap", "hoba", "mutual", "negotiate", "oauth"}
    | {"privatetoken", "scram-sha-1", "scram-sha-256", "vapid"}
)


def check_basic_auth(request: Request, user: str, password: str) -> None:
    """``Authorization: Basic base64(user:password)`` (RFC 7617)."""
    credentials = _authorization(request, "Basic", _BASIC_CHALLENGE)
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise HandshakeError(
            401, _("the Basic credentials are not base64 of UTF-8 'user:password'"), _BASIC_CHALLENGE
        ) from None
    sent_user, colon, sent_password = decoded.partition(":")
    if not colon:
        raise HandshakeError(
            401, _("the Basic credentials have no ':' between user and password"), _BASIC_CHALLENGE
        )
    # Compare both, always, so the answer takes as long for a wrong user as for a wrong password.
    right_user = _same_secret(sent_user, user)
    if not (_same_secret(sent_password, password) and right_user):
        raise HandshakeError(403, _("wrong user name or password"))


def check_bearer_token(request: Request, token: str) -> None:
    """``Authorization: Bearer <token>`` (RFC 6750 §2.1)."""
    sent = _authorization(request, "Bearer", _BEARER_CHALLENGE)
    if not _same_secret(sent, token):
        raise HandshakeError(403, _("the bearer token is wrong"))


def check_cookie(request: Request, name: str, value: str) -> None:
    """``Cookie: <name>=<value>``; the browser adds it by itself for its own site (RFC 6265)."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load("; ".join(request.headers.get_all("Cookie")))
    except CookieError:
        raise HandshakeError(400, _("the Cookie header cannot be parsed (RFC 6265 §4.2)")) from None
    if name not in jar:
        raise HandshakeError(401, _("this server wants a cookie named {name}").format(name=repr(name)))
    if not _same_secret(jar[name].value, value):
        raise HandshakeError(403, _("the cookie {name} has the wrong value").format(name=repr(name)))


def check_query_token(request: Request, token: str, name: str = "token") -> None:
    """``?token=<token>`` in the URL. Easy, but URLs end up in logs and browser history."""
    sent = request.query.get(name)
    if sent is None:
        raise HandshakeError(401, _("this server wants ?{name}=... in the URL").format(name=name))
    if not _same_secret(sent, token):
        raise HandshakeError(403, _("the {name} in the URL is wrong").format(name=name))


# Close codes for a refused auth message: 4000 + the HTTP status (RFC 6455 §7.4.2).
AUTH_MISSING = 4401
AUTH_WRONG = 4403


async def authenticate_by_message(ws: WebSocket, token: str, timeout: float) -> bool:
    """Wait for the first message and check it is ``token``; close 4401/4403 otherwise.

    Returns True when the client may go on.
    """
    try:
        first = await ws.recv(timeout=timeout)
    except ConnectionClosed:
        return False
    except TimeoutError:
        await ws.close(AUTH_MISSING, f"send the token as the first message within {timeout:g} s")
        return False
    if not isinstance(first, str) or not _same_secret(first, token):
        await ws.close(AUTH_WRONG, "the first message must be the token; it was not")
        return False
    return True
