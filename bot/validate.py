"""Cross-checks of a fact base: verbatim quotes, known ids, reachable facts, distinct examples."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.documents import sentence_count
from bot.models import Fact
from bot.normalise import normalise
from bot.yamlfile import Problem, Record

if TYPE_CHECKING:
    from bot.knowledge import FactBase

MIN_EXAMPLES = 8
MAX_QUOTE_SENTENCES = 2
RECORD_FIELDS = ("title", "author", "publisher", "kind", "url")


def check(base: FactBase) -> list[Problem]:
    """Every problem the cross-checks find in `base`."""
    return [*_check_facts(base), *_check_intents(base), *_check_reachable(base)]


def _check_facts(base: FactBase) -> list[Problem]:
    """Each fact names a known source, and its quote is verbatim from it."""
    problems = []
    for fact in base.facts.values():
        record = _record(base, "fact", fact.id)
        if message := _source_problem(base, fact):
            problems.append(_at(record, "source", message))
        elif message := _quote_problem(base, fact):
            problems.append(_at(record, "quote", message))
        problems.extend(
            _at(record, "topics", "empty topic", index) for index, topic in enumerate(fact.topics) if not topic.strip()
        )
    return problems


def _source_problem(base: FactBase, fact: Fact) -> str | None:
    """Why the fact's source cannot be used, if it cannot."""
    if fact.source not in base.sources:
        return f"unknown source '{fact.source}' in fact '{fact.id}'"
    return None


def _quote_problem(base: FactBase, fact: Fact) -> str | None:
    """Why the fact's quote is not a usable verbatim span of its source, if it is not."""
    if fact.record is not None:
        return _record_problem(base, fact)
    document = base.documents.get(fact.source)
    if document is None:
        return None  # the missing file is already reported at the source
    if sentence_count(fact.quote) > MAX_QUOTE_SENTENCES:
        return f"quote of fact '{fact.id}' has more than {MAX_QUOTE_SENTENCES} sentences"
    if document.find(fact.quote):
        return None
    if document.in_chrome(fact.quote):
        return f"quote of fact '{fact.id}' is page chrome (menus, newsletter, image credit), not quotable"
    closest = document.closest(fact.quote)
    hint = f'; closest passage ({closest[0].label}): "{_clip(closest[1])}"' if closest else ""
    return f"quote of fact '{fact.id}' not found verbatim in {document.source.file}{hint}"


def _record_problem(base: FactBase, fact: Fact) -> str | None:
    """Why a quote of the source's record does not match that record's field, if it does not."""
    if fact.record not in RECORD_FIELDS:
        return f"fact '{fact.id}' cites unknown record field '{fact.record}' (one of {', '.join(RECORD_FIELDS)})"
    value = getattr(base.sources[fact.source], fact.record) or ""
    if fact.quote != value:
        return f"quote of fact '{fact.id}' is not the source's {fact.record} (\"{_clip(value)}\")"
    return None


def _check_intents(base: FactBase) -> list[Problem]:
    """Intents name known facts, have enough examples, and share no example with another.

    An example may be a built-in phrasing ("hello"): the fact base's intent answers it instead of small talk.
    """
    problems: list[Problem] = []
    owners: dict[str, str] = {}
    for intent in base.intents.values():
        record = _record(base, "intent", intent.id)
        for index, fact_id in enumerate(intent.facts):
            if fact_id not in base.facts and fact_id not in base.broken:
                problems.append(_at(record, "facts", f"unknown fact '{fact_id}' in intent '{intent.id}'", index))
        if len(intent.examples) < MIN_EXAMPLES:
            count = f"intent '{intent.id}' has {len(intent.examples)} examples"
            problems.append(_at(record, "examples", f"{count}; at least {MIN_EXAMPLES} are needed"))
        mine = f"intent '{intent.id}'"
        for index, example in enumerate(intent.examples):
            key = normalise(example)
            if not key:
                problems.append(_at(record, "examples", f"empty example in {mine}", index))
            elif owners.setdefault(key, mine) != mine:
                message = f'example "{example}" of {mine} stands in {owners[key]} too'
                problems.append(_at(record, "examples", message, index))
    return problems


def _record(base: FactBase, kind: str, item_id: str) -> Record:
    """Where a loaded item was defined (every loaded item has a record)."""
    record = base.record(kind, item_id)
    assert record is not None
    return record


def _at(record: Record, key: str, message: str, index: int | None = None) -> Problem:
    """A problem located at a field (or one item of a list field) of `record`."""
    return Problem(record.file, record.line_of(key, index), message)


def _check_reachable(base: FactBase) -> list[Problem]:
    """Every fact is answered by some intent."""
    reachable = {fact_id for intent in base.intents.values() for fact_id in intent.facts}
    return [
        _at(_record(base, "fact", fact.id), "id", f"fact '{fact.id}' is not reachable from any intent")
        for fact in base.facts.values()
        if fact.id not in reachable
    ]


def _clip(text: str, limit: int = 120) -> str:
    """`text` shortened to `limit` characters for a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
