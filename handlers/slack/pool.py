"""One HTTP connection pool for every call the process makes to Slack.

slack_sdk opens (and closes) a new session, so a new TCP and TLS connection, for each call
unless it is handed a running one; a 2,000-person fan-out would otherwise shake hands 2,000
times. The pool opens with the web app and closes with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient


class Pool:
    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None
        self._clients: list[AsyncWebClient] = []

    def client(self, **kwargs: object) -> AsyncWebClient:
        """A Web API client that uses the pool once it is open."""
        client = AsyncWebClient(session=self.session, **kwargs)  # type: ignore[arg-type]
        self._clients.append(client)
        return client

    async def lifetime(self, _app: web.Application) -> AsyncIterator[None]:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100, limit_per_host=50, ttl_dns_cache=300)
        )
        for client in self._clients:
            client.session = self.session
        try:
            yield
        finally:
            session, self.session = self.session, None
            for client in self._clients:
                client.session = None
            await session.close()
