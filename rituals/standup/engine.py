"""The stand-up engine: starting occurrences, asking questions, reminding, summarizing.

Every step claims its work with a database constraint or a conditional update, so two
processes (or a restart) running the same step produce each prompt and summary once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.identity import Actor
from rituals.messages import Message
from rituals.runtime import Runtime
from rituals.schedule import local_date, previous_run
from rituals.standup import blockers as blocker_text
from rituals.standup import settings as cfg
from rituals.standup.summary import (
    OpenBlocker,
    PersonAnswers,
    StandupDigest,
    summary_message,
    thread_message,
)
from rituals.telemetry import OCCURRENCES_MISSED, OCCURRENCES_STARTED
from storage import outbox
from storage.models import (
    Answer,
    Blocker,
    Channel,
    Member,
    Occurrence,
    Participant,
    Response,
    Ritual,
    Workspace,
)
from storage.outbox import Envelope
from storage.queries import claim_unset, insert_ignoring_conflicts

log = structlog.get_logger(__name__)

KIND = "standup"
LOOKBACK = timedelta(hours=36)


@dataclass(frozen=True)
class Where:
    """A ritual's platform coordinates, for addressing the outbox."""

    platform: str
    workspace: str
    channel: str
    channel_name: str

    def to_channel(self, **kw: object) -> Envelope:
        return Envelope(self.platform, self.workspace, "post", channel=self.channel, **kw)  # type: ignore[arg-type]

    def to_person(self, user: str, **kw: object) -> Envelope:
        return Envelope(self.platform, self.workspace, "direct", user=user, **kw)  # type: ignore[arg-type]


async def where_of(session: AsyncSession, ritual: Ritual) -> Where:
    workspace = await session.get_one(Workspace, ritual.channel.workspace_id)
    return Where(
        workspace.platform, workspace.external_id, ritual.channel.external_id, ritual.channel.name
    )


async def participants(session: AsyncSession, ritual_id: int) -> list[Member]:
    rows = await session.execute(
        select(Member)
        .join(Participant, Participant.member_id == Member.id)
        .where(Participant.ritual_id == ritual_id)
    )
    return sorted(rows.scalars(), key=lambda m: (m.name or m.external_id).lower())


def display(member: Member) -> str:
    return member.name or member.external_id


def question_message(
    ritual: Ritual, channel_name: str, index: int, *, greeting: str = ""
) -> Message:
    questions = ritual.questions
    header = f"{greeting}Stand-up for #{channel_name} — question {index + 1} of {len(questions)}"
    return Message(text=f"{header}:\n{questions[index]}", context="Reply here with your answer.")


class StandupEngine:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    # --- starting ---------------------------------------------------------------------

    async def prompt_due(self, ritual_id: int, tz: str) -> int:
        """Run the prompts that the ritual's schedule, seen from ``tz``, last called for.

        The occurrence's time comes from the schedule, not from when this runs, so a late
        or repeated call lands on the same occurrence.
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
                await self._record_missed(session, ritual, day, due, now)
                return 0
            count = await self._prompt(session, ritual, day, now, tz=tz)
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
    ) -> tuple[int, bool]:
        """``standup now``: prompt everyone at once; reuses today's run if one is open."""
        today = local_date(now, ritual.tz)
        existing = (
            await session.execute(
                select(Occurrence)
                .where(
                    Occurrence.ritual_id == ritual.id,
                    Occurrence.local_date == today,
                    Occurrence.status == "open",
                )
                .order_by(Occurrence.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if existing is None:
            occurrence, _ = await self._claim(
                session,
                ritual,
                today,
                now.replace(microsecond=0),
                now + cfg.summary_gap(ritual),
                now,
                manual=True,
            )
        else:
            occurrence = existing
        count = await self._prompt_members(
            session, ritual, occurrence, await participants(session, ritual.id), now
        )
        return count, existing is not None

    async def _record_missed(
        self, session: AsyncSession, ritual: Ritual, day: date, due: datetime, now: datetime
    ) -> None:
        nominal = cfg.nominal_time(ritual, day)
        stmt = insert_ignoring_conflicts(session, Occurrence, ["ritual_id", "scheduled_at"])
        result = await session.execute(
            stmt.values(
                ritual_id=ritual.id,
                scheduled_at=nominal,
                local_date=day,
                started_at=now,
                summary_due_at=cfg.summary_time(ritual, day),
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

    async def _claim(
        self,
        session: AsyncSession,
        ritual: Ritual,
        day: date,
        nominal: datetime,
        summary_due: datetime,
        now: datetime,
        *,
        manual: bool = False,
    ) -> tuple[Occurrence, bool]:
        """The occurrence for ``nominal``, created by exactly one caller (``True`` for it)."""
        stmt = insert_ignoring_conflicts(session, Occurrence, ["ritual_id", "scheduled_at"])
        created = (
            await session.execute(
                stmt.values(
                    ritual_id=ritual.id,
                    scheduled_at=nominal,
                    local_date=day,
                    started_at=now,
                    summary_due_at=summary_due,
                    status="open",
                    manual=manual,
                ).returning(Occurrence.id)
            )
        ).scalar_one_or_none()
        occurrence = (
            await session.execute(
                select(Occurrence)
                .where(Occurrence.ritual_id == ritual.id, Occurrence.scheduled_at == nominal)
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        if created is not None:
            OCCURRENCES_STARTED.labels(KIND).inc()
            log.info(
                "stand-up started",
                ritual_id=ritual.id,
                occurrence_id=occurrence.id,
                day=day.isoformat(),
            )
        elif occurrence.status == "missed":
            occurrence.status = "open"
        return occurrence, created is not None

    async def _prompt(
        self, session: AsyncSession, ritual: Ritual, day: date, now: datetime, *, tz: str
    ) -> int:
        occurrence, _ = await self._claim(
            session, ritual, day, cfg.nominal_time(ritual, day), cfg.summary_time(ritual, day), now
        )
        members = [
            m for m in await participants(session, ritual.id) if m.tz == tz and not m.is_away(day)
        ]
        return await self._prompt_members(session, ritual, occurrence, members, now)

    async def _prompt_members(
        self,
        session: AsyncSession,
        ritual: Ritual,
        occurrence: Occurrence,
        members: list[Member],
        now: datetime,
    ) -> int:
        """Create each member's response and first question; members already asked are skipped."""
        members = [m for m in members if not m.is_away(occurrence.local_date)]
        if not members:
            return 0
        remind_at = min(
            now + timedelta(minutes=cfg.option(ritual, "reminder_minutes")),
            occurrence.summary_due_at - timedelta(minutes=15),
        )
        stmt = insert_ignoring_conflicts(
            session, Response, ["occurrence_id", "member_id"]
        ).returning(Response.member_id)
        rows = [
            {
                "occurrence_id": occurrence.id,
                "member_id": m.id,
                "prompted_at": now,
                "next_question": 0,
                "remind_at": remind_at if remind_at > now else None,
                "late": False,
            }
            for m in members
        ]
        inserted = set((await session.execute(stmt, rows)).scalars())
        if not inserted:
            return 0
        where = await where_of(session, ritual)
        items = []
        for member in members:
            if member.id in inserted:
                greeting = f"Hi {display(member)}! "
                items.append(
                    (
                        where.to_person(
                            member.external_id, dedup_key=f"prompt:{occurrence.id}:{member.id}"
                        ),
                        question_message(ritual, where.channel_name, 0, greeting=greeting),
                    )
                )
        await outbox.enqueue_many(session, items, now)
        return len(items)

    # --- answering --------------------------------------------------------------------

    async def active_response(
        self, session: AsyncSession, member: Member, now: datetime
    ) -> tuple[Response, Occurrence, Ritual] | None:
        """The stand-up this member is in the middle of answering, if any."""
        row = (
            await session.execute(
                select(Response, Occurrence)
                .join(Occurrence, Occurrence.id == Response.occurrence_id)
                .where(
                    Response.member_id == member.id,
                    Response.completed_at.is_(None),
                    Occurrence.status.in_(("open", "summarized")),
                    Response.prompted_at >= now - LOOKBACK,
                )
                .order_by(Response.prompted_at.desc(), Response.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        response, occurrence = row
        ritual = await session.get_one(Ritual, occurrence.ritual_id)
        return response, occurrence, ritual

    async def answer(
        self, session: AsyncSession, actor: Actor, member: Member, text: str, ref: str | None
    ) -> Message:
        """Record the answer to the current question and ask the next, or wrap up."""
        now = self.rt.clock.now()
        found = await self.active_response(session, member, now)
        if found is None:
            return Message(
                text="No stand-up is waiting for your answers right now.",
                context="`standup status` shows when the next one is; `help` lists commands.",
            )
        response, occurrence, ritual = found
        questions = list(ritual.questions)
        index = min(response.next_question, len(questions) - 1)
        answer = Answer(
            response_id=response.id,
            question_index=index,
            question=questions[index],
            text=text.strip()[:4000],
            message_ref=ref,
            answered_at=now,
        )
        session.add(answer)
        await session.flush()
        if index == cfg.blocker_index(ritual):
            await self._record_blocker(session, ritual, member, answer, occurrence.local_date, now)
        response.next_question = index + 1
        where = await where_of(session, ritual)
        if response.next_question < len(questions):
            return question_message(ritual, where.channel_name, response.next_question)
        response.completed_at = now
        if occurrence.status == "summarized":
            response.late = True
            await self._post_late(session, occurrence, ritual, member, where, now)
            return Message(
                text="Thanks! The summary was already out, so your answers went into its thread."
            )
        if await self._everyone_answered(session, ritual, occurrence):
            await self.summarize_in(session, occurrence, now)
        local_due = occurrence.summary_due_at.astimezone(cfg.schedule_of(ritual, member.tz).zone)
        return Message(
            text="Thanks, that's everything!",
            context=(
                "Change an answer with `standup edit N new text` until the summary "
                f"(~{local_due:%H:%M})."
            ),
        )

    async def edit(
        self,
        session: AsyncSession,
        member: Member,
        *,
        question: int | None = None,
        ref: str | None = None,
        text: str,
    ) -> Message:
        """Change an answer before the summary; only the person who gave it can."""
        now = self.rt.clock.now()
        if ref is not None:
            answer = (
                await session.execute(select(Answer).where(Answer.message_ref == ref))
            ).scalar_one_or_none()
            if answer is None:
                return Message(
                    text="That message is not a stand-up answer, so there is nothing to edit."
                )
            response = await session.get_one(Response, answer.response_id)
            if response.member_id != member.id:
                return Message(text="Only the person who gave an answer can edit it.")
        else:
            response = (
                await session.execute(
                    select(Response)
                    .join(Occurrence, Occurrence.id == Response.occurrence_id)
                    .where(Response.member_id == member.id, Response.prompted_at >= now - LOOKBACK)
                    .order_by(Response.prompted_at.desc(), Response.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            if response is None:
                return Message(text="You have no recent stand-up answers to edit.")
            answer = (
                await session.execute(
                    select(Answer).where(
                        Answer.response_id == response.id,
                        Answer.question_index == (question or 1) - 1,
                    )
                )
            ).scalar_one_or_none()
            if answer is None:
                return Message(text=f"You have not answered question {question} yet.")
        occurrence = await session.get_one(Occurrence, response.occurrence_id)
        if occurrence.status != "open":
            return Message(
                text="The summary is out, so answers to that stand-up can no longer be edited."
            )
        ritual = await session.get_one(Ritual, occurrence.ritual_id)
        answer.text = text.strip()[:4000]
        answer.edited_at = now
        if answer.question_index == cfg.blocker_index(ritual):
            await self._reread_blocker(session, ritual, member, answer, occurrence.local_date, now)
        return Message(text=f"Updated your answer to “{answer.question}”.")

    async def _record_blocker(
        self,
        session: AsyncSession,
        ritual: Ritual,
        member: Member,
        answer: Answer,
        day: date,
        now: datetime,
    ) -> None:
        meaning = blocker_text.read(answer.text)
        open_rows = await self.open_blockers(session, ritual.id, member_id=member.id)
        if meaning.resolve_all or meaning.resolve_id is not None:
            for row in open_rows:
                if meaning.resolve_all or row.id == meaning.resolve_id:
                    row.resolved_at = now
                    row.resolved_by = member.id
        if meaning.new_text is None:
            return
        if any(
            row.text.casefold() == meaning.new_text.casefold() and row.resolved_at is None
            for row in open_rows
        ):
            return
        session.add(
            Blocker(
                ritual_id=ritual.id,
                member_id=member.id,
                answer_id=answer.id,
                text=meaning.new_text,
                unblocker=meaning.unblocker,
                opened_on=day,
                opened_at=now,
            )
        )

    async def _reread_blocker(
        self,
        session: AsyncSession,
        ritual: Ritual,
        member: Member,
        answer: Answer,
        day: date,
        now: datetime,
    ) -> None:
        from_answer = (
            await session.execute(
                select(Blocker).where(Blocker.answer_id == answer.id, Blocker.resolved_at.is_(None))
            )
        ).scalar_one_or_none()
        meaning = blocker_text.read(answer.text)
        if from_answer is not None and meaning.new_text is not None:
            from_answer.text = meaning.new_text
            from_answer.unblocker = meaning.unblocker
            return
        if from_answer is not None:
            await session.delete(from_answer)
            await session.flush()
        await self._record_blocker(session, ritual, member, answer, day, now)

    async def open_blockers(
        self, session: AsyncSession, ritual_id: int, *, member_id: int | None = None
    ) -> list[Blocker]:
        query = select(Blocker).where(Blocker.ritual_id == ritual_id, Blocker.resolved_at.is_(None))
        if member_id is not None:
            query = query.where(Blocker.member_id == member_id)
        return list((await session.execute(query.order_by(Blocker.id))).scalars())

    async def _everyone_answered(
        self, session: AsyncSession, ritual: Ritual, occurrence: Occurrence
    ) -> bool:
        expected = {
            m.id
            for m in await participants(session, ritual.id)
            if not m.is_away(occurrence.local_date)
        }
        done = set(
            (
                await session.execute(
                    select(Response.member_id).where(
                        Response.occurrence_id == occurrence.id, Response.completed_at.is_not(None)
                    )
                )
            ).scalars()
        )
        return bool(expected) and expected <= done

    # --- reminders, summaries, escalation ---------------------------------------------

    async def sweep(self) -> None:
        """Send the reminders and summaries that are due; safe from any process, any time."""
        now = self.rt.clock.now()
        async with self.rt.db.session() as session:
            await self._remind(session, now)
            due = (
                await session.execute(
                    select(Occurrence.id).where(
                        Occurrence.status == "open", Occurrence.summary_due_at <= now
                    )
                )
            ).scalars()
            for occurrence_id in list(due):
                occurrence = await session.get_one(Occurrence, occurrence_id)
                await self.summarize_in(session, occurrence, now)
        self.rt.sent_later()

    async def _remind(self, session: AsyncSession, now: datetime) -> None:
        rows = await session.execute(
            select(Response, Occurrence, Member)
            .join(Occurrence, Occurrence.id == Response.occurrence_id)
            .join(Member, Member.id == Response.member_id)
            .where(
                Occurrence.status == "open",
                Response.completed_at.is_(None),
                Response.reminded_at.is_(None),
                Response.remind_at <= now,
            )
        )
        for response, occurrence, member in rows.all():
            if not await claim_unset(session, Response.reminded_at, response.id, now):
                continue
            ritual = await session.get_one(Ritual, occurrence.ritual_id)
            where = await where_of(session, ritual)
            index = min(response.next_question, len(ritual.questions) - 1)
            local_due = occurrence.summary_due_at.astimezone(
                cfg.schedule_of(ritual, member.tz).zone
            )
            message = question_message(
                ritual,
                where.channel_name,
                index,
                greeting=f"Reminder: the summary goes out at {local_due:%H:%M}. ",
            )
            await outbox.enqueue(
                session,
                where.to_person(member.external_id, dedup_key=f"remind:{response.id}"),
                message,
                now,
            )

    async def summarize_in(
        self, session: AsyncSession, occurrence: Occurrence, now: datetime
    ) -> bool:
        """Post the summary once: the conditional update is the claim."""
        claimed = await session.execute(
            update(Occurrence)
            .where(Occurrence.id == occurrence.id, Occurrence.status == "open")
            .values(status="summarized", summarized_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        occurrence.status = "summarized"
        ritual = await session.get_one(Ritual, occurrence.ritual_id)
        where = await where_of(session, ritual)
        digest = await self.digest(session, ritual, occurrence)
        headline = await self.rt.summarizer.headline(digest)
        full = cfg.option(ritual, "summary_mode") == "full"
        summary_id = await outbox.enqueue(
            session,
            where.to_channel(dedup_key=f"summary:{occurrence.id}"),
            summary_message(digest, headline, full=full),
            now,
        )
        occurrence.summary_outbox_id = summary_id
        await session.execute(
            update(Occurrence)
            .where(Occurrence.id == occurrence.id)
            .values(summary_outbox_id=summary_id)
            .execution_options(synchronize_session=False)
        )
        if not full:
            for person in digest.answered:
                await outbox.enqueue(
                    session, where.to_channel(thread_of=summary_id), thread_message(person), now
                )
        await self._escalate(session, ritual, where, occurrence.local_date, now)
        return True

    async def _post_late(
        self,
        session: AsyncSession,
        occurrence: Occurrence,
        ritual: Ritual,
        member: Member,
        where: Where,
        now: datetime,
    ) -> None:
        person = PersonAnswers(
            display(member), await self._answers_of(session, occurrence.id, member.id), late=True
        )
        envelope = where.to_channel(
            thread_of=occurrence.summary_outbox_id, dedup_key=f"late:{occurrence.id}:{member.id}"
        )
        await outbox.enqueue(session, envelope, thread_message(person), now)

    async def _answers_of(
        self, session: AsyncSession, occurrence_id: int, member_id: int
    ) -> list[tuple[str, str]]:
        rows = await session.execute(
            select(Answer.question, Answer.text)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.occurrence_id == occurrence_id, Response.member_id == member_id)
            .order_by(Answer.question_index)
        )
        return [(q, a) for q, a in rows.all()]

    async def digest(
        self, session: AsyncSession, ritual: Ritual, occurrence: Occurrence
    ) -> StandupDigest:
        day = occurrence.local_date
        people = await participants(session, ritual.id)
        responses = {
            r.member_id: r
            for r in (
                await session.execute(
                    select(Response).where(Response.occurrence_id == occurrence.id)
                )
            ).scalars()
        }
        answered, missing, away = [], [], []
        for member in people:
            response = responses.get(member.id)
            if member.is_away(day) and response is None:
                away.append(display(member))
            elif response is not None and response.completed_at is not None:
                answers = await self._answers_of(session, occurrence.id, member.id)
                answered.append(PersonAnswers(display(member), answers, late=response.late))
            else:
                missing.append(display(member))
        return StandupDigest(
            channel=ritual.channel.name or ritual.channel.external_id,
            day=day,
            answered=answered,
            missing=missing,
            away=away,
            blockers=await self.blocker_view(session, ritual.id, day),
        )

    async def blocker_view(
        self, session: AsyncSession, ritual_id: int, day: date
    ) -> list[OpenBlocker]:
        rows = await session.execute(
            select(Blocker, Member)
            .join(Member, Member.id == Blocker.member_id)
            .where(Blocker.ritual_id == ritual_id, Blocker.resolved_at.is_(None))
            .order_by(Blocker.opened_on, Blocker.id)
        )
        return [
            OpenBlocker(
                id=b.id,
                owner=display(m),
                text=b.text,
                age_days=max(0, (day - b.opened_on).days),
                unblocker=f"@{b.unblocker}" if b.unblocker else None,
                new_today=b.opened_on == day,
            )
            for b, m in rows.all()
        ]

    async def _escalate(
        self, session: AsyncSession, ritual: Ritual, where: Where, day: date, now: datetime
    ) -> None:
        """Tell the unblocker (or the lead, or the channel) once about a blocker past its age."""
        limit = int(cfg.option(ritual, "escalate_after_days"))
        for blocker in await self.open_blockers(session, ritual.id):
            age = (day - blocker.opened_on).days
            if age <= limit or blocker.escalated_at is not None:
                continue
            if not await claim_unset(session, Blocker.escalated_at, blocker.id, now):
                continue
            owner = await session.get_one(Member, blocker.member_id)
            message = Message(
                text=(
                    f"Escalation: {display(owner)}'s blocker #{blocker.id} "
                    f"in #{where.channel_name} "
                    f"has been open {age} days: {blocker.text}"
                ),
                context="Resolve it with `standup resolve "
                + str(blocker.id)
                + "` once it is unblocked.",
            )
            target = await self._escalation_target(session, ritual, blocker)
            envelope = (
                where.to_person(target.external_id, dedup_key=f"escalate:{blocker.id}")
                if target is not None
                else where.to_channel(dedup_key=f"escalate:{blocker.id}")
            )
            await outbox.enqueue(session, envelope, message, now)
            log.info(
                "blocker escalated",
                blocker_id=blocker.id,
                age_days=age,
                to=target.external_id if target else "channel",
            )

    async def _escalation_target(
        self, session: AsyncSession, ritual: Ritual, blocker: Blocker
    ) -> Member | None:
        if blocker.unblocker:
            name = blocker.unblocker.casefold()
            people = (
                await session.execute(
                    select(Member).where(Member.workspace_id == ritual.channel.workspace_id)
                )
            ).scalars()
            for person in people:
                if name in {person.external_id.casefold(), (person.name or "").casefold()}:
                    return person
        if ritual.lead_member_id is not None:
            return await session.get(Member, ritual.lead_member_id)
        return None

    async def count_responses(self, session: AsyncSession, occurrence_id: int) -> int:
        return (
            await session.execute(
                select(func.count())
                .select_from(Response)
                .where(Response.occurrence_id == occurrence_id)
            )
        ).scalar_one()


__all__ = ["KIND", "Channel", "StandupEngine", "Where", "participants"]
