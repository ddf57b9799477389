"""`factbot validate`, `factbot facts`, `factbot sources`: the fact base itself."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.adapters.console import ConsoleAdapter
from bot.chat.replies import NoTopic
from bot.cli import output
from bot.cli.common import DataDir, load_engine, load_settings
from bot.knowledge import read_factbase


def validate(data_dir: DataDir = None) -> None:
    """Check the fact base: verbatim quotes, ids, reachability, examples; exit 1 on any problem."""
    folder = load_settings(data_dir).data_dir
    base, problems = read_factbase(folder.resolve())
    if problems:
        output.not_valid(problems, folder)
    output.valid(folder, base)


def facts(
    topic: Annotated[str | None, typer.Option("--topic", "-t", help="Show the facts of this topic.")] = None,
    data_dir: DataDir = None,
) -> None:
    """List the topics, or the facts of one topic."""
    adapter = ConsoleAdapter(load_engine(data_dir), console=output.out)
    reply = adapter.service.facts(topic or "")
    output.reply(reply)
    if isinstance(reply.body, NoTopic):  # a script asking for a topic that is not there should know
        raise typer.Exit(1)


def sources(data_dir: DataDir = None) -> None:
    """List the documents the fact base quotes."""
    output.sources(load_engine(data_dir))
