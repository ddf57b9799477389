"""What Factbot says, in one place: every sentence the chat service gives a person, whatever the platform.

Plain text with no platform markup (a command is shown in backticks, which every platform renders as code);
adapters escape and format it.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.store import now

SORRY = "Sorry, something went wrong while answering that. Please try again."
SUGGESTION_GONE = "That suggestion is out of date. Please ask again in your own words."
VOTE_NOT_KEPT = "Sorry, I could not tell which answer that vote was for."
EARLIER_LINK = "see that answer"
"""The label of the link to the earlier answer in the channel."""


def ago(moment: datetime, *, at: datetime | None = None) -> str:
    """How long before `at` (now) `moment` was, in minutes: "just now", "a minute ago", "12 minutes ago"."""
    minutes = int(((at or now()) - moment).total_seconds() // 60)
    return "just now" if minutes < 1 else "a minute ago" if minutes == 1 else f"{minutes} minutes ago"


def answered_before(moment: datetime, *, at: datetime | None = None) -> str:
    """The line above a repeated answer, which only its asker sees."""
    return f"I answered that here {ago(moment, at=at)}, so this copy is just for you."


def thanks(vote: str) -> str:
    """The private thank-you for a 👍 or 👎."""
    return f"Thanks, your {'👍' if vote == 'up' else '👎'} is noted."


def slow_down(retry_after: float) -> str:
    """The polite answer to a flood."""
    return f"Slow down a little… you can ask again in {max(round(retry_after), 1)} s."


def nothing_to_explain(ask: str | None, why: str) -> str:
    """`/why` where nothing was asked yet; `ask` and `why` are the commands as typed there (no `ask`: just ask)."""
    first = f"ask with `{ask}`" if ask else "ask a question"
    return f"Nothing to explain here yet: {first}, then `{why}`, or `{why}` with your question."


def digest_needs_a_channel(usage: str) -> str:
    """`/digest subscribe` or `unsubscribe` outside a channel (`usage`: the command as typed)."""
    return f"Digests are for channels: run `{usage}` in the channel itself."


def not_allowed(who_may: str) -> str:
    """A member who may not change the channel's digest; `who_may` says who can, on this platform."""
    return f"Only {who_may} can change its digest."


def unsubscribed(had: bool, *, subscribe: str) -> str:
    """After `/digest unsubscribe`: whether the channel had the digest, and how to start it."""
    said = (
        "This channel will no longer get the Factbot digest."
        if had
        else "This channel was not getting the Factbot digest."
    )
    return f"{said} `{subscribe}` starts it."


def subscribed(when: str, *, unsubscribe: str) -> str:
    """After `/digest subscribe`: when the digest comes, and how to stop it."""
    return f"This channel will get the Factbot digest {when}. `{unsubscribe}` stops it."


def store_unavailable() -> str:
    """A subscription the database could not save."""
    return "Sorry, I could not save that just now (the database is unavailable). Please try again later."


def earlier_at(link: str) -> str:
    """After the line above a repeated answer, where a platform shows the earlier answer's bare link."""
    return f"Earlier: {link}"


# -- lines every renderer shows, whatever its markup ----------------------------------------------

ONLY_THE_START = "Only the start of a very long message was read."
CHAT_GREETING = "Ask away, or type /help. Ctrl-D to leave."
PREVIEW = "Preview: only you can see this."
FACT_OF_THE_DAY = "Fact of the day"
TEAM_ASKED = "What the team asked"
NOT_ANSWERED = "Not answered yet"
TRY_ASKING = "Try asking"


def follow_up_to(question: str) -> str:
    """Under an answer read with the question before it."""
    return f"Read as a follow-up to “{question}”."


def only_from(about: str) -> str:
    """Under a fallback: what Factbot answers from."""
    return f"I answer only from {about}."


def no_topic(topic: str) -> str:
    """`/facts` with a topic the fact base does not have."""
    return f"No topic “{topic}”."


def topics_are(known: list[str]) -> str:
    """The topics there are, after `no_topic`."""
    return f"Topics: {', '.join(known)}."


def unknown_command(typed: str) -> str:
    """A terminal command Factbot does not have."""
    return f"Unknown command {typed}. Type /help."


def digest_title(day: date) -> str:
    """The heading of a day's digest."""
    return f"Factbot digest for {day:%A %d %B %Y}"
