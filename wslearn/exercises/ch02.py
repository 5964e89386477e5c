"""Chapter 02, the HTTP upgrade by hand: its exercises and its checkpoint.

* ``"02.classify"`` (a value): ten requests, and the status the demo server answers to each.
  The table is checked against the live server by the test suite, so it cannot drift from
  what the server really does.
* ``"02.upgrade_request"`` (a function): ``upgrade_request(host, path, key) -> bytes``, the
  opening handshake written byte by byte, checked with wslearn's own parser and the server's
  own checks (:func:`wslearn.handshake.check_request`).
* ``"02.checkpoint"``: the quiz at the end of the chapter.
"""

from __future__ import annotations

import base64
import random
import re
from typing import Any, NamedTuple

from wslearn.errors import HandshakeError
from wslearn.exercises.core import Case, Exercise, Mistake, Question, register, register_quiz
from wslearn.handshake import Request, check_request
from wslearn.i18n import N_, _

# --- 02.classify: which status does each request get? ----------------------------------------

RFC_SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3


class _Row(NamedTuple):
    """One request of the exercise: its lines (``{host}`` is filled in) and what it gets."""

    lines: tuple[str, ...]  # the request line, then the header lines
    status: int  # what the demo server answers
    hint: str
    rfc: str = "§4.2.1"


def _upgrade(
    request_line: str = "GET /ws HTTP/1.1", *, version: str = "13", key: str = RFC_SAMPLE_KEY
) -> tuple[str, ...]:
    """A request line and the five headers of a valid upgrade, with one value changed if asked."""
    return (
        request_line,
        "Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        f"Sec-WebSocket-Version: {version}",
    )


_CLASSIFY: dict[str, _Row] = {
    "lower-case header names": _Row(
        (
            "GET /ws HTTP/1.1",
            "host: {host}",
            "upgrade: websocket",
            "connection: upgrade",
            f"sec-websocket-key: {RFC_SAMPLE_KEY}",
            "sec-websocket-version: 13",
        ),
        101,
        "header names (and the tokens websocket, Upgrade) compare case-insensitively (RFC 9110 §5.1)",
    ),
    "Connection: keep-alive, Upgrade": _Row(
        tuple(line.replace("Connection: Upgrade", "Connection: keep-alive, Upgrade") for line in _upgrade()),
        101,
        "Connection is a list of tokens: it must *contain* Upgrade, others may come along"
        " (Firefox sends this)",
    ),
    "a browser opening the URL as a page": _Row(
        ("GET /ws HTTP/1.1", "Host: {host}", "Accept: text/html"),
        426,
        "plain HTTP (no Upgrade: websocket) to a WebSocket-only URL: 426 Upgrade Required"
        " (RFC 9110 §15.5.22)",
    ),
    "Sec-WebSocket-Version: 8": _Row(
        _upgrade(version="8"),
        426,
        "a version the server does not speak: 426, with Sec-WebSocket-Version: 13 in the answer",
        "§4.2.2",
    ),
    "PUT instead of GET": _Row(
        _upgrade("PUT /ws HTTP/1.1"),
        405,
        "the handshake is a GET (§4.2.1 item 1); another method gets 405 Method Not Allowed",
    ),
    "HTTP/2.0 in the request line": _Row(
        _upgrade("GET /ws HTTP/2.0"),
        505,
        "HTTP/2 has no Upgrade: 505 HTTP Version Not Supported (RFC 9110 §15.6.6)",
        "§4.1",
    ),
    "two Host headers": _Row(
        (*_upgrade()[:2], "Host: other.example", *_upgrade()[2:]),
        400,
        "Host must appear exactly once (RFC 9112 §3.2): 400 Bad Request",
    ),
    "seed 004's 23-character key": _Row(
        _upgrade(key="x4JJHMbDL22zLk1GBhXDw=="),
        400,
        "the key must be base64 of 16 bytes, 24 characters (§4.2.1 item 5): 400 Bad Request",
    ),
    "Origin: http://evil.example": _Row(
        (*_upgrade(), "Origin: http://evil.example"),
        403,
        "the demo's Origin policy refuses pages of other sites: 403 Forbidden",
        "§10.2",
    ),
    "GET /nope (no such route)": _Row(
        _upgrade("GET /nope HTTP/1.1"),
        404,
        "a valid upgrade, but to a path the server does not serve: 404 Not Found, listing the routes",
    ),
}

#: The status the demo server answers to each request of the exercise.
CLASSIFY_ANSWERS: dict[str, int] = {name: row.status for name, row in _CLASSIFY.items()}


def classification_requests(host: str) -> dict[str, bytes]:
    """The ten requests of ``"02.classify"``, addressed to ``host`` (``"127.0.0.1:PORT"``)."""
    return {
        name: ("\r\n".join(line.format(host=host) for line in row.lines) + "\r\n\r\n").encode("latin-1")
        for name, row in _CLASSIFY.items()
    }


def _diagnose_status(case: Case, got: Any) -> str | None:
    if got is None:
        return N_("no prediction yet: write the status code you expect, e.g. 101")
    if isinstance(got, str) and got.strip()[:3].isdigit():
        return _("give the status as a number: {number}, not the string {string}").format(
            number=int(got.strip()[:3]), string=repr(got)
        )
    if isinstance(got, int) and not isinstance(got, bool) and got == 101 and case.expected != 101:
        return _("a server switches protocols only when every check passes; {hint}").format(hint=_(case.hint))
    return None


register(
    Exercise(
        id="02.classify",
        title="Which status does each request get?",
        signature="a dict: request name → status code (an int)",
        reference=dict(CLASSIFY_ANSWERS),
        kind="value",
        rfc="§4.2.1",
        cases=tuple(
            Case((name,), row.status, label=name, hint=row.hint, rfc=row.rfc)
            for name, row in _CLASSIFY.items()
        ),
        diagnose=_diagnose_status,
        mistakes=(
            Mistake(
                "every refusal is a 400",
                {n: 101 if s == 101 else 400 for n, s in CLASSIFY_ANSWERS.items()},
                "426 Upgrade Required",
            ),
            Mistake(
                "header names are case-sensitive",
                {**CLASSIFY_ANSWERS, "lower-case header names": 400},
                "case-insensitively",
            ),
            Mistake(
                "a bad version is a 400",
                {**CLASSIFY_ANSWERS, "Sec-WebSocket-Version: 8": 400},
                "Sec-WebSocket-Version: 13 in the answer",
            ),
            Mistake(
                "statuses as strings",
                {n: str(s) for n, s in CLASSIFY_ANSWERS.items()},
                "give the status as a number",
            ),
        ),
        explanation="The first check that fails decides the status: the route (404), then the"
        " Origin policy (403), then RFC 6455 §4.2.1 in order.",
    )
)


# --- 02.upgrade_request: write the handshake by hand ------------------------------------------


def _reference(host: str, path: str, key: str) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


_BARE_LF = re.compile(rb"(?<!\r)\n")


def upgrade_request_problem(got: Any, host: str, path: str, key: str) -> str | None:
    """What is wrong with ``got`` as the handshake for (host, path, key); None when it is right.

    The checks are a server's: wslearn's parser (strict about line ends here, as a careful
    server is), then :func:`~wslearn.handshake.check_request`, then the values asked for.
    """
    if isinstance(got, str):
        return N_("return bytes, not str: the wire carries bytes (text.encode('ascii'))")
    if not isinstance(got, (bytes, bytearray)):
        return _("return bytes, not {type}").format(type=type(got).__name__)
    data = bytes(got)
    if _BARE_LF.search(data):
        return N_(
            "each line ends with \\r\\n (CR LF, RFC 9112 §2.1), not a bare \\n: a lenient server"
            " (wslearn's is one, RFC 9112 §2.2) accepts it, others answer 400"
        )
    if not data.endswith(b"\r\n\r\n"):
        return N_(
            "the header section ends with an empty line: finish with \\r\\n\\r\\n;"
            " without it the server waits for more headers and never answers"
        )
    try:
        parsed = Request.parse(data)
        assert parsed is not None  # it ends with an empty line
        request, used = parsed
        check_request(request)
    except HandshakeError as error:
        return _("the server would answer {status}: {reason}").format(
            status=error.status, reason=error.reason
        )
    if used != len(data):
        return N_("nothing may follow the empty line: a handshake request has no body")
    if request.target != path:
        wrong_target = _("the request line's target should be {path}, got {target}")
        return wrong_target.format(path=repr(path), target=repr(request.target))
    if request.headers.get("Host") != host:
        wrong_host = _("Host should be {host} (the server's name and port), got {got}")
        return wrong_host.format(host=repr(host), got=repr(request.headers.get("Host")))
    if request.headers.get("Sec-WebSocket-Key") != key:
        return N_("send the key you were given in Sec-WebSocket-Key: the server hashes that one")
    return None


def _args_of(reference: bytes) -> tuple[str, str, str]:
    parsed = Request.parse(reference)
    assert parsed is not None
    request = parsed[0]
    return request.headers["Host"], request.target, request.headers["Sec-WebSocket-Key"]


def _compare(expected: Any, got: Any) -> bool:
    return upgrade_request_problem(got, *_args_of(expected)) is None


def _diagnose_request(case: Case, got: Any) -> str | None:
    return upgrade_request_problem(got, *case.args)


def _case(host: str, path: str, key: str, label: str, rfc: str = "§4.1") -> Case:
    return Case((host, path, key), _reference(host, path, key), label=label, hint="", rfc=rfc)


def _random_cases(rng: random.Random, count: int) -> list[Case]:
    cases = []
    for _number in range(count):
        host = f"127.0.0.1:{rng.randrange(1024, 65536)}"
        path = rng.choice(["/ws", "/chat", "/push", "/wshandler"]) + rng.choice(
            ["", f"?room={rng.randrange(100)}"]
        )
        key = base64.b64encode(rng.randbytes(16)).decode("ascii")
        cases.append(_case(host, path, key, f"upgrade_request({host!r}, {path!r}, {key!r})"))
    return cases


def _no_empty_line(host: str, path: str, key: str) -> bytes:
    return _reference(host, path, key)[:-2]


def _bare_lf(host: str, path: str, key: str) -> bytes:
    return _reference(host, path, key).replace(b"\r\n", b"\n")


def _no_host(host: str, path: str, key: str) -> bytes:
    return _reference(host, path, key).replace(f"Host: {host}\r\n".encode(), b"")


def _version_8(host: str, path: str, key: str) -> bytes:
    return _reference(host, path, key).replace(b"Version: 13", b"Version: 8")


def _http_1_0(host: str, path: str, key: str) -> bytes:
    return _reference(host, path, key).replace(b"HTTP/1.1", b"HTTP/1.0")


def _as_str(host: str, path: str, key: str) -> str:
    return _reference(host, path, key).decode("ascii")


register(
    Exercise(
        id="02.upgrade_request",
        title="Write the opening handshake by hand",
        signature="upgrade_request(host: str, path: str, key: str) -> bytes",
        reference=_reference,
        rfc="§4.1",
        cases=(
            _case("127.0.0.1:8765", "/ws", RFC_SAMPLE_KEY, "the RFC 6455 §1.3 key, to /ws", "§1.3"),
            _case("server.example.com", "/chat", "x3JJHMbDL1EzLkh9GBhXDw==", "seed 000's Host, path and key"),
            _case("example.com", "/", "sN9cRrP/n9NdMgdcy2VJFQ==", "seed 001's Host, path and key"),
            _case(
                "localhost:8888",
                "/chat?room=1",
                "AQIDBAUGBwgJCgsMDQ4PEA==",
                "a query string stays in the target",
            ),
        ),
        random_cases=_random_cases,
        random_count=3,
        compare=_compare,
        diagnose=_diagnose_request,
        mistakes=(
            Mistake("no empty line at the end", _no_empty_line, "finish with \\r\\n\\r\\n"),
            Mistake("\\n line ends", _bare_lf, "not a bare \\n"),
            Mistake("no Host header", _no_host, "the Host header is missing"),
            Mistake("Sec-WebSocket-Version: 8", _version_8, "would answer 426"),
            Mistake("HTTP/1.0", _http_1_0, "WebSocket needs HTTP/1.1"),
            Mistake("returns str", _as_str, "return bytes, not str"),
        ),
        explanation="The request line, five header lines, each ending in CR LF, and an empty line.",
    )
)


# --- The checkpoint ---------------------------------------------------------------------------

register_quiz(
    "02.checkpoint",
    "Checkpoint: the HTTP upgrade",
    [
        Question(
            "A server that speaks version 13 receives Sec-WebSocket-Version: 8. What does it answer?",
            1,
            "RFC 6455 §4.2.2: a version it does not speak gets an error such as 426 Upgrade Required,"
            " with Sec-WebSocket-Version listing the versions it does speak, so the client can retry.",
            choices=(
                "400 Bad Request and nothing else",
                "426 Upgrade Required with Sec-WebSocket-Version: 13",
                "101 Switching Protocols: version 8 is close enough",
                "it closes the TCP connection without an answer",
            ),
            rfc="§4.2.2",
        ),
        Question(
            "How many characters does a valid Sec-WebSocket-Key have?",
            24,
            "16 random bytes in base64 take 24 characters, the last two '=' (RFC 6455 §4.1). Seed 004's"
            " x4JJHMbDL22zLk1GBhXDw== has 23, so a server answers 400.",
            rfc="§4.1",
        ),
        Question(
            "Seed 001's 101 answer carries Sec-WebSocket-Location. What does an RFC 6455 server send"
            " instead?",
            2,
            "Sec-WebSocket-Location and Sec-WebSocket-Origin come from an old draft (hixie-76). The 101 of"
            " RFC 6455 §4.2.2 carries Upgrade, Connection and Sec-WebSocket-Accept (plus the chosen"
            " subprotocol): the client already knows the URL it asked for.",
            choices=(
                "Sec-WebSocket-Origin with the page's origin",
                "Location, as in a redirect",
                "no such header: Upgrade, Connection, Sec-WebSocket-Accept (and the subprotocol it chose)",
                "Sec-WebSocket-Key, sent back unchanged",
            ),
            rfc="§4.2.2",
        ),
        Question(
            "Seed 000's server calls log.Fatal when an upgrade fails. A browser opens its /ws URL as a page."
            " What happens?",
            3,
            "log.Fatal exits the whole process: the browser gets no answer, every open WebSocket is cut"
            " without a Close frame (1006 at the peers), and nobody listens any more. A server answers a bad"
            " request with its HTTP error (here 426) and goes on.",
            choices=(
                "the browser gets 426 Upgrade Required",
                "only that connection is closed",
                "the request is retried as a WebSocket",
                "the whole server exits; every open connection drops",
            ),
        ),
        Question(
            "Which bytes end the header section of the request?",
            0,
            "An empty line: the last header's CR LF followed by one more CR LF (RFC 9112 §2.1). Until it"
            " arrives, a server keeps reading and does not answer.",
            choices=("\\r\\n\\r\\n", "\\r\\n", "\\0", "the end of the TCP connection"),
        ),
    ],
)
