"""Stopping `factbot run` as service managers do: SIGTERM (or Ctrl-C's SIGINT) after answers were acknowledged.

The real console script serves Slack over HTTP against FakeSlack on loopback, with its default SQLite log;
every question acknowledged before the signal must be in the log, and the process must exit 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.store.sql import open_store
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, form_body, sign, slash_form

FACTBOT = Path(sys.executable).parent / "factbot"
ASKED = 200
QUESTION = "who won the ITU election?"
STOP_WITHIN = 10.0


@pytest.fixture
def fake(fake_slack: FakeSlack) -> FakeSlack:
    """The fake Slack (tests/conftest.py)."""
    return fake_slack


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def started(fake: FakeSlack, folder: Path) -> tuple[asyncio.subprocess.Process, str]:
    """`factbot run --http` in `folder` (its default SQLite log lands there), once it answers /healthz."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACTBOT_", "SLACK_", "DISCORD_"))}
    env |= {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.api_url}
    env["XDG_CACHE_HOME"] = str(folder / ".cache")
    process = await asyncio.create_subprocess_exec(
        str(FACTBOT),
        "run",
        "--http",
        "--port",
        str(port),
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    async with ClientSession() as http:
        for _ in range(300):
            if process.returncode is not None:
                pytest.fail(f"factbot run exited early: {(await process.stderr.read()).decode()}")  # type: ignore[union-attr]
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return process, url
            except OSError:
                pass
            await asyncio.sleep(0.1)
    process.kill()
    pytest.fail("factbot run never answered /healthz")


def asker(n: int) -> str:
    """The `n`th person asking."""
    return f"U{n:08d}"


async def ask_many(url: str, fake: FakeSlack, count: int) -> int:
    """Post `count` signed /ask at once; how many were acknowledged with an answer."""

    async def one(http: ClientSession, n: int) -> bool:
        form = slash_form("/ask", QUESTION, response_url=fake.hook_url(), user=asker(n))
        body = form_body(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        async with http.post(f"{url}/slack/events", data=body.encode(), headers=headers) as response:
            return response.status == 200 and "Bogdan-Martin" in await response.text()

    async with ClientSession() as http:
        return sum(await asyncio.gather(*(one(http, n) for n in range(count))))


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_stop_signal_right_after_the_acks_loses_no_question(
    fake: FakeSlack, tmp_path: Path, stop: signal.Signals
) -> None:
    process, url = await started(fake, tmp_path)
    assert await ask_many(url, fake, ASKED) == ASKED  # each one answered (in the channel once, then as repeats)
    process.send_signal(stop)
    try:
        code = await asyncio.wait_for(process.wait(), STOP_WITHIN)
    except TimeoutError:
        process.kill()
        pytest.fail(f"factbot run did not stop within {STOP_WITHIN:.0f} s of {stop.name}")
    errors = (await process.stderr.read()).decode()  # type: ignore[union-attr]
    assert code == 0, errors
    assert "Traceback" not in errors and "stopped cleanly: every question answered is in the log" in errors
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'factbot.db'}")
    try:
        logged = await store.questions()
    finally:
        await store.close()
    assert len(logged) == ASKED and {q.text for q in logged} == {QUESTION}
    assert len({q.user_hash for q in logged}) == ASKED  # one row for each person who asked


async def test_a_locked_database_cannot_hold_the_exit(fake: FakeSlack, tmp_path: Path) -> None:
    """With another process holding the SQLite write lock, a stop still ends within 10 s, saying what was lost."""
    process, url = await started(fake, tmp_path)
    holder = sqlite3.connect(tmp_path / "factbot.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        assert await ask_many(url, fake, 20) == 20  # answered all the same: the log is written behind
        process.send_signal(signal.SIGINT)
        try:
            code = await asyncio.wait_for(process.wait(), STOP_WITHIN)
        except TimeoutError:
            process.kill()
            pytest.fail(f"factbot run did not stop within {STOP_WITHIN:.0f} s with the database locked")
    finally:
        holder.close()
    errors = (await process.stderr.read()).decode()  # type: ignore[union-attr]
    assert code == 0, errors
    assert "Traceback" not in errors and "records" in errors and "database" in errors
