"""FakeDiscord: a small fake of Discord's REST API and gateway on loopback, for the real discord.py.

It serves what a bot needs (login, command sync, interaction callbacks, webhook follow-ups,
channel messages) and a gateway websocket (HELLO, heartbeat ACK, IDENTIFY -> READY and a
GUILD_CREATE per guild, then dispatches the test injects). Every REST request is recorded, with
the id of the message it created. Discord's interaction rules are
enforced: a first callback later than 3 s gets 404 (10062), a second one 400 (40060), and a
follow-up before any callback 404 (10015). Payloads follow Discord's documented shapes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

API = "/api/v10"
JSON = "application/json"  # exactly: discord.py decodes a body only with this Content-Type
TIMESTAMP = "2024-01-01T00:00:00.000000+00:00"
EPHEMERAL = 64
MEMBER = 2248473465835073
"""A plain member's permissions in a channel (no Manage Channels)."""
MANAGE_CHANNELS = 1 << 4


@dataclass
class Request:
    """One REST request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int = 200
    message_id: str | None = None

    @property
    def data(self) -> dict[str, Any]:
        """The message payload of a request: a callback's `data`, or the body itself."""
        if isinstance(self.body, dict) and "type" in self.body and self.path.endswith("/callback"):
            return self.body.get("data") or {}
        return self.body if isinstance(self.body, dict) else {}


@dataclass
class _Pending:
    """An interaction the fake dispatched, with Discord's bookkeeping for its token."""

    id: str
    token: str
    created: float
    channel_id: str = ""
    responded: bool = False


@dataclass
class FakeDiscord:
    """Discord's REST API and gateway on 127.0.0.1, recording what a bot sends."""

    token: str = "fake-token"
    application_id: str = "9000"
    deadline: float = 3.0
    guilds: tuple[str, ...] = ("111",)
    requests: list[Request] = field(default_factory=list)
    identify: dict[str, Any] | None = None
    gone: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    """Channels that refuse messages, with the status and error Discord answers (`remove_channel`)."""

    def __post_init__(self) -> None:
        self.bot_user = user(self.application_id, "factbot", bot=True)
        self._ids = itertools.count(1_000_000)
        self._pending: dict[str, _Pending] = {}
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 on a free port."""
        app = web.Application()
        app.router.add_get("/gw", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        """Close every gateway connection and stop serving."""
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The value for `discord.http.Route.BASE`."""
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        """The value for `DiscordWebSocket.DEFAULT_GATEWAY`."""
        return f"ws://127.0.0.1:{self.port}/gw"

    def snowflake(self) -> str:
        """A fresh id."""
        return str(next(self._ids))

    # -- waiting and reading -------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[Request], bool], *, timeout: float = 5.0) -> Request:
        """The first recorded request matching `predicate`, waiting for it if need be."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.find(predicate)), timeout)
        found = self.find(predicate)
        assert found is not None
        return found

    async def wait_ready(self, *, timeout: float = 5.0) -> None:
        """Wait until a client has identified and been sent READY."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.identify is not None), timeout)

    def find(self, predicate: Callable[[Request], bool]) -> Request | None:
        """The first recorded request matching `predicate`, if any."""
        return next((r for r in self.requests if predicate(r)), None)

    def sent(self) -> list[Request]:
        """Every recorded request that carried a message (content or embeds)."""
        return [r for r in self.requests if "content" in r.data or "embeds" in r.data]

    async def reply_to(self, interaction: dict[str, Any], *, timeout: float = 5.0) -> Request:
        """The (first) callback or follow-up that answered `interaction` with a message."""

        def answers(r: Request) -> bool:
            mine = f"/{interaction['id']}/{interaction['token']}/callback" in r.path or r.path.endswith(
                f"/webhooks/{self.application_id}/{interaction['token']}"
            )
            return mine and r.status == 200 and ("content" in r.data or "embeds" in r.data)

        return await self.wait_for(answers, timeout=timeout)

    async def _record(self, request: Request) -> None:
        async with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    # -- gateway -----------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send one gateway dispatch to every connected client; interactions start their clock."""
        if event == "INTERACTION_CREATE":
            self._pending[data["id"]] = _Pending(data["id"], data["token"], time.monotonic(), data["channel_id"])
        self._seq += 1
        for socket in self._sockets:
            await socket.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))
        return data

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            if message["op"] == 1:
                await socket.send_str(json.dumps({"op": 11}))
            elif message["op"] == 2:
                await self._ready(socket, message["d"])
        self._sockets.remove(socket)
        return socket

    async def _ready(self, socket: web.WebSocketResponse, identify: dict[str, Any]) -> None:
        """READY with the bot's guilds unavailable, then a GUILD_CREATE for each, as Discord does."""
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": g, "unavailable": True} for g in self.guilds],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": self.application_id, "flags": 0},
        }
        for event, data in [("READY", ready), *(("GUILD_CREATE", guild(g)) for g in self.guilds)]:
            self._seq += 1
            await socket.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))
        async with self._changed:
            self.identify = identify
            self._changed.notify_all()

    # -- REST ------------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        tail = "/" + request.match_info["tail"]
        body = await request.json() if request.body_exists and request.content_type == JSON else None
        recorded = Request(request.method, tail, dict(request.query), body, dict(request.headers))
        status, payload = self._route(recorded)
        recorded.status = status
        recorded.message_id = _created(payload) if status == 200 else None
        await self._record(recorded)
        return web.Response(status=status, body=json.dumps(payload), headers={"Content-Type": JSON})

    def _route(self, r: Request) -> tuple[int, Any]:
        """Answer one request as Discord would."""
        if not self._authorised(r):
            return 401, {"message": "401: Unauthorized", "code": 0}
        for (method, pattern), handler in self._routes().items():
            if method == r.method and (match := re.fullmatch(pattern, r.path)):
                return handler(r, *match.groups())
        return 404, {"message": "404: Not Found", "code": 0}

    def _authorised(self, r: Request) -> bool:
        """Bot calls need `Bot <token>`; callbacks and webhooks are authorised by their URL."""
        if r.path.startswith(("/interactions/", "/webhooks/")):
            return True
        return r.headers.get("Authorization") == f"Bot {self.token}"

    def _routes(self) -> dict[tuple[str, str], Callable[..., tuple[int, Any]]]:
        return {
            ("GET", r"/users/@me"): lambda r: (200, self.bot_user),
            ("GET", r"/oauth2/applications/@me"): lambda r: (200, self._application()),
            ("PUT", r"/applications/(\d+)/commands"): lambda r, app: (200, self._synced(r, None)),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands"): self._guild_sync,
            ("POST", r"/interactions/(\d+)/([^/]+)/callback"): self._callback,
            ("POST", r"/webhooks/(\d+)/([^/]+)"): self._followup,
            ("POST", r"/channels/(\d+)/messages"): self._channel_message,
        }

    def remove_channel(self, channel_id: str, *, status: int = 404) -> None:
        """Make a channel refuse messages as Discord does: 404 Unknown Channel (deleted) or 403 Missing Access
        (the bot was removed)."""
        error = (
            {"message": "Unknown Channel", "code": 10003}
            if status == 404
            else {"message": "Missing Access", "code": 50001}
        )
        self.gone[channel_id] = (status, error)

    def _channel_message(self, r: Request, channel: str) -> tuple[int, Any]:
        if channel in self.gone:
            return self.gone[channel]
        return 200, self._message(r.body, channel)

    def _application(self) -> dict[str, Any]:
        return {
            "id": self.application_id,
            "name": "Factbot",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user("1", "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
        }

    def _guild_sync(self, r: Request, application_id: str, guild: str) -> tuple[int, Any]:
        if guild not in self.guilds:
            return 403, {"message": "Missing Access", "code": 50001}
        return 200, self._synced(r, guild)

    def _synced(self, r: Request, guild: str | None) -> list[dict[str, Any]]:
        extra = {"application_id": self.application_id, "version": self.snowflake()}
        if guild:
            extra["guild_id"] = guild
        return [{**command, "id": self.snowflake(), **extra} for command in r.body]

    def _callback(self, r: Request, interaction_id: str, token: str) -> tuple[int, Any]:
        pending = self._pending.get(interaction_id)
        if pending is not None and pending.token == token and pending.responded:
            return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        if pending is None or pending.token != token or time.monotonic() - pending.created > self.deadline:
            return 404, {"message": "Unknown interaction", "code": 10062}
        pending.responded = True
        data = r.body.get("data") or {}
        flags = data.get("flags", 0)
        message_id = self.snowflake()
        reply: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_id": message_id,
                "response_message_loading": r.body["type"] == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            }
        }
        if r.query.get("with_response") in ("1", "true") and r.body["type"] in (4, 7):
            message_data = self._message(data, pending.channel_id, message_id=message_id)
            reply["resource"] = {"type": r.body["type"], "message": message_data}
        return 200, reply

    def _followup(self, r: Request, application_id: str, token: str) -> tuple[int, Any]:
        pending = next((p for p in self._pending.values() if p.token == token and p.responded), None)
        if application_id != self.application_id or pending is None:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        return 200, self._message(r.body, pending.channel_id)

    def _message(self, body: dict[str, Any], channel_id: str, *, message_id: str | None = None) -> dict[str, Any]:
        """The message Discord would create from a send body, authored by the bot."""
        return message(
            message_id or self.snowflake(),
            channel_id=channel_id,
            author=self.bot_user,
            content=body.get("content") or "",
            embeds=body.get("embeds", []),
            components=body.get("components", []),
            flags=body.get("flags", 0),
        )

    # -- builders for injected events ----------------------------------------------------------

    def command(self, name: str, options: Mapping[str, str | bool] | None = None, **where: Any) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for a slash command with string (type 3) and boolean (type 5) options."""
        opts = [{"name": k, "type": 5 if isinstance(v, bool) else 3, "value": v} for k, v in (options or {}).items()]
        return self._interaction(2, {"id": self.snowflake(), "name": name, "type": 1, "options": opts}, **where)

    def autocomplete(self, name: str, option: str, value: str, **where: Any) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for autocomplete of one focused string option."""
        opts = [{"name": option, "type": 3, "value": value, "focused": True}]
        return self._interaction(4, {"id": self.snowflake(), "name": name, "type": 1, "options": opts}, **where)

    def press(self, custom_id: str, sent: Request, **where: Any) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for pressing a button on a message the bot sent (with that message's id)."""
        shown = message(
            sent.message_id or self.snowflake(),
            channel_id=where.get("channel_id", "300"),
            author=self.bot_user,
            content="",
            embeds=sent.data.get("embeds", []),
            components=sent.data.get("components", []),
            flags=sent.data.get("flags", 0),
        )
        data = {"custom_id": custom_id, "component_type": 2}
        return {**self._interaction(3, data, **where), "message": shown}

    def _interaction(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user_id: str = "2001",
        guild_id: str | None = "111",
        channel_id: str = "300",
        permissions: int = MEMBER,
    ) -> dict[str, Any]:
        who = user(user_id, f"user{user_id}")
        payload: dict[str, Any] = {
            "id": self.snowflake(),
            "application_id": self.application_id,
            "type": kind,
            "token": f"itoken-{self.snowflake()}",
            "version": 1,
            "attachment_size_limit": 26214400,
            "data": data,
            "channel_id": channel_id,
            "app_permissions": "2248473465835073",
            "locale": "en-GB",
            "entitlements": [],
            "context": 0 if guild_id else 1,
        }
        if guild_id is None:
            return {**payload, "user": who, "channel": {"id": channel_id, "type": 1}}
        if kind in (2, 4):
            data["guild_id"] = guild_id
        return {
            **payload,
            "guild_id": guild_id,
            "guild_locale": "en-GB",
            "authorizing_integration_owners": {"0": guild_id},
            "channel": {
                "id": channel_id,
                "type": 0,
                "guild_id": guild_id,
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            },
            "member": {
                "user": who,
                "roles": [],
                "joined_at": TIMESTAMP,
                "deaf": False,
                "mute": False,
                "permissions": str(permissions),
                "flags": 0,
            },
        }

    def chat(
        self,
        content: str,
        *,
        author: dict[str, Any] | None = None,
        guild_id: str | None = "111",
        channel_id: str = "300",
        mentions: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE payload: in a guild channel, or a DM when `guild_id` is None."""
        author = author or user("2001", "user2001")
        payload = message(
            self.snowflake(), channel_id=channel_id, author=author, content=content, mentions=mentions or [], **extra
        )
        if guild_id is None:
            return payload
        member = {"roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False, "flags": 0}
        return {**payload, "guild_id": guild_id, "member": member}


def _created(payload: Any) -> str | None:
    """The id of the message a REST answer describes (an interaction callback's resource, or a message)."""
    if isinstance(payload, dict) and isinstance(payload.get("resource"), dict):
        payload = payload["resource"].get("message")
    if isinstance(payload, dict) and "channel_id" in payload and "author" in payload:
        return str(payload["id"])
    return None


def guild(guild_id: str, *, channels: tuple[str, ...] = ("300", "301")) -> dict[str, Any]:
    """A GUILD_CREATE payload: a guild with text channels and only the @everyone role."""
    everyone = {
        "id": guild_id,
        "name": "@everyone",
        "permissions": "2248473465835073",
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    return {
        "id": guild_id,
        "name": f"guild{guild_id}",
        "unavailable": False,
        "member_count": 2,
        "large": False,
        "joined_at": TIMESTAMP,
        "owner_id": "1",
        "roles": [everyone],
        "emojis": [],
        "stickers": [],
        "features": [],
        "channels": [
            {
                "id": c,
                "type": 0,
                "guild_id": guild_id,
                "name": f"channel{c}",
                "position": n,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            }
            for n, c in enumerate(channels)
        ],
        "members": [],
        "threads": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    }


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    """A user object."""
    return {"id": user_id, "username": name, "discriminator": "0", "global_name": name, "avatar": None, "bot": bot}


def message(message_id: str, *, channel_id: str, author: dict[str, Any], content: str, **fields: Any) -> dict[str, Any]:
    """A message object with every field discord.py reads."""
    return {
        "id": message_id,
        "channel_id": channel_id,
        "author": author,
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
        "components": [],
        **fields,
    }
