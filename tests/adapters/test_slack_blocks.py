"""Slack rendering without a network: escaping, Block Kit limits, statuses, votes, repeats, the manifest, the dedupe
memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.slack_blocks import (
    VALUE_LIMIT,
    VoteValue,
    echo,
    escape,
    mention,
    plain,
    read_vote,
    section,
    trim,
    unescape,
)
from bot.adapters.slack_manifest import manifest, manifest_yaml
from bot.adapters.slack_messages import answer_message, facts_message, help_message, repeat_message
from bot.adapters.slack_payloads import MessageEvent
from bot.chat.messages import ago
from bot.chat.recent import Recent as RecentEvents
from bot.engine import Engine
from bot.models import Answer, Citation, Status, Suggestion
from bot.settings import PROJECT_ROOT, Settings
from bot.store import PostRecord, now
from tests.fakes.slack import block_problems, strings

MANIFEST = PROJECT_ROOT / "slack" / "manifest.yaml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a & b", "a &amp; b"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123|bob>", "&lt;@U123|bob&gt;"),
        ("<https://evil|x>", "&lt;https://evil|x&gt;"),
        ("plain *bold* _it_", "plain *bold* _it_"),
        ("&amp;", "&amp;amp;"),
    ],
)
def test_escape(text: str, expected: str) -> None:
    assert escape(text) == expected
    assert unescape(escape(text)) == text


@pytest.mark.parametrize(
    ("received", "typed"),
    [
        ("&lt;b&gt; &amp; &lt;", "<b> & <"),
        ("&amp;lt;", "&lt;"),  # decoded once, never twice
        ("bell\x07 nul\x00 tab\t", "bell nul tab\t"),
        ("<!here>", "<!here>"),
    ],
)
def test_plain_decodes_what_slack_sends_once(received: str, typed: str) -> None:
    assert plain(received) == typed


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("abcdefghij", 5, "abcd…"),
        ("ab &amp; cd", 6, "ab …"),  # never cut inside an entity
        ("ab&lt;", 5, "ab…"),
    ],
)
def test_trim(text: str, limit: int, expected: str) -> None:
    assert trim(text, limit) == expected
    assert len(trim(text, limit)) <= limit


def test_echo_is_one_inert_line_of_bounded_length() -> None:
    assert echo("who\n  won <!channel>?") == "who won &lt;!channel&gt;?"
    assert len(echo("x" * 10_000)) == 300


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("U0HUMAN", "<@U0HUMAN>"),
        ("W123ABC", "<@W123ABC>"),
        ("<!channel>", None),
        ("U1> <!here", None),
        ("", None),
        (None, None),
        ("u0lower", None),
    ],
)
def test_only_a_plain_user_id_becomes_a_mention(user: str | None, expected: str | None) -> None:
    assert mention(user) == expected


def citation(quote: str = "A verbatim quote & more.", paragraph: int | None = 3) -> Citation:
    return Citation(
        fact_id="f",
        source_id="s",
        title="Title <b>",
        author="Ann Author",
        publisher="Pub",
        url="https://example.org/a",
        quote=quote,
        paragraph=paragraph,
    )


def answer(status: Status, **fields: Any) -> Answer:
    values: dict[str, Any] = {"question": "q?", "status": status, "confidence": 0.5, "answer": "The answer."}
    return Answer(**(values | fields))


def action_values(message: Any) -> list[str]:
    return [e["value"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def test_an_answer_quotes_its_source_and_asks_for_feedback() -> None:
    message = answer_message(answer(Status.answered, intent="i1", citations=[citation()]), asker="U0HUMAN")
    text = "\n".join(strings(message.blocks))
    assert "<@U0HUMAN> asked: “q?”" in text
    assert ">A verbatim quote &amp; more." in text
    assert "*Title &lt;b&gt;* · Ann Author · Pub · paragraph 3 · <https://example.org/a|read the source>" in text
    assert [read_vote(v) for v in action_values(message)] == [
        VoteValue(vote="up", intent="i1", facts=["f"]),
        VoteValue(vote="down", intent="i1", facts=["f"]),
    ]
    assert message.text.startswith("The answer.") and block_problems(message.blocks) == []


def test_a_record_fact_and_an_odd_url_render_as_text() -> None:
    odd = citation(paragraph=None).model_copy(update={"url": "javascript:alert(1)|<x>"})
    message = answer_message(answer(Status.answered, intent="i1", citations=[odd]))
    text = "\n".join(strings(message.blocks))
    assert "source record" in text
    assert "read the source (javascript:alert(1)|&lt;x&gt;)" in text


@pytest.mark.parametrize("status", [Status.clarify, Status.fallback, Status.smalltalk])
def test_unanswered_questions_offer_suggestion_buttons_and_no_feedback(status: Status) -> None:
    suggestions = [Suggestion(intent=f"i{n}", question=f"Question {n}?") for n in range(3)]
    message = answer_message(answer(status, suggestions=suggestions), about="“Title” by Ann (Pub)")
    assert action_values(message) == ["i0", "i1", "i2"]
    ids = [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert ids == ["factbot_suggest_0", "factbot_suggest_1", "factbot_suggest_2"]
    covers = any("I answer only from" in t for t in strings(message.blocks))
    assert covers is (status is Status.fallback)


def test_everything_oversized_still_fits_block_kit() -> None:
    huge = answer(
        Status.answered,
        intent="i" * 3000,
        answer="&<>" * 2000,
        question="<!channel>" * 1000,
        truncated=True,
        citations=[citation(quote="q&" * 4000) for _ in range(40)],
        suggestions=[Suggestion(intent="s" * 3000, question="Why " * 100) for _ in range(30)],
    )
    message = answer_message(huge, asker="U0HUMAN")
    assert block_problems(message.blocks) == []
    assert len(message.text) <= 3000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"vote":"up","intent":"i1","facts":["f1","f2"]}', VoteValue(vote="up", intent="i1", facts=["f1", "f2"])),
        ('{"vote":"down","intent":"i:1,2"}', VoteValue(vote="down", intent="i:1,2")),
        ("up:election-winner", VoteValue(vote="up", intent="election-winner")),  # a button from before the store
        ("down:i:1", VoteValue(vote="down", intent="i:1")),
        ('{"vote":"sideways","intent":"i1"}', None),
        ("sideways:i1", None),
        ("up:", None),
        ("", None),
        ("{not json", None),
    ],
)
def test_a_vote_button_value_reads_back(value: str, expected: VoteValue | None) -> None:
    assert read_vote(value) == expected


def test_a_vote_too_long_for_slack_leaves_its_facts_out() -> None:
    many = VoteValue(vote="up", intent="i1", facts=[f"fact-{n:04d}" for n in range(300)])
    assert read_vote(many.encode()) == VoteValue(vote="up", intent="i1")
    huge = VoteValue(vote="down", intent="i" * 3000)
    assert len(huge.encode()) <= VALUE_LIMIT and json.loads(huge.encode())["vote"] == "down"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "just now"),
        (59, "just now"),
        (60, "a minute ago"),
        (119, "a minute ago"),
        (120, "2 minutes ago"),
        (29 * 60 + 59, "29 minutes ago"),
    ],
)
def test_ago_counts_whole_minutes(seconds: int, expected: str) -> None:
    moment = now()
    assert ago(moment - timedelta(seconds=seconds), at=moment) == expected


@pytest.mark.parametrize(
    ("link", "shown"),
    [
        (
            "https://fake.slack.com/archives/C1/p1700000000000100",
            "<https://fake.slack.com/archives/C1/p1700000000000100|see that answer>",
        ),
        ("javascript:alert(1)|<!channel>", "see that answer (javascript:alert(1)|&lt;!channel&gt;)"),
    ],
)
def test_a_repeat_carries_the_answer_under_a_pointer_to_the_earlier_one(link: str, shown: str) -> None:
    post = PostRecord(at=now() - timedelta(minutes=3), platform="slack", channel="C1", fact_ids=["f"], link=link)
    full = answer_message(answer(Status.answered, intent="i1", citations=[citation()]))
    message = repeat_message(post, full, at=post.at + timedelta(minutes=3))
    line = f"I answered that here 3 minutes ago, so this copy is just for you. ({shown})"
    assert message.text == f"{line}\n{full.text}"
    assert message.blocks == [section(line), *full.blocks] and block_problems(message.blocks) == []


def test_a_repeat_of_an_answer_given_in_an_acknowledgement_has_no_link() -> None:
    post = PostRecord(at=now(), platform="slack", channel="C1", fact_ids=["f"], link="")
    message = repeat_message(post, answer_message(answer(Status.answered, intent="i1", citations=[citation()])))
    assert message.blocks[0] == section("I answered that here just now, so this copy is just for you.")


def test_facts_of_a_big_topic_fit_in_fifty_blocks() -> None:
    facts = [(f"Answer {n} " + "word " * 200, citation()) for n in range(500)]
    message = facts_message("big", facts)
    assert block_problems(message.blocks) == []


def test_help_names_the_configured_commands(engine: Engine) -> None:
    settings = Settings().model_copy(update={"command_ask": "question", "command_facts": "kb"})
    text = "\n".join(strings(help_message(engine.overview(), settings).blocks))
    assert "`/question &lt;question&gt;`" in text and "`/kb [topic]`" in text
    assert f"{engine.overview().facts} facts" in text


@pytest.mark.parametrize(
    ("text", "bot", "expected"),
    [
        ("<@UFACTBOT> who won?", "UFACTBOT", "who won?"),
        ("<@UFACTBOT|factbot> who won?", "UFACTBOT", "who won?"),
        ("who won <@UFACTBOT>", "UFACTBOT", "who won"),
        ("<@UOTHER> who won?", "UFACTBOT", "<@UOTHER> who won?"),
        ("&lt;b&gt; &amp; <@UFACTBOT>", "UFACTBOT", "<b> &"),
        ("<@UFACTBOT>", "UFACTBOT", ""),
    ],
)
def test_the_bots_own_mention_is_stripped(text: str, bot: str, expected: str) -> None:
    event = MessageEvent(type="app_mention", channel="C1", ts="1.0", text=text, user="U0HUMAN")
    assert event.question(bot).text == expected


def test_recent_events_answer_a_retry_once_and_stay_bounded() -> None:
    now = [0.0]
    recent = RecentEvents(size=3, ttl=60, clock=lambda: now[0])
    assert [recent.seen(e) for e in ("a", "a", "b", "c", "d")] == [False, True, False, False, False]
    assert recent.seen("a") is False  # pushed out by size
    now[0] = 61
    assert recent.seen("d") is False  # forgotten after the ttl


# -- the manifest -------------------------------------------------------------------------------


@pytest.fixture
def default_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("ASK", "FACTS", "DIGEST", "WHY", "HELP"):
        monkeypatch.delenv(f"FACTBOT_COMMAND_{name}", raising=False)
    return Settings()


def test_the_shipped_manifest_is_the_generated_one(default_settings: Settings) -> None:
    assert MANIFEST.read_text(encoding="utf-8") == manifest_yaml(default_settings)
    assert yaml.safe_load(MANIFEST.read_text(encoding="utf-8")) == manifest(default_settings)


def test_the_manifest_asks_for_exactly_what_is_used(default_settings: Settings) -> None:
    data = manifest(default_settings)
    assert data["display_information"]["name"] == "Factbot"
    assert sorted(data["oauth_config"]["scopes"]["bot"]) == [
        "app_mentions:read",
        "channels:read",
        "chat:write",
        "commands",
        "groups:read",
        "im:history",
        "users:read",
    ]
    assert data["settings"]["event_subscriptions"]["bot_events"] == ["app_mention", "message.im"]
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is True
    commands = data["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/ask", "/facts", "/digest", "/why", "/factbot"]
    assert all(c["description"] and "url" not in c for c in commands)
    assert "subscribe" in commands[2]["usage_hint"] and "unsubscribe" in commands[2]["usage_hint"]
    assert "url" not in yaml.safe_dump(data)


def test_renamed_commands_and_http_mode_show_in_the_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTBOT_COMMAND_ASK", "question")
    monkeypatch.setenv("FACTBOT_COMMAND_HELP", "factbot-help")
    data = manifest(Settings(), request_url="https://bot.example.com/slack/events")
    commands = {c["command"]: c for c in data["features"]["slash_commands"]}
    assert set(commands) == {"/question", "/facts", "/digest", "/why", "/factbot-help"}
    assert commands["/question"]["url"] == "https://bot.example.com/slack/events"
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.com/slack/events"
    assert data["settings"]["interactivity"]["request_url"] == "https://bot.example.com/slack/events"


# -- imports ------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["bot.engine", "bot.adapters.slack_blocks"])
def test_importing_the_core_or_the_renderer_loads_no_slack_library(module: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACTBOT_", "SLACK_"))}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    statement = (
        f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith(('slack_bolt', 'slack_sdk'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", statement], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_an_author_who_is_also_the_publisher_is_named_once() -> None:
    own = citation().model_copy(update={"author": "Acme Docs", "publisher": "acme docs"})
    text = "\n".join(strings(answer_message(answer(Status.answered, intent="i1", citations=[own]), asker="U1").blocks))
    assert "*Title &lt;b&gt;* · Acme Docs · paragraph 3 · " in text
