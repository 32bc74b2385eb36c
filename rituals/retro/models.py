"""The retro's tables: boards, items, votes and budgets, action items, and its schedule.

An anonymous item has no author column set and no row anywhere else that names its author;
votes and budgets name the voter, never an item's author.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage import fulltext
from storage.models import Base, BigId


class Retro(Base):
    """One board. ``open_ritual_id`` is set while it is open: unique, so a channel has at
    most one open retro however many people start one at once."""

    __tablename__ = "retro"
    __table_args__ = (Index("ix_retro_ritual", "ritual_id", "opened_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(16))
    allow_anonymous: Mapped[bool] = mapped_column(Boolean)
    hidden: Mapped[bool] = mapped_column(Boolean)
    votes_per_person: Mapped[int] = mapped_column(Integer)
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    open_ritual_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    board_outbox_id: Mapped[int | None] = mapped_column(BigId)
    opened_at: Mapped[datetime]
    revealed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # What another kind handed over to open it (an alert's post-mortem), once per source.
    source: Mapped[str | None] = mapped_column(String(200), unique=True)


class RetroItem(Base):
    """A card on a board; ``retro_id`` is unset while it waits for the channel's next retro."""

    __tablename__ = "retro_item"
    __table_args__ = (
        Index("ix_retro_item_retro", "retro_id"),
        Index("ix_retro_item_waiting", "ritual_id", "retro_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    retro_id: Mapped[int | None] = mapped_column(ForeignKey("retro.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    thread_outbox_id: Mapped[int | None] = mapped_column(BigId)


fulltext.index("ix_retro_item_fts", RetroItem.text)  # what `ask` searches


class RetroVoter(Base):
    """One person's vote budget on one board: the row every vote of theirs updates, so
    concurrent votes take turns on it and the budget holds."""

    __tablename__ = "retro_voter"

    retro_id: Mapped[int] = mapped_column(
        ForeignKey("retro.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    used: Mapped[int] = mapped_column(Integer)


class RetroVote(Base):
    __tablename__ = "retro_vote"
    __table_args__ = (
        UniqueConstraint("item_id", "member_id"),
        Index("ix_retro_vote_retro", "retro_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    retro_id: Mapped[int] = mapped_column(ForeignKey("retro.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("retro_item.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    cast_at: Mapped[datetime]


class RetroAction(Base):
    """An action item a retro closed with, open until someone marks it done.

    ``owner`` is the ``@name`` as written; ``owner_id`` the member it named, when known.
    ``reminded_at`` is the claim for the one reminder before ``due``.
    """

    __tablename__ = "retro_action"
    __table_args__ = (
        Index("ix_retro_action_ritual", "ritual_id", "status"),
        Index("ix_retro_action_owner", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    retro_id: Mapped[int | None] = mapped_column(ForeignKey("retro.id", ondelete="SET NULL"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("retro_item.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(128))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    due: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]


class RetroActionNote(Base):
    """One step of an action item's history: raised, still open at a retro, reminded, done."""

    __tablename__ = "retro_action_note"
    __table_args__ = (Index("ix_retro_action_note_action", "action_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("retro_action.id", ondelete="CASCADE"))
    retro_id: Mapped[int | None] = mapped_column(ForeignKey("retro.id", ondelete="SET NULL"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class RetroSeries(Base):
    """A channel's retro cadence: every ``every_weeks`` weeks on ``weekday`` at ``at``.

    ``anchor`` is the first date it runs (weeks count from it); ``since`` is when it was set,
    so a date due before that is never taken for a missed one.
    """

    __tablename__ = "retro_series"

    ritual_id: Mapped[int] = mapped_column(
        ForeignKey("ritual.id", ondelete="CASCADE"), primary_key=True
    )
    every_weeks: Mapped[int] = mapped_column(Integer)
    weekday: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(5))
    anchor: Mapped[date]
    since: Mapped[datetime]


class RetroRun(Base):
    """One scheduled date of a series; the unique (ritual, date) is the claim that starts
    it once across processes, and records a date skipped or missed."""

    __tablename__ = "retro_run"
    __table_args__ = (UniqueConstraint("ritual_id", "local_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    local_date: Mapped[date]
    due_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(12))
    retro_id: Mapped[int | None] = mapped_column(ForeignKey("retro.id", ondelete="SET NULL"))
