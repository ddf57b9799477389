"""Credentials never shown: one function masks every URL Factbot prints or logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.store.urls import masked


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+asyncpg://factbot:s3cret@db.internal:5432/factbot",
            "postgresql+asyncpg://factbot:***@db.internal:5432/factbot",
        ),
        (
            "postgresql://db/factbot?password=s3cret&sslmode=require",
            "postgresql://db/factbot?password=***&sslmode=require",
        ),
        ("postgresql://u@h/db?sslpassword=s3cret&x=1", "postgresql://u@h/db?sslpassword=***&x=1"),
        ("postgresql://u:p@ss@h/db?api_key=s3cret", "postgresql://u:***@h/db?api_key=***"),
        ("postgresql+asyncpg://bot:s3cr@t@db:5432/factbot", "postgresql+asyncpg://bot:***@db:5432/factbot"),
        ("postgresql+asyncpg://bot@db/factbot", "postgresql+asyncpg://bot@db/factbot"),
        ("sqlite+aiosqlite:///factbot.db", "sqlite+aiosqlite:///factbot.db"),
        ("sqlite+aiosqlite:////var/lib/factbot.db", "sqlite+aiosqlite:////var/lib/factbot.db"),
    ],
)
def test_every_credential_is_masked(url: str, shown: str) -> None:
    assert masked(url) == shown


@pytest.mark.parametrize("command", [["report", "usage"], ["report", "unanswered"]])
def test_a_report_never_shows_the_database_password(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("FACTBOT_DB_URL", "postgresql+asyncpg://factbot@127.0.0.1:1/factbot?password=s3cret")
    result = runner.invoke(app, command)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "s3cret" not in result.output and "password=***" in result.output


@pytest.mark.parametrize(
    ("where", "says"), [("folder", "is a folder, not a database file"), ("gone/x.db", "no question log at")]
)
def test_a_sqlite_url_that_cannot_be_a_file_is_one_line(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str, says: str
) -> None:
    (tmp_path / "folder").mkdir()
    monkeypatch.setenv("FACTBOT_DB_URL", f"sqlite+aiosqlite:///{tmp_path / where}")
    result = runner.invoke(app, ["report", "usage"])
    assert result.exit_code == 1 and says in result.output
    assert "Traceback" not in result.output and "Exception in thread" not in result.output
