"""Why the bot said what it said: the matcher's ranking and the thresholds, in plain words, then the numbers.

`explain(engine, text)` re-ranks a question (no store writes, no answer memory) and names the example
phrasing that matched, the runner-up, the margin between them and the rule that decided.
`explanation_text` renders it for people; adapters render `summary` and `details` their own way.
`LastAsked` is the bounded per-channel memory adapters keep so that `/why` alone explains the last answer.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from bot import smalltalk
from bot.calibrate import NO_FLOOR
from bot.context import Turn
from bot.engine import Engine
from bot.matcher import MAX_CHARS, Candidate, Ranking
from bot.models import Status, text_safe
from bot.normalise import normalise, visible

Reason = Literal[
    "smalltalk",
    "no-match",
    "low-score",
    "off-topic",
    "clear",
    "same-facts",
    "middling",
    "close",
    "unlike",
    "agreed",
    "meant",
    "bare",
]
"""Which rule decided: the branch of `Engine.decide` (plus small talk, which never reaches it)."""

WELL_BEHIND = 0.1
"""A runner-up this far below the best match is "well behind" in the plain-words summary."""

REMEMBERED_CHANNELS = 10_000
"""How many channels' last questions an adapter keeps for `/why`; the least recently used go first."""


class Contender(BaseModel):
    """One scored intent: its id, its canonical question, the example phrasing that matched best, its score."""

    model_config = ConfigDict(frozen=True)

    intent: str
    question: str
    example: str
    score: float


class Applied(BaseModel):
    """The thresholds the decision used."""

    model_config = ConfigDict(frozen=True)

    answer: float
    clarify: float
    margin: float
    meaning: float | None = None
    """The floor on the best match's meaning for an answer, where the fact base has one."""
    agree: bool = False
    """Whether words and meaning agreeing on the best match answer below the answer threshold."""
    alone: float = 0.0
    """How near in meaning a match by meaning alone, with no word of the source, must come."""


class Explanation(BaseModel):
    """Everything behind one decision: the match, the runner-up, the thresholds and the rule that applied."""

    model_config = ConfigDict(frozen=True)

    question: str
    status: Status
    intent: str | None
    best: Contender | None
    runner_up: Contender | None
    margin: float | None
    thresholds: Applied
    reason: Reason
    rule: str
    terms: list[str]
    unknown: list[str]
    corrections: dict[str, str]
    truncated: bool
    confidence: float = 0.0
    """What the thresholds were applied to (`Ranking.confidence`); the answer's confidence."""
    context: str | None = None
    """The earlier question this one was read with, as a follow-up."""

    @field_validator("question", "context")
    @classmethod
    def _encodable(cls, text: str | None) -> str | None:
        """The question as received, with anything that is not text made U+FFFD (as in an Answer)."""
        return None if text is None else text_safe(text)

    @property
    def score(self) -> float:
        """The confidence the decision was made on (0 when nothing matched)."""
        return self.confidence


# -- working it out -----------------------------------------------------------------------------


def explain(engine: Engine, text: str, previous: Turn | None = None) -> Explanation:
    """Why `engine` answers `text` as it does (after `previous`, in a conversation): the same reading and decision."""
    ranking, followed, _, bare = engine.reading(text, previous)
    status = engine.status(text, ranking, bare=bare)
    reason = _reason(engine, ranking, status, bare=bare)
    best, runner = _contender(engine, ranking.best), _contender(engine, _runner(ranking))
    margin = round(best.score - runner.score, 4) if best and runner else None
    t = engine.thresholds
    meaning = engine.floor(ranking.best.intent) if ranking.best else t.meaning  # the floor the best match had to clear
    floor = meaning if meaning > NO_FLOOR else None
    thresholds = Applied(
        answer=t.answer,
        clarify=t.clarify,
        margin=t.margin,
        meaning=floor,
        agree=t.agree,
        alone=round(engine.matcher.meaning_floor, 2),
    )
    return Explanation(
        question=text[:MAX_CHARS],
        status=status,
        intent=_intent(ranking, status, text),
        best=best,
        runner_up=runner,
        margin=margin,
        thresholds=thresholds,
        reason=reason,
        rule=_rule(reason, ranking, margin, thresholds),
        terms=list(ranking.terms),
        unknown=unknown_words(engine, text, ranking),
        corrections=dict(ranking.corrected),
        truncated=ranking.truncated,
        confidence=ranking.confidence if status is not Status.smalltalk else 1.0,
        context=previous.text if followed and previous else None,
    )


def _runner(ranking: Ranking) -> Candidate | None:
    """The second-best candidate, if there is one."""
    return ranking.candidates[1] if len(ranking.candidates) > 1 else None


def _contender(engine: Engine, candidate: Candidate | None) -> Contender | None:
    """A candidate with its intent's canonical question."""
    if candidate is None:
        return None
    intent = engine.base.intents[candidate.intent]
    return Contender(
        intent=candidate.intent, question=intent.question, example=candidate.example, score=candidate.score
    )


def _intent(ranking: Ranking, status: Status, text: str) -> str | None:
    """The intent the answer carries: as `Engine.compose` sets it (none for a fallback)."""
    if status is Status.smalltalk:
        return smalltalk.classify(normalise(text[:MAX_CHARS]).split()).id
    if status is Status.fallback or ranking.best is None:
        return None
    return ranking.best.intent


def _reason(engine: Engine, ranking: Ranking, status: Status, *, bare: bool = False) -> Reason:
    """Which branch of `Engine.decide` gave `status` (it mirrors that method's order of checks)."""
    best, runner, t = ranking.best, _runner(ranking), engine.thresholds
    if status is Status.smalltalk:
        return "smalltalk"
    if best is None:
        return "no-match"
    if ranking.confidence < t.clarify and not engine.agreed(ranking):
        return "low-score"
    if status is Status.fallback:
        return "unlike" if ranking.topical and best.meaning < engine.floor(best.intent) else "off-topic"
    close = engine.tied(ranking, runner)
    if bare and status is Status.clarify and engine.decide(ranking) is Status.answered:
        return "bare"
    if status is Status.answered and not ranking.topical:
        return "meant"
    if status is Status.answered and ranking.confidence < t.answer:
        return "agreed"
    if status is Status.answered:
        return "same-facts" if close else "clear"
    return "close" if close and engine.differ(best, runner) else "middling"


def unknown_words(engine: Engine, text: str, ranking: Ranking) -> list[str]:
    """The question's words the fact base never uses, as typed; its unknown terms when no single word is one."""
    if not ranking.unknown:
        return []
    words = dict.fromkeys(normalise(text[:MAX_CHARS]).split())
    found = [w for w in words if engine.matcher.rank(w).unknown]
    return found or list(ranking.unknown)


# -- the rule, in numbers ------------------------------------------------------------------------


def _pair(value: float, limit: float) -> tuple[str, str]:
    """Two numbers with the fewest decimals (2 to 4) that show the limit exactly and unequal numbers unequal."""
    start = next((p for p in (2, 3) if round(limit, p) == limit), 4)
    for places in range(start, 5):
        shown = f"{value:.{places}f}", f"{limit:.{places}f}"
        if shown[0] != shown[1] or value == limit:
            return shown
    return f"{value:.4f}", f"{limit:.4f}"


def _versus(name: str, value: float, sign: str, limit_name: str, limit: float) -> str:
    """ "score 0.82 ≥ answer threshold 0.70", or "margin 0.21 ≥ 0.005" when the limit needs no name."""
    shown, bound = _pair(value, limit)
    return " ".join(part for part in (name, shown, sign, limit_name, bound) if part)


def _rule(reason: Reason, ranking: Ranking, margin: float | None, t: Applied) -> str:
    """The rule that decided, with its numbers: "confidence 0.82 ≥ answer threshold 0.70 and margin 0.21 ≥ 0.005"."""
    score, meaning = ranking.confidence, ranking.best.meaning if ranking.best else 0.0
    answer = _versus("confidence", score, "≥", "answer threshold", t.answer)
    wide = "no runner-up" if margin is None else _versus("margin", margin, "≥", "", t.margin)
    narrow = _versus("margin", margin or 0.0, "<", "", t.margin)
    rules: dict[Reason, str] = {
        "smalltalk": "a small-talk phrasing the fact base does not answer"
        if ranking.terms
        else "no words to look up: small talk",
        "no-match": "no intent shares a term with the question",
        "low-score": _versus("confidence", score, "<", "clarify threshold", t.clarify),
        "off-topic": "none of the question's terms occur in the text of the source that would answer it",
        "clear": f"{answer} and {wide}"
        if margin is None or margin >= t.margin
        else f"{answer}; {narrow}, but the best match is also the nearest in meaning",
        "same-facts": f"{answer}; {narrow}, but the runner-up gives the same facts",
        "middling": f"{_versus('confidence', score, '≥', 'clarify threshold', t.clarify)} but "
        f"{_versus('confidence', score, '<', 'answer threshold', t.answer).removeprefix('confidence ')}",
        "close": f"{answer} but {narrow} and the runner-up gives different facts",
        "unlike": _versus("meaning", meaning, "<", "meaning floor", t.meaning or 0.0),
        "bare": "a follow-up of question words alone, asking for no kind of answer: offered, not answered",
        "agreed": f"{_versus('confidence', score, '<', 'answer threshold', t.answer)}, but the best match is also "
        f"the nearest in meaning (by {ranking.meaning_lead or 0.0:.2f})"
        + (f" and {_versus('meaning', meaning, '≥', 'meaning floor', t.meaning)}" if t.meaning is not None else ""),
        "meant": "no word of the source, but the best match is the nearest in meaning "
        f"(by {ranking.meaning_lead or 0.0:.2f}) and {_versus('meaning', meaning, '≥', '', t.alone)}, "
        "as near as a match by meaning alone must be",
    }
    return rules[reason]


# -- in words ------------------------------------------------------------------------------------


def summary(e: Explanation) -> str:
    """The decision in plain words, one or two sentences, no numbers needed."""
    if e.context:
        return f"I read your question as a follow-up to “{e.context}”. " + _decision(e)
    return _decision(e)


def _decision(e: Explanation) -> str:
    """The decision itself, in plain words."""
    best, runner = e.best, e.runner_up
    if e.reason == "smalltalk":
        if e.terms:
            return (
                f"I took that as small talk ({e.intent}): it is something people say to a bot, and my source "
                "does not answer it."
            )
        return f"I took that as small talk ({e.intent}): it has no words I could look up in my source."
    if best is None or e.reason == "no-match":
        return "I didn't answer: no question I know shares a word with yours." + _never_used(e)
    if e.reason == "low-score":
        return (
            f"I didn't answer: the closest question I know, “{best.question}”, matched yours only loosely "
            f"(through the example “{best.example}”)." + _never_used(e)
        )
    if e.reason == "unlike":
        return (
            f"I didn't answer: your question shares words with “{best.question}” (through the example "
            f"“{best.example}”), but is not near it in meaning." + _never_used(e)
        )
    if e.reason == "off-topic":
        return (
            f"I didn't answer: the closest question I know is “{best.question}” (through the example "
            f"“{best.example}”), but none of your words appear in the source that answers it." + _never_used(e)
        )
    if e.reason == "bare":
        return (
            "I asked which you meant because your question, read with the one before it, could ask about any of "
            f"several things; the closest is “{best.question}”."
        )
    if e.status is Status.clarify:
        return _clarify_words(e, best, runner)
    if e.reason == "meant":
        return (
            f"I answered with “{best.question}” because, though your question uses no word of my source, of all "
            "I can answer it is the nearest in meaning, and near enough."
        )
    if e.reason == "agreed":
        return (
            f"I answered with “{best.question}” because your question's words point to it (through the example "
            f"“{best.example}”) and, of all I can answer, it is also the nearest in meaning."
        )
    return (
        f"I answered with “{best.question}” because your question matched the example “{best.example}” "
        f"closely; {_behind(e, runner)}"
    )


def _behind(e: Explanation, runner: Contender | None) -> str:
    """How the runner-up compared, for an answer."""
    if runner is None:
        return "no other question came close."
    if e.reason == "same-facts":
        return f"the next best, “{runner.question}”, was as close but gives the same answer."
    distance = "well behind" if (e.margin or 0.0) >= WELL_BEHIND else "behind"
    return f"the next best, “{runner.question}”, was {distance}."


def _clarify_words(e: Explanation, best: Contender, runner: Contender | None) -> str:
    """Why the bot asked which question was meant."""
    if e.reason == "close" and runner is not None:
        return (
            f"I asked which you meant because your question matched “{best.question}” and “{runner.question}” "
            "almost equally well, and they have different answers."
        )
    return (
        f"I asked which you meant because the closest question, “{best.question}” (through the example "
        f"“{best.example}”), matched only partly: not closely enough to answer outright."
    )


def _never_used(e: Explanation) -> str:
    """ " My source never uses “headquartered”." when the question has such words."""
    if not e.unknown:
        return ""
    quoted = [f"“{w}”" for w in e.unknown]
    words = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    return f" My source never uses {'the word' if len(e.unknown) == 1 else 'the words'} {words}."


def details(e: Explanation) -> list[str]:
    """The numbers behind the decision, one per line."""
    t = e.thresholds
    cut = "…" if e.truncated else ""
    lines = [f"Question: “{' '.join(e.question.split())}{cut}”"]
    if e.context:
        lines.append(f"Read with the question before it: “{' '.join(e.context.split())}”")
    lines.append(f"Decision: {e.status.value} ({e.rule})")
    if e.best is not None:
        lines.append(
            f"Best match: {e.best.intent} “{e.best.question}” via the example “{e.best.example}”, "
            f"score {e.best.score:.4f}"
        )
    if e.runner_up is not None:
        lines.append(
            f"Runner-up: {e.runner_up.intent} “{e.runner_up.question}”, score {e.runner_up.score:.4f} "
            f"(margin {e.margin:.4f})"
        )
    else:
        lines.append("Runner-up: none")
    floor = f" · meaning {t.meaning:.2f}" if t.meaning is not None else ""
    agree = " · words and meaning agreeing answer" if t.agree else ""
    lines.append(f"Thresholds: answer {t.answer:.2f} · clarify {t.clarify:.2f} · margin {t.margin:g}{floor}{agree}")
    lines.append(f"Terms: {', '.join(e.terms) or 'none'}")
    if e.unknown:
        lines.append(f"Words the fact base never uses: {', '.join(e.unknown)}")
    if e.corrections:
        lines.append("Spelling corrections: " + ", ".join(f"{a} → {b}" for a, b in e.corrections.items()))
    if e.truncated:
        lines.append(f"Cut: only the first {MAX_CHARS} characters of a longer message were read.")
    return lines


def explanation_text(e: Explanation) -> str:
    """Plain words first, then the numbers on the following lines; nothing a terminal would obey."""
    return visible("\n".join([summary(e), "", *details(e)]))


# -- what was asked where ------------------------------------------------------------------------


class LastAsked:
    """The last question answered in each channel, for `/why` with no question; bounded, oldest channels go first."""

    def __init__(self, *, size: int = REMEMBERED_CHANNELS) -> None:
        self._questions: OrderedDict[str, tuple[str, Turn | None]] = OrderedDict()
        self._size = size

    def remember(self, channel: str, text: str, previous: Turn | None = None) -> None:
        """Keep `text` (cut to what the matcher reads) as the last question in `channel`, and the turn it followed."""
        self._questions[channel] = (text[: MAX_CHARS + 1], previous)  # one more: the explanation still says it was cut
        self._questions.move_to_end(channel)
        if len(self._questions) > self._size:
            self._questions.popitem(last=False)

    def last(self, channel: str) -> str | None:
        """The last question answered in `channel`, if any."""
        asked = self._questions.get(channel)
        return asked[0] if asked else None

    def before(self, channel: str) -> Turn | None:
        """The conversation's question before the last one in `channel`, if the last one could follow up on it."""
        asked = self._questions.get(channel)
        return asked[1] if asked else None
