"""Benchmark results: rows of samples, medians, ratios against websockets, goals, the table.

Every measurement is a list of samples (one per repetition). The table shows the median, the
spread (half the range, as a percentage of the median), the best sample (the one least
disturbed by other processes on a shared machine) and the ratio against the websockets
library measured in the same run. The ratio is oriented so that > 1 always means "better than
websockets": faster, more messages per second, less CPU, less memory.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

REFERENCE = "websockets"


@dataclass
class Row:
    """One implementation measured on one benchmark."""

    section: str
    benchmark: str
    impl: str
    unit: str
    higher_is_better: bool
    samples: list[float] = field(default_factory=list)
    missing: str = ""  # why there is no number ("wslearn.aio not available yet")

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def best(self) -> float | None:
        """The best sample (highest or lowest): the one least disturbed by other processes."""
        if not self.samples:
            return None
        return max(self.samples) if self.higher_is_better else min(self.samples)

    @property
    def spread(self) -> float | None:
        """Half the range of the samples, relative to the median (0.05 = ±5 %)."""
        median = self.median
        if not median or len(self.samples) < 2:
            return None
        return (max(self.samples) - min(self.samples)) / 2 / abs(median)


@dataclass(frozen=True)
class Goal:
    """A target from issue 5 for one wslearn row."""

    text: str
    met: Callable[[Row, float | None], bool]  # (row, ratio vs websockets) -> met?


def ratio_at_least(limit: float) -> Goal:
    shown = f"{limit:.1f}" if round(limit, 1) == limit else f"{limit:.2f}"
    return Goal(f"≥ {shown}x websockets", lambda row, ratio: ratio is not None and ratio >= limit)


def cheaper_than_reference() -> Goal:
    return Goal("less than websockets", lambda row, ratio: ratio is not None and ratio > 1.0)


def median_at_most(limit: float, unit: str) -> Goal:
    return Goal(
        f"≤ {limit:g} {unit}",
        lambda row, ratio: row.median is not None and row.median <= limit,
    )


class Results:
    """All rows of one run, in the order they were measured."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.goals: dict[tuple[str, str, str], Goal] = {}

    def add(self, row: Row, goal: Goal | None = None) -> Row:
        self.rows.append(row)
        if goal is not None:
            self.goals[(row.section, row.benchmark, row.impl)] = goal
        return row

    def reference(self, row: Row) -> Row | None:
        for other in self.rows:
            if (other.section, other.benchmark, other.impl) == (row.section, row.benchmark, REFERENCE):
                return other
        return None

    def ratio(self, row: Row) -> float | None:
        """row vs websockets, oriented so that > 1 means row is better.

        The benchmarks interleave the implementations, so sample i of every implementation
        comes from the same repetition: when both rows have the same number of samples, the
        ratio is the median of the per-repetition ratios (a noisy neighbour slows down both
        sides of a pair alike). Otherwise it is the ratio of the medians.
        """
        reference = self.reference(row)
        if reference is None or not reference.samples or not row.samples:
            return None
        if len(reference.samples) == len(row.samples):
            pairs = zip(row.samples, reference.samples, strict=True)
            ratios = [r for r in (oriented(row, a, b) for a, b in pairs) if r is not None]
            return statistics.median(ratios) if ratios else None
        assert row.median is not None and reference.median is not None
        return oriented(row, row.median, reference.median)

    def goal_cells(self, row: Row) -> tuple[str, str]:
        goal = self.goals.get((row.section, row.benchmark, row.impl))
        if goal is None:
            return "", ""
        if row.median is None:
            return goal.text, "n/a"
        return goal.text, "yes" if goal.met(row, self.ratio(row)) else "**NO**"

    def goal_summary(self) -> list[tuple[Row, str, bool | None]]:
        summary = []
        for row in self.rows:
            goal = self.goals.get((row.section, row.benchmark, row.impl))
            if goal is None:
                continue
            met = None if row.median is None else goal.met(row, self.ratio(row))
            summary.append((row, goal.text, met))
        return summary

    def to_json(self) -> list[dict[str, object]]:
        return [
            {
                "section": row.section,
                "benchmark": row.benchmark,
                "impl": row.impl,
                "unit": row.unit,
                "higher_is_better": row.higher_is_better,
                "samples": row.samples,
                "median": row.median,
                "best": row.best,
                "ratio_vs_websockets": self.ratio(row),
                "goal": self.goal_cells(row)[0],
                "goal_met": self.goal_cells(row)[1],
                "missing": row.missing,
            }
            for row in self.rows
        ]


def oriented(row: Row, value: float, reference: float) -> float | None:
    """value / reference for higher-is-better rows, reference / value otherwise."""
    if value <= 0 or reference <= 0:
        return None
    return value / reference if row.higher_is_better else reference / value


def format_number(value: float) -> str:
    """Three significant digits, no scientific notation for the usual ranges."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


HEADER = (
    "| section | benchmark | implementation | median | unit | spread | best | n "
    "| vs websockets (>1 = better) | goal | met |"
)


def markdown_table(results: Results) -> str:
    lines = [HEADER, "|" + "---|" * 11]
    for row in results.rows:
        lines.append(markdown_line(results, row))
    return "\n".join(lines)


def markdown_line(results: Results, row: Row) -> str:
    median, best = row.median, row.best
    spread = row.spread
    ratio = results.ratio(row)
    goal, met = results.goal_cells(row)
    cells: Iterable[str] = (
        row.section,
        row.benchmark,
        row.impl,
        format_number(median) if median is not None else f"n/a ({row.missing})",
        row.unit,
        f"±{spread * 100:.0f}%" if spread is not None else "",
        format_number(best) if best is not None and len(row.samples) > 1 else "",
        str(len(row.samples)) if row.samples else "",
        f"{ratio:.2f}x" if ratio is not None else "",
        goal,
        met,
    )
    return "| " + " | ".join(cells) + " |"
