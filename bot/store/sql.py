"""The SQL store: Factbot's memory in SQLite (the default, one process) or PostgreSQL (several replicas).

SQLAlchemy's asyncio engine with aiosqlite or asyncpg; every statement is built with SQLAlchemy Core, so
no SQL text ever holds what users typed. A database that is down or locked never costs an answer: a
write that fails is logged in one line and kept in a bounded buffer, written on the next successful
write, on `flush()` and on `close()`. Handled events then fall back to this process's memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Delete, Row, Select, Update, delete, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.models import ConfigError, Subscription
from bot.store import (
    DIGEST_CLAIMS,
    FeedbackRecord,
    MemoryStore,
    PostRecord,
    QuestionRecord,
    Record,
    Store,
    cutoff,
    now,
)
from bot.store import migrations as schema
from bot.store.urls import masked

log = logging.getLogger(__name__)

Model = TypeVar("Model", bound=BaseModel)

DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
FLUSH_BATCH = 500
EVENT_RETENTION = timedelta(days=1)
TRANSIENT_SQLSTATES = ("08", "40", "53", "57", "55P03")
"""PostgreSQL error classes worth a retry: connection, rollback, resources, operator intervention, lock wait."""


class StoreError(ConfigError):
    """The database cannot be used (unreachable at start, a newer schema, a bad URL), told in one line."""


# -- URLs and errors ------------------------------------------------------------------------------


def async_url(url: str) -> URL:
    """`url` with an asyncio driver (`sqlite://` becomes `sqlite+aiosqlite://`, and so on); StoreError if unknown."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError("FACTBOT_DB_URL is not a database URL (try sqlite+aiosqlite:///factbot.db)") from None
    driver = DRIVERS.get(parsed.get_backend_name())
    if driver is None:
        raise StoreError(f"FACTBOT_DB_URL must name SQLite or PostgreSQL, not {parsed.get_backend_name()!r}")
    return parsed.set(drivername=driver)


def shown(url: URL) -> str:
    """A URL fit for a log line: every credential masked."""
    return masked(url.render_as_string(hide_password=False))


def reason(exc: BaseException) -> str:
    """An exception in a few words for one log line: the driver's error class and first line."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {lines[0][:160]}" if lines else type(inner).__name__


def is_transient(exc: BaseException) -> bool:
    """Whether a failure is the database being away or busy (worth a retry), not the data being wrong."""
    if isinstance(exc, OSError | OperationalError | InterfaceError | PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        state = str(getattr(exc.orig, "sqlstate", "") or "")
        return exc.connection_invalidated or state.startswith(TRANSIENT_SQLSTATES)
    return False


FAILURES = (SQLAlchemyError, OSError)
"""What a database call can raise: SQLAlchemy's errors, and socket errors from drivers connecting."""


# -- engines --------------------------------------------------------------------------------------


def create_engine(url: URL, *, timeout: float, read_only: bool = False, immutable: bool = False) -> AsyncEngine:
    """An engine for `url`; `timeout` seconds bound connecting and waiting for locks. A read-only engine never
    creates, changes or migrates anything (SQLite opens the file with `mode=ro`; PostgreSQL reads only)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, timeout=timeout, read_only=read_only, immutable=immutable)
    settings = {"lock_timeout": str(int(timeout * 1000))} | (
        {"default_transaction_read_only": "on"} if read_only else {}
    )
    return create_async_engine(
        url, pool_pre_ping=True, pool_timeout=timeout, connect_args={"timeout": timeout, "server_settings": settings}
    )


def _sqlite_engine(url: URL, *, timeout: float, read_only: bool = False, immutable: bool = False) -> AsyncEngine:
    """SQLite in WAL mode, so readers never wait for the writer, with a busy timeout and foreign keys."""
    memory = url.database in (None, "", ":memory:")
    extra: dict[str, Any] = {"poolclass": StaticPool} if memory else {}
    if read_only and not memory:
        flags = "mode=ro&immutable=1" if immutable else "mode=ro"
        url = url.set(database=f"file:{Path(str(url.database)).resolve()}?{flags}", query={"uri": "true"})
    engine = create_async_engine(url, connect_args={"timeout": timeout}, **extra)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas(int(timeout * 1000), read_only=read_only))
    return engine


def _sqlite_pragmas(busy_ms: int, *, read_only: bool = False) -> Callable[[Any, Any], None]:
    """A connect hook that sets SQLite's pragmas on each new connection (only the busy timeout when reading)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms:d}")
        if not read_only:
            _write_ahead(cursor, busy_ms / 1000)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return on_connect


def _write_ahead(cursor: Any, patience: float) -> None:
    """Put the database in WAL mode, waiting out others doing the same.

    SQLite answers "database is locked" at once, without its busy handler, when several connections
    switch a new database's journal mode together (several Factbots starting on one file).
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as exc:  # the driver's OperationalError, whichever adapter wraps it
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _check_directory(url: URL) -> None:
    """A SQLite file's directory must exist (SQLite creates the file, never its directory), and be no folder itself."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(str(url.database)).resolve()
    if path.is_dir():
        raise StoreError(f"cannot open the database at {shown(url)}: {path} is a folder, not a database file")
    if not path.parent.is_dir():
        raise StoreError(f"cannot open the database at {shown(url)}: there is no directory {path.parent}")


async def open_store(url: str, *, buffer_limit: int = 10_000, timeout: float = 5.0) -> SqlStore:
    """Connect to the database at `url` and bring its schema up to date; StoreError in one line if not."""
    target = async_url(url)
    _check_directory(target)
    engine = create_engine(target, timeout=timeout)
    try:
        found = await schema.migrate(engine)
    except FAILURES as exc:
        await engine.dispose()
        raise StoreError(f"cannot open the database at {shown(target)}: {reason(exc)}") from None
    if found > schema.LATEST:
        await engine.dispose()
        raise StoreError(_too_new(target, found))
    return SqlStore(engine, buffer_limit=buffer_limit)


async def _reading(target: URL, *, timeout: float) -> tuple[AsyncEngine, int]:
    """A read-only engine on `target` and the schema version it found.

    A SQLite file in WAL mode whose folder Factbot may not write to (another user's, say) cannot get the
    shared-memory file readers need: it is then read as an unchanging file, which a one-off report may do.
    """
    try:
        return await _version_read(create_engine(target, timeout=timeout, read_only=True))
    except FAILURES:
        if target.get_backend_name() != "sqlite":
            raise
    return await _version_read(create_engine(target, timeout=timeout, read_only=True, immutable=True))


async def _version_read(engine: AsyncEngine) -> tuple[AsyncEngine, int]:
    """`engine` and the schema version it reads; the engine is disposed of when it cannot read."""
    try:
        async with engine.connect() as conn:
            return engine, await conn.run_sync(schema.current_version)
    except FAILURES:
        await engine.dispose()
        raise


def _too_new(target: URL, found: int) -> str:
    """What to say about a database written by a newer Factbot."""
    return (
        f"the database at {shown(target)} has schema version {found}, newer than this Factbot knows "
        f"({schema.LATEST}): upgrade Factbot or point FACTBOT_DB_URL at another database"
    )


class DatabaseSettings(Protocol):
    """What opening the store needs of the settings: where the database is, and how long rows are kept."""

    @property
    def db_url(self) -> str: ...

    @property
    def retention_days(self) -> int: ...


def _has_data(url: URL) -> bool:
    """Whether a SQLite URL names a file with something in it (a missing or empty file is no log yet)."""
    if url.database in (None, "", ":memory:"):
        return False
    path = Path(str(url.database))
    return path.is_file() and path.stat().st_size > 0


async def open_log(url: str, *, timeout: float = 5.0) -> Store:
    """The question log at `url`, read-only, for reports: nothing is created, migrated, purged or written.

    A SQLite file that does not exist yet, or is empty, is an empty log; so is a database with no tables yet.
    """
    target = async_url(url)
    _check_directory(target)
    if target.get_backend_name() == "sqlite" and not _has_data(target):
        return MemoryStore()
    try:
        engine, found = await _reading(target, timeout=timeout)
    except FAILURES as exc:
        raise StoreError(f"cannot read the database at {shown(target)}: {reason(exc)}") from None
    if found == 0:
        await engine.dispose()
        return MemoryStore()
    if found > schema.LATEST:
        await engine.dispose()
        raise StoreError(_too_new(target, found))
    return SqlStore(engine)


async def store_from_settings(settings: DatabaseSettings, *, purge: bool = False) -> Store:
    """The SQL store at `settings.db_url`; with `purge`, rows older than `settings.retention_days` deleted first.

    Only `factbot run` and `factbot purge` purge: a report reads the log as it is.
    """
    store = await open_store(settings.db_url)
    if purge:
        gone = await store.purge(before=cutoff(settings.retention_days))
        if gone:
            log.info("purged %d rows older than %d days", gone, settings.retention_days)
    return store


# -- statements -----------------------------------------------------------------------------------


INSERT_QUESTION = insert(schema.questions)
INSERT_POST = insert(schema.posts)


def _upsert(conn: AsyncConnection) -> Callable[..., Any]:
    """The dialect's INSERT, which knows ON CONFLICT."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


async def _insert_question(conn: AsyncConnection, record: QuestionRecord) -> int:
    """Insert a question; its new id."""
    result = await conn.execute(INSERT_QUESTION, record.model_dump(exclude={"id"}))
    new_id = result.inserted_primary_key
    return int(new_id[0]) if new_id else 0


async def _upsert_feedback(conn: AsyncConnection, record: FeedbackRecord) -> int:
    """Insert a vote, or replace the same user's earlier vote on the same answer (never a later one)."""
    values = record.model_dump()
    if not values["question_id"] or values["question_id"] < 1:
        values["question_id"] = None  # 0 means "the question is still in the buffer"
    table = schema.feedback
    stmt = _upsert(conn)(table).values(**values)
    changed = {name: stmt.excluded[name] for name in values if name not in {"answer_key", "user_hash"}}
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.answer_key, table.c.user_hash], set_=changed, where=table.c.at <= stmt.excluded.at
    )
    await conn.execute(stmt)
    return 0


async def _insert_post(conn: AsyncConnection, record: PostRecord) -> int:
    """One row per cited fact, so that `recent_post` is one indexed lookup."""
    rows = _post_rows(record)
    if rows:
        await conn.execute(INSERT_POST, rows)
    return 0


def _row(record: QuestionRecord) -> dict[str, Any]:
    """A question's column values (its fields but the id the database gives), without pydantic's serialiser."""
    return {name: value for name, value in vars(record).items() if name != "id"}


def _post_rows(record: PostRecord) -> list[dict[str, Any]]:
    """A post's rows: one per cited fact."""
    return [{**record.model_dump(), "fact_id": fact_id} for fact_id in dict.fromkeys(record.fact_ids)]


async def _write(conn: AsyncConnection, record: Record) -> int:
    """Write one record of any kind; a question's id, else 0."""
    if isinstance(record, QuestionRecord):
        return await _insert_question(conn, record)
    if isinstance(record, FeedbackRecord):
        return await _upsert_feedback(conn, record)
    return await _insert_post(conn, record)


async def _claim(conn: AsyncConnection, event_id: str, *, moment: datetime, expired: datetime) -> bool:
    """Insert a claim, or take over one made before `expired`; True when this call got it (atomic)."""
    table = schema.events
    stmt = _upsert(conn)(table).values(event_id=event_id, claimed_at=moment)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.event_id],
        set_={"claimed_at": stmt.excluded.claimed_at},
        where=table.c.claimed_at <= expired,
    ).returning(table.c.event_id)
    return (await conn.execute(stmt)).first() is not None


async def _claim_digest(
    conn: AsyncConnection, platform: str, channel: str, day: date, *, moment: datetime, expired: datetime
) -> bool:
    """Insert the day's claim, or take over a stale unsent one claimed only once; True when this call got it."""
    table = schema.digests
    stmt = _upsert(conn)(table).values(platform=platform, channel=channel, day=day, claimed_at=moment, claims=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.platform, table.c.channel, table.c.day],
        set_={"claimed_at": stmt.excluded.claimed_at, "claims": table.c.claims + 1},
        where=table.c.sent_at.is_(None) & (table.c.claims < DIGEST_CLAIMS) & (table.c.claimed_at <= expired),
    ).returning(table.c.claims)
    return (await conn.execute(stmt)).first() is not None


async def _upsert_subscription(conn: AsyncConnection, subscription: Subscription) -> None:
    """Insert a subscription, or replace the channel's earlier one."""
    table = schema.subscriptions
    stmt = _upsert(conn)(table).values(**subscription.model_dump(), updated_at=now())
    keys = {"platform", "channel"}
    changed = {column.name: stmt.excluded[column.name] for column in table.columns if column.name not in keys}
    await conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.platform, table.c.channel], set_=changed))


def _purges(before: datetime) -> list[Delete]:
    """The deletes a purge runs: old questions and votes (counted), old posts, day-old events, old digests."""
    return [
        delete(schema.feedback).where(schema.feedback.c.at < before),
        delete(schema.questions).where(schema.questions.c.at < before),
        delete(schema.posts).where(schema.posts.c.at < before),
        delete(schema.events).where(schema.events.c.claimed_at < now() - EVENT_RETENTION),
        delete(schema.digests).where(schema.digests.c.day < before.date()),
    ]


def _records(model: type[Model], rows: Iterable[Row[Any]]) -> list[Model]:
    """Rows as records; a row that does not validate (bad data from elsewhere) is logged and skipped."""
    kept = []
    for row in rows:
        try:
            kept.append(model.model_validate(dict(row._mapping)))
        except ValidationError as exc:
            first = exc.errors()[0]
            log.warning("skipped an unreadable %s row: %s %s", model.__name__, first["loc"], first["msg"])
    return kept


def _kind(record: Record) -> str:
    """What a record is, for a log line."""
    return {QuestionRecord: "question", FeedbackRecord: "vote", PostRecord: "post"}[type(record)]


# -- the store ------------------------------------------------------------------------------------


class SqlStore:
    """A `Store` on SQLite or PostgreSQL; writes outlive an outage in a bounded buffer."""

    def __init__(self, engine: AsyncEngine, *, buffer_limit: int = 10_000) -> None:
        self.engine = engine
        self.url = shown(engine.url)
        self.buffer_limit = buffer_limit
        self.dropped = 0
        self._buffer: deque[Record] = deque()
        self._flushing = asyncio.Lock()
        self._local = MemoryStore()

    @property
    def pending(self) -> int:
        """How many records wait in the buffer for the database."""
        return len(self._buffer)

    async def write_many(self, records: Sequence[Record]) -> None:
        """Write `records` in batches of FLUSH_BATCH, one transaction each; what the database cannot take now
        waits in the buffer for the next write."""
        backlog = len(self._buffer)
        self._keep(list(records))
        written = await self._write_buffer()
        if backlog and written:
            log.info("wrote %d records to the database %s (%d had waited)", written, self.url, backlog)

    async def log_question(self, record: QuestionRecord) -> int:
        """Keep one question; its id, or 0 when it waits in the buffer."""
        return await self._save(record) or 0

    async def record_feedback(self, record: FeedbackRecord) -> None:
        """Keep a vote; the same user voting again on the same answer changes their vote."""
        await self._save(record)

    async def remember_post(self, record: PostRecord) -> None:
        """Keep where an answer was posted, for repeat suppression."""
        await self._save(record)

    async def claim_event(self, event_id: str, *, ttl: timedelta) -> bool:
        """True for the one caller, across processes, that claims `event_id` first within `ttl`."""
        moment = now()
        try:
            async with self.engine.begin() as conn:
                won = await _claim(conn, event_id, moment=moment, expired=moment - ttl)
        except FAILURES as exc:
            log.warning("database %s unavailable (%s): events deduplicated in this process only", self.url, reason(exc))
            return await self._local.claim_event(event_id, ttl=ttl)
        # this process may have handled it while the database was away
        return won and await self._local.claim_event(event_id, ttl=ttl)

    async def recent_post(self, *, platform: str, channel: str, fact_id: str, since: datetime) -> PostRecord | None:
        """The latest post in `channel` since `since` that cited `fact_id`; None too when the database is away."""
        table = schema.posts
        stmt = (
            select(table.c.at, table.c.platform, table.c.channel, table.c.fact_ids, table.c.link)
            .where(table.c.platform == platform, table.c.channel == channel, table.c.fact_id == fact_id)
            .where(table.c.at >= since)
            .order_by(table.c.at.desc(), table.c.id.desc())
            .limit(1)
        )
        try:
            found = _records(PostRecord, await self._rows(stmt))
        except StoreError as exc:
            log.warning("%s", exc)
            return None
        return found[0] if found else None

    async def recent_posts(self, *, platform: str, since: datetime) -> list[PostRecord]:
        """Every post on `platform` since `since`, oldest first (one per post, not per fact); StoreError when away."""
        table = schema.posts
        stmt = (
            select(table.c.at, table.c.platform, table.c.channel, table.c.fact_ids, table.c.link)
            .distinct()
            .where(table.c.at >= since, table.c.platform == platform)
            .order_by(table.c.at)
        )
        return _records(PostRecord, await self._rows(stmt))

    async def questions(self, *, since: datetime | None = None) -> list[QuestionRecord]:
        """Questions asked since `since` (all when None), oldest first."""
        table = schema.questions
        stmt = select(table).order_by(table.c.at, table.c.id)
        if since is not None:
            stmt = stmt.where(table.c.at >= since)
        return _records(QuestionRecord, await self._rows(stmt))

    async def feedback(self, *, since: datetime | None = None) -> list[FeedbackRecord]:
        """Votes given since `since` (all when None), oldest first."""
        table = schema.feedback
        stmt = select(table).order_by(table.c.at)
        if since is not None:
            stmt = stmt.where(table.c.at >= since)
        return _records(FeedbackRecord, await self._rows(stmt))

    async def purge(self, *, before: datetime) -> int:
        """Delete questions, votes and posts older than `before`, and day-old events; how many questions and
        votes went (0 when the database is away)."""
        try:
            async with self.engine.begin() as conn:
                counts = [(await conn.execute(stmt)).rowcount for stmt in _purges(before)]
        except FAILURES as exc:
            log.warning("could not purge the database %s: %s", self.url, reason(exc))
            return 0
        return counts[0] + counts[1]

    async def subscribe(self, subscription: Subscription) -> None:
        """Subscribe a channel, or change its subscription; StoreError in one line when the database is away."""
        try:
            async with self.engine.begin() as conn:
                await _upsert_subscription(conn, subscription)
        except FAILURES as exc:
            raise StoreError(f"cannot save the subscription in the database at {self.url}: {reason(exc)}") from None

    async def unsubscribe(self, platform: str, channel: str) -> bool:
        """End a channel's subscription; whether it had one. StoreError when the database is away."""
        table = schema.subscriptions
        stmt = delete(table).where(table.c.platform == platform, table.c.channel == channel)
        try:
            async with self.engine.begin() as conn:
                return bool((await conn.execute(stmt)).rowcount)
        except FAILURES as exc:
            raise StoreError(f"cannot end the subscription in the database at {self.url}: {reason(exc)}") from None

    async def subscriptions(self) -> list[Subscription]:
        """Every subscribed channel, by platform and channel; StoreError when the database is away."""
        table = schema.subscriptions
        return _records(Subscription, await self._rows(select(table).order_by(table.c.platform, table.c.channel)))

    async def claim_digest(
        self, platform: str, channel: str, day: date, *, stale_after: timedelta, at: datetime | None = None
    ) -> bool:
        """True for the one caller, across processes, that may post the day's digest (see `Store.claim_digest`).

        False when the database is away: a digest missed is better than one posted twice.
        """
        moment = at or now()
        try:
            async with self.engine.begin() as conn:
                return await _claim_digest(conn, platform, channel, day, moment=moment, expired=moment - stale_after)
        except FAILURES as exc:
            log.warning(
                "database %s unavailable (%s): digest for %s:%s not claimed", self.url, reason(exc), platform, channel
            )
            return False

    async def mark_digest_sent(self, platform: str, channel: str, day: date, *, at: datetime | None = None) -> None:
        """Record that the day's digest was posted; a database that is away is logged, not raised."""
        table = schema.digests
        stmt = (
            update(table)
            .where(table.c.platform == platform, table.c.channel == channel, table.c.day == day)
            .values(sent_at=at or now())
        )
        await self._change(stmt, f"mark the digest for {platform}:{channel} on {day} sent")

    async def release_digest(self, platform: str, channel: str, day: date) -> None:
        """Delete the day's claim unless the digest was sent; a database that is away is logged, not raised."""
        table = schema.digests
        stmt = delete(table).where(
            table.c.platform == platform, table.c.channel == channel, table.c.day == day, table.c.sent_at.is_(None)
        )
        await self._change(stmt, f"release the digest claim for {platform}:{channel} on {day}")

    async def digest_sent(self, platform: str, channel: str, day: date) -> bool:
        """Whether the day's digest was posted; False when the database is away."""
        table = schema.digests
        stmt = select(table.c.sent_at).where(
            table.c.platform == platform, table.c.channel == channel, table.c.day == day
        )
        try:
            rows = await self._rows(stmt)
        except StoreError as exc:
            log.warning("%s", exc)
            return False
        return bool(rows) and rows[0][0] is not None

    async def flush(self) -> int:
        """Write what the buffer holds; how many records went in (it stops at the first outage)."""
        written = await self._write_buffer()
        if written:
            log.info("wrote %d buffered records to the database %s", written, self.url)
        return written

    async def _write_buffer(self) -> int:
        """Write the buffer in batches, one transaction each; how many records went in (stops at an outage)."""
        written = 0
        async with self._flushing:
            while self._buffer:
                batch = [self._buffer.popleft() for _ in range(min(FLUSH_BATCH, len(self._buffer)))]
                done, left = await self._drain(batch)
                written += done
                if left:
                    self._keep(left, front=True)
                    break
        return written

    async def close(self) -> None:
        """Try a last flush, say what could not be written, and release connections."""
        await self.flush()
        if self._buffer:
            log.warning("closing with %d records not written to the database %s", len(self._buffer), self.url)
        await self.engine.dispose()

    # -- internals --------------------------------------------------------------------------------

    async def _change(self, stmt: Update | Delete, what: str) -> None:
        """Run one statement in its own transaction; a database that is away is one warning, never raised."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(stmt)
        except FAILURES as exc:
            log.warning("could not %s: %s", what, reason(exc))

    async def _rows(self, stmt: Select[Any]) -> Sequence[Row[Any]]:
        """Run a query; StoreError in one line when the database is away."""
        try:
            async with self.engine.connect() as conn:
                return (await conn.execute(stmt)).all()
        except FAILURES as exc:
            raise StoreError(f"cannot read the database at {self.url}: {reason(exc)}") from None

    async def _save(self, record: Record) -> int | None:
        """Write one record now, then anything buffered; on failure buffer it (or drop bad data); never raise."""
        try:
            async with self.engine.begin() as conn:
                result = await _write(conn, record)
        except FAILURES as exc:
            self._failed(record, exc)
            return None
        if self._buffer:
            await self.flush()
        return result

    async def _drain(self, batch: list[Record]) -> tuple[int, list[Record]]:
        """Write `batch` in one transaction, or one by one if a record is bad; (written, left for later)."""
        try:
            await self._write_together(batch)
            return len(batch), []
        except FAILURES as exc:
            if is_transient(exc):
                log.warning("database %s still unavailable (%s)", self.url, reason(exc))
                return 0, batch
        written = 0
        for index, record in enumerate(batch):  # one bad record must not hold back the others
            try:
                await self._write_together([record])
                written += 1
            except FAILURES as exc:
                if is_transient(exc):
                    return written, batch[index:]
                self._drop(record, exc)
        return written, []

    async def _write_together(self, records: list[Record]) -> None:
        """Write `records` in one transaction: the questions in one INSERT, the posts in another, the votes
        one upsert each (a later vote by the same person must win)."""
        asked = [_row(r) for r in records if isinstance(r, QuestionRecord)]
        posted = [row for r in records if isinstance(r, PostRecord) for row in _post_rows(r)]
        async with self.engine.begin() as conn:
            if asked:
                await conn.execute(INSERT_QUESTION, asked)
            if posted:
                await conn.execute(INSERT_POST, posted)
            for record in records:
                if isinstance(record, FeedbackRecord):
                    await _upsert_feedback(conn, record)

    def _failed(self, record: Record, exc: BaseException) -> None:
        """Buffer a record the database could not take now; drop one it will never take."""
        if not is_transient(exc):
            self._drop(record, exc)
            return
        self._keep([record])
        log.warning(
            "database %s unavailable (%s): kept a %s in memory (%d waiting, %d dropped)",
            self.url,
            reason(exc),
            _kind(record),
            len(self._buffer),
            self.dropped,
        )

    def _drop(self, record: Record, exc: BaseException) -> None:
        """Give up on a record the database rejects."""
        self.dropped += 1
        log.warning("could not write a %s, dropped it: %s", _kind(record), reason(exc))

    def _keep(self, records: list[Record], *, front: bool = False) -> None:
        """Buffer records; past `buffer_limit` the oldest go (and are counted in `dropped`)."""
        if front:
            self._buffer.extendleft(reversed(records))
        else:
            self._buffer.extend(records)
        while len(self._buffer) > self.buffer_limit:
            self._buffer.popleft()
            self.dropped += 1
