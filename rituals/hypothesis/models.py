"""The hypothesis tables: the canvas, its series of points, its history, its scheduled
check-ins, and the channel's weekly digests.

``recent`` keeps the last values on the hypothesis row itself, so a digest of many
hypotheses reads one row each however long their series has grown.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage import fulltext
from storage.models import Base, BigId


class Hypothesis(Base):
    """One bet, numbered per channel (``number``), open while ``state`` is proposed or
    testing. ``next_checkin_at`` is when its owner is asked next (the sweep's claim moves
    it on); ``missed_at`` is set while its last check-in went unanswered. A bet outlives
    its owner's member row (``owner_id`` becomes null): the leads still change and close it."""

    __tablename__ = "hypothesis"
    __table_args__ = (
        UniqueConstraint("ritual_id", "number"),
        Index("ix_hypothesis_due", "next_checkin_at"),
        Index("ix_hypothesis_owner", "owner_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    belief: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    metric: Mapped[str] = mapped_column(String(100))
    op: Mapped[str] = mapped_column(String(2))
    target: Mapped[float] = mapped_column(Float)
    baseline: Mapped[float | None] = mapped_column(Float)
    model: Mapped[str | None] = mapped_column(String(100))
    deadline: Mapped[date | None]
    cadence: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="")
    recent: Mapped[list[Any]] = mapped_column(JSON, default=list)
    points: Mapped[int] = mapped_column(Integer, default=0)
    last_point_at: Mapped[datetime | None]
    next_checkin_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    outcome_note: Mapped[str] = mapped_column(Text, default="")


# What `ask` searches of a bet: its canvas and what was learned, as one text.
STATEMENT = fulltext.document(
    Hypothesis.belief, Hypothesis.result, Hypothesis.metric, Hypothesis.outcome_note
)
fulltext.index("ix_hypothesis_fts", STATEMENT)


class HypothesisPoint(Base):
    """One point of a series: a check-in or a value from monitoring. ``source`` is unique
    per hypothesis, so a value handed over twice is stored once."""

    __tablename__ = "hypothesis_point"
    __table_args__ = (
        UniqueConstraint("hypothesis_id", "source"),
        Index("ix_hypothesis_point_at", "hypothesis_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hypothesis_id: Mapped[int] = mapped_column(ForeignKey("hypothesis.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    value: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    source: Mapped[str | None] = mapped_column(String(200))


fulltext.index("ix_hypothesis_point_fts", HypothesisPoint.note)  # check-ins, for `ask`


class HypothesisEvent(Base):
    """One step of the history: proposed, testing, a missed check-in, the outcome."""

    __tablename__ = "hypothesis_event"
    __table_args__ = (Index("ix_hypothesis_event_hypothesis", "hypothesis_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hypothesis_id: Mapped[int] = mapped_column(ForeignKey("hypothesis.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")


class HypothesisAsk(Base):
    """One scheduled check-in: the unique (hypothesis, due) row is the claim that asks it
    once across processes; ``reminded_at`` and ``missed_at`` are claimed the same way."""

    __tablename__ = "hypothesis_ask"
    __table_args__ = (
        UniqueConstraint("hypothesis_id", "due_at"),
        Index("ix_hypothesis_ask_owner", "owner_id", "answered_at"),
        Index("ix_hypothesis_ask_open", "answered_at", "missed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hypothesis_id: Mapped[int] = mapped_column(ForeignKey("hypothesis.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    due_at: Mapped[datetime]
    asked_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(12))


class HypothesisDigestRun(Base):
    """One weekly digest of a channel: the unique (ritual, date) posts it once."""

    __tablename__ = "hypothesis_digest_run"
    __table_args__ = (UniqueConstraint("ritual_id", "local_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    local_date: Mapped[date]
    due_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(12))
