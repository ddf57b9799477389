"""The docs keep up with the code: every command has help and a README mention; a CHANGELOG."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from bot.chat.commands import markdown_table
from bot.cli import app
from bot.settings import PROJECT_ROOT, Settings

README = PROJECT_ROOT / "README.md"
CHANGELOG = PROJECT_ROOT / "CHANGELOG.md"
MAKEFILE = PROJECT_ROOT / "Makefile"
COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]


def read(path: Path) -> str:
    """The text of a documentation file, or a test failure naming it when it is missing."""
    if not path.is_file():
        pytest.fail(f"{path.name} is missing")
    return path.read_text(encoding="utf-8")


def test_the_cli_has_commands() -> None:
    assert {"ask", "chat", "run", "validate", "facts", "sources"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(runner: CliRunner, name: str) -> None:
    help_text = (COMMANDS[name].help or "").strip()
    assert help_text, f"`factbot {name}` has no help text (give its function a docstring)"
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert help_text.split()[0] in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_readme_mentions_every_command(name: str) -> None:
    assert re.search(rf"\bfactbot {re.escape(name)}\b", read(README)), f"README.md never says `factbot {name}`"


@pytest.mark.parametrize("target", ["chat", "test"])
def test_readme_mentions_make_targets_that_exist(target: str) -> None:
    assert re.search(rf"\bmake {target}\b", read(README)), f"README.md never says `make {target}`"
    assert re.search(rf"^{target}:", read(MAKEFILE), re.MULTILINE), f"the Makefile has no `{target}` target"


def test_changelog_exists() -> None:
    assert read(CHANGELOG).strip(), "CHANGELOG.md is empty"


def test_the_readme_command_table_is_the_command_tables() -> None:
    """The README's chat command table is generated from bot/chat/commands.py, like the manifest and the help."""
    readme = README.read_text(encoding="utf-8")
    start = readme.index("<!-- commands:")
    shown = readme[readme.index("\n", start) + 1 : readme.index("<!-- /commands -->")].strip()
    assert shown == markdown_table(Settings.model_construct()), (
        "regenerate it: python -c 'from bot.chat.commands import markdown_table; "
        "from bot.settings import Settings; print(markdown_table(Settings.model_construct()))'"
    )
