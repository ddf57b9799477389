"""Two Slack app instances sharing one SQL database (SQLite, and PostgreSQL in CI): a retried event is answered once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.engine import Engine
from bot.knowledge import FactBase
from bot.store.sql import SqlStore, open_store
from tests.adapters.conftest import serving, settings_for
from tests.fakes.slack import ADMIN, BOT_USER, FakeSlack, app_mention, form_body, im_message, sign, slash_form
from tests.test_sqlstore import BACKENDS, PG_URL, empty_postgres


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database both replicas share."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    await empty_postgres(PG_URL)
    return PG_URL


@pytest_asyncio.fixture
async def replicas(shipped: FactBase, database: str) -> AsyncIterator[list[Engine]]:
    """Two engines, each with its own store (its own connection pool) on the one database."""
    stores: list[SqlStore] = [await open_store(database), await open_store(database)]
    yield [Engine(shipped, store=store, salt="pepper") for store in stores]
    for store in stores:
        await store.close()


@pytest.mark.parametrize("original", [0, 1], ids=["first-gets-the-original", "second-gets-the-original"])
async def test_a_retry_delivered_to_the_other_replica_is_answered_once(
    replicas: list[Engine], fake: FakeSlack, original: int
) -> None:
    settings = settings_for(fake)
    event = app_mention(f"<@{BOT_USER}> who won?", ts="1700000000.000777")
    async with serving(replicas[0], fake, settings) as first, serving(replicas[1], fake, settings) as second:
        apps = [first, second]
        assert await apps[original].event(event, event_id="EvReplicated") == 200
        assert await apps[1 - original].event(event, event_id="EvReplicated", retry=1) == 200
        assert await apps[1 - original].event(event, event_id="EvReplicated", retry=2) == 200
        await apps[1 - original].event(im_message("who won?", channel="D0SENTINEL"), event_id="EvSentinel")
        await fake.wait_for(lambda: len(fake.posts()) >= 2)
    assert sorted(p["channel"] for p in fake.posts()) == ["C0GENERAL", "D0SENTINEL"]


async def test_a_signed_digest_change_replayed_to_the_other_replica_is_made_once(
    replicas: list[Engine], fake: FakeSlack
) -> None:
    """Replayed within Slack's five minutes, a signed `/digest unsubscribe` must not undo a later subscribe."""
    settings = settings_for(fake)
    stop = form_body(slash_form("/digest", "unsubscribe", response_url=fake.hook_url(), user=ADMIN))
    headers = sign(stop)
    async with serving(replicas[0], fake, settings) as first, serving(replicas[1], fake, settings) as second:
        await first.command("subscribe", command="/digest", user=ADMIN)
        await fake.wait_for(lambda: len(fake.hooks) >= 1)
        assert await first.post(stop, "application/x-www-form-urlencoded", headers) == (200, "")
        await fake.wait_for(lambda: len(fake.hooks) >= 2)
        await first.command("subscribe", command="/digest", user=ADMIN)
        await fake.wait_for(lambda: len(fake.hooks) >= 3)
        assert await second.post(stop, "application/x-www-form-urlencoded", headers) == (200, "")
        await second.command("", command="/digest")  # a preview, answered after the replay was dealt with
        await fake.wait_for(lambda: len(fake.hooks) >= 4)
        assert [s.channel for s in await replicas[0].store.subscriptions()] == ["C0GENERAL"]
    assert sum("will no longer get" in hook["text"] for hook in fake.hooks) == 1
