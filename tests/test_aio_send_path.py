"""The parts of wslearn.aio.WebSocket: the send path, the Inbox, the Heartbeat.

The send path has one plain way (``_send``: a turn in line, then each frame and ``drain()``) and two
labelled shortcuts for a one-frame message (``send()`` and ``send_nowait()`` when no message
is in line). The tests here check that every way puts the same bytes on the wire, and that
the shortcuts step aside while a fragmented message is on its way (RFC 6455 §5.4).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect

from wslearn.aio import WebSocket, serve
from wslearn.aio.heartbeat import Heartbeat
from wslearn.aio.inbox import Inbox
from wslearn.errors import ConnectionClosed
from wslearn.frames import Frame, Opcode, serialize_frame
from wslearn.handshake import Response, build_request, generate_key

TIMEOUT = 20


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


# --- The send path: the shortcuts and the plain way put the same bytes on the wire --------

MESSAGES: list[str | bytes] = ["", "hello", "é" * 70, "x" * 126, "y" * 70_000, b"", b"\x00\xff" * 40_000]


def test_send_send_fragments_and_send_nowait_write_the_same_frames() -> None:
    """send(m) and send_nowait(m) take the shortcut (no message in line); send_fragments([m])
    takes the plain way, in line. A server's frames are not masked (RFC 6455 §5.1),
    so the bytes on the wire are known exactly: each message three times, the same frame."""

    async def handler(ws: WebSocket) -> None:
        for message in MESSAGES:
            await ws.send(message)
            await ws.send_fragments([message])  # type: ignore[list-item]
            ws.send_nowait(message)
        await ws.recv()

    expected = b"".join(
        3 * serialize_frame(Frame(Opcode.TEXT if isinstance(m, str) else Opcode.BINARY, _payload(m)))
        for m in MESSAGES
    )

    async def main() -> bytes:
        async with await serve(handler) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(build_request(f"127.0.0.1:{server.port}", "/", key=generate_key()).serialize())
            head = await reader.readuntil(b"\r\n\r\n")
            parsed = Response.parse(head)
            assert parsed is not None and parsed[0].status == 101
            received = await reader.readexactly(len(expected))
            writer.close()
            return received

    assert run(main()) == expected


def test_a_message_sent_during_a_fragmented_one_goes_after_it() -> None:
    """While a fragmented message waits for the socket between its frames, send() and
    send_nowait() wait in line (no shortcut): the websockets client, which fails the
    connection on any interleaving (§5.4), gets the fragmented message whole, then the others."""
    big = ["a" * 2**23, "b" * 2**23, "c"]  # 16 MiB: more than the socket buffers on loopback hold

    async def handler(ws: WebSocket) -> None:
        fragmented = asyncio.create_task(ws.send_fragments(big))
        await asyncio.sleep(0.05)  # its turn lasts: the client has not read yet
        assert not fragmented.done()
        ws.send_nowait("nowait")
        await ws.send("send")
        await fragmented
        await ws.recv()

    async def main() -> list[str | bytes]:
        server = await serve(handler)
        async with server, ws_connect(server.url, compression=None, max_size=None) as client:
            client.transport.pause_reading()  # the client reads nothing for now: the socket fills
            await asyncio.sleep(0.2)
            client.transport.resume_reading()
            return [await client.recv() for _ in range(3)]

    assert run(main()) == ["".join(big), "nowait", "send"]


def _payload(message: str | bytes) -> bytes:
    return message.encode("utf-8") if isinstance(message, str) else message


# --- Inbox --------------------------------------------------------------------------------


def test_inbox_hands_out_messages_in_order_and_counts_their_size() -> None:
    async def main() -> None:
        inbox = Inbox(asyncio.get_running_loop(), max_messages=10, max_size=None)
        assert len(inbox) == 0 and not inbox
        inbox.put("abc")
        inbox.put(b"12345")
        assert (len(inbox), inbox.size) == (2, 8)
        assert await inbox.get() == "abc"
        assert inbox.size == 5
        assert await inbox.get() == b"12345"
        assert (len(inbox), inbox.size) == (0, 0)

    run(main())


def test_inbox_is_full_by_count_or_by_size() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        by_count = Inbox(loop, max_messages=2, max_size=None)
        by_count.put("a")
        assert not by_count.full()
        by_count.put("b")
        assert by_count.full()
        by_size = Inbox(loop, max_messages=100, max_size=10)
        by_size.put("x" * 9)
        assert not by_size.full()
        by_size.put("y")
        assert by_size.full()
        await by_size.get()
        assert not by_size.full()

    run(main())


def test_get_waits_for_put_and_a_full_inbox_waits_for_get() -> None:
    async def main() -> None:
        inbox = Inbox(asyncio.get_running_loop(), max_messages=1, max_size=None)
        getter = asyncio.create_task(inbox.get())
        await asyncio.sleep(0)
        assert not getter.done()
        assert not inbox.handler_busy()  # it waits in get() with nothing to take
        inbox.put("first")
        assert await getter == "first"
        inbox.put("second")
        assert inbox.full() and inbox.handler_busy()
        room = asyncio.create_task(inbox.wait_for_room())
        await asyncio.sleep(0)
        assert not room.done()
        assert await inbox.get() == "second"
        await asyncio.wait_for(room, 1)

    run(main())


def test_two_getters_are_refused() -> None:
    async def main() -> None:
        inbox = Inbox(asyncio.get_running_loop(), max_messages=1, max_size=None)
        first = asyncio.create_task(inbox.get())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already waiting in recv"):
            await inbox.get()
        inbox.put("x")
        assert await first == "x"

    run(main())


def test_an_ended_inbox_gives_what_it_holds_then_none() -> None:
    async def main() -> None:
        inbox = Inbox(asyncio.get_running_loop(), max_messages=5, max_size=None)
        waiting = asyncio.create_task(inbox.get())
        await asyncio.sleep(0)
        inbox.end()
        assert await waiting is None  # woken: nothing will come
        inbox = Inbox(asyncio.get_running_loop(), max_messages=5, max_size=None)
        inbox.put("last words")
        inbox.end()
        assert await inbox.get() == "last words"
        assert await inbox.get() is None

    run(main())


def test_wake_reader_ends_the_readers_waits() -> None:
    async def main() -> None:
        inbox = Inbox(asyncio.get_running_loop(), max_messages=1, max_size=None)
        inbox.put("x")
        room = asyncio.create_task(inbox.wait_for_room())
        idle = asyncio.create_task(inbox.wait_for_handler())
        await asyncio.sleep(0)
        assert not room.done() and not idle.done()
        inbox.wake_reader()
        await asyncio.wait_for(asyncio.gather(room, idle), 1)
        assert len(inbox) == 1  # nothing was taken

    run(main())


# --- Heartbeat ----------------------------------------------------------------------------


class FakePeer:
    """What the Heartbeat needs from a connection: a way to send a Ping, and to fail."""

    def __init__(self) -> None:
        self.pings: list[bytes] = []
        self.failures: list[str] = []
        self.closed = False

    def send_ping(self, payload: bytes) -> None:
        if self.closed:
            raise ConnectionClosed(1000, "", "local")
        self.pings.append(payload)

    def fail(self, reason: str) -> None:
        self.failures.append(reason)


def heartbeat(peer: FakePeer, interval: float | None = None, timeout: float | None = None) -> Heartbeat:
    loop = asyncio.get_running_loop()
    return Heartbeat(loop, peer.send_ping, peer.fail, interval=interval, timeout=timeout)


def test_ping_ends_with_its_pong_and_the_round_trip_is_kept() -> None:
    async def main() -> None:
        peer = FakePeer()
        beat = heartbeat(peer)
        pong = beat.ping(b"one")
        assert peer.pings == [b"one"]
        with pytest.raises(ValueError, match="already waiting"):
            beat.ping(b"one")
        await asyncio.sleep(0.01)
        rtt = beat.pong_received(b"one")
        assert rtt is not None and rtt >= 0.01
        assert await pong == rtt
        assert list(beat.rtts) == [rtt]

    run(main())


def test_a_pong_ends_every_older_ping_and_an_unasked_one_is_ignored() -> None:
    """RFC 6455 §5.5.3: a peer may answer only the most recent Ping."""

    async def main() -> None:
        peer = FakePeer()
        beat = heartbeat(peer)
        first, second, third = beat.ping(b"1"), beat.ping(b"2"), beat.ping(b"3")
        assert beat.pong_received(b"nobody asked") is None
        assert beat.pong_received(b"2") is not None
        assert first.done() and second.done() and not third.done()
        beat.forget(b"3")  # ping() stopped waiting
        assert beat.pong_received(b"3") is None
        assert len(beat.rtts) == 1

    run(main())


def test_the_keepalive_pings_on_schedule_while_pongs_come_back() -> None:
    async def main() -> None:
        peer = FakePeer()
        beat = heartbeat(peer, interval=0.02, timeout=0.5)
        beat.start()
        for expected in (1, 2, 3):
            while len(peer.pings) < expected:
                await asyncio.sleep(0.005)
            assert beat.pong_received(peer.pings[-1]) is not None
        assert peer.failures == []
        beat.stop(ConnectionClosed(1000, "", "local"))
        count = len(peer.pings)
        await asyncio.sleep(0.08)
        assert len(peer.pings) == count  # stopped: no more keepalives

    run(main())


def test_no_pong_in_time_fails_with_a_reason() -> None:
    async def main() -> None:
        peer = FakePeer()
        beat = heartbeat(peer, interval=0.01, timeout=0.03)
        beat.start()
        while not peer.failures:
            await asyncio.sleep(0.005)
        assert len(peer.pings) == 1
        assert peer.failures == ["no pong within 0.03 s (keepalive ping timeout)"]

    run(main())


def test_stop_fails_the_pings_that_wait() -> None:
    async def main() -> None:
        peer = FakePeer()
        beat = heartbeat(peer)
        pong = beat.ping(b"x")
        closed = ConnectionClosed(1001, "going away", "remote")
        beat.stop(closed)
        with pytest.raises(ConnectionClosed) as raised:
            await pong
        assert raised.value is closed
        peer.closed = True
        beat.start()  # a keepalive after the end: nothing happens
        await asyncio.sleep(0.02)
        assert peer.pings == [b"x"]

    run(main())
