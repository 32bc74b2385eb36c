"""A channel's stand-up answers as passages `ask` can draw on, matched in the database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.kinds import Recall, Recalled
from rituals.llm.search import matching
from rituals.standup.answering import SKIPPED
from rituals.standup.roster import KIND, display
from rituals.standup.summary import short_label
from storage.models import Answer, Channel, Member, Occurrence, Response, Ritual


async def recall(
    session: AsyncSession, channel: Channel, query: Recall, limit: int
) -> list[Recalled]:
    if not query.terms:
        return []
    condition, rank = matching(session, Answer.text, query.terms)
    ranked = rank.label("rank")
    stmt = (
        select(Answer.question, Answer.text, Occurrence.local_date, Member, ranked)
        .join(Response, Response.id == Answer.response_id)
        .join(Occurrence, Occurrence.id == Response.occurrence_id)
        .join(Ritual, Ritual.id == Occurrence.ritual_id)
        .join(Member, Member.id == Response.member_id)
        .where(
            Ritual.channel_id == channel.id,
            Ritual.kind == KIND,
            Answer.text != SKIPPED,  # a question passed over said nothing to draw on
            condition,
        )
        .order_by(ranked.desc(), Occurrence.local_date.desc(), Answer.id)
        .limit(limit)
    )
    if query.since is not None:
        stmt = stmt.where(Occurrence.local_date >= query.since)
    if query.until is not None:
        stmt = stmt.where(Occurrence.local_date <= query.until)
    return [
        Recalled(
            ritual="stand-up",
            day=day,
            text=f"{short_label(question)}: {text}",
            who=display(member),
            rank=float(score),
        )
        for question, text, day, member, score in (await session.execute(stmt)).all()
    ]
