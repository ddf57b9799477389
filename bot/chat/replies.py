"""Neutral replies: what the chat service says back, before a platform renders it.

Each body is a small frozen value; an adapter renders it as rich text, Block Kit or an embed. `Reply` adds
who may see it and, for a full answer in a channel, the facts to remember once it is posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.digest import Digest
from bot.explain import Explanation
from bot.models import Answer, Citation, Overview
from bot.store import PostRecord


@dataclass(frozen=True)
class Notice:
    """One or two plain sentences (a problem, a confirmation, a thank-you)."""

    text: str


@dataclass(frozen=True)
class Answered:
    """An answer (or a clarifying question, a fallback, small talk) to show, naming who asked when given."""

    answer: Answer
    asker: str | None = None
    earlier: PostRecord | None = None
    """The same answer given in this channel lately: this copy goes to the asker alone, pointing to that one."""


@dataclass(frozen=True)
class Topics:
    """The fact base's topics with how many facts each has."""

    counts: dict[str, int]


@dataclass(frozen=True)
class TopicFacts:
    """The facts on one topic: each answer with its citation."""

    topic: str
    facts: list[tuple[str, Citation]]


@dataclass(frozen=True)
class NoTopic:
    """A topic the fact base does not have, and the ones it does."""

    topic: str
    known: list[str]


@dataclass(frozen=True)
class Help:
    """What Factbot knows and how to ask it."""

    overview: Overview


@dataclass(frozen=True)
class Why:
    """Why a question got the answer it got."""

    explanation: Explanation


@dataclass(frozen=True)
class Preview:
    """Today's digest, shown to the person who asked for it."""

    digest: Digest


Body = Notice | Answered | Topics | TopicFacts | NoTopic | Help | Why | Preview


@dataclass(frozen=True)
class Reply:
    """A body, whether only its asker sees it, and the facts a channel answer gives (remember them once posted)."""

    body: Body
    private: bool = True
    facts: tuple[str, ...] = field(default=())
