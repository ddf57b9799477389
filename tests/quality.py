"""Scoring the engine on the labelled question set in `tests/data/questions.yaml`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.engine import Engine
from bot.models import Answer, Status

QUESTIONS = Path(__file__).parent / "data" / "questions.yaml"


@dataclass
class Score:
    """How one group of labelled questions fared."""

    passed: int = 0
    failures: list[tuple[str, Answer]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + len(self.failures)

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 1.0


def load_questions() -> dict[str, list[dict[str, str]]]:
    """The labelled set: `answerable` (with `expect`), `near_topic` and `unrelated`."""
    return yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))


def is_correct(answer: Answer, expect: str | None) -> bool:
    """Answered with a citation holding `expect`; or, without `expect`, not answered at all."""
    if expect is None:
        return answer.status is not Status.answered
    return answer.status is Status.answered and any(expect in c.quote for c in answer.citations)


def evaluate(engine: Engine) -> dict[str, Score]:
    """Score every group of the labelled set."""
    scores: dict[str, Score] = {}
    for group, rows in load_questions().items():
        score = scores.setdefault(group, Score())
        for row in rows:
            answer = engine.respond(row["q"])
            if is_correct(answer, row.get("expect")):
                score.passed += 1
            else:
                score.failures.append((row["q"], answer))
    return scores


if __name__ == "__main__":
    from bot.knowledge import load_factbase
    from bot.settings import PROJECT_ROOT

    for group, score in evaluate(Engine(load_factbase(PROJECT_ROOT))).items():
        print(f"{group}: {score.passed}/{score.total} = {score.rate:.1%}")
        for question, answer in score.failures:
            print(f"   {answer.status.value:9} {answer.confidence:.2f} {answer.intent}  <- {question}")
