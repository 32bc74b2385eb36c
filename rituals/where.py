"""Where a ritual's messages go: its channel's platform coordinates, to address the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, Workspace
from storage.outbox import Envelope


@dataclass(frozen=True)
class Where:
    platform: str
    workspace: str
    channel: str
    channel_name: str

    def post(self, *, thread_of: int | None = None, dedup_key: str | None = None) -> Envelope:
        return Envelope(
            self.platform,
            self.workspace,
            "post",
            channel=self.channel,
            thread_of=thread_of,
            dedup_key=dedup_key,
        )

    def update(self, outbox_id: int) -> Envelope:
        return Envelope(
            self.platform, self.workspace, "update", channel=self.channel, update_of=outbox_id
        )

    def direct(self, user: str, *, dedup_key: str | None = None) -> Envelope:
        return Envelope(self.platform, self.workspace, "direct", user=user, dedup_key=dedup_key)


async def where_of(session: AsyncSession, channel_id: int) -> Where:
    channel = await session.get_one(Channel, channel_id)
    workspace = await session.get_one(Workspace, channel.workspace_id)
    return Where(workspace.platform, workspace.external_id, channel.external_id, channel.name)
