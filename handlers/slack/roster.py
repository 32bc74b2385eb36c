"""Slack's channel roster: `conversations.members`, people looked up, bots left out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.people import People
from handlers.slack.port import PLATFORM
from rituals.port import SendError
from rituals.roster import Person

log = structlog.get_logger(__name__)


class SlackRoster:
    platform = PLATFORM

    def __init__(self, clients: Callable[[str], Awaitable[AsyncWebClient]], people: People) -> None:
        self._clients = clients
        self._people = people

    async def members(self, workspace: str, channel: str) -> list[Person] | None:
        try:
            ids = await self._member_ids(workspace, channel)
        except (SlackApiError, SendError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("channel members unavailable", channel=channel, error=str(exc))
            return None
        people = []
        for user in ids:
            profile = await self._people.profile(workspace, user)
            if not profile.known:
                return None  # keep the current participants rather than guess who is human
            if profile.human:
                people.append(
                    Person(user, profile.name, profile.tz, profile.away, profile.away_until)
                )
        return people

    async def _member_ids(self, workspace: str, channel: str) -> list[str]:
        client = await self._clients(workspace)
        ids: list[str] = []
        cursor = None
        while True:
            response = await client.conversations_members(channel=channel, cursor=cursor, limit=200)
            ids.extend(response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return ids
