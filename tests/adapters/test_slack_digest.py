"""The digest on Slack: `/digest` preview, subscribe and unsubscribe, its button, and posting through FakeSlack."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, time
from typing import Any

import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_run import build_app, close_app
from bot.adapters.slack_web import SlackDigestPoster, digest_poster
from bot.digest import ChannelGone, Subscription, build_digest
from bot.engine import Engine
from bot.models import Question
from tests.adapters.conftest import Slack, WatchedStore, settings_for
from tests.fakes.slack import (
    ADMIN,
    BOT_TOKEN,
    CREATOR,
    GENERAL,
    HUMAN,
    FakeSlack,
    block_actions,
    block_problems,
    conversation,
    form_body,
    member,
    slash_form,
)

SUBSCRIPTION = Subscription(platform="slack", channel=GENERAL, workspace="T0FAKE")


def texts(body: dict[str, Any]) -> str:
    """Every section's text in a reply."""
    return "\n".join(b["text"]["text"] for b in body.get("blocks", []) if b["type"] == "section")


async def digest(slack: Slack, text: str, *, user: str = HUMAN, channel: str = GENERAL) -> dict[str, Any]:
    """Run `/digest <text>`; its (ephemeral) reply: in the ack for bad input, else through response_url after an
    empty ack (a preview reads the log, a change asks Slack who may make it)."""
    form = slash_form("/digest", text, response_url=slack.fake.hook_url(), user=user, channel=channel)
    before = len(slack.fake.hooks)
    status, body = await slack.post(form_body(form), "application/x-www-form-urlencoded")
    assert status == 200
    if body == "":
        body = (await slack.fake.wait_for(lambda: len(slack.fake.hooks) > before and slack.fake.hooks))[before]
    assert body["response_type"] == "ephemeral"
    assert block_problems(body["blocks"]) == []
    return dict(body)


# -- the commands ----------------------------------------------------------------------------------


async def test_preview_shows_what_the_channel_asked_today(slack: Slack, engine: Engine) -> None:
    intent = engine.base.intents["election-winner"]
    for _ in range(2):
        await engine.answer(Question(text=intent.question, who=HUMAN, where=GENERAL, platform="slack"))
    await engine.drain()
    body = await digest(slack, "")
    assert "*Fact of the day:*" in texts(body) and "Preview: only you can see this." in json.dumps(body)
    assert f"• {intent.question} (×2) — " in texts(body)
    assert "*Try asking:*" in texts(body) and intent.question not in texts(body).split("*Try asking:*")[1]
    assert slack.fake.called("users.info") == []  # a preview needs no permission


@pytest.mark.parametrize("user", [ADMIN, CREATOR], ids=["admin", "creator"])
async def test_admins_and_the_channels_creator_can_subscribe(slack: Slack, store: WatchedStore, user: str) -> None:
    body = await digest(slack, "subscribe 08:30 Europe/London --curators", user=user)
    assert "every day at 08:30 (Europe/London), with what is not answered yet" in texts(body)
    assert await store.subscriptions() == [
        Subscription(
            platform="slack",
            channel=GENERAL,
            workspace="T0FAKE",
            at=time(8, 30),
            timezone="Europe/London",
            curators=True,
        )
    ]
    [asked] = slack.fake.called("users.info")
    assert asked.args["user"] == user and asked.token == BOT_TOKEN


async def test_defaults_are_nine_utc_and_unsubscribe_ends_it(slack: Slack, store: WatchedStore) -> None:
    assert "every day at 09:00 (UTC)." in texts(await digest(slack, "subscribe", user=ADMIN))
    [sub] = await store.subscriptions()
    assert (sub.at, sub.timezone, sub.curators) == (time(9, 0), "UTC", False)
    assert "will no longer get" in texts(await digest(slack, "unsubscribe", user=CREATOR))
    assert await store.subscriptions() == []
    assert "was not getting" in texts(await digest(slack, "unsubscribe", user=CREATOR))


async def test_other_members_may_not_change_the_digest(slack: Slack, store: WatchedStore) -> None:
    for text in ("subscribe", "unsubscribe"):
        body = await digest(slack, text, user=HUMAN)
        assert texts(body) == "Only workspace admins and this channel's creator can change its digest."
    assert await store.subscriptions() == []
    [info] = slack.fake.called("conversations.info")[:1]
    assert info.args["channel"] == GENERAL


async def test_owners_and_private_channel_creators_count(slack: Slack, store: WatchedStore) -> None:
    slack.fake.users["U0OWNER"] = member("U0OWNER", owner=True)
    slack.fake.channels["G0PRIVATE"] = conversation("G0PRIVATE", creator=HUMAN, private=True)
    await digest(slack, "subscribe", user="U0OWNER")
    await digest(slack, "subscribe 07:00", user=HUMAN, channel="G0PRIVATE")
    assert sorted(s.channel for s in await store.subscriptions()) == [GENERAL, "G0PRIVATE"]


async def test_when_slack_will_not_say_who_may_the_answer_is_no(slack: Slack, store: WatchedStore) -> None:
    slack.fake.fail("users.info", "missing_scope")
    body = await digest(slack, "subscribe", user=ADMIN)
    assert "Only workspace admins" in texts(body) and await store.subscriptions() == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("subscribe 9am", "“9am” is not a time zone"),
        ("subscribe 24:00", "“24:00” is not a time"),
        ("subscribe Narnia/Cair_Paravel", "“Narnia/Cair_Paravel” is not a time zone"),
        ("weekly", "Unknown digest command “weekly”"),
        ("subscribe <!channel>", "“&lt;!channel&gt;” is not a time zone"),
    ],
)
async def test_bad_input_gets_one_line(slack: Slack, store: WatchedStore, text: str, says: str) -> None:
    body = await digest(slack, text, user=ADMIN)
    assert texts(body).startswith(says) and "\n" not in texts(body)
    assert await store.subscriptions() == []


async def test_a_dm_is_no_place_for_a_digest(slack: Slack, store: WatchedStore) -> None:
    body = await digest(slack, "subscribe", user=ADMIN, channel="D0HUMAN")
    assert texts(body).startswith("Digests are for channels")
    assert await store.subscriptions() == []


async def test_the_digests_button_answers_the_clicker_and_keeps_the_digest(slack: Slack) -> None:
    payload = block_actions("factbot_suggest_digest", "election-winner", response_url=slack.fake.hook_url())
    await slack.post(form_body({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
    [reply] = await slack.fake.wait_for(lambda: slack.fake.hooks)
    assert reply["replace_original"] is False and reply["response_type"] == "ephemeral"
    assert "Doreen Bogdan-Martin" in json.dumps(reply)


# -- posting ---------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def poster(engine: Engine, fake: FakeSlack) -> AsyncIterator[SlackDigestPoster]:
    app = build_app(engine, settings_for(fake))
    yield digest_poster(app)
    await close_app(app)


async def test_a_digest_is_posted_to_the_channel(poster: SlackDigestPoster, engine: Engine, fake: FakeSlack) -> None:
    built = build_digest(engine, channel=GENERAL, day=date(2026, 5, 1))
    assert poster.platform == "slack"
    await poster.post_digest(SUBSCRIPTION, built)
    [post] = fake.posts()
    assert post["channel"] == GENERAL and post["unfurl_links"] is False
    assert post["blocks"][0]["text"]["text"] == "Factbot digest for Friday 01 May 2026"
    assert "Preview" not in json.dumps(post) and block_problems(post["blocks"]) == []
    assert f">{built.fact.quote}"[:50] in json.dumps(post, ensure_ascii=False).replace("&amp;", "&")


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived", "not_in_channel"])
async def test_a_gone_channel_raises_channel_gone(
    poster: SlackDigestPoster, engine: Engine, fake: FakeSlack, error: str
) -> None:
    fake.fail("chat.postMessage", error)
    with pytest.raises(ChannelGone, match=error):
        await poster.post_digest(SUBSCRIPTION, build_digest(engine, channel=GENERAL, day=date(2026, 5, 1)))


async def test_other_refusals_are_raised_for_the_scheduler_to_retry(
    poster: SlackDigestPoster, engine: Engine, fake: FakeSlack
) -> None:
    fake.fail("chat.postMessage", "fatal_error")
    with pytest.raises(SlackApiError):
        await poster.post_digest(SUBSCRIPTION, build_digest(engine, channel=GENERAL, day=date(2026, 5, 1)))


async def test_a_rate_limit_is_retried_by_the_client(
    poster: SlackDigestPoster, engine: Engine, fake: FakeSlack
) -> None:
    fake.rate_limit("chat.postMessage", retry_after=0)
    await poster.post_digest(SUBSCRIPTION, build_digest(engine, channel=GENERAL, day=date(2026, 5, 1)))
    assert len(fake.called("chat.postMessage")) == 2 and len(fake.posts()) == 1


def test_the_poster_uses_the_apps_client(poster: SlackDigestPoster) -> None:
    assert isinstance(poster.client, AsyncWebClient)
