"""Slack over Socket Mode: the same app, fed through a WebSocket instead of public HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from handlers.slack.app import SlackEdge


def socket_mode(
    edge: SlackEdge, app_token: str, *, ping_interval: float = 10
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A lifetime for the web app: connect at start-up, reconnect on drops, close at the end."""

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        handler = AsyncSocketModeHandler(edge.app, app_token, ping_interval=ping_interval)
        await handler.connect_async()
        yield
        await handler.close_async()

    return lifetime
