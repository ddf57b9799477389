"""mkdocs hooks: read the pages as GitHub does where Python-Markdown differs (mkdocs.yml's `hooks`)."""

from __future__ import annotations

import re
from typing import Any

CODE_SPAN = re.compile(r"`[^`\n]+`")


def on_page_markdown(markdown: str, **_: Any) -> str:
    """In a table row, GitHub wants `|` escaped even inside code (`a\\|b`); Python-Markdown already keeps a
    code span whole and would show the backslash, so it gets the code span unescaped."""
    return "\n".join(_unescape_code_pipes(line) if line.startswith("|") else line for line in markdown.split("\n"))


def _unescape_code_pipes(row: str) -> str:
    """`\\|` -> `|` inside the code spans of one table row."""
    return CODE_SPAN.sub(lambda span: span.group().replace("\\|", "|"), row)
