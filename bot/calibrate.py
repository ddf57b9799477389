"""Thresholds that fit the fact base loaded, worked out from the fact base itself.

A confidence means different things in different fact bases: ten short examples per intent score
lower than fifteen long ones. So the thresholds are not fixed numbers but read off two samples:

- the fact base's own example phrasings, each asked as a new question with itself left out of the
  index (leave-one-out): how confident the matcher is about questions the fact base does answer,
  when it ranks them right;
- a bank of questions that no fact base of this kind answers (`bot/data/out_of_scope.txt`): how
  confident it is about questions from outside.

The answer threshold is the higher of two:

- the one that best tells the phrasings from the bank, counting a phrasing answered as worth
  `IN_SCOPE_WEIGHT` and a bank question declined as worth the rest;
- a hedge against near-topic questions, which share words with a fact but ask what it does not say
  and which neither sample holds: a quantile of the phrasings, up to `ANSWER_QUANTILE`. The more of
  the bank reaches the fact base (shares a word with its sources), the more the bank already stands
  for the questions to decline, and the lower the quantile: a fact base of everyday requests is asked
  everyday questions it does not cover, a licence is asked about licences.

The clarify threshold is `CLARIFY_QUANTILE` of the phrasings. A fact base too small to measure keeps
the fixed defaults.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from importlib import resources

import numpy as np

from bot.matcher import Matcher

DEFAULT_ANSWER, DEFAULT_CLARIFY, DEFAULT_MARGIN = 0.6, 0.4, 0.005
"""The fixed thresholds for a fact base too small to calibrate on."""


@dataclass(frozen=True)
class Thresholds:
    """The two thresholds (on `Ranking.confidence`) and the margin (on scores) that turn a ranking into a decision."""

    answer: float = DEFAULT_ANSWER
    clarify: float = DEFAULT_CLARIFY
    margin: float = DEFAULT_MARGIN


SAMPLE = 300
BANK_SAMPLE = 200
"""Example phrasings and bank questions asked (chosen with a fixed seed): enough for stable percentiles,
few enough to start quickly."""

ANSWER_QUANTILE = 40
"""The hedge's quantile of the fact base's own phrasings where no bank question reaches the fact base."""
IN_SCOPE_WEIGHT = 0.75
"""What answering a question the fact base covers is worth beside declining one it does not: most
questions people put to a bot are about what it is for."""
CLARIFY_QUANTILE = 5
MINIMUM = 20
"""Fewer right-ranked phrasings than this and the fixed defaults are used."""


@functools.lru_cache(maxsize=1)
def bank() -> tuple[str, ...]:
    """The out-of-scope questions shipped with Factbot."""
    text = resources.files("bot").joinpath("data", "out_of_scope.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def own_phrasings(matcher: Matcher, *, sample: int = SAMPLE, seed: int = 0) -> tuple[list[float], list[float]]:
    """Confidences for the fact base's example phrasings, each left out: those ranking their own intent first,
    and those ranking another intent first (which would be wrong answers)."""
    examples = matcher.examples
    chosen = random.Random(seed).sample(range(len(examples)), min(sample, len(examples)))
    right: list[float] = []
    wrong: list[float] = []
    for index in chosen:
        intent, text = examples[index]
        ranking = matcher.rank(text, leave_out=index)
        if ranking.best is not None and ranking.topical:
            (right if ranking.best.intent == intent else wrong).append(ranking.confidence)
    return right, wrong


def bank_scores(matcher: Matcher, *, sample: int = BANK_SAMPLE, seed: int = 0) -> list[float]:
    """Confidence of the best match for the bank's questions (a sample), 0 where no word is the fact base's."""
    questions = bank()
    scores = []
    for text in random.Random(seed).sample(questions, min(sample, len(questions))):
        ranking = matcher.rank(text)
        scores.append(ranking.confidence if ranking.topical else 0.0)
    return scores


def resolve(
    matcher: Matcher, *, answer: float | None = None, clarify: float | None = None, margin: float = DEFAULT_MARGIN
) -> Thresholds:
    """The thresholds given, with each one left as None read off this fact base (clarify never above answer)."""
    if answer is None or clarify is None:
        measured_answer, measured_clarify = measure(matcher)
        answer = measured_answer if answer is None else answer
        clarify = min(measured_clarify, answer) if clarify is None else clarify
    return Thresholds(answer, clarify, margin)


def measure(matcher: Matcher) -> tuple[float, float]:
    """Answer and clarify thresholds read off this fact base's own phrasings and the bank."""
    right, wrong = (np.array(scores) for scores in own_phrasings(matcher))
    if len(right) < MINIMUM:
        return DEFAULT_ANSWER, DEFAULT_CLARIFY
    outside = np.array(bank_scores(matcher))
    reach = float(np.mean(outside > 0))
    hedge = float(np.percentile(right, ANSWER_QUANTILE * (1 - reach)))
    answer = max(hedge, separating(right, wrong, outside))
    clarify = min(answer, float(np.percentile(right, CLARIFY_QUANTILE)))
    return round(answer, 2), round(clarify, 2)


def separating(right: np.ndarray, wrong: np.ndarray, outside: np.ndarray) -> float:
    """The confidence that best tells the fact base's phrasings (answered, and right) from the rest.

    A phrasing answered right is worth `IN_SCOPE_WEIGHT`, one answered wrong costs as much, and a bank
    question declined is worth the rest.
    """
    asked = len(right) + len(wrong)
    cuts = np.unique(np.r_[right, wrong, outside + 1e-4])
    worth = [
        IN_SCOPE_WEIGHT * (np.sum(right >= cut) - np.sum(wrong >= cut)) / asked
        + (1 - IN_SCOPE_WEIGHT) * np.mean(outside < cut)
        for cut in cuts
    ]
    return float(cuts[int(np.argmax(worth))])
