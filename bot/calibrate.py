"""Thresholds that fit the fact base loaded, worked out from the fact base itself.

A confidence means different things in different fact bases: ten short examples per intent score
lower than fifteen long ones. So the thresholds are not fixed numbers but read off two samples:

- the fact base's own example phrasings, each asked as a new question with itself left out of the
  index (leave-one-out): how confident the matcher is about questions the fact base does answer,
  when it ranks them right;
- a bank of questions that no fact base of this kind answers (`bot/data/out_of_scope.txt`): how
  confident it is about the rest. A bank question that scores like the fact base's own phrasings may
  be one this fact base does answer ("what's the weather" in a fact base about the weather), so only
  those below `BANK_CUT` of the phrasings count.

The answer threshold is the `ANSWER_QUANTILE`th percentile of the right-ranked phrasings'
confidences, raised to clear `BANK_QUANTILE` of the bank; the clarify threshold is
`CLARIFY_QUANTILE` of the phrasings. A fact base too small to measure keeps the fixed defaults.
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

ANSWER_QUANTILE = 25
"""A quarter of the fact base's own phrasings fall below the answer threshold: the price of declining
near-topic questions, which share words with a fact but ask what it does not say."""
CLARIFY_QUANTILE = 5
BANK_QUANTILE = 90
BANK_CUT = 40
"""Bank questions scoring above this percentile of the phrasings are taken for ones the fact base answers."""
MINIMUM = 20
"""Fewer right-ranked phrasings than this and the fixed defaults are used."""


@functools.lru_cache(maxsize=1)
def bank() -> tuple[str, ...]:
    """The out-of-scope questions shipped with Factbot."""
    text = resources.files("bot").joinpath("data", "out_of_scope.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def own_phrasings(matcher: Matcher, *, sample: int = SAMPLE, seed: int = 0) -> list[float]:
    """Confidences for the fact base's example phrasings that rank their own intent first, each left out."""
    examples = matcher.examples
    chosen = random.Random(seed).sample(range(len(examples)), min(sample, len(examples)))
    scores = []
    for index in chosen:
        intent, text = examples[index]
        ranking = matcher.rank(text, leave_out=index)
        if ranking.best is not None and ranking.best.intent == intent and ranking.topical:
            scores.append(ranking.confidence)
    return scores


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
    own = own_phrasings(matcher)
    if len(own) < MINIMUM:
        return DEFAULT_ANSWER, DEFAULT_CLARIFY
    typical = float(np.percentile(own, BANK_CUT))
    unlike = [s for s in bank_scores(matcher) if s < typical] or [0.0]
    answer = max(float(np.percentile(own, ANSWER_QUANTILE)), float(np.percentile(unlike, BANK_QUANTILE)))
    clarify = min(answer, float(np.percentile(own, CLARIFY_QUANTILE)))
    return round(answer, 2), round(clarify, 2)
