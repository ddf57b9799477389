"""The Configuration page's settings table and `.env.example`, generated from `Settings`.

`python -m bot.config_docs` rewrites both in a checkout; `--check` only says whether they are in step.
tests/test_config_docs.py fails when either differs from what this module produces.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import types
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from bot.settings import PROJECT_ROOT, Settings

CONFIGURATION_PAGE = PROJECT_ROOT / "docs" / "configuration.md"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
REGENERATE = "python -m bot.config_docs"
TABLE_START = "<!-- settings:"
TABLE_END = "<!-- /settings -->"
WIDTH = 100

KINDS: dict[Any, str] = {
    bool: "true or false",
    int: "integer",
    float: "number",
    str: "text",
    Path: "path",
    time: "time, HH:MM",
    SecretStr: "secret",
}

ENV_HEADER = f"""\
# Every setting Factbot reads, with its default. Copy this file to .env in the folder you run
# Factbot from (or set the variables in the environment) and uncomment the lines you change.
# Never commit a .env that holds a token.
# Generated from bot/settings.py by `{REGENERATE}`: do not edit it by hand.
"""


@dataclass(frozen=True)
class Variable:
    """One setting as the documentation shows it."""

    name: str
    kind: str
    value: str
    """The default as it would be written in `.env`; empty when unset or worked out at start."""
    default: str
    """The default as the table shows it."""
    description: str


def variables() -> list[Variable]:
    """Every setting, in the order `Settings` declares them."""
    return [_variable(name, field) for name, field in Settings.model_fields.items()]


def _variable(name: str, field: FieldInfo) -> Variable:
    """One field as a documented environment variable."""
    if not isinstance(field.validation_alias, str) or not field.description:
        raise ValueError(f"Settings.{name} needs a validation_alias and a description")
    value, default = _default(field)
    return Variable(field.validation_alias, _kind(field), value, default, field.description)


def _kind(field: FieldInfo) -> str:
    """The field's type in words, with its bounds or pattern."""
    kind = KINDS[_without_none(field.annotation)]
    bounds = {
        key: getattr(item, key) for item in field.metadata for key in ("ge", "le", "pattern") if hasattr(item, key)
    }
    if "ge" in bounds and "le" in bounds:
        return f"{kind}, {bounds['ge']} to {bounds['le']}"
    if "ge" in bounds:
        return f"{kind}, at least {bounds['ge']}"
    if "pattern" in bounds:
        return f"{kind} matching `{bounds['pattern']}`"
    return kind


def _without_none(annotation: Any) -> Any:
    """`X | None` -> `X`."""
    if get_origin(annotation) in (Union, types.UnionType):
        (annotation,) = [arg for arg in get_args(annotation) if arg is not type(None)]
    return annotation


def _default(field: FieldInfo) -> tuple[str, str]:
    """The default as written in `.env`, and as shown in the table."""
    if field.default_factory is not None:
        words = (field.default_factory.__doc__ or "worked out at start").strip().rstrip(".")
        return "", words[0].lower() + words[1:]
    value = field.default
    if value is None:
        return "", "unset"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, time):
        text = value.strftime("%H:%M")
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    return text, f"`{text}`" if text else "empty"


def markdown_table() -> str:
    """The Configuration page's table: variable, type, default and what it does."""
    rows = ["| variable | type | default | what it does |", "|---|---|---|---|"]
    for variable in variables():
        cells = [f"`{variable.name}`", variable.kind, variable.default, variable.description]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def env_example() -> str:
    """`.env.example`: every variable commented out with its default, each under what it does."""
    blocks = [ENV_HEADER]
    for variable in variables():
        kind = variable.kind if variable.value else f"{variable.kind}; default: {variable.default}"
        lines = textwrap.wrap(variable.description, WIDTH - 2, break_on_hyphens=False, break_long_words=False)
        lines += textwrap.wrap(f"({kind})", WIDTH - 2, break_on_hyphens=False, break_long_words=False)
        blocks.append("".join(f"# {line}\n" for line in lines) + f"# {variable.name}={variable.value}\n")
    return "\n".join(blocks)


def with_table(page: str, table: str) -> str:
    """`page` with the text between its settings markers replaced by `table`."""
    start = page.index(TABLE_START)
    body = page.index("\n", start) + 1
    end = page.index(TABLE_END, body)
    return f"{page[:body]}{table}\n{page[end:]}"


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the Configuration page's table and `.env.example` (or, with --check, only compare them)."""
    parser = argparse.ArgumentParser(prog=REGENERATE, description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of step")
    check = parser.parse_args(argv).check
    wanted = {
        CONFIGURATION_PAGE: with_table(CONFIGURATION_PAGE.read_text(encoding="utf-8"), markdown_table()),
        ENV_EXAMPLE: env_example(),
    }
    stale = [path for path, text in wanted.items() if not path.is_file() or path.read_text(encoding="utf-8") != text]
    for path in stale:
        if check:
            print(f"{os.path.relpath(path, PROJECT_ROOT)} is out of step with bot/settings.py: run {REGENERATE}")
        else:
            path.write_text(wanted[path], encoding="utf-8")
            print(f"wrote {os.path.relpath(path, PROJECT_ROOT)}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
