"""Discord rendering: neutral replies as embeds (answers, help, topics, facts, digests, explanations) with buttons.

Everything here is trimmed to Discord's limits, so no message is ever rejected for its size. `render` turns
the chat service's `Reply` into what the adapter sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.adapters.discord_send import DESCRIPTION, FIELD_NAME, FIELD_VALUE, FIELDS, FOOTER, TITLE, TOTAL, Outgoing, clip
from bot.adapters.discord_views import answer_view, digest_view
from bot.chat import messages
from bot.chat.commands import DISCORD, FACTS, on
from bot.chat.messages import answered_before, earlier_at
from bot.chat.replies import Answered, Help, Notice, NoTopic, Preview, Reply, TopicFacts, Topics, Why
from bot.digest import Digest
from bot.explain import Explanation, details, summary
from bot.models import Answer, Citation, Overview, Status, byline
from bot.settings import Settings
from bot.store import PostRecord

COLOURS = {
    Status.answered: discord.Colour.green(),
    Status.clarify: discord.Colour.gold(),
    Status.fallback: discord.Colour.red(),
    Status.smalltalk: discord.Colour.blurple(),
}


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
        description += f"\n*({messages.ONLY_THE_START})*"
    if answer.context:
        description += f"\n*({messages.follow_up_to(escape_markdown(clip(answer.context, TITLE)))})*"
    url = answer.citations[0].url if answer.citations else None
    embed = _embed(
        escape_markdown(answer.question.strip()) or "Factbot", description, colour=COLOURS[answer.status], url=url
    )
    for citation in answer.citations:
        _field(embed, f"Quote, {citation.place}", f"“{escape_markdown(citation.quote)}”" + _note(citation))
    if answer.suggestions:
        _field(embed, "You could ask", "\n".join(f"• {escape_markdown(s.question)}" for s in answer.suggestions))
    if answer.citations:
        embed.set_footer(text=clip(credit(answer.citations), FOOTER))
    return fit(embed)


def _note(citation: Citation) -> str:
    """The curator's note under a quote, in italics; empty when the fact has none."""
    return f"\n*{escape_markdown(citation.note)}*" if citation.note else ""


def help_embed(overview: Overview, settings: Settings) -> discord.Embed:
    """What Factbot is, how to ask it (the commands from the one command table), its sources and counts."""
    usage = [f"`{c.usage(settings, platform=DISCORD)}`: {c.summary}" for c in on(DISCORD)]
    usage.append("Mention me in a channel, or send me a direct message")
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
    _field(embed, messages.TRY_ASKING, "\n".join(f"• {s.question}" for s in overview.try_asking))
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


def topics_embed(topics: dict[str, int], *, settings: Settings) -> discord.Embed:
    """Every topic with its number of facts."""
    lines = [f"• **{escape_markdown(name)}** — {count} fact{'s' * (count != 1)}" for name, count in topics.items()]
    footer = f"{FACTS.usage(settings, platform=DISCORD)}: shows the facts on one topic."
    return fit(_embed("Topics", _lines(lines, DESCRIPTION), colour=discord.Colour.blurple()).set_footer(text=footer))


def topic_embed(topic: str, facts: Sequence[tuple[str, Citation]]) -> discord.Embed:
    """The facts on one topic: each answer with the paragraph it comes from."""
    lines = [f"• {escape_markdown(answer)} ({citation.place})" for answer, citation in facts]
    embed = _embed(f"Facts on {topic}", _lines(lines, DESCRIPTION), colour=discord.Colour.blurple())
    if facts:
        embed.set_footer(text=clip(credit([c for _, c in facts]), FOOTER))
    return fit(embed)


def no_topic_embed(topic: str, known: Sequence[str]) -> discord.Embed:
    """A topic the fact base does not have, and the ones it has."""
    listing = ", ".join(escape_markdown(t) for t in known)
    return fit(_embed(messages.no_topic(_inert(topic)), f"Topics: {listing}.", colour=discord.Colour.blurple()))


def digest_embed(digest: Digest) -> discord.Embed:
    """A channel's digest: the fact of the day with its quote, what was asked and missed, a question to try."""
    fact = digest.fact
    embed = _embed(
        messages.digest_title(digest.day),
        f"**{messages.FACT_OF_THE_DAY}:** {escape_markdown(digest.fact_answer)}",
        colour=discord.Colour.teal(),
        url=fact.url,
    )
    _field(embed, f"Quote, {fact.place}", f"“{escape_markdown(fact.quote)}”" + _note(fact))
    _field(
        embed,
        messages.TEAM_ASKED,
        "\n".join(
            f"• {escape_markdown(a.question)}{_times(a.count)} — {escape_markdown(a.answer)}" for a in digest.asked
        ),
    )
    _field(
        embed,
        messages.NOT_ANSWERED,
        "\n".join(f"• {escape_markdown(a.question)}{_times(a.count)}" for a in digest.unanswered),
    )
    _field(embed, messages.TRY_ASKING, escape_markdown(digest.try_asking.question))
    embed.set_footer(text=clip(credit([fact]), FOOTER))
    return fit(embed)


def _times(count: int) -> str:
    """` (×3)` after something asked more than once."""
    return f" (×{count})" if count > 1 else ""


def repeat_text(post: PostRecord, *, at: datetime | None = None) -> str:
    """The line above a repeated answer: when the channel was given it, with a link to that answer (jump URL)."""
    line = answered_before(post.at, at=at)
    return f"{line} {earlier_at(post.link)}" if post.link else line


def _lines(lines: Sequence[str], limit: int) -> str:
    """As many whole lines as fit in `limit`, saying how many were left out."""
    kept: list[str] = []
    for number, line in enumerate(lines):
        more = f"…and {len(lines) - number} more"
        if sum(len(k) + 1 for k in kept) + len(line) + len(more) + 1 > limit:
            return "\n".join([*kept, more])
        kept.append(line)
    return "\n".join(kept)


def render(reply: Reply, *, settings: Settings) -> Outgoing:
    """A neutral reply as what Discord is sent; `private` becomes ephemeral where Discord allows it."""
    body = reply.body
    if isinstance(body, Answered):
        embed, view = answer_embed(body.answer), answer_view(body.answer)
        content = repeat_text(body.earlier) if body.earlier is not None else None
        return Outgoing(content=content, embed=embed, view=view, private=reply.private)
    if isinstance(body, Notice):
        return Outgoing(content=body.text, private=reply.private)
    if isinstance(body, Preview):
        return Outgoing(embed=digest_embed(body.digest), view=digest_view(body.digest), private=reply.private)
    return Outgoing(embed=_embed_of(body, settings), private=reply.private)


def _embed_of(body: Topics | TopicFacts | NoTopic | Help | Why, settings: Settings) -> discord.Embed:
    """The embed of a reply that is one embed and nothing else."""
    if isinstance(body, Topics):
        return topics_embed(body.counts, settings=settings)
    if isinstance(body, TopicFacts):
        return topic_embed(body.topic, body.facts)
    if isinstance(body, NoTopic):
        return no_topic_embed(body.topic, body.known)
    if isinstance(body, Help):
        return help_embed(body.overview, settings)
    return why_embed(body.explanation)
