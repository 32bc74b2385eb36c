"""The one workspace a single bot token serves, as Slack's auth.test tells it.

With one token every request is answered through that workspace's bot, so a signed request
naming another team (the same app installed elsewhere, or a forged one) must be refused
before anything is stored: otherwise it creates a second workspace and messages the first
one's people on its behalf.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = structlog.get_logger(__name__)
# After a failed auth.test, requests are refused for this long before it is asked again,
# so an outage is not met with one auth.test per request.
RETRY_AFTER = 5.0


@dataclass(frozen=True)
class Home:
    """The token's team and, on Enterprise Grid, its enterprise (``org_wide`` when the app is
    installed for the whole organisation, so every workspace of the enterprise is served)."""

    team: str
    enterprise: str = ""
    org_wide: bool = False

    def admits(self, team: str, enterprise: str) -> bool:
        if enterprise and enterprise != self.enterprise:
            return False
        return team == self.team or (self.org_wide and bool(enterprise))


class HomeTeam:
    """Learns the token's team once (at start-up, or on the first request if Slack did not
    answer then) and keeps it for the life of the process."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._home: Home | None = None
        self._failed_at = -RETRY_AFTER
        self._lock = asyncio.Lock()

    async def learn(self) -> None:
        """Ask at start-up; if Slack does not answer, the first request asks again."""
        async with self._lock:
            if self._home is None:
                self._home = await self._ask()

    async def home(self) -> Home | None:
        """The token's workspace, or ``None`` while Slack cannot be asked."""
        if self._home is not None:
            return self._home
        async with self._lock:
            if self._home is None and time.monotonic() - self._failed_at >= RETRY_AFTER:
                self._home = await self._ask()
                if self._home is None:
                    self._failed_at = time.monotonic()
        return self._home

    async def _ask(self) -> Home | None:
        try:
            answer = await self._client.auth_test()
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("the bot token's workspace is not known yet", error=str(exc))
            return None
        return Home(
            team=str(answer.get("team_id") or ""),
            enterprise=str(answer.get("enterprise_id") or ""),
            org_wide=answer.get("is_enterprise_install") is True,
        )
