"""Text normalisation: one canonical form for questions, examples and quotes alike."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

# Chat markup that carries no meaning for matching. Labels of links and channels are kept.
_LABELLED = re.compile(r"<(?:#[A-Z0-9]+|[a-z][a-z0-9+.-]*:[^|>\s]+)\|([^>]*)>", re.IGNORECASE)
_ANGLED = re.compile(r"<[^<>\s]*>")
_EMOJI_CODE = re.compile(r":(?=[a-z0-9_+-]*[a-z])[a-z0-9_+-]+:", re.IGNORECASE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"'s\b")
_NON_WORD = re.compile(r"[^\w]+|_+")

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)

_stemmer = snowballstemmer.stemmer("english")


def strip_markup(text: str) -> str:
    """Remove Slack and Discord markup: mentions, channel links, URLs, emoji; keep link labels."""
    text = _LABELLED.sub(r" \1 ", text)
    text = _ANGLED.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _EMOJI_CODE.sub(" ", text)
    return "".join(" " if _is_symbol(ch) else ch for ch in text)


def _is_symbol(ch: str) -> bool:
    """Emoji, pictographs, joiners and variation selectors: symbols that are not words."""
    if ch.isascii():
        return False
    return unicodedata.category(ch) in {"So", "Sk", "Cf", "Cs", "Co", "Me"} or ("\ufe00" <= ch <= "\ufe0f")


def normalise(text: str) -> str:
    """Return the canonical matching form: NFKC, casefolded, markup and punctuation removed."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    text = strip_markup(text).casefold()
    text = _POSSESSIVE.sub("", text).replace("'", "")
    return " ".join(_NON_WORD.sub(" ", text).split())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The English (Snowball) stem of one normalised word."""
    return str(_stemmer.stemWord(word))


def words(text: str) -> list[str]:
    """Normalise `text` and split it into words."""
    return normalise(text).split()
