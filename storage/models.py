"""The tables. One workspace is a Slack team, a Teams tenant or the console."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false, true

from storage import fulltext
from storage.types import UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        date: Date(),
        dict[str, Any]: JSON(),
    }


class Workspace(Base):
    __tablename__ = "workspace"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class Channel(Base):
    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")

    workspace: Mapped[Workspace] = relationship(lazy="joined")


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    away_since: Mapped[date | None]
    away_until: Mapped[date | None]
    status_away: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status_away_until: Mapped[date | None]

    def is_away(self, day: date) -> bool:
        """Away by their own word (`standup away`) or by their platform status (out of office)."""
        if self.status_away and (self.status_away_until is None or day <= self.status_away_until):
            return True
        if self.away_since is None or day < self.away_since:
            return False
        return self.away_until is None or day <= self.away_until

    @classmethod
    def away_on(cls, day: Any) -> ColumnElement[bool]:
        """`is_away` as SQL, so a roster can be asked about in one statement."""
        by_word = and_(
            cls.status_away.is_(True),
            or_(cls.status_away_until.is_(None), cls.status_away_until >= day),
        )
        by_status = and_(
            cls.away_since.is_not(None),
            cls.away_since <= day,
            or_(cls.away_until.is_(None), cls.away_until >= day),
        )
        return or_(by_word, by_status)


class Ritual(Base):
    """A ritual of one channel: what every kind has. Each kind keeps its own settings in
    ``options``, read and written through a typed model in its package."""

    __tablename__ = "ritual"
    __table_args__ = (UniqueConstraint("channel_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    tz: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    channel: Mapped[Channel] = relationship(lazy="joined")


class RitualColead(Base):
    """A co-lead the ritual's lead named: may change its settings, as the lead may."""

    __tablename__ = "ritual_colead"

    ritual_id: Mapped[int] = mapped_column(
        ForeignKey("ritual.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )


class Participant(Base):
    __tablename__ = "participant"

    ritual_id: Mapped[int] = mapped_column(
        ForeignKey("ritual.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )


class Occurrence(Base):
    """One run of a ritual on one day; that unique key is the claim that starts it once.

    ``questions`` is frozen when it starts, so changing them mid-run cannot break answers.
    """

    __tablename__ = "occurrence"
    __table_args__ = (UniqueConstraint("ritual_id", "local_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime]
    local_date: Mapped[date]
    started_at: Mapped[datetime]
    summary_due_at: Mapped[datetime]
    questions: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="open")
    summarized_at: Mapped[datetime | None]
    summary_outbox_id: Mapped[int | None] = mapped_column(BigId)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)


class Response(Base):
    """One member's part in one occurrence: asked when, reminded when, finished when."""

    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "member_id"),
        # What a person still owes, looked up at every direct message they send.
        Index("ix_response_member_open", "member_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrence.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    prompted_at: Mapped[datetime]
    asked_at: Mapped[datetime | None]
    next_question: Mapped[int] = mapped_column(Integer, default=0)
    remind_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]  # the person stopped this run for themselves
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class Answer(Base):
    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "question_index"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    question_index: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    message_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    answered_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]


fulltext.index("ix_answer_fts", Answer.text)  # what `ask` searches


class Blocker(Base):
    """An open impediment, carried from summary to summary until its owner resolves it."""

    __tablename__ = "blocker"
    __table_args__ = (Index("ix_blocker_open", "ritual_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answer.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    unblocker: Mapped[str | None] = mapped_column(String(128))
    opened_on: Mapped[date]
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    escalated_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """An outbound message, stored before it is sent and retried until delivered.

    ``lane`` orders delivery: messages of one lane (a channel or a person's DM) go out one
    after another, in id order.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_ready", "status", "next_attempt_at"),
        Index("ix_outbox_lane", "lane", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(128))
    lane: Mapped[str] = mapped_column(String(600))
    op: Mapped[str] = mapped_column(String(12))
    # Teams 1:1 conversation ids run past 128 characters.
    channel: Mapped[str | None] = mapped_column(String(300))
    user: Mapped[str | None] = mapped_column(String(128))
    thread_of: Mapped[int | None] = mapped_column(BigId)
    update_of: Mapped[int | None] = mapped_column(BigId)
    payload: Mapped[dict[str, Any]]
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_channel: Mapped[str | None] = mapped_column(String(300))
    sent_ref: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    via: Mapped[str | None] = mapped_column(Text)
    # False: deleted once sent or given up, so no delivery record names its addressee.
    keep: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class InboundEvent(Base):
    """Platform deliveries already handled, so a retried delivery changes nothing twice."""

    __tablename__ = "inbound_event"
    __table_args__ = (UniqueConstraint("platform", "delivery_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]


class JournalEntry(Base):
    """A verified inbound request stored before it is acknowledged and handled after.

    The platform gets its acknowledgement as soon as the row is committed; a worker handles
    rows lane by lane (one person's requests in order) and deletes them when done.
    """

    __tablename__ = "inbound_journal"
    __table_args__ = (
        UniqueConstraint("platform", "delivery_id"),
        Index("ix_inbound_journal_lane", "lane", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]


class JournalDeadLetter(Base):
    """A stored request that cannot be handled, set aside with the reason, for an operator
    to read and, once the cause is fixed, to put back (`ritualbot journal`)."""

    __tablename__ = "journal_dead_letter"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    failed_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class AppSetting(Base):
    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SlackInstallation(Base):
    """A workspace that installed the Slack app (OAuth), with the bot token to act there."""

    __tablename__ = "slack_installation"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(32), default="")
    team_id: Mapped[str] = mapped_column(String(32))
    team_name: Mapped[str] = mapped_column(String(200), default="")
    app_id: Mapped[str] = mapped_column(String(32), default="")
    bot_token: Mapped[str] = mapped_column(Text)
    bot_id: Mapped[str] = mapped_column(String(32))
    bot_user_id: Mapped[str] = mapped_column(String(32))
    bot_scopes: Mapped[str] = mapped_column(Text, default="")
    installer_user_id: Mapped[str] = mapped_column(String(32), default="")
    installed_at: Mapped[datetime]


class OAuthState(Base):
    """An OAuth `state` handed out at install and accepted once, before it expires."""

    __tablename__ = "oauth_state"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]


class TeamsConversation(Base):
    """Where the Teams bot can speak: a team channel, a group chat or a person's 1:1 chat.

    ``reference`` is the serialized conversation reference; the tenant is kept beside it
    because the reference alone loses it, and proactive 1:1 chats cannot be opened without.
    """

    __tablename__ = "teams_conversation"
    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation_id"),
        Index("ix_teams_conversation_user", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(128))
    conversation_id: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str | None] = mapped_column(String(300))
    user_id: Mapped[str | None] = mapped_column(String(128))
    service_url: Mapped[str] = mapped_column(String(300))
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class TeamsMember(Base):
    """A Teams user as the bot last saw them: their own clock's zone, and whether they
    blocked the bot (a 403 on their 1:1 chat), so prompts to them are skipped."""

    __tablename__ = "teams_member"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    local_timezone: Mapped[str | None] = mapped_column(String(64))
    blocked_at: Mapped[datetime | None]
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
