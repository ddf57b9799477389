"""`factbot validate`: the shipped fact base passes; each kind of breakage is named at file:line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.engine import Engine
from bot.knowledge import FactBaseError, load_factbase, read_factbase
from bot.models import Status

FACTS = "knowledge/facts/tiny.yaml"
INTENTS = "intents/tiny.yaml"
SOURCES = "knowledge/sources.yaml"


def test_shipped_fact_base_is_valid(runner: CliRunner) -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "every quote is verbatim" in result.output


def test_tiny_fact_base_is_valid(tiny: Path) -> None:
    base, problems = read_factbase(tiny)
    assert problems == []
    assert set(base.facts) == {"built", "keeper", "author"}


def test_an_example_that_is_a_greeting_is_answered_by_its_intent_not_small_talk(tiny: Path) -> None:
    intents = tiny / INTENTS
    intents.write_text(intents.read_text(encoding="utf-8").replace("      - mara quill\n", "      - Hello!\n"))
    base, problems = read_factbase(tiny)
    assert problems == []
    engine = Engine(base)
    greeted = engine.respond("hello")
    assert (greeted.status, greeted.intent) == (Status.answered, "keeper")
    assert engine.respond("hi there").status is Status.smalltalk  # the other greetings are still small talk


def test_a_fact_base_that_thanks_in_its_own_words_answers_any_thanks(tiny: Path) -> None:
    intents = tiny / INTENTS
    said = ["thanks", "thank you so much", "cheers for the help", "many thanks", "thanks a million", "ta", "thx"]
    examples = "".join(f"      - {e}\n" for e in [*said, "much obliged, thank you"])
    intents.write_text(
        intents.read_text(encoding="utf-8") + "  - id: welcome\n    facts: [author]\n    examples:\n" + examples
    )
    engine = Engine(load_factbase(tiny))
    answer = engine.respond("thanks for your help!")
    assert (answer.status, answer.intent) == (Status.answered, "welcome")
    assert engine.respond("hello").status is Status.smalltalk, "it has no greeting of its own"


def test_something_said_to_a_bot_is_small_talk_unless_the_fact_base_answers_it(tiny: Path) -> None:
    engine = Engine(load_factbase(tiny))
    assert (engine.respond("who made you?").status, engine.respond("who made you?").intent) == (
        Status.smalltalk,
        "capabilities",
    )
    intents = tiny / INTENTS
    intents.write_text(intents.read_text(encoding="utf-8").replace("      - mara quill\n", "      - who made you\n"))
    made = Engine(load_factbase(tiny)).respond("who made you?")
    assert (made.status, made.intent) == (Status.answered, "keeper")


def test_quotes_match_a_hard_wrapped_source_whatever_its_line_breaks(tiny: Path) -> None:
    seed = tiny / "seeds" / "tiny.txt"
    text = seed.read_text(encoding="utf-8")
    seed.write_text(
        text.replace("was built in 1871 from local granite.", "was built\n    in 1871 from\n    local granite.")
    )
    base, problems = read_factbase(tiny)
    assert problems == []
    citation = Engine(base).respond("When was the lighthouse built?").citations[0]
    assert citation.quote == "The lighthouse on Gull Rock was built in 1871 from local granite."
    assert citation.paragraph == 1


BREAKAGES = [
    pytest.param(
        FACTS,
        "built in 1871 from local granite.",
        "built in 1872 from local granite.",
        f"{FACTS}:4: quote of fact 'built' not found verbatim in tiny.txt; closest passage (paragraph 1): \"The lighthouse on Gull Rock was built in 1871 from local granite.\"",
        id="quote-not-verbatim",
    ),
    pytest.param(
        FACTS,
        "    topics: [people]\n",
        "    topics: [people]\n    colour: red\n",
        f"{FACTS}:12: unknown field 'colour'",
        id="unknown-field",
    ),
    pytest.param(
        FACTS,
        "quote: Ada Example",
        "quote: Ada Sample",
        f"{FACTS}:15: quote of fact 'author' is not the source's author (\"Ada Example\")",
        id="record-mismatch",
    ),
    pytest.param(
        FACTS,
        "quote: Its keeper, Mara Quill, lit the lamp every night for forty years.",
        "quote: 'Photo credit: somebody'",
        f"{FACTS}:9: quote of fact 'keeper' is page chrome",
        id="chrome-quote",
    ),
    pytest.param(
        FACTS,
        "id: keeper",
        "id: built",
        f"{FACTS}:7: duplicate fact id 'built' (first at {FACTS}:2)",
        id="duplicate-fact-id",
    ),
    pytest.param(
        FACTS,
        "answer: Mara Quill kept the light for forty years.",
        "answer: ''",
        f"{FACTS}:10: empty field 'answer'",
        id="empty-answer",
    ),
    pytest.param(FACTS, "    topics: [people]\n", "", f"{FACTS}:7: missing field 'topics'", id="missing-topics"),
    pytest.param(
        FACTS,
        "source: tiny\n    quote: Its",
        "source: huge\n    quote: Its",
        f"{FACTS}:8: unknown source 'huge' in fact 'keeper'",
        id="unknown-source",
    ),
    pytest.param(
        INTENTS,
        "facts: [keeper]",
        "facts: [keeper, kept]",
        f"{INTENTS}:14: unknown fact 'kept' in intent 'keeper'",
        id="unknown-fact",
    ),
    pytest.param(
        INTENTS,
        "facts: [author]",
        "facts: [built]",
        f"{FACTS}:12: fact 'author' is not reachable from any intent",
        id="unreachable-fact",
    ),
    pytest.param(
        INTENTS,
        "      - mara quill\n",
        "      - lighthouse granite\n",
        f"{INTENTS}:21: example \"lighthouse granite\" of intent 'keeper' stands in intent 'built' too",
        id="example-in-two-intents",
    ),
    pytest.param(
        INTENTS,
        "      - mara quill\n",
        "      - '   '\n",
        f"{INTENTS}:21: empty example in intent 'keeper'",
        id="empty-example",
    ),
    pytest.param(
        INTENTS,
        "      - keeper of gull rock\n",
        "",
        f"{INTENTS}:15: intent 'keeper' has 7 examples; at least 8 are needed",
        id="too-few-examples",
    ),
    pytest.param(
        INTENTS,
        "  - id: author",
        "  - id: keeper",
        f"{INTENTS}:24: duplicate intent id 'keeper' (first at {INTENTS}:13)",
        id="duplicate-intent-id",
    ),
    pytest.param(INTENTS, "intents:", "intents: [", f"{INTENTS}:2: invalid YAML", id="broken-yaml"),
    pytest.param(
        SOURCES,
        "file: tiny.txt",
        "file: missing.txt",
        f"{SOURCES}:8: source file seeds/missing.txt not found",
        id="missing-seed",
    ),
    pytest.param(SOURCES, "sources:", "sourcez:", f"{SOURCES}:1: expected a 'sources:' list", id="wrong-top-key"),
    pytest.param(
        FACTS,
        "    answer: It was built in 1871, from local granite.\n",
        "    answer: It was built in 1871, from local granite.\n    answer: Ismailov won on 1 April.\n",
        f"{FACTS}:6: duplicate key 'answer' (first at line 5)",
        id="duplicate-key",
    ),
    pytest.param(
        INTENTS,
        "intents:\n",
        "intents: []\nintents:\n",
        f"{INTENTS}:2: duplicate key 'intents' (first at line 1)",
        id="second-top-level-block",
    ),
    pytest.param(FACTS, "topics: [lighthouse]", "topics: [lighthouse, 2022-02-30]", None, id="date-typo-is-text"),
    pytest.param(
        FACTS,
        "topics: [lighthouse]",
        "topics: !include x.yaml",
        f"{FACTS}:6: unsupported YAML tag !include",
        id="include",
    ),
    pytest.param(
        FACTS,
        "topics: [lighthouse]",
        "topics: !!python/object/apply:os.system [echo]",
        f"{FACTS}:6: unsupported YAML tag tag:yaml.org,2002:python/object/apply:os.system",
        id="python-tag",
    ),
    pytest.param(FACTS, "topics: [lighthouse]", "topics: !!int abc", f"{FACTS}:1: invalid YAML", id="bad-int"),
    pytest.param(
        FACTS, "topics: [lighthouse]", "topics: {[a, b]: 1}", f"{FACTS}:6: a key must be a plain word", id="list-key"
    ),
    pytest.param(FACTS, "topics: [lighthouse]", "topics: [light\x00house]", f"{FACTS}:6: invalid YAML", id="nul"),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), BREAKAGES)
def test_each_breakage_is_reported(
    tiny: Path, runner: CliRunner, file: str, old: str, new: str, expected: str | None
) -> None:
    path = tiny / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")

    result = runner.invoke(app, ["validate", "--data-dir", str(tiny)])

    assert "Traceback" not in result.output
    if expected is None:  # read as it was meant: no problem
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert any(line.startswith(expected) for line in result.output.splitlines()), result.output


def test_quote_of_three_sentences_is_rejected(tiny: Path) -> None:
    seed = tiny / "seeds" / "tiny.txt"
    seed.write_text(seed.read_text().replace("31 metres tall.", "31 metres tall. It is white. It is old."))
    facts = tiny / FACTS
    facts.write_text(
        facts.read_text().replace(
            "from local granite.\n", "from local granite. It stands 31 metres tall. It is white.\n", 1
        )
    )
    _, problems = read_factbase(tiny)
    assert [str(p) for p in problems] == [f"{FACTS}:4: quote of fact 'built' has more than 2 sentences"]


def test_binary_file_is_reported(tiny: Path) -> None:
    (tiny / INTENTS).write_bytes(b"\xff\xfe\x00binary")
    _, problems = read_factbase(tiny)
    assert f"{INTENTS}:1: not UTF-8 text" in [str(p) for p in problems]


def test_empty_folder_is_reported(tmp_path: Path) -> None:
    _, problems = read_factbase(tmp_path)
    assert {str(p) for p in problems} >= {
        "knowledge/sources.yaml:1: cannot read: No such file or directory",
        "knowledge/facts:1: folder not found",
        "intents:1: folder not found",
    }


def test_load_raises_with_every_problem(tiny: Path) -> None:
    (tiny / FACTS).write_text((tiny / FACTS).read_text().replace("1871", "1872").replace("forty", "fifty"))
    with pytest.raises(FactBaseError) as caught:
        load_factbase(tiny)
    assert len(caught.value.problems) == 2


@pytest.mark.parametrize("command", [["ask", "who won?"], ["chat"], ["facts"], ["sources"], ["run"]])
def test_bot_refuses_to_start_on_invalid_fact_base(tiny: Path, runner: CliRunner, command: list[str]) -> None:
    (tiny / FACTS).write_text((tiny / FACTS).read_text().replace("1871", "1872"))
    result = runner.invoke(app, [*command, "--data-dir", str(tiny)], input="")
    assert result.exit_code == 1
    assert f"{FACTS}:4: quote of fact 'built' not found verbatim" in result.output
    assert "invalid (1 problem); not starting" in result.output
    assert "Traceback" not in result.output


def test_synonym_in_two_groups_is_reported(tiny: Path) -> None:
    (tiny / "knowledge" / "synonyms.yaml").write_text("synonyms:\n  - [keeper, warden]\n  - [warden, guard]\n")
    _, problems = read_factbase(tiny)
    assert [str(p) for p in problems] == ["knowledge/synonyms.yaml:1: synonym 'warden' is in groups 1 and 2"]


def test_malformed_synonyms_are_reported(tiny: Path) -> None:
    (tiny / "knowledge" / "synonyms.yaml").write_text("synonyms:\n  - lonely\n")
    _, problems = read_factbase(tiny)
    assert [str(p) for p in problems] == ["knowledge/synonyms.yaml:1: expected 'synonyms:' as a list of lists of words"]


def test_files_saved_with_a_byte_order_mark_are_read(tiny: Path) -> None:
    for path in (tiny / "seeds" / "tiny.txt", tiny / FACTS, tiny / SOURCES):
        path.write_text("\ufeff" + path.read_text(encoding="utf-8"), encoding="utf-8")
    base, problems = read_factbase(tiny)
    assert problems == []
    assert Engine(base).respond("When was the lighthouse built?").citations[0].paragraph == 1


def test_synonyms_nested_too_deeply_are_one_problem(tiny: Path) -> None:
    (tiny / "knowledge" / "synonyms.yaml").write_text("synonyms: " + "[" * 100_000 + "]" * 100_000 + "\n")
    _, problems = read_factbase(tiny)
    assert [str(p) for p in problems] == ["knowledge/synonyms.yaml:1: invalid YAML: nested too deeply"]


@pytest.mark.parametrize(
    ("file", "problem"),
    [
        ("../../outside.txt", "is outside seeds/"),
        ("/etc/hostname", "is outside seeds/"),
        ("fifo", "is not a regular file"),
        ("folder", "is not a regular file"),
        ("missing.txt", "not found"),
    ],
)
def test_a_source_file_that_cannot_be_a_seed_is_refused_without_reading_it(tiny: Path, file: str, problem: str) -> None:
    os.mkfifo(tiny / "seeds" / "fifo")
    (tiny / "seeds" / "folder").mkdir()
    sources = tiny / SOURCES
    sources.write_text(sources.read_text(encoding="utf-8").replace("file: tiny.txt", f"file: {file}"), encoding="utf-8")
    _, problems = read_factbase(tiny)
    assert f"{SOURCES}:8: source file seeds/{file} {problem}" in [str(p) for p in problems]


def test_a_huge_quote_not_in_the_source_is_reported_at_once(tiny: Path) -> None:
    facts = tiny / FACTS
    huge = "Gull Rock granite lighthouse " * 40_000  # about a megabyte
    text = facts.read_text(encoding="utf-8")
    facts.write_text(text.replace("quote: The lighthouse on Gull Rock", f"quote: {huge} The", 1), encoding="utf-8")
    _, problems = read_factbase(tiny)
    assert any(str(p).startswith(f"{FACTS}:4: quote of fact 'built'") for p in problems), problems
