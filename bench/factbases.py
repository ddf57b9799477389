"""Factbot's matcher on several fact bases, each with questions written apart from its intents.

The matcher must not be tuned to the one article it ships with. This script runs the same code,
with the same default thresholds, on the shipped fact base and on every fact base under
`bench/factbases/` (a licence and a manual page, each curated by one person and questioned by
another who never saw its intent examples), and reports each one's rates side by side:

- answerable: answered (status `answered`) with a citation whose quote holds the `expect` phrase;
  a question whose phrase no fact quotes is left out and counted apart (the fact base does not
  cover it, so no matcher could answer it);
- near-topic: same subject, not covered by the source: not answered (a clarifying question or a
  fallback is right);
- unrelated: not answered;
- clarify: share of answerable questions met with a clarifying question instead of an answer;
- latency: per question, p50 and p99 of `Engine.compose`.

A question file has the layout of `tests/data/questions.yaml`: `answerable` (q, expect),
`near_topic` (q) and `unrelated` (q).

    .venv/bin/python bench/factbases.py [--misses] [DIR ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.documents import unwrapped
from bot.engine import Engine
from bot.knowledge import FactBaseError, load_factbase
from bot.models import Answer, Status
from bot.settings import PROJECT_ROOT

HERE = Path(__file__).parent
GROUPS = ("answerable", "near_topic", "unrelated")


@dataclass
class Outcome:
    """How one fact base's questions fared."""

    name: str
    size: str
    right: dict[str, list[bool]] = field(default_factory=lambda: {g: [] for g in GROUPS})
    clarified: int = 0
    uncovered: int = 0
    seconds: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def rate(self, group: str) -> str:
        """`right/total (percent)` for one group."""
        flags = self.right[group]
        return f"{sum(flags)}/{len(flags)} ({100 * sum(flags) / len(flags):.1f}%)" if flags else "-"


def fact_bases(folders: list[Path]) -> list[tuple[str, Path, Path]]:
    """(name, fact base folder, question file) for each fact base to measure."""
    if folders:
        return [(f.name, f, f / "questions.yaml") for f in folders]
    shipped = [("shipped (ODI article)", PROJECT_ROOT, PROJECT_ROOT / "tests" / "data" / "questions.yaml")]
    others = sorted(p.parent for p in (HERE / "factbases").glob("*/questions.yaml"))
    return shipped + [(f.name, f, f / "questions.yaml") for f in others]


def holds(answer: Answer, expect: str) -> bool:
    """Whether an answer was given with a citation quoting the expected phrase."""
    expect = unwrapped(expect)
    return answer.status is Status.answered and any(expect in c.quote for c in answer.citations)


def measure(name: str, folder: Path, questions: Path) -> Outcome:
    """Ask every labelled question of one fact base."""
    base = load_factbase(folder)
    engine = Engine(base)
    examples = sum(len(i.examples) for i in base.intents.values())
    outcome = Outcome(name, f"{len(base.facts)} facts, {len(base.intents)} intents, {examples} examples")
    data = yaml.safe_load(questions.read_text(encoding="utf-8"))
    quotes = [unwrapped(f.quote) for f in base.facts.values()]
    for group in GROUPS:
        for row in data.get(group) or []:
            if group == "answerable" and not any(unwrapped(row["expect"]) in q for q in quotes):
                outcome.uncovered += 1
                continue
            started = time.perf_counter()
            answer = engine.compose(row["q"])
            outcome.seconds.append(time.perf_counter() - started)
            if group == "answerable":
                right = holds(answer, row["expect"])
                outcome.clarified += answer.status is Status.clarify
            else:
                right = answer.status is not Status.answered
            outcome.right[group].append(right)
            if not right:
                got = f"{answer.status.value} {answer.intent or ''} {answer.confidence:.2f}"
                outcome.misses.append(f"  {group:<10} {row['q']!r} -> {got}")
    return outcome


def milliseconds(samples: list[float], p: float) -> float:
    """The nearest-rank `p`th percentile of `samples`, in milliseconds."""
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="fact base folders, each with a questions.yaml")
    parser.add_argument("--misses", action="store_true", help="list every question a fact base got wrong")
    args = parser.parse_args()
    outcomes = []
    for name, folder, questions in fact_bases(args.folders):
        try:
            outcomes.append(measure(name, folder, questions))
        except (FactBaseError, OSError) as error:
            sys.exit(f"{name}: {error}")
    header = ("fact base", "answerable", "near-topic", "unrelated", "clarify", "p50", "p99")
    print("{:<24} {:>16} {:>14} {:>12} {:>8} {:>7} {:>7}".format(*header))
    for o in outcomes:
        clarify = 100 * o.clarified / max(1, len(o.right["answerable"]))
        print(
            f"{o.name:<24} {o.rate('answerable'):>16} {o.rate('near_topic'):>14} {o.rate('unrelated'):>12}"
            f" {clarify:>7.1f}% {milliseconds(o.seconds, 50):>5.2f}ms {milliseconds(o.seconds, 99):>5.2f}ms"
        )
    for o in outcomes:
        print(f"\n{o.name}: {o.size}; {o.uncovered} answerable questions not covered by any fact")
        if args.misses:
            print("\n".join(o.misses))


if __name__ == "__main__":
    main()
