"""The alert webhook behind a real HTTP server, the clock in the test's hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestClient, TestServer

from bot.web import init_app
from handlers.alerts.webhook import AlertWebhook, RateLimit
from tests.helpers import Team


@asynccontextmanager
async def serving(team: Team, limit: RateLimit | None = None) -> AsyncIterator[TestClient]:
    edge = AlertWebhook(team.bot, limit=limit or RateLimit(rate=0))
    server = TestServer(init_app(db=team.runtime.db, extra_routes=edge.routes), host="127.0.0.1")
    async with TestClient(server) as http:
        yield http
