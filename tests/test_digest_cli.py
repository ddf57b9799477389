"""`factbot digest preview` and `factbot digest send`: the digest from the terminal, posted once a day."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.digest import Digest, Subscription
from bot.engine import Engine
from bot.scheduler import DigestScheduler, Outcome
from bot.store.sql import open_store
from tests.fakes.slack import BOT_TOKEN, FakeSlack


def test_preview_shows_a_fact_of_the_day_with_its_quote_and_a_question(runner: CliRunner) -> None:
    result = runner.invoke(app, ["digest", "preview", "--channel", "slack:C1", "--date", "2026-12-01"])
    assert result.exit_code == 0, result.output
    assert "Factbot digest for Tuesday 01 December 2026" in result.output
    assert "Fact of the day:" in result.output and "paragraph" in result.output
    assert "Try asking:" in result.output


def test_preview_differs_by_day_and_by_channel(runner: CliRunner) -> None:
    def fact(*args: str) -> str:
        output = runner.invoke(app, ["digest", "preview", *args]).output
        return next(line for line in output.splitlines() if line.startswith("Fact of the day"))

    assert fact("--date", "2026-12-01") != fact("--date", "2026-12-02")
    assert fact("--channel", "slack:C1", "--date", "2026-12-01") != fact(
        "--channel", "slack:C2", "--date", "2026-12-01"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["digest", "preview", "--date", "tomorrow"], "is not a date"),
        (["digest", "send", "--to", "teams:1"], "--to takes slack:CHANNEL_ID or discord:CHANNEL_ID"),
        (["digest", "send", "--to", "slack:C1"], "SLACK_BOT_TOKEN is not set"),
        (["digest", "send", "--to", "discord:1"], "DISCORD_TOKEN is not set"),
    ],
)
def test_bad_requests_get_one_line(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output


async def test_send_posts_once_a_day_to_slack(fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake_slack.api_url,
        "FACTBOT_DB_URL": f"sqlite+aiosqlite:///{tmp_path / 'log.db'}",
    }
    command = ["digest", "send", "--to", "slack:C0GENERAL", "--date", "2026-12-01"]
    first = await asyncio.to_thread(CliRunner().invoke, app, command, env=env)
    second = await asyncio.to_thread(CliRunner().invoke, app, command, env=env)
    assert first.exit_code == 0, first.output
    assert "Posted the 2026-12-01 digest to slack:C0GENERAL" in first.output
    assert "already posted" in second.output
    [post] = fake_slack.posts()
    assert post["channel"] == "C0GENERAL" and "Fact of the day" in str(post["blocks"])


def closed_port_url() -> str:
    """A Slack API URL on a loopback port nobody listens on: the network is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/"


def send_env(api_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a `digest send` to Slack at `api_url`, with its claims in a SQLite file."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": api_url,
        "FACTBOT_DB_URL": f"sqlite+aiosqlite:///{tmp_path / 'log.db'}",
    }


SEND = ["digest", "send", "--to", "slack:C0GENERAL", "--date", "2026-12-01"]


async def test_a_send_that_failed_is_posted_by_the_next_send(fake_slack: FakeSlack, tmp_path: Path) -> None:
    """A failed post gives the day's claim back: the retry posts instead of saying "already posted"."""
    down = await asyncio.to_thread(CliRunner().invoke, app, SEND, env=send_env(closed_port_url(), tmp_path))
    assert down.exit_code == 1
    assert down.output.startswith("factbot: ") and len(down.output.strip().splitlines()) == 1
    assert "Traceback" not in down.output and fake_slack.posts() == []
    retry = await asyncio.to_thread(CliRunner().invoke, app, SEND, env=send_env(fake_slack.api_url, tmp_path))
    again = await asyncio.to_thread(CliRunner().invoke, app, SEND, env=send_env(fake_slack.api_url, tmp_path))
    assert retry.exit_code == 0, retry.output
    assert "Posted the 2026-12-01 digest to slack:C0GENERAL" in retry.output
    assert again.exit_code == 0 and "already posted" in again.output
    assert len(fake_slack.posts()) == 1


class DownPoster:
    """Slack's side when the network is down: every post fails."""

    platform = "slack"

    async def post_digest(self, subscription: Subscription, digest: Digest) -> None:
        raise ConnectionError("network is unreachable")


async def test_the_scheduler_and_the_cli_share_one_delivery(
    engine: Engine, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """A scheduler whose post failed leaves the day to `digest send`, which then leaves nothing to the scheduler."""
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}")
    subscription = Subscription(platform="slack", channel="C0GENERAL", at=time(9), timezone="UTC")
    moment = datetime(2026, 12, 1, 9, tzinfo=UTC)
    digests = DigestScheduler(engine, store, retry_delays=(), clock=lambda: moment, reload_every=None)
    digests.register(DownPoster())
    try:
        assert await digests.run_digest(subscription) is Outcome.FAILED
        sent = await asyncio.to_thread(CliRunner().invoke, app, SEND, env=send_env(fake_slack.api_url, tmp_path))
        assert sent.exit_code == 0 and "Posted the 2026-12-01 digest" in sent.output
        assert await digests.run_digest(subscription) is Outcome.SENT_ALREADY
        assert await store.digest_sent("slack", "C0GENERAL", date(2026, 12, 1))
    finally:
        await store.close()
    assert len(fake_slack.posts()) == 1


def test_a_send_to_discord_out_of_reach_names_discord_not_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unused_port: int
) -> None:
    import discord

    nowhere = f"http://127.0.0.1:{unused_port}/api/v10"
    monkeypatch.setattr(discord.http.Route, "BASE", nowhere)
    env = {
        "DISCORD_TOKEN": "MTIzNDU2Nzg5MDEy.fake.token-for-tests",
        "FACTBOT_DB_URL": f"sqlite+aiosqlite:///{tmp_path / 'log.db'}",
    }
    result = CliRunner().invoke(app, ["digest", "send", "--to", "discord:300", "--date", "2026-12-01"], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"factbot: cannot reach Discord at {nowhere} (") and "rejected" not in line
