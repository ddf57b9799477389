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
- wrong: share of the answers given that were wrong (an answerable question answered without the
  expected quote, or a question that must not be answered, answered);
- clarify: share of answerable questions met with a clarifying question instead of an answer;
- by style (chat-style sets): the answerable questions answered right, per style of question;
- offered: of the answerable questions not answered (a clarifying question or a fallback), the share
  whose offered questions include one answering it;
- latency: per question, p50 and p99 of `Engine.compose`.

A question file has the layout of `tests/data/questions.yaml`: `answerable` (q, expect),
`near_topic` (q) and `unrelated` (q). A question with `after` is a follow-up: that question is asked
first, in the same conversation. `--set chat` reads each fact base's `chat.yaml` instead (chat-style
questions: fragments, typos, abbreviations, paraphrases, follow-ups), `--set chat-heldout` its
`chat-heldout.yaml`, a set kept apart from every choice made in the matcher. The shipped fact base has
nine more sets written from the article alone: `--set dev-plain`, `--set dev-chat` and `--set dev-chat-2`,
on which changes are chosen, and `--set blind-plain` and `--set blind-chat`, kept apart, as are
`--set blind-plain-2` and `--set blind-chat-2`, written later by another writer who saw only the article,
and `--set blind-plain-3` and `--set blind-chat-3`, by a third.
A fact base without the set asked for is left out.

`--together` merges every fact base into one (all sources, facts and intents side by side, the synonym
groups joined) and asks each set of questions of it: one bot covering several unrelated documents,
where every other fact base's intents are distractors. A fact base of everyday requests (`EVERYDAY`)
is left out unless named: it covers what the others' unrelated questions ask.

    .venv/bin/python bench/factbases.py [--misses] [--together] [DIR ...]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from stats import percentile

from bot.documents import unwrapped
from bot.engine import Engine
from bot.evaluate import intents_quoting
from bot.knowledge import FactBaseError, load_factbase
from bot.models import Answer, Status
from bot.normalise import normalise
from bot.settings import PROJECT_ROOT

HERE = Path(__file__).parent
GROUPS = ("answerable", "near_topic", "unrelated")
SETS = (
    "questions",
    "chat",
    "chat-heldout",
    "dev-plain",
    "dev-chat",
    "dev-chat-2",
    "blind-plain",
    "blind-chat",
    "blind-plain-2",
    "blind-chat-2",
    "blind-plain-3",
    "blind-chat-3",
)

EVERYDAY = ("assistant-requests",)
"""Fact bases of everyday requests ("how long should I boil an egg"), which the other fact bases' unrelated
questions ask: `--together` leaves them out unless they are named."""


@dataclass
class Outcome:
    """How one fact base's questions fared."""

    name: str
    size: str
    right: dict[str, list[bool]] = field(default_factory=lambda: {g: [] for g in GROUPS})
    clarified: int = 0
    declined: int = 0
    """Answerable questions met with a clarifying question or a fallback."""
    offered: int = 0
    """Those of them whose offered questions include one that answers them."""
    answered: int = 0
    wrong: int = 0
    uncovered: int = 0
    seconds: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    styles: dict[str, list[bool]] = field(default_factory=dict)
    """Per `style` of a chat-style set's answerable questions (fragment, typo, paraphrase...), whether each was
    answered right."""

    def by_style(self) -> str:
        """ "plain 92% of 65 · typo 73% of 26 · ...", or "" for a set without styles."""
        rates = (f"{k} {100 * sum(v) / len(v):.0f}% of {len(v)}" for k, v in sorted(self.styles.items()))
        return " · ".join(rates)

    @property
    def offered_share(self) -> float:
        """Percent of the declined answerable questions that were offered an intent answering them."""
        return 100 * self.offered / max(1, self.declined)

    def rate(self, group: str) -> str:
        """`right/total (percent)` for one group."""
        flags = self.right[group]
        return f"{sum(flags)}/{len(flags)} ({100 * sum(flags) / len(flags):.1f}%)" if flags else "-"


def fact_bases(folders: list[Path], questions: str = "questions") -> list[tuple[str, Path, Path]]:
    """(name, fact base folder, question file) for each fact base to measure, with `questions`.yaml."""
    file = f"{questions}.yaml"
    shipped = ("shipped (ODI article)", PROJECT_ROOT, PROJECT_ROOT / "tests" / "data" / file)
    if folders:
        return [shipped if f.resolve() == PROJECT_ROOT else (f.name, f, f / file) for f in folders]
    others = sorted(p.parent for p in (HERE / "factbases").glob(f"*/{file}"))
    return [shipped, *[(f.name, f, f / file) for f in others]]


def holds(answer: Answer, expect: str) -> bool:
    """Whether an answer was given with a citation quoting the expected phrase."""
    expect = unwrapped(expect)
    return answer.status is Status.answered and any(expect in c.quote for c in answer.citations)


def merge(folders: list[Path], target: Path) -> None:
    """Write one fact base holding all of `folders`: ids prefixed by folder number, synonym groups joined."""
    sources: list[dict[str, object]] = []
    groups: list[set[str]] = []
    asked: set[str] = set()  # an example stands in one intent only: a later fact base's copy names its folder
    for number, folder in enumerate(folders):
        shutil.copytree(folder / "seeds", target / "seeds", dirs_exist_ok=True)
        sources += _yaml(folder / "knowledge" / "sources.yaml")["sources"]
        for kind, key in (("knowledge/facts", "facts"), ("intents", "intents")):
            for path in sorted((folder / kind).glob("*.yaml")):
                records = _yaml(path)[key]
                for record in records:
                    record["id"] = f"{number}.{record['id']}"
                    if key == "intents":
                        record["facts"] = [f"{number}.{fact}" for fact in record["facts"]]
                        record["examples"] = [
                            e if normalise(e) not in asked else f"{e} ({folder.name})" for e in record["examples"]
                        ]
                        asked.update(normalise(e) for e in record["examples"])
                (target / kind).mkdir(parents=True, exist_ok=True)
                _write(target / kind / f"{number}-{path.name}", {key: records})
        synonyms = folder / "knowledge" / "synonyms.yaml"
        for group in _yaml(synonyms)["synonyms"] if synonyms.exists() else []:
            words = {str(w).casefold() for w in group}
            joined = [g for g in groups if g & words]
            groups = [g for g in groups if not g & words] + [words.union(*joined)]
    _write(target / "knowledge" / "sources.yaml", {"sources": sources})
    _write(target / "knowledge" / "synonyms.yaml", {"synonyms": [sorted(g) for g in groups]})


def _yaml(path: Path) -> dict[str, list[dict[str, object]]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def measure(name: str, folder: Path, questions: Path, engine: Engine | None = None) -> Outcome:
    """Ask every labelled question of one fact base (or of `engine`, when it holds that fact base)."""
    base = load_factbase(folder)
    engine = engine or Engine(base)
    examples = sum(len(i.examples) for i in base.intents.values())
    outcome = Outcome(name, f"{len(base.facts)} facts, {len(base.intents)} intents, {examples} examples")
    data = yaml.safe_load(questions.read_text(encoding="utf-8"))
    for group in GROUPS:
        for row in data.get(group) or []:
            if group == "answerable" and not intents_quoting(base, row["expect"]):
                outcome.uncovered += 1
                continue
            conversation = f"{group}-{len(outcome.seconds)}"
            if row.get("after"):  # a follow-up: the question before it is asked first, in the same conversation
                engine.respond(row["after"], conversation=conversation)
            started = time.perf_counter()
            answer = engine.respond(row["q"], conversation=conversation)
            outcome.seconds.append(time.perf_counter() - started)
            if group == "answerable":
                right = holds(answer, row["expect"])
                if row.get("style"):
                    outcome.styles.setdefault(row["style"], []).append(right)
                outcome.clarified += answer.status is Status.clarify
                if answer.status in (Status.clarify, Status.fallback):
                    outcome.declined += 1
                    answering = intents_quoting(engine.base, row["expect"])  # ids as the engine knows them
                    outcome.offered += any(s.intent in answering for s in answer.suggestions)
            else:
                right = answer.status is not Status.answered
            outcome.right[group].append(right)
            outcome.answered += answer.status is Status.answered
            outcome.wrong += answer.status is Status.answered and not right
            if not right:
                got = f"{answer.status.value} {answer.intent or ''} {answer.confidence:.2f}"
                outcome.misses.append(f"  {group:<10} {row['q']!r} -> {got}")
    return outcome


def milliseconds(samples: list[float], p: float) -> float:
    """The nearest-rank `p`th percentile of `samples`, in milliseconds."""
    return 1000 * percentile(samples, p)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="fact base folders, each with a questions.yaml")
    parser.add_argument("--misses", action="store_true", help="list every question a fact base got wrong")
    parser.add_argument("--together", action="store_true", help="ask every set of one fact base holding them all")
    parser.add_argument("--set", default="questions", choices=SETS, help="which question files (default: questions)")
    args = parser.parse_args()
    outcomes = []
    chosen = [(name, folder, path) for name, folder, path in fact_bases(args.folders, args.set) if path.exists()]
    if args.together and not args.folders:
        chosen = [(name, folder, path) for name, folder, path in chosen if folder.name not in EVERYDAY]
    with tempfile.TemporaryDirectory() as scratch:
        together = None
        if args.together:
            merge([folder for _, folder, _ in chosen], Path(scratch))
            together = Engine(load_factbase(Path(scratch)))
        for name, folder, questions in chosen:
            try:
                outcomes.append(measure(name, folder, questions, together))
            except (FactBaseError, OSError) as error:
                sys.exit(f"{name}: {error}")
    header = ("fact base", "answerable", "near-topic", "unrelated", "wrong", "clarify", "offered", "p50", "p99")
    print("{:<24} {:>16} {:>14} {:>14} {:>6} {:>8} {:>8} {:>7} {:>7}".format(*header))
    for o in outcomes:
        clarify = 100 * o.clarified / max(1, len(o.right["answerable"]))
        wrong = 100 * o.wrong / max(1, o.answered)
        print(
            f"{o.name:<24} {o.rate('answerable'):>16} {o.rate('near_topic'):>14} {o.rate('unrelated'):>14}"
            f" {wrong:>5.1f}% {clarify:>7.1f}% {o.offered_share:>7.1f}%"
            f" {milliseconds(o.seconds, 50):>5.2f}ms {milliseconds(o.seconds, 99):>5.2f}ms"
        )
    for o in outcomes:
        print(f"\n{o.name}: {o.size}; {o.uncovered} answerable questions not covered by any fact")
        if o.styles:
            print(f"answered right, by style: {o.by_style()}")
        if args.misses:
            print("\n".join(o.misses))


if __name__ == "__main__":
    main()
