"""Chapter 08, closing: the wrong rows of seed article 004's close-code table, and classify().

* ``08.seed004_rows`` — seed 004 publishes a table of close codes (in Chinese); which rows
  are wrong, or leave out a rule an implementer needs? Answered as ``{row: True/False}``.
* ``08.classify`` — a kata: ``classify(code)`` returns the range of RFC 6455 §7.4.2 the
  code belongs to and whether an endpoint may put it in a Close frame.
"""

from __future__ import annotations

import random

from wslearn.frames import is_valid_close_code
from wslearn.i18n import N_, _

from .core import Case, Exercise, Mistake, Question, register, register_quiz

# --- 08.seed004_rows --------------------------------------------------------------------------

#: The rows of seed article 004's table: code -> (the name it gives, the meaning it claims),
#: as published (a list of facts to check, shown so that the student can check them).
SEED_004_ROWS: dict[str, tuple[str, str]] = {
    "0-999": ("-", "保留段, 未使用。"),
    "1000": ("CLOSE_NORMAL", "正常关闭"),
    "1001": (
        "CLOSE_GOING_AWAY",
        "终端离开, 可能因为服务端错误, 也可能因为浏览器正从打开连接的页面跳转离开。",
    ),
    "1002": ("CLOSE_PROTOCOL_ERROR", "由于协议错误而中断连接。"),
    "1003": ("CLOSE_UNSUPPORTED", "由于接收到不允许的数据类型而断开连接"),
    "1004": ("-", "保留。 其意义可能会在未来定义。"),
    "1005": ("CLOSE_NO_STATUS", "保留。 表示没有收到预期的状态码。"),
    "1006": ("CLOSE_ABNORMAL", "保留。 用于期望收到状态码时连接非正常关闭 (也就是说, 没有发送关闭帧)。"),
    "1007": ("Unsupported Data", "由于收到了格式不符的数据而断开连接 (如文本消息中包含了非 UTF-8 数据)。"),
    "1008": ("Policy Violation", "由于收到不符合约定的数据而断开连接。"),
    "1009": ("CLOSE_TOO_LARGE", "由于收到过大的数据帧而断开连接。"),
    "1010": (
        "Missing Extension",
        "客户端期望服务器商定一个或多个拓展, 但服务器没有处理, 因此客户端断开连接。",
    ),
    "1011": ("Internal Error", "客户端由于遇到没有预料的情况阻止其完成请求, 因此服务端断开连接。"),
    "1012": ("Service Restart", "服务器由于重启而断开连接。"),
    "1013": ("Try Again Later", "服务器由于临时原因断开连接, 如服务器过载因此断开一部分客户端连接。"),
    "1014": ("-", "由 WebSocket"),
    "1015": ("TLS Handshake", "保留。 表示连接由于无法完成 TLS 握手而关闭 (例如无法验证服务器证书)。"),
    "3000-3999": ("-", "可以由库或框架使用。 不应由应用使用。 可以在 IANA 注册, 先到先得。"),
    "4000-4999": ("-", "可以由应用使用。"),
}

_NEVER_SENT = (
    "'reserved' is not enough: {code} must never be put in a Close frame, and the row "
    "does not say so; an implementer reading it could send it"
)

#: Why each wrong row is wrong (the hint when it is not marked).
WRONG_ROWS: dict[str, str] = {
    "1005": _NEVER_SENT.format(code=1005),
    "1006": _NEVER_SENT.format(code=1006),
    "1007": "read the name: 'Unsupported Data' is the name of 1003; 1007 is invalid frame payload data",
    "1011": "read who is at fault: the row blames the client; 1011 is the server's own unexpected condition",
    "1014": "the description stops mid-sentence: 1014 is bad gateway, an invalid answer from upstream",
    "1015": _NEVER_SENT.format(code=1015),
    "3000-3999": "§7.4.2: 3000-3999 are for libraries, frameworks *and applications*, registered with IANA",
}

_RIGHT_ROWS = {
    "1004": "this row is right: 1004 is reserved, with no meaning yet",
    "1001": "this row is about right: going away, a server going down or a page left",
    "4000-4999": "this row is right: 4000-4999 are for private use by applications",
    "1010": "this row is right: only a client sends 1010, when the server did not agree an extension",
}


def _row_cases() -> tuple[Case, ...]:
    cases = []
    for row in SEED_004_ROWS:
        wrong = row in WRONG_ROWS
        hint = WRONG_ROWS[row] if wrong else _RIGHT_ROWS.get(row, "this row agrees with RFC 6455 §7.4")
        rfc = "§7.4.2" if "-" in row else "§7.4.1"
        cases.append(Case((row,), wrong, label=f"{row} {SEED_004_ROWS[row][0]}", hint=hint, rfc=rfc))
    return tuple(cases)


def _marks(wrong: set[str]) -> dict[str, bool]:
    return {row: row in wrong for row in SEED_004_ROWS}


register(
    Exercise(
        id="08.seed004_rows",
        title="The wrong rows of seed 004's close-code table",
        signature="{row: True when the row is wrong or misleading}",
        reference=_marks(set(WRONG_ROWS)),
        kind="value",
        rfc="§7.4",
        cases=_row_cases(),
        mistakes=(
            Mistake(
                "only the garbled rows",
                _marks({"1007", "1011", "1014"}),
                "must never be put in a Close frame",
            ),
            Mistake("1004 too", _marks(set(WRONG_ROWS) | {"1004"}), "1004 is reserved"),
            Mistake(
                "3000-3999 believed", _marks(set(WRONG_ROWS) - {"3000-3999"}), "frameworks *and applications*"
            ),
        ),
        explanation="Compare each row with RFC 6455 §7.4 (and the IANA registry for 1012-1014).",
    )
)


# --- 08.classify -------------------------------------------------------------------------------


def _classify_reference(code: int) -> tuple[str, bool]:
    if 0 <= code <= 999:
        category = "unused"
    elif 1000 <= code <= 2999:
        category = "protocol"
    elif 3000 <= code <= 3999:
        category = "registered"
    elif 4000 <= code <= 4999:
        category = "private"
    else:
        category = "invalid"
    return category, is_valid_close_code(code)


EDGES = (999, 1000, 1004, 1005, 1006, 1011, 1014, 1015, 1016, 2999, 3000, 3999, 4000, 4999, 5000)


def _classify_cases(rng: random.Random, count: int) -> list[Case]:
    codes = [rng.choice(EDGES) + rng.choice((-1, 0, 1)) for _number in range(count // 2)]
    codes += [rng.randrange(0, 70000) for _number in range(count - len(codes))]
    return [Case((code,), _classify_reference(code)) for code in codes]


def _classify_diagnose(case: Case, got: object) -> str | None:
    code = case.args[0]
    category, sendable = case.expected
    if not isinstance(got, tuple) or len(got) != 2:
        return N_("return a pair: (category, may_send), e.g. ('protocol', True)")
    if got[0] != category:
        in_range = _("{code} is in the {category} range of §7.4.2 (the ranges end at 999, 2999, 3999, 4999)")
        return in_range.format(code=code, category=repr(category))
    if code in (1004, 1005, 1006, 1015):
        return _(
            "{code} may never be sent: 1004 is reserved; 1005, 1006 and 1015 are never put in a Close frame"
        ).format(code=code)
    if 1016 <= code <= 2999:
        return N_("1016-2999 are reserved but unassigned: no endpoint may send them yet")
    if 3000 <= code <= 4999:
        return N_("3000-4999 may be sent: libraries, frameworks and applications use them (§7.4.2)")
    if sendable:
        return _("{code} may be sent in a Close frame").format(code=code)
    return _("{code} may not be sent in a Close frame").format(code=code)


def _all_rfc_codes_sendable(code: int) -> tuple[str, bool]:  # mistake: 1000-1015 all allowed
    category, sendable = _classify_reference(code)
    return category, sendable or 1000 <= code <= 1015


def _registered_not_sendable(code: int) -> tuple[str, bool]:  # mistake: seed 004's reading
    category, sendable = _classify_reference(code)
    return category, sendable and not 3000 <= code <= 3999


def _off_by_one(code: int) -> tuple[str, bool]:  # mistake: code < 4999 instead of <= 4999
    return _classify_reference(code) if code != 4999 else ("invalid", False)


_CLASSIFY_TABLE = [
    (0, "the first unused code"),
    (999, "the last unused code"),
    (1000, "normal closure"),
    (1004, "reserved, no meaning yet"),
    (1005, "no status: never sent"),
    (1006, "abnormal closure: never sent"),
    (1011, "internal error"),
    (1014, "bad gateway"),
    (1015, "TLS handshake: never sent"),
    (1016, "the first unassigned code"),
    (2999, "the last code of the protocol's range"),
    (3000, "the first registered code"),
    (3999, "the last registered code"),
    (4000, "the first private code"),
    (4999, "the last private code"),
    (5000, "beyond every range"),
    (65535, "the largest 2-byte number"),
    (-1, "negative"),
]

register(
    Exercise(
        id="08.classify",
        title="Classify a close code",
        signature="classify(code: int) -> tuple[str, bool]",
        reference=_classify_reference,
        rfc="§7.4.2",
        cases=tuple(
            Case((code,), _classify_reference(code), label=f"classify({code}): {label}", rfc="§7.4")
            for code, label in _CLASSIFY_TABLE
        ),
        random_cases=_classify_cases,
        random_count=10,
        diagnose=_classify_diagnose,
        mistakes=(
            Mistake("1000-1015 all sendable", _all_rfc_codes_sendable, "never put in a Close frame"),
            Mistake("3000-3999 not for applications", _registered_not_sendable, "3000-4999 may be sent"),
            Mistake("4999 left out", _off_by_one, "the ranges end at 999, 2999, 3999, 4999"),
        ),
        explanation="Categories: 'unused', 'protocol', 'registered', 'private', 'invalid'.",
    )
)


register_quiz(
    "08.checkpoint",
    "Checkpoint: closing",
    [
        Question(
            "A page calls ws.close(1011). What happens?",
            2,
            "The browser's close() accepts only 1000 and 3000-4999; any other code throws an "
            "InvalidAccessError, and nothing is sent. 1011 is for servers.",
            choices=(
                "the server receives 1011",
                "the browser sends 1000 instead",
                "close() throws an error and nothing is sent",
                "the browser sends an empty Close frame",
            ),
        ),
        Question(
            "A Close frame arrives with an empty payload. Which code does the receiver report?",
            1005,
            "No status code in the frame: the close code is considered to be 1005 (§7.1.5). The number "
            "itself never travels.",
            rfc="§7.1.5",
        ),
        Question(
            "After both Close frames, who should close the TCP connection first?",
            0,
            "The server (§7.1.1): the side that closes first keeps TIME_WAIT, which costs a server "
            "nothing; a client waits a little for the server's end of TCP before closing it itself.",
            choices=("the server", "the client", "whoever sent the first Close", "the proxy"),
            rfc="§7.1.1",
        ),
        Question(
            "Which of these may a server send in a Close frame?",
            3,
            "3000-3999 are registered for libraries, frameworks and applications (§7.4.2) and may be "
            "sent; 1005, 1006 and 1015 never; 1016-2999 are unassigned.",
            choices=("1006", "1015", "2000", "3000"),
            rfc="§7.4.2",
        ),
    ],
)
