"""`factbot digest preview|send`: the daily digest from the terminal, to read it or to post it once (cron)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer

from bot.cli import output
from bot.cli.common import DataDir, load_engine, load_settings, question_log, run_or_exit
from bot.digest import Digest, Subscription
from bot.engine import Engine
from bot.settings import Settings

digest_app = typer.Typer(help="The daily digest: preview it, or post it once (for cron jobs).", no_args_is_help=True)

Channel = Annotated[
    str, typer.Option("--channel", help="The channel, as PLATFORM:ID, whose questions and fact order to use.")
]
Day = Annotated[str | None, typer.Option("--date", help="The day, YYYY-MM-DD (default: today).", show_default=False)]
Curators = Annotated[bool, typer.Option("--curators", metavar="", help="Include the questions not answered yet.")]


@digest_app.command("preview")
def digest_preview(
    channel: Channel = "terminal", day: Day = None, curators: Curators = False, data_dir: DataDir = None
) -> None:
    """Show a channel's digest for a day, built from the fact base and the question log, as plain text."""
    platform, _, where = ("console:terminal" if channel == "terminal" else channel).partition(":")
    if platform not in {"slack", "discord", "console"} or not where:
        output.fail(f"--channel takes slack:CHANNEL_ID, discord:CHANNEL_ID or terminal, not {channel!r}", 2)
    when = _day(day)
    settings, engine = load_settings(data_dir), load_engine(data_dir)
    output.plain(run_or_exit(_preview(engine, settings, platform, where, day=when, curators=curators)))


async def _preview(
    engine: Engine, settings: Settings, platform: str, channel: str, *, day: date, curators: bool
) -> str:
    """The digest as plain text, built on the question log, which is closed again."""
    from bot.digest import collect_digest, digest_text

    engine.store = await question_log(settings)
    try:
        digest = await collect_digest(engine, channel=channel, platform=platform, day=day, curators=curators)
    finally:
        await engine.store.close()
    return digest_text(digest)


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
        output.fail("--to takes slack:CHANNEL_ID or discord:CHANNEL_ID", 2)
    settings = load_settings(data_dir)
    token = settings.slack_bot_token if platform == "slack" else settings.discord_token
    if token is None:
        output.fail(f"{'SLACK_BOT_TOKEN' if platform == 'slack' else 'DISCORD_TOKEN'} is not set")
    engine, when = load_engine(data_dir), _day(day)
    posted = run_or_exit(_send_digest(engine, settings, platform, channel, day=when, curators=curators))
    output.digest_sent(posted, day=when, to=to)


async def _send_digest(
    engine: Engine, settings: Settings, platform: str, channel: str, *, day: date, curators: bool
) -> bool:
    """Post the day's digest once through the scheduler's `deliver_once`; a failed post lets a retry post.
    Whether this call posted it."""
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
    return outcome is Outcome.POSTED


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
        await discord_run.login(client, token)  # a rejected token, or Discord out of reach, in one line
        await discord_run.digest_poster(client).post_digest(subscription, digest)


def _day(text: str | None) -> date:
    """A YYYY-MM-DD option as a date (today when absent); a bad value is a usage error."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-05-01", param_hint="--date") from None
