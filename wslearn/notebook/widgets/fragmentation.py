"""Fragmentation, one frame at a time (RFC 6455 §5.4, §8.1), with no sockets at all.

A :class:`FragmentLab` is a server-side :class:`~wslearn.protocol.Protocol` that has just
accepted a handshake. Hand it client frames, built with :class:`~wslearn.frames.Frame`, and
it tells what the server made of each one: a whole message, a Ping answered with a Pong, a
fragment held by the assembler, or a failed connection and the Close frame the server sent.
:class:`FragmentationWidget` puts buttons on it; :data:`SCENARIOS` are the classic cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets

from wslearn.errors import ConnectionClosed
from wslearn.frames import Close, Frame, Opcode, parse_frame, serialize_frame
from wslearn.handshake import build_request, generate_key
from wslearn.i18n import N_, _
from wslearn.protocol import ConnectionFailed, Message, Ping, Protocol, Role

from .common import GREEN, RED, Views, esc, fitting_label

__all__ = ["SCENARIOS", "FragmentLab", "FragmentationWidget", "Step", "describe_frame", "outcome"]

#: The masking key every frame of the lab carries (the one of RFC 6455 §5.7's examples).
LAB_MASK = bytes.fromhex("37fa213d")

T, C, B, P = Opcode.TEXT, Opcode.CONTINUATION, Opcode.BINARY, Opcode.PING
NIHAO = "你好".encode()  # e4 bd a0 | e5 a5 bd: two characters, three bytes each


def _frame(opcode: Opcode, payload: bytes | str, fin: bool = True) -> Frame:
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    return Frame(opcode, data, fin=fin)


#: name -> (what it shows, the client's frames). The close code each ends with is what
#: :func:`outcome` computes; chapter 06's exercises ask for it.
SCENARIOS: dict[str, tuple[str, tuple[Frame, ...]]] = {
    N_("one message in three fragments"): (
        N_("TEXT with FIN=0, then CONTINUATION frames; the last has FIN=1 (§5.4)"),
        (_frame(T, "Hello, ", False), _frame(C, "Web", False), _frame(C, "Socket!")),
    ),
    N_("a Ping between two fragments"): (
        N_("control frames may be injected in the middle of a fragmented message (§5.4)"),
        (_frame(T, "Hello, ", False), _frame(P, "still there?"), _frame(C, "WebSocket!")),
    ),
    N_("a new message before the last fragment"): (
        N_("the fragments of one message must not be interleaved with another message (§5.4)"),
        (_frame(T, "Hello, ", False), _frame(T, "surprise")),
    ),
    N_("a continuation with nothing to continue"): (
        N_("a CONTINUATION frame needs a TEXT or BINARY frame with FIN=0 before it (§5.4)"),
        (_frame(C, "orphan"),),
    ),
    N_("a fragmented Ping"): (
        N_("control frames must not be fragmented (§5.5)"),
        (_frame(P, "pi", False),),
    ),
    N_("你好 split mid-character, in one message"): (
        N_("a character may be cut between two fragments: the assembler waits for its end (§5.6)"),
        (_frame(T, NIHAO[:4], False), _frame(C, NIHAO[4:])),
    ),
    N_("你好 cut into two messages"): (
        N_("each message on its own must be valid UTF-8: the first ends inside a character (§8.1)"),
        (_frame(T, NIHAO[:4]), _frame(T, NIHAO[4:])),
    ),
    N_("an invalid byte in the first fragment"): (
        N_("0xFF is never UTF-8: the server fails at once, without waiting for the rest (§8.1)"),
        (_frame(T, b"caf\xff", False), _frame(C, "more"), _frame(C, "end")),
    ),
}


@dataclass(frozen=True)
class Step:
    """What the server did with one client frame."""

    frame: Frame  # the frame the client sent
    happened: tuple[str, ...]  # what the server's protocol reported, in words
    answers: tuple[Frame, ...]  # the frames the server sent back (Pong, Close)
    holding: tuple[bytes, ...]  # the fragments the assembler holds afterwards
    state: str  # the connection's state afterwards
    failed: bool = False  # the server failed the connection on this frame (§7.1.7)

    @property
    def close_code(self) -> int | None:
        """The code of the Close frame the server sent with this step, if any."""
        for frame in self.answers:
            if frame.opcode is Opcode.CLOSE:
                return Close.parse(frame.payload).code
        return None


class FragmentLab:
    """A server-side Protocol, already OPEN, fed with hand-built client frames."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.protocol = Protocol(Role.SERVER)
        self._holding: list[bytes] = []
        self.reset()

    def reset(self) -> None:
        """A fresh connection: the opening handshake, done in memory (§4)."""
        self.protocol = Protocol(Role.SERVER)
        self.protocol.receive_data(build_request("127.0.0.1", "/ws", key=generate_key()).serialize())
        self.protocol.events_received()
        self.protocol.accept()
        self.protocol.data_to_send()  # the 101 answer: not a frame, not shown
        self.steps = []
        self._holding = []

    @property
    def closed(self) -> ConnectionClosed | None:
        return self.protocol.closed

    def feed(self, frame: Frame) -> Step:
        """Send one frame, masked as a client must (§5.3), and record what the server did."""
        was_closed = self.protocol.closed is not None
        masked = Frame(frame.opcode, frame.payload, frame.fin, masking_key=LAB_MASK)
        self.protocol.receive_data(serialize_frame(masked))
        events = self.protocol.events_received()
        happened = [_describe_event(event) for event in events]
        if was_closed:
            happened = [_("ignored: the connection is already closed (§7.1.7)")]
        elif not happened and not frame.opcode.is_control:
            happened = [_("held by the assembler: the message is not complete yet")]
        answers = tuple(_parse_server_frames(self.protocol.data_to_send()))
        completed = any(isinstance(event, Message) for event in events)
        self._track_fragments(frame, completed, was_closed)
        failed = not was_closed and any(isinstance(event, ConnectionFailed) for event in events)
        holding = tuple(self._holding)
        step = Step(frame, tuple(happened), answers, holding, self.protocol.state.name, failed)
        self.steps.append(step)
        return step

    def _track_fragments(self, frame: Frame, completed: bool, was_closed: bool) -> None:
        if was_closed or self.protocol.closed is not None or completed:
            self._holding = []  # the message is delivered, or the connection is over
        elif not frame.opcode.is_control and not frame.fin:
            self._holding.append(frame.payload)

    def run(self, frames: Sequence[Frame]) -> list[Step]:
        """Feed ``frames`` one after the other on a fresh connection."""
        self.reset()
        return [self.feed(frame) for frame in frames]


def outcome(frames: Sequence[Frame]) -> int | None:
    """The close code the server sends for these client frames; ``None`` if it sends none."""
    for step in FragmentLab().run(frames):
        if step.close_code is not None:
            return step.close_code
    return None


def _describe_event(event: object) -> str:
    if isinstance(event, Message):
        complete = (
            _("message complete (text): {data}") if event.is_text else _("message complete (binary): {data}")
        )
        return complete.format(data=f"{event.data!r:.80}")
    if isinstance(event, Ping):
        pong = _("Ping received: answered with a Pong carrying {payload} (§5.5.3)")
        return pong.format(payload=repr(event.payload))
    if isinstance(event, ConnectionFailed):
        return _("connection failed with {code}: {reason}").format(code=event.code, reason=event.reason)
    return type(event).__name__


def _parse_server_frames(data: bytes) -> list[Frame]:
    frames: list[Frame] = []
    offset = 0
    while True:
        parsed = parse_frame(data, offset)
        if parsed is None:
            return frames
        frame, used = parsed
        frames.append(frame)
        offset += used


def describe_frame(frame: Frame) -> str:
    """``TEXT FIN=0 'Hello, '``: a frame on one line (payloads that are not UTF-8 in hex)."""
    try:
        shown = repr(frame.payload.decode("utf-8"))
    except UnicodeDecodeError:
        shown = "hex " + frame.payload.hex(" ")
    if frame.opcode is Opcode.CLOSE and len(frame.payload) >= 2:
        shown = str(Close.parse(frame.payload))
    return f"{frame.opcode.name} FIN={int(frame.fin)} {shown}"


def parse_payload(text: str) -> bytes:
    """What the payload box holds: UTF-8 text, or ``hex: e4 bd a0`` for raw bytes."""
    if text.strip().lower().startswith("hex:"):
        return bytes.fromhex(text.strip()[4:])
    return text.encode("utf-8")


def steps_text(lab: FragmentLab) -> str:
    lines = []
    for number, step in enumerate(lab.steps, 1):
        sends = _("client sends {frame}").format(frame=describe_frame(step.frame))
        lines.append(f"{number}. {sends}")
        lines.extend("   " + _("server: {what}").format(what=text) for text in step.happened)
        lines.extend(
            "   " + _("server sends {frame}").format(frame=describe_frame(frame)) for frame in step.answers
        )
    holding = lab.steps[-1].holding if lab.steps else ()
    state = _("state {state}; assembler holds {count} fragment(s)")
    lines.append(state.format(state=lab.protocol.state.name, count=len(holding)))
    return "\n".join(lines)


def steps_html(lab: FragmentLab) -> str:
    if not lab.steps:
        return f"<p><i>{esc(_('No frame sent yet: pick a scenario or build a frame.'))}</i></p>"
    rows = []
    for number, step in enumerate(lab.steps, 1):
        colour = RED if step.failed else "inherit"
        happened = "<br>".join(esc(text) for text in step.happened)
        answers = "<br>".join(esc(describe_frame(frame)) for frame in step.answers)
        holding = " + ".join(esc(repr(part)) for part in step.holding) or "—"
        cells = (str(number), esc(describe_frame(step.frame)), happened, answers, holding, step.state)
        style = "text-align:left;vertical-align:top;padding:2px 6px"
        row = "".join(f"<td style='{style}'>{cell}</td>" for cell in cells)
        rows.append(f"<tr style='color:{colour}'>{row}</tr>")
    head = "".join(
        f"<th style='text-align:left'>{esc(_(name))}</th>"
        for name in (
            "#",
            N_("client sends"),
            N_("server"),
            N_("server sends"),
            N_("assembler holds"),
            N_("state"),
        )
    )
    closed = lab.closed
    if closed is None:
        verdict = f"<p style='color:{GREEN}'>{esc(_('The connection is open.'))}</p>"
    else:
        colour = RED if closed.code != 1000 else GREEN
        verdict = f"<p style='color:{colour}'>{esc(_('Closed:'))} {esc(str(closed))}</p>"
    return f"<table class='wslearn-fragments'><tr>{head}</tr>{''.join(rows)}</table>{verdict}"


class FragmentationWidget(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Pick a scenario, or build frames one by one, and watch the server assemble them."""

    def __init__(self, scenario: str | None = None) -> None:
        self.lab = FragmentLab()
        label = {"description_width": "initial"}  # a translated label is longer: never cut it off
        self.scenario = widgets.Dropdown(
            options=[(_("(start empty)"), "")] + [(_(name), name) for name in SCENARIOS],
            value="",
            description=_("scenario"),
            style=label,
            layout=widgets.Layout(width="40em"),
        )
        self.about = widgets.HTML()
        self.opcode = widgets.Dropdown(
            options=[(op.name, op) for op in Opcode if op is not Opcode.CLOSE],
            value=Opcode.TEXT,
            description=_("opcode"),
        )
        self.fin = widgets.Checkbox(value=True, description="FIN")
        self.payload = widgets.Text(
            value="Hello", description=_("payload"), placeholder=_("text, or hex: e4 bd"), style=label
        )
        self.send = widgets.Button(
            description=_("send frame"), tooltip="FragmentLab.feed()", layout=fitting_label()
        )
        self.reset_button = widgets.Button(
            description=_("new connection"), tooltip="FragmentLab.reset()", layout=fitting_label()
        )
        self.table = widgets.HTML()
        builder = widgets.HBox(
            [self.opcode, self.fin, self.payload, self.send, self.reset_button],
            layout=widgets.Layout(flex_flow="row wrap"),  # a narrow notebook wraps the row
        )
        super().__init__([self.scenario, self.about, builder, self.table])
        self.add_class("wslearn-fragmentation")
        self.scenario.observe(lambda change: self.load(str(change["new"])), names="value")
        self.send.on_click(lambda _button: self.send_frame())
        self.reset_button.on_click(lambda _button: self.reset())
        if scenario:
            self.scenario.value = scenario  # observe() loads it
        self._show()

    def load(self, name: str) -> None:
        """Run the scenario ``name`` on a fresh connection ("" for an empty one)."""
        if name:
            about, frames = SCENARIOS[name]
            self.lab.run(frames)
            self.about.value = f"<p><i>{esc(_(about))}</i></p>"
        else:
            self.lab.reset()
            self.about.value = ""
        self._show()

    def send_frame(self) -> Step | None:
        """Feed the frame built with the controls."""
        try:
            payload = parse_payload(self.payload.value)
        except ValueError as error:
            self.about.value = f"<p style='color:{RED}'>{esc(_('payload'))}: {esc(str(error))}</p>"
            return None
        step = self.lab.feed(Frame(self.opcode.value, payload, fin=self.fin.value))
        self._show()
        return step

    def reset(self) -> None:
        self.lab.reset()
        self._show()

    def _show(self) -> None:
        self.table.value = steps_html(self.lab)

    def text(self) -> str:
        return steps_text(self.lab)

    def html(self) -> str:
        return steps_html(self.lab)
