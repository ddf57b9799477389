"""Slack's Web API as Factbot calls it: one session, slack_sdk's retry handlers, failures in one log line.

Posting, ephemeral messages, `response_url` replies, permalinks built without a call, the digest poster and
the check of who may change a channel's digest.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack_blocks import Message
from bot.adapters.slack_messages import digest_message
from bot.digest import ChannelGone, Digest, Subscription
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)


class SlackConfigError(ConfigError):
    """Slack cannot start: a missing, malformed or rejected setting (the message names it, never its value)."""


GONE = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
"""chat.postMessage errors that mean the channel is gone for good (or the bot was removed): unsubscribe."""


def retry_handlers() -> list[AsyncRetryHandler]:
    """slack_sdk's own retries: rate limits (honouring Retry-After), server errors, dropped connections."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


def web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: bot token, `SLACK_API_URL`, one shared session, retry handlers."""
    token = secret(settings.slack_bot_token, "SLACK_BOT_TOKEN", prefix="xoxb-")
    session = ClientSession(timeout=ClientTimeout(total=30))
    return AsyncWebClient(
        token=token, base_url=settings.slack_api_url, session=session, retry_handlers=retry_handlers()
    )


async def may_manage(client: AsyncWebClient, *, user: str, channel: str) -> bool:
    """Whether `user` may change `channel`'s digest: a workspace admin or owner (users.info), or its creator.

    conversations.info names the creator. A Web API refusal (a missing scope, say) is logged and means no.
    """
    try:
        found = (await client.users_info(user=user)).get("user") or {}
        if found.get("is_admin") or found.get("is_owner") or found.get("is_primary_owner"):
            return True
        info = (await client.conversations_info(channel=channel)).get("channel") or {}
    except SlackApiError as exc:
        log.warning("Slack: could not check who may change the digest of %s: %s", channel, error_code(exc))
        return False
    except (TimeoutError, ClientError) as exc:
        log.warning("Slack: could not check who may change the digest of %s: %s", channel, type(exc).__name__)
        return False
    return bool(user) and info.get("creator") == user


@dataclass(frozen=True)
class SlackDigestPoster:
    """Posts digests to Slack channels with chat.postMessage: the scheduler's DigestPoster for Slack."""

    client: AsyncWebClient
    platform: str = "slack"

    async def post_digest(self, subscription: Subscription, digest: Digest) -> None:
        """Post `digest` in the subscription's channel; ChannelGone when the channel or the bot's place in it is gone.

        Rate limits and server errors are retried by slack_sdk's handlers; what still fails is raised
        (SlackApiError, aiohttp.ClientError, TimeoutError) for the scheduler to retry later.
        """
        message = digest_message(digest, preview=False)
        try:
            await self.client.chat_postMessage(
                channel=subscription.channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            if error_code(exc) in GONE:
                raise ChannelGone(f"slack channel {subscription.channel}: {error_code(exc)}") from None
            raise


def digest_poster(app: AsyncApp) -> SlackDigestPoster:
    """The DigestPoster of a Slack app made by `build_app` (it shares the app's Web API client and session)."""
    return SlackDigestPoster(app.client)


async def post(client: AsyncWebClient, *, channel: str, thread_ts: str | None, message: Message) -> str | None:
    """chat.postMessage, returning the message's `ts`; a refusal or network failure is logged in one line."""
    response = await web_call(
        "chat.postMessage",
        channel,
        client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
        ),
    )
    ts = response.get("ts") if response is not None else None
    return ts if isinstance(ts, str) else None


async def post_ephemeral(
    client: AsyncWebClient, *, channel: str, user: str, thread_ts: str | None, message: Message
) -> None:
    """chat.postEphemeral: a message in `channel` that only `user` sees; a refusal is logged in one line."""
    await web_call(
        "chat.postEphemeral",
        channel,
        client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=thread_ts, text=message.text, blocks=message.blocks
        ),
    )


def permalink(workspace_url: str, channel: str, ts: str, thread_ts: str | None = None) -> str:
    """A message's link as Slack shapes it (`…/archives/C…/p<ts without the dot>`), with no Web API call."""
    link = f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
    return f"{link}?thread_ts={thread_ts}&cid={channel}" if thread_ts and thread_ts != ts else link


async def web_call(method: str, channel: str, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse | None:
    """Await one Web API call; a refusal or a network failure is one log line and None, never an exception."""
    try:
        return await call
    except SlackApiError as exc:
        log.warning("Slack: %s in %s failed: %s", method, channel, error_code(exc))
    except (TimeoutError, ClientError) as exc:
        log.warning("Slack: %s in %s failed: %s", method, channel, type(exc).__name__)
    return None


async def respond(session: ClientSession, url: str, message: Message, **options: Any) -> None:
    """Reply through a `response_url` on the shared session (the URL is a credential: never logged)."""
    hook = AsyncWebhookClient(url=url, session=session, retry_handlers=retry_handlers())
    try:
        response = await hook.send(
            text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False, **options
        )
    except (TimeoutError, ClientError) as exc:
        log.warning("Slack: response_url reply failed: %s", type(exc).__name__)
        return
    if response.status_code != 200:
        log.warning("Slack: response_url reply refused: %s %s", response.status_code, response.body[:200])


# -- start-up checks ---------------------------------------------------------------------------


def check_settings(settings: Settings, *, socket_mode: bool) -> None:
    """Stop early, naming the variable, when a token is missing or malformed."""
    secret(settings.slack_bot_token, "SLACK_BOT_TOKEN", prefix="xoxb-")
    if socket_mode:
        secret(settings.slack_app_token, "SLACK_APP_TOKEN", prefix="xapp-")
    else:
        secret(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")


def secret(value: SecretStr | None, name: str, *, prefix: str = "") -> str:
    """A secret setting's value, or a SlackConfigError naming the variable (never showing the value)."""
    raw = value.get_secret_value().strip() if value is not None else ""
    if not raw:
        raise SlackConfigError(f"{name} is not set")
    if not raw.startswith(prefix):
        raise SlackConfigError(f"{name} does not look right: it should start with {prefix}")
    return raw


async def check_bot_token(client: AsyncWebClient) -> None:
    """auth.test: a rejected bot token or an unreachable API becomes a one-line SlackConfigError."""
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        raise SlackConfigError(f"SLACK_BOT_TOKEN was rejected by Slack ({error_code(exc)})") from None
    except (TimeoutError, ClientError) as exc:
        raise SlackConfigError(
            f"cannot reach Slack at {client.base_url} ({type(exc).__name__}); check SLACK_API_URL and the network"
        ) from None
    log.info("Slack: signed in as %s to %s", auth.get("user"), auth.get("team"))


async def check_app_token(client: AsyncWebClient, app_token: str) -> None:
    """apps.connections.open: a rejected app-level token becomes a one-line SlackConfigError."""
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        raise SlackConfigError(f"SLACK_APP_TOKEN was rejected by Slack ({error_code(exc)})") from None
    except (TimeoutError, ClientError) as exc:
        raise SlackConfigError(f"cannot reach Slack at {client.base_url} ({type(exc).__name__})") from None


def error_code(exc: SlackApiError) -> str:
    """The `error` code of a Slack API error (`invalid_auth`…), or its HTTP status when the body is not JSON."""
    data = exc.response.data
    if isinstance(data, dict):
        return str(data.get("error", "unknown_error"))
    return f"HTTP {exc.response.status_code}"
