"""Who a Slack user is: name and timezone from `users.info`, cached for an hour."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from rituals.port import SendError

TTL_SECONDS = 3600.0
FAILURE_TTL_SECONDS = 60.0
LOOKUP_SECONDS = 1.5


OUT_EMOJI = frozenset(
    {
        ":palm_tree:",
        ":airplane:",
        ":face_with_thermometer:",
        ":sick:",
        ":mask:",
        ":beach_with_umbrella:",
    }
)
OUT_TEXT = re.compile(r"\b(ooo|out of (the )?office|vacation|holiday|on leave|pto|sick)\b", re.I)


@dataclass(frozen=True)
class Profile:
    name: str
    tz: str | None
    human: bool = True
    away: bool = False
    away_until: date | None = None
    known: bool = True  # False when Slack could not be asked: nothing above is certain
    admin: bool = False  # a workspace admin or owner


def out_of_office(profile: dict[str, Any], now: float) -> tuple[bool, date | None]:
    """Whether a Slack status says the person is out, and until when if it expires."""
    emoji = profile.get("status_emoji") or ""
    text = profile.get("status_text") or ""
    expires = int(profile.get("status_expiration") or 0)
    if not (emoji in OUT_EMOJI or OUT_TEXT.search(text)):
        return False, None
    if expires and expires <= now:
        return False, None
    until = datetime.fromtimestamp(expires, UTC).date() if expires else None
    return True, until


class People:
    def __init__(
        self,
        clients: Callable[[str], Awaitable[AsyncWebClient]],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._clients = clients
        self._now = monotonic
        self._wall = wall
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}

    def known(self, team: str, user: str) -> Profile | None:
        """The cached profile if it is still fresh: no call to Slack."""
        hit = self._cache.get((team, user))
        return hit[1] if hit is not None and self._now() - hit[0] < TTL_SECONDS else None

    async def profile(self, team: str, user: str, fallback_name: str = "") -> Profile:
        """The cached profile; when Slack cannot be asked in time, what the payload said.

        The wait is short because Slack wants its acknowledgement within 3 s; a failure is
        remembered for a minute so an outage does not slow every request.
        """
        key = (team, user)
        hit = self._cache.get(key)
        if hit is not None and self._now() - hit[0] < TTL_SECONDS:
            return hit[1]
        try:
            client = await self._clients(team)
            response = await asyncio.wait_for(client.users_info(user=user), LOOKUP_SECONDS)
        except (SlackApiError, SendError, aiohttp.ClientError, OSError, TimeoutError):
            unknown = Profile(fallback_name, None, known=False)
            self._cache[key] = (self._now() - TTL_SECONDS + FAILURE_TTL_SECONDS, unknown)
            return unknown
        data = response.get("user") or {}
        profile = data.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or data.get("name") or user
        away, until = out_of_office(profile, self._wall())
        human = not (data.get("is_bot") or data.get("deleted") or user == "USLACKBOT")
        admin = bool(data.get("is_admin") or data.get("is_owner") or data.get("is_primary_owner"))
        result = Profile(
            name=name, tz=data.get("tz"), human=human, away=away, away_until=until, admin=admin
        )
        self._cache[key] = (self._now(), result)
        return result
