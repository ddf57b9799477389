"""What start-up reads off a fact base, kept between runs in the cache folder (FACTBOT_CACHE_DIR).

Start-up measures the fact base: how far the bank of out-of-scope questions reaches it, and the thresholds
its own phrasings give (`bot.calibrate`). That is a third of the time a `factbot ask` takes on a fact base of
1,500 examples, and it comes out the same for the same fact base and the same Factbot. So it is kept in a
small JSON file named by a fingerprint of both, and read back on the next start: a changed fact, intent,
source text or synonym, or another release of Factbot or of the word vectors, is a new fingerprint and is
measured afresh.

The cache is only a shortcut: a file that cannot be read or written is measured instead, never an error.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
from importlib import metadata
from pathlib import Path

from bot.calibrate import Calibration, Thresholds
from bot.knowledge import FactBase

log = logging.getLogger(__name__)

KEPT = 16
"""Calibrations kept in the cache folder, the most recently written; older ones are removed."""

PREFIX = "calibration-"

LIBRARIES = ("wordllama", "tokenizers", "pyspellchecker", "numpy")
"""Libraries whose release can change what the measuring gives: the word vectors, their tokeniser, the English
words that tell a typo from a word, and the arithmetic."""

NUMBERS = ("answer", "clarify", "margin", "meaning")
"""The thresholds' numbers: each from -1 to 1, as is the reach."""

PACKAGE = Path(__file__).resolve().parent.parent
"""The `bot` package, whose code and data files measure the fact base."""


def fingerprint(base: FactBase) -> str:
    """A digest of everything measuring `base` depends on: its sources, their text, facts, intents and synonyms,
    and Factbot's own code, data and libraries."""
    digest = hashlib.sha256()
    for group in (base.sources, base.facts, base.intents):
        for key in sorted(group):
            digest.update(group[key].model_dump_json().encode())
    for key in sorted(base.documents):
        for passage in base.documents[key].passages:
            digest.update(f"{key}\0{passage.part.value}\0{passage.paragraph}\0{passage.text}\0".encode())
    digest.update(json.dumps(base.synonyms).encode())
    digest.update(_code())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _code() -> bytes:
    """A digest of Factbot's code and data files and the releases of `LIBRARIES`."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".py", ".tsv", ".txt") and "__pycache__" not in path.parts and "factbase" not in path.parts:
            digest.update(path.relative_to(PACKAGE).as_posix().encode())
            digest.update(path.read_bytes())
    for library in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(f"{library}=={metadata.version(library)}".encode())
    return digest.digest()


def read(folder: Path, key: str) -> Calibration | None:
    """The calibration kept under `key`, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads((folder / f"{PREFIX}{key}.json").read_text(encoding="utf-8"))
        measured = data["measured"]
        numbers = {name: float(measured[name]) for name in NUMBERS}
        reach = float(data["reach"])
        if not all(-1.0 <= n <= 1.0 for n in [reach, *numbers.values()]) or not isinstance(measured["agree"], bool):
            raise ValueError("out of range")
        return Calibration(reach, Thresholds(**numbers, agree=measured["agree"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        log.debug("calibration cache unreadable, measuring instead: %s", type(exc).__name__)
        return None


def write(folder: Path, key: str, calibration: Calibration) -> None:
    """Keep `calibration` under `key` (written whole or not at all), and remove all but the `KEPT` newest."""
    data = {"reach": calibration.reach, "measured": vars(calibration.measured)}
    path = folder / f"{PREFIX}{key}.json"
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(data), encoding="utf-8")
        partial.replace(path)
        others = [p for p in folder.glob(f"{PREFIX}*.json") if p != path]
        for old in sorted(others, key=lambda p: p.stat().st_mtime_ns, reverse=True)[KEPT - 1 :]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("calibration cache not written: %s", type(exc).__name__)
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
