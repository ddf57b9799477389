"""Read YAML files into plain data while remembering the line of every record and field."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

try:  # the C parser is several times faster; PyYAML falls back to pure Python without libyaml
    from yaml import CSafeLoader as _Base
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Base  # type: ignore[assignment]

T = TypeVar("T")

TIMESTAMP = "tag:yaml.org,2002:timestamp"
PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map"))
"""The only tags a fact base may carry: `!include`, `!!python/...` and the rest are refused."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters YAML refuses (a NUL, say); tab, newline and carriage return are fine."""

MAX_DEPTH = 50
"""How deeply collections may nest in a fact-base file; its records need three levels."""


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader, reading a date such as `2022-02-30` as the text it is."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != TIMESTAMP]
        for first, resolvers in _Base.yaml_implicit_resolvers.items()
    }


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
    items = _top_level_list(compose(path, label=label), key, label)
    constructor = _Loader("")
    return [_built(functools.partial(_record, node, label, constructor), label) for node in items]


def read_data(path: Path, *, label: str) -> object:
    """The whole YAML file at `path` as plain data, read with the same care as records."""
    root = compose(path, label=label)
    return None if root is None else _built(functools.partial(_Loader("").construct_document, root), label)


def _built(build: Callable[[], T], label: str) -> T:
    """`build()`, with a value YAML cannot construct (such as `!!int abc`) reported as a problem."""
    try:
        return build()
    except yaml.MarkedYAMLError as exc:
        raise YamlError(_located(exc, label)) from None
    except (ValueError, TypeError) as exc:
        raise YamlError(Problem(label, 1, f"invalid YAML: {exc}")) from None


def compose(path: Path, *, label: str) -> yaml.Node | None:
    """The YAML file at `path` as a node tree, checked: no duplicate keys, no tags but plain ones."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise YamlError(Problem(label, 1, "not UTF-8 text")) from None
    if control := _CONTROL.search(text):
        line = text.count("\n", 0, control.start()) + 1
        raise YamlError(Problem(label, line, f"invalid YAML: control character U+{ord(control.group()):04X}"))
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise YamlError(_located(exc, label)) from None
    except yaml.YAMLError as exc:  # a NUL or other character YAML does not allow
        raise YamlError(Problem(label, 1, f"invalid YAML: {str(exc).splitlines()[0]}")) from None
    except RecursionError:
        raise YamlError(Problem(label, 1, "invalid YAML: nested too deeply")) from None
    if root is not None:
        _check(root, label, depth=0)
    return root


def _check(node: yaml.Node, label: str, *, depth: int) -> None:
    """Refuse duplicate keys, unknown tags and deep nesting anywhere under `node`."""
    if depth > MAX_DEPTH:
        raise YamlError(Problem(label, node.start_mark.line + 1, "invalid YAML: nested too deeply"))
    if node.tag not in PLAIN_TAGS:
        raise YamlError(Problem(label, node.start_mark.line + 1, f"unsupported YAML tag {node.tag}"))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise YamlError(Problem(label, key.start_mark.line + 1, "a key must be a plain word or text"))
            line = key.start_mark.line + 1
            if key.value in seen:
                message = f"duplicate key '{key.value}' (first at line {seen[key.value]})"
                raise YamlError(Problem(label, line, message))
            seen[key.value] = line
            _check(key, label, depth=depth + 1)
            _check(value, label, depth=depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check(item, label, depth=depth + 1)


def _located(exc: yaml.MarkedYAMLError, label: str) -> Problem:
    """A YAML error as a `file:line: message` problem."""
    mark = exc.problem_mark or exc.context_mark
    reason = str(exc.problem or exc)
    reason = "nested too deeply" if "nesting depth" in reason else reason
    return Problem(label, mark.line + 1 if mark else 1, f"invalid YAML: {reason}")


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
