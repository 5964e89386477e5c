"""wslearn in a notebook: servers that run beside your cells, and blocking clients.

::

    from wslearn.notebook import start_demo, SyncClient

    server = start_demo()                 # the demo server, in a background thread
    print(server.url, server.http_url)    # ws://127.0.0.1:PORT  http://127.0.0.1:PORT/
    with SyncClient(server.url + "/ws") as ws:
        ws.send("Hello, WebSocket!")
        print(ws.recv(timeout=5))
    server.event_log.events()             # every handshake and frame
    server.stop()                         # or re-run the cell: same name, same server

* :func:`start_demo`, :func:`start_server`, :func:`start_proxy`: servers in background
  threads (see :mod:`wslearn.notebook.runner` for why);
* :class:`SyncClient`: a client with blocking methods; :func:`run`: ``asyncio.run`` that
  also works in a cell (see :mod:`wslearn.notebook.sync`).

The widgets live in :mod:`wslearn.notebook.widgets`, imported only when used, so this
module works without ipywidgets.
"""

from __future__ import annotations

from ssl import SSLContext
from typing import Any

import wslearn.explain  # noqa: F401  (registers the HTML views of frames, requests..., see wslearn.views)
from wslearn.aio import serve
from wslearn.aio.server import Handler
from wslearn.eventlog import EventLog

from .runner import BackgroundServer, running_servers, start_background, stop_all
from .source import show_source
from .sync import SyncClient, run

__all__ = [
    "BackgroundServer",
    "SyncClient",
    "run",
    "running_servers",
    "show_source",
    "start_demo",
    "start_proxy",
    "start_server",
    "stop_all",
]

# A background server gives a peer this long to answer its Close frame, so that stop()
# ends within 2 s even when a cell holds a raw socket that never answers.
CLOSE_TIMEOUT = 0.5


def start_demo(
    name: str = "demo",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl: SSLContext | None = None,
    tls: bool = False,
    **options: Any,
) -> BackgroundServer:
    """The demo server (``/``, ``/ws``, ``/wshandler``, ``/push``, ``/chat``) in the background.

    ``options`` are those of :func:`wslearn.demo.demo_server`. ``ssl`` (a server-side
    :class:`ssl.SSLContext`) serves TLS: ``server.url`` is then ``wss://`` and
    ``server.http_url`` ``https://``; ``tls=True`` does the same with a certificate from
    the kernel's own authority (:func:`wslearn.notebook.tls.kernel_ca`, whose
    ``client_context()`` a client then needs). Re-running the cell returns the running server when
    nothing changed, and replaces it otherwise.
    """
    from wslearn.demo import demo_server

    app = demo_server(**options)  # checks the options before anything starts
    if tls and ssl is None:
        from .tls import kernel_ca

        ssl = kernel_ca().server_context()

    def make(event_log: EventLog | None) -> BackgroundServer:
        log = event_log if event_log is not None else EventLog()
        kwargs = app.serve_kwargs(event_log=log)
        if kwargs["allowed_hosts"] is None:
            kwargs["allowed_hosts"] = _notebook_hosts(host)

        async def starter() -> Any:
            return await serve(host=host, port=port, close_timeout=CLOSE_TIMEOUT, ssl=ssl, **kwargs)

        return BackgroundServer(starter, name=name, host=host, event_log=log, secure=ssl is not None)

    return start_background(name, ("demo", host, port, app.options, ssl), make, port=port)


def start_server(
    handler: Handler,
    name: str = "server",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    **serve_options: Any,
) -> BackgroundServer:
    """Your own ``async def handler(ws)`` served in the background by :func:`wslearn.aio.serve`.

    Re-running the cell that defines the handler makes a new function, so the server is
    replaced and the new code runs.
    """
    own_log: EventLog | None = serve_options.pop("event_log", None)
    serve_options.setdefault("close_timeout", CLOSE_TIMEOUT)
    if serve_options.get("allowed_hosts") is None:
        serve_options["allowed_hosts"] = _notebook_hosts(host)
    options = ("server", handler, host, port, own_log, sorted(serve_options.items()))

    def make(event_log: EventLog | None) -> BackgroundServer:
        log = own_log if own_log is not None else event_log
        log = log if log is not None else EventLog()

        async def starter() -> Any:
            return await serve(handler, host, port, event_log=log, **serve_options)

        return BackgroundServer(starter, name=name, host=host, event_log=log)

    return start_background(name, options, make, port=port)


def _notebook_hosts(host: str) -> tuple[str, ...] | None:
    """On loopback, the names of the Jupyter server in front (see ``urls.jupyter_hosts``);
    elsewhere None: :func:`wslearn.aio.serve`'s default (any name)."""
    from wslearn.handshake import is_loopback

    from .urls import jupyter_hosts

    return jupyter_hosts() if is_loopback(host.strip("[]")) else None


def start_proxy(
    target: str,
    name: str = "proxy",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    mode: str = "websocket",
) -> BackgroundServer:
    """A reverse proxy and wire tap in front of ``target`` (``ws://127.0.0.1:PORT``).

    Connect to the proxy's URL instead of the target's: every frame, both ways, shows up
    in ``proxy.event_log``. ``mode`` reproduces a misconfigured proxy ("drop-upgrade",
    "http10", "first-subprotocol"; see :data:`wslearn.proxy.MODES`).
    """
    from wslearn.proxy import check_mode, start_proxy_server

    check_mode(mode)  # before anything starts

    def make(event_log: EventLog | None) -> BackgroundServer:
        log = event_log if event_log is not None else EventLog()

        async def starter() -> Any:
            return await start_proxy_server(target, host, port, event_log=log, mode=mode)

        return BackgroundServer(starter, name=name, host=host, event_log=log)

    return start_background(name, ("proxy", target, host, port, mode), make, port=port)
