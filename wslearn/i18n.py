"""One small message catalogue: the words wslearn shows a student, in their language.

A user-visible string is written in English in the code and wrapped in :func:`_`::

    from wslearn.i18n import _
    label = _("random key")

:func:`_` looks the English text up in the catalogue of the current language
(``wslearn/locale/zh_CN.py`` for Chinese) and returns the translation, or the English text
when there is none: English is always the fallback, so a missing entry never breaks a lesson.
The English text is the key (as in GNU gettext's ``msgid``), so the code stays readable.

The language is, in order: what :func:`set_language` chose (the first cell of every
``notebooks/zh-CN`` notebook calls it), else ``WSLEARN_LANG`` (``zh_CN``, ``zh-CN`` and
``zh`` all mean Chinese), else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else English.
It is read on every call, so a widget built after ``set_language("zh_CN")`` speaks Chinese.

RFC 6455 terms stay in English beside the Chinese (握手 handshake, 帧 frame): see
:data:`GLOSSARY`. This module imports only the standard library, so the core
(:mod:`wslearn.frames`) may use it.
"""

from __future__ import annotations

import importlib
import os
import unicodedata
from collections.abc import Mapping

#: The languages that have a catalogue, besides English.
LANGUAGES = ("zh_CN",)
ENGLISH = "en"

_chosen: str | None = None
_catalogues: dict[str, Mapping[str, str]] = {}


def normalize(name: str | None) -> str:
    """``"zh-CN"``, ``"zh_CN.UTF-8"``, ``"zh"`` -> ``"zh_CN"``; anything unknown -> ``"en"``."""
    if not name:
        return ENGLISH
    base = name.split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    if base.lower() in ("zh", "zh_cn", "zh_hans", "zh_hans_cn", "zh_sg"):
        return "zh_CN"
    return ENGLISH


def set_language(name: str | None) -> str:
    """Choose the language of this process (``None`` goes back to the environment); returns it."""
    global _chosen
    _chosen = None if name is None else normalize(name)
    return language()


def language() -> str:
    """The current language: ``"zh_CN"`` or ``"en"``."""
    if _chosen is not None:
        return _chosen
    explicit = os.environ.get("WSLEARN_LANG")
    if explicit:
        return normalize(explicit)
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return normalize(value)
    return ENGLISH


def catalogue(lang: str) -> Mapping[str, str]:
    """The messages of ``lang`` (English text -> translation); empty for English."""
    if lang == ENGLISH:
        return {}
    if lang not in _catalogues:
        module = importlib.import_module(f"wslearn.locale.{lang}")
        _catalogues[lang] = module.MESSAGES
    return _catalogues[lang]


def _(message: str) -> str:
    """``message`` in the current language; the English text itself when there is no translation."""
    if not message:
        return message
    lang = language()
    if lang == ENGLISH:
        return message
    return catalogue(lang).get(message, message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue and return it unchanged: it is translated where it is shown.

    For texts kept in tables or returned by a diagnosis: the exercise engine passes every hint
    through :func:`_` when it reports it, so the table itself stays in English.
    """
    return message


def gettext(message: str) -> str:
    """The same as :func:`_`, under its long name."""
    return _(message)


def utf8_length(text: str) -> int:
    """How many bytes ``text`` takes on the wire: RFC 6455 counts payload in bytes (§5.2).

    ``utf8_length("你好") == 6``: each of these characters is 3 bytes of UTF-8.
    """
    return len(text.encode("utf-8"))


def display_width(text: str) -> int:
    """How many columns ``text`` takes in a monospaced font: a wide character takes two.

    Chinese characters and full-width punctuation are "W" or "F" in Unicode's East Asian Width
    (UAX #11) and a terminal or a ``<pre>`` draws them two columns wide; combining marks take none.
    ``display_width("你好") == 4`` while ``len("你好") == 2``.
    """
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def fit(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` columns, ending in "…" when it was cut."""
    if display_width(text) <= width:
        return text
    kept, used = [], 1  # the "…" takes one column
    for char in text:
        used += display_width(char)
        if used > width:
            break
        kept.append(char)
    return "".join(kept) + "…"


def pad(text: str, width: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``width`` columns (``align`` ``"<"`` left, ``">"`` right).

    The display-width version of ``str.ljust`` / ``str.rjust`` and ``f"{text:<{width}}"``:
    those count characters, so a column holding Chinese text would push the next one right.
    """
    gap = " " * max(0, width - display_width(text))
    return gap + text if align == ">" else text + gap


#: RFC 6455 terms: (English, Chinese, where the RFC defines it). The English term stays beside
#: the Chinese everywhere in the Chinese edition, so a student can search the RFC for it.
GLOSSARY: tuple[tuple[str, str, str], ...] = (
    ("handshake", "握手", "§1.3, §4"),
    ("opening handshake", "开始握手", "§4.1, §4.2"),
    ("closing handshake", "关闭握手", "§1.4, §7"),
    ("frame", "帧", "§5.2"),
    ("message", "消息", "§5.4, §6"),
    ("fragment", "分片", "§5.4"),
    ("opcode", "操作码", "§5.2"),
    ("payload", "负载", "§5.2"),
    ("payload length", "负载长度", "§5.2"),
    ("masking key", "掩码", "§5.3"),
    ("control frame", "控制帧", "§5.5"),
    ("data frame", "数据帧", "§5.6"),
    ("Ping / Pong", "Ping / Pong（心跳 heartbeat 用的控制帧）", "§5.5.2, §5.5.3"),
    ("heartbeat", "心跳", "§5.5.2"),
    ("subprotocol", "子协议", "§1.9, §4.1"),
    ("extension", "扩展", "§9"),
    ("close code (status code)", "关闭码", "§7.4"),
    ("close reason", "关闭原因", "§5.5.1"),
    ("origin", "源", "§10.2, RFC 6454"),
    ("endpoint", "端点", "§1.2"),
    ("fail the WebSocket connection", "使 WebSocket 连接失败", "§7.1.7"),
    ("UTF-8", 'UTF-8（按字节计数："你好" 是 6 个字节）', "§5.6, §8.1"),
)
