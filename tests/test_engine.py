"""The engine's decisions and the Answer contract, on the shipped fact base and the tiny one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot import matcher
from bot.engine import SUGGESTIONS, Engine
from bot.knowledge import load_factbase
from bot.matcher import MAX_CHARS, question_type
from bot.models import Answer, Question, Status

CONTRACT = {"question", "status", "intent", "confidence", "answer", "citations", "suggestions"}
CITATION = {"fact_id", "source_id", "title", "author", "publisher", "url", "quote", "paragraph", "note"}


async def test_answer_is_the_one_async_seam(engine: Engine) -> None:
    answer = await engine.answer(Question(text="Who won the ITU election?", platform="test"))
    assert answer.status is Status.answered
    assert "Bogdan-Martin" in answer.answer


def test_json_contract_fields(engine: Engine) -> None:
    data = json.loads(engine.respond("how many votes did ismailov get").model_dump_json())
    assert set(data) >= CONTRACT
    assert data["status"] == "answered"
    assert 0 <= data["confidence"] <= 1
    assert data["citations"] and all(set(c) == CITATION for c in data["citations"])
    assert data["suggestions"] == []


@pytest.mark.parametrize(
    ("question", "quote_holds"),
    [
        ("Who won the ITU election?", "Doreen Bogdan-Martin"),
        ("who wn the elction", "Doreen Bogdan-Martin"),
        ("ismailov votes", "25 votes"),
        ("How many votes did Ismailov get?", "25 votes"),
        ("How many votes did Bogdan-Martin get?", "139 votes"),
        ("<@U024BE7LH> who *wrote* this?", "Olena Borodyna"),
        ("what is the clean network", "Clean Network"),
    ],
)
def test_answers_quote_the_article(engine: Engine, question: str, quote_holds: str) -> None:
    answer = engine.respond(question)
    assert answer.status is Status.answered, answer
    assert any(quote_holds in c.quote for c in answer.citations)


def test_named_people_land_on_their_own_facts(engine: Engine) -> None:
    ismailov = engine.respond("How many votes did Ismailov get?")
    bogdan = engine.respond("How many votes did Bogdan-Martin get?")
    assert ismailov.intent != bogdan.intent
    assert "25" in ismailov.answer and "139" in bogdan.answer


@pytest.mark.parametrize(
    "question",
    [
        "Where is the ITU headquartered?",
        "How many member states does the ITU have?",
        "How many votes did Houlin Zhao get?",
        "What is the capital of France?",
        "asdfghjkl qwerty",
    ],
)
def test_questions_the_article_does_not_answer_are_not_answered(engine: Engine, question: str) -> None:
    answer = engine.respond(question)
    assert answer.status in {Status.fallback, Status.clarify}
    assert answer.citations == []
    assert answer.suggestions, "a refusal suggests what can be asked instead"


def test_a_question_in_other_words_is_offered_the_intent_nearest_in_meaning(requests_engine: Engine) -> None:
    question = "a vehicle to drive while on holiday"
    terms = requests_engine.matcher.rank(question).terms
    answer = requests_engine.respond(question)
    assert answer.status is Status.fallback and not any(requests_engine.matcher.uses("rent_car", t) for t in terms)
    assert "rent_car" in {s.intent for s in answer.suggestions}


def test_everyday_requests_offer_the_nearest_in_meaning_first(requests_engine: Engine) -> None:
    """On everyday requests meaning ranks better than shared words: "hoover the den" shares no word with starting
    the vacuum, and no request is as near it as a question must be on a document to be offered any."""
    ranking = requests_engine.matcher.rank("hoover the den")
    assert ranking.best is None or ranking.best.meaning < matcher.NEAR_MEANING
    answer = requests_engine.respond("hoover the den")
    assert answer.status is Status.fallback
    assert answer.suggestions[0].intent == "start_vacuum"
    assert len(answer.suggestions) == SUGGESTIONS


def test_everyday_requests_answer_by_meaning_as_near_as_their_own_examples_come(
    requests_engine: Engine, engine: Engine
) -> None:
    """ "kcal in an apple" shares no word with any request; it is as near counting calories as the fact base's own
    examples mostly come to their requests, though under the 0.5 a document asks of a match by meaning alone."""
    ranking = requests_engine.matcher.rank("kcal in an apple")
    assert not ranking.topical and ranking.best is not None
    assert requests_engine.matcher.meaning_floor <= ranking.best.meaning < matcher.MEANING_FLOOR
    answer = requests_engine.respond("kcal in an apple")
    assert (answer.status, answer.intent) == (Status.answered, "calorie_count")
    assert engine.matcher.meaning_floor == matcher.MEANING_FLOOR  # a document keeps the fixed bar


def test_a_question_about_something_else_is_offered_the_headline_questions(engine: Engine) -> None:
    offered = engine.respond("What's the weather like in Paris?").suggestions
    assert [s.intent for s in offered] == [s.intent for s in engine.respond("hello").suggestions]


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?!", "🤔", "<@U123>"])
def test_empty_input_gets_help(engine: Engine, text: str) -> None:
    answer = engine.respond(text)
    assert answer.status is Status.smalltalk
    assert answer.intent == "capabilities"
    assert answer.suggestions


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hi", "greeting"),
        ("Hello there!", "greeting"),
        ("how's it going?", "greeting"),
        ("how are you doing today?", "greeting"),
        ("what's new?", "greeting"),
        ("thanks!", "thanks"),
        ("thank you :)", "thanks"),
        ("cool, got it", "thanks"),
        ("what can you do?", "capabilities"),
        ("help", "capabilities"),
        ("are you a robot?", "capabilities"),
        ("what's your name", "capabilities"),
        ("bye!", "goodbye"),
        ("ok thanks, see you later", "goodbye"),
        ("thanks bye", "goodbye"),
    ],
)
def test_smalltalk_answers_without_citations(engine: Engine, text: str, intent: str) -> None:
    answer = engine.respond(text)
    assert (answer.status, answer.intent, answer.citations) == (Status.smalltalk, intent, [])


def test_huge_input_is_cut_and_says_so(engine: Engine) -> None:
    question = "who won the itu election " + "blah " * 20_000
    answer = engine.respond(question)
    assert answer.truncated is True
    assert answer.question == question[:MAX_CHARS], "only what was read is echoed"
    assert engine.matcher.rank(question).terms == engine.matcher.rank(question[:MAX_CHARS]).terms


def test_short_input_is_not_marked_truncated(engine: Engine) -> None:
    assert engine.respond("who won").truncated is False


@pytest.mark.parametrize(
    "text", ["\x00\x01\x02", "\ufffd\ufffd", "<script>alert(1)</script>", "' OR 1=1 --", "A" * 5000]
)
def test_odd_input_never_raises(engine: Engine, text: str) -> None:
    answer = engine.respond(text)
    assert isinstance(answer, Answer)


def test_tiny_fact_base_answers_with_paragraph(tiny_engine: Engine) -> None:
    answer = tiny_engine.respond("who kept the light house")
    assert answer.status is Status.answered
    assert answer.citations[0].paragraph == 2
    assert answer.citations[0].quote == "Its keeper, Mara Quill, lit the lamp every night for forty years."


def test_record_citation_has_no_paragraph(tiny_engine: Engine) -> None:
    answer = tiny_engine.respond("who wrote the story")
    assert answer.citations[0].paragraph is None
    assert answer.citations[0].quote == "Ada Example"


def test_every_intent_answers_its_own_canonical_question(engine: Engine) -> None:
    wrong = {}
    for intent in engine.base.intents.values():
        answer = engine.respond(intent.question)
        if answer.intent != intent.id or answer.status is not Status.answered:
            wrong[intent.id] = (answer.status, answer.intent)
    assert wrong == {}


def test_a_repeated_question_gets_the_same_answer_which_nobody_can_change(engine: Engine) -> None:
    first, second = engine.respond("who won the itu vote?"), engine.respond("who won the itu vote?")
    assert first == second
    with pytest.raises(ValidationError):
        second.answer = "something else"  # type: ignore[misc]
    assert engine.respond("who won the itu vote?") == first


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("when did she win", "time"),
        ("election when", "time"),
        ("tell me when it was", "time"),
        ("what happens to my licence when i sue", None),
        ("where is the itu based", "place"),
        ("what if i move to where", "place"),
        ("can i copy it where i work", None),
        ("so how many votes", "number"),
    ],
)
def test_when_and_where_ask_only_where_they_are_questions(text: str, kind: str | None) -> None:
    assert question_type(text) == kind


def test_a_real_word_is_not_corrected_into_a_fact_base_word(engine: Engine) -> None:
    ranking = engine.matcher.rank("what did the itu do last week")
    assert "week" not in ranking.corrected
    assert engine.matcher.rank("who wn the itu electon").corrected == {"wn": "win", "electon": "election"}


@pytest.mark.parametrize(
    ("question", "corrected"),
    [
        ("waht did china want from the itu", {"waht": "what"}),  # not "want", as many edits away
        ("teh itu election", {"teh": "the"}),  # a short word: letters swapped back, not one added ("tech")
        ("wehn was the election", {"wehn": "when"}),
    ],
)
def test_letters_typed_in_the_wrong_order_are_put_back(
    engine: Engine, question: str, corrected: dict[str, str]
) -> None:
    assert engine.matcher.rank(question).corrected == corrected


def test_a_chat_word_that_names_a_topic_is_matched(tiny: Path) -> None:
    facts = tiny / "knowledge" / "facts" / "tiny.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace("lit the lamp", "did the work"), encoding="utf-8")
    seed = tiny / "seeds" / "tiny.txt"
    seed.write_text(seed.read_text(encoding="utf-8").replace("lit the lamp", "did the work"), encoding="utf-8")
    engine = Engine(load_factbase(tiny))
    assert engine.respond("who did the work").status is not Status.smalltalk
    assert engine.respond("how does this work").status is Status.smalltalk


def test_stray_letters_and_filler_adverbs_are_not_terms(engine: Engine) -> None:
    assert engine.matcher.rank("who won the itu election, still, in 2022 x").terms == ("win", "itu", "elect", "2022")
    assert engine.matcher.rank("who won the itu election lol").terms == ("win", "itu", "elect"), "chat laughter too"


def test_the_fact_base_spelling_of_a_british_or_american_word_is_used(tiny_engine: Engine) -> None:
    ranking = tiny_engine.matcher.rank("how many meters tall is the lighthouse")
    assert ranking.corrected == {"meters": "metres"} and ranking.unknown == ()


def add_document(tiny: Path, name: str, text: str, *, quote: str, answer: str, topic: str, examples: list[str]) -> None:
    """Add to the tiny fact base a source `name` holding `text`, one fact quoting it and one intent answering with it."""
    (tiny / "seeds" / f"{name}.txt").write_text(text, encoding="utf-8")
    sources = tiny / "knowledge" / "sources.yaml"
    sources.write_text(
        sources.read_text(encoding="utf-8")
        + f"  - {{id: {name}, title: {name.title()}, author: A. Writer, publisher: Example Press,"
        f" url: 'https://example.org/{name}', file: {name}.txt}}\n",
        encoding="utf-8",
    )
    (tiny / "knowledge" / "facts" / f"{name}.yaml").write_text(
        f"facts:\n  - id: {name}\n    source: {name}\n    quote: {quote}\n    answer: {answer}\n    topics: [{topic}]\n",
        encoding="utf-8",
    )
    (tiny / "intents" / f"{name}.yaml").write_text(
        f"intents:\n  - id: {name}\n    facts: [{name}]\n    examples:\n" + "".join(f"      - {e}\n" for e in examples),
        encoding="utf-8",
    )


def test_an_answer_needs_a_word_of_its_own_source(tiny: Path) -> None:
    text = "Every time the school bell rings, the day ends. The bell is loud.\n"  # "time" only in the source text
    examples = ["when does school end", "school bell", "what does the bell mean", "end of the school day"]
    examples += ["bell rings", "when is the day over", "school day end bell", "why does the bell ring"]
    add_document(
        tiny,
        "bell",
        text,
        quote="The bell is loud.",
        answer="The school bell is loud.",
        topic="school",
        examples=examples,
    )
    keeper = tiny / "intents" / "tiny.yaml"
    keeper.write_text(
        keeper.read_text(encoding="utf-8").replace(
            "      - mara quill\n", "      - mara quill\n      - how much time did she keep the light\n"
        ),
        encoding="utf-8",
    )
    engine = Engine(load_factbase(tiny))
    ranking = engine.matcher.rank("what time is it now")
    assert ranking.best is not None and ranking.best.intent == "keeper"
    assert ranking.topical == () and engine.compose("what time is it now").status is Status.fallback
    assert engine.compose("how much time did mara quill keep the light").status is Status.answered


def test_an_author_who_is_also_the_publisher_is_named_once(tiny: Path) -> None:
    sources = tiny / "knowledge" / "sources.yaml"
    sources.write_text(sources.read_text(encoding="utf-8").replace("Example Press", "Ada Example"), encoding="utf-8")
    assert Engine(load_factbase(tiny)).covers() == "“The Lighthouse Keeper” by Ada Example"


def test_a_fact_s_own_words_make_its_intent_a_candidate(tiny: Path) -> None:
    examples = ["when do i get my salary", "salary date", "next salary", "when are wages paid", "wage day"]
    examples += ["when will i be paid", "pay schedule", "my paycheck date"]
    text = "This is about payday. Salaries are paid monthly.\n"
    add_document(
        tiny,
        "pay",
        text,
        quote="This is about payday.",
        answer="This is about payday.",
        topic="payday",
        examples=examples,
    )
    ranking = Engine(load_factbase(tiny)).matcher.rank("when is payday")
    assert ranking.best is not None and ranking.best.intent == "pay"
    assert ranking.unknown == ()


@pytest.mark.parametrize("text", ["\ud800 who won the itu election", "\udcff\udcfe votes?", "\x00\x01 itu"])
def test_broken_text_is_matched_like_any_other(engine: Engine, text: str) -> None:
    answer = engine.respond(text)
    assert answer.status in set(Status)
