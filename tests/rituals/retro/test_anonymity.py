"""Anonymous items store no author: not in a column, a log line, or a message to them."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select, text
from structlog.testing import capture_logs

from rituals.retro.models import RetroItem
from storage.db import Database
from storage.models import Base
from tests.helpers import CHANNEL, Team
from tests.rituals.retro.support import ANA, BEN, CAL, known, snapshot, thread_items

SECRET = "The on-call rota burns people out"


async def rows_mentioning(db: Database, *needles: str) -> list[tuple[str, str]]:
    """Every row of every table, as text, that contains any of ``needles``."""
    found = []
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in await conn.execute(text(f'SELECT * FROM "{table.name}"')):
                shown = repr(tuple(row))
                if any(needle in shown for needle in needles):
                    found.append((table.name, shown))
    return found


def logged(entries: list[dict[str, Any]], records: list[logging.LogRecord]) -> str:
    return repr(entries) + "".join(r.getMessage() + repr(r.__dict__) for r in records)


@pytest.mark.parametrize("open_first", [True, False], ids=["open retro", "next retro"])
async def test_an_anonymous_item_leaves_no_trace_of_its_author(
    team: Team, caplog: pytest.LogCaptureFixture, open_first: bool
) -> None:
    await known(team, ANA, BEN, CAL)
    if open_first:
        await team.type(ANA, "retro start Sprint 14")
    await team.deliver()
    before = await rows_mentioning(team.runtime.db, BEN.user, BEN.name)

    caplog.set_level(logging.INFO)
    with capture_logs() as entries:
        reply = await team.type(BEN, f"retro add improve {SECRET} anon")
        if not open_first:
            await team.type(ANA, "retro start Sprint 14")
        await team.type(CAL, "retro vote 1")
        await team.type(ANA, "retro close")
        await team.deliver()

    assert reply in ("Added anonymously.", "Added anonymously for the next retro.")
    async with team.runtime.db.session() as session:
        item = (await session.execute(select(RetroItem))).scalar_one()
    assert item.text == SECRET and item.author_id is None
    # Ben appears only where he did before: the generic reply reached him, and its outbox
    # row was deleted once sent, so no stored message to him sits beside the item's post.
    to_ben = [p.text for p in team.port.log if p.to.endswith(f"/{BEN.user}")]
    assert reply in to_ben
    after = await rows_mentioning(team.runtime.db, BEN.user, BEN.name)
    assert [row for row in after if row not in before] == []
    assert not any(SECRET in shown for _, shown in after)
    assert BEN.user not in logged(entries, caplog.records)
    assert BEN.name not in logged(entries, caplog.records)
    shown_to_channel = [p for p in team.port.log if SECRET in p.text]
    assert shown_to_channel and all(BEN.name not in p.text for p in shown_to_channel)


async def test_the_thread_says_anonymous_and_named_items_say_who(team: Team) -> None:
    await team.type(ANA, "retro start Sprint 14")
    await team.type(BEN, "retro add improve Too many pages anon")
    await team.type(CAL, "retro add well Good pairing")
    anonymous, named = thread_items(await team.deliver())
    assert anonymous.message.context == "anonymous"
    assert named.message.context == "from Cal"


async def test_a_named_retro_refuses_anonymous_items(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "retro start Sprint 14 named")
    before = await snapshot(team.runtime.db)

    reply = await team.type(BEN, f"retro add improve {SECRET} anon")

    assert reply.startswith("Sorry — this retro takes named items only: add it without `anon`.")
    assert SECRET not in reply
    assert await snapshot(team.runtime.db) == before


async def test_a_refused_anonymous_item_is_not_echoed_back(team: Team) -> None:
    await team.type(ANA, "retro start Sprint 14")
    reply = await team.type(BEN, f"retro add meh {SECRET} anon")
    assert "'meh' is not a category" in reply and SECRET not in reply


async def test_a_command_the_channel_sees_cannot_add_an_anonymous_item(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "retro start Sprint 14")
    before = await snapshot(team.runtime.db)
    seen_by_all = replace(CHANNEL, visible=True)  # a Teams @mention in the channel

    reply = await team.bot.command(BEN, seen_by_all, f"retro add improve {SECRET} anon")

    assert reply is not None
    assert reply.message.text.startswith("The channel sees who typed this")
    assert await snapshot(team.runtime.db) == before
