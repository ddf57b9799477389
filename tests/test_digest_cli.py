"""`factbot digest preview` and `factbot digest send`: the digest from the terminal, posted once a day."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from typer.testing import CliRunner

from bot.cli import app
from tests.fakes.slack import BOT_TOKEN, FakeSlack


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.close()


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
