"""What Factbot says, in one place: every sentence a person reads, whatever the platform.

Each is plain text with no platform markup; adapters escape and format it.
"""

from __future__ import annotations

from datetime import datetime

from bot.store import now


def ago(moment: datetime, *, at: datetime | None = None) -> str:
    """How long before `at` (now) `moment` was, in minutes: "just now", "a minute ago", "12 minutes ago"."""
    minutes = int(((at or now()) - moment).total_seconds() // 60)
    return "just now" if minutes < 1 else "a minute ago" if minutes == 1 else f"{minutes} minutes ago"


def answered_before(moment: datetime, *, at: datetime | None = None) -> str:
    """The line above a repeated answer, which only its asker sees."""
    return f"I answered that here {ago(moment, at=at)}, so this copy is just for you."


EARLIER_LINK = "see that answer"
"""The label of the link to the earlier answer in the channel."""
