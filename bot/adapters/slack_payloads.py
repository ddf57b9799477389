"""Slack's raw payloads, parsed at the edge: slash commands, message events and button clicks.

Only the fields Factbot reads are kept; the chat service never sees these, only what they carry.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.adapters.slack_blocks import plain
from bot.models import Question


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SlashCommand(_Payload):
    """A slash command invocation."""

    command: str
    text: str = ""
    user_id: str
    channel_id: str = ""
    team_id: str | None = None
    response_url: str | None = None

    @property
    def in_dm(self) -> bool:
        """Whether it was typed in a direct message with the bot (or where Slack names no channel)."""
        return self.channel_id.startswith("D") or not self.channel_id

    def question(self) -> Question:
        """The command's text as a Question; in a DM, one conversation with the bot."""
        conversation = f"slack:{self.channel_id}" if self.channel_id.startswith("D") else None
        return Question(
            text=plain(self.text).strip(),
            who=self.user_id,
            where=self.channel_id or None,
            workspace=self.team_id,
            platform="slack",
            conversation=conversation,
        )


class MessageEvent(_Payload):
    """An `app_mention` or `message` event."""

    type: str
    channel: str
    ts: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None
    subtype: str | None = None
    channel_type: str | None = None
    thread_ts: str | None = None

    def from_person(self, bot_user: str | None) -> bool:
        """Whether a person wrote it (not a bot, not this bot, not an edit or other subtype)."""
        return bool(self.user) and self.user != bot_user and not self.bot_id and not self.subtype

    def question(self, bot_user: str | None) -> Question:
        """The text without the bot's own mention, as a Question."""
        text = re.sub(rf"<@{re.escape(bot_user)}(\|[^>]*)?>", " ", self.text) if bot_user else self.text
        return Question(
            text=plain(text).strip(), who=self.user, where=self.channel, platform="slack", conversation=self.thread()
        )

    def thread(self) -> str:
        """The conversation it belongs to: the DM, or the thread it starts or replies in."""
        if self.channel_type == "im" or self.channel.startswith("D"):
            return f"slack:{self.channel}"
        return f"slack:{self.channel}:{self.thread_ts or self.ts}"


class ButtonClick(_Payload):
    """A click on one of Factbot's buttons (`block_actions`)."""

    user: str
    value: str
    action_id: str = ""
    channel: str | None = None
    response_url: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ButtonClick:
        """Read the clicker, the button's value and where the message is from a `block_actions` body."""
        container = body.get("container") or {}
        action = (body.get("actions") or [{}])[0]
        return cls(
            user=(body.get("user") or {}).get("id", ""),
            value=str(action.get("value", "")),
            action_id=str(action.get("action_id", "")),
            channel=container.get("channel_id") or (body.get("channel") or {}).get("id"),
            response_url=body.get("response_url"),
            message_ts=container.get("message_ts"),
            thread_ts=container.get("thread_ts") or (body.get("message") or {}).get("thread_ts"),
        )
