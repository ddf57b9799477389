"""`factbot eval`: answer quality on labelled questions, and thresholds calibrated by cross-validation.

bot.evaluate does the scoring; this module reads the options and hands the results to bot.cli.output. It is
imported with the command line, bot.evaluate only when `factbot eval` runs, and matplotlib only with --plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml

from bot.cli import output
from bot.cli.common import DataDir, load_engine, load_settings
from bot.engine import Engine
from bot.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from bot import evaluate as evaluation


def eval_command(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Labelled questions (YAML: q, expect); default: the project's own set.", show_default=False
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", metavar="", help="Print the report (or calibration) as JSON.")
    ] = False,
    fail_under: Annotated[
        float | None,
        typer.Option("--fail-under", min=0.0, max=1.0, help="Exit 1 when accuracy or abstention is below this."),
    ] = None,
    plot_dir: Annotated[
        Path | None, typer.Option("--plot", help="Write confidence.png and coverage.png into this folder.")
    ] = None,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate", metavar="", help="Propose thresholds by 5-fold cross-validation, with the trade-off."
        ),
    ] = False,
    write: Annotated[
        bool,
        typer.Option(
            "--write", metavar="", help="With --calibrate, write the proposal into .env in the working folder."
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Measure answer quality on labelled questions: accuracy, abstention, misses; --calibrate the thresholds."""
    from bot import evaluate as evaluation

    engine = load_engine(data_dir)
    path = _eval_file(file, data_dir)
    items = _eval_items(path, engine)
    if calibrate:
        _calibrate(engine, items, as_json=as_json, write=write)
        return
    if write:
        raise typer.BadParameter("only with --calibrate", param_hint="--write")
    ranked = evaluation.rank_all(engine, items)
    report = evaluation.evaluate(engine, items, ranked=ranked)
    output.quality(report, path, as_json=as_json)
    if plot_dir is not None:
        _eval_plots(engine, ranked, plot_dir)
    if fail_under is not None and min(report.accuracy, report.abstention) < fail_under:
        scores = f"accuracy {report.accuracy:.1%} / abstention {report.abstention:.1%}"
        output.fail(f"{scores} is below --fail-under {fail_under:.1%}")


def _eval_file(path: Path | None, data_dir: Path | None) -> Path:
    """The labelled file: the one given, else the fact base's tests/data/eval.yaml, else the shipped one."""
    if path is not None:
        return path
    own = load_settings(data_dir).data_dir / "tests" / "data" / "eval.yaml"
    return own if own.is_file() else PROJECT_ROOT / "tests" / "data" / "eval.yaml"


def _eval_items(path: Path, engine: Engine) -> list[evaluation.Item]:
    """The labelled questions, or stop with one line saying what is wrong with the file."""
    from bot import evaluate as evaluation

    try:
        items = evaluation.load_items(path, engine.base)
    except (OSError, ValueError, KeyError, yaml.YAMLError) as exc:  # pydantic's ValidationError is a ValueError
        output.fail(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}", 2)
    unknown = evaluation.unknown_intents(engine, items)
    if unknown:
        output.fail(f"{path} names intents the fact base lacks: {', '.join(unknown)}", 2)
    return items


def _eval_plots(engine: Engine, ranked: list[evaluation.Ranked], folder: Path) -> None:
    """Draw both charts, or say in one line why they could not be written."""
    from bot import evaluate as evaluation

    try:
        paths = evaluation.plot(engine, ranked, folder)
    except (OSError, ValueError) as exc:
        output.fail(f"cannot write charts to {folder}: {getattr(exc, 'strerror', None) or exc}")
    for path in paths:
        output.wrote("Chart", path)


def _calibrate(engine: Engine, items: list[evaluation.Item], *, as_json: bool, write: bool) -> None:
    """Print the proposed thresholds, the held-out numbers and the trade-off; write .env when asked."""
    from bot import evaluate as evaluation

    found = evaluation.calibrate(engine, items)
    output.calibration(found, as_json=as_json)
    if write:
        target = Path.cwd() / ".env"
        evaluation.write_thresholds(target, found.proposed)
        output.wrote("Thresholds", target)
    elif not as_json:
        output.calibration_hint()
