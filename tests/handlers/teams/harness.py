"""Our Teams edge behind a real HTTP server, the Bot Connector faked, the clock in hand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.kinds import registry
from bot.web import init_app
from handlers.journal import Journal
from handlers.teams.adapter import TeamsAuth
from handlers.teams.app import TeamsEdge
from handlers.teams.setup import teams
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.db import Database
from storage.models import InboundEvent, JournalEntry, Member, Ritual, TeamsConversation
from tests.handlers.teams import activities as act
from tests.handlers.teams.fake_connector import FakeConnector

MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
APP_ID = "00000000-0000-0000-0000-000000000b07"


class TeamsTeam:
    """A Teams tenant talking to our app; ``say``/``type`` post activities as people would."""

    def __init__(
        self,
        db: Database,
        connector: FakeConnector,
        http: TestClient,
        clock: FakeClock,
        delivery: Delivery,
        rituals: Rituals,
        edge: TeamsEdge,
        journal: Journal,
    ) -> None:
        self.db, self.connector, self.http, self.clock = db, connector, http, clock
        self.delivery, self.rituals, self.edge = delivery, rituals, edge
        self.journal = journal
        self.service_url = connector.url("/")

    async def post(self, activity: Any, *, token: str | None = None) -> tuple[int, Any]:
        """Post an activity and let the journal's worker handle what it stored."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post("/api/messages", json=activity, headers=headers)
        body = await response.json() if response.content_type == "application/json" else None
        await self.journal.drain()
        return response.status, body

    async def post_raw(self, headers: list[bytes], body: bytes) -> int:
        """POST bytes to ``/api/messages`` as they are, headers no HTTP client would send
        included; the status the server answered."""
        server = self.http.server
        head = [
            b"POST /api/messages HTTP/1.1",
            f"Host: {server.host}".encode(),
            b"Content-Type: application/json",
            f"Content-Length: {len(body)}".encode(),
            b"Connection: close",
            *headers,
        ]
        reader, writer = await asyncio.open_connection(server.host, server.port)
        try:
            writer.write(b"\r\n".join([*head, b"", body]))
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 10)
        finally:
            writer.close()
            await writer.wait_closed()
        await self.journal.drain()
        return int(answer.split(b" ", 2)[1])

    async def post_json(self, body: bytes, *, token: str | None = None) -> int:
        """POST a body that need not be an activity, or JSON at all."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.http.post("/api/messages", data=body, headers=headers)
        await self.journal.drain()
        return response.status

    async def stored(self) -> int:
        """Rows the door or the worker wrote for any activity, so a refusal shows as none."""
        async with self.db.session() as session:
            total = 0
            for model in (InboundEvent, JournalEntry, Member, Ritual, TeamsConversation):
                count = select(func.count()).select_from(model)
                total += (await session.execute(count)).scalar_one()
            return total

    async def left_unhandled(self) -> int:
        async with self.db.session() as session:
            count = select(func.count()).select_from(JournalEntry)
            return (await session.execute(count)).scalar_one()

    async def channel(self, user: str, text: str) -> int:
        return (await self.post(act.in_channel(self.service_url, user, text)))[0]

    async def dm(self, user: str, text: str, **extra: Any) -> int:
        return (await self.post(act.personal(self.service_url, user, text, **extra)))[0]

    async def deliver(self) -> None:
        await self.delivery.drain()


@asynccontextmanager
async def running(db: Database, *, auth: TeamsAuth | None = None) -> AsyncIterator[TeamsTeam]:
    clock = FakeClock(MONDAY_0800)
    connector = FakeConnector(clock=clock.now)
    await connector.start()
    rituals = Rituals(Runtime(db=db, clock=clock), registry())
    if auth is not None and auth.app_id and auth.openid_metadata_url is None:
        auth = TeamsAuth(**{**auth.__dict__, "openid_metadata_url": connector.url("/openid")})
    journal = Journal(db, clock)
    edge, port = teams(rituals, auth or TeamsAuth(), journal=journal)
    server = TestServer(init_app(db=db, extra_routes=edge.routes), host="127.0.0.1")
    try:
        async with TestClient(server) as http:
            yield TeamsTeam(
                db,
                connector,
                http,
                clock,
                Delivery(db, {"teams": port}, clock),
                rituals,
                edge,
                journal,
            )
    finally:
        await port.connector.close()
        await connector.close()
