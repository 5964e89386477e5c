"""One benchmark server per process: ``python -m bench.servers KIND MODE``.

KIND is wslearn, websockets or wsproto (and variants, see KINDS). MODE is
  echo  every message goes back to its sender (no heartbeat, so nothing else is on the wire),
  chat  every message goes to every connected client (no heartbeat); kind wslearn-chatroom
        is the demo's /chat room (wslearn.demo.chat.ChatRoom) on wslearn's server,
  idle  echo, with each library's default heartbeat, as a real idle connection would have.
The process prints ``READY <port>`` once it listens on 127.0.0.1, and exits when its standard
input closes (the parent went away) or after --lifetime seconds, whichever comes first.
``--compression deflate`` makes the wslearn and websockets servers accept permessage-deflate.
websockets then asks for 12-bit windows and compresses with memLevel 5, where wslearn keeps
the defaults of RFC 7692 (15-bit windows) and of zlib (memLevel 8); kind ``websockets-rfc7692``
is websockets with those same defaults, so that the two do the same zlib work.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import itertools
import os
import signal
import sys
import tracemalloc
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

KINDS = ("wslearn", "wslearn-demo", "wslearn-chatroom", "websockets", "websockets-rfc7692", "wsproto")
MODES = ("echo", "chat", "idle")
MAX_SIZE = 2**25  # room for the 1 MiB echo on every server

Started = tuple[int, Callable[[], Awaitable[None]]]  # (port, async stop)


async def start_websockets(mode: str, compression: str | None = None, rfc_defaults: bool = False) -> Started:
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed
    from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

    peers: set[ServerConnection] = set()

    async def echo(ws: ServerConnection) -> None:
        with suppress(ConnectionClosed):  # clients that vanish are not an error here
            async for message in ws:
                await ws.send(message)

    async def chat(ws: ServerConnection) -> None:
        peers.add(ws)
        try:
            async for message in ws:
                broadcast(peers, message)
        except ConnectionClosed:
            pass
        finally:
            peers.discard(ws)

    heartbeat: dict[str, Any] = {} if mode == "idle" else {"ping_interval": None}
    # websockets' compression="deflate" means 12-bit windows and memLevel 5; a factory with no
    # arguments keeps the defaults of RFC 7692 and zlib, as wslearn does.
    deflate: dict[str, Any] = {"compression": compression}
    if compression and rfc_defaults:
        deflate = {"compression": None, "extensions": [ServerPerMessageDeflateFactory()]}
    server = await serve(
        chat if mode == "chat" else echo,
        "127.0.0.1",
        0,
        max_size=MAX_SIZE,
        **deflate,
        **heartbeat,
    )
    port = server.sockets[0].getsockname()[1]

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    return port, stop


async def start_wslearn(mode: str, compression: str | None = None, chatroom: bool = False) -> Started:
    from wslearn.aio.server import broadcast, serve

    peers: set[Any] = set()

    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async def chat(ws: Any) -> None:
        peers.add(ws)
        try:
            async for message in ws:
                broadcast(peers, message)
        finally:
            peers.discard(ws)

    handler = chat if mode == "chat" else echo
    if chatroom:
        from wslearn.demo.chat import ChatRoom

        handler = ChatRoom().join
    heartbeat: dict[str, Any] = {} if mode == "idle" else {"ping_interval": None}
    server = await serve(
        handler, "127.0.0.1", 0, max_message_size=MAX_SIZE, compression=compression, **heartbeat
    )

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    return server.port, stop


async def start_wslearn_demo(mode: str, compression: str | None = None) -> Started:
    """What ``python -m wslearn serve`` runs: the demo app with its event log on (echo: ``/ws``)."""
    from wslearn.aio.server import serve
    from wslearn.demo.app import demo_server
    from wslearn.eventlog import EventLog

    heartbeat: dict[str, Any] = {} if mode == "idle" else {"ping_interval": None}
    app = demo_server(max_message_size=MAX_SIZE, compression=compression, **heartbeat)
    server = await serve(host="127.0.0.1", port=0, **app.serve_kwargs(EventLog(maxlen=100)))

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    return server.port, stop


async def start_websockets_rfc7692(mode: str, compression: str | None = None) -> Started:
    return await start_websockets(mode, compression, rfc_defaults=True)


async def start_wsproto(mode: str, compression: str | None = None) -> Started:
    from bench.wsproto_server import serve

    if compression:
        raise SystemExit("the wsproto benchmark server does not negotiate compression")

    server = await serve("chat" if mode == "chat" else "echo")
    port = server.sockets[0].getsockname()[1]

    async def stop() -> None:
        server.close()

    return port, stop


async def start_wslearn_chatroom(mode: str, compression: str | None = None) -> Started:
    return await start_wslearn(mode, compression, chatroom=True)


START = {
    "websockets": start_websockets,
    "websockets-rfc7692": start_websockets_rfc7692,
    "wslearn": start_wslearn,
    "wslearn-demo": start_wslearn_demo,
    "wslearn-chatroom": start_wslearn_chatroom,
    "wsproto": start_wsproto,
}


def stop_when_stdin_closes(loop: asyncio.AbstractEventLoop, done: asyncio.Future[None]) -> None:
    fd = sys.stdin.fileno()

    def readable() -> None:
        if not os.read(fd, 4096):
            loop.remove_reader(fd)
            finish(done)

    loop.add_reader(fd, readable)


def finish(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


def snapshot_on_signal(loop: asyncio.AbstractEventLoop, folder: Path) -> None:
    """For bench.profile: each SIGUSR1 saves a tracemalloc snapshot as folder/N.snapshot."""
    tracemalloc.start(8)
    count = itertools.count(1)

    def save() -> None:
        gc.collect()
        tracemalloc.take_snapshot().dump(str(folder / f"{next(count)}.snapshot"))
        print("SNAPSHOT", flush=True)

    loop.add_signal_handler(signal.SIGUSR1, save)


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    stop_when_stdin_closes(loop, done)
    loop.call_later(args.lifetime, finish, done)
    if args.snapshots:
        snapshot_on_signal(loop, Path(args.snapshots))
    port, stop = await START[args.kind](args.mode, args.compression)
    profile = cProfile.Profile() if args.cprofile else None
    print(f"READY {port}", flush=True)
    if profile is not None:
        profile.enable()
    await done
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.cprofile)
    await asyncio.wait_for(stop(), timeout=5)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--lifetime", type=float, default=600.0)
    parser.add_argument("--compression", choices=["deflate"], default=None, help="permessage-deflate")
    parser.add_argument("--cprofile", help="profile the server while it serves, stats to this file")
    parser.add_argument("--snapshots", help="folder for tracemalloc snapshots taken on SIGUSR1")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
