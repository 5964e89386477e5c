"""Sans-I/O parsing: masked client frames in, text messages out, no sockets involved.

Each parser is a server that has completed its opening handshake (RFC 6455 §4.2). It is then
fed N masked 64-byte text frames (RFC 6455 §5.2, §5.3), either as one buffer or one frame per
call, and must hand back N messages. Compared: wslearn.protocol.Protocol, the websockets
library's ServerProtocol, and wsproto's WSConnection.

websockets' sans-I/O layer hands out frames; its asyncio layer decodes the UTF-8. To compare the
same work (bytes in, str out) the websockets side decodes each text frame here.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bench.results import Results, Row, ratio_at_least
from bench.timing import optional_module

SECTION = "sans-I/O parsing"
PAYLOAD = b"x" * 64

# RFC 6455 §1.3's example key; any 16-byte base64 value would do.
REQUEST = (
    b"GET /chat HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"\r\n"
)


def masked_text_frame(payload: bytes) -> bytes:
    """FIN + TEXT, MASK + 7-bit length, a fresh key, the masked payload (RFC 6455 §5.2)."""
    from websockets.speedups import apply_mask

    assert len(payload) <= 125
    key = os.urandom(4)
    return bytes([0x81, 0x80 | len(payload)]) + key + apply_mask(payload, key)


@dataclass
class Parser:
    """How to open one server-side parser, and how to feed it bytes and count messages."""

    impl: str
    open: Callable[[], object] | None
    feed: Callable[[object, bytes], int] | None
    missing: str = ""


def wslearn_parser() -> Parser:
    protocol, why = optional_module("wslearn.protocol")
    if protocol is None:
        return Parser("wslearn", None, None, why)
    message_type = protocol.Message

    def open_() -> object:
        server = protocol.Protocol(protocol.Role.SERVER)
        server.receive_data(REQUEST)
        [event] = server.events_received()
        assert isinstance(event, protocol.RequestReceived), event
        server.accept()
        server.data_to_send()
        assert server.state is protocol.State.OPEN
        return server

    def feed(server: object, data: bytes) -> int:
        server.receive_data(data)  # type: ignore[attr-defined]
        events = server.events_received()  # type: ignore[attr-defined]
        return sum(1 for event in events if type(event) is message_type)

    return Parser("wslearn", open_, feed)


def websockets_parser() -> Parser:
    from websockets.frames import Opcode
    from websockets.server import ServerProtocol

    def open_() -> object:
        server = ServerProtocol(max_size=None)
        server.receive_data(REQUEST)
        [request] = server.events_received()
        server.send_response(server.accept(request))  # type: ignore[arg-type]
        server.data_to_send()
        return server

    def feed(server: object, data: bytes) -> int:
        server.receive_data(data)  # type: ignore[attr-defined]
        count = 0
        for frame in server.events_received():  # type: ignore[attr-defined]
            if frame.opcode is Opcode.TEXT:
                frame.data.decode()
                count += 1
        return count

    return Parser("websockets", open_, feed)


def wsproto_parser() -> Parser:
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Request, TextMessage

    def open_() -> object:
        server = WSConnection(ConnectionType.SERVER)
        server.receive_data(REQUEST)
        [request] = server.events()
        assert isinstance(request, Request), request
        server.send(AcceptConnection())
        return server

    def feed(server: object, data: bytes) -> int:
        server.receive_data(data)  # type: ignore[attr-defined]
        count = 0
        for event in server.events():  # type: ignore[attr-defined]
            if type(event) is TextMessage and event.message_finished:
                count += 1
        return count

    return Parser("wsproto", open_, feed)


def time_parse(parser: Parser, chunks: Iterable[bytes], expected: int) -> float:
    """Messages per second for one fresh parser fed `chunks`; checks every message arrived."""
    assert parser.open is not None and parser.feed is not None
    server, feed = parser.open(), parser.feed
    gc.collect()
    start = time.perf_counter()
    received = 0
    for chunk in chunks:
        received += feed(server, chunk)
    elapsed = time.perf_counter() - start
    if received != expected:
        raise RuntimeError(f"{parser.impl}: {received} messages parsed, {expected} sent")
    return expected / elapsed


def run(results: Results, *, quick: bool, reps: int) -> None:
    count = 1_000 if quick else 100_000
    frames = [masked_text_frame(PAYLOAD) for _ in range(count)]
    inputs = {
        f"{count:,} × 64 B text frames, one buffer": [b"".join(frames)],
        f"{count:,} × 64 B text frames, one frame per call": frames,
    }
    parsers = [wslearn_parser(), websockets_parser(), wsproto_parser()]
    for benchmark, chunks in inputs.items():
        rows = {}
        for parser in parsers:
            goal = ratio_at_least(1.0) if parser.impl == "wslearn" else None
            row = Row(SECTION, benchmark, parser.impl, "messages/s", True, missing=parser.missing)
            rows[parser.impl] = results.add(row, goal)
        # Interleave the implementations so a noisy neighbour hurts them all alike.
        for rep in range(reps):
            for parser in rotate(parsers, rep):
                if parser.open is not None:
                    rows[parser.impl].samples.append(time_parse(parser, chunks, count))


def rotate(items: list[Parser], by: int) -> list[Parser]:
    by %= len(items)
    return items[by:] + items[:by]
