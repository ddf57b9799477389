"""The Slack app and how its events reach Factbot: HTTP (signed requests on /slack/events) or Socket Mode.

In HTTP mode the signature is checked on the raw body before anything parses it: junk gets a 401 or 400 and
one log line, never a traceback, and a signed request replayed within Slack's five minutes is answered once.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import ClientSession, ClientTimeout, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_app import WHO_MAY_MANAGE, SlackAdapter
from bot.adapters.slack_web import (
    SlackConfigError,
    check_app_token,
    check_bot_token,
    check_settings,
    secret,
    web_client,
)
from bot.chat.recent import Recent
from bot.chat.service import ChatService
from bot.digest import Subscriptions
from bot.engine import Engine
from bot.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SHUTDOWN_GRACE = 5.0
"""Seconds a stopping HTTP server gives the requests in flight to finish (well inside a 10 s stop timeout)."""
REPLAY_WINDOW = 5 * 60.0
"""How long Slack accepts a request's timestamp, and so how long a replayed signature is remembered."""


class _ClientGivenFilter(logging.Filter):
    """Drops bolt's "`token` will be unused" warning: bolt reads SLACK_BOT_TOKEN itself even when given a client."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_CLIENT_GIVEN = _ClientGivenFilter()


def build_app(
    engine: Engine,
    settings: Settings,
    *,
    client: AsyncWebClient | None = None,
    subscriptions: Subscriptions | None = None,
) -> AsyncApp:
    """The bolt app with every Factbot listener. Call it inside a running event loop; `close_app` ends it.

    `/digest subscribe` and `unsubscribe` go to `subscriptions` (the digest scheduler, so it reschedules at
    once), or to the engine's store when none is given.
    """
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_CLIENT_GIVEN)
    client = client or web_client(settings)
    if client.session is None:  # without one, slack_sdk opens a new session per call
        client.session = ClientSession(timeout=ClientTimeout(total=30))
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    # `web_app` checks each HTTP request's signature on the raw body before bolt sees it (Socket Mode needs
    # none), so bolt is not asked to check it a second time
    app = AsyncApp(client=client, signing_secret=secret, name="factbot", request_verification_enabled=False)
    service = ChatService(
        engine, settings, platform="slack", who_may_manage=WHO_MAY_MANAGE, subscriptions=subscriptions
    )
    SlackAdapter(service, session=client.session).register(app)
    return app


async def close_app(app: AsyncApp) -> None:
    """Close the app's shared HTTP session."""
    session = app.client.session
    if session is not None and not session.closed:
        await session.close()


def web_app(app: AsyncApp, signing_secret: str) -> web.Application:
    """aiohttp routes: commands, events and interactivity on /slack/events; GET /healthz answers "ok"."""
    verifier = SignatureVerifier(signing_secret)
    replays = Recent(size=100_000, ttl=REPLAY_WINDOW)

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get("X-Slack-Signature")
        if not verifier.is_valid(body, request.headers.get("X-Slack-Request-Timestamp"), signature):
            log.warning("Slack: refused a request from %s: no valid signature", request.remote)
            return web.Response(status=401, text="invalid signature")
        if replays.seen(str(signature)):
            log.warning("Slack: dropped a replayed request from %s", request.remote)
            return web.Response(status=200)
        try:
            return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))
        except Exception as exc:  # a signed body bolt cannot read: one line, no traceback
            log.warning("Slack: could not read a signed request (%s)", type(exc).__name__)
            return web.Response(status=400, text="unreadable request")

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    application = web.Application()
    application.add_routes([web.post(EVENTS_PATH, events), web.get("/healthz", healthz)])
    return application


async def start_http(app: AsyncApp, *, signing_secret: str, host: str = "0.0.0.0", port: int = 3000) -> web.AppRunner:
    """Serve `web_app(app)`; the caller cleans the returned runner up (its `addresses` give the port)."""
    runner = web.AppRunner(web_app(app, signing_secret), access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise SlackConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port") from None
    return runner


async def run_http(
    engine: Engine, settings: Settings, *, port: int, host: str = "0.0.0.0", app: AsyncApp | None = None
) -> None:
    """HTTP mode: check the token, serve /slack/events and /healthz until cancelled, then close cleanly.

    `app` (from `build_app`) lets the caller hold the app, e.g. for `digest_poster(app)`; it is closed at the end.
    """
    app = app or build_app(engine, settings)
    try:  # a bad token stops start-up, and the app's session is closed all the same
        check_settings(settings, socket_mode=False)
        await check_bot_token(app.client)
        signing_secret = secret(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
        runner = await start_http(app, signing_secret=signing_secret, host=host, port=port)
        try:
            log.info("Slack: HTTP mode on %s:%s (POST %s, GET /healthz)", host, port, EVENTS_PATH)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
    finally:
        await close_app(app)


async def run_socket_mode(engine: Engine, settings: Settings, *, app: AsyncApp | None = None) -> None:
    """Socket Mode: check both tokens, connect, answer until cancelled, then close cleanly.

    `app` (from `build_app`) lets the caller hold the app, e.g. for `digest_poster(app)`; it is closed at the end.
    """
    app = app or build_app(engine, settings)
    try:  # a bad token stops start-up, and the app's session is closed all the same
        check_settings(settings, socket_mode=True)
        app_token = secret(settings.slack_app_token, "SLACK_APP_TOKEN", prefix="xapp-")
        await check_bot_token(app.client)
        await check_app_token(app.client, app_token)
        handler = AsyncSocketModeHandler(app, app_token=app_token, web_client=app.client)
        try:
            await handler.connect_async()
            log.info("Slack: connected in Socket Mode")
            await asyncio.Event().wait()
        finally:
            await handler.close_async()
    finally:
        await close_app(app)
