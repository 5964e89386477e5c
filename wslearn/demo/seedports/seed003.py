"""Seed article 003's group chat in Python, with its bugs kept, to watch each one happen.

The Go original keeps every connection in a global map, numbers users ``len(map) + 1``,
reads each client's JSON in a goroutine that pushes it into one channel, and has one
goroutine that takes each message from the channel and writes it to every connection in
turn. Kept on purpose (each is a fact about the article's code, re-done in asyncio):

* **clients are never removed**: the map only grows. A client that left stays in it, and
  every later broadcast tries to write to it too;
* **the uid is trusted**: the broadcast is the message exactly as the client wrote it, so
  ``{"uid": "1", "msg": "..."}`` from user 2 is shown as user 1;
* **ids are ``len(clients) + 1``**: with the map never shrinking they only repeat when two
  clients connect at once (the map has no lock); the obvious half-fix (``--remove-left``:
  on a read error, forget the client and stop reading) makes them repeat after every leave;
* **one writer for everyone, waiting on each**: the broadcaster awaits each send before the
  next, so one member that stops reading stalls the whole room once its buffers are full;
* **a failed read is not an end**: the reader logs the error and pushes its *previous*
  message again, so the room sees a stale message repeated; gorilla panics after 1000 reads
  on a failed connection ("repeated read on failed websocket connection") and the
  process dies — the port exits with status 2 there.

Not kept: the port listens on 127.0.0.1 only, on ``--port`` (0: any free port), serves no
page (the article's page inserts chat text as raw HTML: chapter 09 shows that in a sandboxed
frame instead), and does not spin a core in a busy loop as the article's ``getMsg`` does.

Run it: ``python -m wslearn.demo.seedports.seed003 --port 0`` prints
``listening on 127.0.0.1:PORT``. The fixed version is the demo's ``/chat`` route
(:mod:`wslearn.demo.chat`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from wslearn.aio import serve
from wslearn.errors import ConnectionClosed

if TYPE_CHECKING:
    from wslearn.aio.connection import WebSocket

#: gorilla/websocket panics on the 1000th read of a failed connection.
REPEATED_READS = 1000


class SeedChat:
    """The article's global state: the map of clients and the channel of messages."""

    def __init__(self, *, remove_left: bool = False) -> None:
        self.clients: dict[WebSocket, int] = {}  # never shrinks (unless remove_left)
        self.channel: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10)
        self.remove_left = remove_left

    async def handler(self, ws: WebSocket) -> None:
        """``wsHandler``: number the client ``len + 1``, send it the number, start its reader."""
        uid = len(self.clients) + 1
        self.clients[ws] = uid
        await ws.send(str(uid))
        await self.listen(ws)

    async def listen(self, ws: WebSocket) -> None:
        """``listenMsg``: read JSON forever; on an error, log it and push the last message again."""
        last: dict[str, Any] = {}
        failed_reads = 0
        while True:
            try:
                last = json.loads(await ws.recv(timeout=None))
            except ConnectionClosed as error:
                failed_reads += 1
                if failed_reads == 1:
                    log(f"get msg error: {error}")
                if self.remove_left:  # the half-fix: forget the client, stop reading
                    self.clients.pop(ws, None)
                    return
                if failed_reads >= REPEATED_READS:
                    log("panic: repeated read on failed websocket connection")
                    sys.stderr.flush()
                    os._exit(2)
            except ValueError as error:
                log(f"json error: {error}")
            await self.channel.put(last)  # the stale message again after an error

    async def broadcaster(self) -> None:
        """``sendMsg``: one writer; each message to every client in turn, waiting on each."""
        while True:
            message = await self.channel.get()
            text = json.dumps(message, ensure_ascii=False)
            for client, uid in list(self.clients.items()):
                try:
                    await client.send(text)  # a client that does not read blocks everyone here
                except ConnectionClosed as error:
                    log(f"sending to user {uid} failed: {error}")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def main(port: int, remove_left: bool) -> None:
    chat = SeedChat(remove_left=remove_left)
    server = await serve(chat.handler, "127.0.0.1", port, ping_interval=None, ping_timeout=None)
    broadcaster = asyncio.create_task(chat.broadcaster())
    print(f"listening on 127.0.0.1:{server.port}", flush=True)
    try:
        await server.serve_forever()
    finally:
        broadcaster.cancel()


def run() -> None:
    parser = argparse.ArgumentParser(description="Seed article 003's chat server, bugs kept (loopback only).")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--remove-left", action="store_true", help="the half-fix: forget clients that left")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.port, arguments.remove_left))


if __name__ == "__main__":
    run()
