"""The digest's content: the fact of the day, what the channel asked and missed, a question to try; subscribing."""

from __future__ import annotations

import copy
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import available_timezones

import pytest

from bot.digest import (
    Digest,
    DigestRequest,
    Subscription,
    build_digest,
    collect_digest,
    describe,
    digest_text,
    first_sentence,
    parse_request,
    subscription,
    timezones,
)
from bot.engine import Engine
from bot.settings import Settings
from bot.store import MemoryStore, QuestionRecord


def test_each_channel_sees_every_fact_before_any_repeats(engine: Engine) -> None:
    start = date(2026, 1, 1)
    n = len(engine.base.facts)
    seen = [build_digest(engine, channel="C1", day=start + timedelta(days=i)).fact.fact_id for i in range(n)]
    assert sorted(seen) == sorted(engine.base.facts)


def test_order_is_not_the_file_order_and_differs_per_channel(engine: Engine) -> None:
    start = date(2026, 1, 1)
    days = [start + timedelta(days=i) for i in range(len(engine.base.facts))]
    first = [build_digest(engine, channel="C1", day=d).fact.fact_id for d in days]
    second = [build_digest(engine, channel="C2", day=d).fact.fact_id for d in days]
    assert first != second
    assert sorted(first, key=first.index) != list(engine.base.facts)


def test_try_asking_avoids_what_the_channel_asked(engine: Engine) -> None:
    asked = frozenset(list(engine.base.intents)[:-1])
    digest = build_digest(engine, channel="C1", day=date(2026, 5, 1), asked_intents=asked)
    assert digest.try_asking.intent == list(engine.base.intents)[-1]


def test_plain_text_holds_the_quote_and_a_question(engine: Engine) -> None:
    digest = build_digest(engine, channel="C1", day=date(2026, 5, 1))
    text = digest_text(digest)
    assert digest.fact.quote in text
    assert f"Try asking: {digest.try_asking.question}" in text


# -- what the channel asked, read from the store ------------------------------------------------

MOMENT = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def fresh(engine: Engine) -> Engine:
    """The shipped engine on an empty store of its own."""
    copied = copy.copy(engine)
    copied.store = MemoryStore()
    return copied


async def ask(
    engine: Engine,
    intent: str | None,
    *,
    status: str = "answered",
    channel: str = "C1",
    platform: str = "slack",
    hours_ago: float = 1,
    text: str = "q",
    times: int = 1,
) -> None:
    """Log `times` questions as the adapters would, `hours_ago` before MOMENT."""
    for _ in range(times):
        await engine.store.log_question(
            QuestionRecord(
                at=MOMENT - timedelta(hours=hours_ago),
                platform=platform,
                channel=channel,
                text=text,
                status=status,
                intent=intent,
            )
        )


async def collect(engine: Engine, **options: object) -> Digest:
    return await collect_digest(engine, channel="C1", platform="slack", day=MOMENT.date(), until=MOMENT, **options)  # type: ignore[arg-type]


async def test_the_top_three_answered_intents_of_the_last_day_with_one_line_each(fresh: Engine) -> None:
    intents = list(fresh.base.intents)
    for n, intent in enumerate(intents[:4]):
        await ask(fresh, intent, times=4 - n)
    await ask(fresh, intents[5], hours_ago=30, times=9)  # older than a day
    await ask(fresh, intents[5], channel="C2", times=9)  # another channel
    await ask(fresh, intents[5], platform="discord", times=9)  # another platform, same id
    await ask(fresh, intents[5], status="clarify", times=9)  # not answered
    digest = await collect(fresh)
    assert [(a.question, a.count) for a in digest.asked] == [
        (fresh.base.intents[i].question, 4 - n) for n, i in enumerate(intents[:3])
    ]
    for item, intent in zip(digest.asked, intents, strict=False):
        facts = " ".join(fresh.base.facts[f].answer for f in fresh.base.intents[intent].facts)
        assert item.answer == first_sentence(facts) and facts.startswith(item.answer)
    assert digest.unanswered == []


async def test_curators_get_the_unanswered_groups_of_the_day(fresh: Engine) -> None:
    await ask(fresh, None, status="fallback", text="What is the capital of Mars?", times=3)
    await ask(fresh, None, status="fallback", text="what's the capital of mars", times=1)
    await ask(fresh, None, status="fallback", text="Who bakes the best bread?", times=1)
    await ask(fresh, None, status="fallback", text="Old question", hours_ago=48)
    assert (await collect(fresh)).unanswered == []
    digest = await collect(fresh, curators=True)
    assert [(a.question, a.count) for a in digest.unanswered] == [
        ("What is the capital of Mars?", 4),
        ("Who bakes the best bread?", 1),
    ]


async def test_try_asking_is_never_a_question_the_channel_asked_before(fresh: Engine) -> None:
    intents = list(fresh.base.intents)
    for intent in intents[:-1]:
        await ask(fresh, intent, hours_ago=24 * 30)  # long ago still counts as asked
    digest = await collect(fresh)
    assert digest.try_asking.intent == intents[-1]
    assert digest.asked == []


async def test_a_quiet_day_still_gets_the_fact_and_a_question(fresh: Engine) -> None:
    digest = await collect(fresh, curators=True)
    assert digest == build_digest(fresh, channel="C1", day=MOMENT.date())
    assert digest.fact.quote and digest.try_asking.question


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("One. Two.", "One."),
        ("The U.S. vote was 5.5 per cent. Next.", "The U.S. vote was 5.5 per cent."),
        ("No full stop", "No full stop"),
        ("Is it? “Yes.”", "Is it?"),
        ("  spaced \n out.  More", "spaced out."),
    ],
)
def test_first_sentence(text: str, first: str) -> None:
    assert first_sentence(text) == first


# -- subscribing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", DigestRequest()),
        ("preview --curators", DigestRequest(curators=True)),
        ("subscribe", DigestRequest(action="subscribe")),
        ("SUBSCRIBE 8:30", DigestRequest(action="subscribe", at=time(8, 30))),
        (
            "subscribe europe/london 17:05 --curators",
            DigestRequest(action="subscribe", at=time(17, 5), timezone="Europe/London", curators=True),
        ),
        ("subscribe America/New_York", DigestRequest(action="subscribe", timezone="America/New_York")),
        ("unsubscribe", DigestRequest(action="unsubscribe")),
    ],
)
def test_digest_commands_are_read(text: str, expected: DigestRequest) -> None:
    assert parse_request(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("weekly", "Unknown digest command “weekly”"),
        ("subscribe 25:00", "“25:00” is not a time: write it as HH:MM"),
        ("subscribe 9.30", "“9.30” is not a time zone"),
        ("subscribe 09:00 10:00", "“10:00” is one word too many"),
        ("subscribe Mars/Olympus", "“Mars/Olympus” is not a time zone: use an Area/City name"),
        ("subscribe UTC Europe/Paris", "“Europe/Paris” is one word too many"),
        ("unsubscribe now", "“now” is not understood here"),
    ],
)
def test_bad_digest_commands_get_one_clear_line(text: str, says: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(says)) as error:
        parse_request(text)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("typed", "first"),
    [("lond", "Europe/London"), ("america/new", "America/New_York"), ("", "Africa/Abidjan"), ("utc", "UTC")],
)
def test_time_zones_autocomplete(typed: str, first: str) -> None:
    found = timezones(typed)
    assert found[0] == first and len(found) <= 25
    assert all(name in available_timezones() for name in found)


def test_subscriptions_default_to_nine_utc(tmp_path: Path) -> None:
    sub = subscription(DigestRequest(action="subscribe"), platform="slack", channel="C1", settings=Settings())
    assert (sub.at, sub.timezone, sub.curators) == (time(9, 0), "UTC", False)
    assert describe(sub) == "every day at 09:00 (UTC)"
    chosen = DigestRequest(action="subscribe", at=time(7, 5), timezone="Asia/Tokyo", curators=True)
    sub = subscription(chosen, platform="discord", channel="42", settings=Settings(), workspace="111")
    assert sub == Subscription(
        platform="discord", channel="42", workspace="111", at=time(7, 5), timezone="Asia/Tokyo", curators=True
    )
    assert describe(sub) == "every day at 07:05 (Asia/Tokyo), with what is not answered yet"
