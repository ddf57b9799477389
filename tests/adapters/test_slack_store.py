"""Slack and the store: votes kept once per person and answer, events deduplicated across replicas, repeated
answers sent to their asker alone; the real slack-bolt against FakeSlack on loopback."""

from __future__ import annotations

import copy
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.adapters.slack_blocks import VoteValue
from bot.engine import Engine
from bot.knowledge import FactBase
from bot.store import FeedbackRecord, MemoryStore, PostRecord, hash_user, now
from tests.adapters.conftest import Slack, WatchedStore, serving, settings_for
from tests.adapters.test_slack_http import live_mentions, section_texts
from tests.fakes.slack import (
    BOT_USER,
    HUMAN,
    FakeSlack,
    app_mention,
    block_actions,
    form_body,
    im_message,
    permalink,
    slash_form,
)

CHANNEL = "C0GENERAL"


def asking(engine: Engine, intent: str, n: int = 0) -> str:
    """The `n`th example phrasing of an intent (checked to be answered with it)."""
    question = engine.base.intents[intent].examples[n]
    assert engine.respond(question).intent == intent
    return question


def vote_value(engine: Engine, vote: str, intent: str = "election-winner") -> str:
    """A feedback button's value, as answer_message renders it."""
    return VoteValue.model_validate(
        {"vote": vote, "intent": intent, "facts": engine.base.intents[intent].facts}
    ).encode()


async def command_in(slack: Slack, text: str, *, channel: str) -> tuple[int, Any]:
    """Run /ask in a given channel."""
    form = slash_form("/ask", text, response_url=slack.fake.hook_url(), channel=channel)
    return await slack.post(form_body(form), "application/x-www-form-urlencoded")


async def mention(slack: Slack, text: str, *, ts: str, channel: str = CHANNEL) -> None:
    """Mention the bot with a question (the event id follows the message's ts)."""
    assert await slack.event(app_mention(f"<@{BOT_USER}> {text}", ts=ts, channel=channel), event_id=f"Ev{ts}") == 200


def bot_log(caplog: pytest.LogCaptureFixture) -> str:
    """Everything Factbot's own modules logged."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))


def pointer(link: str, when: str = "just now") -> str:
    """The line above a repeated answer."""
    line = f"I answered that here {when}, so this copy is just for you."
    return f"{line} (<{link}|see that answer>)" if link else line


async def repeated(slack: Slack, count: int = 1) -> list[dict[str, Any]]:
    """Wait until `count` answers went to their askers alone (chat.postEphemeral); their arguments."""
    calls = await slack.fake.wait_for(lambda: len(found := slack.fake.called("chat.postEphemeral")) >= count and found)
    return [call.args for call in calls]


def first_line(message: dict[str, Any]) -> str:
    """The text of a message's first block."""
    return str(message["blocks"][0]["text"]["text"])


# -- feedback ------------------------------------------------------------------------------------


async def test_a_vote_is_kept_once_per_person_and_answer(
    slack: Slack, engine: Engine, store: WatchedStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clicks = [("up", HUMAN), ("down", HUMAN), ("up", "U0OTHER")]
    for n, (vote, user) in enumerate(clicks, start=1):
        assert await slack.click(f"factbot_feedback_{vote}", vote_value(engine, vote), user=user) == 200
        await slack.fake.wait_for(lambda n=n: len(slack.fake.hooks) >= n)  # thanked at once
    await store.wait_for(lambda: len(store.votes) == len(clicks))  # kept behind, in a batch
    kept = sorted(await store.feedback(), key=lambda f: f.vote)
    assert [(f.vote, f.user_hash) for f in kept] == [
        ("down", hash_user("slack", HUMAN, salt=engine.salt)),
        ("up", hash_user("slack", "U0OTHER", salt=engine.salt)),
    ]
    for record in kept:
        assert record.answer_key == f"{CHANNEL}:1700000000.000300"  # the message holding the buttons
        assert (record.platform, record.intent, record.fact_ids) == ("slack", "election-winner", ["election-winner"])
    assert [hook["text"] for hook in slack.fake.hooks] == [f"Thanks, your {e} is noted." for e in ("👍", "👎", "👍")]
    assert "feedback up for intent 'election-winner'" in bot_log(caplog)
    assert HUMAN not in bot_log(caplog) and "U0OTHER" not in bot_log(caplog)


async def test_a_vote_is_keyed_by_the_posted_answer_it_was_given_on(
    slack: Slack, engine: Engine, store: WatchedStore
) -> None:
    await mention(slack, asking(engine, "vote-margin"), ts="1700000000.000100")
    [post] = await slack.posted()
    [(channel, ts)] = slack.fake.messages
    [down] = [
        e["value"]
        for b in post["blocks"]
        if b.get("block_id") == "factbot_feedback"
        for e in b["elements"]
        if e["action_id"].endswith("_down")
    ]
    payload = block_actions("factbot_feedback_down", down, response_url=slack.fake.hook_url(), message_ts=ts)
    await slack.post(form_body({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
    [record] = await store.wait_for(lambda: store.votes)
    assert record.answer_key == f"{channel}:{ts}"
    assert (record.vote, record.intent, record.fact_ids) == ("down", "vote-margin", ["mandate-size", "vote-margin"])


async def test_a_button_from_before_the_store_counts_with_its_intents_facts(
    slack: Slack, engine: Engine, store: WatchedStore
) -> None:
    await slack.click("factbot_feedback_down", "down:vote-margin")
    [record] = await store.wait_for(lambda: store.votes)
    assert record.fact_ids == engine.base.intents["vote-margin"].facts


# -- deduplication across replicas -----------------------------------------------------------------


@pytest.mark.parametrize("original", [0, 1], ids=["first-gets-the-original", "second-gets-the-original"])
async def test_a_retry_delivered_to_another_replica_is_answered_once(
    engine: Engine, shipped: FactBase, fake: FakeSlack, store: WatchedStore, original: int
) -> None:
    """Two app instances, each with its own engine, share one store (standing in for the shared database)."""
    other = Engine(shipped, store=store, salt=engine.salt)
    settings = settings_for(fake)
    event = app_mention(f"<@{BOT_USER}> who won?", ts="1700000000.000333")
    async with serving(engine, fake, settings) as first, serving(other, fake, settings) as second:
        replicas = [first, second]
        assert await replicas[original].event(event, event_id="EvShared") == 200
        assert await replicas[1 - original].event(event, event_id="EvShared", retry=1) == 200
        assert await replicas[original].event(event, event_id="EvShared", retry=2) == 200
        # each claim is settled before its 200; the sentinel shows the answered one has been posted too
        await replicas[1 - original].event(im_message("who won?", channel="D0SENTINEL"), event_id="EvSentinel")
        await fake.wait_for(lambda: len(fake.posts()) >= 2)
    assert sorted(p["channel"] for p in fake.posts()) == [CHANNEL, "D0SENTINEL"]


class DownStore(MemoryStore):
    """A store whose database is down: every call fails."""

    async def log_question(self, record: Any) -> int:
        raise ConnectionError("database is down")

    async def claim_event(self, event_id: str, *, ttl: timedelta) -> bool:
        raise ConnectionError("database is down")

    async def record_feedback(self, record: FeedbackRecord) -> None:
        raise ConnectionError("database is down")

    async def remember_post(self, record: PostRecord) -> None:
        raise ConnectionError("database is down")

    async def recent_post(self, *, platform: str, channel: str, fact_id: str, since: datetime) -> PostRecord | None:
        raise ConnectionError("database is down")

    async def recent_posts(self, *, platform: str, since: datetime) -> list[PostRecord]:
        raise ConnectionError("database is down")


async def test_a_store_that_is_down_costs_no_answer(
    engine: Engine, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    down = copy.copy(engine)
    down.store = DownStore()
    question = asking(engine, "election-date")
    async with serving(down, fake, settings_for(fake)) as slack:
        event = app_mention(f"<@{BOT_USER}> {question}", ts="1700000000.000111")
        await slack.event(event, event_id="EvDown")
        await slack.event(event, event_id="EvDown", retry=1)  # still dropped: this process remembers it
        await mention(slack, question, ts="1700000000.000222")  # a repeat this process remembers
        await slack.click("factbot_feedback_up", vote_value(engine, "up"))
        [post] = await slack.posted()
        [again] = await repeated(slack)
        [thanks] = await fake.wait_for(lambda: fake.hooks)
        await down.drain()
    quote = engine.respond(question).citations[0].quote
    assert all(">" + quote in section_texts(p) for p in (post, again))
    assert thanks["text"] == "Thanks, your 👍 is noted."
    log = bot_log(caplog)
    for warning in (
        "could not claim event EvDown in the store (ConnectionError)",
        "could not read other replicas' answers: ConnectionError",
        "records behind: ConnectionError",  # the questions and the vote, in one batch
    ):
        assert warning in log
    assert "database is down" not in log


# -- repeat suppression --------------------------------------------------------------------------


async def test_a_repeated_mention_gets_the_answer_for_the_asker_alone_under_a_link(
    slack: Slack, engine: Engine, store: WatchedStore
) -> None:
    question = asking(engine, "election-date")
    await mention(slack, question, ts="1700000000.000111")
    [first] = await slack.posted()
    [kept] = await store.wait_for(lambda: store.posts)
    [(channel, ts)] = slack.fake.messages
    assert kept.link == permalink(channel, ts, "1700000000.000111")  # a reply in the question's thread
    assert not slack.fake.called("chat.getPermalink")  # built from auth.test's URL
    await mention(slack, asking(engine, "election-date", 1), ts="1700000000.000222")
    [again] = await repeated(slack)
    assert (again["channel"], again["user"], again["thread_ts"]) == (CHANNEL, HUMAN, "1700000000.000222")
    assert first_line(again) == pointer(kept.link)
    assert ">" + engine.respond(question).citations[0].quote in section_texts(again)
    assert live_mentions(again) == [] and len(slack.fake.posts()) == 1
    assert len(store.posts) == 1  # a repeat is not itself remembered: the window runs from the full answer


async def test_a_repeated_ask_gets_the_answer_for_the_asker_only(
    slack: Slack, engine: Engine, store: WatchedStore
) -> None:
    question = asking(engine, "election-winner")
    await slack.command(question)
    [kept] = await store.wait_for(lambda: store.posts)
    status, body = await slack.command(asking(engine, "election-winner", 1), user="U0OTHER")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert first_line(body) == pointer(kept.link) and live_mentions(body) == []
    assert ">" + engine.respond(question).citations[0].quote in section_texts(body)
    assert slack.fake.posts() == [] and len(store.posts) == 1


async def test_an_ask_then_a_mention_of_the_same_fact_points_to_the_ask(
    slack: Slack, engine: Engine, store: WatchedStore
) -> None:
    await slack.command(asking(engine, "winner-votes"))
    [kept] = await store.wait_for(lambda: store.posts)
    await mention(slack, asking(engine, "winner-votes"), ts="1700000000.000444")
    [again] = await repeated(slack)
    assert first_line(again) == pointer("") and again["thread_ts"] == "1700000000.000444"


async def test_another_channel_or_another_fact_gets_the_whole_answer(
    slack: Slack, engine: Engine, store: WatchedStore
) -> None:
    await mention(slack, asking(engine, "election-date"), ts="1700000000.000111")
    await store.wait_for(lambda: len(store.posts) == 1)
    await mention(slack, asking(engine, "election-date"), ts="1700000000.000222", channel="C0OTHER")
    await store.wait_for(lambda: len(store.posts) == 2)
    await mention(slack, asking(engine, "winner-votes"), ts="1700000000.000333")
    await store.wait_for(lambda: len(store.posts) == 3)
    posts = slack.fake.posts()
    assert [p["channel"] for p in posts] == [CHANNEL, "C0OTHER", CHANNEL]
    assert all("factbot_feedback" in json.dumps(p) for p in posts)


async def test_direct_messages_always_get_the_whole_answer(slack: Slack, engine: Engine, store: WatchedStore) -> None:
    question = asking(engine, "election-date")
    await slack.event(im_message(question, ts="1700000000.000111"), event_id="EvDm1")
    await slack.posted()
    await slack.event(im_message(question, ts="1700000000.000222"), event_id="EvDm2")
    await command_in(slack, question, channel="D0HUMAN")  # /ask in a DM: answered in the ack, not posted
    _, ack = await command_in(slack, question, channel="D0HUMAN")
    posts = await slack.posted(2)
    assert ack["response_type"] == "in_channel" and "factbot_feedback" in json.dumps(ack)
    assert all("factbot_feedback" in json.dumps(p) for p in posts)
    assert store.posts == [] and len(slack.fake.posts()) == 2


@pytest.mark.parametrize(
    ("minutes_ago", "window", "expected"),
    [(25, 30, "25 minutes ago"), (31, 30, None), (0, 1, "just now"), (1, 1, None), (1, 0, None)],
)
async def test_the_window_decides_even_for_answers_another_replica_gave(
    engine: Engine, fake: FakeSlack, store: WatchedStore, minutes_ago: int, window: int, expected: str | None
) -> None:
    link = permalink(CHANNEL, "1700000000.000001")
    earlier = PostRecord(
        at=now() - timedelta(minutes=minutes_ago, seconds=5),
        platform="slack",
        channel=CHANNEL,
        fact_ids=["election-date"],
        link=link,
    )
    await store.remember_post(earlier)  # as another replica would have written it
    async with serving(engine, fake, settings_for(fake, repeat_window_minutes=window)) as slack:
        await mention(slack, asking(engine, "election-date"), ts="1700000000.000111")
        if expected:
            [again] = await repeated(slack)
            assert first_line(again) == pointer(link, expected)
        else:
            [post] = await slack.posted()
            assert "factbot_feedback" in json.dumps(post)


@pytest.mark.parametrize(
    ("earlier_facts", "brief"),
    [(["vote-margin"], False), (["mandate-size", "vote-margin"], True), (["mandate-size", "vote-margin", "x"], True)],
)
async def test_only_an_answer_that_gave_every_fact_makes_a_repeat(
    slack: Slack, engine: Engine, store: WatchedStore, earlier_facts: list[str], brief: bool
) -> None:
    link = permalink(CHANNEL, "1700000000.000001")
    await store.remember_post(PostRecord(platform="slack", channel=CHANNEL, fact_ids=earlier_facts, link=link))
    await mention(slack, asking(engine, "vote-margin"), ts="1700000000.000111")
    if brief:
        [again] = await repeated(slack)
        assert first_line(again) == pointer(link)
    else:
        [post] = await slack.posted()
        assert "factbot_feedback" in json.dumps(post)


async def test_an_ask_needs_no_web_api_call_even_where_the_bot_may_not_post(
    slack: Slack, engine: Engine, store: WatchedStore
) -> None:
    slack.fake.fail("chat.postMessage", "not_in_channel")
    question = asking(engine, "election-winner")
    status, body = await slack.command(question)
    assert status == 200 and body["response_type"] == "in_channel"
    assert ">" + engine.respond(question).citations[0].quote in section_texts(body)
    assert slack.fake.hooks == [] and slack.fake.posts() == []
