"""The daily digest's content: a fact of the day, what the channel asked, what is missing, a question to try.

`build_digest` is pure (the fact base and what it is given); `collect_digest` reads the store for
one channel's last day and hands the result to it. Adapters render a `Digest`; none of them computes one.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import available_timezones

from pydantic import BaseModel, Field

from bot.engine import Engine
from bot.models import Citation, Subscription, Suggestion, byline
from bot.reports import unanswered
from bot.settings import Settings
from bot.store import QuestionRecord, now

WINDOW = timedelta(days=1)
"""How far back "what the team asked" looks."""
TOP_ASKED = 3
TOP_UNANSWERED = 3
USAGE = "subscribe [HH:MM] [Area/City] [--curators] · unsubscribe · preview [--curators]"
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"])")


class AskedItem(BaseModel):
    """A question the channel asked, with the one-line answer it got."""

    question: str
    answer: str
    count: int = 1


class Digest(BaseModel):
    """What a channel's digest for one day says; every adapter renders it."""

    day: date
    channel: str
    fact_answer: str
    fact: Citation
    asked: list[AskedItem] = Field(default_factory=list)
    unanswered: list[AskedItem] = Field(default_factory=list)
    try_asking: Suggestion


class ChannelGone(Exception):
    """The channel no longer exists, or the bot was removed from it: the subscription should end."""


class DigestPoster(Protocol):
    """What an adapter offers the scheduler: post a digest to one subscribed channel of its platform."""

    @property
    def platform(self) -> str:
        """The platform whose channels this poster reaches: "slack" or "discord"."""
        ...

    async def post_digest(self, subscription: Subscription, digest: Digest) -> None:
        """Post `digest` in the subscription's channel; raise ChannelGone if it is gone."""
        ...


class Subscriptions(Protocol):
    """Where `/digest subscribe` and `unsubscribe` go: the store, or the scheduler (which saves and reschedules)."""

    async def subscribe(self, subscription: Subscription) -> None:
        """Save (or replace) a channel's subscription."""
        ...

    async def unsubscribe(self, platform: str, channel: str) -> bool:
        """End a channel's subscription; whether there was one."""
        ...


# -- subscribing ---------------------------------------------------------------------------------

Action = Literal["preview", "subscribe", "unsubscribe"]


class DigestRequest(BaseModel):
    """What `/digest …` asks for: a preview, or a channel's subscription changed. None means the default."""

    action: Action = "preview"
    at: time | None = None
    timezone: str | None = None
    curators: bool = False


def parse_request(text: str) -> DigestRequest:
    """`/digest`'s text (`subscribe 08:30 Europe/London --curators`, `unsubscribe`…); ValueError says what is wrong."""
    words = text.split()
    action = words[0].casefold() if words else "preview"
    if action not in ("preview", "subscribe", "unsubscribe"):
        raise ValueError(f"Unknown digest command “{words[0]}”. Use: {USAGE}")
    request = DigestRequest.model_validate({"action": action})
    for word in words[1:]:
        request = _with_option(request, word)
    return request


def _with_option(request: DigestRequest, word: str) -> DigestRequest:
    """`request` with one more word of the command read into it."""
    if word.casefold() in ("--curators", "curators"):
        return request.model_copy(update={"curators": True})
    if request.action != "subscribe":
        raise ValueError(f"“{word}” is not understood here. Use: {USAGE}")
    if ":" in word and request.at is None:
        return request.model_copy(update={"at": parse_time(word)})
    if request.timezone is None and ":" not in word:
        return request.model_copy(update={"timezone": parse_timezone(word)})
    raise ValueError(f"“{word}” is one word too many. Use: {USAGE}")


def parse_time(text: str) -> time:
    """`HH:MM` on a 24-hour clock as a time; ValueError in one line otherwise."""
    found = _CLOCK.match(text.strip())
    if found is None:
        raise ValueError(f"“{text}” is not a time: write it as HH:MM on a 24-hour clock, like 09:00 or 17:30.")
    return time(int(found[1]), int(found[2]))


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA time zone name this machine knows, by its lower-case spelling."""
    return {name.casefold(): name for name in available_timezones()}


def parse_timezone(text: str) -> str:
    """An IANA time zone name (`Europe/London`, any case) in its proper spelling; ValueError in one line otherwise."""
    found = _zones().get(text.strip().casefold())
    if found is None:
        raise ValueError(f"“{text}” is not a time zone: use an Area/City name like Europe/London or America/New_York.")
    return found


def timezones(typed: str, *, limit: int = 25) -> list[str]:
    """Up to `limit` time zone names for a half-typed one: the exact name, then names, then cities starting with it."""
    typed = typed.strip().casefold()
    return sorted((n for n in _zones().values() if typed in n.casefold()), key=lambda n: (_rank(n, typed), n))[:limit]


def _rank(name: str, typed: str) -> int:
    """How well a time zone name fits what was typed: 0 exactly, 1 its start, 2 a part's start, 3 inside."""
    folded = name.casefold()
    if folded == typed:
        return 0
    if folded.startswith(typed):
        return 1
    return 2 if any(part.startswith(typed) for part in folded.split("/")) else 3


def subscription(
    request: DigestRequest, *, platform: str, channel: str, settings: Settings, workspace: str | None = None
) -> Subscription:
    """The subscription a `subscribe` request makes, with the settings' defaults (09:00 UTC without them)."""
    return Subscription(
        platform=platform,
        channel=channel,
        workspace=workspace,
        at=request.at or default_time(settings),
        timezone=request.timezone or default_timezone(settings),
        curators=request.curators,
    )


def default_time(settings: Settings) -> time:
    """The default digest time (FACTBOT_DIGEST_TIME, 09:00)."""
    return settings.digest_time


def default_timezone(settings: Settings) -> str:
    """The default digest time zone (FACTBOT_DIGEST_TIMEZONE, UTC), spelled as the time-zone database does."""
    return parse_timezone(settings.digest_timezone)


def describe(sub: Subscription) -> str:
    """`every day at 09:00 (Europe/London)`, saying when curators' lines are included."""
    extra = ", with what is not answered yet" if sub.curators else ""
    return f"every day at {sub.at:%H:%M} ({sub.timezone}){extra}"


# -- content -------------------------------------------------------------------------------------


def _order(keys: list[str], seed: str) -> list[str]:
    """`keys` in a stable order of their own, different per seed and unlike the file's order."""
    return sorted(keys, key=lambda k: hashlib.sha256(f"{seed}\x00{k}".encode()).digest())


def build_digest(
    engine: Engine,
    *,
    channel: str,
    day: date,
    asked_intents: frozenset[str] = frozenset(),
    asked: Sequence[AskedItem] = (),
    unanswered: Sequence[AskedItem] = (),
) -> Digest:
    """The digest of `channel` for `day`: each channel walks through every fact before any repeats.

    The question to try is one whose intent is not in `asked_intents` (any, once the channel asked them all).
    """
    base = engine.base
    facts = _order(list(base.facts), f"facts:{channel}")
    fact = base.facts[facts[day.toordinal() % len(facts)]]
    fresh = [i for i in base.intents if i not in asked_intents] or list(base.intents)
    intents = _order(fresh, f"try:{channel}")
    intent = base.intents[intents[day.toordinal() % len(intents)]]
    return Digest(
        day=day,
        channel=channel,
        fact_answer=fact.answer,
        fact=engine.cite(fact),
        asked=list(asked),
        unanswered=list(unanswered),
        try_asking=Suggestion(intent=intent.id, question=intent.question),
    )


async def collect_digest(
    engine: Engine,
    *,
    channel: str,
    platform: str,
    day: date,
    curators: bool = False,
    until: datetime | None = None,
) -> Digest:
    """The digest of one channel for `day`, from the store: the day before `until` (now), and the channel's history.

    "Not answered yet" is filled only for `curators` channels; a quiet day still gets the fact and a question.
    """
    history = channel_questions(await engine.store.questions(), platform=platform, channel=channel)
    end = until or now()
    recent = [q for q in history if end - WINDOW <= q.at <= end]
    return build_digest(
        engine,
        channel=channel,
        day=day,
        asked_intents=frozenset(q.intent for q in history if q.status == "answered" and q.intent),
        asked=asked_items(engine, recent),
        unanswered=unanswered_items(engine, recent) if curators else (),
    )


def channel_questions(questions: Sequence[QuestionRecord], *, platform: str, channel: str) -> list[QuestionRecord]:
    """The questions asked in one channel of one platform."""
    return [q for q in questions if q.platform == platform and q.channel == channel]


def asked_items(engine: Engine, questions: Sequence[QuestionRecord], *, top: int = TOP_ASKED) -> list[AskedItem]:
    """The `top` intents answered most often, each as its canonical question with a one-line answer."""
    counts = Counter(q.intent for q in questions if q.status == "answered" and q.intent in engine.base.intents)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    return [AskedItem(question=engine.base.intents[i].question, answer=one_line(engine, i), count=n) for i, n in ranked]


def one_line(engine: Engine, intent: str) -> str:
    """The first sentence of the answer an intent's facts give."""
    answer = " ".join(engine.base.facts[f].answer for f in engine.base.intents[intent].facts)
    return first_sentence(answer)


def first_sentence(text: str) -> str:
    """`text` up to the end of its first sentence (all of it when it is one sentence)."""
    return _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]


def unanswered_items(
    engine: Engine, questions: Sequence[QuestionRecord], *, top: int = TOP_UNANSWERED
) -> list[AskedItem]:
    """The `top` groups of questions the fact base could not answer (bot.reports' grouping), most asked first."""
    groups = unanswered(questions, engine.matcher).groups[:top]
    return [AskedItem(question=g.example, answer="", count=g.count) for g in groups]


def digest_text(digest: Digest) -> str:
    """The digest as plain text, for the terminal and for notification fallbacks."""
    lines = [
        f"Factbot digest for {digest.day:%A %d %B %Y}",
        "",
        f"Fact of the day: {digest.fact_answer}",
        f"  “{digest.fact.quote}”",
        f"  — {digest.fact.author}, “{digest.fact.title}”, "
        + ", ".join([*byline(digest.fact.author, digest.fact.publisher)[1:], digest.fact.place]),
        *([f"  {digest.fact.note}"] if digest.fact.note else []),
    ]
    if digest.asked:
        lines += ["", "What the team asked:"]
        lines += [f"  • {a.question}{_times(a.count)} — {a.answer}" for a in digest.asked]
    if digest.unanswered:
        lines += ["", "Not answered yet:"] + [f"  • {a.question}{_times(a.count)}" for a in digest.unanswered]
    lines += ["", f"Try asking: {digest.try_asking.question}"]
    return "\n".join(lines)


def _times(count: int) -> str:
    """` (×3)` after something asked more than once."""
    return f" (×{count})" if count > 1 else ""
