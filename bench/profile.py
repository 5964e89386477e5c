"""Where the time and the memory go: ``python -m bench.profile WHAT [KIND]``.

parse           cProfile of each sans-I/O parser on 20,000 frames: function calls per frame,
                and the functions that cost most
echo KIND       cProfile of one echo server process (wslearn, websockets, wsproto) under the
                pipelined echo load: CPU per message by source file and by function
pingpong KIND   the same under the ping-pong load (one message in flight at a time)
                (echo and pingpong take --compression deflate: permessage-deflate on both ends)
fanout KIND     the same for a chat server broadcasting to 1,000 raw clients
memory KIND     tracemalloc in one server process: what 1,000 idle connections allocate,
                per connection, by line of code
import          -X importtime of wslearn.protocol: the modules that cost most, by self time

cProfile slows Python code down (more so code with many small calls), so read its numbers
as shares of the total, not as absolute costs.
"""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import tempfile
import time
import tracemalloc
from collections import defaultdict

from bench import parsing
from bench.procs import (
    ROOT,
    ServerProcess,
    expect,
    interactive_client,
    read_line,
    run_client,
    send_line,
    server_process,
)
from bench.startup import python

TOP = 18


def short(filename: str) -> str:
    """site-packages/websockets/protocol.py -> websockets/protocol.py"""
    root = str(ROOT) + "/"
    if filename.startswith(root):
        return filename[len(root) :]
    for marker in ("site-packages/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def print_stats(stats: pstats.Stats, units: int, unit_name: str) -> None:
    """Own time per file and per function, in µs per `unit_name`."""
    raw = stats.stats  # type: ignore[attr-defined]
    by_file: dict[str, float] = defaultdict(float)
    calls = 0
    for (filename, _, _), (_, ncalls, own, _, _) in raw.items():
        by_file[short(filename)] += own
        calls += ncalls
    total = sum(by_file.values())
    print(f"total {total / units * 1e6:.1f} µs and {calls / units:.1f} calls per {unit_name}")
    print(f"\nown time by file, µs per {unit_name}:")
    for filename, own in sorted(by_file.items(), key=lambda item: -item[1])[:TOP]:
        print(f"  {own / units * 1e6:8.2f}  {own / total:5.1%}  {filename}")
    print(f"\nown time by function, µs per {unit_name} (calls per {unit_name}):")
    rows = sorted(raw.items(), key=lambda item: -item[1][2])[:TOP]
    for (filename, line, function), (_, ncalls, own, _, _) in rows:
        where = f"{short(filename)}:{line}({function})"
        print(f"  {own / units * 1e6:8.2f}  ({ncalls / units:5.2f})  {where}")


def profile_parse() -> None:
    import cProfile

    count = 20_000
    frames = [parsing.masked_text_frame(parsing.PAYLOAD) for _ in range(count)]
    for parser in (parsing.wslearn_parser(), parsing.websockets_parser(), parsing.wsproto_parser()):
        if parser.open is None or parser.feed is None:
            print(f"\n== {parser.impl}: {parser.missing}")
            continue
        for label, chunks in (("one buffer", [b"".join(frames)]), ("one frame per call", frames)):
            server, profile = parser.open(), cProfile.Profile()
            profile.enable()
            received = sum(parser.feed(server, chunk) for chunk in chunks)
            profile.disable()
            assert received == count
            print(f"\n== {parser.impl}, {label}")
            print_stats(pstats.Stats(profile), count, "frame")


def profile_server(kind: str, mode: str, drive: str, compression: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        stats_file = os.path.join(folder, "server.prof")
        options = ["--cprofile", stats_file] + (["--compression", compression] if compression else [])
        with server_process(kind, mode, options=options) as server:
            messages = drive_load(server, drive, compression)
        print(f"\n== {kind} server, {drive}" + (f", {compression}" if compression else ""))
        print_stats(pstats.Stats(stats_file), messages, "message")


def drive_load(server: ServerProcess, drive: str, compression: str | None = None) -> int:
    """Run the client load; return how many messages the server handled (sent, for fan-out)."""
    target = {"impl": server.kind, "url": server.url, "pid": server.pid}
    client = {"big_size": 1, "targets": [target], "compression": compression}
    if drive == "pipelined echo":
        cfg = {"reps": 1, "pingpong": 20, "batch": 1000, "rounds": 20, "big_count": 1}
        run_client("echo", {**cfg, **client}, timeout=300)
        return 20 + 20_000 + 1 + 20  # the warm-up, the batches, the big one, the echo warm-up
    if drive == "ping-pong echo":
        cfg = {"reps": 1, "pingpong": 10_000, "batch": 1, "rounds": 1, "big_count": 1}
        run_client("echo", {**cfg, **client}, timeout=300)
        return 20 + 10_000 + 1 + 1
    fanout = {"clients": 1000, "warmup": 1, "rounds": 20, "url": server.url, "pid": server.pid}
    run_client("fanout", fanout, timeout=300)
    return 21 * 1000


def profile_memory(kind: str, count: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as folder:
        options = ["--snapshots", folder]
        with server_process(kind, "idle", options=options) as server:
            args = {"url": server.url, "warm": 20, "n": count, "timeout": 300}
            with interactive_client("idle", args) as client:
                expect(client, "WARM", timeout=60)
                snapshot(server)
                send_line(client, "open")
                expect(client, "CONNECTED", timeout=240)
                time.sleep(1)
                snapshot(server)
        before = tracemalloc.Snapshot.load(os.path.join(folder, "1.snapshot"))
        after = tracemalloc.Snapshot.load(os.path.join(folder, "2.snapshot"))
    print_memory(kind, before, after, count)


def snapshot(server: ServerProcess) -> None:
    os.kill(server.pid, signal.SIGUSR1)
    assert server.proc.stdout is not None
    line = read_line(server.proc.stdout, timeout=60)
    assert line == "SNAPSHOT", line


def print_memory(kind: str, before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, count: int) -> None:
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    before, after = before.filter_traces(ignore), after.filter_traces(ignore)
    total = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    print(f"\n== {kind} server: Python allocations per idle connection ({count:,} connections)")
    print(f"total {total / count / 1024:.2f} KiB per connection (tracemalloc)")
    print("\nby file, bytes and blocks per connection:")
    for stat in after.compare_to(before, "filename")[:TOP]:
        where = short(stat.traceback[0].filename)
        print(f"  {stat.size_diff / count:8.0f} B {stat.count_diff / count:6.1f}  {where}")
    print("\nby line, bytes and blocks per connection:")
    for stat in after.compare_to(before, "lineno")[:TOP]:
        frame = stat.traceback[0]
        where = f"{short(frame.filename)}:{frame.lineno}"
        print(f"  {stat.size_diff / count:8.0f} B {stat.count_diff / count:6.1f}  {where}")


def profile_import(runs: int = 10) -> None:
    """The best of `runs` fresh interpreters for each module: the least noisy figure."""
    best: dict[str, tuple[int, int]] = {}
    for _ in range(runs):
        stderr = python("import wslearn.protocol", "-X", "importtime").stderr
        for line in stderr.splitlines():
            if not line.startswith("import time:") or "[us]" in line:
                continue
            own_us, cumulative_us, name = line.removeprefix("import time:").split("|")
            pair = (int(own_us), int(cumulative_us))
            best[name.rstrip()] = min(best.get(name.rstrip(), pair), pair)
    print(f"\n== import wslearn.protocol: self and cumulative µs (best of {runs}), biggest self first")
    for name, (own, cumulative) in sorted(best.items(), key=lambda item: -item[1][0])[:TOP]:
        print(f"  {own:7d} {cumulative:7d}  {name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("what", choices=["parse", "echo", "pingpong", "fanout", "memory", "import"])
    parser.add_argument("kind", nargs="?", default="wslearn")
    parser.add_argument("--compression", choices=["deflate"], help="echo, pingpong: permessage-deflate")
    args = parser.parse_args(argv)
    if args.what == "parse":
        profile_parse()
    elif args.what == "echo":
        profile_server(args.kind, "echo", "pipelined echo", args.compression)
    elif args.what == "pingpong":
        profile_server(args.kind, "echo", "ping-pong echo", args.compression)
    elif args.what == "fanout":
        profile_server(args.kind, "chat", "fan-out to 1,000 clients")
    elif args.what == "memory":
        profile_memory(args.kind)
    else:
        profile_import()


if __name__ == "__main__":
    main()
