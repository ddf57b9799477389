"""Text normalisation: one canonical form for questions, examples and quotes alike."""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources

import snowballstemmer

from bot import names

# Chat markup that carries no meaning for matching. Labels of links and channels are kept.
_LABELLED = re.compile(r"<(?:#[A-Z0-9]+|[a-z][a-z0-9+.-]*:[^|>\s]+)\|([^>]*)>", re.IGNORECASE)
_ANGLED = re.compile(r"<[^<>\s]*>")
_EMOJI_CODE = re.compile(r":(?=[a-z0-9_+-]*[a-z])[a-z0-9_+-]+:", re.IGNORECASE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"'s\b")
_CONTRACTED = re.compile(r"(?<=\w)'(ve|ll|re|d)\b")
_CONTRACTIONS = {"ve": " have", "ll": " will", "re": " are", "d": " would"}
"""What "what've", "who'll", "they're" and "she'd" say in full: the question word stays a word of its own."""
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

_SLASHED = {"w/o": " without ", "w/": " with ", "b/c": " because ", "b/w": " between "}
_SLASHED_WORDS = re.compile(r"(?<![\w/])(w/o|b/c|b/w|w/)(?![\w/]*/)")
"""Chat shorthand written with a slash ("w/o squash"), which punctuation removal would break apart."""

_STRIKE = re.compile(r"~~?([^~\s](?:[^~]*[^~\s])?)~~?")  # ~struck out~ in Slack and Discord
_SYMBOL_NAMES = str.maketrans({"~": " tilde ", "%": " percent ", "$": " dollar ", "&": " and "})

_stemmer = snowballstemmer.stemmer("english")

# English irregular verb forms, which no suffix-stripping stemmer can join to their base form.
_IRREGULAR_FORMS = """
arise arose arisen|be was were been|bear bore borne|beat beaten|become became|begin began begun|
bring brought|build built|buy bought|choose chose chosen|come came|do did done|draw drew drawn|
drive drove driven|eat ate eaten|fall fell fallen|feel felt|fight fought|find found|fly flew flown|
forget forgot forgotten|get got gotten|give gave given|go went gone|grow grew grown|have had has|
hear heard|hold held|keep kept|know knew known|lead led|leave left|lose lost|make made|mean meant|
meet met|pay paid|ride rode ridden|rise rose risen|run ran|say said|see saw seen|seek sought|
sell sold|send sent|shake shook shaken|shoot shot|sing sang sung|sit sat|speak spoke spoken|
spend spent|stand stood|steal stole stolen|strike struck|swear swore sworn|take took taken|
teach taught|tell told|think thought|throw threw thrown|understand understood|wake woke woken|
wear wore worn|win won|write wrote written
"""
IRREGULAR = {form: forms.split()[0] for forms in _IRREGULAR_FORMS.split("|") for form in forms.split()[1:]}

# Chat shorthand, written out so that it meets the words a fact base uses.
SHORTHAND = {
    "abt": "about",
    "b4": "before",
    "btwn": "between",
    "coz": "because",
    "cuz": "because",
    "dunno": "dont know",
    "govt": "government",
    "hows": "how",
    "idk": "i dont know",
    "info": "information",
    "kinda": "kind of",
    "mins": "minutes",
    "msg": "message",
    "ppl": "people",
    "prev": "previous",
    "rn": "right now",
    "ru": "are you",
    "sorta": "sort of",
    "tho": "though",
    "u": "you",
    "ur": "your",
    "wanna": "want to",
    "wat": "what",
    "whats": "what",
    "whens": "when",
    "wheres": "where",
    "whos": "who",
    "whys": "why",
    "wut": "what",
    "yr": "year",
    "yrs": "years",
}


_TERMINAL_CODES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks, clipboard writes
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, screen clears
    r"|\x1b[@-_]?"  # any other escape
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # other control characters (newline and tab stay)
)


def visible(text: str) -> str:
    """`text` safe to print on a terminal: escape sequences and control characters removed."""
    return _TERMINAL_CODES.sub("", text) if not text.isprintable() else text


def strip_markup(text: str) -> str:
    """Remove Slack and Discord markup: mentions, channel links, URLs, emoji; keep link labels."""
    if "<" in text:  # the checks skip work most texts never need; the result is the same
        text = _LABELLED.sub(r" \1 ", text)
        text = _ANGLED.sub(" ", text)
    if ":" in text:
        text = _URL.sub(" ", text)
        text = _EMOJI_CODE.sub(" ", text)
    if text.isascii():
        return text
    return "".join(" " if _is_symbol(ch) else ch for ch in text)


def _is_symbol(ch: str) -> bool:
    """Emoji, pictographs, joiners and variation selectors: symbols that are not words."""
    if ch.isascii():
        return False
    return unicodedata.category(ch) in {"So", "Sk", "Cf", "Cs", "Co", "Me"} or ("\ufe00" <= ch <= "\ufe0f")


def normalise(text: str) -> str:
    """Return the canonical matching form: NFKC, casefolded, markup and punctuation removed."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    text = names.country_capitals(strip_markup(text)).casefold()
    if "'" in text:
        text = _CONTRACTED.sub(lambda m: _CONTRACTIONS[m.group(1)], _POSSESSIVE.sub("", text)).replace("'", "")
    if "&" in text:  # Slack escapes these three in message text
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    if "/" in text:
        text = _SLASHED_WORDS.sub(lambda m: _SLASHED[m.group(1)], text)
    if "~" in text or "%" in text or "$" in text or "&" in text:  # "~/" is the tilde, "50%" fifty percent
        text = _STRIKE.sub(r"\1", text).translate(_SYMBOL_NAMES)
    words = _NON_WORD.sub(" ", text).split()
    if not _SHORTHAND_WORDS.isdisjoint(words):
        words = [SHORTHAND.get(word, word) for word in words]
    return " ".join(names.expand(words))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The English (Snowball) stem of one normalised word, irregular verb forms first made regular."""
    return str(_stemmer.stemWord(IRREGULAR.get(word, word)))


# British and American spellings of one word: (pattern, replacement), tried both ways round.
_SPELLINGS = [
    (re.compile(p), r)
    for p, r in (
        (r"is(e|es|ed|ing|ation|ations|er|ers|able)$", r"iz\1"),
        (r"iz(e|es|ed|ing|ation|ations|er|ers|able)$", r"is\1"),
        (r"our(s|ed|ing|ite|ites|able|ful)?$", r"or\1"),
        (r"(?<=[^aeiou])or(s|ed|ing|ite|ites|able|ful)?$", r"our\1"),
        (r"tre(s|d)?$", r"ter\1"),
        (r"ter(s|ed)?$", r"tre\1"),
        (r"ence$", "ense"),
        (r"ense$", "ence"),
        (r"yse(s|d)?$", r"yze\1"),
        (r"yze(s|d)?$", r"yse\1"),
        (r"ll(ed|ing|er|ers)$", r"l\1"),
        (r"(?<=[^l])l(ed|ing|er|ers)$", r"ll\1"),
        (r"ogue(s)?$", r"og\1"),
        (r"mme(s)?$", r"m\1"),
    )
]


def spelling_variants(word: str) -> list[str]:
    """The other spellings of `word` across British and American English ("licence" -> "license")."""
    if len(word) < 5:
        return []
    return [variant for pattern, repl in _SPELLINGS if (variant := pattern.sub(repl, word, count=1)) != word]


_SHORTHAND_WORDS = frozenset(SHORTHAND)

COMMON_WORD_COUNT = 500
"""A word seen this often in pyspellchecker's English corpus is a real word, not a typo."""


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """English words common enough never to be taken for a misspelling (loaded on first use)."""
    data = (resources.files("spellchecker") / "resources" / "en.json.gz").read_bytes()
    counts: dict[str, int] = json.loads(gzip.decompress(data))
    return frozenset(word for word, count in counts.items() if count >= COMMON_WORD_COUNT)


@lru_cache(maxsize=1)
def _common_by_start() -> dict[tuple[str, int], list[str]]:
    """The common English words grouped by first letter and length."""
    groups: dict[tuple[str, int], list[str]] = {}
    for word in sorted(_common_words()):
        groups.setdefault((word[0], len(word)), []).append(word)
    return groups


@lru_cache(maxsize=4096)
def common_words_like(first: str, length: int, spread: int) -> tuple[str, ...]:
    """The common English words starting with `first` whose length is within `spread` of `length`."""
    groups = _common_by_start()
    return tuple(w for n in range(length - spread, length + spread + 1) for w in groups.get((first, n), ()))


def is_common_word(word: str) -> bool:
    """Whether a normalised word is a common English word ("week", "merge"), so not a typo of another."""
    return word in _common_words()


def words(text: str) -> list[str]:
    """Normalise `text` and split it into words."""
    return normalise(text).split()
