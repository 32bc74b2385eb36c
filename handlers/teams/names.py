"""Channel names, which Teams leaves out of most activities: asked for once per team and
kept for a while, so a summary says #ranking rather than a conversation id."""

from __future__ import annotations

import time

import structlog

from handlers.teams.connector import Connector

log = structlog.get_logger(__name__)
TTL_SECONDS = 3600.0
MAX_TEAMS = 10_000


class ChannelNames:
    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        self._teams: dict[str, tuple[float, dict[str, str]]] = {}

    async def name(self, service_url: str, team_id: str, channel_id: str) -> str:
        """The channel's name, or "" when Teams will not say."""
        cached = self._teams.get(team_id)
        age = time.monotonic() - cached[0] if cached else TTL_SECONDS + 1
        # A channel created since the last look is looked for again, but not more than
        # once a minute, so an unreadable list is not fetched for every message.
        if cached is None or age > TTL_SECONDS or (channel_id not in cached[1] and age > 60):
            cached = (time.monotonic(), await self._fetch(service_url, team_id))
            if len(self._teams) >= MAX_TEAMS:
                self._teams.clear()
            self._teams[team_id] = cached
        return cached[1].get(channel_id, "")

    async def _fetch(self, service_url: str, team_id: str) -> dict[str, str]:
        try:
            listed = await self._connector.channels(service_url, team_id)
        except Exception as exc:  # a name is a nicety: no failure may stop the message
            log.info("channel names unavailable", team=team_id, error=str(exc)[:200])
            return {}
        return {str(c["id"]): str(c.get("name") or "") for c in listed if c.get("id")}
