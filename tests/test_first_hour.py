"""A new user's first hour, through the console script: --version, a question log filled from the terminal,
and start-up mistakes told in one line."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.test_cli import factbot

WINNER = "Who won the ITU election?"


def test_version() -> None:
    ran = factbot(["--version"], Path.cwd())
    assert (ran.code, ran.out.strip()) == (0, f"factbot {version('factbot')}")


@pytest.mark.parametrize("command", [["chat", "--log"], ["ask", "--log"], ["ask", "--log", "--json"]])
def test_the_question_log_fills_from_the_terminal(tmp_path: Path, command: list[str]) -> None:
    env = {"FACTBOT_DB_URL": f"sqlite+aiosqlite:///{tmp_path / 'log.db'}"}
    asked = factbot(
        command,
        tmp_path,
        stdin=f"{WINNER}\nWhen was the ITU election held?\nwhat is the capital of France\n".encode(),
        env=env,
    )
    assert asked.code == 0, asked.err
    assert "Bogdan-Martin" in asked.out
    report = factbot(["report", "usage", "--since", "all", "--format", "json"], tmp_path, env=env)
    rows = json.loads(report.out)
    assert sum(r["questions"] for r in rows if r["kind"] == "day") == 3
    assert {r["key"] for r in rows if r["kind"] == "intent"} >= {"election-winner", "election-date"}


def test_without_log_nothing_is_kept(tmp_path: Path) -> None:
    env = {"FACTBOT_DB_URL": f"sqlite+aiosqlite:///{tmp_path / 'log.db'}"}
    assert factbot(["ask", WINNER], tmp_path, env=env).code == 0
    assert not (tmp_path / "log.db").exists()


def test_http_mode_without_tokens_is_one_line_not_a_chat(tmp_path: Path) -> None:
    ran = factbot(["run", "--http"], tmp_path, stdin=f"{WINNER}\n".encode())
    assert ran.code == 2 and "Bogdan-Martin" not in ran.out
    assert ran.err.strip() == "factbot: --http serves Slack: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET first."


def test_run_without_tokens_says_it_chats_in_the_terminal(tmp_path: Path) -> None:
    ran = factbot(["run"], tmp_path, stdin=f"{WINNER}\n".encode())
    assert ran.code == 0 and "Bogdan-Martin" in ran.out
    assert "no Slack or Discord tokens are set: chatting in the terminal instead" in ran.err


@pytest.mark.parametrize("command", [["ask"], ["chat"], ["eval"], ["run"], ["suggest"], ["discord", "sync"]])
def test_flags_take_no_value_in_the_help(command: list[str]) -> None:
    shown = factbot([*command, "--help"], Path.cwd()).out
    flags = [line for line in shown.splitlines() if "--" in line and "--help" not in line]
    assert flags and not any("<bool>" in line for line in flags)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["slack", "manifest", "--request-url", "http://example.org/slack/events"],
            "--request-url must be an https://",
        ),
        (
            ["digest", "preview", "--channel", "C123"],
            "--channel takes slack:CHANNEL_ID, discord:CHANNEL_ID or terminal",
        ),
        (["digest", "preview", "--date", "tomorrow"], "'tomorrow' is not a date like 2026-05-01"),
    ],
)
def test_a_mistyped_option_is_a_usage_error_in_one_line(tmp_path: Path, args: list[str], said: str) -> None:
    ran = factbot(args, tmp_path)
    assert ran.code == 2 and said in " ".join(ran.err.split())


def test_the_discord_invite_needs_no_token_with_a_client_id(tmp_path: Path) -> None:
    ran = factbot(["discord", "invite", "--client-id", "123456789012345678"], tmp_path)
    assert ran.code == 0 and "client_id=123456789012345678" in ran.out
    without = factbot(["discord", "invite"], tmp_path)
    assert without.code == 1 and "--client-id" in without.err


def test_a_demo_week_fills_a_new_log_for_the_reports(tmp_path: Path) -> None:
    made = factbot(["demo", "--db", "week.db"], tmp_path)
    assert made.code == 0 and "Wrote a week of" in made.out
    env = {"FACTBOT_DB_URL": f"sqlite+aiosqlite:///{tmp_path / 'week.db'}"}
    usage = json.loads(factbot(["report", "usage", "--since", "all", "--format", "json"], tmp_path, env=env).out)
    days = [r for r in usage if r["kind"] == "day" and r["questions"]]
    assert len(days) >= 5 and sum(r["questions"] for r in days) > 100
    assert all(0 < r["answered"] < r["questions"] for r in days if r["questions"] > 20)
    feedback = json.loads(factbot(["report", "feedback", "--since", "all", "--format", "json"], tmp_path, env=env).out)
    assert feedback, "some answers got votes"
    again = factbot(["demo", "--db", "week.db"], tmp_path)
    assert again.code == 2 and "already exists" in again.err
