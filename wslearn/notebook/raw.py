"""The opening handshake by hand: your bytes over a plain TCP socket, the server's bytes back.

::

    from wslearn.notebook.raw import raw_exchange, good_request

    answer = raw_exchange("127.0.0.1", server.port, good_request(f"127.0.0.1:{server.port}"))
    answer.status        # 101
    answer.raw           # every byte the server sent, exactly as it sent them
    answer.response      # the same bytes parsed: a wslearn.handshake.Response
    answer.rule          # which rule of RFC 6455 (or HTTP) decided this answer

No WebSocket library stands between you and the server here: the request goes out as the
bytes you wrote, line ends and typos included, and nothing is "fixed" on the way. That is
how to see what a server does with a request no well-behaved client would send.

The module also holds the requests the lessons send: the seed articles' example requests
(:data:`SEED_REQUESTS`, header values as the articles print them) and one broken request per
rule (:data:`BREAKS`: a valid request with exactly one thing changed).
"""

from __future__ import annotations

import html
import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from wslearn.errors import HandshakeError
from wslearn.frames import Close, Frame, Opcode, serialize_frame
from wslearn.handshake import Request, Response, build_request, check_request, check_response, generate_key
from wslearn.i18n import N_, _

__all__ = [
    "BREAKS",
    "DEFAULT_TIMEOUT",
    "FOREIGN_ORIGIN",
    "SEED_REQUESTS",
    "Break",
    "RawAnswer",
    "break_request",
    "core_verdict",
    "explain_answer",
    "good_request",
    "raw_exchange",
    "show_bytes",
    "show_bytes_html",
]

#: Seconds raw_exchange waits for a whole answer. A request that never ends (no empty
#: line) gets no answer at all: the server is still waiting for the rest of it.
DEFAULT_TIMEOUT = 2.0

#: An Origin no server of this course trusts: a page on another site (RFC 6455 §10.2).
FOREIGN_ORIGIN = "http://evil.example"

# --- The requests the lessons send ---------------------------------------------------------


def _lines(*lines: str) -> bytes:
    """Request lines joined with CRLF, then the empty line that ends the header section."""
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


#: The Host names of the seed requests. A wslearn server on 127.0.0.1 answers only its own
#: names (a defence against DNS rebinding, chapter 10), so the chapter's server lists these in
#: ``allowed_hosts`` to let the requests reach the rules of RFC 6455 §4.2.1.
SEED_HOSTS = ("server.example.com", "example.com", "server.mashibing.com")

#: The example requests of the seed articles, header values exactly as printed there.
#: 000's follows the example of RFC 6455 §1.2 with another key (its Origin names another host
#: than its Host);
#: 001's asks for "/"; 004's key has 23 characters, one short of base64 of 16 bytes.
SEED_REQUESTS: dict[str, bytes] = {
    "seed 000": _lines(
        "GET /chat HTTP/1.1",
        "Host: server.example.com",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==",
        "Sec-WebSocket-Protocol: chat, superchat",
        "Sec-WebSocket-Version: 13",
        "Origin: http://example.com",
    ),
    "seed 001": _lines(
        "GET / HTTP/1.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Host: example.com",
        "Origin: http://example.com",
        "Sec-WebSocket-Key: sN9cRrP/n9NdMgdcy2VJFQ==",
        "Sec-WebSocket-Version: 13",
    ),
    "seed 004": _lines(
        "GET /chat HTTP/1.1",
        "Host: server.mashibing.com",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: x4JJHMbDL22zLk1GBhXDw==",
        "Sec-WebSocket-Protocol: chat",
        "Sec-WebSocket-Version: 13",
        "Origin: http://mashibing.com",
    ),
}

#: The key of seed articles 002 and 004: 23 characters, so not base64 of 16 bytes.
SEED_004_KEY = "x4JJHMbDL22zLk1GBhXDw=="


def good_request(host: str, path: str = "/ws", *, key: str | None = None) -> bytes:
    """A valid opening handshake (RFC 6455 §4.1) for ``host`` (``"127.0.0.1:PORT"``)."""
    return build_request(host, path, key=key or generate_key()).serialize()


def _drop(name: str) -> Callable[[Request], None]:
    return lambda request: request.headers.remove(name)


def _set(name: str, value: str) -> Callable[[Request], None]:
    def change(request: Request) -> None:
        request.headers[name] = value

    return change


def _method(request: Request) -> None:
    request.method = "POST"


def _http_1_0(request: Request) -> None:
    request.version = "HTTP/1.0"


def _big_header(request: Request) -> None:
    request.headers.add("X-Padding", "a" * 16 * 1024)  # larger than the 8 KiB a server reads


@dataclass(frozen=True)
class Break:
    """One thing changed in a valid request, and the status the demo server answers."""

    name: str
    change: Callable[[Request], None]
    status: int
    what: str


#: "Break it": each entry changes one thing in a valid request.
BREAKS: dict[str, Break] = {
    b.name: b
    for b in (
        Break("drop Upgrade", _drop("Upgrade"), 426, "no Upgrade: websocket header"),
        Break("version 8", _set("Sec-WebSocket-Version", "8"), 426, "Sec-WebSocket-Version: 8"),
        Break("POST", _method, 405, "POST instead of GET"),
        Break("HTTP/1.0", _http_1_0, 400, "HTTP/1.0 instead of HTTP/1.1"),
        Break("no Host", _drop("Host"), 400, "no Host header"),
        Break("foreign Origin", _set("Origin", FOREIGN_ORIGIN), 403, f"Origin: {FOREIGN_ORIGIN}"),
        Break("16 KiB header", _big_header, 431, "a 16 KiB header line"),
        Break("23-character key", _set("Sec-WebSocket-Key", SEED_004_KEY), 400, "seed 004's key"),
    )
}


def break_request(name: str, host: str, path: str = "/ws") -> bytes:
    """A valid request for ``host`` with the one change ``BREAKS[name]`` makes."""
    request = build_request(host, path, key=generate_key())
    BREAKS[name].change(request)
    return request.serialize()


# --- Sending it ------------------------------------------------------------------------------


@dataclass
class RawAnswer:
    """What came back for one request: bytes, their parsed form, and why."""

    request: bytes  # what was sent, byte for byte
    raw: bytes = b""  # every byte of the answer, up to its end (the headers, and the body if any)
    response: Response | None = None  # ``raw`` parsed, when it is a whole HTTP response
    after: bytes = b""  # after a 101: the frames that followed (the closing handshake)
    error: str = ""  # why there is no whole answer (refused, timeout, connection dropped)
    rule: str = ""  # the rule that decided: RFC section and what it says
    core: str = ""  # what wslearn's check_request says about the same bytes
    seconds: float = 0.0

    @property
    def status(self) -> int | None:
        """The status code, or None when no whole answer came."""
        return self.response.status if self.response is not None else None

    @property
    def body(self) -> str:
        """The body of the answer, as text: for an error, the server's reason."""
        return self.response.body.decode("utf-8", "replace") if self.response is not None else ""

    @property
    def reason(self) -> str:
        """The first line of the body: the server's one-line reason for a refusal."""
        return self.body.strip().partition("\n")[0]

    def text(self) -> str:
        head = f"{self.status} {self.response.reason}" if self.response is not None else _("no answer")
        sent = _("→ sent {count} bytes, ← {answer} ({ms} ms)")
        lines = [sent.format(count=len(self.request), answer=head, ms=f"{self.seconds * 1000:.0f}")]
        if self.error:
            lines.append(f"  {self.error}")
        lines.append("  " + _("rule: {rule}").format(rule=self.rule))
        lines.append(
            "  " + _("wslearn's check_request on the same bytes: {verdict}").format(verdict=self.core)
        )
        lines += ["", _("the raw answer:"), show_bytes(self.raw) if self.raw else _("(no bytes)")]
        return "\n".join(lines)

    __str__ = text

    def html(self) -> str:
        if self.response is not None:
            colour = "#1a7f37" if self.response.status == 101 else "#cf222e"
            head = f"{self.response.status} {self.response.reason}"
        else:
            colour, head = "#cf222e", _("no answer")
        sent = _("sent {count} bytes").format(count=len(self.request))
        parts = [
            f"<p><b style='color:{colour}'>{esc(head)}</b> · {esc(sent)} · {self.seconds * 1000:.0f} ms</p>"
        ]
        if self.error:
            parts.append(f"<p>{esc(self.error)}</p>")
        parts.append(f"<p><b>{esc(_('Rule:'))}</b> {esc(self.rule)}</p>")
        core = _("wslearn's check_request on the same bytes:")
        parts.append(f"<p><b>{esc(core)}</b> {esc(self.core)}</p>")
        parts.append(f"<p>{esc(_('The raw answer, every byte shown:'))}</p>")
        shown = show_bytes_html(self.raw) if self.raw else esc(_("(no bytes)"))
        parts.append(f"<pre class='wslearn-raw'>{shown}</pre>")
        if self.after:
            after = _("and then {count} bytes of frames: {hex}").format(
                count=len(self.after), hex=self.after.hex(" ")
            )
            parts.append(f"<p>{esc(after)}</p>")
        return f"<div class='wslearn-raw-answer'>{''.join(parts)}</div>"

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return self.text()


def raw_exchange(host: str, port: int, request: bytes, timeout: float = DEFAULT_TIMEOUT) -> RawAnswer:
    """Send ``request`` as it is over a new TCP connection; read the answer (``timeout`` s at most).

    The answer ends with its empty line (plus the body its Content-Length announces). After
    a 101 the connection speaks WebSocket, so we end it properly: a masked Close frame with
    1000 (RFC 6455 §5.5.1), and read the server's Close until it closes TCP (§7.1.1).
    """
    started = time.monotonic()
    answer = RawAnswer(bytes(request))
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            _send(sock, answer)
            _read_answer(sock, answer, started + timeout)
            if answer.status == 101:
                _close_websocket(sock, answer, started + timeout)
    except OSError as error:  # refused, reset before anything came back
        answer.error = f"{type(error).__name__}: {error.strerror or error}"
    answer.seconds = time.monotonic() - started
    answer.rule = explain_answer(answer)
    answer.core = core_verdict(answer.request)
    return answer


def _send(sock: socket.socket, answer: RawAnswer) -> None:
    try:
        sock.sendall(answer.request)
    except OSError as error:  # the server may answer (431) and close before all bytes are in
        closed = _("the server closed the connection while we were sending: {error}")
        answer.error = closed.format(error=error.strerror or error)


def _read_answer(sock: socket.socket, answer: RawAnswer, deadline: float) -> None:
    data = bytearray()
    while True:
        try:
            parsed = Response.parse(data)
        except HandshakeError as error:  # not HTTP at all
            answer.raw, answer.error = bytes(data), error.reason
            return
        if parsed is not None:
            answer.response, used = parsed
            answer.raw, answer.after = bytes(data[:used]), bytes(data[used:])
            return
        chunk = _recv(sock, deadline)
        if chunk is None:
            answer.raw = bytes(data)
            answer.error = _no_answer(answer.request, len(data))
            return
        if not chunk:
            answer.raw = bytes(data)
            if data:
                answer.error = _("the server closed the connection after a partial answer")
            else:
                answer.error = _("the server closed the connection without sending a single byte")
            return
        data += chunk


def _recv(sock: socket.socket, deadline: float) -> bytes | None:
    """The next bytes, ``b""`` at the end of the stream, ``None`` when the deadline passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    sock.settimeout(left)
    try:
        return sock.recv(65536)
    except TimeoutError:
        return None
    except ConnectionError:
        return b""


def _no_answer(request: bytes, received: int) -> str:
    text = _("no whole answer within the time limit ({count} bytes came)").format(count=received)
    if not re.search(rb"\r?\n\r?\n", request):
        text += _(
            ": the request has no empty line, so for the server it is not finished yet;"
            " it is still waiting for more header lines (end the request with \\r\\n\\r\\n)"
        )
    return text


def _close_websocket(sock: socket.socket, answer: RawAnswer, deadline: float) -> None:
    """Start the closing handshake (a client masks its frames, §5.3) and read to the end."""
    close = Frame(Opcode.CLOSE, Close(1000).serialize(), masking_key=os.urandom(4))
    try:
        sock.sendall(serialize_frame(close))
    except OSError:
        return
    after = bytearray(answer.after)
    deadline = min(deadline, time.monotonic() + 1.0)
    while (chunk := _recv(sock, deadline)) and len(after) < 65536:
        after += chunk
    answer.after = bytes(after)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# --- Why: the rule behind the answer -------------------------------------------------------

# (status, what the server's one-line reason contains, the rule). The first match wins.
# A header name reads the same in every language; a phrase is the server's message (a key of
# the catalogue, see _says), so a refusal worded in Chinese finds its rule too.
_RULES: tuple[tuple[int, str, str], ...] = (
    (
        400,
        N_("malformed HTTP request: {error}"),
        N_("RFC 9112 §2–§5: these bytes are not a well-formed HTTP request"),
    ),
    (
        400,
        "Host",
        N_("RFC 6455 §4.2.1 item 2, RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host header"),
    ),
    (
        400,
        "Sec-WebSocket-Key",
        N_("RFC 6455 §4.2.1 item 5: Sec-WebSocket-Key is base64 of 16 bytes (24 characters)"),
    ),
    (400, "HTTP/1.1", N_("RFC 6455 §4.2.1 item 1: the handshake is an HTTP/1.1 (or higher) request")),
    (400, "Connection", N_("RFC 6455 §4.2.1 item 4: Connection must contain the token Upgrade")),
    (400, "Upgrade", N_("RFC 6455 §4.2.1 item 3: Upgrade must contain websocket")),
    (
        400,
        N_("a WebSocket handshake request has no body; got {got}"),
        N_("RFC 6455 §4.1: a handshake request has no body"),
    ),
    (
        403,
        N_("Host {host} is not a name of this server."),
        N_(
            "RFC 9110 §7.2, RFC 6455 §10: the Host names another server; a server on the loopback"
            " answers only its own names (allowed_hosts), against DNS rebinding"
        ),
    ),
    (
        403,
        "",
        N_(
            "RFC 6455 §4.2.2 item 4 (/origin/), §10.2: a server may refuse a page's Origin (or a client)"
            " with 403 Forbidden"
        ),
    ),
    (401, "", N_("RFC 9110 §11.6.1: the server wants credentials before it upgrades")),
    (404, "", N_("RFC 9110 §15.5.5: nothing at this path; the server names its routes in the body")),
    (405, "", N_("RFC 6455 §4.2.1 item 1: the handshake is a GET; RFC 9110 §15.5.6 lists GET in Allow")),
    (408, "", N_("RFC 9110 §15.5.9: the request did not arrive within the server's time limit")),
    (
        426,
        "Sec-WebSocket-Version",
        N_(
            "RFC 6455 §4.2.1 item 6, §4.2.2 item 4: a version the server does not speak gets 426 and"
            " Sec-WebSocket-Version with the versions it does (13)"
        ),
    ),
    (
        426,
        "",
        N_(
            "RFC 6455 §4.2.1 item 3: no Upgrade: websocket, so this is plain HTTP to a WebSocket-only URL:"
            " 426 Upgrade Required, naming the protocol in Upgrade (RFC 9110 §15.5.22)"
        ),
    ),
    (431, "", N_("RFC 6585 §5: the header section is larger than the server reads")),
    (505, "", N_("RFC 9110 §15.6.6: the upgrade of RFC 6455 runs over HTTP/1.1 only")),
)


def explain_answer(answer: RawAnswer) -> str:
    """The rule that decided ``answer``, in one sentence with its RFC section."""
    response = answer.response
    if response is None:
        return _("no HTTP answer, so no rule: see why above")
    if response.status == 101:
        return _explain_101(answer.request, response)
    for status, words, rule in _RULES:
        if status == response.status and _says(answer.reason, words):
            return _(rule)
    return _("status {status}: not a status of the opening handshake").format(status=response.status)


def _says(reason: str, message: str) -> bool:
    """Does ``reason`` contain ``message``, worded in English or in the current language?

    A message with ``{placeholders}`` is looked for by its longest fixed part.
    """
    for wording in {message, _(message)}:
        fixed = max(re.split(r"\{\w*\}", wording), key=len)
        if fixed in reason:
            return True
    return False


def _explain_101(request: bytes, response: Response) -> str:
    try:
        parsed = Request.parse(request)
        key = parsed[0].headers.get("Sec-WebSocket-Key", "") if parsed else ""
        check_response(response, key=key, subprotocols=_offered(parsed[0]) if parsed else ())
    except HandshakeError as error:
        failed = _(
            "RFC 6455 §4.2.2: every check of §4.2.1 passed, so the server switched protocols;"
            " but a client must fail this answer (§4.1): {reason}"
        )
        return failed.format(reason=error.reason)
    return _(
        "RFC 6455 §4.2.2: every check of §4.2.1 passed, so the server switched protocols;"
        " Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) matches our key (§4.2.2 item 5.4)"
    )


def _offered(request: Request) -> list[str]:
    return [p.strip() for v in request.headers.get_all("Sec-WebSocket-Protocol") for p in v.split(",")]


def core_verdict(request: bytes) -> str:
    """What :func:`wslearn.handshake.check_request` says about these bytes, with no Origin policy.

    A server's own rules (its routes, its Origin policy, credentials) come on top, so the
    server's answer may differ: the first check that fails decides.
    """
    try:
        parsed = Request.parse(request)
        if parsed is None:
            return _("not finished: the empty line that ends the header section has not come")
        check_request(parsed[0])
    except HandshakeError as error:
        return f"{error.status}: {error.reason}"
    return _("a valid upgrade request (101)")


def show_bytes(data: bytes, limit: int = 4000) -> str:
    """Bytes as text that shows every byte: each line end written out (``\\r\\n``, or ``\\n`` for
    a bare LF), other control bytes and bytes that are not UTF-8 as ``\\xNN``."""
    text = data[:limit].decode("utf-8", "backslashreplace")
    text = re.sub(
        r"[\x00-\x09\x0b-\x1f\x7f]",
        lambda m: "\\r" if m.group() == "\r" else f"\\x{ord(m.group()):02x}",
        text,
    )
    text = text.replace("\n", "\\n\n")
    return text + (f"\n… ({len(data) - limit} more bytes)" if len(data) > limit else "")


def show_bytes_html(data: bytes, limit: int = 4000) -> str:
    """:func:`show_bytes`, escaped for HTML, with the line ends in grey."""
    shown = esc(show_bytes(data, limit))
    return re.sub(r"(\\r)?\\n", lambda m: f"<span style='color:#888'>{m.group()}</span>", shown)
