"""Pings and their Pongs for one connection: the keepalive and :meth:`WebSocket.ping`.

RFC 6455 §5.5.2: a Ping "may serve either as a keepalive or as a means to verify that the
remote endpoint is still responsive"; §5.5.3: the Pong echoes the Ping's payload, and a
peer may answer only the most recent Ping. So a Pong ends the Ping with its payload *and
every older one*.

The keepalive is two timers, one after the other, never a task: every ``interval``
seconds a timer callback sends a Ping and sets a second timer of ``timeout`` seconds. The
Pong cancels that timer and sets the next Ping; if the timer fires first, the connection
is failed (the :class:`~wslearn.aio.WebSocket` closes it with 1011). Every round trip,
the keepalive's and ``ping()``'s, lands in :attr:`Heartbeat.rtts`.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Callable

from wslearn.errors import ConnectionClosed

__all__ = ["RTT_HISTORY", "Heartbeat"]

RTT_HISTORY = 100  # round-trip times kept in Heartbeat.rtts

SendPing = Callable[[bytes], None]  # sends a Ping frame; ConnectionClosed when it may not
TimedOut = Callable[[str], None]  # no Pong in time: fail the connection, with this reason


class Heartbeat:
    """The Pings waiting for their Pong, and the keepalive timer."""

    __slots__ = ("_loop", "_pings", "_rtts", "_send_ping", "_timed_out", "_timer", "interval", "timeout")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        send_ping: SendPing,
        timed_out: TimedOut,
        *,
        interval: float | None,
        timeout: float | None,
    ) -> None:
        self._loop = loop
        self.interval = interval  # None: no keepalive
        self.timeout = timeout  # None: wait for its Pong forever
        self._send_ping = send_ping
        self._timed_out = timed_out
        # Pings waiting for their Pong: payload -> (the future ping() waits on, or None for
        # the keepalive's own Ping; the loop's time when it was sent).
        self._pings: dict[bytes, tuple[asyncio.Future[float] | None, float]] = {}
        self._timer: asyncio.TimerHandle | None = None  # the next keepalive, or its timeout
        self._rtts: deque[float] | None = None  # created on first use

    def __repr__(self) -> str:
        return f"<Heartbeat every {self.interval} s, {len(self._pings)} pings waiting>"

    @property
    def rtts(self) -> deque[float]:
        """Round-trip times in seconds, the latest ``RTT_HISTORY``."""
        if self._rtts is None:
            self._rtts = deque(maxlen=RTT_HISTORY)
        return self._rtts

    # --- ping() ----------------------------------------------------------------------

    def ping(self, payload: bytes) -> asyncio.Future[float]:
        """Send a Ping; the future gets the round-trip time when its Pong comes back."""
        if payload in self._pings:
            raise ValueError(f"a ping with payload {payload!r} is already waiting for its pong")
        self._send_ping(payload)  # ConnectionClosed when not OPEN, ValueError if > 125 bytes
        loop = self._loop
        pong: asyncio.Future[float] = loop.create_future()
        self._pings[payload] = (pong, loop.time())
        return pong

    def forget(self, payload: bytes) -> None:
        """ping() stopped waiting (its Pong came, or it was cancelled)."""
        self._pings.pop(payload, None)

    def pong_received(self, payload: bytes) -> float | None:
        """End the Ping with this payload and every older one (§5.5.3); returns the round
        trip. An unasked-for Pong (§5.5.3 allows them) is ignored: ``None``."""
        if payload not in self._pings:
            return None
        now = self._loop.time()
        for key in list(self._pings):
            pong, sent = self._pings.pop(key)
            if pong is None:
                self._keepalive_answered()
            elif not pong.done():
                pong.set_result(now - sent)
            if key == payload:
                self.rtts.append(now - sent)
                return now - sent
        raise AssertionError("unreachable: the payload is one of the keys")

    # --- The keepalive: two timers, one after the other ------------------------------

    def start(self) -> None:
        """Send the next keepalive Ping ``interval`` seconds from now."""
        if self.interval is not None:
            self._timer = self._loop.call_later(self.interval, self._send_keepalive)

    def _send_keepalive(self) -> None:
        """Timer callback: send a Ping, then give the Pong ``timeout`` seconds."""
        self._timer = None
        payload = os.urandom(4)
        try:
            self._send_ping(payload)
        except ConnectionClosed:
            return  # the connection is closing: no more keepalives
        loop = self._loop
        self._pings[payload] = (None, loop.time())
        if self.timeout is not None:
            self._timer = loop.call_later(self.timeout, self._keepalive_timed_out)

    def _keepalive_answered(self) -> None:
        """The Pong came back in time: stop waiting for it, plan the next Ping."""
        if self._timer is not None:
            self._timer.cancel()
        self.start()

    def _keepalive_timed_out(self) -> None:
        """Timer callback: no Pong within ``timeout`` seconds."""
        self._timer = None
        self._timed_out(f"no pong within {self.timeout} s (keepalive ping timeout)")

    # --- The end ---------------------------------------------------------------------

    def stop(self, closed: ConnectionClosed) -> None:
        """The connection is over: no more keepalives, and every ping() raises ``closed``."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.interval = None  # a Pong still in flight must not plan another Ping
        for pong, _ in self._pings.values():
            if pong is not None and not pong.done():
                pong.set_exception(closed)
                pong.exception()  # nobody may be waiting any more: mark it retrieved
        self._pings.clear()
