"""Settings for the whole suite.

The suite does not depend on the machine's locale: wslearn speaks the language of ``WSLEARN_LANG``,
else of ``LC_ALL``/``LC_MESSAGES``/``LANG`` (see :mod:`wslearn.i18n`), and on a machine set up in
Chinese every English expectation would fail. So the tests run in English unless ``WSLEARN_LANG``
says otherwise. It is set at import time, before any test starts a kernel: the kernels that
nbclient starts inherit it. The Chinese notebooks still speak Chinese: their first cell calls
``set_language("zh_CN")``, and the tests of the catalogue choose their language themselves.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from browser_support import chromium

os.environ.setdefault("WSLEARN_LANG", "en")


# --- Helpers the test modules share (``from conftest import echo, run``) ----------------------

T = TypeVar("T")

TIMEOUT = 30.0  # no network test may hang longer than this


def run(coro: Coroutine[Any, Any, T], timeout: float = TIMEOUT) -> T:
    """Run ``coro`` on a fresh event loop, cut off after ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def echo(ws: Any) -> None:
    """The echo handler: every message goes back as it came (wslearn's or websockets' ``ws``)."""
    async for message in ws:
        await ws.send(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the tests of a module (see ``browser_support.chromium``)."""
    with chromium() as launched:
        yield launched


# --- Feeding bytes to a receiver, the three ways TCP may deliver them -------------------------

FEEDINGS = ["whole", "byte by byte", "with trailing bytes"]
# Parametrize a test over the three: ``@FEEDING`` then ``def test_x(feeding: str)``.
FEEDING = pytest.mark.parametrize("feeding", FEEDINGS)
TRAILING = b"\x81\x05Hel"  # the start of another frame, not yet complete (RFC 6455 §5.7's "Hello")


def feed(receive: Callable[[bytes], object], data: bytes, feeding: str, trailing: bytes = TRAILING) -> None:
    """Give ``data`` to ``receive`` whole, one byte per call, or whole with ``trailing`` behind it.

    Valid input must give the same events whichever way it arrives (and leave the trailing
    bytes for later); a protocol violation must fail the same way, byte by byte as well.
    """
    if feeding == "whole":
        receive(data)
    elif feeding == "byte by byte":
        for i in range(len(data)):
            receive(data[i : i + 1])
    elif feeding == "with trailing bytes":
        receive(data + trailing)
    else:
        raise ValueError(f"feeding is one of {FEEDINGS}, not {feeding!r}")


Parse = Callable[[bytes], "tuple[Any, int] | None"]


def parse_fed(parse: Parse, data: bytes, feeding: str, trailing: bytes = TRAILING) -> tuple[Any, int] | None:
    """What a parser (``parse(buffer)`` gives ``(value, bytes used)`` or None: need more)
    makes of ``data`` as it arrives: whole, growing one byte at a time (every shorter prefix
    must need more), or with ``trailing`` bytes behind it (which it must leave unused).

    A parser that raises on a protocol violation raises here too, the same way.
    """
    if feeding == "byte by byte":
        for end in range(len(data)):
            assert parse(data[:end]) is None, f"parsed before byte {end} arrived"
        return parse(data)
    if feeding == "with trailing bytes":
        result = parse(data + trailing)
        assert result is None or result[1] == len(data), "the trailing bytes were taken"
        return result
    if feeding != "whole":
        raise ValueError(f"feeding is one of {FEEDINGS}, not {feeding!r}")
    return parse(data)


# --- Two sans-I/O protocols talking to each other ------------------------------------------------


def pump(source: Any, destination: Any) -> bytes:
    """Move everything ``source`` (a Protocol) has to send into ``destination``; return the bytes."""
    data: bytes = source.data_to_send()
    if data:
        destination.receive_data(data)
    return data


def handshake(client: Any, server: Any, **connect_options: Any) -> None:
    """Run the opening handshake (RFC 6455 §4) between a client and a server Protocol."""
    from wslearn.protocol import RequestReceived, ResponseReceived

    client.connect("example.com", "/chat", **connect_options)
    pump(client, server)
    [event] = server.events_received()
    assert isinstance(event, RequestReceived)
    server.accept()
    pump(server, client)
    [event] = client.events_received()
    assert isinstance(event, ResponseReceived)
