"""The message catalogue: the language is chosen as documented, English is the fallback, and the
Chinese catalogue has every key the code and the translated chapters' exercises use."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import CHROMIUM, chromium, require

from wslearn import i18n
from wslearn.errors import HandshakeError
from wslearn.eventlog import EventLog
from wslearn.exercises import check
from wslearn.explain import _close_rows, close_text, explain_frame
from wslearn.frames import Close, CloseCode, Frame, Opcode, describe_close_code, serialize_frame
from wslearn.handshake import (
    Request,
    Response,
    build_error_response,
    build_request,
    check_request,
    check_response,
    server_said,
)
from wslearn.i18n import _, catalogue, display_width, fit, language, normalize, pad, set_language, utf8_length
from wslearn.locale import missing, required, source_messages, translated_chapters
from wslearn.notebook import start_demo
from wslearn.notebook.raw import BREAKS, break_request, good_request, raw_exchange
from wslearn.notebook.widgets.common import RFC_EXAMPLE_KEY

CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{\w*\}")


@pytest.fixture
def chinese() -> Iterator[None]:
    set_language("zh_CN")
    try:
        yield
    finally:
        set_language(None)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for variable in ("WSLEARN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    set_language(None)
    yield monkeypatch
    set_language(None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("zh_CN", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("zh", "zh_CN"),
        ("zh_CN.UTF-8", "zh_CN"),
        ("zh-Hans", "zh_CN"),
        ("en_US.UTF-8", "en"),
        ("C", "en"),
        ("fr_FR", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_language_names(name: str | None, expected: str) -> None:
    assert normalize(name) == expected


def test_english_without_any_setting(clean_environment: pytest.MonkeyPatch) -> None:
    assert language() == "en"
    assert _("random key") == "random key"


def test_wslearn_lang_wins_over_the_locale(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("LANG", "en_US.UTF-8")
    clean_environment.setenv("WSLEARN_LANG", "zh_CN")
    assert language() == "zh_CN"
    assert _("random key") == "随机 key"
    clean_environment.setenv("WSLEARN_LANG", "en")
    clean_environment.setenv("LANG", "zh_CN.UTF-8")
    assert language() == "en"


def test_the_locale_is_used_without_wslearn_lang(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("LANG", "zh_CN.UTF-8")
    assert language() == "zh_CN"
    clean_environment.setenv("LC_ALL", "C")  # LC_ALL comes before LANG, as in POSIX
    assert language() == "en"


def test_set_language_wins_over_the_environment(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("WSLEARN_LANG", "en")
    assert set_language("zh-CN") == "zh_CN"
    assert _("check") == "检查"
    assert set_language(None) == "en"


def test_an_unknown_message_falls_back_to_english(chinese: None) -> None:
    assert _("a sentence nobody translated") == "a sentence nobody translated"
    assert _("") == ""


def test_the_chinese_catalogue_has_no_missing_keys() -> None:
    gaps = missing("zh_CN")
    assert gaps == {}, "untranslated: " + "; ".join(f"{where}: {text!r}" for text, where in gaps.items())


def test_the_chinese_catalogue_has_no_stale_keys() -> None:
    # A key nobody asks for any more is an English text that changed: its translation is stale.
    stale = sorted(set(catalogue("zh_CN")) - set(required("zh_CN")))
    assert stale == []


def test_the_required_keys_cover_code_and_exercises() -> None:
    keys = required("zh_CN")
    assert "random key" in source_messages()  # a widget label, found in the source
    assert CloseCode.POLICY_VIOLATION.meaning in keys
    assert {"00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"} <= set(
        translated_chapters("zh_CN")
    )
    assert "Checkpoint: the accept key" in keys  # a quiz title of a translated chapter


def test_every_translation_keeps_its_placeholders_and_is_chinese() -> None:
    for english, chinese in catalogue("zh_CN").items():
        assert set(PLACEHOLDER.findall(english)) == set(PLACEHOLDER.findall(chinese)), english
        letters = re.sub(r"[\W\d_]", "", english)
        if CJK.search(chinese) is None:
            # Left in English on purpose: header lines, JSON, byte sequences, code, RFC names.
            assert chinese == english, english
            assert len(letters) < 40, f"a sentence left untranslated: {english!r}"


def test_close_code_meanings_follow_the_language(chinese: None) -> None:
    assert CloseCode.INTERNAL_ERROR.meaning.startswith("内部错误（internal error）")
    assert "1011" in describe_close_code(1011)
    assert "内部错误" in describe_close_code(1011)
    set_language("en")
    assert CloseCode.INTERNAL_ERROR.meaning == "internal error: an unexpected condition on the server"


def test_an_exercise_result_speaks_chinese(chinese: None) -> None:
    def accept_key_constant(key: str) -> str:
        return "A" * 28  # the right length, the wrong value: the cases' own hints explain it

    result = check("03.accept_key", accept_key_constant, seed=1)
    assert not result.passed
    assert "个用例中通过" in result.headline()
    assert "提示：" in str(result)
    assert all(CJK.search(hint) for hint in result.hints), result.hints
    assert "<th" in result._repr_html_() and "提示" in result._repr_html_()


def test_an_exercise_failure_in_english_is_unchanged(clean_environment: pytest.MonkeyPatch) -> None:
    result = check("05.apply_mask", lambda payload, key: None)
    assert result.headline().endswith("cases pass")
    assert all(CJK.search(hint) is None for hint in result.hints)


def test_a_students_exception_and_timeout_in_chinese(chinese: None) -> None:
    def broken(payload: bytes, key: bytes) -> bytes:
        raise ValueError("oops")

    result = check("05.apply_mask", broken)
    assert result.hints[0].startswith("抛出了 ValueError：oops")
    assert "broken 的第" in result.hints[0]


def test_utf8_length_counts_bytes() -> None:
    assert utf8_length("你好") == 6
    assert len("你好") == 2
    assert utf8_length("Hello") == 5


def test_the_glossary_keeps_the_rfc_terms() -> None:
    english = {term for term, _chinese, _where in i18n.GLOSSARY}
    assert {"handshake", "frame", "masking key", "heartbeat", "subprotocol"} <= english
    assert any(term.startswith("close code") for term in english)
    for _term, chinese, where in i18n.GLOSSARY:
        assert CJK.search(chinese)
        assert where.startswith("§")


# --- a Chinese widget, as a browser draws it --------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def cjk_font_installed() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    fonts = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, timeout=30, check=False)
    return bool(fonts.stdout.strip())


@pytest.mark.timeout(120)
def test_a_chinese_widget_in_chromium_screenshot(chinese: None) -> None:
    require(CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium package")
    require(cjk_font_installed(), "no CJK font for the screenshot: apt-get install fonts-wqy-microhei")
    from wslearn.notebook.widgets import AcceptKeyWidget, Checkpoint

    accepted = AcceptKeyWidget()
    refused = AcceptKeyWidget("x4JJHMbDL22zLk1GBhXDw==")
    quiz = Checkpoint("03.checkpoint")
    quiz.answer(1, 24)
    quiz.answer(3, "a")
    page_html = (
        "<!doctype html><html lang='zh-CN'><meta charset='utf-8'>"
        "<body style='font-family:sans-serif;max-width:60em'>"
        f"{accepted.html()}{refused.html()}"
        f"{quiz.questions[0].feedback.value}{quiz.questions[2].feedback.value}{quiz.score.value}"
        "</body></html>"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "zh-CN-widgets.png"
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.set_content(page_html)
        text = page.inner_text("body")
        # A CJK glyph drawn by a real font is about as wide as it is tall; a missing font draws
        # nothing or a narrow box.
        width = page.evaluate(
            "() => { const s = document.createElement('span'); s.style.fontSize = '40px';"
            " s.textContent = '握手帧掩码心跳'; document.body.appendChild(s);"
            " const w = s.getBoundingClientRect().width; s.remove(); return w; }"
        )
        page.screenshot(path=str(shot), full_page=True)
    assert "有效的 key" in text and "服务器拒绝这个 key" in text
    assert "✔ 正确" in text and "✘ 不太对" in text and "答对" in text
    assert width > 7 * 30, f"the CJK glyphs are {width:.0f} px wide for 7 characters of 40 px"
    assert shot.stat().st_size > 10_000


def test_a_diagnosis_from_a_chapters_table_speaks_chinese(chinese: None) -> None:
    # The mistakes of 03.accept_key live in a table of the chapter (marked N_); the engine
    # translates the diagnosis when it reports it.
    from wslearn.exercises import get

    exercise = get("03.accept_key")
    no_guid = next(mistake for mistake in exercise.mistakes if mistake.name == "no GUID")
    result = check("03.accept_key", no_guid.answer, seed=0)
    assert any(hint.startswith("你只对 key 做了哈希") for hint in result.hints), result.hints
    set_language("en")
    result = check("03.accept_key", no_guid.answer, seed=0)
    assert any(no_guid.hint in hint for hint in result.hints)


# --- every message is a key the catalogue can hold ----------------------------------------------

PACKAGE = Path(i18n.__file__).resolve().parent


def _translation_calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_"):
            yield node


def test_a_message_is_never_built_inside_the_translation_call() -> None:
    # _(f"got {x}") or _("a" + b) asks the catalogue for a text nobody can list: it is never
    # translated. The placeholders go in the key, the values in .format() after it.
    built = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for call in _translation_calls(ast.parse(path.read_text(encoding="utf-8"))):
            if len(call.args) != 1 or isinstance(call.args[0], (ast.JoinedStr, ast.BinOp)):
                built.append(f"{path.relative_to(PACKAGE.parent)}:{call.lineno}")
    assert built == []


def test_no_module_that_translates_rebinds_the_underscore() -> None:
    # `for _ in range(n)` or `a, _ = ...` in a function that also calls _() makes _ a local
    # name there: the call then fails, or calls whatever was bound to it.
    rebound = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports_it = any(
            isinstance(node, ast.ImportFrom) and any(alias.name == "_" for alias in node.names)
            for node in ast.walk(tree)
        )
        if not imports_it:
            continue
        for node in ast.walk(tree):
            stored = isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store)
            if stored or (isinstance(node, ast.arg) and node.arg == "_"):
                rebound.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert rebound == []


def test_the_catalogue_covers_refusals_rules_diagnoses_and_the_lab() -> None:
    # The source scan finds the messages of every layer; the no-missing-keys test above then
    # requires a translation of each.
    found = source_messages()
    for message, module in (
        ("this URL speaks WebSocket only, and the request has no Upgrade: websocket header", "handshake"),
        ("malformed HTTP request: {error}", "http"),
        ("the opening handshake did not arrive within {seconds} s", "aio/server"),
        ("Origin {origin} is not allowed: this server accepts pages it served itself", "demo/auth"),
        ("RFC 6585 §5: the header section is larger than the server reads", "notebook/raw"),
        ("the result has {got} bytes; a masked payload is as long as the payload ({length})", "ch05"),
        ("held by the assembler: the message is not complete yet", "widgets/fragmentation"),
        ("field", "explain"),
    ):
        keys = [key for key in found if key.startswith(message)]
        assert keys, message
        assert module in found[keys[0]], (message, found[keys[0]])


# --- columns measured in display width ----------------------------------------------------------


def test_display_width_counts_a_chinese_character_as_two_columns() -> None:
    assert display_width("你好") == 4
    assert display_width("Hello") == 5
    assert display_width("（，）") == 6  # full-width punctuation
    assert display_width("e\u0301") == 1  # a combining accent takes no column
    assert pad("你好", 6) == "你好  " and pad("你好", 6, ">") == "  你好"
    assert pad("Hello", 3) == "Hello"  # never cut by pad
    assert fit("你好世界", 5) == "你好…" and display_width(fit("你好世界", 5)) == 5
    assert fit("你好世界", 6) == "你好…"  # 世 would take columns 5 and 6, "…" one more
    assert fit("Hello!", 5) == "Hell…" and fit("Hello", 5) == "Hello"


def _column_starts(line: str) -> set[int]:
    """The display columns where a character follows a space: where a table's cells begin."""
    starts, column = set(), 0
    for before, char in zip(" " + line, line, strict=False):
        if before == " " and char != " ":
            starts.add(column)
        column += display_width(char)
    return starts


def test_a_chinese_frame_explanation_lines_up_its_columns(chinese: None) -> None:
    text = "你好，世界！这是一条用中文写的、比较长的消息"
    frame = Frame(Opcode.TEXT, text.encode(), masking_key=b"\x37\xfa\x21\x3d")
    explanation = explain_frame(serialize_frame(frame))
    table = str(explanation).splitlines()[1 : 1 + 1 + len(explanation.fields)]
    assert table[0].split() == ["字段", "位置", "原始数据", "值", "含义"]
    # Each column starts where the heading's does: 24, 48, 74 and 96 columns in.
    for line in table:
        assert {0, 24, 48, 74, 96} <= _column_starts(line) | {0}, line
    payload = next(f for f in explanation.fields if f.name == "Payload data, unmasked")
    # the headline counts bytes, not characters
    assert payload.value.startswith("'你好") and f"负载 {utf8_length(text)} 字节" in explanation.headline
    row = next(line for line in table if line.startswith("Payload data, unmasked"))
    assert display_width(row[: row.index(payload.meaning)]) == 96, row


def test_a_chinese_close_reason_lines_up_and_counts_bytes(chinese: None) -> None:
    close = Close(1000, "再见")
    lines = close_text(close).splitlines()
    assert all(
        display_width(line[: line.index(value)]) == 14
        for line, (_n, value) in zip(lines, _close_rows(close), strict=True)
    )
    assert lines[-1].endswith("03 e8 e5 86 8d e8 a7 81")  # 2 bytes of code, 3 of each character
    explanation = explain_frame(serialize_frame(Frame(Opcode.CLOSE, close.serialize())))
    reason = next(f for f in explanation.fields if f.name == "Close reason")
    assert reason.position == "bytes 4–9"  # 6 bytes of UTF-8, not 2 characters


def test_the_event_log_counts_bytes_not_characters() -> None:
    log = EventLog()
    event = log.record_frame(1, "in", Frame(Opcode.TEXT, "你好".encode()), b"")
    assert " 6 B " in f"{event} " and "你好" in str(event)


# --- refusals in the student's language ---------------------------------------------------------


def _request_without_upgrade() -> Request:
    request = build_request("127.0.0.1:8765", "/ws", key=RFC_EXAMPLE_KEY)
    request.headers.remove("Upgrade")
    return request


def _refusal_body(request: Request) -> tuple[int, str]:
    with pytest.raises(HandshakeError) as refused:
        check_request(request)
    response = build_error_response(refused.value)
    return response.status, response.body.decode("utf-8")


def test_english_stays_the_default_for_a_refusal() -> None:
    assert language() == "en"  # tests/conftest.py sets WSLEARN_LANG=en
    status, body = _refusal_body(_request_without_upgrade())
    assert status == 426
    assert body.startswith("this URL speaks WebSocket only, and the request has no Upgrade: websocket header")
    assert "Connect with a WebSocket client" in body and CJK.search(body) is None


def test_a_refusal_in_chinese_says_why_in_chinese(chinese: None) -> None:
    status, body = _refusal_body(_request_without_upgrade())
    assert status == 426
    assert body.startswith("这个 URL 只讲 WebSocket，而请求没有 Upgrade: websocket 头部")
    assert "用 WebSocket 客户端连接" in body  # the hint after the reason
    request = build_request("127.0.0.1:8765", "/ws", key="x4JJHMbDL22zLk1GBhXDw==")
    status, body = _refusal_body(request)
    assert (status, body.splitlines()[0]) == (
        400,
        "Sec-WebSocket-Key 必须是 16 个字节的 base64；"
        "得到的是 23 个字符：'x4JJHMbDL22zLk1GBhXDw=='（有效的 key 有 24 个）",
    )


def _breaks(host: str) -> dict[str, bytes]:
    requests = {name: break_request(name, host) for name in BREAKS}
    requests["folded header"] = good_request(host).replace(b"\r\nUpgrade:", b"\r\n Upgrade:")
    requests["a body"] = good_request(host).replace(b"\r\n\r\n", b"\r\nContent-Length: 2\r\n\r\nhi")
    requests["another Host"] = good_request("evil.example:80")
    return requests


@pytest.mark.timeout(60)
def test_a_chinese_server_refuses_in_chinese_and_the_rule_is_found() -> None:
    # The same broken requests, to the same server, first in English then in Chinese: each
    # refusal is worded in Chinese, and raw_exchange still finds the rule that decided it.
    server = start_demo("test-i18n-refusals")
    try:
        host = f"127.0.0.1:{server.port}"
        answers = {}
        for lang in ("en", "zh_CN"):
            set_language(lang)
            answers[lang] = {
                name: raw_exchange("127.0.0.1", server.port, request)
                for name, request in _breaks(host).items()
            }
    finally:
        set_language(None)
        server.stop()
    for name, english in answers["en"].items():
        chinese = answers["zh_CN"][name]
        assert english.status == chinese.status and english.status not in (None, 101), name
        assert CJK.search(english.reason) is None and CJK.search(chinese.reason), (name, chinese.reason)
        assert "§" in english.rule and "not a status of the opening handshake" not in english.rule, name
        assert chinese.rule == catalogue("zh_CN")[english.rule], (name, chinese.reason, chinese.rule)
    assert answers["zh_CN"]["another Host"].rule.startswith(
        "RFC 9110 §7.2，RFC 6455 §10：Host 指向另一个服务器"
    )
    assert answers["zh_CN"]["a body"].rule == "RFC 6455 §4.1：握手请求没有消息体（body）"


# --- the labs and the diagnoses ---------------------------------------------------------------


def test_the_fragmentation_lab_answers_in_chinese(chinese: None) -> None:
    from wslearn.notebook.widgets import FragmentationWidget

    widget = FragmentationWidget("a Ping between two fragments")
    text = widget.text()
    assert "客户端发送 TEXT FIN=0 'Hello, '" in text
    assert "服务器：收到 Ping：用携带 b'still there?' 的 Pong 回答（§5.5.3）" in text
    assert "消息（message）完整（文本）：'Hello, WebSocket!'" in text
    assert widget.scenario.options[2] == (_("a Ping between two fragments"), "a Ping between two fragments")
    widget.load("an invalid byte in the first fragment")
    failed = widget.lab.steps[0]
    assert (
        failed.failed and failed.close_code == 1007 and failed.happened[0].startswith("连接失败，关闭码 1007")
    )
    assert "color:#cf222e" in widget.html()  # the failed step is red, whatever its words
    assert all(not step.failed for step in widget.lab.steps[1:])  # ignored, not failed again


def test_a_computed_diagnosis_speaks_chinese(chinese: None) -> None:
    result = check("05.apply_mask", lambda payload, key: b"")
    assert any(hint.startswith("结果有 0 个字节；加掩码后的负载和原负载一样长") for hint in result.hints), (
        result.hints
    )
    set_language("en")
    result = check("05.apply_mask", lambda payload, key: b"")
    assert any(hint.startswith("the result has 0 bytes; a masked payload") for hint in result.hints)


def test_what_a_refusing_server_said_is_found_in_either_language() -> None:
    refusal = Response(
        403, "Forbidden", body="这个服务器不允许 Origin 'http://evil.example'\n\nmore".encode()
    )
    for lang, words in (("en", "instead of 101 Switching Protocols; it said: "), ("zh_CN", "；它说：")):
        set_language(lang)
        try:
            with pytest.raises(HandshakeError) as refused:
                check_response(refusal, key=RFC_EXAMPLE_KEY)
        finally:
            set_language(None)
        assert words in refused.value.reason
        assert server_said(refused.value) == "这个服务器不允许 Origin 'http://evil.example'"
    assert server_said(HandshakeError(403, "no words")) == "no words"
