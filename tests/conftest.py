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
from collections.abc import Coroutine, Iterator
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
