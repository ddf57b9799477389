"""Slack messages: answers, help, topics, facts, digests and explanations as Block Kit, from neutral replies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.adapters.slack_blocks import (
    DIGEST_TRY,
    MAX_BLOCKS,
    MAX_CITATIONS,
    SECTION_LIMIT,
    Block,
    Message,
    button,
    chunks,
    context,
    echo,
    escape,
    feedback_buttons,
    finish,
    header,
    link,
    mention,
    quote,
    section,
    source_line,
    suggestion_buttons,
)
from bot.chat import messages
from bot.chat.commands import COMMANDS, SLACK
from bot.chat.messages import EARLIER_LINK, answered_before
from bot.chat.replies import Answered, Help, Notice, NoTopic, Reply, TopicFacts, Topics, Why
from bot.digest import Digest
from bot.explain import Explanation, details, summary
from bot.models import Answer, Citation, Overview, Status, Suggestion, byline
from bot.settings import Settings
from bot.store import PostRecord


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
    return finish([asked_line(asker, answer.question), *body], answer_text(answer))


MAX_REMEMBERED_BODIES = 4096
_bodies: dict[tuple[object, ...], tuple[Block | None, ...]] = {}
"""Rendered answers (everything but who asked) by content: an answer asked again renders once."""


def _answer_body(answer: Answer, about: str | None) -> tuple[Block | None, ...]:
    """The blocks of an answer that do not depend on who asked: the answer, quotes, buttons."""
    blocks: list[Block | None] = [section(escape(answer.answer))]
    for citation in answer.citations[:MAX_CITATIONS]:
        blocks += [quote(citation.quote), source_line(citation), note_line(citation)]
    if answer.status is Status.fallback and about:
        blocks.append(context(escape(messages.only_from(about))))
    if answer.suggestions:
        blocks.append(suggestion_buttons(answer.suggestions))
    if answer.status is Status.answered and answer.intent:
        blocks.append(feedback_buttons(answer.intent, [c.fact_id for c in answer.citations]))
    if answer.truncated:
        blocks.append(context(f"_{messages.ONLY_THE_START}_"))
    if answer.context:
        blocks.append(context(f"_{messages.follow_up_to(echo(answer.context))}_"))
    return tuple(blocks)


def note_line(citation: Citation) -> Block | None:
    """The curator's note on a quoted fact, in italics under its source; None when it has none."""
    return context(f"_{escape(citation.note)}_") if citation.note else None


def answer_text(answer: Answer) -> str:
    """The notification fallback of an answer: the answer and its first quote, escaped."""
    text = answer.answer
    if answer.citations:
        text += f" “{answer.citations[0].quote}” ({answer.citations[0].title})"
    return escape(text)


def help_message(overview: Overview, settings: Settings) -> Message:
    """How to use Factbot, what it answers from, and questions to try."""
    usage = "\n".join(
        f"• `{escape(c.usage(settings, platform=SLACK))}`: {c.summary}" for c in COMMANDS if SLACK in c.platforms
    )
    sources = "\n".join(
        f"• {link(s.url, s.title)}, {', '.join(map(escape, byline(s.author, s.publisher)))}" for s in overview.sources
    )
    counts = f"{overview.facts} facts · {overview.intents} kinds of question · {len(overview.topics)} topics"
    blocks: list[Block | None] = [
        section(f"*Factbot* answers questions about {escape(overview.covers)}, quoting it word for word."),
        section(usage + "\n• Mention me in a channel (I answer in a thread), or send me a direct message."),
        section(f"*Sources*\n{sources}"),
        context(counts),
        section(f"*{messages.TRY_ASKING}*") if overview.try_asking else None,
        suggestion_buttons(overview.try_asking),
    ]
    return finish(blocks, f"Factbot answers questions about {escape(overview.covers)}. Try /{settings.command_ask}.")


def topics_message(topics: dict[str, int], *, command: str) -> Message:
    """Every topic with its number of facts."""
    listing = " · ".join(f"*{escape(name)}* ({count})" for name, count in topics.items())
    blocks: list[Block | None] = [
        section(f"*Topics* ({len(topics)})\n{listing}"),
        context(f"`/{command} <topic>` lists the facts of one topic."),
    ]
    return finish(blocks, f"{len(topics)} topics: " + ", ".join(escape(t) for t in topics))


def facts_message(topic: str, facts: list[tuple[str, Citation]]) -> Message:
    """The facts of one topic, each with its paragraph, packed into as few sections as fit."""
    lines = [f"• {escape(answer)} ({citation.place})" for answer, citation in facts]
    blocks: list[Block | None] = [section(f"*Facts on {escape(topic)}* ({len(facts)})")]
    blocks += [section(chunk) for chunk in chunks(lines, SECTION_LIMIT)][: MAX_BLOCKS - 1]
    return finish(blocks, f"{len(facts)} facts on {escape(topic)}")


def no_topic_message(topic: str, topics: Iterable[str]) -> Message:
    """A topic that does not exist, and the ones that do."""
    text = f"{messages.no_topic(echo(topic))} {escape(messages.topics_are(list(topics)))}"
    return finish([section(text)], text)


def digest_message(digest: Digest, *, preview: bool = True) -> Message:
    """A channel's digest: the fact of the day with quote and source, what was asked and missed, a question to try."""
    blocks: list[Block | None] = [
        header(messages.digest_title(digest.day)),
        context(messages.PREVIEW) if preview else None,
        section(f"*{messages.FACT_OF_THE_DAY}:* {escape(digest.fact_answer)}"),
        quote(digest.fact.quote),
        source_line(digest.fact),
        note_line(digest.fact),
        _listing(
            messages.TEAM_ASKED, [f"{echo(a.question)}{_times(a.count)} — {escape(a.answer)}" for a in digest.asked]
        ),
        _listing(messages.NOT_ANSWERED, [f"{echo(a.question)}{_times(a.count)}" for a in digest.unanswered]),
        try_asking(digest.try_asking),
    ]
    return finish(blocks, f"Factbot digest. {messages.FACT_OF_THE_DAY}: {escape(digest.fact_answer)}")


def _listing(title: str, lines: Sequence[str]) -> Block | None:
    """A titled bullet list (lines already escaped); None when there is nothing to list."""
    return section(f"*{title}*\n" + "\n".join(f"• {line}" for line in lines)) if lines else None


def _times(count: int) -> str:
    """` (×3)` after something asked more than once."""
    return f" (×{count})" if count > 1 else ""


def try_asking(suggestion: Suggestion) -> Block:
    """The digest's question to try, with a button that answers it for whoever clicks, leaving the digest in place."""
    return section(f"*{messages.TRY_ASKING}:* {escape(suggestion.question)}") | {
        "accessory": button("Ask it", action_id=DIGEST_TRY, value=suggestion.intent)
    }


def repeat_message(post: PostRecord, answer: Message, *, at: datetime | None = None) -> Message:
    """The answer again, for its asker alone, under a line pointing to where the channel was given it lately."""
    line = escape(answered_before(post.at, at=at))
    if post.link:
        line += f" ({link(post.link, EARLIER_LINK)})"
    return finish([section(line), *answer.blocks], f"{line}\n{answer.text}")


def why_message(explanation: Explanation) -> Message:
    """Why an answer was given: the plain words, then the numbers; everything escaped, nothing can mention anyone."""
    numbers = "\n".join(escape(" ".join(line.split())) for line in details(explanation))
    blocks: list[Block | None] = [section(escape(summary(explanation))), section(numbers)]
    return finish(blocks, escape(summary(explanation)))


def notice_message(text: str) -> Message:
    """A one-line reply (a problem, a thank-you); `text` must already be mrkdwn-safe."""
    return finish([section(text)], text)


def render(reply: Reply, *, settings: Settings, about: str) -> Message:
    """A neutral reply as a Slack message."""
    body = reply.body
    if isinstance(body, Answered):
        if body.earlier is not None:
            return repeat_message(body.earlier, answer_message(body.answer, about=about))
        return answer_message(body.answer, asker=body.asker, about=about)
    if isinstance(body, Notice):
        return notice_message(escape(body.text))
    if isinstance(body, Topics):
        return topics_message(body.counts, command=settings.command_facts)
    if isinstance(body, TopicFacts):
        return facts_message(body.topic, body.facts)
    if isinstance(body, NoTopic):
        return no_topic_message(body.topic, body.known)
    if isinstance(body, Help):
        return help_message(body.overview, settings)
    if isinstance(body, Why):
        return why_message(body.explanation)
    return digest_message(body.digest, preview=True)
