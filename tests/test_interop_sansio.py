"""wslearn's Protocol talks to the websockets library's own sans-I/O protocol, in memory.

Both libraries are sans-I/O, so no socket is needed: a :class:`Link` moves bytes between
wslearn's ``data_to_send()`` and websockets' ``receive_data()``, and back. websockets
signals "close the TCP connection" with an empty bytes object in ``data_to_send()``;
wslearn with ``close_transport()``. Each test runs twice: wslearn as the client against a
websockets server, and wslearn as the server against a websockets client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame as TheirFrame
from websockets.frames import Opcode as TheirOpcode
from websockets.http11 import Request as TheirRequest
from websockets.http11 import Response as TheirResponse
from websockets.protocol import State as TheirState
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from wslearn.assembler import Message
from wslearn.protocol import (
    CloseReceived,
    ConnectionFailed,
    HandshakeFailed,
    Ping,
    Pong,
    Protocol,
    RequestReceived,
    ResponseReceived,
    Role,
    State,
)

Their = ServerProtocol | ClientProtocol


class Link:
    """A TCP connection in memory between ``ours`` (wslearn) and ``theirs`` (websockets)."""

    def __init__(self, ours: Protocol, theirs: Their) -> None:
        self.ours = ours
        self.theirs = theirs
        self.their_eof_received = False  # we closed TCP: websockets saw EOF
        self.our_eof_received = False  # websockets closed TCP: we saw EOF

    def to_theirs(self) -> None:
        data = self.ours.data_to_send()
        if data:
            self.theirs.receive_data(data)
        if self.ours.close_transport() and not self.their_eof_received:
            self.their_eof_received = True
            self.theirs.receive_eof()

    def to_ours(self) -> None:
        for chunk in self.theirs.data_to_send():
            if chunk:
                self.ours.receive_data(chunk)
            elif not self.our_eof_received:  # b"" means: close the TCP connection
                self.our_eof_received = True
                self.ours.receive_eof()

    def settle(self) -> None:
        """Move bytes both ways until neither side has anything left to say (bounded)."""
        for _ in range(10):
            self.to_theirs()
            self.to_ours()
        assert not self.ours.data_to_send() and not self.theirs.data_to_send()


def our_client_with_their_server(**options: Any) -> tuple[Link, list[Any], list[Any]]:
    ours = Protocol(Role.CLIENT, subprotocols=options.get("offer", ()))
    theirs = ServerProtocol(subprotocols=[Subprotocol(s) for s in options.get("support", ())])
    link = Link(ours, theirs)
    ours.connect("example.com", "/chat")
    link.to_theirs()
    [request] = theirs.events_received()
    assert isinstance(request, TheirRequest) and request.path == "/chat"
    theirs.send_response(theirs.accept(request))
    link.to_ours()
    return link, ours.events_received(), []


def their_client_with_our_server(**options: Any) -> tuple[Link, list[Any], list[Any]]:
    ours = Protocol(Role.SERVER, subprotocols=options.get("support", ()))
    offer = [Subprotocol(s) for s in options.get("offer", ())]
    theirs = ClientProtocol(parse_uri("ws://example.com/chat"), subprotocols=offer or None)
    link = Link(ours, theirs)
    theirs.send_request(theirs.connect())
    link.to_ours()
    [event] = ours.events_received()
    assert isinstance(event, RequestReceived) and event.request.path == "/chat"
    ours.accept()
    link.to_theirs()
    return link, [event], theirs.events_received()


SIDES = pytest.mark.parametrize(
    "open_link",
    [our_client_with_their_server, their_client_with_our_server],
    ids=["wslearn-client", "wslearn-server"],
)


Opener = Callable[..., tuple[Link, list[Any], list[Any]]]


def opened(open_link: Opener, **options: Any) -> Link:
    link, our_events, their_events = open_link(**options)
    assert link.ours.state is State.OPEN
    assert link.theirs.state is TheirState.OPEN
    if link.ours.role is Role.CLIENT:
        assert [type(event) for event in our_events] == [ResponseReceived]
    else:
        assert [type(event) for event in their_events] == [TheirResponse]
        assert their_events[0].status_code == 101
    return link


def their_frames(link: Link) -> list[tuple[TheirOpcode, bytes, bool]]:
    frames = []
    for event in link.theirs.events_received():
        assert isinstance(event, TheirFrame), event
        frames.append((event.opcode, bytes(event.data), event.fin))
    return frames


# -- the opening handshake -------------------------------------------------------------------------


@SIDES
def test_handshake(open_link: Opener) -> None:
    link = opened(open_link)
    assert link.ours.subprotocol is None and link.theirs.subprotocol is None


@SIDES
def test_subprotocol_negotiation(open_link: Opener) -> None:
    link = opened(open_link, offer=["v2", "v1"], support=["v1", "v2"])
    assert link.ours.subprotocol == link.theirs.subprotocol
    assert link.ours.subprotocol in ("v1", "v2")
    if link.ours.role is Role.SERVER:
        assert link.ours.subprotocol == "v2"  # we pick the client's first choice we support


def test_their_server_rejects_us() -> None:
    ours = Protocol(Role.CLIENT)
    theirs = ServerProtocol()
    link = Link(ours, theirs)
    ours.connect("example.com")
    link.to_theirs()
    theirs.events_received()
    theirs.send_response(theirs.reject(404, "no such room\n"))
    link.to_ours()
    [event] = ours.events_received()
    assert isinstance(event, HandshakeFailed) and event.error.status == 404
    assert ours.state is State.CLOSED


def test_we_reject_their_client() -> None:
    ours = Protocol(Role.SERVER)
    theirs = ClientProtocol(parse_uri("ws://example.com/private"))
    link = Link(ours, theirs)
    theirs.send_request(theirs.connect())
    link.to_ours()
    ours.events_received()
    ours.reject(403, "this room is private")
    link.to_theirs()
    [response] = theirs.events_received()
    assert isinstance(response, TheirResponse)
    assert response.status_code == 403
    assert b"this room is private" in response.body
    assert theirs.handshake_exc is not None


# -- messages ----------------------------------------------------------------------------------------


@SIDES
def test_text_and_binary(open_link: Opener) -> None:
    link = opened(open_link)
    link.ours.send_text("héllo")
    link.ours.send_binary(b"\x00\xff")
    link.to_theirs()
    assert their_frames(link) == [
        (TheirOpcode.TEXT, "héllo".encode(), True),
        (TheirOpcode.BINARY, b"\x00\xff", True),
    ]
    link.theirs.send_text("réponse 😀".encode())
    link.theirs.send_binary(b"\x01" * 70000)  # 64-bit length form
    link.to_ours()
    assert link.ours.events_received() == [Message("réponse 😀"), Message(b"\x01" * 70000)]


@SIDES
def test_fragmented_messages(open_link: Opener) -> None:
    link = opened(open_link)
    link.ours.send_text("Hel", fin=False)
    link.ours.send_ping(b"in between")
    link.ours.send_continuation(b"lo", fin=True)
    link.to_theirs()
    assert their_frames(link) == [
        (TheirOpcode.TEXT, b"Hel", False),
        (TheirOpcode.PING, b"in between", True),
        (TheirOpcode.CONT, b"lo", True),
    ]
    link.to_ours()  # their automatic pong
    assert link.ours.events_received() == [Pong(b"in between")]
    link.theirs.send_binary(b"ab", fin=False)
    link.theirs.send_continuation(b"cd", fin=False)
    link.theirs.send_continuation(b"", fin=True)
    link.to_ours()
    assert link.ours.events_received() == [Message(b"abcd")]


@SIDES
def test_ping_pong_both_ways(open_link: Opener) -> None:
    link = opened(open_link)
    link.ours.send_ping(b"ours")
    link.to_theirs()
    assert their_frames(link) == [(TheirOpcode.PING, b"ours", True)]
    link.to_ours()
    assert link.ours.events_received() == [Pong(b"ours")]
    link.theirs.send_ping(b"theirs")
    link.to_ours()
    assert link.ours.events_received() == [Ping(b"theirs")]
    link.to_theirs()  # our automatic pong
    assert their_frames(link) == [(TheirOpcode.PONG, b"theirs", True)]


# -- the closing handshake -----------------------------------------------------------------------------


@SIDES
def test_we_close(open_link: Opener) -> None:
    link = opened(open_link)
    link.ours.send_close(1000, "bye")
    link.settle()
    assert their_frames(link) == [(TheirOpcode.CLOSE, b"\x03\xe8bye", True)]
    assert link.ours.events_received() == [CloseReceived(1000, "bye")]  # their echo
    assert link.ours.state is State.CLOSED
    assert link.theirs.state is TheirState.CLOSED
    assert link.theirs.close_code == 1000 and link.theirs.close_reason == "bye"
    assert link.ours.closed is not None and link.ours.closed.by == "local"


@SIDES
def test_they_close(open_link: Opener) -> None:
    link = opened(open_link)
    link.theirs.send_close(1001, "going away")
    link.settle()
    assert link.ours.events_received() == [CloseReceived(1001, "going away")]
    [(opcode, data, _)] = their_frames(link)  # our echo
    assert opcode is TheirOpcode.CLOSE and data[:2] == (1001).to_bytes(2, "big")
    assert link.ours.state is State.CLOSED
    assert link.theirs.state is TheirState.CLOSED
    assert link.theirs.close_code == 1001
    assert link.ours.closed is not None and link.ours.closed.by == "remote"


@SIDES
def test_they_close_without_a_code(open_link: Opener) -> None:
    link = opened(open_link)
    link.theirs.send_close()
    link.settle()
    assert link.ours.events_received() == [CloseReceived(1005, "")]
    assert link.theirs.state is TheirState.CLOSED
    assert link.theirs.close_code == 1005  # our echo carried no code either


@SIDES
def test_we_fail_and_they_learn_the_code(open_link: Opener) -> None:
    link = opened(open_link)
    link.theirs.send_text(b"caf\xc3(")  # not UTF-8: their send_text does not check
    link.settle()
    events = link.ours.events_received()
    [event] = events
    assert isinstance(event, ConnectionFailed) and event.code == 1007
    assert link.theirs.state is TheirState.CLOSED
    assert link.theirs.close_code == 1007
