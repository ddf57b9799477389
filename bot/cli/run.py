"""`factbot run`: every configured adapter and the digest scheduler in one event loop, stopped cleanly by
SIGTERM or Ctrl-C with the question log written."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli import output
from bot.cli.ask import chat
from bot.cli.common import DataDir, load_engine, load_settings
from bot.engine import Engine, settle
from bot.settings import ConfigError, Settings

if TYPE_CHECKING:
    from bot.scheduler import DigestScheduler

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
"""How a service manager or a person stops `factbot run`: both end it cleanly, with the log written."""

SHUTDOWN_WRITES = 4.0
"""Seconds the last writes may take at shutdown: with 5 s for requests in flight, the exit stays within 10 s."""


def run(
    http: Annotated[
        bool,
        typer.Option(
            "--http", metavar="", help="Serve Slack over HTTP (needs SLACK_SIGNING_SECRET) instead of Socket Mode."
        ),
    ] = False,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Port for --http (default: FACTBOT_HTTP_PORT, 3000)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Start every chat adapter whose credentials are set; the terminal chat when none is."""
    settings = load_settings(data_dir)
    _warn_about_half_configured(settings)
    if not settings.has_chat_tokens:
        if http:
            output.fail("--http serves Slack: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET first.", 2)
        output.error("no Slack or Discord tokens are set: chatting in the terminal instead.", highlight=False)
        chat(data_dir=data_dir)
        return
    engine = load_engine(data_dir)
    settle()
    for talks in ("bot.adapters", "bot.cli"):  # a service says what it does: connected, stopped…
        logging.getLogger(talks).setLevel(logging.INFO)
    if settings.user_salt is None:
        log.warning("FACTBOT_USER_SALT is not set: user hashes change at every start (see docs/operations.md)")
    try:
        asyncio.run(_run_adapters(engine, settings, http=http, port=port or settings.http_port))
    except KeyboardInterrupt:
        pass
    except ConfigError as exc:
        output.fail(str(exc))


async def _run_adapters(engine: Engine, settings: Settings, *, http: bool, port: int) -> None:
    """Open the store FACTBOT_DB_URL names, run the adapters and the digest scheduler on it, close it cleanly."""
    from bot.scheduler import DigestScheduler
    from bot.store.sql import store_from_settings

    engine.store = await store_from_settings(settings, purge=True)
    digests = DigestScheduler.from_settings(engine, engine.store, settings)
    stop = asyncio.Event()
    try:
        with _stopping_on_signals(stop):
            services = _services(engine, settings, http=http, port=port, digests=digests)
            await _serve_all([*services, digests.serve()], stop=stop)
    finally:
        written = await _close_log(engine)
    if stop.is_set() and written:
        log.info("stopped cleanly: every question answered is in the log")


async def _close_log(engine: Engine) -> bool:
    """Write what is queued and close the store, within SHUTDOWN_WRITES seconds: a database that stays locked
    cannot hold the exit. Whether everything was written."""
    try:
        await asyncio.wait_for(engine.close(), SHUTDOWN_WRITES)
    except TimeoutError:
        left = engine.writes.pending + int(getattr(engine.store, "pending", 0))
        log.warning(
            "stopping without writing %d records: the database did not take them within %.0f s", left, SHUTDOWN_WRITES
        )
        return False
    return int(getattr(engine.store, "pending", 0)) == 0


@contextlib.contextmanager
def _stopping_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGTERM (systemd, Docker, Kubernetes) and SIGINT (Ctrl-C) set `stop` instead of killing the process."""
    loop = asyncio.get_running_loop()
    installed = []
    for number in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signal handlers on this platform
            loop.add_signal_handler(number, _stop_on, stop, number)
            installed.append(number)
    try:
        yield
    finally:
        for number in installed:
            loop.remove_signal_handler(number)


def _stop_on(stop: asyncio.Event, number: signal.Signals) -> None:
    """A stop signal arrived: say so once, and begin the shutdown."""
    if not stop.is_set():
        log.info("%s: finishing the requests in flight, writing the log, then stopping", number.name)
    stop.set()


def _warn_about_half_configured(settings: Settings) -> None:
    """Say which variable is missing when Slack is only half set up."""
    if settings.slack_bot_token and not (settings.slack_app_token or settings.slack_signing_secret):
        output.error(
            "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor "
            "SLACK_SIGNING_SECRET (HTTP mode) is; Slack stays off."
        )


def _services(
    engine: Engine, settings: Settings, *, http: bool, port: int, digests: DigestScheduler | None = None
) -> list[Coroutine[Any, Any, None]]:
    """The adapters to run, each imported only when its credentials are set; each posts the digests of its
    platform's subscribed channels. Call it inside the event loop the adapters will run in."""
    services: list[Coroutine[Any, Any, None]] = []
    if settings.slack_enabled:
        from bot.adapters import slack_run, slack_web

        if http and not settings.slack_signing_secret:
            output.fail("--http needs SLACK_SIGNING_SECRET.", 2)
        app = slack_run.build_app(engine, settings, subscriptions=digests)
        if digests is not None:
            digests.register(slack_web.digest_poster(app))
        if http or not settings.slack_app_token:
            services.append(slack_run.run_http(engine, settings, port=port, app=app))
        else:
            services.append(slack_run.run_socket_mode(engine, settings, app=app))
    if settings.discord_enabled:
        from bot.adapters import discord_run

        client = discord_run.build_client(engine, settings, subscriptions=digests)
        if digests is not None:
            digests.register(discord_run.digest_poster(client))
        services.append(discord_run.run_discord(engine, settings, client=client))
    return services


class _Stopped(Exception):
    """The stop signal, raised inside the task group so that every adapter is cancelled and closes."""


async def _serve_all(services: list[Coroutine[Any, Any, None]], *, stop: asyncio.Event | None = None) -> None:
    """Run every adapter in one event loop until `stop` is set; the first to fail stops the rest, and its error
    is raised. Stopping cancels each adapter, which stops taking new work and finishes what is in flight."""

    async def until_stopped() -> None:
        if stop is not None:
            await stop.wait()
            raise _Stopped

    try:
        async with asyncio.TaskGroup() as group:
            for service in services:
                group.create_task(service)
            group.create_task(until_stopped())
    except BaseExceptionGroup as group_error:
        failures = [e for e in group_error.exceptions if not isinstance(e, _Stopped)]
        if failures:
            raise failures[0] from None
