"""The fact bases under bench/factbases/: valid, and questioned apart from their intent examples."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from bot.documents import unwrapped
from bot.knowledge import read_factbase
from bot.settings import PROJECT_ROOT

FACT_BASES = sorted(p for p in (PROJECT_ROOT / "bench" / "factbases").iterdir() if p.is_dir())
NEAR_COPY = 90


@pytest.mark.parametrize("folder", FACT_BASES, ids=lambda p: p.name)
def test_fact_base_is_valid(folder: Path) -> None:
    base, problems = read_factbase(folder)
    assert [str(p) for p in problems] == []
    assert len(base.intents) >= 30


def question_file(folder: Path, file: str) -> Path:
    """Where a fact base keeps one of its question sets: the shipped one's are in tests/data."""
    return (PROJECT_ROOT / "tests" / "data" if folder == PROJECT_ROOT else folder) / f"{file}.yaml"


QUESTION_SETS = [
    (folder, file, minimum)
    for folder in [PROJECT_ROOT, *FACT_BASES]
    for file, minimum in (
        ("questions", (75, 40, 20)),
        ("chat", (50, 25, 15)),
        ("chat-heldout", (45, 25, 15)),
        ("dev-plain", (60, 40, 15)),
        ("dev-chat", (80, 40, 15)),
        ("dev-chat-2", (100, 40, 20)),
        ("blind-plain", (50, 30, 15)),
        ("blind-chat", (70, 35, 15)),
        ("blind-plain-2", (50, 30, 15)),
        ("blind-chat-2", (70, 35, 15)),
        ("blind-plain-3", (50, 30, 15)),
        ("blind-chat-3", (70, 35, 15)),
    )
    if folder != PROJECT_ROOT or file != "questions"  # the shipped plain set is tests/test_questions.py's
    if question_file(folder, file).exists()
]


@pytest.mark.parametrize("folder", FACT_BASES, ids=lambda p: p.name)
def test_every_fact_base_has_a_set_fitted_on_and_a_set_kept_apart(folder: Path) -> None:
    assert (folder / "questions.yaml").exists() and (folder / "chat-heldout.yaml").exists()


@pytest.mark.parametrize(("folder", "file", "minimum"), QUESTION_SETS, ids=lambda v: getattr(v, "name", v))
def test_questions_are_labelled_from_the_source_and_not_copied(
    folder: Path, file: str, minimum: tuple[int, int, int]
) -> None:
    base, _ = read_factbase(folder)
    data = yaml.safe_load(question_file(folder, file).read_text(encoding="utf-8"))
    text = " ".join(unwrapped(p.text) for d in base.documents.values() for p in d.passages)
    assert [row["expect"] for row in data["answerable"] if unwrapped(row["expect"]) not in text] == []
    groups = ("answerable", "near_topic", "unrelated")
    assert [len(data[group]) >= least for group, least in zip(groups, minimum, strict=True)] == [True] * 3
    if file != "questions":
        return  # the chat sets were written after the examples, by people who never saw them: a match is a coincidence
    examples = [default_process(e) for i in base.intents.values() for e in i.examples]
    questions = [row["q"] for group in groups for row in data[group]]
    copies = [
        q
        for q in questions
        if process.extractOne(default_process(q), examples, scorer=fuzz.ratio, score_cutoff=NEAR_COPY)
    ]
    assert copies == []
