"""How Factbot reaches Discord: building the client, the gateway connection, global sync, the invite link, and
posting digests (the scheduler's DigestPoster for Discord).

A missing or rejected token stops start-up with a `DiscordConfigError` that names DISCORD_TOKEN and never
shows the token.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from bot.adapters.discord_bot import FactbotClient
from bot.adapters.discord_embeds import digest_embed
from bot.adapters.discord_send import Outgoing
from bot.adapters.discord_views import digest_view
from bot.digest import ChannelGone, Digest, Subscription, Subscriptions
from bot.engine import Engine
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)

SCOPES = ("bot", "applications.commands")
PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True, embed_links=True, read_message_history=True
)
CHANNEL_GONE_CODES = frozenset({10003, 50001})
"""Unknown Channel (404) and Missing Access (403, the bot was removed): the channel's digest should end."""


class DiscordConfigError(ConfigError):
    """Discord cannot start as configured: a missing or rejected token. The message names the setting."""


def build_client(
    engine: Engine, settings: Settings, *, subscriptions: Subscriptions | None = None, **options: Any
) -> FactbotClient:
    """A ready-to-start Discord client for `engine`; `options` go to discord.Client (e.g. guild_ready_timeout).

    `/digest subscribe` and `unsubscribe` go to `subscriptions` (the digest scheduler, so it reschedules at
    once), or to the engine's store when none is given.
    """
    return FactbotClient(engine, settings, subscriptions=subscriptions, **options)


async def run_discord(
    engine: Engine, settings: Settings, *, client: FactbotClient | None = None, **options: Any
) -> None:
    """Connect to Discord and answer until cancelled; commands sync to DISCORD_GUILD_IDS at start.

    `client` (from `build_client`) lets the caller hold the client, e.g. for `digest_poster(client)`.
    """
    client = client or build_client(engine, settings, **options)
    async with client:
        await login(client, _token(settings))
        await client.connect()


async def sync_global(engine: Engine, settings: Settings, **options: Any) -> int:
    """Sync the commands globally (they can take up to an hour to appear); return how many."""
    client = build_client(engine, settings.model_copy(update={"discord_guild_ids": ""}), **options)
    async with client:
        await login(client, _token(settings))
        synced = await client.tree.sync()
    log.info("synced %d commands globally", len(synced))
    return len(synced)


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot to a server with exactly the scopes and permissions it needs."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


def application_id_from_token(settings: Settings) -> int:
    """The bot's application id, read from the first part of DISCORD_TOKEN (no network needed)."""
    head = _token(settings).split(".", 1)[0]
    try:
        return int(base64.b64decode(head + "=" * (-len(head) % 4), altchars=b"-_", validate=True))
    except (binascii.Error, ValueError):
        raise DiscordConfigError("DISCORD_TOKEN does not look like a Discord bot token") from None


def _token(settings: Settings) -> str:
    """The bot token, or a clear error naming DISCORD_TOKEN."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise DiscordConfigError("DISCORD_TOKEN is not set")
    return settings.discord_token.get_secret_value().strip()


async def login(client: discord.Client, token: str) -> None:
    """Log in: a rejected token, or Discord out of reach, becomes one DiscordConfigError line (never the token)."""
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise DiscordConfigError("DISCORD_TOKEN was rejected by Discord") from None
    except (OSError, TimeoutError, aiohttp.ClientError) as exc:
        raise DiscordConfigError(f"cannot reach Discord at {discord.http.Route.BASE} ({_said(exc)})") from None
    except discord.HTTPException as exc:
        raise DiscordConfigError(f"Discord refused the login ({exc.status} {exc.text or ''})".strip()) from None


def _said(exc: BaseException) -> str:
    """A network failure in a few words: its kind and the system's reason ("Name or service not known")."""
    reason = str(getattr(exc, "os_error", None) or exc.__cause__ or exc).strip().splitlines()
    return f"{type(exc).__name__}: {reason[0][:120]}" if reason and reason[0] else type(exc).__name__


# -- posting digests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscordDigestPoster:
    """Posts digests to Discord channels: the scheduler's DigestPoster for Discord (needs a logged-in client)."""

    client: discord.Client
    platform: str = "discord"

    async def post_digest(self, subscription: Subscription, digest: Digest) -> None:
        """Post `digest` in the subscription's channel; ChannelGone for Unknown Channel or Missing Access.

        Anything else discord.py raises (HTTPException for 5xx after its own retries, network errors)
        goes to the scheduler, which retries within the grace period.
        """
        if not subscription.channel.isdigit():
            raise ChannelGone(f"discord channel {subscription.channel!r} is not a channel id")
        channel = self.client.get_partial_messageable(int(subscription.channel))
        out = Outgoing(embed=digest_embed(digest), view=digest_view(digest), private=False)
        try:
            await channel.send(**out.kwargs())
        except (discord.NotFound, discord.Forbidden) as exc:
            if exc.code in CHANNEL_GONE_CODES:
                raise ChannelGone(f"discord channel {subscription.channel}: {exc.text or exc.status}") from None
            raise


def digest_poster(client: discord.Client) -> DiscordDigestPoster:
    """The DigestPoster for a client from `build_client` (logged in: running, or after `client.login`)."""
    return DiscordDigestPoster(client)
