"""A WebSocket server made of wsproto (sans-I/O) and an asyncio Protocol, for comparison.

This is what one would write to put wsproto on asyncio with the least overhead: bytes from
the transport go into WSConnection.receive_data, events come out, answers go back out through
transport.write. Modes: "echo" sends every message back; "chat" sends every message to every
connected client.
"""

from __future__ import annotations

import asyncio

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Request,
    TextMessage,
)


class WsprotoConnection(asyncio.Protocol):
    def __init__(self, mode: str, peers: set[WsprotoConnection]) -> None:
        self.mode = mode
        self.peers = peers
        self.ws = WSConnection(ConnectionType.SERVER)
        self.transport: asyncio.Transport | None = None
        self.parts: list[str] | list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.peers.discard(self)

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events():
            self.handle(event)

    def eof_received(self) -> bool | None:
        self.ws.receive_data(None)
        return None

    def write(self, event: Event) -> None:
        assert self.transport is not None
        if self.ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            self.transport.write(self.ws.send(event))

    def handle(self, event: Event) -> None:
        assert self.transport is not None
        if isinstance(event, Request):
            self.transport.write(self.ws.send(AcceptConnection()))
            self.peers.add(self)
        elif isinstance(event, TextMessage | BytesMessage):
            self.parts.append(event.data)  # type: ignore[arg-type]
            if event.message_finished:
                self.deliver(event.data[:0].join(self.parts))  # type: ignore[arg-type]
                self.parts = []
        elif isinstance(event, Ping):
            self.write(event.response())
        elif isinstance(event, CloseConnection):
            self.write(event.response())
            self.transport.close()

    def deliver(self, data: str | bytes) -> None:
        message = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        if self.mode == "chat":
            for peer in list(self.peers):
                peer.write(message)
        else:
            self.write(message)


async def serve(mode: str, host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    peers: set[WsprotoConnection] = set()
    return await loop.create_server(lambda: WsprotoConnection(mode, peers), host, port)
