"""`factbot run`: every configured adapter in one process and one event loop, and clean failures."""

from __future__ import annotations

import asyncio
import contextlib

from typer.testing import CliRunner

from bot.cli import app
from bot.cli.run import _serve_all, _services
from bot.engine import Engine
from bot.settings import Settings
from tests.conftest import DISCORD_TOKEN
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack


async def test_slack_and_discord_run_side_by_side_in_one_loop(
    engine: Engine, fake_slack: FakeSlack, fake_discord: FakeDiscord
) -> None:
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=fake_slack.api_url,
        DISCORD_TOKEN=DISCORD_TOKEN,
    )
    task = asyncio.create_task(_serve_all(_services(engine, settings, http=False, port=0)))
    try:
        await fake_discord.wait_ready()
        await fake_slack.wait_for(lambda: fake_slack.connections >= 1)
        assert not task.done()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_rejected_discord_token_stops_run_with_one_line(fake_discord: FakeDiscord) -> None:
    secret = "MTIz.wrong.SECRET-never-shown"
    result = await asyncio.to_thread(CliRunner().invoke, app, ["run"], env={"DISCORD_TOKEN": secret})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["factbot: DISCORD_TOKEN was rejected by Discord"]
    assert "SECRET" not in result.output


async def test_a_rejected_slack_token_stops_run_with_one_line(fake_slack: FakeSlack) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-wrong-SECRET", "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": fake_slack.api_url}
    result = await asyncio.to_thread(CliRunner().invoke, app, ["run"], env=env)
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("factbot: SLACK_BOT_TOKEN") and "SECRET" not in line


def test_http_mode_needs_the_signing_secret(runner: CliRunner) -> None:
    result = runner.invoke(app, ["run", "--http"], env={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN})
    assert result.exit_code == 2
    assert "--http needs SLACK_SIGNING_SECRET" in result.output


def test_half_configured_slack_says_what_is_missing_and_chats(runner: CliRunner) -> None:
    result = runner.invoke(app, ["run"], env={"SLACK_BOT_TOKEN": BOT_TOKEN}, input="who won the itu election\n")
    assert result.exit_code == 0
    assert "neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode)" in result.output
    assert "Bogdan-Martin" in result.output


async def test_run_logs_questions_to_the_sql_store_and_flushes_on_stop(
    shipped,
    fake_discord: FakeDiscord,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from bot.cli.run import _run_adapters
    from bot.store.sql import open_store

    url = f"sqlite+aiosqlite:///{tmp_path / 'log.db'}"
    settings = Settings(DISCORD_TOKEN=DISCORD_TOKEN, FACTBOT_DB_URL=url, FACTBOT_USER_SALT="pepper")
    engine = Engine(shipped, salt="pepper")
    task = asyncio.create_task(_run_adapters(engine, settings, http=False, port=0))
    try:
        await fake_discord.wait_ready()
        dm = fake_discord.chat("ismailov votes", guild_id=None, channel_id="502")
        await fake_discord.dispatch("MESSAGE_CREATE", dm)
        await fake_discord.wait_for(lambda r: r.path == "/channels/502/messages")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    store = await open_store(url)
    try:
        [record] = await store.questions()
    finally:
        await store.close()
    assert (record.platform, record.intent, record.text) == ("discord", "loser-votes", "ismailov votes")
    assert record.user_hash and len(record.user_hash) == 32
