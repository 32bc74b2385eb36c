"""The model's tables: summaries waiting for their written version, and who said no.

A written summary is asked for after the plain one is queued, from a row stored in the same
unit of work, so a restart between the two loses nothing: the sweep finds the row again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class WrittenSummary(Base):
    """One plain summary (``outbox_id``) awaiting, or done with, the model's version.

    ``material`` is what the model will be shown, already stripped of what must not leave
    (anonymous authors); ``status`` is pending, written or plain (the fallback stayed).
    """

    __tablename__ = "llm_summary"
    __table_args__ = (Index("ix_llm_summary_status", "status", "claimed_until"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    spec: Mapped[str] = mapped_column(String(32))
    outbox_id: Mapped[int] = mapped_column(BigId)
    material: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class ModelChoice(Base):
    """A workspace's own say on the model: ``off`` keeps every summary plain and every
    ``ask`` answer to the retrieved passages, whatever the deployment allows."""

    __tablename__ = "llm_workspace"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    off: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime]
