"""Read YAML files into plain data while remembering the line of every record and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # the C parser is several times faster; PyYAML falls back to pure Python without libyaml
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the fact base, located as `file:line`."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Record:
    """One mapping from a YAML list, with the line of the record and of each of its fields."""

    data: dict[str, Any]
    file: str
    line: int
    lines: dict[str, int] = field(default_factory=dict)
    item_lines: dict[str, list[int]] = field(default_factory=dict)

    def line_of(self, key: str, index: int | None = None) -> int:
        """The line of field `key` (or of its `index`-th item), else the record's own line."""
        if index is not None and index < len(self.item_lines.get(key, [])):
            return self.item_lines[key][index]
        return self.lines.get(key, self.line)


class YamlError(Exception):
    """A YAML file that cannot be read as a list of records."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def read_records(path: Path, key: str, *, label: str) -> list[Record]:
    """Read the list under top-level `key` of the YAML file at `path` as located records."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=_Loader)
    except UnicodeDecodeError:
        raise YamlError(Problem(label, 1, "not UTF-8 text")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(Problem(label, line, f"invalid YAML: {exc.problem or exc}")) from None
    items = _top_level_list(root, key, label)
    constructor = _Loader("")
    return [_record(node, label, constructor) for node in items]


def _top_level_list(root: yaml.Node | None, key: str, label: str) -> list[yaml.Node]:
    """The sequence under `key` in a document that must be a mapping."""
    if root is None:
        raise YamlError(Problem(label, 1, f"empty file: expected a '{key}:' list"))
    if isinstance(root, yaml.MappingNode):
        for key_node, value in root.value:
            if key_node.value == key and isinstance(value, yaml.SequenceNode):
                return list(value.value)
    raise YamlError(Problem(label, root.start_mark.line + 1, f"expected a '{key}:' list"))


def _record(node: yaml.Node, label: str, constructor: Any) -> Record:
    """Turn one list item into a `Record`; a non-mapping item becomes an empty record."""
    record = Record(data={}, file=label, line=node.start_mark.line + 1)
    if not isinstance(node, yaml.MappingNode):
        return record
    for key_node, value in node.value:
        name = str(key_node.value)
        record.data[name] = constructor.construct_document(value)
        record.lines[name] = key_node.start_mark.line + 1
        if isinstance(value, yaml.SequenceNode):
            record.item_lines[name] = [item.start_mark.line + 1 for item in value.value]
    return record
