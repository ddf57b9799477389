"""`/why` at the core: explanations of the shipped fact base's decisions, and the per-channel memory of questions."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.explain import LastAsked, explain, explanation_text
from bot.matcher import MAX_CHARS
from bot.models import Status


def test_an_answer_names_its_example_runner_up_and_the_rule(engine: Engine) -> None:
    question = "how many votes did ismailov get"
    e = explain(engine, question)
    answer = engine.compose(question)
    assert (
        (e.status, e.intent, e.reason)
        == (answer.status, answer.intent, "clear")
        == (Status.answered, "loser-votes", "clear")
    )
    assert e.best is not None and e.runner_up is not None and e.margin is not None
    assert e.best.example in engine.base.intents["loser-votes"].examples
    assert e.score == answer.confidence
    assert e.margin == pytest.approx(e.best.score - e.runner_up.score, abs=1e-4)
    assert e.rule.startswith(f"confidence {e.score:.2f} ≥ answer threshold {e.thresholds.answer:.2f} and margin ")
    assert e.rule.endswith("≥ 0.005")
    text = explanation_text(e)
    first, *numbers = text.splitlines()
    assert first.startswith(
        f"I answered with “{e.best.question}” because your question matched the example "
        f"“{e.best.example}” closely; the next best, “{e.runner_up.question}”"
    )
    assert any(line.startswith(f"Runner-up: {e.runner_up.intent}") for line in numbers)
    t = engine.thresholds
    assert f"Thresholds: answer {t.answer:.2f} · clarify {t.clarify:.2f} · margin 0.005" in numbers


@pytest.mark.parametrize(
    ("question", "never_used"),
    [
        ("Where is the ITU headquartered?", ["headquartered"]),
        ("zzqx blorp", ["zzqx", "blorp"]),
    ],
)
def test_a_fallback_says_which_words_the_source_never_uses(
    engine: Engine, question: str, never_used: list[str]
) -> None:
    e = explain(engine, question)
    assert e.status is Status.fallback is engine.compose(question).status
    assert e.intent is None and e.unknown == never_used
    first = explanation_text(e).splitlines()[0]
    assert first.startswith("I didn't answer")
    assert all(f"“{word}”" in first for word in never_used)
    assert f"Words the fact base never uses: {', '.join(never_used)}" in explanation_text(e)


def test_a_clarify_names_the_close_runner_up(engine: Engine) -> None:
    e = explain(engine, "votes?")
    assert e.status is Status.clarify is engine.compose("votes?").status
    assert e.reason == "close" and e.best is not None and e.runner_up is not None
    assert e.margin is not None and e.margin < e.thresholds.margin
    assert "< 0.005 and the runner-up gives different facts" in e.rule
    first = explanation_text(e).splitlines()[0]
    assert e.best.question in first and e.runner_up.question in first and "almost equally well" in first


@pytest.mark.parametrize(
    ("question", "corrections"),
    [
        ("wat did ismailov gett in votse", {"gett": "get", "votse": "votes"}),
        ("who won the electoin", {"electoin": "election"}),
    ],
)
def test_typos_show_their_corrections(engine: Engine, question: str, corrections: dict[str, str]) -> None:
    e = explain(engine, question)
    assert corrections.items() <= e.corrections.items()
    line = next(x for x in explanation_text(e).splitlines() if x.startswith("Spelling corrections: "))
    assert all(f"{typo} → {fixed}" in line for typo, fixed in corrections.items())


def test_a_huge_question_says_it_was_cut(engine: Engine) -> None:
    e = explain(engine, "how many votes did ismailov get " * 3300)  # about 100 kB
    assert e.truncated and len(e.question) == MAX_CHARS
    assert f"Cut: only the first {MAX_CHARS} characters of a longer message were read." in explanation_text(e)


def test_small_talk_is_explained_as_such(engine: Engine) -> None:
    e = explain(engine, "hello")
    assert (e.status, e.intent, e.reason, e.best) == (Status.smalltalk, "greeting", "smalltalk", None)
    assert "small talk" in explanation_text(e).splitlines()[0]


@pytest.mark.parametrize(
    "question",
    [
        "who won the election",
        "what is the weather in paris",
        "vote",
        "ismailov",
        "how much did bogdan-martin win by",
        "thanks",
        "",
    ],
)
def test_the_explanation_agrees_with_the_answer(engine: Engine, question: str) -> None:
    e, answer = explain(engine, question), engine.compose(question)
    assert (e.status, e.intent) == (answer.status, answer.intent)


def test_last_asked_keeps_one_question_per_channel_and_forgets_the_oldest_channel() -> None:
    memory = LastAsked(size=2)
    memory.remember("C1", "first")
    memory.remember("C2", "second")
    memory.remember("C1", "again")
    memory.remember("C3", "third")
    assert [memory.last(c) for c in ("C1", "C2", "C3", "C4")] == ["again", None, "third", None]
    memory.remember("C1", "x" * 100_000)
    assert len(memory.last("C1") or "") == MAX_CHARS + 1


def test_a_question_without_a_word_of_the_source_is_explained(engine: Engine) -> None:
    e = explain(engine, "what time is it")
    assert e.status is Status.fallback and e.reason == "off-topic" and e.best is not None
    assert e.rule == "none of the question's terms occur in the text of the source that would answer it"
    assert "none of your words appear in the source that answers it" in explanation_text(e).splitlines()[0]
