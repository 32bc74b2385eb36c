"""The alert webhook behind a real HTTP server, the clock in the test's hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestClient, TestServer

from bot.web import init_app
from handlers.hooks import HookEdge, RateLimit
from rituals.router import Rituals
from tests.helpers import Team


@asynccontextmanager
async def webhook(
    rituals: Rituals, limit: RateLimit | None = None, strangers: RateLimit | None = None
) -> AsyncIterator[TestClient]:
    """The webhooks of ``rituals`` (unlimited unless ``limit``, per token, or ``strangers``,
    unknown tokens per address, say otherwise)."""
    edge = HookEdge(
        rituals, limit=limit or RateLimit(rate=0), strangers=strangers or RateLimit(rate=0)
    )
    server = TestServer(init_app(db=rituals.rt.db, extra_routes=edge.routes), host="127.0.0.1")
    async with TestClient(server) as http:
        yield http


def serving(
    team: Team, limit: RateLimit | None = None, strangers: RateLimit | None = None
) -> AsyncIterator[TestClient]:
    return webhook(team.bot, limit, strangers)  # type: ignore[return-value]
