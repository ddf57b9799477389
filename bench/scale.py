"""Measure how Factbot's matcher scales with the size of the fact base, on synthetic fact bases.

A fact base k times the shipped one is k clones of it (clone 0 is the shipped base itself). In each
other clone, words are renamed systematically to invented variants, the same way in the article,
quotes, answers, source record and example phrasings, so every clone is a valid fact base of its own
and the vocabulary grows as it would over many articles: names and other capitalised words are
renamed nearly always, other content words about a third of the time, and stop words and the words
of the synonym groups never (they stay shared, as common words are). An example phrasing that would
still equal one seen before has more of its words renamed, since examples must be unique.

Each size is written to a temporary folder in the fact-base layout and measured in a fresh process:
load + validate (`read_factbase`), index build (`Engine(base)`), matching latency (`Engine.compose`)
over ~1,000 queries (paraphrased examples, typos, unrelated questions) after a warm-up, and memory
(resident set growth after loading and after building the index, and the peak).

    .venv/bin/python bench/scale.py [--sizes 1 10 100] [--queries 1000] [--plot FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from stats import percentile

from bot.matcher import STOPWORDS
from bot.normalise import normalise
from bot.settings import PROJECT_ROOT

WORD = re.compile(r"[A-Za-z]+")
SYLLABLES = [
    "ka",
    "ro",
    "mi",
    "tel",
    "van",
    "dor",
    "ish",
    "ul",
    "be",
    "na",
    "sor",
    "et",
    "qui",
    "lam",
    "pra",
    "zo",
    "fen",
    "gu",
    "hal",
    "ri",
    "ost",
    "mer",
    "ta",
    "vi",
    "lon",
    "dre",
    "sa",
    "kel",
    "um",
    "bra",
    "no",
    "ce",
    "jas",
    "pol",
    "tri",
    "ev",
    "wa",
    "gor",
    "lin",
    "ze",
    "hu",
    "cam",
    "fy",
]
NAME_RATE = 0.9
"""Share of clones in which a name (a word only ever written capitalised) is renamed."""
WORD_RATE = 0.35
"""Share of clones in which another content word is renamed."""
TARGET_P99_MS = 20.0
TARGET_BUILD_S = 5.0

UNRELATED = (
    "what's the weather in {city} {day}",
    "how do i {verb} my {thing}",
    "can you recommend a good {food} recipe",
    "when does the {city} marathon start",
    "best {thing} for a {food} lover",
    "is the {city} train running {day}",
    "how much does a {thing} cost in {city}",
    "who sings the {food} song",
    "my {thing} won't {verb}, help",
    "book a table for two in {city} {day}",
)
FILL = {
    "city": ["paris", "lagos", "osaka", "lima", "quito", "perth", "oslo", "dakar", "hanoi", "bergen"],
    "day": ["today", "tomorrow", "tonight", "monday", "saturday"],
    "verb": ["reset", "charge", "update", "clean", "fix", "unlock", "restart"],
    "thing": ["laptop", "bicycle", "router", "kettle", "printer", "phone", "guitar"],
    "food": ["pasta", "curry", "dumpling", "pancake", "risotto", "falafel"],
}
FILLERS = ("hey, ", "quick question: ", "do you know ", "btw ", "")


# -- generating a synthetic fact base ------------------------------------------------------------


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from `parts`."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class Renamer:
    """Renames the words of one clone; the same word always gets the same variant in that clone."""

    clone: int
    names: frozenset[str]
    protected: frozenset[str]
    taken: set[str]

    def __post_init__(self) -> None:
        self._variants: dict[str, str] = {}

    def variant(self, word: str) -> str:
        """An invented word for `word` in this clone: about as long, never a stop word or a known word."""
        key = word.lower()
        if key not in self._variants:
            count = max(2, round(len(key) / 2.6))
            picks = [SYLLABLES[int(_unit(self.clone, key, i) * len(SYLLABLES))] for i in range(count)]
            made = "".join(picks)
            extra = 0
            while made in self.taken or made in STOPWORDS:
                made += SYLLABLES[int(_unit(self.clone, key, "x", extra) * len(SYLLABLES))]
                extra += 1
            self.taken.add(made)
            self._variants[key] = made
        return self._variants[key]

    def renames(self, word: str) -> bool:
        """Whether this clone renames `word` (never stop words, short words or synonym-group words)."""
        key = word.lower()
        if self.clone == 0 or len(key) < 3 or key in STOPWORDS or key in self.protected:
            return False
        return _unit("rename", self.clone, key) < (NAME_RATE if key in self.names else WORD_RATE)

    def text(self, text: str, force: Iterable[str] = ()) -> str:
        """`text` with the words this clone renames replaced, keeping their capitalisation."""
        forced = {w.lower() for w in force}

        def swap(match: re.Match[str]) -> str:
            word = match.group(0)
            if not (self.renames(word) or word.lower() in forced):
                return word
            new = self.variant(word)
            if word.isupper() and len(word) > 1:
                return new.upper()
            return new.capitalize() if word[0].isupper() else new

        return WORD.sub(swap, text)


def _texts(root: Path) -> list[str]:
    """Every piece of text of the shipped fact base (article, record, quotes, answers, examples)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((root / "seeds").glob("*"))]
    for path in sorted((root / "knowledge" / "facts").glob("*.yaml")):
        for fact in yaml.safe_load(path.read_text(encoding="utf-8"))["facts"]:
            texts += [fact["quote"], fact["answer"], *fact["topics"]]
    for path in sorted((root / "intents").glob("*.yaml")):
        for intent in yaml.safe_load(path.read_text(encoding="utf-8"))["intents"]:
            texts += intent["examples"]
    return texts


def generate(root: Path, out: Path, size: int) -> None:
    """Write a fact base of `size` clones of the one in `root` to `out` (which must not exist)."""
    sources = yaml.safe_load((root / "knowledge" / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    fact_files = {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))["facts"]
        for p in sorted((root / "knowledge" / "facts").glob("*.yaml"))
    }
    intent_files = {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))["intents"]
        for p in sorted((root / "intents").glob("*.yaml"))
    }
    synonyms_path = root / "knowledge" / "synonyms.yaml"
    groups = yaml.safe_load(synonyms_path.read_text(encoding="utf-8"))["synonyms"] if synonyms_path.exists() else []
    protected = frozenset(w.lower() for g in groups for word in g for w in WORD.findall(str(word)))
    texts = _texts(root)
    lower = {w for t in texts for w in WORD.findall(t) if w.islower()}
    names = frozenset(w.lower() for t in texts for w in WORD.findall(t) if w[0].isupper()) - lower
    taken = {w.lower() for t in texts for w in WORD.findall(t)}

    for folder in ("seeds", "knowledge/facts", "intents"):
        (out / folder).mkdir(parents=True)
    if synonyms_path.exists():
        shutil.copy(synonyms_path, out / "knowledge" / "synonyms.yaml")
    seen: set[str] = set()
    all_sources = []
    for clone in range(size):
        rename = Renamer(clone, names, protected, taken)
        tag = "" if clone == 0 else f"-c{clone:04d}"
        for source in sources:
            text = (root / "seeds" / source["file"]).read_text(encoding="utf-8")
            new = {k: rename.text(v) if isinstance(v, str) else v for k, v in source.items()}
            new["header"] = [rename.text(h) for h in source.get("header", [])]
            new["id"] = source["id"] + tag
            new["file"] = f"{Path(source['file']).stem}{tag}.txt"
            (out / "seeds" / new["file"]).write_text(rename.text(text), encoding="utf-8")
            all_sources.append(new)
        facts = [
            {
                **fact,
                "id": fact["id"] + tag,
                "source": fact["source"] + tag,
                "quote": rename.text(fact["quote"]),
                "answer": rename.text(fact["answer"]),
                "topics": [rename.text(t) for t in fact["topics"]],
            }
            for rows in fact_files.values()
            for fact in rows
        ]
        intents = []
        for rows in intent_files.values():
            for intent in rows:
                examples = [_unique(rename, e, seen) for e in intent["examples"]]
                intents.append(
                    {"id": intent["id"] + tag, "facts": [f + tag for f in intent["facts"]], "examples": examples}
                )
        dump(out / "knowledge" / "facts" / f"clone{clone:04d}.yaml", {"facts": facts})
        dump(out / "intents" / f"clone{clone:04d}.yaml", {"intents": intents})
    dump(out / "knowledge" / "sources.yaml", {"sources": all_sources})


def _unique(rename: Renamer, example: str, seen: set[str]) -> str:
    """The clone's version of `example`, with more words renamed until no earlier example equals it."""
    text = rename.text(example)
    words = sorted({w for w in WORD.findall(example) if w.lower() not in STOPWORDS}, key=lambda w: (-len(w), w))
    for n in range(len(words) + 1):
        if normalise(text) not in seen:
            break
        text = rename.text(example, force=words[: n + 1])
    else:
        text = f"{text} {rename.variant('topic' + str(len(seen)))}"
    seen.add(normalise(text))
    return text


def dump(path: Path, data: object) -> None:
    """Write YAML, fast (libyaml's emitter when available)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")


# -- queries ------------------------------------------------------------------------------------


def typo(rng: random.Random, text: str) -> str:
    """`text` with one letter dropped, doubled or swapped in one of its longer words."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 4] or [0]
    i = rng.choice(long)
    word = words[i]
    k = rng.randrange(1, max(2, len(word) - 1))
    kind = rng.randrange(3)
    if kind == 0:
        word = word[:k] + word[k + 1 :]
    elif kind == 1:
        word = word[:k] + word[k] + word[k:]
    elif len(word) > k + 1:
        word = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    words[i] = word
    return " ".join(words)


def paraphrase(rng: random.Random, text: str, synonyms: dict[str, list[str]]) -> str:
    """`text` reworded: a synonym swapped in, a filler added, case and punctuation changed."""
    words = text.rstrip("?").split()
    swappable = [i for i, w in enumerate(words) if w.lower() in synonyms]
    if swappable:
        i = rng.choice(swappable)
        words[i] = rng.choice(synonyms[words[i].lower()])
    dropped = [i for i, w in enumerate(words) if w.lower() in STOPWORDS]
    if len(words) > 3 and dropped and rng.random() < 0.5:
        del words[rng.choice(dropped)]
    out = rng.choice(FILLERS) + " ".join(words)
    return out.lower() if rng.random() < 0.5 else out + "?"


def make_queries(root: Path, count: int, seed: int) -> list[str]:
    """`count` queries for the fact base in `root`: 40% paraphrased examples, 30% typos, 30% unrelated."""
    rng = random.Random(seed)
    examples: list[str] = []
    for path in sorted((root / "intents").glob("*.yaml")):
        for intent in yaml.safe_load(path.read_text(encoding="utf-8"))["intents"]:
            examples.extend(intent["examples"])
    synonyms_path = root / "knowledge" / "synonyms.yaml"
    groups = yaml.safe_load(synonyms_path.read_text(encoding="utf-8"))["synonyms"] if synonyms_path.exists() else []
    synonyms = {str(w).lower(): [str(o) for o in g if o != w] for g in groups for w in g}
    queries = []
    for n in range(count):
        roll = n % 10
        if roll < 4:
            queries.append(paraphrase(rng, rng.choice(examples), synonyms))
        elif roll < 7:
            queries.append(typo(rng, rng.choice(examples)))
        else:
            template = rng.choice(UNRELATED)
            filled = template.format(**{k: rng.choice(v) for k, v in FILL.items()})
            queries.append(typo(rng, filled) if rng.random() < 0.3 else filled)
    rng.shuffle(queries)
    return queries


# -- measuring (in a fresh process per size) ---------------------------------------------------------


def rss() -> int:
    """Resident set size of this process, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(root: Path, count: int, seed: int) -> dict[str, float]:
    """Load, build and match on the fact base in `root`; the numbers as a dict."""
    from bot.engine import Engine
    from bot.knowledge import read_factbase

    queries = make_queries(root, count + 50, seed)
    warmup, queries = queries[:50], queries[50:]
    before = rss()
    start = time.perf_counter()
    base, problems = read_factbase(root)
    loaded = time.perf_counter()
    if problems:
        sys.exit(f"generated fact base has {len(problems)} problems, e.g. {problems[0]}")
    after_load = rss()
    engine = Engine(base)
    built = time.perf_counter()
    after_build = rss()
    for text in warmup:
        engine.compose(text)
    samples = []
    answered = 0
    for text in queries:
        t0 = time.perf_counter()
        answer = engine.compose(text)
        samples.append(time.perf_counter() - t0)
        answered += answer.status.value == "answered"
    return {
        "intents": len(base.intents),
        "examples": sum(len(i.examples) for i in base.intents.values()),
        "vocabulary": len(engine.matcher._vocabulary),
        "load_s": loaded - start,
        "build_s": built - loaded,
        "base_mb": (after_load - before) / 2**20,
        "index_mb": (after_build - after_load) / 2**20,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "p50_ms": percentile(samples, 50) * 1000,
        "p99_ms": percentile(samples, 99) * 1000,
        "max_ms": max(samples) * 1000,
        "queries": len(samples),
        "answered": answered / len(samples),
    }


def run_size(root: Path, size: int, count: int, seed: int, keep: Path | None) -> dict[str, float]:
    """Generate a fact base of `size` clones and measure it in a fresh Python process."""
    with tempfile.TemporaryDirectory(prefix=f"factbot-scale-{size}x-") as tmp:
        out = (keep / f"{size}x") if keep else Path(tmp) / "base"
        if out.exists():
            shutil.rmtree(out)
        start = time.perf_counter()
        generate(root, out, size)
        generated = time.perf_counter() - start
        command = [sys.executable, __file__, "--worker", str(out), "--queries", str(count), "--seed", str(seed)]
        done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=PROJECT_ROOT)
        result: dict[str, float] = json.loads(done.stdout)
        result["size"] = size
        result["generate_s"] = generated
        return result


def print_table(results: list[dict[str, float]]) -> None:
    """The results as a Markdown table."""
    header = (
        "Size",
        "Intents",
        "Examples",
        "Vocabulary",
        "Load+validate s",
        "Index build s",
        "Match p50 ms",
        "Match p99 ms",
        "Match max ms",
        "Memory base MB",
        "Memory index MB",
        "Peak RSS MB",
    )
    rows = [header]
    for r in results:
        rows.append(
            (
                f"{r['size']:g}x",
                f"{r['intents']:,.0f}",
                f"{r['examples']:,.0f}",
                f"{r['vocabulary']:,.0f}",
                f"{r['load_s']:.2f}",
                f"{r['build_s']:.2f}",
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                f"{r['max_ms']:.2f}",
                f"{r['base_mb']:.0f}",
                f"{r['index_mb']:.0f}",
                f"{r['peak_mb']:.0f}",
            )
        )
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    for n, row in enumerate(rows):
        print("| " + " | ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("| " + " | ".join("-" * (w - 1) + ":" for w in widths) + " |")


def plot(results: list[dict[str, float]], path: Path) -> None:
    """A PNG of match p99 (and p50) against fact-base size, log-log, with the 20 ms target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["intents"] for r in results]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(sizes, [r["p99_ms"] for r in results], "o-", label="p99")
    ax.plot(sizes, [r["p50_ms"] for r in results], "s--", label="p50")
    for r in results:
        ax.annotate(f"{r['size']:g}x", (r["intents"], r["p99_ms"]), textcoords="offset points", xytext=(4, 6))
    ax.axhline(TARGET_P99_MS, color="red", linestyle=":", label=f"target p99 {TARGET_P99_MS:g} ms")
    ax.set_xscale("log")
    ax.margins(x=0.15)
    ax.set_yscale("log")
    ax.set_xlabel("intents in the fact base")
    ax.set_ylabel("Engine.compose latency, ms")
    ax.set_title("Factbot matching latency against fact-base size")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    """Generate, measure and report each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT, help="the fact base to clone")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100], help="sizes, in clones")
    parser.add_argument("--queries", type=int, default=1000, help="timed queries per size")
    parser.add_argument("--seed", type=int, default=7, help="seed of the query mix")
    parser.add_argument("--plot", type=Path, help="write a PNG of p99 against size here")
    parser.add_argument("--keep", type=Path, help="keep the generated fact bases in this folder")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.queries, args.seed)))
        return
    if any(s < 1 for s in args.sizes) or args.queries < 1:
        parser.error("sizes and --queries must be at least 1")

    results = []
    for size in args.sizes:
        results.append(run_size(args.data_dir.resolve(), size, args.queries, args.seed, args.keep))
        r = results[-1]
        print(f"{size}x generated in {r['generate_s']:.1f} s; {r['answered']:.0%} of queries answered", file=sys.stderr)
    print(f"Python {platform.python_version()} | {platform.platform()} | {os.cpu_count()} CPUs")
    print(
        f"Queries per size: {args.queries} (40% paraphrased examples, 30% typos, 30% unrelated), "
        f"after 50 untimed; memory is resident-set growth.\n"
    )
    print_table(results)
    for r in results:
        if r["size"] == 100:
            ok = r["p99_ms"] <= TARGET_P99_MS and r["build_s"] <= TARGET_BUILD_S
            print(
                f"\nTargets at 100x: p99 {r['p99_ms']:.1f} ms (<= {TARGET_P99_MS:g}), "
                f"index build {r['build_s']:.2f} s (<= {TARGET_BUILD_S:g}): {'met' if ok else 'MISSED'}."
            )
    if args.plot:
        plot(results, args.plot)
        print(f"Plot written to {args.plot}")


if __name__ == "__main__":
    main()
