"""The bank of out-of-scope questions, and how far it reaches a fact base.

The bank (`bot/data/out_of_scope.txt`) holds everyday questions that no fact base of its kind answers:
the weather, recipes, sport. How much of it shares a word with a fact base's sources says what kind of
fact base it is. A document (an article, a licence, a manual) is reached by a quarter to a third of it;
a fact base of everyday requests by three quarters and more. Matching and calibration both read it:
see `bot.matcher` and `bot.calibrate`.
"""

from __future__ import annotations

import functools
import random
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.matcher import Matcher

BANK_SAMPLE = 200
"""Bank questions asked (chosen with a fixed seed): enough for stable shares, few enough to start quickly."""

REACHED = 0.5
"""The share of the bank that must reach every source for a fact base to be one of everyday requests. Documents
are reached by a quarter to a third of it; fact bases of everyday requests by three quarters and more."""


@functools.lru_cache(maxsize=1)
def bank() -> tuple[str, ...]:
    """The out-of-scope questions shipped with Factbot."""
    text = resources.files("bot").joinpath("data", "out_of_scope.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def bank_sample(sample: int = BANK_SAMPLE, seed: int = 0) -> list[str]:
    """The bank's questions asked at start-up: the same sample, chosen with a fixed seed, for every measure."""
    return random.Random(seed).sample(bank(), min(sample, len(bank())))


def least_reach(matcher: Matcher, *, sample: int = BANK_SAMPLE, seed: int = 0) -> float:
    """The share of the bank's questions (a sample) that use a word of a source, for the source they reach least.

    A fact base of several sources is as wary as its most specialised one: everyday questions reaching a
    document of everyday requests say nothing of the near-topic questions an article beside it is asked.
    """
    reached = [matcher.reached(text) for text in bank_sample(sample, seed)]
    return min((sum(s in r for r in reached) / len(reached) for s in matcher.answering_sources), default=0.0)
