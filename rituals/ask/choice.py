"""A workspace's own switch for the model, which only its admins may turn."""

from __future__ import annotations

from sqlalchemy import update

from rituals.context import CommandContext
from rituals.llm.model import Model
from rituals.llm.models import ModelChoice
from rituals.llm.summaries import workspace_off
from rituals.reply import Reply, say
from storage.queries import insert_ignoring_conflicts

OFF_MEANS = "summaries stay plain and `ask` shows the matching passages; nothing leaves"


async def status(ctx: CommandContext, model: Model) -> Reply:
    if not model.on:
        return say(
            "The model is not configured for this deployment: summaries are plain and `ask` "
            "shows the matching passages.",
            context="The operator sets OPENAI_API_KEY or OPENAI_BASE_URL to turn it on.",
        )
    if await workspace_off(ctx.session, ctx.workspace.id):
        return say(
            f"The model is off for this workspace: {OFF_MEANS}.",
            context="A workspace admin turns it on with `ask model on`.",
        )
    return say(
        f"The model ({model.name}) writes summaries after the plain ones and answers `ask`.",
        context="A workspace admin turns it off with `ask model off`.",
    )


async def switch(ctx: CommandContext, model: Model, on: bool) -> Reply:
    if not ctx.actor.admin:
        return say("Only a workspace admin can turn the model on or off for the workspace.")
    stmt = insert_ignoring_conflicts(ctx.session, ModelChoice, ["workspace_id"])
    await ctx.session.execute(
        stmt.values(
            workspace_id=ctx.workspace.id, off=not on, changed_by=ctx.member.id, changed_at=ctx.now
        )
    )
    await ctx.session.execute(
        update(ModelChoice)
        .where(ModelChoice.workspace_id == ctx.workspace.id)
        .values(off=not on, changed_by=ctx.member.id, changed_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    if not on:
        return say(f"The model is now off for this workspace: {OFF_MEANS}.")
    if not model.on:
        return say(
            "The model is allowed for this workspace again, but this deployment has none "
            "configured, so summaries stay plain."
        )
    return say(f"The model ({model.name}) is on again for this workspace.")
