"""Shared fixtures: the shipped fact base, a tiny one to break, engines on both, a CLI runner."""

from __future__ import annotations

import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
import pytest_asyncio
import yarl
from discord.gateway import DiscordWebSocket
from rich.console import Console
from typer.testing import CliRunner

from bot.adapters.console import ConsoleAdapter
from bot.engine import Engine
from bot.knowledge import FactBase, load_factbase
from bot.settings import PROJECT_ROOT
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack

TINY = Path(__file__).parent / "fixtures" / "tiny"
REQUESTS = PROJECT_ROOT / "bench" / "factbases" / "assistant-requests"
"""A fact base of everyday requests to an assistant, whose words the out-of-scope bank shares."""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray tokens or settings from the machine, no `.env` from the working directory, and no calibration
    kept from another test."""
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "DISCORD_TOKEN",
        "DISCORD_GUILD_IDS",
        "FACTBOT_DATA_DIR",
        "FACTBOT_DB_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FACTBOT_CACHE_DIR", str(tmp_path / "cache"))  # each test measures afresh, in its own folder
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def shipped() -> FactBase:
    """The fact base that ships with Factbot."""
    return load_factbase(PROJECT_ROOT)


@pytest.fixture(scope="session")
def engine(shipped: FactBase) -> Engine:
    """An engine on the shipped fact base."""
    return Engine(shipped)


@pytest.fixture(scope="session")
def requests_engine() -> Engine:
    """An engine on the everyday requests (`REQUESTS`)."""
    return Engine(load_factbase(REQUESTS))


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A fresh, valid copy of the tiny fact base, to break one thing at a time."""
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


@pytest.fixture
def tiny_engine(tiny: Path) -> Engine:
    """An engine on the tiny fact base."""
    return Engine(load_factbase(tiny))


@pytest.fixture
def runner() -> CliRunner:
    """Typer's CLI runner."""
    return CliRunner()


@pytest.fixture
def chat(shipped: FactBase) -> ConsoleAdapter:
    """The terminal adapter on a fresh engine, as a transcript harness: `await chat.push(line)` returns the reply."""
    return ConsoleAdapter(Engine(shipped), console=Console(width=100, color_system=None))


@pytest.fixture
def unused_port() -> int:
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


DISCORD_TOKEN = "MTIzNDU2Nzg5MDEy.fake.token-for-tests"


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """The fake Slack on loopback (Web API, response_url sink, Socket Mode)."""
    server = await FakeSlack().start()
    yield server
    await server.close()


@pytest_asyncio.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """The fake Discord on loopback, with discord.py's REST base and gateway pointed at it; after the test, no
    message it was sent could have pinged anyone."""
    server = FakeDiscord(token=DISCORD_TOKEN)
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_url)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    yield server
    await server.close()
    assert all(r.data.get("allowed_mentions") == {"parse": []} for r in server.sent()), "a message could ping someone"
