"""Benchmark `/ask` autocomplete: the matching time of every keystroke, against a plain fuzzy list.

Times `suggest_questions` exactly as the Discord adapter calls it (default: `browse_order`) over
every prefix of every question in tests/data/questions.yaml, of a typo'd copy of each, and over
empty and odd input; beside it, a naive rapidfuzz ranking of the canonical questions, and the
discord.py callback path (payload -> Interaction -> CommandTree -> our callback -> response
payload; the HTTP POST goes to a sink instead of Discord). No network.

    .venv/bin/python bench/discord_autocomplete.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import string
import time
from collections.abc import Callable
from typing import Any, cast

import discord
import yaml
from discord.webhook.async_ import async_context
from rapidfuzz import fuzz, process
from stats import percentile

from bot.adapters.discord_commands import browse_order, suggest_questions
from bot.adapters.discord_run import build_client
from bot.engine import Engine
from bot.knowledge import load_factbase
from bot.settings import PROJECT_ROOT, Settings

QUESTIONS = PROJECT_ROOT / "tests" / "data" / "questions.yaml"
TARGET_MS = 5.0


def typo(text: str) -> str:
    """`text` with two letters of its longest word swapped (a deterministic typo)."""
    words = text.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    w, mid = words[i], len(words[i]) // 2
    words[i] = w[: mid - 1] + w[mid] + w[mid - 1] + w[mid + 1 :] if len(w) > 2 else w
    return " ".join(words)


def prefixes() -> list[str]:
    """Every prefix (1..len) of each labelled question and of a typo'd copy, then empty and odd input."""
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    full = [row["q"] for rows in data.values() for row in rows]
    junk = random.Random(4)
    odd = ["", " ", "   ", "???", "🤔", "🤔🤔 ?", "<@123> @everyone", "x" * 200, "the " * 50]
    odd += ["".join(junk.choices(chars, k=200)) for chars in (string.printable, string.ascii_lowercase + " ")]
    return [t[:n] for q in full for t in (q, typo(q)) for n in range(1, len(t) + 1)] + odd


def timed(fns: list[Callable[[str], object]], texts: list[str]) -> list[list[float]]:
    """Per-call times of each of `fns` over `texts`, after a warm-up pass; interleaved so noise hits all alike."""
    samples: list[list[float]] = [[] for _ in fns]
    for warm in (True, False):
        for text in texts:
            for fn, times in zip(fns, samples, strict=True):
                start = time.perf_counter()
                fn(text)
                if not warm:
                    times.append(time.perf_counter() - start)
    return samples


class Sink:
    """Stands in for discord.py's webhook adapter: counts interaction responses instead of POSTing them."""

    responses = 0

    async def create_interaction_response(self, *args: Any, **kwargs: Any) -> None:
        self.responses += 1


def payload(typed: str) -> dict[str, Any]:
    """An INTERACTION_CREATE payload (in a DM) for autocomplete of /ask's `question`."""
    user = {"id": "2001", "username": "user", "discriminator": "0", "global_name": None, "avatar": None}
    option = {"name": "question", "type": 3, "value": typed, "focused": True}
    head = {"id": "10", "application_id": "1", "type": 4, "token": "t", "version": 1, "attachment_size_limit": 2**20}
    data = {"id": "9", "name": "ask", "type": 1, "options": [option]}
    return {**head, "data": data, "channel_id": "3", "channel": {"id": "3", "type": 1}, "user": user, "context": 1}


async def callback_path(engine: Engine, texts: list[str]) -> list[float]:
    """Per-call times of the discord.py autocomplete path, after a warm-up pass; every call must answer."""
    client, sink = build_client(engine, Settings.model_validate({})), Sink()
    async_context.set(cast(Any, sink))  # discord.py's adapter for interaction responses
    samples = []
    for warm in (True, False):
        for data in [payload(t) for t in texts]:
            start = time.perf_counter()
            await client.tree._call(discord.Interaction(data=cast(Any, data), state=client._connection))
            if not warm:
                samples.append(time.perf_counter() - start)
    if sink.responses != 2 * len(texts):
        raise RuntimeError(f"{2 * len(texts) - sink.responses} autocomplete calls sent no choices")
    return samples


def row(name: str, samples: list[float]) -> str:
    """One line of the table: p50, p99 and max in ms, and the number of calls."""
    p50, p99, top = (f"{x * 1000:.3f}" for x in (percentile(samples, 50), percentile(samples, 99), max(samples)))
    return f"{name:<44} {p50:>8} {p99:>8} {top:>8} {len(samples):>7}"


def main() -> None:
    """Build the engine, time the three paths over the same prefixes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="passes over the prefixes (each is timed)")
    args = parser.parse_args()
    engine = Engine(load_factbase(PROJECT_ROOT))
    default, canonical = browse_order(engine), [i.question for i in engine.base.intents.values()]
    texts = prefixes() * max(args.rounds, 1)
    ours, naive = timed(
        [
            lambda t: suggest_questions(engine, t, default=default),
            lambda t: process.extract(t, canonical, scorer=fuzz.WRatio, limit=25),
        ],
        texts,
    )
    try:
        path: list[float] | str = asyncio.run(callback_path(engine, texts))
    except Exception as exc:  # optional: discord.py internals may change
        path = f"skipped ({type(exc).__name__}: {exc})"

    print(f"Python {platform.python_version()} | {platform.platform()} | {os.cpu_count()} CPUs")
    print(f"{len(engine.base.intents)} intents; {len(texts)} prefixes per path; ms per call\n")
    print(f"{'Path':<44} {'p50':>8} {'p99':>8} {'max':>8} {'calls':>7}")
    print(row("suggest_questions (adapter's matching)", ours))
    print(row("rapidfuzz WRatio extract, limit=25 (naive)", naive))
    print(row("discord.py callback path, no network", path) if isinstance(path, list) else f"Callback path: {path}")
    p99 = percentile(ours, 99) * 1000
    verdict = "PASS" if p99 <= TARGET_MS else "FAIL"
    print(f"\nTarget: suggest_questions p99 <= {TARGET_MS:g} ms: {verdict} ({p99:.3f} ms)")


if __name__ == "__main__":
    main()
