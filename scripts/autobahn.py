"""Grade wslearn with the Autobahn TestSuite (``wstest``), beside the websockets library.

A measurement for people, not part of the test suite. The TestSuite runs on Python 2.7::

    python2.7 -m pip install 'virtualenv<20.22'
    python2.7 -m virtualenv ab-venv
    ab-venv/bin/pip install autobahntestsuite==0.8.2

    python scripts/autobahn.py --python2 ab-venv/bin/python            # servers and clients
    python scripts/autobahn.py --python2 ab-venv/bin/python --side server --cases 6.4.*

``--side server``: wstest's fuzzing *client* grades ``python -m wslearn serve
--max-message-size 16777216 --compression deflate`` (route ``/ws``) and a websockets echo
server (``compression="deflate"``).
``--side client``: wstest's fuzzing *server* grades wslearn's client and the websockets
client, each offering permessage-deflate and echoing every message back.

Everything stays on 127.0.0.1: the fuzzing server is made to listen on loopback only (the
TestSuite would listen on every interface), and its web page is turned off. Cases 12 and
13 grade permessage-deflate (RFC 7692); ``--no-compression`` turns it off on every agent
and leaves them out. Prints one line per case that is not OK, and a summary per agent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MAX_SIZE = 16 * 2**20  # the TestSuite sends messages of up to 16 MiB (cases 9.*)
COMPRESSION_CASES = ["12.*", "13.*"]  # permessage-deflate

# Runs wstest with every listening socket bound to 127.0.0.1.
LOOPBACK_WSTEST = """
import sys
from twisted.internet import reactor
listen_tcp = reactor.listenTCP
def loopback_only(port, factory, backlog=50, interface=''):
    return listen_tcp(port, factory, backlog, '127.0.0.1')
reactor.listenTCP = loopback_only
from autobahntestsuite.wstest import run
sys.argv = ['wstest'] + sys.argv[1:]
sys.exit(run())
"""

WEBSOCKETS_SERVER = f"""
import asyncio, sys
from websockets.asyncio.server import serve
async def echo(ws):
    async for message in ws:
        await ws.send(message)
async def main():
    compression = sys.argv[2] if sys.argv[2] != "none" else None
    async with serve(echo, "127.0.0.1", int(sys.argv[1]), max_size={MAX_SIZE}, compression=compression):
        print("ready", flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""


# index.json of a TestSuite report: agent -> case -> {"behavior": "OK", ...}
Index = dict[str, dict[str, dict[str, Any]]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@contextlib.contextmanager
def process(args: list[str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)


def wstest(python2: str, mode: str, spec: dict[str, Any], workdir: Path, timeout: float) -> None:
    spec_file = workdir / f"{mode}.json"
    spec_file.write_text(json.dumps(spec))
    command = [python2, "-c", LOOPBACK_WSTEST, "-m", mode, "-s", str(spec_file), "--webport", "0"]
    subprocess.run(command, cwd=workdir, timeout=timeout, stdout=subprocess.DEVNULL, check=False)


def grade_servers(
    python2: str, cases: list[str], workdir: Path, timeout: float, compression: str | None
) -> Index:
    wslearn_port, websockets_port = free_port(), free_port()
    wslearn = [sys.executable, "-m", "wslearn", "serve", "--port", str(wslearn_port)]
    wslearn += ["--max-message-size", str(MAX_SIZE)]
    wslearn += ["--compression", compression] if compression else []
    websockets = [sys.executable, "-c", WEBSOCKETS_SERVER, str(websockets_port), compression or "none"]
    spec: dict[str, Any] = {
        "outdir": str(workdir / "servers"),
        "servers": [
            {"agent": "wslearn", "url": f"ws://127.0.0.1:{wslearn_port}/ws"},
            {"agent": "websockets", "url": f"ws://127.0.0.1:{websockets_port}/"},
        ],
        "cases": cases,
        "exclude-cases": [] if compression else COMPRESSION_CASES,
        "exclude-agent-cases": {},
    }
    with process(wslearn, wslearn_port), process(websockets, websockets_port):
        wstest(python2, "fuzzingclient", spec, workdir, timeout)
    index: Index = json.loads((workdir / "servers" / "index.json").read_text())
    return index


async def wslearn_client(url: str, agent: str, compression: str | None) -> None:
    from wslearn.aio import connect
    from wslearn.errors import ConnectionClosed, HandshakeError

    count = await case_count(url)
    for case in range(1, count + 1):
        with contextlib.suppress(ConnectionClosed, HandshakeError, OSError, TimeoutError):
            uri = f"{url}/runCase?case={case}&agent={agent}"
            offer = "deflate" if compression else None
            async with connect(uri, max_message_size=MAX_SIZE, compression=offer) as ws:
                async for message in ws:
                    await ws.send(message)
    async with connect(f"{url}/updateReports?agent={agent}") as ws:
        await ws.close()


async def websockets_client(url: str, agent: str, compression: str | None) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException

    count = await case_count(url)
    for case in range(1, count + 1):
        with contextlib.suppress(WebSocketException, OSError, TimeoutError):
            uri = f"{url}/runCase?case={case}&agent={agent}"
            async with connect(uri, max_size=MAX_SIZE, compression=compression) as ws:
                async for message in ws:
                    await ws.send(message)
    async with connect(f"{url}/updateReports?agent={agent}") as ws:
        await ws.close()


async def case_count(url: str) -> int:
    from wslearn.aio import connect

    async with connect(f"{url}/getCaseCount") as ws:
        return int(await ws.recv())


def grade_clients(
    python2: str, cases: list[str], workdir: Path, timeout: float, compression: str | None
) -> Index:
    port = free_port()
    spec: dict[str, Any] = {
        "url": f"ws://127.0.0.1:{port}",
        "outdir": str(workdir / "clients"),
        "cases": cases,
        "exclude-cases": [] if compression else COMPRESSION_CASES,
        "exclude-agent-cases": {},
    }
    spec_file = workdir / "fuzzingserver.json"
    spec_file.write_text(json.dumps(spec))
    command = [python2, "-c", LOOPBACK_WSTEST, "-m", "fuzzingserver", "-s", str(spec_file)]
    command += ["--webport", "0"]
    server = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        url = f"ws://127.0.0.1:{port}"
        asyncio.run(asyncio.wait_for(wslearn_client(url, "wslearn", compression), timeout))
        asyncio.run(asyncio.wait_for(websockets_client(url, "websockets", compression), timeout))
    finally:
        server.terminate()
        server.wait(10)
    index: Index = json.loads((workdir / "clients" / "index.json").read_text())
    return index


def print_report(side: str, index: Index) -> None:
    for agent, results in index.items():
        grades = Counter(result["behavior"] for result in results.values())
        summary = ", ".join(f"{count} {grade}" for grade, count in sorted(grades.items()))
        durations = sorted(result.get("duration", 0) for result in results.values())
        total = sum(durations) / 1000
        median = durations[len(durations) // 2] if durations else 0
        print(f"{side} {agent}: {len(results)} cases: {summary} ({total:.0f} s in all, median {median} ms)")
        suites: dict[str, Counter[str]] = {}
        for case, result in results.items():
            suites.setdefault(case.split(".")[0], Counter())[result["behavior"]] += 1
        if len(suites) > 1 or "12" in suites or "13" in suites:
            for suite, counts in sorted(suites.items(), key=lambda item: int(item[0])):
                summary = ", ".join(f"{count} {grade}" for grade, count in sorted(counts.items()))
                print(f"  {suite}.*: {summary}")
        for case in sorted(results, key=lambda case: [int(part) for part in case.split(".")]):
            result = results[case]
            if result["behavior"] != "OK" or result["behaviorClose"] not in ("OK", "INFORMATIONAL"):
                print(f"  {case}: {result['behavior']} (close: {result['behaviorClose']})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python2", required=True, help="the Python 2.7 that has autobahntestsuite")
    parser.add_argument("--side", choices=["server", "client", "both"], default="both")
    parser.add_argument("--cases", nargs="*", default=["*"], help="case patterns, e.g. 6.4.* (all)")
    parser.add_argument("--out", help="folder for the TestSuite's reports (a temporary one)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per side at most")
    parser.add_argument(
        "--no-compression",
        action="store_true",
        help="no agent negotiates permessage-deflate; cases 12 and 13 are left out",
    )
    args = parser.parse_args()
    compression = None if args.no_compression else "deflate"
    with contextlib.ExitStack() as stack:
        workdir = Path(args.out or stack.enter_context(tempfile.TemporaryDirectory(prefix="autobahn-")))
        workdir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        if args.side in ("server", "both"):
            index = grade_servers(args.python2, args.cases, workdir, args.timeout, compression)
            print_report("server", index)
        if args.side in ("client", "both"):
            index = grade_clients(args.python2, args.cases, workdir, args.timeout, compression)
            print_report("client", index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
