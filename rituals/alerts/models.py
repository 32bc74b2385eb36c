"""The alerts' tables: a channel's webhook token, its alerts grouped as the channel shows
them, and the rules that turn raw metric values into alerts.

``open_key`` columns are set while a group or an alert is open and cleared when it ends:
unique, so one identity has one open alert (and one message) however many requests race.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage import fulltext
from storage.models import Base, BigId


class AlertHook(Base):
    """A channel's webhook: only the keyed hash of its token is kept."""

    __tablename__ = "alert_hook"

    ritual_id: Mapped[int] = mapped_column(
        ForeignKey("ritual.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class AlertGroup(Base):
    """One channel message listing the alerts of one Alertmanager group (or one model)."""

    __tablename__ = "alert_group"
    __table_args__ = (Index("ix_alert_group_ritual", "ritual_id", "opened_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    open_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    outbox_id: Mapped[int | None] = mapped_column(BigId)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class Alert(Base):
    """One alert from firing to resolved; ``last_event`` is the digest of the last thing
    received about it, so a sender's retry of the same thing changes nothing."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_ritual_status", "ritual_id", "status"),
        Index("ix_alert_group", "group_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_group.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(String(64))
    open_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    model: Mapped[str] = mapped_column(String(200), default="")
    metric: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(32), default="warning")
    summary: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    url: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float | None] = mapped_column(Float)
    fired_value: Mapped[float | None] = mapped_column(Float)  # ``value`` when it fired
    threshold: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="firing")
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    count: Mapped[int] = mapped_column(Integer, default=1)
    last_event: Mapped[str] = mapped_column(String(64))
    fired_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    escalated_at: Mapped[datetime | None]
    task_ref: Mapped[str | None] = mapped_column(String(200))
    postmortem_ref: Mapped[str | None] = mapped_column(String(200))


# What `ask` searches of an alert: what it is called and says, and what it is about.
WORDS = fulltext.document(Alert.name, Alert.summary, Alert.model, Alert.metric)
fulltext.index("ix_alert_fts", WORDS)


class AlertRule(Base):
    """``MODEL METRIC OP THRESHOLD [for N minutes]``: raw values crossing it fire an alert;
    ``breach_since`` is when the current run of crossing values began."""

    __tablename__ = "alert_rule"
    __table_args__ = (Index("ix_alert_rule_lookup", "ritual_id", "model", "metric"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(200))
    op: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float] = mapped_column(Float)
    for_minutes: Mapped[int] = mapped_column(Integer, default=0)
    breach_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
