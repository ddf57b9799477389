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

LEARN_EVERY = 2.0
"""Seconds between looks at the store for answers other replicas posted."""


class Repeats:
    """One platform's memory of the answers it posted in channels within the window."""

    def __init__(self, engine: Engine, *, platform: str, window_minutes: int) -> None:
        self.engine = engine
        self.platform = platform
        self.window = timedelta(minutes=window_minutes)
        self._posts: defaultdict[str, deque[PostRecord]] = defaultdict(deque)
        self._known: set[tuple[str, str, datetime]] = set()
        self._learnt = now() - self.window
        self._looked = -LEARN_EVERY
        self._learning: asyncio.Task[int] | None = None

    def followed(self, answer: Answer) -> tuple[str, ...]:
        """The facts of a channel answer that repeat suppression follows: none when the window is 0."""
        if not self.window:
            return ()
        return tuple(c.fact_id for c in answer.citations)

    def earlier(self, channel: str, facts: tuple[str, ...]) -> PostRecord | None:
        """The latest answer in `channel` within the window that gave all of `facts` (it errs towards None)."""
        if not facts:
            return None
        posts = self._recent(channel)
        wanted = set(facts)
        return max((p for p in posts if wanted <= set(p.fact_ids)), key=lambda p: p.at, default=None)

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
        """Index a post unless it is already known; whether it was new."""
        key = (post.channel, post.link, post.at)
        if key in self._known or post.at < now() - self.window:
            return False
        self._known.add(key)
        posts = self._posts[post.channel]
        posts.append(post)
        if len(posts) > 1 and posts[-2].at > post.at:  # learnt late: keep the channel in time order
            self._posts[post.channel] = deque(sorted(posts, key=lambda p: p.at))
        return True

    def _recent(self, channel: str) -> deque[PostRecord]:
        """The channel's posts within the window, older ones forgotten."""
        posts = self._posts.get(channel)
        if posts is None:
            return deque()
        start = now() - self.window
        while posts and posts[0].at < start:
            old = posts.popleft()
            self._known.discard((channel, old.link, old.at))
        return posts
