"""Suggest example phrasings for intents from unanswered questions, and write them into `intents/*.yaml`.

Files are edited with ruamel.yaml's round trip, so comments, key order, quoting and indentation
stay as the curator wrote them; only the new example lines are added. After writing, the fact base
is validated again and every file is put back as it was if it no longer validates.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from bot.knowledge import FactBase, read_factbase
from bot.matcher import MAX_CHARS
from bot.normalise import normalise, strip_markup
from bot.reports import Unanswered, UnansweredGroup
from bot.smalltalk import BUILT_IN
from bot.yamlfile import Problem

MIN_SCORE = 0.3


class Proposal(BaseModel):
    """Add `phrasing` to the examples of `intent` (defined in `file` at `line`), asked `count` times."""

    intent: str
    phrasing: str
    count: int
    score: float
    file: str
    line: int


class Skipped(BaseModel):
    """A group's phrasing that is not proposed, and why."""

    intent: str
    phrasing: str
    reason: str


@dataclass
class Suggestions:
    """What `suggest` found: proposals, phrasings left out, and groups that matched no intent closely."""

    proposals: list[Proposal] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unmatched: int = 0


class SuggestError(Exception):
    """A file that cannot take the new examples as it is (reported as a `Problem`)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


# -- proposing ---------------------------------------------------------------------------------


def suggest(report: Unanswered, base: FactBase, *, min_score: float = MIN_SCORE) -> Suggestions:
    """Propose each nearly matched group's example as a new example of the intent it nearly matched."""
    found = Suggestions()
    owners = example_owners(base)
    for group in report.groups:
        if group.intent is None or group.score is None or group.score < min_score or group.intent not in base.intents:
            found.unmatched += 1
            continue
        phrasing = clean_phrasing(group.example)
        reason = _why_not(phrasing, group.intent, owners)
        if reason:
            found.skipped.append(Skipped(intent=group.intent, phrasing=phrasing, reason=reason))
            continue
        owners[normalise(phrasing)] = f"intent '{group.intent}'"
        found.proposals.append(_proposal(group, phrasing, base))
    return found


def example_owners(base: FactBase) -> dict[str, str]:
    """Who owns each normalised example: an intent, or a built-in small-talk intent (as validation sees it)."""
    owners = {normalise(e): f"the built-in intent '{s.id}'" for s in BUILT_IN for e in s.examples}
    for intent in base.intents.values():
        for example in intent.examples:
            owners.setdefault(normalise(example), f"intent '{intent.id}'")
    return owners


def clean_phrasing(text: str) -> str:
    """A question as an example phrasing: chat markup removed, whitespace collapsed."""
    return " ".join(strip_markup(text).split())


def _why_not(phrasing: str, intent: str, owners: Mapping[str, str]) -> str | None:
    """Why `phrasing` should not be added to `intent`, if it should not."""
    key = normalise(phrasing)
    if not key:
        return "no words to match"
    if len(phrasing) > MAX_CHARS:
        return f"longer than the {MAX_CHARS} characters the matcher reads"
    owner = owners.get(key)
    if owner == f"intent '{intent}'":
        return f"already an example of {owner}"
    if owner:
        return f"would stand in {owner} too"
    return None


def _proposal(group: UnansweredGroup, phrasing: str, base: FactBase) -> Proposal:
    """A proposal for one group, located at its intent's record."""
    intent = group.intent or ""
    record = base.record("intent", intent)
    return Proposal(
        intent=intent,
        phrasing=phrasing,
        count=group.count,
        score=group.score or 0.0,
        file=record.file if record else "",
        line=record.line if record else 0,
    )


# -- applying ----------------------------------------------------------------------------------


@dataclass
class Applied:
    """The outcome of `apply`: the files written, or the problems that made it put them back."""

    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    base: FactBase | None = None

    @property
    def ok(self) -> bool:
        """Whether the examples were written and the fact base still validates."""
        return not self.problems


def apply(root: Path, proposals: Sequence[Proposal]) -> Applied:
    """Write the proposals into their intents' files, validate the fact base, and undo it all if it fails."""
    if not proposals:
        return Applied()
    try:
        edits = _edits(root, proposals)
    except SuggestError as exc:
        return Applied(problems=[exc.problem])
    originals = {path: path.read_bytes() for path in edits}
    try:
        for path, text in edits.items():
            _write(path, text.encode("utf-8"))
        base, problems = read_factbase(root)
    except BaseException:
        _restore(originals)
        raise
    if problems:
        _restore(originals)
        return Applied(problems=problems)
    return Applied(files=sorted({p.file for p in proposals}), base=base)


def _edits(root: Path, proposals: Sequence[Proposal]) -> dict[Path, str]:
    """The new text of every file the proposals touch."""
    by_file: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for proposal in proposals:
        by_file[proposal.file][proposal.intent].append(proposal.phrasing)
    edits = {}
    for label, additions in by_file.items():
        path = root / label
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SuggestError(Problem(label, 1, f"cannot read: {exc}")) from None
        edits[path] = add_examples(text, additions, label=label)
    return edits


def add_examples(text: str, additions: Mapping[str, Sequence[str]], *, label: str = "intents") -> str:
    """`text` of an intents file with each phrasing appended to its intent's examples; nothing else changes."""
    newline = "\r\n" if "\r\n" in text else "\n"
    text = text.replace("\r\n", "\n")
    yaml, data = _load(text, label)
    if _dump(yaml, data) != text:
        raise SuggestError(Problem(label, 1, "ruamel.yaml cannot keep this file's layout; add the examples by hand"))
    for intent_id, phrasings in additions.items():
        examples = _examples_of(data, intent_id, label)
        for phrasing in phrasings:
            append_keeping_comments(examples, _styled_like(examples, phrasing))
    return _dump(yaml, data).replace("\n", newline)


def _load(text: str, label: str) -> tuple[YAML, Any]:
    """A round-trip YAML instance set to the file's own indentation, and the file's data."""
    try:
        _, indent, offset = load_yaml_guess_indent(text)
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = 1_000_000  # never fold a long line the curator wrote on one line
        yaml.indent(mapping=indent or 2, sequence=indent or 4, offset=offset or 0)
        return yaml, yaml.load(text)
    except YAMLError as exc:
        raise SuggestError(Problem(label, 1, f"invalid YAML: {exc}")) from None


def _dump(yaml: YAML, data: Any) -> str:
    """The YAML text of `data`."""
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _examples_of(data: Any, intent_id: str, label: str) -> CommentedSeq:
    """The examples list of one intent in a loaded intents file."""
    intents = data.get("intents") if isinstance(data, Mapping) else None
    for item in intents or []:
        if isinstance(item, Mapping) and item.get("id") == intent_id:
            examples = item.get("examples")
            if isinstance(examples, CommentedSeq):
                return examples
    raise SuggestError(Problem(label, 1, f"no examples list for intent '{intent_id}'"))


def _styled_like(examples: CommentedSeq, phrasing: str) -> str:
    """`phrasing` quoted the way the list's last example is (plain when it is plain and YAML allows it)."""
    last = examples[-1] if examples else None
    if isinstance(last, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(phrasing)
    if isinstance(last, SingleQuotedScalarString):
        return SingleQuotedScalarString(phrasing)
    return phrasing


def append_keeping_comments(seq: CommentedSeq, value: str) -> None:
    """Append to a block list so that what followed its last item (blank lines, comments) follows the new one.

    ruamel.yaml keeps the lines after a list's last item in that item's end-of-line comment; left
    there, a new item would land after them, away from its list. The item keeps its own
    end-of-line comment; the lines after it move to the new item.
    """
    last = len(seq) - 1
    seq.append(value)
    comments = seq.ca.items.get(last) if last >= 0 else None
    token = comments[0] if comments else None
    if not isinstance(token, CommentToken):
        return
    own, _, after = token.value.partition("\n")
    if not after:
        return
    if own.strip():
        token.value = own + "\n"
    else:
        del seq.ca.items[last]
    seq.ca.items[last + 1] = [CommentToken("\n" + after, CommentMark(0), None), None, None, None]


def _write(path: Path, data: bytes) -> None:
    """Replace a file's content in one step (a crash leaves the old file or the new one, never half)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _restore(originals: Mapping[Path, bytes]) -> None:
    """Put files back as they were."""
    for path, data in originals.items():
        _write(path, data)
