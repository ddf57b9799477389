"""The chat service: what Factbot does for a question, a command, a click or a vote, on any platform.

Adapters parse a platform's event, call one method here and render the neutral `Reply` it returns. Nothing
here waits on the database or the network before a reply, except where the method says so (the digest's
preview reads the question log: adapters call it after their acknowledgement).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date

from bot.chat import messages
from bot.chat.commands import ASK, DIGEST, WHY, Command
from bot.chat.offers import Offers
from bot.chat.repeats import Repeats
from bot.chat.replies import Answered, Help, Notice, NoTopic, Preview, Reply, TopicFacts, Topics, Why
from bot.digest import DigestRequest, Subscriptions, collect_digest, describe, subscription
from bot.engine import Engine
from bot.explain import LastAsked, explain
from bot.models import Question
from bot.settings import ConfigError, Settings
from bot.store import FeedbackRecord, Vote

log = logging.getLogger(__name__)


class ChatService:
    """Factbot's behaviour on one platform, around one engine; every adapter holds one."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        platform: str,
        who_may_manage: str = "the channel's managers",
        subscriptions: Subscriptions | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.platform = platform
        self.who_may_manage = who_may_manage
        self.subscriptions: Subscriptions = subscriptions or engine.store
        self.repeats = Repeats(engine, platform=platform, window_minutes=settings.repeat_window_minutes)
        self.last_asked = LastAsked()
        self.offers = Offers()

    # -- questions ----------------------------------------------------------------------------

    async def ask(self, question: Question, *, in_channel: bool, name_asker: bool = True) -> Reply:
        """Answer a question. In a channel, the answer is for everyone, unless the channel was given the same
        answer within the repeat window: then it goes to the asker alone, pointing to the earlier one."""
        picked = self.offers.picked(question.conversation, question.text)
        if picked is not None:  # "2" after a clarifying question: the second question offered
            question = question.model_copy(update={"text": picked.question})
        where = question.where
        if where is not None:
            self.last_asked.remember(where, question.text, self.engine.conversations.previous(question.conversation))
        answer = await self.engine.answer(question)
        self.offers.remember(question.conversation, answer.suggestions)
        log.debug("%s: answered: status=%s intent=%s", self.platform, answer.status.value, answer.intent)
        facts = self.repeats.followed(answer) if in_channel and where is not None else ()
        self.repeats.refresh_soon()  # the store is read in the background, never before a reply
        earlier = self.repeats.earlier(where, facts) if where is not None else None
        if earlier is not None:
            return Reply(Answered(answer, earlier=earlier))
        return Reply(Answered(answer, asker=question.who if name_asker else None), private=False, facts=facts)

    def question(self, text: str, *, who: str | None, where: str | None, conversation: str | None = None) -> Question:
        """A question asked on this platform."""
        return Question(text=text, who=who, where=where, platform=self.platform, conversation=conversation)

    def posted(self, where: str, reply: Reply, link: str) -> None:
        """A channel answer was posted at `link` ("" when it has none): remember it for repeats."""
        self.repeats.remember(where, reply.facts, link)

    async def suggestion(
        self, intent: str, *, who: str | None, where: str | None, conversation: str | None = None
    ) -> Reply:
        """A suggested question clicked: its answer (for the channel, or for the clicker where said so), read in
        the clicker's `conversation` when the platform keeps one."""
        found = self.engine.base.intents.get(intent)
        if found is None:
            return Reply(Notice(messages.SUGGESTION_GONE))
        question = self.question(found.question, who=who, where=where, conversation=conversation)
        return await self.ask(question, in_channel=False)

    def vote(self, vote: Vote, *, answer_key: str | None, who: str | None, intent: str, facts: list[str]) -> Reply:
        """A 👍 or 👎 on an answer: kept (one per person and answer, written behind), and thanked privately."""
        if not (answer_key and who):
            log.warning("%s: a vote without its message or voter was not kept", self.platform)
            return Reply(Notice(messages.VOTE_NOT_KEPT))
        known = self.engine.base.intents.get(intent)
        record = FeedbackRecord(
            answer_key=answer_key,
            platform=self.platform,
            user_hash=self.engine.user_hash(self.platform, who),
            vote=vote,
            intent=intent,
            fact_ids=facts or (list(known.facts) if known else []),
        )
        self.engine.keep(record)
        log.info("%s: feedback %s for intent %r", self.platform, vote, intent[:100])
        return Reply(Notice(messages.thanks(vote)))

    # -- commands -----------------------------------------------------------------------------

    def why(self, text: str, *, where: str | None) -> Reply:
        """Why `text` (or, when empty, the last question asked in `where`) got the answer it got."""
        asked = text.strip()
        last = self.last_asked.last(where) if where is not None and not asked else None
        if not (asked or last):
            ask = self._typed(ASK) if self.platform in ASK.platforms else None
            return Reply(Notice(messages.nothing_to_explain(ask, self._typed(WHY))))
        previous = self.last_asked.before(where) if where is not None and not asked else None
        return Reply(Why(explain(self.engine, asked or last or "", previous)))

    def facts(self, topic: str) -> Reply:
        """The topics, or the facts on one topic."""
        wanted = " ".join(topic.lower().split())
        topics = self.engine.base.topics()
        if not wanted:
            return Reply(Topics({name: len(facts) for name, facts in topics.items()}))
        if wanted not in topics:
            return Reply(NoTopic(wanted, list(topics)))
        return Reply(TopicFacts(wanted, [(fact.answer, self.engine.cite(fact)) for fact in topics[wanted]]))

    def help(self) -> Reply:
        """What Factbot knows, where it comes from, and how to ask."""
        return Reply(Help(self.engine.overview()))

    async def digest(
        self,
        request: DigestRequest,
        *,
        channel: str | None,
        workspace: str | None = None,
        may_manage: Callable[[], Awaitable[bool]],
    ) -> Reply:
        """`/digest`: today's preview (it reads the question log), or the channel's subscription changed by
        someone who may (`may_manage` may ask the platform: call this after acknowledging)."""
        if request.action == "preview":
            digest = await collect_digest(
                self.engine,
                channel=channel or self.platform,
                platform=self.platform,
                day=date.today(),
                curators=request.curators,
            )
            return Reply(Preview(digest))
        if channel is None:
            return Reply(Notice(messages.digest_needs_a_channel(self._typed(DIGEST, request.action))))
        if not await may_manage():
            return Reply(Notice(messages.not_allowed(self.who_may_manage)))
        try:
            said = await self._change(request, channel=channel, workspace=workspace)
        except ConfigError as exc:  # the database is away: one line for the log, a plain one for the person
            log.warning("%s: could not change the digest of %s: %s", self.platform, channel, exc)
            said = messages.store_unavailable()
        return Reply(Notice(said))

    async def _change(self, request: DigestRequest, *, channel: str, workspace: str | None) -> str:
        """Subscribe or unsubscribe `channel`; what to tell the person."""
        log.info("%s: digest %s in %s", self.platform, request.action, channel)
        if request.action == "unsubscribe":
            had = await self.subscriptions.unsubscribe(self.platform, channel)
            return messages.unsubscribed(had, subscribe=self._typed(DIGEST, "subscribe"))
        sub = subscription(
            request, platform=self.platform, channel=channel, settings=self.settings, workspace=workspace
        )
        await self.subscriptions.subscribe(sub)
        return messages.subscribed(describe(sub), unsubscribe=self._typed(DIGEST, "unsubscribe"))

    def _typed(self, command: Command, value: str = "") -> str:
        """A command as typed on this platform."""
        return command.typed(self.settings, platform=self.platform, value=value)
