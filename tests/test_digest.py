"""The digest's content: a fact of the day that walks through every fact, and a question to try."""

from __future__ import annotations

from datetime import date, timedelta

from bot.digest import build_digest, digest_text
from bot.engine import Engine


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
