"""One exception tree for everything that can go wrong in a WebSocket connection.

    WebSocketError
    ├── HandshakeError      the opening handshake failed (RFC 6455 §4); carries the HTTP status
    ├── ProtocolError       the peer broke a framing rule (RFC 6455 §5–§8); carries the close code
    └── ConnectionClosed    the connection is over; carries code, reason and who closed it

Each error knows how it must be answered on the wire, so the code that answers never has
to guess: a server replies to a ``HandshakeError`` with ``status`` (and ``headers``), and
fails the connection on a ``ProtocolError`` with a Close frame carrying ``close_code``.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ConnectionClosed",
    "HandshakeError",
    "ProtocolError",
    "WebSocketError",
]

# Who ended a connection: this endpoint, the peer, or nobody (the TCP connection just
# dropped, RFC 6455 §7.1.5 "abnormal closure").
Closer = Literal["local", "remote", "nobody"]


class WebSocketError(Exception):
    """Base class of every error wslearn raises."""


class HandshakeError(WebSocketError):
    """The opening handshake cannot succeed (RFC 6455 §4.2.1 server side, §4.1 client side).

    ``status`` is the HTTP status a server answers with (400, 403, 426, 431, ...), and
    ``headers`` any header the answer must carry, such as ``Sec-WebSocket-Version: 13``
    with a 426 (RFC 6455 §4.2.2). On the client side ``status`` is the status that was
    received (or 0 when the response could not be parsed at all).
    """

    def __init__(
        self,
        status: int,
        reason: str,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(f"{status}: {reason}" if status else reason)
        self.status = status
        self.reason = reason
        self.headers = headers


class ProtocolError(WebSocketError):
    """The peer broke a rule of RFC 6455; the connection must be failed (§7.1.7).

    ``close_code`` is the status code of the Close frame we send: 1002 for a framing
    error, 1007 for invalid UTF-8, 1009 for a message that is too big, and so on.
    """

    def __init__(self, close_code: int, reason: str) -> None:
        super().__init__(f"{close_code}: {reason}")
        self.close_code = close_code
        self.reason = reason


class ConnectionClosed(WebSocketError):
    """The WebSocket connection is closed; nothing more can be sent or received.

    ``code`` and ``reason`` come from the Close frame (1005 when it had no code, 1006
    when there was no Close frame at all). ``by`` says who started the closing:
    ``"local"`` (we did, or we failed the connection), ``"remote"`` (the peer did) or
    ``"nobody"`` (the TCP connection was lost without a closing handshake).
    """

    def __init__(self, code: int, reason: str = "", by: Closer = "nobody") -> None:
        self.code = code
        self.reason = reason
        self.by = by
        super().__init__(str(self))

    @property
    def ok(self) -> bool:
        """True for a normal end: 1000 (normal closure), 1001 (going away), or a clean
        closing handshake whose Close frame carried no code (1005, RFC 6455 §7.1.5)."""
        return self.code in (1000, 1001, 1005)

    def __str__(self) -> str:
        who = {"local": "closed by us", "remote": "closed by the peer", "nobody": "connection lost"}
        text = f"{self.code}"
        if self.reason:
            text += f" {self.reason!r}"
        return f"{text} ({who[self.by]})"
