"""Every close code of RFC 6455 §7.4, and a button that makes each one happen live."""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets

from wslearn.demo.scenarios import PROVOKERS, Provoked, provoke, scenario_server
from wslearn.frames import CloseCode, close_code_range, is_valid_close_code
from wslearn.i18n import N_, _, pad
from wslearn.notebook.runner import BackgroundServer

from .common import GREEN, RED, Views, esc, fitting_label

__all__ = ["CODE_ROWS", "CloseCodeExplorer", "CodeRow", "browser_close_allows"]


def browser_close_allows(code: int) -> bool:
    """May a page call ``ws.close(code)``? The WHATWG WebSocket API allows only 1000 and
    3000-4999; any other code throws an InvalidAccessError before anything is sent."""
    return code == 1000 or 3000 <= code <= 4999


@dataclass(frozen=True)
class CodeRow:
    """One row of the table: a single code, or a range of codes that behave alike."""

    first: int
    last: int
    meaning: str

    @property
    def label(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}–{self.last}"

    @property
    def name(self) -> str:
        if self.first == self.last and self.first in CloseCode._value2member_map_:
            return CloseCode(self.first).name
        return ""

    @property
    def range(self) -> str:
        return close_code_range(self.first).split(":", 1)[0]

    @property
    def on_the_wire(self) -> bool:
        """May an endpoint put this code in a Close frame (§7.4)?"""
        return is_valid_close_code(self.first)

    @property
    def browser_close(self) -> bool:
        return browser_close_allows(self.first)

    @property
    def provokable(self) -> int | None:
        """The code :func:`provoke` can make happen for this row, if any."""
        return self.first if self.first in PROVOKERS else None


def _single(code: int) -> CodeRow:
    meaning = CloseCode(code).meaning if code != 1004 else N_("reserved: no meaning defined yet (§7.4.1)")
    return CodeRow(code, code, meaning)


CODE_ROWS: tuple[CodeRow, ...] = (
    CodeRow(0, 999, N_("not used (§7.4.2)")),
    *(_single(code) for code in range(1000, 1016)),
    CodeRow(1016, 2999, N_("reserved for future revisions of RFC 6455 and extensions; unassigned")),
    CodeRow(3000, 3999, N_("registered with IANA by libraries, frameworks and applications (§7.4.2)")),
    CodeRow(4000, 4999, N_("private use: the two applications agree on the meaning (§7.4.2)")),
    CodeRow(5000, 65535, N_("fits in 2 bytes, but is no WebSocket status code")),
)

#: The table's column headings (shown translated; the last column holds the buttons).
HEADINGS = (N_("code"), N_("range"), N_("name"), N_("meaning"), N_("on the wire"), "browser close()", "")


def _yes_no(flag: bool) -> str:
    if flag:
        return f"<span style='color:{GREEN}'>{esc(_('yes'))}</span>"
    return f"<span style='color:{RED}'>{esc(_('no'))}</span>"


def _cells(row: CodeRow) -> list[str]:
    return [
        f"<b>{esc(row.label)}</b>",
        esc(row.range),
        f"<code>{esc(row.name)}</code>" if row.name else "",
        esc(_(row.meaning)),
        _yes_no(row.on_the_wire),
        _yes_no(row.browser_close),
    ]


def table_html() -> str:
    head = "".join(f"<th style='text-align:left'>{esc(_(h))}</th>" for h in HEADINGS[:-1])
    rows = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{cell}</td>" for cell in _cells(row)) + "</tr>"
        for row in CODE_ROWS
    )
    return f"<table class='wslearn-close-codes'><tr>{head}</tr>{rows}</table>"


def table_text() -> str:
    lines = [f"{pad(_('code'), 12)} {pad('wire', 5)} {pad('close()', 8)} {_('meaning')}"]
    for row in CODE_ROWS:
        wire, page = ("yes" if row.on_the_wire else "no"), ("yes" if row.browser_close else "no")
        lines.append(f"{pad(row.label, 12)} {pad(wire, 5)} {pad(page, 8)} {row.meaning}")
    return "\n".join(lines)


class CloseCodeExplorer(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """The table of close codes; each **Provoke** button makes its code happen live.

    The first click starts the scenario server (:func:`wslearn.demo.scenarios.scenario_server`)
    unless ``server`` is given. Provoking runs in the kernel's thread and takes well under a
    second (the ping timeout about half a second).
    """

    def __init__(self, server: BackgroundServer | None = None) -> None:
        self.server = server
        self.last: Provoked | None = None
        self.buttons: dict[tuple[int, str], widgets.Button] = {}
        self.result = widgets.HTML(f"<p><i>{esc(_('Press a Provoke button.'))}</i></p>")
        cells: list[widgets.Widget] = [widgets.HTML(f"<b>{esc(_(h))}</b>") for h in HEADINGS]
        for row in CODE_ROWS:
            cells += [widgets.HTML(cell) for cell in _cells(row)]
            cells.append(self._buttons_for(row))
        grid = widgets.GridBox(
            cells,
            layout=widgets.Layout(
                grid_template_columns="6em 6em 16em 1fr 6em 8em 18em", grid_gap="1px 8px", width="100%"
            ),
        )
        super().__init__([grid, self.result])
        self.add_class("wslearn-close-code-explorer")

    def _buttons_for(self, row: CodeRow) -> widgets.Widget:
        code = row.provokable
        if code is None:
            return widgets.HTML("")
        buttons = []
        for index, (how, _provoker) in enumerate(PROVOKERS[code]):
            button = widgets.Button(
                description=_("Provoke") if index == 0 else how,
                tooltip=f"provoke({code}, how={how!r})",
                layout=fitting_label(),
            )
            button.on_click(lambda _button, code=code, how=how: self.provoke(code, how))
            self.buttons[(code, how)] = button
            buttons.append(button)
        return widgets.HBox(buttons)

    def provoke(self, code: int, how: str | None = None) -> Provoked:
        """Make ``code`` happen and show what crossed the wire."""
        if self.server is None or not self.server.running:
            self.server = scenario_server()
        self.last = provoke(code, self.server, how)
        self.result.value = self.last._repr_html_()
        return self.last

    def text(self) -> str:
        last = f"\n\n{self.last.text()}" if self.last is not None else ""
        return table_text() + last

    def html(self) -> str:
        last = self.last._repr_html_() if self.last is not None else ""
        return table_html() + last
