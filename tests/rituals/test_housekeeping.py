"""Delivery ids are remembered as long as a platform may retry, then pruned in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rituals.clock import FakeClock
from rituals.housekeeping import prune_deliveries
from storage.db import Database
from storage.models import InboundEvent

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def test_delivery_ids_older_than_a_day_are_pruned_in_batches(db: Database) -> None:
    async with db.session() as session:
        for n, age in enumerate([timedelta(days=3)] * 7 + [timedelta(hours=23)] * 2):
            session.add(InboundEvent(platform="slack", delivery_id=f"Ev{n}", received_at=NOW - age))

    assert await prune_deliveries(db, FakeClock(NOW), batch=3) == 7

    async with db.session() as session:
        kept = list((await session.execute(select(InboundEvent.delivery_id))).scalars())
    assert sorted(kept) == ["Ev7", "Ev8"]
    assert await prune_deliveries(db, FakeClock(NOW), batch=3) == 0
