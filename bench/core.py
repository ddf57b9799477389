"""Benchmark Factbot's core on this machine and print a plain-text table for the README.

Measures (1) fact-base load + validation and index build, (2) per-question matching latency
over the labelled questions plus variants, and a 100 kB message, and (3) the cold wall time of
`factbot ask` beside `python -c "pass"` and `python -c "import bot.engine"`: on a first start on the fact base,
which measures its thresholds, and on a later one, which reads them from the cache folder (the default,
FACTBOT_CACHE_DIR). No network.

    .venv/bin/python bench/core.py [--data-dir DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from stats import percentile

from bot.engine import Engine
from bot.knowledge import read_factbase
from bot.settings import PROJECT_ROOT

QUESTIONS = PROJECT_ROOT / "tests" / "data" / "questions.yaml"
HUGE = "who won the election " * 5000
ASK = "Who won the ITU election?"


def ms(seconds: float) -> str:
    """Seconds as milliseconds, for the table."""
    return f"{seconds * 1000:.2f}"


def timed(fn: Callable[[], object]) -> float:
    """Wall time of one call, in seconds."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def load_times(root: Path, repeat: int) -> tuple[float, float, float, Engine]:
    """Median load+validate, index build and their sum over `repeat` runs; and the last engine."""
    runs: list[tuple[float, float, float]] = []
    for _ in range(repeat):
        start = time.perf_counter()
        base, problems = read_factbase(root)
        mid = time.perf_counter()
        engine = Engine(base)
        end = time.perf_counter()
        if problems:
            sys.exit(f"fact base in {root} has {len(problems)} problems; fix it first")
        runs.append((mid - start, end - mid, end - start))
    load, build, total = (statistics.median(column) for column in zip(*runs, strict=True))
    return load, build, total, engine


def typo(text: str) -> str:
    """`text` with one letter dropped from its longest word (a deterministic typo)."""
    words = text.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    word = words[i]
    words[i] = word[: len(word) // 2] + word[len(word) // 2 + 1 :]
    return " ".join(words)


def questions() -> list[str]:
    """Every labelled question, plus a lowercased, a misspelt and a chat-markup variant of each."""
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    base = [row["q"] for key in ("answerable", "near_topic", "unrelated") for row in data[key]]
    variants = [q.lower() for q in base] + [typo(q) for q in base] + [f"<@U123> {q}" for q in base]
    return base + variants


def latencies(engine: Engine, texts: list[str]) -> list[float]:
    """Per-question `compose` times (matching without the answer memory), after one untimed warm-up pass."""
    for text in texts:
        engine.compose(text)
    samples = []
    for text in texts:
        start = time.perf_counter()
        engine.compose(text)
        samples.append(time.perf_counter() - start)
    return samples


def cold(argv: list[str], runs: int = 5, env: dict[str, str] | None = None) -> float:
    """Median wall time of a fresh process (after one untimed run to compile bytecode), with `env` added."""

    def once() -> None:
        subprocess.run(argv, check=True, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, env={**os.environ, **(env or {})})

    once()
    return statistics.median(timed(once) for _ in range(runs))


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT, help="fact base folder")
    parser.add_argument("--repeat", type=int, default=7, help="runs of the load benchmark")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    root: Path = args.data_dir.resolve()

    load, build, total, engine = load_times(root, args.repeat)
    texts = questions()
    times = latencies(engine, texts)
    short = statistics.median(timed(lambda: engine.compose(ASK)) for _ in range(101))
    huge = statistics.median(timed(lambda: engine.compose(HUGE)) for _ in range(101))
    python = sys.executable
    factbot = str(Path(python).with_name("factbot"))
    bare = cold([python, "-c", "pass"])
    imported = cold([python, "-c", "import bot.engine"])
    first = cold([factbot, "ask", "--data-dir", str(root), ASK], env={"FACTBOT_CACHE_DIR": ""})
    with tempfile.TemporaryDirectory(prefix="factbot-cache-") as cache:  # the untimed run keeps the calibration
        ask = cold([factbot, "ask", "--data-dir", str(root), ASK], env={"FACTBOT_CACHE_DIR": cache})

    print(f"Python {platform.python_version()} | {platform.platform()} | {os.cpu_count()} CPUs")
    print(f"Fact base: {root}; medians unless noted\n")
    rows = [
        ("Measure", "ms", "Target"),
        (f"Load + validate (read_factbase), n={args.repeat}", ms(load), ""),
        (f"Index build (Engine(base)), n={args.repeat}", ms(build), ""),
        ("Load + build total", ms(total), "<= 300"),
        (f"Match p50 ({len(texts)} questions)", ms(percentile(times, 50)), ""),
        (f"Match p99 ({len(texts)} questions)", ms(percentile(times, 99)), "<= 2"),
        (f"Match max ({len(texts)} questions)", ms(max(times)), ""),
        (f"Short message ({len(ASK)} chars), n=101", ms(short), ""),
        (f"100 kB message ({len(HUGE)} chars), n=101", ms(huge), "~ short"),
        ('Cold `python -c "pass"`, n=5', ms(bare), "baseline"),
        ('Cold `python -c "import bot.engine"`, n=5', ms(imported), "baseline"),
        ("Cold `factbot ask`, first start on the fact base, n=5", ms(first), "<= 1000"),
        ("Cold `factbot ask`, later starts (calibration kept), n=5", ms(ask), "<= 1000"),
    ]
    width = max(len(r[0]) for r in rows)
    for i, (name, value, target) in enumerate(rows):
        print(f"{name:<{width}}  {value:>8}  {target}".rstrip())
        if i == 0:
            print(f"{'-' * width}  {'-' * 8}  {'-' * 8}")


if __name__ == "__main__":
    main()
