"""A small Bot Connector on 127.0.0.1 that records every call and can be told to fail.

It also serves an OpenID configuration and a key set, so tokens it signs pass the real
botbuilder JWT check and tokens signed by anyone else do not.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.algorithms import RSAAlgorithm

BOT_ID = "28:bot-app-id"
KID = "fake-key"


@dataclass
class Call:
    method: str
    kind: str  # create | send | update | members
    conversation: str = ""
    reply_to: str | None = None
    activity_id: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    token: str = ""
    at: datetime | None = None  # by the connector's clock, when it has one

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None

    @property
    def text(self) -> str:
        """What the person reads: the text, or every text in the card."""
        if self.body.get("text"):
            return str(self.body["text"])
        card = self.card or {}
        parts = []
        for element in card.get("body", []):
            if element.get("type") == "TextBlock":
                parts.append(element["text"])
            for fact in element.get("facts", []):
                parts.append(f"{fact['title']}: {fact['value']}")
        return "\n".join(parts)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeConnector:
    teams: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # A team's channels as GET /v3/teams/{id}/conversations lists them.
    channels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    # The Bot Framework channels the signing key vouches for; the real keys vouch for many.
    endorsements: list[str] = field(default_factory=lambda: ["msteams"])
    server: TestServer | None = None
    # When calls arrive, by the test's clock (none: not recorded).
    clock: Callable[[], datetime] | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1001))

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._paged)
        app.router.add_get("/v3/teams/{team}/conversations", self._channels)
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self.url("/")

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def fail(
        self, kind: str, status: int, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.failures.setdefault(kind, []).extend([(status, headers)] * times)

    def token(self, *, audience: str, service_url: str, key: Any = None, **claims: Any) -> str:
        """A Bot Connector token as Teams sends it, signed by this connector's key."""
        payload = {**self.claims(audience=audience, service_url=service_url), **claims}
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": KID})

    def sign(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        """A token with exactly this header and these claims, signed with RS256 by this
        connector's key: PyJWT's own encoder refuses the odd types tests send."""

        def part(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        signed = f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}"
        signature = self.key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signed}.{part(signature)}"

    def claims(self, *, audience: str, service_url: str) -> dict[str, Any]:
        """The claims of a token as Teams sends it, for tests to change one of."""
        now = int(time.time())
        return {
            "iss": "https://api.botframework.com",
            "aud": audience,
            "serviceurl": service_url,
            "nbf": now - 60,
            "exp": now + 3600,
        }

    # --- what the tests read -------------------------------------------------------------

    def of(self, kind: str) -> list[Call]:
        return [c for c in self.calls if c.kind == kind and c.ok]

    def sent_to(self, conversation: str) -> list[Call]:
        return [c for c in self.of("send") if c.conversation == conversation]

    def personal(self, user: str) -> list[Call]:
        return self.sent_to(f"a:1on1-{user}")

    def most_sent_within(self, conversation: str, window: timedelta) -> int:
        """The most sends to ``conversation`` that arrived within any one ``window`` of
        the clock (from an instant up to, not including, ``window`` later): what the Bot
        Connector's per-conversation limits count."""
        times = sorted(c.at for c in self.sent_to(conversation) if c.at is not None)
        most, first = 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= window:
                first += 1
            most = max(most, last - first + 1)
        return most

    # --- the API -------------------------------------------------------------------------

    def _failure(self, call: Call) -> web.Response | None:
        call.at = self.clock() if self.clock is not None else None
        self.calls.append(call)
        queued = self.failures.get(call.kind)
        if not queued:
            return None
        status, headers = queued.pop(0)
        call.status = status
        return web.json_response(
            {"error": {"code": "Failure", "message": f"fake {status}"}},
            status=status,
            headers=headers,
        )

    @staticmethod
    def _token(request: web.Request) -> str:
        return request.headers.get("Authorization", "").removeprefix("Bearer ")

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = Call("POST", "create", body=body, token=self._token(request))
        failed = self._failure(call)
        if failed is not None:
            return failed
        user = body["members"][0]["id"]
        if user in self.blocked:
            call.status = 403
            return web.json_response(
                {"error": {"code": "Forbidden", "message": "The bot is blocked by the user"}},
                status=403,
            )
        return web.json_response({"id": f"a:1on1-{user}"}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = Call(
            "POST",
            "send",
            conversation=request.match_info["conversation"],
            reply_to=request.match_info.get("reply"),
            body=body,
            token=self._token(request),
        )
        failed = self._failure(call)
        if failed is not None:
            return failed
        call.activity_id = str(next(self._ids))
        return web.json_response({"id": call.activity_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = Call(
            "PUT",
            "update",
            conversation=request.match_info["conversation"],
            activity_id=request.match_info["activity"],
            body=body,
        )
        failed = self._failure(call)
        if failed is not None:
            return failed
        return web.json_response({"id": call.activity_id})

    async def _paged(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        call = Call("GET", "members", conversation=conversation, body=dict(request.query))
        failed = self._failure(call)
        if failed is not None:
            return failed
        members = self.teams.get(conversation)
        if members is None:
            call.status = 404
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        start = int(request.query.get("continuationToken") or 0)
        page = members[start : start + 2]  # small pages, so paging is exercised
        more = start + 2 < len(members)
        answer: dict[str, Any] = {"members": page}
        if more:
            answer["continuationToken"] = str(start + 2)
        return web.json_response(answer)

    async def _channels(self, request: web.Request) -> web.Response:
        team = request.match_info["team"]
        call = Call("GET", "channels", conversation=team)
        failed = self._failure(call)
        if failed is not None:
            return failed
        return web.json_response({"conversations": self.channels.get(team, [])})

    async def _openid(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {"issuer": "https://api.botframework.com", "jwks_uri": self.url("/keys")}
        )

    async def _keys(self, _request: web.Request) -> web.Response:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update(kid=KID, use="sig", endorsements=self.endorsements)
        return web.json_response({"keys": [public]})
