"""A client MUST refuse a bad opening handshake (RFC 6455 §4.1, §9.1).

§4.1: if the server's response is not a 101 with ``Upgrade: websocket``, ``Connection:
Upgrade`` and the right ``Sec-WebSocket-Accept``, or selects a subprotocol or an extension
the client did not offer, "the client MUST _Fail the WebSocket Connection_".
"""

from __future__ import annotations

from collections.abc import Callable

from ..model import Table, Verdict, failed, ok
from ..wire import accept_for
from .adapters import ClientOutcome
from .badserver import ClientCase, Misbehaviour, WireRecord, handshake_reply, response

RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # the accept of the RFC's sample key, not ours


def grade_handshake(misbehaviour: Misbehaviour, outcome: ClientOutcome, record: WireRecord) -> Verdict:
    if outcome.refused is not None:
        return ok(f"refused it: {outcome.refused[:100]}")
    return failed(f"accepted the handshake and {outcome}")


def answering(reply: Callable[[str], bytes], offer: tuple[str, ...] = ()) -> Misbehaviour:
    """The bad server answers the request with ``reply(key)``; the client offers ``offer``."""
    return Misbehaviour(handshake_reply(reply), grade_handshake, subprotocols=offer)


def without_accept(key: str) -> bytes:
    return response(key).replace(f"Sec-WebSocket-Accept: {accept_for(key)}\r\n".encode(), b"")


def cases() -> list[ClientCase]:
    row = Table[Misbehaviour](
        "client handshake",
        id_prefix="client.handshake",
        section="§4.1",
        requires="refusing the handshake (the client MUST _Fail the WebSocket Connection_)",
    )
    return [
        row(
            "wrong-accept",
            title="101 with the Sec-WebSocket-Accept of another key",
            run=answering(lambda key: response(key, accept=RFC_ACCEPT)),
        ),
        row("no-accept", title="101 without Sec-WebSocket-Accept", run=answering(without_accept)),
        row(
            "no-upgrade",
            title="101 without Upgrade: websocket",
            run=answering(lambda key: response(key).replace(b"Upgrade: websocket\r\n", b"")),
        ),
        row(
            "status-200",
            title="200 OK instead of 101",
            run=answering(lambda key: response(key, "Content-Length: 0", status="200 OK")),
        ),
        row(
            "unrequested-subprotocol",
            title="101 selecting the subprotocol 'chat', never offered",
            run=answering(lambda key: response(key, "Sec-WebSocket-Protocol: chat")),
        ),
        row(
            "other-subprotocol",
            title="101 selecting 'superchat' when the client offered 'chat'",
            run=answering(lambda key: response(key, "Sec-WebSocket-Protocol: superchat"), offer=("chat",)),
        ),
        row(
            "unrequested-extension",
            section="§9.1",
            title="101 agreeing to permessage-deflate, never offered",
            run=answering(lambda key: response(key, "Sec-WebSocket-Extensions: permessage-deflate")),
        ),
        row(
            "forbidden",
            title="403 Forbidden",
            run=answering(lambda key: b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
        ),
    ]
