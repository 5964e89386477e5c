"""Heartbeats, live: the experiments of chapter 07, as functions a test can run too.

Two kinds of heartbeat travel on a WebSocket connection, and seed article 002 mixes them up:

* an **application heartbeat** is an ordinary message ("heart beat", a TEXT frame) that the
  application sends and the other application receives;
* a **protocol heartbeat** is a Ping frame (RFC 6455 §5.5.2) that the peer's WebSocket
  *library* answers with a Pong (§5.5.3) without the application ever seeing it. Browser
  JavaScript cannot send a Ping at all: the WebSocket API has no method for it.

wslearn's connections send a Ping every ``ping_interval`` seconds and fail with **1011** when
no Pong comes back within ``ping_timeout`` seconds. This module provokes that failure in the
two ways it happens in practice:

* :func:`freeze_the_peer` — a client that completes the handshake and then never answers
  (a frozen tab, a dead network path);
* :func:`blocking_handler` — a handler that calls ``time.sleep`` and so blocks the event loop
  that should answer the client's Pings: the classic "keepalive ping timeout" of asyncio
  servers. :func:`keepalive_client` is the client that notices.

and shows two bugs of the seed's Go code: two writers on one connection without a lock
(:func:`interleaved_writes`), and a handler that never returns after its client left
(:func:`leaky_handler`, counted with :func:`live_tasks`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wslearn.assembler import Message
from wslearn.errors import ConnectionClosed
from wslearn.frames import Close, Frame, Opcode, serialize_frame
from wslearn.protocol import ConnectionFailed, Protocol, Role

if TYPE_CHECKING:
    from wslearn.aio.connection import WebSocket
    from wslearn.eventlog import LogEvent

__all__ = [
    "FrozenPeer",
    "Timeline",
    "blocking_handler",
    "freeze_the_peer",
    "interleaved_writes",
    "keepalive_client",
    "leaky_handler",
    "live_tasks",
    "non_blocking_handler",
    "receive_as_client",
    "timeline",
]


# --- A peer that stops answering --------------------------------------------------------


@dataclass
class FrozenPeer:
    """What a client that never answers saw: the frames, and when the server gave up."""

    frames: list[tuple[float, Frame]] = field(default_factory=list)  # (seconds after the 101, frame)
    close_code: int | None = None
    close_reason: str = ""
    elapsed: float | None = None  # seconds from the 101 to the server's Close frame

    def __str__(self) -> str:
        lines = [f"{t:6.2f} s  {frame.opcode.name}" for t, frame in self.frames]
        if self.close_code is None:
            lines.append("no Close frame arrived")
        else:
            lines.append(f"closed with {self.close_code} {self.close_reason!r} after {self.elapsed:.2f} s")
        return "\n".join(lines)


def freeze_the_peer(url: str, *, timeout: float = 10.0) -> FrozenPeer:
    """Connect, then never answer: no Pong, no Close, nothing (a frozen peer).

    The frames the server sends are read only to show them; a Ping gets no Pong. A server
    with a keepalive fails the connection with 1011 about ``ping_interval + ping_timeout``
    seconds after the handshake. Gives up after ``timeout`` seconds.
    """
    from .scenarios import RawClient

    peer = FrozenPeer()
    client = RawClient(url, timeout=timeout)
    opened = time.monotonic()
    try:
        while (frame := client.recv()) is not None:
            peer.frames.append((time.monotonic() - opened, frame))
            if frame.opcode is Opcode.CLOSE:
                close = Close.parse(frame.payload)
                peer.close_code, peer.close_reason = close.code, close.reason
                peer.elapsed = time.monotonic() - opened
                break
    finally:
        client.hang_up()
    return peer


# --- A handler that blocks the loop ---------------------------------------------------------


def blocking_handler(seconds: float) -> Callable[[WebSocket], Awaitable[None]]:
    """An echo handler with a bug: it "works" for ``seconds`` with ``time.sleep``.

    ``time.sleep`` blocks the whole event loop: no other connection is served and no Ping
    of the client is answered until it returns.
    """

    async def handler(ws: WebSocket) -> None:
        async for message in ws:
            time.sleep(seconds)  # the bug: blocks the event loop
            await ws.send(message)

    return handler


def non_blocking_handler(seconds: float) -> Callable[[WebSocket], Awaitable[None]]:
    """The fix: the same work in a thread (``asyncio.to_thread``), so the loop keeps running."""

    async def handler(ws: WebSocket) -> None:
        async for message in ws:
            await asyncio.to_thread(time.sleep, seconds)
            await ws.send(message)

    return handler


@dataclass
class KeepaliveResult:
    """What a client with a keepalive saw: the reply, or how the connection ended, and when."""

    reply: str | bytes | None
    closed: ConnectionClosed | None
    elapsed: float

    def __str__(self) -> str:
        if self.closed is None:
            return f"the reply {self.reply!r} came after {self.elapsed:.2f} s"
        return f"the connection ended after {self.elapsed:.2f} s: {self.closed}"


async def keepalive_client(
    url: str, *, ping_interval: float, ping_timeout: float, message: str = "work", timeout: float = 10.0
) -> KeepaliveResult:
    """Send one message and wait for its reply, pinging every ``ping_interval`` seconds."""
    from wslearn.aio import connect

    started = time.monotonic()
    async with connect(url, ping_interval=ping_interval, ping_timeout=ping_timeout, close_timeout=0.5) as ws:
        await ws.send(message)
        try:
            reply = await ws.recv(timeout=timeout)
        except ConnectionClosed as closed:
            return KeepaliveResult(None, closed, time.monotonic() - started)
        return KeepaliveResult(reply, None, time.monotonic() - started)


# --- Two writers, no lock (seed 002) --------------------------------------------------------


def interleaved_writes(first: bytes, second: bytes, *, cut: int) -> bytes:
    """What the wire carries when two writers share one socket without a lock.

    Writer A sends a text message in two fragments; after its first fragment's first
    ``cut`` bytes went out, writer B's whole message goes out, then the rest of A. Each
    frame is written by one ``write`` call in principle, but a write of a large frame can
    be split by the socket, and a library without a lock lets another writer in between.
    """
    a1 = serialize_frame(Frame(Opcode.TEXT, first, fin=False))
    a2 = serialize_frame(Frame(Opcode.CONTINUATION, b" (end)", fin=True))
    b = serialize_frame(Frame(Opcode.TEXT, second))
    return a1[:cut] + b + a1[cut:] + a2


def open_client() -> Protocol:
    """A client :class:`Protocol` after a real opening handshake, done in memory."""
    client, server = Protocol(Role.CLIENT), Protocol(Role.SERVER)
    client.connect("127.0.0.1")
    server.receive_data(client.data_to_send())
    server.events_received()
    server.accept()
    client.receive_data(server.data_to_send())
    client.events_received()
    return client


def receive_as_client(data: bytes) -> list[str]:
    """Feed server-to-client bytes to a client :class:`Protocol`; what it makes of them."""
    client = open_client()
    client.receive_data(data)
    events = client.events_received()
    while client.failure_pending:  # messages before a violation first, then the failure
        events += client.events_received()
    return [_describe_event(event) for event in events]


def _describe_event(event: object) -> str:
    if isinstance(event, Message):
        return f"message {event.data!r}"
    if isinstance(event, ConnectionFailed):
        return f"failed the connection: {event.code} ({event.reason})"
    return type(event).__name__


# --- A handler that never returns (seed 002's ``select {}``) ---------------------------------


async def leaky_handler(ws: WebSocket) -> None:
    """Greets, then waits forever, whatever happens to the client: a task leaked per client.

    Seed 002 ends its handler with ``select {}`` (block forever), so each client that
    leaves keeps a goroutine and its socket alive until the process exits.
    """
    await ws.send("hello")
    await asyncio.Event().wait()  # the bug: never returns, even after the client left


async def tidy_handler(ws: WebSocket) -> None:
    """Greets, then reads until the client leaves: the handler returns, nothing is left."""
    await ws.send("hello")
    async for _message in ws:
        pass


async def _count_tasks() -> int:
    return len(asyncio.all_tasks())


def live_tasks(server: Any) -> int:
    """How many tasks are alive on a background server's event loop right now."""
    return int(server.call(_count_tasks()))


# --- The timeline of one connection -----------------------------------------------------------

#: The lanes of a timeline, top to bottom.
LANES = ("Ping out", "Pong in", "Ping in", "Pong out", "heart beat (TEXT)", "data")


@dataclass
class Timeline:
    """When each kind of heartbeat crossed one connection (seconds after it opened)."""

    conn_id: int | None
    lanes: dict[str, list[float]] = field(default_factory=lambda: {lane: [] for lane in LANES})
    rtts: list[tuple[float, float]] = field(default_factory=list)  # (seconds, round trip in ms)
    closed: str = ""

    def __str__(self) -> str:
        lines = [f"connection #{self.conn_id}"]
        for lane, times in self.lanes.items():
            shown = ", ".join(f"{t:.2f}" for t in times[-8:])
            lines.append(f"  {lane:<18} {len(times):3d}  {shown}")
        if self.rtts:
            lines.append(f"  round trips (ms): {', '.join(f'{ms:.2f}' for _, ms in self.rtts[-8:])}")
        if self.closed:
            lines.append(f"  closed: {self.closed}")
        return "\n".join(lines)


def _lane(event: LogEvent) -> str | None:
    if event.kind != "frame":
        return None
    if event.opcode in ("PING", "PONG"):
        return f"{event.opcode.capitalize()} {event.direction}"
    if event.opcode == "TEXT" and "heart beat" in event.preview:
        return "heart beat (TEXT)"
    return "data"


def timeline(events: Iterable[LogEvent], conn_id: int | None = None) -> Timeline:
    """The heartbeats of connection ``conn_id`` (the last one that opened when None)."""
    events = list(events)
    if conn_id is None:
        opened = [event.conn_id for event in events if event.kind == "open"]
        conn_id = opened[-1] if opened else None
    mine = [event for event in events if event.conn_id == conn_id]
    result = Timeline(conn_id)
    if not mine:
        return result
    start = mine[0].time
    for event in mine:
        lane = _lane(event)
        if lane in result.lanes:
            result.lanes[lane].append(event.time - start)
        elif event.kind == "rtt":
            result.rtts.append((event.time - start, _milliseconds(event.preview)))
        elif event.kind == "close":
            result.closed = event.preview
    return result


def _milliseconds(preview: str) -> float:
    """The number in "round trip 0.42 ms"."""
    for word in preview.split():
        try:
            return float(word)
        except ValueError:
            continue
    return float("nan")
