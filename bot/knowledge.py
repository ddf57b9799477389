"""Load a fact base from its folder (sources, seeds, facts, intents, synonyms) and check it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.documents import Document
from bot.models import Fact, Identified, Intent, Source
from bot.yamlfile import Problem, Record, YamlError, read_data, read_records

M = TypeVar("M", bound=Identified)


@dataclass
class FactBase:
    """A loaded fact base: sources with their documents, facts, intents and synonym groups."""

    root: Path
    sources: dict[str, Source] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)
    intents: dict[str, Intent] = field(default_factory=dict)
    synonyms: list[list[str]] = field(default_factory=list)
    records: dict[tuple[str, str], Record] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    """Ids of records that failed to load; references to them are not reported again."""

    def record(self, kind: str, item_id: str) -> Record | None:
        """Where a source, fact or intent was defined."""
        return self.records.get((kind, item_id))

    def topics(self) -> dict[str, list[Fact]]:
        """Facts grouped by topic, topics in alphabetical order."""
        grouped: dict[str, list[Fact]] = {}
        for fact in self.facts.values():
            for topic in fact.topics:
                grouped.setdefault(topic, []).append(fact)
        return dict(sorted(grouped.items()))


class FactBaseError(Exception):
    """A fact base that cannot be used, with every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


class _Reader:
    """Reads one fact-base folder, collecting problems instead of stopping at the first."""

    def __init__(self, root: Path) -> None:
        self.base = FactBase(root=root)
        self.problems: list[Problem] = []

    def label(self, path: Path) -> str:
        """A path as shown in messages: relative to the fact base's folder."""
        try:
            return str(path.relative_to(self.base.root))
        except ValueError:
            return str(path)

    def records(self, path: Path, key: str) -> list[Record]:
        """Records of one YAML file, or none (with a problem) when it cannot be read."""
        try:
            return read_records(path, key, label=self.label(path))
        except YamlError as exc:
            self.problems.append(exc.problem)
        except OSError as exc:
            self.problems.append(Problem(self.label(path), 1, f"cannot read: {exc.strerror}"))
        return []

    def models(self, kind: str, model: type[M], records: Iterable[Record]) -> dict[str, M]:
        """Validate records as `model`, keyed by id, reporting bad fields and duplicate ids."""
        found: dict[str, M] = {}
        for record in records:
            item = self._model(model, record)
            if item is None:
                self.base.broken.add(str(record.data.get("id", "")))
                continue
            item_id = item.id
            if item_id in found:
                first = self.base.records[(kind, item_id)]
                self.add(record, "id", f"duplicate {kind} id '{item_id}' (first at {first.file}:{first.line})")
                continue
            found[item_id] = item
            self.base.records[(kind, item_id)] = record
        return found

    def _model(self, model: type[M], record: Record) -> M | None:
        """One record as `model`, or None with a problem per invalid field."""
        try:
            return model.model_validate(record.data)
        except ValidationError as exc:
            for error in exc.errors():
                where = [str(p) for p in error["loc"]]
                key = where[0] if where else ""
                index = int(where[1]) if len(where) > 1 and where[1].isdigit() else None
                self.problems.append(Problem(record.file, record.line_of(key, index), _field_message(where, error)))
            return None

    def add(self, record: Record, key: str, message: str, index: int | None = None) -> None:
        """Report a problem at a field of `record`."""
        self.problems.append(Problem(record.file, record.line_of(key, index), message))


def _field_message(where: list[str], error: ErrorDetails) -> str:
    """A pydantic error in the fact base's words."""
    name = ".".join(where) or "record"
    kind = error["type"]
    if kind == "missing":
        return f"missing field '{name}'"
    if kind == "extra_forbidden":
        return f"unknown field '{name}'"
    if kind in {"string_too_short", "too_short"}:
        return f"empty field '{name}'"
    return f"field '{name}': {error['msg']}"


def read_factbase(root: Path) -> tuple[FactBase, list[Problem]]:
    """Read the fact base in `root` and return it with every problem found in it."""
    from bot.validate import check  # the cross-checks live beside their messages

    reader = _Reader(root)
    base = reader.base
    base.sources = reader.models("source", Source, reader.records(root / "knowledge" / "sources.yaml", "sources"))
    base.documents = _documents(reader, base.sources)
    base.facts = reader.models("fact", Fact, _each(reader, root / "knowledge" / "facts", "facts"))
    base.intents = reader.models("intent", Intent, _each(reader, root / "intents", "intents"))
    base.synonyms = _synonyms(reader, root / "knowledge" / "synonyms.yaml")
    reader.problems.extend(check(base))
    if not base.sources and not any(p.file.endswith("sources.yaml") for p in reader.problems):
        reader.problems.append(Problem("knowledge/sources.yaml", 1, "no sources defined"))
    return base, reader.problems


def load_factbase(root: Path) -> FactBase:
    """Load the fact base in `root`, or raise `FactBaseError` listing every problem."""
    base, problems = read_factbase(root)
    if problems:
        raise FactBaseError(problems)
    return base


def _each(reader: _Reader, folder: Path, key: str) -> list[Record]:
    """Records of every `*.yaml` file in `folder`, in file-name order."""
    if not folder.is_dir():
        reader.problems.append(Problem(reader.label(folder), 1, "folder not found"))
        return []
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        reader.problems.append(Problem(reader.label(folder), 1, f"no {key} files (*.yaml)"))
    return [record for path in files for record in reader.records(path, key)]


MAX_SEED_BYTES = 10_000_000
"""A source document larger than this is refused: a fact base quotes articles, licences and manuals."""


def _documents(reader: _Reader, sources: dict[str, Source]) -> dict[str, Document]:
    """Each source's document from `seeds/`, reporting files that are missing, unreadable or out of place."""
    documents = {}
    seeds = (reader.base.root / "seeds").resolve()
    for source in sources.values():
        path = (seeds / source.file).resolve()
        problem = _seed_problem(path, seeds)
        if problem is None:
            try:
                documents[source.id] = Document.parse(source, path.read_text(encoding="utf-8-sig"))
            except UnicodeDecodeError:
                problem = "not UTF-8 text"
            except OSError:
                problem = "not readable"
        if problem is not None:
            reader.add(reader.base.records[("source", source.id)], "file", f"source file seeds/{source.file} {problem}")
    return documents


def _seed_problem(path: Path, seeds: Path) -> str | None:
    """What stops a source file from being read, checked before reading (a FIFO would hang, /dev/zero fill memory)."""
    if not path.is_relative_to(seeds):
        return "is outside seeds/"
    if not path.exists():
        return "not found"
    if not path.is_file():
        return "is not a regular file"
    if path.stat().st_size > MAX_SEED_BYTES:
        return f"is larger than {MAX_SEED_BYTES // 1_000_000} MB"
    return None


def _synonyms(reader: _Reader, path: Path) -> list[list[str]]:
    """Synonym groups (optional file): lists of single words that mean the same in questions."""
    if not path.exists():
        return []
    label = reader.label(path)
    try:
        data = read_data(path, label=label) or {}
    except YamlError as exc:
        reader.problems.append(exc.problem)
        return []
    except OSError as exc:
        reader.problems.append(Problem(label, 1, f"cannot read: {exc.strerror}"))
        return []
    groups = data.get("synonyms", []) if isinstance(data, dict) else None
    if not isinstance(groups, list) or not all(_is_words(g) for g in groups):
        reader.problems.append(Problem(label, 1, "expected 'synonyms:' as a list of lists of words"))
        return []
    seen: dict[str, int] = {}
    for number, group in enumerate(groups, 1):
        for word in group:
            if seen.setdefault(word.casefold(), number) != number:
                message = f"synonym '{word}' is in groups {seen[word.casefold()]} and {number}"
                reader.problems.append(Problem(label, 1, message))
    return [[str(w) for w in group] for group in groups]


def _is_words(group: object) -> bool:
    """Whether a synonym group is a list of at least two non-empty words."""
    return isinstance(group, list) and len(group) >= 2 and all(isinstance(w, str) and w.strip() for w in group)
