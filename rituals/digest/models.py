"""The digest's one table: each week's digest of a channel, claimed once (`rituals.weekly`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class DigestRun(Base):
    """One week's digest of a channel: the unique (ritual, date) posts it once; ``outcome``
    is posted, or missed when no process was up within the grace period."""

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("ritual_id", "local_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ritual_id: Mapped[int] = mapped_column(ForeignKey("ritual.id", ondelete="CASCADE"))
    local_date: Mapped[date]
    due_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(12))
