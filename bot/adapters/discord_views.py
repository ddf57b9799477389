"""Discord buttons: suggestions and feedback under an answer, the digest's question to try.

Buttons carry their meaning in `custom_id` (`factbot:ask:<intent>`, `factbot:vote:up:<intent>:<fact>,<fact>`,
the facts left out when they would not fit), so they keep working after a restart; what a press does is the
client's business (`ButtonHandler`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, cast

import discord

from bot.adapters.discord_send import BUTTONS_PER_ROW, CUSTOM_ID, LABEL, clip
from bot.digest import Digest
from bot.models import Answer, Status

VOTES = {"up": "👍", "down": "👎"}
INTENT_ID = r"[A-Za-z0-9_.-]+"
FACT_IDS = rf"{INTENT_ID}(?:,{INTENT_ID})*"


class ButtonHandler(Protocol):
    """What a button press calls on the client (see `FactbotClient`)."""

    async def press_suggestion(self, interaction: discord.Interaction[Any], intent: str) -> None:
        """Answer the suggested question."""

    async def press_vote(self, interaction: discord.Interaction[Any], vote: str, intent: str, facts: list[str]) -> None:
        """Record feedback on an answer (`facts` empty when the button could not carry them)."""


class SuggestionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"factbot:ask:(?P<intent>{INTENT_ID})"
):
    """A suggested question; pressing it asks that question."""

    def __init__(self, intent: str, label: str = "") -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=clip(label or intent, LABEL), style=discord.ButtonStyle.secondary, custom_id=f"factbot:ask:{intent}"
        )
        super().__init__(button, row=0)
        self.intent = intent

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SuggestionButton:
        """Rebuild the button from a press."""
        return cls(match["intent"], getattr(item, "label", None) or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Ask the suggested question."""
        await cast(ButtonHandler, interaction.client).press_suggestion(interaction, self.intent)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"factbot:vote:(?P<vote>up|down):(?P<intent>{INTENT_ID})(?::(?P<facts>{FACT_IDS}))?",
):
    """👍 or 👎 on an answer, carrying the facts it cited when they fit in the custom_id."""

    def __init__(self, vote: str, intent: str, facts: Sequence[str] = ()) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            emoji=VOTES[vote], style=discord.ButtonStyle.secondary, custom_id=vote_id(vote, intent, facts)
        )
        super().__init__(button, row=1)
        self.vote, self.intent, self.facts = vote, intent, list(facts)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        """Rebuild the button from a press."""
        return cls(match["vote"], match["intent"], match["facts"].split(",") if match["facts"] else [])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Record the vote."""
        await cast(ButtonHandler, interaction.client).press_vote(interaction, self.vote, self.intent, self.facts)


def vote_id(vote: str, intent: str, facts: Sequence[str]) -> str:
    """`factbot:vote:<vote>:<intent>:<facts>`, or without the facts when they do not fit in 100 characters."""
    bare = f"factbot:vote:{vote}:{intent}"
    full = f"{bare}:{','.join(facts)}"
    fits = bool(facts) and len(full) <= CUSTOM_ID and all(_encodable(f) for f in facts)
    return full if fits else bare


def _encodable(intent: str | None) -> bool:
    """Whether an intent id fits in a button's custom_id."""
    return bool(intent) and re.fullmatch(INTENT_ID, intent or "") is not None and len(intent or "") <= 80


def digest_view(digest: Digest) -> discord.ui.View | None:
    """The digest's try-asking question as a button that answers it; None when its intent cannot be a custom_id."""
    if not _encodable(digest.try_asking.intent):
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(SuggestionButton(digest.try_asking.intent, digest.try_asking.question))
    return view


def answer_view(answer: Answer) -> discord.ui.View | None:
    """Buttons for an Answer: its suggestions, and 👍/👎 when it answered; None when there are none."""
    view = discord.ui.View(timeout=None)
    for suggestion in [s for s in answer.suggestions if _encodable(s.intent)][:BUTTONS_PER_ROW]:
        view.add_item(SuggestionButton(suggestion.intent, suggestion.question))
    if answer.status is Status.answered and answer.intent and _encodable(answer.intent):
        facts = [c.fact_id for c in answer.citations]
        for vote in VOTES:
            view.add_item(VoteButton(vote, answer.intent, facts))
    return view if view.children else None
