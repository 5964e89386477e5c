"""The demo server: every route of the seed articles behind one port.

:func:`demo_server` builds a :class:`DemoServer`; its :meth:`~DemoServer.serve_kwargs`
are what :func:`wslearn.aio.serve` needs::

    from wslearn.aio import serve
    from wslearn.demo import demo_server

    server = await serve(**demo_server().serve_kwargs(), port=8765)

The same builder serves the command line (``python -m wslearn serve``) and the
notebooks (:func:`wslearn.notebook.start_demo` runs it in a background thread).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields
from functools import partial
from typing import TYPE_CHECKING, Any

from wslearn.assembler import DEFAULT_MAX_SIZE
from wslearn.errors import ConnectionClosed, HandshakeError
from wslearn.handshake import Request, Response, build_error_response
from wslearn.i18n import _

from . import auth, compare, routes
from .chat import ChatRoom

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from wslearn.aio.connection import WebSocket
    from wslearn.eventlog import EventLog

    Route = Callable[[WebSocket], Awaitable[None]]

__all__ = ["SUBPROTOCOLS", "DemoOptions", "DemoServer", "demo_server"]

# Seed article 000's example handshake offers "chat, superchat" (RFC 6455 §1.9).
SUBPROTOCOLS = ("chat", "superchat")


@dataclass(frozen=True)
class DemoOptions:
    """Every knob of the demo server. Frozen, so two option sets compare with ``==``."""

    heartbeat_interval: float = 3.0  # /wshandler: seconds between "heart beat" texts
    push_interval: float = 2.0  # /push: seconds between "hello i am N"
    push_count: int = 3
    update_interval: float = 1.0  # /poll, /longpoll, /sse, /updates: seconds between updates
    ping_interval: float | None = 20.0  # protocol heartbeat on every connection
    ping_timeout: float | None = 20.0  # no Pong in time: close 1011
    max_message_size: int = DEFAULT_MAX_SIZE
    allowed_origins: tuple[str, ...] = ()  # besides no Origin and same-host ("*": any)
    allowed_hosts: tuple[str, ...] | None = None  # Host names besides loopback; None: serve()'s default
    basic_auth: tuple[str, str] | None = None  # (user, password)
    bearer_token: str | None = None
    cookie: tuple[str, str] | None = None  # (name, value)
    query_token: str | None = None  # ?token=...
    message_token: str | None = None  # the first message must be this
    auth_timeout: float = 10.0  # seconds to wait for the auth message
    compression: str | None = None  # "deflate": accept permessage-deflate (RFC 7692); off: readable frames

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_origins", tuple(self.allowed_origins))
        if self.allowed_hosts is not None:
            object.__setattr__(self, "allowed_hosts", tuple(self.allowed_hosts))
        for name in ("basic_auth", "cookie"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        _refuse_empty_secrets(self)
        if self.basic_auth is not None and self.bearer_token is not None:
            raise ValueError("basic_auth and bearer_token both need the Authorization header")
        if self.compression not in (None, "deflate"):
            raise ValueError(f'compression is None or "deflate", not {self.compression!r}')
        for name in ("heartbeat_interval", "push_interval", "update_interval", "auth_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


def _refuse_empty_secrets(options: DemoOptions) -> None:
    """An empty secret would let in anyone who sends nothing: refuse such a configuration."""
    secrets = {
        "bearer_token": options.bearer_token,
        "query_token": options.query_token,
        "message_token": options.message_token,
        "basic_auth user": options.basic_auth[0] if options.basic_auth else None,
        "basic_auth password": options.basic_auth[1] if options.basic_auth else None,
        "cookie name": options.cookie[0] if options.cookie else None,
        "cookie value": options.cookie[1] if options.cookie else None,
    }
    for name, secret in secrets.items():
        if secret is not None and not (isinstance(secret, str) and secret.strip()):
            raise ValueError(
                f"{name} is empty (or only spaces): a credential must be a non-empty string"
                " (leave the option out, or None, to switch that check off)"
            )


class DemoServer:
    """The demo application: route table, HTTP answers and the chat room's state."""

    def __init__(self, options: DemoOptions | None = None) -> None:
        self.options = options or DemoOptions()
        self.chat = ChatRoom()
        o = self.options
        self.updates = compare.UpdateFeed(o.update_interval)
        self.routes: dict[str, Route] = {
            "/ws": routes.echo,
            "/wshandler": partial(routes.echo_with_heartbeat, interval=o.heartbeat_interval),
            "/push": partial(routes.push, interval=o.push_interval, count=o.push_count),
            "/chat": self.chat.join,
            "/updates": self.updates.websocket,
        }

    def describe(self) -> dict[str, str]:
        """Path → one line about it (for the 404 page and the command line)."""
        o = self.options
        return {
            "/": _("the chat page: open it in a browser"),
            "/ws": _("echo: each message comes back with its type"),
            "/wshandler": _("echo + a 'heart beat' text every {seconds} s").format(
                seconds=f"{o.heartbeat_interval:g}"
            ),
            "/push": _("'hello i am 0' .. {last}, {seconds} s apart").format(
                last=o.push_count - 1, seconds=f"{o.push_interval:g}"
            ),
            "/chat": _("group chat: your id first, then {message} to all").format(
                message='{"uid": ..., "msg": ...}'
            ),
            **self.updates.describe(),
        }

    # --- The two hooks serve() calls -------------------------------------------------

    def process_request(self, request: Request) -> Response | Awaitable[Response] | None:
        """Answer with plain HTTP, or return None to go on with the WebSocket handshake."""
        if request.path in compare.HTTP_PATHS:
            return self.updates.answer(request)  # polling, long polling, server-sent events
        if request.path == "/" and not routes.wants_websocket(request):
            if request.method not in ("GET", "HEAD"):  # RFC 9110 §9.1: HEAD wherever GET
                return routes.method_not_allowed(request.method, request.path)
            return routes.page()
        if request.path not in self.routes:
            return routes.not_found(request.path, self.describe())
        if not routes.wants_websocket(request):
            return routes.upgrade_required(request.path)
        try:
            auth.check_origin(request, self.options.allowed_origins)
            self._check_credentials(request)
        except HandshakeError as error:
            return build_error_response(error)  # 401/403 with a body that says why
        return None

    def _check_credentials(self, request: Request) -> None:
        """Each enabled auth style must pass (see :mod:`wslearn.demo.auth`)."""
        o = self.options
        if o.basic_auth is not None:
            auth.check_basic_auth(request, *o.basic_auth)
        if o.bearer_token is not None:
            auth.check_bearer_token(request, o.bearer_token)
        if o.cookie is not None:
            auth.check_cookie(request, *o.cookie)
        if o.query_token is not None:
            auth.check_query_token(request, o.query_token)

    async def handler(self, ws: WebSocket) -> None:
        """Run the route for ``ws.path`` (process_request already refused unknown paths)."""
        token = self.options.message_token
        if token is not None and not await auth.authenticate_by_message(ws, token, self.options.auth_timeout):
            return
        # A connection that ends abruptly (1006) is no error of the server's: the event
        # log already shows how it ended.
        with contextlib.suppress(ConnectionClosed):
            await self.routes[ws.path](ws)

    def serve_kwargs(self, event_log: EventLog | None = None) -> dict[str, Any]:
        """The keyword arguments of :func:`wslearn.aio.serve` (all but host and port)."""
        return {
            "handler": self.handler,
            "subprotocols": SUBPROTOCOLS,
            "process_request": self.process_request,
            "ping_interval": self.options.ping_interval,
            "ping_timeout": self.options.ping_timeout,
            "max_message_size": self.options.max_message_size,
            "event_log": event_log,
            "allowed_hosts": self.options.allowed_hosts,
            "compression": self.options.compression,
            # The auth message is a credential: the event log shows its size, never its text.
            "secret_first_message": self.options.message_token is not None,
        }


def demo_server(**options: Any) -> DemoServer:
    """Build the demo server; ``options`` are the fields of :class:`DemoOptions`.

    Examples: ``demo_server(heartbeat_interval=1)``,
    ``demo_server(query_token="s3cret", allowed_origins=["http://localhost:8888"])``.
    """
    known = {f.name for f in fields(DemoOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown demo option(s) {unknown}; known: {sorted(known)}")
    return DemoServer(DemoOptions(**options))
