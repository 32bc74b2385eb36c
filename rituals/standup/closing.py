"""Closing stand-ups: the one reminder, the summary, late answers and escalations.

Each is claimed by a conditional update (a column still unset, a status still open), so any
number of processes may sweep at any time and each thing happens once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Date, Integer, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.kinds import Notice
from rituals.llm import summaries
from rituals.messages import Message
from rituals.runtime import Runtime
from rituals.schedule import when_label
from rituals.standup import ledger, written
from rituals.standup import settings as cfg
from rituals.standup.roster import display, participants, question_message
from rituals.standup.summary import (
    PersonAnswers,
    PlainSummarizer,
    StandupDigest,
    Summarizer,
    summary_message,
    thread_message,
)
from rituals.where import Where, where_of
from storage import direct
from storage.models import (
    Answer,
    Blocker,
    Channel,
    Member,
    Occurrence,
    Participant,
    Response,
    Ritual,
)
from storage.queries import claim_unset

log = structlog.get_logger(__name__)


async def _no_notices(*_args: object) -> list[Notice]:
    return []


# At most this many people still to finish, an answer that finishes looks again once it
# has committed: answers committed at the same moment in other transactions do not see each
# other, and one of them may have been the last. One process files answers in up to four
# overlapping batches of 32; beyond this the sweep sends the summary.
LOOK_AGAIN_WITHIN = 128


def _still_missing() -> Any:
    expected = (
        select(Participant.member_id)
        .join(Member, Member.id == Participant.member_id)
        .where(
            Participant.ritual_id == bindparam("ritual"),
            ~Member.away_on(bindparam("day", type_=Date)),
        )
    )
    # A scalar subquery per participant, one probe of the (occurrence, member) key each:
    # written as NOT EXISTS, PostgreSQL plans an anti-join that, on statistics not yet
    # gathered for a table just filled (a team's first stand-up), compares every participant
    # with every response (5 ms for 300 people, asked at each person's last answer).
    finished_at = (
        select(Response.completed_at)
        .where(
            Response.occurrence_id == bindparam("occurrence"),
            Response.member_id == Participant.member_id,
        )
        .scalar_subquery()
    )
    missing = (
        expected.where(finished_at.is_(None)).limit(bindparam("cap", type_=Integer)).subquery()
    )
    return select(
        expected.exists().label("anyone"),
        select(func.count()).select_from(missing).scalar_subquery().label("missing"),
    )


class Closer:
    def __init__(self, runtime: Runtime, summarizer: Summarizer | None = None) -> None:
        self.rt = runtime
        self.summarizer = summarizer or PlainSummarizer()
        self.look_again_within = LOOK_AGAIN_WITHIN
        # Other kinds' lines for the summary; the kind wires its peers in once they exist.
        self.notices: Callable[
            [AsyncSession, Channel, datetime | None, datetime], Awaitable[list[Notice]]
        ] = _no_notices

    async def sweep(self) -> None:
        """Send what is due: reminders, then summaries, each occurrence in its own transaction.

        A summary also goes out here for an occurrence everyone has answered, in case the
        last two answers arrived together and neither saw the other's.
        """
        now = self.rt.clock.now()
        async with self.rt.db.session() as session:
            await self._remind(session, now)
            due = await session.execute(select(Occurrence.id).where(Occurrence.status == "open"))
            open_ids = list(due.scalars())
        for occurrence_id in open_ids:
            try:
                async with self.rt.db.session() as session:
                    occurrence = await session.get_one(Occurrence, occurrence_id)
                    ritual = await session.get_one(Ritual, occurrence.ritual_id)
                    if occurrence.summary_due_at <= now or await self.everyone_answered(
                        session, ritual, occurrence
                    ):
                        await self.summarize(session, occurrence, now)
            except Exception:  # one broken summary must not hold up the others
                log.exception("summary failed", occurrence_id=occurrence_id)
        self.rt.sent_later()

    async def close_if_complete(self, occurrence_id: int) -> None:
        """Summarize now if everyone has answered: called once an answer that finished
        someone's stand-up has committed, when few or none were left."""
        now = self.rt.clock.now()
        async with self.rt.db.session() as session:
            occurrence = await session.get_one(Occurrence, occurrence_id)
            if occurrence.status != "open":
                return
            ritual = await session.get_one(Ritual, occurrence.ritual_id)
            if not await self.everyone_answered(session, ritual, occurrence):
                return
            await self.summarize(session, occurrence, now)
        self.rt.sent_later()

    async def _remind(self, session: AsyncSession, now: datetime) -> None:
        rows = await session.execute(
            select(Response, Occurrence, Member)
            .join(Occurrence, Occurrence.id == Response.occurrence_id)
            .join(Member, Member.id == Response.member_id)
            .join(
                Participant,
                and_(
                    Participant.ritual_id == Occurrence.ritual_id,
                    Participant.member_id == Member.id,
                ),
            )
            .where(
                Occurrence.status == "open",
                Response.completed_at.is_(None),
                Response.reminded_at.is_(None),
                Response.remind_at <= now,
            )
        )
        places: dict[int, Where] = {}
        for response, occurrence, member in rows.all():
            if member.is_away(occurrence.local_date):
                continue
            if not await claim_unset(session, Response.reminded_at, response.id, now):
                continue
            response.asked_at = now
            where = places.get(occurrence.ritual_id)
            if where is None:
                ritual = await session.get_one(Ritual, occurrence.ritual_id)
                where = places[occurrence.ritual_id] = await where_of(session, ritual.channel_id)
            due = when_label(occurrence.summary_due_at, member.tz, now)
            message = question_message(
                occurrence.questions,
                where.channel_name,
                response.next_question,
                greeting=f"Reminder: the summary goes out at {due}. ",
                occurrence_id=occurrence.id,
            )
            envelope = where.direct(member.external_id, dedup_key=f"remind:{response.id}")
            await outbound.queue(session, envelope, message, now)

    async def everyone_answered(
        self, session: AsyncSession, ritual: Ritual, occurrence: Occurrence
    ) -> bool:
        missing = await self.still_missing(session, ritual.id, occurrence.id, occurrence.local_date)
        return missing == 0

    async def still_missing(
        self, session: AsyncSession, ritual_id: int, occurrence_id: int, day: date
    ) -> int | None:
        """How many of those expected today have not finished, counted up to one past
        ``look_again_within``; None when nobody is expected. One statement, asked at each
        person's last answer, so it must not read the roster."""
        values = {
            "ritual": ritual_id,
            "occurrence": occurrence_id,
            "day": day,
            "cap": self.look_again_within + 1,
        }
        ((anyone, missing),) = await direct.rows(
            session, "standup still missing", _still_missing, values
        )
        return int(missing) if anyone else None

    async def summarize(self, session: AsyncSession, occurrence: Occurrence, now: datetime) -> None:
        """Post the summary once: the status change from open is the claim."""
        claimed = await session.execute(
            update(Occurrence)
            .where(Occurrence.id == occurrence.id, Occurrence.status == "open")
            .values(status="summarized", summarized_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return
        ritual = await session.get_one(Ritual, occurrence.ritual_id)
        where = await where_of(session, ritual.channel_id)
        digest = await self.digest(session, ritual, occurrence)
        since = await session.scalar(
            select(func.max(Occurrence.summarized_at)).where(
                Occurrence.ritual_id == ritual.id, Occurrence.id != occurrence.id
            )
        )
        digest.notices.extend(await self.notices(session, ritual.channel, since, now))
        headline = await self.summarizer.headline(digest)
        full = cfg.of(ritual).summary_mode == "full"
        message = summary_message(digest, headline, full=full)
        workspace_id = ritual.channel.workspace_id
        rewrite = await summaries.wanted(session, self.rt.llm, workspace_id)
        summary_id = await outbound.queue(
            session,
            where.post(dedup_key=f"summary:{occurrence.id}"),
            summaries.pending(message) if rewrite else message,
            now,
        )
        if rewrite and summary_id is not None:
            await summaries.request(
                session,
                written.SUMMARY.name,
                workspace_id=workspace_id,
                channel_id=ritual.channel_id,
                outbox_id=summary_id,
                material=written.material(
                    digest,
                    await self.earlier(session, ritual, occurrence),
                    budget=self.rt.llm.config.budget // 3,
                ),
                now=now,
            )
        occurrence.status = "summarized"
        occurrence.summarized_at = now
        occurrence.summary_outbox_id = summary_id
        if not full:
            replies = [
                (where.post(thread_of=summary_id), thread_message(p)) for p in digest.answered
            ]
            await outbound.queue_many(session, replies, now)
        await self._escalate(session, ritual, where, occurrence.local_date, now)

    async def earlier(
        self, session: AsyncSession, ritual: Ritual, occurrence: Occurrence
    ) -> list[StandupDigest]:
        """The last few summarized days before this one, newest first: what themes across
        days are drawn from."""
        rows = await session.execute(
            select(Occurrence)
            .where(
                Occurrence.ritual_id == ritual.id,
                Occurrence.status == "summarized",
                Occurrence.local_date < occurrence.local_date,
            )
            .order_by(Occurrence.local_date.desc())
            .limit(written.EARLIER_DAYS)
        )
        return [await self.digest(session, ritual, before) for before in rows.scalars()]

    async def post_late(
        self,
        session: AsyncSession,
        occurrence_id: int,
        summary_outbox_id: int | None,
        member: Member,
        where: Where,
        now: datetime,
    ) -> None:
        """A late person's answers, into the thread of the summary they missed."""
        person = PersonAnswers(
            display(member), await self.answers_of(session, occurrence_id, member.id), late=True
        )
        envelope = where.post(
            thread_of=summary_outbox_id, dedup_key=f"late:{occurrence_id}:{member.id}"
        )
        await outbound.queue(session, envelope, thread_message(person), now)

    async def answers_of(
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
        rows = await session.execute(
            select(Response)
            .where(Response.occurrence_id == occurrence.id)
            .execution_options(populate_existing=True)  # answers change them by UPDATE
        )
        responses = {r.member_id: r for r in rows.scalars()}
        given: dict[int, list[tuple[str, str]]] = {}
        for member_id, question, text in await session.execute(
            select(Response.member_id, Answer.question, Answer.text)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.occurrence_id == occurrence.id)
            .order_by(Answer.question_index)
        ):
            given.setdefault(member_id, []).append((question, text))
        answered, missing, away, stopped = [], [], [], []
        for member in await participants(session, ritual.id):
            response = responses.get(member.id)
            if response is not None and response.cancelled_at is not None:
                stopped.append(display(member))
            elif response is not None and response.completed_at is not None:
                answers = given.get(member.id, [])
                answered.append(PersonAnswers(display(member), answers, late=response.late))
            elif member.is_away(day):
                away.append(display(member))
            else:
                missing.append(display(member))
        return StandupDigest(
            channel=ritual.channel.name or ritual.channel.external_id,
            day=day,
            answered=answered,
            missing=missing,
            away=away,
            blockers=await ledger.view(session, ritual.id, day),
            stopped=stopped,
        )

    async def _escalate(
        self, session: AsyncSession, ritual: Ritual, where: Where, day: date, now: datetime
    ) -> None:
        """Tell the unblocker (or the lead, or the channel) once about a blocker past its age."""
        limit = int(cfg.of(ritual).escalate_after_days)
        for blocker in await ledger.open_blockers(session, ritual.id):
            age = (day - blocker.opened_on).days
            if age <= limit or blocker.escalated_at is not None:
                continue
            if not await claim_unset(session, Blocker.escalated_at, blocker.id, now):
                continue
            owner = await session.get_one(Member, blocker.member_id)
            message = Message(
                text=(
                    f"Escalation: {display(owner)}'s blocker #{blocker.id} "
                    f"in #{where.channel_name} has been open {age} days: {blocker.text}"
                ),
                context=f"Resolve it with `standup resolve {blocker.id}` once it is unblocked.",
            )
            target = await self._escalation_target(session, ritual, blocker)
            key = f"escalate:{blocker.id}"
            envelope = (
                where.direct(target.external_id, dedup_key=key)
                if target is not None
                else where.post(dedup_key=key)
            )
            await outbound.queue(session, envelope, message, now)
            log.info("blocker escalated", blocker_id=blocker.id, age_days=age)

    async def _escalation_target(
        self, session: AsyncSession, ritual: Ritual, blocker: Blocker
    ) -> Member | None:
        """The person the blocker names (by id or name), else the stand-up's lead."""
        if blocker.unblocker:
            name = blocker.unblocker.lower()
            named = await session.execute(
                select(Member)
                .where(
                    Member.workspace_id == ritual.channel.workspace_id,
                    or_(func.lower(Member.external_id) == name, func.lower(Member.name) == name),
                )
                .order_by(func.lower(Member.external_id) != name, Member.id)
                .limit(1)
            )
            person = named.scalar_one_or_none()
            if person is not None:
                return person
        if ritual.lead_member_id is not None:
            return await session.get(Member, ritual.lead_member_id)
        return None


LATE_WINDOW = timedelta(hours=12)


def answerable(now: datetime) -> object:
    """Occurrences that still take answers: open ones, and summarized ones for a while."""
    return answerable_after(now - LATE_WINDOW)


def answerable_after(summarized: object) -> Any:
    """Open occurrences, and those summarized no earlier than ``summarized``."""
    return or_(
        Occurrence.status == "open",
        and_(Occurrence.status == "summarized", Occurrence.summarized_at >= summarized),
    )
