"""The generated part of the instructor guide: one section per chapter, from its notebook and exercises.

``course/README.md`` is written by hand except between the two markers below, which the
builder refills: per chapter its objectives, prerequisites and time (the notebook's first
cell), the misconceptions it targets (found in what the chapter shows), the seed examples and
typical mistakes it covers, its graded exercises and the checkpoint's answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .build import Chapter

BEGIN = "<!-- BEGIN GENERATED: chapters (python -m wslearn kit build) -->"
END = "<!-- END GENERATED: chapters -->"

#: The misconceptions the course targets, each with what a chapter that deals with it mentions.
MISCONCEPTIONS: tuple[tuple[str, str], ...] = (
    (
        "1006 is a reason a peer gave (it is never sent: the connection ended without a Close frame)",
        r"\b1006\b",
    ),
    (
        "browser JavaScript can send a Ping (the WebSocket API has no ping(); only TEXT heartbeats)",
        r"browser JavaScript",
    ),
    (
        '"1011 keepalive ping timeout" means the peer died (often a blocked loop answered too late)',
        r"keepalive ping timeout|blocked (the )?(event )?loop|1011.{0,80}(ping|keepalive)",
    ),
    (
        "masking is encryption, not needed over TLS (it is neither: §10.3, on every client frame)",
        r"encrypt",
    ),
    (
        "a proxy forwards the upgrade as it is (many drop Upgrade and Connection: hop-by-hop)",
        r"hop-by-hop|proxy.{0,120}Upgrade|Upgrade.{0,120}proxy",
    ),
    (
        '"WebSockets don\'t use CORS", so any page may connect (the server must check Origin)',
        r"CORS|Origin:|CheckOrigin|same-origin",
    ),
    (
        "a self-signed wss:// certificate gets a prompt (the browser fails the connection silently)",
        r"self-signed",
    ),
    ("a page served over https:// may open ws:// (mixed content: blocked)", r"mixed content"),
    ("asyncio.run works in a notebook cell (the kernel's loop is already running)", r"asyncio\.run"),
    (
        "compression is always a win, and no context takeover keeps secrets safe"
        " (CRIME works inside one message)",
        r"CRIME|BREACH",
    ),
)


def misconceptions(text: str) -> list[str]:
    return [claim for claim, pattern in MISCONCEPTIONS if re.search(pattern, text, re.IGNORECASE)]


def seeds(text: str) -> list[str]:
    return sorted(set(re.findall(r"\bseed 00\d\b", text)))


def chapter_section(chapter: Chapter) -> str:
    from .build import QUESTION_POINTS, points_for

    lines = [f"### {chapter.title}", ""]
    lines.append(
        f"Assignment `{chapter.assignment}` ({chapter.points:g} points), from the notebook "
        f"`notebooks/{chapter.notebook_name or chapter.assignment}.ipynb`."
    )
    for heading in ("Objectives", "Prerequisites", "Time"):
        text = chapter.section(heading)
        if text:
            lines += ["", f"**{heading}**: {text}" if "\n" not in text else f"**{heading}**\n\n{text}"]
    found = misconceptions(chapter.text)
    if found:
        lines += ["", "**Misconceptions it targets**", "", *[f"* {claim}" for claim in found]]
    seed_names = seeds(chapter.text)
    mistakes = [f"{e.id}: {m.name}" for e in chapter.exercises for m in e.mistakes]
    if seed_names or mistakes:
        lines += ["", "**Seed examples and mistakes it covers**", ""]
        if seed_names:
            lines.append(f"* the seed programs it re-does or audits: {', '.join(seed_names)}")
        if mistakes:
            lines.append(f"* the typical wrong answers its grader recognises: {'; '.join(mistakes)}")
    if chapter.exercises:
        lines += ["", "| exercise | the answer | points | cases | per-student inputs |"]
        lines.append("|---|---|---|---|---|")
        for exercise in chapter.exercises:
            count = len(exercise.cases) + (exercise.random_count if exercise.random_cases else 0)
            lines.append(
                f"| `{exercise.id}` | {exercise.signature.replace('|', '∣')} | {points_for(exercise)} | "
                f"{count} | {'yes (seeded)' if exercise.random_cases else 'no'} |"
            )
    if chapter.quiz is not None:
        lines += ["", f"**Answers to the checkpoint** ({QUESTION_POINTS} point each)", ""]
        for number, question in enumerate(chapter.quiz.questions, 1):
            answer = (
                f"{'abcdefgh'[int(question.answer)]}) {question.choices[int(question.answer)]}"
                if question.choices
                else f"{question.answer:g}"
            )
            lines.append(f"{number}. {answer}. {question.explanation}")
    lines += [
        "",
        f"The exercises' answers are the reference solutions in `source/{chapter.assignment}/` "
        "(cells `answer_…`).",
    ]
    return "\n".join(lines)


def misconception_table(chapters: Sequence[Chapter]) -> str:
    lines = ["| misconception | chapters |", "|---|---|"]
    for claim, pattern in MISCONCEPTIONS:
        where = [c.number for c in chapters if re.search(pattern, c.text, re.IGNORECASE)]
        lines.append(f"| {claim} | {', '.join(where) or 'not yet in a chapter'} |")
    return "\n".join(lines)


def refresh_guide(text: str, chapters: Sequence[Chapter]) -> str:
    """``text`` with the part between the markers rebuilt (unchanged when there are no markers)."""
    if BEGIN not in text or END not in text:
        return text
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    body = "\n\n".join(
        ["## Where each misconception is taught", misconception_table(chapters), "## The chapters"]
        + [chapter_section(chapter) for chapter in chapters]
    )
    return f"{head}{BEGIN}\n\n{body}\n\n{END}{tail}"
