"""A bounded, thread-safe log of everything that crosses a WebSocket connection.

The asyncio server and client, the reverse proxy and the notebook widgets all write to and
read from an :class:`EventLog`. Each :class:`LogEvent` is one thing seen on the wire (an HTTP
handshake message, a frame) or one moment in a connection's life (opened, closed, an error,
a heartbeat round trip)::

    log = EventLog()
    unsubscribe = log.subscribe(print)   # called for every new event, from any thread
    ...
    for event in log.events():
        print(event)     # 12:00:01.234 #1 in  frame TEXT 5 B masked 'hello'

Credentials never enter the log. Behind a notebook proxy the notebook's own token reaches
our server in the query string and in cookies, so every HTTP message is redacted *before*
it is stored: the values of ``Authorization``, ``Proxy-Authorization``, ``Cookie`` and
``Set-Cookie`` and the values of token-like query parameters (``?token=``,
``?access_token=``, ``?auth=``, ...) are replaced with ``[redacted]``.

This module is pure Python (no asyncio, no sockets), so the widgets can use it from any
thread.
"""

from __future__ import annotations

import codecs
import logging
import re
import threading
import time as _time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, cast

from wslearn import handshake
from wslearn.frames import Frame, Opcode

__all__ = [
    "REDACTED",
    "EventLog",
    "LogEvent",
    "redact_headers",
    "redact_http",
    "redact_target",
]

logger = logging.getLogger(__name__)

Direction = Literal["in", "out", "-"]

REDACTED = "[redacted]"

# How much of each event's raw bytes is kept: a log of 2000 events of 1 MiB frames would
# otherwise hold 2 GB. ``LogEvent.length`` always tells the full size.
MAX_RAW = 16 * 1024
PREVIEW_CHARS = 60


@dataclass(frozen=True)
class LogEvent:
    """One entry of the log.

    ``kind`` is ``"handshake"`` (the upgrade request or its 101 answer), ``"http"`` (any
    other HTTP message: an error answer, a page), ``"frame"`` (one WebSocket frame),
    ``"open"``, ``"close"``, ``"error"`` or ``"rtt"`` (the round trip of a ping).
    ``direction`` is ``"in"`` (received), ``"out"`` (sent) or ``"-"`` (not on the wire).
    For frames, ``opcode`` is the opcode's name, ``fin`` the FIN bit (``False`` for every
    fragment of a message but the last, RFC 6455 §5.4) and ``masked`` tells whether the
    payload was masked on the wire (RFC 6455 §5.3). ``raw`` holds (at most MAX_RAW of) the bytes
    as they crossed the wire, already redacted for HTTP messages.

    With permessage-deflate (RFC 7692) ``rsv1`` is the frame's RSV1 bit ("this message is
    compressed", set on a compressed message's first frame only, §6) and, for every frame
    of a compressed message, ``size`` is what its payload decompresses to (for a message in
    one frame: the message's size), beside ``length``, the payload's size on the wire. The
    ``preview`` then shows the decompressed payload.
    """

    time: float
    conn_id: int
    direction: Direction
    kind: str
    opcode: str | None = None
    length: int = 0
    masked: bool | None = None
    preview: str = ""
    raw: bytes = b""
    fin: bool | None = None
    rsv1: bool = False
    size: int | None = None  # decompressed bytes of a compressed message's frame

    @property
    def compression(self) -> str:
        """``"RSV1 (compressed) 37 → 120 bytes"`` for a frame of a compressed message, else ""."""
        if self.size is None:
            return "RSV1 set" if self.rsv1 else ""
        return f"{'RSV1 ' if self.rsv1 else ''}(compressed) {self.length} → {self.size} bytes"

    def __str__(self) -> str:
        clock = _time.strftime("%H:%M:%S", _time.localtime(self.time))
        millis = int((self.time % 1) * 1000)
        parts = [f"{clock}.{millis:03d}", f"#{self.conn_id}", f"{self.direction:<3}", self.kind]
        if self.opcode is not None:
            parts.append(self.opcode)
        if self.fin is False:
            parts.append("FIN=0")  # a fragment: more of the message follows
        if self.compression:
            parts.append(self.compression)
        elif self.kind in ("frame", "handshake", "http"):
            parts.append(f"{self.length} B")
        if self.masked is not None:
            parts.append("masked" if self.masked else "unmasked")
        if self.preview:
            parts.append(self.preview)
        return " ".join(parts)


class EventLog:
    """Keep the last ``maxlen`` events; tell subscribers about each new one.

    Safe to use from several threads: the asyncio server may run in a background thread
    while a notebook cell reads :meth:`events`. Subscribers are called in the thread that
    recorded the event; a subscriber that raises is logged and otherwise ignored, so a
    broken widget never breaks a connection.
    """

    def __init__(self, maxlen: int = 2000) -> None:
        # keep_frame() stores a _FrameRecord (cheap to keep), formatted into a LogEvent
        # when someone reads it: a busy server records far more than anyone reads.
        self._events: deque[LogEvent | _FrameRecord] = deque(maxlen=maxlen)
        self._subscribers: list[Callable[[LogEvent], object]] = []
        self._lock = threading.Lock()
        # (connection, direction) -> is the fragmented message in progress text?
        self._fragmented: dict[tuple[int, Direction], bool] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def record(
        self,
        conn_id: int,
        direction: Direction,
        kind: str,
        *,
        opcode: str | None = None,
        length: int = 0,
        masked: bool | None = None,
        preview: str = "",
        raw: bytes = b"",
        time: float | None = None,
        fin: bool | None = None,
        rsv1: bool = False,
        size: int | None = None,
    ) -> LogEvent:
        """Store one event (``raw`` is cut to MAX_RAW bytes) and notify subscribers."""
        event = LogEvent(
            time=_time.time() if time is None else time,
            conn_id=conn_id,
            direction=direction,
            kind=kind,
            opcode=opcode,
            length=length,
            masked=masked,
            preview=preview,
            raw=bytes(raw[:MAX_RAW]),
            fin=fin,
            rsv1=rsv1,
            size=size,
        )
        with self._lock:
            if kind == "close":  # a message cut short by the end of the connection
                self._fragmented.pop((conn_id, "in"), None)
                self._fragmented.pop((conn_id, "out"), None)
            self._events.append(event)
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                logger.exception("event log subscriber %r failed", callback)
        return event

    def record_frame(
        self, conn_id: int, direction: Direction, frame: Frame, raw: bytes, plain: bytes | None = None
    ) -> LogEvent:
        """Store a frame exactly as it crossed the wire (RFC 6455 §5.2); ``plain``: its
        payload decompressed, for a frame of a compressed message (RFC 7692)."""
        shown = frame if plain is None else Frame(frame.opcode, plain, frame.fin)
        return self.record(
            conn_id,
            direction,
            "frame",
            opcode=frame.opcode.name,
            length=len(frame.payload),
            masked=frame.masking_key is not None,
            preview=frame_preview(shown, self._continues_text(conn_id, direction, frame)),
            raw=raw,
            fin=frame.fin,
            rsv1=frame.rsv1,
            size=None if plain is None else len(plain),
        )

    def keep_frame(
        self, conn_id: int, direction: Direction, frame: Frame, raw: bytes, plain: bytes | None = None
    ) -> None:
        """Like :meth:`record_frame`, for the hot path of a server: keep only what is cheap
        to keep now (the frame, cut to the head of its payload, and the head of its raw
        bytes); the preview is written when the event is read, or at once if someone
        subscribed. A test keeps the two paths equal."""
        if frame.fin and frame.opcode is not Opcode.CONTINUATION and not self._fragmented:
            text = None  # a whole message or a control frame: its opcode says what it is
        else:
            text = self._continues_text(conn_id, direction, frame)
        length = len(frame.payload)
        size = None
        key = frame.masking_key
        if plain is not None:  # a compressed message: keep (the head of) what it says
            size = len(plain)
            frame = Frame(frame.opcode, plain[:_PREVIEW_BYTES], frame.fin, frame.rsv1, masking_key=key)
        elif length > _PREVIEW_BYTES:  # never hold a big payload: the preview needs its head
            head = frame.payload[:_PREVIEW_BYTES]
            frame = Frame(frame.opcode, head, frame.fin, frame.rsv1, masking_key=key)
        record: _FrameRecord = (_time.time(), conn_id, direction, frame, length, raw[:MAX_RAW], text, size)
        with self._lock:
            self._events.append(record)
            if not self._subscribers:
                return
            subscribers = list(self._subscribers)
        event = _format_frame(record)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                logger.exception("event log subscriber %r failed", callback)

    def _continues_text(self, conn_id: int, direction: Direction, frame: Frame) -> bool | None:
        """Is this data frame part of a text message? A CONTINUATION frame does not say:
        the first frame of its message did (RFC 6455 §5.4). ``None``: not known."""
        if frame.opcode.is_control:
            return None
        key = (conn_id, direction)
        with self._lock:
            if frame.opcode is Opcode.CONTINUATION:
                text = self._fragmented.get(key)
            else:
                text = frame.opcode is Opcode.TEXT
            if frame.fin:
                self._fragmented.pop(key, None)
            elif text is not None:
                self._fragmented[key] = text
        return text

    def record_http(
        self, conn_id: int, direction: Direction, raw: bytes, *, kind: str = "handshake"
    ) -> LogEvent:
        """Store an HTTP request or response after removing its credentials."""
        clean = redact_http(raw)
        first_line = clean.split(b"\r\n", 1)[0].decode("latin-1")
        return self.record(conn_id, direction, kind, length=len(raw), preview=first_line, raw=clean)

    def subscribe(self, callback: Callable[[LogEvent], object]) -> Callable[[], None]:
        """Call ``callback(event)`` for every new event; returns a function that stops it."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def events(self, conn_id: int | None = None) -> list[LogEvent]:
        """A copy of the stored events, oldest first; only connection ``conn_id``'s if given."""
        with self._lock:
            if any(type(event) is tuple for event in self._events):
                formatted = [_format_frame(e) if type(e) is tuple else e for e in self._events]
                self._events.clear()  # keep them formatted: each frame is formatted once
                self._events.extend(formatted)
            events = cast(list[LogEvent], list(self._events))
        return events if conn_id is None else [event for event in events if event.conn_id == conn_id]

    def connection_with_key(self, key: str) -> int | None:
        """The id of the connection whose opening handshake carried ``Sec-WebSocket-Key: key``.

        A client picks a fresh random key for every connection (RFC 6455 §4.1), so the key
        names one connection in the logs of both ends, although each end numbers its
        connections its own way. ``None`` when no stored handshake has that key.
        """
        wanted = key.strip().encode("latin-1", errors="replace")
        for event in self.events():
            if event.kind == "handshake" and _header_value(event.raw, b"sec-websocket-key") == wanted:
                return event.conn_id
        return None

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    @staticmethod
    def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """See :func:`redact_headers`."""
        return redact_headers(headers)


# Enough of a payload for any preview: PREVIEW_CHARS characters of up to 4 bytes, and
# one byte more to tell that the payload goes on ("…").
_PREVIEW_BYTES = 4 * PREVIEW_CHARS + 1


# A frame as EventLog.keep_frame keeps it until someone reads it: (time, connection id,
# direction, the frame with at most _PREVIEW_BYTES of payload, the payload's real length,
# the head of the raw bytes, does it continue a text message, the decompressed size of a
# compressed message's frame). A plain tuple: the cheapest thing Python builds.
_FrameRecord = tuple[float, int, Direction, "Frame", int, bytes, "bool | None", "int | None"]


def _format_frame(record: _FrameRecord) -> LogEvent:
    """The LogEvent record_frame would have stored for this frame."""
    time, conn_id, direction, frame, length, raw, text, size = record
    return LogEvent(
        time=time,
        conn_id=conn_id,
        direction=direction,
        kind="frame",
        opcode=frame.opcode.name,
        length=length,
        masked=frame.masking_key is not None,
        preview=frame_preview(frame, text),
        raw=bytes(raw),
        fin=frame.fin,
        rsv1=frame.rsv1,
        size=size,
    )


def redact_target(target: str) -> str:
    """Hide the values of token-like query parameters: ``/ws?token=abc`` → ``/ws?token=[redacted]``."""
    return handshake.redact_target(target, REDACTED)


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Copy ``headers`` with every credential replaced by ``[redacted]``.

    Whole values of Authorization, Proxy-Authorization, Cookie and Set-Cookie are hidden;
    other values (Referer, Origin, Location...) keep everything but token-like query
    parameters.
    """
    clean = []
    for name, value in headers:
        if name.lower() in handshake.SECRET_HEADERS:
            clean.append((name, REDACTED))
        else:
            clean.append((name, redact_target(value)))
    return clean


def redact_http(raw: bytes) -> bytes:
    """Redact the head of an HTTP/1.1 message (request line or status line, then headers).

    The body of a response, after the empty line, is kept as it is (an error answer's
    text); what follows a request is only counted. Malformed
    heads are redacted too (they are logged when they are refused): lines may end with a
    bare LF, the request line may have extra spaces, and a line that continues a
    credential header (obsolete folding, RFC 9112 §5.2) is part of that credential.
    """
    end = _END_OF_HEAD.search(raw)
    head, rest = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"")
    lines = head.decode("latin-1").split("\n")
    if not lines[0].startswith("HTTP/"):  # "GET /ws?token=x HTTP/1.1", however spaced
        lines[0] = redact_target(lines[0])
        if end and len(rest) > end.end() - end.start():
            # What follows a refused request may be another request, with its own credentials.
            hidden = len(rest) - (end.end() - end.start())
            rest = rest[: end.end() - end.start()] + f"[{hidden} more bytes not shown]".encode()
    in_secret = False  # the previous line was a credential header
    for number, line in enumerate(lines[1:], start=1):
        cr = "\r" if line.endswith("\r") else ""
        name, colon, value = line.partition(":")
        key = name.strip().lower()
        if in_secret and line[:1] in (" ", "\t"):
            lines[number] = " " + REDACTED + cr  # the credential goes on (obsolete folding)
            continue
        in_secret = key.startswith(tuple(handshake.SECRET_HEADERS))
        if in_secret and not (colon and key in handshake.SECRET_HEADERS):
            lines[number] = REDACTED + cr  # "Authorization Bearer x", "Cookie x: y": malformed
        elif colon:
            [(name, value)] = redact_headers([(name.strip(), value.strip())])
            lines[number] = f"{name}: {value}{cr}"
    return "\n".join(lines).encode("latin-1") + rest


# The empty line that ends an HTTP head (RFC 9112 §2.2 lets a recipient accept a bare LF).
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")


def _header_value(raw: bytes, name: bytes) -> bytes | None:
    """The value of header ``name`` (lower case) in the head of an HTTP message, or None."""
    head = raw.partition(b"\r\n\r\n")[0]
    for line in head.split(b"\r\n")[1:]:
        field, colon, value = line.partition(b":")
        if colon and field.strip().lower() == name:
            return value.strip()
    return None


def frame_preview(frame: Frame, text: bool | None = None) -> str:
    """A short readable view of a frame's payload for one line of the log.

    ``text`` tells whether a CONTINUATION frame continues a text message (hex for a
    binary one); when it is not known, the bytes decide.
    """
    from wslearn.explain import text_preview
    from wslearn.frames import Close

    payload = frame.payload
    if frame.opcode is Opcode.CLOSE:
        try:
            return str(Close.parse(payload))
        except Exception:  # a malformed Close payload is shown as bytes
            return repr(payload[:PREVIEW_CHARS])
    if frame.opcode is Opcode.CONTINUATION and text is None:
        text = _is_text(payload)
    if frame.opcode is Opcode.TEXT or (frame.opcode is Opcode.CONTINUATION and text):
        return text_preview(payload, PREVIEW_CHARS, final=frame.fin)
    return _shorten(payload[: PREVIEW_CHARS // 3].hex(" "), len(payload) > PREVIEW_CHARS // 3)


def _is_text(payload: bytes) -> bool:
    """Does the start of ``payload`` read as UTF-8? (A character cut at the end is fine.)"""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(payload[: PREVIEW_CHARS * 4], final=False)
    except UnicodeDecodeError:
        return False
    return True


def _shorten(text: str, cut: bool) -> str:
    return text + "…" if cut else text
