"""Answering stand-ups: one question after another in a direct message, editable until the summary.

A person in several stand-ups answers them one at a time, oldest first. Rows are locked
while an answer is recorded (on PostgreSQL), so two quick messages, or an answer racing the
summary, are applied one after the other instead of over each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
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
from rituals.where import Where
from storage import direct
from storage.models import Answer, Channel, Member, Occurrence, Response, Ritual, Workspace

MAX_ANSWER = 3000  # what one Slack section shows whole
SKIPPED = "(skipped)"


@dataclass(frozen=True)
class Owed:
    """A stand-up a person owes answers to, as answering reads it (with its rows locked):
    the response, its run, its ritual and where the ritual's channel is.

    Plain values, not ORM objects: loading a response, its run and its ritual into the
    session and flushing the response's changes cost more CPU than the rest of filing an
    answer. The response changes by explicit UPDATEs (`_set`)."""

    response_id: int
    next_question: int
    asked_at: datetime  # when the question owed now was asked (or the run's first)
    completed_at: datetime | None
    occurrence_id: int
    questions: list[str]
    status: str
    local_date: date
    summary_due_at: datetime
    summarized_at: datetime | None
    summary_outbox_id: int | None
    ritual_id: int
    where: Where

    @classmethod
    def of(cls, response: tuple[Any, ...], run: tuple[Any, ...]) -> Owed:
        """From the columns of `_RESPONSE` and of `_RUN`, in their order."""
        *head, platform, workspace, channel, name = run
        return cls(*response, *head, Where(platform, workspace, channel, name))


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

    async def pending(self, session: AsyncSession, member: Member, now: datetime) -> Owed | None:
        """The stand-up this person is answering: the oldest they have not finished."""
        found = await direct.rows(session, "standup pending", _pending, owed_values(member.id, now))
        if not found:
            return None
        row = found[0]
        return Owed.of(row[: len(_RESPONSE)], row[len(_RESPONSE) :])

    async def owed(
        self, session: AsyncSession, member: Member, now: datetime
    ) -> tuple[str, int, list[str]] | None:
        """What :meth:`pending` would find, only read, for showing: the channel's name, the
        index of the question owed next and the run's questions. Takes no lock, so a status
        asked while the person answers waits for nothing."""
        values = owed_values(member.id, now)
        rows = await direct.rows(session, "standup owed", owed_question, values)
        if not rows:
            return None
        name, index, questions = rows[0]
        return name, index, list(questions)

    async def _locked(self, session: AsyncSession, response_id: int) -> Owed:
        """Re-read under lock: the response exclusive first, then the occurrence shared.

        Always in that order, and the summary's update of the occurrence happens in a
        transaction of its own, so two of these never wait on each other in a circle.
        """
        ((*response, occurrence_id),) = await direct.rows(
            session, "standup response locked", _response_locked, {"id": response_id}
        )
        (run,) = await direct.rows(
            session, "standup run locked", _run_locked, {"occurrence": occurrence_id}
        )
        return Owed.of(tuple(response), run)

    async def answer_pending(
        self, session: AsyncSession, member: Member, owed: Owed, text: str, ref: str | None
    ) -> Answered:
        """Record the answer to the current question and ask the next, or wrap up; ``owed``
        is what :meth:`pending` looked up (and locked)."""
        now = self.rt.clock.now()
        if (too_long := _too_long(text)) is not None:
            return Answered(too_long)
        index = owed.next_question
        await self._store(session, member, owed, index, text, ref, now)
        following = index + 1
        if following < len(owed.questions):
            await _set(session, owed.response_id, next_question=following, asked_at=now)
            return Answered(question_message(owed.questions, owed.where.channel_name, following))
        return await self._complete(session, member, owed, now, next_question=following)

    async def skip(self, session: AsyncSession, member: Member, owed: Owed) -> Answered:
        """``skip``: today's remaining questions are passed, the answers so far stand.

        A passed question is stored as "(skipped)" for the record, never read as a blocker.
        """
        now = self.rt.clock.now()
        for index in range(owed.next_question, len(owed.questions)):
            await self._store(session, member, owed, index, SKIPPED, None, now, skipped=True)
        return await self._complete(session, member, owed, now, next_question=len(owed.questions))

    async def cancel(self, session: AsyncSession, member: Member, owed: Owed) -> Answered:
        """``cancel``: this run stops for the person; the summary counts them out today."""
        now = self.rt.clock.now()
        await _set(session, owed.response_id, cancelled_at=now, completed_at=now)
        done = Message(text=f"Stopped today's #{owed.where.channel_name} stand-up for you.")
        close = None
        if owed.status == "open":
            missing = await self.closer.still_missing(
                session, owed.ritual_id, owed.occurrence_id, owed.local_date
            )
            close = self._look_again(owed, missing)
        return Answered(await self._then_next(session, member, now, done), close=close)

    async def ask_again(self, session: AsyncSession, owed: Owed, now: datetime) -> Message:
        """The question owed, asked again (another kind's conversation came in between)."""
        await _set(session, owed.response_id, asked_at=now)
        return question_message(
            owed.questions,
            owed.where.channel_name,
            owed.next_question,
            occurrence_id=owed.occurrence_id,
        )

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
        owed = await self._locked(session, response_id)
        late_ok = owed.summarized_at is not None and owed.summarized_at >= now - LATE
        if owed.status != "open" and not (owed.status == "summarized" and late_ok):
            return Answered(Message(text="That stand-up is closed; its answers can't change now."))
        rows = await session.execute(select(Answer).where(Answer.response_id == owed.response_id))
        given = {a.question_index: a for a in rows.scalars()}
        for index, text in enumerate(texts[: len(owed.questions)]):
            if index not in given:
                await self._store(session, member, owed, index, text, None, now)
            elif owed.status == "open" and given[index].text != text.strip():
                await self._change(session, member, owed, given[index], text, now)
        every = len(owed.questions)
        if owed.completed_at is not None:
            await _set(session, owed.response_id, next_question=every)
            return Answered(Message(text="Updated your answers."))
        return await self._complete(session, member, owed, now, next_question=every)

    async def _store(
        self,
        session: AsyncSession,
        member: Member,
        owed: Owed,
        index: int,
        text: str,
        ref: str | None,
        now: datetime,
        *,
        skipped: bool = False,
    ) -> None:
        questions = owed.questions
        answer = Answer(
            response_id=owed.response_id,
            question_index=index,
            question=questions[index],
            text=text.strip()[:4000],
            message_ref=ref,
            answered_at=now,
        )
        values = {column: getattr(answer, column) for column in _ANSWER_VALUES}
        ((answer.id,),) = await direct.rows(session, "standup answer", _insert_answer, values)
        if not skipped and index == blocker_question_index(questions):
            await ledger.record(session, owed.ritual_id, member, answer, owed.local_date, now)

    async def _change(
        self,
        session: AsyncSession,
        member: Member,
        owed: Owed,
        answer: Answer,
        text: str,
        now: datetime,
    ) -> None:
        answer.text = text.strip()[:4000]
        answer.edited_at = now
        if answer.question_index == blocker_question_index(owed.questions):
            await ledger.reread(session, owed.ritual_id, member, answer, owed.local_date, now)

    async def _complete(
        self, session: AsyncSession, member: Member, owed: Owed, now: datetime, **changes: Any
    ) -> Answered:
        """The last answer is in: thank, post late answers, or let the summary go out;
        ``changes`` are the response's other changes, made in the same UPDATE."""
        where = owed.where
        late = owed.status == "summarized"
        await _set(session, owed.response_id, completed_at=now, late=late, **changes)
        close = None
        missing = None
        if owed.status == "open":
            missing = await self.closer.still_missing(
                session, owed.ritual_id, owed.occurrence_id, owed.local_date
            )
            close = self._look_again(owed, missing)
        if late:
            await self.closer.post_late(
                session, owed.occurrence_id, owed.summary_outbox_id, member, where, now
            )
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
            due = when_label(owed.summary_due_at, member.tz, now)
            done = Message(
                text=f"Thanks, that's everything for #{where.channel_name}!",
                context="Change an answer with `standup edit N new text` until the summary "
                f"(~{due}, your time).",
            )
        return Answered(await self._then_next(session, member, now, done), close=close)

    def _look_again(self, owed: Owed, missing: int | None) -> int | None:
        """The run to look at once this answer has committed: everyone has finished, or so
        few are left that answers committing alongside it may have finished it."""
        few = missing is not None and missing <= self.closer.look_again_within
        return owed.occurrence_id if few else None

    async def _then_next(
        self, session: AsyncSession, member: Member, now: datetime, done: Message
    ) -> Message:
        """After finishing one stand-up, carry straight on with the next one waiting."""
        owed = await self.pending(session, member, now)
        if owed is None:
            return done
        await _set(session, owed.response_id, asked_at=now)
        following = question_message(owed.questions, owed.where.channel_name, owed.next_question)
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
        owed = await self._locked(session, answer.response_id)
        if owed.status != "open":
            return Message(text="The summary is out, so those answers can no longer be edited.")
        await self._change(session, member, owed, answer, text, now)
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


def owed_values(member_id: int, now: datetime, prefix: str = "") -> dict[str, Any]:
    """The values `_owed`'s statements take for what ``member_id`` owes at ``now``."""
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
    own, needed only to learn its id. The `Answer` built for it stays out of the session."""
    table = Answer.__table__
    return (
        insert(table)
        .values({column: bindparam(column) for column in _ANSWER_VALUES})
        .returning(table.c.id)
    )


# What `Owed` holds of a response, and of its run, ritual and channel, in its order.
_RESPONSE = (
    Response.id,
    Response.next_question,
    func.coalesce(Response.asked_at, Response.prompted_at),
    Response.completed_at,
)
_RUN = (
    Occurrence.id,
    Occurrence.questions,
    Occurrence.status,
    Occurrence.local_date,
    Occurrence.summary_due_at,
    Occurrence.summarized_at,
    Occurrence.summary_outbox_id,
    Ritual.id,
    Workspace.platform,
    Workspace.external_id,
    Channel.external_id,
    Channel.name,
)


def _with_channel(query: Any) -> Any:
    return (
        query.join(Ritual, Ritual.id == Occurrence.ritual_id)
        .join(Channel, Channel.id == Ritual.channel_id)
        .join(Workspace, Workspace.id == Channel.workspace_id)
    )


def _pending() -> Any:
    """The oldest stand-up a person still owes answers to, with its run, ritual and
    channel, in one statement: its response locked exclusive and its run shared, as
    `_locked` takes them."""
    return (
        _oldest(_with_channel(_owed("", *_RESPONSE, *_RUN)))
        .with_for_update(of=Response)
        .suffix_with(f"FOR SHARE OF {Occurrence.__tablename__}", dialect="postgresql")
    )


def owed_question() -> Any:
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
    lambda: _owed("standup_"), lambda member_id, now: owed_values(member_id, now, "standup_")
)


def _response_locked() -> Any:
    return (
        select(*_RESPONSE, Response.occurrence_id)
        .where(Response.id == bindparam("id"))
        .with_for_update(of=Response)
    )


def _run_locked() -> Any:
    """The occurrence, shared-locked, with its ritual and channel in the same statement."""
    return (
        _with_channel(select(*_RUN))
        .where(Occurrence.id == bindparam("occurrence"))
        .with_for_update(read=True, of=Occurrence)
    )


async def _set(session: AsyncSession, response_id: int, **values: Any) -> None:
    """Change the response's columns ``values`` in one UPDATE, straight to the driver."""
    names = tuple(sorted(values))
    await direct.rows(
        session,
        ("standup response", names),
        lambda: _update_response(names),
        {"id": response_id, **values},
    )
    direct.written(session, Response, response_id, values)


def _update_response(names: tuple[str, ...]) -> Any:
    table = Response.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("id"))
        .values({name: bindparam(name) for name in names})
    )
