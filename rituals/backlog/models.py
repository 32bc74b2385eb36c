"""The backlog's tables: items with a short number per channel, their history, and sprints.

Every list filter has an index that starts with the channel's ritual and the item's phase
(open, done or dropped) and ends with the list's order (priority, then number, which is age),
so a page is one range scan whatever the channel holds.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage import fulltext
from storage.models import Base, BigId


class BacklogSprint(Base):
    """A sprint of one channel. ``open_ritual_id`` is set while it runs: unique, so a channel
    has at most one open sprint however many people start one at once. A sprint named by
    `backlog sprint ID NAME` before it starts is planned (no ``started_at``)."""

    __tablename__ = "backlog_sprint"
    __table_args__ = (UniqueConstraint("ritual_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100))  # the name folded, for lookups
    goal: Mapped[str] = mapped_column(String(300), default="")
    until: Mapped[date | None]
    open_ritual_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    started_at: Mapped[datetime | None]
    started_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    review_outbox_id: Mapped[int | None] = mapped_column(BigId)
    # What its closer chose for the items still open: "next" sprint, or "backlog".
    carry: Mapped[str | None] = mapped_column(String(8))


class BacklogItem(Base):
    """One item. ``number`` is its short id in the channel (``#12``); ``phase`` is ``state``
    with doing folded into open, the column the indexes order by; ``source`` is where it came
    from (``retro:12:action:5``), unique per channel so a second hand-off finds the first."""

    __tablename__ = "backlog_item"
    __table_args__ = (
        UniqueConstraint("ritual_id", "number"),
        UniqueConstraint("ritual_id", "source"),
        Index("ix_backlog_item_phase", "ritual_id", "phase", "priority", "number"),
        Index("ix_backlog_item_type", "ritual_id", "phase", "type", "priority", "number"),
        Index("ix_backlog_item_owner", "ritual_id", "phase", "owner_id", "priority", "number"),
        Index("ix_backlog_item_sprint", "ritual_id", "phase", "sprint_id", "priority", "number"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(8))
    phase: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    sprint_id: Mapped[int | None] = mapped_column(
        ForeignKey("backlog_sprint.id", ondelete="SET NULL")
    )
    source: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# What `ask` searches of an item: its title and description, as one text.
WORDS = fulltext.document(BacklogItem.title, BacklogItem.description)
fulltext.index("ix_backlog_item_fts", WORDS)


class BacklogChange(Base):
    """One step of an item's history: who changed what, when (``filed``, ``state done``,
    ``owner @Ana``, ``priority p1``…)."""

    __tablename__ = "backlog_change"
    __table_args__ = (Index("ix_backlog_change_item", "item_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("backlog_item.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    what: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime]


fulltext.index("ix_backlog_change_fts", BacklogChange.what)  # an item's history, for `ask`
