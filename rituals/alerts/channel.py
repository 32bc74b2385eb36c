"""A channel's alerts ritual: its settings (on-call, mutes) and lookups; every channel's
alerts escalate after `incidents.ESCALATE_AFTER`, which no command changes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import channel_ritual
from rituals.kinds import Peers
from storage.models import Channel, Member, Ritual

KIND = "alerts"


class AlertsOptions(BaseModel):
    """``mutes`` maps a model to the instant its mute ends (ISO, UTC)."""

    oncall: int | None = None
    mutes: dict[str, str] = Field(default_factory=dict)

    def muted_until(self, model: str, now: datetime) -> datetime | None:
        raw = self.mutes.get(model)
        if not model or raw is None:
            return None
        until = datetime.fromisoformat(raw)
        return until if until > now else None


def of(ritual: Ritual) -> AlertsOptions:
    return AlertsOptions.model_validate(ritual.options or {})


def save(ritual: Ritual, options: AlertsOptions) -> None:
    ritual.options = options.model_dump(mode="json", exclude_defaults=True)


async def ritual_for(session: AsyncSession, channel: Channel, tz: str, now: datetime) -> Ritual:
    return await channel_ritual.ensure(session, channel.id, KIND, tz, now)


async def existing_ritual(
    session: AsyncSession, channel_id: int, *, lock: bool = False
) -> Ritual | None:
    return await channel_ritual.find(session, channel_id, KIND, lock=lock)


async def escalation_target(session: AsyncSession, ritual: Ritual, peers: Peers) -> Member | None:
    """Who an unacknowledged alert goes to: the on-call, else whoever leads the channel's
    other rituals (the stand-up's lead first, as the kinds are registered), else whoever
    leads its alerts."""
    oncall = of(ritual).oncall
    if oncall is not None and (member := await session.get(Member, oncall)) is not None:
        return member
    channel = await session.get_one(Channel, ritual.channel_id)
    for chosen in [*await peers.leads(session, channel), ritual.lead_member_id]:
        if chosen is not None and (member := await session.get(Member, chosen)) is not None:
            return member
    return None
