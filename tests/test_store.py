"""The store interface as the engine uses it, on the in-memory store."""

from __future__ import annotations

from datetime import timedelta

from bot.engine import Engine
from bot.models import Question
from bot.store import FeedbackRecord, MemoryStore, PostRecord, hash_user, now


async def test_engine_logs_each_question_with_a_hashed_user(shipped) -> None:  # type: ignore[no-untyped-def]
    store = MemoryStore()
    engine = Engine(shipped, store=store, salt="pepper")
    await engine.answer(Question(text="ismailov votes", who="U123", where="C1", platform="slack"))
    await engine.drain()
    [record] = await store.questions()
    assert (record.status, record.intent, record.text, record.channel) == (
        "answered",
        "loser-votes",
        "ismailov votes",
        "C1",
    )
    assert record.user_hash == hash_user("slack", "U123", salt="pepper") and "U123" not in record.user_hash
    assert record.fact_ids == ["loser-votes"]


async def test_question_text_is_not_kept_when_logging_is_off(shipped) -> None:  # type: ignore[no-untyped-def]
    store = MemoryStore()
    engine = Engine(shipped, store=store, log_text=False)
    await engine.answer(Question(text="who won?"))
    await engine.drain()
    [record] = await store.questions()
    assert record.text is None and record.status


async def test_a_failing_store_never_costs_the_answer(shipped) -> None:  # type: ignore[no-untyped-def]
    class Broken(MemoryStore):
        async def log_question(self, record):  # type: ignore[no-untyped-def]
            raise OSError("disk gone")

    engine = Engine(shipped, store=Broken())
    answer = await engine.answer(Question(text="ismailov votes"))
    await engine.drain()
    assert answer.status.value == "answered"


async def test_one_vote_per_user_per_answer() -> None:
    store = MemoryStore()
    for vote in ("up", "down"):
        await store.record_feedback(FeedbackRecord(answer_key="m1", platform="slack", user_hash="h", vote=vote))
    assert [f.vote for f in await store.feedback()] == ["down"]


async def test_events_are_claimed_once_within_their_ttl() -> None:
    store = MemoryStore()
    assert await store.claim_event("Ev1", ttl=timedelta(hours=1)) is True
    assert await store.claim_event("Ev1", ttl=timedelta(hours=1)) is False
    assert await store.claim_event("Ev1", ttl=timedelta(0)) is True


async def test_recent_post_finds_the_latest_answer_citing_a_fact() -> None:
    store = MemoryStore()
    await store.remember_post(PostRecord(platform="slack", channel="C1", fact_ids=["f1"], link="https://x/1"))
    found = await store.recent_post(platform="slack", channel="C1", fact_id="f1", since=now() - timedelta(minutes=30))
    assert found is not None and found.link == "https://x/1"
    assert (
        await store.recent_post(platform="slack", channel="C2", fact_id="f1", since=now() - timedelta(minutes=30))
        is None
    )
