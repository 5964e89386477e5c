"""Which URL does a *browser* use to reach a server running inside the kernel?

The kernel always reaches its own server at ``ws://127.0.0.1:PORT``. The browser showing the notebook
may not: on JupyterHub or Binder it runs on another machine, and only the Jupyter server is reachable.
jupyter-server-proxy fixes that: it relays ``{base_url}proxy/PORT/rest`` to ``127.0.0.1:PORT/rest``
(the prefix is stripped), WebSocket upgrades included (RFC 6455 §4.1: the upgrade is an ordinary
HTTP/1.1 GET, so an HTTP proxy can forward it).

So there are two answers:

* ``http://127.0.0.1:PORT/`` when the browser runs on this machine: plain Python, a headless
  test run, and JupyterLab started on your own computer. The browser then talks to our server
  itself, and sees exactly what the server sends (a relay in between may not: when our server
  closes with 1001, a browser behind jupyter-server-proxy is told 1005, "no status code");
* ``{base_url}proxy/PORT/`` on JupyterHub or Binder (``JUPYTERHUB_SERVICE_PREFIX`` or Binder's
  ``BINDER_*`` variables are set), when jupyter-server-proxy is installed. This is a path
  without a host: a link or an IFrame ``src`` resolves it against the page showing the notebook,
  so it works whatever host name the browser used, and the browser sends its Jupyter login cookie.

``base_url`` is ``JUPYTERHUB_SERVICE_PREFIX`` under JupyterHub/Binder, otherwise the ``base_url``
of the Jupyter server that started this kernel (its ``jpserver-PID.json`` file, found through
``JPY_PARENT_PID``). Set ``WSLEARN_BROWSER_URLS=proxy`` when your browser runs on another machine
than a Jupyter server you started yourself (a container, an SSH tunnel), or ``direct`` to force
the direct URL.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from wslearn.http import authority

Via = Literal["auto", "direct", "proxy"]

#: Environment variable that forces the choice: "direct", "proxy" or "auto" (the default).
OVERRIDE_VARIABLE = "WSLEARN_BROWSER_URLS"


@dataclass(frozen=True)
class JupyterServer:
    """What the kernel knows about the Jupyter server that serves the notebook."""

    base_url: str  # always starts and ends with "/", e.g. "/" or "/user/ada/"
    port: int | None  # None under JupyterHub when no server file was found
    source: str  # where base_url came from, for the environment check


def direct_url(port: int, path: str = "/", *, host: str = "127.0.0.1") -> str:
    """The URL of the server itself: what the kernel uses, and a browser on this machine."""
    return f"http://{authority(host, port)}{_absolute(path)}"


def proxy_path(port: int, path: str = "/", *, base_url: str = "/") -> str:
    """The jupyter-server-proxy path to ``path`` on 127.0.0.1:``port``: ``{base_url}proxy/PORT/...``."""
    return f"{_slashed(base_url)}proxy/{port}{_absolute(path)}"


def browser_url(
    port: int,
    path: str = "/",
    *,
    via: Via = "auto",
    environ: Mapping[str, str] | None = None,
) -> str:
    """The URL a browser showing this notebook uses to reach ``path`` on our server at ``port``."""
    environ = os.environ if environ is None else environ
    server = find_jupyter_server(environ)
    if _use_proxy(via, server, environ):
        base_url = server.base_url if server is not None else "/"
        return proxy_path(port, path, base_url=base_url)
    return direct_url(port, path)


@dataclass(frozen=True)
class PageLink:
    """A link to a page of our server, shown in a notebook as a link and (optionally) an IFrame.

    The IFrame's ``src`` may be a path such as ``/proxy/8765/``: the browser resolves it
    against the address of the notebook page, so it reaches the same Jupyter server.
    """

    url: str
    text: str
    iframe_height: int | None = 360

    def __str__(self) -> str:
        return self.url

    def _repr_html_(self) -> str:
        url = html.escape(self.url, quote=True)
        link = (
            f"<p><a class='wslearn-page-link' href='{url}' target='_blank' rel='noopener'>"
            f"{html.escape(self.text)}</a> <code>{html.escape(self.url)}</code></p>"
        )
        if self.iframe_height is None:
            return link
        frame = (
            f"<iframe src='{url}' width='100%' height='{self.iframe_height}'"
            " style='border:1px solid #ccc;border-radius:6px'></iframe>"
        )
        return link + frame


def page_link(
    port: int,
    path: str = "/",
    *,
    text: str = "open the page in a new tab",
    iframe_height: int | None = 360,
    environ: Mapping[str, str] | None = None,
) -> PageLink:
    """A link (and IFrame) to ``path`` on our server, with the URL a browser can reach."""
    return PageLink(browser_url(port, path, environ=environ), text, iframe_height)


def find_jupyter_server(environ: Mapping[str, str] | None = None) -> JupyterServer | None:
    """The Jupyter server that started this kernel, or None when there is none we can find."""
    environ = os.environ if environ is None else environ
    info = read_server_info(environ)
    port = info.get("port") if info else None
    prefix = environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        return JupyterServer(_slashed(prefix), port, "JUPYTERHUB_SERVICE_PREFIX")
    if info is not None:
        return JupyterServer(_slashed(info.get("base_url", "/")), port, "Jupyter server info file")
    return None


def read_server_info(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The ``jpserver-PID.json`` file of the server whose PID is this kernel's ``JPY_PARENT_PID``.

    The file also holds the server's token: never print it.
    """
    environ = os.environ if environ is None else environ
    parent_pid = environ.get("JPY_PARENT_PID", "")
    if not parent_pid.isdigit():
        return None
    path = _runtime_dir(environ) / f"jpserver-{parent_pid}.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def jupyter_hosts(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The ``allowed_hosts`` of a server in the kernel: the names a browser uses for the
    Jupyter server, which jupyter-server-proxy passes on in the Host header.

    Loopback names are always allowed (a local JupyterLab at ``localhost:8888``). Under
    JupyterHub or Binder the hub's public name comes from ``JUPYTERHUB_PUBLIC_URL``,
    ``JUPYTERHUB_PUBLIC_HUB_URL`` or ``JUPYTERHUB_HOST``; a local Jupyter server's from the
    ``url`` of its server info file. Under JupyterHub with none of these set, any name is
    allowed (``"*"``): the browser runs on another machine, where a rebinding page reaches
    its own loopback, never this kernel's.
    """
    from wslearn.handshake import host_name, is_loopback

    environ = os.environ if environ is None else environ
    urls = [environ.get(name, "") for name in ("JUPYTERHUB_PUBLIC_URL", "JUPYTERHUB_PUBLIC_HUB_URL")]
    urls.append(environ.get("JUPYTERHUB_HOST", ""))
    info = read_server_info(environ)
    if info is not None and isinstance(info.get("url"), str):
        urls.append(info["url"])
    names = []
    for url in urls:
        netloc = url.split("://", 1)[-1].split("/", 1)[0]
        name = host_name(netloc) if netloc else None
        if name is not None and not is_loopback(name) and name not in names:
            names.append(name)
    if not names and environ.get("JUPYTERHUB_SERVICE_PREFIX"):
        return ("*",)
    return tuple(names)


def has_server_proxy() -> bool:
    """Is jupyter-server-proxy installed next to this kernel? (On Binder, the server uses the same one.)"""
    return importlib.util.find_spec("jupyter_server_proxy") is not None


def _use_proxy(via: Via, server: JupyterServer | None, environ: Mapping[str, str]) -> bool:
    choice = environ.get(OVERRIDE_VARIABLE, "").strip().lower() if via == "auto" else via
    if choice == "proxy":
        return True
    if choice == "direct":
        return False
    return on_a_hub(environ) and has_server_proxy()


def on_a_hub(environ: Mapping[str, str] | None = None) -> bool:
    """Is this kernel served by JupyterHub or Binder, so that the browser runs elsewhere?"""
    environ = os.environ if environ is None else environ
    return bool(environ.get("JUPYTERHUB_SERVICE_PREFIX")) or any(
        name.startswith("BINDER_") for name in environ
    )


def _runtime_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("JUPYTER_RUNTIME_DIR"):
        return Path(environ["JUPYTER_RUNTIME_DIR"])
    from jupyter_core.paths import jupyter_runtime_dir  # installed with every Jupyter kernel

    return Path(jupyter_runtime_dir())


def _slashed(base_url: str) -> str:
    return "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"


def _absolute(path: str) -> str:
    return path if path.startswith("/") else "/" + path
