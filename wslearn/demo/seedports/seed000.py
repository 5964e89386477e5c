"""Seed article 000's echo server in Python, with its bug kept: one failed upgrade ends the server.

The Go original serves ``/ws`` with gorilla/websocket. Its ``Upgrader`` has a ``CheckOrigin``
that returns true, and when ``Upgrade`` fails, the handler calls ``log.Fatal``, which prints
the error and calls ``os.Exit(1)``. So the first request to ``/ws`` that is not a valid
upgrade (a browser opening the URL as a page, a typo, an old client) ends the *whole
process*: every other connection is cut without a Close frame (its peer sees 1006, RFC 6455
§7.1.5) and the next client finds nobody listening.

Kept on purpose, to watch it happen:

* ``log.Fatal`` on a failed upgrade: a log line on stderr, then :func:`os._exit` with status 1
  (like ``os.Exit``, it runs no cleanup and cannot be caught);
* the failed request gets no answer: gorilla writes its error response into net/http's
  response buffer, which is sent when the handler returns, and this handler never returns;
* ``CheckOrigin`` returning true: any Origin is accepted (RFC 6455 §10.2 asks for better);
* no subprotocols: the Go server sets none, so it never answers ``Sec-WebSocket-Protocol``.

Not kept: it listens on 127.0.0.1 only, on the port given with ``--port`` (0: any free port),
and the verdict on a request is :func:`wslearn.handshake.check_request`'s, not gorilla's
wording. A request for another path gets net/http's ``404 page not found``, and bytes that
are not HTTP get a 400 from net/http itself: neither reaches the handler, so neither is fatal.

Run it: ``python -m wslearn.demo.seedports.seed000 --port 0`` prints
``listening on 127.0.0.1:PORT`` once it accepts connections. The fixed version of this
server is the demo's ``/ws`` route: a bad request gets its HTTP error, and the server goes on.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time

from wslearn.assembler import Message
from wslearn.errors import HandshakeError
from wslearn.handshake import Request, build_error_response, text_response
from wslearn.protocol import HandshakeRejected, Protocol, Role

READ_SIZE = 65536


def log_fatal(message: str) -> None:
    """Go's ``log.Fatal``: print the message with a timestamp, then exit at once with 1."""
    log_println(message)
    os._exit(1)


def log_println(message: str) -> None:
    """Go's ``log.Println``: ``2026/01/31 12:00:00 message`` on stderr."""
    sys.stderr.write(f"{time.strftime('%Y/%m/%d %H:%M:%S')} {message}\n")
    sys.stderr.flush()


def read_request(conn: socket.socket) -> tuple[Request, bytes] | None:
    """Read one HTTP request (net/http's part: malformed bytes get a 400 and never reach the handler)."""
    data = b""
    while True:
        chunk = conn.recv(READ_SIZE)
        if not chunk:
            return None
        data += chunk
        try:
            parsed = Request.parse(data)
        except HandshakeError as error:
            conn.sendall(build_error_response(error).serialize())
            return None
        if parsed is not None:
            return parsed[0], data


def handle_connections(conn: socket.socket, request: Request, data: bytes) -> None:
    """The handler of ``/ws``: upgrade (fatal when it fails), then echo each message."""
    protocol = Protocol(Role.SERVER)  # no origin_allowed: like CheckOrigin returning true
    protocol.receive_data(data)
    for event in protocol.events_received():
        if isinstance(event, HandshakeRejected):
            # RFC 6455 §4.2.1: a bad request gets an HTTP error and the handshake ends. Here the
            # whole process ends instead, the error answer still unsent (the seed's bug).
            log_fatal(f"websocket: upgrade failed: {event.error.reason}")
    protocol.accept()
    conn.sendall(protocol.data_to_send())
    while not protocol.close_transport():
        chunk = conn.recv(READ_SIZE)
        if chunk:
            protocol.receive_data(chunk)
        else:
            protocol.receive_eof()
        events = protocol.events_received()
        while events:
            for event in events:
                if isinstance(event, Message):  # the same type back: text stays text
                    if isinstance(event.data, str):
                        protocol.send_text(event.data)
                    else:
                        protocol.send_binary(event.data)
            # the messages before a violation are answered, then the next call fails
            events = protocol.events_received() if protocol.failure_pending else []
        conn.sendall(protocol.data_to_send())
    if protocol.closed is not None:
        log_println(str(protocol.closed))  # the Go code's log.Println(err) when ReadMessage fails


def serve_one(conn: socket.socket) -> None:
    """One TCP connection, in its own thread (net/http runs each in its own goroutine)."""
    with conn:
        try:
            received = read_request(conn)
            if received is None:
                return
            request, data = received
            if request.path != "/ws":  # http.HandleFunc("/ws", ...): nothing else is routed
                conn.sendall(text_response(404, "404 page not found\n").serialize())
                return
            handle_connections(conn, request, data)
        except OSError:
            pass  # the peer went away: this connection ends, the server goes on


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="seed article 000's echo server, log.Fatal included")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    with socket.create_server(("127.0.0.1", args.port)) as listener:
        print(f"listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
        while True:
            conn, _address = listener.accept()
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
