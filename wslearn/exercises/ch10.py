"""Chapter 10, security and deployment: the Origin check, a proxy's three lines, checkpoint."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from wslearn.i18n import N_

from .core import Case, Exercise, Mistake, Question, register, register_quiz

# --- 10.origin_allowed: is this page one of ours? ---------------------------------------

# The port a URL means when it writes none (RFC 6454 §4 uses the scheme's default port).
DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_port(authority: str, default_port: int) -> tuple[str, int] | None:
    """``"Example.com:8080"`` → ``("example.com", 8080)``; None when it is not host[:port]."""
    try:
        parts = urlsplit("//" + authority)
        port = parts.port if parts.port is not None else default_port
    except ValueError:  # a port that is not a number, or above 65535
        return None
    if not parts.hostname or parts.path or parts.query or parts.username is not None:
        return None
    return parts.hostname.lower(), port


def origin_allowed(origin: str, host: str) -> bool:
    """Did the page whose ``Origin`` header this is come from the server named by ``Host``?

    An origin is scheme, host and port (RFC 6454 §4). The Host header has no scheme, so the
    origin's own scheme says what a missing port means on both sides: 80 for http, 443 for
    https. Host names compare without regard to case; ``"null"`` (a sandboxed frame, a
    ``file://`` page) is never one of ours.
    """
    scheme, separator, authority = origin.partition("://")
    default_port = DEFAULT_PORTS.get(scheme.lower())
    if not separator or default_port is None:
        return False  # "null", "", or a scheme no page of ours has
    page = _host_port(authority, default_port)
    return page is not None and page == _host_port(host, default_port)


_SAME = N_("same scheme, host and port: a page this server served")
_PORT = N_("another port is another origin (RFC 6454 §4): compare the ports too")
_DEFAULT = N_("no port means the scheme's default port: 80 for http, 443 for https")
_CASE = N_("scheme and host name are case-insensitive: compare them in lower case")
_NULL = N_("'null' is the origin of a sandboxed frame or a file:// page: it proves nothing, refuse it")
_WHOLE = N_("compare the whole host name: a name that only contains ours is someone else's site")
_IPV6 = N_("an IPv6 address is written in brackets, [::1]; its port comes after the ']'")

ORIGIN_CASES = (
    Case(("http://127.0.0.1:8765", "127.0.0.1:8765"), True, hint=_SAME),
    Case(("http://127.0.0.1:9000", "127.0.0.1:8765"), False, hint=_PORT),
    Case(("http://evil.example:8765", "127.0.0.1:8765"), False, hint="another host is another origin"),
    Case(
        ("http://localhost:8765", "127.0.0.1:8765"),
        False,
        hint="origins compare names, not addresses: localhost and 127.0.0.1 are two origins",
    ),
    Case(("http://example.com", "example.com"), True, hint=_SAME),
    Case(("http://example.com", "example.com:80"), True, hint=_DEFAULT),
    Case(("https://example.com", "example.com"), True, hint=_DEFAULT),
    Case(("https://example.com", "example.com:443"), True, hint=_DEFAULT),
    Case(("https://example.com", "example.com:80"), False, hint=_DEFAULT + "; https without a port is 443"),
    Case(("http://example.com:8080", "example.com:8080"), True, hint=_SAME),
    Case(("HTTP://Example.COM:8765", "example.com:8765"), True, hint=_CASE),
    Case(("http://example.com:8765", "EXAMPLE.com:8765"), True, hint=_CASE),
    Case(("null", "127.0.0.1:8765"), False, hint=_NULL),
    Case(("http://[::1]:8765", "[::1]:8765"), True, hint=_IPV6),
    Case(("http://[::1]:8765", "[::1]:8766"), False, hint=_IPV6 + "; " + _PORT),
    Case(("http://127.0.0.1.evil.example:8765", "127.0.0.1:8765"), False, hint=_WHOLE),
    Case(
        ("http://127.0.0.1:8765", "127.0.0.1:876"),
        False,
        hint="compare the port as a number: 8765 is not 876 (a prefix test says yes)",
    ),
    Case(
        ("ftp://127.0.0.1:8765", "127.0.0.1:8765"),
        False,
        hint="pages of this server have an http:// or https:// origin; another scheme is another origin",
    ),
    Case(("", "127.0.0.1:8765"), False, hint="an empty Origin is not a page of this server"),
)


def _exact_string(origin: str, host: str) -> bool:
    return origin == "http://" + host


def _hosts_only(origin: str, host: str) -> bool:
    return urlsplit(origin).hostname == urlsplit("//" + host).hostname


def _substring(origin: str, host: str) -> bool:
    return host.rsplit(":", 1)[0] in origin


def _null_allowed(origin: str, host: str) -> bool:
    return origin == "null" or origin_allowed(origin, host)


register(
    Exercise(
        id="10.origin_allowed",
        title="Is this Origin one of ours?",
        signature="origin_allowed(origin: str, host: str) -> bool",
        reference=origin_allowed,
        rfc="§10.2",
        cases=ORIGIN_CASES,
        mistakes=(
            Mistake("compare the strings", _exact_string, "default port"),
            Mistake("compare host names only", _hosts_only, "another port is another origin"),
            Mistake("a substring test", _substring, "compare the whole host name"),
            Mistake("let 'null' in", _null_allowed, "'null'"),
        ),
        explanation="The server's only defence against cross-site WebSocket hijacking is to refuse"
        " Origins it does not know (RFC 6455 §10.2).",
    )
)


# --- 10.nginx_upgrade: the three lines a reverse proxy needs ------------------------------

HTTP_VERSION = "proxy_http_version"
UPGRADE = "proxy_set_header Upgrade"
CONNECTION = "proxy_set_header Connection"

NGINX_LINES = {HTTP_VERSION: "1.1", UPGRADE: "$http_upgrade", CONNECTION: '"upgrade"'}

# What each line may say (after removing quotes, the final ';' and case where it does not matter).
_ACCEPTED = {
    "1.1": {"1.1"},
    "$http_upgrade": {"$http_upgrade", "websocket"},  # a WebSocket-only location may name it
    '"upgrade"': {"upgrade", "$connection_upgrade"},  # the second needs nginx's map block
}

_WHY = {
    HTTP_VERSION: N_(
        "nginx speaks HTTP/1.0 to the backend by default, and HTTP/1.0 has no Upgrade:"
        " the backend answers 400 (the proxy's mode 'http10'). Say 1.1"
    ),
    UPGRADE: N_(
        "Upgrade is hop-by-hop: nginx does not pass it on unless a line sets it again;"
        " $http_upgrade is the client's own value (without it: 426, the proxy's mode 'drop-upgrade')"
    ),
    CONNECTION: N_(
        "Connection is hop-by-hop too, and nginx sends 'close' by default: it must name"
        ' the Upgrade for the backend, "upgrade"'
    ),
}


def _normalise(line: Any) -> str | None:
    if not isinstance(line, str):
        return None
    value = line.strip().removesuffix(";").strip().strip("\"'").strip()
    return value if value.startswith("$") else value.lower()


def _nginx_compare(expected: Any, got: Any) -> bool:
    return _normalise(got) in _ACCEPTED[expected]


def _nginx_diagnose(case: Case, got: Any) -> str | None:
    return _WHY[case.args[0]]


register(
    Exercise(
        id="10.nginx_upgrade",
        title="The three nginx lines that let a WebSocket upgrade through",
        signature=f"a dict: {HTTP_VERSION!r}, {UPGRADE!r}, {CONNECTION!r} -> the value of each line",
        reference=dict(NGINX_LINES),
        kind="value",
        rfc="§4.1",
        cases=tuple(Case((key,), value, label=f"{key} …;") for key, value in NGINX_LINES.items()),
        compare=_nginx_compare,
        diagnose=_nginx_diagnose,
        mistakes=(
            Mistake(
                "nginx's default version", {**NGINX_LINES, HTTP_VERSION: "1.0"}, "HTTP/1.0 has no Upgrade"
            ),
            Mistake("keep-alive instead of upgrade", {**NGINX_LINES, CONNECTION: "keep-alive"}, "must name"),
            Mistake("Upgrade left out", {**NGINX_LINES, UPGRADE: ""}, "Upgrade is hop-by-hop"),
        ),
    )
)


# --- Checkpoint -----------------------------------------------------------------------------

register_quiz(
    "10.checkpoint",
    "Checkpoint: security and deployment",
    [
        Question(
            "A page at http://127.0.0.1:9000/ runs new WebSocket('ws://127.0.0.1:8765/chat'). Which"
            " Origin header does the server at port 8765 receive?",
            1,
            "The Origin is the page's origin (scheme, host, port), whatever URL the socket opens:"
            " the browser adds it and the page cannot change it (RFC 6455 §4.1, §10.2).",
            choices=(
                "http://127.0.0.1:8765",
                "http://127.0.0.1:9000",
                "ws://127.0.0.1:8765",
                "none: WebSocket requests have no Origin",
            ),
            rfc="§10.2",
        ),
        Question(
            "Why must a WebSocket server check Origin itself?",
            2,
            "The same-origin policy does not cover WebSocket: the browser connects, sends the"
            " host's cookies and lets the page read every message. Only the server can refuse (403).",
            choices=(
                "the browser blocks cross-origin WebSockets unless the server sends CORS headers",
                "Origin is secret, so it proves who the user is",
                "the browser lets any page connect with the user's cookies; only the server can refuse",
            ),
            rfc="§10.2",
        ),
        Question(
            "A browser page opens ws://alice:s3cret@example.com/chat. What reaches the server?",
            1,
            "URL credentials are not a Bearer token: at most a browser turns them into"
            " Authorization: Basic base64('alice:s3cret') (RFC 7617), and browsers differ. Send a"
            " token as a cookie, a subprotocol offer or a first message instead.",
            choices=(
                "Authorization: Bearer s3cret",
                "at most Authorization: Basic base64('alice:s3cret'), and not in every browser",
                "a cookie named alice",
            ),
        ),
        Question(
            "A TLS connection starts with a handshake record. What is its first byte, in decimal?",
            22,
            "0x16 = 22, ContentType handshake (RFC 8446 §5.1): a plain ws:// server that reads it"
            " sees no 'GET' and answers 400; a TLS server that reads 'GET' instead drops the connection.",
        ),
        Question(
            "The notebook is served over https (Binder, JupyterHub). Which URL can its page open?",
            2,
            "An https page may not open ws:// (mixed content); it uses wss:// through the Jupyter"
            " server's own proxy, whose TLS is the Jupyter server's.",
            choices=(
                "ws://127.0.0.1:PORT/chat: the kernel's port directly",
                "ws://the-hub/user/x/proxy/PORT/chat",
                "wss://the-hub/user/x/proxy/PORT/chat",
            ),
        ),
    ],
)
