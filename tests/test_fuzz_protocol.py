"""Fuzzing the protocol state machine (RFC 6455 §4–§7): a client and a server in memory.

A Hypothesis state machine drives both ends at random: either side sends texts, binaries,
fragmented messages, pings, a Close or fails the connection, while the bytes between them
are delivered in random pieces, in both directions, or cut by an EOF. Whatever the order:

* only documented exceptions (ConnectionClosed when sending after the end);
* states move along TRANSITIONS only, never backwards;
* each side receives exactly the messages the other sent, in order, as long as it is open;
* a peer that follows the RFC never makes the other fail the connection;
* after CLOSED nothing more comes out.

Then the memory: 32 MiB of junk, or of frames announcing big payloads, stay bounded.
"""

from __future__ import annotations

import os
import sys
import tracemalloc

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from wslearn import frames
from wslearn.assembler import Message
from wslearn.errors import ConnectionClosed
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.protocol import (
    TRANSITIONS,
    CloseReceived,
    ConnectionFailed,
    ConnectionLost,
    Ping,
    Pong,
    Protocol,
    RequestReceived,
    ResponseReceived,
    Role,
    State,
)

ORDER = {State.CONNECTING: 0, State.OPEN: 1, State.CLOSING: 2, State.CLOSED: 3}
SIDES = st.sampled_from(["client", "server"])
texts = st.text(max_size=40)
payloads = st.binary(max_size=300)


class Pair(RuleBasedStateMachine):
    """A client and a server Protocol with a random wire between them."""

    @initialize(chunk=st.integers(1, 64))
    def open_connection(self, chunk: int) -> None:
        self.ends = {"client": Protocol(Role.CLIENT), "server": Protocol(Role.SERVER)}
        self.wire: dict[str, bytearray] = {"client": bytearray(), "server": bytearray()}  # to X
        self.sent: dict[str, list[str | bytes]] = {"client": [], "server": []}
        self.got: dict[str, list[str | bytes]] = {"client": [], "server": []}
        self.failed_by_us: set[str] = set()
        self.eof: set[str] = set()
        self.states = {side: State.CONNECTING for side in self.ends}
        self.fragmenting: dict[str, bool] = {"client": False, "server": False}
        client, server = self.ends["client"], self.ends["server"]
        client.connect("example.com", "/ws")
        events = self.feed(server, client.data_to_send(), chunk)
        assert [type(e) for e in events] == [RequestReceived]
        server.accept()
        events = self.feed(client, server.data_to_send(), chunk)
        assert [type(e) for e in events] == [ResponseReceived]

    @staticmethod
    def feed(end: Protocol, data: bytes, chunk: int) -> list[object]:
        events: list[object] = []
        for start in range(0, len(data), chunk):
            end.receive_data(data[start : start + chunk])
            events += end.events_received()
        return events

    # --- plumbing ----------------------------------------------------------------------

    def other(self, side: str) -> str:
        return "server" if side == "client" else "client"

    def collect(self, side: str) -> None:
        """Move what ``side`` wants to send onto the wire towards the other side."""
        self.wire[self.other(side)] += self.ends[side].data_to_send()

    def deliver_to(self, side: str, size: int) -> None:
        if side in self.eof:
            self.wire[side].clear()
            return
        data = bytes(self.wire[side][:size])
        del self.wire[side][:size]
        self.ends[side].receive_data(data)
        self.collect(side)  # automatic answers: pongs, Close echoes
        self.take_events(side)

    def take_events(self, side: str) -> list[object]:
        events: list[object] = list(self.ends[side].events_received())
        for event in events:
            known = (
                Message, Ping, Pong, CloseReceived, ConnectionFailed, ConnectionLost,
                RequestReceived, ResponseReceived,
            )  # fmt: skip
            assert isinstance(event, known), event
            if isinstance(event, Message):
                self.got[side].append(event.data)
            if isinstance(event, ConnectionFailed):
                # An honest peer never makes us fail; only our own fail() does.
                assert side in self.failed_by_us, (side, event)
        return events

    def send(self, side: str, action: str, *args: object, **kwargs: object) -> None:
        end = self.ends[side]
        was_open = end.state is State.OPEN
        try:
            getattr(end, action)(*args, **kwargs)
        except ConnectionClosed:
            assert not was_open, f"{action} raised ConnectionClosed in state OPEN"
            return
        assert was_open or action == "fail"
        self.collect(side)

    # --- rules -------------------------------------------------------------------------

    @precondition(lambda self: True)
    @rule(side=SIDES, text=texts)
    def send_text(self, side: str, text: str) -> None:
        if not self.fragmenting[side]:
            self.send(side, "send_text", text)
            if self.ends[side].state is State.OPEN:
                self.sent[side].append(text)

    @rule(side=SIDES, data=payloads, parts=st.integers(2, 5))
    def send_fragments(self, side: str, data: bytes, parts: int) -> None:
        if self.fragmenting[side] or self.ends[side].state is not State.OPEN:
            return
        size = len(data) // parts + 1
        pieces = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
        self.send(side, "send_binary", pieces[0], fin=len(pieces) == 1)
        for n, piece in enumerate(pieces[1:], start=2):
            self.send(side, "send_continuation", piece, fin=n == len(pieces))
        self.sent[side].append(data)

    @rule(side=SIDES, payload=st.binary(max_size=125))
    def ping(self, side: str, payload: bytes) -> None:
        self.send(side, "send_ping", payload)

    @rule(side=SIDES, code=st.sampled_from([1000, 1001, 1003, 1008, 3000, 4999]), reason=texts)
    def close(self, side: str, code: int, reason: str) -> None:
        if len(reason.encode()) <= 123:
            self.send(side, "send_close", code, reason)

    @rule(side=SIDES, code=st.sampled_from([1002, 1007, 1009, 1011]))
    def fail(self, side: str, code: int) -> None:
        if self.ends[side].state is not State.CLOSED:
            self.failed_by_us.add(side)
        self.send(side, "fail", code, "fuzz")

    @rule(side=SIDES, size=st.integers(1, 400))
    def deliver(self, side: str, size: int) -> None:
        self.deliver_to(side, size)

    @rule(side=SIDES)
    def cut(self, side: str) -> None:
        """The TCP connection to ``side`` ends: it sees EOF after what is on the wire."""
        while self.wire[side]:
            self.deliver_to(side, 4096)
        self.eof.add(side)
        self.ends[side].receive_eof()
        self.take_events(side)
        self.collect(side)

    # --- invariants --------------------------------------------------------------------

    @invariant()
    def states_follow_the_table(self) -> None:
        for side, end in self.ends.items():
            before, now = self.states[side], end.state
            assert ORDER[now] >= ORDER[before], (side, before, now)
            if now is not before:
                assert now in {after for (state, _), after in TRANSITIONS.items() if state is before}
            self.states[side] = now
            if now is State.CLOSED:
                assert end.closed is not None
                assert end.data_to_send() == b""  # nothing more once closed

    @invariant()
    def messages_arrive_in_order_and_whole(self) -> None:
        for side in self.ends:
            sent = self.sent[self.other(side)]
            got = self.got[side]
            assert got == sent[: len(got)], (side, got, sent)


Pair.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=2000)
test_random_conversations_between_a_client_and_a_server = Pair.TestCase


def opened_server(max_message_size: int = 2**20) -> Protocol:
    client = Protocol(Role.CLIENT)
    server = Protocol(Role.SERVER, max_message_size=max_message_size)
    client.connect("example.com", "/ws")
    server.receive_data(client.data_to_send())
    server.events_received()
    server.accept()
    server.data_to_send()
    return server


def state_of(end: Protocol) -> State:
    """The state now (a call, so that type checkers do not assume it is fixed)."""
    return end.state


def peak_while(feed: list[bytes], server: Protocol) -> int:
    tracemalloc.start()
    try:
        for data in feed:
            server.receive_data(data)
            server.events_received()
            server.data_to_send()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_32_mib_of_junk_after_the_handshake_is_not_kept() -> None:
    server = opened_server()
    junk = os.urandom(2**16)
    peak = peak_while([junk] * 512, server)
    print(f"\npeak memory while receiving 32 MiB of junk: {peak / 1024:.0f} KiB")
    assert server.state is State.CLOSED
    assert peak < 1024 * 1024


@pytest.fixture(params=["C masker", "no websockets"])
def masker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """With websockets' C masker, and as if websockets were absent (the plain loop masks)."""
    if request.param == "no websockets":
        monkeypatch.setitem(sys.modules, "websockets.speedups", None)  # its import now fails
    monkeypatch.setattr(frames, "_fast_masker", None)  # loaded again on first use
    return str(request.param)


def test_frames_announcing_big_payloads_are_held_at_most_up_to_the_limit(masker: str) -> None:
    """A 1 MiB frame in 4 KiB pieces is buffered (it is allowed); a bigger one is refused."""
    server = opened_server(max_message_size=2**20)
    key = b"\x01\x02\x03\x04"
    allowed = serialize_frame(Frame(Opcode.BINARY, b"a" * 2**20, masking_key=key))
    pieces = [allowed[i : i + 4096] for i in range(0, len(allowed), 4096)]
    peak = peak_while(pieces, server)
    print(f"\npeak memory while receiving a 1 MiB frame in 4 KiB pieces: {peak / 2**20:.1f} MiB")
    assert state_of(server) is State.OPEN
    assert peak < 5 * 2**20  # the buffer, the unmasked payload, the message
    assert (frames._fast_masker is frames.apply_mask_loop) == (masker == "no websockets")
    too_big = serialize_frame(Frame(Opcode.BINARY, b"b" * (2**20 + 1), masking_key=key))
    peak = peak_while([too_big[:4096]] + [too_big[4096:8192]] * 1000, server)
    assert state_of(server) is State.CLOSED
    assert server.closed is not None and server.closed.code == 1009
    assert peak < 1024 * 1024
