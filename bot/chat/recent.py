"""A bounded memory of recent keys (event ids, request signatures): what this process saw lately."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class Recent:
    """Keys seen lately, bounded in number and age: the first check against a delivery or request seen twice."""

    def __init__(self, *, size: int = 10_000, ttl: float = 3600.0, clock: Callable[[], float] = time.monotonic):
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._size, self._ttl, self._clock = size, ttl, clock

    def seen(self, key: str) -> bool:
        """Whether `key` came lately; it is remembered from now on either way."""
        now = self._clock()
        while self._seen and now - next(iter(self._seen.values())) > self._ttl:
            self._seen.popitem(last=False)
        if key in self._seen:
            return True
        self._seen[key] = now
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return False
