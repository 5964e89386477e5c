"""A minimal WebSocket client on a raw asyncio Protocol, to hold thousands of connections cheaply.

It does just enough of RFC 6455 for the fan-out and memory benchmarks: sends the opening
handshake (§4.1), checks for "101", reads unmasked server frames (§5.2), answers pings (§5.5.2)
and sends masked text frames (§5.3). It trusts the server; it is not a general client.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from websockets.speedups import apply_mask

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3's example; the benchmark does not check Accept
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def handshake_request(host: str, port: int, path: str = "/") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: FIN + opcode, MASK + length, key, masked payload (RFC 6455 §5.2)."""
    key = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = bytes([0x80 | opcode, 0x80 | size])
    elif size < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + size.to_bytes(8, "big")
    return header + key + apply_mask(payload, key)


OnMessage = Callable[["RawClient", bytes], None]


class RawClient(asyncio.Protocol):
    def __init__(self, request: bytes, on_message: OnMessage | None = None) -> None:
        self.request = request
        self.on_message = on_message
        self.buffer = bytearray()
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed during the handshake: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.opened.done() and not self.read_response():
            return
        self.read_frames()

    def read_response(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        status_line = bytes(self.buffer[: self.buffer.find(b"\r\n")])
        del self.buffer[: end + 4]
        if status_line.split()[1:2] != [b"101"]:
            self.opened.set_exception(ConnectionError(f"handshake refused: {status_line!r}"))
            return False
        self.opened.set_result(None)
        return True

    def read_frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            self.receive_frame(opcode, payload)

    def receive_frame(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_PING:
            self.send(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            self.send(OP_CLOSE, payload[:2])
        elif self.on_message is not None and opcode in (OP_TEXT, OP_BINARY, 0):
            self.on_message(self, payload)

    def send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_frame(opcode, payload))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_clients(
    host: str,
    port: int,
    count: int,
    on_message: OnMessage | None = None,
    *,
    concurrency: int = 64,
    timeout: float = 120,
    path: str = "/",
) -> list[RawClient]:
    """Open `count` connections, at most `concurrency` handshakes at a time."""
    loop = asyncio.get_running_loop()
    request = handshake_request(host, port, path)
    gate = asyncio.Semaphore(concurrency)

    async def open_one() -> RawClient:
        async with gate:
            _, client = await loop.create_connection(lambda: RawClient(request, on_message), host, port)
            await asyncio.wait_for(client.opened, 30)
            return client

    async with asyncio.timeout(timeout):
        return list(await asyncio.gather(*(open_one() for _ in range(count))))
