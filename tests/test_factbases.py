"""The fact bases under bench/factbases/: valid, and questioned apart from their intent examples."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz, process

from bot.documents import unwrapped
from bot.knowledge import read_factbase
from bot.normalise import normalise
from bot.settings import PROJECT_ROOT

FACT_BASES = sorted(p for p in (PROJECT_ROOT / "bench" / "factbases").iterdir() if p.is_dir())
NEAR_COPY = 90


@pytest.mark.parametrize("folder", FACT_BASES, ids=lambda p: p.name)
def test_fact_base_is_valid(folder: Path) -> None:
    base, problems = read_factbase(folder)
    assert [str(p) for p in problems] == []
    assert len(base.intents) >= 30


@pytest.mark.parametrize("folder", FACT_BASES, ids=lambda p: p.name)
def test_questions_are_labelled_from_the_source_and_not_copied(folder: Path) -> None:
    base, _ = read_factbase(folder)
    data = yaml.safe_load((folder / "questions.yaml").read_text(encoding="utf-8"))
    text = " ".join(unwrapped(p.text) for d in base.documents.values() for p in d.passages)
    assert [row["expect"] for row in data["answerable"] if unwrapped(row["expect"]) not in text] == []
    assert len(data["answerable"]) >= 75 and len(data["near_topic"]) >= 40 and len(data["unrelated"]) >= 20
    examples = [normalise(e) for i in base.intents.values() for e in i.examples]
    questions = [row["q"] for group in ("answerable", "near_topic", "unrelated") for row in data[group]]
    copies = [
        q for q in questions if process.extractOne(normalise(q), examples, scorer=fuzz.ratio, score_cutoff=NEAR_COPY)
    ]
    assert copies == []
