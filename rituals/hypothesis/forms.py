"""The forms: the canvas (``hypothesis add`` typed alone) and a check-in. Every field is
checked before anything is written; errors come back by field."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rituals.commands import tokens as t
from rituals.context import CommandContext
from rituals.hypothesis import commands, grammar
from rituals.hypothesis.checkins import STATUS_WORDS
from rituals.messages import Choice, Form, FormField
from rituals.reply import Reply
from storage.models import Channel

ADD = "hypothesis.add"
CHECKIN = "hypothesis.checkin"
OPS = ("<", "<=", ">", ">=", "=")
STATUSES = tuple(dict.fromkeys(STATUS_WORDS.values()))
T = TypeVar("T")
ADD_FIELDS = (
    *("belief", "result", "metric", "op", "target"),
    *("baseline", "by", "checkin", "owner", "model"),
)


def add_form(channel: Channel) -> Form:
    return Form(
        form_id=ADD,
        title="Propose a hypothesis",
        fields=[
            FormField(key="belief", label="We believe…", hint="dedup of the click log"),
            FormField(key="result", label="…will result in", hint="cleaner labels"),
            FormField(
                key="metric", label="We'll know when (metric, one word)", hint="rollback_rate"
            ),
            FormField(
                key="op",
                label="reaches",
                choices=[Choice(value=o, label=o) for o in OPS],
                initial=">=",
            ),
            FormField(key="target", label="Target", hint="0.9"),
            FormField(key="baseline", label="Baseline", optional=True, hint="0.82"),
            FormField(key="by", label="Deadline", optional=True, hint="YYYY-MM-DD"),
            FormField(
                key="checkin",
                label="Check-ins",
                initial="weekly",
                hint="daily, weekly, weekly fri, or a cron like 0 9 * * mon",
            ),
            FormField(key="owner", label="Owner", optional=True, hint="@ana (you if empty)"),
            FormField(key="model", label="Monitored model", optional=True, hint="ranker-v2"),
        ],
        submit="Propose",
        context=channel.external_id,
    )


def _check(errors: dict[str, str], key: str, convert: Callable[[str], T], raw: str) -> T | None:
    """``convert(raw)``, or None with the refusal filed under ``key``."""
    try:
        return convert(raw)
    except t.Reject as error:
        errors[key] = str(error).capitalize() + "."
        return None


async def submit_add(
    ctx: CommandContext, channel: Channel, values: dict[str, str]
) -> Reply | dict[str, str]:
    get = {key: (values.get(key) or "").strip() for key in ADD_FIELDS}
    errors: dict[str, str] = {}
    belief = _check(errors, "belief", lambda v: t.free_text(v, "belief", 1000), get["belief"])
    result = _check(errors, "result", lambda v: t.free_text(v, "result", 1000), get["result"])
    metric = _check(errors, "metric", grammar.metric_name, get["metric"])
    if get["op"] not in OPS:
        errors["op"] = f"Choose one of {' '.join(OPS)}."
    target = _check(errors, "target", t.number, get["target"])
    baseline = _check(errors, "baseline", lambda v: t.maybe(v or None, t.number), get["baseline"])
    by = _check(errors, "by", lambda v: t.maybe(v or None, t.iso_date), get["by"])
    cadence = _check(errors, "checkin", lambda v: grammar.cadence(v or "weekly"), get["checkin"])
    owner = _check(errors, "owner", lambda v: t.maybe(v or None, t.user), get["owner"])
    model = _check(errors, "model", lambda v: t.maybe(v or None, grammar.model), get["model"])
    if errors:
        return errors
    command = grammar.HypothesisAdd(
        belief, result, metric, get["op"], target, by, cadence, owner, baseline, model
    )
    reply = await commands.add(ctx, channel, command)
    if not reply.public:
        return {"": reply.message.text}
    return reply


def checkin_form(hypothesis_id: int, metric: str, number: int) -> Form:
    return Form(
        form_id=CHECKIN,
        title=f"Check-in for #{number}",
        fields=[
            FormField(
                key="status",
                label="Status",
                choices=[Choice(value=s, label=s.replace("-", " ")) for s in STATUSES],
                initial="on-track",
            ),
            FormField(key="value", label=f"Current {metric}", optional=True, hint="0.87"),
            FormField(key="evidence", label="Evidence", multiline=True, optional=True),
        ],
        submit="Check in",
        context=str(hypothesis_id),
    )


async def submit_checkin(
    ctx: CommandContext, context: str, values: dict[str, str]
) -> Reply | dict[str, str]:
    errors: dict[str, str] = {}
    status = (values.get("status") or "").strip().lower()
    if status not in STATUSES:
        errors["status"] = f"Choose one of {', '.join(STATUSES)}."
    raw = (values.get("value") or "").strip()
    value = _check(errors, "value", lambda v: t.maybe(v or None, t.number), raw)
    evidence = (values.get("evidence") or "").strip()
    if len(evidence) > 1000:
        errors["evidence"] = f"{len(evidence)} characters; the limit is 1000."
    elif not evidence and value is None:
        errors["evidence"] = "Give the value, a line of evidence, or both."
    hypothesis_id = t.button_id(context)
    if hypothesis_id is None:
        errors[""] = "That form is out of date."
    if errors or hypothesis_id is None:
        return errors
    found = await commands.by_id(ctx, hypothesis_id)
    if isinstance(found, Reply) or value is None:
        return await commands.checkin(ctx, found, status, [], evidence)
    return await commands.checkin(ctx, found, status, [(found.metric, value)], evidence)
