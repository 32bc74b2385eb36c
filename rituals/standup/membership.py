"""Keeping a stand-up's participants in step with its channel, where the platform can tell."""

from __future__ import annotations

import structlog
from sqlalchemy import delete, select

from rituals.identity import Actor
from rituals.runtime import Runtime
from rituals.standup import settings as cfg
from rituals.standup.roster import KIND
from rituals.where import where_of
from storage import directory
from storage.models import Channel, Participant, Ritual, Workspace

log = structlog.get_logger(__name__)


class Membership:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def sync_all(self) -> int:
        """Sync every stand-up on a platform with a roster; returns how many changed."""
        if not self.rt.rosters:
            return 0
        async with self.rt.db.session() as session:
            rows = await session.execute(
                select(Ritual.id)
                .join(Ritual.channel)
                .join(Workspace)
                .where(Ritual.kind == KIND, Workspace.platform.in_(list(self.rt.rosters)))
            )
            ritual_ids = list(rows.scalars())
        changed = 0
        for ritual_id in ritual_ids:
            changed += await self.sync(ritual_id)
        return changed

    async def ritual_in(self, actor: Actor, channel: str) -> int | None:
        """The stand-up of a channel, if the platform has a roster to follow and it exists."""
        if actor.platform not in self.rt.rosters:
            return None
        async with self.rt.db.session() as session:
            return await session.scalar(
                select(Ritual.id)
                .join(Channel, Channel.id == Ritual.channel_id)
                .join(Workspace, Workspace.id == Channel.workspace_id)
                .where(
                    Workspace.platform == actor.platform,
                    Workspace.external_id == actor.workspace,
                    Channel.external_id == channel,
                    Ritual.kind == KIND,
                )
            )

    async def sync(self, ritual_id: int) -> bool:
        """Participants become the channel's people, less those who opted out; their zones
        and out-of-office status are refreshed on the way. True when anything changed."""
        async with self.rt.db.session() as session:
            ritual = await session.get(Ritual, ritual_id)
            if ritual is None:
                return False
            where = await where_of(session, ritual.channel_id)
        roster = self.rt.rosters.get(where.platform)
        if roster is None:
            return False
        people = await roster.members(where.workspace, where.channel)
        if people is None:
            return False
        async with self.rt.db.session() as session:
            ritual = await session.get_one(Ritual, ritual_id)
            left = set(cfg.of(ritual).left)
            wanted: set[int] = set()
            found = await directory.members(
                session,
                ritual.channel.workspace_id,
                [(person.user, person.name, person.tz) for person in people],
            )
            for person in people:
                member = found[person.user]
                member.status_away = person.away
                member.status_away_until = person.away_until
                if person.user not in left:
                    wanted.add(member.id)
            rows = await session.execute(
                select(Participant.member_id).where(Participant.ritual_id == ritual_id)
            )
            current = set(rows.scalars())
            for member_id in wanted - current:
                session.add(Participant(ritual_id=ritual_id, member_id=member_id))
            gone = current - wanted
            if gone:
                await session.execute(
                    delete(Participant).where(
                        Participant.ritual_id == ritual_id, Participant.member_id.in_(gone)
                    )
                )
            changed = bool(wanted - current or gone)
            if changed:
                ritual.version += 1
                log.info(
                    "roster synced",
                    ritual_id=ritual_id,
                    joined=len(wanted - current),
                    left=len(gone),
                )
        return changed
