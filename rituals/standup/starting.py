"""Starting stand-ups: one occurrence per ritual and day, one prompt per member.

The occurrence row (unique per ritual and day) and each response row (unique per occurrence
and member) are the claims: however many processes run a step, the database lets one win.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.runtime import Runtime
from rituals.schedule import local_date, local_instant, previous_run
from rituals.standup import settings as cfg
from rituals.standup.roster import (
    KIND,
    LOOKBACK,
    display,
    participants,
    question_message,
)
from rituals.telemetry import OCCURRENCES_MISSED, OCCURRENCES_STARTED
from rituals.where import where_of
from storage.models import Member, Occurrence, Participant, Response, Ritual
from storage.queries import insert_ignoring_conflicts

log = structlog.get_logger(__name__)

CHUNK = 250  # members written per statement: bounds memory on large channels


class Starter:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def prompt_due(self, ritual_id: int, tz: str) -> int:
        """Ask the members in ``tz`` whatever the schedule, seen from ``tz``, last called for.

        The day comes from the schedule, not from when this runs, so a late or repeated
        call lands on the same occurrence; past the grace period it is recorded as missed.
        """
        now = self.rt.clock.now()
        async with self.rt.db.session() as session:
            ritual = await session.get(Ritual, ritual_id)
            if ritual is None or ritual.paused:
                return 0
            due = previous_run(cfg.schedule_of(ritual, tz), now)
            if due is None or now - due > LOOKBACK:
                return 0
            day = local_date(due, tz)
            if now - due > self.rt.grace:
                since = cfg.of(ritual).schedule_since or ritual.created_at
                if due < since:
                    return 0  # due before the stand-up (or its schedule) existed: never was
                await self._record_missed(session, ritual, day, due, now)
                return 0
            occurrence, _ = await self.occurrence_for(session, ritual, day, now)
            if occurrence.status != "open" or occurrence.summary_due_at <= now:
                return 0
            people = [m for m in await participants(session, ritual.id) if m.tz == tz]
            count = await self.prompt_members(session, occurrence, ritual, people, now)
        if count:
            self.rt.sent_later()
        return count

    async def catch_up(self) -> int:
        """At start: run what came due while no process was up, within the grace period."""
        async with self.rt.db.session() as session:
            rows = await session.execute(
                select(Ritual.id).where(Ritual.kind == KIND, Ritual.paused.is_(False))
            )
            ritual_ids = list(rows.scalars())
        total = 0
        for ritual_id in ritual_ids:
            for tz in await self.timezones(ritual_id):
                total += await self.prompt_due(ritual_id, tz)
        return total

    async def timezones(self, ritual_id: int) -> list[str]:
        """The distinct zones of a ritual's participants: one schedule job each."""
        async with self.rt.db.session() as session:
            rows = await session.execute(
                select(Member.tz)
                .join(Participant, Participant.member_id == Member.id)
                .where(Participant.ritual_id == ritual_id)
                .distinct()
            )
            return sorted(rows.scalars())

    async def start_now(
        self, session: AsyncSession, ritual: Ritual, now: datetime
    ) -> tuple[int, Occurrence, bool]:
        """``standup now``: today's occurrence (made if need be), everyone not yet asked.

        Returns how many were asked, the occurrence, and whether this call started it.
        """
        day = local_date(now, ritual.tz)
        occurrence, started = await self.occurrence_for(
            session, ritual, day, now, nominal=now, summary_due=now + cfg.summary_gap(ritual)
        )
        if occurrence.status != "open":
            return 0, occurrence, False
        people = await participants(session, ritual.id)
        asked = await self.prompt_members(session, occurrence, ritual, people, now)
        return asked, occurrence, started

    async def occurrence_for(
        self,
        session: AsyncSession,
        ritual: Ritual,
        day: date,
        now: datetime,
        *,
        nominal: datetime | None = None,
        summary_due: datetime | None = None,
    ) -> tuple[Occurrence, bool]:
        """The ritual's occurrence for ``day``, created (or revived) by exactly one caller.

        The scheduled summary waits until the set summary time has come in every
        participant's zone, so nobody is asked after the summary went out.
        """
        existing = (
            await session.execute(
                select(Occurrence)
                .where(Occurrence.ritual_id == ritual.id, Occurrence.local_date == day)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if existing is not None and existing.status != "missed":
            return existing, False
        if summary_due is None:
            zones = {ritual.tz, *[m.tz for m in await participants(session, ritual.id)]}
            summary_at = cfg.parse_hhmm(cfg.of(ritual).summary_at)
            summary_due = max(local_instant(day, summary_at, tz) for tz in zones)
        values = {
            "ritual_id": ritual.id,
            "scheduled_at": nominal or cfg.nominal_time(ritual, day),
            "local_date": day,
            "started_at": now,
            "summary_due_at": summary_due,
            "questions": cfg.of(ritual).questions,
            "status": "open",
            "manual": nominal is not None,
        }
        stmt = insert_ignoring_conflicts(session, Occurrence, ["ritual_id", "local_date"])
        created = (
            await session.execute(stmt.values(**values).returning(Occurrence.id))
        ).scalar_one_or_none()
        occurrence = (
            await session.execute(
                select(Occurrence)
                .where(Occurrence.ritual_id == ritual.id, Occurrence.local_date == day)
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        revived = created is None and await self._revive(session, occurrence, values)
        if created is not None or revived:
            OCCURRENCES_STARTED.labels(KIND).inc()
            log.info(
                "stand-up started", ritual_id=ritual.id, occurrence_id=occurrence.id, day=str(day)
            )
        return occurrence, created is not None or revived

    async def _revive(
        self, session: AsyncSession, occurrence: Occurrence, values: dict[str, object]
    ) -> bool:
        """Start a run that was recorded as missed, as if it were new; one caller wins."""
        if occurrence.status != "missed":
            return False
        fresh = {k: v for k, v in values.items() if k not in ("ritual_id", "local_date")}
        result = await session.execute(
            update(Occurrence)
            .where(Occurrence.id == occurrence.id, Occurrence.status == "missed")
            .values(**fresh)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        for key, value in fresh.items():
            setattr(occurrence, key, value)
        return True

    async def _record_missed(
        self, session: AsyncSession, ritual: Ritual, day: date, due: datetime, now: datetime
    ) -> None:
        stmt = insert_ignoring_conflicts(session, Occurrence, ["ritual_id", "local_date"])
        result = await session.execute(
            stmt.values(
                ritual_id=ritual.id,
                scheduled_at=cfg.nominal_time(ritual, day),
                local_date=day,
                started_at=now,
                summary_due_at=cfg.summary_time(ritual, day),
                questions=cfg.of(ritual).questions,
                status="missed",
                manual=False,
            ).returning(Occurrence.id)
        )
        if result.scalar_one_or_none() is not None:
            OCCURRENCES_MISSED.labels(KIND).inc()
            log.warning(
                "stand-up skipped: the process was down past the grace period",
                ritual_id=ritual.id,
                day=day.isoformat(),
                due=due.isoformat(),
                late_by_s=int((now - due).total_seconds()),
            )

    async def prompt_members(
        self,
        session: AsyncSession,
        occurrence: Occurrence,
        ritual: Ritual,
        members: list[Member],
        now: datetime,
    ) -> int:
        """Create each member's response and first question; those already asked are skipped."""
        members = [m for m in members if not m.is_away(occurrence.local_date)]
        if not members:
            return 0
        remind_at = min(
            now + timedelta(minutes=cfg.of(ritual).reminder_minutes),
            occurrence.summary_due_at - timedelta(minutes=15),
        )
        stmt = insert_ignoring_conflicts(
            session, Response, ["occurrence_id", "member_id"]
        ).returning(Response.member_id)
        where = await where_of(session, ritual.channel_id)
        busy = await self._answering_elsewhere(session, occurrence, members, now)
        asked = 0
        for start in range(0, len(members), CHUNK):
            chunk = members[start : start + CHUNK]
            rows = [
                {
                    "occurrence_id": occurrence.id,
                    "member_id": m.id,
                    "prompted_at": now,
                    "asked_at": None if m.id in busy else now,
                    "next_question": 0,
                    "remind_at": remind_at if remind_at > now else None,
                    "late": False,
                }
                for m in chunk
            ]
            inserted = set((await session.execute(stmt, rows)).scalars())
            items = [
                (
                    where.direct(m.external_id, dedup_key=f"prompt:{occurrence.id}:{m.id}"),
                    question_message(
                        occurrence.questions,
                        where.channel_name,
                        0,
                        greeting=f"Hi {display(m)}! ",
                        occurrence_id=occurrence.id,
                    ),
                )
                for m in chunk
                if m.id in inserted and m.id not in busy
            ]
            await outbound.queue_many(session, items, now)
            asked += len(inserted)
        return asked

    async def _answering_elsewhere(
        self, session: AsyncSession, occurrence: Occurrence, members: list[Member], now: datetime
    ) -> set[int]:
        """People still answering another open stand-up: their first question here waits
        until they finish that one, so each reply is for the question just asked."""
        rows = await session.execute(
            select(Response.member_id)
            .join(Occurrence, Occurrence.id == Response.occurrence_id)
            .where(
                Response.member_id.in_([m.id for m in members]),
                Response.completed_at.is_(None),
                Response.prompted_at >= now - LOOKBACK,
                Occurrence.status == "open",
                Occurrence.id != occurrence.id,
            )
        )
        return set(rows.scalars())
