"""The one command table: the Slack manifest, the Discord tree, the terminal's help and the docs agree with it."""

from __future__ import annotations

import pytest

from bot.adapters.discord_run import build_client
from bot.adapters.slack_manifest import manifest
from bot.chat.commands import COMMANDS, CONSOLE, DISCORD, SLACK, console_help, markdown_table, on
from bot.engine import Engine
from bot.settings import Settings

DEFAULT = Settings.model_construct()
RENAMED = DEFAULT.model_copy(update={"command_ask": "question", "command_help": "kb-help"})


@pytest.mark.parametrize("settings", [DEFAULT, RENAMED], ids=["default", "renamed"])
def test_the_slack_manifest_is_the_tables(settings: Settings) -> None:
    shown = [
        (c["command"], c["description"], c.get("usage_hint")) for c in manifest(settings)["features"]["slash_commands"]
    ]
    assert shown == [(f"/{c.name(settings)}", c.description, c.arguments or None) for c in on(SLACK)]


@pytest.mark.parametrize("settings", [DEFAULT, RENAMED], ids=["default", "renamed"])
async def test_the_discord_tree_is_the_tables(engine: Engine, settings: Settings) -> None:
    client = build_client(engine, settings)
    try:
        tree = {c.name: c for c in client.tree.get_commands()}
        assert list(tree) == [c.name(settings) for c in on(DISCORD)]
        for command in on(DISCORD):
            made = tree[command.name(settings)]
            assert made.description == command.description
            options = {p.name: p for p in made.parameters}  # type: ignore[union-attr]
            assert list(options) == [o.name for o in command.options]
            for option in command.options:
                assert options[option.name].description == option.description
                if option.choices:
                    assert [c.value for c in options[option.name].choices] == list(option.choices)
    finally:
        await client.close()


def test_the_terminal_help_is_the_tables() -> None:
    for command in on(CONSOLE):
        assert f"/{command.key}" in console_help() and command.summary in console_help()
    assert "/ask" not in console_help() and "/digest" not in console_help()


def test_the_readme_table_follows_renamed_commands() -> None:
    table = markdown_table(RENAMED)
    assert "`/question <question>`" in table and "`/kb-help`" in table and "`/ask" not in table
    assert len(table.splitlines()) == 2 + len(COMMANDS)


def test_the_slack_page_names_what_the_manifest_asks_for() -> None:
    from bot.adapters.slack_manifest import BOT_EVENTS, BOT_SCOPES
    from bot.settings import PROJECT_ROOT

    page = (PROJECT_ROOT / "docs" / "slack.md").read_text(encoding="utf-8")
    missing = [f"`{name}`" for name in [*BOT_SCOPES, *BOT_EVENTS] if f"`{name}`" not in page]
    assert missing == [], f"docs/slack.md never names {missing}"
    words = {4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
    assert f"{words[len(on(SLACK))]} slash commands" in page, "docs/slack.md counts the slash commands wrong"
