"""Rank every intent for a question, and say how sure the best one is.

Each intent is known by its example phrasings and by the words of the facts it answers. A
question is reduced to its content terms (stop words dropped, names written out, typos corrected
against the fact base's vocabulary, words stemmed, synonyms folded). An intent scores on BM25
over all its words, on its best example, on how much of the question (by inverse document
frequency, so that "Ismailov" counts for more than "ITU") its words cover, and on the word
vectors' similarity of the question to its examples; on a fact base of everyday requests
(`bot.bank`), also on how the question is put, by BM25 over the words that carry no topic ("my",
"your", "can"), since "what is my name" and "what is your name" ask different things. A term the
fact base never uses weighs against every intent alike, so "Where is the ITU headquartered?" is
matched to "What does the ITU do?" only with little confidence. `Ranking.confidence` turns the
evidence into the number the decision's thresholds (`bot.calibrate`) apply to.
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

from bot import bank, names, semantic, smalltalk
from bot.knowledge import FactBase
from bot.models import Intent, Source
from bot.normalise import common_words_like, is_common_word, normalise, spelling_variants, stem

Normaliser = Callable[[str], str]

MAX_CHARS = 300
"""Only this much of a question is matched, so a huge message costs what a short one does."""

TOP_CANDIDATES = 25
"""Candidates a ranking keeps: enough for suggestions, explanations and Discord's 25 autocomplete choices."""

NEAREST_SPELLINGS = 10
"""Common English words weighed as what a typo meant, at most: the nearest ones, most common first."""

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
    many still well ones yet already even etc eg ie done gone known knew told mention mentions mentioned
    lol lmao haha hehe omg ngl youve weve theyve youll theyll shes wont shouldnt mustnt whatll wholl howd whyd
    whered whatd whod itll thatll theyd youd""".split()  # noqa: SIM905 (a word list reads best as text)
)
"""Words that carry no topic in any fact base."""


UNKNOWN_FACTOR = 0.75
"""Weight of a word the fact base never uses, relative to its rarest known word: evidence against, not a veto."""

LEXICAL_SHARE = 0.3
"""How much of an intent's score comes from BM25 over all its words (examples, answers, topics, quotes)."""

EXAMPLE_SHARE = 0.2
"""How much comes from its single best example phrasing."""

COVERAGE_SHARE = 0.4
"""How much comes from the share of the question's words (by weight) the intent uses anywhere."""

MEANING_SHARE = 0.5
"""How much comes from the word vectors' similarity of the question to the intent's examples."""

EVERYDAY_MEANING_SHARE = 1.5
"""The same on a fact base of everyday requests, which people put in words of their own ("a room for two nights
in nashville" for "find a hotel"): there meaning weighs more than the words."""

PHRASING_SHARE = 0.5
"""How much comes from how the question is put: the words that carry no topic ("my", "your", "can", "how") but
tell one request from another ("what is my name" from "what is your name"), by BM25 over the intent's examples."""

MEANING_FLOOR = 0.5
"""A question this near an intent in meaning makes it a candidate even with no word in common, on a fact base of
documents (where such a candidate is only ever offered, never answered)."""

MEANING_FLOOR_QUANTILE = 15
"""On a fact base of everyday requests, the percentile of all its phrasings' meaning (each left out of its intent)
that a question must come as near an intent to make it a candidate with no word in common, and to be answered by
meaning alone: as near as all but the farthest of its own phrasings come. How near word vectors put texts depends on
how they are written: 0.39 on CLINC150's examples, where a fixed 0.5 left out requests put in words of their own
("what is our purpose" for the meaning of life; CLINC150 val, ten samples: 79.9 -> 80.2% overall)."""

ANSWER_MEANING = 0.2
"""How much an intent's answers weigh in its meaning, beside its examples (as a share of them)."""

OWN_QUANTILE = 15
"""The percentile of an intent's own phrasings' meaning (each left out) that `Matcher.own_meaning` gives: how near
a question it answers may come, for an intent asked in ways far apart ("a cool fact about reno", "...about puppies").
On CLINC150 (ten samples of its examples) the 15th gives 80.5% overall on the validation questions and 82.9% on
unused training questions, the 25th 80.2% and 82.7%."""

OWN_MINIMUM = 5
"""Phrasings an intent needs for their spread to say anything."""

_WORD_SHARES = LEXICAL_SHARE + EXAMPLE_SHARE + COVERAGE_SHARE

BM25_K1, BM25_B = 1.2, 0.75
"""BM25's term-frequency saturation and length normalisation, at their usual values."""

CONFIDENCE = (4.725, 1.994, 1.415, -1.889, 2.97, -1.946, 2.45, -0.858)
CONFIDENCE_BIAS = -5.009
"""Weights of the evidence for `Ranking.confidence`: best score, its words part, coverage, meaning, lead over
the runner-up, share of unknown words, number of terms (up to `TERMS_CAP`), share found in the sources.
Fitted by logistic regression on the labelled questions of four unrelated fact bases; each left out in
turn, the rest rank its questions better than the score alone does (AUC 0.88-0.96 against 0.85-0.94)."""

TERMS_CAP = 6

NEAREST = 5
"""Intents a ranking names as nearest in meaning: what a paraphrase sharing no word with its intent may mean."""

NEAR_MEANING = 0.3
"""How near in meaning the nearest intent must be for a ranking to name any as nearest, on a fact base of
documents. Questions about something else entirely are seldom this near any intent: 8 of the 280 unrelated
questions put to the fact bases in bench/ are. On a fact base of everyday requests the nearest are always named:
any question is near some request there, and its nearest in meaning are the best guesses at what it asks."""

CONTEXT_WEIGHT = 0.5
"""How much the terms of an earlier question count when a follow-up is read with it."""

TYPE_PENALTY = 0.6
"""Score factor for an intent never asked with the question's kind (when, where, how many)."""

_QUESTION_TYPES = (
    ("time", ("when", "what year", "which year", "what date", "what day", "what time", "how long ago")),
    ("place", ("where", "which city", "what city", "in which country")),
    ("number", ("how many", "how much", "what percentage", "what share", "how old", "what age")),
    ("person", ("who", "whom", "whose")),
)

_CONJUNCTIONS = frozenset({"when", "where", "who", "whom", "whose"})
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
    quotes = " ".join(normal(base.facts[f].quote) for f in intent.facts if f in base.facts)
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
    words: float = 0.0
    meaning: float = 0.0


@dataclass(frozen=True)
class Ranking:
    """What the matcher made of a question: its terms and every scored intent, best first."""

    terms: tuple[str, ...]
    topical: tuple[str, ...]
    unknown: tuple[str, ...]
    corrected: dict[str, str]
    truncated: bool
    candidates: list[Candidate] = field(default_factory=list)
    unknown_share: float = 0.0
    """The share of the question's term weight on words the fact base never uses."""
    nearest: tuple[str, ...] = ()
    """The intents nearest the question in meaning (up to `NEAREST`), nearest first, whether or not they scored;
    none when the question is near no intent (`NEAR_MEANING`)."""
    meaning_lead: float | None = None
    """When the best match is also the intent nearest the question in meaning, how much nearer it is than any
    other (words and meaning agree); None when another intent is nearer, when the best match is never asked
    the kind of question this is (when, where, how many, who), or without word vectors."""

    @property
    def best(self) -> Candidate | None:
        """The top candidate, if any intent scored at all."""
        return self.candidates[0] if self.candidates else None

    @property
    def evidence(self) -> tuple[float, ...]:
        """What `confidence` weighs, in the order of `CONFIDENCE` (zeros when no intent scored)."""
        best = self.best
        if best is None or not self.terms:
            return (0.0,) * len(CONFIDENCE)
        runner = self.candidates[1].score if len(self.candidates) > 1 else 0.0
        return (
            best.score,
            best.words,
            best.coverage,
            best.meaning,
            best.score - runner,
            self.unknown_share,
            min(len(self.terms), TERMS_CAP) / TERMS_CAP,
            len(self.topical) / len(self.terms),
        )

    @property
    def confidence(self) -> float:
        """How likely the best candidate answers the question, 0 to 1: what the decision thresholds.

        A logistic function of the `evidence` (weighed by `CONFIDENCE`): the best score and its parts, the
        lead over the runner-up, how many terms the question has and how many of them the fact base lacks.
        """
        if self.best is None or not self.terms:
            return 0.0
        z = CONFIDENCE_BIAS + sum(w * x for w, x in zip(CONFIDENCE, self.evidence, strict=True))
        return round(1 / (1 + math.exp(-z)), 4)


@dataclass
class _Example:
    """One indexed example phrasing."""

    intent: str
    text: str
    weight: float
    terms: frozenset[str]


class Matcher:
    """An index of a fact base's intents that ranks them for a question."""

    def __init__(self, base: FactBase, *, vectors: bool = True, reach: float | None = None) -> None:
        self._normal: Normaliser = functools.lru_cache(maxsize=None)(normalise)  # texts recur while indexing
        self._canon, phrased = _synonym_map(base.synonyms)
        self._phrases = _Phrases([*phrased, *names.places()])
        self._stopwords = STOPWORDS | (smalltalk.WORDS - _fact_words(base, self._normal))
        self._vocabulary = _vocabulary(base, self._stopwords, self._normal, self._phrases)
        self._known = {self._term(w) for w in self._vocabulary} | set(self._canon.values())
        self._known_list = sorted(self._known)
        named = {sid: acronyms_in(p.text for p in document.quotable) for sid, document in base.documents.items()}
        self._topical_in = {
            source.id: {t for p in base.documents[source.id].quotable for t in self._terms_of(p.text)}
            | set(self._terms_of(_record_text(source)))
            | {self._term(short) for short in named[source.id]}
            for source in base.sources.values()
            if source.id in base.documents
        }
        self._sources_of = {
            intent.id: {base.facts[f].source for f in intent.facts if f in base.facts}
            for intent in base.intents.values()
        }
        self.answering_sources: frozenset[str] = frozenset().union(*self._sources_of.values())
        """The sources some intent answers from."""
        self._acronyms: dict[str, list[str]] = {}
        for shorts in named.values():  # the first source to name an acronym wins
            for short, name in shorts.items():
                if self._term(short) not in self._known:
                    self._acronyms.setdefault(short, [self._term(w) for w in name if w not in self._stopwords])
        self._spellings = [*self._vocabulary, *sorted(self._stopwords)]
        self._spelled = frozenset(self._vocabulary)
        self._corrections: dict[str, str | None] = {}
        self._by_length: dict[tuple[int, int, int], list[str]] = {}
        self._lengths: dict[int, dict[int, list[int]]] = {}
        example_terms = {
            intent.id: [(e, self._terms_of(e)) for e in intent.examples] for intent in base.intents.values()
        }
        frequencies = self._intent_vocabulary(base, example_terms)
        self._idf = _idf([set(counts) for counts in frequencies.values()])
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
        wordless = (
            (intent, self._normal(text).split())
            for intent, pairs in example_terms.items()
            for text, terms in pairs
            if not terms
        )
        self._wordless = {" ".join(words): intent for intent, words in wordless if words}
        """Examples with no content word, normalised, to their intents: "hello" where the fact base greets is its
        phrasing, not small talk."""
        self._smalltalk_intents = _smalltalk_intents(base, self._normal)
        """The fact base's own intents for greetings and thanks, which answer them instead of the built-in replies."""
        self._types = {intent.id: _answer_types(base, intent, self._normal) for intent in base.intents.values()}
        self._verbatim: dict[str, list[int]] = defaultdict(list)
        for index, example in enumerate(self._examples):
            self._verbatim[self._normal(example.text)].append(index)
        self._build_arrays(postings, frequencies)
        self._semantic = semantic.load() if vectors else None
        self._own_meaning: dict[str, float] = {}
        self._phrasings_meaning: float | None = None
        self._vectors = self._intent_vectors(base) if self._semantic is not None else None
        self.reach = bank.least_reach(self) if reach is None else reach
        """The share of the out-of-scope bank that shares a word with the source it reaches least (`bot.bank`),
        unless given: measured on this fact base before."""
        self.everyday = self.reach >= bank.REACHED
        """Whether this is a fact base of everyday requests, told apart by how they are put as well as by their
        topic words: then the words that carry no topic count too (`PHRASING_SHARE`)."""
        own = self._phrasings_meaning
        self.meaning_floor = own if self.everyday and own is not None else MEANING_FLOOR
        """How near in meaning a question must come to an intent to make it a candidate with no word in common."""
        self._phrasing: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._example_asked: list[tuple[str, ...]] = []
        if self.everyday:
            self._build_phrasing()
        self._normal = normalise  # the texts of the fact base are read: questions are not worth remembering

    def _build_arrays(self, postings: dict[str, list[int]], frequencies: dict[str, dict[str, float]]) -> None:
        """The index as arrays, so that a question's overlap with every example and intent is summed in one pass.

        Examples are stored intent by intent, so each intent is one contiguous run of them. Per term, the
        intents that use it, how fully (1, or `QUOTE_CREDIT` for a word only their quotes use) and its
        BM25 term-frequency factor there.
        """
        self._intent_ids = list(dict.fromkeys(e.intent for e in self._examples))
        self._position = position = {intent: n for n, intent in enumerate(self._intent_ids)}
        owner = np.array([position[e.intent] for e in self._examples], dtype=np.int64)
        self._starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else owner
        self._ends = np.r_[self._starts[1:], len(owner)].astype(np.int64)
        self._example_weights = np.array([e.weight for e in self._examples], dtype=np.float64)
        self._posting_arrays = {t: np.array(ix, dtype=np.int64) for t, ix in postings.items()}
        lengths = {i: sum(counts.values()) for i, counts in frequencies.items() if i in position}
        average = sum(lengths.values()) / max(1, len(lengths))
        self._norms = np.ones(len(self._intent_ids))
        terms: dict[str, int] = {}
        rows: list[tuple[int, int, float]] = []  # (term, intent position, term frequency), intent by intent
        for intent, counts in frequencies.items():
            if intent not in position:
                continue
            at = position[intent]
            self._norms[at] = BM25_K1 * (1 - BM25_B + BM25_B * lengths[intent] / average)
            rows.extend((terms.setdefault(term, len(terms)), at, tf) for term, tf in counts.items())
        table = np.array(rows, dtype=np.float64).reshape(-1, 3)
        order = np.argsort(table[:, 0], kind="stable")  # term by term, each term's intents in index order
        term_of, owners, tf = table[order, 0].astype(np.int64), table[order, 1].astype(np.int64), table[order, 2]
        credit = np.where(tf >= 1, 1.0, QUOTE_CREDIT)
        saturated = _saturated(tf, self._norms[owners])
        cuts = np.flatnonzero(np.diff(term_of)) + 1
        parts = zip(*(np.split(a, cuts) for a in (owners, credit, saturated, tf)), strict=True)
        self._coverage_arrays = dict(zip(terms, parts, strict=True)) if terms else {}
        kinds = [kind for kind, _ in _QUESTION_TYPES]
        self._kind_ok = {k: np.array([k in self._types[i] for i in self._intent_ids]) for k in kinds}

    def _build_phrasing(self) -> None:
        """Per word that carries no topic, the intents whose examples use it, its BM25 factor there and its weight
        (inverse intent frequency, so that "my" where every intent says it counts for little)."""
        self._example_asked = [self._asked(self._normal(example.text).split()) for example in self._examples]
        counts: list[Counter[str]] = [Counter() for _ in self._intent_ids]
        for example, asked in zip(self._examples, self._example_asked, strict=True):
            counts[self._position[example.intent]].update(asked)
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float64)
        average = float(lengths.mean()) if len(lengths) and lengths.any() else 1.0
        self._phrasing_norms = BM25_K1 * (1 - BM25_B + BM25_B * lengths / average)
        self._phrasing_idf = _idf([set(c) for c in counts])
        owners: dict[str, list[int]] = defaultdict(list)
        for position, used in enumerate(counts):
            for word in used:
                owners[word].append(position)
        self._phrasing = {}
        for word, at in owners.items():
            tf = np.array([counts[o][word] for o in at], dtype=np.float64)
            self._phrasing[word] = (np.array(at, dtype=np.int64), _saturated(tf, self._phrasing_norms[at]), tf)

    def _asked(self, words: list[str]) -> tuple[str, ...]:
        """The words of a text (normalised) that carry no topic, each once, in the text's order (so that sums over
        them do not depend on how the process orders a set)."""
        return tuple(dict.fromkeys(w for w in words if w in self._stopwords))

    def _intent_vectors(self, base: FactBase) -> np.ndarray | None:
        """Each intent's meaning: the normalised mean of its examples' vectors, and its answers' at `ANSWER_MEANING`."""
        assert self._semantic is not None
        texts = [text for intent in self._intent_ids for text in base.intents[intent].examples]
        rows = self._semantic.embed(texts)
        counts = [len(base.intents[intent].examples) for intent in self._intent_ids]
        if not counts:
            return None
        sums = np.add.reduceat(rows, np.r_[0, np.cumsum(counts)[:-1]], axis=0)
        answers = [
            " ".join(base.facts[f].answer for f in base.intents[i].facts if f in base.facts) for i in self._intent_ids
        ]
        sums = sums + ANSWER_MEANING * np.array(counts)[:, None] * self._semantic.embed(answers)
        self._sums = sums.astype(np.float32)
        alone = self._left_out(rows, counts)
        self._own_meaning = {
            intent: float(np.percentile(own, OWN_QUANTILE))
            for intent, own in zip(self._intent_ids, np.split(alone, np.cumsum(counts)[:-1]), strict=True)
            if len(own) >= OWN_MINIMUM
        }
        if len(alone) >= OWN_MINIMUM:
            self._phrasings_meaning = float(np.percentile(alone, MEANING_FLOOR_QUANTILE))
        lengths = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.where(lengths > 0, lengths, 1.0)).astype(np.float32)

    def _left_out(self, rows: np.ndarray, counts: list[int]) -> np.ndarray:
        """Each phrasing's meaning, left out of its intent: how near it comes to the rest of the intent.

        `rows` are the phrasings' vectors, intent by intent, `counts` how many each intent has.
        """
        owner = self._sums[np.repeat(np.arange(len(counts)), counts)]
        with_it = np.einsum("ij,ij->i", owner, rows)  # (sum - row) . row and |sum - row|, worked out from sum . row
        itself = np.einsum("ij,ij->i", rows, rows)
        lengths = np.sqrt(np.maximum(np.einsum("ij,ij->i", owner, owner) - 2 * with_it + itself, 0.0))
        return (with_it - itself) / np.where(lengths > 0, lengths, 1.0)

    def rank(
        self, text: str, *, context: str | None = None, leave_out: int | None = None, keep: int = TOP_CANDIDATES
    ) -> Ranking:
        """Score every intent that shares a term with `text`, best first, keeping the `keep` best.

        `context` is an earlier question `text` follows up on: its terms join the question's at
        `CONTEXT_WEIGHT`. `leave_out` names an indexed example to rank as if it were not there: how the
        fact base's own phrasings, asked as new questions, would fare (see `bot.calibrate`, which keeps only
        the two a confidence needs).
        """
        truncated = len(text) > MAX_CHARS
        words = normalise(text[:MAX_CHARS]).split()
        if truncated and words:
            words = words[:-1]  # the cut may have split the last word
        if (owner := self._wordless.get(" ".join(words))) is not None:
            return self._own_phrasing(owner, words, truncated)
        if smalltalk.is_phrase(words):  # "how does this work" is small talk even where "work" is a topic
            return self._smalltalk(words, truncated)
        terms, corrected = self._query_terms(words)
        own = frozenset(terms)
        if context:
            terms += [t for t in self._query_terms(normalise(context[:MAX_CHARS]).split())[0] if t not in own]
        if not terms and not self._by_meaning(words):
            return self._smalltalk(words, truncated)
        unknown = tuple(t for t in terms if t not in self._known)
        kind = question_type(" ".join(corrected.get(w, w) for w in words))
        read = f"{text[:MAX_CHARS]} {context[:MAX_CHARS]}" if context else text[:MAX_CHARS]
        vector = self._semantic.embed([read])[0] if self._semantic is not None else None
        same = [i for i in self._verbatim.get(" ".join(words), ()) if i != leave_out]
        verbatim = self._intent_of_example(same[0]) if same else None
        weights = {t: self._idf.get(t, self._unknown_weight) * (1.0 if t in own else CONTEXT_WEIGHT) for t in terms}
        asked = [w for w in self._asked(words) if w in self._phrasing] if self._phrasing else []
        scored = self._score(weights, asked, kind, vector, leave_out, verbatim, keep)
        candidates = scored.candidates
        share = sum(weights[t] for t in unknown) / sum(weights.values()) if weights else 0.0
        # the curator's own phrasing is on topic even where the source puts it in other words
        topical = tuple(terms) if same else self._anchors(terms, candidates)
        return Ranking(
            tuple(terms), topical, unknown, corrected, truncated, candidates, share, scored.nearest, scored.lead
        )

    def _by_meaning(self, words: list[str]) -> bool:
        """Whether a question with no term is ranked all the same, by meaning and how it is put: on a fact base
        of everyday requests, where "where you from" or "can you tell me where i am" may be one of them. A
        greeting, thanks or goodbye stays small talk (answered by the fact base's own intent for it, if any)."""
        if not (self.everyday and self._vectors is not None and words):
            return False
        return smalltalk.classify(words) is smalltalk.CAPABILITIES

    def _smalltalk(self, words: list[str], truncated: bool) -> Ranking:
        """The ranking of small talk: no terms, or the fact base's own intent for that kind of small talk."""
        owner = self._smalltalk_intents.get(smalltalk.classify(words).id)
        return self._own_phrasing(owner, words, truncated) if owner else Ranking((), (), (), {}, truncated)

    def _own_phrasing(self, intent: str, words: list[str], truncated: bool) -> Ranking:
        """The ranking of a question that is word for word an example with no content word ("hello"): that
        example's intent, as sure as a match can be."""
        phrase = " ".join(words)
        only = Candidate(intent, 1.0, phrase, 1.0, 1.0, 1.0)
        return Ranking((phrase,), (phrase,), (), {}, truncated, [only], 0.0, (intent,), 1.0)

    def own_meaning(self, intent: str) -> float | None:
        """How near in meaning an intent's own phrasings come to it, each asked with itself left out (their
        `OWN_QUANTILE`); None without word vectors or with fewer than `OWN_MINIMUM` phrasings."""
        return self._own_meaning.get(intent)

    def uses(self, intent: str, term: str) -> bool:
        """Whether an intent's examples, answers, topics or quotes use a term."""
        owners, at = self._coverage_arrays.get(term), self._position.get(intent)
        if owners is None or at is None:  # a term no intent uses, or an intent with no indexed example
            return False
        return self._at(owners[0], at) is not None

    @property
    def examples(self) -> list[tuple[str, str]]:
        """Every indexed example as (intent, text), in index order."""
        return [(e.intent, e.text) for e in self._examples]

    def reached(self, text: str) -> set[str]:
        """The sources (of those some intent answers from) that use a term of `text`."""
        terms = self._query_terms(normalise(text[:MAX_CHARS]).split())[0]
        return {s for s in self.answering_sources if any(t in self._topical_in.get(s, ()) for t in terms)}

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
        words = self._phrases.join(self._normal(text).split())
        return list(dict.fromkeys(self._term(w) for w in words if w not in self._stopwords))

    def _weight(self, terms: Iterable[str]) -> float:
        """Total weight of a set of terms."""
        return sum(self._idf.get(t, self._unknown_weight) for t in terms)

    def _intent_vocabulary(
        self, base: FactBase, example_terms: dict[str, list[tuple[str, list[str]]]]
    ) -> dict[str, dict[str, float]]:
        """Per intent, how often each term appears: once per example, answer or topic using it.

        A term found only in the intent's quotes counts `QUOTE_CREDIT` (under one), which marks it as such.
        """
        frequencies: dict[str, dict[str, float]] = {}
        for intent in base.intents.values():
            facts = [base.facts[f] for f in intent.facts if f in base.facts]
            counts: Counter[str] = Counter(t for _, ts in example_terms[intent.id] for t in ts)
            for fact in facts:
                counts.update(self._terms_of(fact.answer))
                counts.update(self._terms_of(" ".join(fact.topics)))
            quoted = {t for fact in facts for t in self._terms_of(fact.quote)} - set(counts)
            frequencies[intent.id] = {**{t: float(c) for t, c in counts.items()}, **dict.fromkeys(quoted, QUOTE_CREDIT)}
        return frequencies

    # -- scoring a question ---------------------------------------------------------------

    def _query_terms(self, words: list[str]) -> tuple[list[str], dict[str, str]]:
        """Content terms of a question, with the spelling corrections that were made."""
        terms: list[str] = []
        corrected: dict[str, str] = {}
        for word in _joined(self._phrases.join(words), self._spelled):
            if word in self._stopwords:
                continue
            term = self._term(word)
            if len(word) == 1 and term not in self._known:
                continue  # a stray letter ("e.g.", "U.S.") says nothing the fact base could answer
            if term not in self._known and word in self._acronyms:
                terms.extend(t for t in self._acronyms[word] if t not in terms)
                continue
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

        Short words are only corrected by restoring one dropped letter ("wn" -> "won") or by swapping two
        letters back ("teh" -> "the"), since any other edit of a two- or three-letter word reaches too many
        real words. Of two words as few edits away, the one with the same letters wins ("waht" is "what").
        A word nearer to a common English word than to any of the fact base's is taken for that word
        ("goverment" is "government", not "cover"), and corrected only if the fact base knows it. A word
        the name lists write out is no typo ("madrid", read as "spain", is not "spin").
        """
        if len(word) < 2 or word.isdigit() or is_common_word(word) or word in names.written():
            return None
        limit = 1 if len(word) < 8 else 2
        spellings = self._of_length(self._spellings, len(word), limit)
        found = [
            f[0]
            for f in process.extract(word, spellings, scorer=OSA.distance, score_cutoff=limit, limit=12)
            if len(word) >= 4 or (len(f[0]) == len(word) + 1 and f[0][0] == word[0]) or not _scrambled(word, f[0])
        ]
        own = min(
            found,
            key=lambda w: (
                OSA.distance(word, w),
                _scrambled(word, w),
                Indel.distance(word, w),
                w not in self._stopwords,
            ),
            default=None,
        )
        english = self._nearest_english(word, OSA.distance(word, own) - 1 if own else limit)
        if english is not None:
            return self._known_as(english)
        if own is not None:
            return own
        stemmed = stem(word)
        near = process.extractOne(
            stemmed, self._of_length(self._known_list, len(stemmed), 1), scorer=OSA.distance, score_cutoff=1
        )
        return str(near[0]) if near and len(word) >= 5 else None

    def _nearest_english(self, word: str, limit: int) -> str | None:
        """The common English word within `limit` edits of `word` (five letters or more), if there is one."""
        if limit < 1 or len(word) < 5:
            return None
        english = common_words_like(word[0], len(word), limit)  # typos rarely touch the first letter
        found = process.extract(word, english, scorer=OSA.distance, score_cutoff=limit, limit=NEAREST_SPELLINGS)
        nearest = [f for f in found if f[1] == found[0][1]] if found else []  # the most common first
        return str(min(nearest, key=lambda f: _scrambled(word, f[0]))[0]) if nearest else None

    def _known_as(self, word: str) -> str | None:
        """`word` as the fact base knows it ("chinese" as "china"), or None if it does not."""
        written = normalise(word).split()
        return written[0] if len(written) == 1 and self._term(written[0]) in self._known else None

    def _of_length(self, words: list[str], length: int, limit: int) -> list[str]:
        """The words of `words` within `limit` letters of `length`, in order: no others can be that few edits away."""
        key = (id(words), length, limit)
        if key not in self._by_length:
            lengths = self._lengths.get(id(words))
            if lengths is None:  # each word's position, by length: a few buckets to merge instead of every word
                lengths = self._lengths[id(words)] = defaultdict(list)
                for at, word in enumerate(words):
                    lengths[len(word)].append(at)
            near = sorted(at for n in range(length - limit, length + limit + 1) for at in lengths.get(n, ()))
            self._by_length[key] = [words[at] for at in near]
        return self._by_length[key]

    def _score(
        self,
        weights: dict[str, float],
        asked: list[str],
        kind: str | None,
        vector: np.ndarray | None,
        leave_out: int | None = None,
        verbatim: int | None = None,
        keep: int = TOP_CANDIDATES,
    ) -> _Scored:
        """Score every intent at once over arrays, best first: words (BM25 and best examples) and meaning.

        Only an intent that shares a term with the question, or whose meaning is near it, is a candidate.
        Also the intents nearest in meaning, candidates or not, and whether the best candidate is the nearest.
        """
        total = sum(weights.values()) or 1.0  # no term at all: a question put in words that carry no topic
        shared = np.zeros(len(self._examples))
        bm25 = np.zeros(len(self._intent_ids))
        covered = np.zeros(len(self._intent_ids))
        for term, weight in weights.items():
            if (postings := self._posting_arrays.get(term)) is not None:
                shared[postings] += weight
            if (owners := self._coverage_arrays.get(term)) is not None:
                covered[owners[0]] += weight * owners[1]
                bm25[owners[0]] += weight * owners[2]
        phrasing = np.zeros(len(self._intent_ids))
        for word in asked:
            users, saturated, _ = self._phrasing[word]
            phrasing[users] += self._phrasing_idf[word] * saturated
        meaning = self._vectors @ vector if vector is not None and self._vectors is not None else None
        if leave_out is not None:
            self._leave_out(leave_out, weights, shared, bm25, covered, meaning, vector)
            if asked:
                self._leave_out_phrasing(leave_out, asked, phrasing)
        lexical = bm25 / (total * (BM25_K1 + 1))
        f1 = 2 * shared / (self._example_weights + total)
        best = np.maximum.reduceat(f1, self._starts) if len(f1) else np.zeros(0)
        coverage = covered / total
        words = (LEXICAL_SHARE * lexical + EXAMPLE_SHARE * best + COVERAGE_SHARE * coverage) / _WORD_SHARES
        share = EVERYDAY_MEANING_SHARE if self.everyday else MEANING_SHARE
        score = words if meaning is None else (_WORD_SHARES * words + share * np.maximum(meaning, 0.0))
        if meaning is not None:
            score = score / (_WORD_SHARES + share)
        if asked:
            said = sum(self._phrasing_idf[w] for w in asked)
            score = score + PHRASING_SHARE * phrasing / ((total + said) * (BM25_K1 + 1))
        if verbatim is not None:
            score[verbatim] = 1.0  # one of its examples, word for word: the curator's own phrasing
        if kind is not None:
            score = np.where(self._kind_ok[kind], score, score * TYPE_PENALTY)
        closest = _highest(meaning, NEAREST) if meaning is not None else np.zeros(0, dtype=int)
        named = len(closest) > 0 and (self.everyday or meaning[closest[0]] >= NEAR_MEANING)  # type: ignore[index]
        nearest = tuple(self._intent_ids[int(i)] for i in closest) if named else ()
        touched = (covered > 0) | (best > 0)
        if meaning is not None:
            touched |= meaning >= self.meaning_floor
        if not touched.any():
            return _Scored([], nearest)
        score = np.where(touched, score, -1.0)
        count = min(keep, int(touched.sum()))
        top = np.argpartition(-score, count - 1)[:count] if count < len(score) else np.arange(len(score))
        top = top[np.lexsort((top, -score[top]))][:count]
        near = meaning if meaning is not None else np.zeros(len(score))
        candidates = [
            self._candidate(int(i), float(score[i]), f1, float(coverage[i]), float(words[i]), float(near[i]))
            for i in top
        ]
        fits = kind is None or bool(self._kind_ok[kind][top[0]])  # the best match answers what is asked
        agrees = meaning is not None and fits and len(closest) > 0 and closest[0] == top[0]
        lead = _lead(meaning, closest) if agrees and meaning is not None else None
        return _Scored(candidates, nearest, lead)

    def _intent_of_example(self, index: int) -> int:
        """The position of the intent an indexed example belongs to."""
        return int(np.searchsorted(self._starts, index, side="right") - 1)

    def _leave_out(
        self,
        index: int,
        weights: dict[str, float],
        shared: np.ndarray,
        bm25: np.ndarray,
        covered: np.ndarray,
        meaning: np.ndarray | None,
        vector: np.ndarray | None,
    ) -> None:
        """Adjust the sums in place as if example `index` were not in the index (for calibration).

        The intent's sums are added up again without the example, term by term in the order `_score` adds them:
        taking the example's part away instead leaves a rounding residue, and a residue above zero would make
        the intent a candidate, by how the process happens to order a set.
        """
        shared[index] = 0.0
        example = self._examples[index]
        intent = self._intent_of_example(index)
        bm25[intent] = covered[intent] = 0.0
        for term, weight in weights.items():
            if (arrays := self._coverage_arrays.get(term)) is None or (at := self._at(arrays[0], intent)) is None:
                continue
            _, credit, saturated, tf = arrays
            if term not in example.terms:
                covered[intent] += weight * credit[at]
                bm25[intent] += weight * saturated[at]
            elif (left := tf[at] - 1) > 0:
                covered[intent] += weight * credit[at]
                bm25[intent] += weight * float(_saturated(np.array([left]), self._norms[[intent]])[0])
        if meaning is not None and vector is not None:
            rest = self._sums[intent] - vector
            length = float(np.linalg.norm(rest))
            meaning[intent] = float(rest @ vector) / length if length else 0.0

    def _leave_out_phrasing(self, index: int, asked: list[str], phrasing: np.ndarray) -> None:
        """Adjust the phrasing sums in place as if example `index` were not in the index (added up again, as the
        sums in `_leave_out`)."""
        intent = self._intent_of_example(index)
        phrasing[intent] = 0.0
        for word in asked:
            owners, saturated, tf = self._phrasing[word]
            if (at := self._at(owners, intent)) is None:
                continue
            if word not in self._example_asked[index]:
                phrasing[intent] += self._phrasing_idf[word] * saturated[at]
            elif tf[at] > 1:
                left = _saturated(np.array([tf[at] - 1]), self._phrasing_norms[[intent]])[0]
                phrasing[intent] += self._phrasing_idf[word] * float(left)

    @staticmethod
    def _at(owners: np.ndarray, intent: int) -> int | None:
        """Where an intent is among a term's owners (intent positions, in index order); None where it is not."""
        at = int(np.searchsorted(owners, intent))
        return at if at < len(owners) and int(owners[at]) == intent else None

    def _candidate(
        self, intent: int, score: float, f1: np.ndarray, coverage: float, words: float, meaning: float
    ) -> Candidate:
        """One intent's candidate, with the example phrasing that matched it best."""
        start, end = int(self._starts[intent]), int(self._ends[intent])
        example = self._examples[start + int(np.argmax(f1[start:end]))].text
        return Candidate(
            self._intent_ids[intent], round(min(score, 1.0), 4), example, round(coverage, 4), words, meaning
        )


@dataclass(frozen=True)
class _Scored:
    """What scoring every intent gives a ranking: its candidates, the intents nearest in meaning, and how much
    nearer in meaning the best candidate is than any other intent (None when it is not the nearest)."""

    candidates: list[Candidate]
    nearest: tuple[str, ...] = ()
    lead: float | None = None


def _highest(values: np.ndarray, count: int) -> np.ndarray:
    """The positions of the `count` highest `values`, highest first (ties by position)."""
    count = min(count, len(values))
    if count == 0:
        return np.zeros(0, dtype=int)
    top = np.argpartition(-values, count - 1)[:count] if count < len(values) else np.arange(len(values))
    return top[np.lexsort((top, -values[top]))]


def _lead(meaning: np.ndarray, closest: np.ndarray) -> float:
    """How much nearer the nearest intent (`closest[0]`, `closest` ordered nearest first) is than the next."""
    if len(closest) == 1:
        return float(meaning[closest[0]])
    return round(float(meaning[closest[0]] - meaning[closest[1]]), 4)


def _scrambled(word: str, other: str) -> bool:
    """Whether `other` is not `word` with its letters in another order: of two words as few edits away, the one
    with the same letters is the likelier typo ("waht" is "what" before it is "want")."""
    return sorted(word) != sorted(other)


def _saturated(tf: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """BM25's term-frequency factor: 1 for one use in an intent of average length, rising slowly after."""
    return tf * (BM25_K1 + 1) / (tf + norm)


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


_NAME = re.compile(r"(?:[A-Z][\w’'.&]*[ -](?:(?:of|on|for|de|du)[ -])*)+[A-Z][\w’'.&]*")
_IN_BRACKETS = re.compile(
    r"([A-Z][\w’'.&-]*(?:[ -]+(?:of|on|for|and|the|[A-Z][\w’'.&-]*))+)\s*\(([A-Z][A-Za-z&]{1,9})\)"
)
_SMALL_WORDS = frozenset({"of", "on", "for", "and", "the", "de", "du"})


def acronyms_in(texts: Iterable[str]) -> dict[str, list[str]]:
    """Short names people type for the multi-word names in `texts`: "SCO", "FOCAC", and any "Name (ABC)".

    For each capitalised name of two words or more, its initials with and without the small words
    ("Forum on China-Africa Cooperation": "focac" and "fcac"); and every acronym given in brackets
    after a name. Each maps to the name's normalised words.
    """
    found: dict[str, list[str]] = {}
    for text in texts:
        for match in _IN_BRACKETS.finditer(text):
            found.setdefault(match.group(2).casefold(), normalise(match.group(1)).split())
        for match in _NAME.finditer(text):
            words = re.split(r"[ -]+", match.group(0))
            if len([w for w in words if w not in _SMALL_WORDS]) < 2:
                continue
            named = normalise(match.group(0)).split()
            for initials in ("".join(w[0] for w in words), "".join(w[0] for w in words if w not in _SMALL_WORDS)):
                if len(initials) >= 2:
                    found.setdefault(initials.casefold(), named)
    return found


def _record_text(source: Source) -> str:
    """A source's record as words: its title, author, publisher, kind, and words for asking about it."""
    return " ".join([source.title, source.author, source.publisher, source.kind or "", SOURCE_WORDS])


def _smalltalk_intents(base: FactBase, normal: Normaliser) -> dict[str, str]:
    """Per kind of small talk that needs no answer from a source (greetings, thanks), the first intent most of
    whose examples are that kind ("hello there", "thanks a lot"): a fact base that greets in its own words."""
    found: dict[str, str] = {}
    for intent in base.intents.values():
        kinds = Counter(smalltalk.classify(normal(e).split()).id for e in intent.examples)
        for kind in (smalltalk.GREETING.id, smalltalk.THANKS.id):
            if 2 * kinds[kind] > len(intent.examples):
                found.setdefault(kind, intent.id)
    return found


def _synonym_map(groups: list[list[str]]) -> tuple[dict[str, str], list[tuple[str, ...]]]:
    """Map the stem of every synonym to the stem of its group's first one; and list the synonyms of several words
    once normalised ("usa" is "united states", "built-in" is "built in"), each read as one word (`_Phrases`):
    "state" in "secretary of state" is no "usa"."""
    canon: dict[str, str] = {}
    phrases: list[tuple[str, ...]] = []
    for group in groups:
        forms = [words for words in (normalise(str(word)).split() for word in group) if words]
        phrases.extend(tuple(words) for words in forms if len(words) > 1)
        stems = [stem("".join(words)) for words in forms]
        for other in stems:
            canon.setdefault(other, stems[0])
    return canon, phrases


class _Phrases:
    """Names and synonyms of several words once normalised ("united states", "built in"), each read as the one
    word it is: none of its words stands for it alone."""

    def __init__(self, phrases: Iterable[tuple[str, ...]]) -> None:
        self._one = {phrase: "".join(phrase) for phrase in phrases}
        sizes: dict[str, set[int]] = defaultdict(set)
        for phrase in self._one:
            sizes[phrase[0]].add(len(phrase))
        self._sizes = {word: sorted(found, reverse=True) for word, found in sizes.items()}

    def join(self, words: list[str]) -> list[str]:
        """`words` with each phrase made one word, longest first."""
        if self._sizes.keys().isdisjoint(words):
            return words
        out: list[str] = []
        at = 0
        while at < len(words):
            for size in self._sizes.get(words[at], ()):
                if (one := self._one.get(tuple(words[at : at + size]))) is not None:
                    out.append(one)
                    at += size
                    break
            else:
                out.append(words[at])
                at += 1
        return out


def _fact_words(base: FactBase, normal: Normaliser) -> set[str]:
    """The words of the facts' quotes and answers: words like "work" or "help" that a topic may need."""
    return {w for fact in base.facts.values() for text in (fact.quote, fact.answer) for w in normal(text).split()}


def _vocabulary(base: FactBase, stopwords: frozenset[str], normal: Normaliser, phrases: _Phrases) -> list[str]:
    """Every content word of the fact base, most frequent first (ties favour common words), and each name or
    synonym of several words it uses as the one word it is read as (`_Phrases`)."""
    texts: list[str] = []
    for document in base.documents.values():
        texts.extend(p.text for p in document.quotable)
    for fact in base.facts.values():
        texts.extend([fact.answer, *fact.topics])
    for intent in base.intents.values():
        texts.extend(intent.examples)
    counts: Counter[str] = Counter()
    for text in texts:
        words = normal(text).split()
        counts.update(w for w in words if w not in stopwords)
        if (joined := phrases.join(words)) is not words:
            plain = set(words)
            counts.update(w for w in joined if w not in plain)
    return [w for w, _ in counts.most_common()]


def _idf(documents: list[set[str]]) -> dict[str, float]:
    """Inverse document frequency of each term over the intents."""
    df = Counter(t for terms in documents for t in terms)
    n = len(documents)
    return {t: math.log(1 + (n - count + 0.5) / (count + 0.5)) for t, count in df.items()}
