"""The inbox of one connection: received messages waiting for :meth:`WebSocket.recv`.

Two tasks meet here. The connection's reader task :meth:`~Inbox.put`\\ s each message that
the protocol hands out; the handler takes them with :meth:`~Inbox.get`, in order. The inbox
is bounded (``max_messages`` messages, ``max_size`` bytes, characters for text): when it is
full the reader waits in :meth:`~Inbox.wait_for_room` and reads nothing from the socket,
so TCP flow control slows the peer down. RFC 6455 leaves buffering to the application;
this is the application's side of it.

Nothing is allocated for messages until the first one arrives: an idle connection's inbox
is one small object.
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Inbox"]


class Inbox:
    """Received messages, oldest first, until :meth:`end` says no more will come."""

    __slots__ = (
        "_ended",
        "_getter",
        "_idle",
        "_loop",
        "_messages",
        "_putter",
        "max_messages",
        "max_size",
        "size",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, max_messages: int, max_size: int | None) -> None:
        self._loop = loop  # (asyncio.get_running_loop() costs a system call on Python 3.11)
        self.max_messages = max_messages
        self.max_size = max_size  # None: no limit in bytes
        self.size = 0  # bytes (characters for text) of the messages waiting
        self._messages: deque[str | bytes] | None = None  # created with the first message
        self._ended = False  # no message will be put any more
        self._getter: asyncio.Future[None] | None = None  # get() waits for a message
        self._putter: asyncio.Future[None] | None = None  # the reader waits for room
        self._idle: asyncio.Future[None] | None = None  # the reader waits for get() to wait again

    def __len__(self) -> int:
        return len(self._messages) if self._messages else 0

    def __repr__(self) -> str:
        end = ", ended" if self._ended else ""
        return f"<Inbox {len(self)} messages, {self.size} bytes{end}>"

    # --- The handler's side ----------------------------------------------------------

    async def get(self) -> str | bytes | None:
        """The oldest message; waits for one. ``None`` once the inbox has ended and is empty."""
        if self._getter is not None:
            raise RuntimeError("another task is already waiting in recv() on this connection")
        while not self._messages:
            if self._ended:
                return None
            self._getter = self._loop.create_future()
            _wake(self._idle)  # the handler has answered everything it took
            try:
                await self._getter
            finally:
                self._getter = None
        message = self._messages.popleft()
        self.size -= len(message)
        _wake(self._putter)
        return message

    # --- The reader's side -----------------------------------------------------------

    def full(self) -> bool:
        if self._messages is not None and len(self._messages) >= self.max_messages:
            return True
        return self.max_size is not None and self.size >= self.max_size

    def put(self, message: str | bytes) -> None:
        """Add a message, even past the limits: :meth:`full` is for the reader to ask first."""
        if self._messages is None:
            self._messages = deque()
        self._messages.append(message)
        self.size += len(message)
        _wake(self._getter)

    async def wait_for_room(self) -> None:
        """Wait until :meth:`get` takes a message (or :meth:`wake_reader` says to stop)."""
        self._putter = self._loop.create_future()
        try:
            await self._putter
        finally:
            self._putter = None

    def handler_busy(self) -> bool:
        """Is a message waiting, or is the handler doing something else than waiting in get()?"""
        return bool(self._messages) or self._getter is None

    async def wait_for_handler(self) -> None:
        """Wait until the handler waits in :meth:`get` again (or :meth:`wake_reader`)."""
        self._idle = self._loop.create_future()
        try:
            await self._idle
        finally:
            self._idle = None

    def wake_reader(self) -> None:
        """The connection is closing: the reader must not wait for the handler any more."""
        _wake(self._putter)
        _wake(self._idle)

    def end(self) -> None:
        """No more messages will come; :meth:`get` returns ``None`` once the inbox is empty."""
        self._ended = True
        _wake(self._getter)
        self.wake_reader()


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
