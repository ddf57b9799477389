"""Slack's Block Kit, made safe: text escaping, blocks within Slack's limits, buttons and their values.

Plain dicts only (no slack_sdk import), so rendering is fast to import and easy to test. Every string that
came from a user is decoded at the edge (`plain`) and escaped again (`echo`, `escape`), so nothing a user
typed can become a live mention; every block stays inside Block Kit's limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.models import Citation, Suggestion, byline
from bot.store import Vote

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


def finish(blocks: list[Block | None], text: str) -> Message:
    """Drop empty blocks, keep within 50, and attach the plain-text fallback."""
    kept = [b for b in blocks if b is not None][:MAX_BLOCKS]
    return Message(text=trim(text, TEXT_LIMIT) or "Factbot", blocks=kept)


def header(text: str) -> Block:
    """A header block (plain text), trimmed to Slack's limit."""
    return {"type": "header", "text": {"type": "plain_text", "text": trim(text, HEADER_LIMIT) or " ", "emoji": True}}


def chunks(lines: list[str], limit: int) -> list[str]:
    """Lines joined into texts of at most `limit` characters (a longer line is trimmed)."""
    chunks: list[str] = []
    for line in (trim(line, limit) for line in lines):
        if chunks and len(chunks[-1]) + 1 + len(line) <= limit:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks
