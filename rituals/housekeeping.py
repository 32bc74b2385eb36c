"""Keeping the database to the size the bot needs: old delivery ids are pruned.

A delivery id only has to be remembered while a platform may still retry it (Slack retries
for minutes, Teams and webhooks for less than an hour): a day is plenty.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from rituals.clock import Clock
from storage.db import Database
from storage.models import InboundEvent
from storage.queries import delete_before

log = structlog.get_logger(__name__)

KEEP_DELIVERIES = timedelta(days=1)
BATCH = 5_000


async def prune_deliveries(db: Database, clock: Clock, *, batch: int = BATCH) -> int:
    """Forget delivery ids older than a day, a batch per unit of work; how many went."""
    before = clock.now() - KEEP_DELIVERIES
    total = 0
    while True:
        async with db.session() as session:
            gone = await delete_before(session, InboundEvent.received_at, before, batch=batch)
        total += gone
        if gone < batch:
            break
    if total:
        log.info("old delivery ids pruned", rows=total)
    return total
