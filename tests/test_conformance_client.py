"""The client side: wslearn's client against a misbehaving server (badserver.py).

wslearn's client must refuse every bad handshake and fail the connection with the right
close code on every bad frame. A careless client (it trusts whatever comes) is graded too,
to show that the checks can fail; the websockets library's card is printed for comparison.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from wslearn.conformance import Grade
from wslearn.conformance.badserver import (
    ClientOutcome,
    all_scenarios,
    run_client_checks,
    websockets_client,
    wslearn_client,
)
from wslearn.conformance.wire import RawConnection, Target, build_request, new_key

TIMEOUT = 60


def test_wslearn_client_rejects_every_misbehaving_server() -> None:
    report = asyncio.run(asyncio.wait_for(run_client_checks(wslearn_client), TIMEOUT))
    print(f"\n{report.to_text()}")
    assert len(report.results) == len(all_scenarios()) >= 20
    assert (report.failed, report.non_strict) == (0, 0), report.to_text(all_cases=False)
    assert set(report.categories()) == {"client frames", "client handshake"}
    refused = report["client.handshake.wrong-accept"].detail
    assert refused.startswith("The client refused it")
    assert "1002" in report["client.frames.masked-frame"].detail
    assert "1007" in report["client.frames.invalid-utf8"].detail


def test_websockets_client_card_is_printed() -> None:
    report = asyncio.run(asyncio.wait_for(run_client_checks(websockets_client), TIMEOUT))
    print(f"\n{report.to_text()}")
    assert len(report.results) == len(all_scenarios())


async def careless_client(url: str, subprotocols: Sequence[str]) -> ClientOutcome:
    """Sends a handshake, ignores the answer, returns the first frame's payload as text."""
    raw = await RawConnection.open(Target.from_url(url))
    try:
        await raw.send(build_request(Target.from_url(url), key=new_key()))
        async with asyncio.timeout(0.3):
            await raw.read_http_answer()
            frame = await raw.read_frame()
        return ClientOutcome(received=frame.payload.decode("utf-8", "replace"))
    except Exception as error:  # whatever happens, report it: the grade says the rest
        return ClientOutcome(other=repr(error))
    finally:
        raw.abort()


def test_a_careless_client_fails_the_checks() -> None:
    report = asyncio.run(asyncio.wait_for(run_client_checks(careless_client), TIMEOUT))
    print(f"\n{report.to_text(all_cases=False)}")
    for case_id in [
        "client.handshake.wrong-accept",
        "client.handshake.unrequested-extension",
        "client.frames.masked-frame",
        "client.frames.invalid-utf8",
        "client.frames.rsv1",
    ]:
        assert report[case_id].grade is Grade.FAILED, report[case_id].detail
    assert report["client.frames.text"].grade is Grade.OK
