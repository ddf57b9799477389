"""The rich tables `factbot` prints (reports, proposals, answer quality); built here, printed by bot.cli.output."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from bot import reports

if TYPE_CHECKING:
    from bot import evaluate as evaluation
    from bot.suggest import Proposal

EVAL_WORST = 10
"""Intents shown in the per-intent table: the worst by F1."""


def counted(number: int, noun: str) -> str:
    """`3 problems`, `1 problem`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


# -- factbot report unanswered|feedback|usage -------------------------------------------------------


def unanswered(report: reports.Unanswered, since: datetime | None) -> Table:
    """Unanswered groups for people."""
    asked = sum(g.count for g in report.groups)
    caption = f"{counted(asked, 'question')} in {counted(len(report.groups), 'group')}"
    if report.unlogged:
        caption += f"; {report.unlogged} more logged without text (FACTBOT_LOG_QUESTIONS=false)"
    table = Table(title=f"Unanswered questions {reports.describe_since(since)}", caption=caption)
    table.add_column("asked", justify="right")
    table.add_column("example (most common phrasing)")
    table.add_column("phrasings", justify="right")
    table.add_column("nearly matched")
    table.add_column("score", justify="right")
    for group in report.groups:
        score = f"{group.score:.2f}" if group.score is not None else "–"
        table.add_row(str(group.count), group.example, str(len(group.phrasings)), group.intent or "none", score)
    return table


def feedback(rows: list[reports.FeedbackRow], since: datetime | None) -> Table:
    """Votes per intent, then per fact."""
    table = Table(title=f"Feedback {reports.describe_since(since)}", show_lines=False)
    table.add_column("kind")
    table.add_column("id")
    table.add_column("👍", justify="right")
    table.add_column("👎", justify="right")
    table.add_column("questions behind the 👎")
    for row, following in zip(rows, [*rows[1:], None], strict=True):
        asked = "\n".join(f"“{q}”" for q in row.down_questions) or ("–" if not row.down else "(text not logged)")
        table.add_row(
            row.kind,
            row.id,
            str(row.up),
            str(row.down),
            asked,
            end_section=bool(following and following.kind != row.kind),
        )
    return table


def usage(rows: list[reports.UsageRow], since: datetime | None) -> Group:
    """Questions per day with their total, then the top intents."""
    days = Table(title=f"Questions per day {reports.describe_since(since)}")
    for name in ("day", "questions", "answered", "unanswered", "small talk", "answered %"):
        days.add_column(name, justify="left" if name == "day" else "right", no_wrap=True)
    for row in [r for r in rows if r.kind != "intent"]:
        if row.kind == "total":
            days.add_section()
        cells = (row.questions, row.answered, row.clarify + row.fallback, row.smalltalk)
        days.add_row(
            row.key, *map(str, cells), _percent(row.share_answered), style="bold" if row.kind == "total" else None
        )
    days.caption = "answered %: of the questions that were not small talk"
    intents = Table(title="Top intents")
    for name in ("intent", "answered", "clarify", "answered %"):
        intents.add_column(name, justify="left" if name == "intent" else "right", no_wrap=name == "intent")
    for row in [r for r in rows if r.kind == "intent"]:
        intents.add_row(row.key, str(row.answered), str(row.clarify), _percent(row.share_answered))
    return Group(days, Text(), intents) if intents.row_count else Group(days)


def _percent(share: float | None) -> str:
    """`67%`, or a dash when nothing was asked."""
    return f"{share:.0%}" if share is not None else "–"


# -- factbot suggest ---------------------------------------------------------------------------------


def proposals(found: list[Proposal]) -> Table:
    """The proposed examples, numbered as --only takes them, with where each intent is defined."""
    table = Table(title="Proposed examples")
    for name in ("#", "asked", "score"):
        table.add_column(name, justify="right")
    table.add_column("intent (defined at)", no_wrap=True)
    table.add_column("add example")
    for number, p in enumerate(found, 1):
        where = Text.assemble(p.intent, "\n", (f"{p.file}:{p.line}", "dim"))
        table.add_row(str(number), str(p.count), f"{p.score:.2f}", where, p.phrasing)
    return table


# -- factbot eval -------------------------------------------------------------------------------------


def eval_summary(report: evaluation.Report, path: Path) -> Table:
    """Accuracy, abstention and clarify rate overall and per group."""
    t = report.thresholds
    caption = f"thresholds: answer ≥ {t['answer']:g}, clarify ≥ {t['clarify']:g}, margin {t['margin']:g}"
    if "meaning" in t:
        caption += f", meaning ≥ {t['meaning']:g}"
    if t.get("agree"):
        caption += ", words and meaning agreeing answer"
    table = Table(
        title=f"{report.questions} questions from {path.name}",
        title_justify="left",
        caption=caption,
        caption_justify="left",
    )
    for name in ("measure", "right", "of", "rate"):
        table.add_column(name, justify="left" if name == "measure" else "right")
    right_in = round(report.accuracy * report.in_scope)
    right_out = round(report.abstention * report.must_not_answer)
    table.add_row("in-scope accuracy", str(right_in), str(report.in_scope), f"{report.accuracy:.1%}", style="bold")
    table.add_row("abstention on none", str(right_out), str(report.must_not_answer), f"{report.abstention:.1%}")
    table.add_row("clarify rate", "", str(report.questions), f"{report.clarify_rate:.1%}")
    for group in report.groups:
        table.add_row(f"  group {group.group}", str(group.right), str(group.total), f"{group.rate:.1%}", style="dim")
    return table


def worst_intents(report: evaluation.Report) -> Table:
    """The intents with the lowest F1."""
    table = Table(title=f"Worst {EVAL_WORST} intents by F1", title_justify="left")
    table.add_column("intent", no_wrap=True)
    for name in ("meant", "answered", "right", "precision", "recall", "F1"):
        table.add_column(name, justify="right")
    for row in report.intents[:EVAL_WORST]:
        numbers = (row.precision, row.recall, row.f1)
        table.add_row(row.intent, str(row.support), str(row.answered), str(row.right), *(f"{n:.2f}" for n in numbers))
    return table


def confused(report: evaluation.Report) -> Table:
    """The (expected, ranked first) pairs seen most often."""
    table = Table(title="Most confused: meant → ranked first", title_justify="left")
    for name in ("meant", "ranked first", "times"):
        table.add_column(name, justify="right" if name == "times" else "left")
    for pair in report.confused:
        table.add_row(pair.expected, pair.got, str(pair.count))
    return table


def misses(report: evaluation.Report) -> Group:
    """Every question handled wrongly, one line each: what was done, best and runner-up with their scores."""
    lines: list[Text | str] = [Text(f"Misses ({len(report.misses)})", style="italic")]
    for miss in report.misses:
        expected = (
            miss.expect[0] + (f" +{len(miss.expect) - 1}" if len(miss.expect) > 1 else "") if miss.expect else "none"
        )
        best = f"{miss.intent} {miss.score:.2f}" if miss.intent else "no candidate"
        runner = f", runner-up {miss.runner_up} {miss.runner_up_score:.2f}" if miss.runner_up else ""
        lines.append(
            Text.assemble(
                (f"{miss.status.value:9}", "bold"),
                f"{best}{runner}",
                (f"  (expected {expected})", "dim"),
                "\n    ",
                miss.q,
            )
        )
    return Group(*lines)


def trade_off(points: list[evaluation.Point]) -> Table:
    """Accuracy, abstention and coverage at a few answer thresholds."""
    table = Table(title="Trade-off over the answer threshold (fixed thresholds: nothing fitted)", title_justify="left")
    for name in ("answer ≥", "accuracy", "abstention", "unrelated abst.", "answered", "clarify"):
        table.add_column(name, justify="right")
    for point in points:
        shares = (point.accuracy, point.abstention, point.unrelated_abstention, point.coverage, point.clarify_rate)
        table.add_row(f"{point.answer:g}", *(f"{share:.1%}" for share in shares))
    return table
