"""Scheduled check-ins: the owner is asked in private on the hypothesis's cadence, in their
own zone, reminded once, and the check-in is marked missed when it stays unanswered.

Each due check-in is claimed twice over, so it is asked once however many processes sweep:
a conditional update moves ``next_checkin_at`` on only if it still names that due time, and
a unique (hypothesis, due) row records it. The ask's ``asked_at`` (or its reminder's) orders
this conversation against other kinds' (a stand-up's questions) for the router.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.commands import tokens as t
from rituals.context import CommandContext
from rituals.hypothesis import commands, store, views
from rituals.hypothesis.cadence import next_checkin
from rituals.hypothesis.models import Hypothesis, HypothesisAsk
from rituals.kinds import Probe, Waiting
from rituals.messages import Button, Message, Section
from rituals.reply import Reply, say
from rituals.runtime import Runtime
from rituals.where import where_of
from storage.models import Member
from storage.queries import claim_unset, insert_ignoring_conflicts, prepared

log = structlog.get_logger(__name__)

REMIND_AFTER = timedelta(hours=4)
MISSED_AFTER = timedelta(hours=8)  # after the reminder
BATCH = 500
CATCH_UP_STEPS = 1000  # a bound on the walk over the grace period's check-ins
FORM = "hypothesis.checkin"
STATUS_WORDS = {
    "on track": "on-track",
    "ontrack": "on-track",
    "at risk": "at-risk",
    "validated": "validated",
    "invalidated": "invalidated",
}
_ANSWER = re.compile(
    r"(?:#?(?P<number>[0-9]{1,10})[:,]? +)?"
    r"(?P<status>on[ -]?track|at[ -]risk|validated|invalidated)"
    r"[:,.]?(?: +(?P<rest>.*))?",
    re.IGNORECASE | re.DOTALL,
)
_VALUE = re.compile(r"(?:(?P<name>[^\s=]+)=)?(?P<value>\S+)")
MAX_EVIDENCE = 1000


@dataclass(frozen=True)
class Pending:
    ask_id: int
    hypothesis_id: int
    number: int


def _open_asks(prefix: str = "") -> list[Any]:
    """Check-ins asked of their owner (``owner``) and neither answered nor missed yet."""
    return [
        HypothesisAsk.owner_id == bindparam(f"{prefix}owner"),
        HypothesisAsk.asked_at.is_not(None),
        HypothesisAsk.answered_at.is_(None),
        HypothesisAsk.missed_at.is_(None),
    ]


def _asks_waiting() -> Any:
    """Asked for every direct message a person sends: built once."""
    return (
        select(HypothesisAsk, Hypothesis.number)
        .join(Hypothesis, Hypothesis.id == HypothesisAsk.hypothesis_id)
        .where(*_open_asks())
        .order_by(HypothesisAsk.asked_at, HypothesisAsk.id)
        .with_for_update(of=HypothesisAsk)
        .execution_options(populate_existing=True)
    )


PROBE = Probe(
    lambda: select(HypothesisAsk.id).where(*_open_asks("hypothesis_")),
    lambda owner, _now: {"hypothesis_owner": owner},
)


class Checkins:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    # --- the sweep --------------------------------------------------------------------

    async def sweep(self) -> int:
        now = self.rt.clock.now()
        async with self.rt.db.session() as session:
            asked = await self._ask_due(session, now)
            reminded = await self._remind(session, now)
            missed = await self._miss(session, now)
        if asked or reminded:
            log.info("hypothesis check-ins sent", asked=asked, reminded=reminded, missed=missed)
            self.rt.sent_later()
        return asked

    async def _ask_due(self, session: AsyncSession, now: datetime) -> int:
        rows = await session.execute(
            select(Hypothesis, Member)
            .join(Member, Member.id == Hypothesis.owner_id)
            .where(Hypothesis.next_checkin_at <= now, Hypothesis.state.in_(store.OPEN_STATES))
            .order_by(Hypothesis.next_checkin_at, Hypothesis.id)
            .limit(BATCH)
        )
        asked = 0
        for h, owner in rows.tuples().all():
            due = h.next_checkin_at
            assert due is not None
            claimed = await self._claim(session, h, owner, due, now)
            if claimed is None:
                continue
            ask_id, latest = claimed
            if now - latest > self.rt.grace:
                log.warning(
                    "hypothesis check-in skipped: no process was up within the grace period",
                    hypothesis_id=h.id,
                    due=latest.isoformat(),
                )
                continue
            await self._supersede(session, h, ask_id, now)
            where = await where_of(session, h.channel_id)
            await outbound.queue(
                session,
                where.direct(owner.external_id, dedup_key=f"hypothesis-ask:{ask_id}"),
                ask_message(h, where.channel_name, ask_id),
                now,
            )
            asked += 1
        return asked

    async def _claim(
        self, session: AsyncSession, h: Hypothesis, owner: Member, due: datetime, now: datetime
    ) -> tuple[int, datetime] | None:
        """The ask for the latest check-in due by ``now`` (earlier ones, missed while no
        process ran, are passed over), and its due time; None when another took it."""
        latest, following = catch_up(h.cadence, owner.tz, due, now, self.rt.grace)
        moved = await session.execute(
            update(Hypothesis)
            .where(Hypothesis.id == h.id, Hypothesis.next_checkin_at == due)
            .values(next_checkin_at=following)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return None
        late = now - latest > self.rt.grace
        stmt = insert_ignoring_conflicts(session, HypothesisAsk, ["hypothesis_id", "due_at"])
        result = await session.execute(
            stmt.values(
                hypothesis_id=h.id,
                owner_id=owner.id,
                due_at=latest,
                asked_at=None if late else now,
                missed_at=now if late else None,  # out of the sweeps' way from the start
                outcome="skipped" if late else "asked",
            ).returning(HypothesisAsk.id)
        )
        ask_id = result.scalar_one_or_none()
        return None if ask_id is None else (ask_id, latest)

    async def _supersede(
        self, session: AsyncSession, h: Hypothesis, ask_id: int, now: datetime
    ) -> None:
        """An earlier check-in still unanswered when the next is asked counts as missed."""
        result = await session.execute(
            update(HypothesisAsk)
            .where(
                HypothesisAsk.hypothesis_id == h.id,
                HypothesisAsk.id != ask_id,
                HypothesisAsk.asked_at.is_not(None),
                HypothesisAsk.answered_at.is_(None),
                HypothesisAsk.missed_at.is_(None),
            )
            .values(missed_at=now, outcome="missed")
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            await _missed(session, h.id, now)

    async def _remind(self, session: AsyncSession, now: datetime) -> int:
        rows = await session.execute(
            select(HypothesisAsk, Hypothesis, Member)
            .join(Hypothesis, Hypothesis.id == HypothesisAsk.hypothesis_id)
            .join(Member, Member.id == HypothesisAsk.owner_id)
            .where(
                HypothesisAsk.answered_at.is_(None),
                HypothesisAsk.missed_at.is_(None),
                HypothesisAsk.reminded_at.is_(None),
                HypothesisAsk.asked_at <= now - REMIND_AFTER,
            )
            .order_by(HypothesisAsk.id)
            .limit(BATCH)
        )
        sent = 0
        for ask, h, owner in rows.tuples().all():
            if not await claim_unset(session, HypothesisAsk.reminded_at, ask.id, now):
                continue
            where = await where_of(session, h.channel_id)
            message = ask_message(h, where.channel_name, ask.id, reminder=True)
            await outbound.queue(
                session,
                where.direct(owner.external_id, dedup_key=f"hypothesis-remind:{ask.id}"),
                message,
                now,
            )
            sent += 1
        return sent

    async def _miss(self, session: AsyncSession, now: datetime) -> int:
        rows = await session.execute(
            select(HypothesisAsk)
            .where(
                HypothesisAsk.answered_at.is_(None),
                HypothesisAsk.missed_at.is_(None),
                HypothesisAsk.reminded_at <= now - MISSED_AFTER,
            )
            .order_by(HypothesisAsk.id)
            .limit(BATCH)
        )
        missed = 0
        for ask in rows.scalars().all():
            if not await claim_unset(session, HypothesisAsk.missed_at, ask.id, now):
                continue
            ask.outcome = "missed"
            await _missed(session, ask.hypothesis_id, now)
            missed += 1
        return missed

    # --- the conversation -------------------------------------------------------------

    async def waiting(self, session: AsyncSession, member: Member, now: datetime) -> Waiting | None:
        query = prepared(session, "hypothesis asks waiting", _asks_waiting)
        found = (await session.execute(query, {"owner": member.id})).tuples().all()
        if not found:
            return None
        asked = max(max(a.asked_at, a.reminded_at or a.asked_at) for a, _ in found)  # type: ignore[type-var]
        pending = [Pending(a.id, a.hypothesis_id, n) for a, n in found]
        return Waiting(store.KIND, asked, pending)

    async def answer(
        self, ctx: CommandContext, waiting: Waiting, text: str, is_command: bool
    ) -> Reply | None:
        """STATUS [VALUE or METRIC=VALUE] EVIDENCE, with ``#N`` first when several wait."""
        pending: list[Pending] = waiting.handle
        said = _ANSWER.fullmatch(text.strip())
        if said is None:
            return None if is_command else say(question(pending), context=EXAMPLE_ANSWER)
        if said["number"] is not None:
            chosen = [p for p in pending if p.number == int(said["number"])]
            if not chosen:
                return say(f"No check-in for #{said['number']} is waiting. {question(pending)}")
        elif len(pending) > 1:
            return say(question(pending), context=EXAMPLE_ANSWER)
        else:
            chosen = pending
        status = STATUS_WORDS[re.sub(r"[ -]+", " ", said["status"].lower())]
        try:
            metrics, evidence = parse_rest(said["rest"] or "")
        except t.Reject as error:
            return say(f"Sorry — {error}; nothing recorded.", context=EXAMPLE_ANSWER)
        h = await commands.by_id(ctx, chosen[0].hypothesis_id)
        return await commands.checkin(
            ctx, h, status, _named(h, metrics), evidence, source=f"checkin:ask:{chosen[0].ask_id}"
        )

    async def skip(self, ctx: CommandContext, waiting: Waiting, *, stop: bool) -> Reply:
        """``skip`` passes the check-in asked last; ``cancel`` every one waiting."""
        pending: list[Pending] = waiting.handle
        passed = pending if stop else pending[-1:]
        await ctx.session.execute(
            update(HypothesisAsk)
            .where(HypothesisAsk.id.in_([p.ask_id for p in passed]))
            .values(answered_at=ctx.now, outcome="skipped")
            .execution_options(synchronize_session=False)
        )
        names = ", ".join(f"#{p.number}" for p in passed)
        return say(f"Skipped the check-in for {names}; you will be asked again next time.")

    async def ask_again(self, ctx: CommandContext, waiting: Waiting) -> Message | None:
        pending: list[Pending] = waiting.handle
        h = await ctx.session.get(Hypothesis, pending[-1].hypothesis_id)
        if h is None:
            return None
        where = await where_of(ctx.session, h.channel_id)
        return ask_message(h, where.channel_name, pending[-1].ask_id)


def catch_up(
    cadence: str, tz: str, due: datetime, now: datetime, look_back: timedelta
) -> tuple[datetime, datetime | None]:
    """The latest check-in due by ``now`` from ``due`` on, and the one after it (None for a
    cron with no time left to name). Times more than ``look_back`` ago could only be skipped,
    so a long stop jumps over them instead of walking each; ``due`` then stands for them."""
    latest, following = due, next_checkin(cadence, tz, due)
    if following is not None and following < now - look_back:
        following = next_checkin(cadence, tz, now - look_back - timedelta(seconds=1))
    for _ in range(CATCH_UP_STEPS):
        if following is None or following > now:
            break
        latest, following = following, next_checkin(cadence, tz, following)
    else:
        following = next_checkin(cadence, tz, now)
    return latest, following


def _named(h: Hypothesis | Reply, metrics: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """A bare value in an answer is the hypothesis's own metric."""
    if isinstance(h, Reply):
        return metrics
    return [(name or h.metric, value) for name, value in metrics]


def parse_rest(rest: str) -> tuple[list[tuple[str, float]], str]:
    """The value (``0.87`` or ``precision=0.87``) if the first word is one, and the evidence."""
    words = rest.split(None, 1)
    metrics: list[tuple[str, float]] = []
    if words:
        first = words[0].rstrip(",;")
        named = _VALUE.fullmatch(first)
        looks_numeric = bool(re.fullmatch(r"[+-]?\.?[0-9]\S*", first))
        if named is not None and (named["name"] or looks_numeric):
            metrics.append((named["name"] or "", t.number(named["value"])))
            rest = words[1] if len(words) > 1 else ""
    evidence = t.free_text(rest, "evidence", MAX_EVIDENCE, required=not metrics)
    return metrics, evidence


EXAMPLE_ANSWER = "For example: `on track 0.87 labels look cleaner` or `at risk drift in March`."


def question(pending: list[Pending]) -> str:
    if len(pending) == 1:
        return (
            f"Check-in for #{pending[0].number}: reply with a status (on track, at risk, "
            "validated, invalidated), the value and a line of evidence."
        )
    named = ", ".join(f"#{p.number}" for p in pending)
    return (
        f"Check-ins are waiting for {named}: start your answer with the one it is for, "
        f"like `#{pending[0].number} on track 0.87 …`."
    )


def ask_message(
    h: Hypothesis, channel_name: str, ask_id: int, *, reminder: bool = False
) -> Message:
    place = f"#{channel_name}" if channel_name else "your channel"
    last = f"last {views.number(h.recent[-1])}" if h.recent else "no values yet"
    head = "Reminder — check-in" if reminder else "Check-in"
    return Message(
        text=f"{head} for hypothesis #{h.number} in {place}",
        sections=[
            Section(
                text=f"We believe {h.belief} will result in {h.result}.\n"
                f"Target {views.goal(h)} · {last} {views.sparkline(h.recent, h.target)}"
            ),
            Section(
                text="How is it going? Reply with a status (on track, at risk, validated, "
                f"invalidated), the current {h.metric} and a line of evidence."
            ),
        ],
        buttons=[Button(label="Answer in a form", action_id=FORM, value=str(h.id), form=True)],
        context=EXAMPLE_ANSWER + " `skip` passes this one.",
    )


async def _missed(session: AsyncSession, hypothesis_id: int, now: datetime) -> None:
    h = await session.get(Hypothesis, hypothesis_id)
    if h is None:
        return
    h.missed_at = now
    store.note(session, h, "missed", now, None, "check-in unanswered")
