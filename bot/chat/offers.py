"""The choices offered lately in each conversation, so that "2" picks the second of them."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable

from bot.context import CONVERSATIONS, FOLLOW_UP_SECONDS
from bot.models import Suggestion

PICK = re.compile(r"^\s*#?(\d{1,2})\s*[.)]?\s*$")
"""A reply that is only a choice's number: `2`, `#2`, `2.`, `2)`."""


class Offers:
    """Each conversation's last offered questions (a clarify, a fallback, a greeting), for a few minutes."""

    def __init__(self, *, size: int = CONVERSATIONS, clock: Callable[[], float] = time.monotonic) -> None:
        self._offered: OrderedDict[str, tuple[float, list[Suggestion]]] = OrderedDict()
        self._size, self._clock = size, clock

    def remember(self, conversation: str | None, offered: list[Suggestion]) -> None:
        """Keep what was just offered in `conversation` (nothing offered forgets the earlier offer)."""
        if conversation is None:
            return
        self._offered.pop(conversation, None)
        if offered:
            self._offered[conversation] = (self._clock(), offered)
            if len(self._offered) > self._size:
                self._offered.popitem(last=False)

    def picked(self, conversation: str | None, text: str) -> Suggestion | None:
        """The offered question `text` picks by its number, if it is only a number and such an offer stands."""
        found = PICK.match(text)
        kept = self._offered.get(conversation) if conversation is not None and found else None
        if found is None or kept is None:
            return None
        at, offered = kept
        number = int(found.group(1))
        if self._clock() - at > FOLLOW_UP_SECONDS or not 1 <= number <= len(offered):
            return None
        return offered[number - 1]
