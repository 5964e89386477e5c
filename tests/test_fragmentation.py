"""The fragmentation lab and widget (RFC 6455 §5.4, §8.1) and chapter 06's exercises about it."""

from __future__ import annotations

import random

import pytest

from wslearn.exercises import check
from wslearn.exercises.ch06 import CLOSE_CODES, first_violation
from wslearn.frames import Frame, Opcode
from wslearn.notebook.widgets import FragmentationWidget
from wslearn.notebook.widgets.fragmentation import SCENARIOS, FragmentLab, outcome, parse_payload


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_exercise_answer_is_what_the_protocol_does(name: str) -> None:
    # 06.close_code's answer is written by hand; the Protocol must agree with it.
    assert outcome(SCENARIOS[name][1]) == CLOSE_CODES[name]


def test_every_scenario_has_an_answer() -> None:
    assert set(SCENARIOS) == set(CLOSE_CODES)


def test_a_ping_between_fragments_is_answered_at_once() -> None:
    lab = FragmentLab()
    first, ping, last = lab.run(SCENARIOS["a Ping between two fragments"][1])
    assert first.holding == (b"Hello, ",) and first.answers == ()
    assert [frame.opcode for frame in ping.answers] == [Opcode.PONG]
    assert ping.answers[0].payload == b"still there?"
    assert ping.answers[0].masking_key is None  # a server never masks (§5.1)
    assert ping.holding == (b"Hello, ",)  # the Ping did not disturb the assembler
    assert any("'Hello, WebSocket!'" in text for text in last.happened)
    assert last.holding == () and lab.closed is None


def test_a_character_split_between_fragments_is_assembled() -> None:
    steps = FragmentLab().run(SCENARIOS["你好 split mid-character, in one message"][1])
    assert any("'你好'" in text for text in steps[-1].happened)


def test_fail_fast_on_the_first_fragment() -> None:
    # The invalid byte is in the first fragment: the server closes before the rest arrives.
    steps = FragmentLab().run(SCENARIOS["an invalid byte in the first fragment"][1])
    assert steps[0].close_code == 1007
    assert steps[0].state == "CLOSED"
    assert all("ignored" in step.happened[0] for step in steps[1:])


def _as_frames(pairs: list[tuple[str, bool]]) -> list[Frame]:
    return [Frame(Opcode[name], b"x", fin=fin) for name, fin in pairs]


def test_the_legal_reference_agrees_with_the_protocol() -> None:
    # 06.fragments_legal's reference and the real Protocol decide alike on random sequences.
    rng = random.Random(6455)
    names = ("TEXT", "BINARY", "CONTINUATION", "PING", "PONG")
    for _ in range(400):
        pairs = [(rng.choice(names), rng.random() < 0.5) for _ in range(rng.randint(1, 6))]
        expected = None if first_violation(pairs) is None else 1002
        assert outcome(_as_frames(pairs)) == expected, pairs


def test_widget_loads_scenarios_and_sends_frames_like_the_browser() -> None:
    widget = FragmentationWidget()
    assert "No frame sent yet" in widget.html()
    widget.scenario.value = "a new message before the last fragment"
    assert "1002" in widget.text() and "CLOSED" in widget.text()
    widget.reset_button.click()
    assert widget.lab.steps == [] and widget.lab.closed is None
    widget.opcode.value = Opcode.TEXT
    widget.fin.value = False
    widget.payload.value = "hex: e4 bd a0 e5"
    widget.send.click()
    widget.opcode.value = Opcode.CONTINUATION
    widget.fin.value = True
    widget.payload.value = "hex: a5 bd"
    widget.send.click()
    assert "'你好'" in widget.text()
    assert "wslearn-fragmentation" in widget._dom_classes


def test_widget_reports_a_bad_hex_payload_without_sending() -> None:
    widget = FragmentationWidget()
    widget.payload.value = "hex: zz"
    widget.send.click()
    assert widget.lab.steps == []
    assert "payload" in widget.about.value


def test_widget_escapes_payloads() -> None:
    widget = FragmentationWidget()
    widget.payload.value = "<script>alert(1)</script>"
    widget.send.click()
    assert "<script>" not in widget.html()
    assert "&lt;script&gt;" in widget.html()


def test_parse_payload() -> None:
    assert parse_payload("hex: e4 bd") == b"\xe4\xbd"
    assert parse_payload("你") == "你".encode()
    with pytest.raises(ValueError):
        parse_payload("hex: 1")


def test_close_code_exercise_answer_from_the_lab_passes() -> None:
    answer = {name: outcome(frames) for name, (_, frames) in SCENARIOS.items()}
    assert check("06.close_code", answer).passed
