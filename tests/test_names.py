"""Names as people type them: the shipped word lists, how normalisation uses them, and acronyms of sources."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from bot import names
from bot.bank import bank
from bot.engine import Engine
from bot.knowledge import load_factbase
from bot.matcher import Matcher, acronyms_in
from bot.models import Status
from bot.normalise import normalise
from bot.settings import PROJECT_ROOT


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("natl security law yr?", "national security law year"),
        ("who's the sec gen of the ITU", "who the secretary general of the itu"),
        ("CCP gen sec", "ccp general secretary"),
        ("xi 3rd term", "xi third term"),
        ("new govt admin", "new government administration"),
        ("Did Beijing back him?", "did china back him"),
        ("the Kremlin's candidate", "the russia candidate"),
        ("what the White House said", "what the united states said"),
        ("Chinese firms", "china firms"),
        ("Americans voted", "united states voted"),
        ("the US position", "the united states position"),
        ("U.S. policy", "united states policy"),
        ("USA", "united states"),
        ("let us know", "let us know"),
        ("the RU-CN joint stmt", "the russia china joint statement"),
        ("ru there?", "are you there"),  # chat: a code is a country only in capitals
        ("who was the prev sec of state btwn them lol", "who was the previous secretary of state between them lol"),
        ("whens the vote n whos running", "when the vote n who running"),  # the question word, asking its kind
        ("CNN and GRU", "cnn and gru"),
        ("the PRC", "the china"),
        ("use it w/o the lic?", "use it without the licence"),
        ("b/c of the stmt", "because of the statement"),
        ("the SecState", "the secretary of state"),
        ("who'll win and what've they said", "who will win and what have they said"),
        ("I'll be ill if we're late", "i will be ill if we are late"),  # not "ill" twice, nor "were"
    ],
)
def test_names_are_written_out(typed: str, normal: str) -> None:
    assert normalise(typed) == normal


@pytest.mark.parametrize("word", ["us", "it", "may", "will", "can", "polish", "male", "min", "etc"])
def test_words_that_mean_something_else_are_not_names(word: str) -> None:
    assert (word,) not in names.table()


@pytest.mark.parametrize("file", names.FILES)
def test_each_word_list_is_two_lower_case_columns_with_unique_keys(file: str) -> None:
    text = resources.files("bot").joinpath("data", file).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    assert len(rows) >= 100
    assert [
        row for row in rows if len(row) != 2 or not all(re.fullmatch(r"[a-z0-9]+( [a-z0-9]+)*", c) for c in row)
    ] == []
    keys = [row[0] for row in rows]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("file", names.FILES)
def test_every_short_form_reads_as_its_long_form_and_the_long_form_as_itself(file: str) -> None:
    """ "SecState" meets "Secretary of State"; "Czech Republic" stays "czech republic", not "czech republic republic"."""
    text = resources.files("bot").joinpath("data", file).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    assert [(short, long) for short, long in rows if normalise(short) != normalise(long)] == []


def test_the_out_of_scope_bank_is_varied_questions() -> None:
    questions = bank()
    assert len(questions) >= 300 and len(set(questions)) == len(questions)
    assert all(q.strip() == q and len(q) > 3 for q in questions)


@pytest.mark.parametrize(
    ("text", "short", "name"),
    [
        ("through the Shanghai Cooperation Organisation among others", "sco", "shanghai cooperation organisation"),
        ("the Forum on China-Africa Cooperation and", "focac", "forum on china africa cooperation"),
        ("the Forum on China-Africa Cooperation and", "fcac", "forum on china africa cooperation"),
        ("The Open Source Initiative (OSI) approves licences.", "osi", "the open source initiative"),
    ],
)
def test_acronyms_are_derived_from_names_in_the_source(text: str, short: str, name: str) -> None:
    assert " ".join(acronyms_in([text])[short]) == name


def test_and_or_the_never_join_two_names() -> None:
    found = acronyms_in(["the Forum on China-Africa Cooperation and the Shanghai Cooperation Organisation"])
    assert "sco" in found and "focac" in found and not any(len(short) > 5 for short in found)


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("SCO?", "china-forums"),
        ("is FOCAC mentioned", "china-forums"),
        ("xi 3rd term?", "xi-third-term"),
        ("the Kremlin candidate", "ismailov-country"),
        ("when was the PRC data security initiative", "data-security-initiative"),
    ],
)
def test_names_as_typed_in_chat_are_answered(engine: Engine, question: str, intent: str) -> None:
    answer = engine.respond(question)
    assert (answer.status, answer.intent) == (Status.answered, intent)


@pytest.mark.parametrize(
    ("question", "corrected"),
    [
        ("who endorsed her in the us goverment", {"goverment": "government"}),
        ("is houlin zhao chineese", {"chineese": "china"}),
        ("secratary general", {"secratary": "secretary"}),
    ],
)
def test_a_typo_of_an_english_word_is_read_as_that_word(
    engine: Engine, question: str, corrected: dict[str, str]
) -> None:
    assert engine.matcher.rank(question).corrected == corrected


def test_a_typo_of_a_word_the_fact_base_never_uses_is_not_forced_onto_one_it_does(engine: Engine) -> None:
    ranking = engine.matcher.rank("what about the itu budgett")
    assert ranking.corrected == {} and ranking.unknown == ("budgett",)


def test_a_name_written_out_is_never_taken_for_a_typo() -> None:
    """Madrid is read as Spain, which a fact base of everyday requests does not name: it is no typo of its “spin”."""
    requests = Matcher(load_factbase(PROJECT_ROOT / "bench" / "factbases" / "assistant-requests"))
    ranking = requests.rank("i want to fly to madrid tomorrow")
    assert "spain" in ranking.unknown and not ranking.corrected


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("what did the USA do", ("america",)),
        ("U.S. lobbying", ("america", "lobbi")),
        ("who was Trump's Secretary of State", ("trump", "secretari", "state")),
        ("did the UK vote", ("unitedkingdom", "vote")),
        ("is the ITU part of the UN", ("itu", "part", "unitedn")),
        ("which nations voted", ("countri", "vote")),
    ],
)
def test_a_name_of_several_words_is_one_term_and_its_words_alone_are_not(
    engine: Engine, question: str, terms: tuple[str, ...]
) -> None:
    """The shipped synonyms make "usa" (written out "united states") one with "america": "state" alone, as in
    "Secretary of State", is not America. A country or the UN is one place: "united" in "the UK" is not
    the United States, and "nations" in "the UN" not countries."""
    assert engine.matcher.rank(question).terms == terms


def test_a_name_of_several_words_the_fact_base_uses_is_a_word_it_knows(engine: Engine) -> None:
    """The shipped fact base says “UN”: “the United Nations” asked of it is no word it never uses."""
    assert engine.matcher.rank("is the ITU part of the United Nations").unknown == ()
    assert engine.matcher.rank("did the UK vote").unknown == ("unitedkingdom",), "the article never names the UK"
