"""Conversation references and members, as Teams last showed them, for proactive messages.

Every activity refreshes its conversation's reference (and its sender's zone); a write
happens only when something changed, so a busy chat costs no extra transaction per message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.teams import activity as a
from rituals.clock import Clock
from storage.db import Database
from storage.models import TeamsConversation, TeamsMember

MAX_CACHED = 50_000


@dataclass(frozen=True)
class Conversation:
    tenant: str
    conversation_id: str
    kind: str
    service_url: str
    reference: dict[str, Any]
    team_id: str | None = None
    user_id: str | None = None

    @property
    def bot(self) -> dict[str, Any]:
        return self.reference.get("bot") or {}


def _upsert(session: AsyncSession, model: type, keys: list[str], values: dict[str, Any]) -> Any:
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values)
    changed = {k: v for k, v in values.items() if k not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=changed)


def _of(row: TeamsConversation) -> Conversation:
    return Conversation(
        row.tenant_id,
        row.conversation_id,
        row.kind,
        row.service_url,
        row.reference,
        row.team_id,
        row.user_id,
    )


class References:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._conversations: dict[tuple[str, str], Conversation] = {}
        self._members: dict[tuple[str, str], tuple[str, str | None]] = {}
        self._tenants: dict[str, Conversation] = {}
        self._personal: dict[tuple[str, str], Conversation] = {}

    async def remember(self, activity: a.Activity) -> None:
        """Keep the activity's conversation reference and its sender's name and zone."""
        tenant = a.tenant(activity)
        found = a.kind(activity)
        sender = activity.get("from") or {}
        key = a.channel_id(activity) if found == a.CHANNEL else a.conversation_id(activity)
        conversation = Conversation(
            tenant,
            key,
            found,
            str(activity["serviceUrl"]),
            a.reference(activity),
            a.team_id(activity),
            str(sender.get("id")) if found == a.PERSONAL and sender.get("id") else None,
        )
        known = self._conversations.get((tenant, key))
        fresh = known is None or not _same(known, conversation)
        member = None
        if activity.get("type") in a.CONVERSATIONAL and not a.from_bot(activity):
            who = a.actor(activity)
            seen = (who.name, who.tz)
            if self._members.get((tenant, who.user)) != seen:
                member = (who.user, seen)
        if not fresh and member is None:
            return
        now = self.clock.now()
        async with self.db.session() as session:
            if fresh:
                await self._save(session, conversation, now)
            if member is not None:
                user, (name, tz) = member
                await session.execute(_seen(session, tenant, user, name, tz, now))
        self._cache(conversation)
        if member is not None:
            self._members[(tenant, member[0])] = member[1]

    async def _save(self, session: AsyncSession, conversation: Conversation, now: datetime) -> None:
        await session.execute(
            _upsert(
                session,
                TeamsConversation,
                ["tenant_id", "conversation_id"],
                {
                    "tenant_id": conversation.tenant,
                    "conversation_id": conversation.conversation_id,
                    "kind": conversation.kind,
                    "team_id": conversation.team_id,
                    "user_id": conversation.user_id,
                    "service_url": conversation.service_url,
                    "reference": conversation.reference,
                    "updated_at": now,
                },
            )
        )

    def _cache(self, conversation: Conversation) -> None:
        if len(self._conversations) > MAX_CACHED:
            self._conversations.clear()
            self._personal.clear()
        self._conversations[(conversation.tenant, conversation.conversation_id)] = conversation
        self._tenants[conversation.tenant] = conversation
        if conversation.user_id is not None:
            self._personal[(conversation.tenant, conversation.user_id)] = conversation

    async def _latest(self, *conditions: Any) -> Conversation | None:
        """The most recently seen stored conversation that meets ``conditions``."""
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(TeamsConversation)
                    .where(*conditions)
                    .order_by(TeamsConversation.updated_at.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
        return None if row is None else _of(row)

    async def conversation(self, tenant: str, conversation_id: str) -> Conversation | None:
        """A known conversation; a thread (``…;messageid=…``) is found as its channel."""
        key = a.THREAD.sub("", conversation_id)
        found = self._conversations.get((tenant, key)) or await self._latest(
            TeamsConversation.tenant_id == tenant, TeamsConversation.conversation_id == key
        )
        if found is not None:
            self._cache(found)
        return found

    async def personal(self, tenant: str, user: str) -> Conversation | None:
        """The person's 1:1 chat with the bot, if the bot has one."""
        found = self._personal.get((tenant, user)) or await self._latest(
            TeamsConversation.tenant_id == tenant,
            TeamsConversation.user_id == user,
            TeamsConversation.kind == a.PERSONAL,
        )
        if found is not None:
            self._cache(found)
        return found

    async def any_in(self, tenant: str) -> Conversation | None:
        """Some conversation of the tenant: its service URL and the bot's account there."""
        found = self._tenants.get(tenant) or await self._latest(
            TeamsConversation.tenant_id == tenant
        )
        if found is not None:
            self._tenants[tenant] = found
        return found

    async def opened(self, via: Conversation, user: str, conversation_id: str) -> Conversation:
        """Record a 1:1 chat the bot opened with ``user``, so the next message goes straight in."""
        reference = {
            **via.reference,
            "activityId": None,
            "user": {"id": user},
            "conversation": {
                "id": conversation_id,
                "conversationType": a.PERSONAL,
                "tenantId": via.tenant,
            },
        }
        conversation = Conversation(
            via.tenant, conversation_id, a.PERSONAL, via.service_url, reference, None, user
        )
        async with self.db.session() as session:
            await self._save(session, conversation, self.clock.now())
        self._cache(conversation)
        return conversation

    async def block(self, tenant: str, user: str, reason: str) -> None:
        """Remember that the person cannot be reached (they blocked or removed the bot)."""
        now = self.clock.now()
        async with self.db.session() as session:
            await session.execute(_block(session, tenant, user, reason[:500], now))
        self._members.pop((tenant, user), None)


def _seen(
    session: AsyncSession, tenant: str, user: str, name: str, tz: str | None, now: datetime
) -> Any:
    """The person spoke: their name, their zone (kept when the client sent none), and
    they can evidently be reached again."""
    fresh = {"name": name, "blocked_at": None, "blocked_reason": None, "updated_at": now}
    if tz is not None:
        fresh["local_timezone"] = tz
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(TeamsMember).values(
        tenant_id=tenant, user_id=user, **{**fresh, "local_timezone": tz}
    )
    return stmt.on_conflict_do_update(index_elements=["tenant_id", "user_id"], set_=fresh)


def _block(session: AsyncSession, tenant: str, user: str, reason: str, now: datetime) -> Any:
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(TeamsMember).values(
        tenant_id=tenant,
        user_id=user,
        name="",
        local_timezone=None,
        blocked_at=now,
        blocked_reason=reason,
        updated_at=now,
    )
    return stmt.on_conflict_do_update(
        index_elements=["tenant_id", "user_id"],
        set_={"blocked_at": now, "blocked_reason": reason, "updated_at": now},
    )


def _same(known: Conversation, seen: Conversation) -> bool:
    """Equal for storing purposes: the activity id, sender and locale change with every
    message and are not worth a write; the address of the conversation is."""
    strip = {"activityId": None, "user": None, "locale": None}
    return (
        known.service_url == seen.service_url
        and known.team_id == seen.team_id
        and known.kind == seen.kind
        and {**known.reference, **strip} == {**seen.reference, **strip}
    )
