"""``python -m wslearn connect URL``: a terminal WebSocket client, in the spirit of wscat.

Each line typed (or piped) on standard input is sent as a text message; each message
received is printed on standard output as ``< text``. At the end of the input the client
starts the closing handshake with 1000 (RFC 6455 §7.1.2) and exits with status 0, or 1
when the connection ended any other way. ``--trace`` shows every frame (and the
handshake) on standard error, with its bytes as a hexdump.

::

    $ python -m wslearn connect ws://127.0.0.1:8765/ws --subprotocol chat --trace
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from urllib.parse import urlsplit, urlunsplit

from wslearn.errors import ConnectionClosed, HandshakeError
from wslearn.eventlog import EventLog, LogEvent, redact_target
from wslearn.explain import hexdump

from .client import connect
from .connection import WebSocket

__all__ = ["connect_main"]

TRACE_BYTES = 256  # bytes of each frame shown by --trace


def connect_main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m wslearn connect``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_talk(args))
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wslearn connect",
        description="Send each line of standard input as a text message; print every message received.",
    )
    parser.add_argument("url", help="ws://host:port/path or wss://...")
    parser.add_argument(
        "--subprotocol", action="append", default=[], metavar="P", help="offer subprotocol P (repeatable)"
    )
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        type=_header,
        metavar="'K: V'",
        help="add a header to the upgrade request (repeatable)",
    )
    parser.add_argument("--trace", action="store_true", help="show every frame's bytes on stderr")
    parser.add_argument(
        "--compression",
        choices=["deflate"],
        default=None,
        help="offer permessage-deflate (RFC 7692); off by default",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="after the end of input, keep printing messages for SECONDS before closing "
        "(default 0.5: time for the answers to the last lines to arrive)",
    )
    parser.add_argument("--timeout", type=float, default=10, help="opening handshake timeout (s)")
    return parser


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise argparse.ArgumentTypeError(f"a header looks like 'Name: value', not {text!r}")
    return name.strip(), value.strip()


async def _talk(args: argparse.Namespace) -> int:
    event_log = None
    if args.trace:
        event_log = EventLog()
        event_log.subscribe(_print_trace)
    try:
        ws = await connect(
            args.url,
            subprotocols=args.subprotocol,
            headers=args.header,
            open_timeout=args.timeout,
            event_log=event_log,
            compression=args.compression,
        )
    except HandshakeError as exc:
        _note(f"handshake refused: {exc}")
        return 1
    except (OSError, TimeoutError, ValueError) as exc:
        _note(f"cannot connect to {_shown(args.url)}: {exc}")
        return 1
    agreed = f"; extensions: {ws.extensions}" if ws.extensions else ""
    _note(
        f"connected to {_shown(args.url)} (subprotocol: {ws.subprotocol}{agreed});"
        " end input (Ctrl-D) to close"
    )
    printer = asyncio.create_task(_print_messages(ws))
    await _send_lines(ws, printer)
    if not printer.done():
        if args.wait > 0:
            await asyncio.wait([printer], timeout=args.wait)
        await ws.close(1000)
    await printer
    closed = ws.closed
    _note(f"closed: {closed}")
    return 0 if closed is not None and closed.ok else 1


async def _send_lines(ws: WebSocket, printer: asyncio.Task[None]) -> None:
    """Send each line of stdin until its end, or until the connection ends."""
    lines = _read_stdin_lines()
    while True:
        next_line = asyncio.ensure_future(lines.get())
        await asyncio.wait([next_line, printer], return_when=asyncio.FIRST_COMPLETED)
        if not next_line.done():
            next_line.cancel()
            return  # the server closed the connection
        line = next_line.result()
        if line is None:
            return  # end of input
        try:
            await ws.send(line)
        except ConnectionClosed:
            return


def _read_stdin_lines() -> asyncio.Queue[str | None]:
    """Lines of stdin, read by a daemon thread (stdin may be a terminal, a pipe, a file);
    ``None`` marks the end of input."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="stdin reader", daemon=True).start()
    return lines


async def _print_messages(ws: WebSocket) -> None:
    try:
        async for message in ws:
            if isinstance(message, str):
                print(f"< {message}", flush=True)
            else:
                print(f"< (binary, {len(message)} bytes) {message[:64].hex(' ')}", flush=True)
    except ConnectionClosed:
        pass  # reported by _talk


def _print_trace(event: LogEvent) -> None:
    """--trace: the handshake and each frame, with its bytes as they crossed the wire."""
    if event.kind not in ("frame", "handshake", "http"):
        return
    arrow = "<<" if event.direction == "in" else ">>"
    if event.kind == "frame":
        _note(f"{arrow} {event}\n{hexdump(event.raw, limit=TRACE_BYTES)}")
    else:
        _note(f"{arrow} {event.kind}\n{event.raw.decode('latin-1').rstrip()}")


def _shown(url: str) -> str:
    """The URL without credentials (user:pass@, ?token=...), fit for a terminal or a log."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return redact_target(urlunsplit(parts._replace(netloc=netloc)))


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
