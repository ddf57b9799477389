"""A realistic week of questions for a first look at the reports, the digest and the charts, without a workspace.

The questions are the fact base's own example phrasings (most of them answered), questions it cannot answer
(from the project's out-of-scope bank), and a few typos, asked by a dozen people in three channels on two
platforms, more on weekdays and in working hours; some answers get a 👍 or a 👎. Everything is decided by the
engine, as it would be in chat; a seed, a salt of its own for the people and a last day make the week the same
every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.bank import bank as out_of_scope_bank
from bot.engine import Engine
from bot.models import Question, Status
from bot.store import FeedbackRecord, QuestionRecord, hash_user, now

PLACES = (("slack", "C0GENERAL"), ("slack", "C0POLICY"), ("discord", "300"))
PEOPLE = 12
PER_WEEKDAY = 60
PER_WEEKEND_DAY = 12
OFF_TOPIC = 0.2
"""The share of questions the fact base cannot answer."""
VOTED = 0.15
"""The share of answers someone votes on."""
DOWN = 0.2
"""The share of votes that are 👎."""
SALT = "factbot-demo"
"""The people's hashes are the same in every demo log (the engine's own salt may be random)."""


@dataclass(frozen=True)
class Week:
    """The questions and votes of a demo week."""

    questions: list[QuestionRecord]
    votes: list[FeedbackRecord]


def demo_week(engine: Engine, *, days: int = 7, seed: int = 7, until: datetime | None = None) -> Week:
    """`days` whole days (UTC) of questions and votes before the day `until` (now) falls in, as people would have
    asked them."""
    pick = random.Random(seed)
    end = until or now()
    phrasings = [example for intent in engine.base.intents.values() for example in intent.examples]
    unanswerable = out_of_scope_bank()
    questions: list[QuestionRecord] = []
    votes: list[FeedbackRecord] = []
    for back in range(days, 0, -1):
        day = (end - timedelta(days=back)).replace(hour=0, minute=0, second=0, microsecond=0)
        count = PER_WEEKDAY if day.weekday() < 5 else PER_WEEKEND_DAY
        for _ in range(pick.randint(count * 2 // 3, count)):
            at = (day + timedelta(hours=pick.triangular(8, 18, 11), minutes=pick.random() * 60)).replace(microsecond=0)
            text = pick.choice(unanswerable) if pick.random() < OFF_TOPIC else _typed(pick, pick.choice(phrasings))
            record = _asked(engine, pick, text, at)
            questions.append(record)
            if record.status == Status.answered.value and record.intent and pick.random() < VOTED:
                votes.append(_voted(pick, record, len(questions)))
    return Week(questions, votes)


def end_of(day: date) -> datetime:
    """The end of `day` (UTC): the midnight after it, so that a week ending then has `day` as its last day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def _typed(pick: random.Random, text: str) -> str:
    """A phrasing as typed in a hurry now and then: lower case, a letter dropped."""
    if pick.random() < 0.3:
        text = text.lower().rstrip("?")
    if pick.random() < 0.1 and len(text) > 8:
        cut = pick.randrange(1, len(text) - 1)
        text = text[:cut] + text[cut + 1 :]
    return text


def _asked(engine: Engine, pick: random.Random, text: str, at: datetime) -> QuestionRecord:
    """One question as the log keeps it, answered by the engine."""
    platform, channel = pick.choice(PLACES)
    who = f"demo-person-{pick.randrange(PEOPLE)}"
    answer = engine.respond(text)
    question = Question(text=text, who=who, where=channel, platform=platform)
    who_hash = hash_user(platform, who, salt=SALT)
    return engine.record(question, answer).model_copy(update={"at": at, "user_hash": who_hash})


def _voted(pick: random.Random, record: QuestionRecord, number: int) -> FeedbackRecord:
    """A 👍 (mostly) or a 👎 on an answer, a little after it was given."""
    return FeedbackRecord(
        answer_key=f"{record.channel}:demo-{number}",
        at=record.at + timedelta(minutes=pick.randint(1, 30)),
        platform=record.platform,
        user_hash=record.user_hash or "demo",
        vote="down" if pick.random() < DOWN else "up",
        intent=record.intent,
        fact_ids=record.fact_ids,
    )
