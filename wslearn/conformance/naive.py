"""A careless echo server: the checker's counterexample.

It does what many first WebSocket servers do (and what the seed articles' Go code leaves
to its library): it answers any request with 101, then echoes every frame it reads as it
came, trusting every bit. It never checks RSV bits, opcodes, UTF-8, close codes or sizes.
Run the checker against it to see what FAILED looks like::

    server = await serve_naive()
    report = await run_checks(server.url + "/")
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from .wire import CLOSE, PING, PONG, Eof, RawConnection, accept_for, build_frame

KEY = re.compile(rb"^sec-websocket-key:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


async def naive_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    connection = RawConnection(reader, writer)
    try:
        async with asyncio.timeout(10):
            request = await reader.readuntil(b"\r\n\r\n")
        key = KEY.search(request)
        accept = accept_for(key.group(1).decode("latin-1")) if key else "no key, no check"
        await connection.send(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        while await echo_one(connection):
            pass
    except (Eof, OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        connection.abort()


async def echo_one(connection: RawConnection) -> bool:
    """Read one frame and send it back unmasked; False once a Close went back."""
    frame = await connection.read_frame()
    if frame.opcode == PONG:
        return True
    opcode = PONG if frame.opcode == PING else frame.opcode
    echo = build_frame(opcode, frame.payload, fin=frame.fin, rsv=frame.rsv, masked=False)
    await connection.send(echo)
    return frame.opcode != CLOSE


class NaiveServer:
    """The listening careless server: ``.port``, ``.url``, ``close()``, ``wait_closed()``."""

    def __init__(self, server: asyncio.Server) -> None:
        self.server = server

    @property
    def port(self) -> int:
        return port_of(self.server)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.close()

    async def wait_closed(self) -> None:
        await self.server.wait_closed()


async def serve_naive(host: str = "127.0.0.1", port: int = 0) -> NaiveServer:
    return NaiveServer(await asyncio.start_server(naive_echo, host, port))


def port_of(server: asyncio.Server) -> int:
    """The port an asyncio server listens on."""
    with contextlib.suppress(IndexError):
        return int(server.sockets[0].getsockname()[1])
    raise RuntimeError("the server does not listen")
