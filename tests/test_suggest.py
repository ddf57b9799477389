"""`factbot suggest`: proposals from unanswered questions, and writing them into intents/*.yaml, layout kept."""

from __future__ import annotations

import asyncio
import difflib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import reports
from bot.cli import app
from bot.engine import Engine
from bot.knowledge import FactBase, load_factbase, read_factbase
from bot.settings import PROJECT_ROOT
from bot.store import MemoryStore, Store
from bot.suggest import Proposal, SuggestError, add_examples, apply, clean_phrasing, suggest
from bot.yamlfile import Problem
from tests.test_reports import missed, point_cli_at, run

SHIPPED_INTENTS = sorted((PROJECT_ROOT / "intents").glob("*.yaml"))

COMMENTED = """\
# Intents about the lighthouse.
# Keep the first example the canonical question.
intents:
  - id: built   # when and how
    facts: [built]
    examples:
      - 'When was the lighthouse built?'
      - lighthouse construction date  # short form
      - "what year was the lighthouse built"

  # people
  - id: keeper
    facts:
      - keeper
    examples:
      - Who kept the lighthouse?
      - lighthouse keeper name   # eol
      # trailing comment in the list
  - id: author
    examples:
      - Who wrote the story?
      - author of the story
    facts: [author]   # after the examples

# end of file
"""


def added_lines(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before`; fails if it changes or drops any line of `before`."""
    diff = list(difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True)))
    assert [line for line in diff if line.startswith("- ")] == [], "an existing line changed"
    return [line[2:] for line in diff if line.startswith("+ ")]


# -- writing examples --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("additions", "lines", "after"),
    [
        ({"built": ["how tall is it"]}, ['      - "how tall is it"\n'], '"what year was the lighthouse built"\n'),
        ({"keeper": ["who was mara quill"]}, ["      - who was mara quill\n"], "lighthouse keeper name   # eol\n"),
        ({"author": ["who is ada example"]}, ["      - who is ada example\n"], "      - author of the story\n"),
        ({"keeper": ["keeper: who?"]}, ["      - 'keeper: who?'\n"], "lighthouse keeper name   # eol\n"),
        ({"author": ["one", "two"]}, ["      - one\n", "      - two\n"], "      - author of the story\n"),
    ],
    ids=["double-quoted-like-the-last", "after-an-eol-comment", "examples-before-facts", "needs-quotes", "two"],
)
def test_examples_are_added_after_the_last_one_and_nothing_else_changes(
    additions: dict[str, list[str]], lines: list[str], after: str
) -> None:
    text = add_examples(COMMENTED, additions)
    assert added_lines(COMMENTED, text) == lines
    at = text.splitlines(keepends=True).index(lines[0])
    assert text.splitlines(keepends=True)[at - 1].endswith(after)


def test_comments_and_blank_lines_after_the_list_stay_after_it() -> None:
    text = add_examples(COMMENTED, {"built": ["how tall is it"], "keeper": ["who was mara quill"]})
    assert '      - "how tall is it"\n\n  # people\n  - id: keeper' in text
    assert "# eol\n      - who was mara quill\n      # trailing comment in the list\n  - id: author" in text
    assert text.endswith("\n# end of file\n")


def test_windows_line_endings_are_kept() -> None:
    crlf = COMMENTED.replace("\n", "\r\n")
    text = add_examples(crlf, {"keeper": ["who was mara quill"]})
    assert text == add_examples(COMMENTED, {"keeper": ["who was mara quill"]}).replace("\n", "\r\n")


@pytest.mark.parametrize(
    ("layout", "added"),
    [
        ("intents:\n- id: a\n  examples:\n  - one\n  - two\n", "  - three\n"),
        ("intents:\n    - id: a\n      examples:\n          - one\n          - two\n", "          - three\n"),
    ],
    ids=["no-indent", "wide-indent"],
)
def test_other_indentations_are_kept(layout: str, added: str) -> None:
    assert added_lines(layout, add_examples(layout, {"a": ["three"]})) == [added]


def test_a_flow_list_grows_in_place() -> None:
    """A flow list has to be rewritten on its line: the one case where an existing line changes."""
    text = add_examples("intents:\n  - id: a\n    examples: [one, two]  # short\n", {"a": ["three, four"]})
    assert text.startswith("intents:\n  - id: a\n    examples: [one, two, 'three, four'] ")
    assert text.endswith("# short\n")


@pytest.mark.parametrize("path", SHIPPED_INTENTS, ids=lambda p: p.name)
def test_every_shipped_intents_file_takes_examples_keeping_its_layout(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    intents = [i.id for i in load_factbase(PROJECT_ROOT).intents.values() if i.id in text]
    new = added_lines(text, add_examples(text, {intent: [f"new phrasing for {intent}"] for intent in intents}))
    assert [line.strip() for line in new] == [f"- new phrasing for {intent}" for intent in intents]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (COMMENTED, "no examples list for intent 'nobody'"),
        ("intents: {a: 1}\n", "no examples list for intent 'nobody'"),
        ("intents:\n  - id: nobody\n    examples: [\n", "invalid YAML"),
        ("intents:\n- id: nobody\n  examples:\n  -   odd\n", "cannot keep this file's layout"),
    ],
)
def test_files_that_cannot_take_examples_are_reported(text: str, message: str) -> None:
    with pytest.raises(SuggestError, match=message):
        add_examples(text, {"nobody": ["x"]})


# -- proposing ---------------------------------------------------------------------------------


@pytest.fixture
def tiny_base(tiny: Path) -> FactBase:
    """The tiny fact base, in a copy the test may change."""
    return load_factbase(tiny)


def proposals_for(base: FactBase, questions: list[tuple[str, str]], *, min_score: float = 0.3) -> list[str]:
    """What `suggest` proposes for unanswered questions, as `intent: phrasing`, and what it leaves out."""
    report = reports.unanswered([missed(text, status=status) for text, status in questions], Engine(base).matcher)
    found = suggest(report, base, min_score=min_score)
    return [f"{p.intent}: {p.phrasing}" for p in found.proposals] + [
        f"left out {s.phrasing}: {s.reason}" for s in found.skipped
    ]


@pytest.mark.parametrize(
    ("questions", "min_score", "expected"),
    [
        ([("who guarded gull rock", "clarify")], 0.3, ["keeper: who guarded gull rock"]),
        ([("how tall is the lighthouse", "fallback")], 0.6, []),
        ([("how tall is the lighthouse", "fallback")], 0.5, ["built: how tall is the lighthouse"]),
        ([("what is the weather", "fallback")], 0.0, []),
        (
            [("who guarded gull rock", "clarify")] + [("when did mara quill die", "clarify")] * 2,
            0.3,
            ["keeper: when did mara quill die", "keeper: who guarded gull rock"],
        ),
        ([("<@U0BOT> who guarded   gull rock :wave:", "clarify")], 0.3, ["keeper: who guarded gull rock"]),
        (
            [("Who kept the lighthouse?!", "clarify")],
            0.4,
            ["left out Who kept the lighthouse?!: already an example of intent 'keeper'"],
        ),
        ([("!!!", "fallback")], 0.0, []),
    ],
    ids=["clarify", "below-min", "min-lowered", "no-match", "most-asked-first", "markup", "present", "no-words"],
)
def test_suggest(tiny_base: FactBase, questions: list[tuple[str, str]], min_score: float, expected: list[str]) -> None:
    assert proposals_for(tiny_base, questions, min_score=min_score) == expected


def test_a_phrasing_of_another_intent_is_left_out(tiny_base: FactBase) -> None:
    report = reports.unanswered([missed("who is the author", status="clarify")], Engine(tiny_base).matcher)
    report.groups[0].intent = "keeper"  # as if the matcher had leaned the wrong way
    found = suggest(report, tiny_base, min_score=0.0)
    assert found.proposals == []
    assert [s.reason for s in found.skipped] == ["would stand in intent 'author' too"]


def test_a_smalltalk_phrasing_is_left_out(tiny_base: FactBase) -> None:
    report = reports.unanswered([missed("hello factbot", status="clarify")], Engine(tiny_base).matcher)
    report.groups[0].intent, report.groups[0].score = "keeper", 0.9
    found = suggest(report, tiny_base)
    assert [s.reason for s in found.skipped] == ["would stand in the built-in intent 'greeting' too"]


def test_groups_matching_no_intent_are_counted(tiny_base: FactBase) -> None:
    questions = [missed("what is the weather"), missed("how tall is the lighthouse"), missed("who guarded gull rock")]
    found = suggest(reports.unanswered(questions, Engine(tiny_base).matcher), tiny_base, min_score=0.4)
    assert (len(found.proposals), found.unmatched) == (1, 2)


@pytest.mark.parametrize(
    ("text", "clean"),
    [("  where is\n gull rock ", "where is gull rock"), ("<@U0BOT> hi <https://x.y|there>", "hi there")],
)
def test_clean_phrasing(text: str, clean: str) -> None:
    assert clean_phrasing(text) == clean


# -- applying ----------------------------------------------------------------------------------


def proposal(base: FactBase, intent: str, phrasing: str) -> Proposal:
    """A proposal to add `phrasing` to `intent`, located where the intent is defined."""
    record = base.record("intent", intent)
    assert record is not None
    return Proposal(intent=intent, phrasing=phrasing, count=1, score=0.5, file=record.file, line=record.line)


def test_apply_writes_the_examples_and_the_fact_base_validates(tiny: Path, tiny_base: FactBase) -> None:
    path = tiny / "intents" / "tiny.yaml"
    before = path.read_text(encoding="utf-8")
    applied = apply(tiny, [proposal(tiny_base, "keeper", "who guarded gull rock")])
    assert applied.ok and applied.files == ["intents/tiny.yaml"] and applied.base is not None
    assert "who guarded gull rock" in applied.base.intents["keeper"].examples
    assert added_lines(before, path.read_text(encoding="utf-8")) == ["      - who guarded gull rock\n"]
    assert Engine(applied.base).respond("who guarded gull rock").status == "answered"


def test_apply_puts_everything_back_when_the_fact_base_no_longer_validates(tiny: Path, tiny_base: FactBase) -> None:
    path = tiny / "intents" / "tiny.yaml"
    before = path.read_bytes()
    clash = proposal(tiny_base, "built", "who wrote the story")  # an example of intent 'author'
    applied = apply(tiny, [proposal(tiny_base, "keeper", "who guarded gull rock"), clash])
    assert not applied.ok
    assert [p.message for p in applied.problems] == [
        "example \"Who wrote the story?\" of intent 'author' stands in intent 'built' too"
    ]
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.yaml"], "no temporary file left behind"


def test_apply_reports_a_file_it_cannot_edit_and_writes_nothing(tiny: Path, tiny_base: FactBase) -> None:
    path = tiny / "intents" / "tiny.yaml"
    before = path.read_bytes()
    lost = Proposal(intent="nobody", phrasing="x", count=1, score=1.0, file="intents/tiny.yaml", line=1)
    applied = apply(tiny, [proposal(tiny_base, "keeper", "who guarded gull rock"), lost])
    assert not applied.ok and "no examples list for intent 'nobody'" in str(applied.problems[0])
    assert path.read_bytes() == before


def test_apply_nothing_is_a_no_op(tiny: Path) -> None:
    assert apply(tiny, []).ok


# -- factbot suggest ---------------------------------------------------------------------------


@pytest.fixture
def use_store(monkeypatch: pytest.MonkeyPatch) -> list[Store]:
    """The commands read the store the test puts in this list."""
    return point_cli_at(monkeypatch)


@pytest.fixture
def tiny_log(tiny: Path) -> MemoryStore:
    """A memory store with unanswered questions about the tiny fact base."""
    store = MemoryStore()

    async def go() -> None:
        for text, status, times in [
            ("who guarded gull rock", "clarify", 3),
            ("when did mara quill die", "clarify", 2),
            ("Who kept the lighthouse?", "clarify", 1),
            ("what is the weather", "fallback", 2),
        ]:
            for _ in range(times):
                await store.log_question(missed(text, status=status))

    asyncio.run(go())
    return store


def test_suggest_prints_proposals_and_changes_nothing(
    runner: CliRunner, use_store: list[Store], tiny_log: MemoryStore, tiny: Path
) -> None:
    use_store.append(tiny_log)
    before = (tiny / "intents" / "tiny.yaml").read_bytes()
    code, shown, _ = run(runner, ["suggest", "--data-dir", str(tiny)])
    flat = " ".join(shown.split())
    assert code == 0
    assert "who guarded gull rock" in flat and "when did mara quill die" in flat and "intents/tiny.yaml" in flat
    assert "Left out “Who kept the lighthouse?” for keeper: already an example of intent 'keeper'." in flat
    assert "1 group of unanswered questions came no closer than 0.30" in flat
    assert "Add them with --apply" in flat
    assert (tiny / "intents" / "tiny.yaml").read_bytes() == before


def test_suggest_apply_writes_and_revalidates(
    runner: CliRunner, use_store: list[Store], tiny_log: MemoryStore, tiny: Path
) -> None:
    use_store.append(tiny_log)
    path = tiny / "intents" / "tiny.yaml"
    before = path.read_text(encoding="utf-8")
    code, shown, said = run(runner, ["suggest", "--apply", "--data-dir", str(tiny)])
    flat = " ".join(shown.split())
    assert code == 0, said
    assert "✓ Added 2 examples to intents/tiny.yaml; the fact base validates." in flat
    assert "“who guarded gull rock” is now answered by keeper" in flat
    assert "--apply" not in flat
    assert added_lines(before, path.read_text(encoding="utf-8")) == [
        "      - who guarded gull rock\n",
        "      - when did mara quill die\n",
    ]
    assert read_factbase(tiny)[1] == []
    again = " ".join(run(runner, ["suggest", "--data-dir", str(tiny)])[1].split())
    assert "who guarded gull rock" not in again.split("Left out")[0]


def test_suggest_apply_restores_the_files_when_validation_fails(
    runner: CliRunner, use_store: list[Store], tiny_log: MemoryStore, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import suggest as suggesting

    use_store.append(tiny_log)
    path = tiny / "intents" / "tiny.yaml"
    before = path.read_bytes()
    monkeypatch.setattr(suggesting, "read_factbase", lambda root: (None, [Problem("intents/tiny.yaml", 3, "wrong")]))
    code, _, said = run(runner, ["suggest", "--apply", "--data-dir", str(tiny)])
    assert code == 1
    assert "intents/tiny.yaml:3: wrong" in said
    assert "every file is as it was" in said
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("only", "added"),
    [
        (["--only", "1"], ["      - who guarded gull rock\n"]),
        (["--only", "2"], ["      - when did mara quill die\n"]),
        (["--only", "2", "--only", "1"], ["      - who guarded gull rock\n", "      - when did mara quill die\n"]),
    ],
)
def test_suggest_apply_only_some(
    runner: CliRunner, use_store: list[Store], tiny_log: MemoryStore, tiny: Path, only: list[str], added: list[str]
) -> None:
    use_store.append(tiny_log)
    path = tiny / "intents" / "tiny.yaml"
    before = path.read_text(encoding="utf-8")
    code, shown, said = run(runner, ["suggest", "--apply", *only, "--data-dir", str(tiny)])
    assert code == 0, said
    assert f"Added {len(added)} example" in shown
    assert added_lines(before, path.read_text(encoding="utf-8")) == added


@pytest.mark.parametrize("number", ["0", "3"])
def test_suggest_only_a_number_that_is_listed(
    runner: CliRunner, use_store: list[Store], tiny_log: MemoryStore, tiny: Path, number: str
) -> None:
    use_store.append(tiny_log)
    before = (tiny / "intents" / "tiny.yaml").read_bytes()
    result = runner.invoke(app, ["suggest", "--apply", "--only", number, "--data-dir", str(tiny)])
    assert result.exit_code == 2 and f"no proposal {number} (they are numbered 1 to 2)" in " ".join(
        result.output.split()
    )
    assert (tiny / "intents" / "tiny.yaml").read_bytes() == before


@pytest.mark.parametrize("args", [[], ["--apply"]])
def test_suggest_on_an_empty_log(runner: CliRunner, use_store: list[Store], tiny: Path, args: list[str]) -> None:
    use_store.append(MemoryStore())
    code, shown, _ = run(runner, ["suggest", *args, "--data-dir", str(tiny)])
    assert code == 0 and shown.startswith("No questions recorded since")


@pytest.mark.parametrize("score", ["-0.1", "1.5", "high"])
def test_suggest_min_score_is_checked(runner: CliRunner, score: str) -> None:
    assert runner.invoke(app, ["suggest", "--min-score", score]).exit_code == 2
