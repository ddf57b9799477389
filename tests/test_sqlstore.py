"""The SQL store: the same tests on SQLite and, when FACTBOT_TEST_PG_URL names a database, on PostgreSQL.

Each PostgreSQL test starts from an empty `public` schema of that database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from datetime import time as dt_time
from pathlib import Path

import pytest
from sqlalchemy import distinct, func, insert, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.digest import Subscription
from bot.engine import Engine
from bot.models import Question
from bot.settings import ConfigError, Settings
from bot.store import FeedbackRecord, PostRecord, QuestionRecord, Vote, now
from bot.store import migrations as schema
from bot.store.sql import SqlStore, StoreError, async_url, create_engine, open_store, store_from_settings

PG_URL = os.environ.get("FACTBOT_TEST_PG_URL", "")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql", id="postgresql", marks=pytest.mark.skipif(not PG_URL, reason="FACTBOT_TEST_PG_URL not set")
    ),
]
HOUR = timedelta(hours=1)


async def empty_postgres(url: str) -> None:
    """Drop everything in the test database's public schema."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file in a temporary directory, or the emptied PostgreSQL test database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'factbot.db'}"
    await empty_postgres(PG_URL)
    return PG_URL


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    """A SQL store on an empty database."""
    opened = await open_store(db_url)
    yield opened
    await opened.close()


def at(minutes_ago: float) -> datetime:
    """A moment `minutes_ago` minutes before now."""
    return now() - timedelta(minutes=minutes_ago)


def question(text: str | None = "who won?", *, minutes_ago: float = 0, **fields: object) -> QuestionRecord:
    """A question record with sensible defaults."""
    return QuestionRecord.model_validate(
        {"platform": "slack", "text": text, "status": "answered", "at": at(minutes_ago), **fields}
    )


def vote(answer: str, user: str, choice: Vote, *, minutes_ago: float = 0, **fields: object) -> FeedbackRecord:
    """A vote record."""
    return FeedbackRecord.model_validate(
        {"answer_key": answer, "user_hash": user, "vote": choice, "platform": "slack", "at": at(minutes_ago), **fields}
    )


def post(channel: str, facts: list[str], link: str, *, minutes_ago: float = 0, platform: str = "slack") -> PostRecord:
    """A post record."""
    return PostRecord(platform=platform, channel=channel, fact_ids=facts, link=link, at=at(minutes_ago))


# -- questions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        QuestionRecord(
            at=datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
            platform="slack",
            workspace="T01",
            channel="C01",
            user_hash="a" * 32,
            text="Who won the ITU election? 🗳️ «quoted» 'single' \"double\"; DROP TABLE questions;--",
            status="answered",
            intent="winner",
            confidence=0.8731,
            fact_ids=["winner-votes", "loser-votes"],
        ),
        QuestionRecord(platform="discord", text=None, status="fallback"),
        QuestionRecord(
            at=datetime(2026, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=2))), platform="console", status="clarify"
        ),
    ],
    ids=["every-field", "no-text", "other-zone"],
)
async def test_a_question_comes_back_as_written(store: SqlStore, record: QuestionRecord) -> None:
    new_id = await store.log_question(record)
    [back] = await store.questions()
    assert new_id == back.id and new_id > 0
    assert back == record.model_copy(update={"id": new_id})
    assert back.at.tzinfo is not None and back.at.utcoffset() == timedelta(0)


async def test_nul_characters_are_dropped_from_question_text(store: SqlStore) -> None:
    await store.log_question(question("who\x00 won?"))
    assert [q.text for q in await store.questions()] == ["who won?"]


async def test_questions_since_come_oldest_first(store: SqlStore) -> None:
    for name, minutes in [("b", 30), ("c", 5), ("a", 90)]:
        await store.log_question(question(name, minutes_ago=minutes))
    assert [q.text for q in await store.questions()] == ["a", "b", "c"]
    assert [q.text for q in await store.questions(since=at(60))] == ["b", "c"]
    ids = [q.id for q in await store.questions()]
    assert len(set(ids)) == 3


async def test_the_engine_logs_through_the_sql_store(store: SqlStore, shipped) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(shipped, store=store, salt="pepper", log_text=False)
    asked = Question(text="ismailov votes", who="U123", where="C1", platform="slack", workspace="T1")
    await store.log_question(engine.record(asked, engine.respond(asked.text)))
    [record] = await store.questions()
    assert (record.status, record.intent, record.text, record.workspace) == ("answered", "loser-votes", None, "T1")
    assert record.fact_ids == ["loser-votes"] and record.user_hash and "U123" not in record.user_hash


# -- feedback -------------------------------------------------------------------------------------


async def test_a_vote_comes_back_as_written(store: SqlStore) -> None:
    question_id = await store.log_question(question())
    record = vote("C1:1.5", "h1", "down", question_id=question_id, intent="winner", fact_ids=["f1", "f2"])
    await store.record_feedback(record)
    assert await store.feedback() == [record]


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        ([("m1", "h", "up"), ("m1", "h", "down")], [("m1", "h", "down")]),
        ([("m1", "h", "down"), ("m1", "h", "down")], [("m1", "h", "down")]),
        ([("m1", "h", "up"), ("m1", "k", "down")], [("m1", "h", "up"), ("m1", "k", "down")]),
        ([("m1", "h", "up"), ("m2", "h", "up")], [("m1", "h", "up"), ("m2", "h", "up")]),
    ],
    ids=["changed-mind", "twice-the-same", "two-people", "two-answers"],
)
async def test_one_vote_per_user_per_answer(
    store: SqlStore, votes: list[tuple[str, str, Vote]], expected: list[tuple[str, str, str]]
) -> None:
    for answer, user, choice in votes:
        await store.record_feedback(vote(answer, user, choice))
    assert sorted((f.answer_key, f.user_hash, f.vote) for f in await store.feedback()) == expected


async def test_a_late_old_vote_does_not_replace_a_newer_one(store: SqlStore) -> None:
    """A vote written from the buffer after an outage must not undo the click that came after it."""
    await store.record_feedback(vote("m1", "h", "down", minutes_ago=1))
    await store.record_feedback(vote("m1", "h", "up", minutes_ago=5))
    assert [f.vote for f in await store.feedback()] == ["down"]


async def test_feedback_since(store: SqlStore) -> None:
    await store.record_feedback(vote("old", "h", "up", minutes_ago=120))
    await store.record_feedback(vote("new", "h", "up", minutes_ago=1))
    assert [f.answer_key for f in await store.feedback(since=at(60))] == ["new"]
    assert [f.answer_key for f in await store.feedback()] == ["old", "new"]


# -- events ---------------------------------------------------------------------------------------


async def test_events_are_claimed_once_within_their_ttl(store: SqlStore) -> None:
    assert await store.claim_event("Ev1", ttl=HOUR) is True
    assert await store.claim_event("Ev1", ttl=HOUR) is False
    assert await store.claim_event("Ev2", ttl=HOUR) is True
    assert await store.claim_event("Ev1", ttl=timedelta(0)) is True


async def test_two_stores_on_one_database_claim_an_event_once(db_url: str) -> None:
    """Two app instances get the same Slack retry at once: exactly one answers it, then again after the ttl."""
    first, second = await open_store(db_url), await open_store(db_url)
    try:
        claims = await asyncio.gather(*(s.claim_event("Ev1", ttl=HOUR) for s in [first, second] * 5))
        assert claims.count(True) == 1
        await asyncio.sleep(0.3)  # the claim has expired for a ttl of 0.25 s
        short = timedelta(seconds=0.25)
        claims = await asyncio.gather(*(s.claim_event("Ev1", ttl=short) for s in [second, first] * 5))
        assert claims.count(True) == 1
    finally:
        await first.close()
        await second.close()


# -- posts ----------------------------------------------------------------------------------------


async def test_recent_post_finds_the_latest_answer_citing_a_fact(store: SqlStore) -> None:
    await store.remember_post(post("C1", ["f1", "f2"], "https://x/old", minutes_ago=20))
    await store.remember_post(post("C1", ["f1"], "https://x/new", minutes_ago=10))
    await store.remember_post(post("C1", ["f3"], "https://x/other", minutes_ago=1))
    await store.remember_post(post("C2", ["f1"], "https://x/c2", minutes_ago=1))
    await store.remember_post(post("C1", ["f1"], "https://x/discord", minutes_ago=1, platform="discord"))
    since = at(30)
    found = await store.recent_post(platform="slack", channel="C1", fact_id="f1", since=since)
    assert found is not None and (found.link, found.fact_ids, found.channel) == ("https://x/new", ["f1"], "C1")
    found = await store.recent_post(platform="slack", channel="C1", fact_id="f2", since=since)
    assert found is not None and (found.link, found.fact_ids) == ("https://x/old", ["f1", "f2"])
    assert await store.recent_post(platform="slack", channel="C1", fact_id="f2", since=at(15)) is None
    assert await store.recent_post(platform="slack", channel="C3", fact_id="f1", since=since) is None
    assert await store.recent_post(platform="slack", channel="C1", fact_id="f9", since=since) is None


async def test_a_post_comes_back_as_written(store: SqlStore) -> None:
    record = post("C1", ["f1", "f2"], "https://example.slack.com/archives/C1/p1")
    await store.remember_post(record)
    assert await store.recent_post(platform="slack", channel="C1", fact_id="f2", since=at(1)) == record


# -- digests ------------------------------------------------------------------------------------

DAY = datetime(2026, 6, 10).date()


async def test_two_stores_on_one_database_claim_a_digest_once(db_url: str) -> None:
    """Two schedulers on one database fire for the same channel and day: exactly one may post, and one may
    take over its claim once it is stale; a sent digest is never claimed again."""
    first, second = await open_store(db_url), await open_store(db_url)
    start, stale = at(30), timedelta(minutes=10)
    try:
        claims = await asyncio.gather(
            *(s.claim_digest("slack", "C1", DAY, stale_after=stale, at=start) for s in [first, second] * 5)
        )
        assert claims.count(True) == 1
        later = start + stale
        claims = await asyncio.gather(
            *(s.claim_digest("slack", "C1", DAY, stale_after=stale, at=later) for s in [second, first] * 5)
        )
        assert claims.count(True) == 1
        await first.mark_digest_sent("slack", "C1", DAY)
        assert await second.digest_sent("slack", "C1", DAY) is True
        assert await second.claim_digest("slack", "C1", DAY, stale_after=stale, at=later + 3 * stale) is False
    finally:
        await first.close()
        await second.close()


async def test_a_subscription_comes_back_as_written(store: SqlStore) -> None:
    record = Subscription(
        platform="discord", channel="456", workspace="G1", at=dt_time(7, 45), timezone="Asia/Kolkata", curators=True
    )
    await store.subscribe(record)
    assert await store.subscriptions() == [record]


async def test_a_database_that_is_away_claims_no_digest(outage: Outage, caplog: pytest.LogCaptureFixture) -> None:
    """Better a digest missed than posted twice; a subscription that cannot be saved is an error to tell."""
    store = await open_store(outage.url, timeout=outage.timeout)
    try:
        await outage.cut()
        with caplog.at_level(logging.WARNING, logger="bot"):
            assert await store.claim_digest("slack", "C1", DAY, stale_after=HOUR) is False
            assert await store.digest_sent("slack", "C1", DAY) is False
            await store.mark_digest_sent("slack", "C1", DAY)
            with pytest.raises(StoreError):
                await store.subscribe(Subscription(platform="slack", channel="C1"))
        assert "digest for slack:C1 not claimed" in caplog.text and "hunter2" not in caplog.text
        await outage.restore()
        assert await store.claim_digest("slack", "C1", DAY, stale_after=HOUR) is True
    finally:
        await store.close()


async def test_purge_forgets_old_digest_claims(store: SqlStore) -> None:
    for day in (DAY, DAY + timedelta(days=40)):
        await store.claim_digest("slack", "C1", day, stale_after=HOUR)
        await store.mark_digest_sent("slack", "C1", day)
    await store.purge(before=datetime(2026, 7, 1, tzinfo=UTC))
    assert [await store.digest_sent("slack", "C1", day) for day in (DAY, DAY + timedelta(days=40))] == [False, True]


async def test_a_version_2_database_gains_the_digest_tables(db_url: str) -> None:
    engine = create_engine(async_url(db_url), timeout=5)
    assert await schema.migrate(engine, target=2) == 0
    await engine.dispose()
    store = await open_store(db_url)
    try:
        await store.subscribe(Subscription(platform="slack", channel="C1"))
        assert [s.channel for s in await store.subscriptions()] == ["C1"]
        async with store.engine.connect() as conn:
            assert await conn.run_sync(schema.current_version) == schema.LATEST == 4
    finally:
        await store.close()


# -- purge ----------------------------------------------------------------------------------------


async def test_purge_forgets_old_questions_votes_posts_and_day_old_events(store: SqlStore) -> None:
    for minutes in (3000, 10):
        await store.log_question(question(f"{minutes}", minutes_ago=minutes))
        await store.record_feedback(vote(f"m{minutes}", "h", "up", minutes_ago=minutes))
        await store.remember_post(post("C1", ["f1"], f"https://x/{minutes}", minutes_ago=minutes))
    await store.claim_event("Ev-old", ttl=HOUR)
    await store.claim_event("Ev-new", ttl=HOUR)
    async with store.engine.begin() as conn:
        await conn.execute(
            update(schema.events).where(schema.events.c.event_id == "Ev-old").values(claimed_at=at(1500))
        )

    assert await store.purge(before=at(60)) == 2
    assert [q.text for q in await store.questions()] == ["10"]
    assert [f.answer_key for f in await store.feedback()] == ["m10"]
    old_post = await store.recent_post(platform="slack", channel="C1", fact_id="f1", since=at(4000))
    assert old_post is not None and old_post.link == "https://x/10"
    async with store.engine.connect() as conn:
        assert (await conn.execute(select(schema.events.c.event_id))).scalars().all() == ["Ev-new"]
    assert await store.purge(before=at(60)) == 0


async def test_purging_a_question_keeps_the_votes_on_it(store: SqlStore) -> None:
    question_id = await store.log_question(question(minutes_ago=120))
    await store.record_feedback(vote("m1", "h", "up", question_id=question_id))
    assert await store.purge(before=at(60)) == 1
    assert [(f.answer_key, f.question_id) for f in await store.feedback()] == [("m1", None)]


@pytest.mark.parametrize(("purge", "kept"), [(True, ["recent"]), (False, ["ancient", "recent"])])
async def test_the_store_from_settings_applies_the_retention_when_asked(
    db_url: str, purge: bool, kept: list[str]
) -> None:
    first = await open_store(db_url)
    await first.log_question(question("ancient", minutes_ago=60 * 24 * 100))
    await first.log_question(question("recent"))
    await first.close()
    store = await store_from_settings(Settings(FACTBOT_DB_URL=db_url, FACTBOT_RETENTION_DAYS=90), purge=purge)
    try:
        assert isinstance(store, SqlStore)
        assert [q.text for q in await store.questions()] == kept
    finally:
        await store.close()


# -- concurrency ----------------------------------------------------------------------------------


async def test_eight_concurrent_writers_lose_nothing_and_double_nothing(db_url: str) -> None:
    """8 stores (8 pools, as 8 processes would have), started at once, 1,000 questions each."""
    stores = await asyncio.gather(*(open_store(db_url) for _ in range(8)))

    async def write(writer: int, store: SqlStore) -> None:
        for number in range(1000):
            await store.log_question(question(f"writer {writer} question {number}"))

    started = time.perf_counter()
    await asyncio.gather(*(write(n, s) for n, s in enumerate(stores)))
    elapsed = time.perf_counter() - started
    assert [(s.pending, s.dropped) for s in stores] == [(0, 0)] * 8
    for each in stores:
        await each.close()

    check = await open_store(db_url)
    async with check.engine.connect() as conn:
        rows = (await conn.execute(select(func.count(), func.count(distinct(schema.questions.c.text))))).one()
        versions = (await conn.execute(select(schema.schema_version.c.version))).scalars().all()
    await check.close()
    assert tuple(rows) == (8000, 8000)
    assert sorted(versions) == [step.version for step in schema.STEPS]
    print(f"\n{make_url(db_url).get_backend_name()}: 8 writers x 1,000 questions in {elapsed:.2f} s")


# -- a database that is away ----------------------------------------------------------------------


class Proxy:
    """A loopback TCP forwarder to PostgreSQL that a test can cut (the database is down) and restore."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen (on the same port as before, after a cut)."""
        self.server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop open ones."""
        assert self.server is not None
        self.server.close()
        for task in self.pipes:
            task.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)
        await self.server.wait_closed()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        for source, target in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, target))
            self.pipes.add(task)
            task.add_done_callback(self.pipes.discard)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                target.write(data)
                await target.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            target.close()


@dataclass
class Outage:
    """A database a test can take away and bring back."""

    url: str
    cut: Callable[[], Awaitable[None]]
    restore: Callable[[], Awaitable[None]]
    timeout: float
    """How long a store waits for the database: short for a lock, longer to connect through the proxy."""


@pytest.fixture
async def outage(db_url: str) -> AsyncIterator[Outage]:
    """SQLite locked by another connection, or PostgreSQL reached through a proxy that goes down."""
    if db_url.startswith("sqlite"):
        locker = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)

        async def lock() -> None:
            locker.execute("BEGIN EXCLUSIVE")

        async def unlock() -> None:
            locker.execute("ROLLBACK")

        yield Outage(db_url, lock, unlock, timeout=0.1)
        locker.close()
        return
    url = make_url(db_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield Outage(
        url.set(port=proxy.port, password="hunter2").render_as_string(False), proxy.cut, proxy.start, timeout=2
    )
    with contextlib.suppress(AssertionError):
        await proxy.cut()


async def test_a_database_that_is_away_costs_no_write(outage: Outage, caplog: pytest.LogCaptureFixture) -> None:
    store = await open_store(outage.url, timeout=outage.timeout)
    try:
        await outage.cut()
        with caplog.at_level(logging.WARNING, logger="bot"):
            assert await store.log_question(question("lost?")) == 0
            await store.record_feedback(vote("m1", "h", "up"))
            await store.remember_post(post("C1", ["f1"], "https://x/1"))
            assert await store.claim_event("Ev1", ttl=HOUR) is True
            assert await store.claim_event("Ev1", ttl=HOUR) is False  # a retry, deduplicated in this process
            assert await store.recent_post(platform="slack", channel="C1", fact_id="f1", since=at(5)) is None
        assert store.pending == 3 and store.dropped == 0
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("unavailable" in w and "kept a question in memory" in w for w in warnings)
        assert all("\n" not in w and "hunter2" not in w for w in warnings)

        await outage.restore()
        assert await store.flush() == 3
        assert store.pending == 0
        assert [q.text for q in await store.questions()] == ["lost?"]
        assert [f.answer_key for f in await store.feedback()] == ["m1"]
        assert await store.recent_post(platform="slack", channel="C1", fact_id="f1", since=at(5)) is not None
        assert await store.claim_event("Ev1", ttl=HOUR) is False  # handled during the outage
    finally:
        await store.close()


async def test_the_next_write_after_an_outage_flushes_the_buffer(outage: Outage) -> None:
    store = await open_store(outage.url, timeout=outage.timeout, buffer_limit=3)
    try:
        await outage.cut()
        for number in range(5):
            await store.log_question(question(f"q{number}"))
        assert (store.pending, store.dropped) == (3, 2)  # bounded: the oldest went
        await outage.restore()
        assert await store.log_question(question("back")) > 0
        assert store.pending == 0
        assert sorted(q.text or "" for q in await store.questions()) == ["back", "q2", "q3", "q4"]
    finally:
        await store.close()


async def test_close_writes_what_is_buffered(outage: Outage) -> None:
    store = await open_store(outage.url, timeout=outage.timeout)
    await outage.cut()
    await store.log_question(question("buffered"))
    await outage.restore()
    await store.close()
    again = await open_store(outage.url)
    assert [q.text for q in await again.questions()] == ["buffered"]
    await again.close()


# -- opening: URLs, errors, migrations ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///factbot.db", "sqlite+aiosqlite:///factbot.db"),
        ("sqlite+aiosqlite:///factbot.db", "sqlite+aiosqlite:///factbot.db"),
        ("postgres://bot@db/factbot", "postgresql+asyncpg://bot@db/factbot"),
        ("postgresql://bot@db:5433/factbot", "postgresql+asyncpg://bot@db:5433/factbot"),
        ("postgresql+asyncpg://bot@db/factbot", "postgresql+asyncpg://bot@db/factbot"),
    ],
)
def test_urls_get_an_asyncio_driver(url: str, expected: str) -> None:
    assert async_url(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql+asyncpg://factbot:s3cret@127.0.0.1:{port}/factbot", "cannot open the database at"),
        ("sqlite+aiosqlite:////nonexistent/directory/factbot.db", "cannot open the database at"),
        ("mysql://factbot:s3cret@db/factbot", "must name SQLite or PostgreSQL"),
        ("factbot:s3cret@db", "is not a database URL"),
    ],
    ids=["closed-port", "missing-directory", "other-database", "not-a-url"],
)
async def test_a_database_that_cannot_be_opened_is_one_line_without_secrets(url: str, says: str) -> None:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    with pytest.raises(StoreError) as caught:
        await open_store(url.format(port=port), timeout=2)
    message = str(caught.value)
    assert says in message and "\n" not in message and "s3cret" not in message
    assert isinstance(caught.value, ConfigError)


async def test_a_database_from_a_newer_factbot_is_refused_in_one_line(db_url: str) -> None:
    store = await open_store(db_url)
    async with store.engine.begin() as conn:
        await conn.execute(insert(schema.schema_version).values(version=99, applied_at=now(), about="from the future"))
    await store.close()
    with pytest.raises(StoreError) as caught:
        await open_store(db_url)
    message = str(caught.value)
    assert "schema version 99" in message and f"({schema.LATEST})" in message and "\n" not in message


async def test_the_migrated_schema_is_the_one_the_store_queries(store: SqlStore) -> None:
    def columns(conn):  # type: ignore[no-untyped-def]
        found = inspect(conn)
        return {name: {c["name"] for c in found.get_columns(name)} for name in found.get_table_names()}

    async with store.engine.connect() as conn:
        found = await conn.run_sync(columns)
    assert found == {name: {c.name for c in table.columns} for name, table in schema.metadata.tables.items()}


async def test_a_version_1_database_is_upgraded_with_its_rows(db_url: str) -> None:
    engine = create_engine(async_url(db_url), timeout=5)
    assert await schema.migrate(engine, target=1) == 0
    async with engine.begin() as conn:
        await conn.execute(insert(schema.questions).values(**question("from v1").model_dump(exclude={"id"})))
    await engine.dispose()

    store = await open_store(db_url)
    try:
        assert [q.text for q in await store.questions()] == ["from v1"]
        await store.remember_post(post("C1", ["f1"], "https://x/1"))
        assert await store.recent_post(platform="slack", channel="C1", fact_id="f1", since=at(1)) is not None
        async with store.engine.connect() as conn:
            assert await conn.run_sync(schema.current_version) == schema.LATEST
    finally:
        await store.close()


V1_SQLITE = """
CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at DATETIME NOT NULL, about TEXT NOT NULL);
CREATE TABLE questions (id INTEGER NOT NULL PRIMARY KEY, at DATETIME NOT NULL, platform TEXT NOT NULL, workspace TEXT,
    channel TEXT, user_hash TEXT, text TEXT, status TEXT NOT NULL, intent TEXT, confidence FLOAT NOT NULL,
    fact_ids TEXT NOT NULL);
CREATE TABLE feedback (answer_key TEXT NOT NULL, user_hash TEXT NOT NULL,
    question_id INTEGER REFERENCES questions (id) ON DELETE SET NULL, at DATETIME NOT NULL, platform TEXT NOT NULL,
    vote TEXT NOT NULL, intent TEXT, fact_ids TEXT NOT NULL, PRIMARY KEY (answer_key, user_hash));
CREATE TABLE events (event_id TEXT NOT NULL PRIMARY KEY, claimed_at DATETIME NOT NULL);
INSERT INTO schema_version VALUES (1, '2026-01-01 08:00:00.000000', 'questions, feedback and handled events');
INSERT INTO questions VALUES (1, '2026-01-02 09:30:00.000000', 'slack', 'T1', 'C1', 'h1', 'who won?', 'answered',
    'winner', 0.9, '["winner-votes"]');
INSERT INTO questions VALUES (2, '2026-01-02 09:31:00', 'slack', NULL, 'C1', 'h2', 'and then?', 'fallback', NULL, 0.1,
    'winner-votes,loser-votes');
INSERT INTO feedback VALUES ('C1:1.0', 'h1', 1, '2026-01-02 09:32:00.000000', 'slack', 'up', 'winner',
    '["winner-votes"]');
INSERT INTO feedback VALUES ('C1:2.0', 'h2', NULL, '2026-01-02 09:33:00.000000', 'slack', 'meh', NULL, '[]');
"""


async def test_a_hand_made_version_1_sqlite_file_opens_with_its_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file as Factbot's first store wrote it, bad rows and all: migrated, read, never a crash."""
    path = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(path)) as old:
        old.executescript(V1_SQLITE)
        old.execute("INSERT INTO events VALUES ('Ev1', ?)", (now().strftime("%Y-%m-%d %H:%M:%S.%f"),))
        old.commit()
    store = await open_store(f"sqlite:///{path}")
    try:
        with caplog.at_level(logging.WARNING, logger="bot"):
            asked = await store.questions()
            votes = await store.feedback()
        assert [(q.id, q.text, q.fact_ids) for q in asked] == [(1, "who won?", ["winner-votes"]), (2, "and then?", [])]
        assert asked[0].at == datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
        assert [(f.answer_key, f.vote, f.question_id) for f in votes] == [("C1:1.0", "up", 1)]
        assert "skipped an unreadable FeedbackRecord row" in caplog.text
        assert "fact ids are not a JSON list" in caplog.text
        assert await store.claim_event("Ev1", ttl=HOUR) is False
        assert await store.log_question(question("new")) == 3
    finally:
        await store.close()


async def test_many_stores_opening_one_new_sqlite_file_at_once_all_open(tmp_path: Path) -> None:
    """Eight Factbots starting together on a new file: none is told the database is locked."""
    for attempt in range(40):
        url = f"sqlite:///{tmp_path / f'new-{attempt}.db'}"
        stores = await asyncio.gather(*(open_store(url) for _ in range(8)))
        for store in stores:
            await store.close()
