"""The models every part of Factbot shares: the fact base, questions and answers."""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Identified(BaseModel):
    """Base for fact-base records: each has an id; unknown keys are mistakes; records are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(min_length=1)


class Source(Identified):
    """A document the fact base quotes, as recorded in `knowledge/sources.yaml`."""

    title: str = Field(min_length=1)
    author: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    url: str = Field(min_length=1)
    file: str = Field(min_length=1)
    kind: str | None = None
    header: list[str] = Field(default_factory=list)
    body_starts: str | None = None


class Fact(Identified):
    """One curated fact: a verbatim quote of a source and a plain-words answer drawn from it."""

    source: str = Field(min_length=1)
    quote: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    topics: list[str] = Field(min_length=1)
    record: str | None = None
    curator_note: str | None = None


class Intent(Identified):
    """Something people ask: example phrasings and the facts that answer it."""

    facts: list[str] = Field(min_length=1)
    examples: list[str] = Field(min_length=1)

    @property
    def question(self) -> str:
        """The canonical phrasing, shown when the bot suggests this intent."""
        return self.examples[0]


class Question(BaseModel):
    """A question as an adapter received it."""

    text: str
    who: str | None = None
    where: str | None = None
    platform: str = "console"
    workspace: str | None = None
    conversation: str | None = None
    """Where a follow-up may be read with the question before it: a terminal session, a thread, a DM."""


class Status(StrEnum):
    """What the bot decided to do with a question."""

    answered = "answered"
    clarify = "clarify"
    fallback = "fallback"
    smalltalk = "smalltalk"


def byline(author: str, publisher: str) -> list[str]:
    """Author and publisher, or the author alone when they are one (a team's own documents often are)."""
    return [author] if author.casefold() == publisher.casefold() else [author, publisher]


class Citation(BaseModel):
    """Where an answer comes from, with the verbatim quote."""

    fact_id: str
    source_id: str
    title: str
    author: str
    publisher: str
    url: str
    quote: str
    paragraph: int | None = None
    note: str | None = None
    """The curator's note on this fact (where the source errs or needs context), shown under the quote."""

    @property
    def place(self) -> str:
        """Where in its source the quote stands: "paragraph 3", or "source record"."""
        return f"paragraph {self.paragraph}" if self.paragraph else "source record"


class Suggestion(BaseModel):
    """A question the fact base can answer, offered instead."""

    intent: str
    question: str


def text_safe(text: str) -> str:
    """`text` with lone surrogates (from undecodable bytes or broken JSON escapes) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:  # a byte the command line could not decode: back to that byte, then U+FFFD for it
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # a lone surrogate from a broken escape
            return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


class Answer(BaseModel):
    """The bot's reply to one question: the project's public contract (`factbot ask --json`).

    Frozen: an answer to a question asked again is the same object, shared.
    """

    model_config = ConfigDict(frozen=True)

    question: str
    status: Status
    intent: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)
    truncated: bool = False
    context: str | None = None
    """The earlier question this one was read with, when it was taken as a follow-up."""

    @field_validator("question", "context")
    @classmethod
    def _encodable(cls, text: str | None) -> str | None:
        """The text as received, with anything that is not text (a lone surrogate, a stray byte) made U+FFFD."""
        return None if text is None else text_safe(text)


class Overview(BaseModel):
    """What a fact base holds, for help and `/factbot`: sources, counts, topics, questions to try."""

    covers: str
    sources: list[Source]
    facts: int
    intents: int
    topics: dict[str, int]
    try_asking: list[Suggestion]


class Subscription(BaseModel):
    """A channel that gets the daily digest at its local time."""

    platform: str
    channel: str
    workspace: str | None = None
    at: time = time(9, 0)
    timezone: str = "UTC"
    curators: bool = False


class ConfigError(Exception):
    """A setting the platform or the machine rejected (a bad token, say), told in one line without secrets."""
