"""Who takes part in a stand-up and where its messages go: shared by every stand-up step."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.messages import Button, Message
from storage import direct
from storage.models import Member, Participant
from storage.queries import prepared

KIND = "standup"
LOOKBACK = timedelta(hours=36)  # how far back a run still takes prompts and answers


async def participants(session: AsyncSession, ritual_id: int) -> list[Member]:
    query = prepared(
        session,
        "standup participants",
        lambda: (
            select(Member)
            .join(Participant, Participant.member_id == Member.id)
            .where(Participant.ritual_id == bindparam("ritual"))
        ),
    )
    rows = await session.execute(query, {"ritual": ritual_id})
    return sorted(rows.scalars(), key=lambda m: (m.name or m.external_id).lower())


async def names_and_zones(session: AsyncSession, ritual_id: int) -> list[tuple[str, str]]:
    """Each participant's name and time zone, in the order ``participants`` gives: what a
    stand-up's description lists, read as plain columns (a status is asked far more often
    than anything else, and fifty loaded members cost more than the rest of it)."""
    rows = await direct.rows(
        session,
        "standup participant names",
        lambda: (
            select(func.coalesce(func.nullif(Member.name, ""), Member.external_id), Member.tz)
            .join(Participant, Participant.member_id == Member.id)
            .where(Participant.ritual_id == bindparam("ritual"))
        ),
        {"ritual": ritual_id},
    )
    return sorted(((name, tz) for name, tz in rows), key=lambda row: row[0].lower())


def display(member: Member) -> str:
    return member.name or member.external_id


def question_message(
    questions: list[str],
    channel_name: str,
    index: int,
    *,
    greeting: str = "",
    occurrence_id: int | None = None,
) -> Message:
    """One question in a direct message; with ``occurrence_id``, a button for all at once."""
    header = f"{greeting}Stand-up for #{channel_name} — question {index + 1} of {len(questions)}"
    buttons = (
        [
            Button(
                label="Answer all at once",
                action_id="standup.answers",
                value=str(occurrence_id),
                form=True,
            )
        ]
        if occurrence_id is not None
        else []
    )
    return Message(
        text=f"{header}:\n{questions[index]}",
        buttons=buttons,
        context="Reply here with your answer.",
    )
