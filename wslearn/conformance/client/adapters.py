"""The clients under test: what a client reported to its application, and two adapters.

A client under test is an async function ``client(url, subprotocols)`` that connects,
waits for one message and tells what happened as a :class:`ClientOutcome`.
:func:`wslearn_client` adapts wslearn's client, :func:`websockets_client` the websockets
library's, for comparison.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ..server.peer import describe_code

ANSWER_TIMEOUT = 2.0  # how long the client has to react


@dataclass(frozen=True)
class ClientOutcome:
    """What the client under test reported to its application."""

    refused: str | None = None  # the handshake error it raised
    received: str | bytes | None = None  # the first message it returned
    closed: int | None = None  # the close code in the error it raised
    other: str | None = None  # anything else: a timeout, another exception

    def __str__(self) -> str:
        if self.refused is not None:
            return f"refused the handshake ({self.refused})"
        if self.received is not None:
            return f"returned the message {self.received!r:.60} to the application"
        if self.closed is not None:
            return f"reported the connection closed with {describe_code(self.closed)}"
        return f"ended with {self.other}"


ClientUnderTest = Callable[[str, Sequence[str]], Awaitable[ClientOutcome]]


async def wslearn_client(url: str, subprotocols: Sequence[str]) -> ClientOutcome:
    """wslearn's client: connect, wait for one message, close."""
    from wslearn.aio.client import connect
    from wslearn.errors import ConnectionClosed, HandshakeError

    try:
        ws = await connect(url, subprotocols=subprotocols, open_timeout=ANSWER_TIMEOUT)
    except HandshakeError as error:
        return ClientOutcome(refused=str(error))
    try:
        return ClientOutcome(received=await ws.recv(timeout=ANSWER_TIMEOUT))
    except ConnectionClosed as closed:
        return ClientOutcome(closed=closed.code)
    except TimeoutError:
        return ClientOutcome(other="no message and no error (timeout)")
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), ANSWER_TIMEOUT)


async def websockets_client(url: str, subprotocols: Sequence[str]) -> ClientOutcome:
    """The websockets library's client, for comparison."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake
    from websockets.typing import Subprotocol

    offer = [Subprotocol(name) for name in subprotocols] or None
    try:
        ws = await connect(url, subprotocols=offer, open_timeout=ANSWER_TIMEOUT, compression=None)
    except InvalidHandshake as error:
        return ClientOutcome(refused=str(error))
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            return ClientOutcome(received=await ws.recv())
    except ConnectionClosed as closed:
        code = closed.sent.code if closed.sent else closed.rcvd.code if closed.rcvd else 1006
        return ClientOutcome(closed=code)
    except TimeoutError:
        return ClientOutcome(other="no message and no error (timeout)")
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), ANSWER_TIMEOUT)
