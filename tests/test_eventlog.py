"""The event log: bounded, thread-safe, observable, and never storing credentials."""

from __future__ import annotations

import threading

import pytest

from wslearn.eventlog import MAX_RAW, REDACTED, EventLog, LogEvent, redact_headers, redact_http, redact_target
from wslearn.frames import Close, Frame, Opcode, serialize_frame


def test_record_returns_and_stores_the_event() -> None:
    log = EventLog()
    event = log.record(7, "in", "frame", opcode="TEXT", length=5, masked=True, preview="'hello'", raw=b"x")
    assert isinstance(event, LogEvent)
    assert log.events() == [event]
    assert (event.conn_id, event.direction, event.kind, event.opcode) == (7, "in", "frame", "TEXT")
    assert len(log) == 1


def test_log_keeps_only_the_last_maxlen_events() -> None:
    log = EventLog(maxlen=3)
    for i in range(10):
        log.record(i, "-", "open")
    assert [event.conn_id for event in log.events()] == [7, 8, 9]
    log.clear()
    assert log.events() == []


def test_raw_bytes_are_capped_but_length_is_the_real_size() -> None:
    log = EventLog()
    frame = Frame(Opcode.BINARY, b"\x00" * (MAX_RAW * 4))
    event = log.record_frame(1, "out", frame, serialize_frame(frame))
    assert len(event.raw) == MAX_RAW
    assert event.length == MAX_RAW * 4


def test_subscribers_get_each_event_until_they_unsubscribe() -> None:
    log = EventLog()
    seen: list[int] = []
    unsubscribe = log.subscribe(lambda event: seen.append(event.conn_id))
    log.record(1, "-", "open")
    unsubscribe()
    unsubscribe()  # twice is harmless
    log.record(2, "-", "open")
    assert seen == [1]


def test_a_failing_subscriber_does_not_stop_recording_or_other_subscribers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = EventLog()
    seen: list[LogEvent] = []

    def broken(event: LogEvent) -> None:
        raise RuntimeError("widget bug")

    log.subscribe(broken)
    log.subscribe(seen.append)
    log.record(1, "-", "open")
    assert len(seen) == 1 and len(log) == 1
    assert "widget bug" in caplog.text


def test_recording_from_many_threads_loses_nothing() -> None:
    log = EventLog(maxlen=100_000)
    counted: list[int] = []
    lock = threading.Lock()

    def count(event: LogEvent) -> None:
        with lock:
            counted.append(event.conn_id)

    log.subscribe(count)

    def work(conn_id: int) -> None:
        for _ in range(2000):
            log.record(conn_id, "in", "frame")
            log.events()  # readers at the same time

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(log) == 16000
    assert sorted(counted) == sorted(e.conn_id for e in log.events())


def test_str_is_one_readable_line() -> None:
    frame = Frame(Opcode.TEXT, b"hello", masking_key=b"\x01\x02\x03\x04")
    event = EventLog().record_frame(3, "in", frame, serialize_frame(frame))
    line = str(event)
    assert "\n" not in line
    assert "#3" in line and "in" in line and "TEXT" in line and "5 B" in line
    assert "masked" in line and "'hello'" in line


def test_frame_previews() -> None:
    log = EventLog()
    close = Frame(Opcode.CLOSE, Close(1001, "bye").serialize())
    assert "1001" in log.record_frame(1, "out", close, b"").preview
    assert "bye" in log.record_frame(1, "out", close, b"").preview
    binary = Frame(Opcode.BINARY, b"\x00\x01\xff")
    assert log.record_frame(1, "out", binary, b"").preview == "00 01 ff"
    long_text = Frame(Opcode.TEXT, ("é" * 500).encode())
    preview = log.record_frame(1, "out", long_text, b"").preview
    assert preview.endswith("…") and len(preview) < 100
    bad_close = Frame(Opcode.CLOSE, b"\x03")  # malformed: shown as bytes, no exception
    assert log.record_frame(1, "in", bad_close, b"").preview == repr(b"\x03")
    continuation = Frame(Opcode.CONTINUATION, "suite ✓".encode()[:-1])  # a cut character is fine
    assert "suite" in log.record_frame(1, "in", continuation, b"").preview


def test_the_fin_bit_marks_a_fragment() -> None:
    log = EventLog()
    first = log.record_frame(1, "in", Frame(Opcode.TEXT, b"Hel", fin=False), b"")
    last = log.record_frame(1, "in", Frame(Opcode.CONTINUATION, b"lo"), b"")
    assert (first.fin, last.fin) == (False, True)
    assert "FIN=0" in str(first) and "FIN=0" not in str(last)
    assert "FIN=0" not in str(log.record_frame(1, "in", Frame(Opcode.TEXT, b"whole"), b""))


def test_continuations_preview_as_their_message_type() -> None:
    # Connection 1 sends a binary message of ASCII-looking bytes, connection 2 a text one,
    # fragment by fragment and interleaved: each continuation is shown as its message is.
    log = EventLog()
    log.record_frame(1, "in", Frame(Opcode.BINARY, b"abc", fin=False), b"")
    log.record_frame(2, "in", Frame(Opcode.TEXT, b"caf", fin=False), b"")
    log.record_frame(1, "in", Frame(Opcode.PING, b"ping"), b"")  # control frames in between
    binary = log.record_frame(1, "in", Frame(Opcode.CONTINUATION, b"def", fin=False), b"")
    text = log.record_frame(2, "in", Frame(Opcode.CONTINUATION, "é ✓".encode()), b"")
    binary_end = log.record_frame(1, "in", Frame(Opcode.CONTINUATION, b"ghi"), b"")
    assert (binary.preview, binary_end.preview, text.preview) == ("64 65 66", "67 68 69", "'é ✓'")
    # The other direction of connection 1 is a message of its own.
    assert log.record_frame(1, "out", Frame(Opcode.CONTINUATION, b"xyz"), b"").preview == "'xyz'"


def test_a_text_fragment_cut_inside_a_character_previews_without_a_replacement() -> None:
    log = EventLog()
    fragment = Frame(Opcode.TEXT, "suite ✓".encode()[:-1], fin=False)
    assert log.record_frame(1, "in", fragment, b"").preview == "'suite '"


# --- redaction ----------------------------------------------------------------------------


def test_redact_headers_hides_credential_headers() -> None:
    headers = [
        ("Host", "example.com"),
        ("authorization", "Bearer abc"),
        ("Proxy-Authorization", "Basic xyz"),
        ("Cookie", "_xsrf=1; jupyter-token=2"),
        ("Set-Cookie", "sid=3"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Referer", "http://host/lab?token=4&x=1"),
    ]
    assert redact_headers(headers) == [
        ("Host", "example.com"),
        ("authorization", REDACTED),
        ("Proxy-Authorization", REDACTED),
        ("Cookie", REDACTED),
        ("Set-Cookie", REDACTED),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Referer", f"http://host/lab?token={REDACTED}&x=1"),
    ]
    assert EventLog.redact_headers(headers) == redact_headers(headers)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/ws", "/ws"),
        ("/ws?room=1", "/ws?room=1"),
        ("/ws?token=abc", f"/ws?token={REDACTED}"),
        ("/ws?room=1&access_token=abc&x=2", f"/ws?room=1&access_token={REDACTED}&x=2"),
        ("/ws?AUTH=abc", f"/ws?AUTH={REDACTED}"),
        ("/ws?api_key=k&password=p", f"/ws?api_key={REDACTED}&password={REDACTED}"),
        ("/ws?monkey=banana", "/ws?monkey=banana"),  # "key" only as a whole name
    ],
)
def test_redact_target(target: str, expected: str) -> None:
    assert redact_target(target) == expected


def test_redact_http_request_keeps_the_shape() -> None:
    raw = (
        b"GET /api/kernels?token=SECRET HTTP/1.1\r\n"
        b"Host: localhost:8888\r\n"
        b"Authorization: token SECRET\r\n"
        b"Cookie: username-localhost=SECRET\r\n"
        b"Upgrade: websocket\r\n\r\n"
    )
    clean = redact_http(raw)
    assert b"SECRET" not in clean
    assert clean.startswith(b"GET /api/kernels?token=[redacted] HTTP/1.1\r\n")
    assert b"Upgrade: websocket\r\n\r\n" in clean


def test_redact_http_response_keeps_the_body() -> None:
    raw = b"HTTP/1.1 403 Forbidden\r\nSet-Cookie: sid=SECRET\r\nContent-Length: 4\r\n\r\nnope"
    clean = redact_http(raw)
    assert b"SECRET" not in clean
    assert clean.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert clean.endswith(b"\r\n\r\nnope")


def test_record_http_never_stores_credentials() -> None:
    log = EventLog()
    raw = b"GET /?token=SECRET HTTP/1.1\r\nAuthorization: Basic SECRET\r\n\r\n"
    event = log.record_http(1, "in", raw)
    assert b"SECRET" not in event.raw
    assert "SECRET" not in event.preview and "SECRET" not in str(event)
    assert event.preview == "GET /?token=[redacted] HTTP/1.1"
    assert event.length == len(raw)


def test_keep_frame_formats_later_what_record_frame_formats_at_once() -> None:
    # keep_frame is the server's cheap path: the same events, formatted when read.
    frames = [
        Frame(Opcode.TEXT, b"hello"),
        Frame(Opcode.TEXT, "é✓ ".encode() * 100, fin=False),  # a long text, cut in the preview
        Frame(Opcode.PING, b"ping"),
        Frame(Opcode.CONTINUATION, b"more", fin=False),
        Frame(Opcode.CONTINUATION, b"end"),
        Frame(Opcode.BINARY, bytes(range(200)), masking_key=b"abcd"),
        Frame(Opcode.BINARY, b"\xff\xfe", fin=False),
        Frame(Opcode.CONTINUATION, b"\x00\x01"),
        Frame(Opcode.CLOSE, Close(1001, "bye").serialize()),
        Frame(Opcode.CLOSE, b"\x03"),  # malformed: shown as bytes
    ]
    plain, lazy = EventLog(), EventLog()
    for number, frame in enumerate(frames):
        raw = serialize_frame(frame)
        plain.record_frame(1, "in", frame, raw)
        lazy.keep_frame(1, "in", frame, raw)
        if number == 4:
            assert [e.preview for e in lazy.events()] == [e.preview for e in plain.events()]
    strip_time = [(e.opcode, e.length, e.masked, e.preview, e.raw, e.fin) for e in plain.events()]
    assert [(e.opcode, e.length, e.masked, e.preview, e.raw, e.fin) for e in lazy.events()] == strip_time
    assert lazy.events() == lazy.events()  # formatted once, then kept


def test_keep_frame_tells_subscribers_at_once() -> None:
    log = EventLog()
    seen: list[LogEvent] = []
    log.subscribe(seen.append)
    log.keep_frame(2, "out", Frame(Opcode.TEXT, b"hi"), b"\x81\x02hi")
    assert [(e.conn_id, e.direction, e.preview, e.raw) for e in seen] == [(2, "out", "'hi'", b"\x81\x02hi")]
