"""The digest scheduler: each subscribed channel's digest at its local time, exactly once per local date.

APScheduler 3 runs one `CronTrigger` per subscription, in the channel's time zone, so daylight-saving
changes are the library's business. Exactly-once comes from the store, in `deliver_once` (which
`factbot digest send` shares): a digest is claimed (one row per platform, channel and local date) before
it is posted and marked sent after, so a second process, a restart or a trigger that fires twice (an hour
repeated in autumn) never posts it again. A post that fails releases its claim, so a retry can post; a
claim left unsent by a crash may be taken over once, after `stale_after`, within the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.digest import ChannelGone, Digest, DigestPoster, Subscription, collect_digest
from bot.engine import Engine
from bot.settings import ConfigError, Settings
from bot.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
Build = Callable[[], Awaitable[Digest]]
Post = Callable[[Digest], Awaitable[None]]
RETRY_DELAYS = (1.0, 5.0, 25.0)
"""Seconds to wait before each retry of a post that failed on the platform's side (rate limit, 5xx)."""
RELOAD_JOB = "digest-reload"


class Outcome(StrEnum):
    """What one run of a channel's digest job did."""

    POSTED = "posted"
    SENT_ALREADY = "sent already"
    CLAIMED_ELSEWHERE = "claimed elsewhere"
    TOO_LATE = "too late"
    CHANNEL_GONE = "channel gone"
    FAILED = "failed"
    NO_POSTER = "no poster"


def utc_now() -> datetime:
    """The current time, timezone-aware (UTC): the default clock."""
    return datetime.now(UTC)


def key_of(subscription: Subscription) -> str:
    """A subscription's name in job ids and log lines: `platform:channel`."""
    return f"{subscription.platform}:{subscription.channel}"


def trigger_for(subscription: Subscription) -> CronTrigger:
    """The daily trigger at the subscription's local time, in its time zone (ZoneInfoNotFoundError if unknown)."""
    return CronTrigger(
        hour=subscription.at.hour, minute=subscription.at.minute, timezone=ZoneInfo(subscription.timezone)
    )


def fire_times(trigger: CronTrigger, *, after: datetime, count: int) -> list[datetime]:
    """The next `count` times `trigger` fires after `after`, as APScheduler computes them."""
    times: list[datetime] = []
    fire = trigger.get_next_fire_time(None, after)
    while fire is not None and len(times) < count:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return times


def last_slot(trigger: CronTrigger, moment: datetime) -> datetime | None:
    """The latest time `trigger` fired at or before `moment` (looking back two days), in its time zone."""
    previous = None
    fire = trigger.get_next_fire_time(None, moment - timedelta(days=2))
    while fire is not None and fire <= moment:
        previous = fire
        fire = trigger.get_next_fire_time(fire, fire)
    return previous


async def deliver_once(
    store: Store,
    subscription: Subscription,
    build: Build,
    post: Post,
    *,
    day: date,
    stale_after: timedelta,
    clock: Clock = utc_now,
) -> Outcome:
    """Claim the channel's digest for `day`, build it, post it, mark it sent: POSTED, SENT_ALREADY or CLAIMED_ELSEWHERE.

    A build or post that fails releases the claim, so a retry can post, and raises its error; ChannelGone
    is raised with the claim kept (the channel is not coming back). A cancelled post keeps its claim too:
    whether it went out is unknown, so it is left to go stale.
    """
    platform, channel = subscription.platform, subscription.channel
    if not await store.claim_digest(platform, channel, day, stale_after=stale_after, at=clock()):
        sent = await store.digest_sent(platform, channel, day)
        return Outcome.SENT_ALREADY if sent else Outcome.CLAIMED_ELSEWHERE
    try:
        await post(await build())
    except ChannelGone:
        raise
    except Exception:
        await store.release_digest(platform, channel, day)
        log.info("digest for %s on %s not posted: claim released for a retry", key_of(subscription), day)
        raise
    await store.mark_digest_sent(platform, channel, day, at=clock())
    return Outcome.POSTED


class DigestScheduler:
    """Posts every subscribed channel's daily digest through the poster registered for its platform."""

    def __init__(
        self,
        engine: Engine,
        store: Store,
        *,
        grace: timedelta = timedelta(hours=1),
        stale_after: timedelta = timedelta(minutes=10),
        retry_delays: Sequence[float] = RETRY_DELAYS,
        reload_every: timedelta | None = timedelta(minutes=5),
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.engine = engine
        self.store = store
        self.grace = grace
        self.stale_after = stale_after
        self.retry_delays = tuple(retry_delays)
        self.reload_every = reload_every
        self.clock = clock
        self.sleep = sleep
        self.retries: dict[str, datetime] = {}
        """When each pending re-run of a claimed-but-unsent digest is due, by job id."""
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._posters: dict[str, DigestPoster] = {}
        self._subscriptions: dict[str, Subscription] = {}

    @classmethod
    def from_settings(cls, engine: Engine, store: Store, settings: Settings) -> DigestScheduler:
        """A scheduler with the grace period, stale-claim timeout and reload interval from `settings`."""
        reload_every = settings.digest_reload_minutes
        return cls(
            engine,
            store,
            grace=timedelta(minutes=settings.digest_grace_minutes),
            stale_after=timedelta(minutes=settings.digest_stale_minutes),
            reload_every=timedelta(minutes=reload_every) if reload_every else None,
        )

    def register(self, poster: DigestPoster) -> None:
        """Post the digests of `poster.platform`'s subscriptions through `poster`."""
        self._posters[poster.platform] = poster

    @property
    def subscriptions(self) -> list[Subscription]:
        """The subscriptions scheduled now."""
        return list(self._subscriptions.values())

    @property
    def running(self) -> bool:
        """Whether APScheduler is running."""
        return bool(self._scheduler.running)

    def next_run_time(self, platform: str, channel: str) -> datetime | None:
        """When APScheduler will next run the channel's digest (None before `start` or when not subscribed)."""
        job = self._scheduler.get_job(f"digest:{platform}:{channel}")
        return getattr(job, "next_run_time", None) if job is not None else None

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the subscriptions and start APScheduler (inside the running event loop)."""
        await self.reload()
        self._scheduler.start()
        if self.reload_every:
            interval = IntervalTrigger(seconds=self.reload_every.total_seconds(), timezone=UTC)
            self._scheduler.add_job(self.reload, interval, id=RELOAD_JOB, coalesce=True, replace_existing=True)
        log.info("digest scheduler started with %d subscriptions", len(self._subscriptions))

    def shutdown(self) -> None:
        """Stop APScheduler; digests being posted are cancelled (their claims go stale and are retried once)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def serve(self) -> None:
        """Start, catch up on slots missed within the grace period, and run until cancelled: a `factbot run` service."""
        await self.start()
        try:
            await self.catch_up()
            await asyncio.Event().wait()
        finally:
            self.shutdown()

    async def reload(self) -> None:
        """Bring the jobs in line with the store's subscriptions; a store that is away keeps the current ones."""
        try:
            found = {key_of(s): s for s in await self.store.subscriptions()}
        except ConfigError as exc:
            log.warning("could not read the digest subscriptions (%s): keeping %d", exc, len(self._subscriptions))
            return
        for key in self._subscriptions.keys() - found.keys():
            self._unschedule(key)
        for key, subscription in found.items():
            if self._subscriptions.get(key) != subscription:
                self._schedule(subscription)

    async def subscribe(self, subscription: Subscription) -> None:
        """Save a subscription and schedule it now (what `/digest subscribe` calls)."""
        await self.store.subscribe(subscription)
        self._schedule(subscription)

    async def unsubscribe(self, platform: str, channel: str) -> bool:
        """End a subscription and its job; whether there was one (what `/digest unsubscribe` calls)."""
        self._unschedule(f"{platform}:{channel}")
        return await self.store.unsubscribe(platform, channel)

    def _schedule(self, subscription: Subscription) -> None:
        """Add or replace the subscription's daily job; an unknown time zone is logged and skipped."""
        key = key_of(subscription)
        try:
            trigger = trigger_for(subscription)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("digest for %s not scheduled: unknown time zone %r", key, subscription.timezone)
            self._unschedule(key)
            return
        self._scheduler.add_job(
            self.run_digest,
            trigger,
            args=[subscription],
            id=f"digest:{key}",
            name=f"digest for {key}",
            misfire_grace_time=max(1, int(self.grace.total_seconds())),
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
        self._subscriptions[key] = subscription

    def _unschedule(self, key: str) -> None:
        """Remove a subscription's job, if it has one."""
        self._subscriptions.pop(key, None)
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(f"digest:{key}")

    # -- one channel's digest ----------------------------------------------------------------------

    async def catch_up(self) -> dict[str, Outcome]:
        """Run today's digests whose time passed within the grace period and were not sent; log the later ones."""
        now = self.clock()
        due: list[Subscription] = []
        outcomes: dict[str, Outcome] = {}
        for subscription in self.subscriptions:
            slot = last_slot(trigger_for(subscription), now)
            if slot is None or await self.store.digest_sent(subscription.platform, subscription.channel, slot.date()):
                continue
            if now - slot <= self.grace:
                due.append(subscription)
            elif slot.date() == now.astimezone(slot.tzinfo).date():
                log.info(
                    "digest for %s on %s skipped: its time passed %s ago", key_of(subscription), slot.date(), now - slot
                )
                outcomes[key_of(subscription)] = Outcome.TOO_LATE
        ran = await asyncio.gather(*(self.run_digest(s) for s in due))
        return outcomes | {key_of(s): outcome for s, outcome in zip(due, ran, strict=True)}

    async def run_digest(self, subscription: Subscription) -> Outcome:
        """The job: deliver the channel's digest for its local date once, if within the grace period."""
        key, now = key_of(subscription), self.clock()
        slot = last_slot(trigger_for(subscription), now)
        if slot is None or now - slot > self.grace:
            log.info("digest for %s skipped: run at %s, past the grace period of its time", key, now.isoformat())
            return Outcome.TOO_LATE
        poster = self._posters.get(subscription.platform)
        if poster is None:
            log.warning("digest for %s not posted: no poster registered for %s", key, subscription.platform)
            return Outcome.NO_POSTER
        outcome = await self._deliver(subscription, poster, slot)
        if outcome is Outcome.CLAIMED_ELSEWHERE:  # look again once that claim could be stale
            self._retry_later(subscription, slot)
        return outcome

    async def _deliver(self, subscription: Subscription, poster: DigestPoster, slot: datetime) -> Outcome:
        """The day's digest through `deliver_once`; a gone channel is unsubscribed, a failing platform retried."""
        key, day = key_of(subscription), slot.date()
        build = partial(self._build, subscription, slot)
        post = partial(self._post, poster, subscription, deadline=slot + self.grace)
        try:
            outcome = await deliver_once(
                self.store, subscription, build, post, day=day, stale_after=self.stale_after, clock=self.clock
            )
        except ChannelGone:
            await self._gone(subscription)
            return Outcome.CHANNEL_GONE
        except Exception as exc:  # the platform's errors are many and its adapter's business
            log.error("digest for %s on %s not posted: %s: %s", key, day, type(exc).__name__, exc)
            self._retry_later(subscription, slot)
            return Outcome.FAILED
        if outcome is Outcome.POSTED:
            log.info("digest for %s on %s posted", key, day)
        return outcome

    async def _build(self, subscription: Subscription, slot: datetime) -> Digest:
        """The subscription's digest for the slot's local date, from what was asked until the slot."""
        return await collect_digest(
            self.engine,
            channel=subscription.channel,
            platform=subscription.platform,
            day=slot.date(),
            curators=subscription.curators,
            until=slot,
        )

    async def _post(
        self, poster: DigestPoster, subscription: Subscription, digest: Digest, *, deadline: datetime
    ) -> None:
        """Post, retrying a platform error after each of `retry_delays` while that stays before `deadline`."""
        for delay in (*self.retry_delays, None):
            try:
                await poster.post_digest(subscription, digest)
                return
            except ChannelGone:
                raise
            except Exception as exc:
                if delay is None or self.clock() + timedelta(seconds=delay) > deadline:
                    raise
                log.warning(
                    "digest for %s failed (%s: %s); retrying in %g s",
                    key_of(subscription),
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await self.sleep(delay)

    async def _gone(self, subscription: Subscription) -> None:
        """Unsubscribe a channel that no longer exists or removed the bot, in one log line."""
        key = key_of(subscription)
        self._unschedule(key)
        try:
            await self.store.unsubscribe(subscription.platform, subscription.channel)
        except ConfigError as exc:
            log.warning("channel %s is gone but could not be unsubscribed: %s", key, exc)
            return
        log.warning("channel %s is gone or the bot was removed: unsubscribed from the digest", key)

    def _retry_later(self, subscription: Subscription, slot: datetime) -> None:
        """Run the digest again once the day's claim could be stale, if that is still within the grace period."""
        key, day = key_of(subscription), slot.date()
        when = self.clock() + self.stale_after
        if when > slot + self.grace:
            log.warning("digest for %s on %s left unsent: no time for another try within the grace period", key, day)
            return
        job_id = f"digest-retry:{key}:{day}"
        self.retries[job_id] = when
        self._scheduler.add_job(
            self._retry,
            DateTrigger(run_date=when, timezone=UTC),
            args=[subscription, job_id],
            id=job_id,
            misfire_grace_time=max(1, int(self.grace.total_seconds())),
            replace_existing=True,
        )

    async def _retry(self, subscription: Subscription, job_id: str) -> Outcome:
        """A re-run of a digest whose claim may have gone stale."""
        self.retries.pop(job_id, None)
        return await self.run_digest(subscription)
