"""Source documents split into passages: header lines, numbered body paragraphs, page chrome."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz

from bot.models import Source

_BLOCKS = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?][’”'\"]?(?=\s+[‘“'\"(]?[A-Z0-9])")


class Part(StrEnum):
    """Which part of a page a passage belongs to."""

    header = "header"
    body = "body"
    chrome = "chrome"


PROBE = 300
"""How much of a quote not found in its source is compared with each passage to suggest the closest."""


@dataclass(frozen=True)
class Passage:
    """A blank-line-separated block of a document."""

    text: str
    part: Part
    paragraph: int | None = None

    @property
    def label(self) -> str:
        """How a person would name this passage."""
        return f"paragraph {self.paragraph}" if self.paragraph else f"the {self.part.value}"


@dataclass(frozen=True)
class Document:
    """A source's text, split into passages."""

    source: Source
    passages: tuple[Passage, ...]

    @classmethod
    def parse(cls, source: Source, text: str) -> Document:
        """Split `text` into header, body and chrome passages as `source` describes them."""
        blocks = [unwrapped(b) for b in _BLOCKS.split(text.replace("\r\n", "\n")) if b.strip()]
        headers = {unwrapped(h) for h in source.header}
        starts = _body_start(blocks, unwrapped(source.body_starts or ""))
        passages, number = [], 0
        for index, block in enumerate(blocks):
            if index >= starts:
                number += 1
                passages.append(Passage(block, Part.body, number))
            else:
                passages.append(Passage(block, Part.header if block in headers else Part.chrome))
        return cls(source, tuple(passages))

    @property
    def quotable(self) -> list[Passage]:
        """Passages a fact may quote: the header and the body."""
        return [p for p in self.passages if p.part is not Part.chrome]

    def find(self, quote: str) -> Passage | None:
        """The quotable passage holding `quote` verbatim (line breaks aside), if any."""
        quote = unwrapped(quote)
        return next((p for p in self.quotable if quote in p.text), None)

    def in_chrome(self, quote: str) -> bool:
        """Whether `quote` is found only in page chrome."""
        quote = unwrapped(quote)
        return any(quote in p.text for p in self.passages if p.part is Part.chrome)

    def closest(self, quote: str) -> tuple[Passage, str] | None:
        """The quotable passage and span that look most like `quote`, to help fix a bad quote.

        Only the quote's first `PROBE` characters are compared, so a huge quote costs what a long one does.
        """
        best: tuple[float, Passage, str] | None = None
        probe = unwrapped(quote)[:PROBE]
        for passage in self.quotable:
            found = fuzz.partial_ratio_alignment(probe, passage.text)
            if found is not None and (best is None or found.score > best[0]):
                span = passage.text[found.dest_start : found.dest_end]
                best = (found.score, passage, span)
        return (best[1], best[2]) if best else None


def _body_start(blocks: list[str], marker: str | None) -> int:
    """Index of the first body block: the one starting with `marker`, or 0 without one."""
    if not marker:
        return 0
    return next((i for i, b in enumerate(blocks) if b.startswith(marker)), len(blocks))


def unwrapped(text: str) -> str:
    """`text` with every run of whitespace (line breaks, indentation) as one space.

    Plain-text sources are often wrapped at a fixed width; the wrapping is not part of the
    words, so a quote matches its source whatever the line breaks.
    """
    return " ".join(text.split())


def sentence_count(text: str) -> int:
    """Roughly how many sentences `text` holds."""
    return len(_SENTENCE_END.findall(text.strip())) + 1
