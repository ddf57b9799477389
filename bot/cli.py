"""The `factbot` command line: the only module that wires settings, fact base and adapters together."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from pathlib import Path
from collections.abc import Sequence
from typing import Annotated, TextIO

import typer
from pydantic import ValidationError
from rich.console import Console

from bot.adapters.console import ConsoleAdapter, facts_table, render_answer, sources_table
from bot.engine import Engine, Thresholds
from bot.knowledge import read_factbase
from bot.settings import Settings

app = typer.Typer(
    help="Factbot answers questions from a curated fact base, quoting its source verbatim.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of the fact base (default: FACTBOT_DATA_DIR, or the shipped one).",
        show_default=False,
    ),
]


def _settings(data_dir: Path | None) -> Settings:
    """Settings from the environment and `.env`, with the command line's data folder on top."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            err.print(f"factbot: bad setting {name}: {error['msg']}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings


def _engine(data_dir: Path | None) -> Engine:
    """Load and check the fact base, or stop with its problems, one per line (never a traceback)."""
    settings = _settings(data_dir)
    base, problems = read_factbase(settings.data_dir.resolve())
    if problems:
        for problem in problems:
            err.print(str(problem), markup=False, highlight=False)
        summary = f"the fact base in {settings.data_dir} is invalid ({_count(problems, 'problem')})"
        err.print(f"factbot: {summary}; not starting.", markup=False)
        raise typer.Exit(1)
    thresholds = Thresholds(settings.answer_threshold, settings.clarify_threshold, settings.clarify_margin)
    return Engine(base, thresholds=thresholds)


def _count(items: Sequence[object], noun: str) -> str:
    """`3 problems`, `1 problem`."""
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _stdin() -> TextIO:
    """Standard input as text that never fails to decode (bad bytes become U+FFFD)."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    return sys.stdin


@app.command()
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
    data_dir: DataDir = None,
) -> None:
    """Answer one question (or each line of standard input) and exit."""
    engine = _engine(data_dir)
    if question:
        _print(engine, " ".join(question), as_json)
        return
    for line in _stdin():
        if line.strip() or as_json:
            _print(engine, line.rstrip("\r\n"), as_json)


def _print(engine: Engine, text: str, as_json: bool) -> None:
    """Answer `text` and print it; one failing line is reported and the rest go on."""
    try:
        answer = engine.respond(text)
    except Exception as exc:  # one bad line must not stop a batch
        logging.getLogger(__name__).exception("could not answer a question")
        if as_json:
            print(json.dumps({"question": text, "error": f"could not answer: {type(exc).__name__}"}), flush=True)
        else:
            err.print(f"factbot: could not answer that question ({type(exc).__name__})", markup=False)
        return
    if as_json:
        print(answer.model_dump_json(), flush=True)
    else:
        out.print(render_answer(answer))


@app.command()
def chat(data_dir: DataDir = None) -> None:
    """Chat in the terminal; with questions piped in, answer each and exit."""
    adapter = ConsoleAdapter(_engine(data_dir), console=out)
    try:
        asyncio.run(adapter.run(_stdin()))
    except KeyboardInterrupt:
        out.print()


@app.command()
def run(data_dir: DataDir = None) -> None:
    """Start every chat adapter whose credentials are set; the terminal chat when none is."""
    settings = _settings(data_dir)
    if settings.has_chat_tokens:
        err.print(
            "factbot: Slack and Discord adapters are not part of this release; "
            "unset their tokens to chat in the terminal.",
            markup=False,
        )
        raise typer.Exit(2)
    chat(data_dir)


@app.command()
def validate(data_dir: DataDir = None) -> None:
    """Check the fact base: verbatim quotes, ids, reachability, examples; exit 1 on any problem."""
    settings = _settings(data_dir)
    base, problems = read_factbase(settings.data_dir.resolve())
    for problem in problems:
        err.print(str(problem), markup=False, highlight=False)
    if problems:
        err.print(f"{_count(problems, 'problem')} in {settings.data_dir}", markup=False)
        raise typer.Exit(1)
    examples = sum(len(i.examples) for i in base.intents.values())
    out.print(
        f"✓ {settings.data_dir}: {len(base.sources)} sources, {len(base.facts)} facts, "
        f"{len(base.intents)} intents, {examples} examples; every quote is verbatim.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def facts(
    topic: Annotated[str | None, typer.Option("--topic", "-t", help="Show the facts of this topic.")] = None,
    data_dir: DataDir = None,
) -> None:
    """List the topics, or the facts of one topic."""
    out.print(facts_table(_engine(data_dir), topic))


@app.command()
def sources(data_dir: DataDir = None) -> None:
    """List the documents the fact base quotes."""
    out.print(sources_table(_engine(data_dir)))


def main() -> None:
    """Entry point of the `factbot` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (`factbot ask … | head`): nothing left to say
    except OSError as exc:
        err.print(f"factbot: {exc.strerror or exc}", markup=False)
        raise SystemExit(1) from None
