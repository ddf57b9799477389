"""A plain `pip install` ships the example fact base: pyproject.toml lists every package and maps the data in."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from bot import settings as settings_module
from bot.settings import PROJECT_ROOT, Settings

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def test_every_bot_package_is_shipped() -> None:
    found = {
        ".".join(path.parent.relative_to(PROJECT_ROOT).parts)
        for path in (PROJECT_ROOT / "bot").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and (path.suffix in {".py", ".tsv", ".txt"})
    }
    assert found <= set(SETUPTOOLS["packages"]), f"add to pyproject.toml: {sorted(found - set(SETUPTOOLS['packages']))}"


@pytest.mark.parametrize(("package", "folder"), sorted(SETUPTOOLS["package-dir"].items()))
def test_the_example_fact_base_is_mapped_into_the_package(package: str, folder: str) -> None:
    patterns = SETUPTOOLS["package-data"][package]
    files = [p for pattern in patterns for p in (PROJECT_ROOT / folder).glob(pattern) if p.is_file()]
    assert files, f"{package} ({folder}/) would ship no files"


def test_without_a_fact_base_nearby_the_shipped_one_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tmp_path / "site-packages" / "bot" / "factbase"
    for folder in ("knowledge", "intents", "seeds"):
        shutil.copytree(PROJECT_ROOT / folder, shipped / folder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(settings_module, "PROJECT_ROOT", tmp_path / "site-packages")
    monkeypatch.setattr(settings_module, "SHIPPED", shipped)
    assert Settings().data_dir == shipped
