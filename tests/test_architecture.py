"""DESIGN.md's dependency rules, checked by walking every bot module's imports with `ast`."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bot

BOT = Path(bot.__file__).resolve().parent
ROOT = BOT.parent
PLATFORMS = {"slack": {"slack_bolt", "slack_sdk"}, "discord": {"discord"}}
PLATFORM_LIBRARIES = set().union(*PLATFORMS.values())
UI_LIBRARIES = {"typer", "rich"}
DYNAMIC_IMPORTERS = {"import_module", "__import__"}


def module_name(path: Path) -> str:
    """`bot/adapters/console.py` -> `bot.adapters.console`; an `__init__.py` names its package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {
    module_name(path): path for path in sorted(BOT.rglob("*.py")) if "__pycache__" not in path.parts
}


def is_adapter(module: str) -> bool:
    """Whether `module` is one of the adapters (a module or package inside bot/adapters)."""
    return module.startswith("bot.adapters.")


def adapter_of(module: str) -> str:
    """The platform adapter a module belongs to: `bot.adapters.slack_app.y` and `bot.adapters.slack_blocks`
    -> `bot.adapters.slack` (an adapter may span modules named after its platform)."""
    return ".".join(module.split(".")[:3]).split("_")[0]


def is_cli(module: str) -> bool:
    """Whether `module` is the command line: the bot.cli package or one of its modules."""
    return within(module, "bot.cli")


def is_core(module: str) -> bool:
    """Every bot module but the command line and the adapters (the adapters package included)."""
    return not is_cli(module) and module != "bot.adapters" and not is_adapter(module)


def imports_of(source: str, module: str, is_package: bool = False, known: frozenset[str] | None = None) -> set[str]:
    """Every module `source` imports, anywhere in the file, as absolute dotted names.

    Relative imports are resolved against `module`; `from pkg import name` also yields `pkg.name`
    when that is a known bot module; `importlib.import_module("x")` and `__import__("x")` with a
    literal name count too.
    """
    known = frozenset(MODULES) if known is None else known
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in DYNAMIC_IMPORTERS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
    return {name for name in found if name}


def imports(module: str) -> set[str]:
    """The imports of one bot module."""
    path = MODULES[module]
    return imports_of(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")


def top(name: str) -> str:
    """The top-level package of a dotted name."""
    return name.split(".")[0]


def within(name: str, package: str) -> bool:
    """Whether `name` is `package` or inside it."""
    return name == package or name.startswith(package + ".")


ADAPTER_LINES = 250
"""About how long an adapter module may grow: past it, behaviour belongs in bot.chat, or in a module of its own."""

CLI_LINES = 300
"""About how long a command-line module may grow: a command is glue, and what it prints lives in bot.cli.output."""

CLI_OUTPUT = "bot.cli.output"
"""The one command-line module that prints."""

CLI_RENDERERS = {CLI_OUTPUT, "bot.cli.tables"}
"""The command-line modules that may build rich renderables (bot.cli.tables builds them, bot.cli.output prints)."""

CORE = [m for m in MODULES if is_core(m)]
STORE = [m for m in MODULES if within(m, "bot.store")]
BELOW_CHAT = [m for m in CORE if not within(m, "bot.chat")]
ADAPTERS = [m for m in MODULES if is_adapter(m)]
OUTSIDE_ADAPTERS = [m for m in MODULES if not is_adapter(m)]
CLI = [m for m in MODULES if is_cli(m)]


def test_the_walker_finds_the_modules_and_their_imports() -> None:
    assert {
        "bot",
        "bot.engine",
        "bot.models",
        "bot.cli",
        "bot.cli.ask",
        "bot.cli.output",
        "bot.adapters",
        "bot.adapters.console",
    } <= set(MODULES)
    assert {"bot.models", "bot.matcher", "bot.smalltalk"} <= imports("bot.engine")
    assert {"typer", "bot.cli.ask", "bot.cli.output"} <= imports("bot.cli")
    assert {"typer", "bot.adapters.console", "bot.engine"} <= imports("bot.cli.ask")
    assert "bot.engine" in CORE and "bot.adapters.console" not in CORE
    assert not any(is_cli(m) for m in CORE) and {"bot.cli", "bot.cli.ask"} <= set(CLI)


def test_the_walker_resolves_every_form_of_import() -> None:
    source = """
import typer.main
from . import sibling
from .. import cli
from ..models import Answer
from bot import adapters
from bot.adapters import console
import importlib
importlib.import_module("discord.ext")
__import__("slack_bolt")
def later():
    from rich.console import Console
"""
    known = frozenset({"bot.adapters.sibling", "bot.cli", "bot.models", "bot.adapters", "bot.adapters.console"})
    found = imports_of(source, "bot.adapters.x", known=known)
    assert found == {
        "typer.main",
        "bot.adapters",
        "bot.adapters.sibling",
        "bot",
        "bot.cli",
        "bot.models",
        "bot.adapters.console",
        "importlib",
        "discord.ext",
        "slack_bolt",
        "rich.console",
    }
    assert imports_of("from . import x", "bot.adapters", is_package=True, known=frozenset({"bot.adapters.x"})) == {
        "bot.adapters",
        "bot.adapters.x",
    }


@pytest.mark.parametrize("module", CORE)
def test_core_imports_no_ui_platform_adapter_or_cli(module: str) -> None:
    forbidden = sorted(
        name
        for name in imports(module)
        if top(name) in UI_LIBRARIES | PLATFORM_LIBRARIES or within(name, "bot.adapters") or within(name, "bot.cli")
    )
    assert forbidden == [], f"{module} is core and may not import {forbidden}"


@pytest.mark.parametrize("module", STORE)
def test_the_store_imports_only_models(module: str) -> None:
    """The store knows what it keeps, nothing above it: not the engine, the digest, the settings or the chat."""
    above = sorted(
        name
        for name in imports(module)
        if top(name) == "bot" and not within(name, "bot.store") and name != "bot.models"
    )
    assert above == [], f"{module} is the store and may import only bot.models, not {above}"


@pytest.mark.parametrize("module", BELOW_CHAT)
def test_nothing_below_the_chat_service_imports_it(module: str) -> None:
    """models <- store <- core <- chat <- adapters <- cli: the core answers questions without knowing about chat."""
    chat = sorted(name for name in imports(module) if within(name, "bot.chat"))
    assert chat == [], f"{module} is below the chat service and may not import {chat}"


@pytest.mark.parametrize("module", ADAPTERS)
def test_adapter_modules_stay_small(module: str) -> None:
    """An adapter translates; a module that grows past about 250 lines is doing the chat service's job."""
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= ADAPTER_LINES, f"{module} has {lines} lines (at most {ADAPTER_LINES})"


@pytest.mark.parametrize("module", ADAPTERS)
def test_adapters_do_not_import_each_other(module: str) -> None:
    others = sorted(name for name in imports(module) if is_adapter(name) and adapter_of(name) != adapter_of(module))
    assert others == [], f"{module} imports another adapter: {others}"
    assert not any(within(name, "bot.cli") for name in imports(module)), f"{module} imports the command line"


@pytest.mark.parametrize("module", CLI)
def test_command_line_modules_stay_small(module: str) -> None:
    """The command line is small command modules and one output module, none past about 300 lines."""
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= CLI_LINES, f"{module} has {lines} lines (at most {CLI_LINES})"


def printing_lines(source: str) -> list[int]:
    """Where `source` calls print() or a console's .print()."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "print")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "print")
        )
    )


@pytest.mark.parametrize("module", [m for m in CLI if m != CLI_OUTPUT])
def test_commands_print_only_through_the_output_module(module: str) -> None:
    """A command opens what it needs, calls one function and prints through bot.cli.output."""
    printing = printing_lines(MODULES[module].read_text(encoding="utf-8"))
    assert printing == [], f"{module} prints itself (lines {printing}); print through {CLI_OUTPUT}"
    if module not in CLI_RENDERERS:
        rich = sorted(name for name in imports(module) if top(name) == "rich")
        assert rich == [], f"{module} renders with {rich}; that belongs in {CLI_OUTPUT}"


def test_adapters_package_loads_no_adapter() -> None:
    """Importing one adapter runs bot/adapters/__init__.py, which must not pull in the others."""
    loaded = sorted(name for name in imports("bot.adapters") if is_adapter(name))
    assert loaded == []


@pytest.mark.parametrize("module", OUTSIDE_ADAPTERS)
def test_platform_libraries_are_imported_only_inside_adapters(module: str) -> None:
    platform = sorted(name for name in imports(module) if top(name) in PLATFORM_LIBRARIES)
    assert platform == [], f"{module} imports {platform}; only its adapter may"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_each_platform_library_lives_in_one_adapter(platform: str) -> None:
    users = {adapter_of(m) for m in ADAPTERS if any(top(name) in PLATFORMS[platform] for name in imports(m))}
    assert len(users) <= 1, f"{platform} libraries are imported by several adapters: {sorted(users)}"


def test_no_module_is_named_after_a_platform_library() -> None:
    clashes = sorted(
        str(path.relative_to(ROOT))
        for path in BOT.rglob("*")
        if "__pycache__" not in path.parts
        and (
            (path.is_file() and path.name in {"slack.py", "discord.py"})
            or (path.is_dir() and path.name in {"slack", "discord"})
        )
    )
    assert clashes == []


def modules_loaded_by(statement: str, tmp_path: Path) -> str:
    """Run `statement` in a fresh interpreter, away from the project and its settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACTBOT_", "SLACK_", "DISCORD_"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", statement],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_core_starts_without_the_cli_and_platform_libraries(tmp_path: Path) -> None:
    statement = (
        "import bot.engine, sys; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'typer','rich','slack_bolt','slack_sdk','discord'}))"
    )
    assert modules_loaded_by(statement, tmp_path) == "[]"


def test_the_command_line_starts_without_platform_libraries(tmp_path: Path) -> None:
    """`factbot ask` starts fast: importing the CLI loads no platform library."""
    statement = (
        "import bot.cli, sys; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'slack_bolt','slack_sdk','discord'}))"
    )
    assert modules_loaded_by(statement, tmp_path) == "[]"
