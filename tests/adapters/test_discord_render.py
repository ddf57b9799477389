"""The Discord adapter's pure parts: embeds within limits, buttons, autocomplete, invite URL, token, imports."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.adapters.discord_bot import FactbotClient
from bot.adapters.discord_commands import browse_order, suggest_questions
from bot.adapters.discord_embeds import answer_embed, help_embed, render
from bot.adapters.discord_run import DiscordConfigError, application_id_from_token, build_client, invite_url
from bot.adapters.discord_send import Throttle, clip
from bot.adapters.discord_views import answer_view
from bot.chat import messages
from bot.chat.commands import DISCORD, on
from bot.chat.replies import Answered, Notice, NoTopic, Reply
from bot.engine import Engine
from bot.models import Answer, Citation, Status, Suggestion
from bot.settings import PROJECT_ROOT, Settings
from bot.store import PostRecord

CITATION = Citation(
    fact_id="f",
    source_id="s",
    title="Title",
    author="Author",
    publisher="Publisher",
    url="https://example.org/a",
    quote="A quote.",
    paragraph=3,
)


def answer(**fields: object) -> Answer:
    """An answered Answer, with `fields` changed."""
    base = {
        "question": "Q?",
        "status": Status.answered,
        "intent": "i-1",
        "confidence": 1.0,
        "answer": "A.",
        "citations": [CITATION],
    }
    return Answer.model_validate({**base, **fields})


@pytest.mark.parametrize(
    "fields",
    [
        {"question": "q" * 1000},
        {"answer": "a" * 9000},
        {"citations": [CITATION.model_copy(update={"quote": "x" * 3000, "title": "t" * 3000})]},
        {"citations": [CITATION.model_copy(update={"paragraph": n, "quote": "y" * 900}) for n in range(60)]},
        {"status": Status.clarify, "suggestions": [Suggestion(intent=f"i{n}", question="s" * 300) for n in range(9)]},
    ],
)
def test_answer_embeds_stay_within_discords_limits(fields: dict[str, object]) -> None:
    embed = answer_embed(answer(**fields))
    data = embed.to_dict()
    assert len(data["title"]) <= 256 and len(data.get("description", "")) <= 4096
    assert len(embed.fields) <= 25 and all(len(f.value or "") <= 1024 for f in embed.fields)
    assert len(embed.footer.text or "") <= 2048 and len(embed) <= 6000


def test_the_footer_names_title_author_publisher_and_paragraphs() -> None:
    cited = [CITATION, CITATION.model_copy(update={"paragraph": 7}), CITATION.model_copy(update={"paragraph": None})]
    embed = answer_embed(answer(citations=cited))
    assert embed.footer.text == "Title — Author, Publisher · paragraphs 3, 7, source record"
    assert embed.url == "https://example.org/a" and embed.fields[0].value == "“A quote.”"


@pytest.mark.parametrize(
    ("fields", "ids"),
    [
        ({}, ["factbot:vote:up:i-1:f", "factbot:vote:down:i-1:f"]),
        (
            {"citations": [CITATION.model_copy(update={"fact_id": f"fact-{n}"}) for n in range(2)]},
            ["factbot:vote:up:i-1:fact-0,fact-1", "factbot:vote:down:i-1:fact-0,fact-1"],
        ),
        (
            {"citations": [CITATION.model_copy(update={"fact_id": f"a-rather-long-fact-id-{n}"}) for n in range(4)]},
            ["factbot:vote:up:i-1", "factbot:vote:down:i-1"],
        ),  # over 100 characters: the facts are left out
        (
            {"citations": [CITATION.model_copy(update={"fact_id": "odd id"})]},
            ["factbot:vote:up:i-1", "factbot:vote:down:i-1"],
        ),
        (
            {
                "status": Status.clarify,
                "citations": [],
                "suggestions": [Suggestion(intent="a", question="A?"), Suggestion(intent="b c", question="B?")],
            },
            ["factbot:ask:a"],
        ),
        ({"status": Status.fallback, "intent": None, "citations": []}, None),
    ],
)
def test_buttons_carry_the_intent_in_their_custom_id(fields: dict[str, object], ids: list[str] | None) -> None:
    view = answer_view(answer(**fields))
    assert (view and [item.custom_id for item in view.children]) == ids  # type: ignore[attr-defined]


def test_a_repeat_renders_the_answer_under_the_pointer_to_the_earlier_one() -> None:
    link = "https://discord.com/channels/111/300/42"
    earlier = PostRecord(platform="discord", channel="300", fact_ids=["f"], link=link)
    out = render(Reply(Answered(answer(), earlier=earlier)), settings=Settings())
    assert out.content == f"{messages.answered_before(earlier.at)} {messages.earlier_at(link)}" and out.private
    assert out.embed is not None and out.embed.to_dict() == answer_embed(answer()).to_dict()
    assert out.view is not None and len(out.view.children) == 2


@pytest.mark.parametrize(
    ("reply", "content", "title", "private"),
    [
        (Reply(Answered(answer()), private=False), None, "Q?", False),
        (Reply(Notice(messages.thanks("up"))), messages.thanks("up"), None, True),
        (Reply(NoTopic("zz**top**", ["china", "votes"])), None, "No topic “zz\\*\\*top\\*\\*”.", True),
    ],
)
def test_render_follows_the_body_and_privacy(
    reply: Reply, content: str | None, title: str | None, private: bool
) -> None:
    out = render(reply, settings=Settings())
    assert (out.content, out.embed.title if out.embed else None, out.private) == (content, title, private)


def test_the_help_lists_every_discord_command_of_the_table(engine: Engine) -> None:
    settings = Settings()
    description = help_embed(engine.overview(), settings).description or ""
    for command in on(DISCORD):
        assert f"`{command.usage(settings, platform=DISCORD)}`: {command.summary}" in description


def test_clip_marks_a_cut() -> None:
    assert clip("abc", 3) == "abc" and clip("abcdef", 4) == "abc…" and len(clip("x" * 5000, 1024)) == 1024


@pytest.mark.parametrize(
    ("typed", "intent"),
    [
        ("ismailov vots", "loser-votes"),
        ("who wn", "election-winner"),
        ("Who won the", "election-winner"),
        ("wat is the itu", "itu-role"),
        ("bogdan martin from", "winner-country"),
        ("xi jinpng third", "xi-third-term"),
    ],
)
def test_autocomplete_puts_the_meant_question_near_the_top(engine: Engine, typed: str, intent: str) -> None:
    questions = suggest_questions(engine, typed, default=browse_order(engine))
    assert len(questions) <= 25
    assert engine.base.intents[intent].question in questions[:3]


def test_the_browse_order_starts_with_the_headline_questions(engine: Engine) -> None:
    order = browse_order(engine)
    assert order[:3] == [s.question for s in engine.overview().try_asking]
    assert len(order) == len(set(order)) == len(engine.base.intents)


def test_invite_url_asks_for_exactly_the_scopes_and_permissions_needed() -> None:
    query = parse_qs(urlsplit(invite_url(1234)).query)
    assert query["client_id"] == ["1234"]
    assert query["scope"] == ["bot applications.commands"]
    view_channel, send, embed_links, history, send_in_threads = 1 << 10, 1 << 11, 1 << 14, 1 << 16, 1 << 38
    assert int(query["permissions"][0]) == view_channel | send | embed_links | history | send_in_threads


@pytest.mark.parametrize(
    ("token", "expected"),
    [("MTIzNDU2Nzg5MDEy.GhIjKl.secret-part", 123456789012), ("not-a-token", None), (None, None)],
)
def test_the_application_id_comes_from_the_token(token: str | None, expected: int | None) -> None:
    settings = Settings.model_validate({"DISCORD_TOKEN": token} if token is not None else {})
    if expected is not None:
        assert application_id_from_token(settings) == expected
        return
    with pytest.raises(DiscordConfigError, match="DISCORD_TOKEN") as raised:
        application_id_from_token(settings)
    assert "secret" not in str(raised.value)


def test_throttle_allows_rate_per_window_then_warns_once() -> None:
    throttle = Throttle(2, 60)
    assert throttle.retry_after(1) is None and throttle.retry_after(1) is None
    retry = throttle.retry_after(1)
    assert retry is not None and 0 < retry <= 60
    assert throttle.retry_after(2) is None
    assert Throttle(1, 0).retry_after(1) is None and Throttle(1, 0).retry_after(1) is None


async def test_throttle_warns_once_per_cooldown() -> None:
    throttle = Throttle(1, 60)
    assert throttle.first_warning(1, 60) and not throttle.first_warning(1, 60) and throttle.first_warning(2, 60)


async def test_command_names_come_from_the_settings(engine: Engine) -> None:
    settings = Settings.model_validate({"FACTBOT_COMMAND_ASK": "question", "FACTBOT_COMMAND_HELP": "help"})
    client = build_client(engine, settings)
    assert sorted(c.name for c in client.tree.get_commands()) == ["digest", "facts", "help", "question", "why"]
    assert "`/question question`" in (help_embed(engine.overview(), settings).description or "")
    await client.close()


def test_the_core_does_not_import_discord() -> None:
    code = "import sys, bot.engine, bot.digest, bot.settings, bot.adapters.console; print('discord' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert result.stdout.strip() == "False"


async def test_a_bot_without_voice_says_nothing_about_voice(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    import discord

    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = True  # as in a fresh process
    with caplog.at_level("WARNING"):
        client = FactbotClient(engine, Settings())
        await client.close()
    assert not [r for r in caplog.records if "voice" in r.getMessage()]
