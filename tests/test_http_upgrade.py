"""Chapter 02, the HTTP upgrade by hand: raw_exchange, the HandshakeEditor widget, the
exercises' tables checked against the live demo server, and seed 000's log.Fatal port."""

from __future__ import annotations

import base64
import hashlib
import socket
import time
from collections.abc import Iterator

import pytest

from wslearn.demo.seedports import start_seed
from wslearn.errors import ConnectionClosed
from wslearn.exercises import check, get
from wslearn.exercises.ch02 import CLASSIFY_ANSWERS, classification_requests, upgrade_request_problem
from wslearn.notebook import BackgroundServer, SyncClient, start_demo
from wslearn.notebook.raw import (
    BREAKS,
    SEED_HOSTS,
    SEED_REQUESTS,
    break_request,
    core_verdict,
    good_request,
    raw_exchange,
    show_bytes,
    show_bytes_html,
)
from wslearn.notebook.widgets import HandshakeEditor
from wslearn.notebook.widgets.handshake import request_bytes

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@pytest.fixture(scope="module")
def demo() -> Iterator[BackgroundServer]:
    server = start_demo("test-http-upgrade", allowed_hosts=SEED_HOSTS)
    yield server
    server.stop()


def host_of(server: BackgroundServer) -> str:
    return f"127.0.0.1:{server.port}"


# --- raw_exchange against the demo server -----------------------------------------------------


def test_a_valid_request_gets_101_with_the_right_accept(demo: BackgroundServer) -> None:
    key = base64.b64encode(b"0123456789abcdef").decode()
    answer = raw_exchange("127.0.0.1", demo.port, good_request(host_of(demo), key=key))
    assert answer.status == 101, answer.text()
    assert answer.raw.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert answer.raw.endswith(b"\r\n\r\n")
    expected = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()  # §4.2.2, by hand
    assert answer.response is not None
    assert answer.response.headers["Sec-WebSocket-Accept"] == expected
    assert "Sec-WebSocket-Location" not in answer.response.headers  # an obsolete draft's header
    assert "matches our key" in answer.rule
    # raw_exchange ends the WebSocket with a Close 1000, and the server answers with its own.
    assert answer.after == b"\x88\x02\x03\xe8"


def test_the_server_sees_a_clean_close_after_a_raw_101(demo: BackgroundServer) -> None:
    started = time.time()
    raw_exchange("127.0.0.1", demo.port, good_request(host_of(demo)))
    closes = [
        e for e in demo.event_log.events() if e.time >= started and e.kind == "frame" and e.opcode == "CLOSE"
    ]
    assert [(e.direction, e.masked) for e in closes] == [("in", True), ("out", False)]


@pytest.mark.parametrize("name", list(BREAKS))
def test_each_break_gets_its_status(demo: BackgroundServer, name: str) -> None:
    answer = raw_exchange("127.0.0.1", demo.port, break_request(name, host_of(demo)))
    assert answer.status == BREAKS[name].status, answer.text()
    assert answer.reason, "a refusal says why in its body"
    assert "RFC" in answer.rule and "§" in answer.rule


def test_the_refusals_carry_the_headers_http_asks_for(demo: BackgroundServer) -> None:
    host = host_of(demo)
    version = raw_exchange("127.0.0.1", demo.port, break_request("version 8", host)).response
    assert version is not None and version.headers["Sec-WebSocket-Version"] == "13"
    assert "version the server does not speak" in explain(demo, "version 8")
    post = raw_exchange("127.0.0.1", demo.port, break_request("POST", host)).response
    assert post is not None and post.headers["Allow"] == "GET"
    plain = raw_exchange("127.0.0.1", demo.port, break_request("drop Upgrade", host)).response
    assert plain is not None and plain.headers["Upgrade"] == "websocket"
    assert "plain HTTP to a WebSocket-only URL" in explain(demo, "drop Upgrade")
    assert "§4.2.1 item 2" in explain(demo, "no Host")
    assert "§4.2.1 item 5" in explain(demo, "23-character key")
    assert "RFC 6585" in explain(demo, "16 KiB header")


def explain(demo: BackgroundServer, name: str) -> str:
    return raw_exchange("127.0.0.1", demo.port, break_request(name, host_of(demo))).rule


def test_the_seed_requests_as_written(demo: BackgroundServer) -> None:
    answers = {name: raw_exchange("127.0.0.1", demo.port, data) for name, data in SEED_REQUESTS.items()}
    # 000 and 004: their Origin names another host than their Host header.
    assert answers["seed 000"].status == 403
    assert "Origin 'http://example.com'" in answers["seed 000"].reason
    assert answers["seed 000"].core == "a valid upgrade request (101)"
    # 001 asks for "/", where the demo serves its page, not a WebSocket.
    assert answers["seed 001"].status == 404
    # 004: the Origin check comes first; wslearn's core alone refuses the 23-character key.
    assert answers["seed 004"].status == 403
    assert answers["seed 004"].core.startswith("400: Sec-WebSocket-Key must be base64 of 16 bytes")


def test_seed_000_without_its_foreign_origin_gets_chat(demo: BackgroundServer) -> None:
    data = SEED_REQUESTS["seed 000"].replace(b"Origin: http://example.com\r\n", b"")
    answer = raw_exchange("127.0.0.1", demo.port, data)
    assert answer.status == 101
    assert answer.response is not None
    assert answer.response.headers["Sec-WebSocket-Accept"] == "HSmrc0sMlYUkAGmm5OPpG2HaGWk="
    assert answer.response.headers["Sec-WebSocket-Protocol"] == "chat"


def test_a_request_without_its_empty_line_gets_no_answer(demo: BackgroundServer) -> None:
    data = good_request(host_of(demo))[:-2]
    started = time.monotonic()
    answer = raw_exchange("127.0.0.1", demo.port, data, timeout=0.4)
    assert time.monotonic() - started < 2
    assert answer.status is None and answer.raw == b""
    assert "\\r\\n\\r\\n" in answer.error
    assert core_verdict(data).startswith("not finished")


def test_bare_lf_line_ends_are_accepted_by_this_lenient_server(demo: BackgroundServer) -> None:
    data = good_request(host_of(demo)).replace(b"\r\n", b"\n")
    assert raw_exchange("127.0.0.1", demo.port, data).status == 101


def test_nobody_listening_is_a_readable_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    answer = raw_exchange("127.0.0.1", free_port, b"GET / HTTP/1.1\r\n\r\n", timeout=1)
    assert answer.status is None
    assert "ConnectionRefusedError" in answer.error
    assert "no HTTP answer" in answer.rule


def test_show_bytes_marks_line_ends_and_control_bytes() -> None:
    assert show_bytes(b"GET / HTTP/1.1\r\nHost: x\n\r\n") == "GET / HTTP/1.1\\r\\n\nHost: x\\n\n\\r\\n\n"
    assert show_bytes(b"a\x00b\x1b\tc\rd") == "a\\x00b\\x1b\\x09c\\rd"
    assert show_bytes("§".encode() + b"\xff") == "§\\xff"  # UTF-8 text as text, other bytes as \xNN
    assert show_bytes_html(b"<a>\r\n") == "&lt;a&gt;<span style='color:#888'>\\r\\n</span>\n"
    assert show_bytes(b"x" * 10, limit=4) == "xxxx\n… (6 more bytes)"


# --- The HandshakeEditor widget, driven as the browser drives it ------------------------------


def test_the_editor_starts_with_a_valid_request_and_sends_it(demo: BackgroundServer) -> None:
    editor = HandshakeEditor(demo)
    assert f"Host: {host_of(demo)}\n" in editor.editor.value
    assert "(not sent yet" in editor.text()
    editor.send_button.click()
    assert editor.last is not None and editor.last.status == 101
    assert "101 Switching Protocols" in editor.answer.value
    assert "101 Switching Protocols\\r\\n" in editor.text()
    assert "wslearn-handshake-editor" in editor._dom_classes


@pytest.mark.parametrize("name", list(BREAKS))
def test_each_break_button(demo: BackgroundServer, name: str) -> None:
    editor = HandshakeEditor(demo)
    editor.breaks[name].click()
    assert editor.last is not None
    assert editor.last.status == BREAKS[name].status, editor.text()
    assert f"<b style='color:#cf222e'>{BREAKS[name].status} " in editor.html()


def test_a_preset_loads_and_send_sends_it(demo: BackgroundServer) -> None:
    editor = HandshakeEditor(demo)
    editor.presets["seed 004"].click()
    assert "Sec-WebSocket-Key: x4JJHMbDL22zLk1GBhXDw==\n" in editor.editor.value
    assert editor.last is None  # loaded, not sent
    editor.editor.value = editor.editor.value.replace("Origin: http://mashibing.com\n", "")  # an edit
    editor.send_button.click()
    assert editor.last is not None and editor.last.status == 400
    assert "Sec-WebSocket-Key must be base64 of 16 bytes" in editor.last.reason


def test_the_valid_request_preset_gets_a_fresh_key_each_time(demo: BackgroundServer) -> None:
    editor = HandshakeEditor(demo)
    editor.presets["seed 001"].click()
    editor.presets["valid request"].click()
    first = editor.editor.value
    editor.presets["valid request"].click()
    assert first != editor.editor.value and "Sec-WebSocket-Key: " in first
    assert editor.send().status == 101


def test_the_crlf_box(demo: BackgroundServer) -> None:
    assert request_bytes("GET / HTTP/1.1\nHost: x\n\n") == b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    assert request_bytes("a\r\nb\n", crlf=True) == b"a\r\nb\r\n"
    assert request_bytes("a\nb\n", crlf=False) == b"a\nb\n"
    editor = HandshakeEditor(demo, timeout=0.4)
    editor.crlf.value = False
    editor.editor.value = editor.editor.value.rstrip("\n") + "\n"  # no empty line at the end
    editor.send()
    assert editor.last is not None and editor.last.status is None
    assert b"\r" not in editor.last.request
    assert "the request has no empty line" in editor.text()


def test_the_raw_answer_is_escaped(demo: BackgroundServer) -> None:
    editor = HandshakeEditor(demo)
    editor.editor.value = editor.editor.value.replace("GET /ws ", "GET /<script>alert(1)</script> ")
    editor.send()
    assert editor.last is not None and editor.last.status == 404
    assert b"<script>" in editor.last.raw  # the server repeats the path in its 404 body
    for view in (editor.html(), editor.answer.value, editor.last.html()):
        assert "<script>" not in view
        assert "&lt;script&gt;" in view


def test_an_unknown_preset_names_the_known_ones(demo: BackgroundServer) -> None:
    with pytest.raises(KeyError, match="seed 001"):
        HandshakeEditor(demo).load("seed 999")


# --- The exercises, checked against the live server -------------------------------------------


def test_the_classify_table_is_what_the_server_answers(demo: BackgroundServer) -> None:
    requests = classification_requests(host_of(demo))
    assert len(requests) == 10
    answers = {name: raw_exchange("127.0.0.1", demo.port, data) for name, data in requests.items()}
    live = {name: answer.status for name, answer in answers.items()}
    assert live == CLASSIFY_ANSWERS
    for name, answer in answers.items():  # each answer is explained by a rule with its section
        assert "§" in answer.rule and "not a status of the opening handshake" not in answer.rule, name
    table = {case.args[0]: case.expected for case in get("02.classify").cases}
    assert table == live
    assert check("02.classify", live).passed


def test_the_reference_request_opens_a_websocket(demo: BackgroundServer) -> None:
    exercise = get("02.upgrade_request")
    data = exercise.reference(host_of(demo), "/ws", "AQIDBAUGBwgJCgsMDQ4PEA==")
    assert upgrade_request_problem(data, host_of(demo), "/ws", "AQIDBAUGBwgJCgsMDQ4PEA==") is None
    assert raw_exchange("127.0.0.1", demo.port, data).status == 101


def test_what_the_server_does_with_each_typical_mistake(demo: BackgroundServer) -> None:
    mistakes = {m.name: m.answer for m in get("02.upgrade_request").mistakes}
    host, key = host_of(demo), "AQIDBAUGBwgJCgsMDQ4PEA=="
    status = {
        name: raw_exchange("127.0.0.1", demo.port, answer(host, "/ws", key), timeout=0.4).status
        for name, answer in mistakes.items()
        if name != "returns str"
    }
    assert status == {
        "no empty line at the end": None,  # the server is still waiting for the rest
        "\\n line ends": 101,  # wslearn's server is lenient (RFC 9112 §2.2); the exercise is not
        "no Host header": 400,
        "Sec-WebSocket-Version: 8": 426,
        "HTTP/1.0": 400,
    }


def test_a_student_function_that_hangs_or_raises_is_a_readable_failure() -> None:
    def raises(host: str, path: str, key: str) -> bytes:
        raise ValueError("oops")

    result = check("02.upgrade_request", raises, seed=0)
    assert not result.passed and "raised ValueError: oops" in str(result)
    assert not check("02.upgrade_request", lambda host, path, key: None, seed=0).passed


# --- Seed 000's log.Fatal, in a subprocess; the demo, which stays up --------------------------


def test_seed_000_port_dies_on_the_first_failed_upgrade() -> None:
    seed = start_seed()
    try:
        assert seed.alive and start_seed() is seed  # a re-run gets the same process
        host = f"127.0.0.1:{seed.port}"
        # Requests that never reach the handler are not fatal: net/http answers them itself.
        not_routed = raw_exchange(seed.host, seed.port, good_request(host, "/chat"))
        assert not_routed.status == 404 and not_routed.body == "404 page not found\n"
        assert raw_exchange(seed.host, seed.port, b"\x16\x03\x01 not http\r\n\r\n").status == 400
        assert seed.alive
        with SyncClient(f"ws://{host}/ws") as ws:
            ws.send("Hello, WebSocket!")
            assert ws.recv(timeout=5) == "Hello, WebSocket!"
            assert ws.subprotocol is None  # the Go server sets no subprotocols
            # A browser opens the URL as a page: the upgrade fails, log.Fatal ends everything.
            fatal = raw_exchange(seed.host, seed.port, break_request("drop Upgrade", host))
            assert fatal.status is None and fatal.raw == b""
            assert seed.wait(5) == 1
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.code == 1006  # cut without a Close frame
        assert "websocket: upgrade failed: this URL speaks WebSocket only" in seed.stderr
        refused = raw_exchange(seed.host, seed.port, good_request(host))
        assert "ConnectionRefusedError" in refused.error
        again = start_seed()  # the crashed one is replaced on a re-run
        assert again is not seed and again.alive
        again.stop()
        assert not again.alive
    finally:
        seed.stop()


def test_the_demo_answers_the_same_request_and_stays_up(demo: BackgroundServer) -> None:
    with SyncClient(demo.url + "/ws") as ws:
        answer = raw_exchange("127.0.0.1", demo.port, break_request("drop Upgrade", host_of(demo)))
        assert answer.status == 426
        ws.send("still here?")
        assert ws.recv(timeout=5) == "still here?"
    assert demo.running


def test_a_server_with_the_default_names_refuses_the_seed_hosts() -> None:
    server = start_demo("test-http-upgrade-default-hosts")
    try:
        answer = raw_exchange("127.0.0.1", server.port, SEED_REQUESTS["seed 000"])
    finally:
        server.stop()
    assert answer.status == 403
    assert "Host 'server.example.com' is not a name of this server" in answer.reason
    assert answer.rule.startswith("RFC 9110 §7.2, RFC 6455 §10: the Host names another server")
