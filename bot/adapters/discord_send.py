"""Sending on Discord: what a reply carries within Discord's limits, answering an interaction in time, cooldowns.

An interaction not acknowledged within 3 s is dropped by Discord: `respond_in_time` defers one whose reply is
slow. `Throttle` is the per-user cooldown, on discord.py's own token bucket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import discord
from discord import app_commands

log = logging.getLogger(__name__)

T = TypeVar("T")

TITLE, DESCRIPTION, FIELD_NAME, FIELD_VALUE, FOOTER, TOTAL, FIELDS = 256, 4096, 256, 1024, 2048, 6000, 25
CONTENT, LABEL, CUSTOM_ID, CHOICE, MAX_CHOICES, BUTTONS_PER_ROW = 2000, 80, 100, 100, 25, 5
DEFER_AFTER = 2.0
"""Seconds to wait for a reply before deferring: Discord drops an interaction not acknowledged in 3 s."""
KEEP_BUCKETS = 10_000
"""Users whose cooldown is remembered before idle ones are forgotten."""


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


@dataclass
class Outgoing:
    """What to send back: text, an embed, buttons (any may be absent).

    `private` asks for an ephemeral message where Discord allows one (an interaction's reply, not a message's).
    """

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    private: bool = True

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for discord.py's send methods, leaving out what is absent."""
        content = clip(self.content, CONTENT) if self.content else None
        found = {"content": content, "embed": self.embed, "view": self.view}
        return {key: value for key, value in found.items() if value is not None}


async def send(
    interaction: discord.Interaction[Any], out: Outgoing, *, ephemeral: bool | None = None
) -> discord.Message | None:
    """Answer an interaction (ephemeral when `out` is private, unless said otherwise): its first response, or a
    follow-up once it was deferred; the message sent."""
    private = out.private if ephemeral is None else ephemeral
    try:
        if interaction.response.is_done():
            return await interaction.followup.send(**out.kwargs(), ephemeral=private, wait=True)
        callback = await interaction.response.send_message(**out.kwargs(), ephemeral=private)
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s: %s", interaction.id, exc)
        return None
    return callback.resource if isinstance(callback.resource, discord.Message) else None


async def respond_in_time(
    interaction: discord.Interaction[Any], work: Awaitable[T], *, render: Callable[[T], Outgoing], ephemeral: bool
) -> tuple[T, discord.Message | None]:
    """Send `work`'s reply, rendered; if it is not ready within DEFER_AFTER seconds, defer first and follow up.

    A reply marked private is ephemeral, unless the interaction was already deferred in public.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER)
    if not done:
        log.info("interaction %s is slow; deferring", interaction.id)
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    reply = await task
    out = render(reply)
    return reply, await send(interaction, out, ephemeral=ephemeral or out.private)


def jump_url(message: discord.Message, *, guild_id: int | None) -> str:
    """A message's link, with its guild given: a follow-up's `message.jump_url` says `@me`, not knowing its guild."""
    return discord.MessageReference(message_id=message.id, channel_id=message.channel.id, guild_id=guild_id).jump_url


class Throttle:
    """A per-user cooldown: `rate` actions per `per` seconds, on discord.py's own token bucket."""

    def __init__(self, rate: int, per: float) -> None:
        self.rate, self.per = rate, per
        self._buckets: dict[int, app_commands.Cooldown] = {}
        self._warned_until: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float | None:
        """Take one action from the user's bucket: None if allowed, else seconds until allowed."""
        if self.per <= 0:
            return None
        if user_id not in self._buckets and len(self._buckets) >= KEEP_BUCKETS:
            self._forget_idle()
        bucket = self._buckets.setdefault(user_id, app_commands.Cooldown(self.rate, self.per))
        return bucket.update_rate_limit()

    def _forget_idle(self) -> None:
        """Drop the buckets of users whose cooldown has run out, so memory stays bounded."""
        self._buckets = {u: b for u, b in self._buckets.items() if b.get_tokens() < b.rate}

    def first_warning(self, user_id: int, retry_after: float) -> bool:
        """Whether to tell the user to slow down now: once per cooldown, so warnings do not flood either."""
        now = asyncio.get_running_loop().time()
        if self._warned_until.get(user_id, 0.0) > now:
            return False
        self._warned_until[user_id] = now + retry_after
        return True
