"""Slack rendering: Answers, help, facts and digests as Block Kit messages, mention-safe; the app manifest.

Plain dicts only (no slack_sdk import), so rendering is fast to import and easy to test. Every
string that came from a user is decoded at the edge (`plain`) and escaped again here (`echo`,
`escape`), so nothing a user typed can become a live mention; every block stays inside Block Kit's limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.chat.messages import EARLIER_LINK, answered_before
from bot.digest import Digest
from bot.explain import Explanation, details, summary
from bot.models import Answer, Citation, Overview, Status, Suggestion, byline
from bot.settings import Settings
from bot.store import PostRecord, Vote

Block = dict[str, Any]

SUGGEST = "factbot_suggest"
"""Prefix of the suggestion buttons' action_ids (`factbot_suggest_0`…); the value is an intent id."""
DIGEST_TRY = "factbot_suggest_digest"
"""action_id of a digest's try-asking button: answered for the clicker only, the digest stays as it was."""
FEEDBACK = "factbot_feedback"
"""Prefix of the feedback buttons' action_ids; the value is a `VoteValue` as JSON (older buttons: `up:<intent>`)."""
VOTES: dict[Vote, str] = {"up": "👍", "down": "👎"}

SECTION_LIMIT = 3000
CONTEXT_LIMIT = 2000
BUTTON_LIMIT = 75
VALUE_LIMIT = 2000
HEADER_LIMIT = 150
MAX_BLOCKS = 50
MAX_CITATIONS = 10
MAX_BUTTONS = 5
TEXT_LIMIT = 3000
ECHO_LIMIT = 300

_ENTITY = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")


@dataclass(frozen=True)
class Message:
    """A Slack message: Block Kit blocks and the plain `text` fallback for notifications."""

    text: str
    blocks: list[Block] = field(default_factory=list)


# -- text safety ----------------------------------------------------------------------------


def unescape(text: str) -> str:
    """Slack's own entities (`&amp;`, `&lt;`, `&gt;`) back to characters."""
    return re.sub(r"&(amp|lt|gt);", lambda m: _ENTITY[m.group(0)], text)


def escape(text: str) -> str:
    """Make text inert in mrkdwn: `&`, `<` and `>` become entities, so `<!channel>` stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> str:
    """Text from a Slack payload as the user typed it: Slack's entities decoded, control characters dropped."""
    return _CONTROL.sub("", unescape(text))


def trim(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, never inside an entity like `&amp;`."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: limit - 1]) + "…"


def echo(text: str) -> str:
    """A user's question (already `plain`), on one line, escaped and shortened for quoting back."""
    return trim(escape(" ".join(_CONTROL.sub("", text).split())), ECHO_LIMIT)


def mention(user: str | None) -> str | None:
    """`<@U…>` for a user id from a payload; None for anything that is not a plain user id."""
    return f"<@{user}>" if user and _USER_ID.match(user) else None


# -- blocks -----------------------------------------------------------------------------------


def section(mrkdwn: str) -> Block:
    """A mrkdwn section (text already escaped), trimmed to Slack's limit."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": trim(mrkdwn, SECTION_LIMIT) or " "}}


def context(*mrkdwn: str) -> Block:
    """A context line of up to ten mrkdwn elements."""
    elements = [{"type": "mrkdwn", "text": trim(t, CONTEXT_LIMIT)} for t in mrkdwn if t][:10]
    return {"type": "context", "elements": elements}


def quote(text: str) -> Block:
    """A verbatim quote as a mrkdwn block quote; every line escaped."""
    lines = escape(text).splitlines() or [""]
    return section("\n".join(f">{line}" for line in lines))


def button(label: str, *, action_id: str, value: str, style: str | None = None) -> Block:
    """A button with its label and value trimmed to Slack's limits."""
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": trim(label, BUTTON_LIMIT), "emoji": True},
        "action_id": action_id,
        "value": value[:VALUE_LIMIT],
    }
    return element | ({"style": style} if style else {})


def suggestion_buttons(suggestions: Iterable[Suggestion]) -> Block | None:
    """One button per suggested question; a click answers it. None when there is nothing to suggest."""
    elements = [
        button(s.question, action_id=f"{SUGGEST}_{n}", value=s.intent)
        for n, s in enumerate(list(suggestions)[:MAX_BUTTONS])
    ]
    return {"type": "actions", "block_id": "factbot_suggestions", "elements": elements} if elements else None


class VoteValue(BaseModel):
    """What a feedback button carries: the vote, the answered intent and the facts the answer cited."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    vote: Vote
    intent: str
    facts: list[str] = Field(default_factory=list)

    def encode(self) -> str:
        """The button's value: compact JSON, without the facts when they would not fit Slack's limit."""
        value = json.dumps(self.model_dump(), separators=(",", ":"), ensure_ascii=False)
        if len(value) <= VALUE_LIMIT:
            return value
        return json.dumps({"vote": self.vote, "intent": self.intent[: VALUE_LIMIT - 40]}, separators=(",", ":"))


def read_vote(value: str) -> VoteValue | None:
    """A feedback button's value as a VoteValue (JSON, or an older button's `up:<intent>`); None if neither."""
    try:
        return VoteValue.model_validate_json(value)
    except ValidationError:
        pass
    vote, _, intent = value.partition(":")
    return VoteValue.model_validate({"vote": vote, "intent": intent}) if vote in VOTES and intent else None


def feedback_buttons(intent: str, facts: Sequence[str] = ()) -> Block:
    """👍 / 👎 under an answer; the value carries the vote, the intent and the facts cited."""
    elements = [
        button(
            f"{emoji} {'Helpful' if vote == 'up' else 'Not helpful'}",
            action_id=f"{FEEDBACK}_{vote}",
            value=VoteValue(vote=vote, intent=intent, facts=list(facts)).encode(),
        )
        for vote, emoji in VOTES.items()
    ]
    return {"type": "actions", "block_id": "factbot_feedback", "elements": elements}


def link(url: str, label: str) -> str:
    """A mrkdwn link when the URL is plain http(s), else the escaped label and URL as text."""
    if _SAFE_URL.match(url):
        return f"<{url}|{escape(label)}>"
    return f"{escape(label)} ({escape(url)})"


def source_line(citation: Citation) -> Block:
    """Title, author, publisher, paragraph and a link to the source."""
    return context(
        " · ".join(
            [f"*{escape(citation.title)}*", *map(escape, byline(citation.author, citation.publisher)), citation.place]
        )
        + " · "
        + link(citation.url, "read the source")
    )


def _finish(blocks: list[Block | None], text: str) -> Message:
    """Drop empty blocks, keep within 50, and attach the plain-text fallback."""
    kept = [b for b in blocks if b is not None][:MAX_BLOCKS]
    return Message(text=trim(text, TEXT_LIMIT) or "Factbot", blocks=kept)


# -- messages ---------------------------------------------------------------------------------


def asked_line(asker: str | None, question: str) -> Block | None:
    """`@asker asked: “question”`, naming only the asker (from the payload) and echoing the question inert."""
    who = mention(asker)
    if who is None:
        return None
    return context(f"{who} asked: “{echo(question)}”" if question.strip() else f"{who} asked for help")


def answer_message(answer: Answer, *, asker: str | None = None, about: str | None = None) -> Message:
    """An Answer as Block Kit: who asked, the answer, quotes with sources, suggestions, feedback."""
    key = (
        answer.status,
        answer.intent,
        answer.answer,
        tuple((c.fact_id, c.quote, c.paragraph, c.title, c.author, c.publisher, c.url) for c in answer.citations),
        tuple((s.intent, s.question) for s in answer.suggestions),
        answer.truncated,
        answer.context,
        about,
    )
    body = _bodies.get(key)
    if body is None:
        if len(_bodies) >= MAX_REMEMBERED_BODIES:
            _bodies.clear()
        body = _bodies[key] = _answer_body(answer, about)
    return _finish([asked_line(asker, answer.question), *body], answer_text(answer))


MAX_REMEMBERED_BODIES = 4096
_bodies: dict[tuple[object, ...], tuple[Block | None, ...]] = {}
"""Rendered answers (everything but who asked) by content: an answer asked again renders once."""


def _answer_body(answer: Answer, about: str | None) -> tuple[Block | None, ...]:
    """The blocks of an answer that do not depend on who asked: the answer, quotes, buttons."""
    blocks: list[Block | None] = [section(escape(answer.answer))]
    for citation in answer.citations[:MAX_CITATIONS]:
        blocks += [quote(citation.quote), source_line(citation)]
    if answer.status is Status.fallback and about:
        blocks.append(context(f"I answer only from {escape(about)}."))
    if answer.suggestions:
        blocks.append(suggestion_buttons(answer.suggestions))
    if answer.status is Status.answered and answer.intent:
        blocks.append(feedback_buttons(answer.intent, [c.fact_id for c in answer.citations]))
    if answer.truncated:
        blocks.append(context("_Only the start of a very long message was read._"))
    if answer.context:
        blocks.append(context(f"_Read as a follow-up to “{echo(answer.context)}”._"))
    return tuple(blocks)


def answer_text(answer: Answer) -> str:
    """The notification fallback of an answer: the answer and its first quote, escaped."""
    text = answer.answer
    if answer.citations:
        text += f" “{answer.citations[0].quote}” ({answer.citations[0].title})"
    return escape(text)


def help_message(overview: Overview, settings: Settings) -> Message:
    """How to use Factbot, what it answers from, and questions to try."""
    commands = [
        (settings.command_ask, "<question>", "answer in the channel, for everyone to see"),
        (settings.command_facts, "[topic]", "the topics, or the facts of one topic"),
        (settings.command_digest, "", "a preview of today's digest for this channel"),
        (
            settings.command_digest,
            "subscribe [HH:MM] [Area/City] [--curators]",
            "a daily digest here (admins and the channel's creator; `unsubscribe` stops it)",
        ),
        (settings.command_why, "[question]", "why I answered the channel's last question (or this one) as I did"),
        (settings.command_help, "", "this help"),
    ]
    usage = "\n".join(f"• `/{name}{' ' + escape(arg) if arg else ''}`: {what}" for name, arg, what in commands)
    sources = "\n".join(
        f"• {link(s.url, s.title)}, {', '.join(map(escape, byline(s.author, s.publisher)))}" for s in overview.sources
    )
    counts = f"{overview.facts} facts · {overview.intents} kinds of question · {len(overview.topics)} topics"
    blocks: list[Block | None] = [
        section(f"*Factbot* answers questions about {escape(overview.covers)}, quoting it word for word."),
        section(usage + "\n• Mention me in a channel (I answer in a thread), or send me a direct message."),
        section(f"*Sources*\n{sources}"),
        context(counts),
        section("*Try asking*") if overview.try_asking else None,
        suggestion_buttons(overview.try_asking),
    ]
    return _finish(blocks, f"Factbot answers questions about {escape(overview.covers)}. Try /{settings.command_ask}.")


def topics_message(topics: dict[str, int], *, command: str) -> Message:
    """Every topic with its number of facts."""
    listing = " · ".join(f"*{escape(name)}* ({count})" for name, count in topics.items())
    blocks: list[Block | None] = [
        section(f"*Topics* ({len(topics)})\n{listing}"),
        context(f"`/{command} <topic>` lists the facts of one topic."),
    ]
    return _finish(blocks, f"{len(topics)} topics: " + ", ".join(escape(t) for t in topics))


def facts_message(topic: str, facts: list[tuple[str, Citation]]) -> Message:
    """The facts of one topic, each with its paragraph, packed into as few sections as fit."""
    lines = [f"• {escape(answer)} ({citation.place})" for answer, citation in facts]
    blocks: list[Block | None] = [section(f"*Facts on {escape(topic)}* ({len(facts)})")]
    blocks += [section(chunk) for chunk in _chunks(lines, SECTION_LIMIT)][: MAX_BLOCKS - 1]
    return _finish(blocks, f"{len(facts)} facts on {escape(topic)}")


def no_topic_message(topic: str, topics: Iterable[str]) -> Message:
    """A topic that does not exist, and the ones that do."""
    text = f"No topic “{echo(topic)}”. Topics: {', '.join(escape(t) for t in topics)}."
    return _finish([section(text)], text)


def digest_message(digest: Digest, *, preview: bool = True) -> Message:
    """A channel's digest: the fact of the day with quote and source, what was asked and missed, a question to try."""
    blocks: list[Block | None] = [
        header(f"Factbot digest for {digest.day:%A %d %B %Y}"),
        context("Preview: only you can see this.") if preview else None,
        section(f"*Fact of the day:* {escape(digest.fact_answer)}"),
        quote(digest.fact.quote),
        source_line(digest.fact),
        _listing(
            "What the team asked", [f"{echo(a.question)}{_times(a.count)} — {escape(a.answer)}" for a in digest.asked]
        ),
        _listing("Not answered yet", [f"{echo(a.question)}{_times(a.count)}" for a in digest.unanswered]),
        try_asking(digest.try_asking),
    ]
    return _finish(blocks, f"Factbot digest. Fact of the day: {escape(digest.fact_answer)}")


def header(text: str) -> Block:
    """A header block (plain text), trimmed to Slack's limit."""
    return {"type": "header", "text": {"type": "plain_text", "text": trim(text, HEADER_LIMIT) or " ", "emoji": True}}


def _listing(title: str, lines: Sequence[str]) -> Block | None:
    """A titled bullet list (lines already escaped); None when there is nothing to list."""
    return section(f"*{title}*\n" + "\n".join(f"• {line}" for line in lines)) if lines else None


def _times(count: int) -> str:
    """` (×3)` after something asked more than once."""
    return f" (×{count})" if count > 1 else ""


def try_asking(suggestion: Suggestion) -> Block:
    """The digest's question to try, with a button that answers it for whoever clicks, leaving the digest in place."""
    return section(f"*Try asking:* {escape(suggestion.question)}") | {
        "accessory": button("Ask it", action_id=DIGEST_TRY, value=suggestion.intent)
    }


def repeat_message(post: PostRecord, answer: Message, *, at: datetime | None = None) -> Message:
    """The answer again, for its asker alone, under a line pointing to where the channel was given it lately."""
    line = escape(answered_before(post.at, at=at))
    if post.link:
        line += f" ({link(post.link, EARLIER_LINK)})"
    return _finish([section(line), *answer.blocks], f"{line}\n{answer.text}")


def why_message(explanation: Explanation) -> Message:
    """Why an answer was given: the plain words, then the numbers; everything escaped, nothing can mention anyone."""
    numbers = "\n".join(escape(" ".join(line.split())) for line in details(explanation))
    blocks: list[Block | None] = [section(escape(summary(explanation))), section(numbers)]
    return _finish(blocks, escape(summary(explanation)))


def notice_message(text: str) -> Message:
    """A one-line reply (a problem, a thank-you); `text` must already be mrkdwn-safe."""
    return _finish([section(text)], text)


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Lines joined into texts of at most `limit` characters (a longer line is trimmed)."""
    chunks: list[str] = []
    for line in (trim(line, limit) for line in lines):
        if chunks and len(chunks[-1]) + 1 + len(line) <= limit:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks


# -- the app manifest -------------------------------------------------------------------------

BOT_SCOPES = ["app_mentions:read", "channels:read", "chat:write", "commands", "groups:read", "im:history", "users:read"]
"""app_mention events; conversations.info (who created a public or private channel: `/digest subscribe`);
chat.postMessage (channels it is in, and DMs); slash commands; message.im events; users.info (admins)."""
BOT_EVENTS = ["app_mention", "message.im"]


def manifest(settings: Settings, *, request_url: str | None = None) -> dict[str, Any]:
    """The Slack app manifest: Socket Mode, or HTTP mode when `request_url` (…/slack/events) is given."""
    url = {"url": request_url} if request_url else {}
    commands = [
        {"command": f"/{name}", "description": description, "should_escape": False} | hint | url
        for name, description, hint in _commands(settings)
    ]
    events: dict[str, Any] = {"bot_events": BOT_EVENTS} | ({"request_url": request_url} if request_url else {})
    return {
        "display_information": {
            "name": "Factbot",
            "description": "Answers questions from a curated fact base, quoting its source word for word.",
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "Factbot", "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": {"is_enabled": True} | ({"request_url": request_url} if request_url else {}),
            "org_deploy_enabled": False,
            "socket_mode_enabled": request_url is None,
            "token_rotation_enabled": False,
        },
    }


def _commands(settings: Settings) -> list[tuple[str, str, dict[str, str]]]:
    return [
        (
            settings.command_ask,
            "Ask Factbot a question; the answer quotes its source",
            {"usage_hint": "[your question]"},
        ),
        (settings.command_facts, "The topics Factbot knows, or the facts of one topic", {"usage_hint": "[topic]"}),
        (
            settings.command_digest,
            "Preview today's Factbot digest, or subscribe this channel to it",
            {"usage_hint": "[subscribe [HH:MM] [Area/City] [--curators] | unsubscribe]"},
        ),
        (
            settings.command_why,
            "Why Factbot answered the last question here (or yours) as it did",
            {"usage_hint": "[question]"},
        ),
        (settings.command_help, "How to use Factbot, and where its answers come from", {}),
    ]


MANIFEST_HEADER = """\
# Slack app manifest for Factbot: api.slack.com/apps -> Create New App -> From a manifest.
# Generated by `factbot slack manifest`; run it again after renaming commands (FACTBOT_COMMAND_*).
"""


def manifest_yaml(settings: Settings, *, request_url: str | None = None) -> str:
    """The manifest as YAML, as `slack/manifest.yaml` holds it and `factbot slack manifest` prints it."""
    body = yaml.safe_dump(manifest(settings, request_url=request_url), sort_keys=False, allow_unicode=True)
    return MANIFEST_HEADER + body
