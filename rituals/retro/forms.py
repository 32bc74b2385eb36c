"""The add-an-item form: a category picker, the text, and an "anonymous" toggle where the
board allows anonymous items. Its context is the channel it adds to."""

from __future__ import annotations

from rituals.context import CommandContext
from rituals.messages import Choice, Form, FormField
from rituals.reply import Reply
from rituals.retro import formats, items
from rituals.retro.channel import existing_ritual, open_retro
from rituals.retro.grammar import MAX_ITEM
from storage.models import Channel

ADD = "retro.add"


async def add_form(ctx: CommandContext, channel: Channel) -> Form:
    ritual = await existing_ritual(ctx.session, channel.id)
    retro = await open_retro(ctx.session, channel.id)
    fmt = await items.board_format(ctx.session, ritual, retro)
    fields = [
        FormField(
            key="category",
            label="Category",
            choices=[Choice(value=c.word, label=c.label) for c in formats.categories(fmt)],
            initial=formats.categories(fmt)[0].word,
        ),
        FormField(
            key="text", label="Your item", multiline=True, hint=f"Up to {MAX_ITEM} characters"
        ),
    ]
    if retro is None or retro.allow_anonymous:
        fields.append(
            FormField(key="anonymous", label="Add anonymously", toggle=True, optional=True)
        )
    title = "Add to the retro" if retro is not None else "Add to the next retro"
    return Form(form_id=ADD, title=title, fields=fields, submit="Add", context=channel.external_id)


async def submit_add(
    ctx: CommandContext, channel: Channel, values: dict[str, str]
) -> Reply | dict[str, str]:
    """The reply, or errors by field: everything is checked before anything is written."""
    category = values.get("category", "").strip().lower()
    text = values.get("text", "").strip()
    anonymous = values.get("anonymous", "").strip().lower() == "true"
    ritual = await existing_ritual(ctx.session, channel.id)
    retro = await open_retro(ctx.session, channel.id)
    fmt = await items.board_format(ctx.session, ritual, retro)
    errors: dict[str, str] = {}
    if formats.category(fmt, category) is None:
        errors["category"] = f"Choose one of {formats.words(fmt)}."
    elif anonymous and retro is not None and not retro.allow_anonymous:
        errors["anonymous"] = "This retro takes named items only."
    if not text:
        errors["text"] = "Write the item."
    elif len(text) > MAX_ITEM:
        errors["text"] = f"{len(text)} characters; the limit is {MAX_ITEM}."
    if errors:
        return errors
    return await items.add(ctx, channel, category, text, anonymous)
