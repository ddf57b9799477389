"""The Discord adapter's listeners: slash commands, mentions, DMs and buttons become chat-service calls.

Built on discord.py. It asks for no privileged intent: Discord delivers the content of messages that mention
the bot, and of DMs, without `message_content`. Nothing it sends can ping anyone (`AllowedMentions.none()` on
the client). What Factbot does lives in the `ChatService`; replies are rendered by `discord_embeds.render`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from typing import Any, cast

import discord

from bot.adapters.discord_commands import FactbotTree, add_commands
from bot.adapters.discord_embeds import render
from bot.adapters.discord_send import Outgoing, Throttle, jump_url, respond_in_time, send
from bot.adapters.discord_views import SuggestionButton, VoteButton
from bot.chat import messages
from bot.chat.commands import DISCORD
from bot.chat.replies import Notice, Reply
from bot.chat.service import ChatService
from bot.digest import DigestRequest, Subscriptions
from bot.engine import Engine
from bot.models import Question
from bot.settings import Settings
from bot.store import Vote

log = logging.getLogger(__name__)

WHO_MAY_MANAGE = "members who can manage this channel (Manage Channels)"
SORRY = Reply(Notice(messages.SORRY))


def minimal_intents() -> discord.Intents:
    """Guilds, guild messages and DMs; nothing privileged (mentions and DMs arrive with their content)."""
    intents = discord.Intents.none()
    intents.guilds = intents.guild_messages = intents.dm_messages = True
    return intents


class FactbotClient(discord.Client):
    """A Discord client around one chat service: Discord events become service calls, replies become embeds."""

    def __init__(
        self, engine: Engine, settings: Settings, *, subscriptions: Subscriptions | None = None, **options: Any
    ) -> None:
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # the bot has no voice: no warning
        super().__init__(intents=minimal_intents(), allowed_mentions=discord.AllowedMentions.none(), **options)
        self.service = ChatService(
            engine, settings, platform=DISCORD, who_may_manage=WHO_MAY_MANAGE, subscriptions=subscriptions
        )
        self.settings = settings
        self.throttle = Throttle(settings.discord_cooldown_rate, settings.discord_cooldown_seconds)
        self.tree = FactbotTree(self)
        add_commands(self)

    async def setup_hook(self) -> None:
        """Make old buttons work again, and sync the commands to DISCORD_GUILD_IDS (instant, unlike global)."""
        self.add_dynamic_items(SuggestionButton, VoteButton)
        for guild_id in self.settings.guild_ids:
            await self.sync_guild(guild_id)

    async def sync_guild(self, guild_id: int) -> None:
        """Sync the commands to one guild; a guild that refuses is logged, not fatal."""
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.warning(
                "could not sync commands to guild %s (is the bot in it, invited with the "
                "applications.commands scope?): %s",
                guild_id,
                exc,
            )
            return
        log.info("synced %d commands to guild %s", len(synced), guild_id)

    async def on_ready(self) -> None:
        """Log who we are."""
        log.info("connected to Discord as %s (application %s)", self.user, self.application_id)

    def render(self, reply: Reply) -> Outgoing:
        """A neutral reply as what Discord is sent."""
        return render(reply, settings=self.settings)

    def question(self, text: str, *, who: int, where: int | None) -> Question:
        """A question asked on Discord: one conversation per person per channel (or DM)."""
        place = str(where) if where is not None else None
        return self.service.question(text, who=str(who), where=place, conversation=conversation(who, where))

    # -- slash commands (their typed callbacks are in discord_commands) ---------------------------------

    async def slash_ask(self, interaction: discord.Interaction[Any], text: str) -> None:
        """`/ask`: the answer for the channel (a repeat: for the asker alone), within the interaction's 3 s."""
        question = self.question(text, who=interaction.user.id, where=interaction.channel_id)
        work = self.service.ask(question, in_channel=interaction.guild_id is not None)
        reply, sent = await respond_in_time(interaction, work, render=self.render, ephemeral=False)
        self.posted(reply, sent, guild_id=interaction.guild_id)

    async def slash_facts(self, interaction: discord.Interaction[Any], topic: str) -> None:
        """`/facts [topic]`: the topics, or the facts of one, for the asker only."""
        await send(interaction, self.render(self.service.facts(topic)))

    async def slash_why(self, interaction: discord.Interaction[Any], text: str) -> None:
        """`/why [question]`: why the channel's last answer (or the question given) came out as it did."""
        where = str(interaction.channel_id) if interaction.channel_id is not None else None
        await send(interaction, self.render(self.service.why(text, where=where)))

    async def slash_help(self, interaction: discord.Interaction[Any]) -> None:
        """`/factbot`: help, sources and counts, for the asker only."""
        await send(interaction, self.render(self.service.help()))

    async def slash_digest(self, interaction: discord.Interaction[Any], request: DigestRequest) -> None:
        """`/digest`: deferred at once (the preview reads the question log, a change writes the store), then a
        private preview, or this channel's subscription changed by someone who may manage the channel."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        in_guild = interaction.guild_id is not None and interaction.channel_id is not None

        async def may_manage() -> bool:
            return interaction.permissions.manage_channels

        reply = await self.service.digest(
            request,
            channel=str(interaction.channel_id) if in_guild else None,
            workspace=str(interaction.guild_id) if in_guild else None,
            may_manage=may_manage,
        )
        await send(interaction, self.render(reply))

    # -- mentions and DMs -------------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """Answer a DM, or a channel message that mentions the bot, as a reply; ignore the rest.

        Replies do not ping their author: the client's `AllowedMentions.none()` already says `replied_user=False`.
        A repeat cannot be ephemeral here: it is a normal reply carrying the pointer line and the answer.
        """
        text = self.question_in(message)
        if text is None:
            return
        if (retry := self.throttle.retry_after(message.author.id)) is not None:
            if self.throttle.first_warning(message.author.id, retry):
                await self._reply(message, Outgoing(content=messages.slow_down(retry)))
            return
        in_channel = not isinstance(message.channel, discord.DMChannel)
        try:
            await self.service.repeats.refresh()  # no interaction waits on a message: the store delays nobody
            question = self.question(text, who=message.author.id, where=message.channel.id)
            reply = await self.service.ask(question, in_channel=in_channel)
        except Exception:
            log.exception("could not answer a message in channel %s", message.channel.id)
            reply = SORRY
        sent = await self._reply(message, self.render(reply))
        self.posted(reply, sent, guild_id=message.guild.id if message.guild else _guild_id(message.channel))

    def question_in(self, message: discord.Message) -> str | None:
        """The question a message puts to the bot, or None when it is not addressed to it."""
        me = self.user
        if me is None or message.author.bot or message.author.id == me.id:
            return None
        if isinstance(message.channel, discord.DMChannel):
            return message.content
        if any(user.id == me.id for user in message.mentions):
            return re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        return None

    async def _reply(self, message: discord.Message, out: Outgoing) -> discord.Message | None:
        """Reply to a message; a refusal (the bot's permissions there) is logged."""
        try:
            return await message.reply(**out.kwargs())
        except discord.HTTPException as exc:
            log.warning(
                "could not reply in channel %s (check the bot's permissions there): %s", message.channel.id, exc
            )
            return None

    def posted(self, reply: Reply, sent: discord.Message | None, *, guild_id: int | None) -> None:
        """Tell the service where a channel answer was sent (its jump URL), for the same question asked soon after."""
        if reply.facts and sent is not None:
            self.service.posted(str(sent.channel.id), reply, jump_url(sent, guild_id=guild_id))

    # -- buttons (see discord_views) ----------------------------------------------------------------------

    async def press_suggestion(self, interaction: discord.Interaction[Any], intent: str) -> None:
        """Answer the question a suggestion button stands for, publicly."""
        if await self._cooling(interaction):
            return
        who, where = interaction.user.id, interaction.channel_id
        work = self.service.suggestion(
            intent, who=str(who), where=str(where) if where else None, conversation=conversation(who, where)
        )
        await _guarded(interaction, respond_in_time(interaction, work, render=self.render, ephemeral=False))

    async def press_vote(self, interaction: discord.Interaction[Any], vote: str, intent: str, facts: list[str]) -> None:
        """Keep a 👍/👎 (one per person and answer: a second press changes it) and thank the user privately."""
        if await self._cooling(interaction):
            return
        key = str(interaction.message.id) if interaction.message is not None else None
        who = str(interaction.user.id)
        reply = self.service.vote(cast(Vote, vote), answer_key=key, who=who, intent=intent, facts=facts)
        await send(interaction, self.render(reply))

    async def _cooling(self, interaction: discord.Interaction[Any]) -> bool:
        """Whether the user is over their cooldown (and has been told so)."""
        retry = self.throttle.retry_after(interaction.user.id)
        if retry is not None:
            await send(interaction, Outgoing(content=messages.slow_down(retry)))
        return retry is not None


def conversation(who: int, where: int | None) -> str:
    """The conversation a question belongs to: one per person per channel (or DM)."""
    return f"discord:{where}:{who}"


def _guild_id(channel: object) -> int | None:
    """The guild of a channel discord.py has not cached (a PartialMessageable knows its guild's id)."""
    found = getattr(channel, "guild_id", None)
    return found if isinstance(found, int) else None


async def _guarded(interaction: discord.Interaction[Any], work: Awaitable[object]) -> None:
    """Run a button's work; on failure log it and say sorry instead of showing "interaction failed"."""
    try:
        await work
    except Exception:
        log.exception("button %s failed", interaction.data.get("custom_id") if interaction.data else None)
        await send(interaction, Outgoing(content=messages.SORRY))
