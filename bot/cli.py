"""The `factbot` command line: the only module that wires settings, fact base and adapters together."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
import yaml
from pydantic import BaseModel, ValidationError
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from bot import reports
from bot.adapters.console import ConsoleAdapter, render, render_answer, sources_table
from bot.digest import ChannelGone, Digest, Subscription
from bot.engine import Engine
from bot.knowledge import read_factbase
from bot.settings import PROJECT_ROOT, ConfigError, Settings
from bot.store import FeedbackRecord, QuestionRecord, Store
from bot.store.urls import masked

if TYPE_CHECKING:
    from bot import evaluate as evaluation
    from bot.scheduler import DigestScheduler
    from bot.suggest import Applied, Proposal, Suggestions

app = typer.Typer(
    help="Factbot answers questions from a curated fact base, quoting its source verbatim.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
SHUTDOWN_WRITES = 4.0
"""Seconds the last writes may take at shutdown: with 5 s for requests in flight, the exit stays within 10 s."""
"""How a service manager or a person stops `factbot run`: both end it cleanly, with the log written."""

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
out = Console()
err = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of the fact base (default: FACTBOT_DATA_DIR, or the shipped one).",
        show_default=False,
    ),
]


def _settings(data_dir: Path | None) -> Settings:
    """Settings from the environment and `.env`, with the command line's data folder on top."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            where = f" {str(error['loc'][0]).upper()}" if error["loc"] else ""
            err.print(f"factbot: bad setting{where}: {message}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except UnicodeDecodeError:
        err.print("factbot: .env is not UTF-8 text; save it as UTF-8.", markup=False, highlight=False)
        raise typer.Exit(2) from None
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings


def _engine(data_dir: Path | None) -> Engine:
    """Load and check the fact base, or stop with its problems, one per line (never a traceback)."""
    settings = _settings(data_dir)
    base, problems = read_factbase(settings.data_dir.resolve())
    if problems:
        for problem in problems:
            err.print(str(problem), markup=False, highlight=False)
        summary = f"the fact base in {settings.data_dir} is invalid ({_count(problems, 'problem')})"
        err.print(f"factbot: {summary}; not starting.", markup=False)
        raise typer.Exit(1)
    salt = settings.user_salt.get_secret_value() if settings.user_salt else None
    return Engine(
        base,
        answer=settings.answer_threshold,
        clarify=settings.clarify_threshold,
        margin=settings.clarify_margin,
        log_text=settings.log_questions,
        salt=salt,
    )


def _count(items: Sequence[object], noun: str) -> str:
    """`3 problems`, `1 problem`."""
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _stdin() -> TextIO:
    """Standard input as text that never fails to decode (bad bytes become U+FFFD)."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    return sys.stdin


@app.command()
def ask(
    question: Annotated[
        list[str] | None,
        typer.Argument(
            help="The question; omit it to read one question a line from standard input.", show_default=False
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer as JSON (JSON Lines when reading standard input).")
    ] = False,
    why: Annotated[
        bool, typer.Option("--why", help="Explain the decision: the matched example, scores, runner-up, thresholds.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Answer one question (or each line of standard input) and exit."""
    engine = _engine(data_dir)
    if question and why:
        _explain(engine, " ".join(question), as_json)
        return
    if question:
        _print(engine, " ".join(question), as_json)
        return
    for line in _stdin():
        if line.strip() or as_json:
            _print(engine, line.rstrip("\r\n"), as_json)


def _explain(engine: Engine, text: str, as_json: bool) -> None:
    """Why `text` gets the answer it gets: plain words, then the numbers (or the Explanation as JSON)."""
    from bot.explain import explain, explanation_text

    explanation = explain(engine, text)
    if as_json:
        print(explanation.model_dump_json())
    else:
        print(explanation_text(explanation))


def _print(engine: Engine, text: str, as_json: bool) -> None:
    """Answer `text` and print it; one failing line is reported and the rest go on."""
    try:
        answer = engine.respond(text)
    except Exception as exc:  # one bad line must not stop a batch
        logging.getLogger(__name__).exception("could not answer a question")
        if as_json:
            print(json.dumps({"question": text, "error": f"could not answer: {type(exc).__name__}"}), flush=True)
        else:
            err.print(f"factbot: could not answer that question ({type(exc).__name__})", markup=False)
        return
    if as_json:
        print(answer.model_dump_json(), flush=True)
    else:
        out.print(render_answer(answer))


@app.command()
def chat(data_dir: DataDir = None) -> None:
    """Chat in the terminal; with questions piped in, answer each and exit."""
    adapter = ConsoleAdapter(_engine(data_dir), console=out, settings=_settings(data_dir))
    try:
        asyncio.run(adapter.run(_stdin()))
    except KeyboardInterrupt:
        out.print()


@app.command()
def run(
    http: Annotated[
        bool, typer.Option("--http", help="Serve Slack over HTTP (needs SLACK_SIGNING_SECRET) instead of Socket Mode.")
    ] = False,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Port for --http (default: FACTBOT_HTTP_PORT, 3000)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Start every chat adapter whose credentials are set; the terminal chat when none is."""
    settings = _settings(data_dir)
    _warn_about_half_configured(settings)
    if not settings.has_chat_tokens:
        chat(data_dir)
        return
    engine = _engine(data_dir)
    if settings.user_salt is None:
        log.warning("FACTBOT_USER_SALT is not set: user hashes change at every start (see the README)")
    try:
        asyncio.run(_run_adapters(engine, settings, http=http, port=port or settings.http_port))
    except KeyboardInterrupt:
        pass
    except ConfigError as exc:
        err.print(f"factbot: {exc}", markup=False)
        raise typer.Exit(1) from None


async def _run_adapters(engine: Engine, settings: Settings, *, http: bool, port: int) -> None:
    """Open the store FACTBOT_DB_URL names, run the adapters and the digest scheduler on it, close it cleanly."""
    from bot.scheduler import DigestScheduler
    from bot.store.sql import store_from_settings

    engine.store = await store_from_settings(settings, purge=True)
    digests = DigestScheduler.from_settings(engine, engine.store, settings)
    stop = asyncio.Event()
    try:
        with _stopping_on_signals(stop):
            services = _services(engine, settings, http=http, port=port, digests=digests)
            await _serve_all([*services, digests.serve()], stop=stop)
    finally:
        written = await _close_log(engine)
    if stop.is_set() and written:
        log.info("stopped cleanly: every question answered is in the log")


async def _close_log(engine: Engine) -> bool:
    """Write what is queued and close the store, within SHUTDOWN_WRITES seconds: a database that stays locked
    cannot hold the exit. Whether everything was written."""
    try:
        await asyncio.wait_for(_drain_and_close(engine), SHUTDOWN_WRITES)
    except TimeoutError:
        left = engine.writes.pending + int(getattr(engine.store, "pending", 0))
        log.warning(
            "stopping without writing %d records: the database did not take them within %.0f s", left, SHUTDOWN_WRITES
        )
        return False
    return int(getattr(engine.store, "pending", 0)) == 0


async def _drain_and_close(engine: Engine) -> None:
    """Hand every queued record to the store, then close it (its last flush included)."""
    await engine.drain()
    await engine.store.close()


@contextlib.contextmanager
def _stopping_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGTERM (systemd, Docker, Kubernetes) and SIGINT (Ctrl-C) set `stop` instead of killing the process."""
    loop = asyncio.get_running_loop()
    installed = []
    for number in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signal handlers on this platform
            loop.add_signal_handler(number, _stop_on, stop, number)
            installed.append(number)
    try:
        yield
    finally:
        for number in installed:
            loop.remove_signal_handler(number)


def _stop_on(stop: asyncio.Event, number: signal.Signals) -> None:
    """A stop signal arrived: say so once, and begin the shutdown."""
    if not stop.is_set():
        log.info("%s: finishing the requests in flight, writing the log, then stopping", number.name)
    stop.set()


def _warn_about_half_configured(settings: Settings) -> None:
    """Say which variable is missing when Slack is only half set up."""
    if settings.slack_bot_token and not (settings.slack_app_token or settings.slack_signing_secret):
        err.print(
            "factbot: SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor "
            "SLACK_SIGNING_SECRET (HTTP mode) is; Slack stays off.",
            markup=False,
        )


def _services(
    engine: Engine, settings: Settings, *, http: bool, port: int, digests: DigestScheduler | None = None
) -> list[Coroutine[Any, Any, None]]:
    """The adapters to run, each imported only when its credentials are set; each posts the digests of its
    platform's subscribed channels. Call it inside the event loop the adapters will run in."""
    services: list[Coroutine[Any, Any, None]] = []
    if settings.slack_enabled:
        from bot.adapters import slack_run, slack_web

        if http and not settings.slack_signing_secret:
            err.print("factbot: --http needs SLACK_SIGNING_SECRET.", markup=False)
            raise typer.Exit(2)
        app = slack_run.build_app(engine, settings, subscriptions=digests)
        if digests is not None:
            digests.register(slack_web.digest_poster(app))
        if http or not settings.slack_app_token:
            services.append(slack_run.run_http(engine, settings, port=port, app=app))
        else:
            services.append(slack_run.run_socket_mode(engine, settings, app=app))
    if settings.discord_enabled:
        from bot.adapters import discord_run

        client = discord_run.build_client(engine, settings, subscriptions=digests)
        if digests is not None:
            digests.register(discord_run.digest_poster(client))
        services.append(discord_run.run_discord(engine, settings, client=client))
    return services


class _Stopped(Exception):
    """The stop signal, raised inside the task group so that every adapter is cancelled and closes."""


async def _serve_all(services: list[Coroutine[Any, Any, None]], *, stop: asyncio.Event | None = None) -> None:
    """Run every adapter in one event loop until `stop` is set; the first to fail stops the rest, and its error
    is raised. Stopping cancels each adapter, which stops taking new work and finishes what is in flight."""

    async def until_stopped() -> None:
        if stop is not None:
            await stop.wait()
            raise _Stopped

    try:
        async with asyncio.TaskGroup() as group:
            for service in services:
                group.create_task(service)
            group.create_task(until_stopped())
    except BaseExceptionGroup as group_error:
        failures = [e for e in group_error.exceptions if not isinstance(e, _Stopped)]
        if failures:
            raise failures[0] from None


slack_app_cli = typer.Typer(help="Slack: the app manifest.", no_args_is_help=True)
app.add_typer(slack_app_cli, name="slack")


@slack_app_cli.command("manifest")
def slack_manifest(
    request_url: Annotated[
        str | None,
        typer.Option("--request-url", help="Public URL of /slack/events, for HTTP mode (default: Socket Mode)."),
    ] = None,
) -> None:
    """Print the Slack app manifest (scopes, events, the slash commands as named in settings)."""
    from bot.adapters import slack_manifest

    print(slack_manifest.manifest_yaml(_settings(None), request_url=request_url), end="")


discord_app = typer.Typer(help="Discord: the invite link and global command sync.", no_args_is_help=True)
app.add_typer(discord_app, name="discord")


@discord_app.command("invite")
def discord_invite() -> None:
    """Print the OAuth2 URL that adds the bot to a server, with exactly the permissions it needs."""
    from bot.adapters import discord_run

    try:
        application_id = discord_run.application_id_from_token(_settings(None))
    except ConfigError as exc:
        err.print(f"factbot: {exc}", markup=False)
        raise typer.Exit(1) from None
    print(discord_run.invite_url(application_id))


@discord_app.command("sync")
def discord_sync(
    globally: Annotated[
        bool, typer.Option("--global", help="Sync the slash commands to every server (takes up to an hour).")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Register the slash commands with Discord globally (servers in DISCORD_GUILD_IDS sync at start)."""
    from bot.adapters import discord_run

    if not globally:
        err.print(
            "factbot: servers in DISCORD_GUILD_IDS sync when `factbot run` starts; use --global to sync everywhere.",
            markup=False,
        )
        raise typer.Exit(2)
    engine = _engine(data_dir)
    try:
        count = asyncio.run(discord_run.sync_global(engine, _settings(data_dir)))
    except ConfigError as exc:
        err.print(f"factbot: {exc}", markup=False)
        raise typer.Exit(1) from None
    out.print(f"Synced {count} commands globally; Discord may take up to an hour to show them.")


@app.command()
def purge(data_dir: DataDir = None) -> None:
    """Delete questions, votes and posts older than FACTBOT_RETENTION_DAYS (factbot run does it at start)."""
    settings = _settings(data_dir)
    out.print(_run_or_exit(_purge(settings)), markup=False, highlight=False)


async def _purge(settings: Settings) -> str:
    """Purge the store FACTBOT_DB_URL names and say how many rows went."""
    from bot.store import cutoff
    from bot.store.sql import open_store

    file = _sqlite_file(settings.db_url)
    if file is not None and not file.exists():
        return f"No question log at {file}; nothing to delete."
    store = await open_store(settings.db_url)
    try:
        gone = await store.purge(before=cutoff(settings.retention_days))
    finally:
        await store.close()
    days = settings.retention_days
    return f"Deleted {gone} row{'' if gone == 1 else 's'} older than {days} day{'' if days == 1 else 's'}."


@app.command()
def validate(data_dir: DataDir = None) -> None:
    """Check the fact base: verbatim quotes, ids, reachability, examples; exit 1 on any problem."""
    settings = _settings(data_dir)
    base, problems = read_factbase(settings.data_dir.resolve())
    for problem in problems:
        err.print(str(problem), markup=False, highlight=False)
    if problems:
        err.print(f"{_count(problems, 'problem')} in {settings.data_dir}", markup=False)
        raise typer.Exit(1)
    examples = sum(len(i.examples) for i in base.intents.values())
    out.print(
        f"✓ {settings.data_dir}: {len(base.sources)} sources, {len(base.facts)} facts, "
        f"{len(base.intents)} intents, {examples} examples; every quote is verbatim.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def facts(
    topic: Annotated[str | None, typer.Option("--topic", "-t", help="Show the facts of this topic.")] = None,
    data_dir: DataDir = None,
) -> None:
    """List the topics, or the facts of one topic."""
    adapter = ConsoleAdapter(_engine(data_dir), console=out)
    out.print(render(adapter.service.facts(topic or "")), markup=False, highlight=False)


@app.command()
def sources(data_dir: DataDir = None) -> None:
    """List the documents the fact base quotes."""
    out.print(sources_table(_engine(data_dir)))


# == The daily digest from the terminal: factbot digest preview|send ===================================

digest_app = typer.Typer(help="The daily digest: preview it, or post it once (for cron jobs).", no_args_is_help=True)
app.add_typer(digest_app, name="digest")

Channel = Annotated[
    str, typer.Option("--channel", help="The channel, as PLATFORM:ID, whose questions and fact order to use.")
]
Day = Annotated[str | None, typer.Option("--date", help="The day, YYYY-MM-DD (default: today).", show_default=False)]
Curators = Annotated[bool, typer.Option("--curators", help="Include the questions not answered yet.")]


@digest_app.command("preview")
def digest_preview(
    channel: Channel = "terminal", day: Day = None, curators: Curators = False, data_dir: DataDir = None
) -> None:
    """Show a channel's digest for a day, built from the fact base and the question log, as plain text."""
    from bot.digest import collect_digest, digest_text

    settings, engine = _settings(data_dir), _engine(data_dir)
    platform, _, where = channel.rpartition(":")

    async def build() -> str:
        engine.store = await _question_log(settings)
        try:
            digest = await collect_digest(
                engine, channel=where, platform=platform or "console", day=_day(day), curators=curators
            )
        finally:
            await engine.store.close()
        return digest_text(digest)

    print(_run_or_exit(build()))


@digest_app.command("send")
def digest_send(
    to: Annotated[str, typer.Option("--to", help="Where to post: slack:CHANNEL_ID or discord:CHANNEL_ID.")],
    day: Day = None,
    curators: Curators = False,
    data_dir: DataDir = None,
) -> None:
    """Post today's digest to one channel once: a second send the same day (or the scheduler's) posts nothing."""
    platform, _, channel = to.partition(":")
    if platform not in {"slack", "discord"} or not channel:
        err.print("factbot: --to takes slack:CHANNEL_ID or discord:CHANNEL_ID", markup=False)
        raise typer.Exit(2)
    settings = _settings(data_dir)
    token = settings.slack_bot_token if platform == "slack" else settings.discord_token
    if token is None:
        err.print(f"factbot: {'SLACK_BOT_TOKEN' if platform == 'slack' else 'DISCORD_TOKEN'} is not set", markup=False)
        raise typer.Exit(1)
    engine = _engine(data_dir)
    print(_run_or_exit(_send_digest(engine, settings, platform, channel, day=_day(day), curators=curators)))


async def _send_digest(
    engine: Engine, settings: Settings, platform: str, channel: str, *, day: date, curators: bool
) -> str:
    """Post the day's digest once through the scheduler's `deliver_once`; a failed post lets a retry post."""
    from datetime import timedelta

    from bot.digest import collect_digest
    from bot.scheduler import Outcome, deliver_once
    from bot.store.sql import store_from_settings

    subscription = Subscription(platform=platform, channel=channel, curators=curators)

    async def build() -> Digest:
        return await collect_digest(engine, channel=channel, platform=platform, day=day, curators=curators)

    async def post(digest: Digest) -> None:
        await _post_digest(engine, settings, subscription, digest)

    engine.store = store = await store_from_settings(settings)
    try:
        stale = timedelta(minutes=settings.digest_stale_minutes)
        outcome = await deliver_once(store, subscription, build, post, day=day, stale_after=stale)
    finally:
        await store.close()
    if outcome is Outcome.POSTED:
        return f"Posted the {day} digest to {platform}:{channel}."
    return f"The {day} digest for {platform}:{channel} was already posted (or is being posted); nothing sent."


async def _post_digest(engine: Engine, settings: Settings, subscription: Subscription, digest: Digest) -> None:
    """Post one digest with the platform's own client, logging in just for it."""
    if subscription.platform == "slack":
        from bot.adapters import slack_run, slack_web

        app = slack_run.build_app(engine, settings)
        try:
            await slack_web.digest_poster(app).post_digest(subscription, digest)
        finally:
            await slack_run.close_app(app)
        return
    from bot.adapters import discord_run

    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    client = discord_run.build_client(engine, settings)
    async with client:
        try:
            await client.login(token)
        except Exception as exc:  # discord.LoginFailure, said without the token
            raise ConfigError("DISCORD_TOKEN was rejected by Discord") from exc
        await discord_run.digest_poster(client).post_digest(subscription, digest)


async def _question_log(settings: Settings) -> Store:
    """The question log FACTBOT_DB_URL names, read-only; an empty one when there is none yet."""
    from bot.store.sql import open_log

    return await open_log(settings.db_url)


def _day(text: str | None) -> date:
    """A YYYY-MM-DD option as a date (today when absent); a bad value is a usage error."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-05-01", param_hint="--date") from None


def _run_or_exit(work: Coroutine[Any, Any, str]) -> str:
    """Run one async command; a configuration or platform problem is one line and exit 1."""
    try:
        return asyncio.run(work)
    except ConfigError as exc:
        err.print(f"factbot: {exc}", markup=False)
        raise typer.Exit(1) from None
    except ChannelGone:
        err.print("factbot: that channel does not exist, or the bot is not in it.", markup=False)
        raise typer.Exit(1) from None
    except Exception as exc:  # a platform or network failure: one line, never a traceback
        err.print(f"factbot: {type(exc).__name__}: {exc}".splitlines()[0], markup=False)
        raise typer.Exit(1) from None


# == Curator reports: factbot report unanswered|feedback|usage, factbot suggest =====================
#
# They read the question log from the store FACTBOT_DB_URL names (bot.store.sql, imported only when a
# report runs); `bot.suggest` (ruamel.yaml) and matplotlib load only when used.


class OutputFormat(StrEnum):
    """How a report is printed."""

    table = "table"
    json = "json"
    csv = "csv"


Since = Annotated[
    str,
    typer.Option("--since", help="How far back: 7d, 24h, 30m, 2w, an ISO date (2024-05-01), or 'all'."),
]
Format = Annotated[
    OutputFormat,
    typer.Option("--format", help="table for people; json (one document) or csv (with a header row) for tools."),
]

report_app = typer.Typer(
    help="Curator reports from the question log: unanswered questions, feedback, usage.", no_args_is_help=True
)
app.add_typer(report_app, name="report")


async def _store(settings: Settings) -> Store:
    """The question log FACTBOT_DB_URL names (SQLite by default, PostgreSQL for several replicas), read-only."""
    from bot.store.sql import open_log

    return await open_log(settings.db_url)


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
        err.print(
            f"factbot: no question log at {missing} (FACTBOT_DB_URL); nothing has been recorded there.", markup=False
        )
        raise typer.Exit(1)
    try:
        return asyncio.run(_fetch(settings, since, votes=votes))
    except ConfigError as exc:  # the store's own one-line reason (unreachable, newer schema, bad URL)
        err.print(f"factbot: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except Exception as exc:  # anything else a driver raises: one line too, never a traceback
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        where = masked(settings.db_url)
        err.print(f"factbot: cannot read the question log at {where}: {reason}", markup=False, highlight=False)
        raise typer.Exit(1) from None


async def _fetch(
    settings: Settings, since: datetime | None, *, votes: bool
) -> tuple[list[QuestionRecord], list[FeedbackRecord]]:
    """Read what a report needs from the store, and close it."""
    store = await _store(settings)
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


@report_app.command("unanswered")
def report_unanswered(since: Since = "7d", output: Format = OutputFormat.table, data_dir: DataDir = None) -> None:
    """Questions that got fallback or clarify, grouped by similarity, with the intent each nearly matched."""
    start = _since(since)
    engine = _engine(data_dir)
    questions, _ = _read_log(_settings(data_dir), start)
    report = reports.unanswered(questions, engine.matcher)
    empty = _nothing("questions", start)
    if questions:
        empty = (
            f"No unanswered questions {reports.describe_since(start)}: all {_count(questions, 'question')} answered."
        )
    _emit(
        report.groups,
        output,
        model=reports.UnansweredGroup,
        empty=empty,
        table=lambda: _unanswered_table(report, start),
    )


def _unanswered_table(report: reports.Unanswered, since: datetime | None) -> Table:
    """Unanswered groups for people."""
    asked = sum(g.count for g in report.groups)
    caption = f"{_count(range(asked), 'question')} in {_count(report.groups, 'group')}"
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


@report_app.command("feedback")
def report_feedback(since: Since = "7d", output: Format = OutputFormat.table, data_dir: DataDir = None) -> None:
    """👍 and 👎 per intent and per fact, with the questions behind the 👎."""
    start = _since(since)
    questions, votes = _read_log(_settings(data_dir), start, votes=True)
    rows = reports.feedback(votes, questions)
    empty = _nothing("feedback", start)
    _emit(rows, output, model=reports.FeedbackRow, empty=empty, table=lambda: _feedback_table(rows, start))


def _feedback_table(rows: list[reports.FeedbackRow], since: datetime | None) -> Table:
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


@report_app.command("usage")
def report_usage(
    since: Since = "7d",
    output: Format = OutputFormat.table,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw questions per day and the answered share into this PNG.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Questions per day, the share answered, and the top intents; --plot draws them."""
    start = _since(since)
    questions, _ = _read_log(_settings(data_dir), start)
    rows = reports.usage(questions, since=start)
    empty = _nothing("questions", start)
    _emit(rows, output, model=reports.UsageRow, empty=empty, table=lambda: _usage_tables(rows, start))
    if plot is not None and rows:
        _plot(rows, plot, start, to=out if output is OutputFormat.table else err)


def _usage_tables(rows: list[reports.UsageRow], since: datetime | None) -> Group:
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


def _plot(rows: list[reports.UsageRow], path: Path, since: datetime | None, *, to: Console) -> None:
    """Draw the usage chart, or say in one line why it could not be written."""
    try:
        reports.plot_usage(rows, path, title=f"Factbot questions per day, {reports.describe_since(since)}")
    except (OSError, ValueError) as exc:  # a folder that is not there; a file type matplotlib cannot write
        err.print(f"factbot: cannot write {path}: {getattr(exc, 'strerror', None) or exc}", markup=False)
        raise typer.Exit(1) from None
    to.print(f"Chart written to {path}", markup=False, highlight=False)


@app.command()
def suggest(
    since: Since = "7d",
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the proposals into intents/*.yaml and validate the fact base.")
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
    engine = _engine(data_dir)
    settings = _settings(data_dir)
    questions, _ = _read_log(settings, start)
    if not questions:
        out.print(f"No questions recorded {reports.describe_since(start)}.", markup=False)
        return
    found = suggesting.suggest(reports.unanswered(questions, engine.matcher), engine.base, min_score=min_score)
    _print_suggestions(found, min_score, applying=apply)
    if apply and found.proposals:
        chosen = _chosen(found.proposals, only or [])
        applied = suggesting.apply(settings.data_dir.resolve(), chosen)
        _print_applied(applied, chosen, engine)


def _chosen(proposals: list[Proposal], numbers: list[int]) -> list[Proposal]:
    """The proposals numbered `numbers` (all when none is given), or a usage error naming --only."""
    wrong = sorted(n for n in set(numbers) if not 1 <= n <= len(proposals))
    if wrong:
        message = f"no proposal {', '.join(map(str, wrong))} (they are numbered 1 to {len(proposals)})"
        raise typer.BadParameter(message, param_hint="--only")
    return [p for number, p in enumerate(proposals, 1) if not numbers or number in numbers]


def _print_suggestions(found: Suggestions, min_score: float, *, applying: bool) -> None:
    """The proposals as a numbered table, then what was left out and why."""
    if found.proposals:
        table = Table(title="Proposed examples")
        for name in ("#", "asked", "score"):
            table.add_column(name, justify="right")
        table.add_column("intent (defined at)", no_wrap=True)
        table.add_column("add example")
        for number, p in enumerate(found.proposals, 1):
            where = Text.assemble(p.intent, "\n", (f"{p.file}:{p.line}", "dim"))
            table.add_row(str(number), str(p.count), f"{p.score:.2f}", where, p.phrasing)
        out.print(table)
    else:
        out.print("No examples to propose.", markup=False)
    for skipped in found.skipped:
        out.print(f"Left out “{skipped.phrasing}” for {skipped.intent}: {skipped.reason}.", markup=False, style="dim")
    if found.unmatched:
        groups = _count(range(found.unmatched), "group")
        out.print(
            f"{groups} of unanswered questions came no closer than {min_score:.2f} to any intent "
            "(new facts may be needed: see `factbot report unanswered`).",
            markup=False,
            style="dim",
        )
    if found.proposals and not applying:
        out.print("Add them with --apply (or some of them: --apply --only 1 --only 3).", markup=False, style="dim")


def _print_applied(applied: Applied, chosen: list[Proposal], engine: Engine) -> None:
    """Say what was written and how each phrasing is answered now, or why nothing was kept."""
    if not applied.ok or applied.base is None:
        for problem in applied.problems:
            err.print(str(problem), markup=False, highlight=False)
        err.print(
            "factbot: with these examples the fact base does not validate; every file is as it was.", markup=False
        )
        raise typer.Exit(1)
    added = _count(chosen, "example")
    out.print(f"✓ Added {added} to {', '.join(applied.files)}; the fact base validates.", markup=False)
    after = Engine(applied.base, thresholds=engine.thresholds)
    for proposal in chosen:
        answer = after.respond(proposal.phrasing)
        by = f" by {answer.intent}" if answer.intent else ""
        out.print(f"  “{proposal.phrasing}” is now {answer.status.value}{by}", markup=False, highlight=False)


# == Answer quality: factbot eval [FILE] [--json] [--fail-under X] [--plot DIR] [--calibrate [--write]] ==========
#
# bot.evaluate does the scoring; this section only reads the options and prints. It is imported when
# `factbot eval` runs, and matplotlib only with --plot.


EVAL_WORST = 10
"""Intents shown in the per-intent table: the worst by F1."""


def _eval_file(path: Path | None, data_dir: Path | None) -> Path:
    """The labelled file: the one given, else the fact base's tests/data/eval.yaml, else the shipped one."""
    if path is not None:
        return path
    settings = _settings(data_dir)
    own = settings.data_dir / "tests" / "data" / "eval.yaml"
    return own if own.is_file() else PROJECT_ROOT / "tests" / "data" / "eval.yaml"


def _eval_items(path: Path, engine: Engine) -> list[evaluation.Item]:
    """The labelled questions, or stop with one line saying what is wrong with the file."""
    from bot import evaluate as evaluation

    try:
        items = evaluation.load_items(path, engine.base)
    except (OSError, ValueError, KeyError, yaml.YAMLError) as exc:  # pydantic's ValidationError is a ValueError
        err.print(f"factbot: cannot read {path}: {getattr(exc, 'strerror', None) or exc}", markup=False)
        raise typer.Exit(2) from None
    unknown = evaluation.unknown_intents(engine, items)
    if unknown:
        err.print(f"factbot: {path} names intents the fact base lacks: {', '.join(unknown)}", markup=False)
        raise typer.Exit(2)
    return items


@app.command("eval")
def eval_command(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Labelled questions (YAML: q, expect); default: the project's own set.", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report (or calibration) as JSON.")] = False,
    fail_under: Annotated[
        float | None,
        typer.Option("--fail-under", min=0.0, max=1.0, help="Exit 1 when accuracy or abstention is below this."),
    ] = None,
    plot_dir: Annotated[
        Path | None, typer.Option("--plot", help="Write confidence.png and coverage.png into this folder.")
    ] = None,
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="Propose thresholds by 5-fold cross-validation, with the trade-off.")
    ] = False,
    write: Annotated[
        bool, typer.Option("--write", help="With --calibrate, write the proposal into .env in the working folder.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Measure answer quality on labelled questions: accuracy, abstention, misses; --calibrate the thresholds."""
    from bot import evaluate as evaluation

    engine = _engine(data_dir)
    path = _eval_file(file, data_dir)
    items = _eval_items(path, engine)
    if calibrate:
        _calibrate(engine, items, as_json=as_json, write=write)
        return
    if write:
        raise typer.BadParameter("only with --calibrate", param_hint="--write")
    ranked = evaluation.rank_all(engine, items)
    report = evaluation.evaluate(engine, items, ranked=ranked)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        _print_report(report, path)
    if plot_dir is not None:
        _eval_plots(engine, ranked, plot_dir)
    if fail_under is not None and min(report.accuracy, report.abstention) < fail_under:
        err.print(
            f"factbot: accuracy {report.accuracy:.1%} / abstention {report.abstention:.1%} "
            f"is below --fail-under {fail_under:.1%}",
            markup=False,
        )
        raise typer.Exit(1)


def _eval_plots(engine: Engine, ranked: list[evaluation.Ranked], folder: Path) -> None:
    """Draw both charts, or say in one line why they could not be written."""
    from bot import evaluate as evaluation

    try:
        paths = evaluation.plot(engine, ranked, folder)
    except (OSError, ValueError) as exc:
        err.print(f"factbot: cannot write charts to {folder}: {getattr(exc, 'strerror', None) or exc}", markup=False)
        raise typer.Exit(1) from None
    for path in paths:
        err.print(f"Chart written to {path}", markup=False, highlight=False)


def _print_report(report: evaluation.Report, path: Path) -> None:
    """The summary, the worst intents, the confused pairs and every miss."""
    out.print(_eval_summary(report, path))
    out.print(_worst_intents(report))
    if report.confused:
        out.print(_confused_table(report))
    if report.misses:
        out.print(_misses_table(report))


def _eval_summary(report: evaluation.Report, path: Path) -> Table:
    """Accuracy, abstention and clarify rate overall and per group."""
    t = report.thresholds
    caption = f"thresholds: answer ≥ {t['answer']:g}, clarify ≥ {t['clarify']:g}, margin {t['margin']:g}"
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


def _worst_intents(report: evaluation.Report) -> Table:
    """The intents with the lowest F1."""
    table = Table(title=f"Worst {EVAL_WORST} intents by F1", title_justify="left")
    table.add_column("intent", no_wrap=True)
    for name in ("meant", "answered", "right", "precision", "recall", "F1"):
        table.add_column(name, justify="right")
    for row in report.intents[:EVAL_WORST]:
        numbers = (row.precision, row.recall, row.f1)
        table.add_row(row.intent, str(row.support), str(row.answered), str(row.right), *(f"{n:.2f}" for n in numbers))
    return table


def _confused_table(report: evaluation.Report) -> Table:
    """The (expected, ranked first) pairs seen most often."""
    table = Table(title="Most confused: meant → ranked first", title_justify="left")
    for name in ("meant", "ranked first", "times"):
        table.add_column(name, justify="right" if name == "times" else "left")
    for pair in report.confused:
        table.add_row(pair.expected, pair.got, str(pair.count))
    return table


def _misses_table(report: evaluation.Report) -> Group:
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


def _calibrate(engine: Engine, items: list[evaluation.Item], *, as_json: bool, write: bool) -> None:
    """Print the proposed thresholds, the held-out numbers and the trade-off; write .env when asked."""
    from bot import evaluate as evaluation

    found = evaluation.calibrate(engine, items)
    if as_json:
        print(found.model_dump_json(indent=2))
    else:
        _print_calibration(found)
    if write:
        target = Path.cwd() / ".env"
        evaluation.write_thresholds(target, found.proposed)
        err.print(f"Thresholds written to {target}", markup=False, highlight=False)
    elif not as_json:
        out.print("Write them to .env with --calibrate --write.", style="dim", markup=False)


def _print_calibration(found: evaluation.Calibration) -> None:
    """The proposal, the numbers it reaches on held-out questions, and the trade-off table."""
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
    out.print(_trade_off_table(found.trade_off))


def _trade_off_table(points: list[evaluation.Point]) -> Table:
    """Accuracy, abstention and coverage at a few answer thresholds."""
    table = Table(title="Trade-off over the answer threshold (fixed thresholds: nothing fitted)", title_justify="left")
    for name in ("answer ≥", "accuracy", "abstention", "unrelated abst.", "answered", "clarify"):
        table.add_column(name, justify="right")
    for point in points:
        shares = (point.accuracy, point.abstention, point.unrelated_abstention, point.coverage, point.clarify_rate)
        table.add_row(f"{point.answer:g}", *(f"{share:.1%}" for share in shares))
    return table


def main() -> None:
    """Entry point of the `factbot` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (`factbot ask … | head`): nothing left to say
    except OSError as exc:
        err.print(f"factbot: {exc.strerror or exc}", markup=False)
        raise SystemExit(1) from None
