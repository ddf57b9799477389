"""The SQL schema: its tables and column types, and the ordered migrations that build and upgrade it.

The migrations are a short list of steps in code, each recorded in `schema_version` once applied, rather
than Alembic: one small schema needs no autogenerate, no `env.py` and no revision files to ship.

A released step never changes: it declares its tables as they were at its version, and a later change is
a new step. `migrate` applies the missing steps in one transaction, holding a lock (an advisory lock on
PostgreSQL, `BEGIN IMMEDIATE` on SQLite) so that processes starting at once migrate exactly once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    Time,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import TypeDecorator

from bot.store import now

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x66616374626F74
"""The PostgreSQL advisory lock key held while migrating ("factbot" in ASCII)."""


class UTCDateTime(TypeDecorator[datetime]):
    """A moment stored in UTC and read back timezone-aware (SQLite keeps no zone, so UTC is implied)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware UTC for PostgreSQL; naive UTC for SQLite (naive input is taken as UTC)."""
        if value is None:
            return None
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Always aware, in UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONList(TypeDecorator[list[str]]):
    """A list of strings kept as JSON text; unreadable text (written by hand, say) reads as an empty list."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str:
        """The list as JSON."""
        return json.dumps(list(value or []))

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str]:
        """The list back; anything that is not a JSON list becomes [] (and a warning)."""
        try:
            parsed = json.loads(value) if value else []
        except (TypeError, ValueError):
            parsed = None
        if not isinstance(parsed, list):
            log.warning("a row's fact ids are not a JSON list; read as none")
            return []
        return [str(item) for item in parsed]


class CleanText(TypeDecorator[str]):
    """Text as people typed it, minus NUL characters, which PostgreSQL rejects in text columns."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """The text without NULs."""
        return None if value is None else value.replace("\x00", "")


RowId = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit id on PostgreSQL; on SQLite an INTEGER PRIMARY KEY, which is what makes it autoincrement."""

# -- the current schema, as the store queries it -------------------------------------------------------

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UTCDateTime, nullable=False),
    Column("about", Text, nullable=False),
)

questions = Table(
    "questions",
    metadata,
    Column("id", RowId, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("platform", Text, nullable=False),
    Column("workspace", Text),
    Column("channel", Text),
    Column("user_hash", Text),
    Column("text", CleanText),
    Column("status", Text, nullable=False),
    Column("intent", Text),
    Column("confidence", Float, nullable=False),
    Column("fact_ids", JSONList, nullable=False),
)

feedback = Table(
    "feedback",
    metadata,
    Column("answer_key", Text, primary_key=True),
    Column("user_hash", Text, primary_key=True),
    Column("question_id", RowId, ForeignKey("questions.id", ondelete="SET NULL")),
    Column("at", UTCDateTime, nullable=False),
    Column("platform", Text, nullable=False),
    Column("vote", Text, nullable=False),
    Column("intent", Text),
    Column("fact_ids", JSONList, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("claimed_at", UTCDateTime, nullable=False),
)

posts = Table(
    "posts",
    metadata,
    Column("id", RowId, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("platform", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("fact_id", Text, nullable=False),
    Column("fact_ids", JSONList, nullable=False),
    Column("link", Text, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("workspace", Text),
    Column("at", Time, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("curators", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

digests = Table(
    "digests",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("claims", Integer, nullable=False),
    Column("sent_at", UTCDateTime),
)

# -- the steps that build it --------------------------------------------------------------------------


def _v1(conn: Connection) -> None:
    """Version 1: the question log, one vote per user per answer, and handled events."""
    md = MetaData()
    Table(
        "schema_version",
        md,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("applied_at", UTCDateTime, nullable=False),
        Column("about", Text, nullable=False),
    )
    Table(
        "questions",
        md,
        Column("id", RowId, primary_key=True),
        Column("at", UTCDateTime, nullable=False),
        Column("platform", Text, nullable=False),
        Column("workspace", Text),
        Column("channel", Text),
        Column("user_hash", Text),
        Column("text", Text),
        Column("status", Text, nullable=False),
        Column("intent", Text),
        Column("confidence", Float, nullable=False),
        Column("fact_ids", Text, nullable=False),
    )
    Table(
        "feedback",
        md,
        Column("answer_key", Text, primary_key=True),
        Column("user_hash", Text, primary_key=True),
        Column("question_id", RowId, ForeignKey("questions.id", ondelete="SET NULL")),
        Column("at", UTCDateTime, nullable=False),
        Column("platform", Text, nullable=False),
        Column("vote", Text, nullable=False),
        Column("intent", Text),
        Column("fact_ids", Text, nullable=False),
    )
    Table("events", md, Column("event_id", Text, primary_key=True), Column("claimed_at", UTCDateTime, nullable=False))
    md.create_all(conn, checkfirst=False)


def _v2(conn: Connection) -> None:
    """Version 2: posts, for repeat suppression, and indexes by time for the reports' `--since`."""
    md = MetaData()
    post = Table(
        "posts",
        md,
        Column("id", RowId, primary_key=True),
        Column("at", UTCDateTime, nullable=False),
        Column("platform", Text, nullable=False),
        Column("channel", Text, nullable=False),
        Column("fact_id", Text, nullable=False),
        Column("fact_ids", Text, nullable=False),
        Column("link", Text, nullable=False),
        Index("ix_posts_recent", "platform", "channel", "fact_id", "at"),
    )
    post.create(conn, checkfirst=False)
    for name in ("questions", "feedback"):
        Index(f"ix_{name}_at", Table(name, md, Column("at", UTCDateTime)).c.at).create(conn)


def _v3(conn: Connection) -> None:
    """Version 3: digest subscriptions, and one row per channel and local date claimed for its digest."""
    md = MetaData()
    Table(
        "subscriptions",
        md,
        Column("platform", Text, primary_key=True),
        Column("channel", Text, primary_key=True),
        Column("workspace", Text),
        Column("at", Time, nullable=False),
        Column("timezone", Text, nullable=False),
        Column("curators", Boolean, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
    )
    Table(
        "digests",
        md,
        Column("platform", Text, primary_key=True),
        Column("channel", Text, primary_key=True),
        Column("day", Date, primary_key=True),
        Column("claimed_at", UTCDateTime, nullable=False),
        Column("claims", Integer, nullable=False),
        Column("sent_at", UTCDateTime),
    )
    md.create_all(conn, checkfirst=False)


def _v4(conn: Connection) -> None:
    """Version 4: posts indexed by time, for replicas learning of each other's answers."""
    Index("ix_posts_at", Table("posts", MetaData(), Column("at", UTCDateTime)).c.at).create(conn)


@dataclass(frozen=True)
class Step:
    """One migration: the version it brings the schema to, what it does, and how."""

    version: int
    about: str
    apply: Callable[[Connection], None]


STEPS: tuple[Step, ...] = (
    Step(1, "questions, feedback and handled events", _v1),
    Step(2, "posts for repeat suppression; indexes by time", _v2),
    Step(3, "digest subscriptions and daily digest claims", _v3),
    Step(4, "posts indexed by time", _v4),
)
LATEST = STEPS[-1].version


def current_version(conn: Connection) -> int:
    """The schema version a database is at: 0 when it has no `schema_version` table (a new database)."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    found = conn.execute(select(func.max(schema_version.c.version))).scalar()
    return int(found or 0)


async def _lock(conn: AsyncConnection) -> None:
    """Keep other processes out until this transaction ends."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
    elif conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN IMMEDIATE")


async def migrate(engine: AsyncEngine, *, target: int = LATEST) -> int:
    """Bring the database up to `target` in one locked transaction; return the version it was at.

    A database at a version newer than `LATEST` is left untouched: the caller decides what to say.
    """
    async with engine.connect() as conn:
        await _lock(conn)
        found = await conn.run_sync(current_version)
        for step in STEPS[found:target]:
            await conn.run_sync(step.apply)
            await conn.execute(insert(schema_version).values(version=step.version, applied_at=now(), about=step.about))
            log.info("database schema now at version %d: %s", step.version, step.about)
        await conn.commit()
    return found
