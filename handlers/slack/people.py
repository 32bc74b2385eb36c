"""Who a Slack user is: name and timezone from `users.info`, cached for an hour."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

TTL_SECONDS = 3600.0


@dataclass(frozen=True)
class Profile:
    name: str
    tz: str | None


class People:
    def __init__(
        self,
        clients: Callable[[str], Awaitable[AsyncWebClient]],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = clients
        self._now = monotonic
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}

    async def profile(self, team: str, user: str, fallback_name: str = "") -> Profile:
        """The cached profile; when Slack cannot be asked, what the payload said."""
        key = (team, user)
        hit = self._cache.get(key)
        if hit is not None and self._now() - hit[0] < TTL_SECONDS:
            return hit[1]
        try:
            client = await self._clients(team)
            response = await client.users_info(user=user)
        except (SlackApiError, OSError, TimeoutError):
            return Profile(fallback_name or user, None)
        data = response.get("user") or {}
        profile = data.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or data.get("name") or user
        result = Profile(name=name, tz=data.get("tz"))
        self._cache[key] = (self._now(), result)
        return result
