"""``python -m wslearn serve``: the demo server outside Jupyter.

Runs every route on one port, prints the URLs and stops cleanly on Ctrl-C: SIGINT (or
SIGTERM) closes every connection with 1001 (going away, RFC 6455 §7.4.1) and the
command exits with status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from wslearn.aio import serve
from wslearn.eventlog import EventLog

from .app import demo_server

__all__ = ["serve_main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wslearn serve",
        description="Run the demo server: echo, heartbeats, push, chat and the chat page.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8765, help="port, 0 for any free (8765)")
    parser.add_argument(
        "--max-message-size",
        type=_size,
        default=2**20,
        metavar="BYTES",
        help="largest message accepted; bigger ones are refused with 1009 (1048576)",
    )
    parser.add_argument("--heartbeat-interval", type=float, default=3.0, help="seconds between 'heart beat's")
    parser.add_argument("--push-interval", type=float, default=2.0, help="seconds between pushes")
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept this Origin, e.g. http://localhost:8888 ('*': any); repeatable",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=None,
        metavar="NAME",
        help="also answer requests for this Host name (besides localhost, 127.0.0.1, [::1];"
        " '*': any); repeatable. The default for --host 0.0.0.0 is any name",
    )
    parser.add_argument(
        "--compression",
        choices=["deflate"],
        default=None,
        help="accept a client's offer of permessage-deflate (RFC 7692); off by default",
    )
    parser.add_argument("--trace", action="store_true", help="print every handshake and frame as it passes")
    return parser


def _port(text: str) -> int:
    port = _integer(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port: use 0 to 65535 (0: any free port)")
    return port


def _size(text: str) -> int:
    size = _integer(text)
    if size < 1:
        raise argparse.ArgumentTypeError(f"{size} bytes: a size is at least 1")
    return size


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def serve_main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the server until Ctrl-C; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        app = demo_server(
            heartbeat_interval=args.heartbeat_interval,
            push_interval=args.push_interval,
            allowed_origins=tuple(args.allow_origin),
            allowed_hosts=tuple(args.allow_host) if args.allow_host is not None else None,
            max_message_size=args.max_message_size,
            compression=args.compression,
        )
    except ValueError as error:
        print(f"wslearn serve: {error}", file=sys.stderr)
        return 2
    event_log = EventLog(maxlen=100)
    if args.trace:
        event_log.subscribe(lambda event: print(event, flush=True))
    try:
        return asyncio.run(_serve(app.serve_kwargs(event_log), args.host, args.port, app.describe()))
    except KeyboardInterrupt:  # only where signal handlers are not available
        return 0
    except OSError as error:  # e.g. the port is taken
        print(f"wslearn serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1


async def _serve(kwargs: dict[str, Any], host: str, port: int, routes: dict[str, str]) -> int:
    server = await serve(host=host, port=port, **kwargs)
    _print_urls(server.url, routes)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C cancels this task instead
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        print(f"stopping: closing {len(server.connections)} connection(s) with 1001", flush=True)
        server.close()  # 1001 going away, to every client
        await server.wait_closed()
    return 0


def _print_urls(ws_url: str, routes: dict[str, str]) -> None:
    http_url = "http" + ws_url.removeprefix("ws")
    width = max(len(path) for path in routes)
    print(f"wslearn demo server on {ws_url}  (Ctrl-C to stop)")
    for path, what in routes.items():
        url = f"{http_url}{path}" if path == "/" else f"{ws_url}{path}"
        print(f"  {url:<{len(ws_url) + width}}  {what}")
    sys.stdout.flush()
