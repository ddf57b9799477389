"""A fake Slack on 127.0.0.1 (Web API, `response_url` sink, Socket Mode websocket) and payload builders.

The real slack-bolt and slack_sdk talk to it; it records every request, answers as Slack documents,
rejects messages Slack would reject (Block Kit limits), and can be told to fail a method once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

T = TypeVar("T")

BOT_TOKEN = "xoxb-fake-0123456789-s3kr1t"
APP_TOKEN = "xapp-fake-0123456789-s3kr1t"
SIGNING_SECRET = "fake-signing-secret-s3kr1t"
BOT_USER = "UFACTBOT"
BOT_ID = "BFACTBOT"
TEAM = "T0FAKE"
WORKSPACE_URL = "https://fake.slack.com/"
HUMAN = "U0HUMAN"
ADMIN = "U0ADMIN"
CREATOR = "U0CREATOR"
GENERAL = "C0GENERAL"


def member(user_id: str, *, admin: bool = False, owner: bool = False) -> dict[str, Any]:
    """A users.info `user` object with the fields Factbot reads (and a few Slack always sends)."""
    return {
        "id": user_id,
        "team_id": TEAM,
        "name": user_id.lower(),
        "deleted": False,
        "is_bot": False,
        "is_admin": admin,
        "is_owner": owner,
        "is_primary_owner": owner,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "tz": "Europe/London",
    }


def conversation(channel_id: str, *, creator: str = CREATOR, private: bool = False) -> dict[str, Any]:
    """A conversations.info `channel` object: who created it, whether it is private or archived."""
    return {
        "id": channel_id,
        "name": channel_id.lower(),
        "is_channel": not private,
        "is_group": private,
        "is_im": False,
        "is_private": private,
        "is_archived": False,
        "created": 1700000000,
        "creator": creator,
        "is_member": True,
    }


@dataclass
class Call:
    """One Web API request as the fake received it."""

    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class FakeSlack:
    """Slack's Web API, a `response_url` sink and a Socket Mode websocket, on loopback port 0."""

    valid_tokens: set[str] = field(default_factory=lambda: {BOT_TOKEN, APP_TOKEN})
    calls: list[Call] = field(default_factory=list)
    hooks: list[dict[str, Any]] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {u["id"]: u for u in (member(HUMAN), member(CREATOR), member(ADMIN, admin=True))}
    )
    channels: dict[str, dict[str, Any]] = field(default_factory=lambda: {GENERAL: conversation(GENERAL)})
    _faults: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(default_factory=dict)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    url: str = ""

    async def start(self) -> FakeSlack:
        """Serve on 127.0.0.1 and a free port."""
        app = web.Application()
        app.add_routes(
            [
                web.post("/api/{method}", self._web_api),
                web.get("/api/{method}", self._web_api),  # slack_sdk reads some methods (chat.getPermalink) with GET
                web.post("/hooks/{name}", self._hook),
                web.get("/link", self._socket),
            ]
        )
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        """Close the websockets and stop serving."""
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The Web API base URL, for `SLACK_API_URL`."""
        return f"{self.url}/api/"

    def hook_url(self, name: str = "h1") -> str:
        """A `response_url` that lands in `hooks`."""
        return f"{self.url}/hooks/{name}"

    # -- switches -----------------------------------------------------------------------------

    def fail(self, method: str, error: str = "channel_not_found") -> None:
        """Make the next call of `method` answer `{ok: false, error}`."""
        self._faults.setdefault(method, []).append((200, {"ok": False, "error": error}, {}))

    def rate_limit(self, method: str, retry_after: int = 0) -> None:
        """Make the next call of `method` answer 429 with `Retry-After`."""
        reply = {"ok": False, "error": "ratelimited"}
        self._faults.setdefault(method, []).append((429, reply, {"Retry-After": str(retry_after)}))

    # -- what was sent ------------------------------------------------------------------------

    def called(self, method: str) -> list[Call]:
        """The recorded calls of one Web API method."""
        return [c for c in self.calls if c.method == method]

    def posts(self) -> list[dict[str, Any]]:
        """The arguments of every accepted chat.postMessage."""
        return [c.args for c in self.called("chat.postMessage") if c.args.get("_accepted")]

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 3.0) -> T:
        """Wait until `predicate()` is truthy (re-checked on every recorded request); return it."""
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def _record(self, item: Any, into: list[Any]) -> None:
        async with self._changed:
            into.append(item)
            self._changed.notify_all()

    # -- Socket Mode --------------------------------------------------------------------------

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame (an envelope, a disconnect) on the newest websocket."""
        await self.wait_for(lambda: self._sockets)
        await self._sockets[-1].send_str(json.dumps(frame))

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does before recycling a connection."""
        await self.send({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}})

    def acks(self, envelope_id: str) -> list[dict[str, Any]]:
        """The ack frames the client sent for one envelope."""
        return [f for f in self.frames if f.get("envelope_id") == envelope_id]

    # -- handlers -----------------------------------------------------------------------------

    async def _web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or None
        call = Call(method, args, token)
        status, reply, headers = self._reply(method, call, request)
        args["_accepted"] = status == 200 and reply.get("ok", False)
        await self._record(call, self.calls)
        return web.json_response(reply, status=status, headers=headers)

    def _reply(self, method: str, call: Call, request: web.Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        if call.token not in self.valid_tokens:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if self._faults.get(method):
            return self._faults[method].pop(0)
        if method == "auth.test":
            return (
                200,
                {
                    "ok": True,
                    "url": WORKSPACE_URL,
                    "team": "Fake",
                    "user": "factbot",
                    "team_id": TEAM,
                    "user_id": BOT_USER,
                    "bot_id": BOT_ID,
                },
                {},
            )
        if method == "apps.connections.open":
            if not (call.token or "").startswith("xapp-"):
                return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
            return 200, {"ok": True, "url": f"ws://{request.host}/link?ticket={len(self.calls)}"}, {}
        if method == "chat.postMessage":
            return self._post_message(call.args)
        if method == "chat.getPermalink":
            return self._permalink(call.args)
        if method == "users.info":
            found = self.users.get(str(call.args.get("user", "")))
            return 200, ({"ok": True, "user": found} if found else {"ok": False, "error": "user_not_found"}), {}
        if method == "conversations.info":
            channel = self.channels.get(str(call.args.get("channel", "")))
            return (
                200,
                ({"ok": True, "channel": channel} if channel else {"ok": False, "error": "channel_not_found"}),
                {},
            )
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": self._next_ts()}, {}
        return 200, {"ok": True}, {}

    def _post_message(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not args.get("channel"):
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if not args.get("text") and not args.get("blocks"):
            return 200, {"ok": False, "error": "no_text"}, {}
        if problems := block_problems(args.get("blocks") or []):
            return 200, {"ok": False, "error": "invalid_blocks", "errors": problems}, {}
        ts = self._next_ts()
        message = {"type": "message", "text": args.get("text"), "user": BOT_USER, "bot_id": BOT_ID, "ts": ts}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        self.messages[(args["channel"], ts)] = message
        return 200, {"ok": True, "channel": args["channel"], "ts": ts, "message": message}, {}

    def _permalink(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """A message's permalink, as Slack shapes it (a thread reply's names its thread); only for sent messages."""
        channel, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
        message = self.messages.get((channel, ts))
        if message is None:
            return 200, {"ok": False, "error": "message_not_found"}, {}
        return 200, {"ok": True, "channel": channel, "permalink": permalink(channel, ts, message.get("thread_ts"))}, {}

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        body["_path"] = request.path
        body["_authorization"] = request.headers.get("Authorization")
        await self._record(body, self.hooks)
        if problems := block_problems(body.get("blocks") or []):
            return web.Response(status=400, text="invalid_blocks: " + "; ".join(problems))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        await ws.send_str(json.dumps(hello(self.connections)))
        async with self._changed:
            self._sockets.append(ws)
            self._changed.notify_all()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._record(json.loads(message.data), self.frames)
        finally:
            self._sockets.remove(ws)
        return ws


async def _arguments(request: web.Request) -> dict[str, Any]:
    """A Web API request's arguments: query (GET), JSON or form; Block Kit strings in forms are decoded."""
    if request.method == "GET":
        return dict(request.query)
    if request.content_type == "application/json":
        return dict(await request.json())
    args: dict[str, Any] = dict(await request.post())
    for key in ("blocks", "attachments"):
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args


# -- Block Kit limits, as Slack enforces them --------------------------------------------------

LIMITS = {
    "blocks": 50,
    "section": 3000,
    "context_elements": 10,
    "context_text": 2000,
    "header": 150,
    "button_text": 75,
    "button_value": 2000,
    "action_id": 255,
    "actions_elements": 25,
}


def block_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """Why Slack would reject these blocks (empty when it would accept them)."""
    problems = [f"{len(blocks)} blocks > {LIMITS['blocks']}"] if len(blocks) > LIMITS["blocks"] else []
    for number, block in enumerate(blocks):
        problems += [f"block {number}: {p}" for p in _block_problems(block)]
    return problems


def _block_problems(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "section":
        text = block.get("text", {}).get("text", "")
        problems = [f"section text {len(text)}"] if not 0 < len(text) <= LIMITS["section"] else []
        if "accessory" in block:
            problems += _button_problems(block["accessory"])
        return problems
    if kind == "context":
        elements = block.get("elements", [])
        problems = [f"{len(elements)} context elements"] if not 0 < len(elements) <= 10 else []
        return problems + [
            f"context text {len(e['text'])}"
            for e in elements
            if not 0 < len(e.get("text", "")) <= LIMITS["context_text"]
        ]
    if kind == "actions":
        elements = block.get("elements", [])
        ids = [e.get("action_id") for e in elements]
        problems = ["duplicate action_id"] if len(set(ids)) != len(ids) else []
        problems += [f"{len(elements)} actions"] if not 0 < len(elements) <= LIMITS["actions_elements"] else []
        return problems + [p for e in elements for p in _button_problems(e)]
    if kind == "header":
        text = block.get("text", {}).get("text", "")
        return [f"header text {len(text)}"] if not 0 < len(text) <= LIMITS["header"] else []
    if kind == "divider":
        return []
    return [f"unknown block type {kind!r}"]


def _button_problems(button: dict[str, Any]) -> list[str]:
    text = button.get("text", {}).get("text", "")
    problems = [] if 0 < len(text) <= LIMITS["button_text"] else [f"button text {len(text)}"]
    problems += [] if len(button.get("value", "")) <= LIMITS["button_value"] else ["button value too long"]
    problems += [] if len(button.get("action_id", "")) <= LIMITS["action_id"] else ["action_id too long"]
    return problems


# -- what Slack sends ------------------------------------------------------------------------


def permalink(channel: str, ts: str, thread_ts: str | None = None) -> str:
    """A message's permalink: `…/archives/<channel>/p<ts without the dot>`, with `thread_ts` for a thread reply."""
    link = f"{WORKSPACE_URL}archives/{channel}/p{ts.replace('.', '')}"
    return link + (f"?thread_ts={thread_ts}&cid={channel}" if thread_ts else "")


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds to a request: timestamp and v0 HMAC-SHA256 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


_TRIGGERS = itertools.count(1)


def trigger_id() -> str:
    """A new trigger id: Slack gives every command and click its own, so no two requests are alike."""
    return f"{next(_TRIGGERS)}.1700000000.fake"


def slash_form(
    command: str, text: str, *, response_url: str, user: str = HUMAN, channel: str = "C0GENERAL"
) -> dict[str, str]:
    """A slash command's form fields, all of them, as Slack posts them."""
    return {
        "token": "verification-token",
        "team_id": TEAM,
        "team_domain": "fake",
        "enterprise_id": "",
        "enterprise_name": "",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": "human",
        "command": command,
        "text": text,
        "api_app_id": "A0FAKE",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id(),
    }


def form_body(fields: dict[str, str]) -> str:
    """A form-encoded body."""
    return urlencode(fields)


def event_callback(event: dict[str, Any], *, event_id: str = "Ev001") -> dict[str, Any]:
    """An Events API `event_callback` envelope around one event."""
    return {
        "token": "verification-token",
        "team_id": TEAM,
        "api_app_id": "A0FAKE",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-fake",
        "event": event,
    }


def app_mention(
    text: str,
    *,
    ts: str = "1700000000.000100",
    user: str = HUMAN,
    channel: str = "C0GENERAL",
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """An `app_mention` event ("<@UFACTBOT> question")."""
    event = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM,
        "client_msg_id": f"msg-{ts}",
    }
    return event | ({"thread_ts": thread_ts} if thread_ts else {})


def im_message(
    text: str, *, ts: str = "1700000000.000200", user: str | None = HUMAN, channel: str = "D0HUMAN", **extra: Any
) -> dict[str, Any]:
    """A `message.im` event: a direct message to the bot."""
    event = {
        "type": "message",
        "channel_type": "im",
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM,
    }
    return event | ({"user": user} if user else {}) | extra


def block_actions(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user: str = HUMAN,
    channel: str = "C0GENERAL",
    message_ts: str = "1700000000.000300",
) -> dict[str, Any]:
    """A `block_actions` payload: someone clicked a button on one of the bot's messages."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "fake"},
        "user": {"id": user, "username": "human", "name": "human", "team_id": TEAM},
        "api_app_id": "A0FAKE",
        "token": "verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": trigger_id(),
        "channel": {"id": channel, "name": "general"},
        "message": {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": message_ts, "text": "..."},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "type": "button",
                "text": {"type": "plain_text", "text": "x"},
                "action_ts": str(time.time()),
            }
        ],
    }


def hello(connection: int) -> dict[str, Any]:
    """Socket Mode's first frame on a new connection."""
    return {
        "type": "hello",
        "num_connections": connection,
        "debug_info": {"host": "fake", "build_number": 1, "approximate_connection_time": 3600},
        "connection_info": {"app_id": "A0FAKE"},
    }


def envelope(kind: str, payload: dict[str, Any], *, envelope_id: str, retry_attempt: int = 0) -> dict[str, Any]:
    """A Socket Mode envelope: `slash_commands`, `events_api` or `interactive`."""
    frame = {
        "envelope_id": envelope_id,
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind != "events_api",
    }
    if kind == "events_api":
        frame |= {"retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else ""}
    return frame


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value (to look for live mentions anywhere in a message)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
