"""Stand-up forms: answer every question at once, and the set-up dialog.

Set-up values go through the same grammar as typed commands, field by field, so a form can
never accept what `/standup setup` would refuse, and each mistake is shown on its field.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.commands import tokens as t
from rituals.messages import Form, FormField, Message
from rituals.standup import settings as cfg
from rituals.standup.answering import MAX_ANSWER, Answered, Answering
from rituals.standup.grammar import VERBS
from rituals.standup.summary import short_label
from storage.models import Answer, Channel, Member, Occurrence, Response, Ritual

ANSWERS = "standup.answers"
SETUP = "standup.setup"
SETUP_FIELDS = (
    ("at", "Ask at (HH:MM)", "09:30"),
    ("days", "Days", "mon-fri"),
    ("tz", "Timezone", "Europe/Berlin"),
    ("summary", "Summary at (HH:MM)", "12:30"),
    ("holidays", "Skip public holidays of (country code, or none)", "DE"),
)


async def answers_form(session: AsyncSession, member: Member, occurrence_id: int) -> Form | Message:
    """All questions of one stand-up, with what this person already answered filled in."""
    row = (
        await session.execute(
            select(Response, Occurrence)
            .join(Occurrence, Occurrence.id == Response.occurrence_id)
            .where(Response.occurrence_id == occurrence_id, Response.member_id == member.id)
            .execution_options(populate_existing=True)  # answers change them by UPDATE
        )
    ).first()
    if row is None:
        return Message(text="You were not asked in that stand-up.")
    response, occurrence = row
    if occurrence.status not in ("open", "summarized"):
        return Message(text="That stand-up is closed.")
    given = {
        a.question_index: a.text
        for a in (
            await session.execute(select(Answer).where(Answer.response_id == response.id))
        ).scalars()
    }
    ritual = await session.get_one(Ritual, occurrence.ritual_id)
    return Form(
        form_id=ANSWERS,
        title=f"Stand-up #{ritual.channel.name or ritual.channel.external_id}"[:24],
        fields=[
            FormField(
                key=f"q{index}",
                label=short_label(question),
                initial=given.get(index, ""),
                hint=question if short_label(question) != question else "",
                multiline=True,
            )
            for index, question in enumerate(occurrence.questions)
        ],
        submit="Send answers",
        context=str(occurrence.id),
    )


def answers_errors(form_values: dict[str, str], count: int) -> dict[str, str]:
    errors = {}
    for index in range(count):
        text = form_values.get(f"q{index}", "").strip()
        if not text:
            errors[f"q{index}"] = "Please answer this one (\u201cnone\u201d is fine)."
        elif len(text) > MAX_ANSWER:
            errors[f"q{index}"] = f"Please keep it under {MAX_ANSWER} characters."
    return errors


async def submit_answers(
    session: AsyncSession,
    answering: Answering,
    member: Member,
    context: str,
    values: dict[str, str],
) -> Answered | dict[str, str]:
    """Store a submitted answers form; a dict of field errors when something is missing."""
    if not context.isdigit():
        return {"q0": "This form has expired; press the button in the prompt again."}
    occurrence = await session.get(Occurrence, int(context))
    if occurrence is None:
        return {"q0": "This stand-up no longer exists."}
    errors = answers_errors(values, len(occurrence.questions))
    if errors:
        return errors
    texts = [values[f"q{index}"].strip() for index in range(len(occurrence.questions))]
    return await answering.answer_all(session, member, occurrence.id, texts)


async def setup_form(session: AsyncSession, channel: Channel, member: Member) -> Form:
    """The set-up dialog, filled with the channel's current settings or sensible defaults."""
    ritual = (
        await session.execute(
            select(Ritual).where(Ritual.channel_id == channel.id, Ritual.kind == "standup")
        )
    ).scalar_one_or_none()
    if ritual is not None:
        options = cfg.of(ritual)
        current = {
            "at": options.at,
            "days": ",".join(cfg.DAY_NAMES[d - 1].lower() for d in options.days),
            "tz": ritual.tz,
            "summary": options.summary_at,
            "holidays": options.country or "none",
        }
    else:
        current = {
            "at": "09:30",
            "days": "mon-fri",
            "tz": member.tz,
            "summary": "12:30",
            "holidays": "",
        }
    return Form(
        form_id=SETUP,
        title="Stand-up settings",
        fields=[
            FormField(
                key=key,
                label=label,
                initial=current.get(key, ""),
                hint=f"e.g. {example}",
                optional=key == "holidays",
            )
            for key, label, example in SETUP_FIELDS
        ],
        submit="Save",
        context=channel.external_id,
    )


def setup_command(values: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The `standup setup` command a submitted set-up form stands for, or field errors."""
    errors: dict[str, str] = {}
    parts = ["standup setup"]
    for key, _label, _example in SETUP_FIELDS:
        value = " ".join(values.get(key, "").split())
        if not value:
            continue
        try:
            VERBS["setup"].parse([key, *value.split()], f"{key} {value}")
        except t.Reject as rejected:
            errors[key] = str(rejected)
        else:
            parts.append(f"{key} {value}")
    return " ".join(parts), errors
