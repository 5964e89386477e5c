"""The demo server's WebSocket routes and its plain HTTP answers.

Each route is one short ``async def`` that receives a :class:`wslearn.aio.WebSocket`,
the way a student would write it:

========== ===========================================================================
``/ws``         echo: every message comes back with the same type (seed article 000)
``/wshandler``  echo, plus a text "heart beat" every 3 s and a protocol ping (seed 002)
``/push``       the server speaks first: "hello i am 0", "1", "2", 2 s apart (seed 003)
``/chat``       the group chat (seed 003), see :mod:`wslearn.demo.chat`
========== ===========================================================================

Everything that is not a WebSocket upgrade is answered with plain HTTP, always with a
body that says what happened: the chat page at ``/``, 404 for an unknown path (listing
the routes), and 426 Upgrade Required for a plain GET to a WebSocket route.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from wslearn.errors import ConnectionClosed
from wslearn.handshake import wants_websocket
from wslearn.http import Headers, Response, text_response
from wslearn.i18n import _, pad

if TYPE_CHECKING:
    from wslearn.aio.connection import WebSocket

__all__ = [
    "echo",
    "echo_with_heartbeat",
    "method_not_allowed",
    "not_found",
    "page",
    "push",
    "upgrade_required",
    "wants_websocket",
]

# --- The WebSocket routes ------------------------------------------------------------


async def echo(ws: WebSocket) -> None:
    """``/ws``: send every message back; text stays text, binary stays binary (RFC 6455 §5.6)."""
    async for message in ws:
        await ws.send(message)


async def echo_with_heartbeat(ws: WebSocket, *, interval: float = 3.0) -> None:
    """``/wshandler``: echo, while another task pushes "heart beat" every ``interval`` s.

    Two tasks write to one connection here: the echo loop and the pusher. Seed article
    002 does the same with two goroutines and no lock, so two frames can interleave on
    the wire. A :class:`WebSocket` has one write path, so each frame goes out whole.
    """
    pusher = asyncio.create_task(_push_heartbeats(ws, interval), name="heart beat")
    try:
        await echo(ws)
    finally:
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await pusher


async def _push_heartbeats(ws: WebSocket, interval: float) -> None:
    """An application heartbeat (a text message the page can show) and a protocol one.

    The Ping frame (RFC 6455 §5.5.2) is answered by the peer's WebSocket library with a
    Pong (§5.5.3), never by application code; its round trip lands in ``ws.rtts``.
    """
    while True:
        await asyncio.sleep(interval)
        await ws.send("heart beat")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ws.ping(), timeout=interval)


async def push(ws: WebSocket, *, interval: float = 2.0, count: int = 3) -> None:
    """``/push``: the server talks first, ``count`` times, then only listens.

    No request is needed for the server to send: that is the point of WebSocket
    compared with HTTP polling. What the client sends afterwards is read (and shows in
    the event log) but not answered.
    """
    for number in range(count):
        await asyncio.sleep(interval)
        await ws.send(f"hello i am {number}")
    async for _message in ws:
        pass


# --- Plain HTTP answers --------------------------------------------------------------


@cache
def _page_bytes() -> bytes:
    return (resources.files("wslearn") / "static" / "chat.html").read_bytes()


def page() -> Response:
    """``/``: the browser chat page (static HTML and JavaScript, no CDN)."""
    body = _page_bytes()
    headers = Headers(
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            ("Cache-Control", "no-cache"),
        ]
    )
    return Response(200, "OK", headers=headers, body=body)


def _route_list(routes: Mapping[str, str]) -> str:
    width = max(len(path) for path in routes)
    return "".join(f"  {pad(path, width)}  {what}\n" for path, what in routes.items())


def not_found(path: str, routes: Mapping[str, str]) -> Response:
    """404, with the list of what this server does have."""
    text = _("404 Not Found: nothing at {path}\n\nThis server has:\n{routes}")
    return text_response(404, text.format(path=path, routes=_route_list(routes)))


def method_not_allowed(method: str, path: str) -> Response:
    """405 for anything but GET and HEAD on the page (RFC 9110 §15.5.6 wants an Allow header)."""
    text = _("405 Method Not Allowed: {path} only answers GET and HEAD, not {method}\n").format(
        path=path, method=method
    )
    return text_response(405, text, [("Allow", "GET, HEAD")])


def upgrade_required(path: str) -> Response:
    """426: a plain HTTP request reached a WebSocket route (RFC 9110 §15.5.22)."""
    text = _(
        "426 Upgrade Required: {path} is a WebSocket endpoint.\n\n"
        "This request was plain HTTP. To open a WebSocket, the client sends a GET with\n"
        "  Upgrade: websocket\n"
        "  Connection: Upgrade\n"
        "  Sec-WebSocket-Key: <16 random bytes in base64>\n"
        "  Sec-WebSocket-Version: 13\n"
        "and the server answers 101 Switching Protocols (RFC 6455 §4.1, §4.2.2).\n"
        "Use a WebSocket client: new WebSocket(url) in a browser, the websockets library,\n"
        "or python -m wslearn connect ws://HOST:PORT{path}\n"
    ).format(path=path)
    response = text_response(426, text, [("Sec-WebSocket-Version", "13")])
    # RFC 9110 §7.8: a 426 must name the protocol to upgrade to in Upgrade, and a
    # message with Upgrade lists "Upgrade" in Connection.
    response.headers["Upgrade"] = "websocket"
    response.headers["Connection"] = "Upgrade, close"
    return response
