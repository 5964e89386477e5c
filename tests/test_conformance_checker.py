"""The conformance checker: wslearn's servers earn OK everywhere, and the checker can fail.

The checker is only worth something if it catches bugs, so besides grading wslearn's demo
server (every case must be OK) it grades a careless echo server (it must find what that
server gets wrong), a server that hangs and one that is not there (the run must stay
bounded). The card of the websockets library's server is printed, not asserted.
"""

from __future__ import annotations

import asyncio
import http.server
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import echo, run
from websockets.asyncio.server import serve as ws_serve

from wslearn.aio import serve
from wslearn.conformance import Grade, Options, Report, all_cases, check, check_main, run_checks
from wslearn.conformance.model import Case, ok
from wslearn.conformance.naive import port_of, serve_naive
from wslearn.conformance.report import Result
from wslearn.demo import demo_server
from wslearn.notebook.runner import BackgroundServer

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) non-strict$")


def show(report: Report) -> str:
    return report.to_text(all_cases=False)


@pytest.fixture(scope="module")
def demo() -> Any:
    """The demo server in a background thread, as the notebooks run it."""

    async def starter() -> Any:
        return await serve(**demo_server().serve_kwargs(), host="127.0.0.1", port=0)

    with BackgroundServer(starter, name="conformance demo") as server:
        yield server


@pytest.fixture(scope="module")
def naive() -> Any:
    """The careless echo server (wslearn.conformance.naive) in a background thread."""
    with BackgroundServer(serve_naive, name="naive echo") as server:
        yield server


def test_demo_echo_route_earns_ok_in_every_case(demo: BackgroundServer) -> None:
    report = check(demo.url + "/ws")
    print(f"\n{show(report)}\n({report.seconds:.1f} s)")
    assert len(report.results) == len(all_cases()) > 150
    assert report.failed == 0, show(report)
    assert report.non_strict == 0, show(report)
    categories = set(report.categories())
    assert categories == {
        "handshake",
        "framing",
        "ping/pong",
        "reserved bits",
        "reserved opcodes",
        "fragmentation",
        "UTF-8",
        "closing",
        "limits",
    }


def test_plain_wslearn_echo_server_earns_ok_in_every_case() -> None:
    async def main() -> Report:
        async with await serve(echo) as server:
            return await run_checks(server.url + "/")

    report = run(main(), timeout=60)
    assert (report.failed, report.non_strict) == (0, 0), show(report)


def test_websockets_library_card_is_printed() -> None:
    """Stated, not asserted: the README shows this card next to wslearn's."""

    async def main() -> Report:
        async with ws_serve(echo, "127.0.0.1", 0, max_size=2**20, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            return await run_checks(f"ws://127.0.0.1:{port}/")

    report = run(main(), timeout=60)
    print(f"\nwebsockets {__import__('websockets').__version__} echo server:\n{show(report)}")
    assert len(report.results) == len(all_cases())  # every case ran to a verdict


# Cases a server that trusts every byte must fail (it echoes whatever comes in).
CARELESS = [
    "reserved bits.rsv1-text",
    "reserved opcodes.opcode-3",
    "framing.unmasked-client-frame",
    "ping/pong.payload-126",
    "fragmentation.continuation-first",
    "fragmentation.fragmented-ping",
    "UTF-8.surrogate-high",
    "UTF-8.overlong-nul",
    "closing.invalid-code-1005",
    "closing.one-byte-payload",
    "limits.one-over",
    "handshake.no-key",
    "handshake.version-8",
]


def test_careless_server_fails_where_it_trusts_the_client(naive: BackgroundServer) -> None:
    report = check(naive.url + "/", options=Options(answer_timeout=0.5, fail_fast_window=0.2))
    print(f"\n{show(report)}")
    for case_id in CARELESS:
        result = report[case_id]
        assert result.grade is Grade.FAILED, result.detail
        assert "RFC 6455 §" in result.detail and "requires" in result.detail
    # What it does right is still OK: the checker does not fail everything.
    for case_id in ["framing.binary-65536", "framing.chopped-bytes", "ping/pong.text-125"]:
        assert report[case_id].grade is Grade.OK, report[case_id].detail


def test_a_hanging_server_cannot_hang_the_run() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(-1)  # read until the client leaves, never answer
        finally:
            writer.close()  # Server.wait_closed() waits for every connection (Python 3.12.1)

    async def main() -> tuple[Report, float]:
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        async with server:
            options = Options(answer_timeout=0.3, case_timeout=1.0)
            started = time.perf_counter()
            only = ["handshake.valid", "handshake.no-key", "framing.text-0", "closing.empty", "limits"]
            report = await run_checks(f"ws://127.0.0.1:{port_of(server)}/", options=options, only=only)
            return report, time.perf_counter() - started

    report, seconds = run(main(), timeout=60)
    print(f"\n{show(report)}\n{seconds:.2f} s")
    assert len(report.results) == 8
    assert report.failed == 8
    assert all("no HTTP answer within 0.3 s" in r.detail for r in report.results), show(report)
    assert seconds < 8 * 1.0 + 2


def test_a_server_that_is_gone_fails_every_case_quickly() -> None:
    async def main() -> Report:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = port_of(server)
        server.close()
        await server.wait_closed()
        return await run_checks(f"ws://127.0.0.1:{port}/", only=["framing", "closing"])

    started = time.perf_counter()
    report = run(main(), timeout=60)
    assert report.results and report.failed == len(report.results)
    assert "could not be reached" in report.results[0].detail
    assert time.perf_counter() - started < 10


def test_check_main_ends_with_the_summary_and_exit_status(
    demo: BackgroundServer, naive: BackgroundServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_main([demo.url + "/ws", "--only", "framing", "--only", "closing"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    match = SUMMARY.match(last)
    assert match and int(match[1]) > 50 and match[2] == "0" and match[3] == "0", last

    argv = [naive.url + "/", "--only", "reserved", "--timeout", "0.5", "--problems"]
    assert check_main(argv) == 1
    out = capsys.readouterr().out.strip().splitlines()
    match = SUMMARY.match(out[-1])
    assert match and int(match[2]) > 0, out[-1]
    assert any(line.startswith("FAILED") for line in out)
    assert not any(line.startswith("OK ") for line in out)  # --problems hides OK cases


def test_check_main_refuses_what_is_not_a_websocket_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main(["http://127.0.0.1:1/"]) == 2
    assert "ws://" in capsys.readouterr().err
    assert check_main([]) == 2


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello, this is plain HTTP\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the test reads stderr


@pytest.fixture(scope="module")
def plain_http() -> Iterator[str]:
    """A plain HTTP server (no WebSocket at all); yields its ws:// URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("where", ["closed port", "wrong path", "wss to a plain server", "plain HTTP"])
def test_check_main_says_once_that_no_websocket_server_answers(
    where: str, demo: BackgroundServer, plain_http: str, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = {
        "closed port": "ws://127.0.0.1:1/",
        "wrong path": demo.url + "/nope",
        "wss to a plain server": demo.url.replace("ws://", "wss://") + "/ws",
        "plain HTTP": plain_http,
    }
    started = time.perf_counter()
    assert check_main([urls[where], "--timeout", "1"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"error: no WebSocket server at {urls[where]}: the server "), err
    assert time.perf_counter() - started < 5


def test_check_main_refuses_an_only_that_matches_no_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main(["ws://127.0.0.1:1/", "--only", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "no case matches --only nosuch" in err and "UTF-8" in err
    assert check_main(["ws://127.0.0.1:1/", "--list", "--only", "nosuch"]) == 2


def test_check_main_lists_the_cases(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main(["ws://127.0.0.1:1/", "--list", "--only", "UTF-8"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len([c for c in all_cases() if c.category == "UTF-8"])
    assert all(line.startswith("UTF-8.") and "§" in line for line in lines)


def test_every_case_names_its_section_and_requirement() -> None:
    cases = all_cases()
    assert len({case.id for case in cases}) == len(cases)
    for case in cases:
        assert re.fullmatch(r"§\d+(\.\d+)*", case.section), case.id
        assert case.title and case.requires, case.id


def test_the_limit_is_a_parameter() -> None:
    small = {c.id: c for c in all_cases(Options(max_message_size=1000))}
    assert "1000 bytes" in small["limits.at-limit"].title
    assert "framing.binary-65536" not in small  # bigger than the stated limit
    assert not [c for c in all_cases(Options(max_message_size=None)) if c.category == "limits"]


def test_the_html_view_escapes_everything() -> None:
    async def nothing(_: object) -> Any:
        return ok("")

    case = Case("x.<b>", "<script>", "§5.2", "<img src=x onerror=alert(1)>", "<i>", nothing)
    verdict = ok("echoed '<script>alert(1)</script>' & more")
    report = Report("ws://h/<path>", [Result(case, verdict, 0.1)])
    page = report._repr_html_()
    assert "<script>" not in page and "<img" not in page and "x.<b>" not in page
    assert "x.&lt;b&gt;" in page and "ws://h/&lt;path&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "1 passed, 0 failed, 0 non-strict" in page
    assert "<table>" in page  # the per-category summary and the case table
    assert report.to_text().splitlines()[-1] == "1 passed, 0 failed, 0 non-strict"
