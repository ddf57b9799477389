"""The Discord adapter: slash commands, mentions and DMs become Questions; Answers become embeds.

Built on discord.py. It asks for no privileged intent: Discord delivers the content of
messages that mention the bot, and of DMs, without `message_content`. Nothing it sends can
ping anyone (`AllowedMentions.none()` on the client). Votes and the answers it posted in
channels (for repeat suppression) go to the engine's store.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import discord
from discord import app_commands

from bot.adapters.discord_embeds import (
    CONTENT,
    SuggestionButton,
    VoteButton,
    answer_embed,
    answer_view,
    clip,
    digest_embed,
    digest_view,
    help_embed,
    repeat_text,
    topic_embed,
    topics_embed,
    why_embed,
)
from bot.chat.repeats import Repeats
from bot.digest import (
    ChannelGone,
    Digest,
    DigestRequest,
    Subscription,
    Subscriptions,
    collect_digest,
    describe,
    parse_time,
    parse_timezone,
    subscription,
    timezones,
)
from bot.engine import Engine
from bot.explain import LastAsked, explain
from bot.models import Question
from bot.settings import ConfigError, Settings
from bot.store import FeedbackRecord, Vote, hash_user

log = logging.getLogger(__name__)

DEFER_AFTER = 2.0
"""Seconds to wait for a reply before deferring: Discord drops an interaction not acknowledged in 3 s."""
MAX_CHOICES = 25
KEEP_BUCKETS = 10_000
CHOICE = 100
SCOPES = ("bot", "applications.commands")
PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True, embed_links=True, read_message_history=True
)
THANKS = "Thanks for the feedback!"
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."
GONE = "I can no longer answer that question; try `/{command}` in your own words."
NOT_ALLOWED = "Only members who can manage this channel (Manage Channels) can change its digest."
ACTIONS = ("preview", "subscribe", "unsubscribe")
CHANNEL_GONE_CODES = frozenset({10003, 50001})
"""Unknown Channel (404) and Missing Access (403, the bot was removed): the channel's digest should end."""


class DiscordConfigError(ConfigError):
    """Discord cannot start as configured: a missing or rejected token. The message names the setting."""


@dataclass
class Reply:
    """What to send back: text, an embed, buttons (any may be absent).

    `private` asks for an ephemeral reply where one is possible; `facts` marks a channel answer to
    remember once sent (repeat suppression).
    """

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    private: bool = False
    facts: tuple[str, ...] = ()

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for discord.py's send methods, leaving out what is absent."""
        content = clip(self.content, CONTENT) if self.content else None
        found = {"content": content, "embed": self.embed, "view": self.view}
        return {key: value for key, value in found.items() if value is not None}


def slow_down(retry_after: float) -> str:
    """The polite answer to a flood."""
    return f"Slow down a little… you can ask again in {max(round(retry_after), 1)} s."


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


async def send(interaction: discord.Interaction[Any], reply: Reply, *, ephemeral: bool) -> discord.Message | None:
    """Answer an interaction: its first response, or a follow-up once it was deferred; the message sent."""
    try:
        if interaction.response.is_done():
            return await interaction.followup.send(**reply.kwargs(), ephemeral=ephemeral, wait=True)
        callback = await interaction.response.send_message(**reply.kwargs(), ephemeral=ephemeral)
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s: %s", interaction.id, exc)
        return None
    return callback.resource if isinstance(callback.resource, discord.Message) else None


async def respond_in_time(
    interaction: discord.Interaction[Any], work: Awaitable[Reply], *, ephemeral: bool
) -> tuple[Reply, discord.Message | None]:
    """Send `work`'s reply; if it is not ready within DEFER_AFTER seconds, defer first and follow up.

    A reply marked private is ephemeral, unless the interaction was already deferred in public.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER)
    if not done:
        log.info("interaction %s is slow; deferring", interaction.id)
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    reply = await task
    return reply, await send(interaction, reply, ephemeral=ephemeral or reply.private)


def browse_order(engine: Engine) -> list[str]:
    """Canonical questions for an empty or unmatched prefix: the headline ones first, then the rest."""
    headline = [s.question for s in engine.overview().try_asking]
    return list(dict.fromkeys([*headline, *(i.question for i in engine.base.intents.values())]))


def suggest_questions(engine: Engine, typed: str, *, default: list[str]) -> list[str]:
    """Up to 25 canonical questions for a half-typed one: literal prefix matches, then the matcher's ranking.

    `default` (every question, headline ones first) is the answer to an empty or unmatched prefix.
    """
    typed = " ".join(typed.split())
    intents = engine.base.intents
    starts = [q for q in default if typed and q.lower().startswith(typed.lower())]
    candidates = engine.matcher.rank(typed).candidates
    head = typed.rpartition(" ")[0]
    if not candidates and head:  # the last word may be half-typed
        candidates = engine.matcher.rank(head).candidates
    found = list(dict.fromkeys([*starts, *(intents[c.intent].question for c in candidates)]))
    return (found or default)[:MAX_CHOICES]


def minimal_intents() -> discord.Intents:
    """Guilds, guild messages and DMs; nothing privileged (mentions and DMs arrive with their content)."""
    intents = discord.Intents.none()
    intents.guilds = intents.guild_messages = intents.dm_messages = True
    return intents


class FactbotTree(app_commands.CommandTree["FactbotClient"]):
    """The slash-command tree: a per-user cooldown before every command, and no traceback for users."""

    async def interaction_check(self, interaction: discord.Interaction[FactbotClient], /) -> bool:
        """Refuse commands over the user's cooldown (autocomplete is never throttled)."""
        if interaction.type is discord.InteractionType.application_command:
            throttle = self.client.throttle
            if (retry := throttle.retry_after(interaction.user.id)) is not None:
                raise app_commands.CommandOnCooldown(app_commands.Cooldown(throttle.rate, throttle.per), retry)
        return True

    async def on_error(
        self, interaction: discord.Interaction[FactbotClient], error: app_commands.AppCommandError, /
    ) -> None:
        """Say "slow down" to a flood and sorry to a failure; log the failure with its traceback."""
        if isinstance(error, app_commands.CommandOnCooldown):
            await send(interaction, Reply(content=slow_down(error.retry_after)), ephemeral=True)
            return
        name = interaction.command.name if interaction.command else "?"
        log.error("command /%s failed", name, exc_info=error)
        await send(interaction, Reply(content=SORRY), ephemeral=True)


class FactbotClient(discord.Client):
    """A Discord client that holds the engine and translates between Discord and it."""

    def __init__(
        self, engine: Engine, settings: Settings, *, subscriptions: Subscriptions | None = None, **options: Any
    ) -> None:
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # the bot has no voice: no warning
        super().__init__(intents=minimal_intents(), allowed_mentions=discord.AllowedMentions.none(), **options)
        self.engine = engine
        self.repeats = Repeats(engine, platform="discord", window_minutes=settings.repeat_window_minutes)
        self.settings = settings
        self.subscriptions: Subscriptions = subscriptions or engine.store
        self.throttle = Throttle(settings.discord_cooldown_rate, settings.discord_cooldown_seconds)
        self.tree = FactbotTree(self)
        self.browse = browse_order(engine)
        self.last_asked = LastAsked()
        _add_commands(self)

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

    # -- mentions and DMs ---------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """Answer a DM, or a channel message that mentions the bot, as a reply; ignore the rest.

        Replies do not ping their author: the client's `AllowedMentions.none()` already says
        `replied_user=False`, and passing `mention_author=False` too would only add that key.
        """
        text = self.question_in(message)
        if text is None:
            return
        if (retry := self.throttle.retry_after(message.author.id)) is None:
            in_channel = not isinstance(message.channel, discord.DMChannel)
            reply = await self.answer(text, who=message.author.id, where=message.channel.id, in_channel=in_channel)
        elif self.throttle.first_warning(message.author.id, retry):
            reply = Reply(content=slow_down(retry))
        else:
            return
        try:
            sent = await message.reply(**reply.kwargs())
        except discord.HTTPException as exc:
            log.warning(
                "could not reply in channel %s (check the bot's permissions there): %s", message.channel.id, exc
            )
            return
        await self.remember(reply, sent, guild_id=message.guild.id if message.guild else _guild_id(message.channel))

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

    async def answer(self, text: str, *, who: int, where: int | None, in_channel: bool = False) -> Reply:
        """Ask the engine and render its Answer; in a channel, a pointer instead when it was given there lately."""
        conversation = f"discord:{where}:{who}"  # one conversation per person per channel (or DM)
        question = Question(text=text, who=str(who), where=str(where), platform="discord", conversation=conversation)
        if where is not None:
            self.last_asked.remember(str(where), text, self.engine.conversations.previous(conversation))
        answer = await self.engine.answer(question)
        facts = self.repeats.followed(answer) if in_channel and where is not None else ()
        self.repeats.refresh_soon()  # the store is read in the background, never before a reply
        earlier = self.repeats.earlier(str(where), facts)
        reply = Reply(embed=answer_embed(answer), view=answer_view(answer), facts=facts)
        if earlier is not None:  # the answer again, for the asker alone where Discord allows it
            return Reply(content=repeat_text(earlier), embed=reply.embed, view=reply.view, private=True)
        return reply

    async def remember(self, reply: Reply, sent: discord.Message | None, *, guild_id: int | None) -> None:
        """Keep where a channel answer was sent (its jump URL), for the same question asked there soon after."""
        if reply.facts and sent is not None:
            self.repeats.remember(str(sent.channel.id), reply.facts, jump_url(sent, guild_id=guild_id))

    def why(self, question: str | None, *, where: int | None) -> Reply:
        """`/why`: the explanation of `question`, or of the last answer in channel `where`; else a hint."""
        asked = (question or "").strip()
        text = asked or (self.last_asked.last(str(where)) if where is not None else None)
        if not text:
            s = self.settings
            return Reply(
                content=f"Nothing to explain here yet: ask with `/{s.command_ask}`, then `/{s.command_why}`, "
                f"or `/{s.command_why} question:` with your question.",
                private=True,
            )
        previous = None if asked or where is None else self.last_asked.before(str(where))
        return Reply(embed=why_embed(explain(self.engine, text, previous)), private=True)

    # -- the digest -------------------------------------------------------------------------------

    async def digest_reply(
        self, request: DigestRequest, *, channel: int | None, guild: int | None, may_manage: bool
    ) -> Reply:
        """`/digest`: a private preview, or this channel's subscription changed by someone who may manage it."""
        if request.action == "preview":
            digest = await collect_digest(
                self.engine, channel=str(channel), platform="discord", day=date.today(), curators=request.curators
            )
            return Reply(embed=digest_embed(digest), view=digest_view(digest), private=True)
        if guild is None or channel is None:
            return Reply(content="Digests are for server channels: use this command in the channel itself.")
        if not may_manage:
            return Reply(content=NOT_ALLOWED)
        return Reply(content=await self._change(request, channel=str(channel), guild=str(guild)))

    async def _change(self, request: DigestRequest, *, channel: str, guild: str) -> str:
        """Subscribe or unsubscribe `channel`; what to tell the member."""
        command = self.settings.command_digest
        if request.action == "unsubscribe":
            had = await self.subscriptions.unsubscribe("discord", channel)
            said = (
                "This channel will no longer get the Factbot digest."
                if had
                else "This channel was not getting the Factbot digest."
            )
            return f"{said} `/{command} action:subscribe` starts it."
        sub = subscription(request, platform="discord", channel=channel, settings=self.settings, workspace=guild)
        await self.subscriptions.subscribe(sub)
        log.info("digest subscribed in channel %s", channel)
        return f"This channel will get the Factbot digest {describe(sub)}. `/{command} action:unsubscribe` stops it."

    # -- buttons ----------------------------------------------------------------------------------

    async def press_suggestion(self, interaction: discord.Interaction[Any], intent: str) -> None:
        """Answer the question a suggestion button stands for, publicly."""
        if await self._cooling(interaction):
            return
        found = self.engine.base.intents.get(intent)
        if found is None:
            await send(interaction, Reply(content=GONE.format(command=self.settings.command_ask)), ephemeral=True)
            return
        work = self.answer(found.question, who=interaction.user.id, where=interaction.channel_id)
        await _guarded(interaction, respond_in_time(interaction, work, ephemeral=False))

    async def press_vote(self, interaction: discord.Interaction[Any], vote: str, intent: str, facts: list[str]) -> None:
        """Keep a 👍/👎 (one per person and answer: a second press changes it) and thank the user privately."""
        if await self._cooling(interaction):
            return
        log.info("feedback: %s on intent %s in channel %s", vote, intent, interaction.channel_id)
        await self._keep_vote(interaction, vote, intent, facts)
        await send(interaction, Reply(content=THANKS), ephemeral=True)

    async def _keep_vote(self, interaction: discord.Interaction[Any], vote: str, intent: str, facts: list[str]) -> None:
        """Store a vote under the answer's message id and the voter's salted hash."""
        if interaction.message is None or vote not in ("up", "down"):
            log.warning("a vote without its message was not kept")
            return
        found = self.engine.base.intents.get(intent)
        record = FeedbackRecord(
            answer_key=str(interaction.message.id),
            platform="discord",
            vote=cast(Vote, vote),
            intent=intent,
            user_hash=hash_user("discord", str(interaction.user.id), salt=self.engine.salt),
            fact_ids=facts or (list(found.facts) if found else []),
        )
        try:
            await self.engine.store.record_feedback(record)
        except Exception as exc:  # the store is best effort: the voter is still thanked
            log.warning("could not keep a vote: %s", type(exc).__name__)

    async def _cooling(self, interaction: discord.Interaction[Any]) -> bool:
        """Whether the user is over their cooldown (and has been told so)."""
        retry = self.throttle.retry_after(interaction.user.id)
        if retry is not None:
            await send(interaction, Reply(content=slow_down(retry)), ephemeral=True)
        return retry is not None


def _guild_id(channel: object) -> int | None:
    """The guild of a channel discord.py has not cached (a PartialMessageable knows its guild's id)."""
    found = getattr(channel, "guild_id", None)
    return found if isinstance(found, int) else None


def jump_url(message: discord.Message, *, guild_id: int | None) -> str:
    """A message's link, with its guild given: a follow-up's `message.jump_url` says `@me`, not knowing its guild."""
    return discord.MessageReference(message_id=message.id, channel_id=message.channel.id, guild_id=guild_id).jump_url


async def _guarded(interaction: discord.Interaction[Any], work: Awaitable[object]) -> None:
    """Run a button's work; on failure log it and say sorry instead of showing "interaction failed"."""
    try:
        await work
    except Exception:
        log.exception("button %s failed", interaction.data.get("custom_id") if interaction.data else None)
        await send(interaction, Reply(content=SORRY), ephemeral=True)


def _add_commands(client: FactbotClient) -> None:
    """Register /ask, /facts, /digest, /why and /factbot (names from the settings) on the client's tree."""
    settings, engine, tree = client.settings, client.engine, client.tree
    topics = {name: len(facts) for name, facts in engine.base.topics().items()}
    choices = [app_commands.Choice(name=clip(t, CHOICE), value=t) for t in sorted(topics, key=lambda t: -topics[t])]

    @tree.command(name=settings.command_ask, description="Ask a question; the answer quotes its source word for word.")
    @app_commands.describe(question="Your question, in your own words")
    async def ask(interaction: discord.Interaction[FactbotClient], question: str) -> None:
        in_channel = interaction.guild_id is not None
        work = client.answer(question, who=interaction.user.id, where=interaction.channel_id, in_channel=in_channel)
        reply, sent = await respond_in_time(interaction, work, ephemeral=False)
        await client.remember(reply, sent, guild_id=interaction.guild_id)

    @ask.autocomplete("question")
    async def ask_choices(
        interaction: discord.Interaction[FactbotClient], current: str
    ) -> list[app_commands.Choice[str]]:
        questions = suggest_questions(engine, current, default=client.browse)
        return [app_commands.Choice(name=clip(q, CHOICE), value=clip(q, CHOICE)) for q in questions]

    @tree.command(name=settings.command_facts, description="List the topics, or the facts on one topic (just for you).")
    @app_commands.describe(topic="Show the facts on this topic")
    @app_commands.choices(topic=choices[:MAX_CHOICES])
    async def facts(interaction: discord.Interaction[FactbotClient], topic: str | None = None) -> None:
        if topic is None:
            embed = topics_embed(topics, command=settings.command_facts)
        else:
            embed = topic_embed(topic, [(f.answer, engine.cite(f)) for f in engine.base.topics().get(topic, [])])
        await send(interaction, Reply(embed=embed), ephemeral=True)

    @tree.command(
        name=settings.command_digest,
        description="Preview today's digest for this channel (just for you), or subscribe the channel.",
    )
    @app_commands.describe(
        action="preview (the default), subscribe or unsubscribe this channel",
        time="subscribe: the local time to post, HH:MM (default 09:00)",
        timezone="subscribe: the time zone, Area/City (default UTC)",
        curators="also list the questions the fact base could not answer",
    )
    @app_commands.choices(action=[app_commands.Choice(name=a, value=a) for a in ACTIONS])
    async def digest(
        interaction: discord.Interaction[FactbotClient],
        action: str = "preview",
        time: str | None = None,
        timezone: str | None = None,
        curators: bool = False,
    ) -> None:
        try:
            request = digest_request(action, time=time, timezone=timezone, curators=curators)
        except ValueError as exc:
            await send(interaction, Reply(content=str(exc)), ephemeral=True)
            return
        reply = await client.digest_reply(
            request,
            channel=interaction.channel_id,
            guild=interaction.guild_id,
            may_manage=interaction.permissions.manage_channels,
        )
        await send(interaction, reply, ephemeral=True)

    @digest.autocomplete("timezone")
    async def timezone_choices(
        interaction: discord.Interaction[FactbotClient], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=zone, value=zone) for zone in timezones(current, limit=MAX_CHOICES)]

    @tree.command(
        name=settings.command_why,
        description="Why I answered the last question here (or yours) as I did (just for you).",
    )
    @app_commands.describe(question="Explain this question instead of the last one asked here")
    async def why(interaction: discord.Interaction[FactbotClient], question: str | None = None) -> None:
        await send(interaction, client.why(question, where=interaction.channel_id), ephemeral=True)

    @tree.command(name=settings.command_help, description="What Factbot knows, where it comes from, how to ask.")
    async def factbot(interaction: discord.Interaction[FactbotClient]) -> None:
        await send(interaction, Reply(embed=help_embed(engine.overview(), settings)), ephemeral=True)


def digest_request(action: str, *, time: str | None, timezone: str | None, curators: bool) -> DigestRequest:
    """`/digest`'s options as a request; ValueError, in one line, for a bad time or time zone."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action “{action}”: choose preview, subscribe or unsubscribe.")
    return DigestRequest.model_validate(
        {
            "action": action,
            "at": parse_time(time) if time else None,
            "timezone": parse_timezone(timezone) if timezone else None,
            "curators": curators,
        }
    )


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
        reply = Reply(embed=digest_embed(digest), view=digest_view(digest))
        try:
            await channel.send(**reply.kwargs())
        except (discord.NotFound, discord.Forbidden) as exc:
            if exc.code in CHANNEL_GONE_CODES:
                raise ChannelGone(f"discord channel {subscription.channel}: {exc.text or exc.status}") from None
            raise


def digest_poster(client: discord.Client) -> DiscordDigestPoster:
    """The DigestPoster for a client from `build_client` (logged in: running, or after `client.login`)."""
    return DiscordDigestPoster(client)


# -- entry points for the CLI -------------------------------------------------------------------


def build_client(
    engine: Engine, settings: Settings, *, subscriptions: Subscriptions | None = None, **options: Any
) -> FactbotClient:
    """A ready-to-start Discord client for `engine`; `options` go to discord.Client (e.g. guild_ready_timeout).

    `/digest subscribe` and `unsubscribe` go to `subscriptions` (the digest scheduler, so it reschedules at
    once), or to the engine's store when none is given.
    """
    return FactbotClient(engine, settings, subscriptions=subscriptions, **options)


def _token(settings: Settings) -> str:
    """The bot token, or a clear error naming DISCORD_TOKEN."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise DiscordConfigError("DISCORD_TOKEN is not set")
    return settings.discord_token.get_secret_value().strip()


async def _login(client: discord.Client, token: str) -> None:
    """Log in, turning a rejected token into DiscordConfigError (never showing the token)."""
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise DiscordConfigError("DISCORD_TOKEN was rejected by Discord") from None


async def run_discord(
    engine: Engine, settings: Settings, *, client: FactbotClient | None = None, **options: Any
) -> None:
    """Connect to Discord and answer until cancelled; commands sync to DISCORD_GUILD_IDS at start.

    `client` (from `build_client`) lets the caller hold the client, e.g. for `digest_poster(client)`.
    """
    client = client or build_client(engine, settings, **options)
    async with client:
        await _login(client, _token(settings))
        await client.connect()


async def sync_global(engine: Engine, settings: Settings, **options: Any) -> int:
    """Sync the commands globally (they can take up to an hour to appear); return how many."""
    client = build_client(engine, settings.model_copy(update={"discord_guild_ids": ""}), **options)
    async with client:
        await _login(client, _token(settings))
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
