"""Curator reports from the question log: unanswered questions grouped by similarity, feedback, usage.

Every report is a list of pydantic rows, so the command line can print it as a table, one JSON
document or CSV. Nothing here reads the store: callers pass the records they fetched.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel
from rapidfuzz import fuzz, process

from bot import smalltalk
from bot.matcher import STOPWORDS, Matcher
from bot.normalise import normalise, stem
from bot.store import FeedbackRecord, QuestionRecord, now

if TYPE_CHECKING:
    from matplotlib.axes import Axes

UNANSWERED = ("fallback", "clarify")
SIMILARITY = 75.0
"""How alike (rapidfuzz token_sort_ratio, 0-100, on content-word stems) two phrasings must be to be grouped.

token_sort_ratio rather than token_set_ratio: the latter scores any subset 100, which would put
"when was the election" in the group of "when is the next election"."""

TOP_INTENTS = 10

_RELATIVE = re.compile(r"^\s*(\d+)\s*([wdhm])\s*$", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


# -- the reporting window -----------------------------------------------------------------------


def parse_since(text: str, *, moment: datetime | None = None) -> datetime | None:
    """`7d`, `24h`, `30m`, `2w` ago, an ISO date or date-time (UTC when no zone is given), or `all` (None)."""
    if text.strip().casefold() == "all":
        return None
    if found := _RELATIVE.match(text):
        amount, unit = int(found[1]), found[2].casefold()
        return (moment or now()) - timedelta(**{_UNITS[unit]: amount})
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a duration (7d, 24h, 30m, 2w), an ISO date (2024-05-01) or 'all'") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def describe_since(since: datetime | None) -> str:
    """The window in words for a heading: `since 2024-05-01 09:30 UTC`, or `ever`."""
    if since is None:
        return "ever"
    return f"since {since.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


# -- unanswered questions -----------------------------------------------------------------------


class UnansweredGroup(BaseModel):
    """Similar questions the bot could not answer, with the intent they came closest to."""

    count: int
    example: str
    intent: str | None
    score: float | None
    fallback: int
    clarify: int
    last_asked: datetime
    phrasings: list[str]


@dataclass
class Unanswered:
    """The unanswered-questions report: its groups, most asked first, and questions logged without text."""

    groups: list[UnansweredGroup]
    unlogged: int = 0


@dataclass
class Cluster:
    """Questions gathered around one seed phrasing while grouping."""

    key: str
    records: list[QuestionRecord] = field(default_factory=list)


def content_key(text: str) -> str:
    """The stems of a question's content words: what grouping compares (stopwords carry no topic)."""
    words = normalise(text).split()
    content = [stem(w) for w in words if w not in STOPWORDS and w not in smalltalk.WORDS]
    return " ".join(content or words)


def unanswered(questions: Iterable[QuestionRecord], matcher: Matcher, *, similarity: float = SIMILARITY) -> Unanswered:
    """Questions that got `fallback` or `clarify`, grouped by similarity: most asked first, then most recent."""
    missed = [q for q in questions if q.status in UNANSWERED]
    logged = [q for q in missed if q.text and normalise(q.text)]
    groups = [_group(cluster, matcher) for cluster in cluster_questions(logged, similarity=similarity)]
    groups.sort(key=lambda g: (-g.count, -g.last_asked.timestamp(), g.example.casefold()))
    return Unanswered(groups, unlogged=len(missed) - len(logged))


def cluster_questions(questions: Sequence[QuestionRecord], *, similarity: float = SIMILARITY) -> list[Cluster]:
    """Greedy, order-independent grouping: phrasings most asked first each join the closest seed, or seed a group."""
    by_phrasing: dict[str, list[QuestionRecord]] = defaultdict(list)
    for question in questions:
        by_phrasing[normalise(question.text or "")].append(question)
    clusters: list[Cluster] = []
    for _, records in sorted(by_phrasing.items(), key=lambda item: (-len(item[1]), item[0])):
        key = content_key(records[0].text or "")
        best = process.extractOne(key, [c.key for c in clusters], scorer=fuzz.token_sort_ratio, score_cutoff=similarity)
        if best is None:
            clusters.append(Cluster(key))
        clusters[best[2] if best else -1].records.extend(records)
    return clusters


def _group(cluster: Cluster, matcher: Matcher) -> UnansweredGroup:
    """A cluster as a report row, with the intent its example nearly matched."""
    phrasings = _phrasings(cluster.records)
    best = matcher.rank(phrasings[0]).best
    statuses = Counter(q.status for q in cluster.records)
    return UnansweredGroup(
        count=len(cluster.records),
        example=phrasings[0],
        intent=best.intent if best else None,
        score=best.score if best else None,
        fallback=statuses["fallback"],
        clarify=statuses["clarify"],
        last_asked=max(q.at for q in cluster.records),
        phrasings=phrasings,
    )


def _phrasings(records: Sequence[QuestionRecord]) -> list[str]:
    """Distinct phrasings (same words, any case or punctuation), most common first, ties by first asked.

    Each phrasing is shown in its most common spelling.
    """
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for question in sorted(records, key=lambda q: q.at):
        text = " ".join((question.text or "").split())
        spellings[normalise(text)][text] += 1
    ranked = sorted(spellings.values(), key=lambda spelled: -spelled.total())
    return [spelled.most_common(1)[0][0] for spelled in ranked]


# -- feedback -----------------------------------------------------------------------------------


class FeedbackRow(BaseModel):
    """Votes on one intent or one fact, and the questions whose answers got a 👎."""

    kind: Literal["intent", "fact"]
    id: str
    up: int
    down: int
    down_questions: list[str]


def feedback(votes: Iterable[FeedbackRecord], questions: Iterable[QuestionRecord]) -> list[FeedbackRow]:
    """👍 and 👎 per intent and per fact, intents first, the most 👎 first within each kind."""
    questions = list(questions)
    texts = {q.id: q.text for q in questions if q.id is not None and q.text}
    votes = [_with_question(v, questions) for v in votes]
    tally: dict[tuple[Literal["intent", "fact"], str], list[FeedbackRecord]] = defaultdict(list)
    for vote in votes:
        if vote.intent:
            tally[("intent", vote.intent)].append(vote)
        for fact_id in dict.fromkeys(vote.fact_ids):
            tally[("fact", fact_id)].append(vote)
    rows = [_feedback_row(kind, item, found, texts) for (kind, item), found in tally.items()]
    return sorted(rows, key=lambda r: (r.kind != "intent", -r.down, -r.up, r.id))


VOTE_LOOKBACK = timedelta(days=1)
"""How far before a vote the question it answered is looked for, when the vote does not name it."""


def _with_question(vote: FeedbackRecord, questions: Sequence[QuestionRecord]) -> FeedbackRecord:
    """The vote tied to the question its answer replied to: the one it names, or else the latest question
    on the same platform (and channel, where the answer's key names one) that got the same intent before it."""
    if vote.question_id is not None or vote.intent is None:
        return vote
    channel = vote.answer_key.split(":", 1)[0] if ":" in vote.answer_key else None
    earlier = [
        q
        for q in questions
        if q.id is not None
        and q.intent == vote.intent
        and q.platform == vote.platform
        and (channel is None or q.channel == channel)
        and vote.at - VOTE_LOOKBACK <= q.at <= vote.at
    ]
    latest = max(earlier, key=lambda q: q.at, default=None)
    return vote if latest is None else vote.model_copy(update={"question_id": latest.id})


def _feedback_row(
    kind: Literal["intent", "fact"], item: str, votes: list[FeedbackRecord], texts: dict[int, str]
) -> FeedbackRow:
    """One row of the feedback report."""
    down = [v for v in votes if v.vote == "down"]
    asked = [texts[v.question_id] for v in down if v.question_id in texts]
    return FeedbackRow(
        kind=kind,
        id=item,
        up=len(votes) - len(down),
        down=len(down),
        down_questions=list(dict.fromkeys(asked)),
    )


# -- usage --------------------------------------------------------------------------------------


class UsageRow(BaseModel):
    """Questions on one day (`kind` day, `key` the date), in the whole window (`total`), or for one intent.

    `share_answered` leaves small talk out: of the questions meant for the fact base, how many it answered.
    """

    kind: Literal["day", "total", "intent"]
    key: str
    questions: int
    answered: int
    clarify: int
    fallback: int
    smalltalk: int
    share_answered: float | None


def usage(
    questions: Sequence[QuestionRecord],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    top: int = TOP_INTENTS,
) -> list[UsageRow]:
    """One row per day (UTC, empty days included) from `since` to `until`, a total, then the `top` intents."""
    if not questions:
        return []
    by_day: dict[date, list[QuestionRecord]] = defaultdict(list)
    for question in questions:
        by_day[_day(question.at)].append(question)
    first, last = min(by_day), max(by_day)
    if since is not None:  # a window runs from its start to today, quiet days included
        first, last = min(first, _day(since)), max(last, _day(until or now()))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    rows = [_usage_row("day", day.isoformat(), by_day.get(day, [])) for day in days]
    return [*rows, _usage_row("total", "total", questions), *top_intents(questions, top=top)]


def top_intents(questions: Iterable[QuestionRecord], *, top: int = TOP_INTENTS) -> list[UsageRow]:
    """The intents questions were answered with (or nearly, for clarify), the most answered first."""
    by_intent: dict[str, list[QuestionRecord]] = defaultdict(list)
    for question in questions:
        if question.intent and question.status in ("answered", "clarify"):
            by_intent[question.intent].append(question)
    rows = [_usage_row("intent", intent, found) for intent, found in by_intent.items()]
    return sorted(rows, key=lambda r: (-r.answered, -r.questions, r.key))[:top]


def _usage_row(kind: Literal["day", "total", "intent"], key: str, questions: Sequence[QuestionRecord]) -> UsageRow:
    """Counts by status for some questions."""
    statuses = Counter(q.status for q in questions)
    meant = len(questions) - statuses["smalltalk"]
    return UsageRow(
        kind=kind,
        key=key,
        questions=len(questions),
        answered=statuses["answered"],
        clarify=statuses["clarify"],
        fallback=statuses["fallback"],
        smalltalk=statuses["smalltalk"],
        share_answered=round(statuses["answered"] / meant, 3) if meant else None,
    )


def _day(moment: datetime) -> date:
    """The UTC calendar day of a moment (a naive moment is taken as UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


def plot_usage(rows: Sequence[UsageRow], path: Path, *, title: str = "Factbot questions per day") -> Path:
    """Write a PNG of questions per day (bars) and the share answered (line, right-hand axis)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, whatever the machine has
    import matplotlib.pyplot as plt

    days = [row for row in rows if row.kind == "day"]
    figure, counts = plt.subplots(figsize=(9, 4.5), dpi=110, layout="constrained")
    when = _draw_counts(counts, days)
    share = _draw_share(counts.twinx(), when, days)
    handles = [*counts.get_legend_handles_labels()[0], *share.get_legend_handles_labels()[0]]
    figure.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    counts.set_title(title)
    figure.savefig(path)
    plt.close(figure)
    return path


def _draw_counts(axes: Axes, days: Sequence[UsageRow]) -> list[float]:
    """Bars of questions per day, centred on their day's tick; returns the days' x positions."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import MaxNLocator

    when = [float(x) for x in mdates.date2num([date.fromisoformat(row.key) for row in days])]
    axes.bar(when, [row.questions for row in days], width=0.8, color="#9ecae1", label="questions")
    axes.set_ylabel("questions per day")
    axes.set_ylim(0, max([row.questions for row in days] + [1]) * 1.1)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", color="#e5e5e5")
    axes.set_axisbelow(True)
    axes.set_xlim(when[0] - 0.7, when[-1] + 0.7)
    _day_ticks(axes, len(days))
    return when


def _day_ticks(axes: Axes, days: int) -> None:
    """Ticks on whole days (never hours, even for a one-day window); months for long windows."""
    import matplotlib.dates as mdates

    if days <= 70:
        axes.xaxis.set_major_locator(mdates.DayLocator(interval=-(-days // 10)))
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    else:
        axes.xaxis.set_major_locator(locator := mdates.AutoDateLocator())
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.set_xlabel("day (UTC)")


def _draw_share(axes: Axes, when: list[float], days: Sequence[UsageRow]) -> Axes:
    """The share answered per day as a line on a 0-100 % axis; a day without questions leaves a gap."""
    from matplotlib.ticker import PercentFormatter

    shares = [row.share_answered * 100 if row.share_answered is not None else float("nan") for row in days]
    dots = "o" if len(days) <= 31 else None  # on a long window dots only hide the line
    axes.plot(when, shares, color="#d95f02", marker=dots, linewidth=2, label="answered (small talk aside)")
    axes.set_ylim(0, 105)
    axes.yaxis.set_major_formatter(PercentFormatter())
    axes.set_ylabel("answered", color="#d95f02")
    return axes


# -- output formats -----------------------------------------------------------------------------


def as_records(rows: Sequence[BaseModel]) -> list[dict[str, object]]:
    """Rows as plain JSON-ready dicts (dates as ISO strings)."""
    return [row.model_dump(mode="json") for row in rows]


def as_csv(rows: Sequence[BaseModel], fields: Sequence[str]) -> str:
    """Rows as CSV text with a header row; lists are joined with ` | `, None is empty."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for record in as_records(rows):
        writer.writerow({k: _cell(v) for k, v in record.items()})
    return buffer.getvalue()


def _cell(value: object) -> object:
    """One CSV cell."""
    if isinstance(value, list):
        return " | ".join(map(str, value))
    return "" if value is None else value
