"""The message catalogue: the language is chosen as documented, English is the fallback, and the
Chinese catalogue has every key the code and the translated chapters' exercises use."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import CHROMIUM, chromium, require

from wslearn import i18n
from wslearn.exercises import check
from wslearn.frames import CloseCode, describe_close_code
from wslearn.i18n import _, catalogue, language, normalize, set_language, utf8_length
from wslearn.locale import missing, required, source_messages, translated_chapters

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
