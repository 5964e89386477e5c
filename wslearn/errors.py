"""One exception tree for everything that can go wrong in a WebSocket connection.

    WebSocketError
    ├── HandshakeError      the opening handshake failed (RFC 6455 §4); carries the HTTP status
    ├── ProtocolError       the peer broke a framing rule (RFC 6455 §5–§8); carries the close code
    └── ConnectionClosed    the connection is over; carries code, reason and who closed it

Each error knows how it must be answered on the wire, so the code that answers never has
to guess: a server replies to a ``HandshakeError`` with ``status`` (and ``headers``), and
fails the connection on a ``ProtocolError`` with a Close frame carrying ``close_code``.

:class:`CloseCode` lives here, at the bottom with the errors, because a ``ProtocolError``
carries one and a ``ConnectionClosed`` reports one; ``wslearn.frames`` uses it for Close
frames and exports it too.
"""

from __future__ import annotations

import enum
from typing import Literal

from .i18n import _

__all__ = [
    "CloseCode",
    "ConnectionClosed",
    "HandshakeError",
    "ProtocolError",
    "WebSocketError",
]


class CloseCode(enum.IntEnum):
    """Status codes of a Close frame (RFC 6455 §7.4.1, IANA registry §11.7)."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015

    @property
    def meaning(self) -> str:
        """What the code means, in the student's language (:mod:`wslearn.i18n`; English by default)."""
        return _(_CLOSE_MEANINGS[self])


_CLOSE_MEANINGS = {
    CloseCode.NORMAL_CLOSURE: "normal closure: the purpose of the connection was fulfilled",
    CloseCode.GOING_AWAY: "going away: the server is shutting down or the page was left",
    CloseCode.PROTOCOL_ERROR: "protocol error: the peer broke a rule of RFC 6455",
    CloseCode.UNSUPPORTED_DATA: "unsupported data: a type of message this endpoint cannot accept",
    CloseCode.NO_STATUS_RCVD: "no status received: the Close frame carried no code (never sent)",
    CloseCode.ABNORMAL_CLOSURE: "abnormal closure: no Close frame at all (never sent)",
    CloseCode.INVALID_FRAME_PAYLOAD_DATA: "invalid payload data: e.g. text that is not UTF-8",
    CloseCode.POLICY_VIOLATION: "policy violation: a message broke the endpoint's policy",
    CloseCode.MESSAGE_TOO_BIG: "message too big: larger than the endpoint will process",
    CloseCode.MANDATORY_EXTENSION: "mandatory extension: the server did not agree an extension",
    CloseCode.INTERNAL_ERROR: "internal error: an unexpected condition on the server",
    CloseCode.SERVICE_RESTART: "service restart: the server is restarting",
    CloseCode.TRY_AGAIN_LATER: "try again later: the server is overloaded",
    CloseCode.BAD_GATEWAY: "bad gateway: a gateway got an invalid response upstream",
    CloseCode.TLS_HANDSHAKE: "TLS handshake failed (never sent)",
}


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

    ``close_code`` is the status code of the Close frame we send: 1002 (PROTOCOL_ERROR)
    for a framing error, 1007 (INVALID_FRAME_PAYLOAD_DATA) for invalid UTF-8, 1009
    (MESSAGE_TOO_BIG) for a message that is too big, and so on.
    """

    def __init__(self, close_code: CloseCode, reason: str) -> None:
        super().__init__(f"{close_code}: {reason}")
        self.close_code = CloseCode(close_code)
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
        """``1000 'bye' (closed by the peer)``; when nobody closed, what that means instead:
        ``1006 (abnormal closure: no close frame)`` (RFC 6455 §7.1.5)."""
        text = f"{self.code}"
        if self.reason:
            text += f" {self.reason!r}"
        return f"{text} ({_WHO_CLOSED[self.by]})"


_WHO_CLOSED: dict[Closer, str] = {
    "local": "closed by us",
    "remote": "closed by the peer",
    "nobody": "abnormal closure: no close frame",
}
