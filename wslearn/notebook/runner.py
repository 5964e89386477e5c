"""Run a WebSocket server in a background thread, so notebook cells can block freely.

Why a thread? A notebook's cells run on the kernel's asyncio loop, in the main thread. A
server started as a task on that loop only runs while no cell is running: as soon as a
cell blocks (``time.sleep``, a raw-socket handshake typed by hand, a synchronous client),
the server is starved, and a cell that waits for the server's answer waits forever. So
the server gets its **own thread with its own event loop**::

    main thread (kernel loop, your cells)       background thread "wslearn demo"
    ─────────────────────────────────────       ─────────────────────────────────
    server = start_demo()  ── starts ──────────▶ loop: serve() ... ready
           ◀───── waits for "ready" (5 s max) ── port chosen by the OS
    sock.connect(("127.0.0.1", server.port))    accepts, answers, keeps running
    sock.recv(...)   # blocks: fine              while your cell blocks
    server.stop()    ── asks the loop ────────▶ close every connection with 1001
           ◀──────── joins the thread (2 s) ─── loop closed, thread ends

What makes re-running a cell safe:

* port 0 by default: the operating system picks a free port (``server.port``), so two
  servers never fight over one;
* a registry keyed by name: starting ``"demo"`` again returns the running server when
  the options are the same, and stops and replaces it when they differ; a fixed port
  still held by another server of the registry is freed first;
* every server is stopped when the interpreter exits (``atexit``), and the thread is a
  daemon thread, so a forgotten server never keeps a kernel alive;
* every wait has a timeout and a message that says what went wrong: no cell hangs.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

from wslearn.eventlog import EventLog
from wslearn.http import authority

__all__ = [
    "BackgroundServer",
    "call_on_loop",
    "running_servers",
    "start_background",
    "stop_all",
]

T = TypeVar("T")

READY_TIMEOUT = 5.0  # seconds for a server to start listening
STOP_TIMEOUT = 2.0  # seconds for stop() to close everything and end the thread
CALL_TIMEOUT = 10.0  # seconds for BackgroundServer.call()


def call_on_loop(
    loop: asyncio.AbstractEventLoop,
    thread: threading.Thread | None,
    coro: Coroutine[Any, Any, T],
    timeout: float | None,
    *,
    what: str,
) -> T:
    """Run ``coro`` on ``loop``, which ``thread`` runs, and wait for its result here.

    The bridge between a cell (the kernel's thread) and a background loop. From the
    loop's own thread it would wait for itself forever, so that is refused. After
    ``timeout`` seconds the coroutine is cancelled and TimeoutError is raised.
    """
    if threading.current_thread() is thread:
        coro.close()
        raise RuntimeError(f"{what}: waiting on its own event loop would wait forever; use await")
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    try:
        return future.result(timeout)
    except TimeoutError:
        future.cancel()
        raise TimeoutError(f"{what}: no result within {timeout:g} s; the coroutine was cancelled") from None


class Listening(Protocol):
    """What a started server looks like (``wslearn.aio.Server``, ``wslearn.proxy.Proxy``)."""

    @property
    def port(self) -> int: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


# An async function that starts listening and returns the server, called on the
# background loop: e.g. ``lambda: serve(handler, port=0)``.
Starter = Callable[[], Awaitable[Listening]]


class BackgroundServer:
    """A server running on its own event loop in a daemon thread.

    ``starter`` is called on that loop and must return the listening server. Use
    :meth:`start` (or ``with``) to run it and :meth:`stop` to end it. Usually made by
    :func:`wslearn.notebook.start_demo`, :func:`~wslearn.notebook.start_server` or
    :func:`~wslearn.notebook.start_proxy`.
    """

    def __init__(
        self,
        starter: Starter,
        *,
        name: str = "server",
        host: str = "127.0.0.1",
        event_log: EventLog | None = None,
        ready_timeout: float = READY_TIMEOUT,
        stop_timeout: float = STOP_TIMEOUT,
        secure: bool = False,
    ) -> None:
        self.name = name
        self.secure = secure  # TLS: wss:// and https:// URLs
        self.host = host
        self.event_log = event_log if event_log is not None else EventLog()
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.options: object = None  # what the registry compares on a re-run
        self.tasks_left_at_stop = 0  # tasks still alive after the server closed (leaks)
        self._starter = starter
        self._server: Listening | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self.running else "stopped"
        return f"<BackgroundServer {self.name!r} {state}>"

    # --- Where it listens ------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server is not None

    @property
    def server(self) -> Listening:
        """The server object itself (lives on the background loop: use :meth:`call`)."""
        if self._server is None:
            raise RuntimeError(f"the server {self.name!r} is not running")
        return self._server

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:PORT`` (``wss://`` over TLS): add a route, e.g. ``server.url + "/chat"``."""
        return f"{'wss' if self.secure else 'ws'}://{authority(self.host, self.port)}"

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:PORT/`` (``https://`` over TLS): the chat page of the demo server."""
        return f"{'https' if self.secure else 'http'}://{authority(self.host, self.port)}/"

    # --- Starting --------------------------------------------------------------------

    def start(self) -> BackgroundServer:
        """Start the thread and wait until the server listens (``ready_timeout`` at most)."""
        if self._thread is not None:
            raise RuntimeError(f"the server {self.name!r} was already started once")
        self._loop = asyncio.new_event_loop()
        self._stop_requested = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name=f"wslearn {self.name}", daemon=True)
        self._thread.start()
        ready = self._ready.wait(self.ready_timeout + 1)  # the thread's own timeout is first
        if not ready or isinstance(self._error, TimeoutError):
            self.stop()
            raise TimeoutError(
                f"the server {self.name!r} did not start listening within {self.ready_timeout:g} s"
            )
        if self._error is not None:
            self._thread.join(self.stop_timeout)
            raise RuntimeError(
                f"the server {self.name!r} could not start on {self.host}: {self._error}"
            ) from self._error
        _alive.add(self)
        return self

    def _run(self) -> None:
        """The thread: run the loop until :meth:`stop`, then close it (asyncio.Runner
        cancels whatever is left and closes the loop)."""
        assert self._loop is not None
        loop = self._loop
        with asyncio.Runner(loop_factory=lambda: loop) as runner:
            runner.run(self._main())

    async def _main(self) -> None:
        assert self._stop_requested is not None
        try:
            self._server = await asyncio.wait_for(self._starter(), self.ready_timeout)
        except Exception as error:  # e.g. OSError: address already in use
            self._error = error
            return
        finally:
            self._ready.set()
        await self._stop_requested.wait()
        await self._close_server(self._server)

    async def _close_server(self, server: Listening) -> None:
        """Close every connection (1001 going away), then count what did not end."""
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), self.stop_timeout * 0.75)
        others = asyncio.all_tasks() - {asyncio.current_task()}
        self.tasks_left_at_stop = len(others)

    # --- Stopping --------------------------------------------------------------------

    def stop(self) -> None:
        """Close every connection with 1001 and end the thread (``stop_timeout`` at most)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        assert self._loop is not None and self._stop_requested is not None
        with contextlib.suppress(RuntimeError):  # a closed loop: the thread is ending anyway
            self._loop.call_soon_threadsafe(self._stop_requested.set)
        if threading.current_thread() is thread:
            return  # stop() from the server's own thread: it ends after this callback
        thread.join(self.stop_timeout)
        _alive.discard(self)
        if thread.is_alive():
            raise TimeoutError(f"the server {self.name!r} did not stop within {self.stop_timeout:g} s")

    def __enter__(self) -> BackgroundServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- Running code on the server's loop -------------------------------------------

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        """Run ``coro`` on the server's loop and return its result (from a cell).

        E.g. ``server.call(some_websocket.send("hi"))``. After ``timeout`` seconds the
        coroutine is cancelled and TimeoutError is raised.
        """
        if not self.running or self._loop is None:
            coro.close()
            raise RuntimeError(f"the server {self.name!r} is not running")
        return call_on_loop(self._loop, self._thread, coro, timeout, what=f"server {self.name!r}")


# --- The registry: re-running a cell never fails ---------------------------------------

_registry: dict[str, BackgroundServer] = {}
_registry_lock = threading.Lock()
_alive: weakref.WeakSet[BackgroundServer] = weakref.WeakSet()


def start_background(
    name: str,
    options: object,
    make: Callable[[EventLog | None], BackgroundServer],
    *,
    port: int = 0,
) -> BackgroundServer:
    """Start the server called ``name``, or return it if it already runs with ``options``.

    ``make(event_log)`` builds a new :class:`BackgroundServer`. When a server of the same
    name runs with other options it is stopped and replaced; the new one keeps its event
    log, so a widget watching the log keeps working. A fixed ``port`` held by another
    server of the registry is freed first.
    """
    with _registry_lock:
        old = _registry.get(name)
        if old is not None and old.running and old.options == options:
            return old
        event_log = old.event_log if old is not None else None
        if old is not None:
            old.stop()
        if port:
            _stop_holder_of(port)
        server = make(event_log)
        server.options = options
        server.start()
        _registry[name] = server
        return server


def _stop_holder_of(port: int) -> None:
    for other in list(_registry.values()):
        if other.running and other.port == port:
            other.stop()


def running_servers() -> dict[str, BackgroundServer]:
    """The servers of the registry that are running, by name."""
    with _registry_lock:
        return {name: server for name, server in _registry.items() if server.running}


def stop_all() -> None:
    """Stop every background server (also called at interpreter exit)."""
    for server in list(_alive):
        with contextlib.suppress(TimeoutError):  # a daemon thread cannot keep Python alive
            server.stop()
    with _registry_lock:
        _registry.clear()


atexit.register(stop_all)
