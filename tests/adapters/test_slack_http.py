"""Slack over HTTP: the real slack-bolt and slack_sdk, signed requests, against FakeSlack on loopback."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import aiohttp
import pytest

from bot.adapters.slack_blocks import VoteValue, read_vote
from bot.engine import Engine
from tests.adapters.conftest import Slack, WatchedStore, serving, settings_for
from tests.fakes.slack import (
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER,
    HUMAN,
    SIGNING_SECRET,
    FakeSlack,
    app_mention,
    block_problems,
    form_body,
    im_message,
    sign,
    slash_form,
    strings,
)

HOSTILE = "<!channel> & <!here> <@U1> <https://evil|x> *b* <!everyone> <!subteam^S1|team>"


def section_texts(message: dict[str, Any]) -> str:
    """All the text of a message's blocks, joined."""
    return "\n".join(strings(message.get("blocks", [])))


def question_of(engine: Engine, intent: str) -> tuple[str, str]:
    """An intent's canonical question and the first quote that answers it."""
    question = engine.base.intents[intent].question
    return question, engine.respond(question).citations[0].quote


# -- slash commands ----------------------------------------------------------------------------


def assert_full_answer(message: dict[str, Any], engine: Engine, question: str, *, asker: str | None = HUMAN) -> None:
    """`message` is the whole answer to `question`: who asked, the quote, its paragraph and source, 👍/👎 with facts."""
    answer = engine.respond(question)
    text = section_texts(message)
    if asker:
        assert f"<@{asker}> asked: “{question}”" in text
    assert ">" + answer.citations[0].quote in text
    assert f"paragraph {answer.citations[0].paragraph}" in text
    assert "read the source" in text
    assert message["text"] and block_problems(message["blocks"]) == []
    feedback = [e for b in message["blocks"] if b.get("block_id") == "factbot_feedback" for e in b["elements"]]
    facts = [c.fact_id for c in answer.citations]
    assert [read_vote(e["value"]) for e in feedback] == [
        VoteValue(vote=vote, intent=answer.intent, facts=facts) for vote in ("up", "down")
    ]


async def test_an_answer_in_a_channel_is_the_acknowledgement_and_is_remembered(
    slack: Slack, engine: Engine, store: WatchedStore
) -> None:
    """No Web API call and no database query stands between /ask and its answer."""
    question, _ = question_of(engine, "election-winner")
    status, body = await slack.command(question)
    assert status == 200 and body["response_type"] == "in_channel"
    assert_full_answer(body, engine, question)
    [kept] = await store.wait_for(lambda: store.posts)
    assert (kept.platform, kept.channel, kept.fact_ids) == ("slack", "C0GENERAL", ["election-winner"])
    assert kept.link == ""  # an answer in the acknowledgement has no ts to link to
    assert slack.fake.posts() == [] and not slack.fake.called("chat.getPermalink")


@pytest.mark.parametrize(
    ("question", "window"),
    [("Who won the ITU election?", 0), ("votes?", 30)],
    ids=["repeats-off", "not-a-fact-answer"],
)
async def test_other_asks_are_answered_in_the_acknowledgement_for_the_channel(
    engine: Engine, fake: FakeSlack, store: WatchedStore, question: str, window: int
) -> None:
    async with serving(engine, fake, settings_for(fake, repeat_window_minutes=window)) as slack:
        status, body = await slack.command(question)
    assert status == 200 and body["response_type"] == "in_channel"
    assert f"<@{HUMAN}> asked: “{question}”" in section_texts(body)
    if engine.respond(question).citations:
        assert_full_answer(body, engine, question)
    assert fake.posts() == [] and store.posts == []


@pytest.mark.parametrize("text", ["", "   "])
async def test_ask_alone_shows_help_to_the_asker_only(slack: Slack, text: str) -> None:
    status, body = await slack.command(text)
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert "/ask" in section_texts(body) and "/facts" in section_texts(body)


@pytest.mark.parametrize(
    ("command", "text", "expected"),
    [
        ("/facts", "", "*Topics*"),
        ("/facts", "election", "*Facts on election*"),
        ("/facts", "  ELECTION ", "*Facts on election*"),
        ("/facts", "<!channel>", "No topic “&lt;!channel&gt;”"),
        ("/factbot", "", "*Sources*"),
    ],
)
async def test_other_commands_answer_the_asker_only(slack: Slack, command: str, text: str, expected: str) -> None:
    status, body = await slack.command(text, command=command)
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert expected in section_texts(body)
    assert block_problems(body["blocks"]) == []


async def test_digest_is_acknowledged_at_once_and_previewed_for_the_asker_only(slack: Slack) -> None:
    """The preview reads the question log: it comes through response_url, after an empty acknowledgement."""
    assert await slack.command("", command="/digest") == (200, "")
    [preview] = await slack.fake.wait_for(lambda: slack.fake.hooks)
    assert preview["response_type"] == "ephemeral" and "Fact of the day" in section_texts(preview)
    assert block_problems(preview["blocks"]) == []


async def test_facts_of_a_topic_name_their_paragraphs(slack: Slack, engine: Engine) -> None:
    _, body = await slack.command("election", command="/facts")
    text = section_texts(body)
    for fact in engine.base.topics()["election"]:
        assert fact.answer.replace("&", "&amp;") in text
    assert "paragraph 1" in text


async def test_renamed_commands_follow_the_settings(engine: Engine, fake: FakeSlack) -> None:
    settings = settings_for(fake, command_ask="question", command_help="factbot-help")
    async with serving(engine, fake, settings) as slack:
        status, body = await slack.command("who won the election?", command="/question")
        assert status == 200
        assert "<@U0HUMAN> asked: “who won the election?”" in section_texts(body)
        _, help_body = await slack.command("", command="/factbot-help")
        assert "`/question &lt;question&gt;`" in section_texts(help_body)
        status, _ = await slack.command("who won?", command="/ask")
        assert status == 404  # no longer ours


# -- events --------------------------------------------------------------------------------------


async def test_mention_is_answered_in_a_thread_under_the_question(slack: Slack, engine: Engine) -> None:
    question, quote = question_of(engine, "election-date")
    assert await slack.event(app_mention(f"<@{BOT_USER}> {question}", ts="1700000000.000111")) == 200
    [post] = await slack.posted()
    assert post["channel"] == "C0GENERAL"
    assert post["thread_ts"] == "1700000000.000111"
    assert ">" + quote in section_texts(post)
    assert post["unfurl_links"] is False and "link_names" not in post and "parse" not in post
    assert slack.fake.called("chat.postMessage")[0].token == BOT_TOKEN


async def test_mention_inside_a_thread_stays_in_that_thread(slack: Slack) -> None:
    event = app_mention(f"<@{BOT_USER}> who won?", ts="1700000000.000222", thread_ts="1700000000.000100")
    await slack.event(event)
    [post] = await slack.posted()
    assert post["thread_ts"] == "1700000000.000100"


async def test_a_follow_up_in_a_thread_is_read_with_the_question_before_it(slack: Slack) -> None:
    first = app_mention(f"<@{BOT_USER}> who won the ITU election?", ts="1700000000.000300")
    follow_up = app_mention(f"<@{BOT_USER}> and when was that?", ts="1700000000.000301", thread_ts="1700000000.000300")
    elsewhere = app_mention(f"<@{BOT_USER}> and when was that?", ts="1700000000.000302", channel="C0OTHER")
    for n, event in enumerate((first, follow_up, elsewhere)):
        await slack.event(event, event_id=f"EvFollow{n}")
        await slack.posted(n + 1)
    _, in_thread, other = (section_texts(post) for post in await slack.posted(3))
    assert "29 September" in in_thread and "Read as a follow-up to “who won the ITU election?”" in in_thread
    assert "follow-up" not in other


async def test_direct_message_is_answered_in_the_dm(slack: Slack, engine: Engine) -> None:
    question, quote = question_of(engine, "election-winner")
    await slack.event(im_message(question))
    [post] = await slack.posted()
    assert post["channel"] == "D0HUMAN"
    assert "thread_ts" not in post
    assert ">" + quote in section_texts(post)


@pytest.mark.parametrize(
    "event",
    [
        im_message("who won?", user=BOT_USER),
        im_message("who won?", bot_id=BOT_ID),
        im_message("who won?", bot_id="B0OTHER", user="U0OTHERBOT"),
        im_message("who won?", user=None, subtype="bot_message", bot_id="B0OTHER"),
        im_message("who won?", subtype="message_changed"),
        im_message("who won?", channel="C0GENERAL", channel_type="channel"),
        app_mention(f"<@{BOT_USER}> who won?", user=BOT_USER),
        app_mention(f"<@{BOT_USER}> who won?") | {"bot_id": "B0OTHER"},
    ],
    ids=["own", "own-bot-id", "other-bot", "bot-message", "edit", "plain-channel", "own-mention", "bot-mention"],
)
async def test_bots_edits_and_plain_channel_messages_are_ignored(slack: Slack, event: dict[str, Any]) -> None:
    assert await slack.event(event, event_id="EvIgnored") == 200
    # The ignored event's listener runs first; once the DM sent after it is answered, it would have posted.
    await slack.event(im_message("who won?", channel="D0SENTINEL"), event_id="EvSentinel")
    await slack.fake.wait_for(lambda: any(p["channel"] == "D0SENTINEL" for p in slack.fake.posts()))
    assert [p["channel"] for p in slack.fake.posts()] == ["D0SENTINEL"]


async def test_a_retried_event_is_answered_once(slack: Slack) -> None:
    event = app_mention(f"<@{BOT_USER}> who won?", ts="1700000000.000333")
    assert await slack.event(event, event_id="EvRetry") == 200
    assert await slack.event(event, event_id="EvRetry", retry=1) == 200
    assert await slack.event(event, event_id="EvRetry", retry=2) == 200
    await slack.event(im_message("who won?", channel="D0SENTINEL"), event_id="EvSentinel")
    await slack.fake.wait_for(lambda: any(p["channel"] == "D0SENTINEL" for p in slack.fake.posts()))
    assert [p["channel"] for p in slack.fake.posts()] == ["C0GENERAL", "D0SENTINEL"]


# -- Slack's own checks ---------------------------------------------------------------------


async def test_a_bad_signature_is_refused(slack: Slack) -> None:
    body = form_body(slash_form("/ask", "who won?", response_url=slack.fake.hook_url()))
    status, _ = await slack.post(body, "application/x-www-form-urlencoded", {"X-Slack-Signature": "v0=" + "0" * 64})
    assert status == 401


async def test_a_stale_timestamp_is_refused(slack: Slack) -> None:
    body = form_body(slash_form("/ask", "who won?", response_url=slack.fake.hook_url()))
    stale = sign(body, timestamp=int(time.time()) - 400)
    status, _ = await slack.post(body, "application/x-www-form-urlencoded", stale)
    assert status == 401


JUNK = [
    ("application/x-www-form-urlencoded", "command=/ask&text=who+won"),
    ("application/json", "{not json"),
    ("application/json", '{"type": "event_callback", "event": {"type": "app_mention"}}'),
    ("application/x-www-form-urlencoded", "payload=%7Bbroken"),
    ("text/plain", "\x00\xff" * 100),
    ("application/octet-stream", ""),
]


async def test_a_flood_of_unsigned_junk_gets_401s_and_one_line_each(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with aiohttp.ClientSession() as http:
        for _ in range(20):
            for content_type, body in JUNK:
                async with http.post(
                    f"{slack.url}/slack/events", data=body, headers={"Content-Type": content_type}
                ) as r:
                    assert r.status == 401
    refused = [r for r in caplog.records if "no valid signature" in r.getMessage()]
    assert len(refused) == 20 * len(JUNK)
    assert not any(r.exc_info for r in caplog.records) and "Traceback" not in caplog.text


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/json", "{not json"), ("application/x-www-form-urlencoded", "payload=%7Bbroken")],
)
async def test_a_signed_body_slack_would_never_send_gets_400_without_a_traceback(
    slack: Slack, caplog: pytest.LogCaptureFixture, content_type: str, body: str
) -> None:
    status, _ = await slack.post(body, content_type)
    assert status == 400
    assert not any(r.exc_info for r in caplog.records) and "Traceback" not in caplog.text


async def test_a_replayed_signed_request_is_answered_once(slack: Slack, engine: Engine) -> None:
    question, _ = question_of(engine, "election-winner")
    body = form_body(slash_form("/ask", question, response_url=slack.fake.hook_url()))
    headers = sign(body)
    answers = [await slack.post(body, "application/x-www-form-urlencoded", headers) for _ in range(20)]
    assert answers[0][0] == 200 and answers[0][1]["response_type"] == "in_channel"
    assert answers[1:] == [(200, "")] * 19


async def test_url_verification_returns_the_challenge(slack: Slack) -> None:
    body = json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"})
    status, answer = await slack.post(body, "application/json")
    assert (status, answer) == (200, {"challenge": "c-123"})


async def test_health_check(slack: Slack) -> None:
    async with slack.http.get(f"{slack.url}/healthz") as response:
        assert (response.status, await response.text()) == (200, "ok")


# -- buttons -------------------------------------------------------------------------------------


async def test_a_clicked_suggestion_is_answered_in_place_of_the_message(slack: Slack, engine: Engine) -> None:
    question, quote = question_of(engine, "winner-votes")
    assert await slack.click("factbot_suggest_1", "winner-votes", user="U0CLICKER") == 200
    [reply] = await slack.fake.wait_for(lambda: slack.fake.hooks)
    assert reply["replace_original"] is True
    assert reply["_authorization"] is None  # response_url carries no token
    assert f"<@U0CLICKER> asked: “{question}”" in section_texts(reply)
    assert ">" + quote in section_texts(reply)


async def test_a_stale_suggestion_gets_a_one_line_reply(slack: Slack) -> None:
    await slack.click("factbot_suggest_0", "no-such-intent")
    [reply] = await slack.fake.wait_for(lambda: slack.fake.hooks)
    assert "out of date" in reply["text"]


@pytest.mark.parametrize(
    ("action", "value", "vote"),
    [("factbot_feedback_up", "up:election-winner", "up"), ("factbot_feedback_down", "down:election-winner", "down")],
)
async def test_feedback_is_acknowledged_and_logged(
    slack: Slack, caplog: pytest.LogCaptureFixture, action: str, value: str, vote: str
) -> None:
    caplog.set_level(logging.INFO, logger="bot.chat.service")
    assert await slack.click(action, value) == 200
    [thanks] = await slack.fake.wait_for(lambda: slack.fake.hooks)
    assert thanks["response_type"] == "ephemeral" and thanks["replace_original"] is False
    assert f"feedback {vote} for intent 'election-winner'" in caplog.text


# -- hostile and bad input, platform errors -------------------------------------------------------


def live_mentions(message: Any, *, allowed: str | None = None) -> list[str]:
    """Strings of a message that could ping someone: `<!…>`, or `<@…>` other than the allowed one."""
    found = []
    for text in strings(message):
        stripped = text.replace(f"<@{allowed}>", "") if allowed else text
        if "<!" in stripped or "<@" in stripped:
            found.append(text)
    return found


async def test_nothing_a_user_types_can_ping_anyone(slack: Slack) -> None:
    slack_escaped = HOSTILE.replace("&", "&amp;")  # as Slack delivers a literal "&"
    _, ack = await slack.command(slack_escaped)
    assert live_mentions(ack, allowed=HUMAN) == []
    assert "&lt;!channel&gt; &amp; &lt;!here&gt;" in section_texts(ack)
    _, facts = await slack.command(slack_escaped, command="/facts")
    assert live_mentions(facts) == []
    await slack.event(app_mention(f"<@{BOT_USER}> {slack_escaped}"), event_id="Ev1")
    await slack.event(im_message(slack_escaped), event_id="Ev2")
    await slack.click("factbot_suggest_0", "election-winner")
    posts = await slack.posted(2)
    hooks = await slack.fake.wait_for(lambda: slack.fake.hooks)
    assert live_mentions(posts) == []
    assert live_mentions(hooks, allowed=HUMAN) == []


@pytest.mark.parametrize(
    "text",
    [
        "x" * 100_000,
        "\x00\x01\x02 binary \ufffd\ufffe\u202e" * 50,
        "<script>alert(1)</script> &amp;&lt;",
        "?" * 5000,
        "💥" * 3000,
    ],
    ids=["huge", "binary", "markup", "punctuation", "emoji"],
)
async def test_bad_input_gets_a_clear_reply_within_slack_limits(slack: Slack, text: str) -> None:
    status, body = await slack.command(text)
    assert status == 200
    assert body["blocks"] and block_problems(body["blocks"]) == []
    assert "Traceback" not in json.dumps(body)
    await slack.event(im_message(text))
    [post] = await slack.posted()  # the fake refuses messages Slack would refuse
    assert block_problems(post["blocks"]) == []


async def test_a_refused_post_is_logged_and_the_bot_goes_on(slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.adapters.slack_app")
    slack.fake.fail("chat.postMessage", "not_in_channel")
    await slack.event(app_mention(f"<@{BOT_USER}> who won?"), event_id="EvFails")
    await slack.fake.wait_for(lambda: slack.fake.called("chat.postMessage"))
    await slack.event(im_message("who won?"), event_id="EvNext")
    [post] = await slack.posted()
    assert post["channel"] == "D0HUMAN"
    [line] = [r.getMessage() for r in caplog.records if "not_in_channel" in r.getMessage()]
    assert "chat.postMessage" in line and "\n" not in line and BOT_TOKEN not in line


async def test_a_rate_limited_post_is_retried_after_retry_after(slack: Slack) -> None:
    slack.fake.rate_limit("chat.postMessage", retry_after=0)
    await slack.event(im_message("who won?"))
    [post] = await slack.posted()
    assert len(slack.fake.called("chat.postMessage")) == 2
    assert post["channel"] == "D0HUMAN"


async def test_an_engine_failure_is_a_one_line_apology(
    slack: Slack, engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(question: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "answer", broken)
    status, body = await slack.command("who won?")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert body["text"].startswith("Sorry") and "boom" not in json.dumps(body)
    await slack.event(im_message("who won?"))
    [post] = await slack.posted()
    assert post["text"].startswith("Sorry")
    assert "could not answer" in caplog.text


async def test_no_secret_reaches_the_logs(slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await slack.command("who won the ITU election?")
    await slack.event(app_mention(f"<@{BOT_USER}> who won the ITU election?"), event_id="Ev1")
    await slack.click("factbot_suggest_0", "election-winner")
    slack.fake.fail("chat.postMessage", "invalid_auth")
    await slack.event(im_message("who won the ITU election?"), event_id="Ev2")
    await slack.fake.wait_for(
        lambda: slack.fake.called("chat.postMessage") and slack.fake.called("chat.postEphemeral") and slack.fake.hooks
    )
    assert caplog.records
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, "s3kr1t"):
        assert secret not in caplog.text


async def test_one_http_session_serves_every_call(slack: Slack, monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[object] = []
    original = aiohttp.ClientSession.__init__

    def counting(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
        created.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", counting)
    await slack.command("who won?")
    await slack.event(im_message("who won?"), event_id="Ev1")
    await slack.click("factbot_suggest_0", "election-winner")
    await slack.click("factbot_feedback_up", "up:election-winner")
    await slack.fake.wait_for(lambda: slack.fake.posts() and len(slack.fake.hooks) == 2)
    assert created == []  # chat.postMessage, auth.test and response_url replies reuse the app's session


# -- /why ------------------------------------------------------------------------------------------


async def test_why_with_a_question_explains_it_to_the_asker_only(slack: Slack) -> None:
    status, body = await slack.command("how many votes did ismailov get", command="/why")
    assert status == 200 and body["response_type"] == "ephemeral"
    text = section_texts(body)
    assert "I answered with “What was Ismailov's vote count?” because your question matched the example" in text
    assert re.search(r"confidence 0\.\d+ ≥ answer threshold 0\.\d+ and margin", text) and "Runner-up: " in text
    assert block_problems(body["blocks"]) == [] and slack.fake.posts() == []


async def test_why_alone_explains_the_last_answer_in_that_channel(slack: Slack) -> None:
    await slack.command("Where is the ITU headquartered?", channel="C0OTHER")
    await slack.command("how many votes did ismailov get", channel="C0GENERAL")
    _, here = await slack.command("", command="/why", channel="C0OTHER")
    assert "I didn't answer" in section_texts(here) and "“headquartered”" in section_texts(here)
    await slack.event(app_mention(f"<@{BOT_USER}> votes?", channel="C0THIRD"))
    await slack.posted()
    _, mentioned = await slack.command("", command="/why", channel="C0THIRD")
    assert "I asked which you meant" in section_texts(mentioned)


async def test_why_in_a_fresh_channel_gives_a_one_line_hint(slack: Slack) -> None:
    status, body = await slack.command("  ", command="/why", channel="C0FRESH")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert body["text"].startswith("Nothing to explain here yet: ask with `/ask`, then `/why`")


async def test_why_keeps_hostile_text_inert(slack: Slack) -> None:
    slack_escaped = HOSTILE.replace("&", "&amp;")  # as Slack delivers a literal "&"
    await slack.command(slack_escaped, channel="C0HOSTILE")
    for text in ("", slack_escaped):
        _, body = await slack.command(text, command="/why", channel="C0HOSTILE")
        assert live_mentions(body) == []
        assert "&lt;!channel&gt; &amp; &lt;!here&gt;" in section_texts(body)
        assert block_problems(body["blocks"]) == []


async def test_why_follows_its_renamed_command(engine: Engine, fake: FakeSlack) -> None:
    async with serving(engine, fake, settings_for(fake, command_why="explain")) as slack:
        status, body = await slack.command("votes?", command="/explain")
        assert status == 200 and "almost equally well" in section_texts(body)
        assert (await slack.command("who won?", command="/why"))[0] == 404
