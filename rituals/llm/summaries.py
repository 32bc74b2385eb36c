"""Summaries the model rewrites after the plain one went out: queued in the closing unit of
work, written by a sweep outside any, and put in place of the plain one through the outbox.

The ritual never waits: the plain summary is queued first and marked as plain; a sweep
claims the row (a lease, so a crash mid-call hands it to the next sweep), calls the model
with no session open, then in a short unit of work queues an update of the posted message:
the written version, or the plain one marked final.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.llm.model import Answer, Model
from rituals.llm.models import ModelChoice, WrittenSummary
from rituals.llm.written import PENDING, PLAIN, SPECS, WRITTEN_BY, Material, marked
from rituals.messages import Message
from rituals.runtime import Runtime
from rituals.where import where_of
from storage.models import OutboxMessage

log = structlog.get_logger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 3
# A written version arriving later than this would replace what people already read.
TOO_LATE = timedelta(hours=2)
BATCH = 10


async def workspace_off(session: AsyncSession, workspace_id: int) -> bool:
    choice = await session.get(ModelChoice, workspace_id)
    return choice is not None and choice.off


async def wanted(session: AsyncSession, model: Model, workspace_id: int) -> bool:
    """Whether this workspace's summaries get the model's version at all."""
    return model.on and not await workspace_off(session, workspace_id)


def pending(message: Message) -> Message:
    """The plain summary as first posted while the model's version is on its way."""
    return marked(message, PENDING)


async def request(
    session: AsyncSession,
    spec: str,
    *,
    workspace_id: int,
    channel_id: int,
    outbox_id: int,
    material: Material,
    now: datetime,
) -> None:
    """Ask for the written version of the summary queued as ``outbox_id``, in the caller's
    unit of work (call `wanted` first; the plain message is marked by `pending`)."""
    if spec not in SPECS:
        raise KeyError(f"no written summary named {spec!r}")
    session.add(
        WrittenSummary(
            workspace_id=workspace_id,
            channel_id=channel_id,
            spec=spec,
            outbox_id=outbox_id,
            material=material,
            status="pending",
            attempts=0,
            prompt_tokens=0,
            completion_tokens=0,
            created_at=now,
        )
    )


async def sweep(rt: Runtime) -> int:
    """Write what is waiting; the number of summaries finished (written or left plain)."""
    model = rt.llm
    done = 0
    # One at a time, so a claim is never left waiting behind another's model call.
    while done < BATCH and (claimed := await _claim(rt, 1)):
        (row_id,) = claimed
        async with rt.db.session() as session:
            row = await session.get_one(WrittenSummary, row_id)
            spec_name, material = row.spec, dict(row.material)
            stale = row.attempts > MAX_ATTEMPTS or rt.clock.now() - row.created_at > TOO_LATE
            off = await workspace_off(session, row.workspace_id)
        spec = SPECS.get(spec_name)
        if spec is None or stale or off or not model.on:
            reason = "unknown" if spec is None else "stale" if stale else "off"
            answer: Answer[Any] = Answer(None, reason)
        else:
            try:
                answer = await spec.write(model, material)
            except Exception:  # a bug in one kind's summary must not hold up the ritual
                log.exception("written summary failed", summary=spec_name, row_id=row_id)
                answer = Answer(None, "error")
        await _finish(rt, model, row_id, answer)
        rt.sent_later()
        done += 1
    return done


async def _claim(rt: Runtime, limit: int) -> list[int]:
    now = rt.clock.now()
    async with rt.db.session() as session:
        rows = await session.execute(
            select(WrittenSummary.id)
            .where(
                WrittenSummary.status == "pending",
                or_(WrittenSummary.claimed_until.is_(None), WrittenSummary.claimed_until < now),
            )
            .order_by(WrittenSummary.id)
            .limit(limit)
        )
        claimed = []
        for row_id in rows.scalars():
            result = await session.execute(
                update(WrittenSummary)
                .where(
                    WrittenSummary.id == row_id,
                    WrittenSummary.status == "pending",
                    or_(
                        WrittenSummary.claimed_until.is_(None),
                        WrittenSummary.claimed_until < now,
                    ),
                )
                .values(claimed_until=now + LEASE, attempts=WrittenSummary.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(row_id)
    return claimed


async def _finish(rt: Runtime, model: Model, row_id: int, answer: Answer[Any]) -> None:
    now = rt.clock.now()
    async with rt.db.session() as session:
        row = await session.get_one(WrittenSummary, row_id, with_for_update=True)
        if row.status != "pending":
            return
        posted = await session.get(OutboxMessage, row.outbox_id)
        spec = SPECS.get(row.spec)
        if posted is not None:
            plain = Message.model_validate(posted.payload)
            plain = plain.model_copy(update={"context": _unmarked(plain.context)})
            shown = marked(plain, PLAIN)
            if answer.value is not None and spec is not None:
                try:
                    shown = marked(
                        spec.render(plain, answer.value, row.material),
                        WRITTEN_BY.format(model=model.name),
                    )
                except Exception:
                    log.exception("written summary not rendered", summary=row.spec)
                    answer = Answer(None, "render_error", *_tokens(answer))
            where = await where_of(session, row.channel_id)
            await outbound.queue(session, where.update(row.outbox_id), shown, now)
        # The answers were copied for the model; once it is done, the copy goes.
        row.material = {}
        row.status = "written" if answer.value is not None else "plain"
        row.reason = answer.reason
        row.prompt_tokens = answer.prompt_tokens
        row.completion_tokens = answer.completion_tokens
        row.finished_at = now
        row.claimed_until = None
    log.info(
        "summary finished",
        summary=row.spec,
        written=answer.value is not None,
        reason=answer.reason,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
    )


def _tokens(answer: Answer[Any]) -> tuple[int, int]:
    return answer.prompt_tokens, answer.completion_tokens


def _unmarked(context: str) -> str:
    for note in (f"{PENDING} · ", PENDING):
        if context.startswith(note):
            return context.removeprefix(note)
    return context
