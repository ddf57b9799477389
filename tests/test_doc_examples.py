"""The examples in the README and the docs are what Factbot prints today.

Every chat transcript (`you › question` followed by the reply) is replayed through the terminal chat, and
every `$ factbot ask …` example is run; each must print what the page shows (line breaks aside: the pages
wrap long lines, a terminal wraps at its own width). A JSON example is compared as data.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from bot.adapters.console import ConsoleAdapter
from bot.cli import app
from bot.engine import Engine
from bot.knowledge import FactBase
from bot.settings import PROJECT_ROOT

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^( *)```[a-z]*\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
PROMPT = "you › "
DETERMINISTIC = ("ask", "eval")
"""Commands whose output depends only on what the repository holds (reports read a question log)."""
RULE = re.compile(r"([─━═])\1+")


@dataclass(frozen=True)
class Example:
    """One example on a page: what is typed and what the page says comes back."""

    page: str
    typed: list[str]
    shown: list[str]

    def __str__(self) -> str:
        return f"{self.page}: {self.typed[0][:40]}"


def blocks() -> list[tuple[str, str]]:
    """Every fenced block of every page, with the page's name."""
    return [(page.name, match.group(2)) for page in PAGES for match in FENCE.finditer(page.read_text("utf-8"))]


def transcripts() -> list[Example]:
    """Each chat transcript: the questions typed after the prompt, and the reply shown under each."""
    found = []
    for page, block in blocks():
        if PROMPT not in block:
            continue
        turns = block.split(PROMPT)[1:]
        typed = [turn.split("\n", 1)[0] for turn in turns]
        shown = [turn.split("\n", 1)[1] if "\n" in turn else "" for turn in turns]
        found.append(Example(page, typed, shown))
    return found


def commands() -> list[Example]:
    """Each `$ factbot <deterministic command>` line, with the lines shown under it."""
    found = []
    for page, block in blocks():
        for part in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            line, _, shown = part.partition("\n")
            words = shlex.split(line)
            if words[:1] == ["factbot"] and words[1:2] and words[1] in DETERMINISTIC:
                found.append(Example(page, words[1:], [shown]))
    return found


def folded(text: str) -> str:
    """Text with every run of whitespace as one space, and a table's rules as one stroke (their length follows
    the terminal's width)."""
    return " ".join(RULE.sub(r"\1", text).split())


def test_the_pages_have_examples_to_check() -> None:
    assert len(transcripts()) >= 3 and len(commands()) >= 2


@pytest.mark.parametrize("example", transcripts(), ids=str)
async def test_a_chat_transcript_is_what_the_chat_prints(example: Example, shipped: FactBase) -> None:
    chat = ConsoleAdapter(Engine(shipped))
    for typed, shown in zip(example.typed, example.shown, strict=True):
        assert folded(await chat.push(typed)) == folded(shown), f"{example.page}, after {typed!r}"


@pytest.mark.parametrize("example", commands(), ids=str)
def test_a_command_example_is_what_the_command_prints(example: Example, runner: CliRunner) -> None:
    result = runner.invoke(app, example.typed)
    assert result.exit_code == 0, result.output
    [shown] = example.shown
    if "--json" in example.typed:
        assert json.loads(result.stdout) == json.loads(shown), example.page
    else:  # a page may show only the start of a long report
        assert folded(result.stdout).startswith(folded(shown)), example.page


def test_the_readme_and_getting_started_show_the_same_session() -> None:
    readme = [e for e in transcripts() if e.page == "README.md"]
    started = [e for e in transcripts() if e.page == "getting-started.md"]
    assert readme and [(e.typed, e.shown) for e in readme] == [(e.typed, e.shown) for e in started]


def test_every_page_is_read() -> None:
    assert {p.name for p in PAGES} >= {"README.md", "getting-started.md", "asking.md", "matching.md"}
