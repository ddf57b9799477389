"""The docs keep up with the code: every command has help and a mention in the documentation; a CHANGELOG;
the README stays a front page; mkdocs.yml's nav and docs/ agree. (`make docs` builds the site; these tests
need no mkdocs.)"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import typer.main
import yaml
from typer.testing import CliRunner

from bot.chat.commands import markdown_table
from bot.cli import app
from bot.settings import PROJECT_ROOT, Settings

README = PROJECT_ROOT / "README.md"
CHANGELOG = PROJECT_ROOT / "CHANGELOG.md"
MAKEFILE = PROJECT_ROOT / "Makefile"
DOCS = PROJECT_ROOT / "docs"
MKDOCS = PROJECT_ROOT / "mkdocs.yml"
COMMAND_TABLE_PAGE = DOCS / "asking.md"
GETTING_STARTED = DOCS / "getting-started.md"
README_LIMIT = 25_000
COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]


def read(path: Path) -> str:
    """The text of a documentation file, or a test failure naming it when it is missing."""
    if not path.is_file():
        pytest.fail(f"{path.relative_to(PROJECT_ROOT)} is missing")
    return path.read_text(encoding="utf-8")


def documentation() -> str:
    """The whole documentation: README.md and every page in docs/."""
    return "\n\n".join(read(path) for path in [README, *sorted(DOCS.rglob("*.md"))])


def between(text: str, start: str, end: str) -> str:
    """The lines after the line holding `start`, up to `end`, stripped."""
    first = text.index(start)
    return text[text.index("\n", first) + 1 : text.index(end, first)].strip()


def nav_pages(nav: list[object]) -> list[str]:
    """Every page file in an mkdocs nav, sections flattened."""
    pages: list[str] = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages.extend(nav_pages(value) if isinstance(value, list) else [str(value)])
    return pages


NAV = nav_pages(yaml.safe_load(MKDOCS.read_text(encoding="utf-8"))["nav"])


def test_the_cli_has_commands() -> None:
    assert {"ask", "chat", "run", "validate", "facts", "sources"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(runner: CliRunner, name: str) -> None:
    help_text = (COMMANDS[name].help or "").strip()
    assert help_text, f"`factbot {name}` has no help text (give its function a docstring)"
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert help_text.split()[0] in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_documentation_mentions_every_command(name: str) -> None:
    assert re.search(rf"\bfactbot {re.escape(name)}\b", documentation()), (
        f"neither README.md nor docs/*.md ever says `factbot {name}`"
    )


@pytest.mark.parametrize("target", ["chat", "test", "docs"])
def test_the_documentation_mentions_make_targets_that_exist(target: str) -> None:
    assert re.search(rf"\bmake {target}\b", documentation()), f"the documentation never says `make {target}`"
    assert re.search(rf"^{target}:", read(MAKEFILE), re.MULTILINE), f"the Makefile has no `{target}` target"


@pytest.mark.parametrize("target", ["chat", "test"])
def test_the_readme_gives_the_two_commands(target: str) -> None:
    assert re.search(rf"^make {target}\b", read(README), re.MULTILINE), f"README.md never says `make {target}`"


def test_changelog_exists() -> None:
    assert read(CHANGELOG).strip(), "CHANGELOG.md is empty"


def test_the_chat_command_table_is_the_command_tables() -> None:
    """The chat command table is generated from bot/chat/commands.py, like the manifest and the help."""
    shown = between(read(COMMAND_TABLE_PAGE), "<!-- commands:", "<!-- /commands -->")
    assert shown == markdown_table(Settings.model_construct()), (
        f"regenerate the table in {COMMAND_TABLE_PAGE.relative_to(PROJECT_ROOT)}: "
        "python -c 'from bot.chat.commands import markdown_table; "
        "from bot.settings import Settings; print(markdown_table(Settings.model_construct()))'"
    )


def test_the_readme_is_a_front_page() -> None:
    size = len(README.read_bytes())
    assert size < README_LIMIT, f"README.md is {size:,} bytes: move sections to docs/ (under {README_LIMIT:,})"


def test_every_page_in_the_nav_exists() -> None:
    missing = [page for page in NAV if not (DOCS / page).is_file()]
    assert missing == [], f"mkdocs.yml's nav names pages that are not in docs/: {missing}"
    assert len(NAV) == len(set(NAV)), "mkdocs.yml's nav names a page twice"


def test_every_page_is_in_the_nav() -> None:
    pages = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))
    left_out = [page for page in pages if page not in NAV]
    assert left_out == [], f"docs/ holds pages that mkdocs.yml's nav leaves out: {left_out}"


@pytest.mark.parametrize("page", [page for page in NAV if page not in {"index.md", "changelog.md"}])
def test_the_readme_links_every_page(page: str) -> None:
    assert f"](docs/{page})" in read(README), f"README.md does not link docs/{page}"


@pytest.mark.parametrize("page", [page for page in NAV if page != "index.md"])
def test_the_home_page_links_every_page(page: str) -> None:
    assert f"]({page})" in read(DOCS / "index.md"), f"docs/index.md does not link {page}"


def test_the_getting_started_page_is_the_readmes() -> None:
    """docs/getting-started.md is a copy of the README's two commands and example session."""
    shown = read(GETTING_STARTED).removeprefix("# Getting started\n").strip()
    assert shown == between(read(README), "<!-- getting-started:", "<!-- /getting-started -->"), (
        "copy the README's text between <!-- getting-started: … --> and <!-- /getting-started --> "
        "into docs/getting-started.md, under its title"
    )


SNIPPET = re.compile(r'^-{1,}8<-{1,}[ \t]+"(?P<path>[^":]+)(?::(?P<section>[a-z][-_0-9a-z]*))?"\s*$', re.MULTILINE)


@pytest.mark.parametrize("page", NAV)
def test_every_snippet_is_there(page: str) -> None:
    """What a page includes with pymdownx.snippets exists (`make docs` fails on it too, later)."""
    for found in SNIPPET.finditer(read(DOCS / page)):
        included = read(PROJECT_ROOT / found["path"])
        if found["section"]:
            for end in ("start", "end"):
                assert f"--8<-- [{end}:{found['section']}]" in included, (
                    f"{found['path']} has no `--8<-- [{end}:{found['section']}]` marker, which docs/{page} includes"
                )


def test_the_changelog_page_includes_the_changelog() -> None:
    assert '--8<-- "CHANGELOG.md"' in read(DOCS / "changelog.md"), "docs/changelog.md must include CHANGELOG.md"


LINK = re.compile(r"\]\((?P<target>[^)\s#]+\.(?:md|png))(?:#[^)]*)?\)")


@pytest.mark.parametrize("source", ["README.md", *sorted(f"docs/{page}" for page in NAV)])
def test_relative_links_reach_a_file(source: str) -> None:
    """A relative link to a page or an image reaches a file, as GitHub and mkdocs both read it."""
    path = PROJECT_ROOT / source
    broken = [
        found["target"]
        for found in LINK.finditer(read(path))
        if "://" not in found["target"] and not (path.parent / found["target"]).is_file()
    ]
    assert broken == [], f"{source} links to files that do not exist: {broken}"


LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.) ")


def misread_lines(text: str) -> list[str]:
    """Lines GitHub reads as part of a list but Python-Markdown (mkdocs) does not.

    Python-Markdown wants what a list item holds indented by 4 spaces (GitHub takes 2 or 3 after
    `- ` or `1. `), and a list to start after a blank line.
    """
    misread, fence, block_start = [], "", ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if fence:
            fence = "" if stripped.startswith("```") and indent == len(fence) - 3 else fence
            continue
        if stripped.startswith("```"):
            fence = " " * indent + "```"
        if not stripped:
            block_start = ""
            continue
        block_start = block_start or line
        if indent % 4 and (stripped.startswith("```") or LIST_ITEM.match(line) or block_start is line):
            misread.append(f"{number}: {line.strip()[:60]} (indent by a multiple of 4 spaces)")
        elif LIST_ITEM.match(line) and not LIST_ITEM.match(block_start):
            misread.append(f"{number}: {line.strip()[:60]} (a list starts after a blank line)")
    return misread


@pytest.mark.parametrize("page", NAV)
def test_lists_read_the_same_on_github_and_in_mkdocs(page: str) -> None:
    assert misread_lines(read(DOCS / page)) == []


def test_the_site_reads_code_in_table_cells_as_github_does() -> None:
    """docs/hooks.py unescapes `\\|` inside a table row's code spans, where Python-Markdown would show it."""
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec and spec.loader
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = "| `a [x\\|y]` | x\\|y |\n`a\\|b` outside a table"
    assert hooks.on_page_markdown(page) == "| `a [x|y]` | x\\|y |\n`a\\|b` outside a table"
