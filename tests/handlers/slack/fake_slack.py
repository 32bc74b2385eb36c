"""A small Slack Web API on 127.0.0.1 that records every call and can be told to fail."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

BOT_USER = "UBOT"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    ok: bool = True
    token: str = ""
    peer: Any = None


@dataclass
class FakeSlack:
    team: str = "T1"
    # Enterprise Grid: the token's enterprise, and whether the app is installed org-wide.
    enterprise: str | None = None
    org_wide: bool = False
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[web.Response]] = field(default_factory=dict)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    uploads: dict[str, bytes] = field(default_factory=dict)
    channels: dict[str, list[str]] = field(default_factory=dict)

    def add_user(self, user: str, name: str, tz: str, **extra: Any) -> None:
        status = extra.pop("status", {})
        self.users[user] = {
            "id": user,
            "name": name.lower(),
            "tz": tz,
            "deleted": False,
            "is_bot": False,
            "profile": {"display_name": name, "real_name": name, **status},
            **extra,
        }

    def fail(
        self, method: str, status: int, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
        for _ in range(times):
            self.failures.setdefault(method, []).append(
                web.json_response(body, status=status, headers=headers)
            )

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_get("/link", self._socket)
        app.router.add_post("/upload/{file}", self._upload)
        app.router.add_post("/respond", self._respond)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return str(self.server.make_url("/api/"))

    @property
    def respond_url(self) -> str:
        """Where slash commands built by the tests say to send their private replies."""
        assert self.server is not None
        return str(self.server.make_url("/respond"))

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    def posts(self) -> list[dict[str, Any]]:
        """Messages that Slack accepted, in the order it accepted them."""
        return [c.args for c in self.calls if c.method == "chat.postMessage" and c.ok]

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if raw:
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(parse_qsl(raw))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        peer = request.transport.get_extra_info("peername") if request.transport else None
        call = Call(method, args, token=token, peer=peer)
        self.calls.append(call)
        queued = self.failures.get(method)
        if queued:
            call.ok = False
            return queued.pop(0)
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        if answer is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response(answer(args))

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode's WebSocket: says hello, then collects the app's acknowledgements."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1})
        self.connected.set()
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await self.acks.put(json.loads(message.data))
        return socket

    async def send_envelope(self, kind: str, payload: dict[str, Any], envelope_id: str) -> None:
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "accepts_response_payload": kind != "events_api",
                "payload": payload,
            }
        )

    async def drop(self) -> None:
        """Close the live socket as Slack does on a refresh or a network blip."""
        self.connected.clear()
        await self.sockets[-1].close()

    def _apps_connections_open(self, _args: dict[str, Any]) -> dict[str, Any]:
        assert self.server is not None
        return {"ok": True, "url": str(self.server.make_url("/link")).replace("http", "ws", 1)}

    def _auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "team_id": self.team,
            "enterprise_id": self.enterprise,
            "is_enterprise_install": self.org_wide,
            "user_id": BOT_USER,
            "bot_id": "BBOT",
        }

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args["channel"]
        if channel.startswith("U"):
            channel = "D" + channel[1:]
        return {"ok": True, "channel": channel, "ts": self._next_ts()}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _chat_postEphemeral(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args["view"] if isinstance(args["view"], dict) else json.loads(args["view"])
        return {"ok": True, "view": {"id": f"V{next(self._ts)}", **view}}

    async def _respond(self, request: web.Request) -> web.Response:
        """A slash command's response_url; a queued failure answers like an expired URL."""
        queued = self.failures.get("response_url")
        if queued:
            return queued.pop(0)
        self.calls.append(Call("response_url", await request.json()))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file"]] = await request.read()
        return web.Response(text="OK")

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        assert self.server is not None
        file_id = f"F{next(self._ts)}"
        return {
            "ok": True,
            "file_id": file_id,
            "upload_url": str(self.server.make_url(f"/upload/{file_id}")),
        }

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args["files"] if isinstance(args["files"], list) else json.loads(args["files"])
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        team = {"c-team2": "T2"}.get(args.get("code", ""))
        if team is None:
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": "A1",
            "access_token": f"xoxb-{team.lower()}",
            "token_type": "bot",
            "scope": "chat:write,commands",
            "bot_user_id": "UBOT2",
            "team": {"id": team, "name": "Second team"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "UINSTALL"},
        }

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self.channels.get(args.get("channel", ""), [])
        cursor = int(args.get("cursor") or 0)
        page = members[cursor : cursor + 2]  # small pages, so paging is exercised
        more = cursor + 2 < len(members)
        return {
            "ok": True,
            "members": page,
            "response_metadata": {"next_cursor": str(cursor + 2) if more else ""},
        }

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + args["users"][1:]}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "VHOME"}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
