"""Thresholds that fit the fact base loaded, worked out from the fact base itself.

A confidence means different things in different fact bases: ten short examples per intent score
lower than fifteen long ones. So the thresholds are not fixed numbers but read off two samples:

- the fact base's own example phrasings, each asked as a new question with itself left out of the
  index (leave-one-out): how confident the matcher is about questions the fact base does answer,
  when it ranks them right;
- a bank of questions that no fact base of this kind answers (`bot/data/out_of_scope.txt`): how
  confident it is about questions from outside.

The answer threshold starts from a hedge against near-topic questions, which share words with a fact
but ask what it does not say and which neither sample holds: a quantile of the phrasings, up to
`ANSWER_QUANTILE`. The more of the bank reaches the fact base (shares a word with its sources; with
several sources, the one it reaches least), the more the bank already stands for the questions to
decline, and the lower the quantile: a fact base of everyday requests is asked everyday questions it
does not cover, a licence is asked about licences.

Above the hedge, the answer threshold and a floor on the best match's meaning (how near the question
is to the intent's examples in word vectors) are chosen together, as the pair that best tells the
phrasings from the bank: a phrasing answered right is worth `IN_SCOPE_WEIGHT`, one answered with
another intent costs as much, and a bank question declined is worth the rest. Where the bank shares
words with the fact base but not its meaning ("what's the weather like in Rome" beside "set the
thermostat"), the floor declines it; where the bank never comes near, there is no floor.

Where most of the bank reaches the fact base (`bot.bank.REACHED`), as it reaches a fact base of everyday
requests, the bank stands for the questions to decline, and the meaning floor (always one there) keeps
them out; then a question under the answer threshold is answered too when its best match by words is also
the intent nearest it in meaning (words and meaning agree). Everyday requests come in words of their own
("find me a flight out of denver on the 4th"), which words alone seldom match closely. Where the bank does
not reach the fact base, the questions to fear are near-topic ones, which are as near their intent in
meaning as answerable ones, and agreement answers nothing the thresholds do not.

The clarify threshold is `CLARIFY_QUANTILE` of the phrasings. A fact base too small to measure keeps
the fixed defaults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from bot.bank import BANK_SAMPLE, bank_sample
from bot.matcher import Matcher

DEFAULT_ANSWER, DEFAULT_CLARIFY, DEFAULT_MARGIN = 0.6, 0.4, 0.005
"""The fixed thresholds for a fact base too small to calibrate on."""


NO_FLOOR = -1.0
"""A meaning floor that every match clears (word vectors' similarities are at least -1)."""


@dataclass(frozen=True)
class Thresholds:
    """What turns a ranking into a decision: two thresholds on `Ranking.confidence`, the margin (on scores)
    between the best match and the runner-up, the floor on the best match's meaning for an answer, and
    whether words and meaning agreeing on the best match answer below the answer threshold."""

    answer: float = DEFAULT_ANSWER
    clarify: float = DEFAULT_CLARIFY
    margin: float = DEFAULT_MARGIN
    meaning: float = NO_FLOOR
    agree: bool = False


Evidence = tuple[float, float]
"""A question's confidence and its best match's meaning."""


SAMPLE = 1000
"""Example phrasings asked (all of them, up to this many, chosen with a fixed seed): with fewer, which ones are
drawn moves the thresholds (on CLINC150, 300 of its 1,500 gave answer thresholds from 0.18 to 0.38), and each
costs a fraction of a millisecond."""

ANSWER_QUANTILE = 40
"""The hedge's quantile of the fact base's own phrasings where no bank question reaches the fact base."""
IN_SCOPE_WEIGHT = 0.75
"""What answering a question the fact base covers is worth beside declining one it does not: most
questions people put to a bot are about what it is for."""
CLARIFY_QUANTILE = 5
MINIMUM = 20
"""Fewer right-ranked phrasings than this and the fixed defaults are used."""


def own_phrasings(matcher: Matcher, *, sample: int = SAMPLE, seed: int = 0) -> tuple[list[Evidence], list[Evidence]]:
    """The evidence for the fact base's example phrasings, each left out: those ranking their own intent first,
    and those ranking another intent first (which would be wrong answers)."""
    examples = matcher.examples
    chosen = random.Random(seed).sample(range(len(examples)), min(sample, len(examples)))
    right: list[Evidence] = []
    wrong: list[Evidence] = []
    for index in chosen:
        intent, text = examples[index]
        ranking = matcher.rank(text, leave_out=index, keep=2)
        if ranking.best is not None and ranking.topical:
            (right if ranking.best.intent == intent else wrong).append((ranking.confidence, ranking.best.meaning))
    return right, wrong


def bank_scores(matcher: Matcher, *, sample: int = BANK_SAMPLE, seed: int = 0) -> list[Evidence]:
    """The evidence for the bank's questions (a sample): (0, `NO_FLOOR`) where no word is the fact base's."""
    scores = []
    for text in bank_sample(sample, seed):
        ranking = matcher.rank(text, keep=2)
        best = ranking.best
        scores.append((ranking.confidence, best.meaning) if best is not None and ranking.topical else (0.0, NO_FLOOR))
    return scores


@dataclass(frozen=True)
class Calibration:
    """What start-up reads off a fact base: how far the bank reaches it (`bot.bank.least_reach`) and the
    thresholds measured on it. The same fact base and the same Factbot always give the same, so a later start
    may reuse it (`bot.cli.calibration`)."""

    reach: float
    measured: Thresholds


def resolve(
    measured: Thresholds, *, answer: float | None = None, clarify: float | None = None, margin: float = DEFAULT_MARGIN
) -> Thresholds:
    """The thresholds given, with each one left as None taken from those `measured` on the fact base (clarify
    never above answer), and the meaning floor measured. An answer threshold given is the only way to an
    answer: words and meaning agreeing answer nothing below it."""
    agree = measured.agree and answer is None
    answer = measured.answer if answer is None else answer
    clarify = min(measured.clarify, answer) if clarify is None else clarify
    return Thresholds(answer, clarify, margin, measured.meaning, agree)


def measure(matcher: Matcher) -> Thresholds:
    """The answer and clarify thresholds and the meaning floor read off this fact base's own phrasings and the bank."""
    right, wrong = (np.array(found, dtype=float).reshape(-1, 2) for found in own_phrasings(matcher))
    if len(right) < MINIMUM:
        return Thresholds()
    outside = np.array(bank_scores(matcher), dtype=float).reshape(-1, 2)
    reach = matcher.reach
    hedge = float(np.percentile(right[:, 0], ANSWER_QUANTILE * (1 - reach)))
    quantiles = [q for q in MEANING_QUANTILES if q >= LEAST_AGREEING_FLOOR] if matcher.everyday else None
    answer, meaning = separating(right, wrong, outside, hedge, quantiles)
    clarify = min(answer, float(np.percentile(right[:, 0], CLARIFY_QUANTILE)))
    return Thresholds(round(answer, 2), round(clarify, 2), DEFAULT_MARGIN, round(meaning, 2), matcher.everyday)


MEANING_QUANTILES = range(0, 50, 2)
"""Meaning floors tried: these percentiles of the right-ranked phrasings' meaning (and no floor)."""
LEAST_AGREEING_FLOOR = 2
"""The lowest of `MEANING_QUANTILES` tried where words and meaning agreeing answer (a fact base of everyday
requests), and no floor is not tried: there the floor is what turns away the questions from outside that agree,
below the answer threshold, which the choice does not see. On CLINC150 (validation split, ten samples of its
examples) the one sample whose scores favoured the lowest floor (0.09) declined 69.5% of the out-of-scope
questions, against 78-90% for the others; held to this one (0.28), 79.5%."""


def separating(
    right: np.ndarray, wrong: np.ndarray, outside: np.ndarray, hedge: float, quantiles: list[int] | None = None
) -> tuple[float, float]:
    """The answer threshold (at least `hedge`) and meaning floor that best tell the fact base's phrasings
    (answered, and right) from the rest. The floor is none or one of `MEANING_QUANTILES` of the phrasings'
    meaning; given `quantiles`, one of those (then there is always a floor).

    Each row of `right`, `wrong` and `outside` is a question's confidence and meaning. A phrasing answered
    right is worth `IN_SCOPE_WEIGHT`, one answered wrong costs as much, and a bank question declined is
    worth the rest.
    """
    asked = len(right) + len(wrong)
    cuts = np.unique(np.r_[right[:, 0], wrong[:, 0], outside[:, 0] + 1e-4, hedge])
    cuts = cuts[cuts >= hedge]
    best, chosen = -np.inf, (hedge, NO_FLOOR)
    if quantiles is None:
        floors = np.r_[NO_FLOOR, np.percentile(right[:, 1], list(MEANING_QUANTILES))]
    else:
        floors = np.percentile(right[:, 1], quantiles)
    for floor in floors:
        answered = [_at_or_above(found[found[:, 1] >= floor, 0], cuts) for found in (right, wrong, outside)]
        worth = IN_SCOPE_WEIGHT * (answered[0] - answered[1]) / asked
        worth += (1 - IN_SCOPE_WEIGHT) * (1 - answered[2] / max(1, len(outside)))
        at = int(np.argmax(worth))
        if worth[at] > best + 1e-12:
            best, chosen = float(worth[at]), (float(cuts[at]), float(floor))
    return chosen


def _at_or_above(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """How many of `values` are at or above each of `cuts`."""
    return len(values) - np.searchsorted(np.sort(values), cuts, side="left")
