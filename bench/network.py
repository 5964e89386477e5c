"""Benchmarks over loopback: echo, chat fan-out, memory per idle connection.

Each server runs in its own process (bench.servers), the clients in another (bench.clients);
this process only starts them, reads the numbers and stops them (by PID, always).
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import psutil

from bench.procs import (
    ServerProcess,
    expect,
    interactive_client,
    run_client,
    send_line,
    server_process,
)
from bench.results import Goal, Results, Row, cheaper_than_reference, median_at_most, ratio_at_least
from bench.timing import optional_module

IMPLS = ("wslearn", "wslearn-demo", "websockets", "wsproto")
# What `python -m wslearn serve` must reach, with its event log on (the bare server: 1.0).
DEMO_ECHO_GOALS: dict[str, Goal] = {
    "pingpong_rate": ratio_at_least(0.95),
    "pipelined_rate": ratio_at_least(0.95),
    "big_mbps": ratio_at_least(0.95),
    "pingpong_cpu_us": cheaper_than_reference(),
    "pipelined_cpu_us": cheaper_than_reference(),
}


def missing_reason(impl: str) -> str:
    """'' when the implementation can run, else why not."""
    if impl.startswith("wslearn"):
        return optional_module("wslearn.aio.server")[1]
    return ""


def shorten(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rotate(items: list[str], by: int) -> list[str]:
    by %= len(items) or 1
    return items[by:] + items[:by]


# --- echo -------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    key: str
    benchmark: str
    unit: str
    higher_is_better: bool
    goal: Goal | None


ECHO_METRICS = (
    Metric("pingpong_rate", "ping-pong, 64 B text", "round trips/s", True, ratio_at_least(1.0)),
    Metric(
        "pipelined_rate",
        "pipelined, {batch:,} out then {batch:,} in",
        "messages/s",
        True,
        ratio_at_least(1.0),
    ),
    Metric("big_mbps", "1 MiB binary echo", "MB/s", True, ratio_at_least(1.0)),
    Metric("pingpong_cpu_us", "server CPU per message, ping-pong", "µs", False, cheaper_than_reference()),
    Metric("pipelined_cpu_us", "server CPU per message, pipelined", "µs", False, cheaper_than_reference()),
    Metric("big_cpu_ms", "server CPU per 1 MiB message", "ms", False, None),
)


def echo_config(quick: bool, reps: int) -> dict[str, int]:
    if quick:
        return {"reps": reps, "pingpong": 200, "batch": 100, "rounds": 2, "big_count": 2, "big_size": 2**20}
    return {
        "reps": reps,
        "pingpong": 10_000,
        "batch": 1_000,
        "rounds": 20,
        "big_count": 100,
        "big_size": 2**20,
    }


def run_echo(results: Results, *, quick: bool, reps: int, compression: str | None = None) -> None:
    """The echo rows; with ``compression="deflate"`` every server and the client negotiate
    permessage-deflate (RFC 7692), the 1 MiB message is compressible chat-like JSON, and the
    rows are a section of their own, "echo, permessage-deflate" (no goals: a measurement)."""
    cfg: dict[str, Any] = {**echo_config(quick, reps), "compression": compression}
    section = "echo, permessage-deflate" if compression else "echo"
    impls = [impl for impl in IMPLS if not (compression and impl == "wsproto")]
    if compression:  # websockets again, doing the same zlib work as wslearn (bench.servers)
        impls.append("websockets-rfc7692")
    rows = {
        (metric.key, impl): results.add(
            Row(section, metric.benchmark.format(**cfg), impl, metric.unit, metric.higher_is_better),
            None
            if compression
            else metric.goal
            if impl == "wslearn"
            else DEMO_ECHO_GOALS.get(metric.key)
            if impl == "wslearn-demo"
            else None,
        )
        for metric in ECHO_METRICS
        for impl in impls
    }
    options = ["--compression", compression] if compression else []
    with ExitStack() as stack:
        targets = []
        for impl in impls:
            why = missing_reason(impl)
            if not why:
                try:
                    server = stack.enter_context(server_process(impl, "echo", options=options))
                    targets.append({"impl": impl, "url": server.url, "pid": server.pid})
                except RuntimeError as exc:
                    why = shorten(str(exc))
            for metric in ECHO_METRICS:
                rows[metric.key, impl].missing = why
        timeout = 60 + reps * len(targets) * (5 if quick else 120)
        samples = run_client("echo", {**cfg, "targets": targets}, timeout)
    for (key, impl), row in rows.items():
        row.samples = samples.get(impl, {}).get(key, [])


# --- chat fan-out -----------------------------------------------------------------


# Fan-out: table label -> server kind (bench.servers).
FANOUT_IMPLS = {
    "wslearn": "wslearn",
    "wslearn (demo ChatRoom)": "wslearn-chatroom",
    "websockets": "websockets",
    "wsproto": "wsproto",
}


def run_fanout(results: Results, *, quick: bool, reps: int) -> None:
    clients = 20 if quick else 1_000
    cfg = {"clients": clients, "warmup": 1 if quick else 3, "rounds": 3 if quick else 20}
    benchmark = f"one message to {clients:,} chat clients"
    rows, cpu_rows = {}, {}
    for impl, kind in FANOUT_IMPLS.items():
        goal = ratio_at_least(1.0) if impl.startswith("wslearn") else None
        why = missing_reason(kind)
        if kind == "wslearn-chatroom" and not why:
            why = optional_module("wslearn.demo.chat")[1]
        row = Row("chat fan-out", benchmark, impl, "ms", False, missing=why)
        rows[impl] = results.add(row, goal)
    for impl in FANOUT_IMPLS:
        cpu = Row(
            "chat fan-out",
            f"server CPU per message to {clients:,} clients",
            impl,
            "ms",
            False,
            missing=rows[impl].missing,
        )
        cpu_rows[impl] = results.add(cpu)
    runnable = [impl for impl in FANOUT_IMPLS if not rows[impl].missing]
    for rep in range(min(reps, 5)):  # each repetition is 20 rounds: samples enough
        for impl in rotate(runnable, rep):
            with server_process(FANOUT_IMPLS[impl], "chat") as server:
                args = {**cfg, "url": server.url, "pid": server.pid}
                out = run_client("fanout", args, timeout=240)
            rows[impl].samples.extend(seconds * 1e3 for seconds in out["seconds"])
            cpu_rows[impl].samples.extend(seconds * 1e3 for seconds in out["server_cpu"])


# --- memory per idle connection ---------------------------------------------------


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def idle_connection_kib(server: ServerProcess, count: int, settle: float) -> float:
    """Server RSS growth per connection while `count` idle connections are open, in KiB."""
    warm = 20
    with interactive_client("idle", {"url": server.url, "warm": warm, "n": count, "timeout": 300}) as client:
        expect(client, "WARM", timeout=60)
        time.sleep(settle)
        before = rss(server.pid)
        send_line(client, "open")
        expect(client, "CONNECTED", timeout=240)
        time.sleep(settle)
        after = rss(server.pid)
    return (after - before) / count / 1024


def run_memory(results: Results, *, quick: bool, reps: int) -> None:
    counts = (20, 50) if quick else (1_000, 5_000)
    settle = 0.2 if quick else 1.0
    for count in counts:
        rows = {}
        for impl in IMPLS:
            goal = median_at_most(10, "KiB") if impl.startswith("wslearn") else None
            row = Row(
                "memory",
                f"per idle connection, {count:,} connections",
                impl,
                "KiB",
                False,
                missing=missing_reason(impl),
            )
            rows[impl] = results.add(row, goal)
        runnable = [impl for impl in IMPLS if not rows[impl].missing]
        for rep in range(min(reps, 3)):
            for impl in rotate(runnable, rep):
                with server_process(impl, "idle") as server:
                    rows[impl].samples.append(idle_connection_kib(server, count, settle))
