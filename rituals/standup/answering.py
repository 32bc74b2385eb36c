"""Answering stand-ups: one question after another in a direct message, editable until the summary.

A person in several stand-ups answers them one at a time, oldest first. Rows are locked
while an answer is recorded (on PostgreSQL), so two quick messages, or an answer racing the
summary, are applied one after the other instead of over each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.kinds import Probe
from rituals.messages import Message, Section
from rituals.runtime import Runtime
from rituals.schedule import when_label
from rituals.standup import ledger
from rituals.standup.blockers import blocker_question_index
from rituals.standup.closing import LATE_WINDOW as LATE
from rituals.standup.closing import Closer, answerable_after
from rituals.standup.roster import LOOKBACK, question_message
from rituals.where import where_of
from storage import reads
from storage.models import Answer, Channel, Member, Occurrence, Response, Ritual
from storage.queries import prepared

Found = tuple[Response, Occurrence, Ritual]
MAX_ANSWER = 3000  # what one Slack section shows whole
SKIPPED = "(skipped)"


@dataclass(frozen=True)
class Answered:
    """The reply, and the occurrence to look at once this answer is committed, if any: it
    is summarized then if everyone has answered.

    The summary runs in a transaction of its own so an answer never holds the occurrence
    while waiting to update it.
    """

    reply: Message
    close: int | None = None


class Answering:
    def __init__(self, runtime: Runtime, closer: Closer) -> None:
        self.rt = runtime
        self.closer = closer

    async def pending(self, session: AsyncSession, member: Member, now: datetime) -> Found | None:
        """The stand-up this person is answering: the oldest they have not finished."""
        for _ in range(3):
            query = prepared(session, "standup pending", _pending)
            found = (await session.execute(query, _owed_by(member.id, now))).first()
            if found is None:
                return None
            response, occurrence, ritual = found
            if response.completed_at is None:
                return response, occurrence, ritual
        return None

    async def owed(
        self, session: AsyncSession, member: Member, now: datetime
    ) -> tuple[str, int, list[str]] | None:
        """What :meth:`pending` would find, only read, for showing: the channel's name, the
        index of the question owed next and the run's questions. Takes no lock, so a status
        asked while the person answers waits for nothing."""
        rows = await reads.rows(session, "standup owed", _owed_question, _owed_by(member.id, now))
        if not rows:
            return None
        name, index, questions = rows[0]
        return name, index, list(questions)

    async def _locked(self, session: AsyncSession, response_id: int, occurrence_id: int) -> Found:
        """Re-read under lock: the response exclusive first, then the occurrence shared.

        Always in that order, and the summary's update of the occurrence happens in a
        transaction of its own, so two of these never wait on each other in a circle.
        """
        response = (
            await session.execute(
                prepared(session, "standup response locked", _response_locked),
                {"id": response_id},
            )
        ).scalar_one()
        occurrence, ritual = await self._occurrence(session, occurrence_id)
        return response, occurrence, ritual

    async def _occurrence(
        self, session: AsyncSession, occurrence_id: int
    ) -> tuple[Occurrence, Ritual]:
        """The occurrence shared-locked, with its ritual: taken after the response's lock."""
        row = await session.execute(
            prepared(session, "standup occurrence locked", _occurrence_locked),
            {"id": occurrence_id},
        )
        occurrence, ritual = row.one()
        return occurrence, ritual

    async def answer_pending(
        self, session: AsyncSession, member: Member, found: Found, text: str, ref: str | None
    ) -> Answered:
        """Record the answer to the current question and ask the next, or wrap up; ``found``
        is what :meth:`pending` looked up (and locked)."""
        now = self.rt.clock.now()
        response, occurrence, ritual = found
        if (too_long := _too_long(text)) is not None:
            return Answered(too_long)
        questions = list(occurrence.questions)
        index = response.next_question
        await self._store(session, member, occurrence, ritual, response, index, text, ref, now)
        response.next_question = index + 1
        where = await where_of(session, ritual.channel_id)
        if response.next_question < len(questions):
            response.asked_at = now
            return Answered(question_message(questions, where.channel_name, response.next_question))
        return await self._complete(session, member, response, occurrence, ritual, now)

    async def skip(self, session: AsyncSession, member: Member, found: Found) -> Answered:
        """``skip``: today's remaining questions are passed, the answers so far stand.

        A passed question is stored as "(skipped)" for the record, never read as a blocker.
        """
        now = self.rt.clock.now()
        response, occurrence, ritual = found
        questions = list(occurrence.questions)
        for index in range(response.next_question, len(questions)):
            await self._store(
                session,
                member,
                occurrence,
                ritual,
                response,
                index,
                SKIPPED,
                None,
                now,
                skipped=True,
            )
        response.next_question = len(questions)
        return await self._complete(session, member, response, occurrence, ritual, now)

    async def cancel(self, session: AsyncSession, member: Member, found: Found) -> Answered:
        """``cancel``: this run stops for the person; the summary counts them out today."""
        now = self.rt.clock.now()
        response, occurrence, ritual = found
        response.cancelled_at = now
        response.completed_at = now
        where = await where_of(session, ritual.channel_id)
        done = Message(text=f"Stopped today's #{where.channel_name} stand-up for you.")
        close = None
        if occurrence.status == "open":
            missing = await self.closer.still_missing(session, ritual, occurrence)
            close = self._look_again(occurrence, missing)
        return Answered(await self._then_next(session, member, now, done), close=close)

    async def answer_all(
        self, session: AsyncSession, member: Member, occurrence_id: int, texts: list[str]
    ) -> Answered:
        """Every answer of one stand-up at once (a form): new ones stored, changed ones edited."""
        now = self.rt.clock.now()
        response_id = (
            await session.execute(
                select(Response.id).where(
                    Response.occurrence_id == occurrence_id, Response.member_id == member.id
                )
            )
        ).scalar_one_or_none()
        if response_id is None:
            return Answered(Message(text="You were not asked in that stand-up."))
        response, occurrence, ritual = await self._locked(session, response_id, occurrence_id)
        late_ok = occurrence.summarized_at is not None and occurrence.summarized_at >= now - LATE
        if occurrence.status != "open" and not (occurrence.status == "summarized" and late_ok):
            return Answered(Message(text="That stand-up is closed; its answers can't change now."))
        rows = await session.execute(select(Answer).where(Answer.response_id == response.id))
        given = {a.question_index: a for a in rows.scalars()}
        for index, text in enumerate(texts[: len(occurrence.questions)]):
            if index not in given:
                await self._store(
                    session, member, occurrence, ritual, response, index, text, None, now
                )
            elif occurrence.status == "open" and given[index].text != text.strip():
                await self._change(session, member, occurrence, ritual, given[index], text, now)
        response.next_question = len(occurrence.questions)
        if response.completed_at is not None:
            return Answered(Message(text="Updated your answers."))
        return await self._complete(session, member, response, occurrence, ritual, now)

    async def _store(
        self,
        session: AsyncSession,
        member: Member,
        occurrence: Occurrence,
        ritual: Ritual,
        response: Response,
        index: int,
        text: str,
        ref: str | None,
        now: datetime,
        *,
        skipped: bool = False,
    ) -> None:
        questions = list(occurrence.questions)
        answer = Answer(
            response_id=response.id,
            question_index=index,
            question=questions[index],
            text=text.strip()[:4000],
            message_ref=ref,
            answered_at=now,
        )
        values = {column: getattr(answer, column) for column in _ANSWER_VALUES}
        stored = await session.execute(prepared(session, "standup answer", _insert_answer), values)
        answer.id = stored.scalar_one()
        if not skipped and index == blocker_question_index(questions):
            await ledger.record(session, ritual.id, member, answer, occurrence.local_date, now)

    async def _change(
        self,
        session: AsyncSession,
        member: Member,
        occurrence: Occurrence,
        ritual: Ritual,
        answer: Answer,
        text: str,
        now: datetime,
    ) -> None:
        answer.text = text.strip()[:4000]
        answer.edited_at = now
        if answer.question_index == blocker_question_index(list(occurrence.questions)):
            await ledger.reread(session, ritual.id, member, answer, occurrence.local_date, now)

    async def _complete(
        self,
        session: AsyncSession,
        member: Member,
        response: Response,
        occurrence: Occurrence,
        ritual: Ritual,
        now: datetime,
    ) -> Answered:
        """The last answer is in: thank, post late answers, or let the summary go out."""
        where = await where_of(session, ritual.channel_id)
        response.completed_at = now
        close = None
        missing = None
        if occurrence.status == "open":
            missing = await self.closer.still_missing(session, ritual, occurrence)
            close = self._look_again(occurrence, missing)
        if occurrence.status == "summarized":
            response.late = True
            await self.closer.post_late(session, occurrence, member, where, now)
            done = Message(
                text=f"Thanks! The #{where.channel_name} summary was already out, "
                "so your answers went into its thread."
            )
        elif missing == 0:
            done = Message(
                text=f"Thanks, that's everything! You were the last to answer, so the "
                f"#{where.channel_name} summary is going out now."
            )
        else:
            due = when_label(occurrence.summary_due_at, member.tz, now)
            done = Message(
                text=f"Thanks, that's everything for #{where.channel_name}!",
                context="Change an answer with `standup edit N new text` until the summary "
                f"(~{due}, your time).",
            )
        return Answered(await self._then_next(session, member, now, done), close=close)

    def _look_again(self, occurrence: Occurrence, missing: int | None) -> int | None:
        """The run to look at once this answer has committed: everyone has finished, or so
        few are left that answers committing alongside it may have finished it."""
        few = missing is not None and missing <= self.closer.look_again_within
        return occurrence.id if few else None

    async def _then_next(
        self, session: AsyncSession, member: Member, now: datetime, done: Message
    ) -> Message:
        """After finishing one stand-up, carry straight on with the next one waiting."""
        found = await self.pending(session, member, now)
        if found is None:
            return done
        response, occurrence, ritual = found
        response.asked_at = now
        where = await where_of(session, ritual.channel_id)
        following = question_message(
            occurrence.questions, where.channel_name, response.next_question
        )
        return Message(
            text=done.text,
            sections=[Section(text=following.text)],
            context=following.context,
        )

    async def edit(
        self,
        session: AsyncSession,
        member: Member,
        *,
        text: str,
        question: int | None = None,
        ref: str | None = None,
        channel: Channel | None = None,
    ) -> Message | None:
        """Change an answer before the summary; only the person who gave it can.

        An edited message that was no answer of this person's (by ``ref``) gets no reply.
        """
        now = self.rt.clock.now()
        if ref is not None:
            answer = (
                await session.execute(
                    select(Answer)
                    .join(Response, Response.id == Answer.response_id)
                    .where(Answer.message_ref == ref, Response.member_id == member.id)
                    .limit(1)
                )
            ).scalar_one_or_none()
            if answer is None:
                return None
        else:
            answer = await self._answer_to(session, member, question or 1, channel, now)
            if answer is None:
                return Message(text=f"You have not answered question {question} yet.")
        if (too_long := _too_long(text)) is not None:
            return too_long
        response = await session.get_one(Response, answer.response_id)
        response, occurrence, ritual = await self._locked(
            session, response.id, response.occurrence_id
        )
        if occurrence.status != "open":
            return Message(text="The summary is out, so those answers can no longer be edited.")
        await self._change(session, member, occurrence, ritual, answer, text, now)
        return Message(text=f"Updated your answer to “{answer.question}”.")

    async def _answer_to(
        self,
        session: AsyncSession,
        member: Member,
        question: int,
        channel: Channel | None,
        now: datetime,
    ) -> Answer | None:
        """The person's answer to ``question`` in their latest stand-up (of this channel)."""
        query = (
            select(Answer)
            .join(Response, Response.id == Answer.response_id)
            .join(Occurrence, Occurrence.id == Response.occurrence_id)
            .where(
                Response.member_id == member.id,
                Response.prompted_at >= now - LOOKBACK,
                Answer.question_index == question - 1,
            )
            .order_by(Response.prompted_at.desc(), Response.id.desc())
            .limit(1)
        )
        if channel is not None:
            query = query.join(Ritual, Ritual.id == Occurrence.ritual_id).where(
                Ritual.channel_id == channel.id
            )
        return (await session.execute(query)).scalar_one_or_none()


def _too_long(text: str) -> Message | None:
    """Answers are kept whole, so one longer than a chat message can show is refused."""
    length = len(text.strip())
    if length <= MAX_ANSWER:
        return None
    return Message(
        text=f"Sorry — that answer is {length:,} characters; the limit is {MAX_ANSWER:,}.",
        context="Send a shorter one; nothing was saved, and the question still waits.",
    )


def _owed(prefix: str = "", *of: Any) -> Any:
    """Responses a person (``member``) still owes answers to: prompted ``since``, of a run
    summarized no earlier than ``late``; ``of`` what to select (their ids by default)."""
    return (
        select(*(of or (Response.id,)))
        .join(Occurrence, Occurrence.id == Response.occurrence_id)
        .where(
            Response.member_id == bindparam(f"{prefix}member"),
            Response.completed_at.is_(None),
            Response.prompted_at >= bindparam(f"{prefix}since"),
            answerable_after(bindparam(f"{prefix}late")),
        )
    )


def _owed_by(member_id: int, now: datetime, prefix: str = "") -> dict[str, Any]:
    return {
        f"{prefix}member": member_id,
        f"{prefix}since": now - LOOKBACK,
        f"{prefix}late": now - LATE,
    }


def _oldest(owed: Any) -> Any:
    """The one owed response answered first: of an open run before a closed one, then the
    earliest prompted."""
    return owed.order_by((Occurrence.status != "open"), Response.prompted_at, Response.id).limit(1)


_ANSWER_VALUES = ("response_id", "question_index", "question", "text", "message_ref", "answered_at")


def _insert_answer() -> Any:
    """The answer as one INSERT: added to the session, it cost a unit-of-work flush of its
    own, needed only to learn its id."""
    table = Answer.__table__
    return (
        insert(table)
        .values({column: bindparam(column) for column in _ANSWER_VALUES})
        .returning(table.c.id)
    )


def _pending() -> Any:
    """The oldest stand-up a person still owes answers to, with its run and ritual, in one
    statement: its response locked exclusive and its run shared, as `_locked` takes them."""
    return (
        _oldest(
            _owed("", Response, Occurrence, Ritual).join(Ritual, Ritual.id == Occurrence.ritual_id)
        )
        .with_for_update(of=Response)
        .suffix_with(f"FOR SHARE OF {Occurrence.__tablename__}", dialect="postgresql")
        .execution_options(populate_existing=True)
    )


def _owed_question() -> Any:
    """The oldest stand-up owed, as `_pending` finds it: its channel's name, the next
    question's index and the questions, as plain columns."""
    return _oldest(
        _owed(
            "",
            func.coalesce(func.nullif(Channel.name, ""), Channel.external_id),
            Response.next_question,
            Occurrence.questions,
        )
        .join(Ritual, Ritual.id == Occurrence.ritual_id)
        .join(Channel, Channel.id == Ritual.channel_id)
    )


PROBE = Probe(
    lambda: _owed("standup_"), lambda member_id, now: _owed_by(member_id, now, "standup_")
)


def _response_locked() -> Any:
    return (
        select(Response)
        .where(Response.id == bindparam("id"))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _occurrence_locked() -> Any:
    """The occurrence, shared-locked, with its ritual in the same statement."""
    return (
        select(Occurrence, Ritual)
        .join(Ritual, Ritual.id == Occurrence.ritual_id)
        .where(Occurrence.id == bindparam("id"))
        .with_for_update(read=True, of=Occurrence)
        .execution_options(populate_existing=True)
    )
