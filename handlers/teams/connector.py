"""The Bot Connector REST API, the few calls the bot makes, on one shared HTTP session.

The SDK builds a new connector client (and its retry policy) for every message, which is
most of what a bare bot spends per message; this one keeps its connections, leaves retrying
to the outbox, and reports each failure with its HTTP status and ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp

TokenSource = Callable[[], Awaitable[str | None]]


class ConnectorError(Exception):
    """A call the connector refused or never answered; ``status`` 0 for network failures."""

    def __init__(self, status: int, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {reason}" if status else reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def _path(conversation: str) -> str:
    return quote(conversation, safe=":@;=")


class Connector:
    def __init__(self, token: TokenSource, *, timeout: float = 15.0) -> None:
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ConnectorError(0, "shutting down; the message stays queued")
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=64, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()

    async def _call(
        self, method: str, service_url: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        url = f"{service_url.rstrip('/')}/{path}"
        headers = {}
        token = await self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with self._http().request(method, url, json=body, headers=headers) as response:
                text = await response.text()
                if response.status >= 400:
                    raise ConnectorError(
                        response.status,
                        text[:300] or response.reason or "",
                        retry_after=_retry_after(response.headers),
                    )
                if not text:
                    return {}
                try:
                    found = await response.json(content_type=None)
                except ValueError:
                    return {}
                return found if isinstance(found, dict) else {}
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConnectorError(0, f"{type(exc).__name__}: {exc}") from exc

    async def create_conversation(self, service_url: str, params: dict[str, Any]) -> dict:
        """POST /v3/conversations: opens (or finds) a 1:1 chat; answers ``{"id": …}``."""
        return await self._call("POST", service_url, "v3/conversations", params)

    async def send(
        self,
        service_url: str,
        conversation: str,
        activity: dict[str, Any],
        *,
        reply_to: str | None = None,
    ) -> dict[str, Any]:
        """Post into a conversation, or as a reply to one of its activities."""
        path = f"v3/conversations/{_path(conversation)}/activities"
        if reply_to:
            path += f"/{quote(reply_to, safe='')}"
            activity = {**activity, "replyToId": reply_to}
        return await self._call("POST", service_url, path, activity)

    async def update(
        self, service_url: str, conversation: str, activity_id: str, activity: dict[str, Any]
    ) -> dict[str, Any]:
        path = f"v3/conversations/{_path(conversation)}/activities/{quote(activity_id, safe='')}"
        return await self._call("PUT", service_url, path, {**activity, "id": activity_id})

    async def channels(self, service_url: str, team_id: str) -> list[dict[str, Any]]:
        """GET /v3/teams/{id}/conversations: a team's channels, ``{"id", "name"}`` each
        (the first channel, General, comes without a name)."""
        found = await self._call("GET", service_url, f"v3/teams/{_path(team_id)}/conversations")
        listed = found.get("conversations")
        return [c for c in listed if isinstance(c, dict)] if isinstance(listed, list) else []
