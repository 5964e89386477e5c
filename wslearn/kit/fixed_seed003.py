"""Seed 003's group chat, fixed: the room the port (:mod:`wslearn.demo.seedports.seed003`) should be.

* ids come from a counter, never ``len(clients) + 1``, so they never repeat;
* the broadcast carries the id the server gave the sender, not the ``uid`` it wrote;
* a member that left is removed (``finally``), and a failed read ends that member's
  handler: no stale message repeated, no "repeated read" crash;
* a line that is not JSON is ignored; the room goes on;
* every member gets each line without the room waiting on any one of them
  (``send_nowait``: the server's per-connection buffer, which closes a member that stops
  reading with 1013 instead of stalling everyone).

Run it: ``python -m wslearn.kit.fixed_seed003 --port 0``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
from typing import Any

from wslearn.aio import serve
from wslearn.errors import ConnectionClosed


class Room:
    """The members, by the id the server gave them."""

    def __init__(self) -> None:
        self.members: dict[str, Any] = {}
        self.next_id = itertools.count(1)

    async def handler(self, ws: Any) -> None:
        uid = str(next(self.next_id))
        self.members[uid] = ws
        try:
            await ws.send(uid)  # the id first, as bare text
            async for text in ws:  # ends when the connection ends
                try:
                    msg = json.loads(text)["msg"]
                except (ValueError, TypeError, KeyError):
                    continue
                line = json.dumps({"uid": uid, "msg": msg}, ensure_ascii=False)
                for other in list(self.members.values()):
                    with contextlib.suppress(ConnectionClosed):
                        other.send_nowait(line)
        finally:
            self.members.pop(uid, None)


async def main(port: int) -> None:
    room = Room()
    server = await serve(room.handler, "127.0.0.1", port)
    print(f"listening on 127.0.0.1:{server.port}", flush=True)
    await server.serve_forever()


def run() -> None:
    parser = argparse.ArgumentParser(description="Seed article 003's chat server, fixed (loopback only).")
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(main(parser.parse_args().port))


if __name__ == "__main__":
    run()
