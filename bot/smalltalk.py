"""Built-in intents that need no fact base: greetings, thanks, goodbyes and "what can you do"."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SmallTalk:
    """A built-in intent: its id and the phrasings that invoke it."""

    id: str
    examples: tuple[str, ...]
    whole: tuple[str, ...] = ()
    """Phrasings that are small talk only as the whole message, and only where the fact base does not answer
    them ("who made you", "see you later"): their words may be its topic words ("made", "name", "later"), and
    it may have an intent of its own for them."""

    @property
    def words(self) -> frozenset[str]:
        """Every word of its phrasings but the `whole` ones: words that carry no topic in any fact base."""
        return frozenset(w for e in self.examples for w in e.split())

    @property
    def phrasings(self) -> tuple[str, ...]:
        """All its phrasings."""
        return self.examples + self.whole


GREETING = SmallTalk(
    "greeting",
    (
        "hi",
        "hello",
        "hey",
        "hey there",
        "hiya",
        "howdy",
        "yo",
        "good morning",
        "good afternoon",
        "good evening",
        "greetings",
        "hello factbot",
        "sup",
    ),
    whole=(
        "how are you",
        "how are you doing",
        "how are you today",
        "how are you doing today",
        "how are things",
        "how is it going",
        "how it going",
        "how is everything",
        "how everything",
        "how is life",
        "how life",
        "how have you been",
        "howve you been",
        "how is your day",
        "how your day",
        "how is your day going",
        "how your day going",
        "how was your day",
        "how do you do",
        "are you well",
        "are you doing well",
        "what up",
        "whats up",
        "what new",
        "what is new",
        "what happening",
        "nice to see you",
        "good to see you",
        "it nice to see you",
        "it good to see you",
        "nice to meet you",
        "long time no see",
        "good day",
        "heyo",
        "bonjour",
        "hola",
    ),
)
THANKS = SmallTalk(
    "thanks",
    (
        "thanks",
        "thank you",
        "thx",
        "ty",
        "cheers",
        "much appreciated",
        "thanks a lot",
        "great thanks",
        "thank you very much",
        "ta",
        "appreciate it",
        "perfect",
        "cool",
        "nice",
        "awesome",
        "got it",
        "great",
    ),
)
CAPABILITIES = SmallTalk(
    "capabilities",
    (
        "what can you do",
        "help",
        "what do you know",
        "what can i ask",
        "who are you",
        "what are you",
        "how does this work",
        "what is this",
        "what do you do",
        "commands",
    ),
    whole=(
        "who made you",
        "who built you",
        "who created you",
        "what your name",
        "what is your name",
        "are you a bot",
        "are you a robot",
        "are you human",
        "are you a human",
        "are you a person",
        "are you real",
        "are you an artificial intelligence",
    ),
)
GOODBYE = SmallTalk(
    "goodbye",
    (),
    whole=(
        "bye",
        "goodbye",
        "bye bye",
        "cya",
        "ttyl",
        "see you",
        "see you later",
        "see ya",
        "later",
        "good night",
        "take care",
        "have a good day",
        "thanks bye",
        "thank you bye",
        "bye thanks",
    ),
)

BUILT_IN = (GREETING, THANKS, GOODBYE, CAPABILITIES)
WORDS = frozenset().union(*(talk.words for talk in BUILT_IN))
PHRASES = frozenset(e for talk in BUILT_IN for e in talk.examples)
WHOLE = frozenset(e for talk in BUILT_IN for e in talk.whole)
_FILLER = frozenset("factbot please pls ok okay so and oh um uh".split())  # noqa: SIM905
_POLITE = GREETING.words | THANKS.words
"""Words of a greeting or thanks, which may come before something else said to a bot ("thanks, bye")."""
_SAID_TO = {phrase: talk for talk in reversed(BUILT_IN) for phrase in talk.phrasings}
"""Each phrasing to its built-in intent (the first in `BUILT_IN` where two share one)."""
_THANKING = THANKS.words - {"you", "a", "lot", "very", "much", "great", "it"}
_GREETING = GREETING.words - {"good", "there", "factbot"}
"""The words that make a message without content words thanks, or a greeting, wherever they stand."""


def is_phrase(words: list[str]) -> bool:
    """Whether a normalised message is one of the built-in phrasings, give or take filler ("hi factbot")."""
    core = [w for w in words if w not in _FILLER]
    return bool(core) and " ".join(core) in PHRASES


def is_whole(words: list[str]) -> bool:
    """Whether a normalised message is one of the phrasings that are small talk only where the fact base does
    not answer them, give or take filler and a greeting or thanks before it ("ok thanks, see you later")."""
    return _whole(words) is not None


def _whole(words: list[str]) -> SmallTalk | None:
    """The built-in intent a message is a phrasing of (`is_whole`), if it is one."""
    core = [w for w in words if w not in _FILLER]
    polite = next((n for n, w in enumerate(core) if w not in _POLITE), len(core))
    for said in (" ".join(core), " ".join(core[polite:])):
        if (talk := _SAID_TO.get(said)) is not None:
            return talk
    return None


def classify(words: list[str]) -> SmallTalk:
    """Which built-in intent a message without any content words is: one it is a phrasing of, else thanks, a
    greeting or help, by its words."""
    if (whole := _whole(words)) is not None:
        return whole
    present = set(words)
    if not _THANKING.isdisjoint(present):
        return THANKS
    if not _GREETING.isdisjoint(present):
        return GREETING
    return CAPABILITIES
