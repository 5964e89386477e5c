"""Raw bytes on a TCP connection: the checker's own frame builder and a lenient frame reader.

The checker must be able to send anything, including frames a correct library refuses to
build (reserved opcodes, RSV bits, 126-byte pings, a 64-bit length with its top bit set),
and to describe anything the server sends back, even a broken frame. So it does not use
the code it grades: this module builds and reads frames by hand, in RFC 6455 §5.2 order.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import ssl as ssl_module
import struct
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..http import authority  # how a Host header writes a name: not the code being graded

# RFC 6455 §4.2.2: the accept value is base64(SHA-1(key + this GUID)).
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# Opcodes of RFC 6455 §5.2 (3-7 and 11-15 are reserved).
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
OPCODE_NAMES = {
    CONTINUATION: "continuation",
    TEXT: "text",
    BINARY: "binary",
    CLOSE: "close",
    PING: "ping",
    PONG: "pong",
}

# A server frame bigger than this is not read into memory: the checker would rather report
# "too big" than be pushed over by a broken server.
MAX_READ = 64 * 2**20


def opcode_name(opcode: int) -> str:
    return OPCODE_NAMES.get(opcode, f"reserved opcode {opcode:#x}")


def accept_for(key: str) -> str:
    """The Sec-WebSocket-Accept a server must answer to ``key`` (RFC 6455 §4.2.2)."""
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def new_key() -> str:
    """A fresh Sec-WebSocket-Key: base64 of 16 random bytes (RFC 6455 §4.1)."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def mask(data: bytes, key: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``key`` repeated (RFC 6455 §5.3), as one big integer."""
    if not data:
        return b""
    repeated = (key * (len(data) // 4 + 1))[: len(data)]
    number = int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")
    return number.to_bytes(len(data), "big")


def build_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    key: bytes | None = None,
    length: int | None = None,
) -> bytes:
    """The bytes of one frame, exactly as asked: nothing is checked (RFC 6455 §5.2).

    ``rsv`` holds the three RSV bits (4 = RSV1, 2 = RSV2, 1 = RSV3). ``length`` overrides
    the payload length written in the header, to announce more bytes than are sent.
    """
    first = (0x80 if fin else 0) | (rsv & 0b111) << 4 | (opcode & 0x0F)
    length = len(payload) if length is None else length
    mask_bit = 0x80 if masked else 0
    if length <= 125:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not masked:
        return header + payload
    key = os.urandom(4) if key is None else key
    return header + key + mask(payload, key)


def close_code_allowed(code: int) -> bool:
    """May ``code`` appear in a Close frame? (RFC 6455 §7.4.1, §7.4.2, IANA registry §11.7)."""
    return code in (1000, 1001, 1002, 1003) or 1007 <= code <= 1014 or 3000 <= code <= 4999


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def close_payload(code: int, reason: bytes = b"") -> bytes:
    """A Close frame's payload: the 2-byte code then the reason (RFC 6455 §5.5.1)."""
    return struct.pack("!H", code) + reason


@dataclass(frozen=True)
class WireFrame:
    """One frame as the server sent it, before any judgement."""

    opcode: int
    payload: bytes
    fin: bool = True
    rsv: int = 0
    masked: bool = False

    def __str__(self) -> str:
        flags = "" if self.fin else " FIN=0"
        flags += f" RSV={self.rsv:03b}" if self.rsv else ""
        flags += " masked" if self.masked else ""
        return f"{opcode_name(self.opcode)} frame, {len(self.payload)} bytes{flags}"


class Eof(Exception):
    """The server closed (or reset) the TCP connection."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


@dataclass
class HttpAnswer:
    """The server's answer to an opening handshake, read leniently."""

    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def get(self, name: str) -> str | None:
        values = self.get_all(name)
        return ", ".join(values) if values else None

    def get_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def summary(self) -> str:
        """``400 Bad Request: 'missing Sec-WebSocket-Key'``: the status and the body's start."""
        text = f"{self.status} {self.reason}".strip()
        why = self.body.decode("utf-8", "replace").strip().splitlines()
        if why:
            first = why[0] if len(why[0]) <= 100 else why[0][:99] + "…"
            text += f": {first!r}"
        return text


@dataclass(frozen=True)
class Target:
    """Where the server under test listens, taken from a ``ws://`` or ``wss://`` URL."""

    host: str
    port: int
    resource: str  # path and query, RFC 6455 §3 "resource name"
    secure: bool

    @classmethod
    def from_url(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"expected a ws:// or wss:// URL, got {url!r}")
        secure = parts.scheme == "wss"
        port = parts.port or (443 if secure else 80)
        resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.hostname, port, resource, secure)

    @property
    def host_header(self) -> str:
        return authority(self.host, self.port, default_port=443 if self.secure else 80)


class RawConnection:
    """A TCP connection to the server on which the checker writes and reads raw bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, target: Target, ssl: ssl_module.SSLContext | None = None) -> RawConnection:
        context = (ssl or ssl_module.create_default_context()) if target.secure else None
        reader, writer = await asyncio.open_connection(target.host, target.port, ssl=context)
        sock = writer.get_extra_info("socket")
        if sock is not None:  # small writes leave at once: chopped frames stay chopped
            import socket

            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        """Write ``data`` and wait until the transport took it."""
        self.writer.write(data)
        await self.writer.drain()

    async def send_chopped(self, data: bytes, size: int = 1, pause: float = 0.0) -> None:
        """Write ``data`` in pieces of ``size`` bytes, each its own write."""
        for start in range(0, len(data), size):
            await self.send(data[start : start + size])
            if pause:
                await asyncio.sleep(pause)

    async def read_exactly(self, n: int) -> bytes:
        try:
            return await self.reader.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            how = "closed the TCP connection"
            if exc.partial:
                how += f" in the middle of a frame ({len(exc.partial)} of {n} bytes)"
            raise Eof(how) from None
        except (ConnectionResetError, BrokenPipeError):
            raise Eof("reset the TCP connection") from None

    async def read_frame(self) -> WireFrame:
        """Read one frame, top to bottom in RFC 6455 §5.2 order; raises Eof."""
        first, second = await self.read_exactly(2)
        fin, rsv, opcode = bool(first & 0x80), (first >> 4) & 0b111, first & 0x0F
        masked, length = bool(second & 0x80), second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.read_exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.read_exactly(8))
        if length > MAX_READ:
            raise Eof(f"announced a {length}-byte frame, too big for the checker to read")
        key = await self.read_exactly(4) if masked else b""
        payload = await self.read_exactly(length)
        if masked:
            payload = mask(payload, key)
        return WireFrame(opcode, payload, fin, rsv, masked)

    async def read_http_answer(self, max_size: int = 65536) -> HttpAnswer:
        """Read a status line, headers and (per Content-Length) a body; raises Eof."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            got = f" after {len(exc.partial)} bytes of a response" if exc.partial else ""
            raise Eof(f"closed the TCP connection{got} without an HTTP answer") from None
        except asyncio.LimitOverrunError:
            raise Eof(f"sent response headers longer than {max_size} bytes") from None
        except (ConnectionResetError, BrokenPipeError):
            raise Eof("reset the TCP connection without an HTTP answer") from None
        answer = parse_http_head(head)
        length = answer.get("Content-Length")
        if answer.status != 101 and length and length.strip().isdigit():
            wanted = min(int(length), max_size)
            try:
                answer.body = await self.reader.readexactly(wanted)
            except asyncio.IncompleteReadError as exc:
                answer.body = exc.partial
            except (ConnectionResetError, BrokenPipeError):
                pass
        return answer

    async def wait_eof(self) -> str:
        """Read and drop bytes until the server closes; returns how it closed."""
        try:
            while await self.reader.read(65536):
                pass
        except (ConnectionResetError, BrokenPipeError):
            return "reset"
        return "closed"

    def abort(self) -> None:
        """Close the TCP connection at once (used at the end of every case)."""
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()


def parse_http_head(head: bytes) -> HttpAnswer:
    """Parse ``HTTP/1.1 101 Switching Protocols`` and the header lines, leniently."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise Eof(f"answered with something that is not HTTP: {lines[0][:60]!r}")
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return HttpAnswer(int(parts[1]), reason, headers)


def build_request(
    target: Target,
    *,
    key: str,
    method: str = "GET",
    version: str = "HTTP/1.1",
    headers: list[tuple[str, str]] | None = None,
) -> bytes:
    """An opening handshake request (RFC 6455 §4.1); ``headers`` replaces the defaults."""
    if headers is None:
        headers = default_headers(target, key)
    lines = [f"{method} {target.resource} {version}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def default_headers(target: Target, key: str) -> list[tuple[str, str]]:
    """The five headers of a valid client handshake (RFC 6455 §4.1)."""
    return [
        ("Host", target.host_header),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
    ]
