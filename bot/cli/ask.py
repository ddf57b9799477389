"""`factbot ask` and `factbot chat`: questions from the command line, standard input or the terminal."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from typing import Annotated, TextIO

import typer

from bot.adapters.console import ConsoleAdapter
from bot.cli import output
from bot.cli.common import DataDir, load_engine, load_settings
from bot.engine import Engine

log = logging.getLogger(__name__)


def ask(
    question: Annotated[
        list[str] | None,
        typer.Argument(
            help="The question; omit it to read one question a line from standard input.", show_default=False
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the answer as JSON (JSON Lines when reading standard input).")
    ] = False,
    why: Annotated[
        bool, typer.Option("--why", help="Explain the decision: the matched example, scores, runner-up, thresholds.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Answer one question (or each line of standard input) and exit."""
    engine = load_engine(data_dir)
    if question and why:
        from bot.explain import explain

        output.explanation(explain(engine, " ".join(question)), as_json=as_json)
        return
    if question:
        _answer(engine, " ".join(question), as_json=as_json)
        return
    for line in _stdin():
        if line.strip() or as_json:
            _answer(engine, line.rstrip("\r\n"), as_json=as_json)


def _answer(engine: Engine, text: str, *, as_json: bool) -> None:
    """Answer `text` and print it; one failing line is reported and the rest go on."""
    try:
        answer = engine.respond(text)
    except Exception as exc:  # one bad line must not stop a batch
        log.exception("could not answer a question")
        output.unanswerable(text, exc, as_json=as_json)
        return
    output.answer(answer, as_json=as_json)


def chat(data_dir: DataDir = None) -> None:
    """Chat in the terminal; with questions piped in, answer each and exit."""
    adapter = ConsoleAdapter(load_engine(data_dir), console=output.out, settings=load_settings(data_dir))
    try:
        asyncio.run(adapter.run(_stdin()))
    except KeyboardInterrupt:
        output.blank()


def _stdin() -> TextIO:
    """Standard input as text that never fails to decode (bad bytes become U+FFFD)."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    return sys.stdin
