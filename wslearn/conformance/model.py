"""What a conformance case is, and the three grades it can earn (as in the Autobahn TestSuite)."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .peer import Tester


class Grade(enum.Enum):
    """How well the server did in one case."""

    OK = "OK"  # what RFC 6455 requires, in the best way
    NON_STRICT = "NON-STRICT"  # acceptable, not ideal (e.g. failed late, or without the code)
    FAILED = "FAILED"  # broke a requirement, hung or died

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Verdict:
    """A grade plus what the server did, in words: "closed with 1002 (protocol error)".

    ``did`` completes the sentence "The server ...". ``requires`` overrides the case's own
    requirement when a particular outcome needs a more precise one.
    """

    grade: Grade
    did: str
    requires: str | None = None


def ok(did: str) -> Verdict:
    return Verdict(Grade.OK, did)


def non_strict(did: str, requires: str | None = None) -> Verdict:
    return Verdict(Grade.NON_STRICT, did, requires)


def failed(did: str, requires: str | None = None) -> Verdict:
    return Verdict(Grade.FAILED, did, requires)


CaseRun = Callable[["Tester"], Awaitable[Verdict]]
# A client check (badserver.py) runs differently, so a Case accepts any run function.
AnyRun = Callable[..., Awaitable[Verdict]]


@dataclass(frozen=True)
class Case:
    """One check: what it sends, which RFC 6455 section it tests, what the RFC requires."""

    id: str  # e.g. "framing.binary-126"
    category: str  # e.g. "framing"
    section: str  # e.g. "§5.2"
    title: str  # what the checker sends
    requires: str  # what RFC 6455 requires of the server, e.g. "an echo of the 126 bytes"
    run: AnyRun
    check_alive_after: bool = False  # then open a good connection: does the server still serve?


@dataclass(frozen=True)
class Options:
    """The checker's parameters; the defaults suit a server on the same machine."""

    max_message_size: int | None = 2**20  # the server's stated limit; None skips "limits"
    answer_timeout: float = 2.0  # how long to wait for the server's next answer
    fail_fast_window: float = 0.5  # how soon a fail-fast server must have closed
    case_timeout: float = 15.0  # hard limit for one case, whatever happens
    max_header_size: int = 65536  # the oversized-headers case sends more than this


class SetupFailed(Exception):
    """The case could not even start (e.g. a good handshake was refused)."""

    def __init__(self, did: str) -> None:
        super().__init__(did)
        self.did = did


def case_maker(category: str) -> Callable[..., Case]:
    """``make = case_maker("framing")``; ``make("binary-126", "§5.2", ...)`` → Case."""

    def make(name: str, section: str, title: str, requires: str, run: CaseRun, **flags: bool) -> Case:
        return Case(f"{category}.{name}", category, section, title, requires, run, **flags)

    return make
