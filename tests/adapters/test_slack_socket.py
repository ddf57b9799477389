"""Slack over Socket Mode, `run_http` end to end, and start-up checks, against FakeSlack on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientSession

from bot.adapters.slack_run import run_http, run_socket_mode
from bot.adapters.slack_web import SlackConfigError
from bot.engine import Engine
from bot.settings import ConfigError, Settings
from tests.adapters.conftest import WatchedStore
from tests.fakes.slack import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER,
    HUMAN,
    SIGNING_SECRET,
    FakeSlack,
    app_mention,
    block_actions,
    envelope,
    event_callback,
    form_body,
    sign,
    slash_form,
    strings,
)


def settings_for(fake: FakeSlack, **values: str) -> Settings:
    """Settings pointing at the fake; keyword arguments override the environment-variable values."""
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
    } | values
    return Settings(**{k: v for k, v in env.items() if v})


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel a running adapter and wait until it has closed."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest_asyncio.fixture
async def socket_mode(engine: Engine, fake: FakeSlack) -> AsyncIterator[FakeSlack]:
    """Factbot connected to the fake in Socket Mode."""
    task = asyncio.create_task(run_socket_mode(engine, settings_for(fake)))
    await fake.wait_for(lambda: fake.connections == 1 or task.done())
    assert not task.done(), task.exception()
    yield fake
    await stop(task)


def slash_envelope(fake: FakeSlack, text: str, envelope_id: str) -> dict[str, Any]:
    return envelope("slash_commands", slash_form("/ask", text, response_url=fake.hook_url()), envelope_id=envelope_id)


async def test_connects_through_apps_connections_open_with_the_app_token(socket_mode: FakeSlack) -> None:
    opens = socket_mode.called("apps.connections.open")
    assert opens and all(call.token == APP_TOKEN for call in opens)
    assert socket_mode.called("auth.test")[0].token == BOT_TOKEN


async def test_a_slash_command_is_answered_in_the_ack_frame(socket_mode: FakeSlack) -> None:
    await socket_mode.send(slash_envelope(socket_mode, "votes?", "env-1"))
    [ack] = await socket_mode.wait_for(lambda: socket_mode.acks("env-1"))
    payload = ack["payload"]
    assert payload["response_type"] == "in_channel"
    assert any("<@U0HUMAN> asked: “votes?”" in text for text in strings(payload["blocks"]))


async def test_a_channel_answer_is_the_ack_itself_and_remembered(
    socket_mode: FakeSlack, engine: Engine, store: WatchedStore
) -> None:
    question = engine.base.intents["election-winner"].question
    quote = engine.respond(question).citations[0].quote
    await socket_mode.send(slash_envelope(socket_mode, question, "env-1b"))
    [ack] = await socket_mode.wait_for(lambda: socket_mode.acks("env-1b"))
    assert ack["payload"]["response_type"] == "in_channel"
    assert any(">" + quote in text for text in strings(ack["payload"]["blocks"]))
    [kept] = await store.wait_for(lambda: store.posts)
    assert (kept.channel, kept.fact_ids, kept.link) == ("C0GENERAL", ["election-winner"], "")
    assert socket_mode.posts() == []


async def test_an_event_is_acked_and_answered_with_a_post(socket_mode: FakeSlack) -> None:
    event = app_mention(f"<@{BOT_USER}> who won the election?", ts="1700000000.000444")
    await socket_mode.send(envelope("events_api", event_callback(event, event_id="EvS1"), envelope_id="env-2"))
    [ack] = await socket_mode.wait_for(lambda: socket_mode.acks("env-2"))
    assert "payload" not in ack or not ack["payload"]
    [post] = await socket_mode.wait_for(lambda: socket_mode.posts())
    assert post["thread_ts"] == "1700000000.000444"


async def test_a_redelivered_envelope_is_acked_and_answered_once(socket_mode: FakeSlack) -> None:
    event = app_mention(f"<@{BOT_USER}> who won?", ts="1700000000.000555")
    await socket_mode.send(envelope("events_api", event_callback(event, event_id="EvS2"), envelope_id="env-3"))
    await socket_mode.send(
        envelope("events_api", event_callback(event, event_id="EvS2"), envelope_id="env-4", retry_attempt=1)
    )
    await socket_mode.wait_for(lambda: socket_mode.acks("env-3") and socket_mode.acks("env-4"))
    sentinel = app_mention(f"<@{BOT_USER}> who won?", ts="1700000000.000556", channel="C0SENTINEL")
    await socket_mode.send(envelope("events_api", event_callback(sentinel, event_id="EvS3"), envelope_id="env-5"))
    await socket_mode.wait_for(lambda: any(p["channel"] == "C0SENTINEL" for p in socket_mode.posts()))
    assert [p["channel"] for p in socket_mode.posts()] == ["C0GENERAL", "C0SENTINEL"]


async def test_a_button_click_over_the_socket_is_answered(socket_mode: FakeSlack) -> None:
    payload = block_actions("factbot_suggest_0", "election-date", response_url=socket_mode.hook_url())
    await socket_mode.send(envelope("interactive", payload, envelope_id="env-6"))
    await socket_mode.wait_for(lambda: socket_mode.acks("env-6"))
    [reply] = await socket_mode.wait_for(lambda: socket_mode.hooks)
    assert reply["replace_original"] is True and f"<@{HUMAN}>" in json.dumps(reply)


async def test_hostile_text_over_the_socket_pings_nobody(socket_mode: FakeSlack) -> None:
    await socket_mode.send(slash_envelope(socket_mode, "<!channel> &amp; <!here> <@U1> <https://evil|x>", "env-7"))
    [ack] = await socket_mode.wait_for(lambda: socket_mode.acks("env-7"))
    texts = [t.replace(f"<@{HUMAN}>", "") for t in strings(ack["payload"])]
    assert not [t for t in texts if "<!" in t or "<@" in t]


async def test_a_disconnect_frame_reconnects_through_a_new_url(socket_mode: FakeSlack) -> None:
    opened = len(socket_mode.called("apps.connections.open"))
    await socket_mode.disconnect()
    await socket_mode.wait_for(lambda: socket_mode.connections == 2)
    assert len(socket_mode.called("apps.connections.open")) == opened + 1
    await socket_mode.send(slash_envelope(socket_mode, "who won?", "env-8"))
    assert await socket_mode.wait_for(lambda: socket_mode.acks("env-8"))


# -- HTTP mode as `factbot run --http` starts it -------------------------------------------------


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_http_serves_health_and_commands_until_cancelled(engine: Engine, fake: FakeSlack) -> None:
    port = free_port()
    task = asyncio.create_task(run_http(engine, settings_for(fake, SLACK_APP_TOKEN=""), port=port, host="127.0.0.1"))
    base = f"http://127.0.0.1:{port}"
    async with ClientSession() as http:
        for _ in range(200):  # until it listens (a few event-loop turns)
            try:
                async with http.get(f"{base}/healthz") as response:
                    assert (response.status, await response.text()) == (200, "ok")
                    break
            except OSError:
                assert not task.done(), task.exception()
                await asyncio.sleep(0.01)
        body = form_body(slash_form("/ask", "votes?", response_url=fake.hook_url()))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        async with http.post(f"{base}/slack/events", data=body, headers=headers) as response:
            assert response.status == 200
            assert (await response.json())["response_type"] == "in_channel"
    await stop(task)


# -- start-up checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN does not look right: it should start with xoxb-"),
        ({"SLACK_APP_TOKEN": ""}, "SLACK_APP_TOKEN is not set"),
        ({"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN does not look right"),
        ({"SLACK_BOT_TOKEN": "xoxb-revoked-s3kr1t"}, "SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)"),
        ({"SLACK_APP_TOKEN": "xapp-revoked-s3kr1t"}, "SLACK_APP_TOKEN was rejected by Slack (invalid_auth)"),
    ],
)
async def test_socket_mode_with_a_bad_token_stops_with_one_line(
    engine: Engine, fake: FakeSlack, values: dict[str, str], expected: str
) -> None:
    with pytest.raises(SlackConfigError) as error:
        await run_socket_mode(engine, settings_for(fake, **values))
    message = str(error.value)
    assert message.startswith(expected)
    assert "\n" not in message and "s3kr1t" not in message and "xoxb-not" not in message
    assert fake.connections == 0


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-revoked-s3kr1t"}, "SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)"),
        ({"SLACK_API_URL": "http://127.0.0.1:9/api/"}, "cannot reach Slack at http://127.0.0.1:9/api/"),
    ],
)
async def test_http_mode_with_bad_settings_stops_with_one_line(
    engine: Engine, fake: FakeSlack, values: dict[str, str], expected: str
) -> None:
    with pytest.raises(SlackConfigError) as error:
        await run_http(engine, settings_for(fake, **values), port=free_port(), host="127.0.0.1")
    assert str(error.value).startswith(expected)
    assert "s3kr1t" not in str(error.value)


async def test_http_mode_on_a_busy_port_stops_with_one_line(engine: Engine, fake: FakeSlack) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(SlackConfigError, match="cannot listen on 127.0.0.1"):
            await run_http(engine, settings_for(fake), port=busy.getsockname()[1], host="127.0.0.1")


async def test_start_up_logs_no_secret(engine: Engine, fake: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(run_socket_mode(engine, settings_for(fake)))
    await fake.wait_for(lambda: fake.connections == 1)
    await fake.send(
        envelope("slash_commands", slash_form("/ask", "who won?", response_url=fake.hook_url()), envelope_id="env-9")
    )
    await fake.wait_for(lambda: fake.acks("env-9"))
    await stop(task)
    assert "connected in Socket Mode" in caplog.text
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, "s3kr1t"):
        assert secret not in caplog.text


def test_slack_start_up_errors_are_the_cli_s_config_errors() -> None:
    assert issubclass(SlackConfigError, ConfigError)
