"""Repeat suppression: when a channel was given the same facts lately, point to that answer instead."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.engine import Engine
from bot.models import Answer
from bot.store import PostRecord, earlier_post, now

log = logging.getLogger(__name__)


class Repeats:
    """One platform's memory of the answers it posted in channels, kept in the store."""

    def __init__(self, engine: Engine, *, platform: str, window_minutes: int) -> None:
        self.engine = engine
        self.platform = platform
        self.window = timedelta(minutes=window_minutes)

    def followed(self, answer: Answer) -> tuple[str, ...]:
        """The facts of a channel answer that repeat suppression follows: none when the window is 0."""
        if not self.window:
            return ()
        return tuple(c.fact_id for c in answer.citations)

    async def earlier(self, channel: str, facts: tuple[str, ...]) -> PostRecord | None:
        """The latest answer in `channel` within the window that gave all of `facts`; None when the store fails."""
        if not facts:
            return None
        try:
            return await earlier_post(
                self.engine.store, platform=self.platform, channel=channel, fact_ids=facts, since=now() - self.window
            )
        except Exception as exc:  # the store is best effort: answer in full
            log.warning("%s: could not look up earlier answers: %s", self.platform, type(exc).__name__)
            return None

    async def remember(self, channel: str, facts: tuple[str, ...], link: str) -> None:
        """Keep where a channel answer was posted, for the same question asked there soon after."""
        record = PostRecord(platform=self.platform, channel=channel, fact_ids=list(facts), link=link)
        try:
            await self.engine.store.remember_post(record)
        except Exception as exc:  # the store is best effort: the answer is already posted
            log.warning("%s: could not remember a posted answer: %s", self.platform, type(exc).__name__)
