"""Names as people type them in chat, written out the way a fact base writes them.

Three general word lists ship in `bot/data/`, each `short<TAB>long`, lower case:

- `abbreviations.tsv`: chat, business and news shorthand ("natl" -> "national", "sec gen" ->
  "secretary general", "prez" -> "president", "3rd" -> "third");
- `places.tsv`: capitals and seats of power that stand for their country ("beijing" -> "china",
  "the kremlin" -> "russia", "white house" -> "united states");
- `demonyms.tsv`: "chinese" -> "china", "americans" -> "united states".

`expand` rewrites a normalised word list with them, longest phrase first. Questions and the fact base
go through the same rewriting, so "the Chinese position" meets "China's position" and "Beijing"
meets "China" whichever side uses which. "US" and "U.S." in capitals are the country. `places` lists the
names of several words ("united kingdom", "south africa", "united nations"), which matching reads as one word
each: "united" alone names no country.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from importlib import resources

PLACE_FILES = ("places.tsv", "demonyms.tsv")
"""The lists whose long forms are countries."""
FILES = ("abbreviations.tsv", *PLACE_FILES)
COUNTRY_CODES = {"RU": "Russia", "CN": "China", "JP": "Japan", "FR": "France", "DE": "Germany", "UA": "Ukraine"}
"""Two-letter country codes that stand for their country in capitals ("RU-CN talks"), and that lower case
would read as something else ("ru" is "are you" in chat) or not at all."""
IN_CAPITALS = re.compile(rf"\bU\.?S\.?(?:A\.?)?(?=[^\w.]|$)|\b(?:{'|'.join(COUNTRY_CODES)})\b")
"""The United States written in capitals ("US", "U.S.", "USA"), which casefolding would make "us", and the
`COUNTRY_CODES`."""


def _pairs(name: str) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The (short form, long form) rows of one word list, each as a tuple of words."""
    text = resources.files("bot").joinpath("data", name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            short, long = line.split("\t")
            yield tuple(short.split()), tuple(long.split())


@functools.lru_cache(maxsize=1)
def table() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Every short form, as a tuple of words, to its long form; a later file never overrides an earlier one."""
    names: dict[tuple[str, ...], tuple[str, ...]] = {}
    for name in FILES:
        for short, long in _pairs(name):
            names.setdefault(short, long)
    return names


UNIONS = ("united nations", "european union", "soviet union")
"""Names of bodies of countries that share words with countries' names ("united", "union")."""


@functools.lru_cache(maxsize=1)
def places() -> frozenset[tuple[str, ...]]:
    """The names of countries, and of bodies of them, that take several words ("united states", "south africa",
    "united nations"): each one place, which none of its words names alone."""
    countries = {long for name in PLACE_FILES for _, long in _pairs(name) if len(long) > 1}
    return frozenset(countries | {tuple(union.split()) for union in UNIONS})


@functools.lru_cache(maxsize=1)
def written() -> frozenset[str]:
    """Every word the lists write out ("spain", "national", "secretary"): real words, never typos of others."""
    return frozenset(word for long in table().values() for word in long)


@functools.lru_cache(maxsize=1)
def _longest_from() -> dict[str, int]:
    """For each word that starts a short form, the most words a short form starting with it has."""
    longest: dict[str, int] = {}
    for short in table():
        longest[short[0]] = max(longest.get(short[0], 0), len(short))
    return longest


def expand(words: list[str]) -> list[str]:
    """`words` with every known short form written out, longest match first; a short form that is already
    part of its long form as written ("czech" in "czech republic", "bissau" in "guinea bissau") stays."""
    longest = _longest_from()
    if longest.keys().isdisjoint(words):
        return words
    names = table()
    out: list[str] = []
    at = 0
    while at < len(words):
        reach = longest.get(words[at], 0)
        for size in range(min(reach, len(words) - at), 0, -1):
            long = names.get(tuple(words[at : at + size]))
            if long is None:
                continue
            written = _written_out(words, at, size, long)
            out.extend(words[at : at + written] if written else long)
            at += written or size
            break
        else:
            out.append(words[at])
            at += 1
    return out


def _written_out(words: list[str], at: int, size: int, long: tuple[str, ...]) -> int:
    """How many words from `at` on belong to `long` where the short form `words[at:at + size]` sits inside
    its long form as written out in `words`; 0 where it does not."""
    short = tuple(words[at : at + size])
    for start in range(len(long) - size + 1):
        if long[start : start + size] != short:
            continue
        before, after = long[:start], long[start + size :]
        follows = tuple(words[at + size : at + size + len(after)])
        if tuple(words[max(0, at - start) : at]) == before and follows == after:
            return size + len(after)
    return 0


def country_capitals(text: str) -> str:
    """`text` with "US" / "U.S." / "USA" in capitals written as "United States", and a country code in capitals
    ("RU") as its country."""
    if "U" not in text and not any(code in text for code in COUNTRY_CODES):
        return text
    return IN_CAPITALS.sub(lambda m: f" {COUNTRY_CODES.get(m.group(0), 'United States')} ", text)
