"""AuthLab: pick a way to authenticate, send it right, wrong or not at all, read the answer.

Every attempt is real: a kernel client connects to a demo server that wants that kind of
credential (:mod:`wslearn.demo.auth`), and the widget shows the request as the server
logged it (credentials redacted) and what came back:

* **101** and an echo: let in;
* **401**: no credential ("who are you?"); **403**: a wrong one ("no");
* **101, then Close 4401 / 4403**: the auth message comes after the handshake, so only a
  Close frame can refuse it (4000 + the HTTP status, RFC 6455 §7.4.2's private range).

The last method is the trick browsers force on us: ``new WebSocket(url, protocols)`` can
set no header but ``Sec-WebSocket-Protocol``, so some servers (Kubernetes among them) take
a token *disguised as a subprotocol offer*. The server must answer with the real
subprotocol it picked, never echo the token (RFC 6455 §4.2.2: it picks one of the offers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets

from wslearn.errors import ConnectionClosed, HandshakeError, WebSocketError
from wslearn.handshake import Request, Response, build_error_response, parse_header_tokens, server_said
from wslearn.i18n import N_, _
from wslearn.notebook import BackgroundServer, SyncClient, start_demo, start_server
from wslearn.redaction import MARKER

from .common import GREEN, RED, Views, esc, fitting_label

__all__ = ["METHODS", "Attempt", "AuthLab", "AuthMethod", "attempt", "redact"]

USER, PASSWORD = "alice", "s3cret-demo"
TOKEN = "tok-demo-4711"
COOKIE = ("session", "kernel-login-4711")
PROTOCOL_PREFIX = "token."  # the offer "token.<TOKEN>" carries the token
AUTH_TIMEOUT = 0.3  # seconds for the auth message (the demo's default is 10)
OPEN_TIMEOUT = 3.0
CREDENTIALS = (N_("right"), N_("wrong"), N_("none"))


@dataclass(frozen=True)
class AuthMethod:
    """One way to authenticate: what the server wants and what a client sends."""

    key: str
    title: str
    sends: str  # what the client puts on the wire
    browser: str  # can a browser page send it?
    options: dict[str, Any] = field(default_factory=dict)  # of the demo server
    note: str = ""


METHODS = {
    m.key: m
    for m in (
        AuthMethod(
            "basic",
            N_("user:password in the URL"),
            N_("ws://alice:password@host/ws becomes Authorization: Basic base64(alice:password)"),
            N_("some browsers, not all: the WebSocket API has no way to set it"),
            {"basic_auth": (USER, PASSWORD)},
            N_("the password crosses the network in base64, which is no encryption: only over wss://"),
        ),
        AuthMethod(
            "bearer",
            N_("Authorization: Bearer"),
            N_("Authorization: Bearer <token> (RFC 6750)"),
            N_("no: a page cannot add headers to a WebSocket handshake"),
            {"bearer_token": TOKEN},
            N_("fine for Python, curl and mobile apps; impossible from browser JavaScript"),
        ),
        AuthMethod(
            "password-as-bearer",
            N_("user:token@ to a Bearer server"),
            N_("ws://alice:<token>@host/ws: the client makes it Basic, never Bearer"),
            N_("no"),
            {"bearer_token": TOKEN},
            N_(
                "a :password@ in a URL is not a Bearer token:"
                " the server sees the Basic scheme and answers 401"
            ),
        ),
        AuthMethod(
            "cookie",
            N_("cookie"),
            N_("Cookie: session=<value>"),
            N_("yes, by itself: the browser adds the cookies it holds for the host"),
            {"cookie": COOKIE},
            N_("sent even when another site's page opens the socket: check Origin too"),
        ),
        AuthMethod(
            "query",
            N_("?token= in the URL"),
            N_("ws://host/ws?token=<token>"),
            N_("yes"),
            {"query_token": TOKEN},
            N_("URLs end up in access logs, proxy logs and browser history, token and all"),
        ),
        AuthMethod(
            "message",
            N_("auth message"),
            N_("the token as the first WebSocket message, after the 101"),
            N_("yes"),
            {"message_token": TOKEN, "auth_timeout": AUTH_TIMEOUT},
            N_("refused with a Close frame (4401 none in time, 4403 wrong): the handshake already succeeded"),
        ),
        AuthMethod(
            "subprotocol",
            N_("token as a subprotocol offer"),
            N_("Sec-WebSocket-Protocol: chat, token.<token>; the server answers chat"),
            N_("yes: the one header a page may set, new WebSocket(url, ['chat', 'token.…'])"),
            {},
            N_("the server must answer with the subprotocol it speaks, never with the token"),
        ),
    )
}


@dataclass(frozen=True)
class Attempt:
    """What one connection attempt did."""

    method: AuthMethod
    credential: str  # "right", "wrong" or "none"
    request: str  # as the server logged it, credentials redacted
    status: int  # 101, 401, 403 (0: no answer)
    close_code: int | None  # after a 101
    answer: str  # one line: what the client got
    access_log: str = ""  # the request line a plain access log would keep

    @property
    def verdict(self) -> str:
        if self.status == 0:
            return _("no answer")
        if self.status != 101:
            return f"{self.status}"
        if self.close_code not in (None, 1000):
            return _("101, then Close {code}").format(code=self.close_code)
        return _("101: let in")

    @property
    def let_in(self) -> bool:
        return self.status == 101 and self.close_code in (None, 1000)


# --- The subprotocol-token server ----------------------------------------------------------


def _offered(request: Request) -> list[str]:
    return [t for v in request.headers.get_all("Sec-WebSocket-Protocol") for t in parse_header_tokens(v)]


def check_subprotocol_token(request: Request) -> Response | None:
    """401 without a ``token.…`` offer, 403 with a wrong one; None lets the handshake go on."""
    tokens = [p.removeprefix(PROTOCOL_PREFIX) for p in _offered(request) if p.startswith(PROTOCOL_PREFIX)]
    if not tokens:
        return build_error_response(HandshakeError(401, "offer the subprotocol token.<your token>"))
    if tokens[0] != TOKEN:
        return build_error_response(HandshakeError(403, "the token in the subprotocol offer is wrong"))
    return None


async def _echo(ws: Any) -> None:
    async for message in ws:
        await ws.send(message)


def _server(method: AuthMethod) -> BackgroundServer:
    name = f"authlab {method.key}"
    if method.key == "subprotocol":
        return start_server(_echo, name, subprotocols=("chat",), process_request=check_subprotocol_token)
    return start_demo(name, ping_interval=None, **method.options)


# --- One attempt -------------------------------------------------------------------------------

_TOKEN_OFFER = re.compile(re.escape(PROTOCOL_PREFIX) + r"[^,\s]+")


def redact(request_text: str) -> str:
    """The event log hides Authorization, Cookie and ?token=; hide a token offer too."""
    return _TOKEN_OFFER.sub(PROTOCOL_PREFIX + MARKER, request_text)


def _client_arguments(method: AuthMethod, credential: str, server: BackgroundServer) -> dict[str, Any]:
    """The URL, headers and subprotocols a client sends for ``credential``."""
    secret = {"right": TOKEN, "wrong": "guess", "none": None}[credential]
    password = {"right": PASSWORD, "wrong": "guess", "none": None}[credential]
    host = f"127.0.0.1:{server.port}"
    url, headers, subprotocols = f"ws://{host}/ws", [], ["chat"]
    if method.key == "basic" and password is not None:
        url = f"ws://{USER}:{password}@{host}/ws"
    elif method.key == "password-as-bearer" and secret is not None:
        url = f"ws://{USER}:{secret}@{host}/ws"
    elif method.key == "bearer" and secret is not None:
        headers = [("Authorization", f"Bearer {secret}")]
    elif method.key == "cookie" and credential != "none":
        headers = [("Cookie", f"{COOKIE[0]}={COOKIE[1] if credential == 'right' else 'guess'}")]
    elif method.key == "query" and secret is not None:
        url += f"?token={secret}"
    elif method.key == "subprotocol" and secret is not None:
        subprotocols = ["chat", PROTOCOL_PREFIX + secret]
    return {"url": url, "headers": headers, "subprotocols": subprotocols, "secret": secret}


def attempt(method_key: str, credential: str = "right") -> Attempt:
    """Connect once to the server of ``method_key`` with the ``credential`` right, wrong or none."""
    method = METHODS[method_key]
    if credential not in CREDENTIALS:
        raise ValueError(f"credential must be one of {CREDENTIALS}, not {credential!r}")
    server = _server(method)
    seen = len(server.event_log.events())
    args = _client_arguments(method, credential, server)
    status, close_code, answer = 0, None, ""
    try:
        client = SyncClient(
            args["url"], headers=args["headers"], subprotocols=args["subprotocols"], open_timeout=OPEN_TIMEOUT
        )
    except HandshakeError as error:
        status, answer = error.status, _said(error)
    except (TimeoutError, OSError) as error:  # no answer at all: say so, do not raise in a widget
        answer = f"{type(error).__name__}: {error}"
    else:
        status = 101
        close_code, answer = _talk(client, method, args["secret"])
    requests = [e for e in server.event_log.events()[seen:] if e.direction == "in" and e.kind != "frame"]
    request = (
        redact(requests[0].raw.decode("latin-1").strip()) if requests else _("(the server logged no request)")
    )
    access_log = ""
    if method.key == "query":  # what an access log without redaction keeps: the whole target
        target = args["url"].split(f":{server.port}", 1)[1]
        access_log = f'127.0.0.1 - - "GET {target} HTTP/1.1" {status}'
    return Attempt(method, credential, request, status, close_code, answer, access_log)


def _said(error: HandshakeError) -> str:
    """The first line of what a refusing server said, without the client's preamble."""
    return f"{error.status}: {server_said(error)}"


def _talk(client: SyncClient, method: AuthMethod, secret: str | None) -> tuple[int | None, str]:
    """After a 101: send the auth message if the method wants one, then one echo."""
    try:
        if method.key == "message" and secret is not None:
            client.send(secret)
        elif method.key == "message":
            client.recv(timeout=AUTH_TIMEOUT * 10)  # send nothing: wait for the server to give up
        client.send("hello")
        echoed = client.recv(timeout=OPEN_TIMEOUT)
        client.close()
        subprotocol = f" (subprotocol {client.subprotocol})" if client.subprotocol else ""
        return 1000, f"echo {echoed!r}{subprotocol}"
    except ConnectionClosed as closed:
        return closed.code, f"closed {closed.code}: {closed.reason}"
    except (WebSocketError, TimeoutError) as error:
        client.abort()
        return None, f"{type(error).__name__}: {error}"


# --- The widget ---------------------------------------------------------------------------------


def attempt_text(result: Attempt) -> str:
    m = result.method
    lines = [
        _("{title} · credential: {credential} → {verdict}").format(
            title=_(m.title), credential=_(result.credential), verdict=result.verdict
        ),
        "  " + _("the client sends: {sends}").format(sends=_(m.sends)),
        "  " + _("a browser page can: {browser}").format(browser=_(m.browser)),
        "  " + _("request as the server logged it:"),
        *("    " + line for line in result.request.splitlines()),
        "  " + _("answer: {answer}").format(answer=result.answer),
    ]
    if result.access_log:
        lines.append("  " + _("an access log keeps: {line}").format(line=result.access_log))
    if m.note:
        lines.append("  " + _("note: {note}").format(note=_(m.note)))
    return "\n".join(lines)


def attempt_html(result: Attempt) -> str:
    m = result.method
    colour = GREEN if result.let_in else RED
    log = (
        f"<p>{esc(_('An access log keeps the whole URL:'))} <code>{esc(result.access_log)}</code></p>"
        if result.access_log
        else ""
    )
    sends = _("The client sends {sends}. A browser page: {browser}.").format(
        sends=_(m.sends), browser=_(m.browser)
    )
    return (
        f"<div class='wslearn-authlab-result'>"
        f"<p><b>{esc(_(m.title))}</b>, {esc(_('credential'))} <i>{esc(_(result.credential))}</i>: "
        f"<b class='verdict' style='color:{colour}'>{esc(result.verdict)}</b></p>"
        f"<p>{esc(sends)}</p>"
        f"<pre class='wslearn-http'>{esc(result.request)}</pre>"
        f"<p>{esc(_('Answer:'))} <code>{esc(result.answer)}</code></p>{log}"
        f"<p><i>{esc(_(m.note))}</i></p></div>"
    )


class AuthLab(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Pick a method and a credential, press connect: the request, the status, why."""

    def __init__(self, method: str = "basic", credential: str = "right") -> None:
        self.method = widgets.Dropdown(
            options=[(_(m.title), m.key) for m in METHODS.values()], value=method, description=_("method")
        )
        self.credential = widgets.ToggleButtons(
            options=[(_(c), c) for c in CREDENTIALS], value=credential, description=_("credential")
        )
        self.connect_button = widgets.Button(
            description=_("connect"), button_style="primary", layout=fitting_label()
        )
        self.output = widgets.HTML()
        self.result: Attempt | None = None
        super().__init__([widgets.HBox([self.method, self.connect_button]), self.credential, self.output])
        self.add_class("wslearn-authlab")
        self.connect_button.on_click(lambda _button: self.connect())
        self.connect()

    def connect(self) -> Attempt:
        """Make the attempt the controls describe, and show it."""
        self.result = attempt(self.method.value, self.credential.value)
        self.output.value = attempt_html(self.result)
        return self.result

    def text(self) -> str:
        return attempt_text(self.result) if self.result is not None else _("AuthLab: press connect")

    def html(self) -> str:
        if self.result is None:
            return f"<p>{esc(_('AuthLab: press connect'))}</p>"
        return attempt_html(self.result)


def summary(credentials: tuple[str, ...] = CREDENTIALS) -> list[tuple[str, dict[str, str]]]:
    """Every method with every credential: ``[(title, {credential: verdict})]``, in the current language."""
    return [(_(m.title), {_(c): attempt(m.key, c).verdict for c in credentials}) for m in METHODS.values()]
