"""Blocking WebSocket calls for notebook cells, and ``run()`` for script-style asyncio code.

:class:`SyncClient` is wslearn's asyncio client behind plain method calls, so a cell can
talk to a server without ``await``::

    with SyncClient(server.url + "/ws") as ws:
        ws.send("Hello, WebSocket!")
        print(ws.recv(timeout=5))

Its connections live on one shared event loop in a background daemon thread (the
"client loop"); every method hands a coroutine to that loop and waits for the result,
never longer than its timeout. The kernel's own loop is never touched, so this works in
a cell, in a plain script and in a thread alike.

:func:`run` is for code copied from a script, ``asyncio.run(main())``, which fails in a
cell ("cannot be called from a running event loop") because the kernel's loop is
already running. ``run(main())`` runs ``main()`` to completion on that running loop by
making the loop re-entrant with ``nest_asyncio2`` (the maintained fork of nest-asyncio;
the original makes "Run All" silently skip later cells on ipykernel ≥ 7.3). Outside a
running loop it is just :func:`asyncio.run`.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from collections.abc import Callable, Coroutine, Iterable, Sequence
from ssl import SSLContext
from types import TracebackType
from typing import Any, TypeVar

from wslearn.aio import connect
from wslearn.aio.connection import WebSocket
from wslearn.deflate import Compression, DeflateParameters
from wslearn.errors import ConnectionClosed
from wslearn.eventlog import EventLog
from wslearn.handshake import Request, Response
from wslearn.notebook.runner import call_on_loop

__all__ = ["SyncClient", "run"]

T = TypeVar("T")
logger = logging.getLogger(__name__)

# Added to every wait on the client loop, on top of the operation's own timeout, so that
# the operation reports its own (clearer) TimeoutError first.
MARGIN = 1.0


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, also inside a notebook cell (see the module doc)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main)
    import nest_asyncio2  # only when needed: it patches asyncio for the whole process

    nest_asyncio2.apply(loop)  # afterwards asyncio.run(main()) works in cells too
    return loop.run_until_complete(main)


class _ClientLoop:
    """One event loop in a daemon thread, shared by every SyncClient."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="wslearn client loop", daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        return call_on_loop(self.loop, self.thread, coro, timeout, what="SyncClient")

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(2)
        if not self.thread.is_alive():
            self.loop.close()


_client_loop: _ClientLoop | None = None
_client_loop_lock = threading.Lock()


def _shared_loop() -> _ClientLoop:
    global _client_loop
    with _client_loop_lock:
        if _client_loop is None or not _client_loop.thread.is_alive():
            _client_loop = _ClientLoop()
        return _client_loop


@atexit.register
def _stop_client_loop() -> None:
    if _client_loop is not None and _client_loop.thread.is_alive():
        _client_loop.stop()


class SyncClient:
    """A WebSocket client with blocking methods, for cells: ``send``, ``recv``, ``ping``,
    ``close``. Opens the connection at once (``open_timeout`` seconds at most).

    ``ssl`` is the client-side TLS context for a ``wss://`` URL (by default the system's
    trusted certificate authorities). ``compression="deflate"`` offers permessage-deflate
    (RFC 7692); :attr:`extensions` and :attr:`deflate` tell what the server agreed to."""

    def __init__(
        self,
        url: str,
        *,
        subprotocols: Sequence[str] = (),
        headers: Iterable[tuple[str, str]] = (),
        origin: str | None = None,
        ssl: SSLContext | None = None,
        open_timeout: float = 10,
        event_log: EventLog | None = None,
        compression: Compression = None,
    ) -> None:
        self.url = url
        self._loop = _shared_loop()
        connecting = connect(
            url,
            subprotocols=subprotocols,
            headers=list(headers),
            origin=origin,
            ssl=ssl,
            open_timeout=open_timeout,
            event_log=event_log,
            compression=compression,
        )
        self.ws: WebSocket = self._loop.call(connecting.open(), open_timeout + MARGIN)

    def __repr__(self) -> str:
        state = "open" if self.closed is None else f"closed {self.closed}"
        return f"<SyncClient {self.url} {state}>"

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    @property
    def extensions(self) -> str:
        """The agreed ``Sec-WebSocket-Extensions`` value, "" when none (RFC 6455 §9)."""
        return self.ws.extensions

    @property
    def deflate(self) -> DeflateParameters | None:
        """The agreed permessage-deflate parameters (RFC 7692 §7.1); None: uncompressed."""
        return self.ws.deflate

    @property
    def request(self) -> Request | None:
        """The opening handshake this client sent (RFC 6455 §4.1), with its ``Sec-WebSocket-Key``."""
        return self.ws.request

    @property
    def response(self) -> Response | None:
        """The server's ``101 Switching Protocols`` answer (RFC 6455 §4.2.2)."""
        return self.ws.response

    @property
    def closed(self) -> ConnectionClosed | None:
        """Why the connection ended; ``None`` while it is open."""
        return self.ws.closed

    def send(self, message: str | bytes, timeout: float = 10) -> None:
        """Send a text (``str``) or binary (``bytes``) message."""
        self._loop.call(self.ws.send(message), timeout)

    def recv(self, timeout: float | None = 10) -> str | bytes:
        """The next message; TimeoutError after ``timeout`` s (``None``: wait forever)."""
        wait = None if timeout is None else timeout + MARGIN
        return self._loop.call(self.ws.recv(timeout=timeout), wait)

    def ping(self, data: bytes | None = None, timeout: float = 10) -> float:
        """Send a Ping, wait for its Pong; returns the round trip in seconds."""
        return self._loop.call(_wait(self.ws.ping(data), timeout), timeout + MARGIN)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """The closing handshake (RFC 6455 §7.1.2); bounded by the close timeout."""
        wait = self.ws.close_timeout * 2 + MARGIN  # the client waits twice at most
        self._loop.call(self.ws.close(code, reason), wait)

    def abort(self) -> None:
        """Drop the TCP connection with no Close frame, as a crashed peer or a lost network
        does; the server sees 1006 (RFC 6455 §7.1.5)."""
        self._loop.call(_abort(self.ws), 5)

    def listen(
        self,
        on_message: Callable[[str | bytes], object],
        on_close: Callable[[ConnectionClosed], object] | None = None,
    ) -> None:
        """Call ``on_message(message)`` for each message from now on, without a cell waiting.

        The calls come from the client loop's thread, not the cell's: a widget's callback
        may only set widget values there (never ``print``). After ``listen``, do not call
        :meth:`recv` as well: two readers would split the messages between them.
        ``on_close(closed)`` is called once when the connection ends. A callback that raises
        is logged and the next message is still delivered.
        """
        asyncio.run_coroutine_threadsafe(_listen(self.ws, on_message, on_close), self._loop.loop)

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


async def _abort(ws: WebSocket) -> None:
    ws._writer.transport.abort()


async def _listen(
    ws: WebSocket,
    on_message: Callable[[str | bytes], object],
    on_close: Callable[[ConnectionClosed], object] | None,
) -> None:
    try:
        async for message in ws:
            try:
                on_message(message)
            except Exception:
                logger.exception("a SyncClient.listen() callback failed; the next message is still delivered")
    except ConnectionClosed:
        pass
    if on_close is not None and ws.closed is not None:
        on_close(ws.closed)


async def _wait(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    async with asyncio.timeout(timeout):
        return await coro
