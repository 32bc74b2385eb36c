"""The file-an-item form (`backlog add` typed alone): type and priority pickers, a title, a
description, a link and an owner. Its context is the channel it files into."""

from __future__ import annotations

import re

from rituals.backlog import changes
from rituals.backlog import grammar as g
from rituals.commands import tokens as t
from rituals.context import CommandContext
from rituals.messages import Choice, Form, FormField
from rituals.reply import Reply
from storage.models import Channel

ADD = "backlog.add"
MAX_DESCRIPTION = 3000
MAX_LINK = 500
_LINK = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
PRIORITIES = {
    "p0": "p0 — drop everything",
    "p1": "p1 — this sprint",
    "p2": "p2 — soon",
    "p3": "p3 — some day",
}


def add_form(channel: Channel) -> Form:
    fields = [
        FormField(
            key="type",
            label="Type",
            choices=[Choice(value=k, label=k) for k in g.TYPES],
            initial=g.DEFAULT_TYPE,
        ),
        FormField(
            key="priority",
            label="Priority",
            choices=[Choice(value=k, label=v) for k, v in PRIORITIES.items()],
            initial=f"p{g.DEFAULT_PRIORITY}",
        ),
        FormField(key="title", label="Title", hint=f"Up to {g.MAX_TITLE} characters"),
        FormField(key="description", label="Description", multiline=True, optional=True),
        FormField(key="link", label="Link", hint="https://…", optional=True),
        FormField(key="owner", label="Owner", hint="@name", optional=True),
    ]
    return Form(
        form_id=ADD,
        title="File a backlog item",
        fields=fields,
        submit="File",
        context=channel.external_id,
    )


async def submit_add(
    ctx: CommandContext, channel: Channel, values: dict[str, str]
) -> Reply | dict[str, str]:
    """The reply, or errors by field: everything is checked before anything is written."""
    kind = values.get("type", "").strip().lower() or g.DEFAULT_TYPE
    priority = values.get("priority", "").strip().lower() or f"p{g.DEFAULT_PRIORITY}"
    title = values.get("title", "").strip()
    description = values.get("description", "").strip()
    link = values.get("link", "").strip()
    owner = values.get("owner", "").strip()
    errors: dict[str, str] = {}
    if kind not in g.TYPES:
        errors["type"] = f"Choose one of {', '.join(g.TYPES)}."
    if priority not in PRIORITIES:
        errors["priority"] = "Choose p0, p1, p2 or p3."
    if not title:
        errors["title"] = "Write a title."
    elif len(title) > g.MAX_TITLE:
        errors["title"] = f"{len(title)} characters; the limit is {g.MAX_TITLE}."
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"{len(description)} characters; the limit is {MAX_DESCRIPTION}."
    if link and (len(link) > MAX_LINK or not _LINK.fullmatch(link)):
        errors["link"] = f"A web address starting with https://, up to {MAX_LINK} characters."
    user = None
    if owner:
        user = t.mention(owner) or t.mention("@" + owner)
        if user is None:
            errors["owner"] = "A person, like @ana."
    if errors:
        return errors
    reply = await changes.add(
        ctx,
        channel,
        " ".join(title.split()),
        type=kind,
        priority=int(priority[1]),
        owner=user,
        description=description,
        link=link,
    )
    if reply.public:
        return reply
    return {"owner": reply.message.text}
