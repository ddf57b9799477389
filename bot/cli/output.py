"""Everything `factbot` prints, and the only module that prints: the two consoles, one-line errors, answers,
reports as a table, JSON or CSV, proposals and answer quality (the tables themselves are built in bot.cli.tables)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console

from bot import reports
from bot.adapters.console import render, render_answer, sources_table
from bot.cli import tables
from bot.cli.tables import counted

if TYPE_CHECKING:
    from bot import evaluate as evaluation
    from bot.chat.replies import Reply
    from bot.engine import Engine
    from bot.explain import Explanation
    from bot.knowledge import FactBase
    from bot.models import Answer
    from bot.suggest import Proposal, Suggestions
    from bot.yamlfile import Problem

out = Console()
err = Console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    """How a report is printed."""

    table = "table"
    json = "json"
    csv = "csv"


# -- lines ---------------------------------------------------------------------------------------------


def error(message: str, *, highlight: bool = True) -> None:
    """One line on standard error that names the program: `factbot: <message>`."""
    err.print(f"factbot: {message}", markup=False, highlight=highlight)


def fail(message: str, code: int = 1, *, highlight: bool = True) -> NoReturn:
    """Say what is wrong in one line (never a traceback) and exit with `code`."""
    error(message, highlight=highlight)
    raise typer.Exit(code)


def problems(found: Sequence[Problem]) -> None:
    """The fact base's problems, one `file:line: message` a line, on standard error."""
    for problem in found:
        err.print(str(problem), markup=False, highlight=False)


def invalid(found: Sequence[Problem], folder: Path) -> NoReturn:
    """The fact base in `folder` does not load: its problems, then why nothing starts; exit 1."""
    problems(found)
    fail(f"the fact base in {folder} is invalid ({counted(len(found), 'problem')}); not starting.")


def plain(text: str, *, end: str = "\n") -> None:
    """Text for other programs (JSON, YAML, a URL, a digest) on standard output, exactly as given."""
    print(text, end=end, flush=True)


def blank() -> None:
    """An empty line (after Ctrl-C in the chat, so that the shell's prompt starts a line of its own)."""
    out.print()


def wrote(what: str, path: Path, *, on_stdout: bool = False) -> None:
    """`Chart written to …`, on standard error unless a table for people went to standard output."""
    (out if on_stdout else err).print(f"{what} written to {path}", markup=False, highlight=False)


# -- answers and the fact base -------------------------------------------------------------------------


def answer(found: Answer, *, as_json: bool) -> None:
    """One answer: JSON on one line, or rich text for people."""
    if as_json:
        plain(found.model_dump_json())
    else:  # piped: no wrapping, so a long URL stays on one line
        out.print(render_answer(found), soft_wrap=not out.is_terminal)


def unanswerable(text: str, exc: Exception, *, as_json: bool) -> None:
    """One question of a batch could not be answered: a JSON line naming it, or a line on standard error."""
    if as_json:
        plain(json.dumps({"question": text, "error": f"could not answer: {type(exc).__name__}"}))
    else:
        error(f"could not answer that question ({type(exc).__name__})")


def explanation(found: Explanation, *, as_json: bool) -> None:
    """Why a question gets its answer: plain words then the numbers, or the Explanation as JSON."""
    from bot.explain import explanation_text

    plain(found.model_dump_json() if as_json else explanation_text(found))


def reply(found: Reply) -> None:
    """A chat service reply, rendered as the terminal chat shows it."""
    out.print(render(found), markup=False, highlight=False)


def sources(engine: Engine) -> None:
    """The documents the fact base quotes, as a table."""
    out.print(sources_table(engine))


def valid(folder: Path, base: FactBase) -> None:
    """The fact base validates: what is in it."""
    examples = sum(len(i.examples) for i in base.intents.values())
    out.print(
        f"✓ {folder}: {len(base.sources)} sources, {len(base.facts)} facts, "
        f"{len(base.intents)} intents, {examples} examples; every quote is verbatim.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def not_valid(found: Sequence[Problem], folder: Path) -> NoReturn:
    """`factbot validate` found problems: each, then how many; exit 1."""
    problems(found)
    err.print(f"{counted(len(found), 'problem')} in {folder}", markup=False)
    raise typer.Exit(1)


# -- factbot report unanswered|feedback|usage ----------------------------------------------------------


def unanswered(report: reports.Unanswered, output: OutputFormat, *, since: datetime | None, asked: int) -> None:
    """The unanswered groups; with none, whether anything was asked at all."""
    empty = _nothing("questions", since)
    if asked:
        empty = f"No unanswered questions {reports.describe_since(since)}: all {counted(asked, 'question')} answered."
    groups = report.groups
    _emit(groups, output, model=reports.UnansweredGroup, empty=empty, table=lambda: tables.unanswered(report, since))


def feedback(rows: list[reports.FeedbackRow], output: OutputFormat, *, since: datetime | None) -> None:
    """Votes per intent and per fact."""
    empty = _nothing("feedback", since)
    _emit(rows, output, model=reports.FeedbackRow, empty=empty, table=lambda: tables.feedback(rows, since))


def usage(rows: list[reports.UsageRow], output: OutputFormat, *, since: datetime | None) -> None:
    """Questions per day and the top intents."""
    empty = _nothing("questions", since)
    _emit(rows, output, model=reports.UsageRow, empty=empty, table=lambda: tables.usage(rows, since))


def _emit(
    rows: Sequence[BaseModel],
    output: OutputFormat,
    *,
    model: type[BaseModel],
    empty: str,
    table: Callable[[], Any],
) -> None:
    """Print rows as a table, one JSON document or CSV; with no rows, say `empty` (on stderr for json and csv)."""
    if output is OutputFormat.table:
        out.print(table() if rows else empty, markup=False, highlight=False, soft_wrap=not rows)
        return
    if output is OutputFormat.json:
        print(json.dumps(reports.as_records(rows), indent=2, ensure_ascii=False))
    else:
        print(reports.as_csv(rows, list(model.model_fields)), end="")
    if not rows:
        err.print(empty, markup=False, highlight=False)


def _nothing(what: str, since: datetime | None) -> str:
    """The friendly line for an empty window."""
    return f"No {what} recorded {reports.describe_since(since)}."


# -- factbot purge, factbot digest send ----------------------------------------------------------------


def purged(rows: int | None, *, days: int, file: Path | None) -> None:
    """How many rows the purge deleted; or that there was no question log to purge."""
    said = f"No question log at {file}; nothing to delete."
    if rows is not None:
        said = f"Deleted {counted(rows, 'row')} older than {counted(days, 'day')}."
    out.print(said, markup=False, highlight=False)


def digest_sent(posted: bool, *, day: date, to: str) -> None:
    """Whether `factbot digest send` posted, or found the day's digest posted already."""
    done = f"Posted the {day} digest to {to}."
    plain(done if posted else f"The {day} digest for {to} was already posted (or is being posted); nothing sent.")


def synced(commands: int) -> None:
    """Discord took the global slash commands."""
    out.print(f"Synced {commands} commands globally; Discord may take up to an hour to show them.")


# -- factbot suggest -----------------------------------------------------------------------------------


def nothing_logged(since: datetime | None) -> None:
    """The question log holds no question in the window."""
    out.print(_nothing("questions", since), markup=False)


def suggestions(found: Suggestions, min_score: float, *, applying: bool) -> None:
    """The proposals as a numbered table, then what was left out and why."""
    if found.proposals:
        out.print(tables.proposals(found.proposals))
    else:
        out.print("No examples to propose.", markup=False)
    for skipped in found.skipped:
        out.print(f"Left out “{skipped.phrasing}” for {skipped.intent}: {skipped.reason}.", markup=False, style="dim")
    if found.unmatched:
        out.print(
            f"{counted(found.unmatched, 'group')} of unanswered questions came no closer than {min_score:.2f} "
            "to any intent (new facts may be needed: see `factbot report unanswered`).",
            markup=False,
            style="dim",
        )
    if found.proposals and not applying:
        out.print("Add them with --apply (or some of them: --apply --only 1 --only 3).", markup=False, style="dim")


def applied(files: list[str], answers: list[tuple[Proposal, Answer]]) -> None:
    """Which files took the examples, and how each phrasing is answered now."""
    out.print(
        f"✓ Added {counted(len(answers), 'example')} to {', '.join(files)}; the fact base validates.", markup=False
    )
    for proposal, now in answers:
        by = f" by {now.intent}" if now.intent else ""
        out.print(f"  “{proposal.phrasing}” is now {now.status.value}{by}", markup=False, highlight=False)


def not_applied(found: Sequence[Problem]) -> NoReturn:
    """The examples would break the fact base, so none was kept: the problems, then that; exit 1."""
    problems(found)
    fail("with these examples the fact base does not validate; every file is as it was.")


# -- factbot eval ---------------------------------------------------------------------------------------


def quality(report: evaluation.Report, path: Path, *, as_json: bool) -> None:
    """The report as JSON; or the summary, the worst intents, the confused pairs and every miss."""
    if as_json:
        plain(report.model_dump_json(indent=2))
        return
    out.print(tables.eval_summary(report, path))
    out.print(tables.worst_intents(report))
    if report.confused:
        out.print(tables.confused(report))
    if report.misses:
        out.print(tables.misses(report))


def calibration(found: evaluation.Calibration, *, as_json: bool) -> None:
    """The proposal as JSON; or the numbers it reaches on held-out questions and the trade-off table."""
    if as_json:
        plain(found.model_dump_json(indent=2))
        return
    p, held, now_ = found.proposed, found.held_out, found.current
    out.print(f"Proposed: answer ≥ {p.answer:g}, clarify ≥ {p.clarify:g}, margin {p.margin:g}", style="bold")
    out.print(
        f"Held out ({len(found.folds)}-fold cross-validation, never the fitted numbers): accuracy {held.accuracy:.1%}, "
        f"abstention {held.abstention:.1%}, unrelated abstention {held.unrelated_abstention:.1%}, "
        f"clarify rate {held.clarify_rate:.1%}",
        markup=False,
    )
    out.print(
        f"Current (answer ≥ {now_.answer:g}, clarify ≥ {now_.clarify:g}, margin {now_.margin:g}): "
        f"accuracy {now_.accuracy:.1%}, abstention {now_.abstention:.1%}, clarify rate {now_.clarify_rate:.1%}",
        markup=False,
    )
    folds = "; ".join(f"{f.answer:g}/{f.clarify:g}/{f.margin:g}" for f in found.folds)
    out.print(f"Chosen per fold (answer/clarify/margin): {folds}", style="dim", markup=False)
    out.print(f"Objective: {found.objective}.", style="dim", markup=False)
    out.print(tables.trade_off(found.trade_off))


def calibration_hint() -> None:
    """How to keep the proposed thresholds."""
    out.print("Write them to .env with --calibrate --write.", style="dim", markup=False)
