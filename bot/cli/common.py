"""What the commands open: the settings, the engine on a checked fact base, the question log; and how an async
command runs, failing in one line."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from bot.cli import calibration, output
from bot.digest import ChannelGone
from bot.engine import Engine
from bot.knowledge import read_factbase
from bot.settings import ConfigError, Settings

if TYPE_CHECKING:
    from bot.store import Store

T = TypeVar("T")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of the fact base (default: FACTBOT_DATA_DIR, or the shipped one).",
        show_default=False,
    ),
]


def load_settings(data_dir: Path | None) -> Settings:
    """Settings from the environment and `.env`, with the command line's data folder on top."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            where = f" {str(error['loc'][0]).upper()}" if error["loc"] else ""
            output.error(f"bad setting{where}: {message}", highlight=False)
        raise typer.Exit(2) from None
    except UnicodeDecodeError:
        output.fail(".env is not UTF-8 text; save it as UTF-8.", 2, highlight=False)
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings


def load_engine(data_dir: Path | None) -> Engine:
    """Load and check the fact base, or stop with its problems, one per line (never a traceback)."""
    settings = load_settings(data_dir)
    if not (settings.data_dir / "knowledge" / "sources.yaml").is_file():
        output.fail(
            f"no fact base in {settings.data_dir}: point --data-dir or FACTBOT_DATA_DIR at a folder holding "
            "knowledge/sources.yaml, knowledge/facts/, intents/ and seeds/"
        )
    base, problems = read_factbase(settings.data_dir.resolve())
    if problems:
        output.invalid(problems, settings.data_dir)
    salt = settings.user_salt.get_secret_value() if settings.user_salt else None
    folder = settings.cache_dir
    key = calibration.fingerprint(base) if folder else ""
    kept = calibration.read(folder, key) if folder else None
    engine = Engine(
        base,
        answer=settings.answer_threshold,
        clarify=settings.clarify_threshold,
        margin=settings.clarify_margin,
        log_text=settings.log_questions,
        salt=salt,
        calibration=kept,
    )
    if folder and kept is None and engine.calibration is not None:
        calibration.write(folder, key, engine.calibration)
    return engine


async def question_log(settings: Settings) -> Store:
    """The question log FACTBOT_DB_URL names (SQLite by default, PostgreSQL for several replicas), read-only;
    an empty one when there is none yet."""
    from bot.store.sql import open_log

    return await open_log(settings.db_url)


@contextlib.asynccontextmanager
async def logging_to(engine: Engine, settings: Settings) -> AsyncIterator[None]:
    """Keep the engine's questions in the question log FACTBOT_DB_URL names for the time of the block."""
    from bot.store.sql import store_from_settings

    engine.store = await store_from_settings(settings)
    try:
        yield
    finally:
        await engine.close()


def run_or_exit(work: Coroutine[Any, Any, T]) -> T:
    """Run one async command; a configuration or platform problem is one line and exit 1."""
    try:
        return asyncio.run(work)
    except ConfigError as exc:
        output.fail(str(exc))
    except ChannelGone:
        output.fail("that channel does not exist, or the bot is not in it.")
    except Exception as exc:  # a platform or network failure: one line, never a traceback
        output.fail(f"{type(exc).__name__}: {exc}".splitlines()[0])
