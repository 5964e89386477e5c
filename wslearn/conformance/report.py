"""The report card: one line per case, a summary per category, as text or as HTML."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .model import Case, Grade, Verdict

GRADE_COLORS = {Grade.OK: "#1a7f37", Grade.NON_STRICT: "#9a6700", Grade.FAILED: "#cf222e"}


@dataclass(frozen=True)
class Result:
    """What happened in one case."""

    case: Case[Any]
    verdict: Verdict
    seconds: float
    subject: str = "server"  # who is graded: "server", or "client" for the client checks

    @property
    def grade(self) -> Grade:
        return self.verdict.grade

    @property
    def detail(self) -> str:
        """One sentence: what the server did and, unless OK, what RFC 6455 requires."""
        if self.grade is Grade.OK:
            return f"The {self.subject} {self.verdict.did}."
        requires = self.verdict.requires or self.case.requires
        return f"The {self.subject} {self.verdict.did}; RFC 6455 {self.case.section} requires {requires}."


@dataclass
class Report:
    """Every result of one run of the checker against ``url``."""

    url: str  # what was graded: a server's URL, or the name of a client
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    subject: str = "server"

    def count(self, grade: Grade) -> int:
        return sum(1 for result in self.results if result.grade is grade)

    @property
    def passed(self) -> int:
        return self.count(Grade.OK)

    @property
    def failed(self) -> int:
        return self.count(Grade.FAILED)

    @property
    def non_strict(self) -> int:
        return self.count(Grade.NON_STRICT)

    @property
    def ok(self) -> bool:
        """True when nothing FAILED (NON-STRICT is acceptable)."""
        return self.failed == 0

    def summary_line(self) -> str:
        return f"{self.passed} passed, {self.failed} failed, {self.non_strict} non-strict"

    def categories(self) -> dict[str, Counter[Grade]]:
        """Per category (in the order they ran): how many cases earned each grade."""
        table: dict[str, Counter[Grade]] = {}
        for result in self.results:
            table.setdefault(result.case.category, Counter())[result.grade] += 1
        return table

    def problems(self) -> list[Result]:
        return [result for result in self.results if result.grade is not Grade.OK]

    def __getitem__(self, case_id: str) -> Result:
        for result in self.results:
            if result.case.id == case_id:
                return result
        raise KeyError(case_id)

    # -- terminal view ---------------------------------------------------------------------

    def to_text(self, *, all_cases: bool = True) -> str:
        lines = [f"RFC 6455 report card for {self.url}", ""]
        lines += [result_line(result) for result in self.results if all_cases or result.grade is not Grade.OK]
        lines += ["", *category_lines(self.categories()), "", self.summary_line()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    # -- notebook view ---------------------------------------------------------------------

    def _repr_html_(self) -> str:
        e = html.escape
        head = (
            f"<p><b>RFC 6455 report card for <code>{e(self.url)}</code></b>: "
            f"{e(self.summary_line())} ({self.seconds:.1f} s)</p>"
        )
        return head + category_table(self.categories()) + case_table(self.results)


def result_line(result: Result) -> str:
    grade = f"{result.grade}".ljust(10)
    return f"{grade} {result.case.id:<42} {result.case.section:<7} {result.detail}"


def category_lines(table: dict[str, Counter[Grade]]) -> list[str]:
    lines = [f"{'category':<18} {'OK':>4} {'NON-STRICT':>10} {'FAILED':>6}"]
    for category, counts in table.items():
        lines.append(
            f"{category:<18} {counts[Grade.OK]:>4} {counts[Grade.NON_STRICT]:>10} {counts[Grade.FAILED]:>6}"
        )
    return lines


def cell(text: object, style: str = "") -> str:
    """One escaped table cell, left-aligned and top-aligned (notebooks right-align by default)."""
    return f'<td style="text-align:left;vertical-align:top;{style}">{html.escape(str(text))}</td>'


def grade_cell(grade: Grade) -> str:
    return cell(grade, f"color:{GRADE_COLORS[grade]};font-weight:bold;white-space:nowrap")


def table(headings: list[str], rows: list[str]) -> str:
    head = "".join(f'<th style="text-align:left">{html.escape(h)}</th>' for h in headings)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def category_table(counts_by_category: dict[str, Counter[Grade]]) -> str:
    rows = []
    for category, counts in counts_by_category.items():
        worst = next((g for g in (Grade.FAILED, Grade.NON_STRICT) if counts[g]), Grade.OK)
        numbers = "".join(cell(counts[grade]) for grade in Grade)
        rows.append(f"<tr>{cell(category)}{grade_cell(worst)}{numbers}</tr>")
    return table(["category", "grade", "OK", "NON-STRICT", "FAILED"], rows)


def case_table(results: list[Result]) -> str:
    rows = [
        f"<tr>{grade_cell(r.grade)}{cell(r.case.id, 'font-family:monospace')}"
        f"{cell(r.case.section)}{cell(r.case.title)}{cell(r.detail)}</tr>"
        for r in results
    ]
    cases = table(["grade", "case", "RFC 6455", "sent", "result"], rows)
    return f"<details open><summary>every case</summary>{cases}</details>"
