"""The opening handshake (RFC 6455 §4.1, §4.2): valid requests upgraded, bad ones refused.

§4.2.1: if the request "does not match the description below ... the server MUST stop
processing the client's handshake and return an HTTP response with an appropriate error
code (such as 400 Bad Request)". After every case the runner opens one more, valid
connection: a bad request must never stop the server from serving the next client.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable

from .. import wire
from ..model import Grade, Options, Table, Verdict, failed, non_strict, ok
from ..wire import TEXT, Eof, HttpAnswer, RawConnection, Target
from .expect import expect_message
from .peer import CaseRun, Peer, ServerCase, Silence, Tester, handshake_problem

Headers = list[tuple[str, str]]
Edit = Callable[[Headers], Headers]


async def read_answer(t: Tester, raw: RawConnection) -> HttpAnswer | Eof | Silence:
    """The server's HTTP answer, or what it did instead: closed (Eof) or nothing (Silence)."""
    try:
        async with asyncio.timeout(t.options.answer_timeout):
            return await raw.read_http_answer()
    except TimeoutError:
        return Silence(t.options.answer_timeout)
    except Eof as eof:
        return eof


def without(name: str) -> Edit:
    return lambda headers: [(k, v) for k, v in headers if k.lower() != name.lower()]


def replacing(name: str, value: str) -> Edit:
    return lambda headers: [(k, value if k.lower() == name.lower() else v) for k, v in headers]


def adding(*extra: tuple[str, str]) -> Edit:
    return lambda headers: [*headers, *extra]


def request_bytes(target: Target, key: str, edit: Edit, method: str, version: str) -> bytes:
    headers = edit(wire.default_headers(target, key))
    return wire.build_request(target, key=key, method=method, version=version, headers=headers)


def accepted(
    edit: Edit = lambda h: h,
    *,
    piece: int | None = None,
    pause: float = 0.0,
    offered: tuple[str, ...] = (),
) -> CaseRun:
    """The (edited) request must be upgraded (§4.2.2) and the connection must then echo."""

    async def run(t: Tester) -> Verdict:
        raw = await t.raw()
        key = wire.new_key()
        request = request_bytes(t.target, key, edit, "GET", "HTTP/1.1")
        await raw.send_chopped(request, piece or len(request), pause)
        answer = await read_answer(t, raw)
        if isinstance(answer, Eof):
            return failed(f"{answer.how} instead of upgrading")
        if isinstance(answer, Silence):
            return failed(f"sent no HTTP answer within {answer.seconds:g} s")
        problem = handshake_problem(answer, key, offered)
        if problem:
            return failed(f"did not upgrade correctly: {problem}")
        peer = Peer(raw, t.options)
        await peer.send_frame(TEXT, b"upgraded")
        echo = await expect_message(peer, TEXT, b"upgraded")
        if echo.grade is not Grade.OK:
            return echo
        return ok("answered 101 Switching Protocols and then echoed a message")

    return run


def refused(
    edit: Edit = lambda h: h,
    statuses: tuple[int, ...] = (400,),
    *,
    method: str = "GET",
    version: str = "HTTP/1.1",
    raw_request: bytes | None = None,
    header: tuple[str, str] | None = None,
    header_with: tuple[int, ...] | None = None,
) -> CaseRun:
    """The request must be refused with one of ``statuses``, and carry ``header`` (always,
    or only with the statuses ``header_with``)."""

    async def run(t: Tester) -> Verdict:
        raw = await t.raw()
        key = wire.new_key()
        request = raw_request or request_bytes(t.target, key, edit, method, version)
        await raw.send(request)
        answer = await read_answer(t, raw)
        if not isinstance(answer, HttpAnswer):
            return no_answer(answer, well_formed=raw_request is None)
        needs_header = header_with is None or answer.status in header_with
        return grade_refusal(answer, statuses, header if needs_header else None)

    return run


def no_answer(instead: Eof | Silence, well_formed: bool) -> Verdict:
    """§4.2.1: a server MUST answer a bad handshake with an HTTP error; for bytes that are
    not HTTP at all, just closing is acceptable (NON-STRICT)."""
    if isinstance(instead, Silence):
        return failed(f"sent no HTTP answer within {instead.seconds:g} s: it hangs on a bad request")
    if well_formed:
        return failed(instead.how, requires="an HTTP error answer, such as 400 Bad Request, saying why")
    return non_strict(instead.how)


def grade_refusal(answer: HttpAnswer, statuses: tuple[int, ...], header: tuple[str, str] | None) -> Verdict:
    said = f"answered {answer.summary()}"
    if answer.status == 101:
        return failed("accepted the upgrade with 101 Switching Protocols")
    if not 400 <= answer.status < 600:
        return failed(said)
    if header is not None:
        name, value = header
        values = ",".join(answer.get_all(name)).replace(" ", "").split(",")
        if value not in values:
            return failed(f"{said}, without the header {name}: {value}")
    if answer.status in statuses:
        return ok(said)
    return non_strict(said)


VERSION_13 = ("Sec-WebSocket-Version", "13")


def key_of_bytes(size: int) -> str:
    return base64.b64encode(bytes(range(size))).decode()


def unknown_extension() -> CaseRun:
    return accepted(adding(("Sec-WebSocket-Extensions", "x-wslearn-unknown; level=9")))


def unknown_subprotocol() -> CaseRun:
    offered = ("x-wslearn-one", "x-wslearn-two")
    return accepted(adding(("Sec-WebSocket-Protocol", ", ".join(offered))), offered=offered)


def odd_case(headers: Headers) -> Headers:
    """The same headers, names and token values in mixed case (§4.2.1: case-insensitive)."""
    tokens = {"upgrade": "WebSocket", "connection": "uPgRaDe"}
    return [
        (
            "".join(c.upper() if n % 2 else c.lower() for n, c in enumerate(name)),
            tokens.get(name.lower(), value),
        )
        for name, value in headers
    ]


UPGRADE = "101 Switching Protocols, then a working connection"
BAD = "an HTTP error answer such as 400 Bad Request"
BAD_KEY = "400 Bad Request: the key must be base64 of 16 bytes"
TOO_BIG = "431 Request Header Fields Too Large (or 400), not unbounded buffering"


def accepted_cases() -> list[ServerCase]:
    row = Table[CaseRun]("handshake", section="§4.2.1", check_alive_after=True)
    return [
        row("valid", section="§4.2.2", title="a valid opening handshake", requires=UPGRADE, run=accepted()),
        row(
            "odd-header-case",
            title="header names and Upgrade/Connection values in mixed case",
            requires=UPGRADE + " (names and these values are case-insensitive)",
            run=accepted(odd_case),
        ),
        row(
            "connection-token-list",
            title="Connection: keep-alive, Upgrade (as Firefox sends it)",
            requires=UPGRADE + " (Connection is a list of tokens)",
            run=accepted(replacing("Connection", "keep-alive, Upgrade")),
        ),
        row(
            "header-whitespace",
            title="header values surrounded by extra spaces",
            requires=UPGRADE + " (HTTP ignores whitespace around values)",
            run=accepted(lambda h: [(k, f"   {v}  ") for k, v in h]),
        ),
        row(
            "split-bytes",
            title="a valid request written one byte at a time",
            requires=UPGRADE + " (TCP may split the request anywhere)",
            run=accepted(piece=1),
        ),
        row(
            "split-slowly",
            title="a valid request in 20-byte pieces, 20 ms apart",
            requires=UPGRADE,
            run=accepted(piece=20, pause=0.02),
        ),
        row(
            "unknown-subprotocol",
            section="§4.2.2",
            title="Sec-WebSocket-Protocol offering two subprotocols the server does not know",
            requires=UPGRADE + " without a Sec-WebSocket-Protocol the client did not offer",
            run=unknown_subprotocol(),
        ),
        row(
            "unknown-extension",
            section="§9.1",
            title="Sec-WebSocket-Extensions offering an extension no server knows",
            requires=UPGRADE + " without agreeing to the unknown extension",
            run=unknown_extension(),
        ),
    ]


def refused_cases(options: Options) -> list[ServerCase]:
    row = Table[CaseRun]("handshake", section="§4.2.1", requires=BAD, check_alive_after=True)
    size = options.max_header_size
    many = [(f"X-Header-{n}", "v" * 40) for n in range(size // 40)]
    key = "Sec-WebSocket-Key"
    return [
        row("no-upgrade", title="no Upgrade header", run=refused(without("Upgrade"), (400, 426))),
        row(
            "upgrade-not-websocket",
            title="Upgrade: h2c",
            run=refused(replacing("Upgrade", "h2c"), (400, 426)),
        ),
        row("no-connection", title="no Connection header", run=refused(without("Connection"), (400, 426))),
        row(
            "connection-close",
            title="Connection: close instead of Upgrade",
            run=refused(replacing("Connection", "close"), (400, 426)),
        ),
        row("no-key", title="no Sec-WebSocket-Key", run=refused(without(key))),
        row(
            "key-23-chars",
            title="Sec-WebSocket-Key: x4JJHMbDL22zLk1GBhXDw== (23 characters)",
            requires=BAD_KEY + " (24 characters)",
            run=refused(replacing(key, "x4JJHMbDL22zLk1GBhXDw==")),
        ),
        row(
            "key-15-bytes",
            title="a Sec-WebSocket-Key that is base64 of 15 bytes",
            requires=BAD_KEY,
            run=refused(replacing(key, key_of_bytes(15))),
        ),
        row(
            "key-17-bytes",
            title="a Sec-WebSocket-Key that is base64 of 17 bytes",
            requires=BAD_KEY,
            run=refused(replacing(key, key_of_bytes(17))),
        ),
        row(
            "key-not-base64",
            title="Sec-WebSocket-Key: 24 characters that are not base64",
            requires=BAD_KEY,
            run=refused(replacing(key, "!!!!not*base64*at*all!!!")),
        ),
        row(
            "key-not-ascii",
            title="a 24-character Sec-WebSocket-Key holding the byte BD (not ASCII)",
            requires=BAD_KEY,
            run=refused(replacing(key, "dGhlIHNhbXBsZSBub25jZQ\xbd=")),
        ),
        row(
            "duplicate-key",
            title="two Sec-WebSocket-Key headers",
            requires="400 Bad Request: exactly one key is allowed",
            run=refused(adding((key, key_of_bytes(16)))),
        ),
        row(
            "no-version",
            title="no Sec-WebSocket-Version",
            requires=BAD + " (or 426 Upgrade Required)",
            run=refused(without("Sec-WebSocket-Version"), (400, 426)),
        ),
        row(
            "version-8",
            section="§4.4",
            title="Sec-WebSocket-Version: 8 (an old draft)",
            requires="426 Upgrade Required with the header Sec-WebSocket-Version: 13",
            run=refused(replacing("Sec-WebSocket-Version", "8"), (426,), header=VERSION_13),
        ),
        row(
            "version-twice",
            section="§4.4",
            title="two Sec-WebSocket-Version: 13 headers",
            requires="400 Bad Request, or 426 with the header Sec-WebSocket-Version: 13",
            run=refused(adding(VERSION_13), (400, 426), header=VERSION_13, header_with=(426,)),
        ),
        row("no-host", title="no Host header", run=refused(without("Host"))),
        row(
            "post",
            title="POST instead of GET",
            requires="405 Method Not Allowed (or 400): the method MUST be GET",
            run=refused(method="POST", statuses=(400, 405)),
        ),
        row(
            "http-1.0",
            title="HTTP/1.0 instead of HTTP/1.1",
            requires=BAD + " (or 505): HTTP/1.1 or higher is required",
            run=refused(version="HTTP/1.0", statuses=(400, 426, 505)),
        ),
        row(
            "oversized-header",
            section="§10.4",
            title=f"one header of {size} bytes",
            requires=TOO_BIG,
            run=refused(adding(("X-Padding", "p" * size)), (400, 431)),
        ),
        row(
            "many-headers",
            section="§10.4",
            title=f"{len(many)} headers, {size} bytes or more",
            requires=TOO_BIG,
            run=refused(adding(*many), (400, 431)),
        ),
        row(
            "bad-request-line",
            title="a request line with no target and no version",
            run=refused(raw_request=b"GET\r\nHost: x\r\n\r\n"),
        ),
        row(
            "not-http",
            title="binary bytes that are not HTTP at all",
            run=refused(raw_request=bytes(range(256)) + b"\r\n\r\n"),
        ),
    ]


def cases(options: Options) -> list[ServerCase]:
    """After every handshake case, the runner checks that the server still serves."""
    return accepted_cases() + refused_cases(options)
