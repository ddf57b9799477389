"""The examples in the README and the docs are what Factbot prints today.

Every chat transcript (`you › question` followed by the reply) is replayed through the terminal chat, and
every `$ factbot ask …` and `$ factbot eval …` example is run; each must print what the page shows (line breaks
aside: the pages wrap long lines, a terminal wraps at its own width). A JSON example is compared as data.

The curator reports (`$ factbot report …`, `$ factbot suggest …`) read a question log: they run against the
demo log their page makes (`$ factbot demo --until …`, a seeded week that is the same every time, then
`$ export FACTBOT_DB_URL=…`), in a fresh folder, with settings written before the command
(`NAME=value factbot …`) applied. Their `--since` must not depend on today; a `| head -N` is applied here; a
`--plot FILE` must write the file; a line `…` in the output shown stands for lines left out; an example whose
output starts `factbot:` must exit 1. The Postgres example expects Linux's errno (111) for a refused
connection. Lines a shell would run but that print nothing to compare (`factbot chat --log < my-questions.txt`
in a block without `$ `) are not run.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from bot.adapters.console import ConsoleAdapter
from bot.cli import app, output
from bot.engine import Engine
from bot.knowledge import FactBase
from bot.settings import PROJECT_ROOT

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^( *)```[a-z]*\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
PROMPT = "you › "
DETERMINISTIC = ("ask", "eval", "digest")
"""Commands whose output depends only on what the repository holds (reports read a question log; a digest
preview run here has an empty one)."""
LOG_READERS = ("report", "suggest")
"""Commands that read a question log: they run against the demo log their page makes."""
REPORTS_PAGE = "reports.md"
"""The page that makes a demo log (`$ factbot demo …`, `$ export FACTBOT_DB_URL=…`) and shows the reports."""
WIDTH = 100
"""The terminal width the report examples were printed at (a table wraps its cells to fit the terminal)."""
ELIDED = "…"
"""A line of its own in an example's output: some lines are left out there."""
SETTING = re.compile(r"[A-Z_]+=")
RULE = re.compile(r"([─━═])\1+")


@dataclass(frozen=True)
class Example:
    """One example on a page: what is typed and what the page says comes back."""

    page: str
    typed: list[str]
    shown: list[str]

    def __str__(self) -> str:
        return f"{self.page}: {self.typed[0][:40]}"


@dataclass(frozen=True)
class Shell:
    """One `$ ` line of a fenced block, as a shell reads it, and the lines the page shows under it."""

    page: str
    settings: dict[str, str]
    words: list[str]
    pipe: list[str]
    shown: str

    def __str__(self) -> str:
        typed = [*(f"{name}={value}" for name, value in self.settings.items()), *self.words[1:]]
        return f"{self.page}: {shlex.join(typed)}" + (f" | {shlex.join(self.pipe)}" if self.pipe else "")

    @property
    def fails(self) -> bool:
        """Whether the page shows the command failing: one `factbot: …` line, exit status 1."""
        return self.shown.startswith("factbot: ")

    @property
    def head(self) -> int | None:
        """N for `| head -N`, None without a pipe."""
        if not self.pipe:
            return None
        assert len(self.pipe) == 2 and self.pipe[0] == "head" and re.fullmatch(r"-\d+", self.pipe[1]), self.pipe
        return int(self.pipe[1][1:])

    def option(self, name: str) -> str | None:
        """The value given to option `name`, if any."""
        return self.words[self.words.index(name) + 1] if name in self.words else None


def blocks() -> list[tuple[str, str]]:
    """Every fenced block of every page (one in a list item unindented), with the page's name."""
    return [
        (page.name, textwrap.dedent(match.group(2)))
        for page in PAGES
        for match in FENCE.finditer(page.read_text("utf-8"))
    ]


def shell_lines() -> list[Shell]:
    """Each `$ ` line of every block: settings written before the command, the command, a pipe after it."""
    found = []
    for page, block in blocks():
        for part in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            line, _, shown = part.partition("\n")
            words = shlex.split(line)
            settings = dict(word.split("=", 1) for word in _leading_settings(words))
            words = words[len(settings) :]
            pipe = words[words.index("|") + 1 :] if "|" in words else []
            found.append(Shell(page, settings, words[: len(words) - len(pipe) - bool(pipe)], pipe, shown))
    return found


def _leading_settings(words: list[str]) -> list[str]:
    """The `NAME=value` words a command line starts with."""
    settings = []
    for word in words:
        if not SETTING.match(word):
            break
        settings.append(word)
    return settings


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
    return [
        Example(line.page, line.words[1:], [line.shown])
        for line in shell_lines()
        if _runs(line, DETERMINISTIC) and not line.settings and not line.pipe
    ]


def log_readers() -> list[Shell]:
    """Each `$ factbot report|suggest …` line."""
    return [line for line in shell_lines() if _runs(line, LOG_READERS)]


def demo_line(page: str) -> Shell:
    """The page's `$ factbot demo …` line: the log its report examples read."""
    [made] = [line for line in shell_lines() if line.page == page and _runs(line, ("demo",))]
    return made


def demo_settings(page: str) -> dict[str, str]:
    """What the page's `$ export NAME=value` lines set, for the commands after them."""
    exported = [line.words[1:] for line in shell_lines() if line.page == page and line.words[:1] == ["export"]]
    return dict(word.split("=", 1) for words in exported for word in words)


def _runs(line: Shell, commands: tuple[str, ...]) -> bool:
    """Whether `line` runs `factbot <one of commands>`."""
    return len(line.words) > 1 and line.words[0] == "factbot" and line.words[1] in commands


def folded(text: str) -> str:
    """Text with every run of whitespace as one space, and a table's rules as one stroke (their length follows
    the terminal's width)."""
    return " ".join(RULE.sub(r"\1", text).split())


def shows(printed: str, shown: str) -> bool:
    """Whether `printed` reads as `shown` does, from its start, where a line `…` stands for lines left out."""
    parts = [folded(part) for part in re.split(rf"^{ELIDED}$", shown, flags=re.MULTILINE)]
    text, at = folded(printed), 0
    for number, part in enumerate(parts):
        found = text.find(part, at)
        if found < 0 or (number == 0 and found != 0):
            return False
        at = found + len(part)
    return True


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Factbot's consoles WIDTH columns wide, as the examples were printed. (Not COLUMNS in the runner's
    environment: rich reads COLUMNS once, when the console is made, if it is set then.)"""
    for console in (output.out, output.err):
        monkeypatch.setattr(console, "_width", WIDTH)


@dataclass(frozen=True)
class DemoLog:
    """A page's demo log: what making it printed, and the settings the page exports to read it."""

    made: Result
    settings: dict[str, str]


@pytest.fixture
def demo_log(runner: CliRunner, tmp_path: Path) -> DemoLog:
    """The demo log the reports page makes, made as the page says in the working directory (tmp_path), with
    FACTBOT_DB_URL as the page exports it."""
    made = demo_line(REPORTS_PAGE)
    result = runner.invoke(app, made.words[1:])
    assert result.exit_code == 0, result.output
    assert (tmp_path / str(made.option("--db"))).is_file()
    return DemoLog(result, demo_settings(REPORTS_PAGE))


@pytest.fixture
def fact_base_copy(tmp_path: Path) -> Path:
    """A copy of the shipped fact base, for `suggest --apply` to write into instead of the repository's."""
    copy = tmp_path / "fact-base"
    for folder in ("knowledge", "intents", "seeds"):
        shutil.copytree(PROJECT_ROOT / folder, copy / folder)
    return copy


def test_the_pages_have_examples_to_check() -> None:
    assert len(transcripts()) >= 3 and len(commands()) >= 2
    assert len(log_readers()) >= 10 and {line.words[1] for line in log_readers()} == set(LOG_READERS)


def test_every_report_example_reads_a_demo_log_made_on_its_page() -> None:
    assert {line.page for line in log_readers()} == {REPORTS_PAGE}, "only the reports page makes a demo log"
    made = demo_line(REPORTS_PAGE)
    assert made.option("--until"), "without --until the demo week ends now"
    assert demo_settings(REPORTS_PAGE)["FACTBOT_DB_URL"] == f"sqlite+aiosqlite:///{made.option('--db')}"


@pytest.mark.parametrize("line", [line for line in log_readers() if not line.fails], ids=str)
def test_no_report_example_depends_on_today(line: Shell) -> None:
    since = line.option("--since") or "7d"
    assert since == "all" or re.fullmatch(r"\d{4}-\d\d-\d\d(T[\d:]+)?", since), f"{line}: --since {since}"
    if line.words[1:3] == ["report", "usage"]:  # its days run to today unless it reads everything
        assert since == "all", f"{line}: the usage report's days run to today; use --since all"


def test_the_demo_log_is_made_as_the_page_shows(demo_log: DemoLog) -> None:
    assert folded(demo_log.made.output) == folded(demo_line(REPORTS_PAGE).shown)


@pytest.mark.parametrize("line", log_readers(), ids=str)
def test_a_report_example_is_what_the_report_prints(
    line: Shell, runner: CliRunner, demo_log: DemoLog, fact_base_copy: Path, tmp_path: Path, wide: None
) -> None:
    env = {**demo_log.settings, **line.settings}
    if "--apply" in line.words:  # it writes into the fact base: a copy, never the repository's
        env["FACTBOT_DATA_DIR"] = str(fact_base_copy)
    result = runner.invoke(app, line.words[1:], env=env)
    assert result.exit_code == (1 if line.fails else 0), result.output
    if line.head is not None:  # what `| head -N` lets through: the first N lines of standard output
        assert folded("\n".join(result.stdout.splitlines()[: line.head])) == folded(line.shown), line
    elif line.option("--format") == "json":
        assert json.loads(result.stdout) == json.loads(line.shown), line
    else:  # a page may show only the start of a long report, or leave lines out with `…`
        assert shows(result.output, line.shown), f"{line}:\n{result.output}"
    if plot := line.option("--plot"):
        assert (tmp_path / plot).stat().st_size > 0, f"{line}: no chart at {plot}"


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
