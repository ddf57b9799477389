"""Adapter fixtures: an engine per test with its own store, so handled events, votes and posts never leak; the
fake Slack, and Factbot's HTTP endpoint served against it."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from aiohttp import ClientSession

from bot.adapters.slack_run import build_app, close_app, start_http
from bot.engine import Engine
from bot.settings import Settings
from bot.store import FeedbackRecord, MemoryStore, PostRecord
from tests.fakes.slack import (
    APP_TOKEN,
    BOT_TOKEN,
    HUMAN,
    SIGNING_SECRET,
    FakeSlack,
    block_actions,
    event_callback,
    form_body,
    sign,
    slash_form,
)

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


# -- Slack over HTTP, against the fake ------------------------------------------------------------------


@dataclass
class Slack:
    """Factbot's HTTP endpoint and the fake Slack it talks to, with helpers that post as Slack does."""

    fake: FakeSlack
    http: ClientSession
    url: str

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST a signed body to /slack/events; the status and the JSON (or text) answer."""
        headers = {"Content-Type": content_type, **sign(body), **(headers or {})}
        async with self.http.post(f"{self.url}/slack/events", data=body.encode(), headers=headers) as response:
            text = await response.text()
            return response.status, json.loads(text) if text.startswith("{") else text

    async def command(
        self, text: str, *, command: str = "/ask", user: str = HUMAN, channel: str = "C0GENERAL"
    ) -> tuple[int, Any]:
        """Run a slash command in `channel`; its acknowledgement body."""
        form = slash_form(command, text, response_url=self.fake.hook_url(), user=user, channel=channel)
        return await self.post(form_body(form), "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], *, event_id: str = "Ev001", retry: int = 0) -> int:
        """Deliver an event_callback (a retry carries Slack's retry headers)."""
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        status, _ = await self.post(json.dumps(event_callback(event, event_id=event_id)), "application/json", headers)
        return status

    async def click(self, action_id: str, value: str, *, user: str = HUMAN) -> int:
        """Click a button on one of the bot's messages."""
        payload = block_actions(action_id, value, response_url=self.fake.hook_url(), user=user)
        status, _ = await self.post(form_body({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
        return status

    async def posted(self, count: int = 1) -> list[dict[str, Any]]:
        """Wait until `count` messages were posted; all posts so far."""
        return await self.fake.wait_for(lambda: (posts := self.fake.posts()) and len(posts) >= count and posts)


def settings_for(fake: FakeSlack, **changes: Any) -> Settings:
    """Settings pointing at the fake, with test tokens."""
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
    )
    return settings.model_copy(update=changes)


@asynccontextmanager
async def serving(engine: Engine, fake: FakeSlack, settings: Settings) -> AsyncIterator[Slack]:
    """Factbot's HTTP mode on 127.0.0.1 and a free port."""
    app = build_app(engine, settings)
    runner = await start_http(app, signing_secret=SIGNING_SECRET, host="127.0.0.1", port=0)
    host, port = runner.addresses[0][:2]
    try:
        async with ClientSession() as http:
            yield Slack(fake, http, f"http://{host}:{port}")
    finally:
        await runner.cleanup()
        await close_app(app)


@pytest.fixture
def fake(fake_slack: FakeSlack) -> FakeSlack:
    """The fake Slack (tests/conftest.py), by the adapter tests' name for it."""
    return fake_slack


@pytest_asyncio.fixture
async def slack(engine: Engine, fake: FakeSlack) -> AsyncIterator[Slack]:
    async with serving(engine, fake, settings_for(fake)) as slack:
        yield slack
