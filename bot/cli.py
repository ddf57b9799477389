"""The `factbot` command line: the only module that wires settings, fact base and adapters together."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from pydantic import ValidationError
from rich.console import Console

from bot.adapters.console import ConsoleAdapter, facts_table, render_answer, sources_table
from bot.engine import Engine, Thresholds
from bot.knowledge import read_factbase
from bot.settings import ConfigError, Settings

app = typer.Typer(
    help="Factbot answers questions from a curated fact base, quoting its source verbatim.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            err.print(f"factbot: bad setting {name}: {error['msg']}", markup=False, highlight=False)
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
    thresholds = Thresholds(settings.answer_threshold, settings.clarify_threshold, settings.clarify_margin)
    return Engine(base, thresholds=thresholds)


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
    data_dir: DataDir = None,
) -> None:
    """Answer one question (or each line of standard input) and exit."""
    engine = _engine(data_dir)
    if question:
        _print(engine, " ".join(question), as_json)
        return
    for line in _stdin():
        if line.strip() or as_json:
            _print(engine, line.rstrip("\r\n"), as_json)


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
    adapter = ConsoleAdapter(_engine(data_dir), console=out)
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
        int | None, typer.Option("--port", help="Port for --http (default: FACTBOT_HTTP_PORT, 3000).")
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
    services = _services(engine, settings, http=http, port=port or settings.http_port)
    try:
        asyncio.run(_serve_all(services))
    except KeyboardInterrupt:
        pass
    except ConfigError as exc:
        err.print(f"factbot: {exc}", markup=False)
        raise typer.Exit(1) from None


def _warn_about_half_configured(settings: Settings) -> None:
    """Say which variable is missing when Slack is only half set up."""
    if settings.slack_bot_token and not (settings.slack_app_token or settings.slack_signing_secret):
        err.print(
            "factbot: SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor "
            "SLACK_SIGNING_SECRET (HTTP mode) is; Slack stays off.",
            markup=False,
        )


def _services(engine: Engine, settings: Settings, *, http: bool, port: int) -> list[Coroutine[Any, Any, None]]:
    """The adapters to run, each imported only when its credentials are set."""
    services: list[Coroutine[Any, Any, None]] = []
    if settings.slack_enabled:
        from bot.adapters import slack_app

        if http and not settings.slack_signing_secret:
            err.print("factbot: --http needs SLACK_SIGNING_SECRET.", markup=False)
            raise typer.Exit(2)
        if http or not settings.slack_app_token:
            services.append(slack_app.run_http(engine, settings, port=port))
        else:
            services.append(slack_app.run_socket_mode(engine, settings))
    if settings.discord_enabled:
        from bot.adapters import discord_bot

        services.append(discord_bot.run_discord(engine, settings))
    return services


async def _serve_all(services: list[Coroutine[Any, Any, None]]) -> None:
    """Run every adapter in one event loop; the first to fail stops the rest, and its error is raised."""
    try:
        async with asyncio.TaskGroup() as group:
            for service in services:
                group.create_task(service)
    except BaseExceptionGroup as group_error:
        raise group_error.exceptions[0] from None


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
    from bot.adapters import slack_app

    print(slack_app.manifest_yaml(_settings(None), request_url=request_url), end="")


discord_app = typer.Typer(help="Discord: the invite link and global command sync.", no_args_is_help=True)
app.add_typer(discord_app, name="discord")


@discord_app.command("invite")
def discord_invite() -> None:
    """Print the OAuth2 URL that adds the bot to a server, with exactly the permissions it needs."""
    from bot.adapters import discord_bot

    try:
        application_id = discord_bot.application_id_from_token(_settings(None))
    except ConfigError as exc:
        err.print(f"factbot: {exc}", markup=False)
        raise typer.Exit(1) from None
    print(discord_bot.invite_url(application_id))


@discord_app.command("sync")
def discord_sync(
    globally: Annotated[
        bool, typer.Option("--global", help="Sync the slash commands to every server (takes up to an hour).")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Register the slash commands with Discord globally (servers in DISCORD_GUILD_IDS sync at start)."""
    from bot.adapters import discord_bot

    if not globally:
        err.print(
            "factbot: servers in DISCORD_GUILD_IDS sync when `factbot run` starts; use --global to sync everywhere.",
            markup=False,
        )
        raise typer.Exit(2)
    engine = _engine(data_dir)
    try:
        count = asyncio.run(discord_bot.sync_global(engine, _settings(data_dir)))
    except ConfigError as exc:
        err.print(f"factbot: {exc}", markup=False)
        raise typer.Exit(1) from None
    out.print(f"Synced {count} commands globally; Discord may take up to an hour to show them.")


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
    out.print(facts_table(_engine(data_dir), topic))


@app.command()
def sources(data_dir: DataDir = None) -> None:
    """List the documents the fact base quotes."""
    out.print(sources_table(_engine(data_dir)))


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
