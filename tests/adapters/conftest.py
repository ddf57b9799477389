"""Adapter fixtures: an engine per test with its own store, so handled events, votes and posts never leak."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from bot.engine import Engine
from bot.store import FeedbackRecord, MemoryStore, PostRecord

T = TypeVar("T")


class WatchedStore(MemoryStore):
    """A MemoryStore that lists what adapters wrote and lets a test wait for a write (instead of sleeping)."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[PostRecord] = []
        self.votes: list[FeedbackRecord] = []
        self._changed = asyncio.Condition()

    async def remember_post(self, record: PostRecord) -> None:
        """Keep the post, and wake anyone waiting."""
        await super().remember_post(record)
        await self._note(record, self.posts)

    async def record_feedback(self, record: FeedbackRecord) -> None:
        """Keep the vote, and wake anyone waiting."""
        await super().record_feedback(record)
        await self._note(record, self.votes)

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 3.0) -> T:
        """Wait until `predicate()` is truthy (checked after every write); return it."""
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def _note(self, record: Any, into: list[Any]) -> None:
        async with self._changed:
            into.append(record)
            self._changed.notify_all()


@pytest.fixture
def store() -> WatchedStore:
    """A fresh store for one test."""
    return WatchedStore()


@pytest.fixture
def engine(engine: Engine, store: WatchedStore) -> Engine:
    """The shipped fact base's engine on this test's store (a copy: building the matcher again costs 0.1 s)."""
    fresh = copy.copy(engine)
    fresh.store = store
    return fresh
