"""The one seam every adapter uses: `await engine.answer(question)` turns a Question into an Answer."""

from __future__ import annotations

import functools
import gc
import logging
import secrets
from dataclasses import replace
from typing import NamedTuple

from bot import smalltalk
from bot.calibrate import DEFAULT_MARGIN, Calibration, Thresholds, measure, resolve
from bot.context import REFERRING, Conversations, Turn, refers_back
from bot.documents import unwrapped
from bot.knowledge import FactBase
from bot.matcher import MAX_CHARS, Candidate, Matcher, Ranking, question_type
from bot.models import Answer, Citation, Fact, Intent, Overview, Question, Status, Suggestion, byline
from bot.normalise import is_common_word, normalise
from bot.store import MemoryStore, QuestionRecord, Record, Store, WriteBehind, hash_user, now

log = logging.getLogger(__name__)

ANSWER_CACHE = 4096
"""Answers kept for questions asked again word for word (a team asks "who won?" more than once)."""

SUGGESTIONS = 5
"""Intents offered when a question is not answered: enough that the one meant is nearly always among them."""

FEATURED = 3
"""Headline questions offered with a greeting, help, or when nothing came close."""

SUGGESTION_FLOOR = 0.25
"""A candidate scoring below this share of the best one's score is no hint of what was meant."""


ASKING = frozenset("what why how which who whom whose when where".split())  # noqa: SIM905
"""Question words: a message of nothing else ("why?", "as what?") after a question asks about it."""


class Reading(NamedTuple):
    """How a question is read: its ranking, whether that ranking used the question before it, the earlier
    answer's candidate when a follow-up set it aside, and whether the follow-up is too bare to answer."""

    ranking: Ranking
    followed: bool = False
    earlier: Candidate | None = None
    bare: bool = False
    """A follow-up of question words alone that asks for no kind of answer ("why?", "as what?"): what is near
    the conversation is offered, never answered (the question before it would only be answered again)."""


class Engine:
    """Answers questions from one fact base; needs no network and no token."""

    def __init__(
        self,
        base: FactBase,
        *,
        thresholds: Thresholds | None = None,
        answer: float | None = None,
        clarify: float | None = None,
        margin: float = DEFAULT_MARGIN,
        store: Store | None = None,
        log_text: bool = True,
        salt: str | None = None,
        answer_memory: int = ANSWER_CACHE,
        calibration: Calibration | None = None,
    ) -> None:
        self.base = base
        self.writes = WriteBehind(store or MemoryStore())
        self.log_text = log_text
        self.salt = salt or secrets.token_hex(16)
        self._answers: dict[str, Answer] = {}
        self._answer_memory = answer_memory
        self._hashes: dict[tuple[str, str], str] = {}
        self.matcher = Matcher(base, reach=calibration.reach if calibration else None)
        if thresholds is None:
            calibration = calibration or Calibration(self.matcher.reach, measure(self.matcher))
            thresholds = resolve(calibration.measured, answer=answer, clarify=clarify, margin=margin)
        self.calibration = calibration
        """What was read off the fact base at start-up, or given (read off it before); None when the thresholds
        were given whole and nothing was."""
        self.thresholds = thresholds
        """The thresholds in force: those given (whole, or `answer` / `clarify`), the rest read off the fact base."""
        self.conversations = Conversations()
        self._reading_order = sorted(base.intents.values(), key=self._first_paragraph)

    @property
    def store(self) -> Store:
        """Where questions, votes and posts are kept (written behind, in batches)."""
        return self.writes.store

    @store.setter
    def store(self, store: Store) -> None:
        """Use another store from now on; what is queued still goes to the store it was queued for."""
        self.writes = WriteBehind(store)

    async def answer(self, question: Question) -> Answer:
        """Answer one question; it is logged to the store behind, in a batch, never delaying or costing the answer."""
        answer = self.respond(question.text, conversation=question.conversation)
        log.debug("answered %s question: status=%s intent=%s", question.platform, answer.status, answer.intent)
        self.writes.add(self.record(question, answer))
        return answer

    def keep(self, record: Record) -> None:
        """Write a vote or a post behind, in the next batch."""
        self.writes.add(record)

    async def drain(self) -> None:
        """Write everything answered, voted and posted so far to the store."""
        await self.writes.flush()

    async def close(self) -> None:
        """Write everything queued, then close the store (its own last flush included)."""
        await self.drain()
        await self.store.close()

    def record(self, question: Question, answer: Answer) -> QuestionRecord:
        """How the store keeps a question: the user as a salted hash, the text only if allowed."""
        who = self.user_hash(question.platform, question.who) if question.who else None
        return QuestionRecord.model_construct(  # trusted values: skip validation on the answer's path
            at=now(),
            id=None,
            platform=question.platform,
            workspace=question.workspace,
            channel=question.where,
            user_hash=who,
            text=question.text if self.log_text else None,
            status=answer.status.value,
            intent=answer.intent,
            confidence=answer.confidence,
            fact_ids=[c.fact_id for c in answer.citations],
        )

    def respond(self, text: str, *, conversation: str | None = None) -> Answer:
        """Decide what to say to `text`, read with the conversation's last question when it follows up on it."""
        previous = self.conversations.previous(conversation)
        reading = self.reading(text, previous) if previous is not None else None
        if reading is not None and reading.followed and previous is not None:
            answer = self.compose(text, reading.ranking, earlier=reading.earlier, bare=reading.bare)
            answer = answer.model_copy(update={"context": previous.text})
            topic = f"{text} {previous.topic}"[:MAX_CHARS]
        else:
            answer, topic = self._remembered(text, reading.ranking if reading else None), text
        intent = answer.intent if answer.status is Status.answered else None
        self.conversations.remember(conversation, text, intent, topic=topic)
        return answer

    def _remembered(self, text: str, ranking: Ranking | None = None) -> Answer:
        """`compose` (on `ranking` when it is already worked out), the same text asked again answered from memory."""
        if len(text) > MAX_CHARS or not self._answer_memory:  # long messages would make the memory large
            return self.compose(text, ranking)
        cached = self._answers.get(text)
        if cached is None:
            cached = self.compose(text, ranking)
            if len(self._answers) >= self._answer_memory:
                self._answers.pop(next(iter(self._answers)))  # the oldest entry
            self._answers[text] = cached
        return cached

    def reading(self, text: str, previous: Turn | None) -> Reading:
        """The ranking to decide on: of `text` alone, or with `previous` when it is a follow-up.

        A follow-up points back (`context.refers_back`) and is not answered on its own. Read with the question
        before it, it asks something new: the earlier answer's intent is set aside unless the follow-up alone
        ranks it first, or has words of its own and all of them are words that intent uses. Set aside, it is
        still offered if the follow-up is not answered ("where's he from?" may be in the answer just given).
        The reading stands if it is not a fallback, if the question alone had no word to look up ("where's he
        from?" is no small talk after a question about someone), or if the question alone is a fallback too:
        then the questions offered instead are those nearest the conversation.
        """
        alone = self.matcher.rank(text)
        if previous is None or not refers_back(text):
            return Reading(alone)
        if alone.terms and self.decide(alone) is Status.answered:
            return Reading(alone)
        words = normalise(text).split()
        if not alone.terms and REFERRING.isdisjoint(words) and ASKING.isdisjoint(words):
            return Reading(alone)  # "thanks" is small talk, not a follow-up; "and when?" asks about the last question
        if smalltalk.is_whole(words):
            return Reading(alone)  # "thanks, bye!" or "who made you?" is said to the bot, not asked of the last answer
        joined = self.matcher.rank(text, context=previous.topic)
        if set(joined.terms) <= set(alone.terms):
            return Reading(alone)  # the earlier question adds nothing: asked again, or said another way
        keep = alone.best is not None and alone.best.intent == previous.intent
        if previous.intent is not None and alone.terms and not keep:  # its words are all the earlier intent's
            keep = all(self.matcher.uses(previous.intent, t) for t in alone.terms)
        earlier = None if keep else next((c for c in joined.candidates if c.intent == previous.intent), None)
        joined = replace(joined, candidates=[c for c in joined.candidates if c is not earlier])
        if not joined.terms:
            return Reading(alone)
        if alone.terms and self.decide(joined) is Status.fallback and self.decide(alone) is not Status.fallback:
            return Reading(alone)  # a fallback read with context is no better than a clarifying question without
        bare = not alone.terms and question_type(" ".join(words)) is None
        return Reading(joined, followed=True, earlier=earlier, bare=bare)

    def compose(
        self, text: str, ranking: Ranking | None = None, *, earlier: Candidate | None = None, bare: bool = False
    ) -> Answer:
        """An answer, a clarifying question, a fallback or small talk for `text` (or for its given ranking).

        `earlier` is a candidate set aside from the decision but offered with the others if nothing is answered;
        a `bare` follow-up is never answered (see `Reading.bare`).
        """
        ranking = ranking or self.matcher.rank(text)
        status = self.status(text, ranking, bare=bare)
        best = ranking.best
        if status is Status.smalltalk:
            return self._smalltalk(text, ranking)
        if status is Status.answered and best is not None:
            return self._answered(text, ranking, best)
        if status is Status.clarify:
            return self._clarify(text, ranking, earlier)
        return self._fallback(text, ranking, earlier)

    def status(self, text: str, ranking: Ranking, *, bare: bool = False) -> Status:
        """What `text` gets on `ranking`: small talk where it has no word to look up (unless a fact base of everyday
        requests answers it by meaning), else the decision (`decide`), unless it is something said to a bot that
        the fact base does not answer ("who made you")."""
        if not ranking.terms:
            return Status.answered if self.decide(ranking, bare=bare) is Status.answered else Status.smalltalk
        status = self.decide(ranking, bare=bare)
        if status is not Status.answered and smalltalk.is_whole(normalise(text[:MAX_CHARS]).split()):
            return Status.smalltalk
        return status

    def decide(self, ranking: Ranking, *, bare: bool = False) -> Status:
        """Apply the thresholds: answered, clarify (close runner-up or middling score, or a `bare` follow-up)
        or fallback."""
        best = ranking.best
        if best is None or not (ranking.topical or self.meant(ranking)):
            return Status.fallback
        if best.meaning < self.floor(best.intent):  # shares words with the intent, not its meaning
            return Status.fallback
        agreed = self.agreed(ranking)
        if ranking.confidence < self.thresholds.clarify and not agreed:
            return Status.fallback
        runner = ranking.candidates[1] if len(ranking.candidates) > 1 else None
        close = self.tied(ranking, runner)
        sure = ranking.confidence >= self.thresholds.answer or agreed
        if sure and not bare and not (close and self.differ(best, runner)):
            return Status.answered
        return Status.clarify

    def tied(self, ranking: Ranking, runner: Candidate | None) -> bool:
        """Whether the runner-up scores within the margin of the best match, with nothing to tell them apart: where
        words and meaning agree on the best match, meaning has."""
        best = ranking.best
        close = best is not None and runner is not None and best.score - runner.score < self.thresholds.margin
        return close and not self.agreed(ranking)

    def floor(self, intent: str) -> float:
        """The meaning floor for answering with `intent`: the fact base's, or lower for an intent its own phrasings
        come less near (`Matcher.own_meaning`), since questions it answers are asked as far apart."""
        own = self.matcher.own_meaning(intent)
        return self.thresholds.meaning if own is None else min(self.thresholds.meaning, own)

    def agreed(self, ranking: Ranking) -> bool:
        """Whether words and meaning agree on the best match, where the fact base answers on that."""
        return self.thresholds.agree and ranking.meaning_lead is not None

    def meant(self, ranking: Ranking) -> bool:
        """Whether a question with no word of the source may still be answered: where words and meaning agreeing
        answer, by the intent it is nearest in meaning when it is as near as a match by meaning alone must be
        ("define ambivalence" where definitions are asked "what does X mean")."""
        best = ranking.best
        return best is not None and self.agreed(ranking) and best.meaning >= self.matcher.meaning_floor

    def overview(self) -> Overview:
        """What this engine can answer: sources, counts, topics and headline questions."""
        return Overview(
            covers=self.covers(),
            sources=list(self.base.sources.values()),
            facts=len(self.base.facts),
            intents=len(self.base.intents),
            topics={topic: len(facts) for topic, facts in self.base.topics().items()},
            try_asking=self._featured(),
        )

    # -- composing answers -------------------------------------------------------------------

    def _answered(self, text: str, ranking: Ranking, best: Candidate) -> Answer:
        """The matched intent's facts, each with its citation."""
        facts = self._facts(best.intent)
        return Answer(
            question=text[:MAX_CHARS],
            status=Status.answered,
            intent=best.intent,
            confidence=ranking.confidence,
            answer=" ".join(f.answer for f in facts),
            citations=[self.cite(f) for f in facts],
            truncated=ranking.truncated,
        )

    def _clarify(self, text: str, ranking: Ranking, earlier: Candidate | None = None) -> Answer:
        """Offer the closest intents when no single one is clearly meant."""
        best = ranking.candidates[0]
        return Answer(
            question=text[:MAX_CHARS],
            status=Status.clarify,
            intent=best.intent,
            confidence=ranking.confidence,
            answer="I'm not sure which of these you mean. Pick one, or ask again in other words.",
            suggestions=self._suggest(ranking, earlier),
            truncated=ranking.truncated,
        )

    def _fallback(self, text: str, ranking: Ranking, earlier: Candidate | None = None) -> Answer:
        """Say plainly that the fact base does not cover the question, and what it does cover."""
        return Answer(
            question=text[:MAX_CHARS],
            status=Status.fallback,
            confidence=ranking.confidence,
            answer=f"I don't know: {self._my_sources()} not say, so I won't guess. Here are questions I can answer.",
            suggestions=self._suggest(ranking, earlier),
            truncated=ranking.truncated,
        )

    def _smalltalk(self, text: str, ranking: Ranking) -> Answer:
        """Greetings, thanks and help need no fact base match."""
        kind = smalltalk.classify(normalise(text).split())
        replies = {
            "greeting": f"Hello! I answer questions about {self.covers()}, quoting it word for word.",
            "thanks": "You're welcome. Ask me anything else about it.",
            "goodbye": "Bye! Ask me again any time.",
            "capabilities": f"I answer questions about {self.covers()}. Every answer quotes its "
            "source and names the paragraph; when the source does not say, I tell you so.",
        }
        return Answer(
            question=text[:MAX_CHARS],
            status=Status.smalltalk,
            intent=kind.id,
            confidence=1.0,
            answer=replies[kind.id],
            suggestions=[] if kind in (smalltalk.THANKS, smalltalk.GOODBYE) else self._featured(),
            truncated=ranking.truncated,
        )

    # -- helpers --------------------------------------------------------------------------------

    def user_hash(self, platform: str, user: str) -> str:
        """`hash_user`, remembered for the people who ask most."""
        key = (platform, user)
        if key not in self._hashes:
            if len(self._hashes) >= ANSWER_CACHE:
                self._hashes.clear()
            self._hashes[key] = hash_user(platform, user, salt=self.salt)
        return self._hashes[key]

    @functools.cached_property
    def _covers(self) -> str:
        sources = list(self.base.sources.values())
        if len(sources) == 1:
            author, *publisher = byline(sources[0].author, sources[0].publisher)
            return f"“{sources[0].title}” by {author}" + "".join(f" ({p})" for p in publisher)
        return f"my {len(sources)} sources"

    def covers(self) -> str:
        """What the fact base is about, in a few words: its source's title, or a count."""
        return self._covers

    def _my_sources(self) -> str:
        """ "my source does" or "my sources do", as the fact base has one source or several."""
        return "my source does" if len(self.base.sources) == 1 else "my sources do"

    def cite(self, fact: Fact) -> Citation:
        """The citation of one fact: its source record, verbatim quote and paragraph."""
        source = self.base.sources[fact.source]
        passage = None if fact.record else self.base.documents[fact.source].find(fact.quote)
        return Citation(
            fact_id=fact.id,
            source_id=source.id,
            title=source.title,
            author=source.author,
            publisher=source.publisher,
            url=source.url,
            quote=unwrapped(fact.quote),
            paragraph=passage.paragraph if passage else None,
            note=fact.curator_note,
        )

    def _first_paragraph(self, intent: Intent) -> int:
        """The earliest body paragraph an intent's facts quote (header and record facts last)."""
        paragraphs = [self.cite(self.base.facts[f]).paragraph for f in intent.facts]
        return min((p for p in paragraphs if p is not None), default=10**6)

    def _facts(self, intent_id: str) -> list[Fact]:
        """The facts an intent answers with."""
        return [self.base.facts[f] for f in self.base.intents[intent_id].facts]

    def differ(self, best: Candidate, runner: Candidate | None) -> bool:
        """Whether two candidates would give different answers."""
        return runner is not None and set(self.base.intents[best.intent].facts) != set(
            self.base.intents[runner.intent].facts
        )

    def _suggest(self, ranking: Ranking, earlier: Candidate | None = None) -> list[Suggestion]:
        """The closest intents by score, then, to make up `SUGGESTIONS`, those nearest in meaning (a question put
        in other words than its intent's shares few words with it, or none); featured ones when there are neither.
        On a fact base of everyday requests, where meaning ranks them better than shared words, the nearest in
        meaning come straight after the best match.

        `earlier` (the answer just given, set aside by a follow-up) comes last, if it scores as close as the others.
        """
        top = max((c.score for c in [*ranking.candidates, *([earlier] if earlier else [])]), default=0.0)
        close = [c.intent for c in ranking.candidates if c.score >= SUGGESTION_FLOOR * top]
        order = [*close[:1], *ranking.nearest, *close] if self.matcher.everyday else [*close, *ranking.nearest]
        shown = [i for i in dict.fromkeys(order) if earlier is None or i != earlier.intent]
        if earlier is not None and earlier.score >= SUGGESTION_FLOOR * top:
            shown = [*shown[: SUGGESTIONS - 1], earlier.intent]
        if not shown:
            return self._featured()
        return [Suggestion(intent=i, question=self.base.intents[i].question) for i in shown[:SUGGESTIONS]]

    def _featured(self) -> list[Suggestion]:
        """Headline questions: the intents whose facts come first in their source's body."""
        return [Suggestion(intent=i.id, question=i.question) for i in self._reading_order[:FEATURED]]


YOUNG_COLLECTION = 20_000
"""Allocations between two young collections in a settled process (Python's default, 700, suits scripts: a
server making a few hundred short-lived objects a request would collect on almost every one)."""


def settle() -> None:
    """Tell the garbage collector that everything loaded so far (the fact base, the matcher's indexes and
    vectors: over 100,000 objects) lives as long as the process. A long-running bot then never pays for
    walking them in a full collection: about 40 ms each time, stalling every request in flight.

    The English words that tell a typo from a word are loaded first: a start that read its calibration from
    the cache has not needed them yet, and the first question with a word to correct would wait on them."""
    is_common_word("the")
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_COLLECTION), middle, old)
