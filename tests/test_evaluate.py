"""`bot.evaluate` and `factbot eval`: the numbers on a hand-made set, calibration, the CLI, and the CI gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import evaluate as evaluation
from bot.cli import app
from bot.engine import Engine, Thresholds
from bot.evaluate import Item, Report
from bot.knowledge import load_factbase
from bot.models import Status
from bot.settings import PROJECT_ROOT

SHIPPED_SET = PROJECT_ROOT / "tests" / "data" / "eval.yaml"

# What the shipped set reaches today (85.6% and 93.9%), a point or two below; a change that lowers one fails here.
FLOORS = {"accuracy": 0.84, "abstention": 0.93}

TINY_SET = """\
questions:
  - {q: when was the lighthouse built, expect: built}
  - {q: who wrote the story, expect: author}
  - {q: what is the lighthouse made of, expect: [built, keeper]}
  - {q: who kept the light, expect: keeper}
  - {q: mara quill lighthouse granite, expect: built}
  - {q: where is gull rock, expect: none, group: near_topic}
  - {q: how do i bake bread, expect: none, group: unrelated}
  - {q: how tall is the lighthouse, expect: none, group: near_topic}
  - {q: hello, expect: none, group: unrelated}
"""
TINY_THRESHOLDS = Thresholds(answer=0.15, clarify=0.05, margin=0.005)


@pytest.fixture
def tiny_set(tmp_path: Path) -> Path:
    """The hand-made labelled set for the tiny fact base, as a file."""
    path = tmp_path / "tiny-eval.yaml"
    path.write_text(TINY_SET, encoding="utf-8")
    return path


@pytest.fixture
def tiny_report(tiny: Path, tiny_set: Path) -> Report:
    """The tiny set scored with thresholds low enough to make every kind of mistake."""
    engine = Engine(load_factbase(tiny), thresholds=TINY_THRESHOLDS)
    return evaluation.evaluate(engine, evaluation.load_items(tiny_set))


@pytest.fixture(scope="module")
def shipped_items() -> list[Item]:
    """The project's own labelled set."""
    return evaluation.load_items(SHIPPED_SET)


# -- the labelled file ------------------------------------------------------------------------------


def test_questions_labelled_by_quotation_become_intent_labels(tmp_path: Path, tiny: Path) -> None:
    path = tmp_path / "quoted.yaml"
    path.write_text(
        "answerable:\n  - {q: when was the lighthouse built, expect: built in 1871}\n"
        "near_topic:\n  - q: where is gull rock\nunrelated:\n  - q: how do i bake bread\n",
        encoding="utf-8",
    )
    items = evaluation.load_items(path, load_factbase(tiny))
    assert [(i.q, i.expect, i.group) for i in items] == [
        ("when was the lighthouse built", ["built"], "answerable"),
        ("where is gull rock", [], "near_topic"),
        ("how do i bake bread", [], "unrelated"),
    ]


@pytest.mark.parametrize(
    ("expect", "parsed", "in_scope"),
    [("built", ["built"], True), (["a", "b"], ["a", "b"], True), ("none", [], False), (None, [], False)],
)
def test_expect_forms(expect: object, parsed: list[str], in_scope: bool) -> None:
    item = Item.model_validate({"q": "?", "expect": expect})
    assert (item.expect, item.in_scope) == (parsed, in_scope)


def test_a_plain_list_reads_like_a_questions_key(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text("- {q: who, expect: author}\n- {q: why, expect: none}\n", encoding="utf-8")
    assert [i.expect for i in evaluation.load_items(path)] == [["author"], []]


# -- the numbers on a hand-made set --------------------------------------------------------------------


def test_tiny_summary(tiny_report: Report) -> None:
    assert (tiny_report.questions, tiny_report.in_scope, tiny_report.must_not_answer) == (9, 5, 4)
    assert tiny_report.accuracy == pytest.approx(3 / 5)
    assert tiny_report.abstention == pytest.approx(3 / 4)
    assert tiny_report.clarify_rate == pytest.approx(1 / 9)
    assert tiny_report.thresholds == {"answer": 0.15, "clarify": 0.05, "margin": 0.005}


@pytest.mark.parametrize(
    ("intent", "support", "answered", "right", "precision", "recall"),
    [("built", 3, 3, 2, 2 / 3, 2 / 3), ("keeper", 1, 1, 0, 0.0, 0.0), ("author", 1, 1, 1, 1.0, 1.0)],
)
def test_tiny_per_intent(
    tiny_report: Report, intent: str, support: int, answered: int, right: int, precision: float, recall: float
) -> None:
    row = next(r for r in tiny_report.intents if r.intent == intent)
    assert (row.support, row.answered, row.right) == (support, answered, right)
    assert (row.precision, row.recall) == (pytest.approx(precision), pytest.approx(recall))


def test_tiny_worst_intent_comes_first(tiny_report: Report) -> None:
    assert tiny_report.intents[0].intent == "keeper"
    assert tiny_report.intents[0].f1 == 0.0


def test_tiny_confusions_and_misses(tiny_report: Report) -> None:
    assert [(c.expected, c.got, c.count) for c in tiny_report.confused] == [("built", "keeper", 1)]
    misses = {m.q: m for m in tiny_report.misses}
    assert set(misses) == {"who kept the light", "mara quill lighthouse granite", "where is gull rock"}
    wrong = misses["mara quill lighthouse granite"]
    assert (wrong.status, wrong.intent, wrong.runner_up) == (Status.answered, "keeper", "built")
    assert wrong.score > wrong.runner_up_score  # type: ignore[operator]
    assert misses["where is gull rock"].expect == []


def test_tiny_groups(tiny_report: Report) -> None:
    rates = {g.group: (g.right, g.total) for g in tiny_report.groups}
    assert rates == {"answerable": (3, 5), "near_topic": (1, 2), "unrelated": (2, 2)}


def test_evaluate_matches_compose(engine: Engine, shipped_items: list[Item]) -> None:
    """Re-deciding a ranking gives what the engine would answer."""
    for item in shipped_items[::10]:
        ranked = evaluation.rank_all(engine, [item])[0]
        assert evaluation.status_of(engine, ranked) is engine.compose(item.q).status


def test_evaluate_writes_nothing_to_the_store(engine: Engine, shipped_items: list[Item]) -> None:
    queued = engine.writes.pending
    evaluation.evaluate(engine, shipped_items[:20])
    assert engine.writes.pending == queued


# -- the shipped set and the CI gate --------------------------------------------------------------------


def test_shipped_set_is_large_enough(shipped_items: list[Item]) -> None:
    must_not = [i for i in shipped_items if not i.in_scope]
    assert len(shipped_items) >= 300
    assert len(must_not) >= 80
    assert sum(i.group == "near_topic" for i in must_not) >= 40  # half of them near the topic


def test_shipped_labels_name_real_intents(engine: Engine, shipped_items: list[Item]) -> None:
    assert evaluation.unknown_intents(engine, shipped_items) == []


@pytest.fixture(scope="module")
def shipped_report(engine: Engine, shipped_items: list[Item]) -> Report:
    """The shipped engine on the shipped set."""
    return evaluation.evaluate(engine, shipped_items)


@pytest.mark.parametrize("measure", sorted(FLOORS))
def test_quality_does_not_drop(shipped_report: Report, measure: str) -> None:
    misses = "\n".join(f"{m.status.value} {m.intent} {m.score:.2f} <- {m.q}" for m in shipped_report.misses)
    assert getattr(shipped_report, measure) >= FLOORS[measure], misses


def test_no_unrelated_question_is_answered(shipped_report: Report) -> None:
    assert next(g for g in shipped_report.groups if g.group == "unrelated").rate == 1.0


# -- calibration ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def calibration(engine: Engine, shipped_items: list[Item]) -> evaluation.Calibration:
    """Cross-validated thresholds for the shipped set."""
    return evaluation.calibrate(engine, shipped_items, folds=5, seed=0)


def test_calibration_proposes_thresholds_from_the_grid(calibration: evaluation.Calibration) -> None:
    proposed = calibration.proposed
    assert proposed.answer in evaluation.ANSWER_GRID
    assert proposed.margin in evaluation.MARGIN_GRID
    assert proposed.clarify <= proposed.answer
    assert len(calibration.folds) == 5
    assert sum(f.held_out for f in calibration.folds) == 306


def test_calibration_reports_held_out_numbers(calibration: evaluation.Calibration) -> None:
    held = calibration.held_out
    assert held.unrelated_abstention == 1.0
    assert held.accuracy + held.abstention >= FLOORS["accuracy"] + FLOORS["abstention"] - 0.07  # what it maximises
    assert [p.answer for p in calibration.trade_off] == list(evaluation.TRADE_OFF)


def test_calibration_is_repeatable(engine: Engine, shipped_items: list[Item]) -> None:
    again = evaluation.calibrate(engine, shipped_items[::2], folds=3, seed=1)
    assert again == evaluation.calibrate(engine, shipped_items[::2], folds=3, seed=1)


def test_higher_answer_threshold_answers_less(calibration: evaluation.Calibration) -> None:
    coverage = [p.coverage for p in calibration.trade_off]
    assert coverage == sorted(coverage, reverse=True)


def test_write_thresholds_updates_in_place(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("# mine\nFACTBOT_DB_URL=sqlite:///x.db\nFACTBOT_ANSWER_THRESHOLD=0.9\n", encoding="utf-8")
    evaluation.write_thresholds(env, Thresholds(0.725, 0.5, 0.01))
    assert env.read_text(encoding="utf-8").splitlines() == [
        "# mine",
        "FACTBOT_DB_URL=sqlite:///x.db",
        "FACTBOT_ANSWER_THRESHOLD=0.725",
        "FACTBOT_CLARIFY_THRESHOLD=0.5",
        "FACTBOT_CLARIFY_MARGIN=0.01",
    ]


# -- the CLI -------------------------------------------------------------------------------------------------


def test_cli_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["questions"] >= 300
    assert report["accuracy"] >= FLOORS["accuracy"]


def test_cli_readable(runner: CliRunner, tiny: Path, tiny_set: Path) -> None:
    Path(".env").write_text("FACTBOT_ANSWER_THRESHOLD=0.15\nFACTBOT_CLARIFY_THRESHOLD=0.05\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(tiny_set), "--data-dir", str(tiny)])
    assert result.exit_code == 0, result.output
    for words in ("in-scope accuracy", "60.0%", "75.0%", "Worst", "built", "keeper", "Misses (3)", "runner-up"):
        assert words in result.output


@pytest.mark.parametrize(("floor", "code"), [("0.5", 0), ("0.99", 1)])
def test_cli_fail_under(runner: CliRunner, floor: str, code: int) -> None:
    result = runner.invoke(app, ["eval", "--json", "--fail-under", floor])
    assert result.exit_code == code, result.output


def test_cli_plot(runner: CliRunner, tmp_path: Path, tiny: Path, tiny_set: Path) -> None:
    charts = tmp_path / "charts"
    result = runner.invoke(app, ["eval", str(tiny_set), "--data-dir", str(tiny), "--plot", str(charts)])
    assert result.exit_code == 0, result.output
    for name in ("confidence.png", "coverage.png"):
        assert (charts / name).read_bytes().startswith(b"\x89PNG")


def test_cli_calibrate_without_write_leaves_env_alone(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", "--calibrate"])
    assert result.exit_code == 0, result.output
    assert "Proposed" in result.output and "Held out" in result.output and "Trade-off" in result.output
    assert not Path(".env").exists()


def test_cli_calibrate_write(runner: CliRunner, calibration: evaluation.Calibration) -> None:
    Path(".env").write_text("FACTBOT_LOG_QUESTIONS=false\nFACTBOT_CLARIFY_MARGIN=0.3\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", "--calibrate", "--write", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["proposed"]["answer"] == calibration.proposed.answer
    lines = Path(".env").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "FACTBOT_LOG_QUESTIONS=false"
    assert lines[1] == f"FACTBOT_CLARIFY_MARGIN={calibration.proposed.margin:g}"
    assert f"FACTBOT_ANSWER_THRESHOLD={calibration.proposed.answer:g}" in lines


def test_cli_write_needs_calibrate(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", "--write"])
    assert result.exit_code == 2
    assert not Path(".env").exists()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("- {q: who, expect: lighthouse-colour}\n", "lighthouse-colour"),
        ("q: [unclosed\n", "cannot"),
        ("[]\n", "no questions"),
        ("answerable:\n  - {q: how tall, expect: 40 metres}\n", "no fact quotes '40 metres'"),
    ],
)
def test_cli_bad_file(runner: CliRunner, tmp_path: Path, tiny: Path, text: str, says: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["eval", str(path), "--data-dir", str(tiny)])
    assert result.exit_code == 2
    assert says in result.output
