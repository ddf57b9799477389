"""The `factbot` command line: the typer app and its entry point, wiring settings, fact base and adapters together.

Each command lives in a small module of its own (ask, run, facts, reports, digest, platforms, evaluate): it opens
what it needs (bot.cli.common), calls one function and prints through bot.cli.output (whose tables
bot.cli.tables builds). Platform libraries are imported inside the commands that need them, so `factbot ask`
starts fast.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from bot.cli import ask, digest, evaluate, facts, output, platforms, reports, run

app = typer.Typer(
    help="Factbot answers questions from a curated fact base, quoting its source verbatim.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(shown: bool) -> None:
    """`--version`: print the installed Factbot's version and stop."""
    if shown:
        from importlib.metadata import version

        output.plain(f"factbot {version('factbot')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", metavar="", help="Print Factbot's version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Factbot answers questions from a curated fact base, quoting its source verbatim."""


# The order here is the order of `factbot --help`.
app.command()(ask.ask)
app.command()(ask.chat)
app.command()(run.run)
app.add_typer(platforms.slack_app, name="slack")
app.add_typer(platforms.discord_app, name="discord")
app.command()(reports.purge)
app.command()(reports.demo)
app.command()(facts.validate)
app.command()(facts.facts)
app.command()(facts.sources)
app.add_typer(digest.digest_app, name="digest")
app.add_typer(reports.report_app, name="report")
app.command()(reports.suggest)
app.command("eval")(evaluate.eval_command)


def main() -> None:
    """Entry point of the `factbot` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (`factbot ask … | head`): nothing left to say
    except OSError as exc:
        output.error(f"{exc.strerror or exc}")
        raise SystemExit(1) from None
