"""Answer quality as numbers: score an engine on a labelled question file, and calibrate its thresholds.

A labelled file is a YAML list (or a list under `questions:`) of `q`, `expect` and an optional
`group`. `expect` is an intent id, a list of acceptable intent ids, or `none` for a question the
bot must not answer. A file may instead label each answerable question with a phrase of the quote
that answers it (sections `answerable`, `near_topic`, `unrelated`, as `tests/data/questions.yaml`).

Every question is ranked once; the thresholds are then applied again and again to the same
rankings (`Engine.decide`), which is what makes calibration cheap. Nothing is written to the
engine's store.
"""

from __future__ import annotations

import copy
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, field_validator

from bot.calibrate import NO_FLOOR
from bot.documents import unwrapped
from bot.engine import SUGGESTIONS, Engine, Thresholds
from bot.knowledge import FactBase
from bot.matcher import Ranking
from bot.models import Status

NONE = "none"
"""The `expect` value of a question the bot must not answer."""

SUGGESTED = SUGGESTIONS
"""A clarifying question helps when an expected intent is among this many offered (as many as the bot offers)."""

ANSWER_GRID = tuple(round(0.30 + 0.025 * i, 3) for i in range(27))  # 0.30 .. 0.95
CLARIFY_GRID = tuple(round(0.15 + 0.05 * i, 3) for i in range(15))  # 0.15 .. 0.85
MARGIN_GRID = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05)
TRADE_OFF = (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)
"""Answer thresholds shown in the trade-off table."""


# -- the labelled file ----------------------------------------------------------------------------


class Item(BaseModel):
    """One labelled question: the acceptable intents, or none when it must not be answered."""

    q: str
    expect: list[str] = Field(default_factory=list)
    group: str | None = None

    @field_validator("expect", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> list[str]:
        """`none` (or nothing) becomes the empty list; one id becomes a list of one."""
        if value is None or value == NONE:
            return []
        return [str(value)] if isinstance(value, str) else [str(v) for v in value]

    @property
    def in_scope(self) -> bool:
        """Whether the question should be answered."""
        return bool(self.expect)


QUOTED_GROUPS = ("answerable", "near_topic", "unrelated")
"""The sections of a file labelled by quotation: `answerable` rows carry a phrase of the answer's quote."""


def load_items(path: Path, base: FactBase | None = None) -> list[Item]:
    """The labelled questions of a YAML file.

    Either a list (or a list under `questions:`) of `q` and `expect` (intent ids, or `none`), or
    sections `answerable` (`q`, and `expect`: a phrase the answer's quote holds), `near_topic` and
    `unrelated` (`q`), which need `base` to find the intents whose facts quote each phrase.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    if isinstance(data, dict) and any(group in data for group in QUOTED_GROUPS):
        if base is None:
            raise ValueError(f"{path}: questions labelled by quotation need a fact base")
        items = _quoted_items(data, base)
    else:
        rows = data.get("questions", []) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise ValueError(f"{path}: expected a list of questions")
        items = [Item.model_validate(row) for row in rows]
    if not items:
        raise ValueError(f"{path}: no questions")
    return items


def intents_quoting(base: FactBase, phrase: str) -> list[str]:
    """The intents whose facts quote `phrase` (line breaks aside): the right answers to a question labelled by it."""
    phrase = unwrapped(phrase)
    return [i.id for i in base.intents.values() if any(phrase in unwrapped(base.facts[f].quote) for f in i.facts)]


def _quoted_items(data: dict[str, Any], base: FactBase) -> list[Item]:
    """Questions labelled by a phrase of the quote that answers them, as intent-labelled items."""
    items = []
    for group in QUOTED_GROUPS:
        for row in data.get(group) or []:
            if group != "answerable":
                items.append(Item(q=row["q"], group=group))
                continue
            intents = intents_quoting(base, str(row["expect"]))
            if not intents:
                raise ValueError(f"no fact quotes {unwrapped(str(row['expect']))!r} (question {row['q']!r})")
            items.append(Item(q=row["q"], expect=intents, group=group))
    return items


def unknown_intents(engine: Engine, items: Iterable[Item]) -> list[str]:
    """Intent ids the labels name that the fact base does not have."""
    return sorted({i for item in items for i in item.expect if i not in engine.base.intents})


# -- one ranking per question, decided again for each set of thresholds ---------------------------


@dataclass(frozen=True)
class Ranked:
    """A labelled question with the matcher's ranking of it (done once)."""

    item: Item
    ranking: Ranking

    @property
    def top_right(self) -> bool:
        """Whether the best candidate is an acceptable intent."""
        best = self.ranking.best
        return best is not None and best.intent in self.item.expect


def rank_all(engine: Engine, items: Iterable[Item]) -> list[Ranked]:
    """Rank every question once."""
    return [Ranked(item, engine.matcher.rank(item.q)) for item in items]


def with_thresholds(engine: Engine, thresholds: Thresholds) -> Engine:
    """A shallow copy of `engine` (same matcher and fact base) deciding with other thresholds."""
    other = copy.copy(engine)
    other.thresholds = thresholds
    return other


def status_of(engine: Engine, ranked: Ranked) -> Status:
    """What `engine.compose` would do with a ranked question, without composing the answer."""
    return engine.status(ranked.item.q, ranked.ranking)


def is_right(ranked: Ranked, status: Status) -> bool:
    """Answered with an acceptable intent, or (for a `none` question) not answered."""
    if not ranked.item.in_scope:
        return status is not Status.answered
    return status is Status.answered and ranked.top_right


# -- the report -----------------------------------------------------------------------------------


class GroupScore(BaseModel):
    """How one group of questions fared."""

    group: str
    total: int
    right: int
    rate: float


class IntentScore(BaseModel):
    """Precision, recall and F1 of one intent over the answered questions."""

    intent: str
    support: int
    answered: int
    right: int
    precision: float
    recall: float
    f1: float


class Confusion(BaseModel):
    """Questions meant for one intent whose best candidate was another."""

    expected: str
    got: str
    count: int


class Miss(BaseModel):
    """One question handled wrongly, with what the matcher made of it."""

    q: str
    group: str | None
    expect: list[str]
    status: Status
    intent: str | None
    score: float
    runner_up: str | None
    runner_up_score: float | None


class Report(BaseModel):
    """The quality of an engine's answers on a labelled set."""

    questions: int
    in_scope: int
    must_not_answer: int
    accuracy: float = Field(description="Share of in-scope questions answered with an expected intent.")
    abstention: float = Field(description="Share of `none` questions not answered.")
    clarify_rate: float = Field(description="Share of all questions met with a clarifying question.")
    thresholds: dict[str, float]
    """answer, clarify and margin; the meaning floor as `meaning` where there is one; `agree` (1) where words
    and meaning agreeing answer below the answer threshold."""
    groups: list[GroupScore]
    intents: list[IntentScore]
    confused: list[Confusion]
    misses: list[Miss]


def evaluate(engine: Engine, items: Sequence[Item], *, ranked: Sequence[Ranked] | None = None) -> Report:
    """Score `engine` on labelled questions (`ranked` reuses rankings already made)."""
    ranked = list(ranked) if ranked is not None else rank_all(engine, items)
    statuses = [status_of(engine, r) for r in ranked]
    in_scope = [(r, s) for r, s in zip(ranked, statuses, strict=True) if r.item.in_scope]
    outside = [(r, s) for r, s in zip(ranked, statuses, strict=True) if not r.item.in_scope]
    t = engine.thresholds
    return Report(
        questions=len(ranked),
        in_scope=len(in_scope),
        must_not_answer=len(outside),
        accuracy=_share(is_right(r, s) for r, s in in_scope),
        abstention=_share(is_right(r, s) for r, s in outside),
        clarify_rate=_share(s is Status.clarify for s in statuses),
        thresholds={
            "answer": t.answer,
            "clarify": t.clarify,
            "margin": t.margin,
            **({"meaning": t.meaning} if t.meaning > NO_FLOOR else {}),
            **({"agree": 1.0} if t.agree else {}),
        },
        groups=_groups(ranked, statuses),
        intents=_intent_scores(ranked, statuses),
        confused=_confused(ranked),
        misses=[_miss(r, s) for r, s in zip(ranked, statuses, strict=True) if not is_right(r, s)],
    )


def _share(flags: Iterable[bool]) -> float:
    """The share of true flags (1.0 for none at all: nothing went wrong)."""
    values = list(flags)
    return sum(values) / len(values) if values else 1.0


def _groups(ranked: Sequence[Ranked], statuses: Sequence[Status]) -> list[GroupScore]:
    """The right rate of each group, in the order groups first appear."""
    tally: dict[str, list[bool]] = defaultdict(list)
    for r, s in zip(ranked, statuses, strict=True):
        tally[r.item.group or ("answerable" if r.item.in_scope else NONE)].append(is_right(r, s))
    return [GroupScore(group=g, total=len(v), right=sum(v), rate=_share(v)) for g, v in tally.items()]


def _gold(ranked: Ranked) -> str:
    """The intent a question counts for: the one answered when acceptable, else the first expected."""
    best = ranked.ranking.best
    return best.intent if best is not None and ranked.top_right else ranked.item.expect[0]


def _intent_scores(ranked: Sequence[Ranked], statuses: Sequence[Status]) -> list[IntentScore]:
    """Per intent: questions meant for it (support), answered with it, and right; worst F1 first."""
    support: Counter[str] = Counter(_gold(r) for r in ranked if r.item.in_scope)
    answered: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for r, s in zip(ranked, statuses, strict=True):
        if s is Status.answered and r.ranking.best is not None:
            answered[r.ranking.best.intent] += 1
            right[r.ranking.best.intent] += is_right(r, s)
    rows = [_intent_score(i, support[i], answered[i], right[i]) for i in set(support) | set(answered)]
    return sorted(rows, key=lambda row: (row.f1, -row.support, row.intent))


def _intent_score(intent: str, support: int, answered: int, right: int) -> IntentScore:
    """One intent's precision, recall and F1."""
    precision = right / answered if answered else (1.0 if not support else 0.0)
    recall = right / support if support else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return IntentScore(
        intent=intent, support=support, answered=answered, right=right, precision=precision, recall=recall, f1=f1
    )


def _confused(ranked: Sequence[Ranked], *, top: int = 10) -> list[Confusion]:
    """The (expected, best candidate) pairs seen most often among in-scope questions ranked wrongly."""
    pairs = Counter(
        (r.item.expect[0], r.ranking.best.intent)
        for r in ranked
        if r.item.in_scope and r.ranking.best is not None and not r.top_right
    )
    return [Confusion(expected=e, got=g, count=n) for (e, g), n in pairs.most_common(top)]


def _miss(ranked: Ranked, status: Status) -> Miss:
    """A wrongly handled question with its best candidate and runner-up."""
    candidates = ranked.ranking.candidates
    best = candidates[0] if candidates else None
    runner = candidates[1] if len(candidates) > 1 else None
    return Miss(
        q=ranked.item.q,
        group=ranked.item.group,
        expect=ranked.item.expect,
        status=status,
        intent=best.intent if best else None,
        score=best.score if best else 0.0,
        runner_up=runner.intent if runner else None,
        runner_up_score=runner.score if runner else None,
    )


# -- calibration by cross-validation --------------------------------------------------------------


class Scores(BaseModel):
    """Accuracy, abstention and coverage of decided questions."""

    accuracy: float
    abstention: float
    unrelated_abstention: float
    clarify_rate: float
    coverage: float = Field(description="Share of all questions answered.")


class Point(Scores):
    """The numbers for one set of thresholds."""

    answer: float
    clarify: float
    margin: float


class Fold(BaseModel):
    """The thresholds chosen on one fold's training questions."""

    fold: int
    answer: float
    clarify: float
    margin: float
    held_out: int


class Calibration(BaseModel):
    """Proposed thresholds, and how the procedure that chose them does on questions it never saw."""

    objective: str
    folds: list[Fold]
    held_out: Scores = Field(description="Each fold decided with the thresholds fitted on the other folds.")
    current: Point
    proposed: Thresholds
    trade_off: list[Point]


OBJECTIVE = (
    "maximise in-scope accuracy + abstention on `none` questions, answering no `unrelated` question; "
    "then the clarify threshold maximising helpful clarifications (an expected intent among the "
    f"{SUGGESTED} offered) plus fallbacks on `none` questions"
)


def calibrate(engine: Engine, items: Sequence[Item], *, folds: int = 5, seed: int = 0) -> Calibration:
    """Choose the thresholds by k-fold cross-validation and report only held-out numbers."""
    ranked = rank_all(engine, items)
    parts = _folds(ranked, folds=folds, seed=seed)
    chosen: list[Fold] = []
    pooled: list[tuple[Ranked, Status]] = []
    for index, test in enumerate(parts):
        train = [r for i, part in enumerate(parts) if i != index for r in part]
        fitted = fit(engine, train)
        chosen.append(
            Fold(fold=index + 1, answer=fitted.answer, clarify=fitted.clarify, margin=fitted.margin, held_out=len(test))
        )
        judge = with_thresholds(engine, fitted)
        pooled.extend((r, status_of(judge, r)) for r in test)
    return Calibration(
        objective=OBJECTIVE,
        folds=chosen,
        held_out=_scores(pooled),
        current=_point(engine.thresholds, _decided(engine, ranked)),
        proposed=fit(engine, ranked),
        trade_off=trade_off(engine, ranked),
    )


def _folds(ranked: Sequence[Ranked], *, folds: int, seed: int) -> list[list[Ranked]]:
    """Shuffled folds, each with about the same share of every group."""
    by_group: dict[str | None, list[Ranked]] = defaultdict(list)
    for r in ranked:
        by_group[r.item.group if r.item.group else str(r.item.in_scope)].append(r)
    shuffle = random.Random(seed)
    parts: list[list[Ranked]] = [[] for _ in range(max(2, folds))]
    position = 0
    for group in sorted(by_group, key=str):
        members = by_group[group]
        shuffle.shuffle(members)
        for r in members:
            parts[position % len(parts)].append(r)
            position += 1
    return parts


def fit(engine: Engine, ranked: Sequence[Ranked]) -> Thresholds:
    """The thresholds that maximise the objective on `ranked` (the training questions), at the engine's floor
    (and with its answers on agreement)."""
    kept = engine.thresholds
    answer, margin = max(
        ((a, m) for a in ANSWER_GRID for m in MARGIN_GRID),
        key=lambda am: _answer_objective(
            engine, ranked, replace(kept, answer=am[0], clarify=min(CLARIFY_GRID), margin=am[1])
        ),
    )
    clarify = max(
        (c for c in CLARIFY_GRID if c <= answer),
        key=lambda c: _clarify_objective(engine, ranked, replace(kept, answer=answer, clarify=c, margin=margin)),
        default=min(answer, min(CLARIFY_GRID)),
    )
    return replace(kept, answer=answer, clarify=clarify, margin=margin)


def _answer_objective(engine: Engine, ranked: Sequence[Ranked], thresholds: Thresholds) -> tuple[float, ...]:
    """Accuracy + abstention, with no unrelated question answered; ties go to abstaining more, then lower."""
    point = _point(thresholds, _decided(with_thresholds(engine, thresholds), ranked))
    feasible = point.unrelated_abstention >= 1.0
    return (feasible, point.accuracy + point.abstention, point.abstention, -thresholds.answer, -thresholds.margin)


def _clarify_objective(engine: Engine, ranked: Sequence[Ranked], thresholds: Thresholds) -> tuple[float, float]:
    """Helpful clarifications plus fallbacks on `none` questions; ties go to the higher threshold."""
    judge = with_thresholds(engine, thresholds)
    good = 0
    for r in ranked:
        status = status_of(judge, r)
        if status is Status.clarify:
            offered = {c.intent for c in r.ranking.candidates[:SUGGESTED]}
            good += bool(offered & set(r.item.expect))
        elif status is not Status.answered:
            good += not r.item.in_scope
    return (good, thresholds.clarify)


def _decided(engine: Engine, ranked: Sequence[Ranked]) -> list[tuple[Ranked, Status]]:
    """Each ranked question with the engine's decision."""
    return [(r, status_of(engine, r)) for r in ranked]


def _point(thresholds: Thresholds, decided: Sequence[tuple[Ranked, Status]]) -> Point:
    """The numbers for one set of thresholds over decided questions."""
    scores = _scores(decided).model_dump()
    return Point(answer=thresholds.answer, clarify=thresholds.clarify, margin=thresholds.margin, **scores)


def _scores(decided: Sequence[tuple[Ranked, Status]]) -> Scores:
    """The numbers over decided questions."""
    in_scope = [is_right(r, s) for r, s in decided if r.item.in_scope]
    outside = [is_right(r, s) for r, s in decided if not r.item.in_scope]
    unrelated = [is_right(r, s) for r, s in decided if r.item.group == "unrelated"]
    return Scores(
        accuracy=_share(in_scope),
        abstention=_share(outside),
        unrelated_abstention=_share(unrelated),
        clarify_rate=_share(s is Status.clarify for _, s in decided),
        coverage=_share(s is Status.answered for _, s in decided),
    )


def trade_off(engine: Engine, ranked: Sequence[Ranked], answers: Sequence[float] = TRADE_OFF) -> list[Point]:
    """Accuracy, abstention and coverage at each answer threshold (the engine's clarify and margin).

    Fixed thresholds are not fitted to anything, so their numbers on every question are held-out numbers.
    """
    base = engine.thresholds
    points = []
    for answer in answers:
        thresholds = replace(base, answer=answer, clarify=min(base.clarify, answer))
        points.append(_point(thresholds, _decided(with_thresholds(engine, thresholds), ranked)))
    return points


# -- settings file ---------------------------------------------------------------------------------

SETTING_NAMES = ("FACTBOT_ANSWER_THRESHOLD", "FACTBOT_CLARIFY_THRESHOLD", "FACTBOT_CLARIFY_MARGIN")


def write_thresholds(path: Path, thresholds: Thresholds) -> None:
    """Set the three threshold variables in a `.env` file, updating their lines in place, keeping the rest."""
    values = dict(zip(SETTING_NAMES, (thresholds.answer, thresholds.clarify, thresholds.margin), strict=True))
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    written: set[str] = set()
    for index, line in enumerate(lines):
        name = line.split("=", 1)[0].strip().removeprefix("export ").strip()
        if name in values and "=" in line:
            lines[index] = f"{name}={values[name]:g}"
            written.add(name)
    lines.extend(f"{name}={value:g}" for name, value in values.items() if name not in written)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- charts (matplotlib, imported only when drawing) -----------------------------------------------


def plot(engine: Engine, ranked: Sequence[Ranked], folder: Path) -> list[Path]:
    """Write the confidence histogram and the accuracy-against-coverage curve as PNGs in `folder`."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, whatever the machine has
    folder.mkdir(parents=True, exist_ok=True)
    return [_histogram(engine, ranked, folder / "confidence.png"), _coverage(engine, ranked, folder / "coverage.png")]


def _histogram(engine: Engine, ranked: Sequence[Ranked], path: Path) -> Path:
    """The confidence the thresholds apply to, for questions whose best candidate is right and for the rest.

    The legend counts as the report's table does: of the questions whose best candidate is right, how many
    were answered (the table's in-scope "right"), the rest being asked back or declined.
    """
    import matplotlib.pyplot as plt

    right = [r for r in ranked if r.ranking.best is not None and r.top_right]
    wrong = [r for r in ranked if not r.top_right]
    answered = sum(status_of(engine, r) is Status.answered for r in right)
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=110, layout="constrained")
    bins = [i / 40 for i in range(41)]
    for rows, colour, label in (
        (right, "#31a354", f"best candidate right: {len(right)}, of which {answered} answered"),
        (wrong, "#de2d26", f"best candidate wrong, or must not answer: {len(wrong)}"),
    ):
        axes.hist([r.ranking.confidence for r in rows], bins=bins, alpha=0.7, color=colour, label=label)
    for name, value, style in (("answer", engine.thresholds.answer, "-"), ("clarify", engine.thresholds.clarify, ":")):
        axes.axvline(value, color="black", linestyle=style, label=f"{name} threshold {value:g}")
    axes.set_xlabel("confidence (what the thresholds apply to)")
    axes.set_ylabel("questions")
    axes.set_title("Confidence of the best candidate, right vs wrong")
    axes.legend(frameon=False)
    figure.savefig(path)
    plt.close(figure)
    return path


def _coverage(engine: Engine, ranked: Sequence[Ranked], path: Path) -> Path:
    """Accuracy of the answers given against the share of questions answered, as the answer threshold moves."""
    import matplotlib.pyplot as plt

    points = trade_off(engine, ranked, [i / 100 for i in range(20, 100)])
    answered = [(p, _answer_precision(engine, ranked, p)) for p in points]
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=110, layout="constrained")
    axes.plot([p.coverage for p, _ in answered], [a for _, a in answered], color="#3182bd", marker=".")
    for p, a in answered:
        if round(p.answer * 100) % 10 == 0:
            axes.annotate(f"{p.answer:.1f}", (p.coverage, a), textcoords="offset points", xytext=(4, 4), fontsize=8)
    current = trade_off(engine, ranked, [engine.thresholds.answer])[0]
    here = (current.coverage, _answer_precision(engine, ranked, current))
    axes.plot(*here, marker="o", color="#de2d26", linestyle="", label=f"current threshold {current.answer:g}")
    axes.legend(frameon=False, loc="lower left")
    axes.set_xlabel("coverage (share of all questions answered)")
    axes.set_ylabel("accuracy of the answers given")
    axes.set_title("Accuracy against coverage over answer thresholds (labels: threshold)")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.grid(color="#e5e5e5")
    figure.savefig(path)
    plt.close(figure)
    return path


def _answer_precision(engine: Engine, ranked: Sequence[Ranked], point: Point) -> float:
    """Share of answered questions answered with an acceptable intent, at one point's thresholds."""
    chosen = replace(engine.thresholds, answer=point.answer, clarify=point.clarify, margin=point.margin)
    judge = with_thresholds(engine, chosen)
    answered = [r.top_right for r in ranked if status_of(judge, r) is Status.answered]
    return _share(answered)
