"""Longer fuzzing runs than the test suite affords, for manual use.

    python scripts/fuzz.py                          # every target, 60 s each
    python scripts/fuzz.py --target frames --seconds 600 --seed 7
    python scripts/fuzz.py --target server --url ws://127.0.0.1:8765/ws

Targets:
  frames     mutated frame streams into wslearn.frames.parse_frame, whole and in pieces
  handshake  damaged upgrade requests, in pieces, into a server Protocol
  protocol   hostile bytes into an open server Protocol; honest conversations in pieces
  server     random frames against a live server (the demo server in-process if no --url),
             then a check that a fresh client is still served

Each input comes from random.Random(seed + iteration): a failure prints the seed and
iteration that reproduce it, and the exit status is 1. Bounded: every target stops after
--seconds, every network wait has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import random
import sys
import time
from collections.abc import Callable

from wslearn.errors import ConnectionClosed, HandshakeError, ProtocolError
from wslearn.frames import Frame, Opcode, parse_frame, serialize_frame
from wslearn.handshake import Response
from wslearn.protocol import (
    CloseReceived,
    ConnectionFailed,
    ConnectionLost,
    HandshakeRejected,
    Message,
    Ping,
    Pong,
    Protocol,
    RequestReceived,
    Role,
    State,
)

Stats = collections.Counter[str]


# --- Random inputs ---------------------------------------------------------------------


def random_frame(rng: random.Random, masked: bool = True) -> bytes:
    opcode = rng.choice([0, 1, 2, 8, 9, 10, rng.randrange(16)])
    size = rng.choice([0, 1, 2, 125, 126, 127, rng.randrange(300), rng.randrange(70000)])
    payload = rng.randbytes(size) if rng.random() < 0.5 else "κόσμε✓".encode() * (size // 13 + 1)
    frame = Frame(
        Opcode(opcode) if opcode in Opcode._value2member_map_ else opcode,  # type: ignore[arg-type]
        payload[:size],
        fin=rng.random() < 0.8,
        rsv1=rng.random() < 0.05,
        masking_key=rng.randbytes(4) if masked else None,
    )
    return serialize_frame(frame)


def mutate(rng: random.Random, data: bytes) -> bytes:
    damaged = bytearray(data)
    for _ in range(rng.choice([0, 0, 1, 2, 5])):
        if damaged:
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
    if rng.random() < 0.1:
        at = rng.randrange(len(damaged) + 1)
        damaged[at:at] = rng.randbytes(rng.randrange(12))
    return bytes(damaged)


def pieces(rng: random.Random, data: bytes) -> list[bytes]:
    cuts = sorted({0, len(data), *(rng.randrange(len(data) + 1) for _ in range(rng.randrange(12)))})
    return [data[a:b] for a, b in itertools.pairwise(cuts)]


def damaged_request(rng: random.Random) -> bytes:
    headers = [
        ["Host", "example.com"],
        ["Upgrade", "websocket"],
        ["Connection", "keep-alive, Upgrade"],
        ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
        ["Sec-WebSocket-Version", "13"],
    ]
    for _ in range(rng.randrange(4)):
        header = rng.choice(headers)
        header[rng.randrange(2)] = rng.choice(["", " ", "13", "8", "websocket", "x" * 30, "\x00", "é"])
    if rng.random() < 0.3:
        headers.append(list(rng.choice(headers)))
    method = rng.choice(["GET", "GET", "POST", "G E T", ""])
    version = rng.choice(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/9", "HTP/1.1"])
    text = f"{method} /ws {version}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n"
    return mutate(rng, text.encode("latin-1", "replace"))


# --- Offline targets ---------------------------------------------------------------------


def parse_stream(chunks: list[bytes], limit: int | None) -> list[object]:
    buffer, results = bytearray(), list[object]()
    for chunk in chunks:
        buffer += chunk
        while True:
            try:
                parsed = parse_frame(buffer, max_payload=limit)
            except ProtocolError as error:
                assert error.close_code in (1002, 1009), error
                return [*results, error.close_code]
            if parsed is None:
                break
            results.append(parsed[0])
            del buffer[: parsed[1]]
    return results


def fuzz_frames(rng: random.Random, stats: Stats) -> None:
    data = mutate(rng, b"".join(random_frame(rng) for _ in range(rng.randrange(1, 6))))
    limit = rng.choice([None, 125, 65536])
    whole = parse_stream([data], limit)
    assert parse_stream(pieces(rng, data), limit) == whole, "the pieces changed the result"
    stats[f"error {whole[-1]}" if whole and isinstance(whole[-1], int) else "frames"] += 1


def fuzz_handshake(rng: random.Random, stats: Stats) -> None:
    data = damaged_request(rng)
    decisions: list[int | str] = []
    for chunks in ([data], pieces(rng, data)):
        server = Protocol(Role.SERVER)
        events: list[object] = []
        for chunk in chunks:
            server.receive_data(chunk)
            events += server.events_received()
        assert all(isinstance(e, RequestReceived | HandshakeRejected) for e in events), events
        assert len(events) <= 1
        answer = server.data_to_send()
        if events and isinstance(events[0], HandshakeRejected):
            status = events[0].error.status
            assert status in (400, 403, 405, 426, 431, 505), status
            parsed = Response.parse(answer)
            assert parsed is not None and parsed[0].status == status
            decisions.append(status)
        else:
            decisions.append("upgrade" if events else "need more")
    assert decisions[0] == decisions[1], decisions
    stats[str(decisions[0])] += 1


def opened(max_message_size: int = 65536) -> tuple[Protocol, Protocol]:
    client, server = Protocol(Role.CLIENT), Protocol(Role.SERVER, max_message_size=max_message_size)
    client.connect("example.com", "/ws")
    server.receive_data(client.data_to_send())
    server.events_received()
    server.accept()
    client.receive_data(server.data_to_send())
    client.events_received()
    return client, server


KNOWN = (Message, Ping, Pong, CloseReceived, ConnectionFailed, ConnectionLost)


def fuzz_protocol(rng: random.Random, stats: Stats) -> None:
    # Hostile bytes: only known events, failures with documented codes, valid frames out.
    _, server = opened()
    data = mutate(rng, b"".join(random_frame(rng) for _ in range(rng.randrange(1, 6))))
    for chunk in pieces(rng, data):
        server.receive_data(chunk)
    events = server.events_received()
    assert all(isinstance(e, KNOWN) for e in events), events
    for event in events:
        if isinstance(event, ConnectionFailed):
            assert event.code in (1002, 1007, 1009), event
            stats[f"failed {event.code}"] += 1
    parse_stream([server.data_to_send()], None)
    # An honest conversation in random pieces: every message arrives, in order.
    client, server = opened()
    sent: list[str | bytes] = []
    for _ in range(rng.randrange(1, 8)):
        if rng.random() < 0.5:
            text = rng.choice(["", "hello", "κόσμε" * rng.randrange(50)])
            client.send_text(text)
            sent.append(text)
        else:
            data = rng.randbytes(rng.randrange(300))
            client.send_binary(data)
            sent.append(data)
        if rng.random() < 0.3:
            client.send_ping(rng.randbytes(rng.randrange(126)))
    for chunk in pieces(rng, client.data_to_send()):
        server.receive_data(chunk)
    got = [e.data for e in server.events_received() if isinstance(e, Message)]
    assert got == sent, (got, sent)
    assert server.state is State.OPEN
    stats["conversations"] += 1


# --- The live target -----------------------------------------------------------------------


async def fuzz_server_once(url: str, rng: random.Random, stats: Stats) -> None:
    from wslearn.conformance.model import Options
    from wslearn.conformance.server.peer import Closed, Dropped, Tester
    from wslearn.conformance.server.peer import Message as Echo
    from wslearn.conformance.wire import Target

    tester = Tester(Target.from_url(url), Options(answer_timeout=1.0))
    try:
        peer = await tester.connect()
        data = mutate(rng, b"".join(random_frame(rng) for _ in range(rng.randrange(1, 4))))
        for chunk in pieces(rng, data):
            if not await peer.send(chunk):
                break
        for _ in range(10):
            event = await peer.next_event(0.3)
            if not isinstance(event, Echo):
                break
        name = f"close {event.code}" if isinstance(event, Closed) else type(event).__name__.lower()
        stats["dropped" if isinstance(event, Dropped) else name] += 1
    finally:
        tester.close_all()
    # Whatever happened, a fresh client must be served.
    tester = Tester(Target.from_url(url), Options(answer_timeout=2.0))
    try:
        peer = await tester.connect()
        await peer.send_frame(1, b"still serving?")
        event = await peer.next_event()
        assert isinstance(event, Echo) and event.data == b"still serving?", f"after that: {event}"
    finally:
        tester.close_all()


async def run_server_target(url: str | None, seconds: float, seed: int) -> int:
    if url is None:
        from wslearn.aio import serve
        from wslearn.demo import demo_server

        async with await serve(**demo_server().serve_kwargs(), host="127.0.0.1", port=0) as server:
            return await run_server_target(server.url + "/ws", seconds, seed)
    stats: Stats = collections.Counter()
    deadline = time.monotonic() + seconds
    for iteration in itertools.count():
        if time.monotonic() > deadline:
            break
        try:
            await asyncio.wait_for(fuzz_server_once(url, random.Random(seed + iteration), stats), 10)
        except (AssertionError, TimeoutError, ConnectionClosed) as error:
            print(f"server: FAILED at seed {seed} iteration {iteration}: {error!r}")
            return 1
    report("server", stats, iteration)
    return 0


# --- Running --------------------------------------------------------------------------------

OFFLINE: dict[str, Callable[[random.Random, Stats], None]] = {
    "frames": fuzz_frames,
    "handshake": fuzz_handshake,
    "protocol": fuzz_protocol,
}


def report(name: str, stats: Stats, iterations: int) -> None:
    top = ", ".join(f"{key}: {count}" for key, count in stats.most_common(8))
    print(f"{name}: {iterations} inputs, no failure ({top})")


def run_offline(name: str, seconds: float, seed: int) -> int:
    target, stats = OFFLINE[name], collections.Counter[str]()
    deadline = time.monotonic() + seconds
    for iteration in itertools.count():
        if time.monotonic() > deadline:
            report(name, stats, iteration)
            return 0
        try:
            target(random.Random(seed + iteration), stats)
        except (AssertionError, HandshakeError, ProtocolError, ValueError, RuntimeError) as error:
            print(f"{name}: FAILED at seed {seed} iteration {iteration}: {error!r}")
            return 1
    return 0  # unreachable: itertools.count() never ends


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=[*OFFLINE, "server", "all"], default="all")
    parser.add_argument("--seconds", type=float, default=60.0, help="per target (default 60)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--url", help="a live echo server for the server target")
    args = parser.parse_args(argv)
    print(f"seed {args.seed}")
    names = [*OFFLINE, "server"] if args.target == "all" else [args.target]
    for name in names:
        if name == "server":
            status = asyncio.run(run_server_target(args.url, args.seconds, args.seed))
        else:
            status = run_offline(name, args.seconds, args.seed)
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
