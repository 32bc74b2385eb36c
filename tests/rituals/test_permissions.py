"""Who may change a stand-up: its lead, the co-leads the lead names, and workspace admins.

Everyone else is refused with a reply that names who may, and nothing changes; exports give
such a member their own answers only.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from rituals.standup import settings as cfg
from storage.db import Database
from storage.models import Ritual
from tests.helpers import Team, person

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ANA = person("ana", "UTC")
BEN = person("ben", "UTC")
CAL = person("cal", "UTC")
LEAD_ONLY = [
    "standup setup at 10:00",
    "standup questions What is your bank PIN? | Click http://evil.example/login",
    "standup pause",
    "standup skip 2026-12-24",
    "standup lead @ben",
    "standup coleads @ben",
]


async def standup_led_by_ana(db: Database) -> Team:
    team = Team(db, T0)
    await team.type(ANA, "standup setup at 09:30 tz UTC")
    for who in (BEN, CAL):
        await team.type(who, "standup join")
    return team


async def settings_of(db: Database) -> tuple[object, ...]:
    async with db.session() as session:
        ritual = (await session.execute(select(Ritual))).scalar_one()
        return (ritual.options, ritual.paused, ritual.lead_member_id, ritual.version)


@pytest.mark.parametrize("line", LEAD_ONLY)
async def test_a_member_who_does_not_lead_is_refused_and_nothing_changes(
    db: Database, line: str
) -> None:
    team = await standup_led_by_ana(db)
    before = await settings_of(db)

    reply = await team.type(BEN, line)

    assert reply.startswith("Only Ana or a workspace admin can change this stand-up.")
    assert await settings_of(db) == before


async def test_resume_is_refused_too(db: Database) -> None:
    team = await standup_led_by_ana(db)
    await team.type(ANA, "standup pause")
    assert "Only Ana" in await team.type(BEN, "standup resume")
    assert "Stand-up resumed." in await team.type(ANA, "standup resume")


async def test_a_workspace_admin_may_change_any_stand_up(db: Database) -> None:
    team = await standup_led_by_ana(db)
    admin = replace(CAL, admin=True)
    assert "Stand-up paused" in await team.type(admin, "standup pause")
    assert "questions updated" in await team.type(admin, "standup questions Done? | Next?")


async def test_the_lead_hands_the_role_on(db: Database) -> None:
    team = await standup_led_by_ana(db)
    assert "Ben now leads the stand-up." in await team.type(ANA, "standup lead @ben")
    assert "Stand-up paused" in await team.type(BEN, "standup pause")
    assert "Only Ben or a workspace admin" in await team.type(ANA, "standup resume")


async def test_co_leads_change_it_as_the_lead_does_until_the_lead_clears_them(
    db: Database,
) -> None:
    team = await standup_led_by_ana(db)
    assert "led by Ana, Ben, Cal" in await team.type(ANA, "standup coleads @ben @cal")
    assert "Stand-up paused" in await team.type(BEN, "standup pause")
    reply = await team.type(BEN, "standup coleads @cal")
    assert "led by Ana, Cal" in reply
    assert "Only Ana, Cal or a workspace admin" in await team.type(BEN, "standup resume")
    assert "led by Ana." in await team.type(ANA, "standup coleads none")


async def test_unknown_people_cannot_be_named_and_nothing_changes(db: Database) -> None:
    team = await standup_led_by_ana(db)
    before = await settings_of(db)
    assert "I don't know who @zed is here" in await team.type(ANA, "standup lead @zed")
    reply = await team.type(ANA, "standup coleads @ben @zed")
    assert "@zed" in reply and "nothing changed" in reply
    assert await settings_of(db) == before


async def test_an_export_gives_a_member_only_their_own_answers(db: Database) -> None:
    team = await standup_led_by_ana(db)
    await team.type(ANA, "standup now")
    for who, words in ((ANA, "ana-secret"), (BEN, "ben-secret")):
        for n in range(3):
            await team.dm(who, f"{words} {n}")

    await team.type(BEN, "standup export")
    await team.type(ANA, "standup export")
    files = [p.message.attachment for p in await team.deliver() if p.message.attachment]

    bens, anas = (f.content for f in files if f is not None)
    assert "ben-secret" in bens and "ana-secret" not in bens
    assert "ben-secret" in anas and "ana-secret" in anas


async def test_someone_who_left_cannot_read_everyones_answers(db: Database) -> None:
    team = await standup_led_by_ana(db)
    await team.type(ANA, "standup now")
    for n in range(3):
        await team.dm(ANA, f"ana-secret {n}")
    await team.type(CAL, "standup leave")
    reply = await team.bot.command(CAL, None, "standup export")
    assert reply is not None
    await team.type(CAL, "standup export")
    files = [p.message.attachment for p in await team.deliver() if p.message.attachment]
    assert files and all("ana-secret" not in f.content for f in files if f is not None)


async def test_the_lead_is_the_one_who_set_it_up(db: Database) -> None:
    team = await standup_led_by_ana(db)
    async with db.session() as session:
        ritual = (await session.execute(select(Ritual))).scalar_one()
        assert cfg.of(ritual).at == "09:30"
    assert "Only Ana" in await team.type(BEN, "standup setup at 11:00")
