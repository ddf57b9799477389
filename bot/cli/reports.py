"""`factbot report unanswered|feedback|usage`, `factbot suggest`, `factbot purge`: the question log, for curators.

They read the store FACTBOT_DB_URL names (bot.store.sql, imported only when one runs); `bot.suggest`
(ruamel.yaml) and matplotlib load only when used.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot import reports
from bot.cli import output
from bot.cli.common import DataDir, load_engine, load_settings, question_log, run_or_exit
from bot.cli.output import OutputFormat
from bot.engine import Engine
from bot.settings import ConfigError, Settings
from bot.store import FeedbackRecord, QuestionRecord
from bot.store.urls import masked

if TYPE_CHECKING:
    from bot.models import Answer
    from bot.suggest import Proposal

report_app = typer.Typer(
    help="Curator reports from the question log: unanswered questions, feedback, usage.", no_args_is_help=True
)

Since = Annotated[
    str,
    typer.Option("--since", help="How far back: 7d, 24h, 30m, 2w, an ISO date (2024-05-01), or 'all'."),
]
Format = Annotated[
    OutputFormat,
    typer.Option("--format", help="table for people; json (one document) or csv (with a header row) for tools."),
]


@report_app.command("unanswered")
def report_unanswered(
    since: Since = "7d", output_format: Format = OutputFormat.table, data_dir: DataDir = None
) -> None:
    """Questions that got fallback or clarify, grouped by similarity, with the intent each nearly matched."""
    start = _since(since)
    engine = load_engine(data_dir)
    questions, _ = _read_log(load_settings(data_dir), start)
    report = reports.unanswered(questions, engine.matcher)
    output.unanswered(report, output_format, since=start, asked=len(questions))


@report_app.command("feedback")
def report_feedback(since: Since = "7d", output_format: Format = OutputFormat.table, data_dir: DataDir = None) -> None:
    """👍 and 👎 per intent and per fact, with the questions behind the 👎."""
    start = _since(since)
    questions, votes = _read_log(load_settings(data_dir), start, votes=True)
    output.feedback(reports.feedback(votes, questions), output_format, since=start)


@report_app.command("usage")
def report_usage(
    since: Since = "7d",
    output_format: Format = OutputFormat.table,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw questions per day and the answered share into this PNG.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Questions per day, the share answered, and the top intents; --plot draws them."""
    start = _since(since)
    questions, _ = _read_log(load_settings(data_dir), start)
    rows = reports.usage(questions, since=start)
    output.usage(rows, output_format, since=start)
    if plot is not None and rows:
        _plot(rows, plot, start, on_stdout=output_format is OutputFormat.table)


def _plot(rows: list[reports.UsageRow], path: Path, since: datetime | None, *, on_stdout: bool) -> None:
    """Draw the usage chart, or say in one line why it could not be written."""
    try:
        reports.plot_usage(rows, path, title=f"Factbot questions per day, {reports.describe_since(since)}")
    except (OSError, ValueError) as exc:  # a folder that is not there; a file type matplotlib cannot write
        output.fail(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}")
    output.wrote("Chart", path, on_stdout=on_stdout)


def suggest(
    since: Since = "7d",
    apply: Annotated[
        bool,
        typer.Option("--apply", metavar="", help="Write the proposals into intents/*.yaml and validate the fact base."),
    ] = False,
    only: Annotated[
        list[int] | None,
        typer.Option("--only", help="With --apply, write only the proposal numbered so (repeat for several)."),
    ] = None,
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", min=0.0, max=1.0, help="How close a group must have come to an intent [0.3]."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Propose unanswered questions as examples of the intents they nearly matched; --apply writes them."""
    from bot import suggest as suggesting

    min_score = suggesting.MIN_SCORE if min_score is None else min_score
    start = _since(since)
    engine = load_engine(data_dir)
    settings = load_settings(data_dir)
    questions, _ = _read_log(settings, start)
    if not questions:
        output.nothing_logged(start)
        return
    found = suggesting.suggest(reports.unanswered(questions, engine.matcher), engine.base, min_score=min_score)
    output.suggestions(found, min_score, applying=apply)
    if apply and found.proposals:
        chosen = _chosen(found.proposals, only or [])
        applied = suggesting.apply(settings.data_dir.resolve(), chosen)
        if not applied.ok or applied.base is None:
            output.not_applied(applied.problems)
        output.applied(applied.files, _answered_now(Engine(applied.base, thresholds=engine.thresholds), chosen))


def _chosen(proposals: list[Proposal], numbers: list[int]) -> list[Proposal]:
    """The proposals numbered `numbers` (all when none is given), or a usage error naming --only."""
    wrong = sorted(n for n in set(numbers) if not 1 <= n <= len(proposals))
    if wrong:
        message = f"no proposal {', '.join(map(str, wrong))} (they are numbered 1 to {len(proposals)})"
        raise typer.BadParameter(message, param_hint="--only")
    return [p for number, p in enumerate(proposals, 1) if not numbers or number in numbers]


def _answered_now(engine: Engine, chosen: list[Proposal]) -> list[tuple[Proposal, Answer]]:
    """How the fact base with the new examples answers each of their phrasings."""
    return [(proposal, engine.respond(proposal.phrasing)) for proposal in chosen]


def demo(
    db: Annotated[Path, typer.Option("--db", help="The SQLite file to fill (it must not exist yet).")] = Path(
        "factbot-demo.db"
    ),
    until: Annotated[
        datetime | None,
        typer.Option(
            "--until",
            formats=["%Y-%m-%d"],
            metavar="YYYY-MM-DD",
            help="The week's last day (UTC), for a log that is the same every time.",
            show_default="the week ends now",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Fill a new SQLite question log with a realistic week of questions and votes, to try the reports."""
    if db.exists():
        output.fail(f"{db} already exists: remove it, or name another file with --db", 2)
    engine = load_engine(data_dir)
    questions, votes = run_or_exit(_fill(engine, db, until=None if until is None else until.date()))
    url = f"sqlite+aiosqlite:///{db}"
    output.plain(f"Wrote a week of {questions} questions and {votes} votes to {db}. Try:")
    output.plain(f"  FACTBOT_DB_URL={url} factbot report usage --since all --plot usage.png")
    output.plain(f"  FACTBOT_DB_URL={url} factbot report unanswered --since all")


async def _fill(engine: Engine, db: Path, *, until: date | None) -> tuple[int, int]:
    """Write a demo week (its last day `until`, or ending now) into a new log at `db`; how many questions and votes."""
    from bot.demo import demo_week, end_of
    from bot.store.sql import open_store

    week = demo_week(engine, until=None if until is None else end_of(until))
    store = await open_store(f"sqlite+aiosqlite:///{db.resolve()}")
    try:
        await store.write_many([*week.questions, *week.votes])
    finally:
        await store.close()
    return len(week.questions), len(week.votes)


def purge(data_dir: DataDir = None) -> None:
    """Delete questions, votes and posts older than FACTBOT_RETENTION_DAYS (factbot run does it at start)."""
    settings = load_settings(data_dir)
    file = _sqlite_file(settings.db_url)
    rows = None if file is not None and not file.exists() else run_or_exit(_purge(settings))
    output.purged(rows, days=settings.retention_days, file=file)


async def _purge(settings: Settings) -> int:
    """Purge the store FACTBOT_DB_URL names; how many rows went."""
    from bot.store import cutoff
    from bot.store.sql import open_store

    store = await open_store(settings.db_url)
    try:
        return await store.purge(before=cutoff(settings.retention_days))
    finally:
        await store.close()


def _since(text: str) -> datetime | None:
    """The start of the reporting window, or a usage error naming --since."""
    try:
        return reports.parse_since(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None


def _read_log(
    settings: Settings, since: datetime | None, *, votes: bool = False
) -> tuple[list[QuestionRecord], list[FeedbackRecord]]:
    """Questions (all of them when votes are read, to find what was asked) and votes, or one line and exit 1."""
    missing = _sqlite_file(settings.db_url)
    if missing is not None and not missing.exists():
        output.fail(f"no question log at {missing} (FACTBOT_DB_URL); nothing has been recorded there.")
    try:
        return asyncio.run(_fetch(settings, since, votes=votes))
    except ConfigError as exc:  # the store's own one-line reason (unreachable, newer schema, bad URL)
        output.fail(str(exc), highlight=False)
    except Exception as exc:  # anything else a driver raises: one line too, never a traceback
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        where = masked(settings.db_url)
        output.fail(f"cannot read the question log at {where}: {reason}", highlight=False)


async def _fetch(
    settings: Settings, since: datetime | None, *, votes: bool
) -> tuple[list[QuestionRecord], list[FeedbackRecord]]:
    """Read what a report needs from the store, and close it."""
    store = await question_log(settings)
    try:
        questions = await store.questions(since=None if votes else since)
        return questions, (await store.feedback(since=since) if votes else [])
    finally:
        await store.close()


def _sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for in-memory SQLite and other databases."""
    scheme, found, rest = url.partition("://")
    path = rest.split("?")[0]
    if not found or scheme.split("+")[0] != "sqlite" or not path.startswith("/") or path in ("/", "/:memory:"):
        return None
    return Path(path[1:])
