"""The benchmark runs end to end at a tiny size, so it cannot rot.

``python -m bench --quick`` runs every section (servers and clients in their own processes).
No timing is asserted: only that every expected row is there with positive numbers, that the
markdown table shows them with their ratio against websockets, and that nothing failed.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.results import Results, Row, markdown_table
from bench.startup import top_level_imports

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(420)

Key = tuple[str, str, str]


def expected_rows() -> set[Key]:
    """(section, benchmark, implementation) of every row a --quick run must have."""
    rows: set[Key] = set()
    for size in ("125 B", "4 KiB", "64 KiB", "1 MiB", "16 MiB"):
        for impl in ("wslearn", "wslearn (readable loop)", "websockets", "memory copy"):
            rows.add(("masking", f"mask {size}", impl))
    for feed in ("one buffer", "one frame per call"):
        for impl in ("wslearn", "websockets", "wsproto"):
            rows.add(("sans-I/O parsing", f"1,000 × 64 B text frames, {feed}", impl))
    echo = (
        "ping-pong, 64 B text",
        "pipelined, 100 out then 100 in",
        "1 MiB binary echo",
        "server CPU per message, ping-pong",
        "server CPU per message, pipelined",
        "server CPU per 1 MiB message",
    )
    for benchmark in echo:
        for impl in ("wslearn", "websockets", "wsproto"):
            rows.add(("echo", benchmark, impl))
    for impl in ("wslearn", "wslearn (demo ChatRoom)", "websockets", "wsproto"):
        rows.add(("chat fan-out", "one message to 20 chat clients", impl))
        rows.add(("chat fan-out", "server CPU per message to 20 clients", impl))
    for count in (20, 50):
        for impl in ("wslearn", "websockets", "wsproto"):
            rows.add(("memory", f"per idle connection, {count} connections", impl))
    for what in ("import the core (wslearn.protocol)", "import the whole package"):
        for how in ("-X importtime", "wall minus bare python"):
            for impl in ("wslearn", "websockets"):
                rows.add(("start-up", f"{what}, {how}", impl))
    rows.add(("start-up", "background server start + stop", "wslearn"))
    return rows


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, json.loads(out.read_text())


def key(row: dict[str, Any]) -> Key:
    return row["section"], row["benchmark"], row["impl"]


def test_no_section_failed(quick_run: tuple[str, list[dict[str, Any]]]) -> None:
    _, rows = quick_run
    failed = [row for row in rows if row["benchmark"] == "section failed"]
    assert failed == []


def test_every_expected_row_is_there(quick_run: tuple[str, list[dict[str, Any]]]) -> None:
    _, rows = quick_run
    assert expected_rows() <= {key(row) for row in rows}


def test_every_notebook_has_a_row(quick_run: tuple[str, list[dict[str, Any]]]) -> None:
    _, rows = quick_run
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    benchmarks = {row["benchmark"] for row in rows if row["section"] == "start-up"}
    if notebooks:  # --quick executes the first notebook only
        assert f"execute {notebooks[0].name} headless" in benchmarks
    else:
        assert "execute notebooks headless" in benchmarks


def test_numbers_are_positive(quick_run: tuple[str, list[dict[str, Any]]]) -> None:
    _, rows = quick_run
    for row in rows:
        if "skipped in --quick" in row["missing"] or "no notebooks" in row["missing"]:
            continue
        assert row["missing"] == "", key(row)
        assert row["samples"], key(row)
        for sample in row["samples"]:
            assert math.isfinite(sample), key(row)
            if "CPU" in row["benchmark"]:
                # psutil reads CPU time in clock ticks (10 ms): a tiny run may see 0.
                assert sample >= 0, key(row)
            else:
                assert sample > 0, key(row)


def test_ratios_against_websockets(quick_run: tuple[str, list[dict[str, Any]]]) -> None:
    _, rows = quick_run
    for row in rows:
        if row["impl"] == "websockets" and row["median"]:
            assert row["ratio_vs_websockets"] == pytest.approx(1.0), key(row)
    throughput = [
        row for row in rows if row["section"] in ("masking", "sans-I/O parsing") and row["impl"] == "wslearn"
    ]
    assert throughput
    for row in throughput:
        assert row["ratio_vs_websockets"] > 0, key(row)


def test_table_shows_every_row(quick_run: tuple[str, list[dict[str, Any]]]) -> None:
    table, rows = quick_run
    assert "| section | benchmark | implementation | median |" in table
    lines = table.splitlines()
    for row in rows:
        prefix = f"| {row['section']} | {row['benchmark']} | {row['impl']} | "
        assert any(line.startswith(prefix) for line in lines), prefix


def test_goal_column_is_filled(quick_run: tuple[str, list[dict[str, Any]]]) -> None:
    _, rows = quick_run
    goals = {key(row): row["goal_met"] for row in rows if row["goal"]}
    assert ("masking", "mask 64 KiB", "wslearn") in goals
    assert ("echo", "ping-pong, 64 B text", "wslearn") in goals
    assert set(goals.values()) <= {"yes", "**NO**"}


# --- The pure parts of the harness, without running anything ---------------------------


def test_ratio_is_oriented_so_that_more_than_one_is_better() -> None:
    results = Results()
    for impl, rate, latency in (("websockets", 100.0, 2.0), ("wslearn", 150.0, 4.0)):
        results.add(Row("s", "rate", impl, "1/s", True, [rate]))
        results.add(Row("s", "latency", impl, "ms", False, [latency]))
    faster, slower = (row for row in results.rows if row.impl == "wslearn")
    assert results.ratio(faster) == pytest.approx(1.5)
    assert results.ratio(slower) == pytest.approx(0.5)
    assert "| s | rate | wslearn | 150 | 1/s |" in markdown_table(results)


def test_best_sample_depends_on_direction() -> None:
    assert Row("s", "b", "x", "MB/s", True, [3.0, 9.0, 5.0]).best == 9.0
    assert Row("s", "b", "x", "ms", False, [3.0, 9.0, 5.0]).best == 3.0


def test_median_and_spread_of_samples() -> None:
    row = Row("s", "b", "wslearn", "ms", False, [1.0, 3.0, 2.0, 10.0, 2.5])
    assert row.median == 2.5
    assert row.spread == pytest.approx(9.0 / 2 / 2.5)


def test_importtime_reader_keeps_top_level_modules_only() -> None:
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       100 |        100 | site\n"
        "import time:        20 |         20 |   enum\n"
        "import time:       300 |        320 | wslearn.protocol\n"
    )
    assert top_level_imports(stderr) == {"site": 100, "wslearn.protocol": 320}


@pytest.mark.parametrize(
    ("kind", "agreed"),
    [
        ("websockets", "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"),
        ("websockets-rfc7692", "permessage-deflate"),
        ("wslearn", "permessage-deflate"),
    ],
)
def test_compressing_bench_servers_agree_what_the_table_says(kind: str, agreed: str) -> None:
    """The like-for-like row is real: websockets-rfc7692 keeps RFC 7692's 15-bit windows."""
    from bench.procs import server_process
    from wslearn.aio import connect

    async def agreed_extensions(url: str) -> str:
        async with connect(url, compression="deflate", open_timeout=10) as ws:
            await ws.send("hello " * 20)
            assert await asyncio.wait_for(ws.recv(), 10) == "hello " * 20
            return ws.extensions

    with server_process(kind, "echo", lifetime=60, options=["--compression", "deflate"]) as server:
        assert asyncio.run(agreed_extensions(server.url)) == agreed
