"""Repeat suppression: which facts a channel was given lately, so that a repeat goes to the asker alone.

The index lives in this process's memory, so looking it up costs no database query before an ack. What
this process posts is written behind to the store, and what other replicas posted is read from it every
few seconds: awaited where the reply comes after the ack (mentions), in the background where it is the ack.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta

from bot.engine import Engine
from bot.models import Answer
from bot.store import PostRecord, now

log = logging.getLogger(__name__)

PRUNE_EVERY = 1000
"""Posts indexed between two sweeps of those older than the window."""
LEARN_EVERY = 2.0
"""Seconds between looks at the store for answers other replicas posted."""


class Repeats:
    """One platform's memory of the answers it posted in channels within the window."""

    def __init__(self, engine: Engine, *, platform: str, window_minutes: int) -> None:
        self.engine = engine
        self.platform = platform
        self.window = timedelta(minutes=window_minutes)
        self._with: defaultdict[tuple[str, str], deque[tuple[PostRecord, frozenset[str]]]] = defaultdict(deque)
        """Each channel's posts that gave a fact, oldest first, with every fact each gave."""
        self._known: dict[tuple[str, str, datetime], None] = {}
        """The posts indexed, oldest first (a post learnt back from the store is not indexed twice)."""
        self._learnt = now() - self.window
        self._looked = -LEARN_EVERY
        self._learning: asyncio.Task[int] | None = None

    def followed(self, answer: Answer) -> tuple[str, ...]:
        """The facts of a channel answer that repeat suppression follows: none when the window is 0."""
        if not self.window:
            return ()
        return tuple(c.fact_id for c in answer.citations)

    def earlier(self, channel: str, facts: tuple[str, ...]) -> PostRecord | None:
        """The latest answer in `channel` within the window that gave all of `facts` (it errs towards None).

        Only the posts that gave the first fact are looked at, newest first: a few at most.
        """
        found = self._with.get((channel, facts[0])) if facts else None
        if not found:
            return None
        start = now() - self.window
        while found and found[0][0].at < start:
            found.popleft()
        wanted = frozenset(facts)
        return next((post for post, gave in reversed(found) if wanted <= gave), None)

    def remember(self, channel: str, facts: tuple[str, ...], link: str) -> None:
        """Keep where a channel answer was posted; the store gets it in the next batch."""
        if not facts:
            return
        record = PostRecord(platform=self.platform, channel=channel, fact_ids=list(facts), link=link)
        self._add(record)
        self.engine.keep(record)

    async def learn(self) -> int:
        """Take in the answers posted since the last look (by other replicas too); how many were new to us."""
        since = self._learnt
        try:
            found = await self.engine.store.recent_posts(platform=self.platform, since=since)
        except Exception as exc:  # the store is best effort: this process still knows its own answers
            log.warning("%s: could not read other replicas' answers: %s", self.platform, type(exc).__name__)
            return 0
        added = sum(self._add(post) for post in found)
        if found:
            self._learnt = max(since, found[-1].at)
        return added

    async def refresh(self) -> None:
        """Learn from the store when the last look is a few seconds old (for replies sent after their ack)."""
        if self._due():
            self._looked = time.monotonic()
            await self.learn()

    def refresh_soon(self) -> None:
        """Learn from the store in the background when the last look is a few seconds old (before an ack)."""
        if self._due() and (self._learning is None or self._learning.done()):
            self._looked = time.monotonic()
            self._learning = asyncio.get_running_loop().create_task(self.learn())

    def _due(self) -> bool:
        return bool(self.window) and time.monotonic() - self._looked >= LEARN_EVERY

    def _add(self, post: PostRecord) -> bool:
        """Index a post unless it is already known or out of the window; whether it was new."""
        key = (post.channel, post.link, post.at)
        if key in self._known or post.at < now() - self.window:
            return False
        self._known[key] = None
        gave = frozenset(post.fact_ids)
        for fact in gave:
            found = self._with[(post.channel, fact)]
            found.append((post, gave))
            if len(found) > 1 and found[-2][0].at > post.at:  # learnt late: keep it in time order
                self._with[(post.channel, fact)] = deque(sorted(found, key=lambda item: item[0].at))
        if len(self._known) % PRUNE_EVERY == 0:
            self._prune()
        return True

    def _prune(self) -> None:
        """Forget every post older than the window (memory stays bounded by what the window holds)."""
        start = now() - self.window
        self._known = {key: None for key in self._known if key[2] >= start}
        for key in list(self._with):
            found = self._with[key]
            while found and found[0][0].at < start:
                found.popleft()
            if not found:
                del self._with[key]
