"""The Discord adapter end to end: the real discord.py against FakeDiscord on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import date, time
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio

from bot.adapters import discord_run, discord_send
from bot.adapters.discord_bot import WHO_MAY_MANAGE
from bot.adapters.discord_run import DiscordConfigError, DiscordDigestPoster, run_discord, sync_global
from bot.chat import messages
from bot.chat.commands import ASK, DIGEST, FACTS, HELP, WHY
from bot.digest import ChannelGone, Subscription, build_digest
from bot.engine import Engine
from bot.models import Answer, Citation, Question, Status
from bot.settings import Settings
from bot.store import hash_user
from tests.adapters.conftest import WatchedStore
from tests.fakes.discord import EPHEMERAL, MANAGE_CHANNELS, MEMBER, FakeDiscord, Request, user

TOKEN = "MTIzNDU2Nzg5MDEy.fake.token-for-tests"
NONE: dict[str, list[str]] = {"parse": []}
PRIVILEGED = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message_content
StartBot = Callable[..., Awaitable[FakeDiscord]]


def settings(**env: Any) -> Settings:
    """Settings for a test bot: a token, guild 111, and a cooldown no test trips by accident."""
    defaults = {"DISCORD_TOKEN": TOKEN, "DISCORD_GUILD_IDS": "111", "FACTBOT_DISCORD_COOLDOWN_RATE": 1000}
    return Settings.model_validate({**defaults, **env})


@pytest.fixture
def fake(fake_discord: FakeDiscord) -> FakeDiscord:
    """The fake Discord (tests/conftest.py), by this module's name for it."""
    return fake_discord


@pytest_asyncio.fixture
async def start_bot(fake: FakeDiscord, engine: Engine) -> AsyncIterator[StartBot]:
    """Start `run_discord` against the fake (stopped after the test)."""
    tasks: list[asyncio.Task[None]] = []

    async def start(**env: Any) -> FakeDiscord:
        tasks.append(asyncio.create_task(run_discord(engine, settings(**env), guild_ready_timeout=0.05)))
        await fake.wait_ready()
        return fake

    yield start
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest_asyncio.fixture
async def bot(start_bot: StartBot) -> FakeDiscord:
    """A running bot; the fake it talks to."""
    return await start_bot()


async def ask(fake: FakeDiscord, name: str, options: Mapping[str, str | bool] | None = None, **where: Any) -> Request:
    """Run a slash command and return the request that answered it."""
    interaction = await fake.dispatch("INTERACTION_CREATE", fake.command(name, options, **where))
    return await fake.reply_to(interaction)


def embed_of(request: Request) -> dict[str, Any]:
    """The one embed a reply carried."""
    [embed] = request.data["embeds"]
    return embed


def custom_ids(request: Request) -> list[str]:
    """The custom_ids of every button in a reply."""
    return [c["custom_id"] for row in request.data.get("components", []) for c in row["components"]]


# -- start-up -----------------------------------------------------------------------------------


async def test_login_and_ready_with_no_privileged_intent(start_bot: StartBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot = await start_bot()
    await ask(bot, "factbot")
    assert TOKEN not in caplog.text
    assert bot.identify is not None
    assert bot.identify["token"] == TOKEN
    assert bot.identify["intents"] & PRIVILEGED == 0
    me = bot.find(lambda r: r.path == "/users/@me")
    assert me is not None and me.headers["Authorization"] == f"Bot {TOKEN}"


SNAPSHOT: list[dict[str, Any]] = [
    {
        "name": "ask",
        "description": ASK.description,
        "options": [
            {
                "type": 3,
                "name": "question",
                "description": "Your question, in your own words",
                "required": True,
                "autocomplete": True,
            }
        ],
    },
    {
        "name": "facts",
        "description": FACTS.description,
        "options": [{"type": 3, "name": "topic", "description": "Show the facts on this topic", "required": False}],
    },
    {
        "name": "digest",
        "description": DIGEST.description,
        "options": [
            {
                "type": 3,
                "name": "action",
                "description": "preview (the default), subscribe or unsubscribe this channel",
                "required": False,
            },
            {
                "type": 3,
                "name": "time",
                "description": "subscribe: the local time to post, HH:MM (default 09:00)",
                "required": False,
            },
            {
                "type": 3,
                "name": "timezone",
                "description": "subscribe: the time zone, Area/City (default UTC)",
                "required": False,
                "autocomplete": True,
            },
            {
                "type": 5,
                "name": "curators",
                "description": "also list the questions the fact base could not answer",
                "required": False,
            },
        ],
    },
    {
        "name": "why",
        "description": WHY.description,
        "options": [
            {
                "type": 3,
                "name": "question",
                "description": "Explain this question instead of the last one asked here",
                "required": False,
            }
        ],
    },
    {"name": "factbot", "description": HELP.description, "options": []},
]


async def test_commands_sync_to_the_guild_with_this_schema(bot: FakeDiscord, engine: Engine) -> None:
    await ask(bot, "factbot")
    put = bot.find(lambda r: r.method == "PUT")
    assert put is not None and put.path == "/applications/9000/guilds/111/commands"
    assert not [r for r in bot.requests if r.path == "/applications/9000/commands"], "no global sync on start"
    for command, expected in zip(put.body, SNAPSHOT, strict=True):
        assert command["type"] == 1
        assert {k: command[k] for k in ("name", "description")} == {k: expected[k] for k in ("name", "description")}
        options = [{k: v for k, v in o.items() if k != "choices"} for o in command["options"]]
        assert options == expected["options"]
    choices = put.body[1]["options"][0]["choices"]
    assert sorted(c["value"] for c in choices) == sorted(engine.base.topics())[:25]
    assert [c["value"] for c in put.body[2]["options"][0]["choices"]] == ["preview", "subscribe", "unsubscribe"]


async def test_a_guild_that_refuses_the_sync_does_not_stop_the_bot(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot(DISCORD_GUILD_IDS="222 111")
    assert (await ask(bot, "factbot")).status == 200
    synced = [(r.path, r.status) for r in bot.requests if r.method == "PUT"]
    assert synced == [("/applications/9000/guilds/222/commands", 403), ("/applications/9000/guilds/111/commands", 200)]
    assert "could not sync commands to guild 222" in caplog.text


async def test_bad_token_stops_with_a_clear_error(
    fake: FakeDiscord, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "MTIz.wrong.SECRET-never-shown"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DiscordConfigError, match="DISCORD_TOKEN was rejected") as raised:
        await run_discord(engine, settings(DISCORD_TOKEN=secret))
    with pytest.raises(DiscordConfigError, match="DISCORD_TOKEN"):
        await sync_global(engine, settings(DISCORD_TOKEN=secret))
    assert secret not in str(raised.value) and "SECRET" not in caplog.text
    assert bot_requests(fake) == ["/users/@me", "/users/@me"]


async def test_discord_out_of_reach_is_one_line_naming_discord(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, unused_port: int
) -> None:
    nowhere = f"http://127.0.0.1:{unused_port}/api/v10"
    monkeypatch.setattr(discord.http.Route, "BASE", nowhere)
    for work in (run_discord(engine, settings()), sync_global(engine, settings())):
        with pytest.raises(DiscordConfigError) as raised:
            await work
        said = str(raised.value)
        assert said.startswith(f"cannot reach Discord at {nowhere} (") and "\n" not in said
        assert "rejected" not in said and TOKEN not in said


def bot_requests(fake: FakeDiscord) -> list[str]:
    """Paths of every request the fake received."""
    return [r.path for r in fake.requests]


async def test_sync_global_puts_every_command_and_returns_the_count(fake: FakeDiscord, engine: Engine) -> None:
    assert await sync_global(engine, settings()) == 5
    assert [r.path for r in fake.requests if r.method == "PUT"] == ["/applications/9000/commands"]


# -- slash commands ----------------------------------------------------------------------------


@pytest.mark.parametrize("guild_id", ["111", None], ids=["guild", "dm"])
async def test_ask_answers_publicly_with_the_verbatim_quote(
    bot: FakeDiscord, engine: Engine, guild_id: str | None
) -> None:
    expected = await engine.answer(Question(text="Who won the ITU election?"))
    reply = await ask(bot, "ask", {"question": "Who won the ITU election?"}, guild_id=guild_id)
    assert reply.body["type"] == 4
    assert not reply.data.get("flags", 0) & EPHEMERAL
    embed = embed_of(reply)
    citation = expected.citations[0]
    assert embed["description"] == expected.answer
    assert any(f["value"].startswith(f"“{citation.quote}”") for f in embed["fields"])  # a note may follow
    assert f"paragraph {citation.paragraph}" in embed["footer"]["text"]
    for part in (citation.title, citation.author, citation.publisher):
        assert part in embed["footer"]["text"]
    assert embed["url"] == citation.url
    facts = ",".join(c.fact_id for c in expected.citations)
    assert custom_ids(reply) == [f"factbot:vote:{v}:{expected.intent}:{facts}" for v in ("up", "down")]


@pytest.mark.parametrize(
    ("typed", "intent"),
    [("ismailov vots", "loser-votes"), ("who wn", "election-winner"), ("Who won the", "election-winner")],
)
async def test_autocomplete_ranks_the_meant_question_near_the_top(
    bot: FakeDiscord, engine: Engine, typed: str, intent: str
) -> None:
    interaction = await bot.dispatch("INTERACTION_CREATE", bot.autocomplete("ask", "question", typed))
    reply = await bot.wait_for(lambda r: r.path.startswith(f"/interactions/{interaction['id']}/"))
    assert reply.body["type"] == 8
    names = [c["name"] for c in reply.body["data"]["choices"]]
    assert 1 <= len(names) <= 25
    assert engine.base.intents[intent].question in names[:3]


@pytest.mark.parametrize("typed", ["", "   ", "???", "zzqx"])
async def test_autocomplete_offers_headline_questions_for_an_empty_or_odd_prefix(
    bot: FakeDiscord, engine: Engine, typed: str
) -> None:
    interaction = await bot.dispatch("INTERACTION_CREATE", bot.autocomplete("ask", "question", typed))
    reply = await bot.wait_for(lambda r: r.path.startswith(f"/interactions/{interaction['id']}/"))
    choices = reply.body["data"]["choices"]
    assert len(choices) == min(25, len(engine.base.intents))
    assert all(len(c["name"]) <= 100 and c["name"] == c["value"] for c in choices)
    headline = [s.question for s in engine.overview().try_asking]
    assert [c["name"] for c in choices[: len(headline)]] == headline


@pytest.mark.parametrize(
    ("name", "options", "title"),
    [
        ("facts", {}, "Topics"),
        ("facts", {"topic": "china"}, "Facts on china"),
        ("factbot", {}, "Factbot"),
    ],
)
async def test_other_commands_answer_only_the_asker(
    bot: FakeDiscord, name: str, options: dict[str, str], title: str
) -> None:
    reply = await ask(bot, name, options)
    assert reply.body["type"] == 4
    assert reply.data["flags"] & EPHEMERAL
    assert embed_of(reply)["title"].startswith(title)


async def test_digest_is_deferred_privately_before_the_question_log_is_read(
    bot: FakeDiscord, store: WatchedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = bot.command("digest")
    callback = f"/interactions/{command['id']}/"
    acknowledged: list[bool] = []
    read = store.questions

    async def questions(**since: Any) -> Any:  # the real read, noting whether Discord had its acknowledgement
        acknowledged.append(bot.find(lambda r: r.path.startswith(callback)) is not None)
        return await read(**since)

    monkeypatch.setattr(store, "questions", questions)
    reply = await bot.reply_to(await bot.dispatch("INTERACTION_CREATE", command))
    [deferred] = [r for r in bot.requests if r.path.startswith(callback)]
    assert deferred.body["type"] == 5 and deferred.data["flags"] & EPHEMERAL
    assert reply.path.startswith("/webhooks/") and reply.data["flags"] & EPHEMERAL
    assert embed_of(reply)["title"].startswith("Factbot digest for")
    assert acknowledged == [True]


# -- buttons ---------------------------------------------------------------------------------------


async def test_a_clarify_suggestion_button_answers_when_pressed(bot: FakeDiscord, engine: Engine) -> None:
    question = "did china back the russian candidate"
    assert engine.respond(question).status is Status.clarify
    shown = await ask(bot, "ask", {"question": question})
    first = custom_ids(shown)[0]
    assert first.startswith("factbot:ask:")
    pressed = await bot.dispatch("INTERACTION_CREATE", bot.press(first, shown))
    reply = await bot.reply_to(pressed)
    intent = first.removeprefix("factbot:ask:")
    assert embed_of(reply)["title"] == engine.base.intents[intent].question
    assert engine.cite(engine.base.facts[engine.base.intents[intent].facts[0]]).quote in str(embed_of(reply))


async def test_feedback_buttons_thank_privately_and_log(bot: FakeDiscord, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shown = await ask(bot, "ask", {"question": "Who won the ITU election?"})
    down = custom_ids(shown)[1]
    reply = await bot.reply_to(await bot.dispatch("INTERACTION_CREATE", bot.press(down, shown, user_id="2002")))
    assert reply.data["content"] == messages.thanks("down") and reply.data["flags"] & EPHEMERAL
    assert "discord: feedback down for intent 'election-winner'" in bot_log(caplog)
    assert "2002" not in bot_log(caplog)  # no raw user id


def bot_log(caplog: pytest.LogCaptureFixture) -> str:
    """Everything Factbot's own modules logged."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))


# -- mentions and DMs ----------------------------------------------------------------------------


async def test_a_mention_in_a_channel_is_answered_as_a_reply(bot: FakeDiscord) -> None:
    me = bot.bot_user
    sent = await bot.dispatch("MESSAGE_CREATE", bot.chat(f"<@{me['id']}> who won the ITU election?", mentions=[me]))
    reply = await bot.wait_for(lambda r: r.path == "/channels/300/messages")
    assert str(reply.body["message_reference"]["message_id"]) == sent["id"]
    assert embed_of(reply)["title"] == "who won the ITU election?"


async def test_a_dm_is_answered_and_other_messages_are_ignored(bot: FakeDiscord) -> None:
    me, other_bot = bot.bot_user, user("7", "otherbot", bot=True)
    await bot.dispatch("MESSAGE_CREATE", bot.chat("who won?", author=me, guild_id=None, channel_id="501"))
    await bot.dispatch("MESSAGE_CREATE", bot.chat(f"<@{me['id']}> who won?", author=other_bot, mentions=[me]))
    await bot.dispatch("MESSAGE_CREATE", bot.chat("who won the ITU election?"))  # no mention: not for us
    await bot.dispatch("MESSAGE_CREATE", bot.chat("who won the ITU election?", guild_id=None, channel_id="502"))
    await bot.wait_for(lambda r: r.path == "/channels/502/messages")
    assert [r.path for r in bot.requests if r.path.startswith("/channels/")] == ["/channels/502/messages"]


async def test_hostile_input_cannot_ping_anyone(bot: FakeDiscord) -> None:
    me = bot.bot_user
    hostile = "@everyone @here <@123> <@!123> <@&9> who won?"
    await ask(bot, "ask", {"question": hostile})
    mention = bot.chat(
        f"<@{me['id']}> {hostile}", mentions=[me, user("123", "victim")], mention_roles=["9"], mention_everyone=True
    )
    await bot.dispatch("MESSAGE_CREATE", mention)
    await bot.dispatch("MESSAGE_CREATE", bot.chat(hostile, guild_id=None, channel_id="503"))
    await bot.wait_for(lambda r: r.path == "/channels/300/messages")
    await bot.wait_for(lambda r: r.path == "/channels/503/messages")
    for request in bot.sent():
        assert request.data["allowed_mentions"] == NONE
        assert "@everyone" not in (request.data.get("content") or "")


# -- limits, deadlines, floods ---------------------------------------------------------------------


async def test_a_huge_answer_is_trimmed_within_discords_limits(
    bot: FakeDiscord, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    citation = Citation(
        fact_id="f",
        source_id="s",
        title="T" * 300,
        author="A" * 900,
        publisher="P" * 900,
        url="https://example.org/",
        quote="q" * 5000,
        paragraph=1,
    )

    async def huge(question: Question) -> Answer:
        return Answer(
            question=question.text,
            status=Status.answered,
            intent="article-title",
            confidence=1.0,
            answer="a" * 10_000,
            citations=[citation.model_copy(update={"paragraph": n}) for n in range(40)],
        )

    monkeypatch.setattr(engine, "answer", huge)
    embed = embed_of(await ask(bot, "ask", {"question": "q" * 2000}))
    assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert len(embed["fields"]) <= 25 and all(len(f["value"]) <= 1024 for f in embed["fields"])
    assert len(embed["footer"]["text"]) <= 2048
    total = sum(len(embed.get(k, "")) for k in ("title", "description")) + len(embed["footer"]["text"])
    assert total + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]) <= 6000


@pytest.mark.parametrize(
    ("defer_after", "takes"), [(0.05, 0.3), (discord_send.DEFER_AFTER, discord_send.DEFER_AFTER + 1.5)]
)
async def test_a_slow_answer_defers_then_follows_up(
    bot: FakeDiscord, engine: Engine, monkeypatch: pytest.MonkeyPatch, defer_after: float, takes: float
) -> None:
    """The second case runs in real time: longer than Discord's 3 s, answered through the defer."""
    answer = engine.answer

    async def slow(question: Question) -> Answer:
        await asyncio.sleep(takes)
        return await answer(question)

    monkeypatch.setattr(discord_send, "DEFER_AFTER", defer_after)
    monkeypatch.setattr(engine, "answer", slow)
    interaction = await bot.dispatch("INTERACTION_CREATE", bot.command("ask", {"question": "Who won?"}))
    followup = await bot.reply_to(interaction, timeout=takes + 5)
    callbacks = [r for r in bot.requests if r.path.startswith(f"/interactions/{interaction['id']}/")]
    assert [(r.body["type"], r.status) for r in callbacks] == [(5, 200)]
    assert followup.path == f"/webhooks/9000/{interaction['token']}" and followup.status == 200
    assert embed_of(followup)["description"]


async def test_a_flood_is_answered_politely(start_bot: StartBot) -> None:
    fake = await start_bot(FACTBOT_DISCORD_COOLDOWN_RATE=2, FACTBOT_DISCORD_COOLDOWN_SECONDS=60)
    replies = [await ask(fake, "ask", {"question": "votes?"}, channel_id="399") for _ in range(3)]
    assert [bool(r.data.get("embeds")) for r in replies] == [True, True, False]
    assert replies[2].data["content"].startswith("Slow down a little")
    assert replies[2].data["flags"] & EPHEMERAL
    other = await ask(fake, "ask", {"question": "votes?"}, user_id="2002", channel_id="399")
    assert other.data.get("embeds")


async def test_a_flood_of_dms_is_told_once_then_ignored(start_bot: StartBot) -> None:
    fake = await start_bot(FACTBOT_DISCORD_COOLDOWN_RATE=1, FACTBOT_DISCORD_COOLDOWN_SECONDS=60)
    for _ in range(4):
        await fake.dispatch("MESSAGE_CREATE", fake.chat("who won?", guild_id=None, channel_id="501"))
    other = user("2002", "someone-else")
    sentinel = await fake.dispatch(
        "MESSAGE_CREATE", fake.chat("who won?", author=other, guild_id=None, channel_id="501")
    )
    await fake.wait_for(lambda r: str(r.data.get("message_reference", {}).get("message_id")) == sentinel["id"])
    await fake.wait_for(lambda r: (r.data.get("content") or "").startswith("Slow down a little"))
    replies = [r.body for r in fake.requests if r.path == "/channels/501/messages"]
    assert [bool(r.get("embeds")) for r in replies].count(False) == 1, "one warning, then silence"
    assert len(replies) == 3


async def test_the_fake_enforces_discords_interaction_deadlines(bot: FakeDiscord) -> None:
    interaction = await bot.dispatch("INTERACTION_CREATE", bot.command("factbot"))
    await bot.reply_to(interaction)
    url = f"{bot.api_url}/interactions/{interaction['id']}/{interaction['token']}/callback"
    late = await bot.dispatch("INTERACTION_CREATE", bot.command("factbot"))
    bot.deadline = 0.0
    late_url = f"{bot.api_url}/interactions/{late['id']}/{late['token']}/callback"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"type": 4, "data": {"content": "again", "allowed_mentions": NONE}}) as again:
            assert (again.status, (await again.json())["code"]) == (400, 40060)
        async with session.post(
            late_url, json={"type": 4, "data": {"content": "late", "allowed_mentions": NONE}}
        ) as too_late:
            assert (too_late.status, (await too_late.json())["code"]) == (404, 10062)


# -- the store: votes, repeat suppression ------------------------------------------------------------


async def press(fake: FakeDiscord, custom_id: str, shown: Request, **where: Any) -> Request:
    """Press a button on a message the bot sent; the reply to the press."""
    return await fake.reply_to(await fake.dispatch("INTERACTION_CREATE", fake.press(custom_id, shown, **where)))


def jump(message_id: str | None, *, channel: str = "300", guild: str = "111") -> str:
    """A message's jump URL."""
    return f"https://discord.com/channels/{guild}/{channel}/{message_id}"


def pointer(link: str, when: str = "just now") -> str:
    """The line above a repeated answer."""
    return f"I answered that here {when}, so this copy is just for you. Earlier: {link}"


async def test_a_vote_is_kept_once_per_person_and_answer(
    bot: FakeDiscord, engine: Engine, store: WatchedStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shown = await ask(bot, "ask", {"question": "By how much did Bogdan-Martin win?"})
    up, down = custom_ids(shown)
    assert up == "factbot:vote:up:vote-margin:mandate-size,vote-margin"
    for custom_id, user_id in [(up, "2002"), (down, "2002"), (up, "2003")]:
        thanks = await press(bot, custom_id, shown, user_id=user_id)  # thanked once the vote is kept
        assert thanks.data["content"] == messages.thanks("up" if custom_id == up else "down")
    await store.wait_for(lambda: len(store.votes) == 3)  # votes are written behind, in batches
    kept = sorted(await store.feedback(), key=lambda f: f.vote)
    assert [(f.vote, f.user_hash) for f in kept] == [
        ("down", hash_user("discord", "2002", salt=engine.salt)),
        ("up", hash_user("discord", "2003", salt=engine.salt)),
    ]
    for record in kept:
        assert shown.message_id and record.answer_key == shown.message_id  # the message holding the buttons
        assert (record.platform, record.intent, record.fact_ids) == (
            "discord",
            "vote-margin",
            ["mandate-size", "vote-margin"],
        )
    assert "2002" not in bot_log(caplog) and "2003" not in bot_log(caplog)


async def test_a_button_from_before_the_store_counts_with_its_intents_facts(
    bot: FakeDiscord, engine: Engine, store: WatchedStore
) -> None:
    shown = copy.deepcopy(await ask(bot, "ask", {"question": "By how much did Bogdan-Martin win?"}))
    for row in shown.data["components"]:  # as buttons were rendered before they carried the facts
        for button in row["components"]:
            button["custom_id"] = button["custom_id"].rsplit(":", 1)[0]
    await press(bot, "factbot:vote:down:vote-margin", shown)
    [record] = await store.wait_for(lambda: store.votes)
    assert record.fact_ids == engine.base.intents["vote-margin"].facts


async def test_a_repeated_ask_gets_the_answer_and_the_link_for_the_asker_only(
    bot: FakeDiscord, store: WatchedStore
) -> None:
    first = await ask(bot, "ask", {"question": "Who won the ITU election?"})
    [kept] = await store.wait_for(lambda: store.posts)
    assert (kept.platform, kept.channel, kept.fact_ids) == ("discord", "300", ["election-winner"])
    assert kept.link == jump(first.message_id)
    again = await ask(bot, "ask", {"question": "ITU election winner"}, user_id="2002")
    assert again.data["content"] == pointer(kept.link) and again.data["flags"] & EPHEMERAL
    [embed], [given] = again.data["embeds"], first.data["embeds"]
    assert (embed["description"], embed["fields"]) == (given["description"], given["fields"])
    assert len(store.posts) == 1  # a pointer is not itself remembered: the window runs from the full answer


async def test_a_repeated_mention_gets_the_answer_under_a_link_to_the_earlier_reply(
    bot: FakeDiscord, store: WatchedStore
) -> None:
    me = bot.bot_user
    await bot.dispatch("MESSAGE_CREATE", bot.chat(f"<@{me['id']}> who won the ITU election?", mentions=[me]))
    first = await bot.wait_for(lambda r: r.path == "/channels/300/messages")
    [kept] = await store.wait_for(lambda: store.posts)
    assert kept.link == jump(first.message_id)
    second = await bot.dispatch("MESSAGE_CREATE", bot.chat(f"<@{me['id']}> ITU election winner", mentions=[me]))
    reply = await bot.wait_for(lambda r: str(r.data.get("message_reference", {}).get("message_id")) == second["id"])
    assert reply.data["content"] == pointer(kept.link)
    assert reply.data["embeds"][0]["description"] == first.data["embeds"][0]["description"]


async def test_a_mention_after_an_ask_points_to_the_ask(bot: FakeDiscord, store: WatchedStore) -> None:
    first = await ask(bot, "ask", {"question": "Who won the ITU election?"})
    await store.wait_for(lambda: store.posts)
    me = bot.bot_user
    await bot.dispatch("MESSAGE_CREATE", bot.chat(f"<@{me['id']}> ITU election winner", mentions=[me]))
    reply = await bot.wait_for(lambda r: r.path == "/channels/300/messages")
    assert reply.data["content"] == pointer(jump(first.message_id))


async def test_other_channels_dms_and_other_facts_get_the_whole_answer(bot: FakeDiscord, store: WatchedStore) -> None:
    await ask(bot, "ask", {"question": "Who won the ITU election?"})
    await store.wait_for(lambda: store.posts)
    replies = [
        await ask(bot, "ask", {"question": "Who won the ITU election?"}, channel_id="301"),
        await ask(bot, "ask", {"question": "Who won the ITU election?"}, guild_id=None, channel_id="501"),
        await ask(bot, "ask", {"question": "Who won the ITU election?"}, guild_id=None, channel_id="501"),
        await ask(bot, "ask", {"question": "By how much did Bogdan-Martin win?"}),
    ]
    assert all(r.data.get("embeds") for r in replies)
    await store.wait_for(lambda: len(store.posts) == 3)
    assert [(p.channel, p.fact_ids) for p in store.posts] == [
        ("300", ["election-winner"]),
        ("301", ["election-winner"]),
        ("300", ["mandate-size", "vote-margin"]),
    ]
    assert store.posts[1].link == jump(replies[0].message_id, channel="301")


async def test_direct_messages_are_never_shortened(bot: FakeDiscord, store: WatchedStore) -> None:
    for n in range(2):
        await bot.dispatch("MESSAGE_CREATE", bot.chat("who won the ITU election?", guild_id=None, channel_id="502"))
        await bot.wait_for(lambda r, n=n: len([q for q in bot.requests if q.path == "/channels/502/messages"]) > n)
    replies = [r for r in bot.requests if r.path == "/channels/502/messages"]
    assert all(r.data.get("embeds") for r in replies) and store.posts == []


async def test_a_window_of_zero_turns_repeat_suppression_off(start_bot: StartBot, store: WatchedStore) -> None:
    fake = await start_bot(FACTBOT_REPEAT_WINDOW_MINUTES=0)
    replies = [await ask(fake, "ask", {"question": "Who won the ITU election?"}) for _ in range(2)]
    assert all(r.data.get("embeds") for r in replies) and store.posts == []


async def test_a_deferred_answer_is_remembered_by_its_follow_up(
    bot: FakeDiscord, engine: Engine, store: WatchedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = engine.answer
    reached = asyncio.Event()

    async def slow(question: Question) -> Answer:
        await reached.wait()  # held until the bot has deferred
        return await answer(question)

    monkeypatch.setattr(discord_send, "DEFER_AFTER", 0.01)
    monkeypatch.setattr(engine, "answer", slow)
    interaction = await bot.dispatch(
        "INTERACTION_CREATE", bot.command("ask", {"question": "Who won the ITU election?"})
    )
    await bot.wait_for(lambda r: r.path.startswith(f"/interactions/{interaction['id']}/"))
    reached.set()
    followup = await bot.reply_to(interaction)
    [kept] = await store.wait_for(lambda: store.posts)
    assert followup.path.startswith("/webhooks/") and kept.link == jump(followup.message_id)


# -- the digest: /digest preview, subscribe, unsubscribe; posting -----------------------------------


async def test_digest_preview_is_private_with_a_button_to_try(bot: FakeDiscord, engine: Engine) -> None:
    intent = engine.base.intents["election-winner"]
    await engine.answer(Question(text=intent.question, who="2001", where="300", platform="discord"))
    await engine.drain()
    reply = await ask(bot, "digest")
    embed = embed_of(reply)
    assert reply.data["flags"] & EPHEMERAL
    assert embed["title"].startswith("Factbot digest for") and embed["description"].startswith("**Fact of the day:**")
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["What the team asked"].startswith(f"• {intent.question} — ")
    [button] = custom_ids(reply)
    assert button.startswith("factbot:ask:") and button != "factbot:ask:election-winner"


async def test_managers_subscribe_with_time_zone_and_curators(bot: FakeDiscord, store: WatchedStore) -> None:
    options: dict[str, str | bool] = {
        "action": "subscribe",
        "time": "07:45",
        "timezone": "america/new_york",
        "curators": True,
    }
    reply = await ask(bot, "digest", options, permissions=MEMBER | MANAGE_CHANNELS)
    assert reply.data["content"].startswith(
        "This channel will get the Factbot digest every day at 07:45 (America/New_York), with what is not"
    )
    assert reply.data["flags"] & EPHEMERAL
    assert await store.subscriptions() == [
        Subscription(
            platform="discord",
            channel="300",
            workspace="111",
            at=time(7, 45),
            timezone="America/New_York",
            curators=True,
        )
    ]
    gone = await ask(bot, "digest", {"action": "unsubscribe"}, permissions=MANAGE_CHANNELS)
    assert gone.data["content"].startswith("This channel will no longer get the Factbot digest.")
    assert await store.subscriptions() == []


async def test_defaults_are_nine_utc(bot: FakeDiscord, store: WatchedStore) -> None:
    reply = await ask(bot, "digest", {"action": "subscribe"}, permissions=MANAGE_CHANNELS)
    assert "every day at 09:00 (UTC)." in reply.data["content"]
    [sub] = await store.subscriptions()
    assert (sub.at, sub.timezone, sub.curators) == (time(9, 0), "UTC", False)


@pytest.mark.parametrize("action", ["subscribe", "unsubscribe"])
async def test_members_without_manage_channels_may_not(bot: FakeDiscord, store: WatchedStore, action: str) -> None:
    reply = await ask(bot, "digest", {"action": action})
    assert reply.data["content"] == messages.not_allowed(WHO_MAY_MANAGE) and reply.data["flags"] & EPHEMERAL
    assert await store.subscriptions() == []


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"time": "7pm"}, "“7pm” is not a time"),
        ({"time": "24:30"}, "“24:30” is not a time"),
        ({"timezone": "Mars/Olympus_Mons"}, "“Mars/Olympus_Mons” is not a time zone"),
    ],
)
async def test_a_bad_time_or_zone_gets_one_line(
    bot: FakeDiscord, store: WatchedStore, options: dict[str, str | bool], says: str
) -> None:
    reply = await ask(bot, "digest", {"action": "subscribe", **options}, permissions=MANAGE_CHANNELS)
    assert reply.data["content"].startswith(says) and "\n" not in reply.data["content"]
    assert await store.subscriptions() == []


async def test_a_dm_cannot_subscribe(bot: FakeDiscord, store: WatchedStore) -> None:
    reply = await ask(bot, "digest", {"action": "subscribe"}, guild_id=None, channel_id="501")
    assert reply.data["content"] == messages.digest_needs_a_channel("/digest action:subscribe")
    assert await store.subscriptions() == []


@pytest.mark.parametrize(
    ("typed", "first"), [("london", "Europe/London"), ("", "Africa/Abidjan"), ("new_y", "America/New_York")]
)
async def test_time_zones_autocomplete(bot: FakeDiscord, typed: str, first: str) -> None:
    interaction = await bot.dispatch("INTERACTION_CREATE", bot.autocomplete("digest", "timezone", typed))
    reply = await bot.wait_for(lambda r: r.path.startswith(f"/interactions/{interaction['id']}/"))
    choices = reply.body["data"]["choices"]
    assert reply.body["type"] == 8 and 1 <= len(choices) <= 25
    assert choices[0] == {"name": first, "value": first}


@pytest_asyncio.fixture
async def poster(fake: FakeDiscord, engine: Engine) -> AsyncIterator[DiscordDigestPoster]:
    """A logged-in client's DigestPoster (no gateway: what `factbot digest send` needs)."""
    client = discord_run.build_client(engine, settings())
    async with client:
        await client.login(TOKEN)
        yield discord_run.digest_poster(client)


async def test_a_digest_is_posted_to_the_channel(
    poster: DiscordDigestPoster, fake: FakeDiscord, engine: Engine
) -> None:
    built = build_digest(engine, channel="300", day=date(2026, 5, 1))
    assert poster.platform == "discord"
    await poster.post_digest(Subscription(platform="discord", channel="300"), built)
    [sent] = fake.sent()
    assert sent.path == "/channels/300/messages" and sent.status == 200
    assert embed_of(sent)["title"] == "Factbot digest for Friday 01 May 2026"
    assert custom_ids(sent) == [f"factbot:ask:{built.try_asking.intent}"]
    assert sent.data["allowed_mentions"] == NONE


@pytest.mark.parametrize(("status", "reason"), [(404, "Unknown Channel"), (403, "Missing Access")])
async def test_a_gone_channel_raises_channel_gone(
    poster: DiscordDigestPoster, fake: FakeDiscord, engine: Engine, status: int, reason: str
) -> None:
    fake.remove_channel("302", status=status)
    with pytest.raises(ChannelGone, match=reason):
        await poster.post_digest(
            Subscription(platform="discord", channel="302"), build_digest(engine, channel="302", day=date(2026, 5, 1))
        )


async def test_a_channel_id_that_is_not_one_is_gone(poster: DiscordDigestPoster, engine: Engine) -> None:
    with pytest.raises(ChannelGone):
        await poster.post_digest(
            Subscription(platform="discord", channel="general"),
            build_digest(engine, channel="general", day=date(2026, 5, 1)),
        )


# -- /why ------------------------------------------------------------------------------------------


async def test_why_with_a_question_explains_it_privately(bot: FakeDiscord) -> None:
    reply = await ask(bot, "why", {"question": "how many votes did ismailov get"})
    assert reply.data["flags"] & EPHEMERAL
    embed = embed_of(reply)
    assert embed["title"] == "Why I said that"
    assert embed["description"].startswith("I answered with “What was Ismailov's vote count?” because your question")
    [numbers] = embed["fields"]
    assert re.search(r"confidence 0\.\d+ ≥ answer threshold 0\.\d+ and margin", numbers["value"])
    assert "Runner-up: " in numbers["value"] and len(numbers["value"]) <= 1024


async def test_a_follow_up_is_read_with_the_same_person_s_question_before_it(bot: FakeDiscord) -> None:
    await ask(bot, "ask", {"question": "who won the ITU election?"}, channel_id="310")
    mine = embed_of(await ask(bot, "ask", {"question": "and when was that?"}, channel_id="310"))
    theirs = embed_of(await ask(bot, "ask", {"question": "and when was that?"}, channel_id="310", user_id="2002"))
    assert "Read as a follow-up to “who won the ITU election?”" in mine["description"]
    assert any("29 September" in field["value"] for field in mine["fields"])
    assert "follow-up" not in theirs["description"]
    why = embed_of(await ask(bot, "why", channel_id="310", user_id="2002"))
    assert "follow-up" not in why["description"]


async def test_why_alone_explains_the_last_answer_in_that_channel(bot: FakeDiscord) -> None:
    await ask(bot, "ask", {"question": "Where is the ITU headquartered?"}, channel_id="301")
    await ask(bot, "ask", {"question": "how many votes did ismailov get"}, channel_id="300")
    here = embed_of(await ask(bot, "why", channel_id="301"))
    assert here["description"].startswith("I didn't answer") and "“headquartered”" in here["description"]
    await bot.dispatch("MESSAGE_CREATE", bot.chat("votes?", guild_id=None, channel_id="504"))
    await bot.wait_for(lambda r: r.path == "/channels/504/messages")
    in_dm = embed_of(await ask(bot, "why", guild_id=None, channel_id="504"))
    assert in_dm["description"].startswith("I asked which you meant")


async def test_why_in_a_fresh_channel_gives_a_one_line_hint(bot: FakeDiscord) -> None:
    reply = await ask(bot, "why", channel_id="301")
    assert reply.data["flags"] & EPHEMERAL and "embeds" not in reply.data or not reply.data["embeds"]
    assert reply.data["content"].startswith("Nothing to explain here yet: ask with `/ask`, then `/why`")


async def test_why_keeps_hostile_text_inert(bot: FakeDiscord) -> None:
    hostile = "@everyone @here <@123> <@!123> <@&9> **bold** zzqx"
    await ask(bot, "ask", {"question": hostile}, channel_id="301")
    for options in ({}, {"question": hostile}):
        reply = await ask(bot, "why", options, channel_id="301")
        assert reply.data["allowed_mentions"] == NONE
        text = str(embed_of(reply))
        assert "@everyone" not in text and "@here" not in text and "**bold**" not in text
