"""Benchmark clients, run in their own process: ``python -m bench.clients COMMAND JSON``.

echo    the websockets client (compression off, or permessage-deflate with cfg "compression")
        against each server in turn: ping-pong, pipelined and 1 MiB round trips, with the
        server's CPU time read through psutil. Prints JSON.
fanout  N raw clients on one chat server; one of them sends, the time until the last of the N
        has the message is one sample. Prints JSON.
idle    opens raw connections and holds them, talking with the parent line by line:
        prints "WARM k" after k warm-up connections, waits for "open", opens N more, prints
        "CONNECTED N", then holds them until its stdin closes.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from bench.rawclient import OP_TEXT, RawClient, open_clients

TEXT_64 = "x" * 64
PHASE_TIMEOUT = 300


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the server process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def rotate(items: list[Any], by: int) -> list[Any]:
    by %= len(items) or 1
    return items[by:] + items[:by]


# --- echo -------------------------------------------------------------------------


async def ping_pong(ws: Any, count: int) -> None:
    for _ in range(count):
        await ws.send(TEXT_64)
        if await ws.recv() != TEXT_64:
            raise RuntimeError("the echo differs from what was sent")


async def pipelined(ws: Any, batch: int, rounds: int) -> None:
    for _ in range(rounds):
        for _ in range(batch):
            await ws.send(TEXT_64)
        for _ in range(batch):
            if await ws.recv() != TEXT_64:
                raise RuntimeError("the echo differs from what was sent")


async def big(ws: Any, payload: bytes, count: int) -> None:
    for _ in range(count):
        await ws.send(payload)
        if len(await ws.recv()) != len(payload):
            raise RuntimeError("the 1 MiB echo came back with another size")


async def timed(pid: int, coro: Any) -> tuple[float, float]:
    """(wall seconds, server CPU seconds) spent on `coro`."""
    cpu, start = server_cpu(pid), time.perf_counter()
    async with asyncio.timeout(PHASE_TIMEOUT):
        await coro
    return time.perf_counter() - start, server_cpu(pid) - cpu


async def echo_once(target: dict[str, Any], cfg: dict[str, Any]) -> dict[str, float]:
    from websockets.asyncio.client import connect

    pid, payload = target["pid"], big_payload(cfg)
    async with connect(
        target["url"],
        compression=cfg.get("compression"),
        max_size=None,
        ping_interval=None,
        open_timeout=10,
        close_timeout=5,
    ) as ws:
        await ping_pong(ws, 20)  # warm-up
        n, batch, rounds, m = cfg["pingpong"], cfg["batch"], cfg["rounds"], cfg["big_count"]
        wall, cpu = await timed(pid, ping_pong(ws, n))
        result = {"pingpong_rate": n / wall, "pingpong_cpu_us": cpu / n * 1e6}
        wall, cpu = await timed(pid, pipelined(ws, batch, rounds))
        result |= {"pipelined_rate": batch * rounds / wall, "pipelined_cpu_us": cpu / (batch * rounds) * 1e6}
        wall, cpu = await timed(pid, big(ws, payload, m))
        result |= {"big_mbps": m * len(payload) / wall / 1e6, "big_cpu_ms": cpu / m * 1e3}
    return result


def big_payload(cfg: dict[str, Any]) -> bytes:
    """Random bytes; with compression, chat-like JSON lines (what compresses in real life)."""
    if not cfg.get("compression"):
        return os.urandom(cfg["big_size"])
    from bench.deflate import chat_messages

    lines = b"\n".join(chat_messages(cfg["big_size"] // 150 + 1, 200))
    return lines[: cfg["big_size"]]


async def echo(cfg: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    samples: dict[str, dict[str, list[float]]] = {t["impl"]: {} for t in cfg["targets"]}
    for rep in range(cfg["reps"]):
        # A different order each repetition, so that no server always goes first.
        for target in rotate(cfg["targets"], rep):
            for metric, value in (await echo_once(target, cfg)).items():
                samples[target["impl"]].setdefault(metric, []).append(value)
    return samples


# --- fanout -----------------------------------------------------------------------


class FanOut:
    """Counts, for one round, how many clients have seen the round's token."""

    def __init__(self) -> None:
        self.token = b""
        self.remaining = 0
        self.done: asyncio.Future[float] | None = None

    def start(self, token: bytes, count: int) -> asyncio.Future[float]:
        self.token, self.remaining = token, count
        self.done = asyncio.get_running_loop().create_future()
        return self.done

    def on_message(self, client: RawClient, payload: bytes) -> None:
        if self.token and self.token in payload:
            self.remaining -= 1
            if self.remaining == 0 and self.done is not None and not self.done.done():
                self.done.set_result(time.perf_counter())


def chat_message(token: bytes) -> bytes:
    """64 bytes of JSON in the demo chat's format; the plain broadcast servers relay it as is."""
    text = b'{"uid": "1", "msg": "' + token + b" "
    return text + b"x" * (64 - len(text) - 2) + b'"}'


async def fanout(cfg: dict[str, Any]) -> dict[str, list[float]]:
    """Time and server CPU (psutil, per round) of `rounds` broadcasts to every client."""
    url = urlsplit(cfg["url"])
    assert url.hostname is not None and url.port is not None
    counter = FanOut()
    clients = await open_clients(url.hostname, url.port, cfg["clients"], counter.on_message)
    await asyncio.sleep(0.3)  # let each server register its last handlers
    samples, cpu = [], 0.0
    try:
        for round_ in range(cfg["warmup"] + cfg["rounds"]):
            token = f"round-{round_}-{os.getpid()}".encode()
            done = counter.start(token, len(clients))
            cpu_before = server_cpu(cfg["pid"])
            start = time.perf_counter()
            clients[0].send(OP_TEXT, chat_message(token))
            async with asyncio.timeout(30):
                finished = await done
            if round_ >= cfg["warmup"]:
                samples.append(finished - start)
                cpu += server_cpu(cfg["pid"]) - cpu_before
            await asyncio.sleep(0.05)
    finally:
        for client in clients:
            client.close()
    return {"seconds": samples, "server_cpu": [cpu / cfg["rounds"]]}


# --- idle -------------------------------------------------------------------------


async def stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def idle(cfg: dict[str, Any]) -> None:
    url = urlsplit(cfg["url"])
    assert url.hostname is not None and url.port is not None
    stdin = await stdin_reader()
    path = url.path or "/"
    clients = await open_clients(url.hostname, url.port, cfg["warm"], path=path)
    print(f"WARM {len(clients)}", flush=True)
    async with asyncio.timeout(cfg["timeout"]):
        if (await stdin.readline()).strip() != b"open":
            return
    clients += await open_clients(url.hostname, url.port, cfg["n"], timeout=cfg["timeout"], path=path)
    print(f"CONNECTED {len(clients) - cfg['warm']}", flush=True)
    async with asyncio.timeout(cfg["timeout"]):
        await stdin.readline()  # b"" when the parent closes our stdin
    for client in clients:
        client.close()


# --- notebook ---------------------------------------------------------------------


def notebook(cfg: dict[str, Any]) -> dict[str, float]:
    """Execute one notebook headless with nbclient, in its own folder; wall seconds."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(cfg["path"])
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    return {"seconds": time.perf_counter() - start}


# --- runner -----------------------------------------------------------------------


def runner(cfg: dict[str, Any]) -> dict[str, list[float]]:
    """Start and stop wslearn's background server (thread + loop + echo server) `reps` times."""
    from wslearn.aio.server import serve
    from wslearn.notebook.runner import BackgroundServer

    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    samples = []
    for rep in range(cfg["reps"] + 1):  # the first round only warms up
        start = time.perf_counter()
        server = BackgroundServer(lambda: serve(echo, "127.0.0.1", 0), name=f"bench {rep}")
        server.start()
        if not server.port:
            raise RuntimeError("the background server did not report its port")
        server.stop()
        if rep:
            samples.append(time.perf_counter() - start)
    return {"seconds": samples}


COMMANDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "echo": echo,
    "fanout": fanout,
    "idle": idle,
    "notebook": notebook,
    "runner": runner,
}


def main() -> None:
    command, cfg = sys.argv[1], json.loads(sys.argv[2])
    function = COMMANDS[command]
    result = asyncio.run(function(cfg)) if inspect.iscoroutinefunction(function) else function(cfg)
    if result is not None:
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
