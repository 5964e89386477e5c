"""permessage-deflate throughput (RFC 7692): wslearn.deflate beside the websockets extension.

    python -m bench.deflate            # about a minute
    python -m bench.deflate --quick    # a few seconds: checks that it runs

Both sides use the standard library's zlib with its default settings (level 6, memLevel 8,
a 15-bit window), so the work is the same and the ratios show the overhead around zlib.
Each run compresses a sequence of messages with a fresh compressor and context takeover
(message n may refer back to message n-1), and decompresses that same sequence with a fresh
decompressor, one frame per message, under a size limit of 16 MiB. MB/s counts the
*uncompressed* bytes. The implementations are interleaved, each figure is the median of
the repetitions, and "ours / websockets" is the median of the per-repetition ratios
(> 1: wslearn is faster). A printed benchmark, not a test: no number is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from collections.abc import Callable

from websockets.extensions.permessage_deflate import PerMessageDeflate as WsPerMessageDeflate
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode as WsOpcode

from bench.timing import calibrate, time_calls
from wslearn.deflate import DeflateParameters, PerMessageDeflate
from wslearn.frames import Frame, Opcode

LIMIT = 16 * 2**20


def chat_messages(count: int, size: int, seed: int = 1) -> list[bytes]:
    """JSON chat lines of about ``size`` bytes each: the traffic the course's demos send."""
    rnd = random.Random(seed)
    names = ["ada", "grace", "alan", "edsger", "barbara", "ken", "dennis", "margaret"]
    words = [
        "the",
        "frame",
        "is",
        "masked",
        "by",
        "the",
        "client",
        "and",
        "the",
        "server",
        "answers",
        "with",
        "a",
        "pong",
    ]
    messages = []
    for n in range(count):
        text = " ".join(rnd.choice(words) for _ in range(max(1, size // 6)))
        line = json.dumps({"id": n, "user": rnd.choice(names), "text": text})
        messages.append(line.encode()[:size])
    return messages


def noise_messages(count: int, size: int, seed: int = 2) -> list[bytes]:
    """Random bytes: incompressible, so zlib's stored blocks and the copies dominate."""
    rnd = random.Random(seed)
    return [rnd.randbytes(size) for _ in range(count)]


# One "run" = a function that processes the whole sequence once.
Run = Callable[[], object]


def ours_compress(messages: list[bytes]) -> Run:
    def run() -> None:
        sender = PerMessageDeflate(DeflateParameters(), "server")
        for message in messages:
            sender.encode(message)

    return run


def theirs_compress(messages: list[bytes]) -> Run:
    frames = [WsFrame(WsOpcode.BINARY, message) for message in messages]

    def run() -> None:
        sender = WsPerMessageDeflate(False, False, 15, 15)
        for frame in frames:
            sender.encode(frame)

    return run


def ours_decompress(messages: list[bytes]) -> Run:
    sender = PerMessageDeflate(DeflateParameters(), "server")
    frames = [Frame(Opcode.BINARY, sender.encode(m)[0], rsv1=True) for m in messages]

    def run() -> None:
        receiver = PerMessageDeflate(DeflateParameters(), "client", max_size=LIMIT)
        for frame in frames:
            receiver.decode(frame)

    return run


def theirs_decompress(messages: list[bytes]) -> Run:
    sender = WsPerMessageDeflate(False, False, 15, 15)
    frames = [sender.encode(WsFrame(WsOpcode.BINARY, m)) for m in messages]

    def run() -> None:
        receiver = WsPerMessageDeflate(False, False, 15, 15)
        for frame in frames:
            receiver.decode(frame, max_size=LIMIT)

    return run


def measure(ours: Run, theirs: Run, size: int, reps: int, target: float) -> tuple[float, float, float]:
    """(our MB/s, their MB/s, median of the per-repetition ratios), interleaved."""
    iterations = calibrate(ours, target)
    speeds: dict[str, list[float]] = {"ours": [], "theirs": []}
    ratios = []
    for rep in range(reps):
        order = [("ours", ours), ("theirs", theirs)]
        if rep % 2:
            order.reverse()
        seconds = {name: time_calls(run, iterations) for name, run in order}
        for name, elapsed in seconds.items():
            speeds[name].append(size * iterations / elapsed / 1e6)
        ratios.append(seconds["theirs"] / seconds["ours"])
    return statistics.median(speeds["ours"]), statistics.median(speeds["theirs"]), statistics.median(ratios)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 repetitions")
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    reps, target = (2, 0.02) if args.quick else (args.reps, 0.3)
    cases = [
        ("chat, 100 × 200 B", chat_messages(100, 200)),
        ("chat, 20 × 4 KiB", chat_messages(20, 4096)),
        ("chat, 2 × 256 KiB", chat_messages(2, 256 * 1024)),
        ("random, 20 × 4 KiB", noise_messages(20, 4096)),
    ]
    if args.quick:
        cases = [(name, messages[:3]) for name, messages in cases[:2]]
    print("| messages | compressed | direction | wslearn MB/s | websockets MB/s | ours / websockets |")
    print("|---|---|---|---|---|---|")
    for name, messages in cases:
        size = sum(map(len, messages))
        sender = PerMessageDeflate(DeflateParameters(), "server")
        packed = sum(len(sender.encode(m)[0]) for m in messages)
        for direction, ours, theirs in (
            ("compress", ours_compress(messages), theirs_compress(messages)),
            ("decompress", ours_decompress(messages), theirs_decompress(messages)),
        ):
            mine, other, ratio = measure(ours, theirs, size, reps, target)
            print(f"| {name} | {packed / size:.0%} | {direction} | {mine:.1f} | {other:.1f} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
