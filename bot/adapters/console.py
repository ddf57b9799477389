"""The terminal adapter: `factbot chat` on the chat service, rendered with rich; also the transcript test harness.

`push(line)` hands one line in and returns what was printed, so an end-to-end test reads like a conversation.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import sys
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bot.chat import messages
from bot.chat.commands import console_help
from bot.chat.replies import Answered, Help, NoTopic, Preview, Reply, TopicFacts, Topics, Why
from bot.chat.service import ChatService
from bot.digest import digest_text
from bot.engine import Engine
from bot.explain import explanation_text
from bot.models import Answer, Status, byline
from bot.normalise import visible
from bot.settings import Settings

CONVERSATION = "terminal"
"""The one conversation of a terminal session: a follow-up is read with the question before it."""

STYLES = {
    Status.answered: "green",
    Status.clarify: "yellow",
    Status.fallback: "red",
    Status.smalltalk: "cyan",
}


def render_answer(answer: Answer) -> Group:
    """An Answer as rich text: the answer, each quote with its source, and any suggestions.

    Indented lines are plain text with leading spaces (no padding to the terminal's width), so output
    piped to a file or another program carries no trailing spaces.
    """
    parts: list[Text] = [Text(answer.answer, style="bold")]
    for citation in answer.citations:
        publisher = byline(citation.author, citation.publisher)[1:]
        caption = f"— {citation.author}, “{citation.title}”, " + ", ".join([*publisher, citation.place])
        parts.append(Text(f"  “{citation.quote}”", style="italic"))
        parts.append(Text(f"  {caption}\n  {citation.url}", style="dim"))
        if citation.note:
            parts.append(Text(f"  {citation.note}", style="yellow"))
    for number, suggestion in enumerate(answer.suggestions, 1):
        parts.append(Text(f"  {number}. {suggestion.question}", style=STYLES[answer.status]))
    if answer.truncated:
        parts.append(Text(f"({messages.ONLY_THE_START})", style="dim"))
    if answer.context:
        parts.append(Text(f"({messages.follow_up_to(visible(answer.context))})", style="dim"))
    return Group(*parts)


def render(reply: Reply) -> RenderableType:
    """A neutral reply for the terminal."""
    body = reply.body
    if isinstance(body, Answered):
        return render_answer(body.answer)
    if isinstance(body, Topics):
        table = Table("topic", "facts", title="Topics")
        for name, count in body.counts.items():
            table.add_row(name, str(count))
        return table
    if isinstance(body, TopicFacts):
        table = Table("fact", "answer", "¶", title=f"Facts on {body.topic}", show_lines=True)
        for answer, citation in body.facts:
            table.add_row(citation.fact_id, answer, str(citation.paragraph or "–"))
        return table
    if isinstance(body, NoTopic):
        return Text(f"{messages.no_topic(visible(body.topic))} {messages.topics_are(body.known)}", style="red")
    if isinstance(body, Why):
        return Text(explanation_text(body.explanation))
    if isinstance(body, Help):
        return Text(console_help())
    if isinstance(body, Preview):
        return Text(digest_text(body.digest))
    return Text(body.text, style="yellow")


def sources_table(engine: Engine) -> Table:
    """Every source with its author, publisher, URL and fact count."""
    table = Table("source", "title", "author", "publisher", "facts", title="Sources")
    table.add_column("url", overflow="fold")
    for source in engine.base.sources.values():
        count = sum(f.source == source.id for f in engine.base.facts.values())
        table.add_row(source.id, source.title, source.author, source.publisher, str(count), source.url)
    return table


class ConsoleAdapter:
    """Reads lines from the terminal (or a pipe), hands them to the chat service and prints its replies."""

    def __init__(self, engine: Engine, *, console: Console | None = None, settings: Settings | None = None) -> None:
        self.service = ChatService(engine, settings or Settings.model_construct(), platform="console")
        self.console = console or Console()

    async def push(self, line: str) -> str:
        """Hand one line in, as if typed; what was printed back (the transcript harness)."""
        with self.console.capture() as captured:
            await self.handle(line)
        return captured.get()

    async def run(self, stream: TextIO | None = None) -> None:
        """Chat until end of input or `/quit`; interactive on a terminal, batch on a pipe."""
        stream = stream or sys.stdin
        interactive = stream.isatty()
        if interactive:
            _enable_history()
            covers = escape(self.service.engine.covers())
            self.console.print(f"[bold]Factbot[/bold] answers questions about {covers}.")
            self.console.print(f"{messages.CHAT_GREETING}\n")
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
        if text.startswith("/"):
            return self._command(command, rest.strip())
        question = self.service.question(text, who="you", where=CONVERSATION, conversation=CONVERSATION)
        self._print(await self.service.ask(question, in_channel=False))
        return True

    def _command(self, typed: str, rest: str) -> bool:
        """One of the terminal's commands (the table's), or a one-line hint for anything else."""
        command = typed.lower()
        if command in ("/quit", "/exit"):
            return False
        replies = {
            "/help": self.service.help,
            "/facts": lambda: self.service.facts(rest),
            "/why": lambda: self.service.why(rest, where=CONVERSATION),
        }
        if command == "/sources":
            self.console.print(sources_table(self.service.engine))
        elif command in replies:
            self._print(replies[command]())
        else:
            self.console.print(escape(messages.unknown_command(visible(typed))), style="red")
        return True

    def _print(self, reply: Reply) -> None:
        """Print a reply; piped output is not wrapped, so a long URL stays on one line."""
        self.console.print(render(reply), markup=False, highlight=False, soft_wrap=not self.console.is_terminal)


async def _read_line(stream: TextIO, interactive: bool) -> str | None:
    """The next line of input, or None at its end; the prompt shows only on a terminal.

    At a terminal the prompt is read in the main thread, so Ctrl-C ends the chat at once (a worker thread
    would hold the exit until Enter); Ctrl-D ends the line too, so the shell's prompt starts on its own.
    """
    if interactive:
        await asyncio.sleep(0)  # let queued work (the question log's batch) run before waiting for a person
        try:
            return input("you › ")
        except EOFError:
            print()
            return None
    line = await asyncio.to_thread(stream.readline)
    return line if line else None


HISTORY = Path.home() / ".factbot_history"
"""Where the terminal chat keeps what was typed, so arrow-up works in the next session too."""


def _enable_history() -> None:
    """Arrow-key history and line editing for the interactive prompt, kept across sessions, where readline
    exists (not on Windows); a history file that cannot be read or written is ignored."""
    try:
        import readline
    except ImportError:
        return
    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY)
    readline.set_history_length(1000)
    atexit.register(_save_history, readline)


def _save_history(readline: Any) -> None:
    """Write the chat's history back (best effort)."""
    with contextlib.suppress(OSError):
        readline.write_history_file(HISTORY)
