"""The daily digest's content: a fact of the day and a question to try, chosen per channel and day."""

from __future__ import annotations

import hashlib
from datetime import date, time
from typing import Protocol

from pydantic import BaseModel, Field

from bot.engine import Engine
from bot.models import Citation, Suggestion


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


class Subscription(BaseModel):
    """A channel that gets the daily digest at its local time."""

    platform: str
    channel: str
    workspace: str | None = None
    at: time = time(9, 0)
    timezone: str = "UTC"
    curators: bool = False


class ChannelGone(Exception):
    """The channel no longer exists, or the bot was removed from it: the subscription should end."""


class DigestPoster(Protocol):
    """What an adapter offers the scheduler: post a digest to one subscribed channel of its platform."""

    platform: str

    async def post_digest(self, subscription: Subscription, digest: Digest) -> None:
        """Post `digest` in the subscription's channel; raise ChannelGone if it is gone."""
        ...


def _order(keys: list[str], seed: str) -> list[str]:
    """`keys` in a stable order of their own, different per seed and unlike the file's order."""
    return sorted(keys, key=lambda k: hashlib.sha256(f"{seed}\x00{k}".encode()).digest())


def build_digest(engine: Engine, *, channel: str, day: date, asked_intents: frozenset[str] = frozenset()) -> Digest:
    """The digest of `channel` for `day`: each channel walks through every fact before any repeats."""
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
        try_asking=Suggestion(intent=intent.id, question=intent.question),
    )


def digest_text(digest: Digest) -> str:
    """The digest as plain text, for the terminal and for notification fallbacks."""
    where = f"paragraph {digest.fact.paragraph}" if digest.fact.paragraph else "source record"
    lines = [
        f"Factbot digest for {digest.day:%A %d %B %Y}",
        "",
        f"Fact of the day: {digest.fact_answer}",
        f"  “{digest.fact.quote}”",
        f"  — {digest.fact.author}, “{digest.fact.title}”, {digest.fact.publisher}, {where}",
    ]
    if digest.asked:
        lines += ["", "What the team asked:"] + [f"  • {a.question} — {a.answer}" for a in digest.asked]
    if digest.unanswered:
        lines += ["", "Not answered yet:"] + [f"  • {a.question} (×{a.count})" for a in digest.unanswered]
    lines += ["", f"Try asking: {digest.try_asking.question}"]
    return "\n".join(lines)
