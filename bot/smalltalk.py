"""Built-in intents that need no fact base: greetings, thanks and "what can you do"."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SmallTalk:
    """A built-in intent: its id and the phrasings that invoke it."""

    id: str
    examples: tuple[str, ...]

    @property
    def words(self) -> frozenset[str]:
        """Every word of its phrasings."""
        return frozenset(w for e in self.examples for w in e.split())


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
)

BUILT_IN = (GREETING, THANKS, CAPABILITIES)
WORDS = GREETING.words | THANKS.words | CAPABILITIES.words
PHRASES = frozenset(e for talk in BUILT_IN for e in talk.examples)
_FILLER = frozenset("factbot please pls ok okay so and oh um uh".split())  # noqa: SIM905


def is_phrase(words: list[str]) -> bool:
    """Whether a normalised message is one of the built-in phrasings, give or take filler ("hi factbot")."""
    core = [w for w in words if w not in _FILLER]
    return bool(core) and " ".join(core) in PHRASES


def classify(words: list[str]) -> SmallTalk:
    """Which built-in intent a message without any content words is: thanks, greeting or help."""
    present = set(words)
    if present & THANKS.words - {"you", "a", "lot", "very", "much", "great", "it"}:
        return THANKS
    if present & GREETING.words - {"good", "there", "factbot"}:
        return GREETING
    return CAPABILITIES
