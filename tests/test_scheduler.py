"""The digest scheduler: fire times across daylight-saving changes, restarts, crashes, two processes, failures.

Time is a `FakeClock` passed in (its `sleep` only moves it on), so nothing here waits; the job function
is driven directly where APScheduler's own timing is not the point.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path

import pytest
import time_machine

from bot.digest import ChannelGone, Digest, Subscription, collect_digest
from bot.engine import Engine
from bot.scheduler import DigestScheduler, Outcome, deliver_once, fire_times, trigger_for
from bot.settings import Settings
from bot.store import MemoryStore, Store
from bot.store.sql import open_store
from tests.test_sqlstore import PG_URL, empty_postgres

STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql", id="postgresql", marks=pytest.mark.skipif(not PG_URL, reason="FACTBOT_TEST_PG_URL not set")
    ),
]
SQL = STORES[1:]
LONDON, NEW_YORK = "Europe/London", "America/New_York"
DAY = date(2026, 6, 10)
STALE = timedelta(minutes=10)


def utc(*args: int) -> datetime:
    """A UTC moment."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def sub(channel: str = "C1", at: str = "09:00", tz: str = LONDON, platform: str = "slack") -> Subscription:
    """A subscription."""
    return Subscription(platform=platform, channel=channel, at=time.fromisoformat(at), timezone=tz)


class FakeClock:
    """A clock a test moves; its `sleep` moves it on instead of waiting, and remembers the delays."""

    def __init__(self, moment: datetime) -> None:
        self.now = moment
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


class RecordingPoster:
    """A `DigestPoster` that records posts, after raising each of `failures` in turn (on every call if `always`)."""

    def __init__(
        self,
        posts: list[tuple[str, date]] | None = None,
        *,
        failures: list[Exception] | None = None,
        always: bool = False,
    ) -> None:
        self.platform = "slack"
        self.posts = [] if posts is None else posts
        self.failures = failures or []
        self.always = always
        self.calls = 0

    async def post_digest(self, subscription: Subscription, digest: Digest) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures[0] if self.always else self.failures.pop(0)
        self.posts.append((subscription.channel, digest.day))


async def open_any(kind: str, tmp_path: Path) -> Store:
    """A fresh store of `kind`: memory, a SQLite file, or the emptied PostgreSQL test database."""
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return await open_store(f"sqlite+aiosqlite:///{tmp_path / 'factbot.db'}")
    await empty_postgres(PG_URL)
    return await open_store(PG_URL)


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An empty store: in memory, SQLite, PostgreSQL."""
    opened = await open_any(request.param, tmp_path)
    yield opened
    await opened.close()


def scheduler(engine: Engine, store: Store, clock: FakeClock, *posters: RecordingPoster) -> DigestScheduler:
    """A scheduler on `clock` with fast retries (1, 5, 25 s of fake time) and `posters` registered."""
    made = DigestScheduler(engine, store, clock=clock, sleep=clock.sleep, stale_after=STALE, reload_every=None)
    for poster in posters:
        made.register(poster)
    return made


# -- the store's side ------------------------------------------------------------------------------


async def test_subscriptions_are_one_per_channel(store: Store) -> None:
    await store.subscribe(sub("C2"))
    await store.subscribe(sub("C1", at="08:15", tz=NEW_YORK))
    await store.subscribe(sub("C1", at="07:45", tz=NEW_YORK).model_copy(update={"curators": True, "workspace": "T1"}))
    await store.subscribe(sub("C1", platform="discord"))
    found = await store.subscriptions()
    assert [(s.platform, s.channel) for s in found] == [("discord", "C1"), ("slack", "C1"), ("slack", "C2")]
    assert found[1] == Subscription(
        platform="slack", channel="C1", workspace="T1", at=time(7, 45), timezone=NEW_YORK, curators=True
    )
    assert await store.unsubscribe("slack", "C1") is True
    assert await store.unsubscribe("slack", "C1") is False
    assert [(s.platform, s.channel) for s in await store.subscriptions()] == [("discord", "C1"), ("slack", "C2")]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("claim", 0)], [True]),
        ([("claim", 0), ("claim", 1)], [True, False]),
        ([("claim", 0), ("claim", 10)], [True, True]),
        ([("claim", 0), ("claim", 10), ("claim", 30)], [True, True, False]),
        ([("claim", 0), ("sent", 1), ("claim", 30)], [True, None, False]),
        ([("claim", 0), ("claim", 10), ("sent", 11), ("claim", 40)], [True, True, None, False]),
    ],
    ids=["first", "held", "stale-once", "never-twice", "sent", "sent-after-reclaim"],
)
async def test_a_days_digest_is_claimed_once_and_a_stale_claim_once_more(
    store: Store, steps: list[tuple[str, int]], expected: list[bool | None]
) -> None:
    start, results = utc(2026, 6, 10, 8), []
    for action, minutes in steps:
        moment = start + timedelta(minutes=minutes)
        if action == "claim":
            results.append(await store.claim_digest("slack", "C1", DAY, stale_after=STALE, at=moment))
        else:
            results.append(await store.mark_digest_sent("slack", "C1", DAY, at=moment))
    assert results == expected
    assert await store.claim_digest("slack", "C1", DAY + timedelta(days=1), stale_after=STALE, at=start) is True
    assert await store.claim_digest("slack", "C2", DAY, stale_after=STALE, at=start) is True
    assert await store.claim_digest("discord", "C1", DAY, stale_after=STALE, at=start) is True
    assert await store.digest_sent("slack", "C1", DAY) is ("sent" in [a for a, _ in steps])


# -- fire times across daylight-saving changes -----------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "at", "after", "expected"),
    [
        (LONDON, "09:00", utc(2026, 3, 27, 12), [utc(2026, 3, 28, 9), utc(2026, 3, 29, 8), utc(2026, 3, 30, 8)]),
        (LONDON, "09:00", utc(2026, 10, 23, 12), [utc(2026, 10, 24, 8), utc(2026, 10, 25, 9), utc(2026, 10, 26, 9)]),
        (NEW_YORK, "09:00", utc(2026, 3, 6, 18), [utc(2026, 3, 7, 14), utc(2026, 3, 8, 13), utc(2026, 3, 9, 13)]),
        (NEW_YORK, "09:00", utc(2026, 10, 30, 18), [utc(2026, 10, 31, 13), utc(2026, 11, 1, 14), utc(2026, 11, 2, 14)]),
        (
            NEW_YORK,
            "01:30",
            utc(2026, 3, 6, 18),
            [utc(2026, 3, 7, 6, 30), utc(2026, 3, 8, 6, 30), utc(2026, 3, 9, 5, 30)],
        ),
        # 02:30 does not exist on 8 March in New York: it fires once, at 03:30 EDT, just after the gap
        (
            NEW_YORK,
            "02:30",
            utc(2026, 3, 6, 18),
            [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)],
        ),
        (
            LONDON,
            "01:30",
            utc(2026, 3, 27, 12),
            [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)],
        ),
    ],
    ids=[
        "london-spring",
        "london-autumn",
        "new-york-spring",
        "new-york-autumn",
        "new-york-0130-spring",
        "new-york-0230-gap",
        "london-0130-gap",
    ],
)
def test_the_local_time_holds_across_daylight_saving_changes(
    tz: str, at: str, after: datetime, expected: list[datetime]
) -> None:
    times = fire_times(trigger_for(sub(at=at, tz=tz)), after=after, count=3)
    assert [t.astimezone(UTC) for t in times] == expected
    if at == "09:00":
        assert {(t.hour, t.minute) for t in times} == {(9, 0)}


async def test_an_hour_that_repeats_in_autumn_fires_twice_but_posts_once(engine: Engine) -> None:
    """At 01:30 on 1 November New York goes through 01:30 twice; APScheduler fires at both, the claim keeps one."""
    subscription = sub(at="01:30", tz=NEW_YORK)
    times = fire_times(trigger_for(subscription), after=utc(2026, 10, 31, 12), count=3)
    assert [t.astimezone(UTC) for t in times] == [
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 1, 6, 30),
        utc(2026, 11, 2, 6, 30),
    ]
    clock, poster = FakeClock(times[0]), RecordingPoster()
    digests = scheduler(engine, MemoryStore(), clock, poster)
    assert await digests.run_digest(subscription) is Outcome.POSTED
    clock.now = times[1].astimezone(UTC)
    assert await digests.run_digest(subscription) is Outcome.SENT_ALREADY
    assert poster.posts == [("C1", date(2026, 11, 1))]


async def test_apscheduler_computes_the_next_run_across_the_change(engine: Engine) -> None:
    """The running AsyncIOScheduler, with the wall clock moved by time-machine to the eve of the spring change."""
    store = MemoryStore()
    await store.subscribe(sub("C1", tz=LONDON))
    await store.subscribe(sub("C2", at="01:30", tz=NEW_YORK))
    with time_machine.travel(utc(2026, 3, 28, 12), tick=True):
        digests = DigestScheduler(engine, store, reload_every=None)
        await digests.start()
        try:
            london = digests.next_run_time("slack", "C1")
            new_york = digests.next_run_time("slack", "C2")
        finally:
            digests.shutdown()
    assert london is not None and london.astimezone(UTC) == utc(2026, 3, 29, 8)
    assert new_york is not None and new_york.astimezone(UTC) == utc(2026, 3, 29, 5, 30)


# -- restarts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected", "posted"),
    [
        (utc(2026, 6, 10, 7, 30), {}, []),  # 08:30 BST: before the slot
        (utc(2026, 6, 10, 8, 0), {"slack:C1": Outcome.POSTED}, [DAY]),  # on time
        (utc(2026, 6, 10, 8, 40), {"slack:C1": Outcome.POSTED}, [DAY]),  # 09:40: within the hour's grace
        (utc(2026, 6, 10, 9, 0), {"slack:C1": Outcome.POSTED}, [DAY]),  # 10:00: the last moment of grace
        (utc(2026, 6, 10, 9, 30), {"slack:C1": Outcome.TOO_LATE}, []),  # 10:30: past it, the day is skipped
        (utc(2026, 6, 10, 22), {"slack:C1": Outcome.TOO_LATE}, []),  # 23:00: the same, said once at start
    ],
    ids=["before", "on-time", "during", "end-of-grace", "after", "evening"],
)
async def test_a_restart_catches_up_within_the_grace_period(
    engine: Engine,
    store: Store,
    now: datetime,
    expected: dict[str, Outcome],
    posted: list[date],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await store.subscribe(sub())
    clock, poster = FakeClock(now), RecordingPoster()
    digests = scheduler(engine, store, clock, poster)
    await digests.reload()
    with caplog.at_level(logging.INFO, logger="bot.scheduler"):
        assert await digests.catch_up() == expected
    assert [day for _, day in poster.posts] == posted
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == (1 if Outcome.TOO_LATE in expected.values() else 0)


async def test_a_late_slot_near_midnight_is_caught_up_for_its_own_date(engine: Engine) -> None:
    clock, poster = FakeClock(utc(2026, 6, 10, 23, 20)), RecordingPoster()  # 00:20 BST on the 11th
    store = MemoryStore()
    await store.subscribe(sub(at="23:50"))
    digests = scheduler(engine, store, clock, poster)
    await digests.reload()
    assert await digests.catch_up() == {"slack:C1": Outcome.POSTED}
    assert poster.posts == [("C1", DAY)]


async def test_a_restart_after_the_digest_went_out_posts_nothing(engine: Engine, store: Store) -> None:
    await store.subscribe(sub())
    first = scheduler(engine, store, FakeClock(utc(2026, 6, 10, 8)), poster := RecordingPoster())
    assert await first.run_digest(sub()) is Outcome.POSTED
    again = scheduler(engine, store, FakeClock(utc(2026, 6, 10, 8, 20)), poster)
    await again.reload()
    assert await again.catch_up() == {}
    assert await again.run_digest(sub()) is Outcome.SENT_ALREADY
    assert len(poster.posts) == 1


# -- a crash between claim and send ----------------------------------------------------------------


async def test_a_claim_left_by_a_crash_is_retried_once_after_it_goes_stale(engine: Engine, store: Store) -> None:
    slot = utc(2026, 6, 10, 8)
    assert await store.claim_digest("slack", "C1", DAY, stale_after=STALE, at=slot)  # then the process died
    clock, poster = FakeClock(slot + timedelta(minutes=2)), RecordingPoster()
    digests = scheduler(engine, store, clock, poster)
    assert await digests.run_digest(sub()) is Outcome.CLAIMED_ELSEWHERE
    assert list(digests.retries.values()) == [clock.now + STALE]
    clock.now += STALE
    assert await digests.run_digest(sub()) is Outcome.POSTED
    assert poster.posts == [("C1", DAY)]


async def test_a_claim_is_never_taken_over_twice(engine: Engine, store: Store) -> None:
    slot = utc(2026, 6, 10, 8)
    assert await store.claim_digest("slack", "C1", DAY, stale_after=STALE, at=slot)
    assert await store.claim_digest("slack", "C1", DAY, stale_after=STALE, at=slot + STALE)  # died again
    clock, poster = FakeClock(slot + 3 * STALE), RecordingPoster()
    digests = scheduler(engine, store, clock, poster)
    assert await digests.run_digest(sub()) is Outcome.CLAIMED_ELSEWHERE
    assert poster.posts == []


async def test_a_crash_too_late_for_a_retry_is_left_and_logged(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    store, slot = MemoryStore(), utc(2026, 6, 10, 8)
    await store.claim_digest("slack", "C1", DAY, stale_after=STALE, at=slot + timedelta(minutes=50))  # a late catch-up
    digests = scheduler(engine, store, FakeClock(slot + timedelta(minutes=55)), RecordingPoster())
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        assert await digests.run_digest(sub()) is Outcome.CLAIMED_ELSEWHERE
    assert digests.retries == {} and "left unsent" in caplog.text


# -- two processes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", SQL)
async def test_two_schedulers_on_one_database_post_once(engine: Engine, kind: str, tmp_path: Path) -> None:
    first = await open_any(kind, tmp_path)
    second = await open_store(PG_URL if kind == "postgresql" else f"sqlite+aiosqlite:///{tmp_path / 'factbot.db'}")
    posts: list[tuple[str, date]] = []
    clock = FakeClock(utc(2026, 6, 10, 8))
    try:
        schedulers = [scheduler(engine, s, clock, RecordingPoster(posts)) for s in (first, second)]
        outcomes = await asyncio.gather(*(d.run_digest(sub()) for d in schedulers * 4))
        assert outcomes.count(Outcome.POSTED) == 1
        assert posts == [("C1", DAY)]
        clock.now += 2 * STALE  # a late look finds it sent, not stale
        assert {await d.run_digest(sub()) for d in schedulers} == {Outcome.SENT_ALREADY}
    finally:
        await first.close()
        await second.close()


# -- the platform's answers ------------------------------------------------------------------------


async def test_a_gone_channel_is_unsubscribed_in_one_log_line(
    engine: Engine, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await store.subscribe(sub())
    await store.subscribe(sub("C2"))
    poster = RecordingPoster(failures=[ChannelGone("channel_not_found")])
    digests = scheduler(engine, store, FakeClock(utc(2026, 6, 10, 8)), poster)
    await digests.reload()
    with caplog.at_level(logging.INFO, logger="bot.scheduler"):
        assert await digests.run_digest(sub()) is Outcome.CHANNEL_GONE
    assert [s.channel for s in await store.subscriptions()] == ["C2"]
    assert [s.channel for s in digests.subscriptions] == ["C2"]
    assert poster.calls == 1
    gone = [r for r in caplog.records if "gone" in r.getMessage()]
    assert len(gone) == 1 and "slack:C1" in gone[0].getMessage()


@pytest.mark.parametrize(
    ("start", "failures", "always", "outcome", "slept", "calls"),
    [
        (utc(2026, 6, 10, 8), 2, False, Outcome.POSTED, [1, 5], 3),
        (utc(2026, 6, 10, 8), 3, False, Outcome.POSTED, [1, 5, 25], 4),
        (utc(2026, 6, 10, 8), 1, True, Outcome.FAILED, [1, 5, 25], 4),
        (utc(2026, 6, 10, 8, 59, 58), 1, True, Outcome.FAILED, [1], 2),  # the grace period ends first
    ],
    ids=["recovers", "recovers-on-the-last-try", "gives-up", "out-of-grace"],
)
async def test_a_platform_error_is_retried_with_backoff_within_the_grace_period(
    engine: Engine,
    start: datetime,
    failures: int,
    always: bool,
    outcome: Outcome,
    slept: list[float],
    calls: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, clock = MemoryStore(), FakeClock(start)
    poster = RecordingPoster(failures=[RuntimeError("ratelimited")] * failures, always=always)
    digests = scheduler(engine, store, clock, poster)
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        assert await digests.run_digest(sub()) is outcome
    assert (clock.slept, poster.calls) == (slept, calls)
    assert await store.digest_sent("slack", "C1", DAY) is (outcome is Outcome.POSTED)
    if outcome is Outcome.FAILED:
        assert "not posted: RuntimeError: ratelimited" in caplog.text


async def test_a_failed_digest_is_tried_once_more_after_the_claim_goes_stale(engine: Engine, store: Store) -> None:
    clock = FakeClock(utc(2026, 6, 10, 8))
    down = RecordingPoster(failures=[RuntimeError("503")], always=True)
    digests = scheduler(engine, store, clock, down)
    assert await digests.run_digest(sub()) is Outcome.FAILED
    [when] = digests.retries.values()
    clock.now = when
    digests.register(up := RecordingPoster())
    assert await digests.run_digest(sub()) is Outcome.POSTED
    assert up.posts == [("C1", DAY)]


async def test_a_platform_with_no_poster_claims_nothing(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    store, clock = MemoryStore(), FakeClock(utc(2026, 6, 10, 8))
    digests = scheduler(engine, store, clock)
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        assert await digests.run_digest(sub()) is Outcome.NO_POSTER
    assert "no poster registered for slack" in caplog.text
    digests.register(poster := RecordingPoster())
    assert await digests.run_digest(sub()) is Outcome.POSTED and len(poster.posts) == 1


# -- a failed send releases its claim, so a retry posts ---------------------------------------------


async def test_a_released_claim_may_be_claimed_again_but_a_sent_digest_is_never_released(store: Store) -> None:
    start = utc(2026, 6, 10, 8)
    await store.release_digest("slack", "C1", DAY)  # nothing to release: nothing happens
    assert await store.claim_digest("slack", "C1", DAY, stale_after=STALE, at=start)
    await store.release_digest("slack", "C1", DAY)
    assert await store.claim_digest("slack", "C1", DAY, stale_after=STALE, at=start) is True
    assert await store.claim_digest("slack", "C1", DAY, stale_after=STALE, at=start) is False  # held again
    await store.mark_digest_sent("slack", "C1", DAY, at=start)
    await store.release_digest("slack", "C1", DAY)
    assert await store.digest_sent("slack", "C1", DAY) is True
    assert await store.claim_digest("slack", "C1", DAY, stale_after=STALE, at=start + 3 * STALE) is False


async def test_deliver_once_after_a_failed_post_posts_exactly_once(engine: Engine, store: Store) -> None:
    clock, poster = FakeClock(utc(2026, 6, 10, 8)), RecordingPoster(failures=[RuntimeError("no network")])

    async def build() -> Digest:
        return await collect_digest(engine, channel="C1", platform="slack", day=DAY)

    async def deliver() -> Outcome:
        post = partial(poster.post_digest, sub())
        return await deliver_once(store, sub(), build, post, day=DAY, stale_after=STALE, clock=clock)

    with pytest.raises(RuntimeError, match="no network"):
        await deliver()
    assert await store.digest_sent("slack", "C1", DAY) is False
    assert await deliver() is Outcome.POSTED  # at once: no waiting for the claim to go stale
    assert await deliver() is Outcome.SENT_ALREADY
    assert (poster.calls, poster.posts) == (2, [("C1", DAY)])


async def test_a_gone_channel_keeps_its_claim(engine: Engine, store: Store) -> None:
    """As before: a gone channel is unsubscribed, and the day's claim is not given back."""
    clock, poster = FakeClock(utc(2026, 6, 10, 8)), RecordingPoster(failures=[ChannelGone("channel_not_found")])
    digests = scheduler(engine, store, clock, poster)
    assert await digests.run_digest(sub()) is Outcome.CHANNEL_GONE
    assert await store.claim_digest("slack", "C1", DAY, stale_after=STALE, at=clock.now) is False


async def test_the_scheduler_retries_a_failed_digest_at_once_and_posts_it_once(engine: Engine, store: Store) -> None:
    clock = FakeClock(utc(2026, 6, 10, 8))
    poster = RecordingPoster(failures=[RuntimeError("503")] * 4)  # every try of the first run fails
    digests = scheduler(engine, store, clock, poster)
    assert await digests.run_digest(sub()) is Outcome.FAILED
    assert await digests.run_digest(sub()) is Outcome.POSTED  # before the claim could go stale
    assert await digests.run_digest(sub()) is Outcome.SENT_ALREADY
    assert (poster.calls, poster.posts) == (5, [("C1", DAY)])


@pytest.mark.parametrize("kind", SQL)
async def test_a_scheduler_that_failed_leaves_the_day_to_another_on_the_same_database(
    engine: Engine, kind: str, tmp_path: Path
) -> None:
    first = await open_any(kind, tmp_path)
    second = await open_store(PG_URL if kind == "postgresql" else f"sqlite+aiosqlite:///{tmp_path / 'factbot.db'}")
    clock, posts = FakeClock(utc(2026, 6, 10, 8)), []
    try:
        down = scheduler(engine, first, clock, RecordingPoster(posts, failures=[RuntimeError("503")], always=True))
        up = scheduler(engine, second, clock, RecordingPoster(posts))
        assert await down.run_digest(sub()) is Outcome.FAILED
        assert await up.run_digest(sub()) is Outcome.POSTED
        assert await down.run_digest(sub()) is Outcome.SENT_ALREADY
        assert posts == [("C1", DAY)]
    finally:
        await first.close()
        await second.close()


async def test_a_database_that_is_away_releases_nothing_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'factbot.db'}"
    store = await open_store(url, timeout=0.1)
    locker = sqlite3.connect(str(tmp_path / "factbot.db"), isolation_level=None)
    try:
        assert await store.claim_digest("slack", "C1", DAY, stale_after=STALE)
        locker.execute("BEGIN EXCLUSIVE")
        with caplog.at_level(logging.WARNING, logger="bot"):
            await store.release_digest("slack", "C1", DAY)
        locker.execute("ROLLBACK")
        [line] = [r.getMessage() for r in caplog.records if "release" in r.getMessage()]
        assert "slack:C1" in line and "\n" not in line
        assert await store.claim_digest("slack", "C1", DAY, stale_after=STALE) is False  # the claim stayed
    finally:
        locker.close()
        await store.close()


# -- subscriptions and the jobs --------------------------------------------------------------------


async def test_reload_follows_the_subscriptions(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    store = MemoryStore()
    digests = scheduler(engine, store, FakeClock(utc(2026, 6, 10, 8)))
    await digests.subscribe(sub("C1"))
    await store.subscribe(sub("C2", at="10:00"))
    await store.subscribe(sub("C3", tz="Mars/Olympus_Mons"))
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        await digests.reload()
    assert sorted(s.channel for s in digests.subscriptions) == ["C1", "C2"]
    assert "unknown time zone 'Mars/Olympus_Mons'" in caplog.text
    await store.subscribe(sub("C2", at="11:00"))
    assert await digests.unsubscribe("slack", "C1") is True
    await digests.reload()
    assert [(s.channel, s.at) for s in digests.subscriptions] == [("C2", time(11, 0))]


async def test_the_settings_give_the_grace_period(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTBOT_DIGEST_GRACE_MINUTES", "15")
    digests = DigestScheduler.from_settings(engine, MemoryStore(), Settings())
    assert (digests.grace, digests.stale_after, digests.reload_every) == (
        timedelta(minutes=15),
        timedelta(minutes=10),
        timedelta(minutes=5),
    )


async def test_serve_catches_up_then_runs_until_cancelled(engine: Engine) -> None:
    """The service `factbot run` starts: on the real clock, a slot five minutes ago is posted at once."""
    now = datetime.now(UTC)
    store, poster = MemoryStore(), RecordingPoster()
    await store.subscribe(sub(at=f"{(now - timedelta(minutes=5)):%H:%M}", tz="UTC"))
    digests = DigestScheduler(engine, store, reload_every=timedelta(minutes=1))
    digests.register(poster)
    task = asyncio.create_task(digests.serve())
    for _ in range(100):
        if poster.posts:
            break
        await asyncio.sleep(0.02)
    assert digests.running and len(poster.posts) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not digests.running
