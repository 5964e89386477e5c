"""Seed 000's echo server, fixed: a bad request gets its HTTP error and the server goes on.

The port (:mod:`wslearn.demo.seedports.seed000`) keeps the article's bugs; this program
takes everything else from it and replaces its handler of ``/ws``:

* a failed upgrade is answered (400, 403, 426...: RFC 6455 §4.2.1, §4.2.2) and ends only
  that connection, never the process (the port calls Go's ``log.Fatal``);
* the Origin is checked (RFC 6455 §10.2): none (not a browser) or the server's own origin;
* it offers the subprotocols of the article's sample response, ``chat`` and ``superchat``,
  so a client that asks for ``chat`` gets ``Sec-WebSocket-Protocol: chat`` (§4.2.2).

Run it: ``python -m wslearn.kit.fixed_seed000 --port 0``.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

from wslearn.assembler import Message
from wslearn.demo.seedports import seed000 as port
from wslearn.handshake import Request
from wslearn.protocol import HandshakeRejected, Protocol, Role

SUBPROTOCOLS = ("chat", "superchat")


def same_origin(request: Request) -> Callable[[str | None], bool]:
    """``origin_allowed`` for this request: no Origin, or the page of this very server."""
    own = f"http://{request.headers.get('Host', '')}"

    def allowed(origin: str | None) -> bool:
        return origin is None or origin == own

    return allowed


def handle_connections(conn: socket.socket, request: Request, data: bytes) -> None:
    """The handler of ``/ws``: upgrade (or answer why not), then echo each message."""
    protocol = Protocol(Role.SERVER, subprotocols=SUBPROTOCOLS, origin_allowed=same_origin(request))
    protocol.receive_data(data)
    for event in protocol.events_received():
        if isinstance(event, HandshakeRejected):
            conn.sendall(protocol.data_to_send())  # the HTTP error, with its reason
            port.log_println(f"websocket: upgrade failed: {event.error.reason}")
            return  # this connection ends; the server goes on
    protocol.accept()
    conn.sendall(protocol.data_to_send())
    while not protocol.close_transport():
        chunk = conn.recv(port.READ_SIZE)
        if chunk:
            protocol.receive_data(chunk)
        else:
            protocol.receive_eof()
        events = protocol.events_received()
        while events:
            for event in events:
                if isinstance(event, Message):
                    if isinstance(event.data, str):
                        protocol.send_text(event.data)
                    else:
                        protocol.send_binary(event.data)
            # the messages before a violation are answered, then the next call fails
            events = protocol.events_received() if protocol.failure_pending else []
        conn.sendall(protocol.data_to_send())


port.handle_connections = handle_connections  # serve_one calls the module's handler

if __name__ == "__main__":
    sys.exit(port.main())
