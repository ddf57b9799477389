"""The decision's thresholds are read off the fact base loaded, unless the settings fix them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from bot import bank, calibrate, matcher
from bot import evaluate as evaluation
from bot.calibrate import Thresholds, resolve
from bot.cli import app
from bot.engine import Engine
from bot.explain import explain, explanation_text, summary
from bot.knowledge import FactBase, load_factbase
from bot.matcher import Candidate, Matcher, Ranking
from bot.models import Status
from bot.settings import PROJECT_ROOT
from tests.conftest import REQUESTS


def test_each_fact_base_gets_thresholds_of_its_own(shipped: FactBase, tiny: Path) -> None:
    shipped_thresholds = Engine(shipped).thresholds
    tiny_thresholds = Engine(load_factbase(tiny)).thresholds
    assert shipped_thresholds != tiny_thresholds
    for t in (shipped_thresholds, tiny_thresholds):
        assert 0 < t.clarify <= t.answer < 1 and t.margin == calibrate.DEFAULT_MARGIN


def test_thresholds_given_are_used_as_given(shipped: FactBase) -> None:
    fixed = Thresholds(0.9, 0.2, 0.01)
    assert Engine(shipped, thresholds=fixed).thresholds == fixed


def test_one_threshold_given_the_other_is_read_off(shipped: FactBase) -> None:
    measured = calibrate.measure(Matcher(shipped))
    assert resolve(measured) == measured
    assert resolve(measured, answer=0.95).answer == 0.95
    assert resolve(measured, answer=0.95).clarify == measured.clarify
    assert resolve(measured, answer=0.1).clarify == 0.1, "clarify is never above answer"


def test_a_fact_base_too_small_to_measure_keeps_the_defaults(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibrate, "MINIMUM", 10_000)
    t = Engine(load_factbase(tiny)).thresholds
    assert (t.answer, t.clarify) == (calibrate.DEFAULT_ANSWER, calibrate.DEFAULT_CLARIFY)


def test_an_example_left_out_no_longer_matches_itself(shipped: FactBase) -> None:
    matcher = Matcher(shipped)
    index, (intent, text) = next((n, e) for n, e in enumerate(matcher.examples) if len(e[1].split()) > 3)
    assert matcher.rank(text).best is not None and matcher.rank(text).best.score == 1.0
    left_out = matcher.rank(text, leave_out=index)
    assert left_out.best is not None and left_out.best.score < 1.0


def test_the_fact_base_s_own_phrasings_mostly_rank_their_intent_first(shipped: FactBase) -> None:
    scores, _ = calibrate.own_phrasings(Matcher(shipped))
    assert len(scores) >= 0.7 * min(calibrate.SAMPLE, sum(len(i.examples) for i in shipped.intents.values()))


def test_the_settings_can_fix_the_thresholds(runner: CliRunner, tmp_path: Path) -> None:
    Path(".env").write_text("FACTBOT_ANSWER_THRESHOLD=0.99\nFACTBOT_CLARIFY_THRESHOLD=0.98\n", encoding="utf-8")
    result = runner.invoke(app, ["ask", "--why", "Who won the ITU election?"])
    assert "Thresholds: answer 0.99 · clarify 0.98" in result.output


def test_matching_goes_on_by_words_alone_without_word_vectors(shipped: FactBase) -> None:
    matcher = Matcher(shipped, vectors=False)
    ranking = matcher.rank("How many votes did Ismailov get?")
    assert ranking.best is not None and ranking.best.intent == "loser-votes" and ranking.best.meaning == 0.0
    engine = Engine(shipped)
    engine.matcher = matcher
    assert engine.compose("How many votes did Ismailov get?").status is Status.answered


def test_one_setting_fixes_one_threshold(runner: CliRunner, engine: Engine) -> None:
    Path(".env").write_text("FACTBOT_ANSWER_THRESHOLD=0.99\n", encoding="utf-8")
    result = runner.invoke(app, ["ask", "--why", "Who won the ITU election?"])
    assert f"Thresholds: answer 0.99 · clarify {engine.thresholds.clarify:.2f}" in result.output


def test_a_fact_base_the_bank_comes_near_gets_a_meaning_floor(requests_engine: Engine, shipped: FactBase) -> None:
    assert requests_engine.thresholds.meaning > calibrate.NO_FLOOR
    assert Engine(shipped).thresholds.meaning == calibrate.NO_FLOOR, "no bank question comes near the article"


def test_where_agreement_answers_there_is_always_a_meaning_floor() -> None:
    """Nothing from outside comes near: the choice alone would take no floor, which agreement would not survive."""
    meaning = np.linspace(0.2, 0.9, 100)
    right = np.column_stack([np.full(100, 0.8), meaning])
    nothing, outside = np.zeros((0, 2)), np.column_stack([np.zeros(50), np.full(50, calibrate.NO_FLOOR)])
    assert calibrate.separating(right, nothing, outside, 0.5)[1] == calibrate.NO_FLOOR
    quantiles = [q for q in calibrate.MEANING_QUANTILES if q >= calibrate.LEAST_AGREEING_FLOOR]
    floor = calibrate.separating(right, nothing, outside, 0.5, quantiles)[1]
    assert floor == pytest.approx(np.percentile(meaning, calibrate.LEAST_AGREEING_FLOOR))


SCORE_OWN_PHRASINGS = f"""
from pathlib import Path
from bot import calibrate
from bot.knowledge import load_factbase
from bot.matcher import Matcher
matcher = Matcher(load_factbase(Path({str(REQUESTS)!r})))
print(calibrate.own_phrasings(matcher), calibrate.bank_scores(matcher))
"""


def test_a_fact_base_is_calibrated_alike_in_every_process() -> None:
    """Each Python process orders a set of words its own way: what calibration reads off must not depend on it."""
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", SCORE_OWN_PHRASINGS],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2, 3)
    ]
    outputs = {run.communicate(timeout=120)[0] for run in runs}
    assert all(run.returncode == 0 for run in runs)
    assert len(outputs) == 1


def test_a_question_sharing_words_but_not_meaning_is_not_answered(requests_engine: Engine) -> None:
    assert requests_engine.compose("dim the lights in the kitchen please").intent == "dim_lights"
    assert requests_engine.compose("dim the lights in the kitchen please").status is Status.answered
    far = explain(requests_engine, "what's the speed of light")
    assert far.status is Status.fallback and far.reason == "unlike"
    assert "not near it in meaning" in summary(far)
    assert f"meaning {requests_engine.thresholds.meaning:.2f}" in explanation_text(far)


def test_an_intent_asked_in_ways_far_apart_has_a_lower_meaning_floor(requests_engine: Engine) -> None:
    """“Find a hotel” is asked as “a room for two nights in nashville”: its own phrasings are that far apart."""
    floor = requests_engine.thresholds.meaning
    assert requests_engine.floor("find_hotel") < floor
    assert all(requests_engine.floor(intent) <= floor for intent in requests_engine.base.intents), "never raised"
    ranking = requests_engine.matcher.rank("a room for two nights in nashville")
    assert ranking.best is not None and requests_engine.floor("find_hotel") <= ranking.best.meaning < floor
    why = explain(requests_engine, "a room for two nights in nashville")
    assert (why.status, why.intent) == (Status.answered, "find_hotel")
    assert why.thresholds.meaning == requests_engine.floor("find_hotel"), "the floor the answer cleared"


def test_calibrating_on_labelled_questions_keeps_the_meaning_floor(requests_engine: Engine) -> None:
    items = [evaluation.Item(q="turn the lamps down", expect=["dim_lights"], group="answerable")]
    fitted = evaluation.fit(requests_engine, evaluation.rank_all(requests_engine, items))
    assert (fitted.meaning, fitted.agree) == (requests_engine.thresholds.meaning, requests_engine.thresholds.agree)


def test_everyday_requests_agreeing_in_words_and_meaning_are_answered(requests_engine: Engine) -> None:
    assert requests_engine.thresholds.agree
    why = explain(requests_engine, "countdown ten minutes")
    assert why.confidence < requests_engine.thresholds.answer, "words alone match it only loosely"
    assert (why.status, why.intent, why.reason) == (Status.answered, "set_kitchen_timer", "agreed")
    assert "it is also the nearest in meaning" in summary(why)
    assert "the best match is also the nearest in meaning" in why.rule


def test_words_and_meaning_agreeing_break_a_tie_with_the_runner_up(requests_engine: Engine) -> None:
    """Two requests score within the margin: where the best is also the nearest in meaning, meaning tells them apart."""
    best = Candidate("set_thermostat", 0.500, "make it warmer in here", 1.0, 0.5, 0.8)
    runner = Candidate("check_energy_usage", 0.499, "how much energy did the heating use", 1.0, 0.5, 0.6)
    agreeing = Ranking(("heat",), ("heat",), (), {}, False, [best, runner], 0.0, ("set_thermostat",), 0.2)
    assert best.score - runner.score < requests_engine.thresholds.margin
    assert requests_engine.decide(agreeing) is Status.answered
    assert requests_engine.decide(replace(agreeing, meaning_lead=None)) is Status.clarify, "a tie, nothing to break it"


def test_an_evaluation_report_names_the_floor_and_agreement_where_they_apply(
    requests_engine: Engine, engine: Engine
) -> None:
    items = [evaluation.Item(q="countdown ten minutes", expect=["set_kitchen_timer"], group="answerable")]
    everyday = evaluation.evaluate(requests_engine, items).thresholds
    assert everyday["meaning"] == requests_engine.thresholds.meaning and everyday["agree"] == 1.0
    assert {"meaning", "agree"}.isdisjoint(evaluation.evaluate(engine, items).thresholds)


def test_everyday_requests_are_told_apart_by_how_they_are_put(
    requests_engine: Engine, shipped: FactBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """“On the list” is how a grocery item is asked for; a packing list shares only its topic word."""
    question = "need more paper towels on the list"
    assert requests_engine.matcher.everyday and not Matcher(shipped).everyday
    assert requests_engine.matcher.rank(question).candidates[0].intent == "add_grocery_item"
    monkeypatch.setattr(matcher, "PHRASING_SHARE", 0.0)
    assert requests_engine.matcher.rank(question).candidates[0].intent == "packing_list", "by topic words alone"


def test_everyday_requests_put_in_words_of_their_own_rank_by_meaning(
    requests_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """“Budget plan” shares “budget” with setting a budget and “plan” with planning meals; in meaning it is money."""
    question = "budget plan"
    assert requests_engine.compose(question).intent == "set_budget"
    monkeypatch.setattr(matcher, "EVERYDAY_MEANING_SHARE", matcher.MEANING_SHARE)
    assert requests_engine.matcher.rank(question).candidates[0].intent == "plan_meals", "as in a document"


def test_an_everyday_request_in_no_word_of_the_source_is_answered_when_near_enough_in_meaning(
    requests_engine: Engine,
) -> None:
    ranking = requests_engine.matcher.rank("creditworthiness")
    assert ranking.terms and not ranking.topical, "no word of the source"
    answer = requests_engine.compose("creditworthiness")
    assert (answer.status, answer.intent) == (Status.answered, "check_credit_score")
    why = explain(requests_engine, "creditworthiness")
    assert why.reason == "meant" and "uses no word of my source" in summary(why)


WHERE_AM_I = [
    "where am i",
    "where are we",
    "where am i now",
    "where are we at",
    "tell me where i am",
    "where am i at",
    "where are we now",
    "say where i am",
]


def _with_request(root: Path, request: str, examples: list[str]) -> Path:
    """A copy of the everyday requests in `root`, with one more request asked in `examples`."""
    shutil.copytree(REQUESTS, root)
    label = f"This is about {request.replace('_', ' ')}."
    with (root / "seeds" / "requests.txt").open("a", encoding="utf-8") as seed:
        seed.write("\n" + " ".join([label, *(f"{e.capitalize()}." for e in examples)]) + "\n")
    fact = {"id": request, "source": "requests", "quote": label, "answer": label, "topics": [request]}
    intent = {"id": request, "facts": [request], "examples": examples}
    for path, key, record in (
        (root / "knowledge" / "facts" / "requests.yaml", "facts", fact),
        (root / "intents" / "requests.yaml", "intents", intent),
    ):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data[key].append(record)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root


def test_an_everyday_request_in_words_that_carry_no_topic_is_answered_by_meaning(
    requests_engine: Engine, tmp_path: Path
) -> None:
    """“Can you tell me where I am” has no word to look up: small talk, unless the fact base is asked just that."""
    question = "can you tell me where i am"
    assert requests_engine.respond(question).status is Status.smalltalk, "no request of the kind"
    located = Engine(load_factbase(_with_request(tmp_path / "requests", "current_location", WHERE_AM_I)))
    assert located.matcher.everyday and not located.matcher.rank(question).terms
    answer = located.respond(question)
    assert (answer.status, answer.intent) == (Status.answered, "current_location")
    assert explain(located, question).reason == "meant"
    assert located.respond("hey there, how's it going?").status is Status.smalltalk, "small talk stays small talk"


def test_a_document_is_not_answered_on_agreement(shipped: FactBase) -> None:
    """Near-topic questions are as near their intent in meaning as answerable ones: only the thresholds answer."""
    assert not Engine(shipped).thresholds.agree


def test_an_answer_threshold_set_is_the_only_way_to_an_answer(requests_engine: Engine) -> None:
    assert not resolve(calibrate.measure(requests_engine.matcher), answer=0.5).agree


def test_a_fact_base_is_as_wary_as_its_most_specialised_source(tmp_path: Path, requests_engine: Engine) -> None:
    """Everyday questions reaching a document of everyday requests do not make the article beside it less wary."""
    for folder in (PROJECT_ROOT, REQUESTS):
        for part in ("seeds", "knowledge/facts", "intents"):
            shutil.copytree(folder / part, tmp_path / part, dirs_exist_ok=True)
    shutil.copy(PROJECT_ROOT / "knowledge" / "synonyms.yaml", tmp_path / "knowledge")
    sources = [yaml.safe_load((f / "knowledge" / "sources.yaml").read_text("utf-8")) for f in (PROJECT_ROOT, REQUESTS)]
    both = {"sources": [s for data in sources for s in data["sources"]]}
    (tmp_path / "knowledge" / "sources.yaml").write_text(yaml.safe_dump(both), encoding="utf-8")
    alone = Matcher(load_factbase(PROJECT_ROOT))
    together = Matcher(load_factbase(tmp_path))
    assert bank.least_reach(together) == pytest.approx(bank.least_reach(alone), abs=0.05)
    assert bank.least_reach(requests_engine.matcher) > bank.least_reach(alone) + 0.2
