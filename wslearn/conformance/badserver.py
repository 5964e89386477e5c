"""The client checks under the names notebooks and the course use (see :mod:`.client`).

``handshake_scenarios()`` and ``frame_scenarios()`` are the client cases of one kind,
``all_scenarios()`` all of them, in the order :func:`run_client_checks` runs them.
"""

from __future__ import annotations

from .client import (
    ANSWER_TIMEOUT,
    BadServer,
    ClientCase,
    ClientOutcome,
    WireRecord,
    frames,
    handshake,
    run_client_checks,
    websockets_client,
    wslearn_client,
)
from .client import all_cases as all_scenarios


def handshake_scenarios() -> list[ClientCase]:
    return handshake.cases()


def frame_scenarios() -> list[ClientCase]:
    return frames.bad_cases()


__all__ = [
    "ANSWER_TIMEOUT",
    "BadServer",
    "ClientOutcome",
    "WireRecord",
    "all_scenarios",
    "frame_scenarios",
    "handshake_scenarios",
    "run_client_checks",
    "websockets_client",
    "wslearn_client",
]
