"""WebSocket server and client on asyncio streams, built only from wslearn's core.

``serve(handler)`` runs a server, ``connect(url)`` opens a client connection; both hand you
a :class:`WebSocket` with ``send``, ``recv``, ``ping`` and ``close``. This package is the
only part of wslearn's protocol stack that touches sockets.
"""

from .client import connect
from .connection import WebSocket
from .server import Server, broadcast, serve

__all__ = ["Server", "WebSocket", "broadcast", "connect", "serve"]
