"""explain: frames field by field, hexdumps, and the text/HTML views of handshake objects."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wslearn.errors import ProtocolError
from wslearn.explain import (
    FrameExplanation,
    accept_steps_html,
    close_html,
    close_text,
    explain_frame,
    explain_frames,
    frame_html,
    frame_text,
    hexdump,
    request_html,
    request_text,
    response_html,
    response_text,
)
from wslearn.frames import (
    Close,
    CloseCode,
    Frame,
    Opcode,
    close_code_range,
    describe_close_code,
    parse_frame,
    serialize_frame,
)
from wslearn.handshake import (
    Headers,
    Request,
    Response,
    accept_key_steps,
    build_accept_response,
    build_request,
)

# RFC 6455 §5.7: a single-frame masked text message "Hello" (from a client).
MASKED_HELLO = bytes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
XSS = "<img src=x onerror=alert(1)>"


def field(explanation: FrameExplanation, name: str) -> tuple[str, str, str, str]:
    """(position, raw, value, meaning) of the field called ``name``."""
    [found] = [f for f in explanation.fields if f.name == name]
    return found.position, found.raw, found.value, found.meaning


def names(explanation: FrameExplanation) -> list[str]:
    return [f.name for f in explanation.fields]


# -- RFC 6455 §5.7, every example ------------------------------------------------------------


def test_masked_hello_field_by_field() -> None:
    e = explain_frame(MASKED_HELLO)
    assert e.complete and e.problems == () and e.size == 11 and e.trailing == 0
    assert e.frame == Frame(Opcode.TEXT, b"Hello", masking_key=bytes.fromhex("37fa213d"))
    assert field(e, "FIN")[:3] == ("bit 0", "1", "1")
    assert field(e, "RSV1")[:3] == ("bit 1", "0", "0")
    assert field(e, "RSV3")[0] == "bit 3"
    assert field(e, "opcode")[:3] == ("bits 4–7", "0001", "0x1 = TEXT")
    assert field(e, "MASK")[:3] == ("bit 8", "1", "1")
    assert field(e, "Payload len")[:3] == ("bits 9–15", "0000101", "5")
    assert field(e, "Masking-key")[:3] == ("bytes 2–5", "37 fa 21 3d", "0x37fa213d")
    assert field(e, "Payload data (masked)")[:3] == ("bytes 6–10", "7f 9f 4d 51 58", "5 bytes")
    assert field(e, "Payload data, unmasked")[:3] == ("bytes 6–10", "48 65 6c 6c 6f", "'Hello'")
    assert e.headline == "TEXT frame, final, masked, 5-byte payload: 'Hello'"
    assert [(start, end, kind) for start, end, kind in e.regions] == [
        (0, 1, "header"),
        (1, 2, "header"),
        (2, 6, "mask"),
        (6, 11, "payload"),
    ]


@pytest.mark.parametrize(
    ("data", "opcode", "fin", "payload"),
    [
        (bytes.fromhex("810548656c6c6f"), "0x1 = TEXT", "1", "'Hello'"),  # unmasked "Hello"
        (bytes.fromhex("010348656c"), "0x1 = TEXT", "0", "'Hel'"),  # first fragment
        (bytes.fromhex("80026c6f"), "0x0 = CONTINUATION", "1", "'lo'"),  # last fragment
        (bytes.fromhex("890548656c6c6f"), "0x9 = PING", "1", "b'Hello'"),  # unmasked ping
        (bytes.fromhex("8a8537fa213d7f9f4d5158"), "0xa = PONG", "1", "b'Hello'"),  # masked pong
    ],
)
def test_rfc_examples(data: bytes, opcode: str, fin: str, payload: str) -> None:
    e = explain_frame(data)
    assert e.complete and not e.problems
    assert e.frame == parse_frame(data)[0]  # type: ignore[index]
    assert field(e, "opcode")[2] == opcode
    assert field(e, "FIN")[2] == fin
    last = e.fields[-1]
    assert last.value == payload and last.kind == "payload"
    assert "Extended payload length" not in names(e)


@pytest.mark.parametrize(
    ("payload", "fin", "summary"),
    [
        # 601 bytes: the byte limit of the summary cuts a "€" in two.
        ("a" + "€" * 200, True, repr("a" + "€" * 79) + "…"),
        # 300 bytes, 100 characters: cut by the character limit.
        ("€" * 100, True, repr("€" * 80) + "…"),
        # A first fragment that ends inside "é": the rest is in the next frame.
        ("café", False, "'caf'"),
        ("café", True, "'café'"),
    ],
)
def test_the_summary_never_shows_a_false_replacement_character(payload: str, fin: bool, summary: str) -> None:
    data = payload.encode()
    data = data[:-1] if not fin else data
    e = explain_frame(serialize_frame(Frame(Opcode.TEXT, data, fin=fin)))
    assert e.headline.endswith(f"-byte payload: {summary}")
    assert "�" not in e.headline


@pytest.mark.parametrize(
    ("size", "seven_bits", "where", "raw"),
    [
        (256, "126", "bytes 2–3 (bits 16–31)", "01 00"),  # RFC §5.7: 256 bytes binary
        (65536, "127", "bytes 2–9 (bits 16–79)", "00 00 00 00 00 01 00 00"),  # RFC §5.7: 64 KiB
        (65535, "126", "bytes 2–3 (bits 16–31)", "ff ff"),
    ],
)
def test_extended_lengths(size: int, seven_bits: str, where: str, raw: str) -> None:
    data = serialize_frame(Frame(Opcode.BINARY, bytes(size)))
    e = explain_frame(data)
    assert e.complete and e.payload_length == size and e.size == len(data)
    assert field(e, "Payload len")[2] == seven_bits
    position, raw_shown, value, meaning = field(e, "Extended payload length")
    assert (position, raw_shown, value) == (where, raw, str(size))
    assert meaning == f"the payload is {size} bytes"  # the shortest form: no remark
    assert f"{size}-byte payload" in e.headline


@pytest.mark.parametrize("size", [0, 125])
def test_short_lengths(size: int) -> None:
    e = explain_frame(serialize_frame(Frame(Opcode.BINARY, b"x" * size)))
    assert field(e, "Payload len")[2] == str(size)
    assert "Extended payload length" not in names(e)
    assert e.complete and e.payload_length == size


def test_non_minimal_length_is_remarked() -> None:
    # 5 bytes written in the 16-bit form: receivers accept it, RFC 6455 §5.2 says MUST NOT.
    e = explain_frame(bytes([0x82, 126, 0, 5]) + b"12345")
    assert e.complete
    assert "§5.2 asks for the shortest" in field(e, "Extended payload length")[3]


# -- incomplete frames: explain what arrived, say what is missing ----------------------------


def test_every_prefix_is_explained_as_far_as_it_goes() -> None:
    full = names(explain_frame(MASKED_HELLO))
    expected_missing = {
        0: "byte 0: FIN, RSV1-3 and the opcode (0 of 1 bytes arrived)",
        1: "byte 1: MASK and the payload length (0 of 1 bytes arrived)",
        2: "the masking key, bytes 2–5 (0 of 4 bytes arrived)",
        5: "the masking key, bytes 2–5 (3 of 4 bytes arrived)",
        6: "the rest of the payload (0 of 5 bytes arrived)",
        9: "the rest of the payload (3 of 5 bytes arrived)",
    }
    for end in range(len(MASKED_HELLO)):
        e = explain_frame(MASKED_HELLO[:end])
        assert not e.complete and e.frame is None and e.problems == ()
        assert e.headline.startswith(f"Incomplete frame ({end} bytes): waiting for ")
        if end in expected_missing:
            assert e.missing == expected_missing[end]
        assert names(e) == full[: len(names(e))]  # the fields that arrived, in order
        assert str(e) and e._repr_html_()
    partial = explain_frame(MASKED_HELLO[:8])
    assert field(partial, "Payload data (masked)")[2] == "2 bytes of 5"
    assert field(partial, "Payload data, unmasked")[2] == "'He'"  # unmasked as far as it goes


def test_incomplete_extended_length() -> None:
    e = explain_frame(bytes([0x82, 127, 0, 0]))
    assert e.missing == "the extended payload length, bytes 2–9 (bits 16–79) (2 of 8 bytes arrived)"
    assert e.size is None and e.payload_length is None


# -- frames that break rules: the problem and the receiver's close code ---------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (bytes([0x83, 0x00]), ["opcode 0x3 is reserved", "1002"]),
        (bytes([0x8B, 0x00]), ["opcode 0xb is reserved", "1002"]),
        (bytes([0xC1, 0x00]), ["RSV1 is set but no extension was negotiated", "1002"]),
        (bytes([0xA1, 0x00]), ["RSV2 is set"]),
        (bytes([0x91, 0x00]), ["RSV3 is set"]),
        (bytes([0x89, 126, 0, 126]) + bytes(126), ["control frames allow 125", "1002"]),
        (bytes([0x09, 0x00]), ["must not be fragmented", "1002"]),
        (bytes([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]), ["most significant bit", "1002"]),
        (bytes([0x81, 0x02, 0xC3, 0x28]), ["not valid UTF-8", "1007"]),
        (bytes([0x88, 0x01, 0x03]), ["1 byte is invalid", "1002"]),
        (bytes([0x88, 0x02, 0x03, 0xED]), ["1005", "not allowed on the wire"]),
        (bytes([0x88, 0x03, 0x03, 0xE8, 0xFF]), ["reason of a Close frame must be UTF-8", "1007"]),
    ],
)
def test_problems_are_explained_not_raised(data: bytes, words: list[str]) -> None:
    e = explain_frame(data)
    text = " ".join(e.problems)
    for word in words:
        assert word in text
    assert "problem: " in str(e)
    assert html.escape(e.problems[0]) in e._repr_html_()


def test_reserved_opcode_is_named_in_the_field() -> None:
    e = explain_frame(bytes([0x83, 0x00]))
    assert field(e, "opcode")[2:] == (
        "0x3 (reserved)",
        "reserved for future non-control frames: a receiver fails with 1002 (§5.2)",
    )
    assert e.headline == "reserved opcode 0x3 frame, final, unmasked, 0-byte payload"
    assert e.frame is None


def test_split_utf8_is_fine_in_a_fragment_but_not_at_the_end() -> None:
    euro = "€".encode()  # 3 bytes
    assert explain_frame(bytes([0x01, 2]) + euro[:2]).problems == ()  # FIN=0: more follows
    assert "1007" in explain_frame(bytes([0x81, 2]) + euro[:2]).problems[0]


# -- close frames ---------------------------------------------------------------------------


def test_close_frame_fields() -> None:
    data = serialize_frame(Frame(Opcode.CLOSE, Close(1001, "bye").serialize(), masking_key=b"abcd"))
    e = explain_frame(data)
    assert e.complete and not e.problems
    assert field(e, "Close code")[1:3] == ("03 e9", "1001")
    assert field(e, "Close code")[3] == CloseCode.GOING_AWAY.meaning
    assert field(e, "Close reason")[2] == "'bye'"
    assert e.headline.endswith(f"{describe_close_code(1001)} 'bye'")


def test_empty_close_means_1005() -> None:
    e = explain_frame(bytes([0x88, 0x00]))
    assert not e.problems
    assert "1005" in field(e, "Close code")[3]


def test_close_code_ranges() -> None:
    e = explain_frame(bytes([0x88, 0x02]) + (4000).to_bytes(2, "big"))
    assert not e.problems and field(e, "Close code")[3] == close_code_range(4000)


# -- several frames, trailing bytes ---------------------------------------------------------


def test_trailing_bytes_and_explain_frames() -> None:
    ping = serialize_frame(Frame(Opcode.PING, b"?"))
    data = MASKED_HELLO + ping + MASKED_HELLO[:3]
    first = explain_frame(data)
    assert first.complete and first.size == 11 and first.trailing == len(data) - 11
    assert "then 6 more bytes" in first.headline
    explained = explain_frames(data)
    assert [e.frame.opcode if e.frame else None for e in explained] == [Opcode.TEXT, Opcode.PING, None]
    assert not explained[2].complete
    assert explain_frames(data, limit=1) == [first]
    assert explain_frames(b"") == []


def test_explain_frames_stops_at_a_broken_frame() -> None:
    data = MASKED_HELLO + bytes([0x83, 0x00]) + MASKED_HELLO
    explained = explain_frames(data)
    assert len(explained) == 2 and explained[1].problems


# -- Hypothesis: any bytes are explained, never raise, and agree with parse_frame -----------

frame_strategy = st.builds(
    Frame,
    opcode=st.sampled_from(list(Opcode)),
    payload=st.binary(max_size=300),
    fin=st.booleans(),
    rsv1=st.booleans(),
    masking_key=st.one_of(st.none(), st.binary(min_size=4, max_size=4)),
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=200), frame_strategy.map(serialize_frame)))
def test_any_bytes_are_explained_consistently_with_parse_frame(data: bytes) -> None:
    e = explain_frame(data)
    text, page = str(e), e._repr_html_()
    assert text and page.startswith('<div class="wslearn-frame">')
    try:
        parsed = parse_frame(data)
    except ProtocolError as error:
        assert e.frame is None and any(error.reason in problem for problem in e.problems)
        return
    if parsed is None:
        assert not e.complete and e.frame is None and e.missing
    else:
        frame, used = parsed
        assert e.frame == frame and e.complete and e.size == used
        assert e.trailing == len(data) - used


@settings(max_examples=200, deadline=None)
@given(frame_strategy)
def test_payload_fields_show_the_unmasked_payload(frame: Frame) -> None:
    e = explain_frame(serialize_frame(frame))
    assert e.frame is not None or e.problems
    if frame.payload and frame.opcode is not Opcode.CLOSE:
        shown = e.fields[-1].raw
        assert shown.startswith(frame.payload[:32].hex(" "))


# -- hexdump --------------------------------------------------------------------------------


def test_hexdump_of_the_rfc_frame() -> None:
    assert hexdump(MASKED_HELLO) == ("0000  81 85 37 fa 21 3d 7f 9f  4d 51 58                 |..7.!=..MQX|")


def test_hexdump_columns_and_limit() -> None:
    data = bytes(range(0x41, 0x41 + 20))  # "ABCD…"
    lines = hexdump(data).splitlines()
    assert lines[0] == "0000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|"
    assert lines[1].startswith("0010  51 52 53 54") and lines[1].endswith("|QRST|")
    assert lines[0].index("|") == lines[1].index("|")  # the ASCII column stays aligned
    assert hexdump(b"") == "(0 bytes)"
    assert hexdump(bytes(100), limit=32).splitlines()[-1] == "… 68 more bytes"
    assert len(hexdump(bytes(100), width=8).splitlines()) == 13
    big = hexdump(bytes(70000), limit=None).splitlines()
    # Offsets grow a digit past 0xffff, on every line: 70000 bytes end at 0x1116f.
    assert big[0].startswith("00000  ") and big[-1].startswith("11160  ")


# -- HTML is always escaped -----------------------------------------------------------------


def test_html_escapes_a_text_payload() -> None:
    data = serialize_frame(Frame(Opcode.TEXT, XSS.encode(), masking_key=b"\x01\x02\x03\x04"))
    page = explain_frame(data)._repr_html_()
    assert "<img" not in page
    assert html.escape(repr(XSS)) in page
    assert "<table" in page and "<pre>" in page
    assert page == frame_html(Frame(Opcode.TEXT, XSS.encode(), masking_key=b"\x01\x02\x03\x04"))


def test_html_escapes_close_reason_and_headers() -> None:
    data = serialize_frame(Frame(Opcode.CLOSE, Close(1000, "<script>x</script>").serialize()))
    assert "<script>" not in explain_frame(data)._repr_html_()
    assert "<script>" not in close_html(Close(1000, "<script>x</script>"))
    req = build_request("h", key="dGhlIHNhbXBsZSBub25jZQ==", extra_headers=[("X-Note", XSS)])
    assert "<img" not in request_html(req) and "<img" not in req._repr_html_()
    resp = Response(400, "Bad <Request>", headers=Headers([("X-Why", XSS)]), body=XSS.encode())
    page = response_html(resp)
    assert "<img" not in page and "Bad &lt;Request&gt;" in page
    assert html.escape(XSS) in page and resp._repr_html_() == page


def test_html_hexdump_colours_each_field_and_stops_at_256_bytes() -> None:
    page = explain_frame(serialize_frame(Frame(Opcode.BINARY, bytes(300), masking_key=b"abcd")))._repr_html_()
    assert "… 52 more bytes" in page  # 2 + 2 + 4 + 300 = 308 bytes, 256 shown
    hello = explain_frame(MASKED_HELLO)._repr_html_()
    for kind, byte in (("header", "81"), ("mask", "37"), ("payload", "7f")):
        assert re.search(rf'<span style="background:[^"]+;color:#000">{byte}</span>', hello), kind


def test_html_has_no_unescaped_markup_from_any_payload() -> None:
    # Only our own tags may appear: every < in the page starts one of them.
    data = serialize_frame(Frame(Opcode.BINARY, b"<>&\"'" * 10))
    page = explain_frame(data)._repr_html_()
    tags = set(re.findall(r"</?([a-z]+)", page))
    assert tags <= {"div", "p", "b", "table", "thead", "tbody", "tr", "th", "td", "pre", "span"}


# -- text and HTML views of handshake objects and closes ------------------------------------


def secret_request() -> Request:
    return build_request(
        "127.0.0.1:8888",
        "/proxy/8765/ws?token=abc123&room=1",
        key="dGhlIHNhbXBsZSBub25jZQ==",
        extra_headers=[
            ("Cookie", "_xsrf=2|secret; username-localhost=topsecret"),
            ("Authorization", "Bearer eyJhbGciOi"),
        ],
    )


def test_request_views_hide_credentials() -> None:
    req = secret_request()
    text = str(req)
    assert text == request_text(req)
    assert text.splitlines()[0] == "GET /proxy/8765/ws?token=[redacted]&room=1 HTTP/1.1"
    assert "Cookie: _xsrf=[redacted]; username-localhost=[redacted]" in text
    assert "Authorization: Bearer [redacted]" in text
    for secret in ("abc123", "secret", "topsecret", "eyJhbGciOi"):
        assert secret not in text
        assert secret not in request_html(req)
    assert "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" in text  # not a credential
    raw = request_text(req, redact=False)
    assert "token=abc123" in raw and "topsecret" in raw


def test_response_views() -> None:
    req = build_request("h", key="dGhlIHNhbXBsZSBub25jZQ==")
    resp = build_accept_response(req, extra_headers=[("Set-Cookie", "sid=42; HttpOnly")])
    text = response_text(resp)
    assert text.splitlines()[0] == "HTTP/1.1 101 Switching Protocols"
    assert "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in text
    assert "Set-Cookie: sid=[redacted]; HttpOnly" in text and str(resp) == text
    page = response_html(resp)
    assert 'title="base64(SHA-1(key + GUID))' in page  # hover a header to learn its job
    error = Response(404, "Not Found", body=b"x" * 3000)
    assert "… (1000 more bytes)" in response_text(error)


def test_close_views() -> None:
    text = close_text(Close(1000, "bye"))
    assert describe_close_code(1000) in text
    assert close_code_range(1000) in text
    assert "'bye'" in text
    assert "03 e8 62 79 65" in text
    assert "cannot be sent" in close_text(Close(1006))
    assert "(none)" in close_text(Close(1001))
    assert "<table" in close_html(Close(4000, "app"))


def test_accept_steps_views() -> None:
    steps = accept_key_steps("dGhlIHNhbXBsZSBub25jZQ==")
    page = accept_steps_html(steps)
    assert page == steps._repr_html_()
    for value in (steps.concatenated, steps.sha1_hex, steps.accept):
        assert html.escape(value) in page
    escaped = accept_steps_html(accept_key_steps("<b>"))
    assert "&lt;b&gt;" in escaped and "<b>" not in escaped


def test_frame_text() -> None:
    text = frame_text(Frame(Opcode.TEXT, b"Hello", masking_key=bytes.fromhex("37fa213d")))
    assert text == str(explain_frame(MASKED_HELLO))
    assert text.splitlines()[0] == "TEXT frame, final, masked, 5-byte payload: 'Hello'"
    assert "Masking-key" in text and "0x37fa213d" in text


def test_frames_and_closes_render_themselves_in_a_notebook() -> None:
    # Jupyter calls _repr_html_ on the last value of a cell: a Frame or a Close shows the
    # same escaped table as explain's views.
    from wslearn.frames import Close, Frame, Opcode

    frame = Frame(Opcode.TEXT, b"<img src=x onerror=alert(1)>")
    assert frame._repr_html_() == frame_html(frame)
    assert "<img" not in frame._repr_html_()
    close = Close(1000, "<b>bye</b>")
    assert close._repr_html_() == close_html(close)
    assert "<b>bye" not in close._repr_html_()
