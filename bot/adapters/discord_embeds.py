"""Discord rendering: Answers, help, topics and digests as embeds, suggestions and feedback as buttons.

Everything here is trimmed to Discord's limits, so no message is ever rejected for its size.
Buttons carry their meaning in `custom_id` (`factbot:ask:<intent>`, `factbot:vote:up:<intent>:<fact>,<fact>`,
the facts left out when they would not fit), so they keep working after a restart; what a press does
is the client's business.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, cast

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.chat.messages import answered_before
from bot.digest import Digest
from bot.explain import Explanation, details, summary
from bot.models import Answer, Citation, Overview, Status, byline
from bot.settings import Settings
from bot.store import PostRecord

TITLE, DESCRIPTION, FIELD_NAME, FIELD_VALUE, FOOTER, TOTAL, FIELDS = 256, 4096, 256, 1024, 2048, 6000, 25
CONTENT, LABEL, CUSTOM_ID, BUTTONS_PER_ROW = 2000, 80, 100, 5

COLOURS = {
    Status.answered: discord.Colour.green(),
    Status.clarify: discord.Colour.gold(),
    Status.fallback: discord.Colour.red(),
    Status.smalltalk: discord.Colour.blurple(),
}
VOTES = {"up": "👍", "down": "👎"}
INTENT_ID = r"[A-Za-z0-9_.-]+"
FACT_IDS = rf"{INTENT_ID}(?:,{INTENT_ID})*"


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def fit(embed: discord.Embed) -> discord.Embed:
    """`embed` within Discord's 6000-character total: drop trailing fields, then shorten the description."""
    while len(embed) > TOTAL and len(embed.fields) > 1:
        embed.remove_field(len(embed.fields) - 1)
    excess = len(embed) - TOTAL
    if excess > 0:
        embed.description = clip(embed.description or "", max(len(embed.description or "") - excess, 0))
    return embed


def _embed(title: str, description: str, *, colour: discord.Colour, url: str | None = None) -> discord.Embed:
    """An embed with a clipped title and description."""
    return discord.Embed(title=clip(title, TITLE), description=clip(description, DESCRIPTION), colour=colour, url=url)


def _field(embed: discord.Embed, name: str, value: str) -> None:
    """Add a full-width field, clipped, unless the embed already holds Discord's maximum."""
    if len(embed.fields) < FIELDS and value:
        embed.add_field(name=clip(name, FIELD_NAME), value=clip(value, FIELD_VALUE), inline=False)


def credit(citations: Sequence[Citation]) -> str:
    """Title, author, publisher and paragraphs of each source cited, one line per source."""
    cited: dict[str, list[int | None]] = {}
    for c in citations:
        cited.setdefault(f"{c.title} — {', '.join(byline(c.author, c.publisher))}", []).append(c.paragraph)
    return "\n".join(f"{source} · {_paragraphs(found)}" for source, found in cited.items())


def _paragraphs(found: Sequence[int | None]) -> str:
    """ "paragraph 3", "paragraphs 3, 7", with "source record" for facts drawn from the record."""
    numbers = sorted({p for p in found if p is not None})
    parts = [f"paragraph{'s' * (len(numbers) > 1)} {', '.join(map(str, numbers))}"] if numbers else []
    return ", ".join(parts + ["source record"] * (None in found))


def answer_embed(answer: Answer) -> discord.Embed:
    """An Answer: the answer, each verbatim quote with its paragraph, the source in the footer."""
    description = escape_markdown(answer.answer)
    if answer.truncated:
        description += "\n*(Only the start of a very long message was read.)*"
    if answer.context:
        description += f"\n*(Read as a follow-up to “{escape_markdown(clip(answer.context, TITLE))}”.)*"
    url = answer.citations[0].url if answer.citations else None
    embed = _embed(
        escape_markdown(answer.question.strip()) or "Factbot", description, colour=COLOURS[answer.status], url=url
    )
    for citation in answer.citations:
        _field(embed, f"Quote, {citation.place}", f"“{escape_markdown(citation.quote)}”")
    if answer.suggestions:
        _field(embed, "You could ask", "\n".join(f"• {escape_markdown(s.question)}" for s in answer.suggestions))
    if answer.citations:
        embed.set_footer(text=clip(credit(answer.citations), FOOTER))
    return fit(embed)


def help_embed(overview: Overview, settings: Settings) -> discord.Embed:
    """What Factbot is, how to ask it, its sources and counts, and questions to try."""
    usage = [
        f"`/{settings.command_ask} question` ask in your own words (the answer is public)",
        "Mention me in a channel, or send me a direct message",
        f"`/{settings.command_facts} [topic]` list topics, or the facts on one",
        f"`/{settings.command_digest}` preview today's digest for this channel; `action:subscribe` posts it daily "
        "(members with Manage Channels)",
        f"`/{settings.command_why} [question]` why I answered the last question here (or yours) as I did",
        f"`/{settings.command_help}` this help",
    ]
    embed = _embed(
        "Factbot",
        f"I answer questions about {overview.covers}, quoting it word for word.\n\n" + "\n".join(usage),
        colour=discord.Colour.blurple(),
    )
    sources = [
        f"[{escape_markdown(s.title)}]({s.url}) — {', '.join(byline(s.author, s.publisher))}" for s in overview.sources
    ]
    _field(embed, "Sources", "\n".join(sources))
    _field(embed, "Counts", f"{overview.facts} facts · {overview.intents} questions · {len(overview.topics)} topics")
    _field(embed, "Try asking", "\n".join(f"• {s.question}" for s in overview.try_asking))
    return fit(embed)


def why_embed(explanation: Explanation) -> discord.Embed:
    """Why an answer was given: the plain words in the description, the numbers in a field; markdown escaped."""
    numbers = "\n".join(_inert(" ".join(line.split())) for line in details(explanation))
    embed = _embed("Why I said that", _inert(summary(explanation)), colour=COLOURS[explanation.status])
    _field(embed, "The numbers", numbers)
    return fit(embed)


def _inert(text: str) -> str:
    """Text that renders as typed: no markdown, and no @everyone or mention even where pings are allowed."""
    return escape_mentions(escape_markdown(text))


def topics_embed(topics: dict[str, int], *, command: str) -> discord.Embed:
    """Every topic with its number of facts."""
    lines = [f"• **{escape_markdown(name)}** — {count} fact{'s' * (count != 1)}" for name, count in topics.items()]
    footer = f"/{command} topic: shows the facts on one topic."
    return fit(_embed("Topics", _lines(lines, DESCRIPTION), colour=discord.Colour.blurple()).set_footer(text=footer))


def topic_embed(topic: str, facts: Sequence[tuple[str, Citation]]) -> discord.Embed:
    """The facts on one topic: each answer with the paragraph it comes from."""
    lines = [f"• {escape_markdown(answer)} ({citation.place})" for answer, citation in facts]
    embed = _embed(f"Facts on {topic}", _lines(lines, DESCRIPTION), colour=discord.Colour.blurple())
    if facts:
        embed.set_footer(text=clip(credit([c for _, c in facts]), FOOTER))
    return fit(embed)


def digest_embed(digest: Digest) -> discord.Embed:
    """A channel's digest: the fact of the day with its quote, what was asked and missed, a question to try."""
    fact = digest.fact
    embed = _embed(
        f"Factbot digest for {digest.day:%A %d %B %Y}",
        f"**Fact of the day:** {escape_markdown(digest.fact_answer)}",
        colour=discord.Colour.teal(),
        url=fact.url,
    )
    _field(embed, f"Quote, {fact.place}", f"“{escape_markdown(fact.quote)}”")
    _field(
        embed,
        "What the team asked",
        "\n".join(
            f"• {escape_markdown(a.question)}{_times(a.count)} — {escape_markdown(a.answer)}" for a in digest.asked
        ),
    )
    _field(
        embed,
        "Not answered yet",
        "\n".join(f"• {escape_markdown(a.question)}{_times(a.count)}" for a in digest.unanswered),
    )
    _field(embed, "Try asking", escape_markdown(digest.try_asking.question))
    embed.set_footer(text=clip(credit([fact]), FOOTER))
    return fit(embed)


def _times(count: int) -> str:
    """` (×3)` after something asked more than once."""
    return f" (×{count})" if count > 1 else ""


def repeat_text(post: PostRecord, *, at: datetime | None = None) -> str:
    """The line above a repeated answer: when the channel was given it, with a link to that answer (jump URL)."""
    return f"{answered_before(post.at, at=at)} Earlier: {post.link}" if post.link else answered_before(post.at, at=at)


def _lines(lines: Sequence[str], limit: int) -> str:
    """As many whole lines as fit in `limit`, saying how many were left out."""
    kept: list[str] = []
    for number, line in enumerate(lines):
        more = f"…and {len(lines) - number} more"
        if sum(len(k) + 1 for k in kept) + len(line) + len(more) + 1 > limit:
            return "\n".join([*kept, more])
        kept.append(line)
    return "\n".join(kept)


# -- buttons --------------------------------------------------------------------------------------


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
