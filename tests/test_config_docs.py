"""The Configuration page's settings table and `.env.example` are bot/settings.py's `Settings`, as generated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import config_docs
from bot.config_docs import CONFIGURATION_PAGE, ENV_EXAMPLE, REGENERATE, TABLE_END, TABLE_START, variables
from bot.settings import PROJECT_ROOT, Settings

FIELDS = Settings.model_fields
VARIABLES = {variable.name: variable for variable in variables()}
WITH_DEFAULTS = sorted(name for name, variable in VARIABLES.items() if variable.value)
NOT_SETTINGS = {"FACTBOT_TEST_PG_URL"}  # the store tests' database, read by the tests alone


def committed(path: Path) -> str:
    """A generated file as committed, or a failure saying how to make it."""
    if not path.is_file():
        pytest.fail(f"{path.relative_to(PROJECT_ROOT)} is missing: run {REGENERATE}")
    return path.read_text(encoding="utf-8")


@pytest.fixture
def clean_settings_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting from the machine's environment, so that only what a test sets counts."""
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize("name", list(FIELDS))
def test_every_setting_says_what_it_does(name: str) -> None:
    field = FIELDS[name]
    assert isinstance(field.validation_alias, str), f"Settings.{name} has no environment variable (validation_alias)"
    assert field.description and field.description.endswith("."), f"Settings.{name} needs a description= sentence"


def test_the_configuration_table_is_generated() -> None:
    page = committed(CONFIGURATION_PAGE)
    assert TABLE_START in page and TABLE_END in page, f"docs/configuration.md lost its {TABLE_START} markers"
    assert page == config_docs.with_table(page, config_docs.markdown_table()), (
        f"docs/configuration.md's settings table is out of step with bot/settings.py: run {REGENERATE}"
    )


def test_the_table_has_a_row_per_setting() -> None:
    rows = config_docs.markdown_table().splitlines()[2:]
    assert [row.split("`")[1] for row in rows] == list(VARIABLES)
    assert all(row.count(" | ") == 3 for row in rows), "a cell holds an unescaped |"


def test_the_env_example_is_generated() -> None:
    assert committed(ENV_EXAMPLE) == config_docs.env_example(), (
        f".env.example is out of step with bot/settings.py: run {REGENERATE}"
    )


def test_the_env_example_sets_nothing() -> None:
    """Every line is a comment or blank: copied to `.env` as it is, it changes no setting."""
    live = [line for line in committed(ENV_EXAMPLE).splitlines() if line.strip() and not line.startswith("#")]
    assert live == []


def test_the_env_example_names_every_variable_once() -> None:
    named = re.findall(r"^# ([A-Z][A-Z0-9_]+)=", committed(ENV_EXAMPLE), re.MULTILINE)
    assert sorted(named) == sorted(VARIABLES)


@pytest.mark.parametrize("name", sorted(n for n, f in FIELDS.items() if "SecretStr" in str(f.annotation)))
def test_the_env_example_holds_no_secret(name: str) -> None:
    alias = FIELDS[name].validation_alias
    assert re.search(rf"^# {alias}=$", committed(ENV_EXAMPLE), re.MULTILINE), f"{alias} must be shown empty"


@pytest.mark.usefixtures("clean_settings_environment")
def test_the_env_example_as_a_dotenv_is_the_defaults() -> None:
    assert Settings(_env_file=ENV_EXAMPLE) == Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.usefixtures("clean_settings_environment")
@pytest.mark.parametrize("name", WITH_DEFAULTS)
def test_each_default_shown_is_the_default(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Uncommenting a line of `.env.example` leaves that setting as it was."""
    monkeypatch.setenv(name, VARIABLES[name].value)
    field = next(field for field, info in FIELDS.items() if info.validation_alias == name)
    assert getattr(Settings(_env_file=None), field) == FIELDS[field].default  # type: ignore[call-arg]


def test_every_variable_the_docs_name_is_a_setting() -> None:
    text = "\n".join(
        path.read_text(encoding="utf-8") for path in [PROJECT_ROOT / "README.md", *PROJECT_ROOT.glob("docs/*.md")]
    )
    named = set(re.findall(r"\b(?:FACTBOT|SLACK|DISCORD)_[A-Z0-9_]*[A-Z0-9]\b", text))
    assert sorted(named - set(VARIABLES) - NOT_SETTINGS) == []


def test_check_finds_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page, example = tmp_path / "configuration.md", tmp_path / ".env.example"
    page.write_text(f"# Configuration\n\n{TABLE_START} -->\n| old |\n{TABLE_END}\n", encoding="utf-8")
    monkeypatch.setattr(config_docs, "CONFIGURATION_PAGE", page)
    monkeypatch.setattr(config_docs, "ENV_EXAMPLE", example)
    assert config_docs.main(["--check"]) == 1
    assert config_docs.main([]) == 0
    assert config_docs.main(["--check"]) == 0
    assert "| old |" not in page.read_text(encoding="utf-8") and example.read_text(encoding="utf-8").startswith("#")
