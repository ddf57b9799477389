"""The Slack adapter: slash commands, mentions, DMs and buttons become Questions; Answers become Block Kit.

Built on slack-bolt's AsyncApp; the same listeners serve Socket Mode (`run_socket_mode`) and HTTP
mode (`run_http`). Every Web API call and `response_url` reply goes through one aiohttp session,
with slack_sdk's retry handlers (429 `Retry-After`, 5xx, dropped connections). Handled event ids,
votes and where channel answers were posted go to the engine's store, which replicas share.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from pydantic import BaseModel, ConfigDict, SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
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

from bot.adapters.slack_blocks import (
    DIGEST_TRY,
    FEEDBACK,
    SUGGEST,
    VOTES,
    Message,
    VoteValue,
    answer_message,
    digest_message,
    escape,
    facts_message,
    help_message,
    manifest,
    manifest_yaml,
    no_topic_message,
    notice_message,
    plain,
    read_vote,
    repeat_message,
    topics_message,
    why_message,
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
    parse_request,
    subscription,
)
from bot.engine import Engine
from bot.explain import LastAsked, explain
from bot.models import Answer, Question
from bot.settings import ConfigError, Settings
from bot.store import FeedbackRecord, hash_user

__all__ = [
    "SlackConfigError",
    "SlackDigestPoster",
    "build_app",
    "close_app",
    "digest_poster",
    "manifest",
    "manifest_yaml",
    "run_http",
    "run_socket_mode",
    "start_http",
]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SORRY = notice_message("Sorry, something went wrong while answering that. Please try again.")
GONE = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
"""chat.postMessage errors that mean the channel is gone for good (or the bot was removed): unsubscribe."""
NOT_ALLOWED = "Only workspace admins and this channel's creator can change its digest."
SHUTDOWN_GRACE = 5.0
"""Seconds a stopping HTTP server gives the requests in flight to finish (well inside a 10 s stop timeout)."""
EVENT_TTL = timedelta(hours=1)
"""How long a handled event id is kept: Slack retries a delivery three times within minutes."""


@dataclass(frozen=True)
class Reply:
    """A message, its `response_type`, and, for a channel answer to remember once posted, the facts it gives."""

    message: Message
    response_type: str = "ephemeral"
    facts: tuple[str, ...] = ()


class SlackConfigError(ConfigError):
    """Slack cannot start: a missing, malformed or rejected setting (the message names it, never its value)."""


# -- payloads, parsed at the edge -----------------------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SlashCommand(_Payload):
    """A slash command invocation."""

    command: str
    text: str = ""
    user_id: str
    channel_id: str = ""
    team_id: str | None = None
    response_url: str | None = None

    def question(self) -> Question:
        """The command's text as a Question; in a DM, one conversation with the bot."""
        conversation = f"slack:{self.channel_id}" if self.channel_id.startswith("D") else None
        return Question(
            text=plain(self.text).strip(),
            who=self.user_id,
            where=self.channel_id,
            platform="slack",
            conversation=conversation,
        )


class MessageEvent(_Payload):
    """An `app_mention` or `message` event."""

    type: str
    channel: str
    ts: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None
    subtype: str | None = None
    channel_type: str | None = None
    thread_ts: str | None = None

    def from_person(self, bot_user: str | None) -> bool:
        """Whether a person wrote it (not a bot, not this bot, not an edit or other subtype)."""
        return bool(self.user) and self.user != bot_user and not self.bot_id and not self.subtype

    def question(self, bot_user: str | None) -> Question:
        """The text without the bot's own mention, as a Question."""
        text = re.sub(rf"<@{re.escape(bot_user)}(\|[^>]*)?>", " ", self.text) if bot_user else self.text
        return Question(
            text=plain(text).strip(), who=self.user, where=self.channel, platform="slack", conversation=self.thread()
        )

    def thread(self) -> str:
        """The conversation it belongs to: the DM, or the thread it starts or replies in."""
        if self.channel_type == "im" or self.channel.startswith("D"):
            return f"slack:{self.channel}"
        return f"slack:{self.channel}:{self.thread_ts or self.ts}"


class ButtonClick(_Payload):
    """A click on one of Factbot's buttons (`block_actions`)."""

    user: str
    value: str
    action_id: str = ""
    channel: str | None = None
    response_url: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ButtonClick:
        """Read the clicker, the button's value and where the message is from a `block_actions` body."""
        container = body.get("container") or {}
        action = (body.get("actions") or [{}])[0]
        return cls(
            user=(body.get("user") or {}).get("id", ""),
            value=str(action.get("value", "")),
            action_id=str(action.get("action_id", "")),
            channel=container.get("channel_id") or (body.get("channel") or {}).get("id"),
            response_url=body.get("response_url"),
            message_ts=container.get("message_ts"),
            thread_ts=container.get("thread_ts") or (body.get("message") or {}).get("thread_ts"),
        )


# -- deduplication ----------------------------------------------------------------------------


class RecentEvents:
    """Event ids this process saw lately, bounded in number and age: the first check before the shared store's."""

    def __init__(self, *, size: int = 10_000, ttl: float = 3600.0, clock: Callable[[], float] = time.monotonic):
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._size, self._ttl, self._clock = size, ttl, clock

    def seen(self, event_id: str) -> bool:
        """Whether `event_id` came lately; it is remembered from now on either way."""
        now = self._clock()
        while self._seen and now - next(iter(self._seen.values())) > self._ttl:
            self._seen.popitem(last=False)
        if event_id in self._seen:
            return True
        self._seen[event_id] = now
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return False


# -- listeners --------------------------------------------------------------------------------


class SlackAdapter:
    """Bolt listeners around one engine: Slack inputs become Questions, Answers become messages."""

    def __init__(
        self, engine: Engine, settings: Settings, *, session: ClientSession, subscriptions: Subscriptions | None = None
    ) -> None:
        self.engine = engine
        self.repeats = Repeats(engine, platform="slack", window_minutes=settings.repeat_window_minutes)
        self.settings = settings
        self.session = session
        self.subscriptions: Subscriptions = subscriptions or engine.store
        self.recent = RecentEvents()
        self.last_asked = LastAsked()
        self.workspace_url: str | None = None

    def register(self, app: AsyncApp) -> None:
        """Attach the middleware, listeners and error handler to `app`."""
        s = self.settings
        app.command(f"/{s.command_ask}")(self.on_ask)
        app.command(f"/{s.command_facts}")(self.on_facts)
        app.command(f"/{s.command_digest}")(self.on_digest)
        app.command(f"/{s.command_why}")(self.on_why)
        app.command(f"/{s.command_help}")(self.on_help)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.action(re.compile(f"^{SUGGEST}"))(self.on_suggest)
        app.action(re.compile(f"^{FEEDBACK}"))(self.on_feedback)
        app.error(self.on_error)

    async def first_delivery(self, body: dict[str, Any]) -> bool:
        """Whether an event is new: not taken here or by another replica. Bolt has acked it already, so the
        store's claim costs no time before the ack; a retry already handled is dropped."""
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not await self._claim(event_id):
            log.info("Slack: event %s already handled; dropped the retry", event_id)
            return False
        return True

    async def _claim(self, event_id: str) -> bool:
        """Whether this delivery is the first: unseen by this process, and claimed in the store replicas share.

        A store that is down costs no answer: this process's memory alone decides until it is back.
        """
        if self.recent.seen(event_id):
            return False
        try:
            return await self.engine.store.claim_event(event_id, ttl=EVENT_TTL)
        except Exception as exc:  # the store is best effort: answer rather than drop
            log.warning(
                "Slack: could not claim event %s in the store (%s); deduplicating in this process only",
                event_id,
                type(exc).__name__,
            )
            return True

    # slash commands: answered inside the acknowledgement

    async def on_ask(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """`/ask <question>`: the answer for the whole channel, naming the asker; help when empty.

        The same answer given in the channel lately goes to the asker alone, under a line saying so.
        """
        await _ack(ack, await _safely(self._ask(command)))

    async def on_facts(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """`/facts [topic]`: the topics, or the facts of one, for the asker only."""
        await _ack(ack, await _safely(self._facts(command)))

    async def on_digest(self, ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        """`/digest [subscribe [HH:MM] [Area/City] [--curators] | unsubscribe]`: for the asker only.

        Alone it previews today's digest for this channel; subscribing and unsubscribing are for
        workspace admins and the channel's creator.
        """
        await _ack(ack, await _safely(self._digest(command, client)))

    async def on_help(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """`/factbot`: help, sources and counts, for the asker only."""
        await _ack(ack, await _safely(self._help()))

    async def on_why(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """`/why [question]`: why the channel's last answer (or the question given) came out as it did; asker only."""
        await _ack(ack, await _safely(self._why(command)))

    async def _why(self, command: dict[str, Any]) -> Reply:
        slash = SlashCommand.model_validate(command)
        asked = slash.question().text
        text = asked or self.last_asked.last(slash.channel_id)
        if not text:
            return Reply(
                notice_message(
                    f"Nothing to explain here yet: ask with `/{self.settings.command_ask}`, "
                    f"then `/{self.settings.command_why}`, or `/{self.settings.command_why} "
                    "your question`."
                )
            )
        previous = None if asked else self.last_asked.before(slash.channel_id)
        return Reply(why_message(explain(self.engine, text, previous)))

    async def _ask(self, command: dict[str, Any]) -> Reply:
        slash = SlashCommand.model_validate(command)
        question = slash.question()
        if not question.text:
            return await self._help()
        previous = self.engine.conversations.previous(question.conversation)
        self.last_asked.remember(slash.channel_id, question.text, previous)
        answer = await self.engine.answer(question)
        log.info("Slack: /%s answered: status=%s intent=%s", self.settings.command_ask, answer.status, answer.intent)
        in_dm = slash.channel_id.startswith("D") or not slash.channel_id
        self.repeats.refresh_soon()  # the store is read after this ack, never before it
        reply = self._reply_to(answer, channel=None if in_dm else slash.channel_id, asker=slash.user_id)
        self.repeats.remember(slash.channel_id, reply.facts, link="")  # a reply in the ack has no ts to link to
        return reply

    async def _facts(self, command: dict[str, Any]) -> Reply:
        topic = " ".join(SlashCommand.model_validate(command).question().text.lower().split())
        topics = self.engine.base.topics()
        if not topic:
            counts = {name: len(facts) for name, facts in topics.items()}
            return Reply(topics_message(counts, command=self.settings.command_facts))
        if topic not in topics:
            return Reply(no_topic_message(topic, topics))
        facts = [(fact.answer, self.engine.cite(fact)) for fact in topics[topic]]
        return Reply(facts_message(topic, facts))

    async def _digest(self, command: dict[str, Any], client: AsyncWebClient) -> Reply:
        slash = SlashCommand.model_validate(command)
        try:
            request = parse_request(plain(slash.text))
        except ValueError as exc:
            return Reply(notice_message(escape(str(exc))))
        if request.action == "preview":
            digest = await collect_digest(
                self.engine,
                channel=slash.channel_id or "slack",
                platform="slack",
                day=date.today(),
                curators=request.curators,
            )
            return Reply(digest_message(digest, preview=True))
        if slash.channel_id.startswith("D") or not slash.channel_id:
            return Reply(
                notice_message(
                    f"Digests are for channels: run `/{self.settings.command_digest} "
                    f"{request.action}` in the channel itself."
                )
            )
        if not await may_manage(client, user=slash.user_id, channel=slash.channel_id):
            return Reply(notice_message(NOT_ALLOWED))
        return Reply(notice_message(escape(await self._change(slash, request))))

    async def _change(self, slash: SlashCommand, request: DigestRequest) -> str:
        """Subscribe or unsubscribe the command's channel; what to tell the asker."""
        if request.action == "unsubscribe":
            had = await self.subscriptions.unsubscribe("slack", slash.channel_id)
            said = (
                "This channel will no longer get the Factbot digest."
                if had
                else "This channel was not getting the Factbot digest."
            )
            said += f" `/{self.settings.command_digest} subscribe` starts it."
        else:
            sub = subscription(
                request, platform="slack", channel=slash.channel_id, settings=self.settings, workspace=slash.team_id
            )
            await self.subscriptions.subscribe(sub)
            said = (
                f"This channel will get the Factbot digest {describe(sub)}. "
                f"`/{self.settings.command_digest} unsubscribe` stops it."
            )
        log.info("Slack: digest %s in %s", request.action, slash.channel_id)
        return said

    async def _help(self) -> Reply:
        return Reply(help_message(self.engine.overview(), self.settings))

    # repeat suppression

    def _reply_to(self, answer: Answer, *, channel: str | None, asker: str | None = None) -> Reply:
        """The full answer; in a channel given the same answer lately (`channel` None: a DM), for the asker alone.

        A full channel answer carries the facts it gives, so that it is remembered once posted.
        """
        facts = self.repeats.followed(answer) if channel else ()
        earlier = self.repeats.earlier(channel, facts) if channel else None
        if earlier is not None:  # the asker alone sees it: no need to name them
            return Reply(repeat_message(earlier, answer_message(answer, about=self.engine.covers())))
        return Reply(answer_message(answer, asker=asker, about=self.engine.covers()), "in_channel", facts)

    async def _remember(
        self, client: AsyncWebClient, channel: str, ts: str, *, thread_ts: str | None, reply: Reply
    ) -> None:
        """Keep a posted channel answer's permalink (built from the workspace's URL), for a repeat soon after."""
        if reply.facts:
            base = await self._workspace_url(client)
            self.repeats.remember(channel, reply.facts, permalink(base, channel, ts, thread_ts) if base else "")

    async def _workspace_url(self, client: AsyncWebClient) -> str | None:
        """The workspace's URL from auth.test, asked once (after an ack, never before one)."""
        if self.workspace_url is None:
            response = await _web_call("auth.test", "the workspace", client.auth_test())
            url = response.get("url") if response is not None else None
            self.workspace_url = url if isinstance(url, str) else None
        return self.workspace_url

    # events: acknowledged by bolt at once, answered with chat.postMessage

    async def on_mention(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """A mention in a channel: answered in a thread under the question."""
        message = MessageEvent.model_validate(event)
        if message.channel.startswith("D") or not message.from_person(context.bot_user_id):
            return  # DMs are answered by on_message; bots and edits never
        if not await self.first_delivery(body):
            return
        await self._answer_event(
            client, message, context.bot_user_id, thread_ts=message.thread_ts or message.ts, channel=message.channel
        )

    async def on_message(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """A direct message: answered in the DM (in its thread, if it was written in one)."""
        message = MessageEvent.model_validate(event)
        if message.channel_type != "im" or not message.from_person(context.bot_user_id):
            return
        if not await self.first_delivery(body):
            return
        await self._answer_event(client, message, context.bot_user_id, thread_ts=message.thread_ts, channel=None)

    async def _answer_event(
        self,
        client: AsyncWebClient,
        event: MessageEvent,
        bot_user: str | None,
        *,
        thread_ts: str | None,
        channel: str | None,
    ) -> None:
        try:
            question = event.question(bot_user)
            previous = self.engine.conversations.previous(question.conversation)
            self.last_asked.remember(event.channel, question.text, previous)
            answer = await self.engine.answer(question)
            await self.repeats.refresh()  # bolt has acked the event: reading the store delays nobody
            reply = self._reply_to(answer, channel=channel)
            log.info("Slack: %s answered: status=%s intent=%s", event.type, answer.status, answer.intent)
        except Exception:
            log.exception("Slack: could not answer a %s event", event.type)
            reply = Reply(SORRY)
        if reply.response_type == "ephemeral" and channel is not None and event.user:  # a repeat: the asker's alone
            await _post_ephemeral(client, channel=channel, user=event.user, thread_ts=thread_ts, message=reply.message)
            return
        ts = await _post(client, channel=event.channel, thread_ts=thread_ts, message=reply.message)
        if ts is not None:
            await self._remember(client, event.channel, ts, thread_ts=thread_ts, reply=reply)

    # buttons

    async def on_suggest(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A suggested question clicked: its answer replaces the message that offered it."""
        await ack()
        click = ButtonClick.parse(body)
        try:
            reply = await self._suggested(click)
        except Exception:
            log.exception("Slack: could not answer a suggestion")
            reply = SORRY
        if click.action_id == DIGEST_TRY:  # the digest stays for the channel; the answer is the clicker's
            await self._deliver(client, click, reply, replace_original=False, response_type="ephemeral")
        else:
            await self._deliver(client, click, reply, replace_original=True)

    async def _suggested(self, click: ButtonClick) -> Message:
        intent = self.engine.base.intents.get(click.value)
        if intent is None:
            return notice_message("That suggestion is out of date. Please ask again in your own words.")
        question = Question(text=intent.question, who=click.user, where=click.channel, platform="slack")
        if click.channel:
            self.last_asked.remember(click.channel, question.text)
        answer = await self.engine.answer(question)
        return answer_message(answer, asker=click.user, about=self.engine.covers())

    async def on_feedback(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """👍 / 👎 under an answer: acknowledged, kept (one vote per person and answer), thanked privately."""
        await ack()
        click = ButtonClick.parse(body)
        vote = read_vote(click.value)
        if vote is None:
            log.warning("Slack: feedback button with an unknown value was ignored")
            return
        log.info("Slack: feedback %s for intent %r in %s", vote.vote, vote.intent[:100], click.channel)
        await self._keep_vote(click, vote)
        if click.response_url:  # a thank-you is only ever shown to the voter
            thanks = notice_message(f"Thanks, your {VOTES[vote.vote]} is noted.")
            await _respond(self.session, click.response_url, thanks, replace_original=False, response_type="ephemeral")

    async def _keep_vote(self, click: ButtonClick, vote: VoteValue) -> None:
        """Store a vote under the answer's message (`channel:ts`) and the voter's salted hash."""
        if not (click.channel and click.message_ts and click.user):
            log.warning("Slack: a vote without its message or voter was not kept")
            return
        record = FeedbackRecord(
            answer_key=f"{click.channel}:{click.message_ts}",
            platform="slack",
            user_hash=hash_user("slack", click.user, salt=self.engine.salt),
            vote=vote.vote,
            intent=vote.intent,
            fact_ids=vote.facts or self._facts_of(vote.intent),
        )
        try:
            await self.engine.store.record_feedback(record)
        except Exception as exc:  # the store is best effort: the voter is still thanked
            log.warning("Slack: could not keep a vote: %s", type(exc).__name__)

    def _facts_of(self, intent: str) -> list[str]:
        """The facts an intent answers with now, for a button that does not carry them (older, or too long)."""
        found = self.engine.base.intents.get(intent)
        return list(found.facts) if found else []

    async def _deliver(self, client: AsyncWebClient, click: ButtonClick, message: Message, **options: Any) -> None:
        """Reply to a click through its `response_url`, or in the message's thread when it has none."""
        if click.response_url:
            await _respond(self.session, click.response_url, message, **options)
        elif click.channel:
            await _post(client, channel=click.channel, thread_ts=click.thread_ts or click.message_ts, message=message)

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        """Whatever escaped a listener: logged with its kind, never shown to the user as a traceback."""
        kind = body.get("type") or body.get("command") or "request"
        log.error("Slack: a %s listener failed: %s", kind, type(error).__name__, exc_info=error)


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
        log.warning("Slack: could not check who may change the digest of %s: %s", channel, _error(exc))
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
            if _error(exc) in GONE:
                raise ChannelGone(f"slack channel {subscription.channel}: {_error(exc)}") from None
            raise


def digest_poster(app: AsyncApp) -> SlackDigestPoster:
    """The DigestPoster of a Slack app made by `build_app` (it shares the app's Web API client and session)."""
    return SlackDigestPoster(app.client)


async def _safely(work: Awaitable[Reply]) -> Reply:
    """A command's reply; a failure becomes a one-line apology for the asker, never a traceback."""
    try:
        return await work
    except Exception:
        log.exception("Slack: could not answer a slash command")
        return Reply(SORRY)


async def _ack(ack: AsyncAck, reply: Reply) -> None:
    """Acknowledge a slash command with its reply."""
    await ack(
        text=reply.message.text,
        blocks=reply.message.blocks,
        response_type=reply.response_type,
        unfurl_links=False,
        unfurl_media=False,
    )


async def _post(client: AsyncWebClient, *, channel: str, thread_ts: str | None, message: Message) -> str | None:
    """chat.postMessage, returning the message's `ts`; a refusal or network failure is logged in one line."""
    response = await _web_call(
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


async def _post_ephemeral(
    client: AsyncWebClient, *, channel: str, user: str, thread_ts: str | None, message: Message
) -> None:
    """chat.postEphemeral: a message in `channel` that only `user` sees; a refusal is logged in one line."""
    await _web_call(
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


async def _web_call(method: str, channel: str, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse | None:
    """Await one Web API call; a refusal or a network failure is one log line and None, never an exception."""
    try:
        return await call
    except SlackApiError as exc:
        log.warning("Slack: %s in %s failed: %s", method, channel, _error(exc))
    except (TimeoutError, ClientError) as exc:
        log.warning("Slack: %s in %s failed: %s", method, channel, type(exc).__name__)
    return None


async def _respond(session: ClientSession, url: str, message: Message, **options: Any) -> None:
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


# -- the app ----------------------------------------------------------------------------------


def retry_handlers() -> list[AsyncRetryHandler]:
    """slack_sdk's own retries: rate limits (honouring Retry-After), server errors, dropped connections."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


def web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: bot token, `SLACK_API_URL`, one shared session, retry handlers."""
    token = _secret(settings.slack_bot_token, "SLACK_BOT_TOKEN", prefix="xoxb-")
    session = ClientSession(timeout=ClientTimeout(total=30))
    return AsyncWebClient(
        token=token, base_url=settings.slack_api_url, session=session, retry_handlers=retry_handlers()
    )


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
    app = AsyncApp(client=client, signing_secret=secret, name="factbot")
    SlackAdapter(engine, settings, session=client.session, subscriptions=subscriptions).register(app)
    return app


async def close_app(app: AsyncApp) -> None:
    """Close the app's shared HTTP session."""
    session = app.client.session
    if session is not None and not session.closed:
        await session.close()


def web_app(app: AsyncApp) -> web.Application:
    """aiohttp routes: commands, events and interactivity on /slack/events; GET /healthz answers "ok"."""

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    application = web.Application()
    application.add_routes([web.post(EVENTS_PATH, events), web.get("/healthz", healthz)])
    return application


async def start_http(app: AsyncApp, *, host: str = "0.0.0.0", port: int = 3000) -> web.AppRunner:
    """Serve `web_app(app)`; the caller cleans the returned runner up (its `addresses` give the port)."""
    runner = web.AppRunner(web_app(app), access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
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
        runner = await start_http(app, host=host, port=port)
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
        app_token = _secret(settings.slack_app_token, "SLACK_APP_TOKEN", prefix="xapp-")
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


# -- start-up checks ---------------------------------------------------------------------------


def check_settings(settings: Settings, *, socket_mode: bool) -> None:
    """Stop early, naming the variable, when a token is missing or malformed."""
    _secret(settings.slack_bot_token, "SLACK_BOT_TOKEN", prefix="xoxb-")
    if socket_mode:
        _secret(settings.slack_app_token, "SLACK_APP_TOKEN", prefix="xapp-")
    else:
        _secret(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")


def _secret(value: SecretStr | None, name: str, *, prefix: str = "") -> str:
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
        raise SlackConfigError(f"SLACK_BOT_TOKEN was rejected by Slack ({_error(exc)})") from None
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
        raise SlackConfigError(f"SLACK_APP_TOKEN was rejected by Slack ({_error(exc)})") from None
    except (TimeoutError, ClientError) as exc:
        raise SlackConfigError(f"cannot reach Slack at {client.base_url} ({type(exc).__name__})") from None


def _error(exc: SlackApiError) -> str:
    """The `error` code of a Slack API error (`invalid_auth`…), or its HTTP status when the body is not JSON."""
    data = exc.response.data
    if isinstance(data, dict):
        return str(data.get("error", "unknown_error"))
    return f"HTTP {exc.response.status_code}"
