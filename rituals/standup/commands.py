"""The `/standup` commands: each takes a parsed command and returns the reply to show."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, select, true
from sqlalchemy.orm import lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from rituals import permissions
from rituals.commands import Command
from rituals.context import CommandContext
from rituals.messages import Attachment, Message, Section, plural
from rituals.reply import Reply, say
from rituals.schedule import country_for_timezone, known_country, local_date, next_run
from rituals.standup import grammar as c
from rituals.standup import ledger
from rituals.standup import settings as cfg
from rituals.standup.answering import owed_question, owed_values
from rituals.standup.engine import StandupEngine
from rituals.standup.reports import export_csv, participation
from rituals.standup.roster import KIND, display, names_and_zones
from rituals.standup.summary import age_label, blocker_line
from storage import direct
from storage.models import Blocker, Occurrence, Participant, Response, Ritual
from storage.queries import prepared

NO_STANDUP = "There is no stand-up in this channel yet."
SETUP_HINT = "Start one with `standup setup at 09:30 days mon-fri`."

Handler = Callable[..., Awaitable[Reply]]
ABOUT_THE_STANDUP = frozenset(
    {
        c.StandupQuestions,
        c.StandupJoin,
        c.StandupLeave,
        c.StandupSkip,
        c.StandupPause,
        c.StandupResume,
        c.StandupNow,
        c.StandupBlockers,
        c.StandupReport,
        c.StandupExport,
        c.StandupLead,
        c.StandupColeads,
    }
)
# Changes to the stand-up itself: for its lead, its co-leads and workspace admins.
LEADS_ONLY = frozenset(
    {
        c.StandupQuestions,
        c.StandupSkip,
        c.StandupPause,
        c.StandupResume,
        c.StandupLead,
        c.StandupColeads,
    }
)


class StandupCommands:
    def __init__(self, engine: StandupEngine) -> None:
        self.engine = engine
        self.rt = engine.rt
        self._handlers: dict[type[Command], Handler] = {
            c.StandupSetup: self.setup,
            c.StandupQuestions: self.questions,
            c.StandupJoin: self.join,
            c.StandupLeave: self.leave,
            c.StandupNow: self.now,
            c.StandupStatus: self.status,
            c.StandupSkip: self.skip,
            c.StandupPause: self.pause,
            c.StandupResume: self.resume,
            c.StandupAway: self.away,
            c.StandupBack: self.back,
            c.StandupBlockers: self.blockers,
            c.StandupResolve: self.resolve,
            c.StandupReport: self.report,
            c.StandupExport: self.export,
            c.StandupEdit: self.edit,
            c.StandupLead: self.lead,
            c.StandupColeads: self.coleads,
        }

    def handles(self, command: Command) -> bool:
        return type(command) in self._handlers

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        """Run a command; those about the channel's stand-up get it, or learn there is none."""
        handler = self._handlers[type(command)]
        if type(command) not in ABOUT_THE_STANDUP:
            return await handler(ctx, command)
        ritual = await self._ritual(ctx)
        if ritual is None:
            return say(NO_STANDUP, context=SETUP_HINT)
        if type(command) in LEADS_ONLY and not await permissions.may_change(ctx, ritual):
            return await self._refuse(ctx, ritual)
        return await handler(ctx, command, ritual)

    async def _refuse(self, ctx: CommandContext, ritual: Ritual) -> Reply:
        who = await permissions.who_may(ctx, ritual)
        return say(
            f"Only {who} can change this stand-up.",
            context="Joining, leaving, `standup now` and your own answers are yours to change.",
        )

    async def _ritual(self, ctx: CommandContext) -> Ritual | None:
        """The channel's stand-up; its channel is the one already in hand, not joined
        again (every command in a channel asks for its stand-up first)."""
        if ctx.channel is None:
            return None
        query = prepared(
            ctx.session,
            "standup of channel",
            lambda: (
                select(Ritual)
                .where(Ritual.channel_id == bindparam("channel"), Ritual.kind == KIND)
                .options(lazyload(Ritual.channel))
            ),
        )
        row = await ctx.session.execute(query, {"channel": ctx.channel.id})
        ritual = row.scalar_one_or_none()
        if ritual is not None and "channel" not in ritual.__dict__:
            set_committed_value(ritual, "channel", ctx.channel)
        return ritual

    async def _status_of(self, ctx: CommandContext) -> _Shown | None:
        """The channel's stand-up for `status`, with how its latest run went and what this
        person still owes, in one statement read as plain columns into a ritual the session
        does not hold: a status is asked far more often than anything else, and its reads
        one after another cost a round trip each."""
        if ctx.channel is None:
            return None
        values = {"channel": ctx.channel.id, **owed_values(ctx.member.id, ctx.now)}
        rows = await direct.rows(ctx.session, "standup status", _status_statement, values)
        if not rows:
            return None
        columns = Ritual.__table__.c.keys()
        row = rows[0]
        ritual = Ritual(**dict(zip(columns, row[: len(columns)], strict=True)))
        make_transient_to_detached(ritual)
        set_committed_value(ritual, "channel", ctx.channel)
        latest_date, status, asked, stopped, answered, name, index, questions = row[len(columns) :]
        latest = None if latest_date is None else (latest_date, status, asked, stopped, answered)
        owed = None if name is None else (name, index, list(questions))
        return _Shown(ritual, latest, owed)

    def _opt(self, ritual: Ritual, user: str, *, out: bool) -> None:
        """Remember who left, so a channel roster does not add them back."""
        options = cfg.of(ritual)
        left = set(options.left)
        options.left = sorted(left | {user} if out else left - {user})
        cfg.save(ritual, options)

    # --- settings ---------------------------------------------------------------------

    async def setup(self, ctx: CommandContext, cmd: c.StandupSetup) -> Reply:
        if ctx.channel is None:
            return say("Set up a stand-up from the channel it is for, not in a direct message.")
        ritual = await self._ritual(ctx)
        if ritual is not None and cmd.is_empty:
            return Reply(self.describe(ritual, await names_and_zones(ctx.session, ritual.id), ctx))
        if ritual is not None and not await permissions.may_change(ctx, ritual):
            return await self._refuse(ctx, ritual)
        current = cfg.of(ritual) if ritual is not None else None
        at = cmd.at or (cfg.parse_hhmm(current.at) if current else cfg.DEFAULT_AT)
        tz = cmd.tz or (ritual.tz if ritual else ctx.member.tz or "UTC")
        if cmd.summary is not None:
            summary = cmd.summary
        elif current is not None and cmd.at is None:
            summary = cfg.parse_hhmm(current.summary_at)
        else:
            minutes = min(at.hour * 60 + at.minute + 180, 23 * 60 + 59)
            summary = cfg.parse_hhmm(f"{minutes // 60}:{minutes % 60}")
        if summary <= at:
            return say(
                f"The summary time ({cfg.hhmm(summary)}) must come after the question time "
                f"({cfg.hhmm(at)}) on the same day.",
                context="Try: standup setup at 09:30 summary 12:00",
            )
        if cmd.holidays is not None:
            country = None if cmd.holidays.lower() == "none" else cmd.holidays.upper()
            if country and not known_country(country):
                return say(
                    f"No public-holiday calendar is known for '{country}'.",
                    context="Try a country code such as US, DE or GB-SCT, or `holidays none`.",
                )
        elif current is not None and cmd.tz is None:
            country = current.country
        else:
            country = country_for_timezone(tz)
        days = cmd.days or (tuple(current.days) if current else cfg.DEFAULT_DAYS)
        created = ritual is None
        if ritual is None:
            ritual = Ritual(
                channel_id=ctx.channel.id,
                kind=KIND,
                tz=tz,
                options={},
                paused=False,
                lead_member_id=ctx.member.id,
                version=1,
                created_at=ctx.now,
                updated_at=ctx.now,
            )
            ctx.session.add(ritual)
        options = current or cfg.StandupOptions()
        schedule = (cfg.hhmm(at), list(days), tz, country)
        if created or schedule != (options.at, options.days, ritual.tz, options.country):
            options.schedule_since = ctx.now
        options.at = cfg.hhmm(at)
        options.summary_at = cfg.hhmm(summary)
        options.days = list(days)
        options.country = country
        if cmd.summary_form is not None:
            options.summary_mode = cmd.summary_form
        if cmd.escalate_after is not None:
            options.escalate_after_days = cmd.escalate_after
        ritual.tz = tz
        cfg.save(ritual, options)
        await ctx.session.flush()
        if created:
            ctx.session.add(Participant(ritual_id=ritual.id, member_id=ctx.member.id))
            await ctx.session.flush()
        ctx.ritual_changed(ritual)
        await ctx.session.refresh(ritual, ["channel"])
        verb = "is set up" if created else "is updated"
        message = self.describe(ritual, await names_and_zones(ctx.session, ritual.id), ctx)
        message.text = f"The stand-up for #{ctx.channel.name or ctx.channel.external_id} {verb}."
        if created:
            message.context = "Others join with `standup join`. " + message.context
        return Reply(message, public=True)

    def describe(
        self, ritual: Ritual, people: list[tuple[str, str]], ctx: CommandContext
    ) -> Message:
        """What a stand-up is set up to do; ``people`` are its participants' names and zones."""
        schedule = cfg.schedule_of(ritual)
        options = cfg.of(ritual)
        upcoming = next_run(schedule, ctx.now)
        when = (
            f"{options.at} {cfg.days_label(tuple(options.days))} ({ritual.tz}), "
            f"summary at {options.summary_at} (everyone's own time; it waits for the last zone)"
        )
        holidays = (
            f"skips {options.country} public holidays" if options.country else "no holiday calendar"
        )
        full = options.summary_mode == "full"
        form = "answers in the summary" if full else "answers in the summary's thread"
        escalate = options.escalate_after_days
        next_line = (
            upcoming.astimezone(schedule.zone).strftime("%a %d %b %H:%M") if upcoming else "none"
        )
        sections = [
            Section(text=f"*When*: {when}; {holidays}"),
            Section(text=f"*Summary*: {form}; blockers open over {escalate} days are escalated"),
            Section(
                text="*Questions*\n"
                + "\n".join(f"{i + 1}. {q}" for i, q in enumerate(options.questions))
            ),
            Section(
                text="*Participants*: "
                + (", ".join(f"{name} ({tz})" for name, tz in people) or "nobody yet")
            ),
        ]
        if options.skip_dates:
            sections.append(
                Section(text="*Skipped dates*: " + ", ".join(sorted(options.skip_dates)))
            )
        state = (
            "Paused — `standup resume` to restart."
            if ritual.paused
            else f"Next: {next_line} ({ritual.tz})"
        )
        return Message(
            text=f"Stand-up for #{ritual.channel.name or ritual.channel.external_id}",
            sections=sections,
            context=state,
        )

    async def questions(
        self, ctx: CommandContext, cmd: c.StandupQuestions, ritual: Ritual
    ) -> Reply:
        options = cfg.of(ritual)
        options.questions = list(cmd.questions)
        cfg.save(ritual, options)
        ctx.ritual_changed(ritual)
        listed = "\n".join(f"{i + 1}. {q}" for i, q in enumerate(cmd.questions))
        blocker = cfg.blocker_index(ritual)
        ledger_note = (
            f"Answers to question {blocker + 1} go into the blocker ledger."
            if blocker is not None
            else "No question asks about blockers, so the blocker ledger stays empty; "
            "add one such as “Anything blocking you?” to track them."
        )
        return Reply(
            Message(
                text="Stand-up questions updated.",
                sections=[Section(text=listed)],
                context=ledger_note,
            ),
            public=True,
        )

    async def join(self, ctx: CommandContext, _cmd: c.StandupJoin, ritual: Ritual) -> Reply:
        self._opt(ritual, ctx.member.external_id, out=False)
        exists = await ctx.session.get(Participant, (ritual.id, ctx.member.id))
        if exists:
            return say("You are already in this stand-up.")
        ctx.session.add(Participant(ritual_id=ritual.id, member_id=ctx.member.id))
        ctx.ritual_changed(ritual)
        return say(
            f"{display(ctx.member)} joined the stand-up; questions come at {cfg.of(ritual).at} "
            f"in {ctx.member.tz}.",
            public=True,
        )

    async def leave(self, ctx: CommandContext, _cmd: c.StandupLeave, ritual: Ritual) -> Reply:
        self._opt(ritual, ctx.member.external_id, out=True)
        result = await ctx.session.execute(
            delete(Participant).where(
                Participant.ritual_id == ritual.id, Participant.member_id == ctx.member.id
            )
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            return say("You are not in this stand-up.")
        ctx.ritual_changed(ritual)
        return say(f"{display(ctx.member)} left the stand-up.", public=True)

    async def skip(self, ctx: CommandContext, cmd: c.StandupSkip, ritual: Ritual) -> Reply:
        today = local_date(ctx.now, ritual.tz)
        if cmd.day < today:
            return say(
                f"{cmd.day.isoformat()} is in the past.", context="Try a date from today on."
            )
        options = cfg.of(ritual)
        kept = {d for d in options.skip_dates if date.fromisoformat(d) >= today}
        kept.add(cmd.day.isoformat())
        options.skip_dates = sorted(kept)
        cfg.save(ritual, options)
        ctx.ritual_changed(ritual)
        return say(f"No stand-up on {cmd.day:%a %d %b %Y}.", public=True)

    async def pause(self, ctx: CommandContext, _cmd: c.StandupPause, ritual: Ritual) -> Reply:
        return await self._set_paused(ctx, ritual, True)

    async def resume(self, ctx: CommandContext, _cmd: c.StandupResume, ritual: Ritual) -> Reply:
        return await self._set_paused(ctx, ritual, False)

    async def _set_paused(self, ctx: CommandContext, ritual: Ritual, paused: bool) -> Reply:
        if ritual.paused == paused:
            return say(f"The stand-up is already {'paused' if paused else 'running'}.")
        ritual.paused = paused
        ctx.ritual_changed(ritual)
        if paused:
            return say("Stand-up paused until `standup resume`.", public=True)
        return say("Stand-up resumed.", public=True)

    async def away(self, ctx: CommandContext, cmd: c.StandupAway) -> Reply:
        today = local_date(ctx.now, ctx.member.tz)
        if cmd.until is not None and cmd.until < today:
            return say(
                f"{cmd.until.isoformat()} is in the past.",
                context="Try: standup away until 2030-01-31",
            )
        await direct.change(ctx.session, ctx.member, away_since=today, away_until=cmd.until)
        until = f"until {cmd.until:%a %d %b}" if cmd.until else "until you type `standup back`"
        return say(f"You are away {until}; no stand-up questions till then.")

    async def back(self, ctx: CommandContext, _cmd: c.StandupBack) -> Reply:
        if ctx.member.away_since is None:
            return say("You were not marked away.")
        await direct.change(ctx.session, ctx.member, away_since=None, away_until=None)
        return say("Welcome back! Stand-up questions resume with the next one.")

    # --- running ----------------------------------------------------------------------

    async def now(self, ctx: CommandContext, _cmd: c.StandupNow, ritual: Ritual) -> Reply:
        count, occurrence, started = await self.engine.starting.start_now(
            ctx.session, ritual, ctx.now
        )
        if occurrence.status != "open":
            return say("Today's stand-up already ran; its summary is in the channel.")
        if count == 0:
            return say("Everyone in this stand-up has already been asked (or is away).")
        lead = (
            "Stand-up started: asked" if started else "Today's stand-up is already running; asked"
        )
        return say(
            f"{lead} {count} {'person' if count == 1 else 'people'} by direct message.", public=True
        )

    async def status(self, ctx: CommandContext, _cmd: c.StandupStatus) -> Reply:
        if ctx.channel is None:
            return await self._my_standups(ctx)
        shown = await self._status_of(ctx)
        if shown is None:
            return say(NO_STANDUP, context=SETUP_HINT)
        people = await names_and_zones(ctx.session, shown.ritual.id)
        message = self.describe(shown.ritual, people, ctx)
        if shown.latest is not None:
            message.sections.append(Section(text=_latest_line(*shown.latest)))
        if shown.owed is not None:
            message.sections.append(Section(text=_waiting_line(*shown.owed)))
        return Reply(message)

    async def _waiting(self, ctx: CommandContext) -> str | None:
        """The question this person still owes an answer to, so it is never lost from view."""
        owed = await self.engine.answering.owed(ctx.session, ctx.member, ctx.now)
        return None if owed is None else _waiting_line(*owed)

    async def _my_standups(self, ctx: CommandContext) -> Reply:
        """``standup status`` in private: every stand-up this person is in, and when next."""
        lines = await self.my_standup_lines(ctx)
        if not lines:
            return say(
                "You are not in any stand-up yet.", context="Type `standup join` in a channel."
            )
        sections = [Section(text="\n".join(lines))]
        if (waiting := await self._waiting(ctx)) is not None:
            sections.append(Section(text=waiting))
        return Reply(
            Message(
                text="Your stand-ups",
                sections=sections,
                context=f"Times are yours ({ctx.member.tz}).",
            )
        )

    async def my_standup_lines(self, ctx: CommandContext) -> list[str]:
        rows = await ctx.session.execute(
            select(Ritual)
            .join(Participant, Participant.ritual_id == Ritual.id)
            .where(Participant.member_id == ctx.member.id, Ritual.kind == KIND)
        )
        lines = []
        for ritual in rows.scalars():
            upcoming = next_run(cfg.schedule_of(ritual, ctx.member.tz), ctx.now)
            if ritual.paused:
                when = "paused"
            elif upcoming:
                when = upcoming.astimezone(cfg.zone(ctx.member.tz)).strftime("next %a %d %b %H:%M")
            else:
                when = "nothing scheduled"
            name = ritual.channel.name or ritual.channel.external_id
            options = cfg.of(ritual)
            lines.append(f"• #{name}: {options.at} {cfg.days_label(tuple(options.days))}, {when}")
        return lines

    async def home(self, ctx: CommandContext) -> list[Section]:
        """The stand-up part of a person's own page: their stand-ups and open blockers."""
        lines = await self.my_standup_lines(ctx)
        mine = await ctx.session.execute(
            select(Blocker, Ritual)
            .join(Ritual, Ritual.id == Blocker.ritual_id)
            .where(Blocker.member_id == ctx.member.id, Blocker.resolved_at.is_(None))
            .order_by(Blocker.opened_on)
        )
        blockers = [
            f"• #{b.id} in #{r.channel.name or r.channel.external_id}: {b.text} "
            f"({age_label((local_date(ctx.now, r.tz) - b.opened_on).days)})"
            for b, r in mine.all()
        ]
        return [
            Section(
                text="*Stand-ups*\n"
                + ("\n".join(lines) or "None yet: `/standup join` in a channel.")
            ),
            Section(text="*Your open blockers*\n" + ("\n".join(blockers) or "None. 🎉")),
        ]

    async def edit(self, ctx: CommandContext, cmd: c.StandupEdit) -> Reply:
        if ctx.channel is not None and await self._ritual(ctx) is None:
            return say(NO_STANDUP, context=SETUP_HINT)
        edited = await self.engine.answering.edit(
            ctx.session, ctx.member, question=cmd.question, text=cmd.text, channel=ctx.channel
        )
        return Reply(edited or Message(text="That is not one of your answers."))

    # --- blockers and reports ---------------------------------------------------------

    async def blockers(self, ctx: CommandContext, _cmd: c.StandupBlockers, ritual: Ritual) -> Reply:
        view = await ledger.view(ctx.session, ritual.id, local_date(ctx.now, ritual.tz))
        if not view:
            return say("No open blockers. 🎉")
        return Reply(
            Message(
                text=f"{plural(len(view), 'open blocker')}",
                sections=[Section(text="\n".join(f"• {blocker_line(b)}" for b in view))],
                context="Resolve one with `standup resolve ID`.",
            )
        )

    async def resolve(self, ctx: CommandContext, cmd: c.StandupResolve) -> Reply:
        ritual = await self._ritual(ctx)
        blocker = await ctx.session.get(Blocker, cmd.blocker_id)
        if blocker is None or (ritual is not None and blocker.ritual_id != ritual.id):
            return say(
                f"There is no blocker #{cmd.blocker_id} here.", context="See `standup blockers`."
            )
        owner_ritual = await ctx.session.get_one(Ritual, blocker.ritual_id)
        if owner_ritual.channel.workspace_id != ctx.workspace.id:
            return say(
                f"There is no blocker #{cmd.blocker_id} here.", context="See `standup blockers`."
            )
        if blocker.resolved_at is not None:
            return say(f"Blocker #{blocker.id} is already resolved.")
        if ctx.member.id != blocker.member_id and not await permissions.may_change(
            ctx, owner_ritual
        ):
            who = await permissions.who_may(ctx, owner_ritual)
            return say(f"Only the person who raised a blocker, or {who}, can resolve it.")
        blocker.resolved_at = ctx.now
        blocker.resolved_by = ctx.member.id
        age = (local_date(ctx.now, owner_ritual.tz) - blocker.opened_on).days
        return say(
            f"Blocker #{blocker.id} resolved by {display(ctx.member)} "
            f"{'the same day' if age == 0 else 'after ' + plural(age, 'day')}: {blocker.text}",
            public=True,
        )

    async def report(self, ctx: CommandContext, cmd: c.StandupReport, ritual: Ritual) -> Reply:
        end = local_date(ctx.now, ritual.tz)
        start = end - timedelta(days=cmd.days - 1)
        people = await participation(ctx.session, ritual.id, start, end)
        lines = [f"• {p.name}: {p.answered}/{p.asked} ({p.rate}%)" for p in people]
        asked = sum(p.asked for p in people)
        answered = sum(p.answered for p in people)
        overall = f"{round(100 * answered / asked)}%" if asked else "n/a"
        view = await ledger.view(ctx.session, ritual.id, end)
        blocker_lines = [f"• {blocker_line(b)}" for b in view] or ["None open."]
        oldest = max((b.age_days for b in view), default=0)
        return Reply(
            Message(
                text=f"Stand-up report, last {plural(cmd.days, 'day')} "
                f"({start:%d %b}–{end:%d %b}): participation {overall}",
                sections=[
                    Section(text="*Participation*\n" + ("\n".join(lines) or "No stand-ups ran.")),
                    Section(
                        text=f"*Open blockers* ({len(view)}, oldest {age_label(oldest)})\n"
                        + "\n".join(blocker_lines)
                    ),
                ],
            )
        )

    async def export(self, ctx: CommandContext, cmd: c.StandupExport, ritual: Ritual) -> Reply:
        """Everyone's answers for those who lead the stand-up; one's own for anyone else."""
        everyone = await permissions.may_change(ctx, ritual)
        only = None if everyone else ctx.member.id
        content, count = await export_csv(ctx.session, ritual, cmd.start, cmd.end, member_id=only)
        span = f"{cmd.start or 'the start'} to {cmd.end or 'today'}"
        channel = ritual.channel.name or ritual.channel.external_id
        whose = "" if everyone else "Your "
        return Reply(
            Message(
                text=f"{whose}{plural(count, 'answer')} from {span}.",
                attachment=Attachment(
                    filename=f"standup-{channel}{'' if everyone else '-mine'}.csv",
                    content=content,
                    mime_type="text/csv",
                ),
                context="" if everyone else "Only the stand-up's leads export everyone's answers.",
            )
        )

    # --- who leads --------------------------------------------------------------------

    async def lead(self, ctx: CommandContext, cmd: c.StandupLead, ritual: Ritual) -> Reply:
        return await permissions.hand_on(ctx, ritual, cmd.user, "stand-up")

    async def coleads(self, ctx: CommandContext, cmd: c.StandupColeads, ritual: Ritual) -> Reply:
        return await permissions.name_coleads(ctx, ritual, cmd.users, "stand-up")


def _latest_run_counts(ritual: Any) -> Any:
    """The latest run's day and state with how many were asked, stopped and answered; a
    cancelled run is asked and not answered, as the summary counts it."""
    latest = (
        select(Occurrence.id)
        .where(Occurrence.ritual_id == ritual, Occurrence.status != "missed")
        .order_by(Occurrence.scheduled_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    cancelled = Response.cancelled_at.is_not(None)
    answered = and_(Response.completed_at.is_not(None), Response.cancelled_at.is_(None))
    return (
        select(
            Occurrence.local_date,
            Occurrence.status,
            func.count(Response.id),
            func.count(case((cancelled, 1))),
            func.count(case((answered, 1))),
        )
        .outerjoin(Response, Response.occurrence_id == Occurrence.id)
        .where(Occurrence.id == latest)
        .group_by(Occurrence.id, Occurrence.local_date, Occurrence.status)
    )


def _status_statement() -> Any:
    """The channel's stand-up (``channel``), its latest run's counts and the stand-up the
    person asking owes (the values of `owed_values`), as one row: both are subqueries that
    yield one row or none, joined ``ON true``, so the row comes whenever the stand-up does."""
    table = Ritual.__table__
    of_channel = and_(table.c.channel_id == bindparam("channel"), table.c.kind == KIND)
    ritual_id = select(table.c.id).where(of_channel).scalar_subquery()
    latest = _latest_run_counts(ritual_id).subquery("latest")
    owed = owed_question().subquery("owed")
    return (
        select(*table.c, *latest.c, *owed.c)
        .select_from(table)
        .outerjoin(latest, true())
        .outerjoin(owed, true())
        .where(of_channel)
    )


def _latest_line(local_date: date, status: str, asked: int, stopped: int, answered: int) -> str:
    state = "summary posted" if status == "summarized" else "collecting answers"
    count = f"{answered}/{asked} answered" + (f" ({stopped} stopped)" if stopped else "")
    return f"*Latest* ({local_date:%a %d %b}): {count}, {state}"


def _waiting_line(name: str, index: int, questions: list[str]) -> str:
    return (
        f"*Waiting for your answer* (#{name}, question {index + 1} of "
        f"{len(questions)}): {questions[index]}"
    )


@dataclass(frozen=True)
class _Shown:
    """What `status` shows of a channel's stand-up: the ritual, its latest run (day, state,
    asked, stopped, answered) and what the person asking owes (channel, index, questions)."""

    ritual: Ritual
    latest: tuple[date, str, int, int, int] | None
    owed: tuple[str, int, list[str]] | None
