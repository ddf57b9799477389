"""Score a question against every intent: typo-tolerant, weighted by how telling each word is.

Each intent is known by its example phrasings and by the words of the facts it answers. A
question is reduced to its content terms (stop words dropped, typos corrected against the
fact base's vocabulary, words stemmed, synonyms folded). An intent scores well when one of
its examples covers the question's terms and the question covers the example's, both
weighted by inverse document frequency, so that "Ismailov" counts for more than "ITU". A
term the fact base never mentions keeps its full weight and is covered by nothing: that is
how "Where is the ITU headquartered?" fails to match "What does the ITU do?".
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

from bot import smalltalk
from bot.knowledge import FactBase
from bot.models import Intent, Source
from bot.normalise import is_common_word, normalise, spelling_variants, stem

Normaliser = Callable[[str], str]

MAX_CHARS = 300
"""Only this much of a question is matched, so a huge message costs what a short one does."""

TOP_CANDIDATES = 25
"""Candidates a ranking keeps: enough for suggestions, explanations and Discord's 25 autocomplete choices."""

MAX_REMEMBERED_CORRECTIONS = 50_000
"""Spelling corrections kept for reuse; the memory is cleared when it is full."""

QUOTE_CREDIT = 0.75
"""How much a term found only in an intent's quotes (not its examples or answers) counts."""

STOPWORDS = frozenset(
    """a about above again against all also am an and any anybody anyone anything are
    aren arent as at be because been being below between both but by can cant could
    couldnt did didnt do does doesnt doing dont down during each either ever every few
    for from further get gets getting got had hadnt has hasnt have havent having he hed hes
    her here hers herself him himself his how however i id if ill im in into is isnt it its
    itself ive just let lets may me might mine more most much must my myself no nor not
    now of off oh ok okay on once one only or other our ours ourselves out over own perhaps
    please pls plz quick quickly quite rather really same shall she should so
    some somebody someone something such tell than that thats the their theirs them
    themselves then there theres these they theyre this those though go going goes gonna through thus to too
    um uh under until up upon very want wanted was wasnt we were werent what whats when
    where which while who whom whos whose why will with wonder wondering would wouldnt you
    youre your yours yourself yourselves know knows remind explain curious like need mean
    means meant actually basically anyway exactly exact bit lot lots thing things stuff
    many still well ones yet already even etc eg ie done gone known knew told""".split()  # noqa: SIM905 (a word list reads best as text)
)
"""Words that carry no topic in any fact base."""


UNKNOWN_FACTOR = 1.0
"""Weight of a word the fact base never uses, relative to its rarest known word."""

EXAMPLE_SHARE = 0.3
"""How much of an intent's score comes from its best example; the rest is intent coverage."""

SUPPORT_SHARE = 0.2
"""How much the second-best example of an intent adds: evidence from several phrasings."""

TYPE_PENALTY = 0.6
"""Score factor for an intent never asked with the question's kind (when, where, how many)."""

_QUESTION_TYPES = (
    ("time", ("when", "what year", "which year", "what date", "what day", "what time", "how long ago")),
    ("place", ("where", "which city", "what city", "in which country")),
    ("number", ("how many", "how much", "what percentage", "what share", "how old", "what age")),
)

_CONJUNCTIONS = frozenset({"when", "where"})
"""Openers that are as often conjunctions ("what happens when I...") as questions ("when did...")."""

_ASKING = frozenset("and but or so then ok okay know tell me say ask asking wonder wondering remember".split())  # noqa: SIM905
"""Words after which "when" or "where" still asks ("and when?", "tell me where")."""


_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DAY_OF_MONTH = re.compile(rf"\b\d{{1,2}} (?:{_MONTHS})\b|\b(?:{_MONTHS}) \d{{1,2}}\b")
_YEAR_OR_MONTH = re.compile(
    rf"\b(1[89]\d\d|20\d\d|{_MONTHS.replace('may|', '')})\b|\bmay \d|\d may\b"  # "may" alone is a verb
)
_NUMBER = re.compile(r"\b(?!(?:19|20)\d\d\b)\d+|\b(hundred|thousand|million|billion|dozen)s?\b")


def _answer_types(base: FactBase, intent: Intent, normal: Normaliser = normalise) -> set[str]:
    """The kinds of question an intent answers: those its examples ask, and what its quotes hold."""
    kinds = {question_type(normal(e)) for e in intent.examples}
    quotes = normalise(" ".join(base.facts[f].quote for f in intent.facts if f in base.facts))
    if _YEAR_OR_MONTH.search(quotes):
        kinds.add("time")
    if _NUMBER.search(_DAY_OF_MONTH.sub(" ", quotes)):
        kinds.add("number")
    return {k for k in kinds if k is not None}


def question_type(text: str) -> str | None:
    """The kind of answer a question asks for, when it asks for a time, a place or a number.

    "When" and "where" ask only at the start or end of a question or after a word that keeps
    them asking; elsewhere they join clauses: "what happens to my licence when I sue?".
    """
    padded = f" {text} "
    for kind, openers in _QUESTION_TYPES:
        for opener in openers:
            if f" {opener} " not in padded:
                continue
            if opener not in _CONJUNCTIONS:
                return kind
            words = text.split()
            at = [n for n, word in enumerate(words) if word == opener]
            if any(n == 0 or n == len(words) - 1 or words[n - 1] in _ASKING for n in at):
                return kind
    return None


SOURCE_WORDS = "article source document author writer wrote written title publisher published url link kind"
"""Words that ask about a source itself; every source has a title, author, publisher and link."""


@dataclass(frozen=True)
class Candidate:
    """One intent's score for a question, with the example phrasing that matched best."""

    intent: str
    score: float
    example: str
    coverage: float


@dataclass(frozen=True)
class Ranking:
    """What the matcher made of a question: its terms and every scored intent, best first."""

    terms: tuple[str, ...]
    topical: tuple[str, ...]
    unknown: tuple[str, ...]
    corrected: dict[str, str]
    truncated: bool
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        """The top candidate, if any intent scored at all."""
        return self.candidates[0] if self.candidates else None


@dataclass
class _Example:
    """One indexed example phrasing."""

    intent: str
    text: str
    weight: float
    terms: frozenset[str]


class Matcher:
    """An index of a fact base's intents that ranks them for a question."""

    def __init__(self, base: FactBase) -> None:
        self._normal: Normaliser = functools.lru_cache(maxsize=None)(normalise)  # texts recur while indexing
        self._canon = _synonym_map(base.synonyms)
        self._stopwords = STOPWORDS | (smalltalk.WORDS - _fact_words(base, self._normal))
        self._vocabulary = _vocabulary(base, self._stopwords, self._normal)
        self._known = {self._term(w) for w in self._vocabulary} | set(self._canon.values())
        self._known_list = sorted(self._known)
        self._topical_in = {
            source.id: {t for p in base.documents[source.id].quotable for t in self._terms_of(p.text)}
            | set(self._terms_of(_record_text(source)))
            for source in base.sources.values()
            if source.id in base.documents
        }
        self._sources_of = {
            intent.id: {base.facts[f].source for f in intent.facts if f in base.facts}
            for intent in base.intents.values()
        }
        self._spellings = [*self._vocabulary, *sorted(self._stopwords)]
        self._spelled = frozenset(self._vocabulary)
        self._corrections: dict[str, str | None] = {}
        self._by_length: dict[tuple[int, int, int], list[str]] = {}
        example_terms = {
            intent.id: [(e, self._terms_of(e)) for e in intent.examples] for intent in base.intents.values()
        }
        self._idf = _idf([{t for _, ts in pairs for t in ts} for pairs in example_terms.values()])
        self._unknown_weight = max(self._idf.values(), default=1.0) * UNKNOWN_FACTOR
        self._examples = [
            _Example(intent, text, self._weight(terms), frozenset(terms))
            for intent, pairs in example_terms.items()
            for text, terms in pairs
            if terms
        ]
        postings: dict[str, list[int]] = defaultdict(list)
        for index, example in enumerate(self._examples):
            for term in example.terms:
                postings[term].append(index)
        self._types = {intent.id: _answer_types(base, intent, self._normal) for intent in base.intents.values()}
        self._build_arrays(postings, self._intent_vocabulary(base, example_terms))
        self._normal = normalise

    def _build_arrays(self, postings: dict[str, list[int]], coverage: dict[str, dict[str, float]]) -> None:
        """The index as arrays, so that a question's overlap with every example is summed in one pass.

        Examples are stored intent by intent, so each intent is one contiguous run of them.
        """
        self._intent_ids = list(dict.fromkeys(e.intent for e in self._examples))
        position = {intent: n for n, intent in enumerate(self._intent_ids)}
        owner = np.array([position[e.intent] for e in self._examples], dtype=np.int64)
        self._starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else owner
        self._ends = np.r_[self._starts[1:], len(owner)].astype(np.int64)
        self._example_weights = np.array([e.weight for e in self._examples], dtype=np.float64)
        self._posting_arrays = {t: np.array(ix, dtype=np.int64) for t, ix in postings.items()}
        self._coverage_arrays = {
            term: (
                np.array([position[i] for i in owners if i in position], dtype=np.int64),
                np.array([c for i, c in owners.items() if i in position], dtype=np.float64),
            )
            for term, owners in coverage.items()
        }
        kinds = [kind for kind, _ in _QUESTION_TYPES]
        self._kind_ok = {k: np.array([k in self._types[i] for i in self._intent_ids]) for k in kinds}

    def rank(self, text: str) -> Ranking:
        """Score every intent that shares a term with `text`, best first."""
        truncated = len(text) > MAX_CHARS
        words = normalise(text[:MAX_CHARS]).split()
        if truncated and words:
            words = words[:-1]  # the cut may have split the last word
        if smalltalk.is_phrase(words):  # "how does this work" is small talk even where "work" is a topic
            return Ranking((), (), (), {}, truncated)
        terms, corrected = self._query_terms(words)
        unknown = tuple(t for t in terms if t not in self._known)
        kind = question_type(" ".join(corrected.get(w, w) for w in words))
        candidates = self._score(terms, kind) if terms else []
        return Ranking(tuple(terms), self._anchors(terms, candidates), unknown, corrected, truncated, candidates)

    def _anchors(self, terms: list[str], candidates: list[Candidate]) -> tuple[str, ...]:
        """The question's terms found in the sources: those of the best candidate's own sources when there is one.

        An answer from one document needs a word of that document: "what time is it" finds "time" in a
        manual beside an article, but no answer from the article.
        """
        sources = self._sources_of.get(candidates[0].intent, set()) if candidates else set(self._topical_in)
        return tuple(t for t in terms if any(t in self._topical_in.get(s, ()) for s in sources))

    # -- building the index -------------------------------------------------------------

    def _term(self, word: str) -> str:
        """The canonical term of one normalised content word."""
        stemmed = stem(word)
        return self._canon.get(stemmed, stemmed)

    def _terms_of(self, text: str) -> list[str]:
        """The distinct content terms of a text, in order."""
        return list(dict.fromkeys(self._term(w) for w in self._normal(text).split() if w not in self._stopwords))

    def _weight(self, terms: Iterable[str]) -> float:
        """Total weight of a set of terms."""
        return sum(self._idf.get(t, self._unknown_weight) for t in terms)

    def _intent_vocabulary(
        self, base: FactBase, example_terms: dict[str, list[tuple[str, list[str]]]]
    ) -> dict[str, dict[str, float]]:
        """Per term, the intents whose examples, answers or (at `QUOTE_CREDIT`) quotes mention it."""
        coverage: dict[str, dict[str, float]] = defaultdict(dict)
        for intent in base.intents.values():
            facts = [base.facts[f] for f in intent.facts if f in base.facts]
            quoted = {t for fact in facts for t in self._terms_of(fact.quote)}
            full = {t for _, ts in example_terms[intent.id] for t in ts}
            full |= {t for fact in facts for t in self._terms_of(f"{fact.answer} {' '.join(fact.topics)}")}
            for term in quoted - full:
                coverage[term][intent.id] = QUOTE_CREDIT
            for term in full:
                coverage[term][intent.id] = 1.0
        return coverage

    # -- scoring a question ---------------------------------------------------------------

    def _query_terms(self, words: list[str]) -> tuple[list[str], dict[str, str]]:
        """Content terms of a question, with the spelling corrections that were made."""
        terms: list[str] = []
        corrected: dict[str, str] = {}
        for word in _joined(words, self._spelled):
            if word in self._stopwords:
                continue
            term = self._term(word)
            if len(word) == 1 and term not in self._known:
                continue  # a stray letter ("e.g.", "U.S.") says nothing the fact base could answer
            if term not in self._known and (other := self._other_spelling(word)):
                corrected[word] = other
                term = self._term(other)
            elif term not in self._known and (fixed := self._correct(word)):
                corrected[word] = fixed
                if fixed in self._stopwords:
                    continue
                term = self._term(fixed)
            if term not in terms:
                terms.append(term)
        return terms, corrected

    def _other_spelling(self, word: str) -> str | None:
        """The British or American spelling of `word` that the fact base uses, if it uses one."""
        return next((v for v in spelling_variants(word) if self._term(v) in self._known), None)

    def _correct(self, word: str) -> str | None:
        """`_find_correction`, remembered: people repeat their typos, and the vocabulary is fixed."""
        if word not in self._corrections:
            if len(self._corrections) >= MAX_REMEMBERED_CORRECTIONS:
                self._corrections.clear()
            self._corrections[word] = self._find_correction(word)
        return self._corrections[word]

    def _find_correction(self, word: str) -> str | None:
        """The known word `word` is most likely a typo of, if one is close enough.

        Short words are only corrected by restoring one dropped letter ("wn" -> "won"), since
        any other edit of a two- or three-letter word reaches too many real words.
        """
        if len(word) < 2 or word.isdigit() or is_common_word(word):
            return None
        limit = 1 if len(word) < 8 else 2
        spellings = self._of_length(self._spellings, len(word), limit)
        found = [
            f[0]
            for f in process.extract(word, spellings, scorer=OSA.distance, score_cutoff=limit, limit=12)
            if len(word) >= 4 or (len(f[0]) == len(word) + 1 and f[0][0] == word[0])
        ]
        if found:
            return min(found, key=lambda w: (OSA.distance(word, w), Indel.distance(word, w), w not in self._stopwords))
        stemmed = stem(word)
        near = process.extractOne(
            stemmed, self._of_length(self._known_list, len(stemmed), 1), scorer=OSA.distance, score_cutoff=1
        )
        return str(near[0]) if near and len(word) >= 5 else None

    def _of_length(self, words: list[str], length: int, limit: int) -> list[str]:
        """The words of `words` within `limit` letters of `length`, in order: no others can be that few edits away."""
        key = (id(words), length, limit)
        if key not in self._by_length:
            self._by_length[key] = [w for w in words if abs(len(w) - length) <= limit]
        return self._by_length[key]

    def _score(self, terms: list[str], kind: str | None) -> list[Candidate]:
        """Score intents by their two best examples (weighted F1) blended with intent coverage, best first.

        Every intent is scored at once over arrays; the best `TOP_CANDIDATES` are then worked out exactly,
        example by example, and returned in the order the question's terms first reached them on ties.
        """
        weights = {t: self._idf.get(t, self._unknown_weight) for t in terms}
        total = sum(weights.values())
        shared = np.zeros(len(self._examples))
        first = np.full(len(self._examples), len(weights), dtype=np.int64)
        covered = np.zeros(len(self._intent_ids))
        for order, (term, weight) in enumerate(weights.items()):
            if (postings := self._posting_arrays.get(term)) is not None:
                shared[postings] += weight
                first[postings] = np.minimum(first[postings], order)
            if (owners := self._coverage_arrays.get(term)) is not None:
                covered[owners[0]] += weight * owners[1]
        if not shared.any():
            return []
        chosen = self._leaders(shared, covered, total, kind)
        ranked = [self._exact(int(i), shared, first, float(covered[i]) / total, total, kind) for i in chosen]
        ranked.sort(key=lambda entry: (-entry[1].score, entry[0]))
        return [candidate for _, candidate in ranked[:TOP_CANDIDATES]]

    def _leaders(self, shared: np.ndarray, covered: np.ndarray, total: float, kind: str | None) -> np.ndarray:
        """The intents that can be among the best `TOP_CANDIDATES` (ties at the edge included)."""
        f1 = 2 * shared / (self._example_weights + total)
        best = np.maximum.reduceat(f1, self._starts)
        is_best = f1 == np.repeat(best, self._ends - self._starts)
        runner = np.maximum.reduceat(np.where(is_best, 0.0, f1), self._starts)
        second = np.where(np.add.reduceat(is_best, self._starts) >= 2, best, runner)
        score = EXAMPLE_SHARE * ((1 - SUPPORT_SHARE) * best + SUPPORT_SHARE * second)
        score += (1 - EXAMPLE_SHARE) * covered / total
        if kind is not None:
            score = np.where(self._kind_ok[kind], score, score * TYPE_PENALTY)
        touched = best > 0
        if int(touched.sum()) <= TOP_CANDIDATES:
            return np.flatnonzero(touched)
        score = np.where(touched, score, -1.0)
        edge = np.partition(score, len(score) - TOP_CANDIDATES)[len(score) - TOP_CANDIDATES]
        return np.flatnonzero(score >= edge - 1e-4)

    def _exact(
        self, intent: int, shared: np.ndarray, first: np.ndarray, coverage: float, total: float, kind: str | None
    ) -> tuple[tuple[int, int], Candidate]:
        """One intent's candidate from its examples, with the (term, example) that first reached it."""
        top: tuple[float, str] = (0.0, "")
        support = 0.0
        reached: tuple[int, int] | None = None
        for index in range(int(self._starts[intent]), int(self._ends[intent])):
            if not shared[index]:
                continue
            example = self._examples[index]
            key = (int(first[index]), index)
            reached = key if reached is None or key < reached else reached
            scored = (2 * float(shared[index]) / (example.weight + total), example.text)  # F1 of precision, recall
            if scored > top:
                support, top = max(support, top[0]), scored
            else:
                support = max(support, scored[0])
        f1 = (1 - SUPPORT_SHARE) * top[0] + SUPPORT_SHARE * support
        assert reached is not None
        return reached, self._candidate(self._intent_ids[intent], f1, top[1], coverage, kind)

    def _candidate(self, intent: str, f1: float, example: str, coverage: float, kind: str | None) -> Candidate:
        """Blend an intent's example score with how much of the question it covers."""
        score = EXAMPLE_SHARE * f1 + (1 - EXAMPLE_SHARE) * coverage
        if kind is not None and kind not in self._types[intent]:
            score *= TYPE_PENALTY
        return Candidate(intent, round(score, 4), example, round(coverage, 4))


def _joined(words: list[str], vocabulary: frozenset[str]) -> list[str]:
    """Words with split compounds rejoined where the fact base spells them as one ("light house")."""
    joined: list[str] = []
    skip = False
    for word, following in zip(words, [*words[1:], ""], strict=False):
        if skip:
            skip = False
        elif following and word + following in vocabulary and not {word, following} <= vocabulary:
            joined.append(word + following)
            skip = True
        else:
            joined.append(word)
    return joined


def _record_text(source: Source) -> str:
    """A source's record as words: its title, author, publisher, kind, and words for asking about it."""
    return " ".join([source.title, source.author, source.publisher, source.kind or "", SOURCE_WORDS])


def _synonym_map(groups: list[list[str]]) -> dict[str, str]:
    """Map the stem of every synonym to the stem of its group's first word."""
    canon: dict[str, str] = {}
    for group in groups:
        stems = [stem(w) for word in group for w in normalise(word).split()]
        for other in stems:
            canon.setdefault(other, stems[0])
    return canon


def _fact_words(base: FactBase, normal: Normaliser) -> set[str]:
    """The words of the facts' quotes and answers: words like "work" or "help" that a topic may need."""
    return {w for fact in base.facts.values() for text in (fact.quote, fact.answer) for w in normal(text).split()}


def _vocabulary(base: FactBase, stopwords: frozenset[str], normal: Normaliser) -> list[str]:
    """Every content word of the fact base, most frequent first (ties favour common words)."""
    texts: list[str] = []
    for document in base.documents.values():
        texts.extend(p.text for p in document.quotable)
    for fact in base.facts.values():
        texts.extend([fact.answer, *fact.topics])
    for intent in base.intents.values():
        texts.extend(intent.examples)
    counts = Counter(w for text in texts for w in normal(text).split() if w not in stopwords)
    return [w for w, _ in counts.most_common()]


def _idf(documents: list[set[str]]) -> dict[str, float]:
    """Inverse document frequency of each term over the intents."""
    df = Counter(t for terms in documents for t in terms)
    n = len(documents)
    return {t: math.log(1 + n / count) for t, count in df.items()}
