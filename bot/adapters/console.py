"""The terminal adapter: renders Answers with rich and runs `factbot chat` on the same engine."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from typing import TextIO

from rich.console import Console, Group
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from bot.context import Turn
from bot.engine import Engine
from bot.explain import explain, explanation_text
from bot.models import Answer, Question, Status, byline
from bot.normalise import visible

CONVERSATION = "terminal"
"""The one conversation of a terminal session: a follow-up is read with the question before it."""

STYLES = {
    Status.answered: "green",
    Status.clarify: "yellow",
    Status.fallback: "red",
    Status.smalltalk: "cyan",
}

HELP = """Ask a question in your own words, or type one of these:
  /facts [topic]  list topics, or the facts of one topic
  /sources        the documents the answers come from
  /why [question] why the last answer (or this question's) came out as it did
  /help           this help
  /quit           leave (Ctrl-D works too)"""


def render_answer(answer: Answer) -> Group:
    """An Answer as rich text: the answer, each quote with its source, and any suggestions."""
    parts: list[Text | Padding] = [Text(answer.answer, style="bold")]
    for citation in answer.citations:
        publisher = byline(citation.author, citation.publisher)[1:]
        caption = f"— {citation.author}, “{citation.title}”, " + ", ".join([*publisher, citation.place])
        caption += f"\n{citation.url}"
        parts.append(Padding(Text(f"“{citation.quote}”", style="italic"), (0, 0, 0, 2)))
        parts.append(Padding(Text(caption, style="dim"), (0, 0, 0, 2)))
    for number, suggestion in enumerate(answer.suggestions, 1):
        parts.append(Text(f"  {number}. {suggestion.question}", style=STYLES[answer.status]))
    if answer.truncated:
        parts.append(Text("(Only the start of a very long message was read.)", style="dim"))
    if answer.context:
        parts.append(Text(f"(Read as a follow-up to “{visible(answer.context)}”.)", style="dim"))
    return Group(*parts)


def facts_table(engine: Engine, topic: str | None) -> Table | Text:
    """Topics with their fact counts, or the facts of one topic."""
    topics = engine.base.topics()
    if topic is None:
        table = Table("topic", "facts", title="Topics")
        for name, facts in topics.items():
            table.add_row(name, str(len(facts)))
        return table
    if topic not in topics:
        return Text(f"No topic '{topic}'. Topics: {', '.join(topics)}.", style="red")
    table = Table("fact", "answer", "¶", title=f"Facts on {topic}", show_lines=True)
    for fact in topics[topic]:
        paragraph = engine.cite(fact).paragraph
        table.add_row(fact.id, fact.answer, str(paragraph or "–"))
    return table


def sources_table(engine: Engine) -> Table:
    """Every source with its author, publisher, URL and fact count."""
    table = Table("source", "title", "author", "publisher", "facts", title="Sources")
    table.add_column("url", overflow="fold")
    for source in engine.base.sources.values():
        count = sum(f.source == source.id for f in engine.base.facts.values())
        table.add_row(source.id, source.title, source.author, source.publisher, str(count), source.url)
    return table


class ConsoleAdapter:
    """Reads questions from the terminal (or a pipe) and prints the engine's answers."""

    def __init__(self, engine: Engine, *, console: Console | None = None) -> None:
        self.engine = engine
        self.console = console or Console()
        self._last = ""
        self._before: Turn | None = None
        self._commands: dict[str, Callable[[str], bool]] = {
            "/help": self._help,
            "/facts": self._facts,
            "/sources": self._sources,
            "/why": self._why,
            "/quit": self._quit,
            "/exit": self._quit,
        }

    async def ask(self, text: str) -> Answer:
        """Push one question in and print the answer; return it too."""
        self._last = text
        self._before = self.engine.conversations.previous(CONVERSATION)
        answer = await self.engine.answer(Question(text=text, who="you", where="terminal", conversation=CONVERSATION))
        self.console.print(render_answer(answer))
        return answer

    async def run(self, stream: TextIO | None = None) -> None:
        """Chat until end of input or `/quit`; interactive on a terminal, batch on a pipe."""
        stream = stream or sys.stdin
        interactive = stream.isatty()
        if interactive:
            _enable_history()
            self.console.print(f"[bold]Factbot[/bold] answers questions about {escape(self.engine.covers())}.")
            self.console.print("Ask away, or type /help. Ctrl-D to leave.\n")
        while (line := await _read_line(stream, interactive)) is not None:
            if not await self.handle(line):
                break
            if interactive:
                self.console.print()

    async def handle(self, line: str) -> bool:
        """Handle one line of input; False means the session should end."""
        text = line.strip()
        if not text:
            return True
        command, _, rest = text.partition(" ")
        if command.lower() in self._commands:
            return self._commands[command.lower()](rest.strip())
        if text.startswith("/"):
            self.console.print(f"Unknown command {escape(visible(command))}. Type /help.", style="red")
            return True
        await self.ask(text)
        return True

    def _help(self, _: str) -> bool:
        self.console.print(HELP, markup=False)
        return True

    def _facts(self, topic: str) -> bool:
        self.console.print(facts_table(self.engine, topic or None))
        return True

    def _sources(self, _: str) -> bool:
        self.console.print(sources_table(self.engine))
        return True

    def _why(self, question: str) -> bool:
        text = question or self._last
        if not text:
            self.console.print("Ask something first, or give a question: /why who won?", style="yellow")
            return True
        previous = None if question else self._before
        self.console.print(explanation_text(explain(self.engine, text, previous)), markup=False, highlight=False)
        return True

    def _quit(self, _: str) -> bool:
        return False


async def _read_line(stream: TextIO, interactive: bool) -> str | None:
    """The next line of input, or None at its end; the prompt shows only on a terminal."""
    if interactive:
        try:
            return await asyncio.to_thread(input, "you › ")
        except EOFError:
            return None
    line = await asyncio.to_thread(stream.readline)
    return line if line else None


def _enable_history() -> None:
    """Arrow-key history and line editing for the interactive prompt, where readline exists."""
    with contextlib.suppress(ImportError):  # no readline on Windows
        import readline  # noqa: F401  (importing it is what enables history for input())
