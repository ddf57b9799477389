"""The calibration kept between runs (bot.cli.calibration): read back on the same fact base and release,
measured afresh on any change, and never an error when the cache folder fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app, calibration
from bot.engine import Engine
from bot.knowledge import load_factbase
from bot.settings import PROJECT_ROOT

WINNER = "Who won the ITU election?"


def kept(folder: Path) -> list[Path]:
    """The calibrations kept in a cache folder."""
    return sorted(folder.glob(f"{calibration.PREFIX}*.json"))


def ask(runner: CliRunner, *args: str) -> str:
    """`factbot ask --why ARGS`'s output; it must succeed."""
    result = runner.invoke(app, ["ask", "--why", *args])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def thresholds_line(output: str) -> str:
    """The line of `--why` that gives the thresholds in force."""
    return next(line for line in output.splitlines() if line.startswith("Thresholds:"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of the test's own."""
    folder = tmp_path / "factbot-cache"
    monkeypatch.setenv("FACTBOT_CACHE_DIR", str(folder))
    return folder


def test_the_first_start_keeps_what_it_measured_and_the_next_reads_it(runner: CliRunner, cache: Path) -> None:
    first = ask(runner, WINNER)
    [file] = kept(cache)
    measured = Engine(load_factbase(PROJECT_ROOT)).calibration
    assert measured is not None
    assert json.loads(file.read_text()) == {"reach": measured.reach, "measured": vars(measured.measured)}
    assert ask(runner, WINNER) == first
    assert kept(cache) == [file]


def test_a_calibration_read_back_gives_the_engine_measuring_afresh(engine: Engine) -> None:
    again = Engine(engine.base, calibration=engine.calibration)
    assert again.thresholds == engine.thresholds
    assert (again.matcher.reach, again.matcher.everyday) == (engine.matcher.reach, engine.matcher.everyday)
    for question in (WINNER, "and the loser got how many?", "what's the weather in Rome", "wh0 w0n"):
        assert again.compose(question) == engine.compose(question)


def test_a_changed_fact_base_is_measured_afresh(runner: CliRunner, cache: Path, tmp_path: Path) -> None:
    copy = tmp_path / "base"
    for part in ("knowledge", "intents", "seeds"):
        shutil.copytree(PROJECT_ROOT / part, copy / part)
    ask(runner, "--data-dir", str(copy), WINNER)
    path = copy / "intents" / "election.yaml"
    data = yaml.safe_load(path.read_text())
    data["intents"][0]["examples"].append("tell me about the vote in Bucharest")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    ask(runner, "--data-dir", str(copy), WINNER)
    assert len(kept(cache)) == 2


GOOD = {"answer": 0.5, "clarify": 0.2, "margin": 0.005, "meaning": -1.0, "agree": False}


@pytest.mark.parametrize(
    "damage",
    [
        "{not json",
        "",
        "[]",
        '{"reach": 0.3}',
        '{"reach": "far", "measured": {"answer": 0.5}}',
        json.dumps({"reach": 0.3, "measured": {**GOOD, "agree": "yes"}}),
        json.dumps({"reach": 0.3, "measured": {**GOOD, "answer": "high"}}),
        json.dumps({"reach": float("nan"), "measured": GOOD}),
        json.dumps({"reach": 7, "measured": GOOD}),
    ],
)
def test_a_damaged_calibration_is_not_read(tmp_path: Path, damage: str) -> None:
    (tmp_path / f"{calibration.PREFIX}key.json").write_text(damage)
    assert calibration.read(tmp_path, "key") is None


def test_a_damaged_calibration_is_measured_again_and_replaced(runner: CliRunner, cache: Path) -> None:
    first = ask(runner, WINNER)
    [file] = kept(cache)
    file.write_text('{"reach": 0.3}')
    assert ask(runner, WINNER) == first
    assert calibration.read(cache, file.stem.removeprefix(calibration.PREFIX)) is not None


def test_a_cache_folder_that_cannot_be_written_still_answers(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FACTBOT_CACHE_DIR", str(blocker / "cache"))
    assert "Bogdan-Martin" in ask(runner, WINNER)


def test_an_empty_cache_setting_measures_at_every_start(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTBOT_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    on = thresholds_line(ask(runner, WINNER))
    assert not (tmp_path / "xdg").exists() and not (tmp_path / "home").exists()
    monkeypatch.delenv("FACTBOT_CACHE_DIR")
    assert thresholds_line(ask(runner, WINNER)) == on
    assert len(kept(tmp_path / "xdg" / "factbot")) == 1, "the default folder follows XDG_CACHE_HOME"


def test_only_the_newest_calibrations_are_kept(engine: Engine, tmp_path: Path) -> None:
    assert engine.calibration is not None
    for number in range(calibration.KEPT + 3):
        calibration.write(tmp_path, f"{number:04}", engine.calibration)
    names = [p.name for p in kept(tmp_path)]
    assert len(names) == calibration.KEPT
    assert f"{calibration.PREFIX}{calibration.KEPT + 2:04}.json" in names
    assert calibration.read(tmp_path, f"{calibration.KEPT + 2:04}") == engine.calibration
    assert list(tmp_path.glob(".*")) == [], "no partial file is left behind"
