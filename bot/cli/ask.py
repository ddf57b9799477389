"""`factbot ask` and `factbot chat`: questions from the command line, standard input or the terminal."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from typing import Annotated, TextIO

import typer

from bot.adapters.console import CONVERSATION as TERMINAL
from bot.adapters.console import ConsoleAdapter
from bot.cli import output
from bot.cli.common import DataDir, load_engine, load_settings, logging_to, run_or_exit
from bot.engine import Engine
from bot.models import Question
from bot.settings import Settings

TERMINAL_USER = "you"
"""Who asks at the terminal (the log keeps only a salted hash of it)."""

log = logging.getLogger(__name__)


def ask(
    question: Annotated[
        list[str] | None,
        typer.Argument(
            help="The question; omit it to read one question a line from standard input.", show_default=False
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", metavar="", help="Print the answer as JSON (JSON Lines when reading standard input)."),
    ] = False,
    why: Annotated[
        bool,
        typer.Option(
            "--why", metavar="", help="Explain the decision: the matched example, scores, runner-up, thresholds."
        ),
    ] = False,
    log_it: Annotated[
        bool,
        typer.Option(
            "--log", metavar="", help="Keep the questions in the question log (FACTBOT_DB_URL), as chat does."
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Answer one question (or each line of standard input) and exit."""
    engine = load_engine(data_dir)
    if log_it and not why:
        run_or_exit(_ask_logged(engine, load_settings(data_dir), question, as_json=as_json))
        return
    if question and why:
        from bot.explain import explain

        output.explanation(explain(engine, " ".join(question)), as_json=as_json)
        return
    if question:
        _answer(engine, " ".join(question), as_json=as_json)
        return
    if sys.stdin.isatty():  # nothing piped in: say what is expected rather than wait in silence
        output.error('reading questions from the terminal, one a line; Ctrl-D ends (or: factbot ask "who won?")')
    for line in _stdin():
        if line.strip() or as_json:
            _answer(engine, line.rstrip("\r\n"), as_json=as_json)


async def _ask_logged(engine: Engine, settings: Settings, question: list[str] | None, *, as_json: bool) -> None:
    """Answer the question (or each line of standard input), keeping each in the question log."""
    async with logging_to(engine, settings):
        lines = [" ".join(question)] if question else [line.rstrip("\r\n") for line in _stdin()]
        for text in lines:
            if text.strip() or as_json:
                asked = Question(text=text, who=TERMINAL_USER, where=TERMINAL, platform="console")
                output.answer(await engine.answer(asked), as_json=as_json)


def _answer(engine: Engine, text: str, *, as_json: bool) -> None:
    """Answer `text` and print it; one failing line is reported and the rest go on."""
    try:
        answer = engine.respond(text)
    except Exception as exc:  # one bad line must not stop a batch
        log.exception("could not answer a question")
        output.unanswerable(text, exc, as_json=as_json)
        return
    output.answer(answer, as_json=as_json)


def chat(
    log_it: Annotated[
        bool,
        typer.Option(
            "--log", metavar="", help="Keep the questions in the question log (FACTBOT_DB_URL), for the reports."
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Chat in the terminal; with questions piped in, answer each and exit."""
    settings = load_settings(data_dir)
    adapter = ConsoleAdapter(load_engine(data_dir), console=output.out, settings=settings)
    try:
        if log_it:
            run_or_exit(_chat_logged(adapter, settings))
        else:
            asyncio.run(adapter.run(_stdin()))
    except KeyboardInterrupt:
        output.blank()


async def _chat_logged(adapter: ConsoleAdapter, settings: Settings) -> None:
    """The terminal chat, with every question kept in the question log."""
    async with logging_to(adapter.service.engine, settings):
        await adapter.run(_stdin())


def _stdin() -> TextIO:
    """Standard input as text that never fails to decode (bad bytes become U+FFFD)."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    return sys.stdin
