"""The store interface: what Factbot remembers (questions, feedback, handled events), and a memory store.

The core sees only the `Store` protocol. `MemoryStore` serves tests and `factbot chat`; the SQL store
(SQLite by default, PostgreSQL for several replicas) lives in `bot.store.sql`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import logging
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from bot.models import Subscription

log = logging.getLogger(__name__)

Vote = Literal["up", "down"]
DIGEST_CLAIMS = 2
"""How often one channel's digest for one day may be claimed: once, and once more after a claim went stale."""


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def hash_user(platform: str, user_id: str, *, salt: str) -> str:
    """A user's id as a salted hash: stable for counting and one vote per user, never reversible to the id."""
    digest = hmac.new(salt.encode(), f"{platform}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]


class QuestionRecord(BaseModel):
    """One question as the store keeps it. `text` is None when question text is not logged."""

    id: int | None = None
    at: datetime = Field(default_factory=now)
    platform: str
    workspace: str | None = None
    channel: str | None = None
    user_hash: str | None = None
    text: str | None = None
    status: str
    intent: str | None = None
    confidence: float = 0.0
    fact_ids: list[str] = Field(default_factory=list)


class FeedbackRecord(BaseModel):
    """One person's vote on one answer (a second vote by the same person replaces the first)."""

    question_id: int | None = None
    answer_key: str
    at: datetime = Field(default_factory=now)
    platform: str
    user_hash: str
    vote: Vote
    intent: str | None = None
    fact_ids: list[str] = Field(default_factory=list)


class PostRecord(BaseModel):
    """An answer the bot posted in a channel, with a link to it (Slack permalink, Discord jump URL)."""

    at: datetime = Field(default_factory=now)
    platform: str
    channel: str
    fact_ids: list[str]
    link: str


Record = QuestionRecord | FeedbackRecord | PostRecord
"""What is written behind an answer: a question asked, a vote, where an answer was posted."""


class Store(Protocol):
    """What Factbot remembers. Every method is async; none raises for a duplicate, all are idempotent."""

    async def write_many(self, records: Sequence[Record]) -> None:
        """Keep a batch of questions, votes and posts, in as few transactions as the store can."""
        ...

    async def log_question(self, record: QuestionRecord) -> int:
        """Keep one question; return its id."""
        ...

    async def record_feedback(self, record: FeedbackRecord) -> None:
        """Keep a vote; the same user voting again on the same answer changes their vote."""
        ...

    async def claim_event(self, event_id: str, *, ttl: timedelta) -> bool:
        """True the first time `event_id` is claimed within `ttl` (across processes sharing the store)."""
        ...

    async def remember_post(self, record: PostRecord) -> None:
        """Keep where an answer was posted, for repeat suppression."""
        ...

    async def recent_post(self, *, platform: str, channel: str, fact_id: str, since: datetime) -> PostRecord | None:
        """The latest post in `channel` since `since` that cited `fact_id`, if any."""
        ...

    async def recent_posts(self, *, platform: str, since: datetime) -> list[PostRecord]:
        """Every post on `platform` since `since`, oldest first (how replicas learn of each other's answers)."""
        ...

    async def questions(self, *, since: datetime | None = None) -> list[QuestionRecord]:
        """Questions asked since `since` (all when None), oldest first."""
        ...

    async def feedback(self, *, since: datetime | None = None) -> list[FeedbackRecord]:
        """Votes given since `since` (all when None)."""
        ...

    async def purge(self, *, before: datetime) -> int:
        """Delete questions and feedback older than `before`; return how many rows went."""
        ...

    async def subscribe(self, subscription: Subscription) -> None:
        """Subscribe a channel to the daily digest, or change its subscription (one per platform and channel)."""
        ...

    async def unsubscribe(self, platform: str, channel: str) -> bool:
        """End a channel's subscription; whether it had one."""
        ...

    async def subscriptions(self) -> list[Subscription]:
        """Every subscribed channel, by platform and channel."""
        ...

    async def claim_digest(
        self, platform: str, channel: str, day: date, *, stale_after: timedelta, at: datetime | None = None
    ) -> bool:
        """True for the one caller, across processes, that may post `channel`'s digest for its local `day`.

        A claim not marked sent `stale_after` after it was made may be claimed once more (a crash between
        claim and send); never a third time, and never once the digest is sent. `at` is the time now.
        """
        ...

    async def mark_digest_sent(self, platform: str, channel: str, day: date, *, at: datetime | None = None) -> None:
        """Record that `channel`'s digest for `day` was posted: no claim for that day succeeds again."""
        ...

    async def release_digest(self, platform: str, channel: str, day: date) -> None:
        """Drop an unsent claim on `channel`'s digest for `day`, so a retry may claim it; a sent digest stays sent."""
        ...

    async def digest_sent(self, platform: str, channel: str, day: date) -> bool:
        """Whether `channel`'s digest for `day` was posted."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@dataclass
class DigestClaim:
    """A day's digest for one channel as the memory store keeps it: when it was last claimed, how often, if sent."""

    claimed_at: datetime
    claims: int = 1
    sent_at: datetime | None = None

    def reclaimable(self, moment: datetime, stale_after: timedelta) -> bool:
        """Whether a new claim at `moment` may take this one over: unsent, stale, and claimed only once so far."""
        return self.sent_at is None and self.claims < DIGEST_CLAIMS and moment - self.claimed_at >= stale_after


class MemoryStore:
    """A `Store` in memory: for tests and the terminal chat. Nothing survives the process."""

    def __init__(self, *, max_events: int = 10_000) -> None:
        self._questions: list[QuestionRecord] = []
        self._feedback: dict[tuple[str, str], FeedbackRecord] = {}
        self._events: OrderedDict[str, datetime] = OrderedDict()
        self._posts: list[PostRecord] = []
        self._max_events = max_events
        self._ids = itertools.count(1)
        self._subscriptions: dict[tuple[str, str], Subscription] = {}
        self._digests: dict[tuple[str, str, date], DigestClaim] = {}

    async def write_many(self, records: Sequence[Record]) -> None:
        """Keep each record as its own method would."""
        for record in records:
            if isinstance(record, QuestionRecord):
                await self.log_question(record)
            elif isinstance(record, FeedbackRecord):
                await self.record_feedback(record)
            else:
                await self.remember_post(record)

    async def log_question(self, record: QuestionRecord) -> int:
        """Keep one question; return its id."""
        kept = record.model_copy(update={"id": next(self._ids)})
        self._questions.append(kept)
        return kept.id or 0

    async def record_feedback(self, record: FeedbackRecord) -> None:
        """Keep a vote, replacing the same user's earlier vote on the same answer."""
        self._feedback[(record.answer_key, record.user_hash)] = record

    async def claim_event(self, event_id: str, *, ttl: timedelta) -> bool:
        """True the first time `event_id` is seen within `ttl`; remembers a bounded number of ids."""
        moment = now()
        seen = self._events.get(event_id)
        if seen is not None and moment - seen < ttl:
            return False
        self._events[event_id] = moment
        self._events.move_to_end(event_id)
        while len(self._events) > self._max_events:
            self._events.popitem(last=False)
        return True

    async def remember_post(self, record: PostRecord) -> None:
        """Keep where an answer was posted."""
        self._posts.append(record)

    async def recent_post(self, *, platform: str, channel: str, fact_id: str, since: datetime) -> PostRecord | None:
        """The latest post in `channel` since `since` that cited `fact_id`."""
        found = [
            p
            for p in self._posts
            if (p.platform, p.channel) == (platform, channel) and fact_id in p.fact_ids and p.at >= since
        ]
        return max(found, key=lambda p: p.at, default=None)

    async def recent_posts(self, *, platform: str, since: datetime) -> list[PostRecord]:
        """Every post on `platform` since `since`, oldest first."""
        return sorted((p for p in self._posts if p.platform == platform and p.at >= since), key=lambda p: p.at)

    async def questions(self, *, since: datetime | None = None) -> list[QuestionRecord]:
        """Questions asked since `since`, oldest first."""
        return [q for q in self._questions if since is None or q.at >= since]

    async def feedback(self, *, since: datetime | None = None) -> list[FeedbackRecord]:
        """Votes given since `since`."""
        return [f for f in self._feedback.values() if since is None or f.at >= since]

    async def purge(self, *, before: datetime) -> int:
        """Forget questions and feedback older than `before`."""
        old = len(self._questions) + len(self._feedback)
        self._questions = [q for q in self._questions if q.at >= before]
        self._posts = [p for p in self._posts if p.at >= before]
        self._feedback = {k: f for k, f in self._feedback.items() if f.at >= before}
        return old - len(self._questions) - len(self._feedback)

    async def subscribe(self, subscription: Subscription) -> None:
        """Subscribe a channel, replacing its earlier subscription."""
        self._subscriptions[(subscription.platform, subscription.channel)] = subscription

    async def unsubscribe(self, platform: str, channel: str) -> bool:
        """End a channel's subscription; whether it had one."""
        return self._subscriptions.pop((platform, channel), None) is not None

    async def subscriptions(self) -> list[Subscription]:
        """Every subscribed channel, by platform and channel."""
        return [self._subscriptions[key] for key in sorted(self._subscriptions)]

    async def claim_digest(
        self, platform: str, channel: str, day: date, *, stale_after: timedelta, at: datetime | None = None
    ) -> bool:
        """True for the first claim of the day, and for one re-claim of a claim left unsent past `stale_after`."""
        moment = at or now()
        key = (platform, channel, day)
        claim = self._digests.get(key)
        if claim is None:
            self._digests[key] = DigestClaim(claimed_at=moment)
            return True
        if not claim.reclaimable(moment, stale_after):
            return False
        claim.claimed_at, claim.claims = moment, claim.claims + 1
        return True

    async def mark_digest_sent(self, platform: str, channel: str, day: date, *, at: datetime | None = None) -> None:
        """Record that the day's digest was posted."""
        moment = at or now()
        claim = self._digests.setdefault((platform, channel, day), DigestClaim(claimed_at=moment))
        claim.sent_at = moment

    async def release_digest(self, platform: str, channel: str, day: date) -> None:
        """Drop the day's claim unless the digest was sent."""
        key = (platform, channel, day)
        claim = self._digests.get(key)
        if claim is not None and claim.sent_at is None:
            del self._digests[key]

    async def digest_sent(self, platform: str, channel: str, day: date) -> bool:
        """Whether the day's digest was posted."""
        claim = self._digests.get((platform, channel, day))
        return claim is not None and claim.sent_at is not None

    async def close(self) -> None:
        """Nothing to release."""


WRITE_INTERVAL = 0.25
"""Seconds between batches written behind: a process killed outright loses at most this much of its log."""

PENDING = 10_000
"""Records waiting for their batch; if the store stalls past this, the oldest are not kept."""


class WriteBehind:
    """Questions, votes and posts queued in memory and handed to the store in batches, off every answer's path.

    `add` never waits. A task writes what is queued every `interval` seconds, one `write_many` per batch;
    `flush` writes the rest at once (at shutdown). A store that fails costs a warning, never an answer.
    """

    def __init__(self, store: Store, *, interval: float = WRITE_INTERVAL, limit: int = PENDING) -> None:
        self.store = store
        self.interval = interval
        self.dropped = 0
        self._pending: deque[Record] = deque()
        self._limit = limit
        self._task: asyncio.Task[None] | None = None
        self._writing = asyncio.Lock()

    @property
    def pending(self) -> int:
        """How many records wait for their batch."""
        return len(self._pending)

    def add(self, record: Record) -> None:
        """Queue a record for the next batch (call it inside the event loop)."""
        self._pending.append(record)
        if len(self._pending) > self._limit:
            self._pending.popleft()
            self.dropped += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._write_soon())

    async def flush(self) -> None:
        """Write everything queued so far, now."""
        async with self._writing:
            while self._pending:
                batch = list(self._pending)
                self._pending.clear()
                try:
                    await self.store.write_many(batch)
                except Exception as exc:  # the store is best effort: the people asking already have their answers
                    log.warning("could not write %d records behind: %s", len(batch), type(exc).__name__)

    async def _write_soon(self) -> None:
        """Write a batch every `interval` while records keep coming."""
        while self._pending:
            await asyncio.sleep(self.interval)
            await self.flush()


def cutoff(days: int) -> datetime:
    """The moment `days` days ago."""
    return now() - timedelta(days=days)
