"""What a conformance case is, and the three grades it can earn (as in the Autobahn TestSuite)."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..assembler import DEFAULT_MAX_SIZE


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


Run = TypeVar("Run", bound=Callable[..., Awaitable[Verdict]])


@dataclass(frozen=True)
class Case(Generic[Run]):
    """One check: what it sends, which RFC 6455 section it tests, what the RFC requires.

    ``run`` plays the case against what is graded: a server case gets a ``Tester`` (the
    checker's connections to the server), a client case gets the client under test.
    """

    id: str  # e.g. "framing.binary-126", "client.frames.masked-frame"
    category: str  # e.g. "framing", "client frames"
    section: str  # e.g. "§5.2"
    title: str  # what the checker sends (or, for a client case, what the bad server does)
    requires: str  # what RFC 6455 requires, e.g. "an echo of the 126 bytes"
    run: Run
    check_alive_after: bool = False  # then open a good connection: does the server still serve?

    @property
    def name(self) -> str:
        """The id without its category: ``"binary-126"``, ``"masked-frame"``."""
        return self.id.removeprefix(self.category + ".").removeprefix(self.category.replace(" ", ".") + ".")


@dataclass(frozen=True)
class Table(Generic[Run]):
    """The rows of one category: ``row = Table("framing", section="§5.2")``, then
    ``row("binary-126", title=..., requires=..., run=...)``; a row may override the defaults."""

    category: str
    section: str = ""
    requires: str = ""
    id_prefix: str | None = None  # the category, unless given
    check_alive_after: bool = False

    def __call__(
        self, name: str, *, title: str, run: Run, section: str | None = None, requires: str | None = None
    ) -> Case[Run]:
        prefix = self.category if self.id_prefix is None else self.id_prefix
        return Case(
            f"{prefix}.{name}",
            self.category,
            section or self.section,
            title,
            requires or self.requires,
            run,
            self.check_alive_after,
        )


@dataclass(frozen=True)
class Options:
    """The checker's parameters; the defaults suit a server on the same machine."""

    max_message_size: int | None = DEFAULT_MAX_SIZE  # the server's stated limit; None skips "limits"
    answer_timeout: float = 2.0  # how long to wait for the server's next answer
    fail_fast_window: float = 0.5  # how soon a fail-fast server must have closed
    case_timeout: float = 15.0  # hard limit for one case, whatever happens
    max_header_size: int = 65536  # the oversized-headers case sends more than this
    compression: bool = False  # the server accepts permessage-deflate: grade it (RFC 7692)


class SetupFailed(Exception):
    """The case could not even start (e.g. a good handshake was refused)."""

    def __init__(self, did: str) -> None:
        super().__init__(did)
        self.did = did
