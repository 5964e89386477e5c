"""06.echo_handler: a student's handler served for real and graded by talking to it."""

from __future__ import annotations

import asyncio
import threading
import time

from wslearn.exercises import check
from wslearn.exercises.ch06 import Conversation, talk_to
from wslearn.notebook import running_servers


async def _echo(ws):  # type: ignore[no-untyped-def]
    async for message in ws:
        await ws.send(message)


def test_a_correct_echo_passes_and_its_server_is_gone_afterwards() -> None:
    threads = threading.active_count()
    result = check("06.echo_handler", _echo)
    assert result.passed, str(result)
    assert "06.echo_handler" not in running_servers()
    assert threading.active_count() <= threads + 1  # the shared client loop may have started


def test_a_silent_handler_fails_within_the_time_limit() -> None:
    async def silent(ws):  # type: ignore[no-untyped-def]
        async for _message in ws:
            pass

    started = time.monotonic()
    heard = talk_to(silent, Conversation(("anyone?",)))
    assert time.monotonic() - started < 5
    assert "no answer within" in heard.problem


def test_a_handler_that_blocks_its_loop_is_a_failure_not_a_hang() -> None:
    async def blocking(ws):  # type: ignore[no-untyped-def]
        await ws.recv()
        time.sleep(2.5)  # blocks the server's event loop: nothing can answer

    started = time.monotonic()
    heard = talk_to(blocking, Conversation(("hello",)))
    assert time.monotonic() - started < 8
    assert heard.problem


def test_not_a_handler() -> None:
    def plain(ws):  # type: ignore[no-untyped-def]
        return None

    assert "async function" in talk_to(plain, Conversation(("x",))).problem
    result = check("06.echo_handler", 42)
    assert not result.passed
    assert result.problem == "expected a function async def echo(ws) -> None, got int 42"
    assert any("async function" in hint for hint in check("06.echo_handler", plain).hints)


def test_a_sleeping_echo_still_passes() -> None:
    async def slow(ws):  # type: ignore[no-untyped-def]
        async for message in ws:
            await asyncio.sleep(0.05)
            await ws.send(message)

    assert check("06.echo_handler", slow).passed
