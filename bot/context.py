"""Follow-ups: a question that refers back ("and who did she beat?") is read with the one before it.

A conversation is whatever an adapter says it is: the terminal session, a Slack thread or DM, one
person in one Discord channel. Each keeps only its last question, for `FOLLOW_UP_SECONDS`; the
memory is bounded, the least recently used conversations go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.normalise import normalise

FOLLOW_UP_SECONDS = 300
"""How long after a question a follow-up is still read with it."""

CONVERSATIONS = 10_000
"""Conversations remembered at once."""

SHORT = 3
"""A question of this many words or fewer may lean on the one before it ("when?", "and the loser?")."""

REFERRING = frozenset(
    """he she him her his hers they them their theirs it its that this those these there then
    such same other others""".split()  # noqa: SIM905 (a word list reads best as text)
)
"""Words that point back to something said before."""

OPENERS = frozenset("and also so but ok okay then".split())  # noqa: SIM905
"""First words of a question that continues the one before."""

OPENING_PAIRS = frozenset({("what", "about"), ("how", "about")})
"""First two words that do the same ("what about Russia?")."""


@dataclass(frozen=True)
class Turn:
    """The last question of a conversation: what was asked, which intent answered it, and when.

    `topic` is what a follow-up to it is read with: the question, and the questions it followed up on.
    """

    text: str
    intent: str | None
    at: float
    topic: str = ""


def refers_back(text: str) -> bool:
    """Whether a question points back to an earlier one: a pronoun, a continuing opener, or very few words."""
    words = normalise(text).split()
    if not words:
        return False
    opening = words[0] in OPENERS or tuple(words[:2]) in OPENING_PAIRS
    return opening or not REFERRING.isdisjoint(words) or len(words) <= SHORT


class Conversations:
    """The last question of each conversation, forgotten after `FOLLOW_UP_SECONDS`."""

    def __init__(self, *, size: int = CONVERSATIONS, clock: Callable[[], float] = time.monotonic) -> None:
        self._turns: OrderedDict[str, Turn] = OrderedDict()
        self._size = size
        self._clock = clock

    def previous(self, conversation: str | None) -> Turn | None:
        """The conversation's last question, if it was asked recently enough to follow up on."""
        turn = self._turns.get(conversation) if conversation else None
        if turn is None or self._clock() - turn.at > FOLLOW_UP_SECONDS:
            return None
        return turn

    def remember(self, conversation: str | None, text: str, intent: str | None, *, topic: str | None = None) -> None:
        """Keep `text` as the conversation's last question (read, with what it followed up on, as `topic`)."""
        if not conversation:
            return
        self._turns[conversation] = Turn(text, intent, self._clock(), topic or text)
        self._turns.move_to_end(conversation)
        if len(self._turns) > self._size:
            self._turns.popitem(last=False)
