"""The permessage-deflate cases of the checker (RFC 7692): they pass what is right and fail what is not.

wslearn's server and the websockets server, both compressing, earn OK in every case; a server
that does not compress fails them (it was said to compress); a compressing server without a
size limit fails the bomb; and without ``Options.compression`` the cases are not run at all.
"""

from __future__ import annotations

from conftest import echo, run
from websockets.asyncio.server import serve as ws_serve

from wslearn.aio import serve
from wslearn.conformance import Grade, Options, Report, all_cases, check_main, run_checks

COMPRESSING = Options(compression=True)


def show(report: Report) -> str:
    return report.to_text(all_cases=False)


def deflate_cases(options: Options = COMPRESSING) -> list[str]:
    return [case.id for case in all_cases(options) if case.id.startswith("deflate.")]


def test_the_cases_run_only_when_asked() -> None:
    assert deflate_cases(Options()) == []
    ids = deflate_cases()
    assert len(ids) == 19
    assert {"deflate.violations.rsv1-continuation", "deflate.violations.bomb"} <= set(ids)
    assert "deflate.violations.bomb" not in deflate_cases(Options(compression=True, max_message_size=None))
    for case in all_cases(COMPRESSING):
        if case.id.startswith("deflate."):
            assert case.section.startswith("RFC ") and case.requires, case.id


def test_wslearn_compressing_server_earns_ok_in_every_case() -> None:
    async def main() -> Report:
        async with await serve(echo, compression="deflate") as server:
            return await run_checks(server.url, options=COMPRESSING, only=["deflate"])

    report = run(main(), timeout=60)
    assert len(report.results) == 19
    assert (report.failed, report.non_strict) == (0, 0), show(report)


def test_the_rest_of_the_card_still_passes_on_a_compressing_server() -> None:
    # The other cases never offer the extension: RSV1 must still fail there (§5.2).
    async def main() -> Report:
        async with await serve(echo, compression="deflate") as server:
            return await run_checks(server.url, options=COMPRESSING, only=["reserved", "framing", "limits"])

    report = run(main(), timeout=90)
    assert report.results and (report.failed, report.non_strict) == (0, 0), show(report)


def test_websockets_compressing_server_earns_ok_in_every_case() -> None:
    async def main() -> Report:
        async with ws_serve(echo, "127.0.0.1", 0, compression="deflate") as server:
            port = server.sockets[0].getsockname()[1]
            return await run_checks(f"ws://127.0.0.1:{port}/", options=COMPRESSING, only=["deflate"])

    report = run(main(), timeout=60)
    assert (report.failed, report.non_strict) == (0, 0), show(report)


def test_a_server_that_does_not_compress_fails_where_it_must_accept() -> None:
    async def main() -> Report:
        async with await serve(echo) as server:
            return await run_checks(server.url, options=COMPRESSING, only=["deflate"])

    report = run(main(), timeout=60)
    grades = {result.case.id: result.grade for result in report.results}
    # Declining invalid offers and serving a client that offers nothing: still right.
    passed = {
        "deflate.negotiation.no-offer",
        "deflate.negotiation.unknown-parameter",
        "deflate.negotiation.bad-window-bits",
        "deflate.negotiation.parameter-twice",
    }
    assert {case for case, grade in grades.items() if grade is Grade.OK} == passed, show(report)
    # Declining a valid offer that carries a parameter is allowed, but not ideal.
    assert grades["deflate.negotiation.server-max-window-bits"] is Grade.NON_STRICT
    assert grades["deflate.negotiation.browser-offer"] is Grade.FAILED
    assert grades["deflate.violations.bomb"] is Grade.FAILED
    text = show(report)
    assert "declined the offer 'permessage-deflate; client_max_window_bits'" in text


def test_a_compressing_server_without_a_limit_fails_the_bomb() -> None:
    async def main() -> Report:
        async with await serve(echo, compression="deflate", max_message_size=None, max_memory=None) as server:
            options = Options(compression=True, max_message_size=2**16)
            return await run_checks(server.url, options=options, only=["deflate.violations.bomb"])

    report = run(main(), timeout=60)
    [result] = report.results
    assert result.grade is Grade.FAILED
    assert "accepted it and echoed a 4194304-byte message" in show(report)


def test_the_command_line_flag(capsys: object) -> None:
    assert check_main(["ws://127.0.0.1:9/", "--compression", "--only", "deflate", "--list"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert out.count("deflate.") == 19 and "RFC 7692" in out
