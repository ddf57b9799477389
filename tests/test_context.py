"""Follow-ups: a question that points back is read with the conversation's last question, and says so."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.adapters.console import ConsoleAdapter
from bot.cli import app
from bot.context import FOLLOW_UP_SECONDS, Conversations, refers_back
from bot.engine import Engine
from bot.explain import explain
from bot.knowledge import FactBase
from bot.models import Status

WINNER = "who won the itu election?"


@pytest.fixture
def engine(shipped: FactBase) -> Engine:
    """A fresh engine: conversations are state, so no test sees another's."""
    return Engine(shipped)


@pytest.mark.parametrize(
    ("text", "points_back"),
    [
        ("and when was that?", True),
        ("who is she replacing?", True),
        ("the loser?", True),
        ("what about Russia", True),
        ("How many votes did Ismailov get in the ITU election?", False),
        ("", False),
    ],
)
def test_what_points_back(text: str, points_back: bool) -> None:
    assert refers_back(text) is points_back


@pytest.mark.parametrize(
    ("follow_up", "quote_holds"),
    [
        ("when was that?", "On 29 September"),
        ("and what post is that?", "Secretary-General"),
        ("how many votes did she get?", "139 votes"),
        ("and who did she beat?", "Ismailov"),
    ],
)
def test_a_follow_up_is_answered_in_the_light_of_the_question_before(
    engine: Engine, follow_up: str, quote_holds: str
) -> None:
    engine.respond(WINNER, conversation="c1")
    answer = engine.respond(follow_up, conversation="c1")
    assert answer.status is Status.answered and any(quote_holds in c.quote for c in answer.citations), answer


def test_an_answer_read_with_the_question_before_says_so(engine: Engine) -> None:
    engine.respond(WINNER, conversation="c1")
    answer = engine.respond("when was that?", conversation="c1")
    assert (answer.intent, answer.context) == ("election-date", WINNER)


def test_without_a_conversation_every_question_stands_alone(engine: Engine) -> None:
    engine.respond(WINNER)
    answer = engine.respond("and when was that?")
    assert answer.context is None and answer.intent != "election-date"


def test_conversations_do_not_mix(engine: Engine) -> None:
    engine.respond(WINNER, conversation="mine")
    assert engine.respond("and when was that?", conversation="yours").context is None


def test_a_follow_up_in_the_earlier_answer_s_own_words_may_be_answered_by_it(engine: Engine) -> None:
    """ "during which term?" uses only words of the Zhao intent, which says "in his second term": not set aside."""
    engine.respond("what did houlin zhao clash with the us over?", conversation="c10")
    answer = engine.respond("during which term?", conversation="c10")
    assert answer.status is Status.answered and answer.context is not None
    assert any("second term" in c.quote for c in answer.citations)


def test_a_bare_question_word_asks_about_the_question_before(engine: Engine) -> None:
    engine.respond(WINNER, conversation="c7")
    answer = engine.respond("and when?", conversation="c7")
    assert (answer.status, answer.context) == (Status.answered, WINNER)
    assert any("29 September" in c.quote for c in answer.citations)
    assert engine.respond("and when?").status is Status.smalltalk  # nothing before it to ask about
    engine.respond(WINNER, conversation="c8")
    why = engine.respond("why?", conversation="c8")
    assert why.status is not Status.smalltalk and why.context == WINNER and why.suggestions


def test_a_bare_why_offers_what_is_near_and_never_answers_an_earlier_question_again(engine: Engine) -> None:
    engine.respond(WINNER, conversation="c9")
    engine.respond("and when?", conversation="c9")
    before = engine.conversations.previous("c9")
    why = engine.respond("why?", conversation="c9")
    assert why.status is Status.clarify and why.citations == []
    assert "election-winner" in {s.intent for s in why.suggestions}
    explained = explain(engine, "why?", before)
    assert (explained.status, explained.reason) == (Status.clarify, "bare")


@pytest.mark.parametrize(
    "then", ["thanks!", "cool", "thanks, bye!", "who made you?", WINNER, "How many votes did Ismailov get?"]
)
def test_thanks_a_repeat_or_a_question_of_its_own_is_no_follow_up(engine: Engine, then: str) -> None:
    engine.respond(WINNER, conversation="c2")
    assert engine.respond(then, conversation="c2").context is None


def test_a_follow_up_to_a_follow_up_keeps_the_topic(engine: Engine) -> None:
    engine.respond(WINNER, conversation="c3")
    engine.respond("and when was that?", conversation="c3")
    answer = engine.respond("how many votes did she get?", conversation="c3")
    assert answer.status is Status.answered and any("139 votes" in c.quote for c in answer.citations)


def test_a_follow_up_not_answered_offers_the_answer_just_given_last(engine: Engine) -> None:
    engine.respond("who is bogdan-martin replacing", conversation="c5")
    answer = engine.respond("where's he from?", conversation="c5")
    assert answer.status is not Status.answered and answer.context == "who is bogdan-martin replacing"
    assert [s.intent for s in answer.suggestions][-1] == "predecessor"


def test_a_follow_up_the_source_does_not_cover_offers_what_is_near_the_conversation(engine: Engine) -> None:
    engine.respond("who is bogdan-martin replacing", conversation="c6")
    answer = engine.respond("and his salary?", conversation="c6")
    alone = engine.respond("and his salary?")
    assert answer.status is alone.status is Status.fallback
    offered, featured = {s.intent for s in answer.suggestions}, {s.intent for s in alone.suggestions}
    assert "predecessor" in offered and "predecessor" not in featured


def test_the_last_question_is_forgotten_after_a_few_minutes() -> None:
    now = [1000.0]
    conversations = Conversations(clock=lambda: now[0])
    conversations.remember("c", WINNER, "election-winner")
    assert conversations.previous("c") is not None
    now[0] += FOLLOW_UP_SECONDS + 1
    assert conversations.previous("c") is None


def test_only_so_many_conversations_are_remembered() -> None:
    conversations = Conversations(size=2)
    for name in ("a", "b", "c"):
        conversations.remember(name, WINNER, None)
    assert conversations.previous("a") is None and conversations.previous("c") is not None


def test_why_says_when_the_question_before_was_used(engine: Engine) -> None:
    engine.respond(WINNER, conversation="c4")
    previous = engine.conversations.previous("c4")
    explanation = explain(engine, "and when was that?", previous)
    assert explanation.context == WINNER and explanation.status is Status.answered
    assert f"I read your question as a follow-up to “{WINNER}”" in explanation_summary(engine, previous)
    assert explain(engine, "and when was that?").context is None


def explanation_summary(engine: Engine, previous: object) -> str:
    from bot.explain import explanation_text

    return explanation_text(explain(engine, "and when was that?", previous))  # type: ignore[arg-type]


async def test_the_terminal_chat_reads_follow_ups_and_explains_them(engine: Engine) -> None:
    console = ConsoleAdapter(engine)
    with console.console.capture() as captured:
        await console.handle(WINNER)
        await console.handle("and when was that?")
        await console.handle("/why")
    shown = " ".join(captured.get().split())
    assert "29 September" in shown
    assert f"(Read as a follow-up to “{WINNER}”.)" in shown
    assert f"I read your question as a follow-up to “{WINNER}”" in shown


def test_ask_lines_stay_independent(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", "--json"], input=f"{WINNER}\nand when was that?\n")
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [row["context"] for row in rows] == [None, None]
