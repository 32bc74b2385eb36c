"""The Teams roster: a channel's people, as the Bot Connector lists the channel's members
(TeamsInfo, paged): the team's members for a standard channel, its own for a private one.

Teams gives no zone or status here; a member's zone comes from their own messages
(``localTimezone``), so the roster leaves it as it is.
"""

from __future__ import annotations

import structlog

from handlers.teams import activity as a
from handlers.teams.adapter import TeamsAdapter
from handlers.teams.references import References
from rituals.roster import Person

log = structlog.get_logger(__name__)


class TeamsRoster:
    platform = a.PLATFORM

    def __init__(self, adapter: TeamsAdapter, references: References) -> None:
        self._adapter = adapter
        self._references = references

    async def members(self, workspace: str, channel: str) -> list[Person] | None:
        where = await self._references.conversation(workspace, channel)
        if where is None or where.kind == a.PERSONAL:
            return None
        reference = {
            **where.reference,
            "conversation": {**where.reference.get("conversation", {}), "id": channel},
        }
        try:
            found = await self._adapter.members(reference)
        except Exception as exc:  # the SDK raises its own errors for every HTTP failure
            log.warning("channel members unavailable", channel=channel, error=str(exc)[:300])
            return None
        bot = where.bot.get("id")
        return [
            Person(str(m["id"]), str(m.get("name") or m.get("givenName") or m["id"]), None)
            for m in found
            if m.get("id") and m.get("id") != bot and not str(m["id"]).startswith("28:")
        ]
