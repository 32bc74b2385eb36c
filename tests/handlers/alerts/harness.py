"""The alert webhook behind a real HTTP server, the clock in the test's hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestClient, TestServer

from bot.kinds import hook_readers
from bot.web import init_app
from handlers.hooks import BodyReader, HookEdge, RateLimit
from rituals.router import Rituals
from tests.helpers import Team


@asynccontextmanager
async def webhook(
    rituals: Rituals,
    limit: RateLimit | None = None,
    strangers: RateLimit | None = None,
    readers: Mapping[str, BodyReader] | None = None,
) -> AsyncIterator[TestClient]:
    """The webhooks of ``rituals`` (unlimited unless ``limit``, per token, or ``strangers``,
    unknown tokens per address, say otherwise), their bodies read by the bot's own readers
    unless ``readers`` names others."""
    edge = HookEdge(
        rituals,
        hook_readers() if readers is None else readers,
        limit=limit or RateLimit(rate=0),
        strangers=strangers or RateLimit(rate=0),
    )
    server = TestServer(init_app(db=rituals.rt.db, extra_routes=edge.routes), host="127.0.0.1")
    async with TestClient(server) as http:
        yield http


def serving(
    team: Team, limit: RateLimit | None = None, strangers: RateLimit | None = None
) -> AsyncIterator[TestClient]:
    return webhook(team.bot, limit, strangers)  # type: ignore[return-value]
