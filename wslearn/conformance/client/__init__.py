"""The client checks: a misbehaving server checks that a WebSocket *client* fails correctly.

A client has duties too (RFC 6455 §4.1, §5, §7): it must refuse a 101 response with a
wrong Sec-WebSocket-Accept, a subprotocol or an extension it did not ask for, and it must
fail the connection on frames no server may send: masked frames, RSV bits, reserved
opcodes, bad control frames, invalid UTF-8, close codes no endpoint may use.

The cases are tables (``handshake``, ``frames``) of the same :class:`~wslearn.conformance.Case`
as the server checks; a client case's ``run`` is a :class:`Misbehaviour` of the
:class:`BadServer`. The client under test is an adapter (:func:`wslearn_client`,
:func:`websockets_client`) that connects, waits for one message and tells what happened::

    report = await run_client_checks()                  # wslearn's own client
    report = await run_client_checks(websockets_client) # the websockets library's
"""

from __future__ import annotations

from . import frames, handshake
from .adapters import ANSWER_TIMEOUT, ClientOutcome, ClientUnderTest, websockets_client, wslearn_client
from .badserver import BadServer, ClientCase, Misbehaviour, WireRecord
from .runner import all_cases, run_client_checks

__all__ = [
    "ANSWER_TIMEOUT",
    "BadServer",
    "ClientCase",
    "ClientOutcome",
    "ClientUnderTest",
    "Misbehaviour",
    "WireRecord",
    "all_cases",
    "frames",
    "handshake",
    "run_client_checks",
    "websockets_client",
    "wslearn_client",
]
