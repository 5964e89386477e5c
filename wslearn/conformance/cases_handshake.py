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

from . import wire
from .expect import expect_message
from .model import Case, CaseRun, Grade, Options, Verdict, case_maker, failed, non_strict, ok
from .peer import Peer, Silence, Tester, handshake_problem
from .wire import TEXT, Eof, HttpAnswer, RawConnection, Target

make = case_maker("handshake")

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


def accepted_cases() -> list[Case]:
    upgrade = "101 Switching Protocols, then a working connection"
    return [
        make("valid", "§4.2.2", "a valid opening handshake", upgrade, accepted()),
        make(
            "odd-header-case",
            "§4.2.1",
            "header names and Upgrade/Connection values in mixed case",
            upgrade + " (names and these values are case-insensitive)",
            accepted(odd_case),
        ),
        make(
            "connection-token-list",
            "§4.2.1",
            "Connection: keep-alive, Upgrade (as Firefox sends it)",
            upgrade + " (Connection is a list of tokens)",
            accepted(replacing("Connection", "keep-alive, Upgrade")),
        ),
        make(
            "header-whitespace",
            "§4.2.1",
            "header values surrounded by extra spaces",
            upgrade + " (HTTP ignores whitespace around values)",
            accepted(lambda h: [(k, f"   {v}  ") for k, v in h]),
        ),
        make(
            "split-bytes",
            "§4.2.1",
            "a valid request written one byte at a time",
            upgrade + " (TCP may split the request anywhere)",
            accepted(piece=1),
        ),
        make(
            "split-slowly",
            "§4.2.1",
            "a valid request in 20-byte pieces, 20 ms apart",
            upgrade,
            accepted(piece=20, pause=0.02),
        ),
        make(
            "unknown-subprotocol",
            "§4.2.2",
            "Sec-WebSocket-Protocol offering two subprotocols the server does not know",
            upgrade + " without a Sec-WebSocket-Protocol the client did not offer",
            unknown_subprotocol(),
        ),
        make(
            "unknown-extension",
            "§9.1",
            "Sec-WebSocket-Extensions offering an extension no server knows",
            upgrade + " without agreeing to the unknown extension",
            unknown_extension(),
        ),
    ]


def refused_cases(options: Options) -> list[Case]:
    bad = "an HTTP error answer such as 400 Bad Request"
    padding = ("X-Padding", "p" * options.max_header_size)
    many = [(f"X-Header-{n}", "v" * 40) for n in range(options.max_header_size // 40)]
    return [
        make("no-upgrade", "§4.2.1", "no Upgrade header", bad, refused(without("Upgrade"), (400, 426))),
        make(
            "upgrade-not-websocket",
            "§4.2.1",
            "Upgrade: h2c",
            bad,
            refused(replacing("Upgrade", "h2c"), (400, 426)),
        ),
        make(
            "no-connection", "§4.2.1", "no Connection header", bad, refused(without("Connection"), (400, 426))
        ),
        make(
            "connection-close",
            "§4.2.1",
            "Connection: close instead of Upgrade",
            bad,
            refused(replacing("Connection", "close"), (400, 426)),
        ),
        make("no-key", "§4.2.1", "no Sec-WebSocket-Key", bad, refused(without("Sec-WebSocket-Key"))),
        make(
            "key-23-chars",
            "§4.2.1",
            "Sec-WebSocket-Key: x4JJHMbDL22zLk1GBhXDw== (23 characters)",
            "400 Bad Request: the key must be base64 of 16 bytes (24 characters)",
            refused(replacing("Sec-WebSocket-Key", "x4JJHMbDL22zLk1GBhXDw==")),
        ),
        make(
            "key-15-bytes",
            "§4.2.1",
            "a Sec-WebSocket-Key that is base64 of 15 bytes",
            "400 Bad Request: the key must be base64 of 16 bytes",
            refused(replacing("Sec-WebSocket-Key", key_of_bytes(15))),
        ),
        make(
            "key-17-bytes",
            "§4.2.1",
            "a Sec-WebSocket-Key that is base64 of 17 bytes",
            "400 Bad Request: the key must be base64 of 16 bytes",
            refused(replacing("Sec-WebSocket-Key", key_of_bytes(17))),
        ),
        make(
            "key-not-base64",
            "§4.2.1",
            "Sec-WebSocket-Key: 24 characters that are not base64",
            "400 Bad Request: the key must be base64 of 16 bytes",
            refused(replacing("Sec-WebSocket-Key", "!!!!not*base64*at*all!!!")),
        ),
        make(
            "key-not-ascii",
            "§4.2.1",
            "a 24-character Sec-WebSocket-Key holding the byte BD (not ASCII)",
            "400 Bad Request: the key must be base64 of 16 bytes",
            refused(replacing("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ\xbd=")),
        ),
        make(
            "duplicate-key",
            "§4.2.1",
            "two Sec-WebSocket-Key headers",
            "400 Bad Request: exactly one key is allowed",
            refused(adding(("Sec-WebSocket-Key", key_of_bytes(16)))),
        ),
        make(
            "no-version",
            "§4.2.1",
            "no Sec-WebSocket-Version",
            bad + " (or 426 Upgrade Required)",
            refused(without("Sec-WebSocket-Version"), (400, 426)),
        ),
        make(
            "version-8",
            "§4.4",
            "Sec-WebSocket-Version: 8 (an old draft)",
            "426 Upgrade Required with the header Sec-WebSocket-Version: 13",
            refused(
                replacing("Sec-WebSocket-Version", "8"),
                (426,),
                header=("Sec-WebSocket-Version", "13"),
            ),
        ),
        make(
            "version-twice",
            "§4.4",
            "two Sec-WebSocket-Version: 13 headers",
            "400 Bad Request, or 426 with the header Sec-WebSocket-Version: 13",
            refused(
                adding(("Sec-WebSocket-Version", "13")),
                (400, 426),
                header=("Sec-WebSocket-Version", "13"),
                header_with=(426,),
            ),
        ),
        make("no-host", "§4.2.1", "no Host header", bad, refused(without("Host"))),
        make(
            "post",
            "§4.2.1",
            "POST instead of GET",
            "405 Method Not Allowed (or 400): the method MUST be GET",
            refused(method="POST", statuses=(400, 405)),
        ),
        make(
            "http-1.0",
            "§4.2.1",
            "HTTP/1.0 instead of HTTP/1.1",
            bad + " (or 505): HTTP/1.1 or higher is required",
            refused(version="HTTP/1.0", statuses=(400, 426, 505)),
        ),
        make(
            "oversized-header",
            "§10.4",
            f"one header of {options.max_header_size} bytes",
            "431 Request Header Fields Too Large (or 400), not unbounded buffering",
            refused(adding(padding), (400, 431)),
        ),
        make(
            "many-headers",
            "§10.4",
            f"{len(many)} headers, {options.max_header_size} bytes or more",
            "431 Request Header Fields Too Large (or 400), not unbounded buffering",
            refused(adding(*many), (400, 431)),
        ),
        make(
            "bad-request-line",
            "§4.2.1",
            "a request line with no target and no version",
            bad,
            refused(raw_request=b"GET\r\nHost: x\r\n\r\n"),
        ),
        make(
            "not-http",
            "§4.2.1",
            "binary bytes that are not HTTP at all",
            bad,
            refused(raw_request=bytes(range(256)) + b"\r\n\r\n"),
        ),
    ]


def cases(options: Options) -> list[Case]:
    found = accepted_cases() + refused_cases(options)
    return [
        Case(c.id, c.category, c.section, c.title, c.requires, c.run, check_alive_after=True) for c in found
    ]
