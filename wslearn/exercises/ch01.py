"""Chapter 01, why WebSocket: predict the bytes of four methods, measure a frame header, and
correct a comparison table of HTTP and WebSocket that circulates in tutorials."""

from __future__ import annotations

from typing import Any

from wslearn.demo.compare import METHODS, predict, wire_sizes
from wslearn.i18n import N_

from .core import Case, Exercise, Mistake, Question, register, register_quiz

# --- 01.bytes_60: predict the bytes for 60 updates -------------------------------------------

UPDATES = 60
#: The sizes of the pieces, as :func:`wire_sizes` builds them for a five-digit port.
SIZES = wire_sizes()
#: How far a prediction may be from the exact count. The notebook prints the sizes of the
#: pieces; an answer built from them is exact. 2 % forgives a rounding, or a first request
#: left out (1.6 % of a polling run), but not a forgotten direction, handshake or SSE request
#: (13 % and more).
TOLERANCE = 0.02
PAYLOAD = 24  # bytes of one update's text
_REQUESTS_ONLY = "count both directions: each poll is a request *and* an answer, each with headers"


def _bytes_60_reference() -> dict[str, int]:
    return {method: predict(method, UPDATES, SIZES) for method in METHODS}


def _close(expected: float, got: Any) -> bool:
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    return abs(got - expected) <= TOLERANCE * expected


def _typical_wrong_bytes(method: str) -> dict[str, float]:
    """Results that a recognisable mistake gives, with the hint for each."""
    s = SIZES
    wrong: dict[str, float] = {
        N_("only the payload counted: the headers around it are most of the bytes"): UPDATES * PAYLOAD,
    }
    if method in ("poll", "longpoll"):
        request, answer = s[f"{method}: request ?after=N"], s["answer with one update"]
        first = s[f"{method}: first request (no after)"]
        wrong[_REQUESTS_ONLY] = first + UPDATES * request
        wrong[
            N_("count both directions: the requests' headers (browser headers, Host) go on the wire too")
        ] = answer + UPDATES * answer
    if method == "websocket":
        setup = s["websocket: handshake request"] + s["websocket: 101 response"]
        wrong[N_("the opening handshake (one request, one 101 answer) is paid once: add it")] = (
            UPDATES * s["websocket: one frame"]
        )
        wrong[N_("each frame has a 2-byte header before its payload (§5.2)")] = setup + UPDATES * PAYLOAD
    if method == "sse":
        paid_once = N_("the one request and the response head are paid once: add them")
        wrong[paid_once] = UPDATES * s["sse: one event"]
    return wrong


def _diagnose_bytes(case: Case, got: Any) -> str | None:
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        return None
    for hint, value in _typical_wrong_bytes(case.args[0]).items():
        if _close(value, got):
            return hint
    return None


register(
    Exercise(
        id="01.bytes_60",
        title="Predict the bytes on the wire for 60 updates",
        signature='{"poll": int, "longpoll": int, "sse": int, "websocket": int}',
        reference=_bytes_60_reference(),
        kind="value",
        rfc="§1.2",
        cases=tuple(
            Case(
                (method,),
                predict(method, UPDATES, SIZES),
                label=f"{method}: bytes for {UPDATES} updates, both directions",
                hint=f"add the sizes of the pieces {method} sends and receives, as the table shows",
            )
            for method in METHODS
        ),
        compare=_close,
        diagnose=_diagnose_bytes,
        mistakes=(
            Mistake("only the payload", dict.fromkeys(METHODS, UPDATES * PAYLOAD), "only the payload"),
            Mistake(
                "no handshake",
                {**_bytes_60_reference(), "websocket": UPDATES * SIZES["websocket: one frame"]},
                "the opening handshake",
            ),
            Mistake(
                "requests only",
                {**_bytes_60_reference(), "poll": _typical_wrong_bytes("poll")[_REQUESTS_ONLY]},
                "count both directions",
            ),
        ),
        explanation=(
            "Polling pays for a request and an answer, headers and all, for every update; "
            "WebSocket pays for one handshake and then 2 bytes per frame."
        ),
    )
)

# --- 01.frame_headers: the "2-byte header" claim, measured -----------------------------------

FRAME_CASES = {
    "server, 10 bytes": 2,
    "client, 10 bytes": 6,
    "server, 200 bytes": 4,
    "client, 200 bytes": 8,
}


def _diagnose_header(case: Case, got: Any) -> str | None:
    key: str = case.args[0]
    client = key.startswith("client")
    long = key.endswith("200 bytes")
    if got == case.expected - 4 and client:
        return N_("a client masks every frame: a 4-byte masking key follows the length (§5.3)")
    if got == case.expected + 4 and not client:
        return N_("a server never masks its frames (§5.1): no masking key")
    if got == case.expected - 2 and long:
        return N_(
            "a payload of 126..65535 bytes needs a 2-byte extended length after the first 2 bytes (§5.2)"
        )
    return None


register(
    Exercise(
        id="01.frame_headers",
        title="How many header bytes does one frame cost?",
        signature='{"server, 10 bytes": int, "client, 10 bytes": int, ...}',
        reference=dict(FRAME_CASES),
        kind="value",
        rfc="§5.2",
        cases=tuple(
            Case((key,), value, label=f"{key} of payload", hint="count the frame's bytes minus the payload")
            for key, value in FRAME_CASES.items()
        ),
        diagnose=_diagnose_header,
        mistakes=(
            Mistake("the seeds' claim", dict.fromkeys(FRAME_CASES, 2), "masking key"),
            Mistake(
                "no extended length",
                {key: 6 if key.startswith("client") else 2 for key in FRAME_CASES},
                "extended length",
            ),
        ),
        explanation="Only a server's frame of at most 125 bytes has a 2-byte header.",
    )
)

# --- 01.http_vs_ws: correct the comparison table ----------------------------------------------------

#: key → (claim, true?, why). The claims are those of a table that circulates in tutorials.
CLAIMS: dict[str, tuple[str, bool, str]] = {
    "same_layer": (
        "Both are application-layer protocols carried over TCP.",
        True,
        "yes: WebSocket runs on TCP, as HTTP/1.1 does (§1.7)",
    ),
    "same_ports": (
        "Both use ports 80 and 443 by default (ws:// and wss:// for WebSocket).",
        True,
        "yes: ws:// defaults to 80 and wss:// to 443 (§3)",
    ),
    "http_one_way": (
        "HTTP is one-way: data only flows from the server to the client.",
        False,
        "a request carries data to the server too (a body, a query, headers); what HTTP lacks is "
        "a way for the server to start an exchange",
    ),
    "server_may_start": (
        "Over HTTP only the client starts an exchange; on a WebSocket either side may send at any time.",
        True,
        "yes: that is the point of WebSocket (§1.1)",
    ),
    "handshake_by_both": (
        "Unlike an HTTP request, the WebSocket handshake is started by both sides together.",
        False,
        "the client starts it with an ordinary HTTP GET (§4.1), the server answers 101 or refuses "
        "(§4.2.2): one request, one answer",
    ),
    "http_cannot_push": (
        "Over plain HTTP a server can never send an update before the client asks for that update.",
        False,
        "server-sent events do: one request, then the server sends each update when it happens",
    ),
    "h2_push_for_messages": (
        "HTTP/2 server push lets a page receive messages from the server's application.",
        False,
        "HTTP/2 push put predicted responses (a stylesheet) into the browser's cache; a page never "
        "saw them as messages, and browsers have since removed it",
    ),
    "two_byte_frames": (
        "A WebSocket frame header is 2 bytes.",
        False,
        "only a server's frame of at most 125 bytes; a client's is at least 6 (the mask, §5.3)",
    ),
}


register(
    Exercise(
        id="01.http_vs_ws",
        title="HTTP versus WebSocket: true or false?",
        signature="{claim key: True or False}",
        reference={key: truth for key, (_claim, truth, _why) in CLAIMS.items()},
        kind="value",
        rfc="§1.1",
        cases=tuple(
            Case((key,), truth, label=claim, hint=("true: " if truth else "false: ") + why)
            for key, (claim, truth, why) in CLAIMS.items()
        ),
        mistakes=(
            Mistake("believe the table", dict.fromkeys(CLAIMS, True), "a request carries data to the server"),
            Mistake(
                "HTTP cannot push",
                {**{key: truth for key, (_c, truth, _w) in CLAIMS.items()}, "http_cannot_push": True},
                "server-sent events",
            ),
        ),
        explanation="The table mixes a true point (who may start) with wrong ones.",
    )
)

# --- The checkpoint ---------------------------------------------------------------------------------------

register_quiz(
    "01.checkpoint",
    "Checkpoint: why WebSocket",
    [
        Question(
            "A page polls every 2 s; updates happen at random moments. How long does an update wait, "
            "on average, before the page has it?",
            1,
            "Each update lands somewhere between two polls, so it waits half the interval on average: "
            "1 s (plus the request's round trip).",
            choices=("about 0 s", "about 1 s", "about 2 s", "about 4 s"),
        ),
        Question(
            "A poll fetches a 24-byte update. Where do most of its bytes go?",
            1,
            "The request line and headers (User-Agent, Accept, cookies) and the answer's status line "
            "and headers: hundreds of bytes, every time.",
            choices=("the update", "HTTP headers, both ways", "the masking key", "TCP acknowledgements"),
        ),
        Question(
            "How many header bytes has a frame a client sends with a 10-byte payload?",
            6,
            "2 bytes (FIN, opcode, MASK, length) and a 4-byte masking key: a client masks every frame "
            "(RFC 6455 §5.3).",
            rfc="§5.3",
        ),
        Question(
            "A browser sends a 2 KB cookie with every request to a site. Over 100 updates on one "
            "WebSocket, how many times does the cookie cross the wire?",
            1,
            "Once, in the opening handshake (RFC 6455 §4.1). Frames carry no headers of HTTP.",
            rfc="§4.1",
        ),
        Question(
            "Updates flow only from the server to the browser, a few a minute, through ordinary HTTP "
            "proxies, and must resume after a network blip. Which fits best?",
            1,
            "Server-sent events: plain HTTP, one-way, and the browser reconnects by itself, sending "
            "Last-Event-ID so the server resumes where it stopped. WebSocket would work, with more to build.",
            choices=("polling every second", "server-sent events", "WebSocket", "a new WebSocket per update"),
        ),
    ],
)
