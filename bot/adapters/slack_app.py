"""The Slack adapter: slash commands, mentions, DMs and buttons become chat-service calls; replies become Block Kit.

Built on slack-bolt's AsyncApp; `bot.adapters.slack_run` builds the app and serves it (HTTP or Socket Mode).
Slash commands are answered inside their acknowledgement; whatever needs the Web API or the database (posting,
the digest, the check of who may change it) happens after the ack, through the shared session in `slack_web`.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from aiohttp import ClientSession
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_blocks import DIGEST_TRY, FEEDBACK, SUGGEST, Message, plain, read_vote
from bot.adapters.slack_messages import render
from bot.adapters.slack_payloads import ButtonClick, MessageEvent, SlashCommand
from bot.adapters.slack_web import may_manage, permalink, post, post_ephemeral, respond, web_call
from bot.chat import messages
from bot.chat.commands import SLACK, on
from bot.chat.recent import Recent
from bot.chat.replies import Notice, Reply
from bot.chat.service import ChatService
from bot.digest import parse_request

log = logging.getLogger(__name__)

EVENT_TTL = timedelta(hours=1)
"""How long a handled event id is kept: Slack retries a delivery three times within minutes."""
WHO_MAY_MANAGE = "workspace admins and this channel's creator"
SORRY = Reply(Notice(messages.SORRY))


class SlackAdapter:
    """Bolt listeners around one chat service: Slack inputs become service calls, replies become messages."""

    def __init__(self, service: ChatService, *, session: ClientSession) -> None:
        self.service = service
        self.session = session
        self.recent = Recent(ttl=EVENT_TTL.total_seconds())
        self.workspace_url: str | None = None

    def register(self, app: AsyncApp) -> None:
        """Attach the listeners and the error handler to `app`."""
        for command in on(SLACK):  # the one command table: /ask → on_ask, and so on
            app.command(f"/{command.name(self.service.settings)}")(getattr(self, f"on_{command.key}"))
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.action(re.compile(f"^{SUGGEST}"))(self.on_suggest)
        app.action(re.compile(f"^{FEEDBACK}"))(self.on_feedback)
        app.error(self.on_error)

    def render(self, reply: Reply) -> Message:
        """A neutral reply as Block Kit."""
        return render(reply, settings=self.service.settings, about=self.service.engine.covers())

    # slash commands: answered inside the acknowledgement

    async def on_ask(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """`/ask <question>`: the answer for the whole channel (a repeat: for the asker alone); help when empty."""
        slash = SlashCommand.model_validate(command)
        question = slash.question()
        try:
            reply = (
                await self.service.ask(question, in_channel=not slash.in_dm) if question.text else self.service.help()
            )
        except Exception:
            log.exception("Slack: could not answer /ask")
            reply = SORRY
        await self._ack(ack, reply)
        if reply.facts:
            self.service.posted(slash.channel_id, reply, "")  # a reply in the ack has no ts to link to

    async def on_facts(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """`/facts [topic]`: the topics, or the facts of one, for the asker only."""
        await self._ack(ack, self.service.facts(plain(command.get("text", ""))))

    async def on_why(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """`/why [question]`: why the channel's last answer (or the question given) came out as it did."""
        slash = SlashCommand.model_validate(command)
        await self._ack(ack, self.service.why(slash.question().text, where=slash.channel_id or None))

    async def on_help(self, ack: AsyncAck) -> None:
        """`/factbot`: help, sources and counts, for the asker only."""
        await self._ack(ack, self.service.help())

    async def on_digest(
        self, ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, request: AsyncBoltRequest
    ) -> None:
        """`/digest [subscribe [HH:MM] [Area/City] [--curators] | unsubscribe]`, answered after an empty ack.

        The preview reads the question log and a change asks Slack who may make it: neither may delay the ack.
        A change is made once however often its signed request is replayed, on any replica (claimed after the ack).
        """
        slash = SlashCommand.model_validate(command)
        try:
            wanted = parse_request(plain(slash.text))
        except ValueError as exc:
            await self._ack(ack, Reply(Notice(str(exc))))
            return
        await ack()
        signature = request.headers.get("x-slack-signature", [""])[0]
        if wanted.action != "preview" and signature and not await self._first_delivery(f"signature:{signature}"):
            return
        try:
            reply = await self.service.digest(
                wanted,
                channel=None if slash.in_dm else slash.channel_id,
                workspace=slash.team_id,
                may_manage=lambda: may_manage(client, user=slash.user_id, channel=slash.channel_id),
            )
        except Exception:
            log.exception("Slack: could not answer /digest")
            reply = SORRY
        if slash.response_url:
            await respond(self.session, slash.response_url, self.render(reply), response_type="ephemeral")

    async def _ack(self, ack: AsyncAck, reply: Reply) -> None:
        """Acknowledge a slash command with its reply."""
        message = self.render(reply)
        await ack(
            text=message.text,
            blocks=message.blocks,
            response_type="ephemeral" if reply.private else "in_channel",
            unfurl_links=False,
            unfurl_media=False,
        )

    # events: acknowledged by bolt at once, answered with chat.postMessage

    async def on_mention(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """A mention in a channel: answered in a thread under the question."""
        message = MessageEvent.model_validate(event)
        if message.channel.startswith("D") or not message.from_person(context.bot_user_id):
            return  # DMs are answered by on_message; bots and edits never
        await self._answer_event(client, message, body, context.bot_user_id, thread_ts=message.thread_ts or message.ts)

    async def on_message(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """A direct message: answered in the DM (in its thread, if it was written in one)."""
        message = MessageEvent.model_validate(event)
        if message.channel_type == "im" and message.from_person(context.bot_user_id):
            await self._answer_event(client, message, body, context.bot_user_id, thread_ts=message.thread_ts)

    async def _answer_event(
        self,
        client: AsyncWebClient,
        event: MessageEvent,
        body: dict[str, Any],
        bot_user: str | None,
        *,
        thread_ts: str | None,
    ) -> None:
        if not await self._first_delivery(body.get("event_id")):
            return
        in_channel = not (event.channel_type == "im" or event.channel.startswith("D"))
        try:
            question = event.question(bot_user)
            await self.service.repeats.refresh()  # bolt has acked the event: reading the store delays nobody
            reply = await self.service.ask(question, in_channel=in_channel, name_asker=False)
        except Exception:
            log.exception("Slack: could not answer a %s event", event.type)
            reply = SORRY
        message = self.render(reply)
        if reply.private and in_channel and event.user:  # a repeat: the asker's alone
            await post_ephemeral(client, channel=event.channel, user=event.user, thread_ts=thread_ts, message=message)
            return
        ts = await post(client, channel=event.channel, thread_ts=thread_ts, message=message)
        if ts is not None and reply.facts:
            base = await self._workspace_url(client)
            self.service.posted(event.channel, reply, permalink(base, event.channel, ts, thread_ts) if base else "")

    async def _first_delivery(self, event_id: object) -> bool:
        """Whether a delivery (an event id, a request's signature) is new: not taken here or by another replica.
        It comes after the ack, so the store's claim delays nobody; a store that is down costs no answer."""
        if not isinstance(event_id, str):
            return True
        first = not self.recent.seen(event_id)
        if first:
            try:
                first = await self.service.engine.store.claim_event(event_id, ttl=EVENT_TTL)
            except Exception as exc:  # the store is best effort: answer rather than drop
                log.warning(
                    "Slack: could not claim event %s in the store (%s); deduplicating in this process only",
                    event_id,
                    type(exc).__name__,
                )
        if not first:
            log.info("Slack: event %s already handled; dropped the retry", event_id)
        return first

    async def _workspace_url(self, client: AsyncWebClient) -> str | None:
        """The workspace's URL from auth.test, asked once (after an ack, never before one)."""
        if self.workspace_url is None:
            response = await web_call("auth.test", "the workspace", client.auth_test())
            url = response.get("url") if response is not None else None
            self.workspace_url = url if isinstance(url, str) else None
        return self.workspace_url

    # buttons

    async def on_suggest(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A suggested question clicked: its answer replaces the message that offered it (a digest's stays)."""
        await ack()
        click = ButtonClick.parse(body)
        try:
            reply = await self.service.suggestion(click.value, who=click.user, where=click.channel)
        except Exception:
            log.exception("Slack: could not answer a suggestion")
            reply = SORRY
        if click.action_id == DIGEST_TRY:  # the digest stays for the channel; the answer is the clicker's
            await self._deliver(client, click, self.render(reply), replace_original=False, response_type="ephemeral")
        else:
            await self._deliver(client, click, self.render(reply), replace_original=True)

    async def on_feedback(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """👍 / 👎 under an answer: acknowledged, kept (one vote per person and answer), thanked privately."""
        await ack()
        click = ButtonClick.parse(body)
        vote = read_vote(click.value)
        if vote is None:
            log.warning("Slack: feedback button with an unknown value was ignored")
            return
        key = f"{click.channel}:{click.message_ts}" if click.channel and click.message_ts else None
        reply = self.service.vote(vote.vote, answer_key=key, who=click.user, intent=vote.intent, facts=vote.facts)
        if click.response_url:  # a thank-you is only ever shown to the voter
            message = self.render(reply)
            await respond(self.session, click.response_url, message, replace_original=False, response_type="ephemeral")

    async def _deliver(self, client: AsyncWebClient, click: ButtonClick, message: Message, **options: Any) -> None:
        """Reply to a click through its `response_url`, or in the message's thread when it has none."""
        if click.response_url:
            await respond(self.session, click.response_url, message, **options)
        elif click.channel:
            await post(client, channel=click.channel, thread_ts=click.thread_ts or click.message_ts, message=message)

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        """Whatever escaped a listener: logged with its kind, never shown to the user as a traceback."""
        kind = body.get("type") or body.get("command") or "request"
        log.error("Slack: a %s listener failed: %s", kind, type(error).__name__, exc_info=error)
